"""Keras models, each registered by name (registry.py): the hierarchical attention family
(han.py: nn, hnn, han, mhan_enc, mhan_att, mhan_both), the multi-window CNN (cnn.py) and
the wide branch alone (linear.py).

    from mlclf import models
    spec = models.get(config.model)        # builder, traits, how it trains
    train, inspect = spec.build(config, resources, matrix)

A new model: its own file, and one line below (docs/extending.md).
"""
from mlclf.models import cnn, han, linear
from mlclf.models.registry import Models, ModelSpec, auto_help, get, names, register

register(han.SPECS)
register(cnn.SPECS)
register(linear.SPECS)

__all__ = ["Models", "ModelSpec", "auto_help", "get", "names", "register"]
