"""Which devices and machines train a model: `--strategy` and `--mixed_precision`.

Everything else in mlclf is strategy-agnostic: models and optimizers are created inside
`strategy.scope()`, `--batch_size` is the global batch (tf.distribute splits it), and only the
chief writes checkpoints and exports.
"""
from __future__ import annotations

import json
import os
import tempfile

import keras
import tensorflow as tf

STRATEGIES = ("auto", "one_device", "mirrored", "multi_worker")


def make_strategy(name: str) -> tf.distribute.Strategy:
    """auto: MirroredStrategy over the local GPUs if there is at least one, else the default.

    mirrored without GPUs mirrors over the logical CPU devices (what the tests use);
    multi_worker reads the cluster from TF_CONFIG.
    """
    if name not in STRATEGIES:
        raise ValueError(f"unknown --strategy={name!r}; choose from {', '.join(STRATEGIES)}")
    if name == "multi_worker":
        # Before anything else touches TensorFlow: collectives are configured at start-up.
        if "TF_CONFIG" not in os.environ:
            raise ValueError("--strategy=multi_worker needs the cluster in the TF_CONFIG "
                             "environment variable (see README, 'Training on several machines')")
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    if name == "auto":
        return tf.distribute.MirroredStrategy() if gpus else tf.distribute.get_strategy()
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(devices)


def is_chief() -> bool:
    """True for the process that writes checkpoints, TensorBoard logs and exports.

    Without TF_CONFIG (one process) that is us; in a cluster it is the `chief` task, or worker 0
    when the cluster has no chief.
    """
    config = json.loads(os.environ.get("TF_CONFIG", "{}"))
    task = config.get("task", {})
    if not task:
        return True
    if task.get("type") == "chief":
        return True
    return task.get("type") == "worker" and task.get("index", 0) == 0 \
        and "chief" not in config.get("cluster", {})


def worker_dir(run_dir: str) -> str:
    """Where this process writes: RUN itself for the chief, a throwaway folder for the others.

    Multi-worker saving is collective (every worker must call save), but only the chief's files
    are kept.
    """
    if is_chief():
        return run_dir
    return tempfile.mkdtemp(prefix="mlclf_worker_")


def mixed_precision_policy(enabled: bool) -> str:
    """float16 compute with GPUs; without, bfloat16, which CPUs with AMX or AVX512_BF16 run
    through oneDNN faster than float32 in convolutions (the CNN's figures:
    benchmarks/results/cnn_throughput.md), where float16 would be emulated and slow."""
    if not enabled:
        return "float32"
    return "mixed_float16" if tf.config.list_logical_devices("GPU") else "mixed_bfloat16"


def set_mixed_precision(enabled: bool) -> None:
    """Sets the global Keras policy; models keep float32 outputs and losses (their last layers)."""
    keras.mixed_precision.set_global_policy(mixed_precision_policy(enabled))
