"""Training throughput and peak memory of the MHAN family on this machine.

    python benchmarks/train_throughput.py                       # mhan_att, dense, 30x30, 40-d, batch 64
    python benchmarks/train_throughput.py --model=han --encoder=gru
    python benchmarks/train_throughput.py --quick_preset_on=../shared/data/masakhanews

The first form times training steps on synthetic batches of the given shape (the pipeline is
measured separately by pipeline_throughput.py) and prints documents/second for both XLA settings.
The last form runs `flags/quick_cpu.cfg` on MasakhaNEWS (all visible languages) through
train.py's own code path and prints its wall time and peak resident memory.
"""
import os
import resource
import tempfile
import time

import keras
import numpy as np
from absl import app, flags

from mlclf import losses

flags.DEFINE_string("model", "mhan_att", "Model name.")
flags.DEFINE_string("encoder", "dense", "dense | gru | bigru.")
flags.DEFINE_integer("languages", 4, "Languages mixed in each batch.")
flags.DEFINE_integer("batch_size", 64, "Batch size.")
flags.DEFINE_integer("max_sentences", 30, "K.")
flags.DEFINE_integer("max_words", 30, "T.")
flags.DEFINE_integer("embed_dim", 40, "Input word vector size.")
flags.DEFINE_integer("hidden", 100, "Encoder size.")
flags.DEFINE_integer("vocab_size", 50_000, "Vocabulary size.")
flags.DEFINE_integer("num_outputs", 20, "Outputs.")
flags.DEFINE_integer("steps", 60, "Timed steps.")
flags.DEFINE_string("quick_preset_on", None, "MasakhaNEWS manual dir: time the quick preset.")
flags.DEFINE_string("data_dir", "/tmp/mlclf_bench_tfds", "TFDS data dir for the quick preset.")
FLAGS = flags.FLAGS


def _synthetic_batches(rng, count):
    shape = (FLAGS.batch_size, FLAGS.max_sentences, FLAGS.max_words)
    batches = []
    for _ in range(count):
        lengths = rng.integers(5, FLAGS.max_words + 1, size=shape[:2])
        word_ids = rng.integers(2, FLAGS.vocab_size, size=shape)
        word_ids[np.arange(FLAGS.max_words)[None, None, :] >= lengths[..., None]] = 0
        word_ids[:, rng.integers(10, FLAGS.max_sentences):] = 0  # documents of varying length
        labels = (rng.random((FLAGS.batch_size, FLAGS.num_outputs)) < 0.2).astype("float32")
        lang_id = np.arange(FLAGS.batch_size) % FLAGS.languages
        batches.append(({"word_ids": word_ids.astype("int32"),
                         "lang_id": lang_id.astype("int32")}, labels))
    return batches


def _time_steps(jit_compile):
    from mlclf.models import han
    languages = 1 if FLAGS.model in ("nn", "hnn", "han") else FLAGS.languages
    model = han.build_model(FLAGS.model, num_languages=languages,
                            vocab_size=FLAGS.vocab_size, embed_dim=FLAGS.embed_dim,
                            num_outputs=FLAGS.num_outputs, encoder=FLAGS.encoder,
                            hidden=FLAGS.hidden, max_sentences=FLAGS.max_sentences,
                            max_words=FLAGS.max_words).train
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=losses.masked_binary_crossentropy,
                  jit_compile=jit_compile)
    batches = _synthetic_batches(np.random.default_rng(0), 8)
    if languages == 1:
        for features, _ in batches:
            features["lang_id"][:] = 0
    for features, labels in batches[:3]:  # trace and warm up
        model.train_on_batch(features, labels)
    start = time.perf_counter()
    for step in range(FLAGS.steps):
        model.train_on_batch(*batches[step % len(batches)])
    return FLAGS.steps * FLAGS.batch_size / (time.perf_counter() - start)


def _quick_preset(manual_dir):
    from mlclf import cli, task, training
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
    training.train(config, run_dir, flagfile_text=cli.flagfile_text(config, run_dir), verbose=2)
    return time.perf_counter() - start


def _load():
    """Other processes share the CPUs: report the load next to every figure."""
    return "load average {:.1f} {:.1f} {:.1f} on {} CPUs".format(*os.getloadavg(), os.cpu_count())


def main(argv):
    del argv
    if FLAGS.quick_preset_on:
        seconds = _quick_preset(FLAGS.quick_preset_on)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"quick preset on masakhanews: {seconds:.0f} s wall, peak RSS {peak_mb:.0f} MB "
              f"({_load()})")
        return
    print(f"{FLAGS.model} ({FLAGS.encoder}), {FLAGS.max_sentences}x{FLAGS.max_words}, "
          f"{FLAGS.embed_dim}-d input, hidden {FLAGS.hidden}, batch {FLAGS.batch_size}")
    for jit_compile in (False, True):
        print(f"  jit_compile={jit_compile!s:<5}: {_time_steps(jit_compile):8.0f} docs/s "
              f"({_load()})")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    app.run(main)
