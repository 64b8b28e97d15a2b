"""Builds the jsonl fixtures: Latin, Cyrillic and Devanagari languages mixed in one file per split
(dev.jsonl as validation), default and integer ids, empty label lists, a blank line, an empty
text."""
import tensorflow_datasets as tfds

from mlclf_datasets.jsonl import jsonl_dataset_builder as jsonl

Builder = jsonl.Builder


class JsonlTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = Builder
    SPLITS = {"train": 3, "validation": 2, "test": 2}
    BUILDER_CONFIG_NAMES_TO_TEST = [Builder.config_for(lang) for lang in ("en", "ru", "hi")]

    def test_languages_are_found_in_the_files(self):
        self.assertEqual(Builder.discover_languages(self.dummy_data), ["en", "hi", "ru"])

    def test_fields(self):
        builder = self._make_builder(config=Builder.config_for("en"))
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=self.dummy_data))
        docs = {d["id"].decode(): d for d in tfds.as_numpy(builder.as_dataset(split="train"))}
        self.assertEqual(sorted(docs), ["en-1", "en-3", "train-3"])
        self.assertEqual(list(docs["train-3"]["labels"]), [b"politics", b"economy"])
        self.assertEqual(list(docs["en-3"]["labels"]), [])
        self.assertEqual(docs["en-1"]["text"].decode(),
                         "The match ended in a draw.\nBoth teams scored.")


if __name__ == "__main__":
    tfds.testing.test_main()
