"""mlclf_datasets.safe_pickle: word-vector pickles load; pickles that would run code are refused."""
import gzip
import os
import pickle
import struct

import numpy as np
import pytest

from mlclf_datasets import safe_pickle


def _write(path, data):
    with gzip.open(path, "wb") as f:
        f.write(data)
    return path


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_words_and_vectors_load(tmp_path, protocol):
    words = ["the", "добрый", "مرحبا", "日本"]
    vectors = np.arange(8, dtype=np.float32).reshape(4, 2)
    path = _write(tmp_path / "v.pkl.gz", pickle.dumps((words, vectors), protocol=protocol))
    loaded_words, loaded_vectors = safe_pickle.load_pickle_gz(path)
    assert loaded_words == words
    np.testing.assert_array_equal(loaded_vectors, vectors)


def test_python2_pickle_loads_with_byte_strings(tmp_path):
    """As MHAN's Python 2 toolkit wrote them: UTF-8 `str` words, numpy.core module paths."""
    def short_binstring(b):
        return b"U" + bytes([len(b)]) + b
    raw = np.array([1.5, -2.0], dtype="<f4").tobytes()
    data = (b"\x80\x02(](" + short_binstring("café".encode()) + b"X" + struct.pack("<I", 1)
            + b"be" + b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85"
            + short_binstring(b"b") + b"\x87R(K\x01K\x02\x85cnumpy\ndtype\n"
            + short_binstring(b"f4") + b"K\x00K\x01\x87R(K\x03" + short_binstring(b"<")
            + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89" + short_binstring(raw)
            + b"tbt.")
    words, vectors = safe_pickle.load_pickle_gz(_write(tmp_path / "v.pkl.gz", data))
    assert words == ["café".encode(), "b"]
    np.testing.assert_array_equal(vectors, [1.5, -2.0])


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned > pwned.txt",))


@pytest.mark.parametrize("payload", [
    (["word"], _RunsCode()),
    {"a", "b"},  # a set: harmless, but not among the admitted types
])
def test_anything_else_is_refused_before_it_runs(tmp_path, monkeypatch, payload):
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path / "evil.pkl.gz", pickle.dumps(payload, protocol=2))
    with pytest.raises(safe_pickle.UnsafePickleError, match=r"evil\.pkl\.gz: refusing to load"):
        safe_pickle.load_pickle_gz(path)
    assert not (tmp_path / "pwned.txt").exists()


def test_only_the_latin1_codec_is_admitted(tmp_path):
    data = b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00xX\x06\x00\x00\x00base64\x86R."
    with pytest.raises(safe_pickle.UnsafePickleError, match="base64"):
        safe_pickle.load_pickle_gz(_write(tmp_path / "v.pkl.gz", data))
