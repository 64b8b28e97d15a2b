import keras
import numpy as np
import pytest
import tensorflow as tf

from mlclf.data import TargetEncoder
from mlclf.losses import masked_binary_crossentropy
from mlclf.models.cnn import CnnClassifier
from mlclf.labels import LabelSpace

VOCAB, CLASSES, N = 40, 8, 12
SMALL = dict(vocab_size=VOCAB, num_outputs=CLASSES, embed_dim=6, num_filters=4,
             windows=(5, 4, (3, 4, 5)), num_sampled=3)


@pytest.fixture(autouse=True)
def seed():
    keras.utils.set_random_seed(0)  # initial weights, dropout and the NCE sampler


def task(n=32, seed=0):
    """Documents of category c contain word c + 2; other words are drawn from 10..VOCAB."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(10, VOCAB, (n, N)).astype("int32")
    lengths = rng.integers(3, N + 1, n)
    ids[np.arange(N) >= lengths[:, None]] = 0
    label_ids = rng.integers(0, CLASSES, (n, 1)).astype("int64")
    ids[np.arange(n), rng.integers(0, lengths)] = label_ids[:, 0] + 2
    features = {"word_ids": ids, "lang_id": np.zeros(n, "int32")}
    targets = {"labels": np.eye(CLASSES, dtype="float32")[label_ids[:, 0]], "label_ids": label_ids}
    return features, targets


def dataset(n=32, batch=8):
    return tf.data.Dataset.from_tensor_slices(task(n)).batch(batch)


def test_output_shapes_and_independence_from_padding_length():
    model = CnnClassifier(**SMALL)
    features, _ = task(4)
    assert model(features).shape == (4, CLASSES)
    document = model.encoder(features["word_ids"])
    assert document.shape == (4, 3 * 4)
    longer = np.pad(features["word_ids"], [(0, 0), (0, 9)])
    np.testing.assert_allclose(model.encoder(longer), document, rtol=1e-6, atol=1e-7)


def test_max_norm_holds_after_training_steps():
    model = CnnClassifier(**SMALL)
    kernel = model.classifier.kernel
    kernel.assign(kernel.numpy() * 50 / np.linalg.norm(kernel.numpy(), axis=0))  # norms of 50
    model.compile(keras.optimizers.SGD(0.1))
    model.fit(dataset(), epochs=2, verbose=0)
    norms = np.linalg.norm(kernel.numpy(), axis=0)  # one per class
    assert np.all(norms <= 5.0 + 1e-4)
    assert np.all(norms > 4.0)  # scaled down, not reinitialised


@pytest.mark.parametrize("loss", ["nce", "sigmoid"])
def test_training_lowers_the_loss(loss):
    model = CnnClassifier(**SMALL, loss=loss, dropout=0.0)
    model.compile(keras.optimizers.Adam(0.02))
    history = model.fit(dataset(), validation_data=dataset(), epochs=12, verbose=0).history
    # Seeds 0-3 give ratios of 0.49-0.67 (training) and 0.40-0.57 (validation).
    assert np.mean(history["loss"][-3:]) < 0.8 * np.mean(history["loss"][:3])
    assert history["val_loss"][-1] < 0.75 * history["val_loss"][0]


def _assert_nce_skips_the_last_of_four(features, targets):
    """The NCE loss of 4 documents, the last without labels, is that of the first 3 (drawing
    the same negatives) counted over 4."""
    model = CnnClassifier(**SMALL, dropout=0.0)
    keras.utils.set_random_seed(1)
    loss = model._training_loss(features, targets)
    keras.utils.set_random_seed(1)
    labelled = model._training_loss({"word_ids": features["word_ids"][:3]},
                                    {"label_ids": targets["label_ids"][:3]})
    np.testing.assert_allclose(loss, labelled * 3 / 4, rtol=1e-5)


def test_nce_skips_documents_without_labels():
    features, targets = task(4)
    targets["label_ids"][3] = -1  # the pipeline's mark for a document without labels
    _assert_nce_skips_the_last_of_four(features, targets)


def test_unlabelled_documents_are_all_negative_for_sigmoid_and_skipped_by_nce():
    """BRIGHTER's neutral documents (no label) as the pipeline encodes them."""
    space = LabelSpace({"xx": [f"c{i}" for i in range(CLASSES)]}, mode="shared")
    targets = TargetEncoder(space, ["xx"])(
        tf.constant(["xx"] * 4), tf.ragged.constant([["c1"], ["c2"], ["c5", "c3"], []]))
    np.testing.assert_array_equal(targets["labels"][3], np.zeros(CLASSES))
    np.testing.assert_array_equal(targets["label_ids"][:, 0], [1, 2, 5, -1])
    features, _ = task(4)
    model = CnnClassifier(**SMALL, loss="sigmoid", dropout=0.0)
    per_document = masked_binary_crossentropy(targets["labels"], model(features)).numpy()
    assert per_document[3] > 0  # trained towards 0 on every output
    np.testing.assert_allclose(model._training_loss(features, targets), per_document.mean(),
                               rtol=1e-5)
    _assert_nce_skips_the_last_of_four(features, targets)


def test_inspect_model_shares_the_weights():
    model = CnnClassifier(**SMALL, max_words=N)
    inspect = model.inspect_model()
    features, _ = task(4)
    out = inspect(features)
    np.testing.assert_allclose(out["scores"], model(features), rtol=1e-6)
    np.testing.assert_allclose(out["document"], model.encoder(features["word_ids"]), rtol=1e-6)


def test_frozen_pretrained_embeddings():
    matrix = np.random.default_rng(1).normal(size=(VOCAB, 6)).astype("float32")
    model = CnnClassifier(**SMALL, embedding_matrix=matrix, trainable_embeddings=False)
    model.compile("adam")
    model.fit(dataset(8), epochs=1, verbose=0)
    np.testing.assert_array_equal(model.encoder.get_layer("embedding").embeddings, matrix)


def test_validation_loss_is_the_masked_binary_crossentropy():
    model = CnnClassifier(**SMALL)
    model.compile("adam")
    features, targets = task(8)
    targets["labels"][:4, 4:] = -1  # outputs of another language
    loss = model.evaluate(features, targets, batch_size=8, verbose=0)
    expected = np.mean(masked_binary_crossentropy(targets["labels"], model(features)))
    np.testing.assert_allclose(loss, expected, rtol=1e-5)


def test_nce_model_refuses_xla_but_its_encoder_compiles_forward_and_backward():
    model = CnnClassifier(**SMALL)
    with pytest.warns(UserWarning, match="jit_compile"):
        model.compile("adam", jit_compile=True)
    assert model.jit_compile is False

    @tf.function(jit_compile=True)
    def forward_backward(word_ids):
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(model.encoder(word_ids, training=True))
        return tape.gradient(total, model.encoder.trainable_variables)

    gradients = forward_backward(tf.constant(task(4)[0]["word_ids"]))
    assert len(gradients) == len(model.encoder.trainable_variables)


def test_save_and_load_give_identical_outputs(tmp_path):
    model = CnnClassifier(**SMALL)
    model.compile("adam")
    model.fit(dataset(8), epochs=1, verbose=0)
    model.save(tmp_path / "cnn.keras")
    loaded = keras.models.load_model(tmp_path / "cnn.keras")
    features, _ = task(4)
    np.testing.assert_array_equal(loaded(features), model(features))
    assert loaded.get_config() == model.get_config()


def _xla_functions(model):
    """Names of the XLA-compiled functions in the traced graph of one training loss."""
    features, targets = task(4)
    step = tf.function(lambda ids, label_ids: model._training_loss(
        {"word_ids": ids}, {"label_ids": label_ids}), autograph=False)
    graph = step.get_concrete_function(tf.constant(features["word_ids"]),
                                       tf.constant(targets["label_ids"])).graph.as_graph_def()
    return [fn.signature.name for fn in graph.library.function
            if fn.attr["_XlaMustCompile"].b]


def test_training_step_runs_the_encoder_under_xla_unless_disabled():
    assert any("encode" in name for name in _xla_functions(CnnClassifier(**SMALL)))
    assert _xla_functions(CnnClassifier(**SMALL, jit_encoder=False)) == []


class FixedNegatives(CnnClassifier):
    """The same NCE negatives at every step, so that two models' steps can be compared."""

    def sample_negatives(self, label_ids):
        sampled = tf.constant([1, 4, 6], tf.int64)
        return (sampled, tf.fill(tf.shape(label_ids), 0.5), tf.fill([3], 0.5))


def _trained_alike(models, optimizer, batches, epochs):
    """Trains `models` (a compiled and a plain variant) from the first one's weights with a
    fresh `optimizer()` each; asserts that they end with the same weights, moved from the start,
    and returns those of the first."""
    models[1].set_weights(models[0].get_weights())
    initial = models[0].get_weights()
    for model in models:
        model.compile(optimizer())
        model.fit(batches, epochs=epochs, verbose=0)
    first, second = (model.get_weights() for model in models)
    for before, a, b in zip(initial, first, second):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert max(np.abs(a - before).max() for a, before in zip(first, initial)) > 1e-2
    return first


@pytest.mark.parametrize("loss", ["nce", "sigmoid"])
def test_xla_encoder_step_updates_the_weights_like_the_plain_step(loss):
    models = [FixedNegatives(**SMALL, loss=loss, dropout=0.0, jit_encoder=jit)
              for jit in (True, False)]
    _trained_alike(models, lambda: keras.optimizers.SGD(0.5), dataset(8, batch=8), epochs=2)
    assert models[0].get_config()["jit_encoder"] is True


def _compiled_step_functions(model):
    """Names of the XLA-compiled functions in the traced graph of one whole training step."""
    features, targets = task(8)
    model.compile(keras.optimizers.Adam(0.01))
    model.optimizer.build(model.trainable_variables)
    step = tf.function(model.train_step, autograph=False)
    data = ({"word_ids": tf.constant(features["word_ids"])},
            {name: tf.constant(value) for name, value in targets.items()})
    graph = step.get_concrete_function(data).graph.as_graph_def()
    return [fn.signature.name for fn in graph.library.function
            if fn.attr["_XlaMustCompile"].b]


def test_optimizer_update_is_compiled_unless_disabled():
    names = _compiled_step_functions(CnnClassifier(**SMALL))
    assert any("update" in name for name in names) and any("encode" in name for name in names)
    names = _compiled_step_functions(CnnClassifier(**SMALL, jit_update=False))
    assert not any("update" in name for name in names)


@pytest.mark.parametrize("loss", ["nce", "sigmoid"])
def test_xla_update_trains_like_the_plain_update(loss):
    """Adam (with the sparse gradients of the embedding and of NCE's sampled output rows) and
    max-norm, compiled or not: the same weights after several steps."""
    models = [FixedNegatives(**SMALL, loss=loss, dropout=0.0, jit_update=jit)
              for jit in (True, False)]
    kernel = models[0].classifier.kernel
    kernel.assign(kernel.numpy() * 5.5 / np.linalg.norm(kernel.numpy(), axis=0))  # max-norm acts
    jit = _trained_alike(models, lambda: keras.optimizers.Adam(0.05), dataset(16, batch=8),
                         epochs=3)
    assert np.all(np.linalg.norm(jit[-2], axis=0) <= 5.0 + 1e-4)
    assert int(models[0].optimizer.iterations) == int(models[1].optimizer.iterations) == 6


def test_bfloat16_encoder_keeps_float32_outputs_and_plain_ops():
    model = CnnClassifier(**SMALL, encoder_dtype="mixed_bfloat16", dropout=0.0)
    reference = CnnClassifier(**SMALL, dropout=0.0)
    reference.set_weights(model.get_weights())
    features, _ = task(8)
    assert model.encoder.get_layer("conv0_window5").compute_dtype == "bfloat16"
    assert all(w.dtype == "float32" for w in model.weights)
    assert model.encoder(features["word_ids"]).dtype == "float32"
    scores = model(features)
    assert scores.dtype == "float32"
    np.testing.assert_allclose(scores, reference(features), atol=2e-2)
    # XLA's CPU convolutions are slow in bfloat16: the encoder runs as TF ops (oneDNN).
    assert not any("encode" in name for name in _xla_functions(model))
    model.compile(keras.optimizers.Adam(0.02))
    history = model.fit(dataset(), epochs=12, verbose=0).history
    assert np.mean(history["loss"][-3:]) < 0.8 * np.mean(history["loss"][:3])
    assert model.get_config()["encoder_dtype"] == "mixed_bfloat16"


@pytest.mark.parametrize("loss", ["nce", "sigmoid"])
def test_global_bfloat16_policy_trains_with_float32_inputs_to_the_loss(loss):
    # train.py --mixed_precision without a GPU sets this policy for the whole model: dropout and
    # the output layer must stay float32, or NCE mixes bfloat16 inputs with float32 weights.
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = CnnClassifier(**SMALL, loss=loss, dropout=0.5)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert model.encoder.get_layer("conv0_window5").compute_dtype == "bfloat16"
    assert model.dropout.compute_dtype == model.classifier.compute_dtype == "float32"
    model.compile(keras.optimizers.Adam(0.02))
    history = model.fit(dataset(), epochs=12, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))
    assert np.mean(history["loss"][-3:]) < 0.8 * np.mean(history["loss"][:3])
