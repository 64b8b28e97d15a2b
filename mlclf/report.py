"""A static HTML report of an evaluation: one self-contained index.html to open from disk.

It shows the per-language metrics and per-label results (sortable tables), the confusion
matrix of each single-label language, a browser over the
documents with their sentences and words shaded by attention (hierarchical models), and a PCA
map of the document vectors per language (the MHAN paper's Figure 1). Everything is computed
here, in numpy; the page's script only draws it. The data travels as JSON inside a
`<script type="application/json">` with `<` escaped, and the script builds the page with
`textContent`, so a document's text can never become markup.
"""
from __future__ import annotations

import html
import importlib.resources
import json
import os
import re
from typing import Mapping

import numpy as np

from mlclf import metrics


def project(vectors, dims: int = 2):
    """(coordinates [n, dims], explained variance ratio [dims]): PCA by SVD of the centred
    vectors, each axis' sign fixed so that its largest loading is positive (stable pictures).
    Missing axes (fewer documents or features than `dims`) are zeros."""
    x = np.asarray(vectors, dtype=np.float64).reshape(len(vectors), -1)
    coords, explained = np.zeros((len(x), dims)), np.zeros(dims)
    if len(x) < 2:
        return coords, explained
    x = x - x.mean(axis=0)
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    k = min(dims, len(s))
    signs = np.sign(vt[np.arange(k), np.argmax(np.abs(vt[:k]), axis=1)])
    signs[signs == 0] = 1.0
    coords[:, :k] = u[:, :k] * s[:k] * signs
    total = float(np.sum(s ** 2))
    if total > 0:
        explained[:k] = s[:k] ** 2 / total
    return coords, explained


def sample_indices(num_docs: int, max_docs: int, seed: int = 0) -> np.ndarray:
    """Which documents to embed: all, or a random `max_docs` of them kept in corpus order (not
    the first ones, which in a corpus sorted by label would be the first labels only)."""
    if num_docs <= max_docs:
        return np.arange(num_docs)
    return np.sort(np.random.default_rng(seed).choice(num_docs, size=max_docs, replace=False))


def language_section(lang: str, scored, records: list, label_space, metric_row: Mapping,
                     max_docs: int) -> dict:
    """Everything the page shows for one language.

    `scored` is an `evaluation.LanguageScores` (with its `document` extra for the map),
    `records` its `evaluation.document_records`, `metric_row` its row of the metric table.
    Per-label results and the confusion matrix (single-label data) count the labels the records
    predict, so that they agree with the documents shown whatever rule decided them.
    """
    names = scored.label_names(label_space)
    column = {name: j for j, name in enumerate(names)}
    predicted = np.zeros(scored.gold.shape, dtype=bool)
    for row, record in enumerate(records):
        predicted[row, [column[p["label"]] for p in record["predicted"]]] = True
    labels = [{"lang": lang, "label": name, **{key: round(value, 4) if isinstance(value, float)
                                                else value for key, value in result.items()},
               "predicted": int(predicted[:, j].sum())}
              for j, (name, result) in enumerate(
                  metrics.label_metrics(scored.gold, predicted, names).items())]
    keep = sample_indices(len(records), max_docs)
    documents = [dict(records[i], correct=set(records[i]["gold"]) ==
                      {p["label"] for p in records[i]["predicted"]}) for i in keep]
    row = {key: value for key, value in metric_row.items()
           if key not in ("per_label", "confusion_matrix")}  # shown from `labels`, `confusion`
    section = {"lang": lang, "metrics": row, "labels": labels,
               "confusion": metrics.confusion(scored.gold, predicted, names),
               "num_docs": len(records), "documents": documents, "map": None}
    if "document" in scored.extras and len(records):
        coords, explained = project(scored.extras["document"])
        section["map"] = {"x": np.round(coords[keep, 0], 4).tolist(),
                          "y": np.round(coords[keep, 1], 4).tolist(),
                          "explained": np.round(explained, 4).tolist()}
    return section


def truncation_note(sections, max_docs: int) -> str:
    """What the page says about documents left out (the metrics always cover them all)."""
    cut = [f"{s['lang']} {s['num_docs'] - len(s['documents'])} of {s['num_docs']}"
           for s in sections if len(s["documents"]) < s["num_docs"]]
    if not cut:
        return "Every document is in the report."
    return (f"Left out of the report, which keeps a random {max_docs} per language: "
            f"{', '.join(cut)} documents (rerun evaluate.py with a larger --report_max_docs to "
            "see them). The metrics cover every document.")


def report_data(table: Mapping, scored: Mapping, records: Mapping, label_space, *, title: str,
                info: Mapping, max_docs: int = 500) -> dict:
    """The JSON the page embeds: `info` ({name: value}, shown under the title), one section
    per language of `table` (evaluation.metric_table rows, with `threshold` where known), and
    the metrics' columns (metrics.METRICS)."""
    sections = [language_section(lang, scored[lang], records[lang], label_space, table[lang],
                                 max_docs) for lang in table]
    return {"title": title, "info": dict(info), "languages": sections,
            "truncation": truncation_note(sections, max_docs),
            "metrics": [{"key": metric.key, "label": metric.label, "count": metric.count}
                        for metric in metrics.METRICS]}


def embed_json(data) -> str:
    """JSON safe inside a <script> element: no `<` (so no `</script>` or `<!--`), `>`, `&`."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _template() -> str:
    """The page (mlclf/templates/report.html, package data): HTML, CSS and the script that
    draws `DATA`, with %TITLE% and %DATA% where `render` puts them."""
    return (importlib.resources.files("mlclf") / "templates" / "report.html").read_text(
        encoding="utf-8")


def render(data) -> str:
    """The page: the template with its title and data filled in, in one pass (a title that
    reads "%DATA%" stays a title)."""
    values = {"TITLE": html.escape(data["title"]), "DATA": embed_json(data)}
    return re.sub(r"%(TITLE|DATA)%", lambda match: values[match.group(1)], _template())


def write_report(directory: str, table: Mapping, scored: Mapping, records: Mapping, label_space,
                 *, title: str, info: Mapping, max_docs: int = 500) -> str:
    """Writes DIRECTORY/index.html and returns its path."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "index.html")
    data = report_data(table, scored, records, label_space, title=title, info=info,
                       max_docs=max_docs)
    with open(path, "w", encoding="utf-8") as f:
        f.write(render(data))
    return path
