"""The wide branch (n-gram bags, the TF-IDF linear layer, language copies), the softmax head
and its loss, and the `linear` model trained, read back and served."""
import collections
import dataclasses
import json
import os
from types import SimpleNamespace

import keras

import numpy as np
import pytest
import tensorflow as tf
from sklearn.feature_extraction.text import TfidfTransformer

from mlclf import evaluation, losses, ngrams, rundir, task, training
from mlclf.models import head as head_lib
from mlclf.models import registry
from mlclf.models import wide as wide_lib

from export_checks import served_and_scored


def _char_id_list(word, order, buckets):
    """A reference for the character n-grams of one word, each occurrence: code points of
    "<word>", hashed by FarmHash of (-1, code points...)."""
    points = [ord(c) for c in "<" + word + ">"]
    windows = [[-1] + points[i:i + order] for i in range(len(points) - order + 1)]
    hashes = tf.bitcast(tf.fingerprint(tf.constant(windows, tf.int64)), tf.int64)
    return (tf.math.floormod(hashes, buckets) + 1).numpy().tolist()


def _char_ids(word, order, buckets):
    return set(_char_id_list(word, order, buckets))


def _word_ids(words, order, buckets):
    hashes = tf.strings.to_hash_bucket_fast(words, 1 << 62).numpy().tolist()
    windows = [[-2] + hashes[i:i + order] for i in range(len(hashes) - order + 1)]
    return _bucket(windows, buckets)


def _bucket(windows, buckets):
    hashes = tf.bitcast(tf.fingerprint(tf.constant(windows, tf.int64)), tf.int64)
    return set((tf.math.floormod(hashes, buckets) + 1).numpy().tolist())


def test_parse_orders_reads_ranges_and_names_the_flag():
    assert ngrams.parse_orders("2-5", "x") == (2, 3, 4, 5)
    assert ngrams.parse_orders("1", "x") == (1,)
    assert ngrams.parse_orders("", "x") == ()
    for bad in ("a-b", "5-2", "0-3", "2-12"):
        with pytest.raises(ValueError, match="--wide_char_ngrams"):
            ngrams.parse_orders(bad, "wide_char_ngrams")


def test_bag_holds_character_and_word_ngrams_with_counts():
    spec = ngrams.NgramSpec(buckets=1 << 20, char_orders=(2,), word_orders=(1, 2))
    words = tf.ragged.constant([[["ab", "ab"], ["cd"]], [["ab"]]])  # 2 documents by sentence
    ids, counts = ngrams.ngram_bag(words, spec)
    expected = (_char_ids("ab", 2, spec.buckets) | _char_ids("cd", 2, spec.buckets)
                | _word_ids(["ab"], 1, spec.buckets) | _word_ids(["cd"], 1, spec.buckets)
                | _word_ids(["ab", "ab"], 2, spec.buckets))
    assert len(expected) == 9 and set(ids[0].numpy().tolist()) == expected  # no bigram across
    assert ids[0].numpy().tolist() == sorted(ids[0].numpy().tolist())      # sentences
    by_id = dict(zip(ids[0].numpy().tolist(), counts[0].numpy().tolist()))
    (ab,) = _bucket([[-1, ord("a"), ord("b")]], spec.buckets)
    (word_ab,) = _word_ids(["ab"], 1, spec.buckets)
    (cd,) = _bucket([[-1, ord("c"), ord("d")]], spec.buckets)
    assert (by_id[ab], by_id[word_ab], by_id[cd]) == (2.0, 2.0, 1.0)
    assert set(ids[1].numpy().tolist()) == (_char_ids("ab", 2, spec.buckets)
                                            | _word_ids(["ab"], 1, spec.buckets))
    # Flat documents [B, (N)]: the bigram joins every neighbour.
    flat_ids, _ = ngrams.ngram_bag(tf.ragged.constant([["ab", "cd"]]), spec)
    assert _word_ids(["ab", "cd"], 2, spec.buckets) <= set(flat_ids[0].numpy().tolist())


def test_bag_counts_words_repeated_within_and_across_documents_as_a_reference_does():
    # Each distinct word's character n-grams are made once per batch and weighted by its count
    # in each document: the bag must equal counting every running word's n-grams.
    spec = ngrams.NgramSpec(buckets=1 << 12, char_orders=(2, 3), word_orders=(1,))
    docs = [[["ab", "abc", "ab"], ["ba", "ab"]], [["abc"], ["x", "ab", "x"]], [["ba"]]]
    ids, counts = ngrams.ngram_bag(tf.ragged.constant(docs), spec)
    for d, doc in enumerate(docs):
        expected = collections.Counter()
        for sentence in doc:
            for word in sentence:
                for order in spec.char_orders:
                    expected.update(_char_id_list(word, order, spec.buckets))
                expected.update(_word_ids([word], 1, spec.buckets))
        got = dict(zip(ids[d].numpy().tolist(), counts[d].numpy().tolist()))
        assert got == {key: float(value) for key, value in expected.items()}
        assert ids[d].numpy().tolist() == sorted(got)


def test_bag_reads_at_most_max_words_per_document():
    spec = ngrams.NgramSpec(buckets=1 << 16, char_orders=(), word_orders=(1,), max_words=2)
    ids, counts = ngrams.ngram_bag(tf.ragged.constant([[["a", "b"], ["c"]], [["d"]]]), spec)
    assert set(ids[0].numpy().tolist()) == _word_ids(["a", "b"], 1, spec.buckets)
    assert counts.flat_values.numpy().sum() == 3.0


def test_a_romanized_bag_adds_the_character_ngrams_of_non_latin_words_romanised():
    plain = ngrams.NgramSpec(buckets=1 << 20, char_orders=(2, 3), word_orders=(1,))
    romanized = dataclasses.replace(plain, romanized=True)
    words = tf.ragged.constant([[["москва", "moskva"]], [["ab"]]])
    plain_ids, plain_counts = ngrams.ngram_bag(words, plain)
    ids, counts = ngrams.ngram_bag(words, romanized)
    # The document already holds "moskva": romanising adds no id, only counts.
    assert set(ids[0].numpy().tolist()) == set(plain_ids[0].numpy().tolist())
    by_id = dict(zip(ids[0].numpy().tolist(), counts[0].numpy().tolist()))
    latin = _char_ids("moskva", 2, plain.buckets) | _char_ids("moskva", 3, plain.buckets)
    assert {by_id[i] for i in latin} == {2.0}    # once as written, once romanised
    assert by_id[min(_word_ids(["москва"], 1, plain.buckets))] == 1.0  # words stay as written
    # A Latin-script word is not read twice.
    np.testing.assert_array_equal(ids[1].numpy(), plain_ids[1].numpy())
    np.testing.assert_array_equal(counts[1].numpy(), plain_counts[1].numpy())


def test_the_fingerprint_names_the_romanisation_when_bags_use_it(monkeypatch):
    plain, romanized = ngrams.NgramSpec(), ngrams.NgramSpec(romanized=True)
    before = ngrams.fingerprint(plain), ngrams.fingerprint(romanized)
    assert before[0] != before[1]
    monkeypatch.setattr(ngrams.romanize, "fingerprint", lambda: "another romanisation")
    assert ngrams.fingerprint(plain) == before[0]
    assert ngrams.fingerprint(romanized) != before[1]


def test_idf_and_layer_equal_scikit_learns_sublinear_tfidf():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 3, size=(6, 12)) * rng.integers(0, 2, size=(6, 12))
    counts[:, 0] = 0  # id 0 is padding
    df = (counts > 0).sum(0)
    idf = wide_lib.idf_weights(df, len(counts), min_df=1)
    transformer = TfidfTransformer(sublinear_tf=True).fit(counts[:, 1:])
    np.testing.assert_allclose(idf[1:], transformer.idf_, rtol=1e-6)
    assert idf[0] == 0.0
    # Rare features (df < min_df) weigh nothing.
    assert np.all(wide_lib.idf_weights(df, len(counts), min_df=2)[1:][df[1:] < 2] == 0)

    layer = wide_lib.NgramLinear(num_outputs=3, buckets=11)
    ids = np.tile(np.arange(12), (6, 1)).astype(np.int32)
    layer(ids, counts.astype(np.float32), np.zeros(6, np.int32))
    kernel = rng.normal(size=(12, 3)).astype(np.float32)
    layer.kernel.assign(kernel)
    layer.set_idf({"shared": df, "documents": len(counts), "language": None})
    # set_idf uses min_df 2: compare with scikit-learn on the features it keeps.
    kept = np.where(wide_lib.idf_weights(df, len(counts)) > 0)[0]
    weights = np.zeros(12)
    weights[kept] = transformer.idf_[kept - 1]
    values = np.where(counts > 0, 1 + np.log(np.maximum(counts, 1)), 0) * weights
    values /= np.maximum(np.linalg.norm(values, axis=1, keepdims=True), 1e-12)
    logits = layer(ids, counts.astype(np.float32), np.zeros(6, np.int32)).numpy()
    np.testing.assert_allclose(logits, values @ kernel, rtol=1e-5, atol=1e-6)


def test_log_count_ratios_are_nbsvms_and_scale_each_outputs_feature_values():
    # Rows: padding, a feature of output 0's documents, one of output 1's, one of both, a rare one.
    by_output = np.array([[0, 0], [2, 0], [0, 3], [1, 1], [1, 0]])
    df = np.array([0, 2, 3, 2, 1])
    ratio = wide_lib.log_count_ratios(by_output, df, min_df=2, alpha=1.0)
    # Output 0 over the kept rows 1-3: p = 1 + (2, 0, 1), q = 1 + (0, 3, 1).
    np.testing.assert_allclose(ratio[1:4, 0], np.log(np.array([3, 1, 2]) / 6)
                               - np.log(np.array([1, 4, 2]) / 7), rtol=1e-6)
    assert ratio[1, 0] > 0 > ratio[1, 1] and ratio[2, 1] > 0 > ratio[2, 0]
    assert np.all(ratio[[0, 4]] == 0)  # padding, and a feature the idf leaves out

    layer = wide_lib.NgramLinear(num_outputs=2, buckets=4, log_count_ratio=True)
    ids = np.array([[1, 2, 3, 0]], np.int32)
    counts = np.array([[1.0, 1.0, 1.0, 0.0]], np.float32)
    layer(ids, counts, np.zeros(1, np.int32))
    layer.set_idf({"shared": df, "documents": 4, "language": None,
                   "shared_by_output": by_output})
    np.testing.assert_array_equal(layer.ratio.numpy(), wide_lib.log_count_ratios(by_output, df))
    kernel = np.arange(10, dtype=np.float32).reshape(5, 2)
    layer.kernel.assign(kernel)
    values = np.array([0, 1, 1, 1, 0]) * wide_lib.idf_weights(df, 4)
    values /= np.linalg.norm(values)
    np.testing.assert_allclose(layer(ids, counts, np.zeros(1, np.int32)).numpy()[0],
                               values @ (kernel * layer.ratio.numpy()), rtol=1e-5)
    assert wide_lib.NgramLinear.from_config(layer.get_config()).log_count_ratio


def test_language_copies_are_per_language_and_left_out_for_an_unseen_language():
    ids = tf.constant([[0, 1, 2, 3]], tf.int64)
    en, fr = (wide_lib.language_copy_ids(ids, tf.constant([lang]), 100).numpy()[0]
              for lang in (0, 1))
    assert en[0] == fr[0] == 0 and np.all((en[1:] >= 1) & (en[1:] <= 100))
    assert not np.array_equal(en, fr)

    layer = wide_lib.NgramLinear(num_outputs=2, buckets=100, num_languages=2)
    counts = tf.constant([[0.0, 1.0, 1.0, 1.0]] * 2)
    both = tf.concat([ids, ids], 0)
    layer(both, counts, tf.constant([0, -1]))
    layer.language_kernel.assign(tf.ones_like(layer.language_kernel))
    logits = layer(both, counts, tf.constant([0, -1])).numpy()
    assert np.all(logits[0] > 0) and np.all(logits[1] == 0)  # -1: the shared kernel alone


def test_shared_weight_scales_the_shared_kernel_for_training_languages_only():
    ids = tf.constant([[1, 2, 0]] * 3, tf.int64)
    counts = tf.constant([[1.0, 1.0, 0.0]] * 3)
    lang_id = tf.constant([0, 1, -1])
    logits = {}
    for weight in (0.0, 0.5, 1.0):
        layer = wide_lib.NgramLinear(num_outputs=2, buckets=8, num_languages=2,
                                     shared_weight=weight)
        layer(ids, counts, lang_id)
        layer.kernel.assign(tf.fill(layer.kernel.shape, 1.0))         # shared: 1 per feature
        layer.language_kernel.assign(tf.fill(layer.kernel.shape, 10.0))  # copies: 10
        logits[weight] = layer(ids, counts, lang_id).numpy()
    # Two features of value 1/sqrt(2) each (idf 1, L2-normalised): each kernel adds sqrt(2) x
    # its entries.
    unit = np.sqrt(2.0)
    for weight, value in logits.items():
        np.testing.assert_allclose(value[:2], (weight + 10.0) * unit, rtol=1e-6)
        np.testing.assert_allclose(value[2], unit, rtol=1e-6)  # unseen: shared alone
    layer = wide_lib.NgramLinear.from_config(
        wide_lib.NgramLinear(2, 8, 2, shared_weight=0.25).get_config())
    assert layer.shared_weight == 0.25


def test_softmax_scores_are_a_distribution_over_the_documents_language():
    # language 0: outputs 0-1; 1: 1-2; the last row (head.language_masks): every output
    masks = np.array([[1, 1, 0], [0, 1, 1], [1, 1, 1]], np.float32)
    layer = head_lib.OutputScores("softmax", masks)
    logits = tf.constant([[1.0, 2.0, 9.0], [1.0, 2.0, 9.0], [0.0, 0.0, 0.0]])
    scores = layer(logits, tf.constant([0, 1, -1])).numpy()
    np.testing.assert_allclose(scores.sum(1), 1.0, rtol=1e-6)
    assert scores[0, 2] == 0 and scores[1, 0] == 0
    np.testing.assert_allclose(scores[0, :2], tf.nn.softmax([1.0, 2.0]).numpy(), rtol=1e-6)
    np.testing.assert_allclose(scores[2], 1 / 3, rtol=1e-6)   # unseen: every output


@pytest.mark.parametrize("wide_alone", [True, False])
def test_a_language_never_trained_on_is_scored_by_the_wide_branch_alone_when_asked(wide_alone):
    """--unseen_reads=wide: the deep part's logits are left out for lang_id -1 and kept for a
    training language; with --unseen_reads=all they are kept for both."""
    head = head_lib.HeadSpec(num_outputs=3, wide_buckets=50, unseen_wide_alone=wide_alone)
    inputs = {"document": keras.Input((4,), name="document"),
              "lang_id": keras.Input((), dtype="int32", name="lang_id"),
              **head_lib.wide_inputs()}
    _, logits = head_lib.scores(inputs["document"], inputs, head, with_logits=True)
    model = keras.Model(inputs, logits)
    model.get_layer("logits").set_weights([np.ones((4, 3), np.float32), np.ones(3, np.float32)])
    model.get_layer("wide").kernel.assign(tf.fill([51, 3], 2.0))
    features = {"document": np.ones((2, 4), np.float32), "lang_id": np.array([0, -1], np.int32),
                "ngram_ids": np.array([[1, 2]] * 2, np.int32),
                "ngram_counts": np.array([[1.0, 1.0]] * 2, np.float32)}
    wide = 2.0 * np.sqrt(2.0)      # two features of equal weight, L2-normalised, kernel 2
    unseen = wide if wide_alone else 5.0 + wide
    np.testing.assert_allclose(model(features).numpy(), [[5.0 + wide] * 3, [unseen] * 3],
                               rtol=1e-5)


def test_categorical_loss_is_minus_log_probability_of_the_label():
    y_true = tf.constant([[1.0, 0.0, -1.0], [0.5, 0.5, -1.0], [0.0, 0.0, -1.0]])
    y_true = tf.where(y_true == 0.5, 1.0, y_true)            # two labels: their mean
    y_pred = tf.constant([[0.25, 0.75, 0.0], [0.5, 0.5, 0.0], [0.5, 0.5, 0.0]])
    loss = losses.masked_categorical_crossentropy(y_true, y_pred).numpy()
    np.testing.assert_allclose(loss, [-np.log(0.25), -np.log(0.5), 0.0], rtol=1e-6)
    assert losses.for_activation("softmax") is losses.masked_categorical_crossentropy


def test_a_training_step_moves_only_the_kernel_rows_of_the_batchs_ngrams():
    """compile_default's Adam updates the wide kernels lazily (optimizers.CompiledAdam's
    row-sparse variables): a step moves the rows of the batch's n-grams and no other row,
    not even those that moved at the step before."""
    inputs = {**head_lib.wide_inputs(), "lang_id": keras.Input((), dtype="int32", name="lang_id")}
    wide = wide_lib.NgramLinear(3, buckets=64, num_languages=2, name="wide")
    scores = head_lib.OutputScores("softmax", np.ones((3, 3), np.float32))(
        wide(inputs["ngram_ids"], inputs["ngram_counts"], inputs["lang_id"]), inputs["lang_id"])
    model = keras.Model(inputs, scores)
    registry.compile_default(model, SimpleNamespace(learning_rate=0.1),
                             SimpleNamespace(activation="softmax", label_weights=None))
    assert model.optimizer._is_row_sparse(wide.kernel)
    assert model.optimizer._is_row_sparse(wide.language_kernel)

    def batch(ids, lang):
        ids = np.array([ids], np.int32)
        return ({"ngram_ids": ids, "ngram_counts": np.ones(ids.shape, np.float32),
                 "lang_id": np.array([lang], np.int32)}, np.array([[1.0, 0.0, 0.0]], np.float32))

    model.train_on_batch(*batch([3, 5, 9], 0))
    before = wide.kernel.numpy(), wide.language_kernel.numpy()
    model.train_on_batch(*batch([5, 17], 1))
    for kernel, old, ids in [(wide.kernel, before[0], [5, 17]),
                             (wide.language_kernel, before[1], wide_lib.language_copy_ids(
                                 tf.constant([[5, 17]]), tf.constant([1]), 64).numpy()[0])]:
        moved = np.flatnonzero(np.any(kernel.numpy() != old, axis=1))
        np.testing.assert_array_equal(moved, np.sort(ids))


@pytest.mark.parametrize("model", ["linear", "mhan_att"])
def test_a_wide_run_trains_reads_back_and_serves_with_argmax(model, tiny_corpus, tiny_data_dir,
                                                             tmp_path):
    config = task.ExperimentConfig(
        model=model, dataset="jsonl", langs=("en", "fr"), manual_dir=tiny_corpus,
        data_dir=tiny_data_dir, label_space="shared", wide="true", wide_buckets=1 << 14,
        embed_dim=8, hidden=8, max_sentences=4, max_words=8,
        batch_size=8, epochs=3, steps_per_epoch=6, learning_rate=0.05, seed=1)
    run_dir = str(tmp_path / "run")
    results = training.train(config, run_dir, verbose=0)
    assert np.mean([row["micro_f1"] for row in results["test"].values()]) > 0.8

    run = rundir.load(run_dir)
    assert run.resources.activation == "softmax" and run.resources.wide_language_copies
    idf = run.models.train.get_layer("wide").idf.numpy()
    assert idf[0] == 0 and idf.max() > 1         # the training split's idf, read back
    again = evaluation.evaluate_split(run.config, run.resources, run.models.inspect, "test")
    assert again.table == results["test"]

    export = os.path.join(run_dir, rundir.EXPORT_DIR, "1")
    with open(os.path.join(export, "assets.extra", "serving.json"), encoding="utf-8") as f:
        serving = json.load(f)
    assert serving["decision"] == "argmax" and serving["activation"] == "softmax"
    _, scored = served_and_scored(run_dir, run, "The doctor at the hospital gave the vaccine.",
                                  "en", "health")
    assert abs(scored.scores[0].sum() - 1) < 1e-5


def test_a_log_count_ratio_run_counts_documents_per_output_and_serves_its_ratios(
        tiny_corpus, tiny_data_dir, tmp_path):
    config = task.ExperimentConfig(
        model="linear", dataset="jsonl", langs=("en", "fr"), manual_dir=tiny_corpus,
        data_dir=tiny_data_dir, label_space="shared", wide_buckets=1 << 14,
        wide_log_count_ratio=True, max_sentences=4, max_words=8, batch_size=8, epochs=3,
        steps_per_epoch=6, learning_rate=0.05, seed=1)
    frequencies = task.build_resources(
        config, task.load_examples(config, config.langs, "train")).ngram_frequencies
    # One label per document: its n-grams are counted once, under that label.
    for kind in ("shared", "language"):
        np.testing.assert_array_equal(frequencies[f"{kind}_by_output"].sum(1), frequencies[kind])
    assert np.all(frequencies["shared_by_output"].max(0) > 0)  # every output has documents

    run_dir = str(tmp_path / "run")
    results = training.train(config, run_dir, verbose=0)
    assert np.mean([row["micro_f1"] for row in results["test"].values()]) > 0.8
    run = rundir.load(run_dir)
    wide = run.models.train.get_layer("wide")
    np.testing.assert_allclose(wide.ratio.numpy(), wide_lib.log_count_ratios(
        frequencies["shared_by_output"], frequencies["shared"]))
    np.testing.assert_allclose(wide.language_ratio.numpy(), wide_lib.log_count_ratios(
        frequencies["language_by_output"], frequencies["language"]))
    served_and_scored(run_dir, run, "The doctor at the hospital gave the vaccine.", "en",
                      "health")


def test_a_romanized_run_serves_raw_text_in_another_script_as_its_model_scores_it(
        tiny_corpus, tiny_data_dir, tmp_path):
    """--wide_romanized reaches config.json and the export: the SavedModel romanises inside
    its graph as the input pipeline does."""
    config = task.ExperimentConfig(
        model="linear", dataset="jsonl", langs=("en", "fr"), manual_dir=tiny_corpus,
        data_dir=tiny_data_dir, label_space="shared", wide_romanized=True,
        wide_buckets=1 << 14, batch_size=8, epochs=1, steps_per_epoch=3, learning_rate=0.05,
        seed=1)
    run_dir = str(tmp_path / "run")
    training.train(config, run_dir, verbose=0)
    run = rundir.load(run_dir)
    assert task.input_spec(run.config).ngrams.romanized
    served_and_scored(run_dir, run, "Доктор в больнице дал вакцину.", "en", "health")


def test_a_wide_branch_or_softmax_is_refused_for_a_model_without_one():
    with pytest.raises(ValueError, match="--wide=true: --model=cnn has no wide branch"):
        task.ExperimentConfig(model="cnn", langs=("en",), wide="true")
    with pytest.raises(ValueError, match="--output=softmax: --model=cnn gives sigmoid scores"):
        task.ExperimentConfig(model="cnn", langs=("en",), output="softmax")
    assert task.ExperimentConfig(model="cnn", langs=("en",)).reads_ngrams is False
    for settings in (dict(model="cnn"), dict(model="mhan_att", wide="false"),
                     dict(model="linear", wide_char_ngrams="")):
        with pytest.raises(ValueError, match="--wide_romanized=true: .* reads none"):
            task.ExperimentConfig(langs=("en",), wide_romanized=True, **settings)
    assert task.ExperimentConfig(model="mhan_att", langs=("en",)).reads_ngrams is True
    with pytest.raises(ValueError, match="--wide_buckets"):
        task.ExperimentConfig(model="mhan_att", langs=("en",), wide_buckets=0)


def test_an_unseen_language_is_read_with_every_shared_label_by_evaluation_and_export(
        tiny_corpus, tiny_data_dir, tmp_path):
    """mhan_both with a wide branch and softmax, trained on English alone: French, never seen,
    gets a distribution over every output of the shared space, in evaluate.py's code path and
    in the export, and shared words and n-grams carry over."""
    config = task.ExperimentConfig(
        model="mhan_both", dataset="jsonl", langs=("en",), manual_dir=tiny_corpus,
        data_dir=tiny_data_dir, label_space="shared", vocab="shared", wide="true",
        wide_buckets=1 << 14, embed_dim=8, hidden=8, max_sentences=4,
        max_words=8, batch_size=8, epochs=3, steps_per_epoch=6, learning_rate=0.05, seed=1)
    run_dir = str(tmp_path / "run")
    training.train(config, run_dir, verbose=0)
    run = rundir.load(run_dir)
    assert run.resources.activation == "softmax"
    evaluated = evaluation.evaluate_split(run.config, run.resources, run.models.inspect, "test",
                                          langs=["en", "fr"])
    assert evaluated.unseen == ["fr"] and evaluated.annotated_table()["fr"]["unseen"]
    french = evaluated.scored["fr"]
    assert list(french.output_indices) == [0, 1, 2]          # every output of the shared space
    np.testing.assert_allclose(french.scores.sum(1), 1.0, rtol=1e-5)
    assert evaluated.table["fr"]["micro_f1"] > 0.5            # 3 labels: chance is 1/3

    serve = tf.saved_model.load(os.path.join(run_dir, rundir.EXPORT_DIR, "1")).signatures[
        "serving_default"]
    texts = [text.decode() for text in evaluated.examples["fr"].map(
        lambda example: example["text"]).take(4).as_numpy_iterator()]
    for code in ("fr", "de"):                    # neither is a training language
        served = serve(text=tf.constant(texts), lang=tf.constant([code] * len(texts)))
        np.testing.assert_allclose(served["scores"].numpy(), french.scores[:4], atol=1e-5)
