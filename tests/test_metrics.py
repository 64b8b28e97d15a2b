import numpy as np
import pytest

from mlclf import metrics


GOLD = np.array([[1, 0, 0], [0, 1, 1], [0, 0, 0], [1, 0, 0]])
PRED = np.array([[1, 1, 0], [0, 1, 0], [0, 0, 0], [0, 0, 1]])


def test_micro_precision_recall_f1_match_hand_computation():
    result = metrics.classification_metrics(GOLD, PRED)
    # true positives 2, predicted positives 4, gold positives 4
    assert result["precision"] == pytest.approx(0.5)
    assert result["recall"] == pytest.approx(0.5)
    assert result["micro_f1"] == pytest.approx(0.5)
    assert result["num_docs"] == 4


def test_macro_f1_averages_labels_that_occur():
    # label 0: tp1 pred1 gold2 -> 2/3; label 1: tp1 pred2 gold1 -> 2/3; label 2: tp0 -> 0
    result = metrics.classification_metrics(GOLD, PRED)
    assert result["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)


def test_jaccard_counts_empty_agreement_as_correct():
    # docs: 1/2, 1/2, empty-empty = 1, 0/2 = 0
    result = metrics.classification_metrics(GOLD, PRED)
    assert result["jaccard"] == pytest.approx((0.5 + 0.5 + 1 + 0) / 4)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shapes"):
        metrics.classification_metrics(GOLD, PRED[:, :2])


def test_decide_by_threshold_top_k_and_at_least_one():
    scores = np.array([[0.9, 0.3, 0.5], [0.1, 0.2, 0.05]])
    np.testing.assert_array_equal(metrics.decide(scores, threshold=0.4),
                                  [[1, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(metrics.decide(scores, threshold=0.4, at_least_one=True),
                                  [[1, 0, 1], [0, 1, 0]])
    np.testing.assert_array_equal(metrics.decide(scores, top_k=1), [[1, 0, 0], [0, 1, 0]])
    with pytest.raises(ValueError):
        metrics.decide(scores)


def test_tune_threshold_finds_the_separating_value():
    gold = np.array([[1, 0], [0, 1], [1, 0]])
    scores = np.array([[0.8, 0.25], [0.3, 0.7], [0.85, 0.2]])
    threshold = metrics.tune_threshold(gold, scores)
    assert 0.3 < threshold <= 0.7
    tuned = metrics.classification_metrics(gold, metrics.decide(scores, threshold=threshold))
    assert tuned["micro_f1"] == pytest.approx(1.0)


def test_a_metric_added_to_the_list_reaches_the_row_the_table_and_the_report(monkeypatch):
    from mlclf import evaluation, report
    exact = metrics.Metric("exact_match", "exact",
                           lambda gold, predicted: float(np.all(gold == predicted, axis=1).mean()))
    monkeypatch.setattr(metrics, "METRICS", metrics.METRICS + (exact,))
    row = metrics.classification_metrics(GOLD, PRED)
    assert list(row)[-1] == "exact_match" and row["exact_match"] == pytest.approx(0.25)
    lines = evaluation.format_table({"en": row, "fr": dict(row, exact_match=0.75)}).splitlines()
    assert lines[0].split()[-1] == "exact" and lines[-1].split()[-1] == "0.500"  # the mean
    columns = report.report_data({}, {}, {}, None, title="t", info={})["metrics"]
    assert columns[-1] == {"key": "exact_match", "label": "exact", "count": False}


@pytest.mark.parametrize("seed", range(5))
def test_metrics_equal_scikit_learns_on_the_same_inputs(seed):
    sklearn_metrics = pytest.importorskip("sklearn.metrics")  # the [test] extra installs it
    rng = np.random.default_rng(seed)
    gold = rng.random((40, 6)) < 0.3
    predicted = rng.random((40, 6)) < 0.3
    gold[:3] = predicted[:3] = False  # documents with no label on either side
    gold[:, 5] = predicted[:, 5] = False  # a label nobody has
    ours = metrics.classification_metrics(gold, predicted)
    precision, recall, f1, _ = sklearn_metrics.precision_recall_fscore_support(
        gold, predicted, average="micro", zero_division=0)
    assert (ours["precision"], ours["recall"], ours["micro_f1"]) == pytest.approx(
        (precision, recall, f1))
    active = np.flatnonzero(gold.any(axis=0) | predicted.any(axis=0))
    assert ours["macro_f1"] == pytest.approx(sklearn_metrics.f1_score(
        gold, predicted, average="macro", labels=active, zero_division=0))
    assert ours["jaccard"] == pytest.approx(sklearn_metrics.jaccard_score(
        gold, predicted, average="samples", zero_division=1))
    names = [f"label{j}" for j in range(6)]
    per_label = metrics.label_metrics(gold, predicted, names)
    for j, values in enumerate(zip(*sklearn_metrics.precision_recall_fscore_support(
            gold, predicted, average=None, zero_division=0))):
        assert [per_label[names[j]][key] for key in ("precision", "recall", "f1", "support")] \
            == pytest.approx(list(values))


def test_confusion_matrix_equals_scikit_learns_for_single_label_data():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    gold_ids, predicted_ids = rng.integers(4, size=50), rng.integers(4, size=50)
    gold, predicted = np.eye(4, dtype=bool)[gold_ids], np.eye(4, dtype=bool)[predicted_ids]
    names = ["a", "b", "c", "d"]
    matrix = metrics.confusion(gold, predicted, names)
    assert matrix["gold"] == names and matrix["predicted"] == names + ["(none)"]
    expected = sklearn_metrics.confusion_matrix(gold_ids, predicted_ids, labels=range(4))
    assert np.asarray(matrix["matrix"])[:, :4].tolist() == expected.tolist()
    # A document predicted with no label counts under "(none)"; with two, in both columns.
    predicted[0] = False
    predicted[1, (predicted_ids[1] + 1) % 4] = True
    counts = np.asarray(metrics.confusion(gold, predicted, names)["matrix"])
    assert counts[gold_ids[0], 4] == 1 and counts.sum() == 51  # 50 documents, one twice
    # Not single-label: no matrix.
    gold[2] = False
    assert metrics.confusion(gold, predicted, names) is None
