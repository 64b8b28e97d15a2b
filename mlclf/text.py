"""Text normalisation and segmentation as TF ops: the same graph runs in training and serving.

Everything here is built from core TF ops (tf.strings, ragged ops, searchsorted over constant
tables); nothing calls back into Python, so the ops run inside a SavedModel under stock TF
Serving. The Unicode tables are generated from Python's `unicodedata` when first needed and
embedded as constants in the graph, so an exported model keeps the behaviour (and the Unicode
version, `unicodedata.unidata_version`) of the Python that exported it.

`normalize`: NFKC, then lowercase (Python `str.lower`), then whitespace and invisible characters:
- whitespace (`str.isspace`, and U+200B ZERO WIDTH SPACE, a word boundary in Thai, Khmer, ...)
  becomes " ", line breaks (\\n \\r \\v \\f \\x1c-\\x1e U+0085 U+2028 U+2029) become "\\n"; a run
  of whitespace becomes one "\\n" if it holds a line break, else one " "; leading and trailing
  whitespace is removed. Newlines survive because they are sentence boundaries.
- invisible format characters are dropped: soft hyphen, bidi marks and embeddings
  (U+061C U+200E U+200F U+202A-U+202E U+2066-U+2069), word joiner and invisible operators
  (U+2060-U+2064), deprecated format characters (U+206A-U+206F), U+180E and the BOM (U+FEFF).
  ZWNJ/ZWJ (U+200C/U+200D) are kept: they distinguish words in Persian and Indic scripts and
  build emoji sequences.
Where this differs from `unicodedata.normalize("NFKC", s).lower()` followed by those rules:
- invalid UTF-8 becomes U+FFFD per maximal invalid subsequence, as `tf.strings.unicode_decode`
  does, which may differ in count from Python's `bytes.decode(errors="replace")`;
- Greek capital sigma lowercases to final ς by Python's rule (preceded by a cased letter, not
  followed by one, case-ignorable characters skipped), but "cased" here is Lu/Ll/Lt or having a
  case mapping, and "case-ignorable" is Mn/Me/Cf/Lm/Sk or one of ' . : · ’ ‘ ﹒ ＇ ． ꞉ ︓ ﹕ ：
  (Unicode's Other_Lowercase letters such as ª, ʰ, and rarer MidLetter characters are missed).
The NFKC itself is exact: full compatibility decomposition (per-character table), canonical
reordering (a stable sort by combining class within each starter's segment) and canonical
composition with Unicode's blocking rules (pairs table, Hangul included, iterated until nothing
composes).

`split_sentences`: a sentence ends after `.`, `!`, `?` (runs like "?!" or "..." count as one, and
closing quotes/brackets stay with the sentence) followed by whitespace or the end; after
`!`/`?` followed by a Han or kana character (NFKC turns "！？" into "!?"); always after
`። ፧ ፨` (Ge'ez), `। ॥` (Devanagari), `؟ ۔` (Arabic, Urdu), `。！？` (CJK), `։` (Armenian), `။`
(Myanmar), `។` (Khmer); and at every line break. Sentences are stripped of whitespace and
dropped when they hold no word (as `split_words` defines words). Abbreviations ("Dr. Smith")
do end a sentence.

`split_words`: words are maximal runs of letters, digits and their combining marks (so vowel
signs and viramas stay on their letters), and punctuation and symbols are dropped, except:
- apostrophes ' ’, hyphens - ‐ and the middle dot · stay inside a word when a letter or digit is
  on both sides ("don't", "ng'ombe", "e-mail", "col·lecció"); `.` `,` `٫` `٬` stay between
  digits ("3.5", "1,000");
- currency and other symbols (Sc, So: €, emoji) are kept, each its own token, with modifiers,
  variation selectors and ZWJ-joined parts (👍🏽, 👨‍👩‍👧);
- maths and modifier symbols (Sm, Sk: + = < > ^ `) are dropped like punctuation;
- scripts written without spaces: each Han, Hiragana and Katakana character is its own token;
  Thai, Lao, Khmer and Myanmar letters are tokens of one letter with its combining marks,
  joined to the next letter after a virama/coeng and to the letter after a Thai/Lao prefixed
  vowel (เ แ โ ใ ไ). That is roughly a syllable in Khmer and Myanmar and a character cluster in
  Thai and Lao: usable by word-level models, no dictionary needed;
- ZWNJ, ZWJ and other format characters stay inside the word they occur in; a combining mark
  or format character with no letter before it (at the start, after a space) is dropped.
"""
from __future__ import annotations

import functools
import hashlib
import unicodedata
from typing import NamedTuple

import numpy as np
import tensorflow as tf

# Code points with any non-default property: everything up to CJK Extension H and the
# tag/variation-selector block. The rest is unassigned or private use (a letter, class 0).
_SCANNED = (range(0, 0x323B0), range(0xE0000, 0xE01F0))

_LINE_BREAKS = "\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029"
_ZERO_WIDTH_SPACE = "\u200b"
_DROPPED_FORMAT = frozenset(
    "\u00ad\u061c\u180e\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063"
    "\u2064\u2066\u2067\u2068\u2069\u206a\u206b\u206c\u206d\u206e\u206f\ufeff")
_CASE_IGNORABLE_PUNCT = frozenset("'.:\u00b7\u2019\u2018\ufe52\uff07\uff0e\ua789\ufe13\ufe55\uff1a")

# Character classes for word splitting.
(_SPACE, _PUNCT, _LETTER, _NUMBER, _EXTEND, _JOINER, _SOLO, _CHUNK, _PREPEND, _CONN_WORD,
 _CONN_NUM) = range(11)
_WORD_CONNECTORS = frozenset("'\u2019-\u2010\u00b7")
_NUMBER_CONNECTORS = frozenset(".,\u066b\u066c")
_EMOJI_MODIFIERS = range(0x1F3FB, 0x1F400)
# Scripts written without spaces. Han and kana letters are tokens on their own.
_SOLO_SCRIPTS = ((0x2E80, 0x2FDF), (0x3005, 0x3007), (0x3021, 0x3029), (0x3038, 0x303C),
                 (0x3040, 0x30FF), (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
                 (0xF900, 0xFAFF), (0xFF66, 0xFF9F), (0x1B000, 0x1B16F), (0x20000, 0x3134F))
# Thai, Lao, Khmer (+ symbols), Myanmar (+ extensions A and B).
_CHUNK_SCRIPTS = ((0x0E00, 0x0EFF), (0x1780, 0x17FF), (0x19E0, 0x19FF), (0x1000, 0x109F),
                  (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F))
_PREPENDED_VOWELS = frozenset(range(0x0E40, 0x0E45)) | frozenset(range(0x0EC0, 0x0EC5))
_ZWJ = 0x200D

# Property bits of the range table (besides the class in the low 4 bits).
_CASED, _CASE_IGNORABLE = 16, 32

_SENTENCE_END = "።፧፨।॥؟۔。！？։။។"
_CLOSERS = "\"'”’»)]}」』】〕〉》"
_HORIZONTAL_SPACE = "".join(c for c in map(chr, range(0x3001))   # no space after U+3000
                            if c.isspace() and c not in _LINE_BREAKS)


_CLASS_OF_CATEGORY = {"Zs": _SPACE, "Zl": _SPACE, "Zp": _SPACE, "Cc": _SPACE, "Mn": _EXTEND,
                      "Mc": _EXTEND, "Me": _EXTEND, "Cf": _EXTEND, "Sm": _PUNCT, "Sk": _PUNCT,
                      "Sc": _SOLO, "So": _SOLO, "Nd": _NUMBER, "Nl": _NUMBER, "No": _NUMBER}


def _word_classes(cps: np.ndarray, categories: list, ccc: np.ndarray) -> np.ndarray:
    """The `split_words` class of each code point: general rules first, then the exceptions."""
    cls = np.array([_CLASS_OF_CATEGORY.get(c, _PUNCT if c[0] == "P" else _LETTER)
                    for c in categories], np.uint8)
    letters = cls == _LETTER
    for ranges, value in ((_CHUNK_SCRIPTS, _CHUNK), (_SOLO_SCRIPTS, _SOLO)):
        for lo, hi in ranges:
            cls[letters & (cps >= lo) & (cps <= hi)] = value
    cls[np.isin(cps, list(_PREPENDED_VOWELS))] = _PREPEND
    cls[np.isin(cps, [ord(c) for c in _NUMBER_CONNECTORS])] = _CONN_NUM
    cls[np.isin(cps, [ord(c) for c in _WORD_CONNECTORS])] = _CONN_WORD
    cls[(cps >= _EMOJI_MODIFIERS.start) & (cps < _EMOJI_MODIFIERS.stop)] = _EXTEND
    cls[(ccc == 9) | (cps == _ZWJ)] = _JOINER
    cls[np.isin(cps, [ord(c) for c in _HORIZONTAL_SPACE + _LINE_BREAKS])] = _SPACE
    return cls


class _Expansion(NamedTuple):
    """Code point -> sequence of code points (sorted keys; values[starts[i]:+lengths[i]])."""
    keys: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    values: np.ndarray


class _Tables(NamedTuple):
    decompose: _Expansion          # NFKD of each character (Hangul syllables left whole)
    nfkc_stable: np.ndarray        # per decompose key: NFKC leaves the character as it is
    ccc_keys: np.ndarray           # canonical combining class, non-zero entries
    ccc_values: np.ndarray
    compose_keys: np.ndarray       # int64 (first << 21 | second) -> primary composite
    compose_values: np.ndarray
    second_halves: np.ndarray      # sorted code points that can be absorbed by a composition
    fold: _Expansion               # lowercase, whitespace and invisible characters
    range_starts: np.ndarray       # class | property bits, per range of code points
    range_values: np.ndarray


def _expansion(mapping: dict) -> _Expansion:
    keys = sorted(mapping)
    seqs = [[ord(c) for c in mapping[k]] for k in keys]
    lengths = np.array([len(s) for s in seqs], np.int32)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int32)
    values = np.array([c for s in seqs for c in s] or [0], np.int32)
    return _Expansion(np.array(keys, np.int32), starts, lengths, values)


@functools.lru_cache(maxsize=None)
def _tables() -> _Tables:
    """Builds every table from `unicodedata` (a few tenths of a second, once per process)."""
    cps = np.concatenate([np.arange(r.start, r.stop) for r in _SCANNED])
    chars = [chr(c) for c in cps]
    categories = [unicodedata.category(c) for c in chars]
    lower = [c.lower() for c in chars]
    ccc = np.array([unicodedata.combining(c) for c in chars], np.int32)
    decompositions = {int(cp): d for cp, d in zip(cps, map(unicodedata.decomposition, chars))
                      if d}
    decompose, stable, pairs, fold = {}, {}, {}, {}
    for cp, decomposition in decompositions.items():
        decompose[cp] = unicodedata.normalize("NFKD", chr(cp))
        stable[cp] = unicodedata.normalize("NFKC", chr(cp)) == chr(cp)
        parts = decomposition.split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            first, second = (int(p, 16) for p in parts)
            if unicodedata.normalize("NFC", chr(first) + chr(second)) == chr(cp):
                pairs[first << 21 | second] = cp
    # Hangul: L + V -> LV and LV + T -> LVT (syllables themselves are never decomposed).
    for lead in range(19):
        for vowel in range(21):
            lv = 0xAC00 + (lead * 21 + vowel) * 28
            pairs[(0x1100 + lead) << 21 | (0x1161 + vowel)] = lv
            for trail in range(1, 28):
                pairs[lv << 21 | (0x11A7 + trail)] = lv + trail
    for cp, char, low in zip(cps.tolist(), chars, lower):
        if low != char:
            fold[cp] = low
    fold.update((ord(c), "") for c in _DROPPED_FORMAT)
    fold.update((ord(c), "\n" if c in _LINE_BREAKS else " ")
                for c in _HORIZONTAL_SPACE + _LINE_BREAKS + _ZERO_WIDTH_SPACE if c not in " \n")

    props = _word_classes(cps, categories, ccc)
    cased = np.array([cat in ("Lu", "Ll", "Lt") or low != char or char.upper() != char
                      for cat, char, low in zip(categories, chars, lower)])
    ignorable = np.array([cat in ("Mn", "Me", "Cf", "Lm", "Sk") or char in _CASE_IGNORABLE_PUNCT
                          for cat, char in zip(categories, chars)])
    props |= np.where(cased, _CASED, 0).astype(np.uint8)
    props |= np.where(ignorable, _CASE_IGNORABLE, 0).astype(np.uint8)
    every = np.full(0x110000, _LETTER, np.uint8)
    every[cps] = props
    starts = np.concatenate([[0], np.flatnonzero(np.diff(every)) + 1]).astype(np.int32)
    compose_keys = np.array(sorted(pairs), np.int64)
    nonzero = np.flatnonzero(ccc)
    return _Tables(
        decompose=_expansion(decompose),
        nfkc_stable=np.array([stable[k] for k in sorted(decompose)]),
        ccc_keys=cps[nonzero].astype(np.int32),
        ccc_values=ccc[nonzero],
        compose_keys=compose_keys,
        compose_values=np.array([pairs[k] for k in compose_keys.tolist()], np.int32),
        second_halves=np.unique(compose_keys & ((1 << 21) - 1)).astype(np.int32),
        fold=_expansion(fold),
        range_starts=starts,
        range_values=every[starts].astype(np.int32))


@functools.lru_cache(maxsize=None)
def fingerprint() -> str:
    """Names this tokeniser's behaviour (this module's code, Python's Unicode version), so that
    words saved by one version are never read back by another."""
    with open(__file__, "rb") as source:
        digest = hashlib.sha256(source.read() + unicodedata.unidata_version.encode())
    return digest.hexdigest()[:12]


# --- flat code point helpers: `cps` [N] int32 with `rows` [N] int64 (row of each code point) ---

def _find(keys, queries):
    """(index, found): where each query is in the sorted `keys`."""
    idx = tf.minimum(tf.searchsorted(keys, queries), len(keys) - 1)
    return idx, tf.gather(keys, idx) == queries


def _lookup(keys, values, default, queries):
    """values[i] where keys[i] == query, else `default`."""
    idx, found = _find(keys, queries)
    return tf.where(found, tf.gather(values, idx), default)


def _properties(cps):
    t = _tables()
    return tf.gather(t.range_values, tf.searchsorted(t.range_starts, cps, side="right") - 1)


def _ccc(cps):
    t = _tables()
    return _lookup(t.ccc_keys, t.ccc_values, 0, cps)


def _expand(table: _Expansion, cps, rows, keep=None):
    """Replaces each code point found in `table` by its sequence (possibly empty or longer).

    Code points where `keep` is True stay as they are.
    """
    idx, found = _find(table.keys, cps)
    if keep is not None:
        found &= ~keep
    counts = tf.where(found, tf.gather(table.lengths, idx), 1)
    source = tf.repeat(tf.range(tf.size(cps)), counts)
    offset = tf.range(tf.size(source)) - tf.gather(tf.cumsum(counts, exclusive=True), source)
    source_found = tf.gather(found, source)
    replacement = tf.gather(table.values, tf.where(
        source_found, tf.gather(table.starts, tf.gather(idx, source)) + offset, 0))
    return tf.where(source_found, replacement, tf.gather(cps, source)), tf.gather(rows, source)


def _last_true(flags):
    """Index of the last True at or before each position; -1 if none."""
    positions = tf.concat([[-1], tf.where(flags)[:, 0]], 0)
    return tf.gather(positions, tf.cumsum(tf.cast(flags, tf.int64)))


def _first_true(flags):
    """Index of the first True at or after each position; len(flags) if none."""
    n = tf.size(flags, out_type=tf.int64)
    return tf.reverse(n - 1 - _last_true(tf.reverse(flags, [0])), [0])


def _shift(values, by, fill):
    """values[i - by] (by = 1: previous element; -1: next), `fill` where out of range."""
    pad = tf.fill([abs(by)], tf.cast(fill, values.dtype))
    if by > 0:
        return tf.concat([pad, values], 0)[:tf.size(values)]
    return tf.concat([values, pad], 0)[-by:]


def _gather_in_row(values, index, rows, fill):
    """values[index] where `index` is a position in the same row, else `fill`."""
    n = tf.size(rows, out_type=tf.int64)
    safe = tf.clip_by_value(index, 0, tf.maximum(n - 1, 0))
    valid = (index >= 0) & (index < n) & (tf.gather(rows, safe) == rows)
    return tf.where(valid, tf.gather(values, safe), tf.cast(fill, values.dtype)), valid


def _decode(texts):
    """Flat code points of a string vector, with their row ids."""
    cps = tf.strings.unicode_decode(texts, "UTF-8", errors="replace")
    return cps.values, cps.value_rowids(), cps.nrows()


def _encode(cps, rows, nrows):
    ragged = tf.RaggedTensor.from_value_rowids(cps, rows, nrows=nrows)
    return tf.strings.unicode_encode(ragged, "UTF-8")


def _decompose(cps, rows):
    """NFKD, except for characters NFKC would rebuild as they are (most accented letters).

    Such a character is only decomposed when a combining mark follows it (the marks may then
    reorder and compose differently). Exact because its decomposition starts with a starter
    that nothing absorbs (checked in tests), so nothing before it can interact with its parts.
    """
    t = _tables()
    next_ccc, _ = _gather_in_row(_ccc(cps), tf.range(tf.size(cps, out_type=tf.int64)) + 1,
                                 rows, 0)
    stable = _lookup(t.decompose.keys, t.nfkc_stable, False, cps)
    return _expand(t.decompose, cps, rows, keep=stable & (next_ccc == 0))


def _canonical_order(cps, rows):
    """Stable sort of combining marks by combining class within each starter's segment."""
    ccc = tf.cast(_ccc(cps), tf.int64)
    next_ccc, _ = _gather_in_row(ccc, tf.range(tf.size(ccc, out_type=tf.int64)) + 1, rows, 0)

    def reorder():
        segment_start = (ccc == 0) | (rows != _shift(rows, 1, -1))
        key = tf.cumsum(tf.cast(segment_start, tf.int64)) * 256 + ccc
        order = tf.argsort(key, stable=True)
        return tf.gather(cps, order), tf.gather(rows, order)

    return tf.cond(tf.reduce_any((next_ccc > 0) & (next_ccc < ccc)), reorder, lambda: (cps, rows))


def _compose_step(cps, rows, done):
    """One round of canonical composition: each starter absorbs its first composable mark.

    A mark composes with the last starter before it unless blocked (a character between them
    with combining class 0 or >= its own); a starter composes only with the character right
    after it. Marks passed over are `done` (never reconsidered), as in the sequential algorithm.
    A starter that is absorbed this round does not absorb anything itself until the next round.
    """
    t = _tables()
    n = tf.size(cps, out_type=tf.int64)
    positions = tf.range(n)
    ccc = _ccc(cps)
    last = _shift(_last_true(ccc == 0), 1, -1)      # last starter strictly before i
    first_cp, has_starter = _gather_in_row(cps, last, rows, 0)
    previous_ccc, _ = _gather_in_row(ccc, positions - 1, rows, 0)
    unblocked = has_starter & ((last == positions - 1) | ((ccc > 0) & (previous_ccc < ccc)))
    key = tf.cast(first_cp, tf.int64) * (1 << 21) + tf.cast(cps, tf.int64)
    idx, pair = _find(t.compose_keys, key)
    composable = unblocked & ~done & pair
    segment = tf.where(has_starter, last, n)
    first = tf.math.unsorted_segment_min(tf.where(composable, positions, n), segment, n + 1)
    winner = composable & (tf.gather(first, segment) == positions)
    winner &= ~tf.gather(tf.concat([winner, [False]], 0), segment)
    chosen = tf.gather(
        tf.math.unsorted_segment_min(tf.where(winner, positions, n), segment, n + 1), segment)
    done |= has_starter & (positions < chosen) & (chosen < n)
    updates = tf.gather(t.compose_values, tf.boolean_mask(idx, winner))
    cps = tf.tensor_scatter_nd_update(cps, tf.boolean_mask(last, winner)[:, None], updates)
    keep = ~winner
    return (tf.boolean_mask(cps, keep), tf.boolean_mask(rows, keep), tf.boolean_mask(done, keep),
            tf.reduce_any(winner))


def _compose(cps, rows):
    def body(cps, rows, done, _):
        return _compose_step(cps, rows, done)

    _, absorbable = _find(_tables().second_halves, cps)
    cps, rows, _, _ = tf.while_loop(
        lambda *state: state[-1], body,
        (cps, rows, tf.zeros_like(cps, tf.bool), tf.reduce_any(absorbable)),
        shape_invariants=(tf.TensorShape([None]), tf.TensorShape([None]),
                          tf.TensorShape([None]), tf.TensorShape([])))
    return cps, rows


def _final_sigma(cps, rows):
    """Capital sigma -> final ς where Python's `str.lower` would write it."""
    props = _properties(cps)
    cased = (props & _CASED) != 0
    counted = (props & _CASE_IGNORABLE) == 0
    before = _shift(_last_true(counted), 1, -1)
    after = _shift(_first_true(counted), -1, tf.size(cps, out_type=tf.int64))
    cased_before, _ = _gather_in_row(cased, before, rows, False)
    cased_after, _ = _gather_in_row(cased, after, rows, False)
    final = (cps == 0x03A3) & cased_before & ~cased_after
    return tf.where(final, 0x03C2, cps)


def _flat_strings(texts):
    """A string tensor of any rank, or ragged -> (flat vector, function restoring the shape)."""
    if isinstance(texts, tf.RaggedTensor):
        return texts.flat_values, texts.with_flat_values
    texts = tf.convert_to_tensor(texts, tf.string)
    if texts.shape.rank == 1:
        return texts, lambda flat: flat
    if texts.shape.rank == 0:
        return tf.reshape(texts, [1]), lambda flat: flat[0]
    nested = tf.RaggedTensor.from_tensor(texts, ragged_rank=texts.shape.rank - 1)
    return nested.flat_values, nested.with_flat_values


def normalize(texts):
    """NFKC + lowercase + whitespace/invisible-character rules (see the module docstring).

    A string tensor of any shape -> the same shape.
    """
    texts = tf.convert_to_tensor(texts, tf.string)
    shape = tf.shape(texts)
    cps, rows, nrows = _decode(tf.reshape(texts, [-1]))
    t = _tables()
    cps, rows = _decompose(cps, rows)
    cps, rows = _canonical_order(cps, rows)
    cps, rows = _compose(cps, rows)
    cps = _final_sigma(cps, rows)
    cps, rows = _expand(t.fold, cps, rows)
    out = _encode(cps, rows, nrows)
    out = tf.strings.regex_replace(out, " *\n[ \n]*", "\n")
    out = tf.strings.regex_replace(out, "  +", " ")
    out = tf.strings.regex_replace(out, "^[ \n]+|[ \n]+$", "")
    return tf.reshape(out, shape)


def _char_class(chars):
    return "[" + "".join(f"\\x{{{ord(c):X}}}" for c in chars) + "]"


def _ranges_class(ranges):
    return "[" + "".join(f"\\x{{{lo:X}}}-\\x{{{hi:X}}}" for lo, hi in ranges) + "]"


def _word_starts(cls):
    """Classes that begin a word on their own (see `split_words`)."""
    return ((cls == _LETTER) | (cls == _NUMBER) | (cls == _SOLO) | (cls == _CHUNK)
            | (cls == _PREPEND))


def split_sentences(texts):
    """String [B] -> ragged [B, (K)] sentences (rules in the module docstring)."""
    texts = tf.convert_to_tensor(texts, tf.string)
    space = _char_class(_HORIZONTAL_SPACE)
    closers = _char_class(_CLOSERS) + "*"
    marked = tf.strings.regex_replace(texts, "\r\n|" + _char_class(_LINE_BREAKS), "\n")
    marked = tf.strings.regex_replace(marked, f"([.!?]+{closers}){space}+", "\\1\n")
    marked = tf.strings.regex_replace(
        marked, f"([!?]+{closers})({_ranges_class(_SOLO_SCRIPTS)})", "\\1\n\\2")
    marked = tf.strings.regex_replace(marked, f"({_char_class(_SENTENCE_END)}+{closers})",
                                      "\\1\n")
    sentences = tf.strings.split(marked, "\n")
    sentences = sentences.with_flat_values(tf.strings.regex_replace(
        sentences.flat_values, f"^{space}+|{space}+$", ""))
    cps = tf.strings.unicode_decode(sentences.flat_values, "UTF-8", errors="replace")
    cls = _properties(cps.values) & 15
    has_word = tf.math.unsorted_segment_max(tf.cast(_word_starts(cls), tf.int32),
                                            cps.value_rowids(), cps.nrows()) > 0
    return tf.ragged.boolean_mask(sentences, sentences.with_flat_values(has_word))


def _split_flat(texts):
    """String [N] -> ragged [N, (T)] words."""
    cps, rows, nrows = _decode(texts)
    n = tf.size(cps, out_type=tf.int64)
    positions = tf.range(n)
    cls = _properties(cps) & 15
    extend = (cls == _EXTEND) | (cls == _JOINER)
    base = _last_true(~extend)                          # the letter a mark belongs to
    base_cls, has_base = _gather_in_row(cls, base, rows, _SPACE)
    prev_base_cls, _ = _gather_in_row(base_cls, positions - 1, rows, _SPACE)
    prev_cls, has_prev = _gather_in_row(cls, positions - 1, rows, _SPACE)
    next_cls, _ = _gather_in_row(cls, positions + 1, rows, _SPACE)

    def wordy(c):
        return (c == _LETTER) | (c == _NUMBER)

    kept = _word_starts(cls)
    kept |= (cls == _CONN_WORD) & wordy(prev_base_cls) & wordy(next_cls)
    kept |= (cls == _CONN_NUM) & (prev_base_cls == _NUMBER) & (next_cls == _NUMBER)
    base_kept, _ = _gather_in_row(kept, base, rows, False)
    kept = tf.where(extend, has_base & base_kept, kept)
    prev_kept, _ = _gather_in_row(kept, positions - 1, rows, False)
    attach = has_prev & prev_kept & (
        extend | (prev_cls == _JOINER) | (prev_base_cls == _PREPEND)
        | ((wordy(prev_base_cls) | (prev_base_cls == _CONN_WORD) | (prev_base_cls == _CONN_NUM))
           & (wordy(cls) | (cls == _CONN_WORD) | (cls == _CONN_NUM))))
    start = kept & ~attach
    token_of_char = tf.cumsum(tf.cast(start, tf.int64)) - 1
    num_tokens = tf.reduce_sum(tf.cast(start, tf.int64))
    tokens = _encode(tf.boolean_mask(cps, kept), tf.boolean_mask(token_of_char, kept),
                     num_tokens)
    return tf.RaggedTensor.from_value_rowids(tokens, tf.boolean_mask(rows, start), nrows=nrows)


def split_words(texts):
    """String tensor of any rank, or ragged -> ragged words with one more (ragged) dimension.

    A scalar gives a 1-D tensor of words.
    """
    flat, restore = _flat_strings(texts)
    return restore(_split_flat(flat))


def tokenize(texts, hierarchical: bool):
    """Raw string [B] -> normalised words: ragged [B, (K), (T)] by sentence, or [B, (N)]."""
    texts = normalize(texts)
    return split_words(split_sentences(texts) if hierarchical else texts)
