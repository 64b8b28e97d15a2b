"""Runs killed with SIGKILL (no cleanup, no `finally`) at a training step or at a stage boundary
after training: the rerun of the same command must end as an uninterrupted run ends, with the
same weights and a complete run directory."""
import dataclasses
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from mlclf import rundir, task, training

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECKPOINT_EVERY = 2

# Trains the run of argv[1] (config.json text) in argv[2], and kills itself at argv[3]: a
# global training step (before that step's checkpoint), or a stage after training.
KILLED_RUN = r"""
import os, signal, sys, types
from mlclf import export, evaluation, runcard, task, training

config_json, run_dir, kill_at = sys.argv[1:]


def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


if kill_at.isdigit():
    steps = []
    count_steps = training.StopOnNaN.on_train_batch_end  # the first callback of each step

    def count_then_die(self, batch, logs=None):
        steps.append(batch)
        if len(steps) == int(kill_at):
            die()
        count_steps(self, batch, logs)

    training.StopOnNaN.on_train_batch_end = count_then_die
elif kill_at == "after_checkpoints":  # training done, its final evaluation starting
    evaluation.evaluate_split = die
elif kill_at == "after_metrics":  # metrics.json written, the export starting
    export.export_run = die
elif kill_at == "during_export":  # the SavedModel written, its serving.json being written
    export.json = types.SimpleNamespace(dump=die)
elif kill_at == "after_export":  # the export written, the run card starting
    runcard.write = die
training.train(task.ExperimentConfig.from_json(config_json), run_dir, verbose=0,
               checkpoint_every=int(os.environ["CHECKPOINT_EVERY"]))
sys.exit("the run was not killed")
"""


@pytest.fixture(scope="module")
def config(tiny_corpus, tiny_data_dir):
    return task.ExperimentConfig(
        model="mhan_att", dataset="jsonl", langs=("en", "fr"), manual_dir=tiny_corpus,
        data_dir=tiny_data_dir, embed_dim=8, hidden=8, max_sentences=4, max_words=8,
        wide_buckets=1 << 14, batch_size=8, epochs=2, steps_per_epoch=5, learning_rate=0.05, seed=4)


@pytest.fixture(scope="module")
def uninterrupted(config, tmp_path_factory):
    run_dir = str(tmp_path_factory.mktemp("uninterrupted") / "run")
    results = training.train(config, run_dir, verbose=0, checkpoint_every=CHECKPOINT_EVERY)
    return run_dir, results


def _killed(config, run_dir, kill_at):
    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, config.to_json(), run_dir,
                             str(kill_at)], cwd=REPO, capture_output=True, text=True,
                            env={**os.environ, "CHECKPOINT_EVERY": str(CHECKPOINT_EVERY)})
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]


def _rerun(config, run_dir):
    return training.train(config, run_dir, verbose=0, checkpoint_every=CHECKPOINT_EVERY)


def _training_state(run_dir):
    """{name: value} of every variable in the last checkpoint: weights and optimizer state."""
    reader = tf.train.load_checkpoint(os.path.join(run_dir, rundir.LATEST_DIR))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if "model" in name or "optimizer" in name}


def _assert_complete(run_dir):
    for name in (rundir.CONFIG, rundir.FLAGFILE, "vocab", "labels", "decision.json",
                 rundir.BEST_WEIGHTS, rundir.BEST_STATE, rundir.METRICS_FILE,
                 os.path.join(rundir.TENSORBOARD, "projector_config.pbtxt"),
                 os.path.join(rundir.EXPORT_DIR, "1", "saved_model.pb"),
                 os.path.join(rundir.EXPORT_DIR, "1", "assets.extra", "serving.json"),
                 rundir.CARD):
        assert os.path.exists(os.path.join(run_dir, name)), name
    leftovers = [os.path.join(folder, name) for folder, dirs, files in os.walk(run_dir)
                 for name in dirs + files if name.startswith(".staging") or ".partial" in name]
    assert leftovers == []
    assert rundir.export_versions(run_dir) == [1]


# Step 3: the first epoch, after the checkpoint of step 2. Step 9: the second epoch's step 4,
# before its checkpoint, so the rerun starts at that epoch's step 2 (7 batches to skip): the
# default suite's case; step 3 with -m slow (each case trains twice).
@pytest.mark.parametrize("step", [pytest.param(3, marks=pytest.mark.slow), 9])
def test_killed_at_a_step_the_rerun_ends_with_the_weights_of_an_uninterrupted_run(
        config, uninterrupted, tmp_path, step):
    reference_dir, reference_results = uninterrupted
    run_dir = str(tmp_path / "run")
    _killed(config, run_dir, step)
    results = _rerun(config, run_dir)
    expected, resumed = _training_state(reference_dir), _training_state(run_dir)
    assert sorted(resumed) == sorted(expected) and len(expected) > 4
    for name, value in expected.items():
        # The same computation on the same batches: equal to the bit.
        np.testing.assert_array_equal(resumed[name], value, err_msg=name)
    assert results == reference_results


def test_killed_at_a_step_the_rerun_draws_the_dropout_masks_of_an_uninterrupted_run(
        config, tmp_path):
    # The CNN applies dropout in training, whose seed generator's state is no weight. (The
    # sigmoid loss: NCE's sampler is a stateful op, which no checkpoint restores.)
    cnn = dataclasses.replace(config, model="cnn", vocab="auto", label_space="auto", wide="auto",
                              loss="sigmoid", dropout=0.5, num_filters=4, max_words=16)
    reference_dir = str(tmp_path / "uninterrupted")
    reference_results = training.train(cnn, reference_dir, verbose=0,
                                       checkpoint_every=CHECKPOINT_EVERY)
    run_dir = str(tmp_path / "run")
    _killed(cnn, run_dir, 9)
    assert _rerun(cnn, run_dir) == reference_results
    expected, resumed = _training_state(reference_dir), _training_state(run_dir)
    assert sorted(resumed) == sorted(expected) and len(expected) > 4
    for name, value in expected.items():
        np.testing.assert_array_equal(resumed[name], value, err_msg=name)


# The default suite kills the run during the export (the rerun finds a half-written version
# hidden, and exports and writes the card); the other stages with -m slow (each trains twice).
@pytest.mark.parametrize("stage", [pytest.param("after_checkpoints", marks=pytest.mark.slow),
                                   pytest.param("after_metrics", marks=pytest.mark.slow),
                                   "during_export",
                                   pytest.param("after_export", marks=pytest.mark.slow)])
def test_killed_after_training_the_rerun_completes_the_run_directory(config, uninterrupted,
                                                                   tmp_path, stage):
    run_dir = str(tmp_path / "run")
    _killed(config, run_dir, stage)
    export_dir = os.path.join(run_dir, rundir.EXPORT_DIR)
    versions = os.listdir(export_dir) if os.path.isdir(export_dir) else []
    # during_export: a half-written version, hidden; after_export: the whole one.
    assert len(versions) == (stage in ("during_export", "after_export"))
    assert rundir.export_versions(run_dir) == ([1] if stage == "after_export" else [])
    results = _rerun(config, run_dir)
    _assert_complete(run_dir)
    assert results == uninterrupted[1]
    assert results == rundir.read_results(os.path.join(run_dir, rundir.METRICS_FILE))
    with pytest.raises(rundir.RunDirExists, match="finished"):
        training.train(config, run_dir, verbose=0)
