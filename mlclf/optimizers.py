"""Adam with its update XLA-compiled: the same arithmetic as keras.optimizers.Adam, fused.

Adam's update of a `[vocab, dim]` embedding is a dozen elementwise passes over the variable,
its two moments and the gradient; as plain TF ops each pass is its own kernel with its own
temporaries. Compiled as one XLA function they fuse into a few loops, which is faster for
the MHAN's and the CNN's embeddings alike (benchmarks/results/train_throughput.md and
cnn_throughput.md hold the figures).
"""
import keras
import tensorflow as tf


def apply_compiled(apply, optimizer, gradients, variables, sparse_rows_vary=False):
    """Runs `apply(gradients, variables)` (an optimizer's update) as one XLA-compiled function
    while a training step is being traced.

    Plain ops where that cannot or should not happen: eagerly (nothing to compile), and under
    a tf.distribute strategy (the update all-reduces across replicas). `sparse_rows_vary`: for
    models whose sparse gradients (tf.IndexedSlices) change row count from step to step (an
    embedding read once per distinct word of the batch), for which XLA would compile again at
    every new count: their rows are padded to the next power of two (a few counts in all;
    padding rows point past the variable, and XLA's scatter skips them) and made dense inside
    the compiled function, where the scatter feeds the fused update directly instead of a
    dense gradient being built with plain ops, then read. Leave it off where the count is
    fixed by the batch shape (an embedding read at every position).
    """
    if tf.executing_eagerly() or tf.distribute.has_strategy():
        return apply(gradients, variables)
    if not optimizer.built:  # no variables can be created in the compiled function
        optimizer.build(variables)
    if sparse_rows_vary:
        gradients = [_padded_to_power_of_two(gradient, variable.shape[0])
                     if isinstance(gradient, tf.IndexedSlices) else gradient
                     for gradient, variable in zip(gradients, variables)]

    def update(gradients):
        if sparse_rows_vary:  # repeated rows summed, as in the true gradient
            gradients = [tf.scatter_nd(gradient.indices[:, None], gradient.values,
                                       tf.shape(variable, out_type=gradient.indices.dtype))
                         if isinstance(gradient, tf.IndexedSlices) else gradient
                         for gradient, variable in zip(gradients, variables)]
        apply(gradients, variables)

    # A new function per trace of the step: nothing extra is tracked or saved.
    tf.function(update, jit_compile=True, autograph=False)(gradients)


def _padded_to_power_of_two(gradient, num_rows):
    """IndexedSlices with its row count padded to the next power of two: row id `num_rows`
    (past the variable), zero values."""
    count = tf.shape(gradient.indices)[0]
    # Exact in integers (a float log2 is off by one just past large powers of two): copy the
    # highest set bit of count - 1 into every lower bit, then add one.
    highest = tf.maximum(count, 1) - 1
    for shift in (1, 2, 4, 8, 16):
        highest = tf.bitwise.bitwise_or(highest, tf.bitwise.right_shift(highest, shift))
    padding = highest + 1 - count
    return tf.IndexedSlices(
        tf.pad(gradient.values, [[0, padding]] + [[0, 0]] * (gradient.values.shape.rank - 1)),
        tf.pad(gradient.indices, [[0, padding]], constant_values=num_rows),
        gradient.dense_shape)


@keras.saving.register_keras_serializable(package="mlclf")
class CompiledAdam(keras.optimizers.Adam):
    """keras.optimizers.Adam whose `apply` runs XLA-compiled (apply_compiled), for sparse
    gradients whose row count varies (the hierarchical models' embedding gradients have one
    row per distinct word of the batch)."""

    def apply(self, grads, trainable_variables=None):
        if trainable_variables is None and not self.built:
            return super().apply(grads)  # Keras' error: build first, or pass the variables
        variables = (self._trainable_variables if trainable_variables is None
                     else trainable_variables)
        return apply_compiled(super().apply, self, list(grads), list(variables),
                              sparse_rows_vary=True)
