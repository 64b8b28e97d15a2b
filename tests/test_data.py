"""tf.data batches: shapes, padding, targets, NCE label ids, balancing and train fractions."""
import os

import numpy as np
import pytest
import tensorflow as tf

from mlclf import data
from mlclf.labels import LabelSpace
from mlclf.vocab import Vocabulary

TEXTS = {"en": ["Goal for the team. The match ended.", "The doctor and the hospital.",
                "Vote in the election", "  "],
         "fr": ["But pour l'équipe.", "Le médecin à l'hôpital. Vaccin.", "Match nul."]}
LABELS = {"en": [["sports"], ["health"], ["politics", "health"], []],
          "fr": [["sports"], ["health"], ["sports"]]}


def _examples(lang):
    texts = TEXTS[lang]
    return tf.data.Dataset.from_tensor_slices({
        "id": [f"{lang}{i}" for i in range(len(texts))], "lang": [lang] * len(texts),
        "text": texts, "labels": tf.ragged.constant(LABELS[lang], dtype=tf.string)})


def _resources(mode="per_language"):
    vocab = Vocabulary.build({"en": "goal for the team match doctor hospital".split(),
                              "fr": "but pour l'équipe match médecin".split()})
    labels = LabelSpace({"en": ["sports", "health", "politics"], "fr": ["sports", "health"]},
                        mode=mode)
    return vocab, labels


def _evaluation_batches(spec, mode="per_language", langs=("en", "fr")):
    vocab, labels = _resources(mode)
    dataset = data.make_dataset({lang: _examples(lang) for lang in langs}, vocab, labels, spec,
                                batch_size=16, training_languages=["en", "fr"], training=False)
    return list(dataset), vocab, labels


def test_hierarchical_batches_are_padded_and_cut_to_k_by_t():
    spec = data.InputSpec(hierarchical=True, max_sentences=2, max_words=3)
    (features, targets), = _evaluation_batches(spec)[0][:1]
    word_ids = features["word_ids"].numpy()
    assert word_ids.shape == (7, 2, 3) and word_ids.dtype == np.int32
    # "Goal for the team. The match ended." -> [goal for the][the match ended(OOV)]
    vocab, _ = _resources()
    goal, the, match = (vocab.lookup(tf.ragged.constant([[w]]), tf.constant(["en"]))
                        .flat_values.numpy()[0] for w in ("goal", "the", "match"))
    assert word_ids[0, 0, 0] == goal and word_ids[0, 0, 2] == the
    assert word_ids[0, 1].tolist() == [the, match, 1]
    assert (word_ids[3] == 0).all()  # whitespace-only text: all padding
    assert features["lang_id"].numpy().tolist() == [0, 0, 0, 0, 1, 1, 1]


def test_flat_batches_have_n_words():
    spec = data.InputSpec(hierarchical=False, max_words=4)
    (features, _), = _evaluation_batches(spec)[0][:1]
    assert features["word_ids"].shape == (7, 4)


def test_targets_are_multi_hot_with_minus_one_outside_the_language_label_set():
    spec = data.InputSpec(max_sentences=2, max_words=3, num_true=3)
    (_, targets), = _evaluation_batches(spec)[0][:1]
    labels = targets["labels"].numpy()
    # outputs: en:sports en:health en:politics fr:sports fr:health (label order may differ)
    _, space = _resources()
    en, fr = space.mask("en").astype(bool), space.mask("fr").astype(bool)
    assert (labels[:4][:, ~en] == -1).all() and (labels[4:][:, ~fr] == -1).all()
    politics_health = space.encode("en", ["politics", "health"])
    assert labels[2, politics_health].tolist() == [1, 1] and labels[2, en].sum() == 2
    assert (labels[3, en] == 0).all()  # no labels: all negatives, not ignored
    ids = targets["label_ids"].numpy()
    assert ids.shape == (7, 3)
    assert sorted(set(ids[2].tolist())) == sorted(politics_health)  # repeated cyclically
    assert ids[2].tolist() == [politics_health[0], politics_health[1], politics_health[0]] \
        or ids[2].tolist() == [politics_health[1], politics_health[0], politics_health[1]]
    assert ids[3].tolist() == [-1, -1, -1]  # no labels: NCE skips it


def test_a_batch_without_any_label_still_encodes():
    vocab, space = _resources()
    targets = data.TargetEncoder(space, ["en"], num_true=2)(
        tf.constant(["en", "en"]), tf.ragged.constant([[], []], dtype=tf.string))
    assert (targets["labels"].numpy()[:, space.mask("en") > 0] == 0).all()
    assert (targets["label_ids"].numpy() == -1).all()


def test_shared_label_space_maps_labels_by_name():
    spec = data.InputSpec(max_sentences=2, max_words=3)
    (_, targets), = _evaluation_batches(spec, mode="shared")[0][:1]
    labels = targets["labels"].numpy()
    assert labels.shape == (7, 3)
    _, space = _resources("shared")
    sports = space.encode("fr", ["sports"])[0]
    assert sports == space.encode("en", ["sports"])[0]
    assert labels[4, sports] == 1 and labels[6, sports] == 1


def test_balanced_training_batches_hold_each_language_equally():
    vocab, space = _resources()
    spec = data.InputSpec(max_sentences=2, max_words=3)
    dataset = data.make_dataset({"en": _examples("en"), "fr": _examples("fr")}, vocab, space,
                                spec, batch_size=6, training_languages=["en", "fr"],
                                training=True, seed=1)
    for features, _ in dataset.take(5):  # fr (3 docs) is cycled to keep up with en (4)
        assert sorted(features["lang_id"].numpy().tolist()) == [0, 0, 0, 1, 1, 1]


def test_train_fraction_is_seeded_and_deterministic():
    examples = tf.data.Dataset.range(100)
    first = list(data.subsample(examples, 0.1, seed=3).as_numpy_iterator())
    again = list(data.subsample(examples, 0.1, seed=3).as_numpy_iterator())
    other = list(data.subsample(examples, 0.1, seed=4).as_numpy_iterator())
    assert len(first) == 10 and first == again and first != other
    assert list(data.subsample(examples, 1.0, seed=3).as_numpy_iterator()) == list(range(100))
    assert len(list(data.subsample(tf.data.Dataset.range(5), 0.01, seed=0))) == 1
    with pytest.raises(ValueError, match="train_fraction"):
        data.subsample(examples, 0.0, seed=0)


def _words(dataset):
    def as_list(words):  # one document's words: ragged [K, (T)] by sentence, or flat [N]
        return words.to_list() if isinstance(words, tf.RaggedTensor) else words.numpy().tolist()

    return [(ex["id"].numpy(), as_list(ex["words"])) for ex in dataset]


def test_token_cache_keeps_order_and_is_read_back_instead_of_tokenising_again(tmp_path):
    path = str(tmp_path / "cache" / "train")
    first = data.cache_tokens(_examples("en"), True, path)
    expected = _words(data.tokenize_examples(_examples("en"), True))
    assert _words(first) == expected
    assert expected[0][1] == [[b"goal", b"for", b"the", b"team"], [b"the", b"match", b"ended"]]
    # A second call with other documents returns the saved words: the cache, not a new pass.
    assert _words(data.cache_tokens(_examples("fr"), True, path)) == expected
    assert sorted(os.listdir(tmp_path / "cache")) == ["train"]  # no staging folder left behind


def test_token_cache_falls_back_to_tokenising_where_it_cannot_write(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    tokens = data.cache_tokens(_examples("fr"), False, str(blocker / "train"))
    assert _words(tokens)[1] == (b"fr1", [b"le", b"m\xc3\xa9decin", b"\xc3\xa0", b"l'h\xc3\xb4pital",
                                         b"vaccin"])


def test_batches_from_cached_words_equal_batches_from_raw_text(tmp_path):
    spec = data.InputSpec(hierarchical=True, max_sentences=2, max_words=3)
    vocab, labels = _resources()
    cached = {lang: data.cache_tokens(_examples(lang), True, str(tmp_path / lang))
              for lang in ("en", "fr")}
    raw = {lang: _examples(lang) for lang in ("en", "fr")}
    batches = [list(data.make_dataset(examples, vocab, labels, spec, batch_size=16,
                                      training_languages=["en", "fr"], training=False))
               for examples in (cached, raw)]
    (features, targets), = batches[0]
    (raw_features, raw_targets), = batches[1]
    np.testing.assert_array_equal(features["word_ids"], raw_features["word_ids"])
    np.testing.assert_array_equal(targets["labels"], raw_targets["labels"])


def test_ngram_bags_are_saved_once_and_read_back_as_computed_from_the_words(tmp_path,
                                                                             monkeypatch):
    from mlclf import ngrams

    spec = ngrams.NgramSpec(buckets=1 << 12)
    words = data.tokenize_examples(_examples("en"), True)
    path = str(tmp_path / "bags" / "train")
    cached = list(data.cache_ngram_bags(words, spec, path))
    assert [ex["id"].numpy() for ex in cached] == [b"en0", b"en1", b"en2", b"en3"]
    for example in cached:
        ids, counts = ngrams.ngram_bag(tf.expand_dims(example["words"], 0), spec)
        np.testing.assert_array_equal(example["ngram_ids"], ids.flat_values)
        np.testing.assert_array_equal(example["ngram_counts"], counts.flat_values)
    assert cached[3]["ngram_ids"].shape == (0,)          # a document without words
    assert sorted(os.listdir(tmp_path / "bags")) == ["train"]  # no staging folder left

    def no_hashing(*args):
        raise AssertionError("the saved bags should be read, not computed again")

    monkeypatch.setattr(ngrams, "ngram_bag", no_hashing)
    again = list(data.cache_ngram_bags(words, spec, path))
    for first, second in zip(cached, again):
        np.testing.assert_array_equal(first["ngram_ids"], second["ngram_ids"])


def test_batches_from_saved_ngram_bags_equal_batches_from_raw_text(tmp_path):
    from mlclf import ngrams

    spec = data.InputSpec(hierarchical=True, max_sentences=2, max_words=3,
                          ngrams=ngrams.NgramSpec(buckets=1 << 12))
    vocab, labels = _resources()
    bagged = {lang: data.cache_ngram_bags(data.tokenize_examples(_examples(lang), True),
                                          spec.ngrams, str(tmp_path / lang))
              for lang in ("en", "fr")}
    raw = {lang: _examples(lang) for lang in ("en", "fr")}
    (features, targets), = data.make_dataset(bagged, vocab, labels, spec, batch_size=16,
                                             training_languages=["en", "fr"], training=False)
    (raw_features, raw_targets), = data.make_dataset(raw, vocab, labels, spec, batch_size=16,
                                                     training_languages=["en", "fr"],
                                                     training=False)
    assert sorted(features) == sorted(raw_features)
    for name in features:
        np.testing.assert_array_equal(features[name], raw_features[name])
    assert features["ngram_ids"].shape[0] == 7 and np.count_nonzero(features["ngram_ids"]) > 50
    np.testing.assert_array_equal(targets["labels"], raw_targets["labels"])
