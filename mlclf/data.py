"""tf.data input pipelines: raw examples -> words -> padded id tensors and targets, in batches.

Two stages, because they cost very different amounts. Tokenising (`text.tokenize`: exact NFKC,
sentence and word splitting) is the expensive one and depends on nothing a run learns, so
`tokenize_examples` adds the words to each example and `cache_tokens` saves them to disk once
per corpus split, for every later run and epoch. Encoding (`encode_words`: vocabulary lookup,
padding) is cheap and depends on the run's vocabulary. `encode_features` chains both for raw text;
the exported serving model calls it, so training and serving can never tokenise differently.

Training batches can be language-balanced (the MHAN scheme): every batch holds
`batch_size // M` documents of each of the M languages, smaller languages cycled.
"""
from __future__ import annotations

import dataclasses
import math
import os
import shutil
import tempfile
from typing import Mapping, Optional

import numpy as np
import tensorflow as tf
from absl import logging

from mlclf import ngrams as ngrams_lib, progress as progress_lib, text, vocab as vocab_lib

_KEY_SEPARATOR = "\x1f"
# The pipeline's functions are straight-line TF ops: autograph has nothing to convert, and its
# conversion cache mixes up look-alike lambdas (warnings, and once a wrong function in a test).
_no_autograph = tf.autograph.experimental.do_not_convert
NGRAM_FEATURES = ("ngram_ids", "ngram_counts")  # the wide branch's input (ngrams.ngram_bag)


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """Shape of the model inputs: hierarchical [B,K,T] for HAN-style models, flat [B,N] for CNN."""

    hierarchical: bool = True
    max_sentences: int = 30
    max_words: int = 30
    num_subword_buckets: int = 0
    max_ngrams: int = 16
    num_true: int = 1
    # The wide branch's n-gram bag (ngram_ids, ngram_counts [B, F]), None without one.
    ngrams: Optional[ngrams_lib.NgramSpec] = None

    @property
    def word_shape(self) -> tuple:
        if self.hierarchical:
            return (self.max_sentences, self.max_words)
        return (self.max_words,)


def encode_features(texts: tf.Tensor, langs: tf.Tensor, vocabulary: "vocab_lib.Vocabulary",
                    spec: InputSpec) -> dict:
    """Raw strings [B] and language codes [B] -> `word_ids` (and `subword_ids`, the n-gram
    bag), padded/cut: the model's features for raw text."""
    features = encode_words(text.tokenize(texts, hierarchical=spec.hierarchical), langs,
                            vocabulary, spec)
    return {name: value.to_tensor(0) if isinstance(value, tf.RaggedTensor) else value
            for name, value in features.items()}


def encode_words(words: tf.RaggedTensor, langs: tf.Tensor, vocabulary: "vocab_lib.Vocabulary",
                 spec: InputSpec) -> dict:
    """Words ([B, (K), (T)] or [B, (N)], as `text.tokenize` gives them) -> padded/cut ids.

    The n-gram bag (`ngram_ids` int32, `ngram_counts` float32) stays ragged [B, (F)]: each
    document has its own number of n-grams, padded when batched (`encode_features`,
    `make_dataset`)."""
    word_ids = vocabulary.lookup(words, langs)
    features = {"word_ids": word_ids.to_tensor(0, shape=(None,) + spec.word_shape)}
    if spec.num_subword_buckets:
        ngrams = vocab_lib.subword_ids(words, spec.num_subword_buckets,
                                       max_ngrams=spec.max_ngrams)
        if isinstance(ngrams, tf.RaggedTensor):
            ngrams = ngrams.to_tensor(0, shape=(None,) + spec.word_shape + (spec.max_ngrams,))
        features["subword_ids"] = ngrams
    features["word_ids"] = tf.cast(features["word_ids"], tf.int32)
    if "subword_ids" in features:
        features["subword_ids"] = tf.cast(features["subword_ids"], tf.int32)
    if spec.ngrams:
        ids, counts = ngrams_lib.ngram_bag(words, spec.ngrams)
        features["ngram_ids"] = tf.cast(ids, tf.int32)
        features["ngram_counts"] = counts
    return features


def tokenize_examples(examples: tf.data.Dataset, hierarchical: bool, batch_size: int = 64,
                      progress: "progress_lib.Progress | None" = None) -> tf.data.Dataset:
    """Adds `words` (`text.tokenize` of `text`) to each example, in order, on every core;
    counting the documents done in `progress`, if given."""
    @_no_autograph
    def tokenize(batch):
        return {**batch, "words": text.tokenize(batch["text"], hierarchical=hierarchical)}

    batches = examples.ragged_batch(batch_size).map(
        tokenize, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if progress is not None:
        batches = batches.map(_no_autograph(progress.counted))
    return batches.unbatch()


def with_words(examples: tf.data.Dataset, hierarchical: bool) -> tf.data.Dataset:
    """The examples as they are if they carry `words` (from `cache_tokens`), else tokenised."""
    if "words" in examples.element_spec:
        return examples
    return tokenize_examples(examples, hierarchical)


def cache_tokens(examples: tf.data.Dataset, hierarchical: bool, path: str,
                 what: str = "tokenising") -> tf.data.Dataset:
    """`tokenize_examples`, saved at `path` the first time and loaded from there afterwards.

    `path` must name the split and the tokeniser (`text.fingerprint()`); the caller picks it.
    Building reports its progress on stderr, as `what`. Where `path` cannot be written (a
    read-only data folder), the tokens are computed on the fly, with a warning.
    """
    return _saved_once(lambda progress: tokenize_examples(examples, hierarchical,
                                                          progress=progress),
                       examples, path, what)


def ngram_bags(examples: tf.data.Dataset, spec: ngrams_lib.NgramSpec, batch_size: int = 64,
               progress: "progress_lib.Progress | None" = None) -> tf.data.Dataset:
    """The n-gram bag of each example's `words` (`ngrams.ngram_bag`), in order:
    {`ngram_ids` int32 [F], `ngram_counts` float32 [F]}."""
    @_no_autograph
    def bag(words):
        ids, counts = ngrams_lib.ngram_bag(words, spec)
        return {"ngram_ids": tf.cast(ids, tf.int32), "ngram_counts": counts}

    batches = examples.map(_no_autograph(lambda ex: ex["words"])).ragged_batch(batch_size).map(
        bag, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if progress is not None:
        batches = batches.map(_no_autograph(progress.counted))
    # Unbatched, a bag is a ragged spec of rank 0; through a function, a plain [F] tensor.
    return batches.unbatch().map(_no_autograph(lambda bag: dict(bag)))


def cache_ngram_bags(examples: tf.data.Dataset, spec: ngrams_lib.NgramSpec, path: str,
                     what: str = "hashing n-grams") -> tf.data.Dataset:
    """The examples (with `words`) with their n-gram bags (`ngram_bags`), the bags saved at
    `path` the first time and read back from there afterwards (`path` names the split, the
    tokeniser and `ngrams.fingerprint(spec)`: the caller picks it), so that neither the idf,
    nor training, nor each epoch's validation computes them again."""
    return _with_bags(examples, _saved_once(
        lambda progress: ngram_bags(examples, spec, progress=progress), examples, path, what))


def with_ngram_bags(examples: tf.data.Dataset, spec: "InputSpec") -> tf.data.Dataset:
    """The examples as they are if they carry their n-gram bags (`cache_ngram_bags`), else
    with bags computed from their words (tokenised first if need be)."""
    if "ngram_ids" in examples.element_spec:
        return examples
    examples = with_words(examples, spec.hierarchical)
    return _with_bags(examples, ngram_bags(examples, spec.ngrams))


def _with_bags(examples: tf.data.Dataset, bags: tf.data.Dataset) -> tf.data.Dataset:
    """Each example with its bag's features added (the two datasets in the same order)."""
    return tf.data.Dataset.zip(examples, bags).map(
        _no_autograph(lambda example, bag: {**example, **bag}))


def _saved_once(compute, examples: tf.data.Dataset, path: str, what: str) -> tf.data.Dataset:
    """`compute(progress)` (a dataset made from `examples`), saved at `path` the first time and
    loaded from there afterwards. The save goes to a temporary folder that is renamed into
    place when complete (and removed if the save fails), so an interrupted or concurrent build
    never leaves a partial cache. Where `path` cannot be written, it is computed on the fly,
    with a warning."""
    if not os.path.isdir(path):
        parent = os.path.dirname(path)
        try:
            os.makedirs(parent, exist_ok=True)
            staging = tempfile.mkdtemp(prefix=".cache-", dir=parent)
        except OSError as error:
            logging.warning("cannot save at %s (%s): %s on the fly", path, error, what)
            return compute(None)
        total = int(examples.cardinality())
        progress = progress_lib.Progress(what, total if total >= 0 else None)
        try:
            # One shard keeps the documents in their original order.
            compute(progress).save(staging, shard_func=lambda *_: tf.constant(0, tf.int64))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        progress.finish()
        try:
            os.rename(staging, path)
        except OSError:  # another process finished the same cache first
            shutil.rmtree(staging, ignore_errors=True)
    return tf.data.Dataset.load(path)


def language_table(languages) -> tf.lookup.StaticHashTable:
    """Language code -> index among the training languages; -1 for any other language."""
    return tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(tf.constant(list(languages), tf.string),
                                            tf.range(len(languages), dtype=tf.int32)),
        default_value=-1)


class TargetEncoder:
    """Label names -> multi-hot targets over the global output index (and NCE label ids).

    Outputs outside a document's label set get target -1 so that the loss ignores them; this is
    what makes one output layer behave as separate per-language heads.
    """

    def __init__(self, label_space, languages, num_true: int = 1):
        self.num_outputs = label_space.num_outputs
        self.num_true = num_true
        keys, ids, masks = [], [], []
        for lang in languages:
            mask = np.asarray(label_space.mask(lang), dtype=np.float32)
            masks.append(mask)
            for name in label_space.labels(lang):
                keys.append(lang + _KEY_SEPARATOR + name)
                ids.append(label_space.encode(lang, [name])[0])
        self._label_table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant(keys, tf.string),
                                                tf.constant(ids, tf.int64)), default_value=-1)
        self._lang_table = language_table(languages)
        self._masks = tf.constant(np.stack(masks), tf.float32)

    def __call__(self, langs: tf.Tensor, labels: tf.RaggedTensor) -> dict:
        doc_langs = tf.gather(langs, labels.value_rowids())
        keys = labels.with_flat_values(
            tf.strings.join([doc_langs, labels.flat_values], separator=_KEY_SEPARATOR))
        label_ids = self._label_table.lookup(keys).to_tensor(-1)
        # A sum, not a max: a batch where no document has a label gives [B, 0] ids, whose max
        # would be -inf. -1 ids one-hot to zeros.
        multi_hot = tf.minimum(tf.reduce_sum(tf.one_hot(label_ids, self.num_outputs), axis=1), 1.0)
        mask = tf.gather(self._masks, self._lang_table.lookup(langs))
        targets = {"labels": tf.where(mask > 0, multi_hot, -tf.ones_like(multi_hot))}
        # NCE needs exactly num_true ids per document: repeat a document's labels cyclically;
        # documents without labels get -1 everywhere (the NCE loss skips them).
        counts = tf.reduce_sum(tf.cast(label_ids >= 0, tf.int32), axis=1, keepdims=True)
        positions = tf.range(self.num_true)[tf.newaxis, :] % tf.maximum(counts, 1)
        padded = tf.concat([label_ids, -tf.ones([tf.shape(label_ids)[0], 1], label_ids.dtype)],
                           axis=1)
        repeated = tf.gather(padded, positions, batch_dims=1)
        targets["label_ids"] = tf.where(counts > 0, repeated, -tf.ones_like(repeated))
        return targets


def subsample(dataset: tf.data.Dataset, fraction: float, seed: int) -> tf.data.Dataset:
    """A seeded, deterministic `fraction` of a finite dataset (at least one example)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"train_fraction must be in (0, 1], got {fraction}")
    if fraction == 1:
        return dataset
    size = int(dataset.cardinality())
    if size < 0:
        size = int(dataset.reduce(0, _no_autograph(lambda count, _: count + 1)))
    keep = max(1, math.ceil(fraction * size))
    return dataset.shuffle(size, seed=seed, reshuffle_each_iteration=False).take(keep)


def _encode_language(dataset, vocabulary, spec, targets, languages, batch_size):
    """Encodes one language's examples in large batches, tokenising them first if need be."""
    training_index = language_table(languages)
    fields = ("words", "lang", "labels")
    if spec.ngrams:  # the bags the examples carry (cache_ngram_bags), or computed here
        dataset, fields = with_ngram_bags(dataset, spec), fields + NGRAM_FEATURES
    else:
        dataset = with_words(dataset, spec.hierarchical)
    words_only = dataclasses.replace(spec, ngrams=None)

    @_no_autograph
    def encode(batch):
        features = encode_words(batch["words"], batch["lang"], vocabulary, words_only)
        features.update({name: batch[name] for name in NGRAM_FEATURES if name in batch})
        features["lang_id"] = training_index.lookup(batch["lang"])
        return features, targets(batch["lang"], batch["labels"])

    return (dataset.map(_no_autograph(lambda ex: {k: ex[k] for k in fields}))
            .ragged_batch(batch_size)
            .map(encode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .unbatch()
            # An unbatched n-gram bag is a ragged spec of rank 0, which padded_batch refuses;
            # through a function it comes out a plain [F] tensor.
            .map(_no_autograph(lambda features, targets: (features, targets))))


def _padded_concat(*parts):
    """(features, targets) batches of the languages -> one batch. An n-gram bag is padded to
    the widest document of its own batch, so those are padded to the widest of all first."""
    features = [dict(part[0]) for part in parts]
    for name in NGRAM_FEATURES:
        if name in features[0]:
            width = tf.reduce_max([tf.shape(f[name])[1] for f in features])
            for f in features:
                f[name] = tf.pad(f[name], [[0, 0], [0, width - tf.shape(f[name])[1]]])
    return tf.nest.map_structure(lambda *t: tf.concat(t, 0),
                                 *[(f, part[1]) for f, part in zip(features, parts)])


def _one_after_another(datasets: Mapping[str, tf.data.Dataset]) -> tf.data.Dataset:
    ordered = list(datasets.values())
    dataset = ordered[0]
    for following in ordered[1:]:
        dataset = dataset.concatenate(following)
    return dataset


def make_dataset(examples_by_lang: Mapping[str, tf.data.Dataset], vocabulary, label_space,
                 spec: InputSpec, batch_size: int, *, training_languages,
                 training: bool, seed: int = 0, train_fraction: float = 1.0,
                 balanced: bool = True, encode_batch_size: int = 256) -> tf.data.Dataset:
    """Batches of (features, targets) for the languages in `examples_by_lang`.

    Examples are {text, lang, labels, ...}, with `words` when they come from `cache_tokens`
    (otherwise they are tokenised here, on every pass).

    training=True: subsample by `train_fraction`, cache the encoded documents, shuffle, repeat
    forever, and (with `balanced`) give every language an equal share of each batch; the
    stream is a function of `seed` alone, the same for every iterator over it.
    training=False: every document exactly once, in order, languages one after another.
    `training_languages` fixes the meaning of `lang_id` (the model's per-language parts).
    """
    languages = list(examples_by_lang)
    targets = TargetEncoder(label_space, languages, spec.num_true)
    encoded = {}
    for offset, (lang, examples) in enumerate(examples_by_lang.items()):
        if training:
            examples = subsample(examples, train_fraction, seed + offset)
        encoded[lang] = _encode_language(examples, vocabulary, spec, targets,
                                         list(training_languages), encode_batch_size)
    if not training:
        return _one_after_another(encoded).padded_batch(batch_size).prefetch(tf.data.AUTOTUNE)

    # Every iterator over the stream reads the same batches (no reshuffle per iterator: the
    # shuffle follows the repeat, so epochs are mixed anyway): a resumed run skips the batches
    # trained on and reads what an uninterrupted run reads next.
    if balanced and len(languages) > 1:
        per_language = max(1, batch_size // len(languages))
        if per_language * len(languages) != batch_size:
            logging.warning("batch_size %d is not a multiple of %d languages: batches hold %d",
                            batch_size, len(languages), per_language * len(languages))
        streams = tuple(
            ds.cache().repeat().shuffle(4096, seed=seed + i, reshuffle_each_iteration=False)
            .padded_batch(per_language, drop_remainder=True)
            for i, ds in enumerate(encoded.values()))
        dataset = tf.data.Dataset.zip(streams).map(_no_autograph(_padded_concat),
                                                   num_parallel_calls=tf.data.AUTOTUNE)
    else:
        dataset = _one_after_another(encoded).cache().repeat().shuffle(
            8192, seed=seed, reshuffle_each_iteration=False).padded_batch(batch_size,
                                                                          drop_remainder=True)
    return dataset.prefetch(tf.data.AUTOTUNE)
