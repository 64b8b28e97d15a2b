"""Pretrained word vectors: read them, and turn them into an embedding matrix over a Vocabulary.

Formats: word2vec/fastText text (`.vec`, `.txt`, optionally `.gz`; the "count dim" header line is
optional, values separated by single spaces as those tools write them) and MHAN-style `.pkl.gz`
pickles of `(words, vectors)`, read with `mlclf_datasets.safe_pickle` so that a pickle cannot run code.
`load_for_languages` turns an `--embeddings` value (a file, `LANG:FILE,...`, or a directory of
per-language files such as `mlclf.align` writes) into what `build_matrix` takes.
"""
from __future__ import annotations

import gzip
import os
import zlib
from typing import Mapping, NamedTuple

import numpy as np
import tensorflow as tf
from absl import logging

from mlclf import languages as languages_lib, text
from mlclf_datasets import safe_pickle
from mlclf.vocab import PAD_ID

_NORMALIZE_BATCH = 20000
_VECTOR_SUFFIXES = (".vec", ".vec.gz", ".txt", ".txt.gz", ".pkl.gz")


class Coverage(NamedTuple):
    """How much of a language's vocabulary found a pretrained vector."""
    words: float         # fraction of the language's vocabulary words
    occurrences: float   # the same, weighted by the words' training counts


def load_vectors(path: str, max_words: int | None = None) -> tuple:
    """(words: list[str], vectors: float32 [N, dim]) from a vector file; the first `max_words`.

    Raises ValueError naming the file (and line) for malformed input, FileNotFoundError if absent.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such word-vector file")
    if path.endswith(".pkl.gz"):
        words, vectors = _load_pickle(path)
    else:
        words, vectors = _load_text(path, max_words)
    if max_words is not None:
        words, vectors = words[:max_words], vectors[:max_words]
    if not words:
        raise ValueError(f"{path}: no word vectors in the file")
    return words, vectors


def _load_text(path: str, max_words: int | None):
    words, rows, dim, expected, number = [], [], None, None, 0
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            for number, raw in enumerate(f, start=1):
                if max_words is not None and len(words) >= max_words:
                    break
                try:
                    line = raw.decode("utf-8").rstrip("\r\n").rstrip(" ")
                except UnicodeDecodeError as e:
                    raise ValueError(f"{path}:{number}: not UTF-8 ({e.reason} at byte "
                                     f"{e.start})") from None
                parts = line.split(" ")
                if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                    expected, dim = int(parts[0]), int(parts[1])
                    continue
                if dim is None:
                    dim = len(parts) - 1
                words.append(parts[0])
                rows.append(_vector(parts, dim, f"{path}:{number}"))
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        where = f"after line {number}" if number else "from its start"
        raise ValueError(f"{path}: the compressed file is cut short or damaged {where} ({e}); "
                         f"download or compress it again") from None
    if expected is not None and max_words is None and expected != len(words):
        raise ValueError(f"{path}: the header announces {expected} vectors, the file has "
                         f"{len(words)}")
    return words, np.stack(rows) if rows else np.zeros((0, dim or 0), np.float32)


def _vector(parts, dim: int, where: str) -> np.ndarray:
    """A line's values (after its word) as float32, checked: `dim` of them, all finite (a NaN or
    inf would make the first loss NaN, far from its cause)."""
    if len(parts) - 1 != dim:
        raise ValueError(f"{where}: expected a word and {dim} values, got {len(parts) - 1} "
                         f"values")
    try:
        with np.errstate(over="ignore"):  # 1e39 becomes inf, refused below
            vector = np.array(parts[1:], dtype=np.float32)
    except ValueError:
        raise ValueError(f"{where}: values are not all numbers") from None
    if not np.isfinite(vector).all():
        value = parts[1 + np.flatnonzero(~np.isfinite(vector))[0]]
        raise ValueError(f"{where}: the vector of {parts[0]!r} holds {value!r}, not a finite "
                         f"float32 number")
    return vector


def _load_pickle(path: str):
    data = safe_pickle.load_pickle_gz(path)
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise ValueError(f"{path}: expected a (words, vectors) pair, got {type(data).__name__}")
    words, vectors = data
    if isinstance(words, np.ndarray) and words.ndim == 1:
        words = words.tolist()
    if not isinstance(words, (list, tuple)):
        raise ValueError(f"{path}: expected a list of words first, got {type(words).__name__}")
    try:
        words = [w.decode("utf-8") if isinstance(w, bytes) else w for w in words]
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: a word is not UTF-8: {e}") from None
    vectors = np.asarray(vectors)
    if (not all(isinstance(w, str) for w in words) or vectors.ndim != 2
            or len(vectors) != len(words) or not np.issubdtype(vectors.dtype, np.number)):
        raise ValueError(f"{path}: expected a list of N words and a numeric [N, dim] array, got "
                         f"{len(words)} words and an array of shape {vectors.shape}")
    vectors = vectors.astype(np.float32)
    finite = np.isfinite(vectors).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"{path}: the vector of {words[row]!r} (entry {row + 1}) holds "
                         f"non-finite values")
    return words, vectors


def _index_by_normalized_word(words, vectors, dim: int, name: str) -> dict:
    """{normalised word: vector}; where several words normalise alike the first one wins
    (vector files list frequent words first)."""
    if vectors.shape[1] != dim:
        raise ValueError(f"word vectors for {name} have dimension {vectors.shape[1]}, the model's "
                         f"embeddings {dim}")
    index = {}
    for start in range(0, len(words), _NORMALIZE_BATCH):
        batch = words[start:start + _NORMALIZE_BATCH]
        normalized = text.normalize(tf.constant(batch, tf.string)).numpy()
        for offset, word in enumerate(normalized):
            index.setdefault(word.decode("utf-8"), start + offset)
    index.pop("", None)
    return {word: vectors[i] for word, i in index.items()}


def load_for_languages(spec: str, languages) -> tuple | dict | None:
    """The vectors an `--embeddings` value names, for the training `languages` (corpus codes).

    `learned` (or "") -> None; a file -> one `(words, vectors)` pair for every language;
    `LANG:FILE,...` -> `{lang: pair}`, codes resolved with `mlclf.languages.resolve`; a directory
    of `<code>.vec` files (`mlclf.align` output) -> `{lang: pair}` for the training languages whose
    code resolves to a file's (SIB-200's `swh_Latn.vec` serves MasakhaNEWS `swa`); languages
    without a file are logged and keep random rows. Errors name the value.
    """
    spec = spec.strip()
    if spec in ("", "learned"):
        return None
    path = os.path.expanduser(spec)
    if os.path.isdir(path):
        return _load_directory(path, list(languages))
    if os.path.exists(path) or ":" not in spec:
        return load_vectors(path)
    vectors = {}
    for part in filter(None, (part.strip() for part in spec.split(","))):
        code, _, file = part.partition(":")
        if not code.strip() or not file.strip():
            raise ValueError(f"embeddings {spec!r}: {part!r} is not LANG:FILE (expected a file, "
                             "a directory, or LANG:FILE,...)")
        lang = languages_lib.resolve(code, languages)
        if lang in vectors:
            raise ValueError(f"embeddings {spec!r}: {lang} is given twice")
        vectors[lang] = load_vectors(os.path.expanduser(file.strip()))
    return vectors


def _load_directory(directory: str, languages: list) -> dict:
    files = {}
    for name in sorted(os.listdir(directory)):
        suffix = next((s for s in _VECTOR_SUFFIXES if name.endswith(s)), None)
        if suffix and os.path.isfile(os.path.join(directory, name)):
            files.setdefault(name[:-len(suffix)], os.path.join(directory, name))
    if not files:
        raise ValueError(f"embeddings {directory!r}: no {'/'.join(_VECTOR_SUFFIXES)} files in the "
                         "directory")
    matched, missing, loaded = {}, [], {}
    for lang in languages:
        try:
            code = languages_lib.resolve(lang, files)
        except languages_lib.UnknownLanguageError as e:
            if e.candidates:
                raise ValueError(f"embeddings {directory!r}: {lang} matches several files: "
                                 f"{', '.join(e.candidates)}") from None
            missing.append(lang)
            continue
        if code not in loaded:  # two training languages may share a file (ptbr, ptmz -> por)
            loaded[code] = load_vectors(files[code])
        matched[lang] = loaded[code]
        logging.info("word vectors for %s: %s", lang, files[code])
    if not matched:
        raise ValueError(f"embeddings {directory!r}: no file for any of {', '.join(languages)}; "
                         f"files for: {', '.join(files)}")
    if missing:
        logging.warning("embeddings %s: no word vectors for %s (random rows)", directory,
                        ", ".join(missing))
    return matched


def build_matrix(vocab, vectors, dim: int, seed: int = 0) -> tuple:
    """(matrix float32 [vocab.size, dim], {lang: Coverage}) from pretrained vectors.

    `vectors`: one `(words, vectors)` pair for all languages, or `{lang: (words, vectors)}`.
    With one dict entry per language, a word is looked up in the vectors of the languages whose
    training text has it, and its row takes the vector of the language that used it most (ties:
    the vocabulary's language order): aligned spaces give "die" (en) and "die" (de) different
    vectors, and a shared row must take the one of the language it mostly stands for. Vector
    words are normalised with `text.normalize`, as the vocabulary's words were. Rows without a
    vector are random normal with the standard deviation of the vectors found (0.05 if none),
    seeded; the PAD row is zero. Coverage counts a language's words found in its own vectors (in
    the one pair when not a dict), and is logged per language.
    """
    if isinstance(vectors, Mapping):
        tables = {lang: _index_by_normalized_word(*pair, dim, lang)
                  for lang, pair in vectors.items()}
        for lang in tables.keys() - set(vocab.languages):
            logging.warning("word vectors for %s: not a language of the vocabulary, unused", lang)
    else:
        shared = _index_by_normalized_word(*vectors, dim, "all languages")
        tables = {lang: shared for lang in vocab.languages}
    words = {i: word for i, _, word in vocab.rows()}
    matrix = np.zeros((vocab.size, dim), np.float32)
    source_count = np.zeros(vocab.size, np.int64)  # training count of the row's vector's language
    coverage = {}
    for lang in vocab.languages:
        table, counts = tables.get(lang, {}), vocab.counts(lang)
        weights = np.fromiter(counts.values(), np.float64, len(counts))
        has = np.zeros(len(counts), bool)
        for k, (i, count) in enumerate(counts.items()):
            vector = table.get(words[i])
            if vector is not None:
                has[k] = True
                if count > source_count[i]:
                    matrix[i], source_count[i] = vector, count
        coverage[lang] = Coverage(
            words=float(has.mean()) if len(has) else 0.0,
            occurrences=float(weights[has].sum() / weights.sum()) if len(has) else 0.0)
        logging.info("pretrained vectors for %s: %d of %d vocabulary words (%.1f%%), %.1f%% of "
                     "training occurrences", lang, has.sum(), len(has),
                     100 * coverage[lang].words, 100 * coverage[lang].occurrences)
    found = source_count > 0
    scale = float(matrix[found].std()) if found.any() else 0.05
    noise = np.random.default_rng(seed).normal(0.0, scale, matrix.shape).astype(np.float32)
    matrix = np.where(found[:, None], matrix, noise)
    matrix[PAD_ID] = 0
    return matrix, coverage
