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
from typing import Callable, Iterator, NamedTuple, Sequence

import numpy as np
import tensorflow as tf

from mlclf import export, metrics, rundir, text as text_lib


class Decision(NamedTuple):
    """A decision rule, given the serving.json that names it and holds its parameters."""
    # serving.json -> (scores [documents, a language's outputs] -> 0/1 of the same shape)
    rule: Callable[[dict], Callable[[np.ndarray], np.ndarray]]
    # serving.json -> the rule in words (the run card)
    describe: Callable[[dict], str]


# serving.json "decision" -> its Decision. A new rule is one entry here, and the export
# writing its name.
DECISIONS = {
    "threshold": Decision(
        lambda serving: lambda scores: metrics.decide(
            scores, threshold=serving["threshold"], at_least_one=serving["at_least_one"]),
        lambda serving: f"a label is predicted when its score reaches {serving['threshold']}"
                        + ("; a document with none gets its best label"
                           if serving["at_least_one"] else "")),
    "argmax": Decision(
        lambda serving: lambda scores: metrics.decide(scores, top_k=1),
        lambda serving: "each document gets its best-scoring label"),
}


def decision(serving: dict) -> Decision:
    """The Decision serving.json names; an unknown one is refused (an export newer than mlclf)."""
    name = serving.get("decision", "threshold")
    if name not in DECISIONS:
        raise ValueError(f"decision rule {name!r} is unknown to this mlclf "
                         f"(known: {', '.join(DECISIONS)}); upgrade mlclf")
    return DECISIONS[name]


def export_path(path: str) -> str:
    """A SavedModel folder: `path` itself, or the newest version in a run's export/ folder."""
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    versions = rundir.export_versions(path)
    if not versions:
        raise FileNotFoundError(f"{path}: neither a SavedModel nor a run directory with one in "
                                f"{rundir.EXPORT_DIR}/ (mlclf export --run_dir={path} writes it)")
    return os.path.join(path, rundir.EXPORT_DIR, str(versions[-1]))


class Classifier:
    """An exported model, loaded with TensorFlow, and what serving.json says about it."""

    def __init__(self, path: str):
        self.path = export_path(path)
        with open(os.path.join(self.path, export.EXTRA_FILE), encoding="utf-8") as f:
            self.serving = json.load(f)
        try:
            self._decide = decision(self.serving).rule(self.serving)
        except ValueError as error:
            raise ValueError(f"{self.path}: {error}") from None
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

    @property
    def has_attention(self) -> bool:
        """Whether the graph gives attention (hierarchical models)."""
        return "word_attention" in self._signature.structured_outputs

    def predictions(self, texts: Sequence[str], langs, batch_size: int = 64,
                    attention: bool = False) -> Iterator[dict]:
        """`predict`, one document at a time as the batches are scored (for long inputs)."""
        texts = list(texts)
        langs = [langs] * len(texts) if isinstance(langs, str) else list(langs)
        if len(langs) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(langs)} language codes")
        if attention and not self.has_attention:
            raise ValueError(f"{self.path}: a {self.serving['model']} model has no attention")
        columns = {code: self.outputs(code) for code in set(langs)}
        return self._scored(texts, langs, columns, batch_size, attention)

    def _scored(self, texts, langs, columns, batch_size, attention):
        """`predictions` once its arguments are checked (before any text is scored)."""
        names = self.serving["output_names"]
        for start in range(0, len(texts), batch_size):
            batch = slice(start, start + batch_size)
            outputs = {name: value.numpy() for name, value in self._signature(
                text=tf.constant(texts[batch], tf.string),
                lang=tf.constant(langs[batch], tf.string)).items()}
            documents = _attended_words(texts[batch], outputs) if attention else None
            for row, code in enumerate(langs[batch]):
                own = columns[code]
                scores = outputs["scores"][row][own]
                order = np.argsort(-scores, kind="stable")
                decided = self._decide(scores[np.newaxis])[0]
                prediction = {"labels": [names[own[j]] for j in order if decided[j]],
                              "scores": {names[own[j]]: float(scores[j]) for j in order}}
                if attention:
                    prediction.update(_attention(outputs, row, documents[row]))
                yield prediction

    def predict(self, texts: Sequence[str], langs, batch_size: int = 64,
                attention: bool = False) -> list:
        """One {"labels": decided, best first; "scores": {label: score}, best first} per text,
        with `attention` also `attention`'s keys.

        `langs`: one code for every text, or one per text (ISO 639-1/-3 or the corpus' code).
        """
        return list(self.predictions(texts, langs, batch_size, attention))

    def attention(self, texts: Sequence[str], langs, batch_size: int = 64) -> list:
        """One {"sentences": the words the model read, "sentence_attention", "word_attention"}
        per text (hierarchical models only)."""
        keys = ("sentences", "sentence_attention", "word_attention")
        return [{key: prediction[key] for key in keys}
                for prediction in self.predictions(texts, langs, batch_size, attention=True)]


def _attended_words(texts, outputs) -> list:
    """The words the graph read, per document and sentence: its own tokeniser, cut to its
    [sentences, words] input shape."""
    num_sentences, num_words = outputs["word_attention"].shape[1:]
    words = text_lib.tokenize(tf.constant(texts, tf.string), hierarchical=True).to_list()
    return [[[word.decode("utf-8") for word in sentence[:num_words]]
             for sentence in document[:num_sentences]] for document in words]


def _attention(outputs, row: int, sentences: list) -> dict:
    return {"sentences": sentences,
            "sentence_attention": outputs["sentence_attention"][row][:len(sentences)].tolist(),
            "word_attention": [outputs["word_attention"][row][k][:len(sentence)].tolist()
                               for k, sentence in enumerate(sentences)]}


def load(path: str) -> Classifier:
    """The newest export of run directory `path` (or the SavedModel folder `path`)."""
    return Classifier(path)
