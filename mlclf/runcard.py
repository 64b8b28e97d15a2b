"""The run card, RUN/README.md: what a finished run is and how to use it, for whoever finds the
folder. Training writes it last, after the export whose decision rule it describes.

It says which data the run learnt from (corpus, languages, documents and labels per split),
the model and the settings that differ from the defaults, the best epoch, the decision rule
(from the export's serving.json, as `mlclf.load` applies it), the validation and test metrics,
and the commands that predict, evaluate and serve with it.
"""
from __future__ import annotations

import dataclasses
import json
import os

import mlclf
from mlclf import corpora, export, inference, metrics, rundir, task

CARD = rundir.CARD


def _table(header, rows) -> list:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]


def _metric_rows(table: dict) -> list:
    def cells(row):
        return [row[m.key] if m.count else f"{row[m.key]:.3f}" for m in metrics.METRICS]
    rows = [[lang, *cells(row)] for lang, row in table.items()]
    if len(table) > 1:
        rows.append(["mean", *cells(metrics.over_languages(table.values()))])
    return _table(["language"] + [m.label for m in metrics.METRICS], rows)


def _changed_settings(config) -> list:
    """`--name=value` of the model's settings that differ from the defaults (for this model:
    "auto" resolved the same way is no change); the data's are in the Data section."""
    data = {"model", "langs", "dataset", "manual_dir", "data_dir", *task.CORPUS_OPTIONS}
    defaults = dataclasses.replace(config, **{field.name: field.default
                                              for field in dataclasses.fields(config)
                                              if field.name not in data})
    return [f"`--{field.name}={getattr(config, field.name)}`"
            for field in dataclasses.fields(config)
            if field.name not in data and getattr(config, field.name) != getattr(defaults,
                                                                                 field.name)]


def text(run_dir: str, config, resources, results: dict) -> str:
    """The card's Markdown for a run trained with `config`, whose metrics are `results`."""
    with open(os.path.join(inference.export_path(run_dir), export.EXTRA_FILE),
              encoding="utf-8") as f:
        serving = json.load(f)
    with open(os.path.join(run_dir, rundir.BEST_STATE), encoding="utf-8") as f:
        best = json.load(f)
    options = task.corpus_options(config.dataset, config)
    sizes = {lang: corpora.split_sizes(config.dataset, lang,
                                       data_dir=os.path.expanduser(config.data_dir),
                                       manual_dir=config.manual_dir, options=options)
             for lang in resources.languages}
    defaults = {field.name: field.default for field in dataclasses.fields(config)}
    columns = [f"`--{name}={value}`" for name, value in options.items()
               if value != defaults[name]]
    name = os.path.basename(os.path.normpath(run_dir))
    langs = resources.languages
    source = (f"read from `{config.manual_dir}`" if config.manual_dir
              else "downloaded from upstream")
    lines = [
        f"# {name}: {config.model} on {config.dataset} ({', '.join(langs)})", "",
        f"Trained with mlclf {mlclf.__version__}. `flags.cfg` holds every setting: "
        f"`mlclf train --flagfile={os.path.join(run_dir, rundir.FLAGFILE)}` trains it again.",
        "", "## Data", "",
        f"Corpus `{config.dataset}`, {source}, prepared in `{config.data_dir}`"
        + (f", read with {', '.join(columns)}" if columns else "") + ".", "",
        *_table(["language", *corpora.SPLITS, "labels"],
                [[lang, *(sizes[lang].get(split, "-") for split in corpora.SPLITS),
                  ", ".join(resources.label_space.labels(lang))] for lang in langs]),
        "", "## Model", "",
        f"`{config.model}`; settings other than the defaults: "
        f"{', '.join(_changed_settings(config)) or 'none'}. Vocabulary: "
        f"{resources.vocabulary.size} ids ({config.vocab}); outputs: "
        f"{resources.label_space.num_outputs} ({config.label_space} label space). Kept: epoch "
        f"{best['epoch']} of {config.epochs}, the best mean validation micro-F1 "
        f"({best['mean_micro_f1']:.3f}).",
        "", "## Decision rule", "",
        f"Scores are in [0, 1]; {inference.decision(serving).describe(serving)}. Unknown "
        f"language codes: {serving['unknown_languages']}.",
    ]
    for split, table in results.items():
        lines += ["", f"## {split.capitalize()}", "", *_metric_rows(table)]
    example = langs[0]
    lines += [
        "", "## Use it", "", "```bash",
        f"mlclf predict --run_dir={run_dir} --lang={example} --input=texts.txt   "
        "# a document per line",
        f"mlclf evaluate --run_dir={run_dir} --split=test --per_label",
        f'docker run -p 8501:8501 -v "{os.path.abspath(os.path.join(run_dir, rundir.EXPORT_DIR))}'
        ':/models/mlclf" -e MODEL_NAME=mlclf tensorflow/serving',
        "```", "", "```python", "import mlclf", f"classifier = mlclf.load({run_dir!r})",
        f"classifier.predict([\"A document.\"], {example!r})  # [{{'labels': [...], "
        "'scores': {...}}]",
        "```", "",
        f"The SavedModel is `{os.path.join(run_dir, rundir.EXPORT_DIR)}/<version>/` "
        "(inputs `text`, `lang`; outputs `scores`, `labels`, and attention for hierarchical "
        "models; its `assets.extra/serving.json` names the columns and the decision rule).", ""]
    return "\n".join(lines)


def write(run_dir: str, config, resources, results: dict) -> str:
    """Writes RUN/README.md, renamed into place when whole (with it the run is finished);
    returns its path."""
    path = os.path.join(run_dir, CARD)
    with open(f"{path}.partial", "w", encoding="utf-8") as f:
        f.write(text(run_dir, config, resources, results))
    os.replace(f"{path}.partial", path)
    return path
