"""What every model ends with: a document vector (and the wide branch's n-gram bag) -> logits
over the global output index -> scores.

`sigmoid`: an independent probability per output (multi-label corpora; the MHAN paper's head).
`softmax`: one distribution over the document's language's own outputs (single-label corpora),
0 elsewhere; a language the model never trained on (lang_id -1) gets every output. Which one a
run uses is decided from its training data (`task.Resources.activation`), and so is the
decision rule that goes with it (a threshold, or the best label).

With a wide branch (`models.wide.NgramLinear`) the logits are the sum of the document vector's
and the n-gram bag's.
"""
from __future__ import annotations

import dataclasses
from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from mlclf.models import wide as wide_lib
from mlclf.models.layers import register

ACTIVATIONS = ("sigmoid", "softmax")


@dataclasses.dataclass(frozen=True)
class HeadSpec:
    """The output head of a model; the default is the MHAN paper's (sigmoid, no wide branch)."""

    num_outputs: int
    activation: str = "sigmoid"
    # [M + 1, num_outputs] for softmax: training language m's outputs, then every output.
    masks: Optional[np.ndarray] = None
    wide_buckets: int = 0                 # 0: no wide branch
    wide_languages: int = 0               # language copies of the n-gram features (0: none)
    wide_gain: float = 1.0                # the wide logits' scale (NgramLinear's gain)
    unseen_wide_alone: bool = False       # lang_id -1 reads the wide branch alone
    wide_shared_weight: float = 1.0       # NgramLinear's shared_weight
    wide_log_count_ratio: bool = False    # NgramLinear's log_count_ratio
    # `task.ngram_frequencies` of the training split: the wide branch's idf (None when the
    # weights will be loaded instead).
    wide_frequencies: Optional[dict] = dataclasses.field(default=None, compare=False)


def language_masks(label_space, languages) -> np.ndarray:
    """float32 [M + 1, outputs]: row m the outputs of training language m, the last row every
    output (a language never trained on, in a shared label space)."""
    return np.stack([label_space.mask(lang) for lang in languages]
                    + [np.ones(label_space.num_outputs, np.float32)])


def wide_inputs() -> dict:
    """The n-gram bag of `data.encode_words` as keras.Inputs."""
    return {"ngram_ids": keras.Input((None,), dtype="int32", name="ngram_ids"),
            "ngram_counts": keras.Input((None,), dtype="float32", name="ngram_counts")}


def scores(document, inputs: dict, head: HeadSpec, with_logits: bool = False):
    """The scores [B, num_outputs] of `document` vectors (a KerasTensor, or None for the wide
    branch alone) and, with a wide branch, of `inputs`' n-gram bags; with `with_logits`, the
    logits too."""
    parts = []
    if document is not None:
        parts.append(keras.layers.Dense(head.num_outputs, name="logits",
                                        dtype="float32")(document))  # float32, mixed precision
        if head.wide_buckets and head.unseen_wide_alone:
            parts[0] = TrainedLanguagesOnly(name="deep_logits")(parts[0], inputs["lang_id"])
    if head.wide_buckets:
        wide = wide_lib.NgramLinear(head.num_outputs, head.wide_buckets, head.wide_languages,
                                    gain=head.wide_gain, shared_weight=head.wide_shared_weight,
                                    log_count_ratio=head.wide_log_count_ratio, name="wide")
        parts.append(wide(inputs["ngram_ids"], inputs["ngram_counts"], inputs["lang_id"]))
        if head.wide_frequencies is not None:
            wide.set_idf(head.wide_frequencies)
    logits = (parts[0] if len(parts) == 1
              else keras.layers.Add(name="logits_sum", dtype="float32")(parts))
    result = OutputScores(head.activation, head.masks, name="scores")(logits, inputs["lang_id"])
    return (result, logits) if with_logits else result


@register
class TrainedLanguagesOnly(keras.layers.Layer):
    """(logits [B, outputs], lang_id [B]) -> the deep part's logits, 0 for documents in a
    language never trained on (lang_id -1), which the wide branch scores alone
    (`--unseen_reads=wide`)."""

    def call(self, logits, lang_id):
        known = tf.cast(tf.cast(lang_id, tf.int32) >= 0, logits.dtype)
        return logits * known[:, None]


@register
class OutputScores(keras.layers.Layer):
    """(logits [B, outputs], lang_id [B]) -> float32 scores [B, outputs]."""

    def __init__(self, activation, masks=None, **kwargs):
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        if activation not in ACTIVATIONS:
            raise ValueError(f"output activation must be one of {ACTIVATIONS}, got {activation!r}")
        if activation == "softmax" and masks is None:
            raise ValueError("a softmax head needs the languages' output masks")
        self.activation = activation
        self.masks = None if masks is None else np.asarray(masks, np.float32).tolist()

    def call(self, logits, lang_id):
        logits = tf.cast(logits, tf.float32)
        if self.activation == "sigmoid":
            return tf.sigmoid(logits)
        masks = tf.constant(self.masks, tf.float32)
        lang_id = tf.cast(lang_id, tf.int32)
        own = tf.gather(masks, tf.where(lang_id < 0, len(self.masks) - 1, lang_id)) > 0
        return tf.where(own, tf.nn.softmax(tf.where(own, logits, -1e9), axis=-1), 0.0)

    def get_config(self):
        return {**super().get_config(), "activation": self.activation, "masks": self.masks}


def for_run(config, resources) -> HeadSpec:
    """The head a run's config and training data call for (what a model's `build` passes on)."""
    label_space = resources.label_space
    return HeadSpec(
        num_outputs=label_space.num_outputs, activation=resources.activation,
        masks=(language_masks(label_space, resources.languages)
               if resources.activation == "softmax" else None),
        wide_buckets=config.wide_buckets if config.reads_ngrams else 0,
        wide_languages=len(resources.languages) if resources.wide_language_copies else 0,
        wide_gain=config.wide_learning_rate / config.learning_rate,
        unseen_wide_alone=config.unseen_reads == "wide",
        wide_shared_weight=config.wide_shared_weight,
        wide_log_count_ratio=config.wide_log_count_ratio,
        wide_frequencies=resources.ngram_frequencies)
