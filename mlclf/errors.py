"""The error type for bad corpus input, shared by the TFDS builders and `mlclf.corpora`.

It lives apart from `corpora` so that builders can raise it without importing the module that
imports them.
"""


class CorpusError(ValueError):
    """Corpus input is missing or malformed; the message names the file and line (or the value)."""
