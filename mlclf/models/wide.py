"""The wide branch: a TF-IDF n-gram linear model inside the network, whose logits add to the
head's (one model, one export; the deep part keeps its attention).

It reads a document's hashed n-gram bag (`ngrams.ngram_bag`: `ngram_ids` [B, F], 0 = padding,
and `ngram_counts`). A feature's value is (1 + log count) * idf and each document's values are
L2-normalised, as in a sublinear TF-IDF vectoriser; the logits are those values times a
[buckets + 1, outputs] kernel. The idf comes from the training split
(`document_frequencies`) and is a weight of the layer, so the export weighs features as
training did.

The logits are scaled by `gain`: Adam moves each weight by about its learning rate whatever
the gradient's size, so a gain of g makes the branch learn as if at g times the model's rate
(`--wide_learning_rate`), which a linear model over small TF-IDF values needs, without an
optimizer per branch.

With `num_languages`, each feature also has a copy of its own in every language (its id mixed
with the document's language into a second kernel): the shared kernel learns what holds across
languages, each language's copy what is particular to it ("frustratingly easy" domain
adaptation, Daumé III 2007). A document of a language the model never trained on (lang_id -1)
is read with the shared kernel alone. `shared_weight` scales the shared kernel's logits for
a training language's documents (0: each language reads its own copies alone, a linear model
per language; an unseen language still reads the shared kernel at weight 1).

With `log_count_ratio` (NBSVM, Wang and Manning 2012), each feature's value is also scaled,
per output, by its naive-Bayes log-count ratio on the training split (`log_count_ratios`):
how much more often the n-gram occurs in documents with the output than in those without.
Adam moves a weight by about its step size whatever its feature's scale, so an n-gram that
tells outputs apart learns faster than one that occurs everywhere.
"""
import keras
import numpy as np
import tensorflow as tf

from mlclf.models.layers import register

# Odd multipliers: id -> id * _MIX + language offset, modulo a power of two, is a bijection.
_MIX = 0x9E3779B1
_LANGUAGE_STEP = 0x85EBCA77


def language_copy_ids(ids, lang_id, buckets: int):
    """The ids [B, F] of the language copies of features `ids` [B, F] of documents in languages
    `lang_id` [B] (>= 0): another id in [1, buckets] per (feature, language); 0 stays 0."""
    ids = tf.cast(ids, tf.int64)
    offset = tf.cast(lang_id, tf.int64)[:, None] * _LANGUAGE_STEP
    return tf.where(ids > 0, ((ids - 1) * _MIX + offset) % buckets + 1, 0)


def idf_weights(document_frequency, num_documents: int, min_df: int = 2) -> np.ndarray:
    """scikit-learn's smoothed idf, log((1 + n) / (1 + df)) + 1, and 0 for features seen in
    fewer than `min_df` training documents (rare n-grams are noise) and for padding (id 0)."""
    df = np.asarray(document_frequency, np.float64)
    idf = np.log((1.0 + num_documents) / (1.0 + df)) + 1.0
    idf[df < min_df] = 0.0
    idf[0] = 0.0
    return idf.astype(np.float32)


def log_count_ratios(by_output, document_frequency, min_df: int = 2,
                     alpha: float = 1.0) -> np.ndarray:
    """float32 [rows, outputs]: NBSVM's r = log(p / |p|_1) - log(q / |q|_1) per output, where
    p = alpha + the training documents with the output that hold the feature (`by_output`
    [rows, outputs]) and q = alpha + those without it (from `document_frequency` [rows]); over
    the features the idf keeps (at least `min_df` documents), 0 for the others."""
    kept = (np.asarray(document_frequency) >= min_df)[:, None]
    kept[0] = False
    with_output = np.asarray(by_output, np.float64)
    p = alpha + with_output
    q = alpha + np.asarray(document_frequency, np.float64)[:, None] - with_output

    def log_share(counts):  # log(counts / |counts|_1), the norm over the kept features
        return np.log(counts / np.maximum((counts * kept).sum(0), alpha))

    return np.where(kept, log_share(p) - log_share(q), 0.0).astype(np.float32)


@register
class NgramLinear(keras.layers.Layer):
    """(ngram_ids [B, F], ngram_counts [B, F], lang_id [B]) -> logits [B, num_outputs]."""

    def __init__(self, num_outputs, buckets, num_languages=0, gain=1.0, shared_weight=1.0,
                 log_count_ratio=False, **kwargs):
        super().__init__(**kwargs)
        self.num_outputs = num_outputs
        self.log_count_ratio = bool(log_count_ratio)
        self.gain = float(gain)
        self.shared_weight = float(shared_weight)
        self.buckets = buckets
        self.num_languages = num_languages
        self.supports_jit = False  # the bag's non-zero values: a data-dependent shape

    def build(self, *input_shapes):
        rows = self.buckets + 1
        self.kernel = self.add_weight(name="kernel", shape=(rows, self.num_outputs),
                                      initializer="zeros")
        self.idf = self.add_weight(name="idf", shape=(rows,), initializer="ones",
                                   trainable=False)
        self.ratio = self._ratio_weight("ratio")
        if self.num_languages:
            self.language_kernel = self.add_weight(
                name="language_kernel", shape=(rows, self.num_outputs), initializer="zeros")
            self.language_idf = self.add_weight(name="language_idf", shape=(rows,),
                                                initializer="ones", trainable=False)
            self.language_ratio = self._ratio_weight("language_ratio")

    def _ratio_weight(self, name):
        if not self.log_count_ratio:
            return None
        return self.add_weight(name=name, shape=(self.buckets + 1, self.num_outputs),
                               initializer="ones", trainable=False)

    @property
    def row_sparse_weights(self) -> list:
        """The kernels: a batch reads a few of their rows, which Adam updates alone
        (optimizers.CompiledAdam's row-sparse variables)."""
        return [self.kernel] + ([self.language_kernel] if self.num_languages else [])

    def set_idf(self, frequencies) -> None:
        """From the training split's document frequencies (`task.ngram_frequencies`; by output
        too with `log_count_ratio`)."""
        self.idf.assign(idf_weights(frequencies["shared"], frequencies["documents"]))
        if self.log_count_ratio:
            self.ratio.assign(log_count_ratios(frequencies["shared_by_output"],
                                               frequencies["shared"]))
        if self.num_languages:
            self.language_idf.assign(idf_weights(frequencies["language"],
                                                 frequencies["documents"]))
            if self.log_count_ratio:
                self.language_ratio.assign(log_count_ratios(
                    frequencies["language_by_output"], frequencies["language"]))

    def _logits(self, ids, counts, kernel, idf, ratio):
        values = tf.where(counts > 0, 1.0 + tf.math.log(tf.maximum(counts, 1.0)), 0.0)
        values = tf.math.l2_normalize(values * tf.gather(idf, ids), axis=-1)
        # Only the non-zero values: the kernel's gradient is then rows, not a dense matrix.
        real = tf.where(values != 0)                                   # [nnz, 2]
        real_ids = tf.gather_nd(ids, real)
        rows = tf.gather(kernel, real_ids)                             # [nnz, outputs]
        if ratio is not None:
            rows *= tf.gather(ratio, real_ids)
        return tf.math.unsorted_segment_sum(rows * tf.gather_nd(values, real)[:, None],
                                            real[:, 0], tf.shape(ids)[0])

    def call(self, ngram_ids, ngram_counts, lang_id):
        ids = tf.cast(ngram_ids, tf.int64)
        counts = tf.cast(ngram_counts, tf.float32)
        logits = self._logits(ids, counts, self.kernel, self.idf, self.ratio)
        if self.num_languages:
            lang_id = tf.cast(lang_id, tf.int64)
            known = lang_id >= 0
            logits *= tf.where(known, self.shared_weight, 1.0)[:, None]
            copies = language_copy_ids(ids, tf.maximum(lang_id, 0), self.buckets)
            logits += self._logits(copies, tf.where(known[:, None], counts, 0.0),
                                   self.language_kernel, self.language_idf,
                                   self.language_ratio)
        return self.gain * logits

    def get_config(self):
        return {**super().get_config(), "num_outputs": self.num_outputs,
                "buckets": self.buckets, "num_languages": self.num_languages, "gain": self.gain,
                "shared_weight": self.shared_weight, "log_count_ratio": self.log_count_ratio}
