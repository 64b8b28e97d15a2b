"""Checks of a run's export shared by the test modules: a fresh interpreter that reads it with
TensorFlow alone, and its scores against the Keras model's."""
import os

import numpy as np
import tensorflow as tf

from mlclf import evaluation, rundir

# The start of a script for `python -I -c`: mlclf cannot be imported, so only TensorFlow reads
# the export, as TF Serving would.
WITHOUT_MLCLF = r"""
import importlib.abc, json, sys

class BlockMlclf(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "mlclf":
            raise ImportError("mlclf is blocked in this interpreter")

sys.meta_path.insert(0, BlockMlclf())
"""


def served_and_scored(run_dir, run, text, lang, label):
    """(the outputs of the run's first export for one document of `lang` whose gold label is
    `label`, the LanguageScores of `run`'s Keras model for it), once asserted that the export
    gives the model's scores for the language's outputs."""
    export = os.path.join(run_dir, rundir.EXPORT_DIR, "1")
    serve = tf.saved_model.load(export).signatures["serving_default"]
    served = serve(text=tf.constant([text]), lang=tf.constant([lang]))
    examples = tf.data.Dataset.from_tensor_slices(
        {"text": [text], "lang": [lang], "labels": tf.ragged.constant([[label]])})
    scored = evaluation.score_language(run.models.inspect, examples, lang, run.resources)
    np.testing.assert_allclose(served["scores"].numpy()[0, scored.output_indices],
                               scored.scores[0], atol=1e-5)
    return served, scored
