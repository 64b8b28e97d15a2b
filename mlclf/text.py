"""Text normalisation and segmentation as TF ops: the same graph runs in training and serving.

Everything here is built from core TF ops (tf.strings, regular expressions, ragged and
gather ops over constant tables); nothing calls back into Python, so the ops run inside a SavedModel
under stock TF Serving. The Unicode tables are generated from Python's `unicodedata` when first
needed and embedded as constants in the graph, so an exported model keeps the behaviour (and the
Unicode version, `unicodedata.unidata_version`) of the Python that exported it.

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

`tokenize` reads at most `MAX_CHARS` characters of a document (the rest is dropped before any
other work) and keeps at most `MAX_SENTENCE_WORDS` words of a sentence (hierarchical), so that a
document's cost is bounded; every op is linear in its input (none builds a [rows, longest row]
intermediate, as `tf.repeat` and `RaggedTensor.value_rowids` do), so time and memory grow with
the document's length, not with sentences x longest sentence.

How the rules are computed, so that common text is cheap (the results are the rules' own, as the
reference tests check):
- `normalize`: a document whose characters NFKC and lowercasing leave alone, ASCII capitals
  aside, is recognised by one regular-expression match and lowercased by `tf.strings.lower`.
  The others are decoded to code points; NFKC (decomposition, reordering, composition) runs only
  on the segments it can change: a character that decomposes or combines, with its neighbours
  back to the last and up to the next character that nothing before it can combine with.
- `split_words`: one regular expression blanks what can never be in a word (punctuation,
  symbols that are dropped, connectors at a piece's edge), the rest is split at whitespace, and a
  piece that a second regular expression recognises as exactly one word (letters and digits with
  their marks, joined by connectors where the rules keep them) is that word. Only the other
  pieces (symbols, Han, Thai, stray marks, ...) are split code point by code point.
"""
from __future__ import annotations

import functools
import hashlib
import unicodedata
from typing import NamedTuple

import numpy as np
import tensorflow as tf

# The documented caps of `tokenize` (module docstring): characters read per document and words
# kept per sentence. The longest documents of the corpora mlclf ships builders for are well below.
MAX_CHARS = 100_000
MAX_SENTENCE_WORDS = 2_000

# Code points with any non-default property: everything up to CJK Extension H and the
# tag/variation-selector block. The rest is unassigned or private use (a letter, class 0).
_SCANNED = (range(0, 0x323B0), range(0xE0000, 0xE01F0))

_LINE_BREAKS = "\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029"
_ZERO_WIDTH_SPACE = "\u200b"
_DROPPED_FORMAT = frozenset(
    "\u00ad\u061c\u180e\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063"
    "\u2064\u2066\u2067\u2068\u2069\u206a\u206b\u206c\u206d\u206e\u206f\ufeff")
_CASE_IGNORABLE_PUNCT = frozenset("'.:\u00b7\u2019\u2018\ufe52\uff07\uff0e\ua789\ufe13\ufe55\uff1a")
_CAPITAL_SIGMA, _FINAL_SIGMA = 0x03A3, 0x03C2

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

# A code point's entry in the character table: its word class in the low 4 bits, and
_CASED, _CASE_IGNORABLE = 1 << 4, 1 << 5
_CCC_SHIFT = 6                # canonical combining class, 8 bits
_NFKC_CHANGES = 1 << 14       # NFKC may change it, or the segment it is in
_BOUNDARY = 1 << 15           # nothing before it can combine with it: a segment starts here
_ABSORBABLE = 1 << 16         # second half of a canonical composition
_FOLD_SPECIAL = 1 << 17       # the fold drops it or makes several code points of it
_FOLD_SHIFT = 18              # index into `fold_deltas`: the one code point it folds to
_PAGE_BITS = 7                # entries are looked up in blocks of 128 code points

_SENTENCE_END = "።፧፨।॥؟۔。！？։။។"
_CLOSERS = "\"'”’»)]}」』】〕〉》"
_HORIZONTAL_SPACE = "".join(c for c in map(chr, range(0x3001))   # no space after U+3000
                            if c.isspace() and c not in _LINE_BREAKS)
_ASCII_WHITESPACE = " \t\n\v\f\r"   # where tf.strings.split splits
_WORD_START_CLASSES = (_LETTER, _NUMBER, _SOLO, _CHUNK, _PREPEND)


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


class _Patterns(NamedTuple):
    """Regular expressions (RE2) made from the tables; see `_patterns`."""
    unchanged_but_ascii_case: str
    separators: str
    one_word: str
    no_word_start: str


class _Tables(NamedTuple):
    pages: np.ndarray              # code point >> _PAGE_BITS -> offset of its block in `entries`
    entries: np.ndarray            # int32 per code point: class and property bits (see above)
    fold_deltas: np.ndarray        # code point offsets of the folds to one code point
    fold_special: _Expansion       # the folds to none or several code points
    decompose: _Expansion          # NFKD of each character (Hangul syllables left whole)
    nfkc_stable: np.ndarray        # per decompose key: NFKC leaves the character as it is
    compose_keys: np.ndarray       # int64 (first << 21 | second) -> primary composite
    compose_values: np.ndarray
    patterns: _Patterns


def _expansion(mapping: dict) -> _Expansion:
    keys = sorted(mapping)
    seqs = [[ord(c) for c in mapping[k]] for k in keys]
    lengths = np.array([len(s) for s in seqs], np.int32)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int32)
    values = np.array([c for s in seqs for c in s] or [0], np.int32)
    return _Expansion(np.array(keys, np.int32), starts, lengths, values)


def _regex_class(members: np.ndarray) -> str:
    """A RE2 character class of the code points where `members` (over all of Unicode) holds."""
    members = members.copy()
    members[0xD800:0xE000] = False   # surrogates are not characters
    edges = np.diff(np.concatenate([[0], members.astype(np.int8), [0]]))
    ranges = zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1)
    return "[" + "".join(f"\\x{{{lo:X}}}" if lo == hi else f"\\x{{{lo:X}}}-\\x{{{hi:X}}}"
                         for lo, hi in ranges) + "]"


def _patterns(entries: np.ndarray) -> _Patterns:
    """The regular expressions of the fast paths, each decided from the table entries.

    - `unchanged_but_ascii_case`: a text that NFKC and the fold leave as it is, but for ASCII
      capitals (`tf.strings.lower` does those): no character NFKC can change or combine with,
      none the fold changes, not U+FFFD (what invalid UTF-8 decodes to; RE2 matches no invalid
      byte, so such a text never matches).
    - `separators`: what is never part of a word: punctuation, maths and modifier symbols and
      whitespace that `tf.strings.split` does not split at (all of which `split_words` treats
      alike), and connectors at the start or end of a whitespace-separated piece.
    - `one_word`: a piece that is exactly one word: letters and digits, each with its marks,
      word connectors between two of them, number connectors between two digits.
    - `no_word_start`: a text without any character that starts a word.
    """
    cps = np.arange(0x110000)
    cls = entries & 15

    def of(*classes):
        return _regex_class(np.isin(cls, classes))

    ascii_whitespace = np.isin(cps, [ord(c) for c in _ASCII_WHITESPACE])
    unchanged = ((entries & (_NFKC_CHANGES | _FOLD_SPECIAL)) == 0) & ((entries & _BOUNDARY) != 0)
    unchanged &= ((entries >> _FOLD_SHIFT) == 0) | ((cps >= ord("A")) & (cps <= ord("Z")))
    unchanged &= cps != 0xFFFD
    space = f"[{_ASCII_WHITESPACE}]".replace("\n", "\\n").replace("\t", "\\t").replace(
        "\v", "\\v").replace("\f", "\\f").replace("\r", "\\r")
    connector = of(_CONN_WORD, _CONN_NUM)
    letter, digit, mark = of(_LETTER), of(_NUMBER), of(_EXTEND, _JOINER)
    unit = f"(?:{letter}{mark}*|{digit}{mark}*(?:{of(_CONN_NUM)}{digit}{mark}*)*)"
    return _Patterns(
        unchanged_but_ascii_case=_regex_class(unchanged) + "*",
        separators=(f"{_regex_class(np.isin(cls, (_PUNCT, _SPACE)) & ~ascii_whitespace)}+"
                    f"|{connector}+(?:{space}|$)|(?:^|{space}){connector}+"),
        one_word=f"{unit}+(?:{of(_CONN_WORD)}{unit}+)*",
        no_word_start=_regex_class(~np.isin(cls, _WORD_START_CLASSES) & (cps != 0xFFFD)) + "*")



@functools.lru_cache(maxsize=None)
def _tables() -> _Tables:
    """Builds every table from `unicodedata` (about a second, once per process)."""
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

    cased = np.array([cat in ("Lu", "Ll", "Lt") or low != char or char.upper() != char
                      for cat, char, low in zip(categories, chars, lower)])
    ignorable = np.array([cat in ("Mn", "Me", "Cf", "Lm", "Sk") or char in _CASE_IGNORABLE_PUNCT
                          for cat, char in zip(categories, chars)])
    every = np.full(0x110000, _LETTER | _BOUNDARY, np.int64)   # unassigned: a letter
    every[cps] = (_word_classes(cps, categories, ccc) | np.where(cased, _CASED, 0)
                  | np.where(ignorable, _CASE_IGNORABLE, 0) | ccc.astype(np.int64) << _CCC_SHIFT)
    every_ccc = (every >> _CCC_SHIFT) & 255
    absorbable = np.zeros(0x110000, bool)
    absorbable[sorted({pair & ((1 << 21) - 1) for pair in pairs})] = True
    first_of_nfkd = np.arange(0x110000)
    first_of_nfkd[list(decompose)] = [ord(d[0]) for d in decompose.values()]
    unstable = np.zeros(0x110000, bool)
    unstable[[cp for cp, same in stable.items() if not same]] = True
    every |= np.where((every_ccc[first_of_nfkd] == 0) & ~absorbable[first_of_nfkd], _BOUNDARY, 0)
    every |= np.where(absorbable, _ABSORBABLE, 0)
    every |= np.where((every_ccc > 0) | absorbable | unstable, _NFKC_CHANGES, 0)
    single = {cp: ord(to) - cp for cp, to in fold.items() if len(to) == 1}
    deltas = [0] + sorted(set(single.values()))
    assert len(deltas) <= 1 << (31 - _FOLD_SHIFT), len(deltas)
    delta_index = {delta: i for i, delta in enumerate(deltas)}
    every[list(single)] |= np.array([delta_index[d] for d in single.values()]) << _FOLD_SHIFT
    special = {cp: to for cp, to in fold.items() if len(to) != 1}
    every[list(special)] |= _FOLD_SPECIAL

    block_index = {}   # the distinct blocks of 128 entries, in order of first use
    pages = [block_index.setdefault(block.tobytes(), len(block_index))
             for block in every.astype(np.int32).reshape(-1, 1 << _PAGE_BITS)]
    compose_keys = np.array(sorted(pairs), np.int64)
    return _Tables(
        pages=np.array(pages, np.int32) << _PAGE_BITS,
        entries=np.frombuffer(b"".join(block_index), np.int32),
        fold_deltas=np.array(deltas, np.int32),
        fold_special=_expansion(special),
        decompose=_expansion(decompose),
        nfkc_stable=np.array([stable[k] for k in sorted(decompose)]),
        compose_keys=compose_keys,
        compose_values=np.array([pairs[k] for k in compose_keys.tolist()], np.int32),
        patterns=_patterns(every))


@functools.lru_cache(maxsize=None)
def fingerprint() -> str:
    """Names this tokeniser's behaviour (this module's code, Python's Unicode version), so that
    words saved by one version are never read back by another."""
    with open(__file__, "rb") as source:
        digest = hashlib.sha256(source.read() + unicodedata.unidata_version.encode())
    return digest.hexdigest()[:12]


# The public ops are straight-line TF (with explicit tf.cond / tf.while_loop): autograph, which
# callers' tf.functions would otherwise apply to every function called here, has nothing to convert
# and takes tens of seconds trying.
_plain_tf = tf.autograph.experimental.do_not_convert


# --- ragged helpers, linear in the number of values ---

def _row_ids(row_splits, size):
    """The row of each of the `size` values of ragged row splits (int64). RaggedTensor's own
    `value_rowids` (and `tf.repeat`) build a [rows, longest row] mask, quadratic in the worst
    case; this counts row starts instead."""
    row_splits = tf.cast(row_splits, tf.int64)
    inner = row_splits[1:-1]
    starts = tf.math.unsorted_segment_sum(tf.ones_like(inner), inner, size + 1)
    return tf.cumsum(starts[:-1])


def _row_splits(rows, nrows):
    """Row splits of values whose (sorted) rows are `rows`."""
    counts = tf.math.unsorted_segment_sum(tf.ones_like(rows), rows, nrows)
    return tf.concat([[0], tf.cumsum(counts)], 0)


def _first(ragged, limit):
    """At most `limit` values of each row of a ragged [N, (M)] tensor."""
    lengths = ragged.row_lengths()

    def cut():
        splits = ragged.row_splits
        positions = tf.range(tf.size(ragged.values, out_type=tf.int64))
        rows = _row_ids(splits, tf.size(positions, out_type=tf.int64))
        within = positions - tf.gather(splits, rows) < limit
        return (tf.boolean_mask(ragged.values, within),
                tf.concat([[0], tf.cumsum(tf.minimum(lengths, limit))], 0))

    values, splits = tf.cond(tf.reduce_any(lengths > limit), cut,
                             lambda: (ragged.values, ragged.row_splits))
    return tf.RaggedTensor.from_row_splits(values, splits, validate=False)


class _Placement(NamedTuple):
    """Where values go when some groups of a sequence are replaced (see `_place`)."""
    kept: tf.Tensor        # indices of the values that stay
    kept_at: tf.Tensor     # their positions in the result (int32, for dynamic_stitch)
    new_at: tf.Tensor      # positions of the replacements
    group_starts: tf.Tensor   # [groups + 1] where each group starts in the result

    def stitch(self, values, replacements):
        return tf.dynamic_stitch([self.kept_at, self.new_at],
                                 [tf.gather(values, self.kept), replacements])


def _place(group, replaced, new_group):
    """A sequence is cut into consecutive groups (`group`: each value's, sorted); each group
    where `replaced` holds gives way to the replacements whose `new_group` (sorted) is it, any
    number, in order. Linear in values and replacements."""
    num_groups = tf.size(replaced, out_type=tf.int64)
    old_counts = tf.math.unsorted_segment_sum(tf.ones_like(group), group, num_groups)
    new_counts = tf.math.unsorted_segment_sum(tf.ones_like(new_group), new_group, num_groups)
    group_starts = tf.concat([[0], tf.cumsum(tf.where(replaced, new_counts, old_counts))], 0)
    kept = tf.where(~tf.gather(replaced, group))[:, 0]
    kept_group = tf.gather(group, kept)
    kept_at = (tf.gather(group_starts, kept_group) + kept
               - tf.gather(tf.cumsum(old_counts, exclusive=True), kept_group))
    new_at = (tf.gather(group_starts, new_group) + tf.range(tf.size(new_group, out_type=tf.int64))
              - tf.gather(tf.cumsum(new_counts, exclusive=True), new_group))
    return _Placement(kept, tf.cast(kept_at, tf.int32), tf.cast(new_at, tf.int32), group_starts)


# --- flat code point helpers: `cps` [N] int32 with `rows` [N] int64 (row of each code point) ---

def _entries(cps):
    """Each code point's table entry (class and property bits): two gathers."""
    t = _tables()
    block = tf.gather(t.pages, tf.bitwise.right_shift(cps, _PAGE_BITS))
    return tf.gather(t.entries, block + tf.bitwise.bitwise_and(cps, (1 << _PAGE_BITS) - 1))


def _ccc(entries):
    return tf.bitwise.bitwise_and(tf.bitwise.right_shift(entries, _CCC_SHIFT), 255)


def _has(entries, bit):
    return tf.bitwise.bitwise_and(entries, bit) != 0


def _find(keys, queries):
    """(index, found): where each query is in the sorted `keys`."""
    idx = tf.minimum(tf.searchsorted(keys, queries), len(keys) - 1)
    return idx, tf.gather(keys, idx) == queries


def _lookup(keys, values, default, queries):
    """values[i] where keys[i] == query, else `default`."""
    idx, found = _find(keys, queries)
    return tf.where(found, tf.gather(values, idx), default)


def _expand(table: _Expansion, cps, rows, replace):
    """Replaces each code point where `replace` holds that `table` has by its sequence (possibly
    empty or longer); the others stay."""
    idx, found = _find(table.keys, cps)
    found &= replace
    counts = tf.where(found, tf.gather(table.lengths, idx), 1)
    splits = tf.concat([[0], tf.cumsum(tf.cast(counts, tf.int64))], 0)
    source = _row_ids(splits, splits[-1])
    offset = tf.cast(tf.range(splits[-1]) - tf.gather(splits, source), tf.int32)
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
    decoded = tf.strings.unicode_decode(texts, "UTF-8", errors="replace")
    cps = decoded.values
    return cps, _row_ids(decoded.row_splits, tf.size(cps, out_type=tf.int64)), decoded.nrows()


def _encode(cps, rows, nrows):
    ragged = tf.RaggedTensor.from_row_splits(cps, _row_splits(rows, nrows), validate=False)
    return tf.strings.unicode_encode(ragged, "UTF-8")


def _decompose(cps, rows):
    """NFKD, except for characters NFKC would rebuild as they are (most accented letters).

    Such a character is only decomposed when a combining mark follows it (the marks may then
    reorder and compose differently). Exact because its decomposition starts with a starter
    that nothing absorbs (checked in tests), so nothing before it can interact with its parts.
    """
    t = _tables()
    next_ccc, _ = _gather_in_row(_ccc(_entries(cps)),
                                 tf.range(tf.size(cps, out_type=tf.int64)) + 1, rows, 0)
    stable = _lookup(t.decompose.keys, t.nfkc_stable, False, cps)
    return _expand(t.decompose, cps, rows, ~(stable & (next_ccc == 0)))


def _canonical_order(cps, rows):
    """Stable sort of combining marks by combining class within each starter's segment."""
    ccc = tf.cast(_ccc(_entries(cps)), tf.int64)
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
    ccc = _ccc(_entries(cps))
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

    absorbable = _has(_entries(cps), _ABSORBABLE)
    cps, rows, _, _ = tf.while_loop(
        lambda *state: state[-1], body,
        (cps, rows, tf.zeros_like(cps, tf.bool), tf.reduce_any(absorbable)),
        shape_invariants=(tf.TensorShape([None]), tf.TensorShape([None]),
                          tf.TensorShape([None]), tf.TensorShape([])))
    return cps, rows


def _nfkc(cps, rows, entries):
    """NFKC, run only on the segments it can change (each from a `_BOUNDARY` character, or a
    row's start, to the next); the rest stays as it is. Returns the entries of the result too."""
    def changed_segments():
        starts = _has(entries, _BOUNDARY) | (rows != _shift(rows, 1, -1))
        segment = tf.cumsum(tf.cast(starts, tf.int64)) - 1
        changes = tf.math.segment_max(tf.cast(_has(entries, _NFKC_CHANGES), tf.int32),
                                      segment) > 0
        picked = tf.where(tf.gather(changes, segment))[:, 0]
        new, new_segment = _compose(*_canonical_order(*_decompose(
            tf.gather(cps, picked), tf.gather(segment, picked))))
        placement = _place(segment, changes, new_segment)
        segment_rows = tf.boolean_mask(rows, starts)
        return (placement.stitch(cps, new),
                placement.stitch(rows, tf.gather(segment_rows, new_segment)),
                placement.stitch(entries, _entries(new)))

    return tf.cond(tf.reduce_any(_has(entries, _NFKC_CHANGES)), changed_segments,
                   lambda: (cps, rows, entries))


def _final_sigma(cps, rows, entries):
    """Where Python's `str.lower` writes capital sigma as final ς."""
    cased = _has(entries, _CASED)
    counted = ~_has(entries, _CASE_IGNORABLE)
    before = _shift(_last_true(counted), 1, -1)
    after = _shift(_first_true(counted), -1, tf.size(cps, out_type=tf.int64))
    cased_before, _ = _gather_in_row(cased, before, rows, False)
    cased_after, _ = _gather_in_row(cased, after, rows, False)
    return (cps == _CAPITAL_SIGMA) & cased_before & ~cased_after


def _fold(cps, rows, entries):
    """Lowercase, whitespace to " " or "\\n", invisible format characters dropped."""
    t = _tables()
    index = tf.bitwise.right_shift(entries, _FOLD_SHIFT)
    folded = cps + tf.gather(t.fold_deltas, index)
    folded = tf.cond(tf.reduce_any(cps == _CAPITAL_SIGMA),
                     lambda: tf.where(_final_sigma(cps, rows, entries), _FINAL_SIGMA, folded),
                     lambda: folded)
    special = _has(entries, _FOLD_SPECIAL)
    return tf.cond(tf.reduce_any(special),
                   lambda: _expand(t.fold_special, folded, rows, special),
                   lambda: (folded, rows))


def _normalized_code_points(texts):
    """`_normalized` code point by code point: for texts the fast path cannot take."""
    cps, rows, nrows = _decode(texts)
    cps, rows, entries = _nfkc(cps, rows, _entries(cps))
    cps, rows = _fold(cps, rows, entries)
    return _encode(cps, rows, nrows)


def _normalized(texts):
    """NFKC, lowercase, whitespace mapped to " " and "\\n" (runs not merged yet), invisible
    characters dropped, of a string vector.

    A text the fast path cannot take is cut at spaces, which nothing combines with (nor does
    the final sigma rule look past them), and only its pieces that need it take the exact path.
    """
    def normalized(texts, exact):
        unchanged = tf.strings.regex_full_match(texts,
                                                _tables().patterns.unchanged_but_ascii_case)
        lowered = tf.strings.lower(texts)

        def the_others():
            others = tf.where(~unchanged)
            return tf.tensor_scatter_nd_update(lowered, others, exact(tf.gather_nd(texts, others)))

        return tf.cond(tf.reduce_all(unchanged), lambda: lowered, the_others)

    def by_pieces(texts):
        pieces = tf.strings.split(texts, " ")
        values = normalized(pieces.values, _normalized_code_points)
        rows = _row_ids(pieces.row_splits, tf.size(values, out_type=tf.int64))
        return tf.strings.unsorted_segment_join(values, rows, pieces.nrows(), separator=" ")

    return normalized(texts, by_pieces)


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


@_plain_tf
def normalize(texts):
    """NFKC + lowercase + whitespace/invisible-character rules (see the module docstring).

    A string tensor of any shape -> the same shape.
    """
    texts = tf.convert_to_tensor(texts, tf.string)
    out = _normalized(tf.reshape(texts, [-1]))
    out = tf.strings.regex_replace(out, " *\n[ \n]*", "\n")
    out = tf.strings.regex_replace(out, "  +", " ")
    out = tf.strings.regex_replace(out, "^[ \n]+|[ \n]+$", "")
    return tf.reshape(out, tf.shape(texts))


def _char_class(chars):
    return "[" + "".join(f"\\x{{{ord(c):X}}}" for c in chars) + "]"


def _ranges_class(ranges):
    return "[" + "".join(f"\\x{{{lo:X}}}-\\x{{{hi:X}}}" for lo, hi in ranges) + "]"


def _sentence_pieces(texts):
    """String [B] -> ragged [B, (K)]: the texts cut after sentence ends and at "\\n" (the only
    line break left: the caller maps the others), pieces not stripped and maybe without a word."""
    space = _char_class(_HORIZONTAL_SPACE)
    closers = _char_class(_CLOSERS) + "*"
    marked = tf.strings.regex_replace(texts, f"([.!?]+{closers}){space}+", "\\1\n")
    marked = tf.strings.regex_replace(
        marked, f"([!?]+{closers})({_ranges_class(_SOLO_SCRIPTS)})", "\\1\n\\2")
    marked = tf.strings.regex_replace(marked, f"({_char_class(_SENTENCE_END)}+{closers})",
                                      "\\1\n")
    return tf.strings.split(marked, "\n")


def _keep_values(ragged, keep):
    """The values of a ragged [B, (K)] tensor where the flat `keep` holds, rows kept."""
    kept_before = tf.concat([[0], tf.cumsum(tf.cast(keep, tf.int64))], 0)
    return tf.RaggedTensor.from_row_splits(tf.boolean_mask(ragged.values, keep),
                                           tf.gather(kept_before, ragged.row_splits),
                                           validate=False)


@_plain_tf
def split_sentences(texts):
    """String [B] -> ragged [B, (K)] sentences (rules in the module docstring)."""
    texts = tf.convert_to_tensor(texts, tf.string)
    marked = tf.strings.regex_replace(texts, "\r\n|" + _char_class(_LINE_BREAKS), "\n")
    pieces = _sentence_pieces(marked)
    space = _char_class(_HORIZONTAL_SPACE)
    pieces = pieces.with_flat_values(tf.strings.regex_replace(
        pieces.flat_values, f"^{space}+|{space}+$", ""))
    has_word = ~tf.strings.regex_full_match(pieces.flat_values,
                                            _tables().patterns.no_word_start)
    return _keep_values(pieces, has_word)


def _word_starts(cls):
    """Classes that begin a word on their own (see `split_words`)."""
    return functools.reduce(tf.logical_or, [cls == c for c in _WORD_START_CLASSES])


def _split_code_points(texts):
    """String [N] -> ragged [N, (T)] words, the rules applied code point by code point."""
    cps, rows, nrows = _decode(texts)
    n = tf.size(cps, out_type=tf.int64)
    positions = tf.range(n)
    cls = tf.bitwise.bitwise_and(_entries(cps), 15)
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
    return tf.RaggedTensor.from_row_splits(
        tokens, _row_splits(tf.boolean_mask(rows, start), nrows), validate=False)


def _split_flat(texts):
    """String [N] -> ragged [N, (T)] words."""
    patterns = _tables().patterns
    pieces = tf.strings.split(tf.strings.regex_replace(texts, patterns.separators, " "))
    one_word = tf.strings.regex_full_match(pieces.values, patterns.one_word)

    def split_the_others():
        others = tf.where(~one_word)[:, 0]
        words = _split_code_points(tf.gather(pieces.values, others))
        piece_of_word = tf.gather(others, _row_ids(words.row_splits,
                                                   tf.size(words.values, out_type=tf.int64)))
        placement = _place(tf.range(tf.size(one_word, out_type=tf.int64)), ~one_word,
                           piece_of_word)
        return (placement.stitch(pieces.values, words.values),
                tf.gather(placement.group_starts, pieces.row_splits))

    words, splits = tf.cond(tf.reduce_all(one_word), lambda: (pieces.values, pieces.row_splits),
                            split_the_others)
    return tf.RaggedTensor.from_row_splits(words, splits, validate=False)


@_plain_tf
def split_words(texts):
    """String tensor of any rank, or ragged -> ragged words with one more (ragged) dimension.

    A scalar gives a 1-D tensor of words.
    """
    flat, restore = _flat_strings(texts)
    return restore(_split_flat(flat))


@_plain_tf
def tokenize(texts, hierarchical: bool):
    """Raw string [B] -> normalised words: ragged [B, (K), (T)] by sentence, or [B, (N)].

    Reads at most `MAX_CHARS` characters of each text; keeps at most `MAX_SENTENCE_WORDS` words
    of each sentence.
    """
    texts = tf.strings.substr(tf.convert_to_tensor(texts, tf.string), 0, MAX_CHARS,
                              unit="UTF8_CHAR")
    texts = _normalized(texts)
    if not hierarchical:
        return _split_flat(texts)
    pieces = _sentence_pieces(texts)
    words = _first(_split_flat(pieces.flat_values), MAX_SENTENCE_WORDS)
    has_words = words.row_lengths() > 0   # pieces without a word are not sentences
    sentences = tf.RaggedTensor.from_row_splits(
        words.values, tf.concat([[0], tf.boolean_mask(words.row_splits[1:], has_words)], 0),
        validate=False)
    sentences_before = tf.concat([[0], tf.cumsum(tf.cast(has_words, tf.int64))], 0)
    return tf.RaggedTensor.from_row_splits(
        sentences, tf.gather(sentences_before, pieces.row_splits), validate=False)
