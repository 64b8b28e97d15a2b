"""Registered Keras layers shared by the models (all serialisable; no Lambda layers).

Padding is given explicitly as a boolean `valid` argument (True at real positions, i.e.
`word_ids != 0`) rather than through Keras' implicit masks: the hierarchical models reshape
and route tensors between languages, and an explicit argument cannot get lost on the way.
"""
import copy

import keras
import tensorflow as tf

register = keras.saving.register_keras_serializable(package="mlclf")


def check_languages(lang_id, num_languages):
    """lang_id as int32, checked to be in [0, num_languages): an unseen language (-1) has no
    weights. Eager and graph mode only: XLA drops the check (and logs that it does)."""
    lang_id = tf.cast(lang_id, tf.int32)
    tf.debugging.assert_non_negative(lang_id, "lang_id must be a training language")
    tf.debugging.assert_less(lang_id, num_languages, "lang_id must be a training language")
    return lang_id


def _stacked(initializer):
    """Initialises a `[M, ...]` weight as M independent draws of `initializer` for `[...]`, as M
    separate layers would be (glorot on the whole `[M, D, H]` would count M into the fans)."""
    def initialize(shape, dtype=None):
        # A fresh initializer per copy: one unseeded instance repeats its values.
        return keras.ops.stack([keras.initializers.get(initializer)(shape[1:], dtype=dtype)
                                for _ in range(shape[0])])
    return initialize


def _of_each_document(weights, lang_id):
    """Stacked per-language weights `[M, ...]` -> each document's language's `[B, ...]`.

    A one-hot product rather than tf.gather: the same values, but the gradient is a dense
    `[M, B] x [B, ...]` product instead of a scatter-add of B full weight copies, which runs
    single-threaded (benchmarks/results/train_throughput.md)."""
    one_hot = tf.one_hot(lang_id, tf.shape(weights)[0], dtype=weights.dtype)
    return tf.tensordot(one_hot, tf.convert_to_tensor(weights), axes=1)


def _per_document_matmul(inputs, kernels):
    """inputs [B, ..., D] times each document's own kernels [B, D, H] -> [B, ..., H]."""
    if inputs.shape.rank == 3:
        return tf.linalg.matmul(inputs, kernels)
    # One [positions, D] x [D, H] product per document (einsum's "b...d" would treat the
    # positions as batch dimensions too: one tiny product per position).
    shape = tf.shape(inputs)
    outputs = tf.linalg.matmul(tf.reshape(inputs, [shape[0], -1, shape[-1]]), kernels)
    return tf.reshape(outputs, tf.concat([shape[:-1], tf.shape(kernels)[-1:]], axis=0))


def _by_language(inputs, lang_id, num_languages, transform):
    """Rows `[N, D]` grouped by language (`lang_id [N]` non-decreasing) ->
    `transform(rows_of_language_m, m)`, concatenated. For many rows of few languages (the word
    types of a batch), where a per-row gather of `[D, H]` kernels would move N*D*H floats; the
    rows come grouped so that each language's are a slice (a partition and a stitch back into
    row order cost more than the products)."""
    counts = tf.math.bincount(lang_id, minlength=num_languages, maxlength=num_languages)
    groups = tf.split(inputs, counts, num=num_languages)
    return tf.concat([transform(rows, lang) for lang, rows in enumerate(groups)], axis=0)


def _context_scores(hidden, context):
    """hidden [..., D] . context [D] -> [...], as a matrix-vector product both ways: the
    broadcast-multiply-and-sum form's gradient takes a broadcast, two multiplications and a sum
    over [..., D]; a [P, D] x [D, 1] matmul's, a slow [P, 1] x [1, D] product."""
    return _matvec_both_ways(hidden, tf.convert_to_tensor(context))  # a variable's value


@tf.custom_gradient
def _matvec_both_ways(hidden, context):
    rows = tf.reshape(hidden, [-1, tf.shape(hidden)[-1]])
    scores = tf.reshape(tf.linalg.matvec(rows, context), tf.shape(hidden)[:-1])

    def gradient(upstream):
        upstream = tf.convert_to_tensor(upstream)  # from a gather of the scores: sparse
        d_context = tf.linalg.matvec(rows, tf.reshape(upstream, [-1]), transpose_a=True)
        return upstream[..., None] * context, d_context

    return scores, gradient


def _per_document_vector(vectors, rank):
    """vectors [B, H] -> [B, 1, ..., 1, H], which broadcasts against a rank-`rank` [B, ..., H]."""
    for _ in range(rank - 2):
        vectors = vectors[:, None]
    return vectors


@register
class WordEmbedding(keras.layers.Layer):
    """Word vectors, optionally averaged with hashed character n-gram vectors (fastText-style).

    With `num_subword_buckets > 0` a word is the mean of its own vector and the vectors of its
    n-grams (`subword_ids [..., G]`, ids in [1, buckets], 0 = padding), so rare and unknown
    words still get informative vectors. `embedding_matrix` `[vocab_size, embed_dim]` only sets
    the initial word vectors; it is not part of the config (saved weights restore it).
    """

    def __init__(self, vocab_size, embed_dim, num_subword_buckets=0, trainable_embeddings=True,
                 embedding_matrix=None, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.embed_dim = embed_dim
        self.num_subword_buckets = num_subword_buckets
        self.trainable_embeddings = trainable_embeddings
        self.words = keras.layers.Embedding(
            vocab_size, embed_dim, weights=embedding_matrix, trainable=trainable_embeddings,
            name="words")
        self.subwords = (keras.layers.Embedding(num_subword_buckets + 1, embed_dim, name="subwords")
                         if num_subword_buckets else None)

    def build(self, input_shape):
        self.words.build()
        if self.subwords is not None:
            self.subwords.build()

    def call(self, word_ids, subword_ids=None):
        # A gather from the variable itself (a sparse read): rows updated in place by a lazy
        # optimizer (optimizers.CompiledAdam's row_sparse) put the variable in copy-on-read
        # mode, where a dense read, Embedding's, would copy all of it at every step.
        vectors = tf.gather(self.words.embeddings.value, word_ids)
        if self.subwords is None:
            return vectors
        if subword_ids is None:
            raise ValueError("this embedding averages subword vectors: pass `subword_ids`")
        word_present = tf.cast(word_ids != 0, vectors.dtype)[..., None]
        ngram_present = tf.cast(subword_ids != 0, vectors.dtype)[..., None]
        total = vectors * word_present + tf.reduce_sum(
            self.subwords(subword_ids) * ngram_present, axis=-2)
        count = word_present + tf.reduce_sum(ngram_present, axis=-2)
        return tf.math.divide_no_nan(total, count)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size,
                "embed_dim": self.embed_dim, "num_subword_buckets": self.num_subword_buckets,
                "trainable_embeddings": self.trainable_embeddings}


@register
class LanguageDense(keras.layers.Layer):
    """Dense(units, activation) over the last axis of `[B, ..., D]` with one kernel and bias per
    language, stacked (`kernel [M, D, units]`, `bias [M, units]`): each document is multiplied by
    its language's kernel, selected by `lang_id` (int `[B]` in [0, M), checked by the caller,
    HierarchicalEncoder: an id outside would select zero weights). Static shapes and the FLOPs
    of a shared Dense whatever the mix of languages in the batch, so it compiles once with XLA.
    Rows `[N, D]` with `lang_id [N]` (a batch's word types, of many languages), grouped by
    language (`lang_id` non-decreasing), are instead multiplied language by language.
    """

    def __init__(self, units, num_languages, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.num_languages = num_languages
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel",
                                      shape=(self.num_languages, input_shape[-1], self.units),
                                      initializer=_stacked("glorot_uniform"))
        self.bias = self.add_weight(name="bias", shape=(self.num_languages, self.units),
                                    initializer="zeros")

    def call(self, inputs, lang_id):
        if inputs.shape.rank == 2:  # one row per lang_id entry
            # Unstacked once (indexing per language: one full-size gradient per index).
            kernels, biases = tf.unstack(self.kernel), tf.unstack(self.bias)
            outputs = _by_language(inputs, lang_id, self.num_languages,
                                   lambda rows, lang: rows @ kernels[lang] + biases[lang])
        else:
            outputs = _per_document_matmul(inputs, _of_each_document(self.kernel, lang_id))
            outputs += _per_document_vector(_of_each_document(self.bias, lang_id),
                                            outputs.shape.rank)
        return self.activation(outputs)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "num_languages": self.num_languages,
                "activation": keras.activations.serialize(self.activation)}


@register
class SequenceEncoder(keras.layers.Layer):
    """Contextualises each position of `[..., P, D]` sequences: 'dense', 'gru' or 'bigru'.

    'dense' is a position-wise Dense(units, relu); 'gru' a GRU(units); 'bigru' a bidirectional
    GRU with `units` per direction (output 2*units). Recurrent encoders skip padded steps.
    With `num_languages` ('dense' only) the Dense has one kernel per language (LanguageDense)
    and `call` takes the batch's `lang_id`; per-language GRUs go through PerLanguage.
    """

    KINDS = ("dense", "gru", "bigru")

    def __init__(self, kind, units, num_languages=None, **kwargs):
        super().__init__(**kwargs)
        if kind not in self.KINDS:
            raise ValueError(f"unknown encoder {kind!r}; expected one of {self.KINDS}")
        if num_languages is not None and kind != "dense":
            raise ValueError(f"per-language {kind} encoders go through PerLanguage")
        self.kind = kind
        self.units = units
        self.num_languages = num_languages
        if kind == "dense" and num_languages is not None:
            self.inner = LanguageDense(units, num_languages, activation="relu", name="dense")
        elif kind == "dense":
            self.inner = keras.layers.Dense(units, activation="relu", name="dense")
        elif kind == "gru":
            self.inner = keras.layers.GRU(units, return_sequences=True, name="gru")
        else:
            self.inner = keras.layers.Bidirectional(
                keras.layers.GRU(units, return_sequences=True), name="bigru")
        self.output_dim = 2 * units if kind == "bigru" else units
        # On GPU Keras runs GRUs with cuDNN, which XLA cannot compile (keras-team/keras#18456):
        # this keeps Keras' jit_compile="auto" (XLA on GPU) from failing the whole model.
        self.supports_jit = kind == "dense"

    def build(self, input_shape):
        self.inner.build((None, *input_shape[-2:]))

    def call(self, inputs, valid, lang_id=None):
        if isinstance(self.inner, LanguageDense):
            return self.inner(inputs, lang_id)
        if self.kind == "dense":
            return self.inner(inputs)
        # RNNs take [batch, steps, dim]: fold the leading axes (e.g. documents x sentences).
        shape = tf.shape(inputs)
        steps = shape[-2]
        sequences = tf.reshape(inputs, [-1, steps, inputs.shape[-1]])
        valid = tf.reshape(valid, [-1, steps])
        # Keras' cuDNN path (GPU) rejects fully padded rows, and padded sentences are all
        # padding: give such rows one step. Its output is unused: pooling reads the true `valid`.
        valid = tf.logical_or(valid, tf.range(steps) == 0)
        outputs = self.inner(sequences, mask=valid)
        return tf.reshape(outputs, tf.concat([shape[:-1], [self.output_dim]], axis=0))

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "units": self.units,
                "num_languages": self.num_languages}


def _weighted_sum(inputs, weights):
    """sum_p weights[..., p] * inputs[..., p, :]"""
    return tf.reduce_sum(weights[..., None] * inputs, axis=-2)


@register
class MaskedAttention(keras.layers.Layer):
    """HAN attention pooling over the positions of `[B, ..., P, D]`: returns (vector, weights).

    u_p = tanh(W h_p + b), weight_p = softmax_p(u_p . c) over real positions, with a learned
    context vector c. Padded positions get exactly zero weight; a row without real positions
    (a padded sentence) gets all-zero weights and a zero vector, never NaN.
    With `num_languages`, W, b and c are stacked per language (`kernel [M, D, D]`, `bias [M, D]`,
    `context [M, D]`) and each document uses its language's, gathered by the `lang_id` that
    `call` then takes (as for LanguageDense): static shapes and the FLOPs of one shared
    attention, so XLA compiles it once.
    """

    def __init__(self, num_languages=None, **kwargs):
        super().__init__(**kwargs)
        self.num_languages = num_languages

    def build(self, input_shape):
        dim = input_shape[-1]
        if self.num_languages is None:
            stack, initializer = (), keras.initializers.get
        else:
            stack, initializer = (self.num_languages,), _stacked
        self.kernel = self.add_weight(name="kernel", shape=(*stack, dim, dim),
                                      initializer=initializer("glorot_uniform"))
        self.bias = self.add_weight(name="bias", shape=(*stack, dim), initializer="zeros")
        self.context = self.add_weight(name="context", shape=(*stack, dim),
                                       initializer=initializer("glorot_uniform"))

    def call(self, inputs, valid, lang_id=None):
        weights = self.weights_from_scores(self.score(inputs, lang_id), valid)
        return _weighted_sum(inputs, weights), weights

    def score(self, inputs, lang_id=None):
        """u_p . c for every position of `[B, ..., P, D]`, or for rows `[N, D]` grouped by
        language, `lang_id [N]` non-decreasing (as for LanguageDense)."""
        if self.num_languages is None:
            hidden = tf.tanh(tf.tensordot(inputs, self.kernel, axes=1) + self.bias)
            return _context_scores(hidden, self.context)
        if inputs.shape.rank == 2:
            kernels, biases, contexts = (tf.unstack(weight) for weight in
                                         (self.kernel, self.bias, self.context))

            def score_rows(rows, lang):
                return _context_scores(tf.tanh(rows @ kernels[lang] + biases[lang]),
                                       contexts[lang])
            return _by_language(inputs, lang_id, self.num_languages, score_rows)
        rank = inputs.shape.rank
        hidden = tf.tanh(_per_document_matmul(inputs, _of_each_document(self.kernel, lang_id))
                         + _per_document_vector(_of_each_document(self.bias, lang_id), rank))
        context = _per_document_vector(_of_each_document(self.context, lang_id), rank)
        return tf.reduce_sum(hidden * context, axis=-1)

    @staticmethod
    def weights_from_scores(scores, valid):
        """Softmax over the real positions (last axis); exactly 0 on padding."""
        # The dtype's minimum, not -inf: an all-padding row then softmaxes to finite values,
        # which the multiplication by the mask turns into exact zeros.
        scores = tf.where(valid, scores, tf.constant(scores.dtype.min, scores.dtype))
        return tf.nn.softmax(scores, axis=-1) * tf.cast(valid, scores.dtype)

    def get_config(self):
        return {**super().get_config(), "num_languages": self.num_languages}


@register
class MaskedAverage(keras.layers.Layer):
    """Mean over the real positions of `[..., P, D]`; same outputs as MaskedAttention.

    The weights are 1/(number of real positions), exactly 0 on padding; all zero for a row
    without real positions.
    """

    def call(self, inputs, valid):
        weights = self.weights_from_valid(valid, inputs.dtype)
        return _weighted_sum(inputs, weights), weights

    @staticmethod
    def weights_from_valid(valid, dtype):
        valid = tf.cast(valid, dtype)
        return tf.math.divide_no_nan(valid, tf.reduce_sum(valid, axis=-1, keepdims=True))


@register
class PerLanguage(keras.layers.Layer):
    """One copy of `layer` per language; each document goes through its language's copy only.

    For layers that cannot stack their weights per language (the recurrent encoders; Dense
    encoders and attention take `num_languages` instead). The batch is split by `lang_id` in
    [0, num_languages) (tf.dynamic_partition), each group runs through its copy, and the results
    are put back in batch order (tf.dynamic_stitch). A document thus costs one copy, not
    num_languages, and a batch may lack languages. The group sizes are data-dependent shapes:
    XLA would compile again for every new mix of languages, so models with this layer train
    without XLA. An unseen language (lang_id -1) is an error: it has no copy. Wraps layers
    called as `layer(inputs, valid)` whose inputs, `valid` and outputs (a tensor or a tuple of
    them) all have the batch first.
    """

    def __init__(self, layer, num_languages, **kwargs):
        super().__init__(**kwargs)
        if isinstance(layer, keras.layers.Layer):
            layer = keras.saving.serialize_keras_object(layer)
        self.layer_config = layer
        self.num_languages = num_languages
        self.copies = []
        for lang in range(num_languages):
            config = copy.deepcopy(layer)
            config["config"]["name"] = f"{config['config']['name']}_{lang}"
            self.copies.append(keras.saving.deserialize_keras_object(config))

    def build(self, input_shape):
        # Build every copy now: a copy whose language is missing from the first batch would
        # otherwise try to create its weights later, inside a traced function.
        for layer in self.copies:
            layer.build(input_shape)

    def call(self, inputs, valid, lang_id):
        lang_id = check_languages(lang_id, self.num_languages)
        positions = tf.dynamic_partition(tf.range(tf.shape(lang_id)[0]), lang_id,
                                         self.num_languages)
        groups = zip(tf.dynamic_partition(inputs, lang_id, self.num_languages),
                     tf.dynamic_partition(valid, lang_id, self.num_languages))
        outputs = [layer(x, v) for layer, (x, v) in zip(self.copies, groups)]
        return tf.nest.map_structure(lambda *parts: tf.dynamic_stitch(positions, list(parts)),
                                     *outputs)

    def get_config(self):
        return {**super().get_config(), "layer": self.layer_config,
                "num_languages": self.num_languages}


@register
class ZeroPadPositions(keras.layers.Layer):
    """Sets the vectors of padded positions (`word_ids == 0`) of `[B, N, D]` to zero."""

    def call(self, inputs, word_ids):
        return inputs * tf.cast(word_ids != 0, inputs.dtype)[..., None]
