"""absl flags from `task.ExperimentConfig`: one name and one meaning per flag, in every command.

Every config field is a train.py flag, with the help its field carries, so a new field is a new
flag with no second list to keep in sync. The corpus flags (`CORPUS_FLAGS`) are the same fields
in every command that reads a corpus (train.py, evaluate.py, `python -m mlclf.prepare`,
`python -m mlclf.align`); a command may give one another default, never another meaning.
"""
from __future__ import annotations

import dataclasses
import os

from absl import flags

from mlclf import corpora, models, task

CORPUS_FLAGS = ("dataset", "langs", "manual_dir", "data_dir") + task.CORPUS_OPTIONS
_FIELDS = {field.name: field for field in dataclasses.fields(task.ExperimentConfig)}


def _help(field) -> str:
    """The field's help, the values it allows, and which models alone read it (their registry
    `config_fields`), or which corpora (their builder's OPTIONS)."""
    readers = [name for name in models.names() if field.name in models.get(name).config_fields]
    readers += [f"--dataset={name}" for name in corpora.DATASETS
                if field.name in corpora.builder_class(name).OPTIONS]
    allowed = field.metadata.get("values")
    return (field.metadata["help"] + (f" Allowed: {allowed}." if allowed else "")
            + (f" ({', '.join(readers)} only)" if readers else ""))


def _define(field, default, help_text: str) -> None:
    if "choices" in field.metadata:
        flags.DEFINE_enum(field.name, default, field.metadata["choices"], help_text)
    elif field.type in ("tuple", tuple):
        flags.DEFINE_list(field.name, None if default is None else list(default), help_text)
    elif field.type in ("bool", bool):
        flags.DEFINE_bool(field.name, default, help_text)
    elif field.type in ("int", int):
        flags.DEFINE_integer(field.name, default, help_text)
    elif field.type in ("float", float):
        flags.DEFINE_float(field.name, default, help_text)
    else:
        flags.DEFINE_string(field.name, default, help_text)


def define_experiment_flags() -> None:
    """A flag per ExperimentConfig field (train.py)."""
    for field in _FIELDS.values():
        _define(field, field.default, _help(field))


def define_corpus_flags(names=CORPUS_FLAGS, defaults=None, notes=None) -> None:
    """The corpus flags of a command that does not train (prepare, align, evaluate): the
    ExperimentConfig fields of `names`, with the command's own `defaults` ({name: value}) and
    `notes` ({name: text added to the help}, e.g. what such a default means there)."""
    defaults, notes = defaults or {}, notes or {}
    for name in names:
        field = _FIELDS[name]
        _define(field, defaults.get(name, field.default),
                " ".join(part for part in (_help(field), notes.get(name)) if part))


def manual_dir(flag_value, dataset: str):
    """--manual_dir as given, else $MLCLF_MANUAL_DIR/<dataset> when that is set, else None (the
    builders download)."""
    if not flag_value and os.environ.get("MLCLF_MANUAL_DIR"):
        return os.path.join(os.environ["MLCLF_MANUAL_DIR"], dataset)
    return flag_value


def corpus_options(dataset: str) -> dict:
    """The corpus options of the command's flags, for `dataset` (task.corpus_options)."""
    return task.corpus_options(dataset, {name: flags.FLAGS[name].value
                                         for name in task.CORPUS_OPTIONS})


def config_from_flags() -> task.ExperimentConfig:
    values = {name: flags.FLAGS[name].value for name in _FIELDS}
    values["manual_dir"] = manual_dir(values["manual_dir"], values["dataset"])
    config = task.ExperimentConfig(**values)
    config.langs = tuple(task.resolve_languages(config, config.langs))
    return config
