"""Accuracy judge: mlclf's settings against a linear n-gram peer, on the same splits, in one run.

    pip install -e ".[bench]"
    python benchmarks/quality.py --corpus=sib200 --langs=eng_Latn,arb_Arab
    python benchmarks/quality.py --corpus=masakhanews --rows=peer,recommended --seeds=3

For each corpus (--corpus, each with its own manual dir under --data_root) and its languages
(--langs, default: every language with a train split), trains and tests:
  peer         scikit-learn TF-IDF character 2-5-gram logistic regression, one per language
               (one-vs-rest, class-balanced, for multi-label corpora), trained on train only
  recommended  flags/recommended.cfg, all languages in one model, --seeds seeds
  paper rows   `han` per language, `mhan_att`, `mhan_both` (the papers' settings: per-language
               sigmoid heads, no wide branch) and flags/cnn_cpu.cfg, one seed
  variants     the recommended setting with one lever changed (VARIANTS below), one seed
A row stored over several seeds ("name (seed k)") is shown as mean ± standard deviation.
Every mlclf row goes through `training.train` (train.py's code): the epoch is chosen on the
validation split and the test split is read once, for the epoch kept. Each row's per-language
test metric (micro-F1, which is accuracy on single-label corpora; macro-F1 over labels for
BRIGHTER) and wall time are stored in --results/<corpus>.json, so a corpus (or a row) can be
rerun alone; benchmarks/results/quality.md is then rewritten from every stored corpus.
"""
import dataclasses
import json
import os
import sys
import tempfile
import time

import numpy as np
from absl import app, flags

from mlclf import corpora, task, training

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

flags.DEFINE_list("corpus", ["masakhanews", "sib200", "brighter"], "Corpora to run.")
flags.DEFINE_list("langs", [], "Languages (default: every language with a train split).")
flags.DEFINE_list("rows", ["peer", "recommended", "han", "mhan_att", "mhan_both", "cnn",
                           "mhan_att_wide", "no_wide", "sigmoid", "per_language_labels",
                           "no_language_copies", "no_log_count_ratio", "no_label_weights"],
                  "Rows to (re)run.")
flags.DEFINE_integer("seeds", 3, "Seeds of the recommended setting.")
flags.DEFINE_integer("epochs", 0, "Epochs of every mlclf row (0: each setting's own).")
flags.DEFINE_string("data_root", os.path.join(ROOT, "..", "shared", "data"),
                    "Where the corpora are: <data_root>/<corpus>.")
flags.DEFINE_string("data_dir", os.path.join("~", "tensorflow_datasets"), "TFDS data dir.")
flags.DEFINE_string("runs", os.path.join(tempfile.gettempdir(), "mlclf_quality"),
                    "Where the run directories go.")
flags.DEFINE_string("results", os.path.join(HERE, "results", "quality"),
                    "Where each corpus' measurements are stored (JSON).")
flags.DEFINE_string("out", os.path.join(HERE, "results", "quality.md"), "The summary.")
FLAGS = flags.FLAGS

METRIC = {"brighter": "macro_f1"}                 # else micro_f1
PAPER = dict(wide="false", output="sigmoid", label_space="per_language")
# The recommended setting with one lever changed: the attention model added to its n-grams, or
# alone, or a lever turned off.
VARIANTS = {"mhan_att_wide": dict(model="mhan_att"),
            "no_wide": dict(model="mhan_att", wide="false"),
            "sigmoid": dict(output="sigmoid"),
            "per_language_labels": dict(label_space="per_language"),
            "no_language_copies": dict(wide_language_copies="false"),
            "no_log_count_ratio": dict(wide_log_count_ratio="false"),
            "no_label_weights": dict(label_weights="none")}


def read_setting(text: str, where: str) -> tuple:
    """`--name=value` -> (name, value typed as the ExperimentConfig field); `where` names the
    file and line, or the flag, in the error for an unknown setting."""
    types = {field.name: type(field.default) for field in dataclasses.fields(task.ExperimentConfig)}
    name, _, value = text.strip().removeprefix("--").partition("=")
    if name not in types:
        raise SystemExit(f"{where}: unknown setting --{name}")
    kind = types[name]
    return name, (value.lower() in ("true", "1") if kind is bool
                  else tuple(value.split(",")) if kind is tuple
                  else kind(value) if kind in (int, float) else value)


def read_flagfile(path: str) -> dict:
    """`--name=value` lines -> ExperimentConfig keyword arguments, typed as its fields."""
    values = {}
    with open(path, encoding="utf-8") as f:
        for line_number, line in enumerate(f, 1):
            line = line.strip()
            if line and not line.startswith("#"):
                name, value = read_setting(line, f"{path}:{line_number}")
                values[name] = value
    return values


def peer_scores(corpus, train_langs, test_langs, config, split="test") -> dict:
    """{lang: metric} of the scikit-learn peer trained on the train splits of `train_langs`
    pooled (one language: the per-language peer) and scored on each of `test_langs`' `split`
    (validation: a lever's reference); nothing but that split is read of the languages
    scored."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer

    def documents(langs, split):
        texts, labels = [], []
        for lang in langs:
            prepared = corpora.prepared_language(corpus, lang, data_dir=config.data_dir,
                                                 manual_dir=config.manual_dir)
            for example in corpora.read_split(prepared, split).as_numpy_iterator():
                texts.append(example["text"].decode("utf-8"))
                labels.append([label.decode("utf-8") for label in example["labels"]])
        return texts, labels

    train_texts, train_labels = documents(train_langs, "train")
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                 min_df=2, max_features=300_000)
    features = vectorizer.fit_transform(train_texts)
    scores = {}
    if METRIC.get(corpus) == "macro_f1":
        binarizer = MultiLabelBinarizer().fit(train_labels)
        classifier = OneVsRestClassifier(LogisticRegression(C=10, max_iter=2000,
                                                            class_weight="balanced"))
        classifier.fit(features, binarizer.transform(train_labels))
        for lang in test_langs:
            test_texts, test_labels = documents([lang], split)
            predicted = classifier.predict(vectorizer.transform(test_texts))
            gold = binarizer.transform([[label for label in labels
                                         if label in binarizer.classes_]
                                        for labels in test_labels])
            scores[lang] = float(f1_score(gold, predicted, average="macro", zero_division=0))
        return scores
    classifier = LogisticRegression(C=10, max_iter=2000).fit(
        features, [labels[0] for labels in train_labels])
    for lang in test_langs:
        test_texts, test_labels = documents([lang], split)
        predicted = classifier.predict(vectorizer.transform(test_texts))
        scores[lang] = float(np.mean([p in gold for p, gold in zip(predicted, test_labels)]))
    return scores


def load_average() -> list:
    """The 1-, 5- and 15-minute load averages, stored beside a row's time."""
    return [round(value, 2) for value in os.getloadavg()]


def run_dir(corpus, name) -> str:
    """Where the row `name` of `corpus` trains (--runs/<corpus>/<name>)."""
    return os.path.join(FLAGS.runs, corpus, name)


def train_row(corpus, name, langs, settings):
    """Test metric per language of one mlclf run (in `run_dir(corpus, name)`), and its wall
    time."""
    config = task.ExperimentConfig(**settings, langs=tuple(langs))
    start = time.time()
    results = training.train(config, run_dir(corpus, name), overwrite=True, verbose=2)
    metric = METRIC.get(corpus, "micro_f1")
    return {lang: row[metric] for lang, row in results["test"].items()}, time.time() - start


def run_corpus(corpus, stored):
    base = dict(dataset=corpus, manual_dir=os.path.join(FLAGS.data_root, corpus),
                data_dir=os.path.expanduser(FLAGS.data_dir))
    probe = task.ExperimentConfig(**base, langs=("en",) if corpus != "brighter" else ("eng",))
    langs = list(FLAGS.langs) or [
        lang for lang in corpora.available_languages(corpus, probe.manual_dir)
        if corpora.split_sizes(corpus, lang, data_dir=probe.data_dir,
                               manual_dir=probe.manual_dir).get("train")]
    epochs = dict(epochs=FLAGS.epochs) if FLAGS.epochs else {}
    recommended = {**base, **read_flagfile(os.path.join(ROOT, "flags", "recommended.cfg")),
                   **epochs}
    rows = stored.setdefault("rows", {})
    stored["langs"] = langs

    def record(name, scores, seconds, settings):
        load = load_average()
        rows[name] = {"scores": scores, "seconds": seconds, "settings": settings,
                      "load_average": load}
        print(f"{corpus} {name}: mean {100 * np.mean(list(scores.values())):.2f} "
              f"({seconds:.0f} s, load {load[0]})", flush=True)

    for name in FLAGS.rows:
        for stale in by_row(rows).get(name, []):  # a rerun replaces every seed of the row
            del rows[stale]
        if name == "peer":
            start = time.time()
            record(name, {lang: peer_scores(corpus, [lang], [lang], probe)[lang]
                          for lang in langs},
                   time.time() - start, "TF-IDF char_wb 2-5, LogisticRegression(C=10)")
        elif name == "recommended":
            for seed in range(FLAGS.seeds):
                scores, seconds = train_row(corpus, f"recommended-{seed}", langs,
                                         {**recommended, "seed": seed})
                record(f"recommended (seed {seed})", scores, seconds,
                       "flags/recommended.cfg" + (f" --epochs={FLAGS.epochs}" if epochs else ""))
        elif name == "han":  # the monolingual model: one run per language
            scores, seconds = {}, 0.0
            for lang in langs:
                one, took = train_row(corpus, f"han-{lang}", [lang],
                                   {**base, **PAPER, **epochs, "model": "han"})
                scores.update(one)
                seconds += took
            record(name, scores, seconds, "--model=han per language, paper settings")
        elif name in ("mhan_att", "mhan_both"):
            scores, seconds = train_row(corpus, name, langs, {**base, **PAPER, **epochs,
                                                           "model": name})
            record(name, scores, seconds, f"--model={name}, paper settings")
        elif name == "cnn":
            settings = {**base, **read_flagfile(os.path.join(ROOT, "flags", "cnn_cpu.cfg")),
                        **epochs}
            scores, seconds = train_row(corpus, name, langs, settings)
            record(name, scores, seconds, "flags/cnn_cpu.cfg")
        elif name in VARIANTS:
            scores, seconds = train_row(corpus, name, langs, {**recommended, **VARIANTS[name]})
            record(name, scores, seconds, "recommended with " + " ".join(
                f"--{key}={value}" for key, value in VARIANTS[name].items()))
        else:
            raise SystemExit(f"--rows: unknown row {name!r}")


def load_note(rows, names) -> str:
    """' (load L)', or ' (load L1-L2)' over several rows: the 1-minute load average at their
    end; '' for rows stored before it was recorded."""
    loads = sorted(rows[name]["load_average"][0] for name in names
                   if "load_average" in rows[name])
    if not loads:
        return ""
    return f" (load {loads[0]:.1f}" + (f"-{loads[-1]:.1f}" if loads[-1] > loads[0] else "") + ")"


def by_row(rows) -> dict:
    """Row name -> the names it is stored under: "name (seed k)" for each seed, or name."""
    groups = {}
    for stored_name in rows:
        groups.setdefault(stored_name.split(" (seed ")[0], []).append(stored_name)
    return dict(sorted(groups.items(), key=lambda item: {"peer": 0, "recommended": 1}.get(
        item[0], 2)))


def summary(stored_by_corpus) -> str:
    """The markdown of every stored corpus: per language the metric of each row and its
    difference to the peer; a row run over several seeds as mean ± standard deviation."""
    lines = ["# Accuracy against a linear n-gram peer",
             "",
             "Written by `python benchmarks/quality.py` (see its docstring); test splits, epoch "
             "chosen on validation. Metric: micro-F1 (= accuracy, single-label) for MasakhaNEWS "
             "and SIB-200, macro-F1 over labels for BRIGHTER, in %. Δ: difference to the peer "
             "on that language. Time: wall seconds of the row's training (all languages), on a shared "
             "2-core CPU, with the load average (1 minute) at the row's end; a range for a "
             "row run over several seeds.", ""]
    for corpus, stored in stored_by_corpus.items():
        rows, langs = stored["rows"], stored["langs"]
        groups = by_row(rows)
        columns = {name: {lang: [rows[member]["scores"][lang] for member in members]
                          for lang in langs if lang in rows[members[0]]["scores"]}
                   for name, members in groups.items()}
        peer = columns.get("peer", {})
        lines += [f"## {corpus} ({METRIC.get(corpus, 'micro_f1')})", "",
                  "| language | " + " | ".join(columns) + " |",
                  "|---" * (len(columns) + 1) + "|"]

        def cell(values, reference):
            text = f"{100 * np.mean(values):.1f}"
            if len(values) > 1:
                text += f" ± {100 * np.std(values):.1f}"
            if reference is not None and values is not reference:
                text += f" ({100 * (np.mean(values) - np.mean(reference)):+.1f})"
            return text

        for lang in langs:
            lines.append(f"| {lang} | " + " | ".join(
                cell(column[lang], peer.get(lang)) if lang in column else "" for column in
                columns.values()) + " |")
        means = {name: np.mean([column[lang] for lang in langs], axis=0)
                 for name, column in columns.items() if len(column) == len(langs)}
        peer_mean = list(means["peer"]) if "peer" in means else None
        lines.append("| **mean** | " + " | ".join(
            f"**{cell(list(means[name]), None if name == 'peer' else peer_mean)}**"
            if name in means else "" for name in columns) + " |")
        wins = {name: sum(np.mean(column[lang]) >= np.mean(peer[lang]) for lang in langs
                          if lang in column and lang in peer)
                for name, column in columns.items() if name != "peer" and peer}
        if wins:
            lines.append("| languages ≥ peer | " + " | ".join(
                f"{wins[name]}/{len(langs)}" if name in wins else "" for name in columns) + " |")
        lines.append("| time (s) | " + " | ".join(
            f"{np.mean([rows[m]['seconds'] for m in members]):.0f}"
            + (" per seed" if len(members) > 1 else "") + load_note(rows, members)
            for members in groups.values()) + " |")
        lines += ["", "Rows: " + "; ".join(
            f"{name}: {rows[members[0]]['settings']}" for name, members in groups.items()), ""]
    return "\n".join(lines) + "\n"


def main(argv):
    del argv
    os.makedirs(FLAGS.results, exist_ok=True)
    for corpus in FLAGS.corpus:
        path = os.path.join(FLAGS.results, f"{corpus}.json")
        stored = {}
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                stored = json.load(f)
            if FLAGS.langs and stored.get("langs") != list(FLAGS.langs):
                stored = {}                       # other languages: the rows do not compare
        run_corpus(corpus, stored)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(stored, f, indent=1)
    stored_by_corpus = {}
    for name in sorted(os.listdir(FLAGS.results)):
        if name.endswith(".json"):
            with open(os.path.join(FLAGS.results, name), encoding="utf-8") as f:
                stored_by_corpus[name[:-5]] = json.load(f)
    with open(FLAGS.out, "w", encoding="utf-8") as f:
        f.write(summary(stored_by_corpus))
    print(f"wrote {FLAGS.out}", file=sys.stderr)


if __name__ == "__main__":
    app.run(main)
