"""Training throughput of the multi-window CNN (NCE) against this machine's matmul ceiling.

    python benchmarks/cnn_throughput.py                      # paper and CPU presets, all variants
    python benchmarks/cnn_throughput.py --presets=paper --steps=8
    python benchmarks/cnn_throughput.py --presets=paper --variants=xla,bf16 --noencoder_only

Results on the development machine: benchmarks/results/cnn_throughput.md.

For each preset (flags/cnn_paper.cfg: batch 35, 1500 words, 512-d, 128 filters; flags/cnn_cpu.cfg)
it prints:
  FLOP/doc     training FLOPs per document per step, counted analytically: every convolution's
               multiply-adds (N positions x window x input channels x filters) x 2 FLOP x 3 (forward,
               gradient of the input, gradient of the weights); the output layer adds < 0.01%.
  docs/s       training documents per second: full NCE training steps (sampler, loss, Adam over
               every weight, max-norm) on synthetic batches, for the variants
                 plain        TF ops only (oneDNN on x86), float32
                 xla_encoder  the encoder of the step XLA-compiled (jit_update=False), float32
                 xla          encoder and optimizer update XLA-compiled: CnnClassifier's default
                 bf16         encoder_dtype="mixed_bfloat16": bfloat16 convolutions (oneDNN, AMX
                              where the CPU has it), float32 weights, outputs and loss; opt-in
  GFLOP/s      docs/s x FLOP/doc, and its fraction of the matmul ceiling (a float32 ceiling: the
               bf16 row can exceed 100%).
  docs/cpu-s   docs/s divided by the cores the process got (CPU time / wall time): what a step
               costs in CPU time, steadier than docs/s when other processes share the cores.
  encoder      the XLA-compiled encoder's forward+backward alone (no sampler, loss or optimizer):
               how much of a step the rest costs.
  update       seconds per step of the optimizer's update alone (Adam over every weight on one
               step's gradients, max-norm), as TF ops and XLA-compiled.
The vocabulary is the preset's --max_vocab (paper: ExperimentConfig's default, 100,000 words)
plus the two reserved ids: Adam updates the whole [vocab, embed_dim] embedding every step.
The matmul ceiling is measured here, in the same process: the best of several float32
[4096 x 4096] @ [4096 x 4096] products (tf.matmul, all intra-op threads), before and after.

Timings on a shared machine move with the other processes' load: the script prints the load
average and how many cores this process itself got while timing (CPU time / wall time).
Synthetic batches are full-length documents (a convolution costs the same on padding).
"""
import os
import resource
import time

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags

from mlclf.models.cnn import CnnClassifier

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WINDOWS = (32, 16, (3, 4, 5))

flags.DEFINE_list("presets", ["paper", "cpu"], "Presets: flags/cnn_<name>.cfg.")
VARIANTS = {  # CnnClassifier arguments
    "plain": dict(jit_encoder=False, jit_update=False),
    "xla_encoder": dict(jit_encoder=True, jit_update=False),
    "xla": dict(jit_encoder=True, jit_update=True),
    "bf16": dict(encoder_dtype="mixed_bfloat16", jit_update=True),
}
flags.DEFINE_list("variants", list(VARIANTS), "Variants to time, from: " + ", ".join(VARIANTS))
flags.DEFINE_integer("vocab_size", 0, "Vocabulary size (0: the preset's --max_vocab + 2).")
flags.DEFINE_bool("update_only", True, "Also time the optimizer's update alone.")
flags.DEFINE_integer("steps", 5, "Timed training steps per preset and variant (paper size; "
                     "the CPU preset times 20x as many).")
flags.DEFINE_integer("warmup", 2, "Untimed steps first (tracing, XLA compilation).")
flags.DEFINE_integer("num_outputs", 300, "Labels in the output layer.")
flags.DEFINE_bool("encoder_only", True, "Also time the XLA encoder's forward+backward alone.")
flags.DEFINE_integer("intra_op_threads", 0, "TF intra-op threads (0: TF's default).")
flags.DEFINE_integer("inter_op_threads", 0, "TF inter-op threads (0: TF's default).")
FLAGS = flags.FLAGS


def read_preset(name):
    """The model sizes of flags/cnn_<name>.cfg (ExperimentConfig defaults where unset)."""
    settings = {}
    with open(os.path.join(REPO, "flags", f"cnn_{name}.cfg"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("--"):
                key, _, value = line[2:].strip().partition("=")
                settings[key] = value
    return dict(batch_size=int(settings["batch_size"]), max_words=int(settings["max_words"]),
                embed_dim=int(settings["embed_dim"]), num_filters=int(settings["num_filters"]),
                vocab_size=int(settings.get("max_vocab", 100_000)) + 2,
                num_sampled=int(settings["num_sampled"]), num_true=int(settings["num_true"]))


def training_flop_per_doc(max_words, embed_dim, num_filters, windows=WINDOWS):
    """Forward multiply-adds of every convolution x 2 FLOP x 3 (forward, two gradients)."""
    *stacked, branches = windows
    channels, macs = embed_dim, 0
    for window in stacked:
        macs += max_words * window * channels * num_filters
        channels = num_filters
    macs += sum(max_words * window * channels * num_filters for window in branches)
    return 2 * 3 * macs


def matmul_gflops(n=4096, repeats=5):
    a = tf.random.normal([n, n], seed=1)
    b = tf.random.normal([n, n], seed=2)
    product = tf.function(tf.matmul)
    product(a, b).numpy()
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        product(a, b).numpy()
        best = max(best, 2 * n ** 3 / (time.perf_counter() - start) / 1e9)
    return best


class CoreMeter:
    """Cores this process used between start() and stop(): CPU seconds / wall seconds."""

    def start(self):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self._cpu, self._wall = usage.ru_utime + usage.ru_stime, time.perf_counter()
        return self

    def stop(self):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        wall = time.perf_counter() - self._wall
        return wall, (usage.ru_utime + usage.ru_stime - self._cpu) / wall


def synthetic_batch(preset, num_outputs, rng):
    shape = (preset["batch_size"], preset["max_words"])
    word_ids = rng.integers(2, preset["vocab_size"], size=shape).astype("int32")
    label_ids = rng.integers(0, num_outputs, size=(shape[0], preset["num_true"]))
    labels = np.zeros((shape[0], num_outputs), "float32")
    np.put_along_axis(labels, label_ids, 1.0, axis=1)
    return ({"word_ids": word_ids, "lang_id": np.zeros(shape[0], "int32")},
            {"labels": labels, "label_ids": label_ids.astype("int64")})


def build(preset, variant):
    keras.utils.set_random_seed(0)
    model = CnnClassifier(vocab_size=preset["vocab_size"], num_outputs=FLAGS.num_outputs,
                          embed_dim=preset["embed_dim"], num_filters=preset["num_filters"],
                          windows=WINDOWS, max_words=preset["max_words"], loss="nce",
                          num_sampled=preset["num_sampled"], num_true=preset["num_true"],
                          **VARIANTS[variant])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)
    return model


def time_training(preset, variant, steps):
    """(docs/s, cores used) of full training steps."""
    model = build(preset, variant)
    batch = synthetic_batch(preset, FLAGS.num_outputs, np.random.default_rng(0))
    for _ in range(FLAGS.warmup):
        model.train_on_batch(*batch)
    meter = CoreMeter().start()
    for _ in range(steps):
        loss = model.train_on_batch(*batch)
    float(np.asarray(loss))  # the last step has finished
    wall, cores = meter.stop()
    return steps * preset["batch_size"] / wall, cores


def time_encoder(preset, steps):
    """docs/s of the XLA-compiled encoder's forward+backward alone."""
    model = build(preset, "xla")
    encoder = model.encoder

    @tf.function(jit_compile=True)
    def forward_backward(word_ids):
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(encoder(word_ids, training=True))
        return tape.gradient(total, encoder.trainable_variables)

    word_ids = tf.constant(synthetic_batch(preset, FLAGS.num_outputs,
                                           np.random.default_rng(0))[0]["word_ids"])
    for _ in range(FLAGS.warmup):
        forward_backward(word_ids)
    meter = CoreMeter().start()
    for _ in range(steps):
        gradients = forward_backward(word_ids)
    [tf.convert_to_tensor(g).numpy() for g in gradients]
    wall, cores = meter.stop()
    return steps * preset["batch_size"] / wall, cores


def time_update(preset, steps):
    """{"plain"|"xla": (seconds per update, cores used)} of the optimizer's update alone, on the
    gradients of one training step (the embedding's and the sampled output rows' are sparse)."""
    model = build(preset, "xla")
    features, targets = synthetic_batch(preset, FLAGS.num_outputs, np.random.default_rng(0))
    features = {"word_ids": tf.constant(features["word_ids"])}
    targets = {"label_ids": tf.constant(targets["label_ids"])}

    @tf.function
    def gradients():
        with tf.GradientTape() as tape:
            loss = model._training_loss(features, targets)
        return tape.gradient(loss, model.trainable_variables)

    grads = gradients()
    variables = model.trainable_variables
    model.optimizer.build(variables)
    results = {}
    for name, jit in (("plain", False), ("xla", True)):
        update = tf.function(lambda: model.optimizer.apply(grads, variables), jit_compile=jit,
                             autograph=False)
        update()
        meter = CoreMeter().start()
        for _ in range(steps):
            update()
        model.optimizer.iterations.numpy()  # the updates have finished
        wall, cores = meter.stop()
        results[name] = (wall / steps, cores)
    return results


def main(argv):
    del argv
    if FLAGS.intra_op_threads:
        tf.config.threading.set_intra_op_parallelism_threads(FLAGS.intra_op_threads)
    if FLAGS.inter_op_threads:
        tf.config.threading.set_inter_op_parallelism_threads(FLAGS.inter_op_threads)
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPUs, "
          f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}, "
          f"TF_ENABLE_ONEDNN_OPTS={os.environ.get('TF_ENABLE_ONEDNN_OPTS', 'default')}")
    print("load average (1/5/15 min) at start: %.2f %.2f %.2f" % os.getloadavg())
    meter = CoreMeter().start()
    ceilings = [matmul_gflops()]
    _, cores = meter.stop()
    print(f"matmul ceiling: {ceilings[0]:.0f} GFLOP/s (float32 4096^3, {cores:.2f} cores used)")
    rows = []
    for name in FLAGS.presets:
        preset = read_preset(name)
        if FLAGS.vocab_size:
            preset["vocab_size"] = FLAGS.vocab_size
        flop = training_flop_per_doc(preset["max_words"], preset["embed_dim"],
                                     preset["num_filters"])
        steps = FLAGS.steps if name == "paper" else 20 * FLAGS.steps
        print(f"\n{name}: batch {preset['batch_size']}, {preset['max_words']} words, "
              f"{preset['embed_dim']}-d, {preset['num_filters']} filters, vocabulary "
              f"{preset['vocab_size']}, {FLAGS.num_outputs} outputs: "
              f"{flop / 1e9:.3f} GFLOP/doc/training step", flush=True)
        timings = []
        for variant in FLAGS.variants + (["encoder"] if FLAGS.encoder_only else []):
            docs, cores = (time_encoder(preset, steps) if variant == "encoder"
                           else time_training(preset, variant, steps))
            rows.append((name, variant, docs, docs * flop / 1e9, cores))
            print(f"  {variant:<12} {docs:9.2f} docs/s  {docs * flop / 1e9:7.1f} GFLOP/s  "
                  f"({cores:.2f} cores used; load {os.getloadavg()[0]:.2f})", flush=True)
        if FLAGS.update_only:
            for variant, (seconds, cores) in time_update(preset, steps).items():
                print(f"  update {variant:<5} {seconds:7.3f} s/step of the optimizer alone "
                      f"({cores:.2f} cores used)", flush=True)
    meter = CoreMeter().start()
    ceilings.append(matmul_gflops())
    _, cores = meter.stop()
    ceiling = max(ceilings)
    print(f"\nmatmul ceiling again: {ceilings[1]:.0f} GFLOP/s ({cores:.2f} cores used); "
          f"fractions below use the best, {ceiling:.0f} GFLOP/s")
    print("load average (1/5/15 min) at end: %.2f %.2f %.2f" % os.getloadavg())
    print(f"\n{'preset':<7}{'variant':<13}{'docs/s':>9}{'GFLOP/s':>9}{'of matmul':>11}"
          f"{'cores':>7}{'docs/cpu-s':>12}")
    for name, variant, docs, gflops, cores in rows:
        print(f"{name:<7}{variant:<13}{docs:9.2f}{gflops:9.1f}{gflops / ceiling:11.0%}"
              f"{cores:7.2f}{docs / cores:12.2f}")


if __name__ == "__main__":
    app.run(main)
