"""Hashed n-gram bags of documents: what the wide (linear) branch of a model reads.

A document's bag holds the character n-grams of its words (of "<word>", so that word starts and
ends are n-grams of their own), its word n-grams (within a sentence) and how often each occurs
in the document, each n-gram hashed (FarmHash, stable across platforms) to an id in
[1, buckets]; 0 is padding. It is the input of a TF-IDF n-gram linear model
(`models.wide.NgramLinear` weighs the counts). An n-gram's key is a tag (character or word)
and its values (code points, or the words' own hashes), so a word never shares an id with the
same letters read as a character n-gram, nor a bigram with a unigram, but by a hash collision.
With `romanized`, a word in a non-Latin script also gives the character n-grams of its
romanisation (`mlclf.romanize`), so that scripts share n-grams with Latin-script words.

The bag is computed from the words `text.tokenize` gives, in the input pipeline and in the
export alike (`data.encode_words`). Its cost is linear in the words read: at most `max_words`
words of a document enter it.
"""
from __future__ import annotations

import dataclasses
import hashlib

import tensorflow as tf

from mlclf import romanize


def parse_orders(value: str, name: str) -> tuple:
    """"2-5" -> (2, 3, 4, 5); "1" -> (1,); "" -> () (none), with an error naming the flag."""
    value = value.strip()
    if not value:
        return ()
    low, _, high = value.partition("-")
    try:
        low, high = int(low), int(high or low)
    except ValueError:
        raise ValueError(f"--{name}={value!r}: expected an order or a range such as 2-5") from None
    if not 1 <= low <= high <= 9:
        raise ValueError(f"--{name}={value!r}: orders must be between 1 and 9, lowest first")
    return tuple(range(low, high + 1))


@dataclasses.dataclass(frozen=True)
class NgramSpec:
    """Which n-grams make a document's bag, and how many hash buckets they share."""

    buckets: int = 1 << 20
    char_orders: tuple = (2, 3, 4, 5)
    word_orders: tuple = (1, 2)
    max_words: int = 5000
    # Also the character n-grams of a word in a non-Latin script romanised (`romanize`), under
    # the same keys as Latin-script words' own: scripts share n-grams.
    romanized: bool = False


def fingerprint(spec: NgramSpec) -> str:
    """Names the bags of `spec` as this module's code makes them, so that bags saved by one
    version or setting (data.cache_ngram_bags) are never read back by another; with
    `spec.romanized`, the romanisation's own code too."""
    with open(__file__, "rb") as source:
        digest = hashlib.sha256(source.read() + repr(spec).encode())
    if spec.romanized:
        digest.update(romanize.fingerprint().encode())
    return digest.hexdigest()[:12]


def _first_words(words: tf.RaggedTensor, max_words: int) -> tf.RaggedTensor:
    """The first `max_words` words of each document, sentences kept."""
    doc_of_word = words.nested_value_rowids()[0]
    if words.ragged_rank == 2:
        doc_of_word = tf.gather(doc_of_word, words.values.value_rowids())
    position = tf.range(tf.size(doc_of_word, out_type=tf.int64))
    first = tf.gather(tf.concat([[0], tf.cumsum(tf.math.bincount(
        doc_of_word, minlength=words.nrows(), dtype=tf.int64))], 0), doc_of_word)
    return tf.ragged.boolean_mask(words, words.with_flat_values(position - first < max_words))


def _windows(values, row_splits, order: int):
    """Every run of `order` consecutive `values` (flat [V]) inside one row of `row_splits`:
    (windows [N, order], row of each [N])."""
    rows = tf.ragged.row_splits_to_segment_ids(row_splits)
    starts = tf.range(tf.size(values, out_type=tf.int64))
    whole = starts + order <= tf.gather(row_splits[1:], rows)
    starts = tf.boolean_mask(starts, whole)
    return (tf.gather(values, starts[:, None] + tf.range(order, dtype=tf.int64)[None, :]),
            tf.boolean_mask(rows, whole))


def _bucket_ids(kind: int, windows, buckets: int):
    """Ids in [1, buckets] of n-grams `windows` [N, order] (int64), by FarmHash of the kind and
    the values: character and word n-grams of every order are keys of their own."""
    keys = tf.concat([tf.fill([tf.shape(windows)[0], 1], tf.constant(kind, tf.int64)),
                      windows], axis=1)
    hashes = tf.bitcast(tf.fingerprint(keys), tf.int64)       # [N, 8] bytes -> [N]
    return tf.math.floormod(hashes, buckets) + 1


def _char_ngram_ids(spellings, orders, buckets):
    """Ragged [S, (n)]: the character n-gram ids of each of `spellings` [S] (of "<word>"), by
    order, then position."""
    chars = tf.strings.unicode_decode(tf.strings.join(["<", spellings, ">"]), "UTF-8",
                                      errors="replace")
    num_spellings = tf.size(spellings, out_type=tf.int64)
    by_order = []
    for order in orders:
        windows, spelling = _windows(tf.cast(chars.values, tf.int64), chars.row_splits, order)
        by_order.append(tf.RaggedTensor.from_value_rowids(
            _bucket_ids(-1, windows, buckets), spelling, nrows=num_spellings))
    return tf.concat(by_order, axis=1)


def ngram_bag(words: tf.RaggedTensor, spec: NgramSpec):
    """Words [B, (K), (T)] (by sentence) or [B, (N)] -> (ids, counts), both ragged [B, (F)].

    `ids`: int64 in [1, spec.buckets], each once per document, in increasing order. `counts`:
    float32, how often each occurs in the document's first `spec.max_words` words. N-grams are
    hashed from code points and word hashes, not from strings made for them, and the
    character n-grams of a word the batch repeats are made once and counted by the word's
    count: the bag costs a few integer passes over the batch's distinct words.
    """
    words = _first_words(words, spec.max_words)
    num_docs = words.nrows(out_type=tf.int64)
    if words.ragged_rank == 2:
        sentences, doc_of_sentence = words.values, words.value_rowids()
    else:
        sentences, doc_of_sentence = words, tf.range(num_docs)
    flat = sentences.flat_values
    doc_of_word = tf.gather(doc_of_sentence, sentences.value_rowids())
    ids, docs, weights = [], [], []
    if spec.char_orders:
        # Each (document, distinct word) once, with how often the document holds the word; each
        # distinct word of the batch spelt out once.
        spellings, spelling_of_word = tf.unique(flat, out_idx=tf.int64)
        num_spellings = tf.size(spellings, out_type=tf.int64)
        pairs, _, pair_counts = tf.unique_with_counts(
            doc_of_word * num_spellings + spelling_of_word, out_idx=tf.int64)
        char_ids = _char_ngram_ids(spellings, spec.char_orders, spec.buckets)
        if spec.romanized:
            latin = romanize.romanize(spellings)
            changed = tf.where(latin != spellings)[:, 0]
            romanized_ids = _char_ngram_ids(tf.gather(latin, changed), spec.char_orders,
                                            spec.buckets)
            char_ids = tf.concat([char_ids, tf.RaggedTensor.from_value_rowids(
                romanized_ids.flat_values, tf.gather(changed, romanized_ids.value_rowids()),
                nrows=num_spellings)], axis=1)
        of_pairs = tf.gather(char_ids, pairs % num_spellings)
        pair_of_id = tf.ragged.row_splits_to_segment_ids(of_pairs.row_splits)
        ids.append(of_pairs.flat_values)
        docs.append(tf.gather(pairs // num_spellings, pair_of_id))
        weights.append(tf.cast(tf.gather(pair_counts, pair_of_id), tf.float32))
    if spec.word_orders:
        word_hashes = tf.strings.to_hash_bucket_fast(flat, (1 << 62))
        for order in spec.word_orders:
            windows, sentence = _windows(word_hashes, sentences.row_splits, order)
            ids.append(_bucket_ids(-2, windows, spec.buckets))
            docs.append(tf.gather(doc_of_sentence, sentence))
            weights.append(tf.ones_like(ids[-1], tf.float32))
    if not ids:
        raise ValueError("an n-gram bag needs character or word n-gram orders")
    ids, doc, weights = tf.concat(ids, 0), tf.concat(docs, 0), tf.concat(weights, 0)
    # One key per (document, id), its weights summed; sorted, so documents come in order.
    keyed, key_of_id = tf.unique(doc * (spec.buckets + 1) + ids, out_idx=tf.int64)
    counts = tf.math.unsorted_segment_sum(weights, key_of_id, tf.size(keyed, out_type=tf.int64))
    order = tf.argsort(keyed)
    keyed, counts = tf.gather(keyed, order), tf.gather(counts, order)
    doc_of_id = keyed // (spec.buckets + 1)
    return (tf.RaggedTensor.from_value_rowids(keyed % (spec.buckets + 1), doc_of_id,
                                              nrows=num_docs),
            tf.RaggedTensor.from_value_rowids(counts, doc_of_id, nrows=num_docs))
