"""TensorBoard projector export: vectors, metadata and config that TensorBoard reads back."""
import os

import numpy as np
from google.protobuf import text_format
from tensorboard.plugins.projector import ProjectorConfig, projector_plugin

from mlclf import evaluation, projector
from mlclf.labels import LabelSpace


def _scored(lang, space, gold, scores):
    outputs = np.flatnonzero(space.mask(lang))
    vectors = np.arange(len(gold) * 3, dtype=np.float32).reshape(len(gold), 3) / 7
    return evaluation.LanguageScores(lang, outputs, np.asarray(scores, np.float32),
                                     np.asarray(gold, np.int8), {"document": vectors})


def test_document_vectors_with_language_and_labels_are_readable_by_tensorboard(tmp_path):
    space = LabelSpace({"en": ["sports", "health"], "am": ["politics", "sports"]},
                       mode="per_language")
    scored = {"en": _scored("en", space, [[1, 0], [1, 1], [0, 0]],
                            [[0.9, 0.1], [0.2, 0.8], [0.3, 0.4]]),
              "am": _scored("am", space, [[0, 1], [1, 0]], [[0.1, 0.7], [0.6, 0.5]])}
    logdir = str(tmp_path / "tensorboard")
    assert projector.write_document_vectors(logdir, scored, space, max_per_language=2) == 4

    config = ProjectorConfig()
    with open(os.path.join(logdir, "projector_config.pbtxt"), encoding="utf-8") as f:
        text_format.Parse(f.read(), config)
    embedding, = config.embeddings
    vectors = projector_plugin._read_tensor_tsv_file(os.path.join(logdir, embedding.tensor_path))
    np.testing.assert_allclose(vectors, np.concatenate([scored["en"].extras["document"][:2],
                                                        scored["am"].extras["document"][:2]]),
                               rtol=1e-5)
    with open(os.path.join(logdir, embedding.metadata_path), encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f]
    assert rows == [["language", "gold", "predicted"], ["en", "sports", "sports"],
                    ["en", "sports,health", "health"], ["am", "sports", "sports"],
                    ["am", "politics", "politics"]]
