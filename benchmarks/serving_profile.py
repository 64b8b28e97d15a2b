"""Where a served request's time goes: the stages of a run's serving graph, timed one by one.

    python benchmarks/serving_profile.py --run_dir=RUN --manual_dir=../shared/data/masakhanews \
        [--langs=eng,swa] [--batch_sizes=1,64]

Builds the run's serving function (`export.Serving`, what `mlclf export` saves) and times, on
MasakhaNEWS test documents (as benchmarks/serving_latency.py sends them), each stage as a
tf.function of its own, fed the previous stage's output (computed once, outside the timing):
  tokenize         text.tokenize (normalise, split sentences and words)
  word ids         the vocabulary lookup, padded to the model's shape (data.encode_words
                   without the n-gram bag)
  n-gram bag       ngrams.ngram_bag of the words (the wide branch's input), and the steps of
                   it that make the n-grams' ids, each timed from the words: the character
                   windows (code points decoded, windows gathered), the same and their hashes,
                   the word windows and their hashes. The rest of the bag is counting each
                   (document, id) once (unique, sort) and building the ragged result.
  model            the Keras model on the features (the wide branch and the deep part)
  whole request    Serving.__call__, raw strings in, as the export runs it
Prints the median milliseconds per request of each stage over --repeats requests, the stages
taking turns request by request, and the load average.
"""
import dataclasses
import os
import sys
import time

import numpy as np
import tensorflow as tf
from absl import app, flags

from mlclf import data, export, ngrams, rundir, text

sys.path.insert(0, os.path.dirname(__file__))
from documents import read_documents  # noqa: E402

flags.DEFINE_string("run_dir", None, "A finished run directory.", required=True)
flags.DEFINE_string("manual_dir", "../shared/data/masakhanews", "Local MasakhaNEWS copy.")
flags.DEFINE_list("langs", ["eng", "swa"], "MasakhaNEWS language folders to read.")
flags.DEFINE_list("batch_sizes", ["1", "64"], "Documents per request.")
flags.DEFINE_integer("repeats", 30, "Requests timed per stage and batch size.")
FLAGS = flags.FLAGS


def bag_parts(words, spec):
    """The n-gram bag's steps, as ngrams.ngram_bag runs them, for timing each alone."""
    sentences = words.values
    flat = sentences.flat_values
    chars = tf.strings.unicode_decode(tf.strings.join(["<", flat, ">"]), "UTF-8",
                                      errors="replace")
    char_windows = [ngrams._windows(tf.cast(chars.values, tf.int64), chars.row_splits, order)[0]
                    for order in spec.char_orders]
    word_hashes = tf.strings.to_hash_bucket_fast(flat, (1 << 62))
    word_windows = [ngrams._windows(word_hashes, sentences.row_splits, order)[0]
                    for order in spec.word_orders]
    return chars, char_windows, word_windows


def main(argv):
    del argv
    config, resources, classifier = rundir.load(FLAGS.run_dir)
    spec = resources.spec
    serving = export.Serving(config, resources, classifier.inspect)
    documents = read_documents(FLAGS.manual_dir, FLAGS.langs)
    languages = list(resources.languages)
    print(f"{FLAGS.run_dir}: {config.model}, wide branch: {spec.ngrams}; "
          f"{len(documents)} test documents of {','.join(FLAGS.langs)}; "
          f"{os.cpu_count()} cores visible")
    for batch_size in map(int, FLAGS.batch_sizes):
        requests = []
        for start in range(FLAGS.repeats):
            chosen = [documents[(start * batch_size + i) % len(documents)]
                      for i in range(batch_size)]
            texts = tf.constant([doc for doc, _ in chosen])
            langs = tf.constant([lang for _, lang in chosen])
            words = text.tokenize(texts, hierarchical=spec.hierarchical)
            requests.append((texts, langs, words))
        codes = tf.constant(languages[:1])

        stages = {
            "tokenize": lambda t, l, w: text.tokenize(t, hierarchical=spec.hierarchical),
            "word ids": lambda t, l, w: data.encode_words(
                w, tf.repeat(codes, tf.shape(t)[0]), resources.vocabulary,
                dataclasses.replace(spec, ngrams=None)),
        }
        if spec.ngrams:
            stages["n-gram bag"] = lambda t, l, w: ngrams.ngram_bag(w, spec.ngrams)
            stages["  char windows"] = lambda t, l, w: bag_parts(w, spec.ngrams)[1]
            stages["  char windows + hashes"] = lambda t, l, w: [
                ngrams._bucket_ids(-1, x, spec.ngrams.buckets)
                for x in bag_parts(w, spec.ngrams)[1]]
            stages["  word windows + hashes"] = lambda t, l, w: [
                ngrams._bucket_ids(-2, x, spec.ngrams.buckets)
                for x in bag_parts(w, spec.ngrams)[2]]
        stages["whole request"] = lambda t, l, w: serving(t, l)
        functions = {name: tf.function(stage, reduce_retracing=True)
                     for name, stage in stages.items()}

        features = [data.encode_features(t, l, resources.vocabulary, spec)
                    for t, l, _ in requests]
        for f in features:
            f["lang_id"] = tf.zeros(tf.shape(f["word_ids"])[:1], tf.int32)
        # Every dimension free: the n-gram bag's width changes from request to request.
        model = tf.function(lambda f: classifier.inspect(f, training=False), input_signature=[
            {name: tf.TensorSpec([None] * value.shape.rank, value.dtype)
             for name, value in features[0].items()}])

        timings = {name: [] for name in [*functions, "model"]}
        for (t, l, w), f in zip(requests[:2], features[:2]):   # trace and warm up
            for function in functions.values():
                function(t, l, w)
            model(f)
        for (t, l, w), f in zip(requests, features):
            for name, function in functions.items():
                start = time.perf_counter()
                tf.nest.map_structure(lambda x: x.numpy() if hasattr(x, "numpy") else x,
                                      function(t, l, w))
                timings[name].append(time.perf_counter() - start)
            start = time.perf_counter()
            tf.nest.map_structure(lambda x: x.numpy(), model(f))
            timings["model"].append(time.perf_counter() - start)
        ids = features[0].get("ngram_ids")
        print(f"batch {batch_size}: load average {os.getloadavg()[0]:.1f}"
              + (f"; n-gram bag {ids.shape[1]} ids wide" if ids is not None else ""))
        for name, seconds in timings.items():
            print(f"  {name:22s} {np.median(seconds) * 1000:8.1f} ms")


if __name__ == "__main__":
    app.run(main)
