"""TFDS builders for mlclf, importable as `mlclf_datasets` (see setup.py)."""
