"""Build corpora ahead of training and report how many documents each split holds.

    python -m mlclf.prepare --dataset=sib200 --langs=all --manual_dir=DIR --data_dir=DIR \
        [--tokenize=hierarchical,flat] [--stats_json=counts.json]

The corpus flags are train.py's (`mlclf.cli.CORPUS_FLAGS`: same names and meanings, --manual_dir
defaults to $MLCLF_MANUAL_DIR/<dataset> too); here --langs defaults to all and --dataset must be
given. Languages may be given as ISO 639-1/639-3 codes or the corpus' own codes (see
mlclf.languages). Prints a table and, with --stats_json, writes {lang: {split: count}}. Already prepared languages
are reused, not rebuilt. --tokenize also fills the token cache that training reads
(`task.tokenized_split`: hierarchical for the HAN models, flat for cnn), so that the first run
starts training at once. Building and tokenising report their progress on stderr.
"""
import contextlib
import json
import sys
import time

from absl import app
from absl import flags
from absl import logging

from mlclf import cli, corpora, languages, task

FLAGS = flags.FLAGS


def define_flags():
    """Defined on demand, so that importing this module never clashes with other flag sets."""
    cli.define_corpus_flags(defaults={"dataset": None, "langs": ["all"]})
    flags.mark_flag_as_required("dataset")
    flags.DEFINE_string("stats_json", None, "Also write the counts here as JSON.")
    flags.DEFINE_multi_enum("tokenize", [], ["hierarchical", "flat"],
                            "Also fill the token cache of every split in this form "
                            "(hierarchical: HAN models; flat: cnn); may be repeated.")


def prepare(dataset, codes, *, data_dir, manual_dir=None, options=None, tokenize=()):
    """Prepares the languages `codes` name, and tokenises their splits in each form of
    `tokenize` ("hierarchical", "flat"); returns {lang: {split: count}}."""
    available = corpora.available_languages(dataset, manual_dir, options)
    counts = {}
    for lang in languages.resolve_all(codes, available):
        counts[lang] = corpora.split_sizes(dataset, lang, data_dir=data_dir,
                                           manual_dir=manual_dir, options=options)
        if tokenize:
            prepared = corpora.prepared_language(dataset, lang, data_dir=data_dir,
                                                 manual_dir=manual_dir, options=options)
            for split in counts[lang]:
                for form in tokenize:
                    task.tokenized_split(prepared, split, hierarchical=form == "hierarchical")
    return counts


def format_table(counts):
    """A text table of documents per language and split, with totals."""
    rows = [[lang] + [sizes.get(split) for split in corpora.SPLITS] + [sum(sizes.values())]
            for lang, sizes in counts.items()]
    totals = [sum(row[i] or 0 for row in rows) for i in range(1, len(corpora.SPLITS) + 2)]
    rows.append(["total"] + totals)
    header = ["lang", *corpora.SPLITS, "total"]
    cells = [header] + [[str(c) if c is not None else "-" for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths, strict=True))) for row in cells]
    return "\n".join(lines[:1] + ["-" * len(lines[0])] + lines[1:-1] + ["-" * len(lines[0])]
                     + lines[-1:])


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    if not FLAGS["verbosity"].present:  # keep warnings (skipped texts, few-shot train) visible
        logging.set_verbosity(logging.WARNING)
    start = time.time()
    try:
        with contextlib.redirect_stdout(sys.stderr):  # TFDS's progress chatter; stdout: results
            counts = prepare(FLAGS.dataset, FLAGS.langs, data_dir=FLAGS.data_dir,
                             manual_dir=cli.manual_dir(FLAGS.manual_dir, FLAGS.dataset),
                             options=cli.corpus_options(FLAGS.dataset),
                             tokenize=FLAGS.tokenize)
    except (corpora.CorpusError, languages.UnknownLanguageError) as e:
        sys.exit(f"prepare: {e}")
    print(format_table(counts))
    print(f"{FLAGS.dataset}: {len(counts)} language(s) ready in {FLAGS.data_dir} "
          f"({time.time() - start:.1f}s)")
    if FLAGS.stats_json:
        with open(FLAGS.stats_json, "w", encoding="utf-8") as f:
            json.dump(counts, f, indent=2, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    from mlclf import commands
    commands.run("prepare")
