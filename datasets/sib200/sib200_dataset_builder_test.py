"""Builds the SIB-200 fixtures: Latin, Han and Ge'ez scripts, CSV-quoted texts, and a download
(Arabic)."""
import tensorflow_datasets as tfds

from mlclf_datasets import testing
from mlclf_datasets.sib200 import sib200_dataset_builder as sib200

Builder = sib200.Builder


class Sib200ManualTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = Builder
    SPLITS = {"train": 3, "validation": 2, "test": 2}
    BUILDER_CONFIG_NAMES_TO_TEST = ["eng_Latn", "zho_Hans", "amh_Ethi"]

    def test_quoted_text_is_unquoted(self):
        builder = self._make_builder(config="zho_Hans")
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=self.dummy_data))
        docs = {d["id"].decode(): d for d in tfds.as_numpy(builder.as_dataset(split="validation"))}
        self.assertEqual(docs["1095"]["text"].decode(), '一项新研究称"糖有害。"')
        self.assertEqual(list(docs["1095"]["labels"]), [b"health"])


class Sib200DownloadTest(testing.MockedDownload, tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = Builder
    EXAMPLE_DIR = Builder.code_path.parent / "dummy_data" / "download"
    DL_DOWNLOAD_RESULT = {"train": "train.tsv", "validation": "dev.tsv", "test": "test.tsv",
                          "labels": "labels.txt"}
    SPLITS = {"train": 3, "validation": 2, "test": 2}
    BUILDER_CONFIG_NAMES_TO_TEST = ["arb_Arab"]


if __name__ == "__main__":
    tfds.testing.test_main()
