"""Text ops on MasakhaNEWS articles: the current `mlclf.text` against a baseline revision's, in one run.

    python benchmarks/text_throughput.py --manual_dir=../shared/data/masakhanews \
        [--baseline=b61e6db] [--documents=2000] [--repeats=3]

The baseline's `mlclf/text.py` (`git show REV:mlclf/text.py`) is loaded as a module beside the
current one. Both tokenise every document (hierarchical and flat) and must give the same words;
then each form is timed, the two taking turns in every repeat so that both see the same load:
  ops       `tokenize(texts, hierarchical=True)` in a tf.function, batches of 64 documents
  pipeline  `data.tokenize_examples` (what fills the token cache: batches of 64 tokenised by a
            parallel map on every core), read to the end
Tracing and the first batch are left out of both timings (they happen once per process).
Documents are each language's test.tsv (headline, newline, body, as the corpus builder joins
them), languages interleaved. Prints documents/s per repeat, the medians, the ratio and the load
average (the machine may be shared).
"""
import importlib.util
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import tensorflow as tf
from absl import app, flags

from mlclf import data, text

sys.path.insert(0, os.path.dirname(__file__))
from documents import read_documents  # noqa: E402

flags.DEFINE_string("manual_dir", "../shared/data/masakhanews", "Local MasakhaNEWS copy.")
flags.DEFINE_string("baseline", "b61e6db", "Git revision whose mlclf/text.py is the baseline.")
flags.DEFINE_integer("documents", 2000, "Documents to tokenise per timing.")
flags.DEFINE_integer("repeats", 3, "Timings of each form (taking turns).")
FLAGS = flags.FLAGS
BATCH = 64


def load_baseline(revision):
    """The baseline revision's mlclf/text.py as a module of its own."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    source = subprocess.run(["git", "-C", root, "show", f"{revision}:mlclf/text.py"],
                            check=True, capture_output=True).stdout
    path = os.path.join(tempfile.mkdtemp(prefix="mlclf_text_baseline_"), "text_baseline.py")
    with open(path, "wb") as f:
        f.write(source)
    spec = importlib.util.spec_from_file_location("text_baseline", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def batches(documents):
    return [tf.constant(documents[i:i + BATCH]) for i in range(0, len(documents), BATCH)]


def ops_rate(module, texts):
    tokenize = tf.function(lambda t: module.tokenize(t, hierarchical=True),
                           input_signature=[tf.TensorSpec([None], tf.string)])
    tokenize(texts[0])                       # trace and optimise once, outside the timing
    start = time.perf_counter()
    docs = 0
    for batch in texts[1:]:
        tokenize(batch)
        docs += int(batch.shape[0])
    return docs / (time.perf_counter() - start)


def pipeline_rate(module, documents):
    examples = tf.data.Dataset.from_tensor_slices({"text": documents})
    original, data.text = data.text, module  # tokenize_examples calls data.text.tokenize
    try:
        words = data.tokenize_examples(examples, hierarchical=True).batch(BATCH)
    finally:
        data.text = original
    batches = iter(words)
    next(batches)                            # the pipeline starts: functions instantiated
    start = time.perf_counter()
    docs = sum(int(batch["text"].shape[0]) for batch in batches)
    return docs / (time.perf_counter() - start)


def same_words(baseline, documents):
    for batch in batches(documents):
        for hierarchical in (True, False):
            expected = baseline.tokenize(batch, hierarchical).to_list()
            if text.tokenize(batch, hierarchical).to_list() != expected:
                return False
    return True


def main(argv):
    del argv
    documents = [doc for doc, _ in read_documents(FLAGS.manual_dir, sorted(os.listdir(
        os.path.join(FLAGS.manual_dir, "languages"))))][:FLAGS.documents]
    baseline = load_baseline(FLAGS.baseline)
    chars = np.mean([len(doc) for doc in documents])
    print(f"{len(documents)} MasakhaNEWS test documents, {chars:.0f} characters on average; "
          f"baseline {FLAGS.baseline}; {os.cpu_count()} cores visible")
    print(f"same words as the baseline (hierarchical and flat): {same_words(baseline, documents)}")
    texts = batches(documents)
    forms = {"baseline": baseline, "current": text}
    rates = {(form, kind): [] for form in forms for kind in ("ops", "pipeline")}
    for repeat in range(FLAGS.repeats):
        for form, module in forms.items():
            rates[form, "ops"].append(ops_rate(module, texts))
            rates[form, "pipeline"].append(pipeline_rate(module, documents))
        print(f"repeat {repeat + 1}: " + "  ".join(
            f"{form} {kind} {values[-1]:,.0f}" for (form, kind), values in rates.items())
              + f"  docs/s; load average {os.getloadavg()[0]:.1f}", flush=True)
    for kind in ("ops", "pipeline"):
        base = np.median(rates["baseline", kind])
        current = np.median(rates["current", kind])
        print(f"{kind:9s} baseline {base:8,.0f} docs/s (runs {min(rates['baseline', kind]):,.0f}-"
              f"{max(rates['baseline', kind]):,.0f})   current {current:8,.0f} docs/s (runs "
              f"{min(rates['current', kind]):,.0f}-{max(rates['current', kind]):,.0f})   "
              f"{current / base:5.1f}x")


if __name__ == "__main__":
    app.run(main)
