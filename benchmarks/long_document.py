"""Cost of one very long document: through an exported model, and through training.

    python benchmarks/long_document.py --export_dir=RUN/export/2 [--baseline_export_dir=...] \
        [--sentences=5000 --token_chars=200000] [--baseline_sentences=1000 ...] [--train]

The document: `--sentences` short sentences ("Short one. ") followed by one token of
`--token_chars` characters. Each export is loaded in a fresh process (with TensorFlow alone),
warmed up on a short document, then given the long one; printed: seconds for that request and the
process's peak memory growth during it (ru_maxrss). A baseline export can be given smaller sizes
(`--baseline_sentences`, `--baseline_token_chars`): the previous text ops grew with sentences x
longest sentence.

`--train` trains `mhan_att` for a few steps on a small JSONL corpus whose training split holds two
documents of 1,000,000 characters, through `training.train` (token cache included), and checks
that the token cache holds no leftover staging folder.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

from absl import app, flags

flags.DEFINE_string("export_dir", None, "An exported version folder, RUN/export/N.")
flags.DEFINE_string("baseline_export_dir", None, "An export to measure beside it.")
flags.DEFINE_integer("sentences", 5000, "Short sentences in the document.")
flags.DEFINE_integer("token_chars", 200_000, "Characters of the long token at its end.")
flags.DEFINE_integer("baseline_sentences", None, "Sentences for the baseline (default: same).")
flags.DEFINE_integer("baseline_token_chars", None, "Token characters for the baseline.")
flags.DEFINE_bool("train", False, "Also train on two 1,000,000-character documents.")
FLAGS = flags.FLAGS

# Runs in a fresh interpreter: TensorFlow only, as a server would load the export.
MEASURE = r"""
import resource, sys, time
import tensorflow as tf
export_dir, sentences, token_chars = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
serve = tf.saved_model.load(export_dir).signatures["serving_default"]
languages = tf.constant(["en"])
serve(text=tf.constant(["A short document. Two sentences."]), lang=languages)
document = "Short one. " * sentences + "x" * token_chars
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
serve(text=tf.constant([document]), lang=languages)["scores"].numpy()
seconds = time.perf_counter() - start
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(f"{len(document):,} characters: {seconds:.2f} s, peak memory +{grown / 1024:,.0f} MB "
      f"(process peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB)")
"""


def measure_export(name, export_dir, sentences, token_chars):
    print(f"{name}: {export_dir}, {sentences:,} sentences + a {token_chars:,}-character token",
          flush=True)
    done = subprocess.run([sys.executable, "-c", MEASURE, export_dir, str(sentences),
                           str(token_chars)], capture_output=True, text=True)
    print("  " + (done.stdout.strip() or f"failed: {done.stderr.strip()[-600:]}"), flush=True)


def train_on_long_documents():
    from mlclf import task, training

    root = tempfile.mkdtemp(prefix="mlclf_long_documents_")
    corpus = os.path.join(root, "corpus")
    os.makedirs(corpus)
    topics = {"sports": "football match goal team", "health": "doctor hospital vaccine"}
    for split, count in (("train", 8), ("validation", 2), ("test", 2)):
        with open(os.path.join(corpus, f"{split}.jsonl"), "w", encoding="utf-8") as f:
            for label, words in topics.items():
                for i in range(count):
                    text = f"The {words} today. People said {words}."
                    if split == "train" and i == 0:
                        text += " " + ("long " * 200_000)[:1_000_000 - len(text) - 1]
                    f.write(json.dumps({"id": f"{label}-{split}-{i}", "lang": "en",
                                        "text": text, "labels": [label]}) + "\n")
    config = task.ExperimentConfig(
        model="mhan_att", dataset="jsonl", langs=("en",), manual_dir=corpus,
        data_dir=os.path.join(root, "tfds"), embed_dim=8, hidden=8, batch_size=4, epochs=1,
        steps_per_epoch=4)
    start = time.perf_counter()
    metrics = training.train(config, os.path.join(root, "run"), verbose=0)
    staging = [os.path.join(d, name) for d, dirs, _ in os.walk(os.path.join(root, "tfds"))
               for name in dirs if name.startswith(".tokens-")]
    print(f"trained on two 1,000,000-character documents in {time.perf_counter() - start:.0f} s; "
          f"test micro-F1 {metrics['test']['en']['micro_f1']:.2f}; leftover staging folders: "
          f"{staging or 'none'}")


def main(argv):
    del argv
    print(f"load average {os.getloadavg()[0]:.1f}")
    if FLAGS.baseline_export_dir:
        measure_export("baseline", FLAGS.baseline_export_dir,
                       FLAGS.baseline_sentences or FLAGS.sentences,
                       FLAGS.baseline_token_chars or FLAGS.token_chars)
    if FLAGS.export_dir:
        measure_export("current", FLAGS.export_dir, FLAGS.sentences, FLAGS.token_chars)
    if FLAGS.train:
        train_on_long_documents()


if __name__ == "__main__":
    app.run(main)
