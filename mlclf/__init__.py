"""mlclf: multilingual document classification with TensorFlow/Keras.

    import mlclf
    classifier = mlclf.load("runs/my-run")      # a trained run's newest export
    classifier.predict(["Kenya wins the football match."], "en")
"""

__version__ = "0.1.0"


def load(path: str):
    """A trained run's exported model, ready to classify text: `mlclf.inference.Classifier`.

    `path` is a run directory (its newest export/<version>/ is loaded) or a SavedModel folder.
    """
    # Imported here, so that `import mlclf` stays light and mlclf's modules can import it.
    from mlclf import inference  # pylint: disable=import-outside-toplevel
    return inference.load(path)
