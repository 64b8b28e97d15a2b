"""Builds the csv fixtures: two languages mixed in one file per split, a comma-separated train
file with a quoted multi-line text, an extra column, an empty text and an empty label cell, a
tab-separated dev file (the validation split), a test file without ids; and the options."""
import pathlib
import shutil
import tempfile

import tensorflow_datasets as tfds

from mlclf_datasets.csv import csv_dataset_builder as csv_builder
from mlclf_datasets.errors import CorpusError

Builder = csv_builder.Builder


class CsvTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = Builder
    SPLITS = {"train": 2, "validation": 1, "test": 1}
    BUILDER_CONFIG_NAMES_TO_TEST = [Builder.config_for(lang) for lang in ("en", "sw")]

    def _documents(self, manual_dir, lang, split, **options):
        builder = self._make_builder(config=Builder.config_for(lang, options))
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=manual_dir))
        return {d["id"].decode(): d for d in tfds.as_numpy(builder.as_dataset(split=split))}

    def test_languages_are_found_in_the_files(self):
        self.assertEqual(Builder.discover_languages(self.dummy_data), ["en", "sw"])

    def test_fields(self):
        docs = self._documents(self.dummy_data, "sw", "train")
        self.assertEqual(sorted(docs), ["sw-1", "sw-2"])
        self.assertEqual(list(docs["sw-1"]["labels"]), [b"sports"])
        self.assertEqual(list(docs["sw-2"]["labels"]), [])
        docs = self._documents(self.dummy_data, "en", "train")
        self.assertEqual(docs["en-1"]["text"].decode(),
                         "The match ended in a draw.\nBoth teams scored.")
        self.assertEqual(list(self._documents(self.dummy_data, "en", "test")), ["test-1"])

    def test_options_name_the_columns_and_split_labels(self):
        root = pathlib.Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, root)
        (root / "train.tsv").write_text("body\ttopics\tlanguage\nA goal and a vote.\t"
                                        "sports; politics\ten\nRain.\t\ten\n")
        options = dict(text_column="body", label_column="topics", lang_column="language",
                       label_separator=";")
        docs = self._documents(str(root), "en", "train", **options)
        self.assertEqual(list(docs["train-1"]["labels"]), [b"sports", b"politics"])
        self.assertEqual(list(docs["train-2"]["labels"]), [])
        with self.assertRaisesRegex(CorpusError, r"train\.tsv, line 1: no column 'text' "
                                                 r"\(--text_column\); the header has body"):
            Builder.discover_languages(str(root))
        with self.assertRaisesRegex(CorpusError, "--label_separatr: not an option of the csv"):
            Builder.config_for("en", {"label_separatr": ";"})


if __name__ == "__main__":
    tfds.testing.test_main()
