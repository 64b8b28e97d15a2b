"""A pure-Python statement of `mlclf.text`'s rules, one character at a time, to test the TF ops.

It shares nothing with the library but the rules (see `mlclf/text.py`'s docstring): NFKC comes
from `unicodedata`, character classes are decided per character, and words are built by a
sequential scan instead of vectorised ragged ops.
"""
import re
import unicodedata

LINE_BREAKS = "\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029"
DROPPED = set("\u00ad\u061c\u180e\u200e\u200f\ufeff") | {
    chr(c) for c in [*range(0x202A, 0x202F), *range(0x2060, 0x2065), *range(0x2066, 0x2070)]}
SENTENCE_END = "።፧፨।॥؟۔。！？։။។"
CLOSERS = "\"'”’»)]}」』】〕〉》"
HAN_KANA = [(0x2E80, 0x2FDF), (0x3005, 0x3007), (0x3021, 0x3029), (0x3038, 0x303C),
            (0x3040, 0x30FF), (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
            (0xF900, 0xFAFF), (0xFF66, 0xFF9F), (0x1B000, 0x1B16F), (0x20000, 0x3134F)]
NO_SPACE_SCRIPTS = [(0x0E00, 0x0EFF), (0x1780, 0x17FF), (0x19E0, 0x19FF), (0x1000, 0x109F),
                    (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F)]   # Thai, Lao, Khmer, Myanmar
PREPENDED_VOWELS = "เแโใไເແໂໃໄ"

SPACE, PUNCT, LETTER, NUMBER, MARK, JOINER, SOLO, CLUSTER, PREPEND, CONN_WORD, CONN_NUM = (
    "space", "punct", "letter", "number", "mark", "joiner", "solo", "cluster", "prepend",
    "conn_word", "conn_num")
STARTS = {LETTER, NUMBER, SOLO, CLUSTER, PREPEND}
WORDY = {LETTER, NUMBER}


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    chars = []
    for c in text:
        if c in DROPPED:
            continue
        if c in LINE_BREAKS:
            chars.append("\n")
        elif c.isspace() or c == "\u200b":
            chars.append(" ")
        else:
            chars.append(c)
    text = re.sub(" *\n[ \n]*", "\n", "".join(chars))
    return re.sub("  +", " ", text).strip(" \n")


def _in(c, ranges):
    return any(lo <= ord(c) <= hi for lo, hi in ranges)


def char_class(c: str) -> str:
    category = unicodedata.category(c)
    if c.isspace() or category in ("Zs", "Zl", "Zp", "Cc"):
        return SPACE
    if unicodedata.combining(c) == 9 or c == "\u200d":
        return JOINER
    if category[0] == "M" or category == "Cf" or 0x1F3FB <= ord(c) <= 0x1F3FF:
        return MARK
    if c in "'’-‐·":
        return CONN_WORD
    if c in ".,٫٬":
        return CONN_NUM
    if category[0] == "P" or category in ("Sm", "Sk"):
        return PUNCT
    if category in ("Sc", "So"):
        return SOLO
    if category[0] == "N":
        return NUMBER
    if _in(c, HAN_KANA):
        return SOLO
    if c in PREPENDED_VOWELS:
        return PREPEND
    if _in(c, NO_SPACE_SCRIPTS):
        return CLUSTER
    return LETTER


def split_words(text: str) -> list:
    classes = [char_class(c) for c in text]
    tokens = []
    prev_kept, base = False, SPACE   # base: class of the last character that is not a mark
    for i, (char, cls) in enumerate(zip(text, classes)):
        following = classes[i + 1] if i + 1 < len(text) else SPACE
        if cls in (MARK, JOINER):
            kept = prev_kept
        elif cls == CONN_WORD:
            kept = base in WORDY and following in WORDY
        elif cls == CONN_NUM:
            kept = base == NUMBER and following == NUMBER
        else:
            kept = cls in STARTS
        joinable = WORDY | {CONN_WORD, CONN_NUM}
        attach = prev_kept and (cls in (MARK, JOINER) or classes[i - 1] == JOINER
                                or base == PREPEND or (base in joinable and cls in joinable))
        if kept:
            if attach:
                tokens[-1] += char
            else:
                tokens.append(char)
        prev_kept = kept
        if cls not in (MARK, JOINER):
            base = cls
    return tokens


def split_sentences(text: str) -> list:
    def chars(s):
        return "[" + re.escape(s) + "]"

    space = chars("".join(c for c in map(chr, range(0x3000 + 1)) if c.isspace()
                          and c not in LINE_BREAKS))
    han_kana = "[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in HAN_KANA) + "]"
    text = re.sub("\r\n|" + chars(LINE_BREAKS), "\n", text)
    text = re.sub(f"([.!?]+{chars(CLOSERS)}*){space}+", "\\1\n", text)
    text = re.sub(f"([!?]+{chars(CLOSERS)}*)({han_kana})", "\\1\n\\2", text)
    text = re.sub(f"({chars(SENTENCE_END)}+{chars(CLOSERS)}*)", "\\1\n", text)
    sentences = [re.sub(f"^{space}+|{space}+$", "", s) for s in text.split("\n")]
    return [s for s in sentences if any(char_class(c) in STARTS for c in s)]


def tokenize(text: str, hierarchical: bool) -> list:
    text = normalize(text)
    if hierarchical:
        return [split_words(s) for s in split_sentences(text)]
    return split_words(text)
