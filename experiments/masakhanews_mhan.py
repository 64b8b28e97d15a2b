"""MasakhaNEWS: monolingual HAN per language vs MHAN trained on all visible languages at once.

    python experiments/masakhanews_mhan.py --manual_dir=../shared/data/masakhanews \
        --out=benchmarks/results/masakhanews_mhan.md [--embeddings=DIR_OF_ALIGNED_VEC]

For each --train_fractions value, trains `han` on each language alone and `mhan_att` and
`mhan_both` on all languages together (the quick CPU preset's sizes, --epochs epochs), and writes
a markdown table of test micro-F1 per language plus training docs/s, with the exact settings.
All runs happen in this one process (train.py's own code path, `training.train`).
"""
import json
import os
import time

import numpy as np
from absl import app, flags

from mlclf import models, rundir, task, training

flags.DEFINE_string("manual_dir", "../shared/data/masakhanews", "Local MasakhaNEWS copy.")
flags.DEFINE_string("data_dir", "/tmp/mlclf_experiments_tfds", "TFDS data dir.")
flags.DEFINE_string("runs", "/tmp/mlclf_experiments_runs", "Where the run directories go.")
flags.DEFINE_string("out", "benchmarks/results/masakhanews_mhan.md", "Markdown table.")
flags.DEFINE_list("train_fractions", ["1.0", "0.1"], "Training fractions.")
flags.DEFINE_list("models", ["han", "mhan_att", "mhan_both"], "Models.")
flags.DEFINE_string("embeddings", "learned", "learned, or aligned vectors (see mlclf.align).")
flags.DEFINE_integer("epochs", 6, "Epochs per run.")
flags.DEFINE_integer("steps_per_language", 25, "Steps per epoch per language: a monolingual "
                     "run takes this many, a run on M languages M times as many, so that every "
                     "setting spends the same compute and each language the same batch share.")
FLAGS = flags.FLAGS

# flags/quick_cpu.cfg sizes, with the papers' heads (sigmoid, no wide branch).
SETTINGS = dict(dataset="masakhanews", encoder="dense", hidden=50, embed_dim=40,
                max_sentences=15, max_words=20, batch_size=64, learning_rate=0.002,
                min_count=2, max_vocab=50_000, seed=0, output="sigmoid", wide="false")


def _run(model, langs, fraction, name):
    config = task.ExperimentConfig(model=model, langs=tuple(langs), manual_dir=FLAGS.manual_dir,
                                   data_dir=FLAGS.data_dir, epochs=FLAGS.epochs,
                                   steps_per_epoch=FLAGS.steps_per_language * len(langs),
                                   train_fraction=fraction, embeddings=FLAGS.embeddings,
                                   **SETTINGS)
    run_dir = os.path.join(FLAGS.runs, name)
    metrics_path = os.path.join(run_dir, rundir.METRICS_FILE)
    if os.path.exists(metrics_path):  # rerunning the script reuses finished runs
        with open(metrics_path, encoding="utf-8") as f:
            return json.load(f), None
    start = time.perf_counter()
    results = training.train(config, run_dir, overwrite=True, verbose=2)
    seconds = time.perf_counter() - start
    return results, config.steps_per_epoch * FLAGS.epochs * config.batch_size / seconds


def main(argv):
    del argv
    probe = task.ExperimentConfig(model="mhan_att", langs=("x",), manual_dir=FLAGS.manual_dir,
                                  **{k: v for k, v in SETTINGS.items() if k != "seed"})
    langs = task.resolve_languages(probe, ["all"])
    rows, speeds = {}, {}
    for fraction in map(float, FLAGS.train_fractions):
        for model in FLAGS.models:
            tag = f"{model}@{fraction:g}"
            if not models.get(model).multilingual:  # one run per language
                rows[tag], rates = {}, []
                for lang in langs:
                    results, rate = _run(model, [lang], fraction, f"{model}-{lang}-{fraction:g}")
                    rows[tag][lang] = results["test"][lang]["micro_f1"]
                    rates.append(rate)
                rates = [r for r in rates if r]
                speeds[tag] = float(np.mean(rates)) if rates else None
            else:
                results, rate = _run(model, langs, fraction, f"{model}-all-{fraction:g}")
                rows[tag] = {lang: results["test"][lang]["micro_f1"] for lang in langs}
                speeds[tag] = rate
            print(tag, json.dumps(rows[tag]), flush=True)
            _write_table(langs, rows, speeds)  # after every setting: partial tables survive


def _write_table(langs, rows, speeds):
    tags = list(rows)
    lines = [f"# MasakhaNEWS test micro-F1: HAN alone vs MHAN on all {len(langs)} visible languages",
             "", f"Embeddings: {FLAGS.embeddings}. Settings (flags/quick_cpu.cfg sizes): "
             + ", ".join(f"{k}={v}" for k, v in SETTINGS.items()) + f", epochs={FLAGS.epochs}, "
             f"steps per epoch = {FLAGS.steps_per_language} x number of languages.",
             "Languages with only `train_fewshot50.tsv` (amh, eng, fra, hau, swa) train on 50 "
             "documents per label.", "",
             "| lang | " + " | ".join(tags) + " |", "|---" * (len(tags) + 1) + "|"]
    for lang in langs:
        lines.append(f"| {lang} | " + " | ".join(f"{100 * rows[t][lang]:.1f}" for t in tags) + " |")
    lines.append("| **mean** | " + " | ".join(
        f"**{100 * np.mean(list(rows[t].values())):.1f}**" for t in tags) + " |")
    lines.append("| train docs/s | " + " | ".join(
        f"{speeds[t]:.0f}" if speeds[t] else "-" for t in tags) + " |")
    lines += ["", "docs/s = training documents per wall-clock second of `training.train`, "
              "including per-epoch validation (2-core CPU, shared with other jobs).", "",
              "Regenerate: `python experiments/masakhanews_mhan.py "
              f"--manual_dir=../shared/data/masakhanews --embeddings={FLAGS.embeddings} "
              f"--epochs={FLAGS.epochs} --steps_per_language={FLAGS.steps_per_language} "
              f"--train_fractions={','.join(FLAGS.train_fractions)} --models={','.join(FLAGS.models)}`"]
    os.makedirs(os.path.dirname(FLAGS.out) or ".", exist_ok=True)
    with open(FLAGS.out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    app.run(main)
