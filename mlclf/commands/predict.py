"""mlclf predict: classify new texts with a trained run's exported model.

    mlclf predict --run_dir=RUN --lang=en --input=texts.txt [--output=predictions.jsonl]
    mlclf predict --run_dir=RUN --input=docs.csv --text_column=body --lang_column=language
    echo "Kenya wins the match." | mlclf predict --run_dir=RUN --lang=en

Writes one JSON object per document: {"id", "lang", "labels", "scores"}, and with --attention
the words read with their attention. The model is the run's newest export, run through
`mlclf.load` (mlclf.inference): the graph TF Serving serves, decided by its serving.json.

Inputs (--format, default by the file's extension, else text):
  text    one document per line (blank lines skipped); id: the line number
  blocks  documents separated by blank lines, each line a sentence; id: its first line
  jsonl   one object per line with the text (--text_column), optionally a language code
          (--lang_column) and an id (--id_column)
  csv/tsv a header row, then one document per row, with the same columns
A document's language is its own column's or field's, else --lang.
"""
import contextlib
import json
import os
import sys

from absl import app, flags

from mlclf import cli, inference
from mlclf_datasets import _common
from mlclf_datasets.errors import CorpusError

FLAGS = flags.FLAGS
FORMATS = ("auto", "text", "blocks", "jsonl", "csv", "tsv")
_EXTENSIONS = {".jsonl": "jsonl", ".csv": "csv", ".tsv": "tsv"}


def define_flags():
    flags.DEFINE_string("run_dir", None, "Run directory written by mlclf train (its newest "
                        "export is used), or a SavedModel folder (RUN/export/N).", required=True)
    flags.DEFINE_string("lang", None, "Language of documents that do not give their own: ISO "
                        "639-1/-3 or the corpus' code.")
    flags.DEFINE_string("input", "-", "File to read, or - for standard input.")
    flags.DEFINE_enum("format", "auto", FORMATS, "Input format; auto: by the file's extension "
                      "(.jsonl, .csv, .tsv), else text.")
    cli.define_corpus_flags(
        names=("text_column", "lang_column", "id_column"),
        notes={name: "Here: of --input (a csv/tsv column or a jsonl field)."
               for name in ("text_column", "lang_column", "id_column")})
    flags.DEFINE_string("output", "-", "File to write (JSON lines), or - for standard output.")
    flags.DEFINE_bool("attention", False, "Also write the words read and their sentence and "
                      "word attention (hierarchical models).")
    flags.DEFINE_integer("batch_size", 64, "Documents per call of the model.", lower_bound=1)


def input_format(path: str, name: str) -> str:
    if name != "auto":
        return name
    return _EXTENSIONS.get(os.path.splitext(path)[1].lower(), "text")


def read_documents(data: bytes, source: str, fmt: str, *, default_lang=None,
                   text_column="text", lang_column="lang", id_column="id") -> list:
    """[(id, text, language code)] of an input in format `fmt`; bad input is a CorpusError
    naming `source` and the line."""
    text = _common.decode(data, source)
    if fmt in ("csv", "tsv"):
        records = _table_records(text, source, "," if fmt == "csv" else "\t",
                                 text_column, lang_column, id_column)
    elif fmt == "jsonl":
        records = _jsonl_records(text, source, text_column, lang_column, id_column)
    else:
        records = _text_records(text, blank_line_separated=fmt == "blocks")
    documents = []
    for line, doc_id, document, lang in records:
        lang = lang or default_lang
        if not lang:
            raise CorpusError(f"{source}, line {line}: no language: give --lang, or a "
                              f"{lang_column!r} column or field (--lang_column)")
        documents.append((doc_id, document, lang))
    return documents


def _text_records(text, blank_line_separated):
    """(line, id, text, None): a document per line, or per block of lines between blank ones."""
    block, first = [], None
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            if block:
                yield first, first, "\n".join(block), None
            block = []
            continue
        if not blank_line_separated:
            yield number, number, line, None
            continue
        first = first if block else number
        block.append(line)
    if block:
        yield first, first, "\n".join(block), None


def _jsonl_records(text, source, text_field, lang_field, id_field):
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise CorpusError(f"{source}, line {number}: invalid JSON: {e.msg} "
                              f"(column {e.colno})") from None
        if not isinstance(record, dict) or not isinstance(record.get(text_field), str):
            raise CorpusError(f"{source}, line {number}: expected an object with a string "
                              f"{text_field!r} (--text_column), found {line[:80]!r}")
        lang = record.get(lang_field)
        if lang is not None and not isinstance(lang, str):
            raise CorpusError(f"{source}, line {number}: {lang_field!r} must be a language "
                              f"code, found {lang!r}")
        yield number, record.get(id_field, number), record[text_field], lang


def _table_records(text, source, delimiter, text_column, lang_column, id_column):
    header, rows = _common.parse_table(text, source, delimiter, ())
    if text_column not in header:
        raise CorpusError(f"{source}, line 1: no column {text_column!r} (--text_column); the "
                          f"header has {', '.join(header)}")
    for where, row in rows:
        line = int(where.split()[-1])
        yield line, row.get(id_column, line), row[text_column], row.get(lang_column)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    source = "<stdin>" if FLAGS.input == "-" else FLAGS.input
    try:
        if FLAGS.input == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(FLAGS.input, "rb") as f:
                data = f.read()
        documents = read_documents(
            data, source, input_format(FLAGS.input, FLAGS.format), default_lang=FLAGS.lang,
            text_column=FLAGS.text_column, lang_column=FLAGS.lang_column,
            id_column=FLAGS.id_column)
        classifier = inference.load(FLAGS.run_dir)
        predictions = classifier.predictions([text for _, text, _ in documents],
                                             [lang for *_, lang in documents],
                                             FLAGS.batch_size, attention=FLAGS.attention)
        with (contextlib.nullcontext(sys.stdout) if FLAGS.output == "-"
              else open(FLAGS.output, "w", encoding="utf-8")) as output:
            for (doc_id, _, lang), prediction in zip(documents, predictions):
                output.write(json.dumps({"id": doc_id, "lang": lang, **prediction},
                                        ensure_ascii=False) + "\n")
    except (ValueError, OSError) as error:  # CorpusError is a ValueError
        sys.exit(f"mlclf predict: error: {error}")
    if FLAGS.output != "-":
        print(f"{len(documents)} document(s) -> {FLAGS.output}", file=sys.stderr)

