"""mlclf evaluate: score a trained run on a split, per language.

    mlclf evaluate --run_dir=RUN --split=test [--langs=L1,L2]
                   [--threshold=T | --tune_threshold | --top_k=K]
                   [--source=L] [--predictions=FILE] [--report=DIR [--report_max_docs=N]]

Prints a per-language table and writes RUN/eval_<split>.json ({split: {lang: metrics}}); the
evaluation itself, thresholds included, is `evaluation.evaluate_split`. `python evaluate.py` is
the same command.
"""
import dataclasses
import json
import os
import sys

from absl import app, flags

from mlclf import cli, evaluation, languages, report, rundir

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("run_dir", None, "Run directory written by mlclf train.", required=True)
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


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    try:
        run = rundir.load(FLAGS.run_dir)
        config = dataclasses.replace(run.config, data_dir=FLAGS.data_dir or run.config.data_dir,
                                     manual_dir=FLAGS.manual_dir or run.config.manual_dir)
        resources = run.resources
        source = languages.resolve(FLAGS.source, resources.languages) if FLAGS.source else None
        evaluated = evaluation.evaluate_split(
            config, resources, run.models.inspect, FLAGS.split,
            langs=evaluation.languages_to_evaluate(config, resources, FLAGS.langs),
            threshold=FLAGS.threshold, tune_threshold=FLAGS.tune_threshold, top_k=FLAGS.top_k,
            source=source, batch_size=FLAGS.batch_size,
            with_extras=bool(FLAGS.predictions or FLAGS.report))
    except (ValueError, FileNotFoundError) as error:
        sys.exit(f"mlclf evaluate: error: {error}")
    table = evaluated.annotated_table()
    print(evaluation.format_table(table, unseen=evaluated.unseen))
    out_path = os.path.join(FLAGS.run_dir, rundir.evaluation_file(FLAGS.split))
    rundir.write_results(out_path, {FLAGS.split: table})
    print(f"wrote {out_path}")
    if not (FLAGS.predictions or FLAGS.report):
        return
    records = evaluated.document_records(resources.label_space, config, resources.at_least_one)
    if FLAGS.predictions:
        with open(FLAGS.predictions, "w", encoding="utf-8") as handle:
            for lang_records in records.values():
                for record in lang_records:
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        print(f"wrote {FLAGS.predictions}")
    if FLAGS.report:
        run_name = os.path.basename(os.path.normpath(FLAGS.run_dir))
        info = {"run": FLAGS.run_dir, "model": config.model, "dataset": config.dataset,
                "split": FLAGS.split, "head": source or "each language's own"}
        path = report.write_report(FLAGS.report, table, evaluated.scored, records,
                                   resources.label_space, title=f"mlclf report: {run_name}",
                                   info=info, max_docs=FLAGS.report_max_docs)
        print(f"wrote {path}")

