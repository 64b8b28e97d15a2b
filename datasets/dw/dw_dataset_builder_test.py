"""Builds the DW fixtures, written in the MHAN crawler's format: english (Y_ids as indices into
label_ids, word vectors in word_vectors/, a Python 3 pickle, an empty document) and arabic (Y_ids
as label word ids as fetch_data.py writes them, vectors beside the splits, a Python 2 pickle)."""
import tensorflow_datasets as tfds

from mlclf_datasets.dw import dw_dataset_builder as dw

Builder = dw.Builder


class DwTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = Builder
    SPLITS = {"train": 3, "validation": 2, "test": 2}
    BUILDER_CONFIG_NAMES_TO_TEST = ["english", "arabic"]

    def _docs(self, lang, split):
        builder = self._make_builder(config=lang)
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=self.dummy_data))
        return {d["id"].decode(): d for d in tfds.as_numpy(builder.as_dataset(split=split))}

    def test_ids_decode_to_sentences_and_labels(self):
        doc = self._docs("english", "train")["train-0"]
        self.assertEqual(doc["text"].decode(), "the election was held today .\nelection was held")
        self.assertEqual(list(doc["labels"]), [b"politics", b"europe"])
        self.assertEqual(list(self._docs("english", "train")["train-1"]["labels"]),
                         [b"sports", b"world_cup"])

    def test_python2_pickle_and_word_id_labels(self):
        doc = self._docs("arabic", "test")["test-1"]
        self.assertEqual(doc["text"].decode(), "كأس العالم في ألمانيا")
        self.assertEqual([label.decode() for label in doc["labels"]], ["كأس_العالم", "رياضة"])


if __name__ == "__main__":
    tfds.testing.test_main()
