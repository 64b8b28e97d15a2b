"""mlclf.romanize: known words per script, what is left alone, structure, graph and SavedModel,
odd input, output size, real corpora."""
import csv
import os
import random
import unicodedata

import numpy as np
import pytest
import tensorflow as tf

from mlclf import romanize, text

SHARED_DATA = os.environ.get("MLCLF_SHARED_DATA",
                             os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))

KNOWN_WORDS = {
    "cyrillic": [("москва", "moskva"), ("београд", "beograd"), ("жена", "žena"),
                 ("ђорђевић", "đorđević"), ("љубљана", "ljubljana"), ("щука", "ščuka"),
                 ("українська", "ukrajinska"), ("българия", "balgarija"), ("қазақ", "qazaq"),
                 ("өзбек", "özbek"), ("МОСКВА", "moskva"), ("москва\u0301", "moskva")],
    "greek": [("αθήνα", "athina"), ("ελλάδα", "ellada"), ("ευρώπη", "evropi"),
              ("άγγελος", "angelos"), ("ἀθῆναι", "athinai"), ("χάος", "chaos")],
    "armenian": [("հայաստան", "hayastan"), ("երևան", "yerevan"), ("ուր", "ur"),
                 ("քաղաք", "kaghak")],
    "georgian": [("ტბილისი", "tbilisi"), ("საქართველო", "sakartvelo"), ("ძმა", "dzma")],
    "arabic": [("مصر", "msr"), ("القاهرة", "alqahra"), ("سوريا", "surya"), ("على", "ala"),
               ("وزير", "wzir"), ("إسرائيل", "israil"), ("١٢٣", "123"), ("مُحَمَّد", "muhamad"),
               ("پاکستان", "pakstan"), ("کراچی", "krachi"), ("ڈاکٹر", "daktr"),
               ("چىدامچانلىق", "chidamchanliq"), ("ڤرلو", "prlu"), ("ساتاڠه", "satangh")],
    "hebrew": [("ישראל", "yshral"), ("ירושלים", "yrushlim"), ("שָׁלוֹם", "shalom"),
               ("אַמעריקע", "amerike"), ("שׂ", "s")],
    "devanagari": [("नेपाल", "nepal"), ("भारत", "bharat"), ("कमला", "kamala"), ("न", "na"),
                   ("हिंदी", "hindi"), ("कंपनी", "kampani"), ("क़िला", "qila"),
                   ("ज़िंदगी", "zindagi"), ("क्षत्रिय", "kshatriy"), ("२०२४", "2024")],
    "bengali": [("বাংলাদেশ", "bangladesh"), ("ঢাকা", "dhaka")],
    "gurmukhi": [("ਪੰਜਾਬ", "panjab"), ("ਸਿੰਘ", "singh"), ("ਵਿੱਚ", "vicch")],
    "gujarati": [("ગુજરાત", "gujarat"), ("અમદાવાદ", "amadavad")],
    "oriya": [("ଓଡ଼ିଶା", "orisha")],
    "tamil": [("தமிழ்", "tamizh"), ("சென்னை", "chennai")],
    "telugu": [("తెలుగు", "telugu"), ("హైదరాబాద్", "haidarabad"), ("దూరం", "duram")],
    "kannada": [("ಕನ್ನಡ", "kannada"), ("ಬೆಂಗಳೂರು", "bengaluru")],
    "malayalam": [("മലയാളം", "malayalam"), ("തിരുവനന്തപുരം", "tiruvanantapuram")],
    "sinhala": [("ලංකා", "lanka"), ("ශ්\u200dරී", "shri"), ("කොළඹ", "kolamba")],
    "tibetan": [("བོད", "bod"), ("བཀྲ", "bkra"), ("ཤིས", "shis"), ("སངས", "sangs"),
                ("རྒྱས", "rgyas"), ("མཁན", "mkhan"), ("ལྷ", "lha")],
    "myanmar": [("မြန်မာ", "mranma"), ("ကမ္ဘာ", "kambha")],
    "khmer": [("ខ្មែរ", "khmaer"), ("ភ្នំពេញ", "phnompeny")],
    "thai": [("เมือง", "mueang"), ("ตัว", "tua"), ("ทำ", "tham"), ("อ่าน", "an"), ("พ่อ", "pho"),
             ("เป็", "pe")],
    "lao": [("ລາວ", "law"), ("ໜອງ", "nong")],
    "ethiopic": [("ኢትዮጵያ", "ityopya"), ("አዲስ", "adis"), ("አበባ", "ababa"), ("ሰላም", "salam"),
                 ("ትግራይ", "tgray")],
    "hangul": [("서울", "seoul"), ("한국어", "hangugeo"), ("합니다", "hamnida"), ("신라", "silla"),
               ("설날", "seollal"), ("평양", "pyeongyang")],
    "kana": [("きょうと", "kyouto"), ("がっこう", "gakkou"), ("しゃしん", "shashin"),
             ("ティー", "ti"), ("ファイル", "fairu"), ("キッチン", "kitchin"), ("カ", "ka")],
    "tifinagh": [("ⵜⴰⵎⴰⵣⵉⵖⵜ", "tamaziɣt")],
    "nko": [("ߒߞߏ", "nko"), ("ߓߏ߬ߙߌ߬ߝߊ߲ߞߊ", "borifanka")],
}
LEFT_ALONE = ["hello", "žena", "naïve", "don't", "e-mail", "3.5", "1,000", "a\u0301", "👍🏽",
              "👨\u200d👩\u200d👧", "€", "", "東", "京", "\ue000", "\U000e0080", "\U0010fffd",
              "\ufffd", "\u0301", "\u200d", "ッ", "ー", "ء", "\u094d"]


def _decode(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return [_decode(v) for v in value]


_romanize_vector = tf.function(romanize.romanize,
                               input_signature=[tf.TensorSpec([None], tf.string)])


def _romanized(words):
    """Romanised strings of a list of words (through one traced graph: fast for many calls)."""
    return _decode(_romanize_vector(tf.constant(words, tf.string)).numpy().tolist())


@pytest.mark.parametrize("script", sorted(KNOWN_WORDS))
def test_known_words(script):
    words, expected = zip(*KNOWN_WORDS[script])
    assert _romanized(list(words)) == list(expected)


def test_words_without_anything_to_romanize_are_returned_unchanged():
    assert _romanized(LEFT_ALONE) == LEFT_ALONE
    invalid = tf.constant([b"\xff\xfeab", b"ab\xc3"])
    assert romanize.romanize(invalid).numpy().tolist() == [b"\xff\xfeab", b"ab\xc3"]


def test_mixed_words_keep_what_is_not_romanised():
    assert _romanized(["東京タワー", "iphoneтест", "covid-19сы", "ab\u0301ю"]) == [
        "東京tawa", "iphonetest", "covid-19sy", "ab\u0301ju"]


def test_words_are_romanised_independently_of_their_neighbours():
    words = [w for pairs in KNOWN_WORDS.values() for w, _ in pairs] + ["ו", "ו", "ո", "ւ", "เ",
                                                                       "ท", "\u11ab", "라"]
    alone = [_romanized([w])[0] for w in words]
    assert _romanized(words) == alone
    assert alone[-8:] == ["v", "v", "vo", "v", "e", "th", "n", "ra"]


def test_ragged_structure_is_kept():
    texts = tf.constant(["Москва и Αθήνα. Nepal नेपाल!", "", "東京 서울"])
    for hierarchical in (False, True):
        words = text.tokenize(texts, hierarchical)
        out = romanize.romanize(words)
        assert out.ragged_rank == words.ragged_rank
        assert out.row_lengths().numpy().tolist() == words.row_lengths().numpy().tolist()
        assert out.flat_values.shape == words.flat_values.shape
    flat = romanize.romanize(text.tokenize(texts, hierarchical=False))
    assert _decode(flat.to_list()) == [["moskva", "i", "athina", "nepal", "nepal"], [],
                                       ["東", "京", "seoul"]]
    nested = romanize.romanize(tf.ragged.constant([[["ю", ""], []], [], [["а"]]]))
    assert _decode(nested.to_list()) == [[["ju", ""], []], [], [["a"]]]
    dense = romanize.romanize(tf.constant([["я", "b"], ["", "ж"]]))
    assert dense.shape == (2, 2) and _decode(dense.numpy().tolist()) == [["ja", "b"], ["", "ž"]]
    assert romanize.romanize(tf.constant("щ")).numpy() == "šč".encode()
    empty = romanize.romanize(tf.ragged.constant([[], []], dtype=tf.string))
    assert empty.to_list() == [[], []]


def test_in_tf_function_with_unknown_batch_size():
    @tf.function(input_signature=[tf.RaggedTensorSpec([None, None], tf.string, ragged_rank=1)])
    def run(words):
        return romanize.romanize(words)

    for words in ([["москва", "x"], []], [["αθήνα"]], [[], [], ["서울", "", "नेपाल"]]):
        ragged = tf.ragged.constant(words, dtype=tf.string, row_splits_dtype=tf.int64)
        assert run(ragged).to_list() == romanize.romanize(ragged).to_list()
    graph = run.get_concrete_function().graph
    ops = {op.type for op in graph.get_operations()}
    assert not ops & {"EagerPyFunc", "PyFunc", "PyFuncStateless", "While", "StatelessWhile"}


class _Romanizer(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, texts):
        words = romanize.romanize(text.tokenize(texts, hierarchical=False))
        return {"words": words.flat_values, "lengths": words.row_lengths()}


def test_saved_model_round_trip(tmp_path):
    texts = tf.constant(["Москва и Αθήνα", "ኢትዮጵያ ሰላም", "", "서울 東京 नेपाल"])
    module = _Romanizer()
    expected = module(texts)
    tf.saved_model.save(module, str(tmp_path / "romanizer"))
    loaded = tf.saved_model.load(str(tmp_path / "romanizer"))
    got = loaded(texts)
    assert _decode(got["words"].numpy().tolist()) == [
        "moskva", "i", "athina", "ityopya", "salam", "seoul", "東", "京", "nepal"]
    for key in expected:
        np.testing.assert_array_equal(got[key].numpy(), expected[key].numpy())


def test_odd_input_does_not_crash():
    odd = ["\u093c", "\u093f", "\u094d\u094d", "เ", "เเก", "ྲ", "ཱི", "ᆨ", "ᅡ", "\uac00",
           "\ud7a3", "\uabff", "ゃ", "っ", "ー", "ꯃꯅꯤ", "\u200c\u200d", "\u05b8", "ـ", "ٌ",
           "a\u200dб", "ю\ue000ю", "\U000e0001", "я" * 5000, "가" * 3000, "ן" + "\u0591" * 50]
    out = _romanized(odd)
    assert len(out) == len(odd) and all(out)
    assert out[-3] == "ja" * 5000 and out[-2] == "ga" * 3000 and out[-1] == "n"


def _covered_code_points():
    tables = romanize._tables()
    pairs = np.concatenate([tables.after_pairs, tables.before_pairs])
    context = set((pairs >> 21).tolist()) | set((pairs & ((1 << 21) - 1)).tolist())
    return sorted(set(tables.letter_cps.tolist()) | context | set(range(0xAC00, 0xD7A4)))


def test_output_is_at_most_a_constant_times_the_input():
    """Each code point gives at most 8 (a Hangul syllable: three jamo), whatever surrounds it."""
    covered = _covered_code_points()
    rng = random.Random(0)
    words = ["".join(chr(rng.choice(covered)) for _ in range(rng.randint(1, 40)))
             for _ in range(3000)]
    out = _romanized(words)
    assert max(len(o) / len(w) for w, o in zip(words, out)) <= 8
    assert max(map(len, _romanized([chr(cp) for cp in covered]))) <= 8


def _is_latin(char):
    return unicodedata.name(char, "").startswith("LATIN") or char.isascii()


BLOCKS = [(0x0400, 0x0530), (0x0370, 0x03E2), (0x1F00, 0x2000), (0x0530, 0x0590),
          (0x0590, 0x0600), (0x0600, 0x0700), (0x0750, 0x0780), (0x07C0, 0x0800),
          (0x0900, 0x0E00), (0x0E00, 0x0F00), (0x0F00, 0x1000), (0x1000, 0x10A0),
          (0x10A0, 0x1100), (0x1200, 0x13A0), (0x1780, 0x1800), (0x2D30, 0x2D80),
          (0x2D80, 0x2DE0), (0x3041, 0x3097), (0x30A1, 0x30FB), (0xAC00, 0xD7A4)]
# Letters left as they are: Greek symbols that NFKC maps to letters and archaic letters,
# modifier letters and signs (Greek numeral sign, Armenian half ring, Arabic small waw/yeh,
# Georgian nar, Tifinagh labialisation), Vedic/Sanskrit signs and a glottal stop, Tibetan
# astrological head marks, a Mon letter, a Khmer sign, the Hebrew yod triangle, Arabic graf.
UNROMANISED = {0x03CF, 0x03D0, 0x03D1, 0x03D2, 0x03D3, 0x03D4, 0x03D5, 0x03D6, 0x03D7, 0x03D8,
               0x03DA, 0x03DC, 0x03DE, 0x03E0, 0x0345, 0x037B, 0x037C, 0x037D, 0x037F, 0x03F3,
               0x0374, 0x037A, 0x0559, 0x06E5, 0x06E6, 0x10FC, 0x2D6F,
               0x0971, 0x097D, 0x0980, 0x09FC, 0x0C80, 0x0CF1, 0x0CF2, 0x0D04, 0x0F88, 0x0F89,
               0x0F8A, 0x0F8B, 0x0F8C, 0x105D, 0x17DC, 0x05EF, 0x08C8, 0x1FBE}


def test_every_letter_of_the_covered_blocks_becomes_latin():
    """After a Latin letter, so that one romanising to nothing (ь) leaves "a", not itself."""
    letters = [cp for lo, hi in BLOCKS for cp in range(lo, hi)
               if unicodedata.category(chr(cp))[0] == "L" and cp not in UNROMANISED]
    out = _romanized(["a" + chr(cp) for cp in letters])
    wrong = [(hex(cp), unicodedata.name(chr(cp)), o) for cp, o in zip(letters, out)
             if not all(map(_is_latin, o))]
    assert not wrong, wrong[:20]


def test_fingerprint_follows_the_tokeniser(monkeypatch):
    first = romanize.fingerprint()
    assert len(first) == 12 and int(first, 16) >= 0
    romanize.fingerprint.cache_clear()
    monkeypatch.setattr(text, "fingerprint", lambda: "another tokeniser")
    try:
        assert romanize.fingerprint() != first
    finally:
        romanize.fingerprint.cache_clear()


def _documents(lang, count=40):
    path = os.path.join(SHARED_DATA, "sib200", "languages", lang, "dev.tsv")
    if not os.path.exists(path):
        pytest.skip(f"SIB-200 not found under {SHARED_DATA}")
    with open(path, encoding="utf-8", newline="") as f:
        return [row["text"] for row, _ in zip(csv.DictReader(f, delimiter="\t"), range(count))]


@pytest.mark.parametrize("lang", [
    "rus_Cyrl", "srp_Cyrl", "kaz_Cyrl", "ell_Grek", "hye_Armn", "kat_Geor", "arb_Arab", "urd_Arab",
    "pes_Arab", "uig_Arab", "pbt_Arab", "ckb_Arab", "ace_Arab", "heb_Hebr", "ydd_Hebr",
    "hin_Deva", "ben_Beng", "pan_Guru", "guj_Gujr", "ory_Orya", "tam_Taml", "tel_Telu",
    "kan_Knda", "mal_Mlym", "sin_Sinh", "bod_Tibt", "mya_Mymr", "khm_Khmr", "tha_Thai",
    "lao_Laoo", "amh_Ethi", "tir_Ethi", "kor_Hang", "tzm_Tfng", "nqo_Nkoo"])
def test_real_documents_come_out_in_latin_letters(lang):
    words = romanize.romanize(text.tokenize(tf.constant(_documents(lang)), hierarchical=False))
    letters = [c for w in _decode(words.flat_values.numpy().tolist()) for c in w
               if unicodedata.category(c)[0] == "L"]
    left = [c for c in letters if not _is_latin(c)]
    assert len(left) <= 0.002 * len(letters), "".join(sorted(set(left)))
