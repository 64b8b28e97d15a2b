"""Multi-label classification metrics on numpy arrays, and decision-threshold tuning.

All functions take `gold` and `predicted` as 0/1 arrays of shape [num_docs, num_labels] over one
language's label set (the caller slices the global output index with `LabelSpace.mask`).
Conventions follow the MHAN paper (micro-F1) and the CNN paper (Jaccard accuracy).
"""
from __future__ import annotations

import numpy as np

METRIC_NAMES = ("micro_f1", "macro_f1", "precision", "recall", "jaccard", "num_docs")


def _safe_divide(numerator, denominator):
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator),
                     where=denominator > 0)


def classification_metrics(gold: np.ndarray, predicted: np.ndarray) -> dict:
    """Micro P/R/F1, macro-F1 (over labels that occur in gold or predictions) and Jaccard.

    Jaccard accuracy is |pred & gold| / |pred | gold| averaged over documents; a document with
    neither gold nor predicted labels counts as 1 (a correct "none" answer).
    """
    gold = np.asarray(gold, dtype=bool)
    predicted = np.asarray(predicted, dtype=bool)
    if gold.shape != predicted.shape or gold.ndim != 2:
        raise ValueError(f"gold {gold.shape} and predicted {predicted.shape} must be equal 2-D shapes")
    true_pos = (gold & predicted).sum(axis=0)
    pred_pos = predicted.sum(axis=0)
    gold_pos = gold.sum(axis=0)
    precision = float(_safe_divide(true_pos.sum(), pred_pos.sum()))
    recall = float(_safe_divide(true_pos.sum(), gold_pos.sum()))
    micro_f1 = float(_safe_divide(2 * precision * recall, precision + recall))
    per_label_f1 = _safe_divide(2 * true_pos, pred_pos + gold_pos)
    active = (pred_pos + gold_pos) > 0
    macro_f1 = float(per_label_f1[active].mean()) if active.any() else 0.0
    union = (gold | predicted).sum(axis=1)
    intersection = (gold & predicted).sum(axis=1)
    jaccard_per_doc = np.where(union > 0, _safe_divide(intersection, union), 1.0)
    jaccard = float(jaccard_per_doc.mean()) if len(gold) else 0.0
    return {"micro_f1": micro_f1, "macro_f1": macro_f1, "precision": precision,
            "recall": recall, "jaccard": jaccard, "num_docs": int(len(gold))}


def per_label_f1(gold: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """F1 of each label column (0 where the label is neither gold nor predicted)."""
    gold = np.asarray(gold, dtype=bool)
    predicted = np.asarray(predicted, dtype=bool)
    true_pos = (gold & predicted).sum(axis=0)
    return _safe_divide(2 * true_pos, predicted.sum(axis=0) + gold.sum(axis=0))


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
