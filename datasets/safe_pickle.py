"""Load gzip pickles (MHAN-style word vectors) without running code.

A pickle can call any importable function while loading. Word-vector files are `(words, vectors)`
pairs, so only containers, strings and numpy arrays are admitted; anything else is refused before
it is called.
"""
import gzip
import os
import pickle
import zlib

import numpy as np

# The globals a numpy array (and its dtype) needs, under the module names numpy 1.x, numpy 2.x and
# Python 2 pickles use. Nothing else is ever looked up.
_NUMPY_GLOBALS = {
    (module, name)
    for module in ("numpy.core.multiarray", "numpy._core.multiarray")
    for name in ("_reconstruct",)
} | {
    (module, name)
    for module in ("numpy.core.numeric", "numpy._core.numeric")
    for name in ("_frombuffer",)
} | {("numpy", "ndarray"), ("numpy", "dtype")}


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """The pickle references something other than lists, tuples, strings and numpy arrays (a
    ValueError, as bad input is throughout)."""


def _latin1_encode(text, encoding="latin1"):
    """`_codecs.encode` as protocol-2 pickles use it for bytes; only the latin-1 codec."""
    if encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError(f"refusing _codecs.encode with codec {encoding!r}")
    return text.encode("latin1")


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _NUMPY_GLOBALS:
            return getattr(_numpy_module(module), name)
        if (module, name) == ("_codecs", "encode"):
            return _latin1_encode
        raise UnsafePickleError(
            f"refusing to load {module}.{name}: only lists, tuples, strings and numpy arrays are "
            "allowed in word-vector pickles")


def _numpy_module(module):
    """This numpy's module for a pickled numpy module name (numpy.core is now numpy._core)."""
    if module == "numpy":
        return np
    submodule = module.rsplit(".", 1)[1]
    core = getattr(np, "_core", None) or np.core
    return getattr(core, submodule)


def load_pickle_gz(path):
    """Unpickles a gzip file, admitting only lists, tuples, strings (and bytes) and numpy arrays.

    Python 2 `str` objects come back as `bytes` (their encoding is unknown to the pickle); callers
    decode them. Raises `UnsafePickleError` naming the file when anything else is referenced.
    """
    path = os.fspath(path)
    with gzip.open(path, "rb") as f:
        try:
            return _RestrictedUnpickler(f, encoding="bytes").load()
        except UnsafePickleError as e:
            raise UnsafePickleError(f"{path}: {e}") from None
        except (EOFError, gzip.BadGzipFile, zlib.error, pickle.UnpicklingError) as e:
            raise ValueError(f"{path}: not a complete gzip pickle, cut short or damaged ({e}); "
                             f"download or write it again") from None
