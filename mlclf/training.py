"""Training loop around `keras.Model.fit` (`loop.fit` under --strategy=multi_worker):
resumable checkpoints, validation, the final evaluation and the export.

What a run leaves behind is `mlclf.rundir`'s layout (README "The run directory").
"""
from __future__ import annotations

import math
import os

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from mlclf import (data, distribute, evaluation, export, loop, metrics, models, projector,
                   runcard, rundir, task)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


# What is the user's to fix (flags, corpus and vector files, the run directory, a diverging
# run): train.py prints the message alone. Anything else is a bug, and keeps its traceback.
USER_ERRORS = (ValueError, FileNotFoundError, TrainingDiverged, rundir.RunDirError)


class Checkpointer(keras.callbacks.Callback):
    """Saves model + optimizer + position every `every_steps` steps and at each epoch end."""

    def __init__(self, run_dir: str, model, every_steps: int):
        super().__init__()
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.step_in_epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
        # The layers' random states (dropout's seed generators), which the model's weights
        # leave out: a resumed run draws the masks an uninterrupted one would.
        weights = {id(weight) for weight in model.weights}
        random_states = [variable for variable in model.non_trainable_variables
                         if id(variable) not in weights]
        self._checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer,
                                               random_states=random_states,
                                               epoch=self.epoch, step=self.step_in_epoch)
        self._manager = tf.train.CheckpointManager(self._checkpoint,
                                                   os.path.join(run_dir, rundir.LATEST_DIR), 2)
        self._every_steps = max(1, every_steps)
        self._offset = 0

    def restore(self) -> tuple:
        """(epoch, step within that epoch) to continue from; (0, 0) when starting fresh."""
        if self._manager.latest_checkpoint is None:
            return 0, 0
        self._checkpoint.restore(self._manager.latest_checkpoint).expect_partial()
        logging.info("resumed from %s", self._manager.latest_checkpoint)
        return int(self.epoch.numpy()), int(self.step_in_epoch.numpy())

    def start_at(self, step_offset: int) -> None:
        """Step numbers of the next fit() call start after `step_offset` done steps."""
        self._offset = step_offset

    def on_train_batch_end(self, batch, logs=None):
        done = self._offset + batch + 1
        if done % self._every_steps == 0:
            self.step_in_epoch.assign(done)
            self._manager.save()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.assign(epoch + 1)
        self.step_in_epoch.assign(0)
        self._offset = 0
        self._manager.save()


class StopOnNaN(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise TrainingDiverged(
                f"the training loss became {loss} at step {batch + 1}; lower "
                f"--learning_rate or check the input data")


class Validator(keras.callbacks.Callback):
    """Per-language validation metrics after each epoch; keeps the best weights.

    The best model is the one with the highest mean micro-F1 over the training languages (the
    MHAN paper's model selection).
    """

    def __init__(self, run_dir, inspect_model, validation_examples, resources, threshold):
        super().__init__()
        self._run_dir = run_dir
        self._inspect = inspect_model
        self._examples = validation_examples
        self._resources = resources
        self._threshold = threshold
        self._writer = tf.summary.create_file_writer(os.path.join(run_dir, rundir.TENSORBOARD,
                                                                  "validation_languages"))
        state_path = os.path.join(run_dir, rundir.BEST_STATE)
        os.makedirs(os.path.dirname(state_path), exist_ok=True)
        self.best = -1.0
        if os.path.exists(state_path):
            self.best = rundir.read_json(state_path)["mean_micro_f1"]

    def on_epoch_end(self, epoch, logs=None):
        table = evaluation.metric_table(
            {lang: evaluation.score_language(self._inspect, examples, lang, self._resources)
             for lang, examples in self._examples.items()}, self._threshold,
            self._resources.at_least_one, self._resources.top_k)
        mean_f1 = float(np.mean([row["micro_f1"] for row in table.values()]))
        learning_rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        with self._writer.as_default(step=epoch + 1):
            tf.summary.scalar("mean/micro_f1", mean_f1)
            tf.summary.scalar("learning_rate", learning_rate)
            for lang, row in table.items():
                for metric in metrics.METRICS:
                    if not metric.count:
                        tf.summary.scalar(f"{lang}/{metric.key}", row[metric.key])
        self._writer.flush()
        if logs is not None:
            logs["val_mean_micro_f1"] = mean_f1
        summary = "  ".join(f"{lang} {row['micro_f1']:.3f}" for lang, row in table.items())
        print(f"\nepoch {epoch + 1}: validation micro-F1 mean {mean_f1:.3f} | {summary}",
              flush=True)
        if mean_f1 > self.best:
            # Weights, then their state, each whole or absent: killed between the two, a
            # resumed run repeats this epoch, finds the same score still better, writes both.
            self.best = mean_f1
            weights = os.path.join(self._run_dir, rundir.BEST_WEIGHTS)
            partial = weights.replace(".weights.h5", ".partial.weights.h5")
            self._inspect.save_weights(partial)
            os.replace(partial, weights)
            rundir.write_json(os.path.join(self._run_dir, rundir.BEST_STATE),
                              {"epoch": epoch + 1, "mean_micro_f1": mean_f1,
                               "per_language": table})


def default_steps_per_epoch(config, train_examples) -> int:
    """One pass over the training documents (after --train_fraction)."""
    total = 0
    for examples in train_examples.values():
        size = int(examples.cardinality())
        total += max(1, math.ceil(size * config.train_fraction)) if size > 0 else 0
    return max(1, math.ceil(total / config.batch_size))


def _prepare_run_dir_on_every_worker(strategy, run_dir, config, overwrite) -> None:
    """rundir.prepare for a multi-worker run: if the chief refuses, every worker stops (rather
    than wait for it forever). Such a run never resumes: the other workers' checkpoints are in
    throwaway folders, and all workers must start from the same state."""
    refusal = None
    try:
        if rundir.prepare(run_dir, config, overwrite):
            refusal = rundir.RunDirExists(f"{run_dir} holds an interrupted run, and a "
                                          f"multi-worker run cannot resume; pass --overwrite to "
                                          f"train it again")
    except rundir.RunDirExists as error:
        refusal = error
    if loop.any_worker(strategy, refusal is not None):
        raise refusal or rundir.RunDirExists("the chief cannot use the run directory; see its "
                                             "output")


def train(config: task.ExperimentConfig, run_dir: str, *, overwrite: bool = False,
          checkpoint_every: int = 200, verbose: int = 1, strategy=None,
          mixed_precision: bool = False) -> dict:
    """Trains, keeps the best epoch, writes metrics.json, the export and the run card
    (README.md); returns the metrics.

    The run directory (`mlclf.rundir`) starts with config.json and flags.cfg, a flagfile that
    reproduces the run; another or a finished run is refused (rundir.RunDirExists) unless
    `overwrite`. Every split of every language is read, and its labels checked, before the
    first step. An interrupted run resumes where it stopped: in training from its last
    checkpoint, on the batch an uninterrupted run would read next (so that, on CPU, it ends
    with the same weights); after training, at the evaluation, the export or the card that is
    missing.

    `strategy` is a tf.distribute.Strategy (`distribute.make_strategy`; default: the current one).

    Under --strategy=multi_worker every worker trains, but only the chief writes to `run_dir`
    (the others write to a throwaway folder), and resuming is supported for single-process runs.
    """
    chief = distribute.is_chief()
    run_dir = run_dir if chief else distribute.worker_dir(run_dir)
    devices = strategy or tf.distribute.get_strategy()
    multi_worker = isinstance(devices, tf.distribute.MultiWorkerMirroredStrategy)
    if multi_worker:
        _prepare_run_dir_on_every_worker(devices, run_dir, config, overwrite)
        resuming = False
    else:
        resuming = rundir.prepare(run_dir, config, overwrite)
    metrics_path = os.path.join(run_dir, rundir.METRICS_FILE)
    if resuming and os.path.exists(metrics_path):  # evaluated; the export or the card is missing
        results = rundir.read_results(metrics_path)
        resources = task.Resources.load(run_dir, config)
    else:
        distribute.set_mixed_precision(mixed_precision)
        keras.utils.set_random_seed(config.seed)
        examples, resources = _read_and_check(config, run_dir, resuming)
        matrix = task.embedding_matrix(config, resources)
        spec = models.get(config.model)
        # Again: building a corpus the first time draws from Python's global RNG, which the
        # weight initialisers then continue from, and a rerun that finds the corpus built
        # would not.
        keras.utils.set_random_seed(config.seed)
        with devices.scope():
            classifier = spec.build(config, resources, matrix)
            spec.compile(classifier.train, config, resources)
        _fit(config, run_dir, classifier, resources, examples, resuming=resuming,
             checkpoint_every=checkpoint_every, verbose=verbose, devices=devices)
        results = _evaluate(config, run_dir, classifier, resources, examples)
        rundir.write_results(metrics_path, results)
    if chief:
        if not rundir.export_versions(run_dir):
            export.export_run(run_dir)
        runcard.write(run_dir, config, resources, results)
    return results


def _read_and_check(config, run_dir: str, resuming: bool) -> tuple:
    """({split: {lang: examples}}, resources): every split of every language read, the
    resources learnt from training (or read back when resuming), and the validation and test
    labels checked against them."""
    examples = {split: task.load_examples(config, config.langs, split)
                for split in ("train", "validation", "test")}
    if resuming and task.Resources.saved_in(run_dir):
        resources = task.Resources.load(run_dir, config)
    else:
        resources = task.build_resources(config, examples["train"])
        resources.save(run_dir)
    for split in ("validation", "test"):
        task.check_labels(config, examples[split], resources.label_space, split)
    logging.info("vocabulary: %d ids; outputs: %d", resources.vocabulary.size,
                 resources.label_space.num_outputs)
    return examples, resources


def _fit(config, run_dir, classifier, resources, examples, *, resuming, checkpoint_every,
         verbose, devices) -> None:
    """Trains `classifier` for the epochs the run has left, from its last checkpoint.

    The batches are a function of the seed alone, so a resumed run skips those trained on
    already and reads exactly what an uninterrupted run would read next.
    """
    model = classifier.train
    spec = models.get(config.model)
    train_batches = data.make_dataset(
        examples["train"], resources.vocabulary, resources.label_space, resources.spec,
        config.batch_size, training_languages=resources.languages, training=True,
        seed=config.seed, train_fraction=config.train_fraction).map(
            lambda features, targets: (features, spec.targets(targets, config, resources)))
    # Every worker reads the same stream and takes its share of each global batch.
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    train_batches = train_batches.with_options(options)
    steps = config.steps_per_epoch or default_steps_per_epoch(config, examples["train"])

    features, _ = next(iter(train_batches))
    model(features)  # build weights before restoring a checkpoint into them
    checkpointer = Checkpointer(run_dir, model, checkpoint_every)
    epoch, step = checkpointer.restore() if resuming else (0, 0)
    # The epoch's best weights are saved before its checkpoint: a checkpoint never marks an
    # epoch done whose validation did not happen.
    callbacks = [StopOnNaN(),
                 Validator(run_dir, classifier.inspect, examples["validation"], resources,
                           config.threshold),
                 checkpointer,
                 keras.callbacks.TensorBoard(os.path.join(run_dir, rundir.TENSORBOARD))]
    if isinstance(devices, tf.distribute.MultiWorkerMirroredStrategy):  # never resumes
        loop.fit(model, train_batches, devices, epochs=config.epochs, steps_per_epoch=steps,
                 callbacks=callbacks, verbose=verbose)
        return
    if step and epoch < config.epochs:
        # Finish the interrupted epoch first, then go on with whole epochs.
        checkpointer.start_at(step)
        model.fit(train_batches.skip(epoch * steps + step), initial_epoch=epoch,
                  epochs=epoch + 1, steps_per_epoch=steps - step, callbacks=callbacks,
                  verbose=verbose)
        epoch += 1
    if epoch < config.epochs:
        model.fit(train_batches.skip(epoch * steps), initial_epoch=epoch, epochs=config.epochs,
                  steps_per_epoch=steps, callbacks=callbacks, verbose=verbose)


def _evaluate(config, run_dir, classifier, resources, examples) -> dict:
    """The best epoch's metrics on validation and test (metrics.json), and its validation
    document vectors for TensorBoard's projector."""
    classifier.inspect.load_weights(os.path.join(run_dir, rundir.BEST_WEIGHTS))
    results = {}
    for split in ("validation", "test"):
        evaluated = evaluation.evaluate_split(config, resources, classifier.inspect, split,
                                              examples=examples[split],
                                              with_extras=split == "validation")
        results[split] = evaluated.table
        print(f"\n{split}:\n{evaluation.format_table(results[split])}", flush=True)
        if split == "validation":  # the best model's document space, for TensorBoard
            projector.write_document_vectors(os.path.join(run_dir, rundir.TENSORBOARD),
                                             evaluated.scored, resources.label_space)
    return results
