"""mlclf: multilingual document classification with TensorFlow/Keras."""

__version__ = "0.1.0"
