"""Strategies: a mirrored step equals a single-device step; two workers train on localhost.

Logical devices must be configured before TensorFlow initialises, so each case runs in its own
Python process. Select these with `pytest -k "multi_worker or mirrored"`. Multi-worker training itself waits
on a custom loop (Keras 3 fit() fails under MultiWorkerMirroredStrategy, keras-team/keras#20585).
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from mlclf import distribute

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_MIRRORED_HAN_STEP = textwrap.dedent("""
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from mlclf import distribute, losses
    from mlclf.models import han

    rng = np.random.default_rng(0)
    word_ids = rng.integers(0, 50, size=(8, 3, 5)).astype("int32")
    features = {"word_ids": word_ids, "lang_id": (np.arange(8) % 2).astype("int32")}
    labels = (rng.random((8, 4)) < 0.5).astype("float32")
    labels[:, :1] = -1  # an output outside every document's label set

    def one_step(strategy):
        keras.utils.set_random_seed(1)
        with strategy.scope():
            model = han.build_model("mhan_att", num_languages=2, vocab_size=50, embed_dim=6,
                                    num_outputs=4, hidden=5, max_sentences=3, max_words=5).train
            model.compile(optimizer=keras.optimizers.SGD(0.5),
                          loss=losses.masked_binary_crossentropy)
        dataset = tf.data.Dataset.from_tensors((features, labels))
        model.fit(dataset, epochs=1, verbose=0)
        return [w.numpy() for w in model.weights]

    single = one_step(tf.distribute.get_strategy())
    mirrored = distribute.make_strategy("mirrored")
    assert mirrored.num_replicas_in_sync == 2, mirrored.num_replicas_in_sync
    double = one_step(mirrored)
    print("max_abs_diff", max(float(np.max(np.abs(a - b))) for a, b in zip(single, double)))
""")


def _run(script, timeout=300, env=None):
    return subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env=env)


def test_mirrored_han_step_matches_single_device_step():
    done = _run(_MIRRORED_HAN_STEP)
    assert done.returncode == 0, done.stderr[-3000:]
    diff = float(done.stdout.split("max_abs_diff")[-1])
    assert diff < 1e-5


def test_chief_is_the_chief_task_or_worker_zero(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert distribute.is_chief()
    cluster = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster,
                                                "task": {"type": "worker", "index": 0}}))
    assert distribute.is_chief()
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster,
                                                "task": {"type": "worker", "index": 1}}))
    assert not distribute.is_chief()


def test_unknown_strategy_and_missing_tf_config_are_clear_errors(monkeypatch):
    with pytest.raises(ValueError, match="choose from"):
        distribute.make_strategy("tpu_pod")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        distribute.make_strategy("multi_worker")


def test_multi_worker_is_refused_with_a_clear_reason(tiny_corpus, tmp_path):
    env = dict(os.environ, TF_CONFIG=json.dumps(
        {"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 0}}))
    done = subprocess.run([sys.executable, "train.py", "--strategy=multi_worker",
                           "--dataset=jsonl", "--langs=en,fr", f"--manual_dir={tiny_corpus}",
                           f"--data_dir={tmp_path / 'tfds'}", f"--run_dir={tmp_path / 'run'}"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "keras-team/keras#20585" in done.stderr and "Traceback" not in done.stderr
