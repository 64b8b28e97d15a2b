"""A user's own corpus as CSV or TSV files, one per split, any languages (manual only)."""
import dataclasses

import tensorflow_datasets as tfds

from mlclf_datasets.errors import CorpusError
from mlclf_datasets import _common

# Split -> file names without extension, preferred first; each may be .csv or .tsv.
_FILES = {"train": ("train",), "validation": ("validation", "dev"), "test": ("test",)}
_DELIMITERS = {".csv": ",", ".tsv": "\t"}


@dataclasses.dataclass(eq=False)
class CsvConfig(tfds.core.BuilderConfig):
    """One language, and how the files are read (the builder's OPTIONS, as mlclf's flags)."""
    text_column: str = "text"
    label_column: str = "labels"
    lang_column: str = "lang"
    id_column: str = "id"
    label_separator: str = ""  # "": a cell is one label; else labels joined by it


class Builder(_common.CorpusBuilder):
    """Rows {text, labels, lang, id?}, columns named by the options; one config per language."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = []  # the languages are whatever the files hold
    OPTIONS = ("text_column", "label_column", "lang_column", "id_column", "label_separator")
    MANUAL_DOWNLOAD_INSTRUCTIONS = """
    Required: a folder with train, validation (or dev) and test files, any of them, each .csv
    (comma-separated) or .tsv (tab-separated), with a header row naming the columns: the text,
    the labels (one per cell, or several joined by label_separator; empty: none), the language
    code, and optionally an id (default <split>-<row>). Column names: the text_column,
    label_column, lang_column and id_column options (default text, labels, lang, id).
    """

    @classmethod
    def config_for(cls, lang, options=None):
        super().config_for(lang, options)  # checks the code and the options
        return CsvConfig(name=lang, description=f"csv, language {lang}", **(options or {}))

    @classmethod
    def is_root(cls, path):
        return bool(_split_files(path))

    @classmethod
    def languages_in(cls, root, options=None):
        config = CsvConfig(name="any", **(options or {}))
        return {doc[4] for split, path in _split_files(root).items()
                for doc in _read_rows(path, split, config)}

    @classmethod
    def source_files(cls, root):
        return sorted(path for extension in _DELIMITERS for path in root.glob("*" + extension))

    def _split_generators(self, dl_manager):
        root = self.manual_root(dl_manager)
        if root is None:
            raise CorpusError("csv needs a manual_dir holding: "
                              + " ".join(self.MANUAL_DOWNLOAD_INSTRUCTIONS.split()))
        lang = self.builder_config.name
        splits = {}
        for split, path in _split_files(root).items():
            own = [doc[:4] for doc in _read_rows(path, split, self.builder_config)
                   if doc[4] == lang]
            if own:
                splits[split] = self._generate_examples(path, own)
        if not splits:
            options = {name: getattr(self.builder_config, name) for name in self.OPTIONS}
            raise CorpusError(f"{root}: no documents with {self.builder_config.lang_column} "
                              f"{lang!r}; languages found: "
                              f"{_common.preview(self.languages_in(root, options), limit=100)}")
        return splits

    def _generate_examples(self, path, docs):
        return _common.examples(path, self.builder_config.name, docs)


def _split_files(root):
    """{split: path} of the split files present; two files for one split are an error."""
    files = {}
    for split, stems in _FILES.items():
        found = [root / (stem + extension) for stem in stems for extension in _DELIMITERS
                 if (root / (stem + extension)).is_file()]
        if len(found) > 1:
            raise CorpusError(f"{root}: {' and '.join(p.name for p in found)} are both the "
                              f"{split} split; keep one")
        if found:
            files[split] = found[0]
    return files


def _read_rows(path, split, config):
    """[(location, id, text, labels, lang)] of a split file, read as `config` says."""
    header, rows = _common.read_table(path, _DELIMITERS[path.suffix], ())
    for option in ("text_column", "label_column", "lang_column"):
        if getattr(config, option) not in header:
            raise CorpusError(f"{path}, line 1: no column {getattr(config, option)!r} "
                              f"(--{option}); the header has {', '.join(header)}")
    with_ids = config.id_column in header
    docs = []
    for number, (where, row) in enumerate(rows, 1):
        lang = row[config.lang_column].strip()
        if not _common.LANG_CODE.fullmatch(lang):
            raise CorpusError(f"{path}, {where}: column {config.lang_column!r} must hold a "
                              f"language code (letters, digits, _ and -), found {lang!r}")
        doc_id = row[config.id_column].strip() if with_ids else f"{split}-{number}"
        if not doc_id:
            raise CorpusError(f"{path}, {where}: empty id in column {config.id_column!r}")
        cell = row[config.label_column]
        parts = cell.split(config.label_separator) if config.label_separator else [cell]
        docs.append((where, doc_id, row[config.text_column],
                     [label.strip() for label in parts if label.strip()], lang))
    return docs
