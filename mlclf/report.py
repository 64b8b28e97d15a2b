"""A static HTML report of an evaluation: one self-contained index.html to open from disk.

It shows the per-language metrics and per-label F1 (sortable tables), a browser over the
documents with their sentences and words shaded by attention (hierarchical models), and a PCA
map of the document vectors per language (the MHAN paper's Figure 1). Everything is computed
here, in numpy; the page's script only draws it. The data travels as JSON inside a
`<script type="application/json">` with `<` escaped, and the script builds the page with
`textContent`, so a document's text can never become markup.
"""
from __future__ import annotations

import html
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
    Per-label F1 counts the labels the records predict, so that it agrees with the documents
    shown whatever rule decided them.
    """
    names = scored.label_names(label_space)
    column = {name: j for j, name in enumerate(names)}
    predicted = np.zeros(scored.gold.shape, dtype=bool)
    for row, record in enumerate(records):
        predicted[row, [column[p["label"]] for p in record["predicted"]]] = True
    f1 = metrics.per_label_f1(scored.gold, predicted)
    labels = [{"lang": lang, "label": name, "f1": round(float(f1[j]), 4),
               "gold": int(scored.gold[:, j].sum()), "predicted": int(predicted[:, j].sum())}
              for j, name in enumerate(names)]
    keep = sample_indices(len(records), max_docs)
    documents = [dict(records[i], correct=set(records[i]["gold"]) ==
                      {p["label"] for p in records[i]["predicted"]}) for i in keep]
    section = {"lang": lang, "metrics": dict(metric_row), "labels": labels,
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
    """The JSON the page embeds: `info` ({name: value}, shown under the title) and one section
    per language of `table` (evaluation.metric_table rows, with `threshold` where known)."""
    sections = [language_section(lang, scored[lang], records[lang], label_space, table[lang],
                                 max_docs) for lang in table]
    return {"title": title, "info": dict(info), "languages": sections,
            "truncation": truncation_note(sections, max_docs)}


def embed_json(data) -> str:
    """JSON safe inside a <script> element: no `<` (so no `</script>` or `<!--`), `>`, `&`."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render(data) -> str:
    """The page: the template with its title and data filled in, in one pass (a title that
    reads "%DATA%" stays a title)."""
    values = {"TITLE": html.escape(data["title"]), "DATA": embed_json(data)}
    return re.sub(r"%(TITLE|DATA)%", lambda match: values[match.group(1)], _PAGE)


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


_PAGE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>%TITLE%</title>
<style>
:root { --ink: #1d232b; --muted: #5d6875; --line: #d8dde3; --ok: #1a7f37; --bad: #c62828;
        --sentence: 33, 113, 181; --word: 230, 85, 13; }
body { margin: 0 auto; max-width: 1200px; padding: 0 1.2rem 3rem; color: var(--ink);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans Ethiopic",
       "Abyssinica SIL", "Nyala", "Noto Naskh Arabic", "Noto Sans Arabic", "Geeza Pro",
       "DejaVu Sans", "Arial Unicode MS", sans-serif; }
h1 { font-size: 1.5rem; margin: 1.2rem 0 .3rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; border-bottom: 1px solid var(--line); }
.info { color: var(--muted); margin: 0; }
.info span { margin-right: 1.2rem; }
.note { color: var(--muted); font-size: .9rem; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: .25rem .7rem; border-bottom: 1px solid var(--line); text-align: right; }
th.text, td.text { text-align: left; }
th { cursor: pointer; user-select: none; background: #f3f5f7; white-space: nowrap; }
th[aria-sort="ascending"]::after { content: " \25B2"; }
th[aria-sort="descending"]::after { content: " \25BC"; }
tfoot td { font-weight: 600; }
.bar { display: inline-block; height: .6rem; background: rgb(var(--sentence)); margin-left: .4rem; }
.maps { display: flex; flex-wrap: wrap; gap: 1rem; }
.map { margin: 0; }
.map figcaption { text-align: center; font-weight: 600; }
.map svg { width: 300px; height: 300px; border: 1px solid var(--line); background: #fff; }
.map circle { cursor: pointer; fill-opacity: .8; }
.legend span { display: inline-block; margin: .2rem .9rem .2rem 0; }
.legend i { display: inline-block; width: .8rem; height: .8rem; border-radius: 50%;
            margin-right: .3rem; vertical-align: -.05rem; }
form { display: flex; flex-wrap: wrap; gap: .5rem 1.2rem; align-items: end; }
label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); }
select, input { font: inherit; padding: .15rem .3rem; }
.doc { border: 1px solid var(--line); border-left: 4px solid var(--ok); border-radius: 4px;
       margin: .8rem 0; padding: .5rem .9rem; }
.doc.wrong { border-left-color: var(--bad); }
.doc header { display: flex; gap: .8rem; align-items: baseline; color: var(--muted); }
.doc header b { color: var(--ink); }
.verdict { margin-left: auto; font-weight: 600; color: var(--ok); }
.wrong .verdict { color: var(--bad); }
.chips { display: inline-block; margin: .3rem 2rem .3rem 0; }
.chip { display: inline-block; border: 1px solid var(--line); border-radius: 1rem;
        padding: 0 .55rem; margin: 0 .3rem .2rem 0; font-size: .85rem; }
.chip.hit { border-color: var(--ok); color: var(--ok); }
.chip.miss { border-color: var(--bad); color: var(--bad); }
.sent { margin: .15rem 0; padding: .05rem .4rem; border-left: 4px solid transparent; }
.w { padding: 0 .08rem; border-radius: 2px; }
.scale i { display: inline-block; width: 2.2rem; height: .8rem; vertical-align: -.1rem; }
.sentence-key { background: rgba(var(--sentence), .15);
                border-left: 4px solid rgb(var(--sentence)); }
.word-key { background: rgba(var(--word), .8); }
button { font: inherit; margin-top: .5rem; }
</style>
</head>
<body>
<script type="application/json" id="report-data">%DATA%</script>
<header><h1 id="title"></h1><p class="info" id="info"></p></header>
<section><h2>Metrics</h2><div id="metrics"></div><p class="note" id="truncation"></p></section>
<section><h2>Per-label F1</h2><div id="labels"></div>
<p class="note">Gold: documents with the label; predicted: documents given it at the
language's threshold. Click a column header to sort.</p></section>
<section><h2>Document vectors</h2>
<p class="note">Each document's vector projected on its language's first two principal
components, coloured by its first gold label. Click a point to read the document.</p>
<div class="maps" id="maps"></div><div class="legend" id="legend"></div></section>
<section><h2>Documents</h2>
<form id="filters" onsubmit="return false">
<label>Language<select id="f-lang"></select></label>
<label>Gold label<select id="f-gold"></select></label>
<label>Predicted label<select id="f-pred"></select></label>
<label>Outcome<select id="f-outcome"><option value="">all</option>
<option value="right">right</option><option value="wrong">wrong</option></select></label>
<label>Id or word<input id="f-search" type="search"></label>
</form>
<p class="note scale" id="shading">Shading: <i class="sentence-key"></i> sentence attention,
<i class="word-key"></i> word attention, each relative to the strongest in the document or
sentence. Shown are the sentences and words the model read, normalised.</p>
<p class="note" id="no-shading">This model has no attention outputs: shown are the words it
read, normalised, without shading.</p>
<p id="count"></p><div id="docs"></div><button id="more" type="button"></button>
</section>
<script>
"use strict";
const DATA = JSON.parse(document.getElementById("report-data").textContent);
const PAGE = 50;
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf"];
const NONE = "(none)";

/* Builds an element; strings among the children become text nodes, never markup. */
function make(namespace, tag, attrs, children) {
  const node = namespace ? document.createElementNS(namespace, tag) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  node.append(...children);
  return node;
}
const el = (tag, attrs, ...children) => make(null, tag, attrs, children);
const svg = (tag, attrs, ...children) => make("http://www.w3.org/2000/svg", tag, attrs, children);
const fixed = (digits) => (v) => v === undefined || v === null ? "" : Number(v).toFixed(digits);
const plain = (v) => v === undefined ? "" : String(v);
const sum = (rows, key) => rows.reduce((total, row) => total + row[key], 0);

/* A table whose column headers sort it; columns: {key, label, format, text, bar}. */
function sortableTable(columns, rows, footer) {
  const cell = (column, row) => {
    const value = row[column.key];
    const td = el("td", column.text ? {class: "text"} : {}, (column.format || plain)(value));
    if (column.bar) td.append(el("span", {class: "bar", style: `width:${value * 4}rem`}));
    return td;
  };
  const heads = columns.map((column) =>
    el("th", column.text ? {scope: "col", class: "text"} : {scope: "col"}, column.label));
  const body = el("tbody");
  let sortKey = null, ascending = true;
  function draw() {
    const sorted = rows.slice();
    if (sortKey !== null) {
      sorted.sort((a, b) => {
        const x = a[sortKey], y = b[sortKey];
        const order = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
        return ascending ? order : -order;
      });
    }
    body.replaceChildren(...sorted.map((row) => el("tr", {}, ...columns.map((c) => cell(c, row)))));
    heads.forEach((head, i) => head.setAttribute("aria-sort", columns[i].key !== sortKey
      ? "none" : ascending ? "ascending" : "descending"));
  }
  heads.forEach((head, i) => head.addEventListener("click", () => {
    // Text columns sort A-Z first, numbers largest first.
    ascending = sortKey === columns[i].key ? !ascending : !!columns[i].text;
    sortKey = columns[i].key;
    draw();
  }));
  draw();
  const table = el("table", {}, el("thead", {}, el("tr", {}, ...heads)), body);
  if (footer) {
    table.append(el("tfoot", {}, el("tr", {}, ...columns.map((c) => cell({...c, bar: false},
                                                                           footer)))));
  }
  return table;
}

function header() {
  document.getElementById("title").textContent = DATA.title;
  for (const [key, value] of Object.entries(DATA.info)) {
    document.getElementById("info").append(el("span", {}, `${key}: ${value}`));
  }
}

function metricsTable() {
  const rows = DATA.languages.map((section) => ({...section.metrics,
    lang: section.lang + (section.metrics.unseen ? " (unseen)" : ""),
    embedded: section.documents.length}));
  const mean = (key) => sum(rows, key) / rows.length;
  const footer = rows.length < 2 ? null : {lang: "mean", precision: mean("precision"),
    recall: mean("recall"), micro_f1: mean("micro_f1"), macro_f1: mean("macro_f1"),
    jaccard: mean("jaccard"), num_docs: sum(rows, "num_docs"), embedded: sum(rows, "embedded")};
  const f3 = fixed(3);
  document.getElementById("metrics").append(sortableTable([
    {key: "lang", label: "language", text: true},
    {key: "precision", label: "P", format: f3}, {key: "recall", label: "R", format: f3},
    {key: "micro_f1", label: "micro-F1", format: f3},
    {key: "macro_f1", label: "macro-F1", format: f3},
    {key: "jaccard", label: "Jaccard", format: f3},
    {key: "threshold", label: "threshold", format: fixed(2)},
    {key: "num_docs", label: "docs"}, {key: "embedded", label: "in report"},
  ], rows, footer));
  document.getElementById("truncation").textContent = DATA.truncation;
}

function labelsTable() {
  document.getElementById("labels").append(sortableTable([
    {key: "lang", label: "language", text: true}, {key: "label", label: "label", text: true},
    {key: "f1", label: "F1", format: fixed(3), bar: true}, {key: "gold", label: "gold docs"},
    {key: "predicted", label: "predicted docs"},
  ], DATA.languages.flatMap((section) => section.labels)));
}

const ALL_LABELS = [...new Set(DATA.languages.flatMap((s) => s.labels.map((l) => l.label)))]
  .sort();
function colour(label) {
  const i = ALL_LABELS.indexOf(label);
  if (i < 0) return "#bbbbbb";
  return i < PALETTE.length ? PALETTE[i] : `hsl(${(i * 137.5) % 360}, 60%, 45%)`;
}

/* One SVG panel per language: the documents' PCA coordinates, coloured by first gold label. */
function maps() {
  const box = document.getElementById("maps"), size = 300, pad = 14;
  const used = new Set();
  const scale = (values) => {
    const lo = Math.min(...values), span = Math.max(...values) - lo || 1;
    return (v) => pad + (v - lo) / span * (size - 2 * pad);
  };
  const percent = (v) => `${Math.round(v * 100)}%`;
  for (const section of DATA.languages.filter((s) => s.map)) {
    const {x, y, explained} = section.map;
    const sx = scale(x), sy = scale(y);
    const plot = svg("svg", {viewBox: `0 0 ${size} ${size}`, role: "img"});
    section.documents.forEach((doc, i) => {
      const label = doc.gold.length ? doc.gold[0] : NONE;
      used.add(label);
      const point = svg("circle", {cx: sx(x[i]).toFixed(1), cy: (size - sy(y[i])).toFixed(1),
                                   r: 3.5, fill: colour(label)},
                        svg("title", {}, `${doc.id}: ${doc.gold.join(", ") || NONE}`));
      point.addEventListener("click", () => showDocument(section.lang, doc.id));
      plot.append(point);
    });
    box.append(el("figure", {class: "map"}, el("figcaption", {}, section.lang), plot,
      el("div", {class: "note"},
         `PC1 ${percent(explained[0])}, PC2 ${percent(explained[1])} of the variance`)));
  }
  if (!box.children.length) box.append(el("p", {class: "note"}, "No document vectors."));
  for (const label of [...ALL_LABELS, NONE].filter((l) => used.has(l))) {
    document.getElementById("legend").append(
      el("span", {}, el("i", {style: `background:${colour(label)}`}), label));
  }
}

/* The document browser */
const DOCS = DATA.languages.flatMap((section) => section.documents);
const FIELDS = ["lang", "gold", "pred", "outcome", "search"];
const field = (name) => document.getElementById("f-" + name);
let shown = PAGE;

function matches(doc) {
  const [lang, gold, pred, outcome] = FIELDS.map((name) => field(name).value);
  const search = field("search").value.trim().toLowerCase();
  const predicted = doc.predicted.map((p) => p.label);
  const has = (labels, wanted) => wanted === NONE ? labels.length === 0 : labels.includes(wanted);
  if (lang && doc.lang !== lang) return false;
  if (gold && !has(doc.gold, gold)) return false;
  if (pred && !has(predicted, pred)) return false;
  if (outcome && (outcome === "right") !== doc.correct) return false;
  if (search) {
    const words = doc.sentences ? doc.sentences.flat() : doc.words || [];
    return doc.id.toLowerCase() === search || words.some((w) => w.includes(search));
  }
  return true;
}

/* Sentence shade: its attention relative to the document's strongest sentence. Word shade: its
   attention relative to the sentence's strongest word, times the square root of the sentence
   shade (as in the HAN paper's figures), so that words of ignored sentences stay pale. */
function shadedSentences(doc) {
  const top = Math.max(...doc.sentence_attention, 1e-9);
  return doc.sentences.map((sentence, k) => {
    const s = doc.sentence_attention[k] / top, weights = doc.word_attention[k];
    const wordTop = Math.max(...weights, 1e-9);
    const words = sentence.flatMap((word, t) => [t ? " " : "", el("span", {class: "w",
      title: `word attention ${weights[t]}`,
      style: `background-color:rgba(var(--word),${(0.8 * weights[t] / wordTop * Math.sqrt(s))
        .toFixed(3)})`}, word)]);
    return el("p", {class: "sent", dir: "auto",
                    title: `sentence attention ${doc.sentence_attention[k]}`,
                    style: `background-color:rgba(var(--sentence),${(0.15 * s).toFixed(3)});` +
                           `border-left-color:rgba(var(--sentence),${s.toFixed(3)})`}, ...words);
  });
}

function documentCard(doc) {
  const gold = new Set(doc.gold), predicted = new Set(doc.predicted.map((p) => p.label));
  const chips = (name, items) => el("div", {class: "chips"}, el("b", {}, name + ": "),
    ...(items.length ? items : [el("span", {class: "note"}, NONE)]));
  const chip = (hit, text) => el("span", {class: "chip " + (hit ? "hit" : "miss")}, text);
  const top = Object.entries(doc.scores).sort((a, b) => b[1] - a[1]).slice(0, 3)
    .map(([label, score]) => `${label} ${score.toFixed(2)}`).join(" · ");
  const text = doc.sentence_attention ? shadedSentences(doc)
    : (doc.sentences || [doc.words || []]).map((words) =>
        el("p", {class: "sent", dir: "auto"}, words.join(" ")));
  return el("article", {class: doc.correct ? "doc" : "doc wrong", "data-id": doc.id,
                        "data-lang": doc.lang},
    el("header", {}, el("b", {}, doc.lang), el("span", {dir: "auto"}, doc.id),
       el("span", {class: "note"}, "top scores: " + top),
       el("span", {class: "verdict"}, doc.correct ? "\u2713 right" : "\u2717 wrong")),
    chips("gold", doc.gold.map((label) => chip(predicted.has(label), label))),
    chips("predicted", doc.predicted.map((p) =>
      chip(gold.has(p.label), `${p.label} ${p.score.toFixed(2)}`))),
    el("div", {class: "text", dir: "auto", lang: doc.lang.replace(/_/g, "-")}, ...text));
}

function renderDocuments() {
  const found = DOCS.filter(matches);
  const left = DATA.languages.reduce((n, s) => n + s.num_docs - s.documents.length, 0);
  document.getElementById("count").textContent =
    `${Math.min(shown, found.length)} of ${found.length} matching documents shown ` +
    `(${DOCS.length} in the report` + (left ? `, ${left} left out` : "") + ").";
  document.getElementById("docs").replaceChildren(...found.slice(0, shown).map(documentCard));
  const more = document.getElementById("more");
  more.hidden = found.length <= shown;
  more.textContent = `Show ${Math.min(PAGE, found.length - shown)} more`;
}

function showDocument(lang, id) {
  for (const name of FIELDS) field(name).value = "";
  field("lang").value = lang;
  field("search").value = id;
  shown = PAGE;
  renderDocuments();
  document.getElementById("docs").scrollIntoView();
}

function browser() {
  const options = (name, values) => field(name).replaceChildren(
    el("option", {value: ""}, "all"), ...values.map((v) => el("option", {value: v}, v)));
  options("lang", DATA.languages.map((s) => s.lang));
  options("gold", [...ALL_LABELS, NONE]);
  options("pred", [...ALL_LABELS, NONE]);
  for (const name of FIELDS) {
    field(name).addEventListener("input", () => { shown = PAGE; renderDocuments(); });
  }
  document.getElementById("more").addEventListener("click", () => {
    shown += PAGE;
    renderDocuments();
  });
  const attention = DOCS.some((doc) => doc.sentence_attention);
  document.getElementById(attention ? "no-shading" : "shading").hidden = true;
  renderDocuments();
}

header();
metricsTable();
labelsTable();
maps();
browser();
</script>
</body>
</html>
"""
