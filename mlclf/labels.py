"""The output index of a multilingual model (`LabelSpace`): which output is which language's label.

Build it from the training split only (`task.build_resources` does). Files (plain UTF-8 text,
"\\n" line ends): `labels.json` {"mode", "languages"} (shared mode also "outputs": the label
names in output order) and `labels.tsv`: `lang<TAB>label` per line, each language's labels in
order.
"""
from __future__ import annotations

import json
import os
from typing import Iterable, Mapping

import numpy as np

from mlclf.vocab import MODES, as_text, check_name, read_json


class LabelSpace:
    """The global output index of a multilingual model.

    per_language: each language's own labels, languages concatenated; a language predicts only
    its own outputs. shared: the union of label names, one output per name, so a language unseen
    in training can be given (all outputs are its); a training language's own outputs are the
    labels it had (the others are unknown for it, not negative).

    `output_order` (shared mode only): every label name once, in the order of the outputs, e.g.
    by descending training frequency over all languages (what NCE's log-uniform sampler
    assumes). Default: order of first appearance, language by language, which is that order
    only when the first language has every label.
    """

    def __init__(self, labels_by_lang: Mapping[str, Iterable[str]], mode: str = "per_language",
                 output_order: Iterable[str] | None = None):
        if mode not in MODES:
            raise ValueError(f"label space mode must be one of {MODES}, got {mode!r}")
        self.mode = mode
        self._labels = {check_name("language", lang): list(dict.fromkeys(
            check_name("label", label, lang) for label in labels))
            for lang, labels in labels_by_lang.items()}
        self.languages = list(self._labels)
        if mode == "per_language":
            if output_order is not None:
                raise ValueError("output_order applies to a shared label space only")
            self.output_names = [label for labels in self._labels.values() for label in labels]
            self.output_languages = [lang for lang, labels in self._labels.items()
                                     for _ in labels]
        else:
            self.output_names = list(dict.fromkeys(
                label for labels in self._labels.values() for label in labels))
            if output_order is not None:
                order = [as_text(label) for label in output_order]
                if len(set(order)) != len(order) or set(order) != set(self.output_names):
                    raise ValueError(f"output_order {order} must hold each label of the "
                                     f"languages exactly once: {sorted(self.output_names)}")
                self.output_names = order
            self.output_languages = [None] * len(self.output_names)
        self.num_outputs = len(self.output_names)

    def labels(self, lang: str) -> list:
        """The labels `lang` can have, in output order."""
        return [self.output_names[i] for i in np.flatnonzero(self.mask(lang))]

    def _outputs(self, lang: str) -> dict:
        """{label: output index} of `lang`'s outputs."""
        if lang in self._labels:
            if self.mode == "per_language":
                offset = self.output_languages.index(lang) if self._labels[lang] else 0
                return {label: offset + i for i, label in enumerate(self._labels[lang])}
            own = set(self._labels[lang])
            return {label: i for i, label in enumerate(self.output_names) if label in own}
        if self.mode == "shared":
            return {label: i for i, label in enumerate(self.output_names)}
        raise ValueError(f"language {lang!r} has no outputs in this per-language label space; "
                         f"its languages: {self.languages}")

    def mask(self, lang: str) -> np.ndarray:
        """float32 [num_outputs]: 1 for the outputs that are `lang`'s."""
        mask = np.zeros(self.num_outputs, np.float32)
        mask[list(self._outputs(lang).values())] = 1
        return mask

    def encode(self, lang: str, labels: Iterable[str]) -> list:
        """Label names of a `lang` document -> output indices (duplicates dropped)."""
        outputs = self._outputs(lang)
        indices = []
        for label in labels:
            label = as_text(label)
            if label not in outputs:
                raise ValueError(f"label {label!r} is not a label of language {lang!r}; "
                                 f"known labels: {sorted(outputs)}")
            if outputs[label] not in indices:
                indices.append(outputs[label])
        return indices

    def save(self, directory: str) -> None:
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "labels.json"), "w", encoding="utf-8") as f:
            meta = {"mode": self.mode, "languages": self.languages}
            if self.mode == "shared":
                meta["outputs"] = self.output_names
            json.dump(meta, f, indent=1)
        with open(os.path.join(directory, "labels.tsv"), "w", encoding="utf-8",
                  newline="\n") as f:
            for lang, labels in self._labels.items():
                f.writelines(f"{lang}\t{label}\n" for label in labels)

    @classmethod
    def load(cls, directory: str) -> "LabelSpace":
        meta = read_json(os.path.join(directory, "labels.json"))
        labels = {lang: [] for lang in meta["languages"]}
        path = os.path.join(directory, "labels.tsv")
        with open(path, encoding="utf-8", newline="\n") as f:
            for line_number, line in enumerate(f, start=1):
                lang, _, label = line.rstrip("\n").partition("\t")
                if lang not in labels or not label:
                    raise ValueError(f"{path}:{line_number}: expected '<language><TAB><label>' "
                                     f"with a language of labels.json, got {line!r}")
                labels[lang].append(label)
        return cls(labels, meta["mode"], meta.get("outputs"))
