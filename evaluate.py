"""Evaluate a trained run on a split, per language.

    python evaluate.py --run_dir=RUN --split=test [--langs=L1,L2]
                       [--threshold=T | --tune_threshold | --top_k=K]
                       [--source=L] [--predictions=FILE] [--report=DIR [--report_max_docs=N]]

Prints a per-language table and writes RUN/eval_<split>.json ({split: {lang: metrics}}).
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's C++ start-up chatter out

import dataclasses
import json
import sys

import numpy as np
from absl import app, flags

from mlclf import cli, corpora, evaluation, languages, metrics, report, rundir, task

flags.DEFINE_string("run_dir", None, "Run directory written by train.py.", required=True)
flags.DEFINE_enum("split", "test", ["train", "validation", "test"], "Split to evaluate.")
cli.define_corpus_flags(
    names=("langs", "data_dir", "manual_dir"),
    defaults={"langs": [], "data_dir": None, "manual_dir": None},
    notes={"langs": "Default: the run's training languages. Others are marked unseen, and "
                    "allowed for language-agnostic models with shared labels and vocabulary.",
           "data_dir": "Here, unset: the run's.", "manual_dir": "Here, unset: the run's."})
flags.DEFINE_float("threshold", None, "Decision threshold (default: the run's --threshold).")
flags.DEFINE_bool("tune_threshold", False, "Tune each language's threshold on its validation "
                  "split; a language unseen in training gets the threshold tuned on the "
                  "training languages' validation documents pooled.")
flags.DEFINE_integer("top_k", None, "Predict each document's K best labels instead of the "
                     "labels over a threshold (then --threshold, --tune_threshold and the "
                     "run's at_least_one are unused).", lower_bound=1)
flags.DEFINE_string("source", None, "Score every document with this training language's head "
                    "(cross-lingual prediction).")
flags.DEFINE_string("predictions", None, "Write one JSON object per document to this file.")
flags.DEFINE_string("report", None, "Write a static HTML report (DIR/index.html): metrics, "
                    "documents shaded by attention, a map of document vectors.")
flags.DEFINE_integer("report_max_docs", 500, "Documents per language embedded in the report "
                     "(a sample; the page says how many were left out).", lower_bound=0)
flags.DEFINE_integer("batch_size", 64, "Evaluation batch size.")
FLAGS = flags.FLAGS


def _pooled(scored_languages, num_outputs):
    """Gold labels and scores of several languages' documents over the whole output index; a
    language's other outputs get score -inf (never decided) and gold 0."""
    gold = np.zeros((sum(len(s.gold) for s in scored_languages), num_outputs), np.int8)
    scores = np.full(gold.shape, -np.inf, np.float32)
    row = 0
    for scored in scored_languages:
        rows = slice(row, row + len(scored.gold))
        gold[rows, scored.output_indices] = scored.gold
        scores[rows, scored.output_indices] = scored.scores
        row = rows.stop
    return gold, scores


def main(argv):
    del argv
    if FLAGS.top_k and FLAGS.tune_threshold:
        sys.exit("evaluate.py: error: give --top_k or --tune_threshold, not both")
    try:
        config, resources, models = rundir.load(FLAGS.run_dir)
        config = dataclasses.replace(config, data_dir=FLAGS.data_dir or config.data_dir,
                                     manual_dir=FLAGS.manual_dir or config.manual_dir)
        available = set(resources.languages)
        try:
            available |= set(corpora.available_languages(config.dataset, config.manual_dir))
        except (ValueError, OSError):
            pass
        langs = (languages.resolve_all(FLAGS.langs, sorted(available)) if FLAGS.langs
                 else list(resources.languages))
        source = languages.resolve(FLAGS.source, resources.languages) if FLAGS.source else None
        unseen = [lang for lang in langs if lang not in resources.languages]
        for lang in unseen:
            problem = evaluation.unseen_language_problem(config, lang)
            if problem:
                raise ValueError(f"{lang} was not a training language ({', '.join(resources.languages)}): {problem}")
        examples = task.load_examples(config, langs, FLAGS.split)
        if source is None:
            task.check_labels(examples, resources.label_space, FLAGS.split, config.dataset)
        default = FLAGS.threshold if FLAGS.threshold is not None else config.threshold
        thresholds = {lang: default for lang in langs}
        if FLAGS.tune_threshold:
            scored_dev = {}

            def validation_scores(lang):
                if lang not in scored_dev:
                    dev = task.load_examples(config, [lang], "validation")[lang]
                    scored_dev[lang] = evaluation.score_language(models.inspect, dev, lang,
                                                                 resources, source=source)
                return scored_dev[lang]

            for lang in langs:
                if lang in unseen and FLAGS.split != "validation":
                    continue
                dev = validation_scores(lang)
                thresholds[lang] = metrics.tune_threshold(
                    dev.gold, dev.scores, at_least_one=resources.at_least_one)
            pending = [lang for lang in langs if lang in unseen and FLAGS.split != "validation"]
            if pending:
                # No data of its own: the threshold that is best for the training languages'
                # validation documents pooled (their micro-F1 over every language's outputs).
                gold, scores = _pooled([validation_scores(lang) for lang in resources.languages],
                                       resources.label_space.num_outputs)
                threshold = metrics.tune_threshold(gold, scores,
                                                   at_least_one=resources.at_least_one)
                thresholds.update({lang: threshold for lang in pending})
        scored = {lang: evaluation.score_language(
                      models.inspect, examples[lang], lang, resources, source=source,
                      batch_size=FLAGS.batch_size,
                      with_extras=bool(FLAGS.predictions or FLAGS.report))
                  for lang in langs}
    except (ValueError, FileNotFoundError) as error:
        sys.exit(f"evaluate.py: error: {error}")
    table = evaluation.metric_table(scored, thresholds, resources.at_least_one, FLAGS.top_k)
    for lang in langs:
        if FLAGS.top_k:
            table[lang]["top_k"] = FLAGS.top_k
        else:
            table[lang]["threshold"] = thresholds[lang]
        if lang in unseen:
            table[lang]["unseen"] = True
    print(evaluation.format_table(table, unseen=unseen))
    out_path = os.path.join(FLAGS.run_dir, rundir.evaluation_file(FLAGS.split))
    rundir.write_results(out_path, {FLAGS.split: table})
    print(f"wrote {out_path}")
    if not (FLAGS.predictions or FLAGS.report):
        return
    records = {lang: evaluation.document_records(examples[lang], scored[lang],
                                                 resources.label_space, config, thresholds[lang],
                                                 resources.at_least_one, FLAGS.top_k)
               for lang in langs}
    if FLAGS.predictions:
        with open(FLAGS.predictions, "w", encoding="utf-8") as handle:
            for lang in langs:
                for record in records[lang]:
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        print(f"wrote {FLAGS.predictions}")
    if FLAGS.report:
        run_name = os.path.basename(os.path.normpath(FLAGS.run_dir))
        info = {"run": FLAGS.run_dir, "model": config.model, "dataset": config.dataset,
                "split": FLAGS.split, "head": source or "each language's own"}
        path = report.write_report(FLAGS.report, table, scored, records, resources.label_space,
                                   title=f"mlclf report: {run_name}", info=info,
                                   max_docs=FLAGS.report_max_docs)
        print(f"wrote {path}")


if __name__ == "__main__":
    app.run(main)
