"""mlclf.text: TF ops against the pure-Python reference, expected outputs, graph and SavedModel."""
import csv
import os
import sys
import unicodedata

import numpy as np
import pytest
import tensorflow as tf

from mlclf import text

sys.path.insert(0, os.path.dirname(__file__))
import text_reference as ref  # noqa: E402

NFD = unicodedata.normalize
SAMPLES = [
    "Héllo  Wörld! Ça va?\nNew line\r\nWindows line",
    NFD("NFD", "Tiếng Việt có dấu: ệ, ợ, ậ. Yorùbá: ọ́, ẹ̀. Nuer: ä̱"),
    NFD("NFC", "Tiếng Việt có dấu: ệ, ợ, ậ. Yorùbá: ọ́, ẹ̀. Nuer: ä̱"),
    "e\u0301\u0323 a\u0327\u0301 o\u0302\u0323 ê\u0323 \u1100\u1161\u11a8 가\u11a8",   # odd orders
    "ΟΔΟΣ ΣΑΣ. Σ. ΑΣ' ΣΑ",
    "Привет, мир! Это тест… «Да»?",
    "مرحبا بالعالم؟ نعم، هذا اختبار۔ ١٢٣",
    "ሰላም ዓለም። እንዴት ነህ፧ ደህና ነኝ፨ ፩፪",
    "नमस्ते दुनिया। यह परीक्षण है॥ क्षत्रिय",
    "你好！我是学生。日本語ですか？カタカナ、ひらがな「引用」",
    "ﬁ ① Ｈｅｌｌｏ ｶﾀｶﾅ ㈱ ½ x²",
    "สวัสดีครับ เป็นอย่างไร ១២ ភាសាខ្មែរ မြန်မာဘာသာ ພາສາລາວ",
    "😂👍🏽 👨‍👩‍👧 🇳🇬 $100 €5 a+b=c ^_^",
    "don't ng'ombe e-mail col·lecció 3.5 1,000 'quoted' -dash- a--b U.S.A. ...",
    "İstanbul ǅemal ß ﬀ",
    "soft\u00adhyphen zero\u200bwidth \u200eltr\u200f \ufeffbom می\u200cخواهم",
    "", "   ", "\n\n", " . ! ? ",
    "tab\tand\u00a0nbsp\u2003em\u3000ideographic\u2028ls\u2029ps\x85nel",
    'He said "Hi." Then left. (Really?) Yes!',
    "\u0301leading mark",
]

SHARED_DATA = os.environ.get("MLCLF_SHARED_DATA",
                             os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))


def _strings(tensor):
    return [s.decode("utf-8") for s in np.asarray(tensor).ravel()]


def _decode(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return [_decode(v) for v in value]


def _check_against_reference(texts):
    normalized = _strings(text.normalize(tf.constant(texts)))
    assert normalized == [ref.normalize(t) for t in texts]
    assert _decode(text.split_sentences(tf.constant(texts)).to_list()) == [
        ref.split_sentences(t) for t in texts]
    assert _decode(text.split_words(tf.constant(texts)).to_list()) == [
        ref.split_words(t) for t in texts]
    for hierarchical in (False, True):
        assert _decode(text.tokenize(tf.constant(texts), hierarchical).to_list()) == [
            ref.tokenize(t, hierarchical) for t in texts]


def test_ops_match_reference_on_multiscript_samples():
    _check_against_reference(SAMPLES)


def test_normalize_is_nfkc_lowercase_for_every_code_point():
    cps = [c for c in range(0x110000) if not 0xD800 <= c < 0xE000
           and (c < 0x323B0 or 0xE0000 <= c < 0xE01F0)]
    chars = [chr(c) for c in cps]
    got = _strings(text.normalize(tf.constant(chars)))
    expected = [ref.normalize(c) for c in chars]
    wrong = [(hex(cp), g, e) for cp, g, e in zip(cps, got, expected) if g != e]
    assert not wrong, wrong[:20]
    words = text.split_words(tf.constant(chars)).to_list()
    wrong = [hex(cp) for cp, w, c in zip(cps, words, chars) if _decode(w) != ref.split_words(c)]
    assert not wrong, wrong[:20]


def test_code_points_outside_scanned_ranges_have_default_properties():
    for cp in range(0x323B0, 0x110000):
        if not 0xE0000 <= cp < 0xE01F0:
            assert unicodedata.category(chr(cp)) in ("Cn", "Co"), hex(cp)


def test_characters_left_whole_start_with_a_starter_nothing_absorbs():
    """What makes `_decompose` exact when it skips characters NFKC rebuilds as they are."""
    tables = text._tables()
    absorbable = set((tables.compose_keys & ((1 << 21) - 1)).tolist())
    for cp, stable in zip(tables.decompose.keys.tolist(), tables.nfkc_stable):
        if stable:
            first = unicodedata.normalize("NFKD", chr(cp))[0]
            assert unicodedata.combining(first) == 0 and ord(first) not in absorbable, hex(cp)


def test_nfd_and_nfc_normalise_alike():
    source = "Ễ ỗ ǘ ṏ ᾏ Å ñ 한국어 ä̱ ọ́"
    forms = [NFD(form, source) for form in ("NFC", "NFD", "NFKC", "NFKD")]
    assert len(set(_strings(text.normalize(tf.constant(forms))))) == 1


@pytest.mark.parametrize("source, expected", [
    ("Héllo  WÖRLD!\n\n  Next", "héllo wörld!\nnext"),
    ("ΟΔΟΣ", "οδος"),
    ("Ｈｅｌｌｏ ﬁ ①", "hello fi 1"),
    ("a\u00adb\u200bc\u200dd\u200ce", "ab c\u200dd\u200ce"),
    (NFD("NFD", "ệ"), "ệ"),
    ("ê\u0323", "ệ"),
])
def test_normalize_expected(source, expected):
    assert _strings(text.normalize(tf.constant([source]))) == [expected]


@pytest.mark.parametrize("source, expected", [
    ("Don't stop, e-mail me: 3.5 or 1,000!", ["Don't", "stop", "e-mail", "me", "3.5", "or",
                                              "1,000"]),
    ("'quoted' -dash- a--b", ["quoted", "dash", "a", "b"]),
    ("नमस्ते दुनिया", ["नमस्ते", "दुनिया"]),
    ("ሰላም፡ዓለም።", ["ሰላም", "ዓለም"]),
    ("مرحبا، بالعالم", ["مرحبا", "بالعالم"]),
    ("你好世界", ["你", "好", "世", "界"]),
    ("iPhone手机", ["iPhone", "手", "机"]),
    ("เป็น", ["เป็", "น"]),
    ("ខ្មែរ", ["ខ្មែ", "រ"]),
    ("👍🏽 ok 👨‍👩‍👧", ["👍🏽", "ok", "👨‍👩‍👧"]),
    ("a+b=c", ["a", "b", "c"]),
    ("می\u200cخواهم", ["می\u200cخواهم"]),
    ("", []),
    (" ... ", []),
])
def test_split_words_expected(source, expected):
    assert _decode(text.split_words(tf.constant([source])).to_list()) == [expected]


@pytest.mark.parametrize("source, expected", [
    ("Hello world. How are you?  Fine!", ["Hello world.", "How are you?", "Fine!"]),
    ('He said "Hi." Then left', ['He said "Hi."', "Then left"]),
    ("3.5 is a number... Yes?!No", ["3.5 is a number...", "Yes?!No"]),
    ("ሰላም ዓለም።እንዴት ነህ፧", ["ሰላም ዓለም።", "እንዴት ነህ፧"]),
    ("यह है। वह है॥", ["यह है।", "वह है॥"]),
    ("هل أنت بخير؟نعم۔", ["هل أنت بخير؟", "نعم۔"]),
    ("你好。我是学生！好吗？", ["你好。", "我是学生！", "好吗？"]),
    ("你好!我是", ["你好!", "我是"]),
    ("line one\nline two\r\n\n . \nthree", ["line one", "line two", "three"]),
    ("", []),
])
def test_split_sentences_expected(source, expected):
    assert _decode(text.split_sentences(tf.constant([source])).to_list()) == [expected]


def test_split_words_keeps_the_shape_and_adds_a_dimension():
    assert _decode(text.split_words(tf.constant("a b")).numpy().tolist()) == ["a", "b"]
    dense = text.split_words(tf.constant([["a b", ""], ["c", "d e f"]]))
    assert dense.shape.as_list() == [2, 2, None]
    assert _decode(dense.to_list()) == [[["a", "b"], []], [["c"], ["d", "e", "f"]]]
    ragged = text.split_words(tf.ragged.constant([["a b"], [], ["c", "d"]]))
    assert _decode(ragged.to_list()) == [[["a", "b"]], [], [["c"], ["d"]]]
    normalized = text.normalize(tf.constant([["A"], ["B C"]]))
    assert normalized.shape == (2, 1) and _strings(normalized) == ["a", "b c"]


@pytest.mark.parametrize("texts", [[], [""], ["", ""]])
def test_batches_without_any_character(texts):
    texts = tf.constant(texts, tf.string)
    assert _strings(text.normalize(texts)) == [""] * len(texts)
    assert text.split_sentences(texts).to_list() == [[]] * len(texts)
    assert text.split_words(texts).to_list() == [[]] * len(texts)
    assert text.tokenize(texts, hierarchical=True).to_list() == [[]] * len(texts)


def test_tokenize_shapes():
    texts = tf.constant(["One two. Three!", "", "Four"])
    hierarchical = text.tokenize(texts, hierarchical=True)
    flat = text.tokenize(texts, hierarchical=False)
    assert hierarchical.ragged_rank == 2 and flat.ragged_rank == 1
    assert _decode(hierarchical.to_list()) == [[["one", "two"], ["three"]], [], [["four"]]]
    assert _decode(flat.to_list()) == [["one", "two", "three"], [], ["four"]]


class _Tokenizer(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, texts):
        words = text.tokenize(texts, hierarchical=True)
        return {"normalized": text.normalize(texts),
                "words": words.flat_values,
                "sentence_lengths": words.row_lengths(axis=2).flat_values,
                "sentences": words.row_lengths(axis=1)}


def _eager(texts):
    words = text.tokenize(tf.constant(texts), hierarchical=True)
    return {"normalized": text.normalize(tf.constant(texts)), "words": words.flat_values,
            "sentence_lengths": words.row_lengths(axis=2).flat_values,
            "sentences": words.row_lengths(axis=1)}


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy(), err_msg=key)


def test_graph_mode_and_saved_model_round_trip(tmp_path):
    module = _Tokenizer()
    expected = _eager(SAMPLES)
    _assert_same(module(tf.constant(SAMPLES)), expected)
    tf.saved_model.save(module, str(tmp_path / "tokenizer"))
    loaded = tf.saved_model.load(str(tmp_path / "tokenizer"))
    _assert_same(loaded(tf.constant(SAMPLES)), expected)
    ops = {op.type for f in loaded.__call__.concrete_functions
           for op in f.graph.get_operations()}
    assert not ops & {"EagerPyFunc", "PyFunc", "PyFuncStateless"}


def _real_documents(per_language=25):
    files = {
        "masakhanews": [("amh", "dev.tsv"), ("hau", "dev.tsv"), ("yor", "dev.tsv")],
        "sib200": [(lang, "dev.tsv") for lang in (
            "vie_Latn", "ell_Grek", "rus_Cyrl", "arb_Arab", "hin_Deva", "zho_Hans", "jpn_Jpan",
            "tha_Thai", "khm_Khmr", "mya_Mymr", "tir_Ethi", "nus_Latn", "pes_Arab")],
        "brighter": [("chn", "dev.csv"), ("arq", "dev.csv"), ("tat", "dev.csv")],
    }
    docs = []
    for corpus, entries in files.items():
        for lang, name in entries:
            path = os.path.join(SHARED_DATA, corpus, "languages", lang, name)
            if not os.path.exists(path):
                continue
            with open(path, encoding="utf-8", newline="") as f:
                rows = csv.DictReader(f, delimiter="\t" if name.endswith(".tsv") else ",")
                for row, _ in zip(rows, range(per_language)):
                    parts = [row.get("headline"), row["text"]]
                    docs.append("\n".join(p for p in parts if p))
    return docs


def test_ops_match_reference_on_real_documents():
    docs = _real_documents()
    if len(docs) < 100:
        pytest.skip(f"real corpora not found under {SHARED_DATA}")
    _check_against_reference(docs)


def test_invalid_utf8_becomes_replacement_characters():
    texts = tf.constant([b"A\xffB c\xe2\x82"])
    assert _strings(text.normalize(texts)) == ["a\ufffdb c\ufffd"]
    assert _decode(text.split_words(texts).to_list()) == [["A", "\ufffd", "B", "c", "\ufffd"]]
    assert _decode(text.tokenize(texts, hierarchical=False).to_list()) == [
        ["a", "\ufffd", "b", "c", "\ufffd"]]


def test_tokenize_reads_at_most_max_chars_of_a_document():
    words = text.tokenize(tf.constant(["abcd " * (text.MAX_CHARS // 5 + 100)]), False)
    assert words.row_lengths().numpy().tolist() == [text.MAX_CHARS // 5]
    # A cut never leaves half a character: the last word is whole.
    cut = text.tokenize(tf.constant(["é" * (text.MAX_CHARS + 7)]), False)
    assert _decode(cut.to_list()) == [["é" * text.MAX_CHARS]]


def test_tokenize_keeps_at_most_max_sentence_words_per_sentence():
    sentence = " ".join(["w"] * (text.MAX_SENTENCE_WORDS + 10))
    words = text.tokenize(tf.constant([f"{sentence}. Two words."]), hierarchical=True)
    assert words.row_lengths(axis=2).flat_values.numpy().tolist() == [
        text.MAX_SENTENCE_WORDS, 2]


def _largest_tensor_bytes(fn, documents):
    """For each document, the largest tensor (or kernel allocation) of a run of `fn` on it."""
    concrete = tf.function(fn).get_concrete_function(tf.TensorSpec([None], tf.string))
    largest = []
    with tf.compat.v1.Session(graph=concrete.graph) as session:
        for document in documents:
            metadata = tf.compat.v1.RunMetadata()
            session.run([t.name for t in concrete.outputs],
                        {concrete.inputs[0].name: [document]},
                        options=tf.compat.v1.RunOptions(
                            trace_level=tf.compat.v1.RunOptions.FULL_TRACE),
                        run_metadata=metadata)
            sizes = [0]
            for device in metadata.step_stats.dev_stats:
                for node in device.node_stats:
                    sizes += [o.tensor_description.allocation_description.requested_bytes
                              for o in node.output]
                    sizes += [memory.peak_bytes for memory in node.memory]
            largest.append(max(sizes))
    return largest


@pytest.mark.parametrize("hierarchical", [True, False])
def test_tokenize_memory_is_linear_in_the_document(hierarchical):
    """Many short sentences and one long token: no intermediate grows with their product (TF's
    own value_rowids / tf.repeat would allocate sentences x longest sentence)."""
    def tokenize(texts):
        return text.tokenize(texts, hierarchical).flat_values

    documents = ["Short one. " * sentences + "x" * token
                 for sentences, token in [(200, 2_000), (1_000, 10_000)]]
    largest = _largest_tensor_bytes(tokenize, documents)
    assert all(size <= 8 * len(document.encode())
               for size, document in zip(largest, documents)), largest
