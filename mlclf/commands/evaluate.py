"""mlclf evaluate: score a trained run on a split, per language.

    mlclf evaluate --run_dir=RUN --split=test [--langs=L1,L2]
                   [--threshold=T | --tune_threshold | --top_k=K]
                   [--source=L] [--predictions=FILE] [--report=DIR [--report_max_docs=N]]
                   [--per_label]

Prints a per-language table (--per_label: and per label) and writes RUN/eval_<split>.json
({split: {lang: metrics with per_label and confusion_matrix, "mean": the mean row}}); the
evaluation itself, thresholds included, is `evaluation.evaluate_split`. `python evaluate.py` is
the same command.
"""
import dataclasses
import json
import os
import sys

from absl import app, flags

from mlclf import cli, evaluation, languages, report, rundir, task

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("run_dir", None, "Run directory written by mlclf train.", required=True)
    flags.DEFINE_enum("split", "test", ["train", "validation", "test"], "Split to evaluate.")
    cli.define_corpus_flags(
        defaults={name: None for name in cli.CORPUS_FLAGS} | {"langs": []},
        notes={"langs": "Default: the run's training languages (in another corpus, the codes "
                        "they resolve to there). Others are marked unseen, and allowed for "
                        "language-agnostic models with shared labels and vocabulary.",
               "dataset": "Here, unset: the run's. Another corpus is read with the run's label "
                          "names; labels it does not know are reported.",
               "manual_dir": "Here, unset: the run's (for its own corpus), else "
                             "$MLCLF_MANUAL_DIR/<dataset> if set.",
               "data_dir": "Here, unset: the run's.",
               **{name: "Here, unset: the run's (for its own corpus)."
                  for name in task.CORPUS_OPTIONS}})
    flags.DEFINE_float("threshold", None, "Decision threshold (default: the run's --threshold). "
                       "Sigmoid runs only: a softmax run decides by its best label.")
    flags.DEFINE_bool("tune_threshold", False, "Tune each language's threshold on its validation "
                      "split; a language unseen in training gets the threshold tuned on the "
                      "training languages' validation documents pooled. Sigmoid runs only: a "
                      "softmax run decides by its best label.")
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
    flags.DEFINE_bool("per_label", False, "Also print each label's precision, recall, F1 and "
                      "support, and the confusion matrix of single-label languages (both are in "
                      "eval_<split>.json either way).")


def corpus_config(run_config):
    """The run's config reading the corpus the flags name: the run's own unless --dataset,
    --manual_dir, --data_dir or a column flag says otherwise."""
    dataset = FLAGS.dataset or run_config.dataset
    own = dataset == run_config.dataset
    defaults = {field.name: field.default for field in dataclasses.fields(run_config)}
    options = {name: FLAGS[name].value if FLAGS[name].value is not None
               else getattr(run_config, name) if own else defaults[name]
               for name in task.CORPUS_OPTIONS}
    manual_dir = FLAGS.manual_dir or (run_config.manual_dir if own else None)
    return dataclasses.replace(run_config, dataset=dataset,
                               manual_dir=cli.manual_dir(manual_dir, dataset),
                               data_dir=FLAGS.data_dir or run_config.data_dir, **options)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    try:
        run = rundir.load(FLAGS.run_dir)
        config = corpus_config(run.config)
        resources = run.resources
        source = languages.resolve(FLAGS.source, resources.languages) if FLAGS.source else None
        evaluated = evaluation.evaluate_split(
            config, resources, run.models.inspect, FLAGS.split,
            langs=evaluation.languages_to_evaluate(config, resources, FLAGS.langs),
            threshold=FLAGS.threshold, tune_threshold=FLAGS.tune_threshold, top_k=FLAGS.top_k,
            source=source, batch_size=FLAGS.batch_size,
            with_extras=bool(FLAGS.predictions or FLAGS.report))
    except (ValueError, OSError) as error:  # CorpusError is a ValueError
        sys.exit(f"mlclf evaluate: error: {error}")
    table = evaluated.annotated_table()
    print(evaluation.format_table(table, unseen=evaluated.unseen))
    for lang, row in table.items():
        if row.get("unknown_labels"):
            unknown = ", ".join(f"{label} ({count})" for label, count in
                                row["unknown_labels"].items())
            print(f"{lang}: labels the run does not know, left out of the gold labels "
                  f"(documents): {unknown}")
    if FLAGS.per_label:
        print("\n" + evaluation.format_label_table(table))
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

