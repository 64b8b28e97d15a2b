"""mlclf.align (aligned vectors from a parallel corpus), and `--embeddings` specs that load them."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from mlclf import align, languages, task
from mlclf.embeddings import load_for_languages, load_vectors
from mlclf.vocab import Vocabulary

# en word -> its sw translation; sentences mix topic words, so each word has its own sentences.
PAIRS = {"football": "mpira", "team": "timu", "goal": "bao", "match": "mechi",
         "doctor": "daktari", "hospital": "hospitali", "disease": "ugonjwa", "vaccine": "chanjo",
         "election": "uchaguzi", "vote": "kura", "minister": "waziri", "law": "sheria",
         "water": "maji", "rain": "mvua", "school": "shule", "teacher": "mwalimu"}


def parallel_corpus(sentences=160, seed=0):
    """{lang: [(key, tokens)]}: sw drops 15% of the content words and has its own filler."""
    rng = np.random.default_rng(seed)
    en_words = list(PAIRS)
    corpus = {"eng_Latn": [], "swh_Latn": []}
    for key in range(sentences):
        content = list(rng.choice(en_words, 4, replace=False))
        corpus["eng_Latn"].append((key, ["the"] + content))
        sw = [PAIRS[w] for w in content if rng.random() > 0.15]
        corpus["swh_Latn"].append((key, sw + ["na"] * int(rng.integers(1, 3)) + [f"once{key}"]))
    return corpus


@pytest.fixture(scope="module")
def built():
    return align.build(parallel_corpus(), dim=8, min_count=2)


def test_translations_are_nearer_than_other_words(built):
    vectors, stats = built
    (en_words, en), (sw_words, sw) = vectors["eng_Latn"], vectors["swh_Latn"]
    np.testing.assert_allclose(np.linalg.norm(en, axis=1), 1, atol=1e-5)
    similarity = en @ sw.T
    sw_index = {w: i for i, w in enumerate(sw_words)}
    pairs = [(i, sw_index[PAIRS[w]]) for i, w in enumerate(en_words)]
    assert len(pairs) == len(PAIRS)
    nearest = [sw_words[similarity[i].argmax()] for i, _ in pairs]
    assert nearest == [PAIRS[w] for w in en_words]
    pair_mask = np.zeros_like(similarity, bool)
    pair_mask[tuple(zip(*pairs))] = True
    assert similarity[pair_mask].min() > 0.95 and similarity[~pair_mask].mean() < 0.5
    assert stats["sentences"] == 160 and 0 < stats["explained"] <= 1
    assert stats["languages"]["swh_Latn"]["tokens"] == sum(
        len(tokens) for _, tokens in parallel_corpus()["swh_Latn"])


def test_words_without_a_telling_sentence_or_below_min_count_are_left_out(built):
    vectors, stats = built
    en_words, sw_words = vectors["eng_Latn"][0], vectors["swh_Latn"][0]
    assert "the" not in en_words          # in every sentence of the same length: PMI 0
    assert not any(w.startswith("once") for w in sw_words)   # seen once < min_count 2
    assert "na" in sw_words and sw_words[0] == "na"          # most frequent first
    assert stats["languages"]["eng_Latn"]["words"] == len(en_words) == len(PAIRS)


def test_dimension_must_fit_the_sentences():
    with pytest.raises(ValueError, match=r"dim=200: .*\(160\)"):
        align.build(parallel_corpus(), dim=200)


def test_files_round_trip_and_a_rebuild_replaces_them(tmp_path, built):
    vectors, stats = built
    out = str(tmp_path / "vectors")
    manifest = {"dataset": "test", "splits": ["train"], "dim": 8, "min_count": 2,
                "weighting": "ppmi", "seconds": 1.0, "cpu_seconds": 1.0, "command": "test",
                **stats}
    align.write_output(out, vectors, json.loads(json.dumps(manifest)))
    for lang, (words, matrix) in vectors.items():
        loaded_words, loaded = load_vectors(os.path.join(out, f"{lang}.vec"))
        assert loaded_words == words
        np.testing.assert_allclose(loaded, matrix, atol=1e-5)
    with open(os.path.join(out, "manifest.json"), encoding="utf-8") as f:
        assert json.load(f)["languages"]["swh_Latn"]["file"] == "swh_Latn.vec"
    assert "--embeddings=" in open(os.path.join(out, "README.txt"), encoding="utf-8").read()
    only_en = json.loads(json.dumps(manifest))
    del only_en["languages"]["swh_Latn"]
    align.write_output(out, {"eng_Latn": vectors["eng_Latn"]}, only_en)
    assert sorted(os.listdir(out)) == ["README.txt", "eng_Latn.vec", "manifest.json"]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="other: not empty and not an mlclf.align output"):
        align.check_output(str(tmp_path / "other"))


def _vec(path, words, dim=2):
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{len(words)} {dim}\n")
        for i, word in enumerate(words):
            f.write(word + "".join(f" {i + k}" for k in range(dim)) + "\n")
    return str(path)


@pytest.fixture
def vec_dir(tmp_path):
    for code in ("eng_Latn", "swh_Latn", "gaz_Latn", "amh_Ethi", "por_Latn"):
        _vec(tmp_path / f"{code}.vec", [code[:3], "x"])
    (tmp_path / "manifest.json").write_text("{}")
    return str(tmp_path)


def test_directory_spec_matches_iso_and_corpus_codes(vec_dir, caplog):
    vectors = load_for_languages(vec_dir, ["amh", "eng", "swa", "orm", "yor", "ptbr", "ptmz"])
    assert {lang: words[0] for lang, (words, _) in vectors.items()} == {
        "amh": "amh", "eng": "eng", "swa": "swh", "orm": "gaz", "ptbr": "por", "ptmz": "por"}
    assert vectors["ptbr"] is vectors["ptmz"]  # one file, read once
    assert "no word vectors for yor" in caplog.text
    assert load_for_languages(vec_dir, ["eng_Latn"])["eng_Latn"][0] == ["eng", "x"]


def test_training_reads_a_directory_spec(vec_dir):
    vocabulary = Vocabulary.build({"swa": ["swh", "swh", "y"], "orm": ["gaz"]},
                                  mode="per_language")
    resources = task.Resources(["swa", "orm"], vocabulary, None, None)
    matrix = task.embedding_matrix(task.ExperimentConfig(embeddings=vec_dir, embed_dim=2),
                                   resources)
    rows = {(lang, word): i for i, lang, word in vocabulary.rows()}
    np.testing.assert_array_equal(matrix[[rows["swa", "swh"], rows["orm", "gaz"]]],
                                  [[0, 1], [0, 1]])
    assert task.embedding_matrix(task.ExperimentConfig(), resources) is None


def test_file_and_per_language_specs(vec_dir):
    assert load_for_languages("learned", ["eng"]) is None
    assert load_for_languages(" ", ["eng"]) is None
    words, _ = load_for_languages(os.path.join(vec_dir, "gaz_Latn.vec"), ["orm"])
    assert words == ["gaz", "x"]
    spec = f"en:{vec_dir}/eng_Latn.vec, sw:{vec_dir}/swh_Latn.vec"
    vectors = load_for_languages(spec, ["eng_Latn", "swh_Latn"])
    assert {lang: words[0] for lang, (words, _) in vectors.items()} == {
        "eng_Latn": "eng", "swh_Latn": "swh"}


@pytest.mark.parametrize("spec, error, message", [
    ("nope.vec", FileNotFoundError, "nope.vec: no such word-vector file"),
    ("en:", ValueError, "'en:' is not LANG:FILE"),
    ("xx:{dir}/eng_Latn.vec", languages.UnknownLanguageError, "unknown language code 'xx'"),
    ("en:{dir}/eng_Latn.vec,eng:{dir}/eng_Latn.vec", ValueError, "eng is given twice"),
    ("en:{dir}/missing.vec", FileNotFoundError, "missing.vec"),
])
def test_bad_specs_name_the_value(vec_dir, spec, error, message):
    with pytest.raises(error, match=message):
        load_for_languages(spec.format(dir=vec_dir), ["eng"])


def test_bad_directories_name_the_directory(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="empty'?: no .vec/.* files in the directory"):
        load_for_languages(str(tmp_path / "empty"), ["eng"])
    (tmp_path / "pt").mkdir()
    for code in ("ptbr", "ptmz"):
        _vec(tmp_path / "pt" / f"{code}.vec", ["a"])
    with pytest.raises(ValueError, match="pt'?: por matches several files: ptbr, ptmz"):
        load_for_languages(str(tmp_path / "pt"), ["por"])
    with pytest.raises(ValueError, match="pt'?: no file for any of yor; files for: ptbr, ptmz"):
        load_for_languages(str(tmp_path / "pt"), ["yor"])


def test_cli_on_a_parallel_jsonl_corpus(tmp_path):
    """Tokenised by the models' ops (case, punctuation), keyed by split and id."""
    lines = {"train": [], "test": []}
    for key in range(12):
        en = list(np.random.default_rng(key).choice(list(PAIRS), 3, replace=False))
        split = "test" if key % 4 == 0 else "train"
        for lang, words in (("en", en), ("sw", [PAIRS[w] for w in en])):
            text = " ".join(words).capitalize() + "!"
            lines[split].append(json.dumps({"id": str(key), "lang": lang, "text": text,
                                            "labels": []}))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for split, split_lines in lines.items():
        (corpus / f"{split}.jsonl").write_text("\n".join(split_lines) + "\n")
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "mlclf.align", "--dataset=jsonl", f"--manual_dir={corpus}",
         f"--data_dir={tmp_path / 'tfds'}", "--langs=all", "--dim=4", "--splits=train,test",
         f"--output={out}"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 language(s), 12 sentences" in result.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["splits"] == ["train", "test"] and manifest["dim"] == 4
    words, vectors = load_vectors(str(out / "sw.vec"))
    assert vectors.shape == (len(words), 4) and set(words) <= set(PAIRS.values())
    assert "mlclf.align --dataset=jsonl" in (out / "README.txt").read_text()
