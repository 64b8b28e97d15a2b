"""Losses for multilingual multi-label classification.

All languages share one output index (see docs/architecture.md, "Batches"): a document only has
targets for its own language's outputs, the others are marked -1 and must not be trained on.
"""
import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="mlclf")
def masked_binary_crossentropy(y_true, y_pred, positive_weight=1.0, negative_weight=1.0):
    """Binary cross-entropy of sigmoid scores, ignoring targets < 0.

    y_true: float `[B, L]`, 1/0 for the document's outputs, -1 elsewhere; y_pred: probabilities
    `[B, L]`; each output's positive and negative targets weighted by `positive_weight` and
    `negative_weight` (scalars or `[L]`). Returns the per-document loss `[B]`: the mean over
    that document's valid outputs, or 0 for a document without any (so Keras' batch mean and
    `sample_weight` apply as usual).
    """
    y_true = tf.convert_to_tensor(y_true)
    y_pred = tf.convert_to_tensor(y_pred)
    y_true = tf.cast(y_true, y_pred.dtype)
    valid = tf.cast(y_true >= 0, y_pred.dtype)
    eps = keras.config.epsilon()
    p = tf.clip_by_value(y_pred, eps, 1.0 - eps)
    bce = -(tf.cast(positive_weight, p.dtype) * y_true * tf.math.log(p)
            + tf.cast(negative_weight, p.dtype) * (1.0 - y_true) * tf.math.log(1.0 - p)) * valid
    return tf.math.divide_no_nan(tf.reduce_sum(bce, axis=-1), tf.reduce_sum(valid, axis=-1))


def weighted_binary_crossentropy(label_weights: dict):
    """masked_binary_crossentropy with each output's targets weighted by `label_weights`
    ({"positive": [L], "negative": [L]}, task.Resources.label_weights)."""
    positive = tf.constant(label_weights["positive"], tf.float32)
    negative = tf.constant(label_weights["negative"], tf.float32)

    def loss(y_true, y_pred):
        return masked_binary_crossentropy(y_true, y_pred, positive, negative)
    return loss


@keras.saving.register_keras_serializable(package="mlclf")
def masked_categorical_crossentropy(y_true, y_pred):
    """Cross-entropy of softmax scores (a distribution over the document's language's outputs)
    with the document's label(s): -log p(label), averaged over its labels; targets < 0 are
    outside the language and carry no score. A document without a label gives 0.

    y_true: float `[B, L]`, 1/0 for the document's outputs, -1 elsewhere; y_pred: `[B, L]`
    probabilities, 0 outside the language. Returns the per-document loss `[B]`.
    """
    y_pred = tf.convert_to_tensor(y_pred)
    positive = tf.cast(tf.convert_to_tensor(y_true) > 0, y_pred.dtype)
    log_p = tf.math.log(tf.clip_by_value(y_pred, keras.config.epsilon(), 1.0))
    return tf.math.divide_no_nan(-tf.reduce_sum(positive * log_p, axis=-1),
                                 tf.reduce_sum(positive, axis=-1))


def for_activation(activation: str, label_weights=None):
    """The loss of a head's scores: sigmoid -> binary (weighted by `label_weights` when given),
    softmax -> categorical cross-entropy."""
    if activation == "sigmoid" and label_weights is not None:
        return weighted_binary_crossentropy(label_weights)
    return {"sigmoid": masked_binary_crossentropy,
            "softmax": masked_categorical_crossentropy}[activation]
