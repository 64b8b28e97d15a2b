"""Strategies: a mirrored step equals a single-device step; two workers train on localhost.

Logical devices and multi-worker collectives must be configured before TensorFlow initialises,
so each case runs in its own Python processes. Select these with
`pytest -k "multi_worker or mirrored"`.
"""
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import time

import pytest
import tensorflow as tf

from mlclf import distribute, rundir

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


def _two_workers(argv, tmp_path, timeout=240):
    """Runs argv(index) as workers 0 (the chief) and 1 of a cluster on 127.0.0.1; returns
    [(exit status, output)] of both. Output goes to files: a full pipe would stall one worker
    and, through the collectives, the other."""
    sockets = [socket.socket() for _ in range(2)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    cluster = {"worker": [f"127.0.0.1:{sock.getsockname()[1]}" for sock in sockets]}
    for sock in sockets:
        sock.close()
    logs, processes = [], []
    for index in range(2):
        env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2",
                   TF_CONFIG=json.dumps({"cluster": cluster,
                                         "task": {"type": "worker", "index": index}}))
        logs.append(tmp_path / f"worker{index}.log")
        with open(logs[-1], "w") as log:
            processes.append(subprocess.Popen(argv(index), cwd=REPO, env=env, stdout=log,
                                              stderr=subprocess.STDOUT))
    deadline = time.monotonic() + timeout
    try:
        for process in processes:
            process.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        for process in processes:
            process.kill()
            process.wait()
    return [(process.returncode, log.read_text()) for process, log in zip(processes, logs)]


def _outputs(workers):
    """Both workers' exit status and the end of their output, for an assertion message."""
    return "\n".join(f"--- worker {index}: exit status {code}\n{output[-4000:]}"
                     for index, (code, output) in enumerate(workers))


_MULTI_WORKER_STEPS = textwrap.dedent("""
    import numpy as np, tensorflow as tf
    from mlclf import distribute, loop, losses
    strategy = distribute.make_strategy("multi_worker")  # before TensorFlow does anything
    import keras
    from mlclf.models import cnn, han

    def han_model():
        model = han.build_model("mhan_att", num_languages=2, vocab_size=50, embed_dim=6,
                                num_outputs=4, hidden=5, max_sentences=3, max_words=5).train
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss=losses.masked_binary_crossentropy)
        return model

    def cnn_model():  # its own train_step; the sigmoid loss, as NCE samples at random
        model = cnn.CnnClassifier(vocab_size=50, num_outputs=4, embed_dim=4, num_filters=3,
                                  windows=(3, 2, (2, 3)), dropout=0.0, loss="sigmoid")
        model.compile(optimizer=keras.optimizers.SGD(0.5))
        return model

    rng = np.random.default_rng(0)
    labels = (rng.random((8, 4)) < 0.5).astype("float32")
    labels[:, :1] = -1  # an output outside every document's label set
    han_batch = ({"word_ids": rng.integers(0, 50, size=(8, 3, 5)).astype("int32"),
                  "lang_id": (np.arange(8) % 2).astype("int32")}, labels)
    cnn_batch = ({"word_ids": rng.integers(1, 50, size=(8, 10)).astype("int32")},
                 {"labels": labels, "label_ids": np.zeros((8, 1), "int64")})
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA

    for name, build, batch in (("han", han_model, han_batch), ("cnn", cnn_model, cnn_batch)):
        keras.utils.set_random_seed(1)
        single = build()
        initial = [w.numpy() for w in single.weights]
        single.fit(tf.data.Dataset.from_tensors(batch), epochs=1, verbose=0)
        keras.utils.set_random_seed(1)
        with strategy.scope():
            double = build()
        batches = tf.data.Dataset.from_tensors(batch).repeat().with_options(options)
        loop.fit(double, batches, strategy, epochs=1, steps_per_epoch=1, callbacks=[], verbose=0)
        pairs = list(zip(initial, single.weights, double.weights))
        print(name, "max_abs_diff",
              max(float(np.max(np.abs(a.numpy() - b.numpy()))) for _, a, b in pairs))
        print(name, "max_step", max(float(np.max(np.abs(a.numpy() - w))) for w, a, _ in pairs))
""")


def test_multi_worker_step_matches_single_device_step(tmp_path):
    """Each worker takes half of the global batch; the update is the full batch's (the
    hierarchical models' Keras train_step and the CNN's own)."""
    workers = _two_workers(lambda index: [sys.executable, "-c", _MULTI_WORKER_STEPS], tmp_path)
    assert all(code == 0 for code, _ in workers), _outputs(workers)
    for _, output in workers:
        for model in ("han", "cnn"):
            assert float(output.split(f"{model} max_abs_diff")[1].split()[0]) < 1e-5, \
                _outputs(workers)
            # Not vacuous: the step is far larger than the tolerance.
            assert float(output.split(f"{model} max_step")[1].split()[0]) > 1e-2, \
                _outputs(workers)


# Four train.py processes (two workers, twice); the default suite keeps the step's equality
# above (test_multi_worker_step_matches_single_device_step).
@pytest.mark.slow
def test_multi_worker_train_py_on_two_local_workers(tiny_corpus, tmp_path):
    run_dir = tmp_path / "run"

    def train_py(index):
        return [sys.executable, "train.py", "--strategy=multi_worker", "--dataset=jsonl",
                "--langs=en,fr", f"--manual_dir={tiny_corpus}",
                f"--data_dir={tmp_path / f'tfds{index}'}",  # no race building the corpus
                f"--run_dir={run_dir}", "--embed_dim=8", "--hidden=8", "--max_sentences=4",
                "--max_words=8", "--batch_size=8", "--epochs=2", "--steps_per_epoch=3",
                "--checkpoint_every=2"]

    workers = _two_workers(train_py, tmp_path)
    assert [code for code, _ in workers] == [0, 0], _outputs(workers)
    for name in ("metrics.json", "export/1", rundir.BEST_WEIGHTS, rundir.LATEST_DIR):
        assert (run_dir / name).exists(), name
    rundir.load(str(run_dir))  # the chief's best weights load into a rebuilt model
    # Both workers held the same weights: they report the same test scores.
    tables = [re.search(r"\ntest:\n(.*?\nmean[^\n]*)", output, re.S) for _, output in workers]
    assert all(tables) and tables[0][1] == tables[1][1], _outputs(workers)

    # An interrupted multi-worker run cannot resume: both workers stop, saying why.
    os.remove(run_dir / "metrics.json")
    workers = _two_workers(train_py, tmp_path)
    assert all(code not in (0, None) for code, _ in workers), _outputs(workers)
    (_, chief), (_, other) = workers
    assert "cannot resume" in chief and "the chief cannot use" in other, _outputs(workers)
    assert "Traceback" not in chief + other, _outputs(workers)


def test_mixed_precision_is_bfloat16_without_gpus_and_off_by_default():
    assert distribute.mixed_precision_policy(False) == "float32"
    expected = "mixed_float16" if tf.config.list_logical_devices("GPU") else "mixed_bfloat16"
    assert distribute.mixed_precision_policy(True) == expected
