"""Builds the BRIGHTER fixtures: per-language emotion columns (eng has no disgust), neutral rows,
an empty text, Ge'ez script, a language without train (ind) and a download (afr)."""
import tensorflow_datasets as tfds

from mlclf_datasets import testing
from mlclf_datasets.brighter import brighter_dataset_builder as brighter

Builder = brighter.Builder


class BrighterManualTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = Builder
    SPLITS = {"train": 3, "validation": 2, "test": 2}  # eng dev's empty text is skipped
    BUILDER_CONFIG_NAMES_TO_TEST = ["eng", "amh"]

    def test_labels_are_the_columns_set_to_one(self):
        builder = self._make_builder(config="eng")
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=self.dummy_data))
        docs = {d["id"].decode(): d for d in tfds.as_numpy(builder.as_dataset(split="train"))}
        self.assertEqual(list(docs["eng_train_track_a_00001"]["labels"]), [b"fear", b"surprise"])
        self.assertEqual(list(docs["eng_train_track_a_00002"]["labels"]), [])  # neutral
        self.assertEqual(docs["eng_train_track_a_00003"]["text"].decode(),
                         'She said "no way" and laughed.\nThen she left.')


class BrighterWithoutTrainTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = Builder
    SPLITS = {"validation": 2, "test": 2}
    BUILDER_CONFIG_NAMES_TO_TEST = ["ind"]


class BrighterDownloadTest(testing.MockedDownload, tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = Builder
    EXAMPLE_DIR = Builder.code_path.parent / "dummy_data" / "download"
    DL_DOWNLOAD_RESULT = {"train": "train.csv", "validation": "dev.csv", "test": "test.csv"}
    SPLITS = {"train": 3, "validation": 2, "test": 2}
    BUILDER_CONFIG_NAMES_TO_TEST = ["afr"]


if __name__ == "__main__":
    tfds.testing.test_main()
