"""MasakhaNEWS: news topic classification in 16 African languages (single label per article)."""
from absl import logging
import tensorflow_datasets as tfds

from mlclf_datasets import _common

_COMMIT = "819be052e79e0a600e0ed4a7356594681cb5c4f3"
_URL = (f"https://raw.githubusercontent.com/masakhane-io/masakhane-news/{_COMMIT}/data/"
        "{lang}/{file}")
LANGUAGES = ("amh", "eng", "fra", "hau", "ibo", "lin", "lug", "orm", "pcm", "run", "sna", "som",
             "swa", "tir", "xho", "yor")
# role -> file names in a language folder, preferred first. Where the full train.tsv is absent
# (6 languages in the shared snapshot) the 50-per-label few-shot sample is the train split.
_FILES = {"train": ("train.tsv", "train_fewshot50.tsv"), "validation": ("dev.tsv",),
          "test": ("test.tsv",), "labels": ("labels.txt",)}
_COLUMNS = ("category", "headline", "text")


class Builder(_common.CorpusBuilder):
    """MasakhaNEWS; text = headline, newline, body (body newlines kept)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release: upstream commit 819be05, one config per language."}
    BUILDER_CONFIGS = [_common.language_config(lang, "MasakhaNEWS") for lang in LANGUAGES]
    HOMEPAGE = "https://github.com/masakhane-io/masakhane-news"
    MANUAL_DOWNLOAD_INSTRUCTIONS = """
    Optional (without it the files are downloaded): a folder with languages/<lang>/ holding
    train.tsv (or train_fewshot50.tsv), dev.tsv, test.tsv and labels.txt, laid out like upstream
    data/<lang>/. Point manual_dir at that folder or at its parent holding masakhanews/.
    """

    def _split_generators(self, dl_manager):
        lang = self.builder_config.name
        files = self.language_files(
            dl_manager, _FILES,
            {role: _URL.format(lang=lang, file=names[0]) for role, names in _FILES.items()})
        if files["train"].name == "train_fewshot50.tsv":
            logging.warning("masakhanews %s: the train split is the few-shot sample %s",
                            lang, files["train"])
        labels = _common.read_label_file(files["labels"])
        return {split: self._generate_examples(files[split], split, labels)
                for split in _common.SPLITS}

    def _generate_examples(self, path, split, labels):
        _, rows = _common.read_table(path, "\t", _COLUMNS)
        docs = ((where, f"{split}-{i}", _join(row["headline"], row["text"]), [row["category"]])
                for i, (where, row) in enumerate(rows, 1))
        return _common.examples(path, self.builder_config.name, docs, labels)


def _join(headline, body):
    """Headline and body as one text, the headline its first line; either may be empty."""
    return "\n".join(part for part in (headline.strip(), body.strip()) if part)
