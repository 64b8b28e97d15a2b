"""Training throughput and peak memory of the MHAN family on this machine.

    python benchmarks/train_throughput.py                       # synthetic batches only
    python benchmarks/train_throughput.py --manual_dir=../shared/data/masakhanews
    python benchmarks/train_throughput.py --model=han --encoder=gru
    python benchmarks/train_throughput.py --quick_preset_on=../shared/data/masakhanews

Times `mhan_att` (by default) with Dense encoders, 30x30, 40-d input, hidden 100, batch 64 in
three forms, in steady state (`model.fit` over in-memory batches, timed between batch ends):
  per-slot XLA   every one of the B*K*T word slots encoded and scored, the whole step
                 XLA-compiled, keras.optimizers.Adam (the form of the first release)
  by type        the word level once per distinct (word, language) of the batch
                 (models/han.py), keras.optimizers.Adam
  by type + compiled update   the same with optimizers.CompiledAdam, which moves only the
                 word vectors of the batch (lazily): what train.py runs
on two kinds of batches:
  synthetic      uniform random word ids over --vocab_size (every id as likely as any other: the
                 worst case for the word-type level, which gains from repeated words), ~36 %
                 of the slots filled
  masakhanews    real training batches of all visible languages, mixed (--manual_dir)
Each figure is the median of --repeats runs of --steps steps, the forms taking turns (the
speed of this shared machine drifts by 10-20 % over minutes), with the range and the load
average beside it. Timing starts after one pass over the batches, once every shape the
update compiles for (optimizers.apply_compiled) has been compiled: the steady state of a run.
With GRU encoders every form runs per slot (the word-type level needs Dense encoders). It
also times one Adam update of a MasakhaNEWS-sized embedding from a gradient with the rows of
one batch, plain and compiled. The last form runs `flags/quick_cpu.cfg` on MasakhaNEWS
through train.py's own code path and prints its wall time and peak memory.

The forms are those of the code checked out: to compare two commits, run the script in each,
taking turns (benchmarks/results/train_throughput.md).
"""
import os
import resource
import statistics
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags

from mlclf import data, losses, optimizers, task

flags.DEFINE_string("model", "mhan_att", "Model name.")
flags.DEFINE_string("encoder", "dense", "dense | gru | bigru.")
flags.DEFINE_integer("languages", 4, "Languages mixed in each synthetic batch.")
flags.DEFINE_integer("batch_size", 64, "Batch size.")
flags.DEFINE_integer("max_sentences", 30, "K.")
flags.DEFINE_integer("max_words", 30, "T.")
flags.DEFINE_integer("embed_dim", 40, "Input word vector size.")
flags.DEFINE_integer("hidden", 100, "Encoder size.")
flags.DEFINE_integer("vocab_size", 50_000, "Vocabulary size of the synthetic batches.")
flags.DEFINE_integer("num_outputs", 20, "Outputs.")
flags.DEFINE_integer("steps", 150, "Timed steps per run.")
flags.DEFINE_integer("repeats", 3, "Runs per form; the median is reported.")
flags.DEFINE_string("manual_dir", None, "MasakhaNEWS manual dir: also time real batches.")
flags.DEFINE_string("quick_preset_on", None, "MasakhaNEWS manual dir: time the quick preset.")
flags.DEFINE_string("data_dir", "/tmp/mlclf_bench_tfds", "TFDS data dir for MasakhaNEWS.")
FLAGS = flags.FLAGS

WARMUP_STEPS = 10  # after one pass over the batches
FORMS = {  # name: (by_word_type, model -> optimizer, whole-step XLA)
    "per-slot XLA": (False, lambda model: keras.optimizers.Adam(1e-3), True),
    "by type": (True, lambda model: keras.optimizers.Adam(1e-3), False),
    "by type + compiled update": (True, lambda model: optimizers.adam_for(model, 1e-3), False),
}


def _synthetic_batches(count=16):
    rng = np.random.default_rng(0)
    shape = (FLAGS.batch_size, FLAGS.max_sentences, FLAGS.max_words)
    word_ids, lang_ids = [], []
    for _ in range(count):
        lengths = rng.integers(5, FLAGS.max_words + 1, size=shape[:2])
        ids = rng.integers(2, FLAGS.vocab_size, size=shape)
        ids[np.arange(FLAGS.max_words)[None, None, :] >= lengths[..., None]] = 0
        ids[:, rng.integers(10, FLAGS.max_sentences):] = 0  # documents of varying length
        word_ids.append(ids)
        lang_ids.append(np.arange(FLAGS.batch_size) % FLAGS.languages)
    return np.stack(word_ids), np.stack(lang_ids), FLAGS.languages, FLAGS.vocab_size


def _masakhanews_batches(manual_dir, count=64):
    """Real training batches: all visible languages, the training pipeline's encoding, mixed
    (not language-balanced, which would round 64 down to a multiple of 14)."""
    # No wide branch: the timed model reads word ids only, and the branch's n-gram document
    # frequencies would take minutes to count.
    config = task.ExperimentConfig(model=FLAGS.model, dataset="masakhanews", langs=("x",),
                                   manual_dir=manual_dir, data_dir=FLAGS.data_dir,
                                   max_sentences=FLAGS.max_sentences,
                                   max_words=FLAGS.max_words, batch_size=FLAGS.batch_size,
                                   wide="false")
    config.langs = tuple(task.resolve_languages(config, ["all"]))
    examples = task.load_examples(config, config.langs, "train")
    resources = task.build_resources(config, examples)
    batches = data.make_dataset(examples, resources.vocabulary, resources.label_space,
                                resources.spec, FLAGS.batch_size,
                                training_languages=resources.languages, training=True,
                                balanced=False)
    word_ids, lang_ids = [], []
    for features, _ in batches.take(count):
        word_ids.append(features["word_ids"].numpy())
        lang_ids.append(features["lang_id"].numpy())
    return (np.stack(word_ids), np.stack(lang_ids), len(resources.languages),
            resources.vocabulary.size)


class _StepClock(keras.callbacks.Callback):
    """Wall time from the end of the warm-up steps to the end of the last step."""

    def __init__(self, warmup_steps):
        super().__init__()
        self.warmup_steps = warmup_steps

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.warmup_steps - 1:
            self.start = time.perf_counter()
        self.end = time.perf_counter()


def _docs_per_second(batches, form):
    word_ids, lang_ids, languages, vocab_size = batches
    by_word_type, make_optimizer, jit_compile = FORMS[form]
    from mlclf.models import han
    if not han.VARIANTS[FLAGS.model].multilingual:
        languages, lang_ids = 1, np.zeros_like(lang_ids)
    labels = (np.random.default_rng(0).random((*lang_ids.shape, FLAGS.num_outputs)) < 0.2)
    dataset = tf.data.Dataset.from_tensor_slices((
        {"word_ids": word_ids.astype("int32"), "lang_id": lang_ids.astype("int32")},
        labels.astype("float32"))).repeat().prefetch(2)
    model = han.build_model(FLAGS.model, num_languages=languages, vocab_size=vocab_size,
                            embed_dim=FLAGS.embed_dim, num_outputs=FLAGS.num_outputs,
                            encoder=FLAGS.encoder, hidden=FLAGS.hidden,
                            max_sentences=FLAGS.max_sentences, max_words=FLAGS.max_words,
                            by_word_type=by_word_type).train
    model.compile(optimizer=make_optimizer(model), loss=losses.masked_binary_crossentropy,
                  jit_compile=jit_compile)
    clock = _StepClock(warmup_steps=len(word_ids) + WARMUP_STEPS)
    model.fit(dataset, steps_per_epoch=clock.warmup_steps + FLAGS.steps, epochs=1, verbose=0,
              callbacks=[clock])
    return FLAGS.steps * FLAGS.batch_size / (clock.end - clock.start)


def _update_milliseconds(optimizer_class, shape=(100_002, 40), rows=7_500, steps=50,
                         lazy=False):
    """One Adam update of a MasakhaNEWS-sized embedding from a gradient of `rows` distinct
    rows (a batch's word types), in ms; `lazy`: of those rows only (CompiledAdam)."""
    variable = keras.Variable(np.zeros(shape, "float32"))
    row_ids = np.random.default_rng(0).choice(shape[0], rows, replace=False)
    gradient = tf.IndexedSlices(tf.ones([rows, shape[1]]), tf.constant(row_ids, tf.int32),
                                tf.constant(shape))
    optimizer = optimizer_class(1e-3, **({"row_sparse": [variable]} if lazy else {}))
    optimizer.build([variable])
    step = tf.function(lambda: optimizer.apply([gradient], [variable]))
    step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    float(optimizer.iterations)  # wait for the last update
    return (time.perf_counter() - start) / steps * 1e3


def _load():
    """Other processes share the CPUs: report the load next to every figure."""
    return "load {:.1f} {:.1f} {:.1f} on {} CPUs".format(*os.getloadavg(), os.cpu_count())


def _report(name, batches):
    word_ids = batches[0]
    fill = float(np.mean(word_ids != 0))
    types = np.mean([len(np.unique(w[w != 0])) for w in word_ids])
    print(f"{name}: {word_ids.shape[1]} docs/batch, {fill:.0%} of the word slots filled, "
          f"~{types:,.0f} distinct words per batch, vocabulary {batches[3]:,}")
    rates = {form: [] for form in FORMS}
    for _ in range(FLAGS.repeats):
        for form in FORMS:
            rates[form].append(_docs_per_second(batches, form))
    baseline = None
    for form, rates in rates.items():
        median = statistics.median(rates)
        baseline = baseline or median
        print(f"  {form:<26} {median:6.0f} docs/s  (runs {min(rates):.0f}-{max(rates):.0f}; "
              f"{median / baseline:.2f}x)  {_load()}", flush=True)


def _quick_preset(manual_dir):
    from mlclf import training
    flags_text = open("flags/quick_cpu.cfg", encoding="utf-8").read()
    settings = dict(line[2:].split("=", 1) for line in flags_text.splitlines()
                    if line.startswith("--"))
    config = task.ExperimentConfig(
        model=settings["model"], dataset="masakhanews", langs=("x",), manual_dir=manual_dir,
        data_dir=FLAGS.data_dir, encoder=settings["encoder"],
        hidden=int(settings["hidden"]), embed_dim=int(settings["embed_dim"]),
        max_sentences=int(settings["max_sentences"]), max_words=int(settings["max_words"]),
        batch_size=int(settings["batch_size"]), epochs=int(settings["epochs"]),
        learning_rate=float(settings["learning_rate"]), min_count=int(settings["min_count"]))
    config.langs = tuple(task.resolve_languages(config, ["all"]))
    run_dir = tempfile.mkdtemp(prefix="quick_preset_")
    start = time.perf_counter()
    training.train(config, run_dir, verbose=2)
    return time.perf_counter() - start


def main(argv):
    del argv
    if FLAGS.quick_preset_on:
        seconds = _quick_preset(FLAGS.quick_preset_on)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"quick preset on masakhanews: {seconds:.0f} s wall, peak RSS {peak_mb:.0f} MB "
              f"({_load()})")
        return
    print(f"{FLAGS.model} ({FLAGS.encoder}), {FLAGS.max_sentences}x{FLAGS.max_words}, "
          f"{FLAGS.embed_dim}-d input, hidden {FLAGS.hidden}, batch {FLAGS.batch_size}, "
          f"{FLAGS.steps} steps x {FLAGS.repeats} runs per form")
    print("Adam update of a 100,002 x 40 embedding, gradient of 7,500 rows: "
          f"keras.optimizers.Adam {_update_milliseconds(keras.optimizers.Adam):.1f} ms, "
          f"optimizers.CompiledAdam {_update_milliseconds(optimizers.CompiledAdam):.1f} ms, "
          f"lazily {_update_milliseconds(optimizers.CompiledAdam, lazy=True):.1f} ms")
    _report("synthetic", _synthetic_batches())
    if FLAGS.manual_dir:
        _report("masakhanews", _masakhanews_batches(FLAGS.manual_dir))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:.0f} MB (the whole benchmark process)")


if __name__ == "__main__":
    app.run(main)
