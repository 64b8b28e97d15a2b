"""BRIGHTER (SemEval-2025 Task 11, track A): multi-label emotion detection in 32 languages."""
import tensorflow_datasets as tfds

from mlclf_datasets.errors import CorpusError
from mlclf_datasets import _common

_COMMIT = "513a7e8bef7ef6370ac416ced97efba338c47c97"
_URL = (f"https://raw.githubusercontent.com/emotion-analysis-project/SemEval2025-Task11/{_COMMIT}/"
        "task-dataset/semeval-2025-task11-dataset/{track}/{split}/{lang}.csv")
TRACK_A = ("afr", "amh", "arq", "ary", "chn", "deu", "eng", "esp", "hau", "hin", "ibo", "kin",
           "mar", "orm", "pcm", "ptbr", "ptmz", "ron", "rus", "som", "sun", "swa", "swe", "tat",
           "tir", "ukr", "vmw", "yor")
# Cross-lingual-only languages: no train data; dev and test come from track C.
TRACK_C_ONLY = ("ind", "jav", "xho", "zul")
_FILES = {"train": ("train.csv",), "validation": ("dev.csv",), "test": ("test.csv",)}
_UPSTREAM_SPLIT = {"train": "train", "validation": "dev", "test": "test"}


class Builder(_common.CorpusBuilder):
    """BRIGHTER; labels are the emotion columns set to 1 (none: neutral, empty list)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release: upstream commit 513a7e8, one config per language."}
    BUILDER_CONFIGS = [_common.language_config(lang, "BRIGHTER")
                       for lang in sorted(TRACK_A + TRACK_C_ONLY)]
    HOMEPAGE = "https://github.com/emotion-analysis-project/SemEval2025-Task11"
    MANUAL_DOWNLOAD_INSTRUCTIONS = """
    Optional (without it the files are downloaded): a folder with languages/<lang>/ holding
    train.csv (absent for ind, jav, xho, zul), dev.csv and test.csv: upstream
    track_a/<split>/<lang>.csv. Point manual_dir at that folder or at its parent holding brighter/.
    """

    def _split_generators(self, dl_manager):
        lang = self.builder_config.name
        files = self.language_files(
            dl_manager, _FILES, {split: _url(lang, split) for split in _splits_of(lang)},
            optional=("train",))
        split_rows = {split: _common.read_table(path, ",", ("id", "text"))
                      for split, path in files.items()}
        label_sets = {tuple(header[2:]) for header, _ in split_rows.values()}
        if len(label_sets) > 1:
            raise CorpusError(f"brighter {lang}: the splits' emotion columns differ: "
                              f"{sorted(label_sets)} in {sorted(map(str, files.values()))}")
        return {split: self._generate_examples(files[split], *split_rows[split])
                for split in files}

    def _generate_examples(self, path, header, rows):
        emotions = header[2:]
        docs = ((where, row["id"].strip(), row["text"],
                 [e for e in emotions if _flag(path, where, e, row[e])])
                for where, row in rows)
        return _common.examples(path, self.builder_config.name, docs)


def _splits_of(lang):
    return _common.SPLITS[1:] if lang in TRACK_C_ONLY else _common.SPLITS


def _url(lang, split):
    # Upstream track A's eng test has empty label cells; track C's holds the same texts labelled.
    track_c = lang in TRACK_C_ONLY or (lang, split) == ("eng", "test")
    return _URL.format(track="track_c" if track_c else "track_a", split=_UPSTREAM_SPLIT[split],
                       lang=lang)


def _flag(path, where, emotion, value):
    """A 0/1 emotion cell as a bool."""
    if value.strip() not in ("0", "1"):
        raise CorpusError(f"{path}, {where}: column {emotion!r} must be 0 or 1, found {value!r}")
    return value.strip() == "1"
