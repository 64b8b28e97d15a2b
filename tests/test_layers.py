import numpy as np
import pytest
import tensorflow as tf

from mlclf.models.layers import (MaskedAttention, MaskedAverage, PerLanguage, SequenceEncoder,
                                 WordEmbedding)

VALID = np.array([[True, True, False, False],
                  [True, True, True, True],
                  [False, False, False, False]])  # the last row is a fully padded sentence


def random_inputs(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


@pytest.mark.parametrize("pooling", [MaskedAttention, MaskedAverage])
def test_pooling_weights_zero_on_padding_and_sum_to_one(pooling):
    inputs = random_inputs((3, 4, 5))
    vector, weights = pooling()(inputs, VALID)
    weights = weights.numpy()
    assert np.all(weights[~VALID] == 0.0)  # exactly zero
    np.testing.assert_allclose(weights.sum(-1)[:2], 1.0, rtol=1e-6)
    assert np.all(weights[2] == 0) and np.all(vector.numpy()[2] == 0)
    np.testing.assert_allclose(vector, np.einsum("bp,bpd->bd", weights, inputs), rtol=1e-5)


def test_attention_ignores_padded_values_and_has_finite_gradients():
    layer = MaskedAttention()
    inputs = tf.Variable(random_inputs((3, 4, 5)))
    with tf.GradientTape() as tape:
        vector, _ = layer(inputs, VALID)
        loss = tf.reduce_sum(vector)
    grads = tape.gradient(loss, [inputs, *layer.trainable_weights])
    assert all(np.all(np.isfinite(g)) for g in grads)
    np.testing.assert_array_equal(grads[0].numpy()[~VALID], 0.0)

    changed = inputs.numpy().copy()
    changed[~VALID] = 100.0
    np.testing.assert_allclose(layer(changed, VALID)[0], vector, rtol=1e-6)


@pytest.mark.parametrize("kind", ["gru", "bigru"])
def test_recurrent_encoders_skip_padding(kind):
    encoder = SequenceEncoder(kind, 3)
    inputs = random_inputs((2, 3, 4, 5))  # documents x sentences x words x dim
    valid = np.broadcast_to(VALID, (2, 3, 4))
    outputs = encoder(inputs, valid).numpy()
    assert outputs.shape == (2, 3, 4, encoder.output_dim)
    changed = inputs.copy()
    changed[~valid] = 100.0
    np.testing.assert_allclose(encoder(changed, valid).numpy()[valid], outputs[valid], rtol=1e-5)


def test_subword_embedding_is_mean_of_word_and_ngram_vectors():
    layer = WordEmbedding(vocab_size=6, embed_dim=2, num_subword_buckets=4)
    word_ids = np.array([[3, 1, 0]])
    subword_ids = np.array([[[1, 2, 0], [4, 0, 0], [0, 0, 0]]])
    out = layer(word_ids, subword_ids).numpy()
    words, ngrams = layer.words.embeddings.numpy(), layer.subwords.embeddings.numpy()
    np.testing.assert_allclose(out[0, 0], (words[3] + ngrams[1] + ngrams[2]) / 3, rtol=1e-6)
    np.testing.assert_allclose(out[0, 1], (words[1] + ngrams[4]) / 2, rtol=1e-6)
    np.testing.assert_array_equal(out[0, 2], 0.0)


def test_per_language_routes_each_document_to_its_language():
    layer = PerLanguage(MaskedAttention(name="att"), num_languages=3)
    inputs = random_inputs((4, 4, 5))
    valid = np.array([VALID[0], VALID[1], VALID[1], VALID[0]])
    lang_id = np.array([2, 0, 2, 0], "int32")  # language 1 is absent
    vector, weights = layer(inputs, valid, lang_id)
    assert [copy.name for copy in layer.copies] == ["att_0", "att_1", "att_2"]
    for i, lang in enumerate(lang_id):
        alone = layer.copies[lang](inputs[i:i + 1], valid[i:i + 1])
        np.testing.assert_allclose(vector[i:i + 1], alone[0], rtol=1e-6)
        np.testing.assert_allclose(weights[i:i + 1], alone[1], rtol=1e-6)
    other = layer(inputs, valid, np.array([1, 0, 2, 0], "int32"))[0]
    assert not np.allclose(other[0], vector[0])
    with pytest.raises(tf.errors.InvalidArgumentError):
        layer(inputs, valid, np.array([-1, 0, 2, 0], "int32"))  # an unseen language


def test_per_language_round_trips_through_config():
    layer = PerLanguage(SequenceEncoder("gru", 3, name="enc"), num_languages=2)
    clone = PerLanguage.from_config(layer.get_config())
    assert [c.name for c in clone.copies] == ["enc_0", "enc_1"]
    assert all(c.kind == "gru" and c.units == 3 for c in clone.copies)
