import math

import keras
import numpy as np
import tensorflow as tf

from mlclf.losses import masked_binary_crossentropy


def bce(y, p):
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


def test_matches_hand_computation_and_ignores_negative_targets():
    y_true = np.array([[1, 0, -1, -1], [-1, -1, 0, 1], [-1, -1, -1, -1]], np.float32)
    y_pred = np.array([[0.9, 0.2, 0.7, 0.01], [0.5, 0.5, 0.4, 0.6], [0.3, 0.3, 0.3, 0.3]],
                      np.float32)
    expected = [
        (bce(1, 0.9) + bce(0, 0.2)) / 2,
        (bce(0, 0.4) + bce(1, 0.6)) / 2,
        0.0,  # no valid target: contributes nothing, and no NaN
    ]
    loss = masked_binary_crossentropy(y_true, y_pred).numpy()
    np.testing.assert_allclose(loss, expected, rtol=1e-5)


def test_gradient_is_zero_for_ignored_outputs():
    y_true = tf.constant([[1.0, -1.0], [-1.0, -1.0]])
    y_pred = tf.Variable([[0.6, 0.3], [0.2, 0.9]])
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(masked_binary_crossentropy(y_true, y_pred))
    grad = tape.gradient(loss, y_pred).numpy()
    assert np.all(np.isfinite(grad))
    assert grad[0, 0] != 0
    np.testing.assert_array_equal(grad[0, 1:], 0)
    np.testing.assert_array_equal(grad[1], 0)


def test_is_serialisable_by_name():
    config = keras.saving.serialize_keras_object(masked_binary_crossentropy)
    assert keras.saving.deserialize_keras_object(config) is masked_binary_crossentropy


def test_weighted_loss_weighs_each_outputs_positive_and_negative_targets():
    from mlclf.losses import for_activation
    weights = {"positive": [4.0, 0.5, 2.0], "negative": [0.6, 1.5, 0.7]}
    y_true = np.array([[1, 0, -1], [0, 1, 1]], np.float32)
    y_pred = np.array([[0.7, 0.2, 0.9], [0.4, 0.3, 0.8]], np.float32)
    expected = [(4.0 * bce(1, 0.7) + 1.5 * bce(0, 0.2)) / 2,
                (0.6 * bce(0, 0.4) + 0.5 * bce(1, 0.3) + 2.0 * bce(1, 0.8)) / 3]
    loss = for_activation("sigmoid", weights)(y_true, y_pred).numpy()
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    unweighted = for_activation("sigmoid", {"positive": [1.0] * 3, "negative": [1.0] * 3})
    np.testing.assert_allclose(unweighted(y_true, y_pred),
                               masked_binary_crossentropy(y_true, y_pred), rtol=1e-6)
