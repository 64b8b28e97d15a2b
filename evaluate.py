"""Evaluate a trained run on a split, per language.

    python evaluate.py --run_dir=RUN --split=test [--langs=L1,L2] [--threshold=T | --tune_threshold]
                       [--source=L] [--predictions=FILE]

Prints a per-language table and writes RUN/eval_<split>.json ({split: {lang: metrics}}).
"""
import json
import os
import sys

import numpy as np
from absl import app, flags

from mlclf import corpora, evaluation, languages, metrics, task, text

flags.DEFINE_string("run_dir", None, "Run directory written by train.py.", required=True)
flags.DEFINE_enum("split", "test", ["train", "validation", "test"], "Split to evaluate.")
flags.DEFINE_list("langs", [], "Languages to evaluate (default: the training languages); "
                  "languages never trained on are allowed for mhan_both/cnn with shared "
                  "labels and vocabulary, and are marked unseen.")
flags.DEFINE_float("threshold", None, "Decision threshold (default: the run's --threshold).")
flags.DEFINE_bool("tune_threshold", False, "Tune each language's threshold on its validation "
                  "split (languages without one use the run's threshold).")
flags.DEFINE_string("source", None, "Score every document with this training language's head "
                    "(cross-lingual prediction).")
flags.DEFINE_string("predictions", None, "Write one JSON object per document to this file.")
flags.DEFINE_integer("batch_size", 64, "Evaluation batch size.")
FLAGS = flags.FLAGS


def _documents(examples, hierarchical):
    """(id, gold labels, tokens) of each document, in dataset order."""
    for batch in examples.ragged_batch(256):
        tokens = text.tokenize(batch["text"], hierarchical=hierarchical).to_list()
        for doc_id, labels, words in zip(batch["id"].numpy(), batch["labels"].to_list(), tokens):
            yield doc_id.decode(), [label.decode() for label in labels], words


def _write_predictions(handle, config, resources, lang, examples, scored, threshold):
    names = [resources.label_space.output_names[i] for i in scored.output_indices]
    decided = metrics.decide(scored.scores, threshold=threshold)
    max_sentences, max_words = config.max_sentences, config.max_words
    for row, (doc_id, gold, words) in enumerate(_documents(examples, config.hierarchical)):
        record = {"id": doc_id, "lang": lang, "gold": gold,
                  "predicted": [{"label": names[j], "score": round(float(scored.scores[row, j]), 5)}
                                for j in np.argsort(-scored.scores[row]) if decided[row, j]],
                  "scores": {names[j]: round(float(scored.scores[row, j]), 5)
                             for j in range(len(names))}}
        if "word_attention" in scored.extras:
            sentences = [[w.decode() for w in sentence[:max_words]]
                         for sentence in words[:max_sentences]]
            record["sentences"] = sentences
            record["sentence_attention"] = [
                round(float(a), 5) for a in scored.extras["sentence_attention"][row][:len(sentences)]]
            record["word_attention"] = [
                [round(float(a), 5) for a in scored.extras["word_attention"][row][k][:len(s)]]
                for k, s in enumerate(sentences)]
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def main(argv):
    del argv
    try:
        config, resources, models = evaluation.load_run(FLAGS.run_dir)
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
            for lang in langs:
                if lang in unseen and FLAGS.split != "validation":
                    continue
                dev = task.load_examples(config, [lang], "validation")[lang]
                scored_dev = evaluation.score_language(models.inspect, dev, lang, resources,
                                                       source=source)
                thresholds[lang] = metrics.tune_threshold(scored_dev.gold, scored_dev.scores)
        scored = {lang: evaluation.score_language(
                      models.inspect, examples[lang], lang, resources, source=source,
                      batch_size=FLAGS.batch_size, with_extras=bool(FLAGS.predictions))
                  for lang in langs}
    except (ValueError, FileNotFoundError) as error:
        sys.exit(f"evaluate.py: error: {error}")
    table = evaluation.metric_table(scored, thresholds)
    for lang in langs:
        table[lang]["threshold"] = thresholds[lang]
        if lang in unseen:
            table[lang]["unseen"] = True
    print(evaluation.format_table(table, unseen=unseen))
    out_path = os.path.join(FLAGS.run_dir, f"eval_{FLAGS.split}.json")
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({FLAGS.split: table}, f, indent=2)
    print(f"wrote {out_path}")
    if FLAGS.predictions:
        with open(FLAGS.predictions, "w", encoding="utf-8") as handle:
            for lang in langs:
                _write_predictions(handle, config, resources, lang, examples[lang], scored[lang],
                                   thresholds[lang])
        print(f"wrote {FLAGS.predictions}")


if __name__ == "__main__":
    app.run(main)
