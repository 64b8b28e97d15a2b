"""Classifying new text in Python with a run's exported SavedModel: `mlclf.load(RUN)`.

    classifier = mlclf.load("runs/my-run")       # its newest export/<version>/
    classifier.predict(["Kenya wins the match."], "en")
        -> [{"labels": ["sports"], "scores": {"sports": 0.91, "politics": 0.05, ...}}]
    classifier.attention(["Kenya wins the match."], "en")
        -> [{"sentences": [["kenya", "wins", ...]], "sentence_attention": [...],
             "word_attention": [[...]]}]

Both run the export's `serving_default` signature, the graph TF Serving runs, so Python,
`mlclf predict` and a TF Serving server give the same scores. Labels are decided by the rule
the export describes in `assets.extra/serving.json` (`DECISIONS`), over the document's language's
outputs, which serving.json lists too (`outputs_by_language`, `language_codes`).
"""
from __future__ import annotations

import json
import os
from typing import Callable, Sequence

import numpy as np
import tensorflow as tf

from mlclf import export, metrics, rundir, text as text_lib


def _by_threshold(serving: dict) -> Callable[[np.ndarray], np.ndarray]:
    return lambda scores: metrics.decide(scores, threshold=serving["threshold"],
                                         at_least_one=serving["at_least_one"])


# serving.json "decision" -> (serving.json -> (scores [docs, a language's outputs] -> 0/1)).
# A new rule is one entry here, and the export writing its name.
DECISIONS = {
    "threshold": _by_threshold,  # labels scoring `threshold` or more (+ the best, at_least_one)
    "argmax": lambda serving: (lambda scores: metrics.decide(scores, top_k=1)),
}


def export_path(path: str) -> str:
    """A SavedModel folder: `path` itself, or the newest version in a run's export/ folder."""
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    versions = export.next_version(os.path.join(path, rundir.EXPORT_DIR)) - 1
    if versions < 1:
        raise FileNotFoundError(f"{path}: neither a SavedModel nor a run directory with one in "
                                f"{rundir.EXPORT_DIR}/ (mlclf export --run_dir={path} writes it)")
    return os.path.join(path, rundir.EXPORT_DIR, str(versions))


class Classifier:
    """An exported model, loaded with TensorFlow, and what serving.json says about it."""

    def __init__(self, path: str):
        self.path = export_path(path)
        with open(os.path.join(self.path, export.EXTRA_FILE), encoding="utf-8") as f:
            self.serving = json.load(f)
        rule = self.serving.get("decision", "threshold")
        if rule not in DECISIONS:
            raise ValueError(f"{self.path}: decision rule {rule!r} is unknown to this mlclf "
                             f"(known: {', '.join(DECISIONS)}); upgrade mlclf")
        self._decide = DECISIONS[rule](self.serving)
        self._signature = tf.saved_model.load(self.path).signatures[export.SIGNATURE]

    @property
    def languages(self) -> list:
        """The training languages (corpus codes); ISO 639-1/-3 codes name them too."""
        return list(self.serving["languages"])

    def outputs(self, code: str) -> np.ndarray:
        """The output columns a document in language `code` is scored on (the graph's rule)."""
        lang = self.serving["language_codes"].get(export.alias_key(code))
        if lang is not None:
            return np.asarray(self.serving["outputs_by_language"][lang])
        if self.serving["unknown_languages"] == "all outputs":
            return np.arange(len(self.serving["output_names"]))
        raise ValueError(f"unknown language code {code!r}: this model knows "
                         f"{', '.join(self.languages)}, also by their ISO 639-1 / 639-3 codes")

    def _run(self, texts: Sequence[str], langs, batch_size: int):
        """Yields (first document's index, columns per document, the signature's outputs as
        numpy) batch by batch; every language code is checked before the first batch."""
        texts = list(texts)
        langs = [langs] * len(texts) if isinstance(langs, str) else list(langs)
        if len(langs) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(langs)} language codes")
        columns = {code: self.outputs(code) for code in set(langs)}
        for start in range(0, len(texts), batch_size):
            batch = slice(start, start + batch_size)
            outputs = self._signature(text=tf.constant(texts[batch], tf.string),
                                      lang=tf.constant(langs[batch], tf.string))
            yield start, [columns[code] for code in langs[batch]], \
                {name: value.numpy() for name, value in outputs.items()}

    def predict(self, texts: Sequence[str], langs, batch_size: int = 64) -> list:
        """One {"labels": decided, best first; "scores": {label: score}} per text.

        `langs`: one code for every text, or one per text (ISO 639-1/-3 or the corpus' code).
        """
        names = self.serving["output_names"]
        predictions = []
        for _, columns, outputs in self._run(texts, langs, batch_size):
            for scores, own in zip(outputs["scores"], columns):
                own_scores = scores[own]
                order = np.argsort(-own_scores, kind="stable")
                decided = self._decide(own_scores[np.newaxis])[0]
                predictions.append({
                    "labels": [names[own[j]] for j in order if decided[j]],
                    "scores": {names[own[j]]: float(own_scores[j]) for j in order}})
        return predictions

    def attention(self, texts: Sequence[str], langs, batch_size: int = 64) -> list:
        """One {"sentences": the words the model read, "sentence_attention", "word_attention"}
        per text (hierarchical models only)."""
        texts, attention = list(texts), []
        for start, _, outputs in self._run(texts, langs, batch_size):
            if "word_attention" not in outputs:
                raise ValueError(f"{self.path}: a {self.serving['model']} model has no "
                                 "attention outputs")
            num_sentences, num_words = outputs["word_attention"].shape[1:]
            batch_texts = tf.constant(list(texts[start:start + batch_size]), tf.string)
            # The words the graph read: its own tokeniser, cut where its inputs are.
            words = text_lib.tokenize(batch_texts, hierarchical=True).to_list()
            for row, document in enumerate(words):
                sentences = [[word.decode("utf-8") for word in sentence[:num_words]]
                             for sentence in document[:num_sentences]]
                attention.append({
                    "sentences": sentences,
                    "sentence_attention":
                        outputs["sentence_attention"][row][:len(sentences)].tolist(),
                    "word_attention": [outputs["word_attention"][row][k][:len(sentence)].tolist()
                                       for k, sentence in enumerate(sentences)]})
        return attention


def load(path: str) -> Classifier:
    """The newest export of run directory `path` (or the SavedModel folder `path`)."""
    return Classifier(path)
