"""Keras models: hierarchical attention family (han.py) and multi-window CNN (cnn.py)."""
