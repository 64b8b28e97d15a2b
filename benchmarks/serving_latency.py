"""Latency and throughput of an exported model on CPU, on real MasakhaNEWS test documents.

    python benchmarks/serving_latency.py --export_dir=RUN/export/1 \
        --manual_dir=../shared/data/masakhanews --langs=eng,swa

Loads the SavedModel with `tf.saved_model.load` only (no mlclf), as TF Serving would, and times
its `serving_default` signature end to end, raw strings in (normalisation, splitting, lookups
and the model all inside the graph):
  latency     p50 / p99 of one-document requests
  throughput  documents/s of `--batch_size`-document requests
Documents are each language's test.tsv (headline, newline, body: as the corpus builder joins
them), read with the csv module, languages interleaved; `lang` is sent as the folder's code,
which the export resolves like any ISO code.
"""
import csv
import os
import sys
import time

import numpy as np
import tensorflow as tf
from absl import app, flags

flags.DEFINE_string("export_dir", None, "An exported version folder, RUN/export/N.",
                    required=True)
flags.DEFINE_string("manual_dir", "../shared/data/masakhanews", "Local MasakhaNEWS copy.")
flags.DEFINE_list("langs", ["eng", "swa"], "MasakhaNEWS language folders to read.")
flags.DEFINE_integer("requests", 300, "One-document requests to time.")
flags.DEFINE_integer("batch_size", 64, "Documents per request for the throughput figure.")
flags.DEFINE_integer("batches", 20, "Batched requests to time.")
FLAGS = flags.FLAGS


def read_documents(manual_dir, langs):
    """[(text, lang)] from each language's test split, interleaved language by language."""
    csv.field_size_limit(sys.maxsize)
    by_lang = []
    for lang in langs:
        path = os.path.join(manual_dir, "languages", lang, "test.tsv")
        with open(path, encoding="utf-8", newline="") as f:
            by_lang.append([(f"{row['headline']}\n{row['text']}", lang)
                            for row in csv.DictReader(f, delimiter="\t")])
    longest = max(len(docs) for docs in by_lang)
    return [docs[i] for i in range(longest) for docs in by_lang if i < len(docs)]


def main(argv):
    del argv
    serve = tf.saved_model.load(FLAGS.export_dir).signatures["serving_default"]
    documents = read_documents(FLAGS.manual_dir, FLAGS.langs)

    def call(docs):
        texts, langs = zip(*docs)
        outputs = serve(text=tf.constant(texts), lang=tf.constant(langs))
        return outputs["scores"].numpy()

    def cycle(start, count):
        return [documents[(start + i) % len(documents)] for i in range(count)]

    for i in range(5):  # warm up: first calls initialise tables and kernels
        call(cycle(i, 1))
        call(cycle(i, FLAGS.batch_size))
    latencies = []
    for i in range(FLAGS.requests):
        start = time.perf_counter()
        call(cycle(i, 1))
        latencies.append(time.perf_counter() - start)
    start = time.perf_counter()
    for i in range(FLAGS.batches):
        call(cycle(i * FLAGS.batch_size, FLAGS.batch_size))
    throughput = FLAGS.batches * FLAGS.batch_size / (time.perf_counter() - start)

    chars = np.mean([len(text) for text, _ in documents])
    print(f"{FLAGS.export_dir}: {len(documents)} test documents of {','.join(FLAGS.langs)}, "
          f"{chars:.0f} characters on average; CPU, {os.cpu_count()} cores visible")
    p50, p99 = np.percentile(latencies, [50, 99]) * 1000
    print(f"latency, 1 document:     p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   "
          f"({FLAGS.requests} requests)")
    print(f"throughput, batch {FLAGS.batch_size:<4d}  {throughput:7.0f} docs/s "
          f"({FLAGS.batches} requests)")


if __name__ == "__main__":
    app.run(main)
