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
    layer = PerLanguage(SequenceEncoder("gru", 3, name="enc"), num_languages=3)
    inputs = random_inputs((4, 4, 5))
    valid = np.array([VALID[0], VALID[1], VALID[1], VALID[0]])
    lang_id = np.array([2, 0, 2, 0], "int32")  # language 1 is absent
    outputs = layer(inputs, valid, lang_id)
    assert [copy.name for copy in layer.copies] == ["enc_0", "enc_1", "enc_2"]
    for i, lang in enumerate(lang_id):
        alone = layer.copies[lang](inputs[i:i + 1], valid[i:i + 1])
        # A batch of 4 and one of 1 may round differently: equal to float32 rounding.
        np.testing.assert_allclose(outputs[i:i + 1], alone, rtol=1e-6, atol=1e-7)
    other = layer(inputs, valid, np.array([1, 0, 2, 0], "int32"))
    assert not np.allclose(other[0], outputs[0])
    with pytest.raises(tf.errors.InvalidArgumentError):
        layer(inputs, valid, np.array([-1, 0, 2, 0], "int32"))  # an unseen language


def _language_copy(stacked, shared, lang):
    """Gives the shared-weights layer `shared` language `lang`'s slice of `stacked`'s weights."""
    shared.set_weights([w.numpy()[lang] for w in stacked.weights])
    return shared


@pytest.mark.parametrize("make", [
    lambda languages: MaskedAttention(languages),
    lambda languages: SequenceEncoder("dense", 6, languages)])
def test_stacked_per_language_weights_act_as_one_layer_per_language(make):
    """Attention and Dense encoders hold [M, ...] weights and use each document's language's."""
    stacked, shared = make(3), make(None)
    inputs = random_inputs((4, 3, 4, 5))  # documents x sentences x words x dim
    valid = np.broadcast_to(VALID, (4, 3, 4))
    lang_id = np.array([2, 0, 2, 0], "int32")  # language 1 is absent
    outputs = tf.nest.flatten(stacked(inputs, valid, lang_id))
    shared(inputs[:1], valid[:1])
    assert [tuple(w.shape) for w in stacked.weights] == [(3, *w.shape) for w in shared.weights]
    kernels = stacked.weights[0].numpy()
    assert not np.allclose(kernels[0], kernels[1])  # independent draws, not copies
    for i, lang in enumerate(lang_id):
        alone = tf.nest.flatten(_language_copy(stacked, shared, lang)(inputs[i:i + 1],
                                                                      valid[i:i + 1]))
        for got, want in zip(outputs, alone):
            np.testing.assert_allclose(got[i:i + 1], want, rtol=1e-5, atol=1e-6)
    other = tf.nest.flatten(stacked(inputs, valid, np.array([1, 0, 2, 0], "int32")))[0]
    assert not np.allclose(other[0], outputs[0][0])


def test_stacked_attention_keeps_padding_at_exactly_zero():
    layer = MaskedAttention(num_languages=2)
    inputs = random_inputs((3, 4, 5))
    vector, weights = layer(inputs, VALID, np.array([1, 0, 1], "int32"))
    weights = weights.numpy()
    assert np.all(weights[~VALID] == 0.0)
    np.testing.assert_allclose(weights.sum(-1)[:2], 1.0, rtol=1e-6)
    assert np.all(weights[2] == 0) and np.all(vector.numpy()[2] == 0)


def test_per_language_round_trips_through_config():
    layer = PerLanguage(SequenceEncoder("gru", 3, name="enc"), num_languages=2)
    clone = PerLanguage.from_config(layer.get_config())
    assert [c.name for c in clone.copies] == ["enc_0", "enc_1"]
    assert all(c.kind == "gru" and c.units == 3 for c in clone.copies)
