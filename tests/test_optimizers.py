import keras
import numpy as np
import tensorflow as tf

from mlclf.optimizers import CompiledAdam, _padded_to_power_of_two


def _variables():
    rng = np.random.default_rng(0)
    return [keras.Variable(rng.normal(size=(50, 4)).astype("float32"), name="embedding"),
            keras.Variable(rng.normal(size=(4, 3)).astype("float32"), name="kernel")]


def _gradients(step):
    """A sparse gradient with a different row count at every step (as for the word types of
    a batch), repeated rows included, and a dense one."""
    rows = tf.constant([[1, 7, 7], [30, 2, 30, 9], [9, 1, 2, 2, 2]][step], tf.int32)
    values = tf.fill([3 + step, 4], 0.1 * (step + 1))
    return [tf.IndexedSlices(values, rows, tf.constant([50, 4])),
            tf.fill([4, 3], -0.2 * (step + 1))]


def _train(optimizer, variables, steps=3, dense=False):
    @tf.function
    def step(index):
        gradients = _gradients(index)
        if dense:
            gradients = [tf.convert_to_tensor(g) for g in gradients]
        optimizer.apply(gradients, variables)

    for index in range(steps):
        step(index)
    return [v.numpy() for v in variables]


def test_compiled_adam_updates_like_adam_on_the_dense_gradient():
    """Sparse gradients of a new row count at every step (3, 4, 5 rows, padded to 4, 4, 8 with
    rows past the variable: no recompilation error, padding changes nothing), repeated rows
    summed first as in the true gradient. (Keras' own Adam squares the repeated rows
    separately: the reference here is Adam on the densified gradient.)"""
    initial = [v.numpy() for v in _variables()]
    compiled = _train(CompiledAdam(0.1), _variables())
    plain = _train(keras.optimizers.Adam(0.1), _variables(), dense=True)
    for a, b, before in zip(compiled, plain, initial):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
        assert np.abs(a - before).max() > 0.1
    # Dense Adam keeps moving a row after its gradient is gone (row 7 has one at the first
    # step only): ~0.1 + 0.067 + 0.052 in 3 steps, where a lazy (row-sparse) Adam gives 0.1.
    assert np.all(np.abs(compiled[0][7] - initial[0][7]) > 0.15)


def test_compiled_adam_runs_its_update_as_one_xla_function():
    optimizer, variables = CompiledAdam(0.1), _variables()
    optimizer.build(variables)
    step = tf.function(lambda: optimizer.apply(_gradients(0), variables))
    graph = step.get_concrete_function().graph.as_graph_def()
    compiled = [fn.signature.name for fn in graph.library.function
                if fn.attr["_XlaMustCompile"].b]
    assert len(compiled) == 1 and "update" in compiled[0]


def test_compiled_adam_applies_eagerly_and_counts_iterations():
    optimizer, variables = CompiledAdam(0.1), _variables()
    optimizer.apply(_gradients(0), variables)  # eager: plain ops, nothing to compile
    _train(optimizer, variables, steps=2)
    assert int(optimizer.iterations) == 3


def test_sparse_rows_are_padded_to_the_next_power_of_two_past_the_variable():
    for count, padded in [(1, 1), (2, 2), (3, 4), (4, 4), (5, 8), (1024, 1024), (1025, 2048),
                          (16_384, 16_384), (16_385, 32_768), (2**20 + 1, 2**21)]:
        gradient = tf.IndexedSlices(tf.ones([count, 2]), tf.range(count), tf.constant([9, 2]))
        result = _padded_to_power_of_two(gradient, num_rows=9)
        assert result.indices.shape == (padded,) and result.values.shape == (padded, 2)
        np.testing.assert_array_equal(result.indices[count:], 9)
        np.testing.assert_array_equal(result.values[count:], 0)
        np.testing.assert_array_equal(result.indices[:count], np.arange(count))


def _lazy_adam_reference(initial, steps, learning_rate=0.1, beta_1=0.9, beta_2=0.999,
                         epsilon=1e-7):
    """Lazy Adam with the momentum's carry, in numpy: at step t, the rows of the gradient
    (repeated rows summed) first give back the carry dense Adam would still owe since their
    last gradient, decay their moments for the steps they had none, then take Adam's update
    plus its momentum's whole carry; every other row and its moments stay."""
    variable = initial.astype(np.float64)
    m, v = np.zeros_like(variable), np.zeros_like(variable)
    last = np.zeros(len(variable), np.int64)
    ratio = beta_1 / np.sqrt(beta_2)

    def alpha(t):
        return learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)

    for t, (rows, values) in enumerate(steps, 1):
        gradient = np.zeros_like(variable)
        np.add.at(gradient, rows, values)
        touched = np.unique(rows)
        skipped = (t - last[touched] - 1)[:, None]
        variable[touched] += (alpha(np.maximum(last[touched], 1))[:, None] * m[touched]
                              / (np.sqrt(v[touched]) + epsilon) * ratio ** (skipped + 1)
                              / (1 - ratio))
        m[touched] *= beta_1 ** skipped
        v[touched] *= beta_2 ** skipped
        m[touched] += (gradient[touched] - m[touched]) * (1 - beta_1)
        v[touched] += (gradient[touched] ** 2 - v[touched]) * (1 - beta_2)
        variable[touched] -= alpha(t) * m[touched] / (np.sqrt(v[touched]) + epsilon) / (1 - ratio)
        last[touched] = t
    return variable, m, v


def _row_sparse_run(steps, compiled=True):
    variables = _variables()
    optimizer = CompiledAdam(0.1, row_sparse=[variables[0]])

    def step(rows, values, dense):
        optimizer.apply([tf.IndexedSlices(values, rows, tf.constant([50, 4])), dense],
                        variables)

    if compiled:
        step = tf.function(step)
    for index, (rows, values) in enumerate(steps):
        step(tf.constant(rows, tf.int32), tf.constant(values, tf.float32),
             _gradients(index)[1])
    momentum = optimizer._momentums[optimizer._get_variable_index(variables[0])]
    velocity = optimizer._velocities[optimizer._get_variable_index(variables[0])]
    return variables, momentum.numpy(), velocity.numpy()


def _sparse_steps(rows_by_step):
    rng = np.random.default_rng(1)
    return [(np.asarray(rows), rng.normal(size=(len(rows), 4)).astype("float32"))
            for rows in rows_by_step]


def test_row_sparse_adam_updates_only_the_rows_of_the_gradient():
    """Rows 3 (once, then again after a step without), 7 (repeated: summed), 49 (the last
    row): the reference's update at those rows, nothing anywhere else, not even a decay of the
    moments; the same eagerly and in a tf.function (where the other variables' update is
    XLA-compiled)."""
    steps = _sparse_steps([[3, 7, 7], [49, 7, 0, 12], [12, 3, 3, 49, 20]])
    initial = _variables()[0].numpy()
    expected, expected_m, expected_v = _lazy_adam_reference(initial, steps)
    for compiled in (True, False):
        variables, m, v = _row_sparse_run(steps, compiled)
        # float32 against float64: the carry's ten steps, given and taken back, round to ~1e-6
        np.testing.assert_allclose(variables[0].numpy(), expected, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(m, expected_m, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(v, expected_v, rtol=1e-5, atol=1e-7)
        untouched = np.setdiff1d(np.arange(50), [0, 3, 7, 12, 20, 49])
        np.testing.assert_array_equal(variables[0].numpy()[untouched], initial[untouched])
    # The dense variable beside it gets keras' Adam as before.
    plain = _train(keras.optimizers.Adam(0.1), _variables(), dense=True)[1]
    np.testing.assert_allclose(variables[1].numpy(), plain, rtol=1e-6)


def _carry(optimizer, variable):
    """What dense Adam's momentum would still move `variable` by if no gradient came."""
    index = optimizer._get_variable_index(variable)
    m = optimizer._momentums[index].numpy().astype(np.float64)
    v = optimizer._velocities[index].numpy().astype(np.float64)
    t = int(optimizer.iterations.numpy())
    alpha = 0.1 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
    ratio = 0.9 / np.sqrt(0.999)
    return -alpha * m / (np.sqrt(v) + 1e-7) * ratio / (1 - ratio)


def test_row_sparse_adam_is_adam_plus_its_carry_when_every_row_has_a_gradient():
    steps = _sparse_steps([np.arange(50), np.arange(50)[::-1], np.arange(50)])
    variables, _, _ = _row_sparse_run(steps)
    reference = _variables()[0]
    optimizer = keras.optimizers.Adam(0.1)
    for rows, values in steps:
        dense = np.zeros((50, 4), np.float32)
        dense[rows] = values
        optimizer.apply([tf.constant(dense)], [reference])
    np.testing.assert_allclose(variables[0].numpy(),
                               reference.numpy() + _carry(optimizer, reference),
                               rtol=1e-5, atol=1e-5)
    assert np.abs(_carry(optimizer, reference)).min() > 1e-3  # the carry is not nothing


def test_a_row_with_one_gradient_goes_where_dense_adams_momentum_takes_it():
    """The reason for the carry: a rare row's one gradient moves it as far as dense Adam does
    over the hundreds of steps its momentum lasts (about 10 times its first step), where a
    LazyAdam would move it by the first step alone. Late in training (step 10,000 on), where
    Adam's step size holds still."""
    lazy, dense = _variables()[0], _variables()[0]
    initial = lazy.numpy()
    lazy_adam = CompiledAdam(0.1, row_sparse=[lazy])
    dense_adam = keras.optimizers.Adam(0.1)
    gradient = np.zeros((50, 4), np.float32)
    gradient[3] = [0.5, -0.2, 0.01, 1.0]
    lazy_adam.build([lazy])
    dense_adam.build([dense])
    lazy_adam.iterations.assign(10_000)
    dense_adam.iterations.assign(10_000)
    lazy_adam.apply([tf.IndexedSlices(tf.constant(gradient[3:4]), tf.constant([3]),
                                      tf.constant([50, 4]))], [lazy])
    dense_adam.apply([tf.constant(gradient)], [dense])
    first_step = dense.numpy()[3] - initial[3]
    for _ in range(400):
        dense_adam.apply([tf.zeros((50, 4))], [dense])
    np.testing.assert_allclose(lazy.numpy()[3], dense.numpy()[3], rtol=1e-3)
    np.testing.assert_array_less(9 * np.abs(first_step), np.abs(lazy.numpy()[3] - initial[3]))
    np.testing.assert_array_equal(np.delete(lazy.numpy(), 3, 0), np.delete(initial, 3, 0))
