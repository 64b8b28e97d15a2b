"""Builds the MasakhaNEWS fixtures: a manual dir (Ge'ez and Latin scripts, a few-shot train file,
quoted multi-line bodies, an empty text, a language outside the upstream list) and a download."""
import tensorflow_datasets as tfds

from mlclf_datasets import testing
from mlclf_datasets.masakhanews import masakhanews_dataset_builder as masakhanews

Builder = masakhanews.Builder


class MasakhanewsManualTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = Builder
    # eng dev has a third row with an empty text: skipped.
    SPLITS = {"train": 3, "validation": 2, "test": 2}
    BUILDER_CONFIG_NAMES_TO_TEST = ["amh", "eng", Builder.config_for("kin")]

    def test_text_is_headline_then_body_with_its_newlines(self):
        builder = self._make_builder(config="eng")
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=self.dummy_data))
        docs = {d["id"].decode(): d for d in tfds.as_numpy(builder.as_dataset(split="train"))}
        self.assertEqual(
            docs["train-1"]["text"].decode(),
            "Rising rents squeeze corner shops\n"
            'Shop owners say they feel "stuck" as rents climb.\n'
            "The bakery on Mill Road closed last week.\n"
            '"Do I raise prices or lose customers?" one owner asked.')
        self.assertEqual(list(docs["train-1"]["labels"]), [b"business"])
        self.assertEqual(docs["train-1"]["lang"], b"eng")


class MasakhanewsDownloadTest(testing.MockedDownload, tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = Builder
    EXAMPLE_DIR = Builder.code_path.parent / "dummy_data" / "download"
    DL_DOWNLOAD_RESULT = {"train": "train.tsv", "validation": "dev.tsv", "test": "test.tsv",
                          "labels": "labels.txt"}
    SPLITS = {"train": 3, "validation": 2, "test": 2}
    BUILDER_CONFIG_NAMES_TO_TEST = ["yor"]


if __name__ == "__main__":
    tfds.testing.test_main()
