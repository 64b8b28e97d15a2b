"""Adam with its update XLA-compiled: the same arithmetic as keras.optimizers.Adam, fused.

Adam's update of a `[vocab, dim]` embedding is a dozen elementwise passes over the variable,
its two moments and the densified gradient; as plain TF ops each pass is its own kernel with
its own temporaries. Compiled as one XLA function they fuse into a few loops: on the 2-core
development CPU, an MHAN step on MasakhaNEWS (vocabulary 100,002 x 40) spends ~11 ms of CPU
in the update instead of ~24 (benchmarks/results/train_throughput.md), and the paper-size CNN
(vocabulary x 512) 0.27 s instead of 0.50 (cnn_throughput.md).
"""
import keras
import tensorflow as tf


def apply_compiled(apply, optimizer, gradients, variables, densify_sparse=False):
    """Runs `apply(gradients, variables)` (an optimizer's update) as one XLA-compiled function
    while a training step is being traced.

    Plain ops where that cannot or should not happen: eagerly (nothing to compile), and under
    a tf.distribute strategy (the update all-reduces across replicas). `densify_sparse`: make
    sparse gradients (tf.IndexedSlices) dense first, for models whose sparse gradients change
    row count from step to step (an embedding read once per distinct word of the batch), for
    which XLA would compile again at every new count; leave it off where the count is fixed by
    the batch shape (an embedding read at every position).
    """
    if tf.executing_eagerly() or tf.distribute.has_strategy():
        return apply(gradients, variables)
    if not optimizer.built:  # no variables can be created in the compiled function
        optimizer.build(variables)
    if densify_sparse:
        gradients = [tf.convert_to_tensor(gradient) if isinstance(gradient, tf.IndexedSlices)
                     else gradient for gradient in gradients]

    def update(gradients):
        apply(gradients, variables)

    # A new function per trace of the step: nothing extra is tracked or saved.
    tf.function(update, jit_compile=True, autograph=False)(gradients)


@keras.saving.register_keras_serializable(package="mlclf")
class CompiledAdam(keras.optimizers.Adam):
    """keras.optimizers.Adam whose `apply` runs XLA-compiled (apply_compiled), sparse gradients
    densified first (the hierarchical models' embedding gradients have one row per distinct
    word of the batch)."""

    def apply(self, grads, trainable_variables=None):
        if trainable_variables is None and not self.built:
            return super().apply(grads)  # Keras' error: build first, or pass the variables
        variables = (self._trainable_variables if trainable_variables is None
                     else trainable_variables)
        return apply_compiled(super().apply, self, list(grads), list(variables),
                              densify_sparse=True)
