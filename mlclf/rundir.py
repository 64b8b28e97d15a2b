"""The run directory: its layout, creating (or refusing, or resuming) it, and loading a run.

    RUN/flags.cfg, config.json    the settings, written first (FLAGFILE, CONFIG)
    RUN/vocab/, labels/, decision.json   what the run learnt from its training split
                                  (task.Resources.save)
    RUN/checkpoints/latest/       resumable checkpoints (LATEST_DIR)
    RUN/checkpoints/best.*        the best epoch's weights and validation (BEST_WEIGHTS, BEST_STATE)
    RUN/tensorboard/              summaries and the projector's files (TENSORBOARD)
    RUN/metrics.json              written when training and its evaluation end (METRICS_FILE);
                                  {split: {lang: metrics, "mean": their mean row}}
    RUN/eval_<split>.json         mlclf evaluate (evaluation_file), the same shape
    RUN/export/<version>/         SavedModels (EXPORT_DIR)
    RUN/README.md                 the run card (CARD, mlclf.runcard), written last: with it, a
                                  finished run

Each stage's file appears whole or not at all (metrics.json, export versions and the card are
renamed into place), so a run killed anywhere resumes at the first stage whose file is missing.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
from typing import NamedTuple

from mlclf import metrics, models, task

FLAGFILE = "flags.cfg"
CONFIG = "config.json"
LATEST_DIR = os.path.join("checkpoints", "latest")
BEST_WEIGHTS = os.path.join("checkpoints", "best.weights.h5")
BEST_STATE = os.path.join("checkpoints", "best.json")
TENSORBOARD = "tensorboard"
METRICS_FILE = "metrics.json"
EXPORT_DIR = "export"
CARD = "README.md"


class RunDirError(RuntimeError):
    """The run directory cannot be used."""


class RunDirExists(RunDirError):
    """The run directory belongs to another (or a finished) run."""


class Run(NamedTuple):
    """A trained run, read back: its settings, what it learnt from its data, its best model."""
    config: task.ExperimentConfig
    resources: task.Resources
    models: models.Models


def evaluation_file(split: str) -> str:
    return f"eval_{split}.json"


def default_path(config: task.ExperimentConfig) -> str:
    """runs/<model>-<dataset>-<languages>, train.py's default --run_dir."""
    return os.path.join("runs", f"{config.model}-{config.dataset}-{'_'.join(config.langs)}")


def flagfile_text(config: task.ExperimentConfig, run_dir: str) -> str:
    """An absl flagfile that reproduces the run: python train.py --flagfile=RUN/flags.cfg."""
    lines = ["# Reproduces this run: python train.py --flagfile=" + os.path.join(run_dir, FLAGFILE)]
    for name, value in dataclasses.asdict(config).items():
        if value is None:
            continue
        if isinstance(value, (tuple, list)):
            value = ",".join(value)
        lines.append(f"--{name}={value}")
    lines.append(f"--run_dir={run_dir}")
    return "\n".join(lines) + "\n"


def export_versions(run_dir: str) -> list:
    """The complete SavedModel versions in RUN/export/, in ascending order (a version folder is
    renamed into place once written, so one that exists is whole)."""
    export_dir = os.path.join(run_dir, EXPORT_DIR)
    names = os.listdir(export_dir) if os.path.isdir(export_dir) else ()
    return sorted(int(name) for name in names if re.fullmatch(r"\d+", name))


def finished(run_dir: str) -> bool:
    """Whether the run has its metrics, an export and its card: nothing left to do."""
    return (os.path.exists(os.path.join(run_dir, METRICS_FILE))
            and bool(export_versions(run_dir)) and os.path.exists(os.path.join(run_dir, CARD)))


def prepare(run_dir: str, config: task.ExperimentConfig, overwrite: bool) -> bool:
    """Creates RUN/ with its config.json and flags.cfg, or checks that it may be resumed.
    Returns True when resuming (a run interrupted in training or after it); raises
    RunDirExists for another or a finished run (unless `overwrite`, which empties it first),
    RunDirError when it cannot be created. A run that holds nothing but its settings takes
    the new ones."""
    try:
        return _prepare(run_dir, config, overwrite)
    except OSError as error:
        where = f" ({error.filename})" if error.filename and error.filename != run_dir else ""
        raise RunDirError(f"cannot use --run_dir={run_dir}: {error.strerror or error}{where}; "
                          f"choose another --run_dir") from None


def _prepare(run_dir, config, overwrite):
    config_path = os.path.join(run_dir, CONFIG)
    if os.path.exists(run_dir) and os.listdir(run_dir):
        if overwrite:
            shutil.rmtree(run_dir)
        elif not os.path.exists(config_path):
            raise RunDirExists(f"{run_dir} exists and is not an mlclf run; choose another "
                               f"--run_dir or pass --overwrite")
        else:
            with open(config_path, encoding="utf-8") as f:
                previous = f.read()
            if previous == config.to_json():
                if finished(run_dir):
                    raise RunDirExists(f"{run_dir} holds a finished run; pass --overwrite to "
                                       f"train it again or choose another --run_dir")
                return True
            # Settings alone: a run that stopped before it learnt anything (say, its corpus
            # could not be downloaded, and the rerun names a local copy) has nothing to keep.
            if not set(os.listdir(run_dir)) <= {CONFIG, FLAGFILE}:
                raise RunDirExists(f"{run_dir} holds a run with other settings; pass "
                                   f"--overwrite to replace it or choose another --run_dir")
    os.makedirs(run_dir, exist_ok=True)
    with open(config_path, "w", encoding="utf-8") as f:
        f.write(config.to_json())
    with open(os.path.join(run_dir, FLAGFILE), "w", encoding="utf-8") as f:
        f.write(flagfile_text(config, run_dir))
    return False


def read_config(run_dir: str) -> task.ExperimentConfig:
    with open(os.path.join(run_dir, CONFIG), encoding="utf-8") as f:
        return task.ExperimentConfig.from_json(f.read())


def load(run_dir: str) -> Run:
    """A run's config, resources and model (rebuilt, with its best epoch's weights)."""
    config = read_config(run_dir)
    resources = task.Resources.load(run_dir, config)
    classifier = models.get(config.model).build(config, resources)
    weights = os.path.join(run_dir, BEST_WEIGHTS)
    if not os.path.exists(weights):
        raise FileNotFoundError(f"{weights} is missing: has {run_dir} finished an epoch?")
    classifier.inspect.load_weights(weights)
    return Run(config, resources, classifier)


MEAN = "mean"


def write_results(path: str, results: dict) -> None:
    """{split: {lang: metrics}} as metrics.json and eval_<split>.json hold it (write_json), each
    split with its row `MEAN` over the languages as well (metrics.over_languages: the printed
    mean row)."""
    written = {}
    for split, table in results.items():
        if MEAN in table:
            raise ValueError(f"a language is called {MEAN!r}, the name of the mean row of "
                             f"{os.path.basename(path)}; rename it")
        written[split] = {**table, MEAN: metrics.over_languages(table.values())}
    write_json(path, written)


def read_results(path: str) -> dict:
    """{split: {lang: metrics}} of a file write_results wrote, without the mean rows."""
    return {split: {lang: row for lang, row in table.items() if lang != MEAN}
            for split, table in read_json(path).items()}


def write_json(path: str, value) -> None:
    """`value` as indented JSON (metrics.json, eval_<split>.json, best.json), written to a
    temporary file renamed into place: the file is whole whenever it exists."""
    partial = f"{path}.partial"
    with open(partial, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
    os.replace(partial, path)


def read_json(path: str):
    with open(path, encoding="utf-8") as f:
        return json.load(f)
