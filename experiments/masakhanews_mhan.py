"""MasakhaNEWS: monolingual HAN per language vs MHAN trained on all visible languages at once.

    python experiments/masakhanews_mhan.py --manual_dir=../shared/data/masakhanews \
        --out=benchmarks/results/masakhanews_mhan.md [--embeddings=DIR_OF_ALIGNED_VEC]

For each --train_fractions value, trains `han` on each language alone and `mhan_att` and
`mhan_both` on all languages together (the quick CPU preset's sizes, --epochs epochs), each with
--seeds seeds, and writes a markdown table of test micro-F1 per language (mean ± standard
deviation over seeds), the languages where a multilingual model beats `han` at the same
fraction, the validation means (on which settings are chosen) and training docs/s, with the
exact settings. `--label_space=shared` gives every model one output per label name (the
papers' setting is a head per language). All runs happen in this one process (train.py's own
code path, `training.train`).
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
flags.DEFINE_integer("seeds", 1, "Seeds per setting (0, 1, ...).")
flags.DEFINE_enum("label_space", "per_language", ["per_language", "shared"],
                  "One head per language (the papers') or one output per label name.")
FLAGS = flags.FLAGS

# flags/quick_cpu.cfg sizes, with the papers' heads (sigmoid, no wide branch).
SETTINGS = dict(dataset="masakhanews", encoder="dense", hidden=50, embed_dim=40,
                max_sentences=15, max_words=20, batch_size=64, learning_rate=0.002,
                min_count=2, max_vocab=50_000, output="sigmoid", wide="false")


def _run(model, langs, fraction, seed, name):
    config = task.ExperimentConfig(model=model, langs=tuple(langs), manual_dir=FLAGS.manual_dir,
                                   data_dir=FLAGS.data_dir, epochs=FLAGS.epochs,
                                   steps_per_epoch=FLAGS.steps_per_language * len(langs),
                                   train_fraction=fraction, embeddings=FLAGS.embeddings,
                                   seed=seed, label_space=FLAGS.label_space, **SETTINGS)
    run_dir = os.path.join(FLAGS.runs, FLAGS.label_space, f"{name}-seed{seed}")
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
                                  **SETTINGS)
    langs = task.resolve_languages(probe, ["all"])
    # tag -> {"test"/"validation": {lang: [micro-F1 per seed]}}; tag -> docs/s
    rows, speeds = {}, {}
    for fraction in map(float, FLAGS.train_fractions):
        for model in FLAGS.models:
            tag = f"{model}@{fraction:g}"
            rows[tag] = {split: {lang: [] for lang in langs} for split in ("test", "validation")}
            rates = []
            for seed in range(FLAGS.seeds):
                if not models.get(model).multilingual:  # one run per language
                    runs = [(_run(model, [lang], fraction, seed, f"{model}-{lang}-{fraction:g}"),
                             [lang]) for lang in langs]
                else:
                    runs = [(_run(model, langs, fraction, seed, f"{model}-all-{fraction:g}"),
                             langs)]
                for (results, rate), run_langs in runs:
                    for split in rows[tag]:
                        for lang in run_langs:
                            rows[tag][split][lang].append(results[split][lang]["micro_f1"])
                    rates.append(rate)
            rates = [r for r in rates if r]
            speeds[tag] = float(np.mean(rates)) if rates else None
            print(tag, json.dumps(rows[tag]["test"]), flush=True)
            _write_table(langs, rows, speeds)  # after every setting: partial tables survive


def _cell(values):
    return f"{100 * np.mean(values):.1f}" + (f" ± {100 * np.std(values):.1f}"
                                             if len(values) > 1 else "")


def _write_table(langs, rows, speeds):
    tags = list(rows)
    test = {tag: rows[tag]["test"] for tag in tags}
    lines = [f"# MasakhaNEWS test micro-F1: HAN alone vs MHAN on all {len(langs)} visible languages",
             "", f"Embeddings: {FLAGS.embeddings}. Settings (flags/quick_cpu.cfg sizes): "
             + ", ".join(f"{k}={v}" for k, v in SETTINGS.items())
             + f", label_space={FLAGS.label_space}, epochs={FLAGS.epochs}, "
             f"steps per epoch = {FLAGS.steps_per_language} x number of languages, "
             f"seeds 0-{FLAGS.seeds - 1} (a cell: mean ± standard deviation over seeds).",
             "Languages with only `train_fewshot50.tsv` (amh, eng, fra, hau, swa) train on 50 "
             "documents per label.", "",
             "| lang | " + " | ".join(tags) + " |", "|---" * (len(tags) + 1) + "|"]
    for lang in langs:
        lines.append(f"| {lang} | " + " | ".join(_cell(test[t][lang]) for t in tags) + " |")

    def mean_over_langs(per_lang):  # per seed, then over seeds
        return list(np.mean([per_lang[lang] for lang in langs], axis=0))

    lines.append("| **mean** | " + " | ".join(f"**{_cell(mean_over_langs(test[t]))}**"
                                              for t in tags) + " |")
    wins = []
    for tag in tags:
        han = "han@" + tag.split("@")[1]
        wins.append("" if tag.startswith("han@") or han not in test else
                    f"{sum(np.mean(test[tag][lang]) > np.mean(test[han][lang]) for lang in langs)}"
                    f"/{len(langs)}")
    lines.append("| languages above han (same fraction) | " + " | ".join(wins) + " |")
    lines.append("| validation mean | " + " | ".join(
        _cell(mean_over_langs(rows[t]["validation"])) for t in tags) + " |")
    lines.append("| train docs/s | " + " | ".join(
        f"{speeds[t]:.0f}" if speeds[t] else "-" for t in tags) + " |")
    lines += ["", "docs/s = training documents per wall-clock second of `training.train`, "
              "including per-epoch validation (2-core CPU, shared with other jobs).", "",
              "Regenerate: `python experiments/masakhanews_mhan.py "
              f"--manual_dir=../shared/data/masakhanews --embeddings={FLAGS.embeddings} "
              f"--epochs={FLAGS.epochs} --steps_per_language={FLAGS.steps_per_language} "
              f"--train_fractions={','.join(FLAGS.train_fractions)} --models={','.join(FLAGS.models)} "
              f"--seeds={FLAGS.seeds} --label_space={FLAGS.label_space}`"]
    os.makedirs(os.path.dirname(FLAGS.out) or ".", exist_ok=True)
    with open(FLAGS.out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    app.run(main)
