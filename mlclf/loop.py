"""Training under MultiWorkerMirroredStrategy, where Keras 3's `fit()` fails.

There (keras-team/keras#20585; still so in TF 2.21 / Keras 3.15) fit() cannot reduce the
strategy's per-replica batches when it builds the model, and past that it reduces each step's
scalar logs along axis 0. `fit` below does what fit() would: each replica runs the model's own
`train_step` (so the hierarchical models' compiled loss and the CNN's NCE step train exactly as
with fit()), and the same Keras callbacks are driven around it.

Every worker must make the same calls in the same order: a step, the reduction of its logs and
the callbacks' checkpoint saves are collective, and a worker that skips one stalls the others.
"""
from __future__ import annotations

import keras
import tensorflow as tf


def fit(model, dataset, strategy, *, epochs: int, steps_per_epoch: int, callbacks,
        verbose: int = 1) -> None:
    """model.fit(dataset, epochs=..., steps_per_epoch=..., callbacks=...) for `strategy`.

    `dataset` yields global batches; every worker reads the same stream and takes its share.
    """
    with strategy.scope():
        # Created here, not inside the first traced step: variable creation is collective.
        model.optimizer.build(model.trainable_variables)
    batches = iter(strategy.experimental_distribute_dataset(dataset))

    @tf.function
    def step(iterator):
        logs = strategy.run(model.train_step, args=(next(iterator),))
        return {name: strategy.reduce("MEAN", value, axis=None) for name, value in logs.items()}

    callbacks = keras.callbacks.CallbackList(callbacks, add_progbar=verbose != 0, verbose=verbose,
                                             epochs=epochs, steps=steps_per_epoch, model=model)
    logs = {}
    callbacks.on_train_begin()
    for epoch in range(epochs):
        model.reset_metrics()
        callbacks.on_epoch_begin(epoch)
        for batch in range(steps_per_epoch):
            callbacks.on_train_batch_begin(batch)
            logs = {name: float(value) for name, value in step(batches).items()}
            callbacks.on_train_batch_end(batch, logs)
        callbacks.on_epoch_end(epoch, logs)
    callbacks.on_train_end(logs)


def any_worker(strategy, flag: bool) -> bool:
    """Whether `flag` is true on any worker. Collective: every worker must ask."""
    flags = strategy.run(lambda: tf.constant(float(flag)))
    return float(strategy.reduce("SUM", flags, axis=None)) > 0
