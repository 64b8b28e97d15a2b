"""Adam with its update XLA-compiled: the same arithmetic as keras.optimizers.Adam, fused.

Adam's update of a `[vocab, dim]` embedding is a dozen elementwise passes over the variable,
its two moments and the gradient; as plain TF ops each pass is its own kernel with its own
temporaries. Compiled as one XLA function they fuse into a few loops, which is faster for
the MHAN's and the CNN's embeddings alike (benchmarks/results/train_throughput.md and
cnn_throughput.md hold the figures).

Row-sparse variables (`row_sparse_variables`: the wide branch's n-gram kernels, a million rows
of which a batch reads a few percent; the word vectors of models that read them once per word
type) are updated lazily: only the rows of the batch's gradient
move, so a step costs the batch's rows, not the whole kernel. Dense Adam keeps moving a row by
its momentum for dozens of steps after the row's gradient is gone; for a rare n-gram that carry
is most of its movement (1 / (1 - beta_1 / sqrt(beta_2)), about 10 times its first step), and a
lazy update that drops it (TensorFlow Addons' LazyAdam) learns rare n-grams about ten times more
slowly, which cost 3.5 points of validation accuracy on SIB-200's short sentences
(benchmarks/results/quality_levers.md). So the carry is applied at once: a row moves to where
dense Adam's momentum would take it if no other gradient came (at the step size of its
gradient's step). When a gradient comes back k steps later, the part of that carry dense Adam
would not have applied yet is taken back, and the row's moments decay for the k steps, as dense
Adam's would, before its update. Every row then stands where dense Adam would put it after its
momentum has run out; apart from that carry, it is dense Adam's arithmetic while the step size
holds still.
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


def row_sparse_variables(model) -> list:
    """The variables of `model`'s layers that say they are read a few rows at a time
    (`layer.row_sparse_weights`, e.g. models.wide.NgramLinear's kernels)."""
    return [variable for layer in model._flatten_layers()
            for variable in getattr(layer, "row_sparse_weights", ())]


def adam_for(model, learning_rate) -> "CompiledAdam":
    """The optimizer mlclf trains `model` with (registry.compile_default): CompiledAdam, lazy
    for the model's row-sparse variables."""
    return CompiledAdam(learning_rate=learning_rate, row_sparse=row_sparse_variables(model))


def _summed_rows(gradient: tf.IndexedSlices) -> tf.IndexedSlices:
    """The same gradient with each row once (repeated rows summed), as a lazy update needs."""
    rows, position = tf.unique(gradient.indices)
    return tf.IndexedSlices(tf.math.unsorted_segment_sum(gradient.values, position,
                                                         tf.shape(rows)[0]),
                            rows, gradient.dense_shape)


@keras.saving.register_keras_serializable(package="mlclf")
class CompiledAdam(keras.optimizers.Adam):
    """keras.optimizers.Adam whose `apply` runs XLA-compiled (apply_compiled), for sparse
    gradients whose row count varies (the hierarchical models' embedding gradients have one
    row per distinct word of the batch); the `row_sparse` variables are updated lazily, only
    at the rows of their gradient, their momentum's carry applied at once (the module docstring
    says how), with plain ops: a gather, a few passes over the rows and a scatter, which XLA's
    CPU scatter would only slow down. Lazily on one replica only: across replicas, gradient rows
    are gathered from each, and the update is dense Adam's."""

    def __init__(self, *args, row_sparse=(), **kwargs):
        super().__init__(*args, **kwargs)
        if row_sparse and self.amsgrad:
            raise ValueError("row-sparse (lazy) updates are not implemented with amsgrad")
        # Their keys, not the variables: the optimizer's checkpoint must not hold them twice.
        self._row_sparse = frozenset(self._var_key(variable) for variable in row_sparse)

    def _is_row_sparse(self, variable) -> bool:
        return self._var_key(variable) in self._row_sparse

    def apply(self, grads, trainable_variables=None):
        if trainable_variables is None and not self.built:
            return super().apply(grads)  # Keras' error: build first, or pass the variables
        variables = list(self._trainable_variables if trainable_variables is None
                         else trainable_variables)
        grads = list(grads)
        lazy = [isinstance(gradient, tf.IndexedSlices) and self._is_row_sparse(variable)
                for gradient, variable in zip(grads, variables)]
        if any(lazy) and tf.distribute.get_strategy().num_replicas_in_sync == 1:
            if not self.built:
                self.build(variables)
            learning_rate = self._get_current_learning_rate()
            for gradient, variable in zip(grads, variables):
                if isinstance(gradient, tf.IndexedSlices) and self._is_row_sparse(variable):
                    last_step = self._last_steps[self._last_step_index[self._var_key(variable)]]
                    self._lazy_update(_summed_rows(gradient), variable, last_step,
                                      learning_rate)
            # The rest as before; Adam's step count (iterations) moves on there.
            grads = [gradient for gradient, row_sparse in zip(grads, lazy) if not row_sparse]
            variables = [variable for variable, row_sparse in zip(variables, lazy)
                         if not row_sparse]
        return apply_compiled(super().apply, self, grads, variables, sparse_rows_vary=True)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        # The step of each row's last gradient, for each row-sparse variable (0: none yet).
        self._last_steps = [self.add_variable((variable.shape[0],), dtype="int64",
                                              name=f"{variable.name}_last_step")
                            for variable in variables if self._is_row_sparse(variable)]
        self._last_step_index = {self._var_key(variable): index for index, variable in
                                 enumerate(v for v in variables if self._is_row_sparse(v))}

    def _step_size(self, learning_rate, step, dtype):
        """Adam's alpha at `step` (1 for the first update): the learning rate, bias-corrected."""
        step = tf.cast(step, dtype)
        return (tf.cast(learning_rate, dtype) * tf.sqrt(1 - tf.pow(tf.cast(self.beta_2, dtype),
                                                                   step))
                / (1 - tf.pow(tf.cast(self.beta_1, dtype), step)))

    def _lazy_update(self, gradient: tf.IndexedSlices, variable, last_step, learning_rate):
        """Adam's update of `variable` at the gradient's rows (each once), and of their moments
        alone, with the momentum's carry (the module docstring)."""
        variable = variable.value if isinstance(variable, keras.Variable) else variable
        dtype = variable.dtype
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        ratio = beta_1 / tf.sqrt(beta_2)  # dense Adam's step shrinks by this much per step
        step = self.iterations + 1
        index = self._get_variable_index(variable)
        momentum, velocity = self._momentums[index].value, self._velocities[index].value
        last_step = last_step.value
        rows, values = gradient.indices, tf.cast(gradient.values, dtype)
        last = tf.gather(last_step, rows)
        skipped = tf.cast(step - last - 1, dtype)[:, None]  # steps without a gradient
        m, v, row = tf.gather(momentum, rows), tf.gather(velocity, rows), tf.gather(variable, rows)
        # The carry applied at the last gradient that dense Adam would still owe now.
        last_alpha = self._step_size(learning_rate, tf.maximum(last, 1), dtype)[:, None]
        row = row + (last_alpha * m / (tf.sqrt(v) + self.epsilon)
                     * tf.pow(ratio, skipped + 1) / (1 - ratio))
        m = m * tf.pow(beta_1, skipped)
        v = v * tf.pow(beta_2, skipped)
        m = m + (values - m) * (1 - beta_1)
        v = v + (tf.square(values) - v) * (1 - beta_2)
        momentum.scatter_update(tf.IndexedSlices(m, rows))
        velocity.scatter_update(tf.IndexedSlices(v, rows))
        last_step.scatter_update(tf.IndexedSlices(tf.fill(tf.shape(rows), step), rows))
        # This step and its momentum's carry (1 + ratio + ratio**2 + ...); a gather and an
        # update, several times faster than scatter_sub on CPU.
        alpha = self._step_size(learning_rate, step, dtype)
        variable.scatter_update(tf.IndexedSlices(
            row - alpha * m / (tf.sqrt(v) + self.epsilon) / (1 - ratio), rows))
