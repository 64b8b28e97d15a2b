"""Word ids (`Vocabulary`) and hashed character n-gram ids.

Ids: `PAD_ID = 0` (padding, and the empty string), `OOV_ID = 1` (any word not in the
vocabulary), real words from 2. A per-language vocabulary is one id space in which every
language's words have their own rows, so one embedding matrix serves all languages.

Build vocabularies from the training split only: that is the caller's
responsibility (anything else leaks validation/test words into the model).

Files (plain UTF-8 text, "\\n" line ends):
- `vocab.json` {"mode", "languages", "min_count", "max_size"} and `vocab.tsv`: line k is id k+2,
  `word<TAB>lang:count lang:count ...` with the word's training count in each language that has
  it (per-language vocabularies: exactly one, the row's language).

Names (words, labels, language codes) are checked with `check_name` and files read with
`read_json` here and in `mlclf.labels`, so both file formats refuse the same bad input.
"""
from __future__ import annotations

import collections
import json
import os
from typing import Iterable, Mapping

import tensorflow as tf

PAD_ID = 0
OOV_ID = 1
MODES = ("shared", "per_language")
_KEY_SEPARATOR = "\x1f"   # per-language table keys: lang + "\x1f" + word


def as_text(token) -> str:
    return token.decode("utf-8") if isinstance(token, bytes) else token


def check_name(kind: str, value: str, lang: str | None = None) -> str:
    """Words, labels and language codes must survive the line/column file formats."""
    if not value or any(c in value for c in "\t\n\r"):
        where = f" (language {lang!r})" if lang else ""
        raise ValueError(f"{kind} {value!r}{where} is empty or contains a tab or line break")
    if kind == "language" and any(c in value for c in " :" + _KEY_SEPARATOR):
        raise ValueError(f"language code {value!r} contains a space, ':' or \\x1f")
    return value


def read_json(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: cannot read: {e}") from None


def _outer_rows(values):
    """For a ragged tensor, the index in dimension 0 of each of its flat values."""
    rows = tf.range(tf.shape(values.flat_values, out_type=tf.int64)[0])
    for row_ids in reversed(values.nested_value_rowids()):
        rows = tf.gather(row_ids, rows)
    return rows


class _Lexicon:
    """The vocabulary's plain Python data, held in an object tf.Module does not look into.

    tf.Module wraps every list, tuple and dict attribute for checkpoint tracking, item by item,
    which made building a vocabulary of thousands of words slow; only the lookup table needs
    tracking.
    """

    def __init__(self, rows: tuple, index: dict):
        self.rows, self.index = rows, index


class Vocabulary(tf.Module):
    """Word -> id, shared by all languages or per language (one id space).

    A `tf.Module`, so that its lookup table is saved with any exported module that holds it.
    """

    def __init__(self, mode: str, languages: Iterable[str], rows: Iterable[tuple],
                 min_count: int = 1, max_size: int | None = None):
        """`rows`: for ids 2, 3, ...: `(word, {lang: training count})`; see `build`/`load`."""
        super().__init__(name="vocabulary")
        if mode not in MODES:
            raise ValueError(f"vocabulary mode must be one of {MODES}, got {mode!r}")
        self.mode = mode
        self.languages = tuple(check_name("language", lang) for lang in languages)
        self.min_count, self.max_size = min_count, max_size
        rows = tuple((word, dict(counts)) for word, counts in rows)
        index = {}
        for i, (word, counts) in enumerate(rows, start=2):
            if mode == "per_language" and len(counts) != 1:
                raise ValueError(f"per-language vocabulary row {word!r} must have exactly one "
                                 f"language, has {sorted(counts)}")
            key = self._key(next(iter(counts)) if mode == "per_language" else None, word)
            if key in index:
                raise ValueError(f"vocabulary has {key!r} twice")
            index[key] = i
        self._lexicon = _Lexicon(rows, index)
        self._table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(list(index) or [""], tf.string),
                tf.constant(list(index.values()) or [OOV_ID], tf.int32)),
            default_value=OOV_ID)

    def _key(self, lang, word):
        return word if self.mode == "shared" else lang + _KEY_SEPARATOR + word

    @classmethod
    def build(cls, tokens_by_lang: Mapping[str, Iterable], mode: str = "shared",
              min_count: int = 1, max_size: int | None = None) -> "Vocabulary":
        """Counts training tokens (str or UTF-8 bytes) and keeps the frequent ones.

        Words seen fewer than `min_count` times are left out; `max_size` caps the number of words
        (ids 0 and 1 not counted): of the vocabulary in shared mode, of each language's rows in
        per-language mode. Most frequent first, ties alphabetically, so a build is reproducible.
        """
        if min_count < 1 or (max_size is not None and max_size < 0):
            raise ValueError(f"need min_count >= 1 and max_size >= 0, got {min_count}, "
                             f"{max_size}")
        counts = {}
        for lang, tokens in tokens_by_lang.items():
            counter = collections.Counter(as_text(token) for token in tokens)
            for word in counter:
                check_name("word", word, lang)
            counts[check_name("language", lang)] = counter

        def frequent(counter):
            kept = sorted((w for w, c in counter.items() if c >= min_count),
                          key=lambda w: (-counter[w], w))
            return kept if max_size is None else kept[:max_size]

        if mode == "per_language":
            rows = [(word, {lang: counter[word]})
                    for lang, counter in counts.items() for word in frequent(counter)]
        else:
            total = sum(counts.values(), collections.Counter())
            rows = [(word, {lang: c[word] for lang, c in counts.items() if word in c})
                    for word in frequent(total)]
        return cls(mode, counts, rows, min_count, max_size)

    @property
    def size(self) -> int:
        """Number of ids, PAD and OOV included: the embedding matrix has this many rows."""
        return len(self._lexicon.rows) + 2

    def rows(self):
        """(id, language or None in shared mode, word) for every word, ids from 2."""
        for i, (word, counts) in enumerate(self._lexicon.rows, start=2):
            yield i, (next(iter(counts)) if self.mode == "per_language" else None), word

    def counts(self, lang: str) -> dict:
        """{id: occurrences in `lang`'s training tokens} for the words `lang` has."""
        return {i: counts[lang] for i, (_, counts) in enumerate(self._lexicon.rows, start=2)
                if lang in counts}

    def lookup(self, words, langs):
        """Words (ragged or dense string tensor, first dimension B) and languages [B] -> int32 ids.

        The empty string (padding) gives PAD_ID, unknown words OOV_ID. `langs` only matters for
        per-language vocabularies, where a language not in the vocabulary gets OOV_ID throughout.
        """
        ragged = isinstance(words, tf.RaggedTensor)
        if not ragged:
            words = tf.convert_to_tensor(words, tf.string)
            words = tf.RaggedTensor.from_tensor(words, ragged_rank=words.shape.rank - 1)
        flat = words.flat_values
        keys = flat
        if self.mode == "per_language":
            langs = tf.gather(tf.convert_to_tensor(langs, tf.string), _outer_rows(words))
            keys = tf.strings.join([langs, flat], separator=_KEY_SEPARATOR)
        ids = tf.where(flat == "", PAD_ID, self._table.lookup(keys))
        ids = words.with_flat_values(ids)
        return ids if ragged else ids.to_tensor()

    def coverage(self, tokens_by_lang: Mapping[str, Iterable]) -> dict:
        """{lang: fraction of the tokens (str or bytes) that have their own id}; 0.0 if none."""
        result = {}
        for lang, tokens in tokens_by_lang.items():
            found = total = 0
            for token in tokens:
                total += 1
                found += self._key(lang, as_text(token)) in self._lexicon.index
            result[lang] = found / total if total else 0.0
        return result

    def save(self, directory: str) -> None:
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "vocab.json"), "w", encoding="utf-8") as f:
            json.dump({"mode": self.mode, "languages": list(self.languages),
                       "min_count": self.min_count, "max_size": self.max_size}, f, indent=1)
        with open(os.path.join(directory, "vocab.tsv"), "w", encoding="utf-8",
                  newline="\n") as f:
            for word, counts in self._lexicon.rows:
                f.write(word + "\t" + " ".join(f"{l}:{c}" for l, c in counts.items()) + "\n")

    @classmethod
    def load(cls, directory: str) -> "Vocabulary":
        meta = read_json(os.path.join(directory, "vocab.json"))
        path = os.path.join(directory, "vocab.tsv")
        rows = []
        with open(path, encoding="utf-8", newline="\n") as f:
            for line_number, line in enumerate(f, start=1):
                try:
                    word, counts = line.rstrip("\n").split("\t")
                    counts = {lang: int(c) for lang, c in
                              (pair.rsplit(":", 1) for pair in counts.split())}
                except ValueError:
                    raise ValueError(f"{path}:{line_number}: expected 'word<TAB>lang:count ...',"
                                     f" got {line!r}") from None
                rows.append((word, counts))
        return cls(meta["mode"], meta["languages"], rows, meta.get("min_count", 1),
                   meta.get("max_size"))


# Plain TF ops with no tensor-dependent Python control flow: autograph has nothing to convert,
# and skipping it avoids its conversion cache (which once handed a test another function).
@tf.autograph.experimental.do_not_convert
def subword_ids(words, num_buckets: int, min_n: int = 3, max_n: int = 5, max_ngrams: int = 16):
    """fastText-style ids of the character n-grams of "<word>", one more dimension of size G.

    Words: a ragged or dense string tensor. The n-grams are taken shortest first, left to right,
    and cut at `max_ngrams` = G (so long words keep all their trigrams before longer n-grams);
    each hashed (FarmHash, stable across platforms) to an id in [1, num_buckets]; 0 is padding,
    and the empty string (a padding word) has only zeros.
    """
    ragged = isinstance(words, tf.RaggedTensor)
    flat = words.flat_values if ragged else tf.reshape(tf.convert_to_tensor(words, tf.string),
                                                        [-1])
    chars = tf.strings.unicode_split(tf.strings.join(["<", flat, ">"]), "UTF-8")
    grams = tf.strings.ngrams(chars, ngram_width=list(range(min_n, max_n + 1)), separator="")
    ids = (tf.strings.to_hash_bucket_fast(grams, num_buckets) + 1).to_tensor(
        0, shape=[None, max_ngrams])
    ids = tf.cast(tf.where((flat == "")[:, None], tf.zeros_like(ids), ids), tf.int32)
    if ragged:
        return words.with_flat_values(ids)
    return tf.reshape(ids, tf.concat([tf.shape(words), [max_ngrams]], 0))
