"""A user's own corpus as JSON lines, one file per split, any languages (manual only)."""
import json

import tensorflow_datasets as tfds

from mlclf_datasets.errors import CorpusError
from mlclf_datasets import _common

_FILES = {"train": ("train.jsonl",), "validation": ("validation.jsonl", "dev.jsonl"),
          "test": ("test.jsonl",)}


class Builder(_common.CorpusBuilder):
    """JSON lines {"text", "labels", "lang", "id"?}; one config per language found in the files."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = []  # the languages are whatever the files hold
    MANUAL_DOWNLOAD_INSTRUCTIONS = """
    Required: a folder with train.jsonl, validation.jsonl (or dev.jsonl) and test.jsonl (any of
    them), one JSON object per line: {"text": "...", "labels": ["..."], "lang": "...", "id": "..."}
    ("id" optional, default <split>-<line>; "labels" may be empty).
    """

    @classmethod
    def is_root(cls, path):
        return any((path / name).is_file() for names in _FILES.values() for name in names)

    @classmethod
    def languages_in(cls, root, options=None):
        return {lang for _, docs in _read_splits(root).values() for *_, lang in docs}

    @classmethod
    def source_files(cls, root):
        return sorted(root.glob("*.jsonl"))

    def _split_generators(self, dl_manager):
        root = self.manual_root(dl_manager)
        if root is None:
            raise CorpusError("jsonl needs a manual_dir holding: "
                              + self.MANUAL_DOWNLOAD_INSTRUCTIONS.strip())
        lang = self.builder_config.name
        splits = {}
        for split, (path, docs) in _read_splits(root).items():
            own = [doc[:4] for doc in docs if doc[4] == lang]
            if own:
                splits[split] = self._generate_examples(path, own)
        if not splits:
            raise CorpusError(f"{root}: no documents with lang {lang!r}; languages found: "
                              f"{_common.preview(self.languages_in(root), limit=100)}")
        return splits

    def _generate_examples(self, path, docs):
        return _common.examples(path, self.builder_config.name, docs)


def _read_splits(root):
    """{split: (path, [(location, id, text, labels, lang)])} for the split files present."""
    if all((root / name).is_file() for name in _FILES["validation"]):
        raise CorpusError(f"{root}: both validation.jsonl and dev.jsonl exist; keep one")
    files = _common.pick_files(root, _FILES, optional=tuple(_FILES))
    return {split: (path, list(_read_jsonl(path, split))) for split, path in files.items()}


def _read_jsonl(path, split):
    for number, line in enumerate(_common.read_text(path).split("\n"), 1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise CorpusError(
                f"{path}, {where}: invalid JSON: {e.msg} (column {e.colno})") from None
        if not isinstance(obj, dict):
            raise CorpusError(f"{path}, {where}: expected a JSON object, found {line[:80]!r}")
        text, labels, lang = obj.get("text"), obj.get("labels"), obj.get("lang")
        doc_id = obj.get("id", f"{split}-{number}")
        if not isinstance(text, str):
            raise CorpusError(f'{path}, {where}: "text" must be a string, found {text!r}')
        if not (isinstance(labels, list)
                and all(isinstance(label, str) and label.strip() for label in labels)):
            raise CorpusError(
                f'{path}, {where}: "labels" must be a list of non-empty strings, found {labels!r}')
        if not (isinstance(lang, str) and _common.LANG_CODE.fullmatch(lang)):
            raise CorpusError(f'{path}, {where}: "lang" must be a language code (letters, digits, '
                              f'_ and -), found {lang!r}')
        if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)):
            raise CorpusError(
                f'{path}, {where}: "id" must be a string or integer, found {doc_id!r}')
        for field, value in (("text", text), ("id", str(doc_id)),
                             *(("labels", label) for label in labels)):
            _check_encodable(path, where, field, value)
        yield where, str(doc_id), text, labels, lang


def _check_encodable(path, where, field, value):
    """JSON can escape half a UTF-16 pair ("\\ud800"); UTF-8, which TFDS stores, cannot hold it."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise CorpusError(
            f'{path}, {where}: "{field}" holds a lone surrogate {value[e.start]!r} (character '
            f'{e.start + 1}), half of a UTF-16 pair that UTF-8 cannot encode; remove it or '
            f'give the whole pair') from None
