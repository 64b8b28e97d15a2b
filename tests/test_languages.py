"""mlclf.languages: user codes -> corpus codes, with the corpora's real code styles."""
import pytest

from mlclf import languages
from mlclf.languages import UnknownLanguageError, resolve, resolve_all

MASAKHANEWS = ["amh", "eng", "fra", "hau", "ibo", "lin", "lug", "orm", "pcm", "run", "sna",
               "som", "swa", "tir", "xho", "yor"]
BRIGHTER = ["afr", "amh", "arq", "ary", "chn", "deu", "eng", "esp", "hau", "hin", "ibo", "ind",
            "jav", "kin", "mar", "orm", "pcm", "ptbr", "ptmz", "ron", "rus", "som", "sun", "swa",
            "swe", "tat", "tir", "ukr", "vmw", "xho", "yor", "zul"]
SIB200 = ["ace_Arab", "ace_Latn", "acm_Arab", "acq_Arab", "aeb_Arab", "ajp_Arab", "apc_Arab",
          "arb_Arab", "arb_Latn", "ars_Arab", "ary_Arab", "arz_Arab", "eng_Latn", "est_Latn",
          "gaz_Latn", "kas_Arab", "kas_Deva", "khk_Cyrl", "lvs_Latn", "npi_Deva", "pes_Arab",
          "prs_Arab", "swh_Latn", "taq_Latn", "taq_Tfng", "uzn_Latn", "yue_Hant", "zho_Hans",
          "zho_Hant", "zsm_Latn", "min_Arab", "min_Latn", "ind_Latn"]


@pytest.mark.parametrize("code, available, expected", [
    ("en", MASAKHANEWS, "eng"), ("eng", MASAKHANEWS, "eng"), ("EN", MASAKHANEWS, "eng"),
    ("eng_Latn", MASAKHANEWS, "eng"), ("en", SIB200, "eng_Latn"), ("eng", SIB200, "eng_Latn"),
    ("ENG_LATN", SIB200, "eng_Latn"), ("en-Latn", SIB200, "eng_Latn"), ("am", BRIGHTER, "amh"),
    ("pcm", BRIGHTER, "pcm"), ("rw", BRIGHTER, "kin"), ("tt", BRIGHTER, "tat"),
    ("vmw", BRIGHTER, "vmw"),
    # corpus conventions and other spellings
    ("es", BRIGHTER, "esp"), ("spa", BRIGHTER, "esp"), ("zh", BRIGHTER, "chn"),
    ("cmn", BRIGHTER, "chn"), ("pt-BR", BRIGHTER, "ptbr"), ("pt_MZ", BRIGHTER, "ptmz"),
    ("ger", BRIGHTER, "deu"), ("de", BRIGHTER, "deu"),
    # macrolanguages: the standard member, in the language's default script
    ("ar", SIB200, "arb_Arab"), ("ara", SIB200, "arb_Arab"), ("fa", SIB200, "pes_Arab"),
    ("ms", SIB200, "zsm_Latn"), ("sw", SIB200, "swh_Latn"), ("om", SIB200, "gaz_Latn"),
    ("uz", SIB200, "uzn_Latn"), ("lv", SIB200, "lvs_Latn"), ("mn", SIB200, "khk_Cyrl"),
    ("ne", SIB200, "npi_Deva"), ("et", SIB200, "est_Latn"), ("zh", SIB200, "zho_Hans"),
    ("zh-Hant", SIB200, "zho_Hant"), ("cmn", SIB200, "zho_Hans"), ("yue", SIB200, "yue_Hant"),
    ("ks", SIB200, "kas_Arab"), ("kas_Deva", SIB200, "kas_Deva"), ("min", SIB200, "min_Latn"),
    ("arb_Latn", SIB200, "arb_Latn"), ("ary", SIB200, "ary_Arab"), ("id", SIB200, "ind_Latn"),
    # a member finds its macrolanguage; a macrolanguage finds its only member
    ("swh", MASAKHANEWS, "swa"), ("gaz", MASAKHANEWS, "orm"), ("sw", MASAKHANEWS, "swa"),
    ("ar", ["arq", "eng"], "arq"),
])
def test_resolve(code, available, expected):
    assert resolve(code, available) == expected


def test_languages_no_table_knows_resolve_by_their_iso_639_3_code():
    assert resolve("xyz", ["abc_Latn", "xyz_Latn"]) == "xyz_Latn"
    assert resolve("qqq", ["qqq"]) == "qqq"


@pytest.mark.parametrize("code, available, candidates", [
    ("ar", BRIGHTER, ["arq", "ary"]),           # no standard Arabic: which dialect is meant?
    ("pt", BRIGHTER, ["ptbr", "ptmz"]),
    ("taq", SIB200, ["taq_Latn", "taq_Tfng"]),  # no default script known
])
def test_ambiguous_codes_list_the_candidates(code, available, candidates):
    with pytest.raises(UnknownLanguageError) as error:
        resolve(code, available)
    assert error.value.candidates == candidates
    assert "ambiguous" in str(error.value) and all(c in str(error.value) for c in candidates)
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize("code, available", [
    ("xx", MASAKHANEWS), ("fr", BRIGHTER), ("arb", MASAKHANEWS), ("swh", ["swc"]),
    ("eng_Cyrl", SIB200), ("pt-PT", BRIGHTER),
])
def test_unknown_codes_list_what_is_available(code, available):
    with pytest.raises(UnknownLanguageError) as error:
        resolve(code, available)
    assert error.value.candidates == []
    assert repr(code) in str(error.value)
    assert ", ".join(sorted(available)) in str(error.value)


def test_resolve_all():
    assert resolve_all(["en", "am", "eng"], MASAKHANEWS) == ["eng", "amh"]
    assert resolve_all("en, fr,hau", MASAKHANEWS) == ["eng", "fra", "hau"]
    assert resolve_all("all", MASAKHANEWS) == MASAKHANEWS
    assert resolve_all(["yo", "ALL"], MASAKHANEWS) == ["yor"] + [
        lang for lang in MASAKHANEWS if lang != "yor"]
    with pytest.raises(UnknownLanguageError, match="no language codes"):
        resolve_all("", MASAKHANEWS)
    with pytest.raises(UnknownLanguageError, match="'xx'"):
        resolve_all("en,xx", MASAKHANEWS)


def test_iso_639_1_table_is_complete_and_consistent():
    table = languages._ISO1_TO_3
    assert len(table) == 183
    assert all(len(two) == 2 and len(three) == 3 for two, three in table.items())
    assert len(set(table.values())) == 183
    assert all(code in languages._DEFAULT_SCRIPT for code in table.values())
    for member, macro in languages._MACRO_OF.items():
        assert macro not in languages._MACRO_OF, (member, macro)


def test_english_language_names_resolve_both_ways():
    # The MHAN toolkit's DW crawler names files after languages: english.json, german.json.
    dw = ["arabic", "english", "german", "persian", "portuguese", "russian", "spanish",
          "ukrainian"]
    assert languages.resolve("en", dw) == "english"
    assert languages.resolve("de", dw) == "german"
    assert languages.resolve("fa", dw) == "persian"
    assert languages.resolve("German", dw) == "german"
    assert languages.resolve("german", ["deu_Latn", "eng_Latn"]) == "deu_Latn"
