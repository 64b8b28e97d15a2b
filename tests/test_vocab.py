"""mlclf.vocab: vocabularies, label spaces and subword ids: values, shapes, files, SavedModel."""
import numpy as np
import pytest
import tensorflow as tf

from mlclf import text
from mlclf.labels import LabelSpace
from mlclf.vocab import OOV_ID, PAD_ID, Vocabulary, subword_ids

TOKENS = {"en": "the cat the dog the end a cat".split(),
          "fr": "le chat le chien un chat the".split()}


def test_shared_vocabulary_ids_and_counts():
    vocab = Vocabulary.build(TOKENS, mode="shared")
    # "the" 4 (3 en + 1 fr), "cat" 2, "chat" 2, "le" 2, then singletons alphabetically
    assert [word for _, _, word in vocab.rows()] == [
        "the", "cat", "chat", "le", "a", "chien", "dog", "end", "un"]
    assert vocab.size == 11 and vocab.languages == ("en", "fr")
    assert vocab.counts("en") == {2: 3, 3: 2, 6: 1, 8: 1, 9: 1}
    assert vocab.counts("fr") == {2: 1, 4: 2, 5: 2, 7: 1, 10: 1}
    ids = vocab.lookup(tf.ragged.constant([["the", "cat", "zebra"], [], ["chat", ""]]),
                       tf.constant(["en", "en", "xx"]))
    assert ids.dtype == tf.int32
    assert ids.to_list() == [[2, 3, OOV_ID], [], [4, PAD_ID]]


def test_min_count_and_max_size():
    vocab = Vocabulary.build(TOKENS, mode="shared", min_count=2)
    assert [w for _, _, w in vocab.rows()] == ["the", "cat", "chat", "le"]
    vocab = Vocabulary.build(TOKENS, mode="shared", max_size=2)
    assert vocab.size == 4
    vocab = Vocabulary.build(TOKENS, mode="per_language", max_size=1)
    assert list(vocab.rows()) == [(2, "en", "the"), (3, "fr", "chat")]
    with pytest.raises(ValueError, match="min_count"):
        Vocabulary.build(TOKENS, min_count=0)


def test_per_language_vocabulary_gives_each_language_its_rows():
    vocab = Vocabulary.build(TOKENS, mode="per_language")
    rows = list(vocab.rows())
    assert rows[:3] == [(2, "en", "the"), (3, "en", "cat"), (4, "en", "a")]
    fr_the = [i for i, lang, word in rows if (lang, word) == ("fr", "the")]
    assert len(fr_the) == 1 and fr_the[0] != 2
    hierarchical = tf.ragged.constant([[["the", "cat"], ["the"]], [["the", "chat", "cat"]],
                                       [["the"]]])
    ids = vocab.lookup(hierarchical, tf.constant(["en", "fr", "de"]))
    chat = [i for i, lang, word in rows if (lang, word) == ("fr", "chat")][0]
    assert ids.to_list() == [[[2, 3], [2]], [[fr_the[0], chat, OOV_ID]], [[OOV_ID]]]
    dense = vocab.lookup(tf.constant([["the", ""], ["chat", "cat"]]), tf.constant(["en", "fr"]))
    assert isinstance(dense, tf.Tensor)
    np.testing.assert_array_equal(dense, [[2, PAD_ID], [chat, OOV_ID]])
    dense = vocab.lookup(tf.constant([[["the", ""]], [["chat", "cat"]]]), tf.constant(["en", "fr"]))
    np.testing.assert_array_equal(dense, [[[2, PAD_ID]], [[chat, OOV_ID]]])


def test_vocabulary_accepts_bytes_from_the_tokenizer_and_checks_words():
    words = text.tokenize(tf.constant(["Héllo, wörld! Héllo."]), hierarchical=False)
    vocab = Vocabulary.build({"de": words.flat_values.numpy()})
    assert [w for _, _, w in vocab.rows()] == ["héllo", "wörld"]
    with pytest.raises(ValueError, match="tab"):
        Vocabulary.build({"en": ["a\tb"]})
    with pytest.raises(ValueError, match="language code"):
        Vocabulary.build({"e n": ["a"]})


def test_coverage():
    vocab = Vocabulary.build(TOKENS, mode="per_language", min_count=2)
    coverage = vocab.coverage({"en": ["the", "cat", "dog", "chat"], "fr": [b"le", b"the"],
                               "de": [], "it": ["the"]})
    assert coverage == {"en": 0.5, "fr": 0.5, "de": 0.0, "it": 0.0}


@pytest.mark.parametrize("mode", ["shared", "per_language"])
def test_vocabulary_save_load_round_trip(tmp_path, mode):
    vocab = Vocabulary.build({**TOKENS, "am": ["ሰላም", "ሰላም", "ዓለም"]}, mode=mode, min_count=1,
                             max_size=100)
    vocab.save(str(tmp_path))
    lines = (tmp_path / "vocab.tsv").read_text(encoding="utf-8").split("\n")
    assert len(lines) == vocab.size - 2 + 1 and lines[-1] == ""
    loaded = Vocabulary.load(str(tmp_path))
    assert (loaded.mode, loaded.languages, loaded.size) == (mode, vocab.languages, vocab.size)
    assert list(loaded.rows()) == list(vocab.rows())
    assert all(loaded.counts(lang) == vocab.counts(lang) for lang in vocab.languages)
    words = tf.ragged.constant([["the", "ሰላም", "chat", "zzz"]] * 3)
    langs = tf.constant(["en", "am", "fr"])
    assert loaded.lookup(words, langs).to_list() == vocab.lookup(words, langs).to_list()


def test_vocabulary_load_names_the_bad_line(tmp_path):
    Vocabulary.build(TOKENS).save(str(tmp_path))
    path = tmp_path / "vocab.tsv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[2] = "broken line without counts"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ValueError, match=r"vocab.tsv:3"):
        Vocabulary.load(str(tmp_path))


class _Encoder(tf.Module):
    def __init__(self, vocabulary):
        super().__init__()
        self.vocabulary = vocabulary

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string),
                                  tf.TensorSpec([None], tf.string)])
    def __call__(self, texts, langs):
        words = text.tokenize(texts, hierarchical=False)
        return {"ids": self.vocabulary.lookup(words, langs).to_tensor(),
                "subwords": subword_ids(words, 1000, max_ngrams=4).to_tensor()}


def test_lookup_and_subwords_in_a_saved_model(tmp_path):
    vocab = Vocabulary.build(TOKENS, mode="per_language")
    module = _Encoder(vocab)
    texts = tf.constant(["The cat, the DOG!", "Le chat", ""])
    langs = tf.constant(["en", "fr", "fr"])
    expected = module(texts, langs)
    del vocab
    tf.saved_model.save(module, str(tmp_path / "model"))
    loaded = tf.saved_model.load(str(tmp_path / "model"))
    result = loaded(texts, langs)
    for key in expected:
        np.testing.assert_array_equal(result[key], expected[key])
    assert result["ids"].numpy()[0].tolist() == [2, 3, 2, 5]


def test_subword_ids_values_and_shapes():
    words = tf.ragged.constant([["cat", "a", ""], ["internationalization"]])
    ids = subword_ids(words, num_buckets=50, max_ngrams=6)
    assert ids.shape.as_list() == [2, None, 6] and ids.dtype == tf.int32
    cat, a, pad = ids[0].numpy()
    grams = [b"<ca", b"cat", b"at>", b"<cat", b"cat>", b"<cat>"]
    np.testing.assert_array_equal(cat, tf.strings.to_hash_bucket_fast(grams, 50).numpy() + 1)
    assert a[0] == tf.strings.to_hash_bucket_fast(["<a>"], 50).numpy()[0] + 1
    assert (a[1:] == 0).all() and (pad == 0).all()
    long = ids[1, 0].numpy()
    assert (long >= 1).all() and (long <= 50).all()
    dense = subword_ids(tf.constant([["cat", ""]]), num_buckets=50, max_ngrams=6)
    assert dense.shape == (1, 2, 6)
    np.testing.assert_array_equal(dense[0, 0], cat)
    assert not dense.numpy()[0, 1].any()


def _space(mode):
    return LabelSpace({"en": ["sports", "health", "politics"], "fr": ["sports", "santé"],
                       "sw": ["siasa"]}, mode=mode)


def test_per_language_label_space():
    space = _space("per_language")
    assert space.num_outputs == 6 and space.languages == ["en", "fr", "sw"]
    assert space.output_names == ["sports", "health", "politics", "sports", "santé", "siasa"]
    assert space.output_languages == ["en", "en", "en", "fr", "fr", "sw"]
    np.testing.assert_array_equal(space.mask("fr"), [0, 0, 0, 1, 1, 0])
    assert space.mask("fr").dtype == np.float32
    assert space.encode("fr", ["santé", "sports", "santé"]) == [4, 3]
    assert space.encode("en", []) == []
    assert space.labels("fr") == ["sports", "santé"]
    with pytest.raises(ValueError, match=r"'health'.*'fr'.*\['santé', 'sports'\]"):
        space.encode("fr", ["health"])
    with pytest.raises(ValueError, match="'de'.*'en', 'fr', 'sw'"):
        space.mask("de")


def test_shared_label_space_and_unseen_languages():
    space = _space("shared")
    assert space.output_names == ["sports", "health", "politics", "santé", "siasa"]
    assert space.output_languages == [None] * 5
    np.testing.assert_array_equal(space.mask("fr"), [1, 0, 0, 1, 0])
    np.testing.assert_array_equal(space.mask("de"), [1, 1, 1, 1, 1])
    assert space.encode("fr", ["santé", "sports"]) == [3, 0]
    assert space.encode("de", ["siasa", "health"]) == [4, 1]
    with pytest.raises(ValueError, match="'politics'.*'fr'"):
        space.encode("fr", ["politics"])
    with pytest.raises(ValueError, match="'cooking'.*'de'"):
        space.encode("de", ["cooking"])


def test_shared_label_space_takes_a_global_output_order():
    labels = {"af": ["joy", "anger"], "en": ["joy", "surprise", "anger"]}
    # First appearance would give joy, anger, surprise: not the order asked for.
    space = LabelSpace(labels, mode="shared", output_order=["joy", "surprise", "anger"])
    assert space.output_names == ["joy", "surprise", "anger"]
    assert space.labels("af") == ["joy", "anger"]
    assert space.encode("af", ["anger"]) == [2]
    np.testing.assert_array_equal(space.mask("af"), [1, 0, 1])
    with pytest.raises(ValueError, match="exactly once"):
        LabelSpace(labels, mode="shared", output_order=["joy", "anger"])
    with pytest.raises(ValueError, match="exactly once"):
        LabelSpace(labels, mode="shared", output_order=["joy", "surprise", "anger", "joy"])
    with pytest.raises(ValueError, match="shared label space only"):
        LabelSpace(labels, mode="per_language", output_order=["joy", "surprise", "anger"])


def test_shared_label_space_output_order_survives_save_and_load(tmp_path):
    space = LabelSpace({"af": ["b"], "en": ["a", "b"]}, mode="shared", output_order=["a", "b"])
    space.save(str(tmp_path))
    loaded = LabelSpace.load(str(tmp_path))
    assert loaded.output_names == ["a", "b"]
    np.testing.assert_array_equal(loaded.mask("af"), [0, 1])


@pytest.mark.parametrize("mode", ["shared", "per_language"])
def test_label_space_save_load_round_trip(tmp_path, mode):
    space = LabelSpace({"en": ["b", "a"], "am": ["ስፖርት"], "xx": []}, mode=mode)
    space.save(str(tmp_path))
    loaded = LabelSpace.load(str(tmp_path))
    assert (loaded.mode, loaded.languages, loaded.output_names, loaded.output_languages) == (
        space.mode, space.languages, space.output_names, space.output_languages)
    for lang in space.languages:
        np.testing.assert_array_equal(loaded.mask(lang), space.mask(lang))
    (tmp_path / "labels.tsv").write_text("en\tb\nzz\tq\n", encoding="utf-8")
    with pytest.raises(ValueError, match="labels.tsv:2"):
        LabelSpace.load(str(tmp_path))
