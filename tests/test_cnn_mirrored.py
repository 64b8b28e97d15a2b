"""The NCE train_step under MirroredStrategy equals a single-device step on the same batch.

Logical devices must be configured before TensorFlow initialises, so the check runs in a fresh
Python process: this file, run as a script.
"""
import os
import subprocess
import sys


def test_nce_train_step_mirrored_on_two_devices_matches_one_device():
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([sys.executable, __file__], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "weights match" in result.stdout


def compare_one_step():
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    import keras
    import numpy as np

    from mlclf.models.cnn import CnnClassifier

    classes, num_sampled = 8, 3

    class FixedNegatives(CnnClassifier):
        """Every replica and the single device draw the same negatives."""

        def sample_negatives(self, label_ids):
            def expected_count(ids):  # the log-uniform sampler's, for sampling with replacement
                ids = tf.cast(ids, tf.float32)
                p = tf.math.log((ids + 2) / (ids + 1)) / np.log(classes + 1)
                return p * num_sampled
            sampled = tf.constant([3, 5, 6], tf.int64)
            return sampled, expected_count(label_ids), expected_count(sampled)

    def build():
        model = FixedNegatives(vocab_size=30, num_outputs=classes, embed_dim=4, num_filters=3,
                               windows=(3, 2, (2, 3)), dropout=0.0, num_sampled=num_sampled)
        model.compile(keras.optimizers.SGD(0.5))
        return model

    rng = np.random.default_rng(0)
    word_ids = rng.integers(2, 30, (8, 10)).astype("int32")
    word_ids[:, 7:] = 0
    label_ids = rng.integers(0, classes, (8, 1)).astype("int64")
    batch = tf.data.Dataset.from_tensors((
        {"word_ids": word_ids},
        {"labels": np.eye(classes, dtype="float32")[label_ids[:, 0]], "label_ids": label_ids}))

    keras.utils.set_random_seed(0)
    single = build()
    initial = single.get_weights()
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2
    with strategy.scope():
        mirrored = build()
    mirrored.set_weights(initial)

    single.fit(batch, epochs=1, verbose=0)
    mirrored.fit(batch, epochs=1, verbose=0)
    for before, one, two in zip(initial, single.get_weights(), mirrored.get_weights()):
        np.testing.assert_allclose(two, one, rtol=1e-5, atol=1e-6)
    # Not vacuous: the step is far larger than the tolerance (an unscaled loss would double it).
    step = max(np.abs(one - before).max() for before, one in zip(initial, single.get_weights()))
    assert step > 1e-2
    print("weights match")


if __name__ == "__main__":
    compare_one_step()
