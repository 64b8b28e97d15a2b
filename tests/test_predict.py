"""Classifying new text: `mlclf.load(RUN)` and `mlclf predict` run the export's graph and decide
by its serving.json, so Python, the command and TF Serving give the same numbers."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import mlclf
from mlclf import inference, task, text, training
from mlclf.commands import predict as predict_command
from mlclf.corpora import CorpusError

from export_checks import WITHOUT_MLCLF

# The installed console script, beside this interpreter.
MLCLF = os.path.join(os.path.dirname(sys.executable), "mlclf")

TEXTS = ["The doctor said the hospital needs a vaccine. The team won the match!",
         "Le médecin de l'hôpital a dit: la maladie recule.",
         "Election: the minister and parliament vote today.",
         ""]
LANGS = ["en", "fra", "EN", "fr"]

# A fresh interpreter that cannot import mlclf runs the export as TF Serving would.
SERVE = WITHOUT_MLCLF + r"""
import tensorflow as tf

export_dir, texts, langs = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
serve = tf.saved_model.load(export_dir).signatures["serving_default"]
outputs = serve(text=tf.constant(texts), lang=tf.constant(langs))
print(json.dumps({name: value.numpy().tolist() for name, value in outputs.items()
                  if name != "labels"}))
"""


@pytest.fixture(scope="module")
def run(tiny_corpus, tiny_data_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("predict")
    config = task.ExperimentConfig(
        model="mhan_att", dataset="jsonl", langs=("en", "fr"), manual_dir=tiny_corpus,
        data_dir=tiny_data_dir, embed_dim=8, hidden=8, max_sentences=4, max_words=8,
        wide_buckets=1 << 14, batch_size=8, epochs=1, steps_per_epoch=4, learning_rate=0.05, seed=1)
    run_dir = str(tmp / "run")
    training.train(config, run_dir, verbose=0)
    return run_dir


def _serving(run_dir):
    with open(os.path.join(run_dir, "export", "1", "assets.extra", "serving.json"),
              encoding="utf-8") as f:
        return json.load(f)


def test_python_api_gives_the_scores_of_the_export_served_without_mlclf(run):
    served = subprocess.run([sys.executable, "-I", "-c", SERVE, os.path.join(run, "export", "1"),
                             json.dumps(TEXTS), json.dumps(LANGS)],
                            capture_output=True, text=True, check=True)
    expected = json.loads(served.stdout.splitlines()[-1])
    serving = _serving(run)
    predictions = mlclf.load(run).predict(TEXTS, LANGS)
    for i, (prediction, lang) in enumerate(zip(predictions, ["en", "fr", "en", "fr"])):
        own = serving["outputs_by_language"][lang]
        # The scores are the graph's, for the language's outputs, best first.
        want = {serving["output_names"][j]: expected["scores"][i][j] for j in own}
        assert prediction["scores"] == pytest.approx(want, abs=1e-6)
        # Best first by the prediction's own scores: near-ties may order differently in the
        # export's separate computation, so its order is not compared name by name.
        assert list(prediction["scores"].values()) == sorted(prediction["scores"].values(),
                                                             reverse=True)
        # The labels are serving.json's rule applied to them (the tiny corpus is single-label:
        # softmax scores, the best label).
        assert serving["decision"] == "argmax"
        decided = inference.decision(serving).rule(serving)(
            np.asarray([list(want.values())]))[0]
        keep = dict(zip(want, decided))
        assert prediction["labels"] == [name for name in prediction["scores"] if keep[name]]
    assert all(len(p["labels"]) == 1 for p in predictions)


def test_attention_is_the_graphs_over_the_words_it_read(run):
    attention = mlclf.load(run).attention(TEXTS[:2], ["en", "fr"])
    words = text.tokenize(TEXTS[:2], hierarchical=True).to_list()
    for document, tokens in zip(attention, words):
        assert document["sentences"] == [[w.decode() for w in sentence[:8]]
                                         for sentence in tokens[:4]]
        assert sum(document["sentence_attention"]) == pytest.approx(1, abs=1e-4)
        for sentence, weights in zip(document["sentences"], document["word_attention"]):
            assert len(weights) == len(sentence)
            assert sum(weights) == pytest.approx(1, abs=1e-4)


def test_an_unknown_language_is_refused_before_any_text_is_scored(run):
    with pytest.raises(ValueError, match=r"unknown language code 'de'.*\ben, fr\b"):
        mlclf.load(run).predict(TEXTS[:2], ["en", "de"])


def test_decision_rules_are_serving_json_s():
    scores = np.array([[0.1, 0.3, 0.2]])
    by_threshold = {"decision": "threshold", "threshold": 0.25, "at_least_one": False}
    assert inference.decision(by_threshold).rule(by_threshold)(scores).tolist() == [
        [False, True, False]]
    alone = {"threshold": 0.5, "at_least_one": True}  # exports before "decision" was written
    assert inference.decision(alone).rule(alone)(scores).tolist() == [[False, True, False]]
    assert "reaches 0.5; a document with none gets its best label" in (
        inference.decision(alone).describe(alone))
    argmax = {"decision": "argmax"}
    assert inference.decision(argmax).rule(argmax)(
        np.array([[0.1, 0.3, 0.2], [0.5, 0.2, 0.3]])).tolist() == [[False, True, False],
                                                                    [True, False, False]]


def test_an_export_with_an_unknown_rule_is_refused_before_loading(run, tmp_path):
    os.symlink(os.path.join(run, "export", "1", "saved_model.pb"), tmp_path / "saved_model.pb")
    (tmp_path / "assets.extra").mkdir()
    (tmp_path / "assets.extra" / "serving.json").write_text(
        json.dumps({**_serving(run), "decision": "vote"}))
    with pytest.raises(ValueError, match="decision rule 'vote' is unknown"):
        inference.Classifier(str(tmp_path))


def test_text_blocks_jsonl_and_csv_inputs_become_documents():
    read = predict_command.read_documents
    assert read(b"First doc.\n\nSecond doc.\n", "in.txt", "text", default_lang="en") == [
        (1, "First doc.", "en"), (3, "Second doc.", "en")]
    assert read(b"Title\nBody one.\n\n\nOther.\n", "in.txt", "blocks", default_lang="sw") == [
        (1, "Title\nBody one.", "sw"), (5, "Other.", "sw")]
    assert read(b'{"text": "A.", "lang": "fr", "id": "a"}\n{"text": "B."}\n', "in.jsonl",
                "jsonl", default_lang="en") == [("a", "A.", "fr"), (2, "B.", "en")]
    assert read(b'body,language\n"One, two.",fr\nThree.,\n', "in.csv", "csv",
                default_lang="en", text_column="body", lang_column="language") == [
        (2, "One, two.", "fr"), (3, "Three.", "en")]


@pytest.mark.parametrize("data,fmt,message", [
    (b'{"text": "A."}\n{"text": 3}\n', "jsonl", r"in, line 2: expected an object with a string"),
    (b'{"text": "A."}\n{"text": \n', "jsonl", r"in, line 2: invalid JSON"),
    (b"body\nOne.\n", "csv", r"in, line 1: no column 'text' \(--text_column\)"),
    (b"text,lang\nOne.,en\nTwo.\n", "csv", r"in, line 3: expected 2 columns"),
    (b"One.\n\xff\n", "text", r"in, line 2: not valid UTF-8"),
])
def test_bad_input_is_an_error_naming_the_line(data, fmt, message):
    with pytest.raises(CorpusError, match=message):
        predict_command.read_documents(data, "in", fmt, default_lang="en")
    with pytest.raises(CorpusError, match=r"in, line 3: no language: give --lang"):
        predict_command.read_documents(b"text,lang\nOne.,en\nTwo.,\n", "in", "csv")


def test_the_command_writes_what_the_python_api_gives(run, tmp_path):
    (tmp_path / "texts.txt").write_text("\n".join(TEXTS[:3]) + "\n", encoding="utf-8")
    done = subprocess.run([MLCLF, "predict", f"--run_dir={run}", "--lang=en",
                           f"--input={tmp_path / 'texts.txt'}", "--attention"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    written = [json.loads(line) for line in done.stdout.splitlines()]
    expected = mlclf.load(run).predict(TEXTS[:3], "en", attention=True)
    assert [record.pop("id") for record in written] == [1, 2, 3]
    assert [record.pop("lang") for record in written] == ["en"] * 3
    assert written == expected


def test_the_command_refuses_an_unknown_language_with_one_line(run, tmp_path):
    done = subprocess.run([MLCLF, "predict", f"--run_dir={run}", "--lang=xx"], input="A text.\n",
                          capture_output=True, text=True, timeout=600)
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr.strip().splitlines()[-1].startswith(
        "mlclf predict: error: unknown language code 'xx': this model knows en, fr")
