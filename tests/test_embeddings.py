"""mlclf.embeddings: vector files (text, gzip, safe pickles), embedding matrices, coverage."""
import gzip
import os
import pickle
import unicodedata

import numpy as np
import pytest

from mlclf import embeddings
from mlclf_datasets import safe_pickle
from mlclf.embeddings import Coverage, build_matrix, load_vectors
from mlclf.vocab import Vocabulary

VEC = "3 2\nthe 0.1 0.2 \nCafé -1 2.5e-1\nchat 3 4\n"


def _write(path, content, mode="w"):
    opener = gzip.open if str(path).endswith(".gz") else open
    kwargs = {"encoding": "utf-8"} if mode == "w" else {}
    with opener(path, mode + ("t" if mode == "w" and str(path).endswith(".gz") else ""),
                **kwargs) as f:
        f.write(content)
    return str(path)


@pytest.mark.parametrize("name, content", [
    ("v.vec", VEC), ("v.txt", VEC.split("\n", 1)[1]), ("v.vec.gz", VEC),
    ("crlf.vec", VEC.replace("\n", "\r\n")),
])
def test_load_text_vectors(tmp_path, name, content):
    words, vectors = load_vectors(_write(tmp_path / name, content))
    assert words == ["the", "Café", "chat"]
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, [[0.1, 0.2], [-1, 0.25], [3, 4]])
    words, vectors = load_vectors(str(tmp_path / name), max_words=2)
    assert words == ["the", "Café"] and vectors.shape == (2, 2)


@pytest.mark.parametrize("content, message", [
    ("the 0.1 0.2\ncat 0.3\n", r"bad.vec:2: expected a word and 2 values, got 1"),
    ("2 2\nthe 0.1 0.2\ncat 0.3 x\n", r"bad.vec:3: values are not all numbers"),
    (b"the 0.1\ncat\xff 0.3\n", r"bad.vec:2: not UTF-8"),
    ("5 2\nthe 0.1 0.2\n", r"bad.vec: the header announces 5 vectors, the file has 1"),
    ("", r"bad.vec: no word vectors"),
])
def test_bad_text_files_name_the_file_and_line(tmp_path, content, message):
    path = _write(tmp_path / "bad.vec", content, "wb" if isinstance(content, bytes) else "w")
    with pytest.raises(ValueError, match=message):
        load_vectors(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.vec"):
        load_vectors(str(tmp_path / "nothere.vec"))


def _pickle(path, obj, protocol=4):
    with gzip.open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)
    return str(path)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_load_pickled_vectors(tmp_path, protocol):
    vectors = np.arange(6, dtype=np.float64).reshape(3, 2)
    path = _pickle(tmp_path / "v.pkl.gz", (["the", "Café", "chat"], vectors), protocol)
    words, loaded = load_vectors(path)
    assert words == ["the", "Café", "chat"] and loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, vectors)
    words, _ = load_vectors(_pickle(tmp_path / "b.pkl.gz", ([b"the", "caf\xe9".encode()],
                                                            vectors[:2]), protocol))
    assert words == ["the", "café"]
    words, _ = load_vectors(_pickle(tmp_path / "a.pkl.gz", (np.array(["the", "cat"]),
                                                            vectors[:2]), protocol))
    assert words == ["the", "cat"]


def test_bad_pickles_are_refused(tmp_path):
    with pytest.raises(ValueError, match="expected a \\(words, vectors\\) pair"):
        load_vectors(_pickle(tmp_path / "one.pkl.gz", ["the", "cat", "dog"]))
    with pytest.raises(ValueError, match="a list of words first, got str"):
        load_vectors(_pickle(tmp_path / "str.pkl.gz", ("ab", np.zeros((2, 2)))))
    with pytest.raises(ValueError, match="shape"):
        load_vectors(_pickle(tmp_path / "rows.pkl.gz", (["a", "b"], np.zeros((3, 2)))))

    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    path = _pickle(tmp_path / "evil.pkl.gz", (["a"], Exploit()))
    with pytest.raises(safe_pickle.UnsafePickleError, match="evil.pkl.gz"):
        load_vectors(path)
    assert not marker.exists()


TOKENS = {"en": ["the"] * 5 + ["cat"] * 3 + ["zebra"] * 2, "fr": ["café"] * 4 + ["chat"]}
VECTORS = (["The", "the", unicodedata.normalize("NFD", "Café"), "chat", "cat"],
           np.array([[1, 1], [9, 9], [2, 2], [3, 3], [4, 4]], np.float32))


def _rows(vocab):
    return {(lang, word): i for i, lang, word in vocab.rows()}


def test_per_language_matrix_with_vectors_per_language():
    vocab = Vocabulary.build(TOKENS, mode="per_language")
    en = (["cat", "The"], np.array([[4, 4], [1, 1]], np.float32))
    fr = (["Café", "dog"], np.array([[2, 2], [5, 5]], np.float32))
    matrix, coverage = build_matrix(vocab, {"en": en, "fr": fr, "de": en}, dim=2, seed=3)
    rows = _rows(vocab)
    assert matrix.shape == (vocab.size, 2) and matrix.dtype == np.float32
    np.testing.assert_array_equal(matrix[0], [0, 0])
    np.testing.assert_array_equal(matrix[rows["en", "the"]], [1, 1])
    np.testing.assert_array_equal(matrix[rows["en", "cat"]], [4, 4])
    np.testing.assert_array_equal(matrix[rows["fr", "café"]], [2, 2])
    assert coverage == {"en": Coverage(words=2 / 3, occurrences=0.8),
                        "fr": Coverage(words=0.5, occurrences=0.8)}
    random_rows = [1, rows["en", "zebra"], rows["fr", "chat"]]
    assert np.abs(matrix[random_rows]).max() < 10 and np.all(matrix[random_rows] != 0)
    again, _ = build_matrix(vocab, {"en": en, "fr": fr}, dim=2, seed=3)
    np.testing.assert_array_equal(again, matrix)
    other, _ = build_matrix(vocab, {"en": en, "fr": fr}, dim=2, seed=4)
    assert not np.array_equal(other[random_rows], matrix[random_rows])


def test_shared_matrix_normalises_vector_words_first_one_wins():
    vocab = Vocabulary.build(TOKENS, mode="shared")
    matrix, coverage = build_matrix(vocab, VECTORS, dim=2, seed=0)
    rows = _rows(vocab)
    np.testing.assert_array_equal(matrix[rows[None, "the"]], [1, 1])      # "The" came first
    np.testing.assert_array_equal(matrix[rows[None, "café"]], [2, 2])     # NFD in the file
    np.testing.assert_array_equal(matrix[rows[None, "chat"]], [3, 3])
    assert coverage["en"] == Coverage(words=2 / 3, occurrences=0.8)
    assert coverage["fr"] == Coverage(words=1.0, occurrences=1.0)


def test_shared_vocabulary_with_vectors_per_language_takes_the_language_using_the_word_most():
    vocab = Vocabulary.build({"en": ["the"] * 5 + ["chat"], "fr": ["chat"] * 3 + ["le"] * 2},
                             mode="shared")
    en = (["chat", "le"], np.array([[1, 1], [2, 2]], np.float32))
    fr = (["chat", "the"], np.array([[7, 7], [8, 8]], np.float32))
    matrix, coverage = build_matrix(vocab, {"en": en, "fr": fr}, dim=2)
    rows = _rows(vocab)
    np.testing.assert_array_equal(matrix[rows[None, "chat"]], [7, 7])  # 3 fr uses vs 1 en
    assert not np.array_equal(matrix[rows[None, "the"]], [8, 8])     # no English vector
    assert not np.array_equal(matrix[rows[None, "le"]], [2, 2])      # no French vector
    assert coverage == {"en": Coverage(words=0.5, occurrences=1 / 6),
                        "fr": Coverage(words=0.5, occurrences=0.6)}


def test_dimension_mismatch_is_an_error():
    vocab = Vocabulary.build(TOKENS)
    with pytest.raises(ValueError, match="dimension 2.*300"):
        build_matrix(vocab, VECTORS, dim=300)


def test_nothing_found_still_gives_small_random_rows():
    vocab = Vocabulary.build(TOKENS)
    matrix, coverage = build_matrix(vocab, (["xyz"], np.ones((1, 4), np.float32)), dim=4)
    assert coverage["en"] == Coverage(0.0, 0.0)
    assert 0 < np.abs(matrix[1:]).max() < 0.5 and not matrix[0].any()
    assert embeddings.PAD_ID == 0
