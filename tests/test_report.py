"""The data the HTML report embeds: records, projection, per-label F1, truncation, escaping."""
import json
import re
import types

import numpy as np
import pytest
import tensorflow as tf

from mlclf import evaluation, metrics, report

INJECTION = "</script><script>alert(1)</script>"
LABELS = ("sports", "health", "politics")


def _examples(docs):
    """A tf.data split in the builders' format from (id, text, labels) triples."""
    ids, texts, labels = zip(*docs)
    return tf.data.Dataset.from_tensor_slices(
        {"id": list(ids), "text": list(texts),
         "labels": tf.ragged.constant([list(l) for l in labels], dtype=tf.string)})


def _language(lang, num_docs, *, attention=True, seed=0, max_sentences=3, max_words=4):
    """(scored, records, label_space) for `num_docs` synthetic documents of `lang`."""
    rng = np.random.default_rng(seed)
    gold_ids = rng.integers(len(LABELS), size=num_docs)
    first = "كلمة" if lang.startswith("arb") else "Word"  # Arabic documents read right to left
    docs = [(f"{lang}-{i}", f"{first}{i} {LABELS[g]} a b c d. Second one here!\nThird. Fourth.",
             [LABELS[g]]) for i, g in enumerate(gold_ids)]
    # Ids and label names reach the page as they are; text only as tokens.
    docs[0] = (f"{lang}-0 {INJECTION}", f"{INJECTION} & more.", [LABELS[gold_ids[0]]])
    gold = np.eye(len(LABELS), dtype=np.int8)[gold_ids]
    scores = np.clip(gold * 0.6 + rng.uniform(0, 0.5, gold.shape), 0, 1)
    extras = {"document": rng.normal(size=(num_docs, 6)) + gold_ids[:, None]}
    if attention:
        extras["word_attention"] = rng.dirichlet(np.ones(max_words), (num_docs, max_sentences))
        extras["sentence_attention"] = rng.dirichlet(np.ones(max_sentences), num_docs)
    scored = evaluation.LanguageScores(lang, np.arange(len(LABELS)), scores, gold, extras)
    label_space = types.SimpleNamespace(output_names=list(LABELS))
    config = types.SimpleNamespace(hierarchical=attention, max_sentences=max_sentences,
                                   max_words=max_words)
    records = evaluation.document_records(_examples(docs), scored, label_space, config, 0.5)
    return scored, records, label_space


def _report(num_docs=(12, 5), max_docs=500, attention=True):
    langs = [(lang, _language(lang, n, attention=attention, seed=k))
             for k, (lang, n) in enumerate(zip(("eng", "arb_Arab"), num_docs))]
    scored = {lang: parts[0] for lang, parts in langs}
    records = {lang: parts[1] for lang, parts in langs}
    table = evaluation.metric_table(scored, 0.5)
    for row in table.values():
        row["threshold"] = 0.5
    return report.report_data(table, scored, records, langs[0][1][2], title="run <b>",
                              info={"model": "mhan_att"}, max_docs=max_docs)


def test_records_hold_what_the_model_read_with_attention():
    scored, records, _ = _language("eng", 4)
    first = records[1]
    assert first["id"] == "eng-1" and first["lang"] == "eng"
    assert len(first["sentences"]) == 3, "cut at max_sentences"
    assert [len(s) for s in first["sentences"]] == [4, 3, 1], "cut at max_words"
    assert first["sentences"][0][:2] == ["word1", first["gold"][0]]
    assert [len(a) for a in first["word_attention"]] == [4, 3, 1]
    expected = scored.extras["sentence_attention"][1, :3]
    assert first["sentence_attention"] == pytest.approx(expected, abs=1e-5)
    assert [p["score"] for p in first["predicted"]] == sorted(
        (p["score"] for p in first["predicted"]), reverse=True)
    assert all(p["score"] >= 0.5 for p in first["predicted"])


def test_records_without_attention_hold_the_flat_words():
    _, records, _ = _language("eng", 3, attention=False)
    assert "sentences" not in records[1] and "word_attention" not in records[1]
    assert records[1]["words"] == ["word1", records[1]["gold"][0], "a", "b"]


def test_projection_shapes_variance_and_stable_signs():
    rng = np.random.default_rng(0)
    line = np.outer(rng.normal(size=50), rng.normal(size=8)) + 3.0
    coords, explained = report.project(line + rng.normal(scale=1e-3, size=line.shape))
    assert coords.shape == (50, 2) and explained.shape == (2,)
    assert explained[0] > 0.99 and explained[0] >= explained[1] >= 0
    assert coords.mean(axis=0) == pytest.approx([0, 0], abs=1e-9)
    flipped, _ = report.project(-line)
    again, _ = report.project(-line)
    np.testing.assert_array_equal(flipped, again)
    # The sign rule makes the result independent of the SVD's arbitrary signs.
    assert report.project(line)[0][:, 0] == pytest.approx(report.project(line[:, ::-1])[0][:, 0])
    assert report.project(np.ones((1, 4)))[0].tolist() == [[0.0, 0.0]]
    one_feature, explained = report.project(np.arange(5.0)[:, None])
    assert one_feature[:, 1].tolist() == [0.0] * 5 and explained.tolist() == [1.0, 0.0]


def test_per_label_results_label_frequencies_and_confusion():
    data = _report()
    section = data["languages"][0]
    scored, _, _ = _language("eng", 12, seed=0)
    predicted = metrics.decide(scored.scores, threshold=0.5)
    f1 = metrics.per_label_f1(scored.gold, predicted)
    assert [row["label"] for row in section["labels"]] == list(LABELS)
    assert [row["f1"] for row in section["labels"]] == pytest.approx(f1, abs=1e-4)
    true_positives = (scored.gold & predicted).sum(axis=0)
    assert [row["precision"] for row in section["labels"]] == pytest.approx(
        true_positives / np.maximum(predicted.sum(axis=0), 1), abs=1e-4)
    assert [row["support"] for row in section["labels"]] == scored.gold.sum(axis=0).tolist()
    assert [row["predicted"] for row in section["labels"]] == predicted.sum(axis=0).tolist()
    # Single-label documents: a confusion matrix of gold rows and predicted columns.
    confusion = section["confusion"]
    assert confusion["gold"] == list(LABELS) and confusion["predicted"][-1] == "(none)"
    assert np.sum(confusion["matrix"], axis=1).tolist() == (
        [int(predicted[scored.gold[:, j] == 1].sum() + (~predicted[scored.gold[:, j] == 1]
                                                        .any(axis=1)).sum())
         for j in range(len(LABELS))])
    assert section["metrics"]["num_docs"] == 12 and section["metrics"]["threshold"] == 0.5
    for doc in section["documents"]:
        assert doc["correct"] == (set(doc["gold"]) == {p["label"] for p in doc["predicted"]})


def test_truncation_keeps_a_sample_with_its_map_points_and_says_so():
    data = _report(num_docs=(12, 5), max_docs=6)
    eng, arb = data["languages"]
    assert eng["num_docs"] == 12 and len(eng["documents"]) == 6
    ids = [int(re.match(r"eng-(\d+)", doc["id"]).group(1)) for doc in eng["documents"]]
    assert ids == sorted(ids) and ids == report.sample_indices(12, 6).tolist()
    assert len(eng["map"]["x"]) == len(eng["map"]["y"]) == 6 and len(arb["map"]["x"]) == 5
    assert len(arb["documents"]) == 5
    assert "eng 6 of 12" in data["truncation"] and "arb_Arab" not in data["truncation"]
    assert "--report_max_docs" in data["truncation"]
    assert _report(max_docs=12)["truncation"] == "Every document is in the report."


def _embedded(page):
    match = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page,
                      re.S)
    return json.loads(match.group(1))


def test_document_text_cannot_escape_the_data_script():
    data = _report()
    page = report.render(data)
    assert INJECTION not in page and "<script>alert" not in page
    assert page.count("</script>") == 2  # the data and the page's own script
    assert "<title>run &lt;b&gt;</title>" in page
    embedded = _embedded(page)
    assert embedded == json.loads(json.dumps(data))
    first = embedded["languages"][0]["documents"][0]
    assert first["id"] == f"eng-0 {INJECTION}"
    assert first["sentences"][0][:3] == ["script", "script", "alert"]
    assert report.embed_json({"t": "<!-- & -->"}) == '{"t":"\\u003c!-- \\u0026 --\\u003e"}'


def test_title_placeholders_in_data_are_not_expanded():
    data = _report()
    data["title"] = "%DATA%"
    page = report.render(data)
    assert "<title>%DATA%</title>" in page and _embedded(page)["title"] == "%DATA%"


def test_cnn_report_has_no_attention_but_a_map(tmp_path):
    scored, records, label_space = _language("eng", 4, attention=False)
    table = {"eng": dict(evaluation.language_metrics(scored, 0.5), threshold=0.5)}
    path = report.write_report(str(tmp_path / "out"), table, {"eng": scored}, {"eng": records},
                               label_space, title="cnn", info={})
    data = _embedded(open(path, encoding="utf-8").read())
    doc = data["languages"][0]["documents"][1]
    assert "words" in doc and "sentence_attention" not in doc
    assert len(data["languages"][0]["map"]["x"]) == 4
