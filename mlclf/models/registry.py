"""The model registry: a model's name -> how to build, compile and feed it, and its traits.

The rest of mlclf (task, training, evaluation, export, the commands) asks here and never tests a
model name itself, so a new model is its own file plus one `register` line in
`mlclf/models/__init__.py` (docs/extending.md).

How a model trains is part of its spec, and sees the run's `Resources` as well as its config:
a loss, its targets or the optimizer may depend on the data (say, a single-label corpus).
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Callable, Mapping, NamedTuple

import keras
import tensorflow as tf
from absl import logging

from mlclf import losses, optimizers


class Models(NamedTuple):
    """Two views of the same weights."""
    train: keras.Model    # features -> scores [B, num_outputs]: what fit() trains
    inspect: keras.Model  # features -> {"scores", "document", and attention where there is}


def compile_default(model, config, resources) -> None:
    """The default training: Adam on the loss of the head's scores (losses.for_activation:
    binary cross-entropy of sigmoids, its targets weighted with --label_weights, or categorical
    of a softmax on single-label corpora),
    whole steps XLA-compiled where they can be.

    Keras decides whether the whole step can compile (every layer's `supports_jit`: not with
    data-dependent shapes such as han's word-type level or the wide branch's n-gram bag, nor
    with GRU encoders, whose cuDNN kernels do not compile; not with op determinism enabled) and
    falls back to plain graphs otherwise, a fallback expected here, so not worth a warning.
    Either way Adam's update runs XLA-compiled (optimizers.CompiledAdam), lazily for the
    layers' row-sparse weights (the wide branch's kernels; han's word vectors read by word
    type). XLA stays off under a multi-replica strategy, as with Keras' own jit_compile="auto".
    """
    optimizer = optimizers.adam_for(model, config.learning_rate)
    single_replica = tf.distribute.get_strategy().num_replicas_in_sync == 1
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Model doesn't support `jit_compile=True`")
        loss = losses.for_activation(resources.activation, resources.label_weights)
        model.compile(optimizer=optimizer, loss=loss,
                      jit_compile=single_replica)
    logging.info("XLA compilation %s", "on" if model.jit_compile else "off")


def label_targets(targets, config, resources):
    """The default targets: `labels` [B, num_outputs] (1/0, and -1 outside the document's
    language's label set), what losses.masked_binary_crossentropy takes."""
    del config, resources
    return targets["labels"]


# What "auto" (the default of these ExperimentConfig fields) means for a model that does not say:
# the MHAN paper's per-language label sets over one vocabulary. A model's spec may say otherwise
# (ModelSpec.auto): the CNN paper's system is one category index for all languages.
AUTO = {"label_space": "per_language", "vocab": "shared", "wide": "true"}


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What mlclf needs to know about a model besides its name."""
    # (config, resources, embedding matrix or None) -> Models; the one place that reads the
    # model's settings from an ExperimentConfig and a run's Resources.
    build: Callable[..., Models]
    hierarchical: bool        # reads word_ids [B, K, T] (else flat [B, N])
    multilingual: bool        # trains on several languages at once (else on exactly one)
    language_agnostic: bool   # no per-language part: it can read a language it never saw
    # Its wide branch (models.head): "optional" (--wide decides; models built on models.head),
    # "always" (a model that is one) or "never" (a model with a head of its own).
    wide: str = "never"
    # The scores its head can give (--output): sigmoid; models built on models.head also give
    # softmax over a language's outputs.
    outputs: tuple = ("sigmoid",)
    # (train model, config, resources) -> None: optimizer and loss.
    compile: Callable[..., None] = compile_default
    # Its loss weighs the targets by --label_weights (compile_default's does).
    weighs_targets: bool = True
    # (targets of data.make_dataset, config, resources) -> what the loss takes as y.
    targets: Callable = label_targets
    # The ExperimentConfig fields that only this model reads: its section of the flags (their
    # help says so).
    config_fields: tuple = ()
    # {field: value} that "auto" means for this model where it differs from AUTO.
    auto: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def auto_value(self, field: str) -> str:
        """The value that `--<field>=auto` means for this model."""
        if field == "wide" and self.wide != "optional":
            return "true" if self.wide == "always" else "false"
        return {**AUTO, **self.auto}[field]


_MODELS: dict = {}


def register(specs: Mapping[str, ModelSpec]) -> None:
    """Makes each name's model available to every command; a name is registered once."""
    for name, spec in specs.items():
        if name in _MODELS:
            raise ValueError(f"model {name!r} is registered already")
        _MODELS[name] = spec


def get(name: str) -> ModelSpec:
    try:
        return _MODELS[name]
    except KeyError:
        raise ValueError(f"unknown --model={name!r}; choose from {', '.join(_MODELS)}") from None


def auto_help(field: str) -> str:
    """What "auto" means for `field`, model by model: "per_language for nn, ...; shared for cnn"."""
    by_value: dict = {}
    for name, spec in _MODELS.items():
        by_value.setdefault(spec.auto_value(field), []).append(name)
    return "; ".join(f"{value} for {', '.join(group)}" for value, group in by_value.items())


def names(**traits) -> list:
    """The registered names, in order; with traits, those whose spec has them:
    `names(language_agnostic=True)`."""
    return [name for name, spec in _MODELS.items()
            if all(getattr(spec, trait) == value for trait, value in traits.items())]
