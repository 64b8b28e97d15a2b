"""absl flags shared by train.py and evaluate.py: one name and one meaning per flag.

Experiment flags are generated from `task.ExperimentConfig`, so a new config field is a new flag
with no second list to keep in sync.
"""
from __future__ import annotations

import dataclasses
import os

from absl import flags

from mlclf import task

HELP = {
    "model": "nn | hnn | han (monolingual), mhan_enc | mhan_att | mhan_both, or cnn.",
    "dataset": "TFDS builder: masakhanews | brighter | sib200 | dw | jsonl.",
    "langs": "Training languages, comma-separated: ISO 639-1/-3 or corpus codes, or 'all'.",
    "manual_dir": "Local copy of the corpus (offline builds); default: $MLCLF_MANUAL_DIR/<dataset> "
                  "if set, else download from upstream.",
    "data_dir": "Where TFDS keeps prepared datasets.",
    "encoder": "Word and sentence encoders: dense | gru | bigru.",
    "hidden": "Encoder size (per direction for bigru).",
    "embed_dim": "Word embedding size (must match --embeddings files when given).",
    "embeddings": "'learned', a .vec/.txt/.pkl.gz file of (aligned) vectors, LANG:FILE,..., or "
                  "a directory of <code>.vec files (python -m mlclf.align).",
    "freeze_embeddings": "Keep loaded embeddings fixed.",
    "vocab": "shared: one vocabulary for all languages; per_language: one per language.",
    "min_count": "Drop training words seen fewer times.",
    "max_vocab": "Keep at most this many words (most frequent first).",
    "subword_buckets": "Hashed character n-gram buckets (fastText style); 0 disables.",
    "label_space": "per_language: disjoint label sets (the paper); shared: same name, same output.",
    "max_sentences": "Sentences kept per document (hierarchical models).",
    "max_words": "Words per sentence (hierarchical) or per document (cnn).",
    "batch_size": "Global batch size; split evenly across languages.",
    "epochs": "Training epochs.",
    "steps_per_epoch": "Steps per epoch; 0 = one pass over the training documents.",
    "learning_rate": "Adam learning rate.",
    "threshold": "Decision threshold on sigmoid scores.",
    "at_least_one": "Give each document at least its best label: true | false | auto (true "
                    "when every training document has a label, i.e. single-label corpora).",
    "train_fraction": "Seeded fraction of each language's training split (low-resource runs).",
    "seed": "Random seed: same seed, same run on CPU.",
    "num_filters": "CNN filters per convolution.",
    "dropout": "CNN dropout before the output layer.",
    "max_norm": "CNN max-norm of each output weight vector.",
    "loss": "CNN loss: nce | sigmoid.",
    "num_sampled": "NCE negative samples per batch.",
    "num_true": "NCE true labels per document (a document's labels repeated to this count).",
}


def define_experiment_flags() -> None:
    for field in dataclasses.fields(task.ExperimentConfig):
        default = field.default
        help_text = HELP[field.name]
        if field.name == "langs":
            flags.DEFINE_list(field.name, ["en", "ar"], help_text)
        elif field.type in ("bool", bool):
            flags.DEFINE_bool(field.name, default, help_text)
        elif field.type in ("int", int):
            flags.DEFINE_integer(field.name, default, help_text)
        elif field.type in ("float", float):
            flags.DEFINE_float(field.name, default, help_text)
        else:
            flags.DEFINE_string(field.name, default, help_text)


def config_from_flags() -> task.ExperimentConfig:
    values = {field.name: flags.FLAGS[field.name].value
              for field in dataclasses.fields(task.ExperimentConfig)}
    if not values["manual_dir"] and os.environ.get("MLCLF_MANUAL_DIR"):
        values["manual_dir"] = os.path.join(os.environ["MLCLF_MANUAL_DIR"], values["dataset"])
    config = task.ExperimentConfig(**values)
    config.langs = tuple(task.resolve_languages(config, config.langs))
    return config


def flagfile_text(config: task.ExperimentConfig, run_dir: str) -> str:
    """An absl flagfile that reproduces the run: python train.py --flagfile=RUN/flags.cfg."""
    lines = ["# Reproduces this run: python train.py --flagfile=" + os.path.join(run_dir, "flags.cfg")]
    for name, value in dataclasses.asdict(config).items():
        if value is None:
            continue
        if isinstance(value, (tuple, list)):
            value = ",".join(value)
        lines.append(f"--{name}={value}")
    lines.append(f"--run_dir={run_dir}")
    return "\n".join(lines) + "\n"
