"""The error type for bad corpus input, shared by the TFDS builders and `mlclf.corpora`.

It lives with the builders, which raise it, so that they never import `mlclf`: `mlclf` depends on
`mlclf_datasets`, never the other way round. `mlclf.corpora` re-exports it.
"""


class CorpusError(ValueError):
    """Corpus input is missing or malformed; the message names the file and line (or the value)."""
