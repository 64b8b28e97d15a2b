"""Romanisation of words in non-Latin scripts as TF ops, so that names, loanwords and cognates
share character n-grams across scripts (Serbian Cyrillic and Croatian, Hindi and Urdu, Amharic
and Oromo, Greek/Russian/Arabic names and their Latin forms) and a model transfers to languages
it never saw.

Like `mlclf.text`, it is core TF only (searchsorted over constant tables, ragged ops), so it runs
inside a SavedModel under stock TF Serving. The tables are built when first needed from
`unicodedata` character names plus one small table per script where names mislead, and embedded
in the graph. Input: words as `text.tokenize` gives them (NFKC, lowercased), a string tensor of
any rank or ragged; output: the same structure, each word romanised, at a cost linear in the
input. A word with nothing to romanise (Latin script, digits, punctuation, emoji, Han, private
use, unassigned code points, invalid UTF-8) comes back byte for byte, and so does a word whose
letters all romanise to nothing (a lone ッ or ء): no word becomes "".

Convention: each script is written as the Latin-script languages nearest to its readers write
the same sounds, so that the n-grams meet:
- Cyrillic as the Slavic Latin alphabets (Croatian, Serbian, Slovene, Czech): ж ž, ш š, ч č,
  щ šč, ц c, х h, й j, я ja, ђ đ, ћ ć, џ dž, љ lj, ъ a (Bulgarian); Turkic letters as Turkic
  Latin ones: ә ä, ө ö, ү ü, ғ ğ, қ q. "москва" -> "moskva", "жена" -> "žena".
- Tifinagh as the Berber Latin alphabet (Kabyle: ɣ ɛ ḍ, c = sh), N'Ko as Bambara (ɛ ɔ ɲ).
- the others in ASCII digraphs, as Swahili, Hausa, Somali, Oromo and English transcriptions write
  them (sh ch kh gh th dh ny ng ts), without length marks, apostrophes or diacritics: Greek as
  ELOT 743 ("αθήνα" -> "athina"), Armenian and Georgian as their national systems without
  apostrophes, Hangul as Revised Romanization, kana as Hepburn.
Rules beyond one letter at a time, all written as data (pairs of characters, word starts/ends):
- Greek ου -> ou, αυ/ευ -> av/ev, γγ -> ng; Armenian ու -> u, initial ե/ո -> ye/vo.
- Arabic script (Persian, Urdu, Pashto, Sindhi, Kurdish, Uyghur, Jawi letters included) and
  Hebrew (Yiddish included) write what is written: unwritten short vowels stay unwritten ("مصر"
  -> "msr", "ישראל" -> "yshral"), vowel points are romanised, shadda is not doubled. ا and א are
  a; و ي ی are w y at the start of a word and before ا, else u i (ו י: v y, else u i); ى is a at
  the end of a word, else i (Uyghur); ع is a, ע is e (as Yiddish reads it); ڤ is p (Jawi).
- Brahmic scripts (Devanagari, Bengali, Gurmukhi, Gujarati, Oriya, Tamil, Telugu, Kannada,
  Malayalam, Sinhala, Tibetan, Myanmar, Khmer): a consonant carries its inherent vowel (a; o for
  Khmer's second series) unless a vowel sign, a virama or a subjoined/medial consonant follows
  (looking through a nukta; ज़ = ज + nukta -> z); anusvara -> n (m before p b m, at the end of a
  Telugu/Kannada word, and in Malayalam; ng in Bengali), visarga -> h. Devanagari, Bengali,
  Gurmukhi, Gujarati and Khmer drop the inherent vowel of a word's last letter unless it is the
  first ("नेपाल" -> "nepal", "न" -> "na"; no medial schwa deletion: "कमला" -> "kamala"). Tibetan
  writes one vowel per syllable (a word, as tsheg splits them): the inherent a goes to the root
  only, the first stack with a subjoined letter, else the second of three or more stacks after
  a prefix letter ག ད བ མ འ, else the first ("བཀྲ" -> "bkra", "སངས" -> "sangs").
- Ethiopic: consonant + vowel from the syllable's name, the sixth order without a vowel
  ("ኢትዮጵያ" -> "ityopya"), ejectives as plain consonants (ጠ t, ቀ q, ጸ ts).
- Thai and Lao, approximately (no tones, final-consonant forms or silent letters): a vowel
  written before its consonant (เ แ โ ใ ไ) moves after it, a few vowels written around it are
  joined (เ-ือ -> uea, เ-ีย -> ia, -ัว -> ua), อ is silent before a vowel.
- Hangul syllables are decomposed into jamo, with RR's sound changes that depend on the next
  jamo only: liaison ("한국어" -> "hangugeo"), nasal and liquid assimilation ("합니다" ->
  "hamnida", "신라" -> "silla").
- kana: yōon (きょ -> kyo), sokuon (っ doubles the next consonant), katakana small vowels (ティ ->
  ti), ー dropped; `text.tokenize` makes each kana a word, so these act only on whole words.
- digits of every script -> ASCII digits.
Left as they are: Han characters (readings need per-language data), other scripts (Syriac,
Thaana, Mongolian, Ol Chiki, ...). Combining marks and joiners (ZWJ, ZWNJ) on a romanised
letter are dropped (stress, tone and Quranic marks, cantillation); elsewhere they stay.
"""
from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from mlclf import text

# --- Conventions: one table per script, keyed by (the end of) the Unicode character name. ---
# A name is looked up whole, then without " WITH ...", then without its leading words
# ("ABKHASIAN CHE" -> "CHE", "FINAL SIGMA" -> "SIGMA").

_CYRILLIC = {
    "A": "a", "BE": "b", "VE": "v", "GHE": "g", "DE": "d", "IE": "e", "IO": "jo", "ZHE": "ž",
    "ZE": "z", "I": "i", "SHORT I": "j", "KA": "k", "EL": "l", "EM": "m", "EN": "n", "O": "o",
    "PE": "p", "ER": "r", "ES": "s", "TE": "t", "U": "u", "EF": "f", "HA": "h", "TSE": "c",
    "CHE": "č", "SHA": "š", "SHCHA": "šč", "HARD SIGN": "a", "YERU": "y", "SOFT SIGN": "",
    "E": "e", "YU": "ju", "YA": "ja",
    # Ukrainian, Belarusian, Serbian, Macedonian
    "UKRAINIAN IE": "je", "BYELORUSSIAN-UKRAINIAN I": "i", "YI": "ji", "SHORT U": "u",
    "DJE": "đ", "GJE": "gj", "DZE": "dz", "JE": "j", "LJE": "lj", "NJE": "nj", "TSHE": "ć",
    "KJE": "kj", "DZHE": "dž",
    # Turkic, Mongolian, Caucasian and Uralic languages
    "SCHWA": "ä", "BARRED O": "ö", "STRAIGHT U": "ü", "STRAIGHT U WITH STROKE": "u",
    "SHHA": "h", "GHE WITH STROKE": "ğ", "KA WITH DESCENDER": "q", "BASHKIR KA": "q", "QA": "q",
    "EN WITH DESCENDER": "ng", "PALOCHKA": "", "SEMISOFT SIGN": "", "NEUTRAL YER": "",
    "TCHE": "č", "CCHE": "č", "DCHE": "dž", "TSSE": "c", "DZZE": "dz", "DZZHE": "dž",
    "DZJE": "dz", "SJE": "s", "TJE": "t", "ZJE": "z", "DZELO": "dz", "ZEMLYA": "z", "DJERV": "đ",
    "WE": "w", "DWE": "dw", "DZWE": "dzw", "ZHWE": "žw", "HWE": "hw", "SHWE": "šw", "TSWE": "cw",
    "TWE": "tw", "LHA": "lh", "RHA": "rh", "YN": "y", "YAE": "ja", "A IE": "ä", "EN GHE": "ng",
    "TE TSE": "tc",
    # Church Slavonic
    "YAT": "e", "FITA": "f", "IZHITSA": "i", "YUS": "u", "OMEGA": "o", "KSI": "ks", "PSI": "ps",
    "UK": "u", "OT": "ot", "KOPPA": "k", "IOTA": "i",
}

_GREEK = {  # ELOT 743 in ASCII
    "ALPHA": "a", "BETA": "v", "GAMMA": "g", "DELTA": "d", "EPSILON": "e", "ZETA": "z",
    "ETA": "i", "THETA": "th", "IOTA": "i", "KAPPA": "k", "LAMDA": "l", "MU": "m", "NU": "n",
    "XI": "x", "OMICRON": "o", "PI": "p", "RHO": "r", "SIGMA": "s", "TAU": "t", "UPSILON": "y",
    "PHI": "f", "CHI": "ch", "PSI": "ps", "OMEGA": "o",
    "DIGAMMA": "v", "KOPPA": "k", "SAMPI": "ss", "STIGMA": "st", "HETA": "h", "SAN": "s",
    "YOT": "j", "SHO": "sh",
}
_GREEK_AFTER = {"ου": "u", "ού": "u", "αυ": "v", "αύ": "v", "ευ": "v", "εύ": "v", "ηυ": "v",
                "ηύ": "v"}
_GREEK_BEFORE = {"γγ": "n", "γξ": "n", "γχ": "n"}

_ARMENIAN = {  # Eastern Armenian
    "AYB": "a", "BEN": "b", "GIM": "g", "DA": "d", "ECH": "e", "ZA": "z", "EH": "e", "ET": "y",
    "TO": "t", "ZHE": "zh", "INI": "i", "LIWN": "l", "XEH": "kh", "CA": "ts", "KEN": "k",
    "HO": "h", "JA": "dz", "GHAD": "gh", "CHEH": "ch", "MEN": "m", "YI": "y", "NOW": "n",
    "SHA": "sh", "VO": "o", "CHA": "ch", "PEH": "p", "JHEH": "j", "RA": "r", "SEH": "s",
    "VEW": "v", "TIWN": "t", "REH": "r", "CO": "ts", "YIWN": "v", "PIWR": "p", "KEH": "k",
    "OH": "o", "FEH": "f", "ECH YIWN": "ev", "TURNED AYB": "a",
}
_ARMENIAN_INITIAL = {"ե": "ye", "ո": "vo"}
_ARMENIAN_BEFORE = {"ու": ""}
_ARMENIAN_AFTER = {"ու": "u"}

_GEORGIAN = {  # national system, without the apostrophes of ejectives
    "AN": "a", "BAN": "b", "GAN": "g", "DON": "d", "EN": "e", "VIN": "v", "ZEN": "z",
    "TAN": "t", "IN": "i", "KAN": "k", "LAS": "l", "MAN": "m", "NAR": "n", "ON": "o",
    "PAR": "p", "ZHAR": "zh", "RAE": "r", "SAN": "s", "TAR": "t", "UN": "u", "PHAR": "p",
    "KHAR": "k", "GHAN": "gh", "QAR": "q", "SHIN": "sh", "CHIN": "ch", "CAN": "ts", "JIL": "dz",
    "CIL": "ts", "CHAR": "ch", "XAN": "kh", "JHAN": "j", "HAE": "h",
    "HE": "e", "HIE": "y", "WE": "w", "HAR": "q", "HOE": "o", "FI": "f", "YN": "y",
    "ELIFI": "", "TURNED GAN": "g", "AIN": "a", "AEN": "e", "HARD SIGN": "", "LABIAL SIGN": "w",
}

_HEBREW = {
    "ALEF": "a", "BET": "b", "GIMEL": "g", "DALET": "d", "HE": "h", "VAV": "u", "ZAYIN": "z",
    "HET": "h", "TET": "t", "YOD": "i", "FINAL KAF": "kh", "KAF": "k", "LAMED": "l", "MEM": "m",
    "NUN": "n", "SAMEKH": "s", "AYIN": "e", "FINAL PE": "f", "PE": "p", "TSADI": "ts",
    "QOF": "k", "RESH": "r", "SHIN": "sh", "TAV": "t",
    "YIDDISH DOUBLE VAV": "v", "YIDDISH VAV YOD": "oy", "YIDDISH DOUBLE YOD": "ey",
    # vowel points
    "SHEVA": "", "HATAF SEGOL": "e", "HATAF PATAH": "a", "HATAF QAMATS": "o", "HIRIQ": "i",
    "TSERE": "e", "SEGOL": "e", "PATAH": "a", "QAMATS": "a", "HOLAM": "o",
    "HOLAM HASER FOR VAV": "o", "QUBUTS": "u", "QAMATS QATAN": "o",
}
_HEBREW_INITIAL = {"ו": "v", "י": "y"}
_HEBREW_BEFORE = {"וו": "", "ש\u05c2": "s", "פ\u05bf": "f", "ב\u05bf": "v", "כ\u05bf": "kh",
                  "ײ\u05b7": "ay", "א\u05b7": "", "א\u05b8": "", "ו\u05b9": ""}
_HEBREW_AFTER = {"וו": "v", "א\u05b8": "o", "ײ\u05b7": ""}   # Yiddish: אָ o, ײַ ay

_ARABIC = {
    "HAMZA": "", "ALEF": "a", "ALEF WITH HAMZA BELOW": "i", "BEH": "b", "TEH MARBUTA": "a",
    "TEH": "t", "THEH": "th", "JEEM": "j", "HAH": "h", "KHAH": "kh", "DAL": "d", "THAL": "dh",
    "REH": "r", "ZAIN": "z", "SEEN": "s", "SHEEN": "sh", "SAD": "s", "DAD": "d", "TAH": "t",
    "ZAH": "z", "AIN": "a", "GHAIN": "gh", "FEH": "f", "QAF": "q", "KAF": "k", "LAM": "l",
    "MEEM": "m", "NOON": "n", "HEH": "h", "WAW": "u", "ALEF MAKSURA": "i", "YEH": "i",
    "YEH WITH HAMZA ABOVE": "", "ALEF WASLA": "a", "SUPERSCRIPT ALEF": "a",
    "HIGH HAMZA": "", "HIGH HAMZA ALEF": "a", "HIGH HAMZA WAW": "u", "HIGH HAMZA YEH": "i",
    "DOTLESS BEH": "b", "DOTLESS QAF": "q", "DOTLESS FEH": "f",
    # Persian, Urdu, Pashto, Sindhi, Kurdish, Uyghur, Kashmiri, ...
    "PEH": "p", "TCHEH": "ch", "JEH": "zh", "GAF": "g", "KEHEH": "k", "FARSI YEH": "i",
    "TTEH": "t", "DDAL": "d", "RREH": "r", "NOON GHUNNA": "n", "HEH DOACHASHMEE": "h",
    "HEH GOAL": "h", "YEH BARREE": "e", "TEH MARBUTA GOAL": "a", "NG": "ng", "U": "u",
    "OE": "o", "YU": "ü", "VE": "v", "E": "e", "AE": "e", "KASHMIRI YEH": "i",
    "SWASH KAF": "k", "TTEHEH": "th", "BEEH": "b", "TEHEH": "th", "BEHEH": "bh", "PEHEH": "ph",
    "NYEH": "ny", "DYEH": "j", "TCHEHEH": "chh", "DAHAL": "dh", "DDAHAL": "dh", "DUL": "d",
    "RNOON": "n", "GUEH": "g", "NGOEH": "ng", "YEH WITH TAIL": "ay", "YEH WITH SMALL V": "e",
    "REH WITH SMALL V": "rr", "REH WITH SMALL V BELOW": "rr", "LAM WITH SMALL V": "ll",
    "HAH WITH HAMZA ABOVE": "dz", "HAH WITH THREE DOTS ABOVE": "ts", "KAF WITH RING": "g",
    "REH WITH DOT BELOW AND DOT ABOVE": "zh", "SEEN WITH DOT BELOW AND DOT ABOVE": "sh",
    # Jawi (Malay, Acehnese, Banjar, Minangkabau): ڤ is p there, v in Kurdish and Persian
    "VEH": "p", "AIN WITH THREE DOTS ABOVE": "ng", "NOON WITH THREE DOTS ABOVE": "ny",
    "KAF WITH DOT ABOVE": "g", "KEHEH WITH DOT ABOVE": "g", "WAW WITH DOT ABOVE": "v",
}
_ARABIC_MARKS = {"FATHA": "a", "DAMMA": "u", "KASRA": "i", "FATHATAN": "an",
                 "DAMMATAN": "un", "KASRATAN": "in", "TATWEEL": ""}
# و and ي are consonants at the start of a word and before ا, vowels elsewhere; ى is a (alef
# maksura) at the end of a word, i (Uyghur) elsewhere.
_ARABIC_INITIAL = {"و": "w", "ي": "y", "ی": "y"}
_ARABIC_FINAL = {"ى": "a"}
_ARABIC_BEFORE = {"وا": "w", "يا": "y", "یا": "y"}

_TIFINAGH = {  # Berber Latin alphabet (Kabyle)
    "YA": "a", "YAB": "b", "YABH": "b", "YAG": "g", "YAGHH": "g", "YAJ": "ǧ", "YAD": "d",
    "YADH": "d", "YADD": "ḍ", "YADDH": "ḍ", "YEY": "e", "YAF": "f", "YAK": "k", "YAKHH": "k",
    "YAH": "h", "YAHH": "ḥ", "YAA": "ɛ", "YAKH": "x", "YAQ": "q", "YI": "i", "YAZH": "j",
    "YAL": "l", "YAM": "m", "YAN": "n", "YAGN": "ny", "YANG": "ng", "YAP": "p", "YU": "u",
    "YAR": "r", "YARR": "ṛ", "YAGH": "ɣ", "YAS": "s", "YASS": "ṣ", "YASH": "c", "YAT": "t",
    "YATH": "t", "YACH": "č", "YATT": "ṭ", "YAV": "v", "YAW": "w", "YAY": "y", "YAZ": "z",
    "YAZZ": "ẓ", "YE": "e", "YO": "o",
}

_NKO = {  # Manding Latin (Bambara)
    "A": "a", "EE": "e", "I": "i", "E": "ɛ", "U": "u", "OO": "o", "O": "ɔ", "DAGBASINNA": "",
    "N": "n", "BA": "b", "PA": "p", "TA": "t", "JA": "j", "CHA": "c", "DA": "d", "RA": "r",
    "RRA": "rr", "SA": "s", "GBA": "gb", "FA": "f", "KA": "k", "LA": "l", "NA WOLOSO": "n",
    "MA": "m", "NYA": "ɲ", "NA": "n", "HA": "h", "WA": "w", "YA": "y", "NYA WOLOSO": "ɲ",
    "COMBINING NASALIZATION MARK": "n", "HIGH TONE APOSTROPHE": "", "LOW TONE APOSTROPHE": "",
    "LAJANYALAN": "",
}

# Brahmic scripts: names give the consonant and its inherent vowel ("KA", "KHO" in Khmer), or
# the vowel ("AA", "VOCALIC R"). The consonant part is lowercased unless listed here.
_BRAHMIC_CONSONANTS = {
    "C": "ch", "CH": "chh", "TT": "t", "TTH": "th", "DD": "d", "DDH": "dh", "NN": "n",
    "NNN": "n", "NNY": "ny", "SS": "sh", "LL": "l", "LLL": "zh", "RR": "r", "RRR": "r",
    "TTT": "t", "DDD": "d", "DDDH": "r", "YY": "y", "KHH": "kh", "GHH": "gh", "KSS": "ksh",
    "JJ": "j", "GG": "g", "BB": "b", "-": "",
}
_BRAHMIC_VOWELS = {
    "A": "a", "AA": "a", "I": "i", "II": "i", "U": "u", "UU": "u", "E": "e", "EE": "e",
    "AI": "ai", "O": "o", "OO": "o", "AU": "au", "AW": "au", "OE": "o", "OOE": "o", "UE": "u",
    "UUE": "u", "REVERSED I": "i", "REVERSED II": "i", "VOCALIC R": "ri", "VOCALIC RR": "ri",
    "VOCALIC L": "li", "VOCALIC LL": "li",
}
_BRAHMIC_SIGNS = {"ANUSVARA": "n", "CANDRABINDU": "n", "BINDI": "n", "VISARGA": "h",
                  "AVAGRAHA": "", "NUKTA": ""}


class _Entry(NamedTuple):
    """How one character romanises: `latin`, then `inherent` unless a following character
    suppresses it (see the flags)."""
    latin: str
    flags: int = 0
    inherent: str = ""


# Flags of an entry.
_INHERENT = 1       # a consonant carrying `inherent`
_SUPPRESSES = 2     # a vowel sign, virama or subjoined consonant: the preceding consonant's
                    # inherent vowel is not pronounced
_TRANSPARENT = 4    # a nukta: looked through when finding what follows a consonant
_DROP_FINAL = 8     # the inherent vowel is silent on a word's last letter (not its first)
_ROOTED = 16        # Tibetan: one inherent vowel per syllable, on its root
_PREFIX = 32        # Tibetan prefix letter
_PREPENDED = 64     # Thai/Lao vowel written before the consonant it follows in speech
_CONSONANT = 128    # Thai/Lao consonant (what a prepended vowel moves behind)


def _consonant(latin, inherent="a", flags=0):
    return _Entry(latin, _INHERENT | flags, inherent)


def _vowel_sign(latin):
    return _Entry(latin, _SUPPRESSES)


_VIRAMA = _vowel_sign("")

# name prefix: (code points, flags of its consonants (_ROOTED: of all its characters), entries
# where the names mislead)
_BRAHMIC_SCRIPTS = {
    "DEVANAGARI": (range(0x0900, 0x0980), _DROP_FINAL, {"OM": _Entry("om")}),
    "BENGALI": (range(0x0980, 0x0A00), _DROP_FINAL, {
        "SIGN ANUSVARA": _Entry("ng"), "LETTER KHANDA TA": _Entry("t"),
        "LETTER RA WITH LOWER DIAGONAL": _consonant("w")}),
    "GURMUKHI": (range(0x0A00, 0x0A80), _DROP_FINAL, {
        "TIPPI": _Entry("n"), "SIGN ADAK BINDI": _Entry("n"), "IRI": _Entry(""),
        "URA": _Entry(""), "ADDAK": _Entry(""), "EK ONKAR": _Entry("ikonkar")}),
    "GUJARATI": (range(0x0A80, 0x0B00), _DROP_FINAL, {"OM": _Entry("om")}),
    "ORIYA": (range(0x0B00, 0x0B80), 0, {}),
    "TAMIL": (range(0x0B80, 0x0C00), 0, {"OM": _Entry("om")}),
    "TELUGU": (range(0x0C00, 0x0C80), 0, {"LETTER NAKAARA POLLU": _Entry("n")}),
    "KANNADA": (range(0x0C80, 0x0D00), 0, {"LETTER NAKAARA POLLU": _Entry("n")}),
    "MALAYALAM": (range(0x0D00, 0x0D80), 0, {"LETTER DOT REPH": _Entry("r"),
                                            "SIGN ANUSVARA": _Entry("m")}),
    "TIBETAN": (range(0x0F00, 0x1000), _ROOTED, {
        "LETTER A": _consonant(""), "SIGN RJES SU NGA RO": _Entry("m"),
        "SIGN RNAM BCAD": _Entry("h"), "SIGN NYI ZLA NAA DA": _Entry("n"),
        "SIGN SNA LDAN": _Entry("n"), "SYLLABLE OM": _Entry("om")}),
    "MYANMAR": (range(0x1000, 0x10A0), 0, {
        "LETTER A": _consonant(""), "LETTER SHAN A": _consonant(""),
        "SIGN VISARGA": _Entry("")}),     # a tone mark in Burmese
    "KHMER": (range(0x1780, 0x1800), _DROP_FINAL, {
        "LETTER QA": _consonant(""), "SIGN NIKAHIT": _Entry("m"), "SIGN REAHMUK": _Entry("h"),
        "SIGN LEK TOO": _Entry(""),
        **{"VOWEL SIGN " + name: _vowel_sign(latin) for name, latin in {
            "Y": "oe", "YY": "eu", "UA": "uo", "OE": "aeu", "YA": "oea", "IE": "ie", "AE": "ae",
            "OO": "ao"}.items()},
        **{"INDEPENDENT VOWEL " + name: _Entry(latin) for name, latin in {
            "QAQ": "a", "QAA": "a", "QI": "i", "QII": "i", "QU": "u", "QUK": "uk", "QUU": "u",
            "QUUV": "ou", "RY": "ri", "RYY": "ri", "LY": "li", "LYY": "li", "QE": "e",
            "QAI": "ai", "QOO TYPE ONE": "ao", "QOO TYPE TWO": "ao", "QAU": "au"}.items()}}),
}
_TIBETAN_PREFIXES = "གདབམའ"
# Anusvara is m before a labial (कंपनी -> kampani), and at the end of a Telugu or Kannada word.
_ANUSVARA_NAMES = ("SIGN ANUSVARA", "TIPPI", "SIGN BINDI")
_LABIALS = "pbm"
_ANUSVARA_M_AT_END = "\u0c02\u0c82"
_NUKTA = re.compile(r".* SIGN NUKTA")

_SINHALA_CONSONANTS = {
    "ALPAPRAANA KAYANNA": "k", "MAHAAPRAANA KAYANNA": "kh", "ALPAPRAANA GAYANNA": "g",
    "MAHAAPRAANA GAYANNA": "gh", "KANTAJA NAASIKYAYA": "ng", "SANYAKA GAYANNA": "ng",
    "ALPAPRAANA CAYANNA": "ch", "MAHAAPRAANA CAYANNA": "chh", "ALPAPRAANA JAYANNA": "j",
    "MAHAAPRAANA JAYANNA": "jh", "TAALUJA NAASIKYAYA": "ny", "TAALUJA SANYOOGA NAAKSIKYAYA": "gn",
    "SANYAKA JAYANNA": "nj", "ALPAPRAANA TTAYANNA": "t", "MAHAAPRAANA TTAYANNA": "th",
    "ALPAPRAANA DDAYANNA": "d", "MAHAAPRAANA DDAYANNA": "dh", "MUURDHAJA NAYANNA": "n",
    "SANYAKA DDAYANNA": "nd", "ALPAPRAANA TAYANNA": "t", "MAHAAPRAANA TAYANNA": "th",
    "ALPAPRAANA DAYANNA": "d", "MAHAAPRAANA DAYANNA": "dh", "DANTAJA NAYANNA": "n",
    "SANYAKA DAYANNA": "nd", "ALPAPRAANA PAYANNA": "p", "MAHAAPRAANA PAYANNA": "ph",
    "ALPAPRAANA BAYANNA": "b", "MAHAAPRAANA BAYANNA": "bh", "MAYANNA": "m", "AMBA BAYANNA": "mb",
    "YAYANNA": "y", "RAYANNA": "r", "DANTAJA LAYANNA": "l", "VAYANNA": "v",
    "TAALUJA SAYANNA": "sh", "MUURDHAJA SAYANNA": "sh", "DANTAJA SAYANNA": "s", "HAYANNA": "h",
    "MUURDHAJA LAYANNA": "l", "FAYANNA": "f",
}
_SINHALA_VOWELS = {
    "AYANNA": "a", "AAYANNA": "a", "AEYANNA": "ae", "AEEYANNA": "ae", "IYANNA": "i",
    "IIYANNA": "i", "UYANNA": "u", "UUYANNA": "u", "IRUYANNA": "ri", "IRUUYANNA": "ri",
    "ILUYANNA": "li", "ILUUYANNA": "li", "EYANNA": "e", "EEYANNA": "e", "AIYANNA": "ai",
    "OYANNA": "o", "OOYANNA": "o", "AUYANNA": "au",
}
_SINHALA_VOWEL_SIGNS = {
    "AELA-PILLA": "a", "KETTI AEDA-PILLA": "ae", "DIGA AEDA-PILLA": "ae", "KETTI IS-PILLA": "i",
    "DIGA IS-PILLA": "i", "KETTI PAA-PILLA": "u", "DIGA PAA-PILLA": "u", "GAETTA-PILLA": "ri",
    "DIGA GAETTA-PILLA": "ri", "KOMBUVA": "e", "DIGA KOMBUVA": "e", "KOMBU DEKA": "ai",
    "KOMBUVA HAA AELA-PILLA": "o", "KOMBUVA HAA DIGA AELA-PILLA": "o",
    "KOMBUVA HAA GAYANUKITTA": "au", "GAYANUKITTA": "li", "DIGA GAYANUKITTA": "li",
}
_SINHALA_SIGNS = {"ANUSVARAYA": "n", "VISARGAYA": "h", "CANDRABINDU": "n"}

# Ethiopic: "SYLLABLE <consonant>[W]<vowel>"; the sixth order (E) has no vowel.
_ETHIOPIC_CONSONANTS = {
    "HH": "h", "SZ": "s", "QH": "kh", "X": "h", "KX": "h", "C": "ch", "TH": "t", "PH": "p",
    "TZ": "ts", "DD": "d", "GG": "g", "SS": "s", "CC": "ch", "CCH": "ch", "ZZ": "z", "XY": "hy",
    "GLOTTAL": "", "PHARYNGEAL": "",
}
_ETHIOPIC_VOWELS = {"A": "a", "U": "u", "I": "i", "AA": "a", "EE": "e", "E": "", "O": "o",
                    "OA": "wa"}
_ETHIOPIC_SYLLABLE = re.compile(r"(?:SEBATBEIT |GURAGE )?(GLOTTAL |PHARYNGEAL |[A-Z]*?)(W?)"
                                r"(AA|EE|OA|A|U|I|E|O)")

# Thai and Lao: consonants are named "<consonant>O <word>" ("KHO KHAI", "LETTER KHO SUNG") and
# romanised as in Brahmic names, except those listed; vowels and signs by name.
_THAI_LAO_CONSONANTS = {"CH": "ch", "HO NO": "n", "HO MO": "m"}
_THAI_LAO_CONSONANT = re.compile(r"(?:LETTER )?(?:PALI |SANSKRIT |KHMU )?([B-DF-HJ-NP-TV-Z]*)[AO]"
                                 r"(?: [A-Z]+)?")
_THAI = {
    "SARA A": "a", "MAI HAN-AKAT": "a", "SARA AA": "a", "SARA AM": "am", "SARA I": "i",
    "SARA II": "i", "SARA UE": "ue", "SARA UEE": "ue", "SARA U": "u", "SARA UU": "u",
    "SARA E": "e", "SARA AE": "ae", "SARA O": "o", "SARA AI MAIMUAN": "ai",
    "SARA AI MAIMALAI": "ai", "NIKHAHIT": "m", "RU": "rue", "LU": "lue", "LAKKHANGYAO": "",
    "PAIYANNOI": "", "MAIYAMOK": "",
}
_LAO = {
    "VOWEL SIGN A": "a", "VOWEL SIGN MAI KAN": "a", "VOWEL SIGN AA": "a", "VOWEL SIGN AM": "am",
    "VOWEL SIGN I": "i", "VOWEL SIGN II": "i", "VOWEL SIGN Y": "ue", "VOWEL SIGN YY": "ue",
    "VOWEL SIGN U": "u", "VOWEL SIGN UU": "u", "VOWEL SIGN MAI KON": "o", "VOWEL SIGN E": "e",
    "VOWEL SIGN EI": "ae", "VOWEL SIGN O": "o", "VOWEL SIGN AY": "ai", "VOWEL SIGN AI": "ai",
    "SEMIVOWEL SIGN LO": "l", "SEMIVOWEL SIGN NYO": "ia", "NIGGAHITA": "m", "KO LA": "",
    "ELLIPSIS": "",
}
# Vowels written around the consonant, joined once the prepended part has moved after it: the
# second character's output after the first, and the first's before the second.
_THAI_AFTER = {"เี": "i", "ีย": "a", "เื": "ue", "ือ": "a", "เา": "ao", "ัว": "a", "ํา": "m",
               "ໍາ": "m"}
_THAI_BEFORE = {"เี": "", "เื": "", "เา": "", "ัว": "u", "ํา": "a", "ໍາ": "a"}
_THAI_CARRIERS = "อອ"          # o, but silent before anything other than a consonant

# Hangul (Revised Romanization), keyed by the jamo's short names in Unicode's syllable names.
_HANGUL_INITIALS = {"G": "g", "GG": "kk", "N": "n", "D": "d", "DD": "tt", "R": "r", "M": "m",
                    "B": "b", "BB": "pp", "S": "s", "SS": "ss", "": "", "J": "j", "JJ": "jj",
                    "C": "ch", "K": "k", "T": "t", "P": "p", "H": "h"}
_HANGUL_VOWELS = {"WEO": "wo", "YI": "ui"}   # the others are RR already
_HANGUL_FINALS = {  # final: (alone, before a vowel (liaison), before ㄴ or ㅁ (nasalised))
    "G": ("k", "g", "ng"), "GG": ("k", "kk", "ng"), "GS": ("k", "ks", "ng"),
    "N": ("n", "n", "n"), "NJ": ("n", "nj", "n"), "NH": ("n", "n", "n"), "D": ("t", "d", "n"),
    "L": ("l", "r", "l"), "LG": ("k", "lg", "ng"), "LM": ("m", "lm", "m"),
    "LB": ("l", "lb", "l"), "LS": ("l", "ls", "l"), "LT": ("l", "lt", "l"),
    "LP": ("p", "lp", "m"), "LH": ("l", "r", "l"), "M": ("m", "m", "m"), "B": ("p", "b", "m"),
    "BS": ("p", "ps", "m"), "S": ("t", "s", "n"), "SS": ("t", "ss", "n"),
    "NG": ("ng", "ng", "ng"), "J": ("t", "j", "n"), "C": ("t", "ch", "n"),
    "K": ("k", "k", "ng"), "T": ("t", "t", "n"), "P": ("p", "p", "m"), "H": ("t", "", "n"),
}
# Liquid assimilation: ㄹ after ㄹ or ㄴ is l, ㄴ after ㄹ is l, ㄹ after ㅁ or ㅇ is n.
_HANGUL_AFTER = {"ᆯᄅ": "l", "ᆫᄅ": "l", "ᆯᄂ": "l", "ᆷᄅ": "n", "ᆼᄅ": "n"}
_HANGUL_BEFORE = {"ᆫᄅ": "l"}

# Kana (Hepburn); other names are already Hepburn ("KA" -> "ka").
_HEPBURN = {"SI": "shi", "ZI": "ji", "TI": "chi", "DI": "ji", "TU": "tsu", "DU": "zu",
            "HU": "fu", "WO": "o", "WI": "i", "WE": "e"}
_KANA_SMALL_Y = "ゃゅょャュョ"
_KANA_SMALL_VOWELS = "ァィゥェォ"
_SOKUON = "っッ"
_PROLONGED_SOUND_MARK = "ー"


# --- Building the tables ---

def _lookup_name(name: str, table: dict):
    """`table`'s value for a name: whole, without " WITH ...", then without leading words."""
    if name in table:
        return table[name]
    words = name.split(" WITH ")[0].split()
    for start in range(len(words)):
        if " ".join(words[start:]) in table:
            return table[" ".join(words[start:])]
    return None


def _named(ranges, pattern):
    """(code point, first group of `pattern`) for each named character that matches it."""
    regex = re.compile(pattern)
    for cp in (cp for r in ranges for cp in r):
        match = regex.fullmatch(unicodedata.name(chr(cp), ""))
        if match:
            yield cp, match.group(1)


_BRAHMIC_NAME = re.compile(r"(LETTER|VOWEL SIGN|VOWEL|SIGN|SUBJOINED LETTER|INDEPENDENT VOWEL"
                           r"|CONSONANT SIGN(?: \w+)? MEDIAL) (.*)")


def _brahmic_letter(name: str):
    """The entry of "LETTER KA", "VOWEL SIGN AA", "SIGN ANUSVARA", ... or None."""
    match = _BRAHMIC_NAME.fullmatch(name)
    if not match:
        return None
    kind, sound = match[1], match[2].split(" WITH ")[0]
    if kind == "SIGN":
        latin = _BRAHMIC_SIGNS.get(sound)
        return None if latin is None else _Entry(latin, _TRANSPARENT if sound == "NUKTA" else 0)
    vowel = _lookup_name(sound, _BRAHMIC_VOWELS)
    if kind == "VOWEL SIGN":
        return None if vowel is None else _vowel_sign(vowel)
    if kind in ("LETTER", "VOWEL", "INDEPENDENT VOWEL") and vowel is not None:
        return _Entry(vowel)
    consonant = re.fullmatch(r"([B-DF-HJ-NP-TV-Z-]*)([AO]?)", sound.split()[-1])
    if kind in ("VOWEL", "INDEPENDENT VOWEL") or not consonant:
        return None
    latin = _BRAHMIC_CONSONANTS.get(consonant[1], consonant[1].lower())
    if not consonant[2]:                        # a consonant without vowel (Malayalam chillu)
        return _Entry(latin)
    subjoined = 0 if kind == "LETTER" else _SUPPRESSES     # Tibetan subjoined, Myanmar medial
    return _consonant(latin, consonant[2].lower(), subjoined)


class _Rules:
    """Entries per code point and the context rules, as Python dicts, before compilation."""

    def __init__(self):
        self.letters: dict[int, _Entry] = {}
        self.initial: dict[int, str] = {}                # at the start of a word
        self.final: dict[int, str] = {}                  # at the end of a word
        self.after: dict[tuple[int, int], str] = {}      # (previous, this) -> this one's output
        self.before: dict[tuple[int, int], str] = {}     # (this, next) -> this one's output

    def add_pairs(self, *, after=None, before=None):
        """Context rules written as two-character strings."""
        for rules, pairs in ((self.after, after), (self.before, before)):
            rules.update(((ord(pair[0]), ord(pair[1])), out) for pair, out in (pairs or {}).items())


_ALPHABETS = (  # (code points, name pattern, table)
    ((range(0x0400, 0x0530), range(0x1C80, 0x1C89), range(0xA640, 0xA6A0)),
     r"CYRILLIC (?:SMALL |CAPITAL )?(?:LETTER|LIGATURE) (.*)", _CYRILLIC),
    ((range(0x0370, 0x0400), range(0x1F00, 0x2000)), r"GREEK (?:SMALL|CAPITAL) LETTER (.*)",
     _GREEK),
    ((range(0x0530, 0x0590),), r"ARMENIAN (?:SMALL|CAPITAL) (?:LETTER|LIGATURE) (.*)",
     _ARMENIAN),
    ((range(0x10A0, 0x1100), range(0x1C90, 0x1CC0), range(0x2D00, 0x2D30)),
     r"GEORGIAN (?:SMALL |CAPITAL |MTAVRULI CAPITAL )?LETTER (.*)", _GEORGIAN),
    ((range(0x0590, 0x0600),), r"HEBREW (?:LETTER|POINT|LIGATURE) (.*)", _HEBREW),
    ((range(0x0600, 0x0700), range(0x0750, 0x0780), range(0x08A0, 0x0900)),
     r"ARABIC LETTER (.*)", _ARABIC),
    ((range(0x0600, 0x0700),), r"ARABIC ({})".format("|".join(_ARABIC_MARKS)), _ARABIC_MARKS),
    ((range(0x2D30, 0x2D80),), r"TIFINAGH LETTER (.*)", _TIFINAGH),
    ((range(0x07C0, 0x0800),), r"NKO (?:LETTER )?(.*)", _NKO),
)


def _add_alphabets(rules: _Rules):
    for ranges, pattern, table in _ALPHABETS:
        for cp, name in _named(ranges, pattern):
            latin = _lookup_name(name, table)
            if latin is not None:
                rules.letters[cp] = _Entry(latin)
    for initial in (_ARMENIAN_INITIAL, _HEBREW_INITIAL, _ARABIC_INITIAL):
        rules.initial.update((ord(c), out) for c, out in initial.items())
    rules.final.update((ord(c), out) for c, out in _ARABIC_FINAL.items())
    for after, before in ((_GREEK_AFTER, _GREEK_BEFORE), (_ARMENIAN_AFTER, _ARMENIAN_BEFORE),
                          (_HEBREW_AFTER, _HEBREW_BEFORE), ({}, _ARABIC_BEFORE)):
        rules.add_pairs(after=after, before=before)


def _add_brahmic(rules: _Rules):
    for script, (cps, consonant_flags, own) in _BRAHMIC_SCRIPTS.items():
        names = dict(_named([cps], script + " (.*)"))
        for cp, name in names.items():
            entry = own.get(name) or _brahmic_letter(name)
            if entry is None and unicodedata.combining(chr(cp)) == 9:
                entry = _VIRAMA
            if entry is not None:
                script_flags = consonant_flags if entry.flags & _INHERENT else (
                    consonant_flags & _ROOTED)
                prefix = _PREFIX if chr(cp) in _TIBETAN_PREFIXES else 0
                rules.letters[cp] = entry._replace(flags=entry.flags | script_flags | prefix)
        consonants = [cp for cp in cps if rules.letters.get(cp, _VIRAMA).flags & _INHERENT]
        for cp in consonants:       # letters NFKC splits into letter + nukta (ज़ = ज + ़)
            parts = [int(part, 16) for part in unicodedata.decomposition(chr(cp)).split()]
            if len(parts) == 2 and _NUKTA.fullmatch(unicodedata.name(chr(parts[1]))):
                rules.before[parts[0], parts[1]] = rules.letters[cp].latin
        for anusvara in (cp for cp, name in names.items() if name in _ANUSVARA_NAMES
                         and rules.letters[cp].latin == "n"):
            rules.before.update(((anusvara, cp), "m") for cp in consonants
                                if rules.letters[cp].latin[:1] in _LABIALS)
    rules.final.update((ord(c), "m") for c in _ANUSVARA_M_AT_END)
    addak = ord("\u0a71")        # Gurmukhi: doubles the next consonant
    rules.before.update(((addak, cp), entry.latin[:1]) for cp, entry in rules.letters.items()
                        if 0x0A00 <= cp < 0x0A80 and entry.flags & _INHERENT)


def _add_sinhala(rules: _Rules):
    for cp, name in _named([range(0x0D80, 0x0E00)], r"SINHALA ((?:LETTER|VOWEL SIGN|SIGN) .*)"):
        kind, sound = re.fullmatch(r"(LETTER|VOWEL SIGN|SIGN) (.*)", name).groups()
        if kind == "LETTER" and sound in _SINHALA_CONSONANTS:
            rules.letters[cp] = _consonant(_SINHALA_CONSONANTS[sound])
        elif kind == "LETTER" and sound in _SINHALA_VOWELS:
            rules.letters[cp] = _Entry(_SINHALA_VOWELS[sound])
        elif kind == "VOWEL SIGN" and sound in _SINHALA_VOWEL_SIGNS:
            rules.letters[cp] = _vowel_sign(_SINHALA_VOWEL_SIGNS[sound])
        elif kind == "SIGN" and sound in _SINHALA_SIGNS:
            rules.letters[cp] = _Entry(_SINHALA_SIGNS[sound])
        elif unicodedata.combining(chr(cp)) == 9:
            rules.letters[cp] = _VIRAMA


def _add_ethiopic(rules: _Rules):
    ranges = (range(0x1200, 0x13A0), range(0x2D80, 0x2DE0), range(0xAB00, 0xAB30),
              range(0x1E7E0, 0x1E800))
    for cp, name in _named(ranges, r"ETHIOPIC SYLLABLE (.*)"):
        consonant, labial, vowel = _ETHIOPIC_SYLLABLE.fullmatch(name).groups()
        consonant = consonant.strip()
        latin = _ETHIOPIC_CONSONANTS.get(consonant, consonant.lower()) + labial.lower()
        # the sixth order of a vowel-only letter (እ) is a vowel: i
        rules.letters[cp] = _Entry(latin + (_ETHIOPIC_VOWELS[vowel] or ("" if latin else "i")))


def _add_thai_lao(rules: _Rules):
    for cp, name in _named([range(0x0E00, 0x0F00)], r"(?:THAI CHARACTER|LAO) (.*)"):
        sign = (_THAI if cp < 0x0E80 else _LAO).get(name)
        consonant = _THAI_LAO_CONSONANT.fullmatch(name)
        if sign is not None:
            rules.letters[cp] = _Entry(sign, _PREPENDED if cp in text._PREPENDED_VOWELS else 0)
        elif name in _THAI_LAO_CONSONANTS or consonant:
            sound = name if name in _THAI_LAO_CONSONANTS else consonant[1]
            latin = "o" if chr(cp) in _THAI_CARRIERS else _THAI_LAO_CONSONANTS.get(
                sound, _BRAHMIC_CONSONANTS.get(sound, sound.lower()))
            rules.letters[cp] = _Entry(latin, _CONSONANT)
    for carrier in map(ord, _THAI_CARRIERS):
        block = range(carrier & ~0x7F, (carrier & ~0x7F) + 0x80)
        rules.before.update(((carrier, cp), "") for cp in block
                            if unicodedata.category(chr(cp)) in ("Lo", "Lm", "Mn")
                            and not rules.letters.get(cp, _Entry("")).flags & _CONSONANT)
    rules.add_pairs(after=_THAI_AFTER, before=_THAI_BEFORE)


def _add_hangul(rules: _Rules):
    """Jamo romanised as RR from the jamo's short names in the syllables' names (가 is
    "HANGUL SYLLABLE GA"); `romanize` decomposes syllables into jamo first."""
    def short_name(syllable):
        return unicodedata.name(chr(syllable))[len("HANGUL SYLLABLE "):]

    silent = 11                                   # ㅇ, the initial without a sound
    initials = {0x1100 + i: short_name(0xAC00 + i * 588)[:-1] for i in range(19)}
    vowels = {0x1161 + v: short_name(0xAC00 + silent * 588 + v * 28) for v in range(21)}
    finals = {0x11A7 + t: short_name(0xAC00 + silent * 588 + t)[1:] for t in range(1, 28)}
    rules.letters.update((cp, _Entry(_HANGUL_INITIALS[n])) for cp, n in initials.items())
    rules.letters.update((cp, _Entry(_HANGUL_VOWELS.get(n, n.lower()))) for cp, n in vowels.items())
    rules.letters.update((cp, _Entry(_HANGUL_FINALS[n][0])) for cp, n in finals.items())
    for cp, name in finals.items():
        _, liaison, nasalised = _HANGUL_FINALS[name]
        rules.before[cp, 0x1100 + silent] = liaison
        rules.before.update(((cp, initial), nasalised) for initial in (0x1102, 0x1106))  # ㄴ ㅁ
    rules.add_pairs(after=_HANGUL_AFTER, before=_HANGUL_BEFORE)


def _add_kana(rules: _Rules):
    for script, first in (("HIRAGANA", 0x3040), ("KATAKANA", 0x30A0)):
        kana = {}
        for cp, name in _named([range(first, first + 0x60), range(0x31F0, 0x3200)],
                               script + r" LETTER (?:SMALL )?(.*)"):
            kana[cp] = "" if chr(cp) in _SOKUON else _HEPBURN.get(name, name.lower())
        rules.letters.update((cp, _Entry(latin)) for cp, latin in kana.items())
        for cp, latin in kana.items():
            if not latin:
                continue
            consonant = latin[:-1]
            for small in _KANA_SMALL_Y:      # きょ -> kyo, しょ -> sho
                if unicodedata.name(small).startswith(script) and consonant:
                    rules.before[cp, ord(small)] = consonant + (
                        "" if consonant in ("sh", "ch", "j") else "y")
                    rules.after[cp, ord(small)] = kana[ord(small)][1:]
            if script == "KATAKANA" and latin[-1] in "aiueo":   # ティ -> ti, ウィ -> wi
                for small in _KANA_SMALL_VOWELS:
                    rules.before[cp, ord(small)] = consonant or ("w" if latin == "u" else "")
            for sokuon in _SOKUON:           # っか -> kka, っち -> tchi
                if unicodedata.name(sokuon).startswith(script) and latin[0] not in "aiueon":
                    rules.before[ord(sokuon), cp] = "t" if latin.startswith("ch") else latin[0]
    rules.letters[ord(_PROLONGED_SOUND_MARK)] = _Entry("")


def _add_digits(rules: _Rules):
    for cp in range(0x80, 0x323B0):          # no decimal digit above (see text._SCANNED)
        if unicodedata.category(chr(cp)) == "Nd":
            rules.letters[cp] = _Entry(str(unicodedata.decimal(chr(cp))))


class _Tables(NamedTuple):
    output: text._Expansion      # output key -> Latin code points (keys above Unicode)
    letter_cps: np.ndarray       # sorted code points that romanise
    letter_keys: np.ndarray      # their output key, flags and inherent vowel's key
    letter_flags: np.ndarray
    letter_inherent: np.ndarray
    initial_cps: np.ndarray      # code point -> output key at the start of a word
    initial_keys: np.ndarray
    final_cps: np.ndarray        # code point -> output key at the end of a word
    final_keys: np.ndarray
    after_pairs: np.ndarray      # int64 previous << 21 | code point -> output key
    after_keys: np.ndarray
    before_pairs: np.ndarray     # int64 code point << 21 | next -> output key
    before_keys: np.ndarray
    nothing: int                 # the key of ""


@functools.lru_cache(maxsize=None)
def _tables() -> _Tables:
    """Builds every table from `unicodedata` and the conventions above (once per process)."""
    rules = _Rules()
    for add in (_add_alphabets, _add_brahmic, _add_sinhala, _add_ethiopic, _add_thai_lao,
                _add_hangul, _add_kana, _add_digits):
        add(rules)
    strings = sorted({e.latin for e in rules.letters.values()}
                     | {e.inherent for e in rules.letters.values()}
                     | set(rules.initial.values()) | set(rules.final.values())
                     | set(rules.after.values())
                     | set(rules.before.values()))
    key = {s: 0x110000 + i for i, s in enumerate(strings)}

    def compiled(mapping, dtype):
        """Sorted lookup keys and their output keys."""
        keys = sorted(mapping)
        return np.array(keys, dtype), np.array([key[mapping[k]] for k in keys], np.int32)

    def pairs(mapping):
        return {np.int64(first) << 21 | second: out for (first, second), out in mapping.items()}

    letter_cps = sorted(rules.letters)
    entries = [rules.letters[cp] for cp in letter_cps]
    initial_cps, initial_keys = compiled(rules.initial, np.int32)
    final_cps, final_keys = compiled(rules.final, np.int32)
    after_pairs, after_keys = compiled(pairs(rules.after), np.int64)
    before_pairs, before_keys = compiled(pairs(rules.before), np.int64)
    return _Tables(
        output=text._expansion({key[s]: s for s in strings}),
        letter_cps=np.array(letter_cps, np.int32),
        letter_keys=np.array([key[e.latin] for e in entries], np.int32),
        letter_flags=np.array([e.flags for e in entries], np.int32),
        letter_inherent=np.array([key[e.inherent] for e in entries], np.int32),
        initial_cps=initial_cps, initial_keys=initial_keys,
        final_cps=final_cps, final_keys=final_keys,
        after_pairs=after_pairs, after_keys=after_keys,
        before_pairs=before_pairs, before_keys=before_keys,
        nothing=key[""])


@functools.lru_cache(maxsize=None)
def fingerprint() -> str:
    """Names the romanisation's behaviour (this module, the tokeniser's code it builds on,
    Python's Unicode version), for caches of romanised words."""
    with open(__file__, "rb") as source:
        digest = hashlib.sha256(source.read() + text.fingerprint().encode()
                                + unicodedata.unidata_version.encode())
    return digest.hexdigest()[:12]


# --- TF ops over flat code points `cps` [N] int32 with `rows` [N] int64 (word of each) ---

def _pair(first, second):
    return tf.cast(first, tf.int64) * (1 << 21) + tf.cast(second, tf.int64)


def _hangul_jamo(cps, rows):
    """Hangul syllables -> their two or three conjoining jamo (가 -> ᄀ ᅡ, 각 -> ᄀ ᅡ ᆨ)."""
    index = cps - 0xAC00
    syllable = (index >= 0) & (index < 11172)
    trail = index % 28
    counts = tf.where(syllable, tf.where(trail > 0, 3, 2), 1)
    parts = tf.stack([tf.where(syllable, 0x1100 + index // 588, cps),
                      0x1161 + index % 588 // 28, 0x11A7 + trail], axis=1)
    source = tf.repeat(tf.range(tf.size(cps)), counts)
    part = tf.range(tf.size(source)) - tf.gather(tf.cumsum(counts, exclusive=True), source)
    return tf.gather_nd(parts, tf.stack([source, part], axis=1)), tf.gather(rows, source)


def _spoken_order(flags, rows):
    """Source positions that move each Thai/Lao prepended vowel behind the consonant after it
    (เท -> ทเ: "the")."""
    positions = tf.range(tf.size(flags, out_type=tf.int64))
    next_flags, _ = text._gather_in_row(flags, positions + 1, rows, 0)
    swap = text._has(flags, _PREPENDED) & text._has(next_flags, _CONSONANT)
    swapped = text._shift(swap, 1, False)
    return tf.where(swap, positions + 1, tf.where(swapped, positions - 1, positions))


def _in_context(keys, cps, rows):
    """Replaces `keys` where a context rule applies: at the start or end of a word, after the
    previous code point, before the next (the latter win)."""
    t = _tables()
    positions = tf.range(tf.size(cps, out_type=tf.int64))
    previous, has_previous = text._gather_in_row(cps, positions - 1, rows, -1)
    following, has_following = text._gather_in_row(cps, positions + 1, rows, -1)
    for table_keys, table_values, queries, applies in (
            (t.initial_cps, t.initial_keys, cps, ~has_previous),
            (t.final_cps, t.final_keys, cps, ~has_following),
            (t.after_pairs, t.after_keys, _pair(previous, cps), has_previous),
            (t.before_pairs, t.before_keys, _pair(cps, following), has_following)):
        index, found = text._find(table_keys, queries)
        keys = tf.where(found & applies, tf.gather(table_values, index), keys)
    return keys


def _marks_of_romanised(cps, rows, romanised):
    """Combining marks and joiners whose letter is romanised (and that are not themselves)."""
    category = text._entries(cps) & 15
    mark = (category == text._EXTEND) | (category == text._JOINER)
    base_romanised, _ = text._gather_in_row(romanised, text._last_true(~mark), rows, False)
    return mark & ~romanised & base_romanised


def _inherent_vowels(flags, rows, nrows):
    """Where a consonant's inherent vowel is pronounced (see the module docstring)."""
    n = tf.size(flags, out_type=tf.int64)
    visible = ~text._has(flags, _TRANSPARENT)
    following = text._shift(text._first_true(visible), -1, n)
    following_flags, has_following = text._gather_in_row(flags, following, rows, 0)
    _, has_preceding = text._gather_in_row(
        flags, text._shift(text._last_true(visible), 1, -1), rows, 0)
    vowels = text._has(flags, _INHERENT) & ~text._has(following_flags, _SUPPRESSES)
    vowels &= ~(text._has(flags, _DROP_FINAL) & ~has_following & has_preceding)
    return tf.where(text._has(flags, _ROOTED), _tibetan_root(vowels, flags, rows, nrows), vowels)


def _tibetan_root(stack_ends, flags, rows, nrows):
    """The one stack end per Tibetan syllable that is followed by its inherent a: none if the
    syllable writes a vowel; else the first stack with a subjoined letter; else the second
    stack of three or more after a prefix letter; else the first."""
    def per_word(reduce, values):
        return tf.gather(reduce(values, rows, nrows), rows)

    ends = tf.cast(stack_ends & text._has(flags, _ROOTED), tf.int32)
    seen = tf.cumsum(ends)
    ordinal = seen - per_word(tf.math.unsorted_segment_min, seen - ends)     # 1, 2, ... per word
    stacked = (ends > 0) & text._has(flags, _SUPPRESSES)
    never = tf.int32.max
    first_stacked = per_word(tf.math.unsorted_segment_min, tf.where(stacked, ordinal, never))
    stacks = per_word(tf.math.unsorted_segment_max, ordinal * ends)
    prefixed = per_word(tf.math.unsorted_segment_max, tf.cast(
        (ordinal * ends == 1) & text._has(flags, _PREFIX) & ~stacked, tf.int32)) > 0
    written_vowel = per_word(tf.math.unsorted_segment_max, tf.cast(
        text._has(flags, _ROOTED) & text._has(flags, _SUPPRESSES) & ~text._has(flags, _INHERENT),
        tf.int32)) > 0
    root = tf.where(first_stacked < never, first_stacked,
                    tf.where(prefixed & (stacks >= 3), 2, 1))
    return (ends > 0) & (ordinal == root) & ~written_vowel


def _romanize_flat(words):
    """String [N] -> romanised string [N]."""
    t = _tables()
    cps, rows, nrows = text._decode(words)
    cps, rows = _hangul_jamo(cps, rows)
    index, romanised = text._find(t.letter_cps, cps)
    flags = tf.where(romanised, tf.gather(t.letter_flags, index), 0)
    order = _spoken_order(flags, rows)
    cps, index, romanised, flags = (tf.gather(x, order) for x in (cps, index, romanised, flags))

    keys = tf.where(romanised, tf.gather(t.letter_keys, index), cps)
    keys = _in_context(keys, cps, rows)
    keys = tf.where(_marks_of_romanised(cps, rows, romanised), t.nothing, keys)
    # each code point's output, then its inherent vowel where that is pronounced
    keys = tf.reshape(tf.stack([keys, tf.gather(t.letter_inherent, index)], axis=1), [-1])
    kept = tf.reshape(tf.stack([tf.ones_like(romanised), _inherent_vowels(flags, rows, nrows)],
                               axis=1), [-1])
    keys = tf.boolean_mask(keys, kept)
    latin, latin_rows = text._expand(t.output, keys, tf.boolean_mask(tf.repeat(rows, 2), kept),
                                     tf.ones_like(keys, tf.bool))
    out = text._encode(latin, latin_rows, nrows)
    changed = tf.math.unsorted_segment_max(tf.cast(romanised, tf.int32), rows, nrows) > 0
    return tf.where(changed & (out != ""), out, words)


def romanize(words):
    """Words (string tensor of any rank, or ragged) -> the same structure, romanised."""
    flat, restore = text._flat_strings(words)
    return restore(_romanize_flat(flat))
