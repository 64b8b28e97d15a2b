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
