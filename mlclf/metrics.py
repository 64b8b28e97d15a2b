"""Multi-label classification metrics on numpy arrays, and decision-threshold tuning.

All functions take `gold` and `predicted` as 0/1 arrays of shape [num_docs, num_labels] over one
language's label set (the caller slices the global output index with `LabelSpace.mask`).
Conventions follow the MHAN paper (micro-F1) and the CNN paper (Jaccard accuracy).

`METRICS` is the one list of what is measured: metrics.json, the printed tables, the
validation scalars in TensorBoard and the HTML report all show what it holds, in its order.
`label_metrics` (precision, recall, F1 and support of each label) and `confusion` (single-label
data) are the per-label results beside them.

Each number equals scikit-learn's on the same 0/1 arrays (tests/test_metrics.py checks):
precision, recall, micro-F1 = `precision_recall_fscore_support(average="micro",
zero_division=0)`; macro-F1 = `f1_score(average="macro", labels=<the labels in gold or
predictions>)`; Jaccard = `jaccard_score(average="samples", zero_division=1)`; per label =
`precision_recall_fscore_support(average=None, zero_division=0)`; `confusion` =
`confusion_matrix` of the gold and predicted label indices when each document has one of each.
"""
from __future__ import annotations

from typing import Callable, Iterable, NamedTuple

import numpy as np


def _safe_divide(numerator, denominator):
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator),
                     where=denominator > 0)


def per_label_f1(gold: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """F1 of each label column (0 where the label is neither gold nor predicted)."""
    gold = np.asarray(gold, dtype=bool)
    predicted = np.asarray(predicted, dtype=bool)
    true_pos = (gold & predicted).sum(axis=0)
    return _safe_divide(2 * true_pos, predicted.sum(axis=0) + gold.sum(axis=0))


def _precision(gold, predicted):
    return float(_safe_divide((gold & predicted).sum(), predicted.sum()))


def _recall(gold, predicted):
    return float(_safe_divide((gold & predicted).sum(), gold.sum()))


def _micro_f1(gold, predicted):
    precision, recall = _precision(gold, predicted), _recall(gold, predicted)
    return float(_safe_divide(2 * precision * recall, precision + recall))


def _macro_f1(gold, predicted):
    """Over the labels that occur in gold or predictions."""
    active = (predicted.sum(axis=0) + gold.sum(axis=0)) > 0
    return float(per_label_f1(gold, predicted)[active].mean()) if active.any() else 0.0


def _jaccard(gold, predicted):
    """|pred & gold| / |pred | gold| averaged over documents; a document with neither gold nor
    predicted labels counts as 1 (a correct "none" answer)."""
    union = (gold | predicted).sum(axis=1)
    intersection = (gold & predicted).sum(axis=1)
    per_document = np.where(union > 0, _safe_divide(intersection, union), 1.0)
    return float(per_document.mean()) if len(gold) else 0.0


class Metric(NamedTuple):
    """One number per language and split."""
    key: str      # its name in metrics.json and TensorBoard
    label: str    # its column header in printed tables and the report
    compute: Callable[[np.ndarray, np.ndarray], float]  # (gold, predicted) bool arrays -> value
    count: bool = False  # a number of documents: summed over languages; else a rate, averaged


METRICS = (
    Metric("micro_f1", "micro-F1", _micro_f1),
    Metric("macro_f1", "macro-F1", _macro_f1),
    Metric("precision", "P", _precision),
    Metric("recall", "R", _recall),
    Metric("jaccard", "Jaccard", _jaccard),
    Metric("num_docs", "docs", lambda gold, predicted: int(len(gold)), count=True),
)


def classification_metrics(gold: np.ndarray, predicted: np.ndarray) -> dict:
    """{key: value} of every metric in METRICS, in its order."""
    gold = np.asarray(gold, dtype=bool)
    predicted = np.asarray(predicted, dtype=bool)
    if gold.shape != predicted.shape or gold.ndim != 2:
        raise ValueError(f"gold {gold.shape} and predicted {predicted.shape} must be equal 2-D shapes")
    return {metric.key: metric.compute(gold, predicted) for metric in METRICS}


def label_metrics(gold: np.ndarray, predicted: np.ndarray, names) -> dict:
    """{label name: {precision, recall, f1, support}}, one per column of the 0/1 arrays."""
    gold = np.asarray(gold, dtype=bool)
    predicted = np.asarray(predicted, dtype=bool)
    true_pos = (gold & predicted).sum(axis=0)
    precision = _safe_divide(true_pos, predicted.sum(axis=0))
    recall = _safe_divide(true_pos, gold.sum(axis=0))
    f1 = per_label_f1(gold, predicted)
    return {name: {"precision": float(precision[j]), "recall": float(recall[j]),
                   "f1": float(f1[j]), "support": int(gold[:, j].sum())}
            for j, name in enumerate(names)}


NO_LABEL = "(none)"


def confusion(gold: np.ndarray, predicted: np.ndarray, names) -> dict | None:
    """For single-label data (one gold label per document): {"gold": names (the rows),
    "predicted": names + ["(none)"] (the columns), "matrix": document counts}; "(none)" counts
    documents predicted without a label, and a document predicted with several labels counts
    once in each of their columns. None when some document has no gold label or several."""
    gold = np.asarray(gold, dtype=bool)
    predicted = np.asarray(predicted, dtype=bool)
    if not len(gold) or not np.all(gold.sum(axis=1) == 1):
        return None
    rows = np.argmax(gold, axis=1)
    matrix = np.zeros((len(names), len(names) + 1), dtype=np.int64)
    np.add.at(matrix, rows, np.concatenate(
        [predicted, ~predicted.any(axis=1, keepdims=True)], axis=1).astype(np.int64))
    return {"gold": list(names), "predicted": list(names) + [NO_LABEL], "matrix": matrix.tolist()}


def over_languages(rows: Iterable[dict]) -> dict:
    """One row for several languages' rows: rates averaged, counts summed."""
    rows = list(rows)
    return {metric.key: (sum(row[metric.key] for row in rows) if metric.count
                         else float(np.mean([row[metric.key] for row in rows])))
            for metric in METRICS}


def decide(scores: np.ndarray, threshold: float | None = None, top_k: int | None = None,
           at_least_one: bool = False) -> np.ndarray:
    """Turns sigmoid scores into a 0/1 label set: by threshold, or the k best per document.

    `at_least_one` adds the best label to documents left with none, which suits single-label
    corpora where every document has a label.
    """
    scores = np.asarray(scores)
    if (threshold is None) == (top_k is None):
        raise ValueError("give exactly one of threshold or top_k")
    if top_k is not None:
        k = min(int(top_k), scores.shape[1])
        best = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        predicted = np.zeros(scores.shape, dtype=bool)
        np.put_along_axis(predicted, best, True, axis=1)
    else:
        predicted = scores >= threshold
    if at_least_one and scores.shape[1]:
        empty = ~predicted.any(axis=1)
        predicted[empty, np.argmax(scores[empty], axis=1)] = True
    return predicted


def tune_threshold(gold: np.ndarray, scores: np.ndarray, metric: str = "micro_f1",
                   candidates: np.ndarray | None = None, at_least_one: bool = False) -> float:
    """The threshold in `candidates` (default 0.05..0.95) that maximises `metric` on a dev set.

    Ties go to the threshold closest to 0.5, so that a flat curve does not drift to extremes.
    """
    if candidates is None:
        candidates = np.round(np.arange(0.05, 0.951, 0.05), 2)
    best_threshold, best_value = 0.5, -1.0
    for threshold in sorted(candidates, key=lambda t: abs(t - 0.5)):
        value = classification_metrics(
            gold, decide(scores, threshold=threshold, at_least_one=at_least_one))[metric]
        if value > best_value + 1e-12:
            best_threshold, best_value = float(threshold), value
    return best_threshold
