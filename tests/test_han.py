import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from mlclf import optimizers
from mlclf.losses import masked_binary_crossentropy
from mlclf.models import han
from mlclf.models.han import VARIANTS, build_model

K, T, VOCAB = 3, 5, 30


@pytest.fixture(autouse=True)
def seed():
    keras.utils.set_random_seed(0)


def documents(batch=4, seed=0):
    """Hierarchical word ids with padded words, padded sentences and a one-word document."""
    ids = np.random.default_rng(seed).integers(2, VOCAB, (batch, K, T)).astype("int32")
    ids[:, :, 3:] = 0
    ids[0, 1, 1:] = 0
    ids[1, 2] = 0
    ids[-1, 1:] = 0
    ids[-1, 0, 1:] = 0
    return ids


def features(ids, langs):
    return {"word_ids": ids, "lang_id": np.asarray(langs, "int32")}


def build(name, **kwargs):
    config = dict(num_languages=3 if name.startswith("mhan") else 1, vocab_size=VOCAB,
                  embed_dim=4, num_outputs=6, hidden=8, max_sentences=K, max_words=T)
    return build_model(name, **{**config, **kwargs})


@pytest.mark.parametrize("name", list(VARIANTS))
def test_output_shapes(name):
    models = build(name, encoder="bigru")
    langs = [0, 2, 2, 1] if name.startswith("mhan") else [0] * 4
    out = models.inspect(features(documents(), langs))
    width = 4 if name == "nn" else 16  # embed_dim, or 2 x hidden for the bigru
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "scores": (4, 6), "document": (4, width), "word_attention": (4, K, T),
        "sentence_attention": (4, K)}
    np.testing.assert_allclose(models.train(features(documents(), langs)), out["scores"])


def encoder_and_attention_params(models):
    encoder = models.train.get_layer("document_encoder")
    parts = [encoder.word_encoder, encoder.word_pooling, encoder.sentence_encoder,
             encoder.sentence_pooling]
    count = sum(part.count_params() for part in parts)
    # Nothing else has weights but the embeddings and the head, which the paper leaves out.
    assert count == (models.train.count_params() - encoder.embedding.count_params()
                     - models.train.get_layer("logits").count_params())
    return count


def test_parameter_ordering_of_the_paper():
    """Dense encoders, M=3, the paper's sizes (40-d embeddings, 100 hidden units).

    Encoders: (40*100+100) + (100*100+100) = 14200; attention per level: 100*100+100+100, two
    levels = 20400. Sharing encoders saves more than sharing attention only while the
    attention is the larger part, i.e. hidden + 2 > embed_dim, as in the paper.
    """
    sizes = dict(embed_dim=40, hidden=100, encoder="dense")
    counts = {name: encoder_and_attention_params(build(name, **sizes))
              for name in ["han", "mhan_enc", "mhan_att", "mhan_both"]}
    counts["3 x han"] = 3 * counts.pop("han")
    assert counts == {"3 x han": 103800, "mhan_enc": 75400, "mhan_att": 63000,
                      "mhan_both": 34600}
    assert counts["3 x han"] > counts["mhan_enc"] > counts["mhan_att"] > counts["mhan_both"]


@pytest.mark.parametrize("name,encoder", [("han", "gru"), ("mhan_enc", "dense"),
                                          ("hnn", "dense"), ("nn", "dense")])
def test_attention_is_zero_on_padding_and_sums_to_one(name, encoder):
    ids = documents()
    langs = [0, 1, 2, 0] if name.startswith("mhan") else [0] * 4
    out = {k: v.numpy() for k, v in build(name, encoder=encoder).inspect(
        features(ids, langs)).items()}
    real_words, real_sentences = ids != 0, (ids != 0).any(-1)
    assert np.all(out["word_attention"][~real_words] == 0.0)
    assert np.all(out["sentence_attention"][~real_sentences] == 0.0)
    np.testing.assert_allclose(out["word_attention"].sum(-1)[real_sentences], 1.0, rtol=1e-5)
    np.testing.assert_allclose(out["sentence_attention"].sum(-1), 1.0, rtol=1e-5)
    assert np.all(np.isfinite(out["document"]))


def test_nn_is_the_mean_of_the_real_word_vectors_flat_or_hierarchical():
    ids = documents()
    hierarchical = build("nn")
    flat = build("nn", max_sentences=None, max_words=K * T)
    flat.train.set_weights(hierarchical.train.get_weights())
    vectors = hierarchical.train.get_layer("document_encoder").embedding.words.embeddings.numpy()
    expected = [vectors[doc[doc != 0]].mean(0) for doc in ids]
    np.testing.assert_allclose(hierarchical.inspect(features(ids, [0] * 4))["document"],
                               expected, rtol=1e-5, atol=1e-7)
    flat_out = flat.inspect(features(ids.reshape(4, K * T), [0] * 4))
    assert set(flat_out) == {"scores", "document"}
    np.testing.assert_allclose(flat_out["document"], expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name,encoder", [("mhan_att", "gru"), ("mhan_enc", "gru"),
                                          ("mhan_att", "dense"), ("mhan_enc", "dense")])
def test_a_document_scores_the_same_alone_or_batched_with_other_languages(name, encoder):
    models = build(name, encoder=encoder)
    ids, langs = documents(), np.array([2, 0, 2, 1], "int32")
    batched = models.inspect(features(ids, langs))
    for i in range(4):
        alone = models.inspect(features(ids[i:i + 1], langs[i:i + 1]))
        for key in alone:
            np.testing.assert_allclose(alone[key][0], batched[key][i], rtol=1e-6, atol=1e-7)
    # Routing matters: the same document read as another language scores differently.
    other = models.inspect(features(ids[:1], [0]))["document"]
    assert not np.allclose(other, batched["document"][:1])


@pytest.mark.parametrize("name,encoder,buckets", [("mhan_enc", "gru", 7), ("mhan_att", "dense", 7),
                                                  ("mhan_att", "dense", 0)])
def test_save_and_load_give_identical_outputs(tmp_path, name, encoder, buckets):
    models = build(name, encoder=encoder, num_subword_buckets=buckets)
    ids = documents()
    inputs = features(ids, [1, 0, 2, 1])
    if buckets:
        inputs["subword_ids"] = (np.where(ids[..., None] > 0, ids[..., None] % 7 + 1, 0)
                                 .repeat(2, -1).astype("int32"))
    for model in models:
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        loaded = keras.models.load_model(path)
        expected, actual = model(inputs), loaded(inputs)
        keras.tree.assert_same_structure(actual, expected)
        for a, e in zip(keras.tree.flatten(actual), keras.tree.flatten(expected)):
            np.testing.assert_array_equal(a, e)


def test_frozen_pretrained_embeddings():
    matrix = np.random.default_rng(1).normal(size=(VOCAB, 4)).astype("float32")
    models = build("han", embedding_matrix=matrix, trainable_embeddings=False)
    embedding = models.train.get_layer("document_encoder").embedding.words.embeddings
    assert not any(w is embedding for w in models.train.trainable_weights)
    models.train.compile("adam", masked_binary_crossentropy)
    models.train.fit(features(documents(), [0] * 4), np.ones((4, 6), "float32"), verbose=0)
    np.testing.assert_array_equal(embedding.numpy(), matrix)


@pytest.mark.parametrize("encoder,by_word_type", [("dense", False), ("dense", True),
                                                   ("gru", False)])
def test_only_the_per_slot_dense_form_compiles_whole_steps(encoder, by_word_type):
    """cuDNN GRUs do not compile with XLA, which Keras enables by default on GPUs; the word-type
    level has data-dependent shapes."""
    model = build("mhan_att", encoder=encoder, by_word_type=by_word_type).train
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.compile("adam", masked_binary_crossentropy, jit_compile=True)
    compiles = encoder == "dense" and not by_word_type
    assert model.jit_compile is compiles
    assert any("jit_compile" in str(w.message) for w in caught) is not compiles


@pytest.mark.parametrize("name", ["han", "hnn", "mhan_enc", "mhan_att", "mhan_both"])
def test_word_type_level_equals_the_per_slot_form(name):
    """Outputs and gradients of the default word-type level (once per distinct word and
    language) equal those of the per-slot form, with repeated words within and across
    documents and languages, padded words and sentences, and a document of padding only."""
    ids = documents(batch=6)
    ids[2] = ids[0]  # the same words in another language (or the same one, monolingual)
    ids[4] = 0       # nothing but padding
    langs = [0, 1, 2, 0, 1, 2] if name.startswith("mhan") else [0] * 6
    by_type, per_slot = build(name), build(name, by_word_type=False)
    per_slot.train.set_weights(by_type.train.get_weights())
    weights = np.arange(6, dtype="float32")

    def outputs_and_gradients(models):
        with tf.GradientTape() as tape:
            out = models.inspect(features(ids, langs))
            loss = tf.reduce_sum(out["scores"] * weights)
        gradients = tape.gradient(loss, models.train.trainable_variables)
        return out, [tf.convert_to_tensor(g).numpy() for g in gradients]

    (out, gradients), (expected, expected_gradients) = map(outputs_and_gradients,
                                                           (by_type, per_slot))
    assert not by_type.train.get_layer("document_encoder").supports_jit
    for key in expected:
        np.testing.assert_allclose(out[key], expected[key], rtol=1e-5, atol=1e-7)
    assert np.all(out["word_attention"][4] == 0) and np.all(out["word_attention"][ids == 0] == 0)
    for actual, wanted in zip(gradients, expected_gradients):
        np.testing.assert_allclose(actual, wanted, rtol=1e-4, atol=1e-6)
    assert max(np.abs(g).max() for g in gradients) > 1e-3


def test_word_type_level_takes_a_batch_without_real_words():
    models = build("mhan_att")
    out = models.inspect(features(np.zeros((2, K, T), "int32"), [0, 1]))
    assert np.all(out["word_attention"].numpy() == 0)
    assert np.all(out["sentence_attention"].numpy() == 0)
    assert np.all(out["document"].numpy() == 0) and np.all(np.isfinite(out["scores"]))


def _pool(types, scores, type_of_slot, sentence_of_slot):
    with tf.GradientTape() as tape:
        types, scores = tf.constant(types), tf.constant(scores)
        tape.watch([types, scores])
        sums, slot_weights = han._attention_pool(types, scores, tf.constant(type_of_slot),
                                                  tf.constant(sentence_of_slot))
        loss = tf.reduce_sum(sums)
    return sums.numpy(), slot_weights.numpy(), tape.gradient(loss, [types, scores])


def test_pooling_by_type_is_each_sentences_softmax_when_their_scores_lie_far_apart():
    """Two sentences whose words score near +60 and near -60: the batch's largest score as the
    one shift would underflow the second sentence's weights (exp(-120)); each sentence still
    gets its own softmax, as a per-sentence computation in float64 gives."""
    types = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    scores = np.array([60, 59, 57, -60, -62], "float32")
    type_of_slot = np.array([0, 1, 2, 3, 4, 3], "int32")  # slots in sentence order
    sentence_of_slot = np.array([0, 0, 0, 1, 1, 1], "int32")
    sums, slot_weights, gradients = _pool(types, scores, type_of_slot, sentence_of_slot)
    expected_weights = np.zeros(6)
    for sentence in (0, 1):
        slots = sentence_of_slot == sentence
        exps = np.exp(scores[type_of_slot[slots]].astype("float64")
                      - scores[type_of_slot[slots]].max())
        expected_weights[slots] = exps / exps.sum()
    np.testing.assert_allclose(slot_weights, expected_weights, rtol=1e-5)
    expected_sums = [(expected_weights[sentence_of_slot == s, None]
                      * types[type_of_slot[sentence_of_slot == s]]).sum(0) for s in (0, 1)]
    np.testing.assert_allclose(sums, expected_sums, rtol=1e-5, atol=1e-6)
    assert all(np.all(np.isfinite(g)) for g in gradients)


def test_pooling_by_type_stays_finite_beyond_its_exact_range():
    """Best scores 400 apart (beyond the 158 where it is exact): weights that sum to 1 in each
    sentence and finite gradients, never inf or NaN."""
    types = np.ones((4, 2), "float32")
    scores = np.array([200, 190, -200, -210], "float32")
    sums, slot_weights, gradients = _pool(types, scores, np.arange(4, dtype="int32"),
                                          np.array([0, 0, 1, 1], "int32"))
    np.testing.assert_allclose([slot_weights[:2].sum(), slot_weights[2:].sum()], 1, rtol=1e-5)
    np.testing.assert_allclose(sums, 1, rtol=1e-5)
    assert all(np.all(np.isfinite(g)) for g in gradients)


@pytest.mark.parametrize("by_word_type,trainable", [(True, True), (False, True), (True, False)])
def test_word_vectors_are_updated_lazily_when_read_by_type(by_word_type, trainable):
    """Read once per word type, a batch reads a few percent of the word vectors: the
    optimizer moves those rows only (optimizers.CompiledAdam's row_sparse). Not in the
    per-slot form, which compiles whole steps with XLA, where a lazy update's tf.unique
    cannot go; and frozen vectors have no update."""
    matrix = np.random.default_rng(1).normal(size=(VOCAB, 4)).astype("float32")
    models = build("mhan_att", by_word_type=by_word_type, embedding_matrix=matrix,
                   trainable_embeddings=trainable)
    words = models.train.get_layer("document_encoder").embedding.words.embeddings
    lazy = by_word_type and trainable
    assert optimizers.row_sparse_variables(models.train) == ([words] if lazy else [])
    if not lazy:
        return
    models.train.compile(optimizers.adam_for(models.train, 0.1), masked_binary_crossentropy,
                         jit_compile=False)
    ids = documents()
    models.train.fit(features(ids, [0, 1, 2, 0]), np.ones((4, 6), "float32"), verbose=0)
    moved = np.any(words.numpy() != matrix, axis=1)
    np.testing.assert_array_equal(moved, np.isin(np.arange(VOCAB), ids[ids != 0]))


@pytest.mark.parametrize("name", ["mhan_att", "mhan_enc"])
@pytest.mark.parametrize("encoder", ["dense", "gru"])
def test_per_language_parts_have_static_shapes_unless_recurrent(name, encoder):
    """Stacked per-language weights keep every shape of the per-slot form static, so XLA
    compiles a step once whatever the batch's mix of languages; only per-language GRUs route
    through tf.dynamic_partition (data-dependent group sizes)."""
    model = build(name, encoder=encoder, by_word_type=False).train
    specs = {"word_ids": tf.TensorSpec([None, K, T], tf.int32),
             "lang_id": tf.TensorSpec([None], tf.int32)}
    graph = tf.function(model).get_concrete_function(specs).graph
    routed = {op.type for op in graph.get_operations()} & {"DynamicPartition", "DynamicStitch"}
    assert bool(routed) is (encoder == "gru" and name == "mhan_att")


def test_per_language_routing_trains_under_xla():
    models = build("mhan_att", by_word_type=False)
    models.train.compile("adam", masked_binary_crossentropy, jit_compile=True)
    labels = np.where(np.arange(6) < 2, 1.0, -1.0)[None].repeat(4, 0).astype("float32")
    history = models.train.fit(features(documents(), [0, 2, 2, 0]), labels,  # no language 1
                               batch_size=4, epochs=2, verbose=0).history["loss"]
    assert models.train.jit_compile is True and np.all(np.isfinite(history))


def test_monolingual_models_refuse_several_languages():
    with pytest.raises(ValueError, match="monolingual"):
        build("han", num_languages=3)


def test_training_lowers_the_loss_on_a_separable_task():
    """Three languages with two outputs each; a label is on when its word occurs."""
    rng = np.random.default_rng(0)
    n = 96
    ids = rng.integers(4, VOCAB, (n, K, T)).astype("int32")
    langs = rng.integers(0, 3, n).astype("int32")
    labels = np.full((n, 6), -1.0, "float32")
    for i, lang in enumerate(langs):
        for j, word in enumerate([2, 3]):
            present = rng.random() < 0.5
            ids[i, i % K, j] = word if present else ids[i, i % K, j]
            labels[i, 2 * lang + j] = float(present)
    models = build("mhan_enc")
    models.train.compile(keras.optimizers.Adam(0.02), masked_binary_crossentropy)
    history = models.train.fit(features(ids, langs), labels, batch_size=16, epochs=30,
                               verbose=0).history["loss"]
    assert history[-1] < 0.6 * history[0]  # seeds 0-4: ratios 0.02-0.41
