"""Latency and throughput of an exported model on CPU, on real MasakhaNEWS test documents.

    python benchmarks/serving_latency.py --export_dir=RUN/export/2 \
        [--baseline_export_dir=RUN/export/1] --manual_dir=../shared/data/masakhanews --langs=eng,swa

With a baseline export (the same run exported by an earlier version, for instance), both are
loaded and timed in the same run, taking turns request by request, so that both see the same
load; the load average is printed.

Loads the SavedModel with `tf.saved_model.load` only (no mlclf), as TF Serving would, and times
its `serving_default` signature end to end, raw strings in (normalisation, splitting, lookups
and the model all inside the graph):
  first       the first request after loading: after replaying the export's warm-up requests
              (assets.extra/tf_serving_warmup_requests) as TF Serving does when it loads a
              version, or cold when the export has none or with --nowarmup
  latency     p50 / p99 of one-document requests
  throughput  documents/s of `--batch_size`-document requests
Documents are each language's test.tsv (headline, newline, body: as the corpus builder joins
them), read with the csv module, languages interleaved; `lang` is sent as the folder's code,
which the export resolves like any ISO code.
"""
import os
import sys
import time

import numpy as np
import tensorflow as tf
from absl import app, flags

sys.path.insert(0, os.path.dirname(__file__))
from documents import read_documents  # noqa: E402

flags.DEFINE_string("export_dir", None, "An exported version folder, RUN/export/N.",
                    required=True)
flags.DEFINE_string("baseline_export_dir", None, "An export to time beside it.")
flags.DEFINE_string("manual_dir", "../shared/data/masakhanews", "Local MasakhaNEWS copy.")
flags.DEFINE_list("langs", ["eng", "swa"], "MasakhaNEWS language folders to read.")
flags.DEFINE_integer("requests", 300, "One-document requests to time.")
flags.DEFINE_integer("batch_size", 64, "Documents per request for the throughput figure.")
flags.DEFINE_integer("batches", 20, "Batched requests to time.")
flags.DEFINE_boolean("warmup", True, "Replay the export's TF Serving warm-up requests before "
                     "the first request, as TF Serving does.")
FLAGS = flags.FLAGS
WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")


def proto_fields(message):
    """{field number: [payload]} of a serialised protocol buffer's length-delimited fields."""
    fields, i = {}, 0

    def varint():
        nonlocal i
        value = shift = 0
        while True:
            byte = message[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value
    while i < len(message):
        tag = varint()
        if tag & 7 == 0:
            varint()
            continue
        if tag & 7 != 2:
            raise ValueError(f"unexpected wire type {tag & 7} in a warm-up request")
        length = varint()
        fields.setdefault(tag >> 3, []).append(message[i:i + length])
        i += length
    return fields


def warmup_requests(export_dir):
    """The inputs of each PredictionLog in the export's warm-up file (predict_log 6 -> request 1
    -> inputs 2: map entries, key 1 and TensorProto 2), or [] when it has none."""
    path = os.path.join(export_dir, WARMUP_FILE)
    if not os.path.exists(path):
        return []
    requests = []
    for record in tf.data.TFRecordDataset(path).as_numpy_iterator():
        request = proto_fields(proto_fields(proto_fields(record)[6][0])[1][0])
        inputs = {}
        for entry in request.get(2, []):
            entry = proto_fields(entry)
            tensor = tf.make_tensor_proto([""])
            tensor.ParseFromString(entry[2][0])
            inputs[entry[1][0].decode()] = tf.constant(tf.make_ndarray(tensor))
        requests.append(inputs)
    return requests


def main(argv):
    del argv
    documents = read_documents(FLAGS.manual_dir, FLAGS.langs)
    exports = {"current": FLAGS.export_dir}
    if FLAGS.baseline_export_dir:
        exports = {"baseline": FLAGS.baseline_export_dir, **exports}

    def cycle(start, count):
        texts, langs = zip(*[documents[(start + i) % len(documents)] for i in range(count)])
        return {"text": tf.constant(texts), "lang": tf.constant(langs)}

    def timed(serve, request):
        start = time.perf_counter()
        serve(**request)["scores"].numpy()
        return time.perf_counter() - start

    serves, first, warmups = {}, {}, {}
    for name, path in exports.items():
        serves[name] = tf.saved_model.load(path).signatures["serving_default"]
        warmups[name] = warmup_requests(path) if FLAGS.warmup else []
        for request in warmups[name]:
            serves[name](**request)
        first[name] = timed(serves[name], cycle(0, 1))
        for i in range(5):  # warm up: first calls initialise tables and kernels
            timed(serves[name], cycle(i, 1))
            timed(serves[name], cycle(i, FLAGS.batch_size))
    latencies = {name: [] for name in exports}
    for i in range(FLAGS.requests):
        for name, serve in serves.items():
            latencies[name].append(timed(serve, cycle(i, 1)))
    batch_seconds = {name: 0.0 for name in exports}
    for i in range(FLAGS.batches):
        for name, serve in serves.items():
            batch_seconds[name] += timed(serve, cycle(i * FLAGS.batch_size, FLAGS.batch_size))

    chars = np.mean([len(text) for text, _ in documents])
    print(f"{len(documents)} test documents of {','.join(FLAGS.langs)}, {chars:.0f} characters on "
          f"average; CPU, {os.cpu_count()} cores visible; load average "
          f"{os.getloadavg()[0]:.1f}")
    for name, path in exports.items():
        p50, p99 = np.percentile(latencies[name], [50, 99]) * 1000
        throughput = FLAGS.batches * FLAGS.batch_size / batch_seconds[name]
        warm = (f"after {len(warmups[name])} warm-up requests" if warmups[name]
                else "cold, no warm-up")
        print(f"{name:8s} {path}\n  first request ({warm}) {first[name] * 1000:8.1f} ms   "
              f"latency, 1 "
              f"document: p50 {p50:6.1f} ms  p99 {p99:6.1f} ms ({FLAGS.requests} requests)   "
              f"throughput, batch {FLAGS.batch_size}: {throughput:6.0f} docs/s "
              f"({FLAGS.batches} requests)")


if __name__ == "__main__":
    app.run(main)
