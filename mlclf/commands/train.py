"""mlclf train: train a multilingual document classifier.

    mlclf train --model=mhan_att --dataset=sib200 --langs=en,ar
    mlclf train --flagfile=flags/quick_cpu.cfg --dataset=masakhanews --langs=all

Writes a run directory (see README): rerunning the same command resumes an interrupted run.
Every ExperimentConfig field is a flag (mlclf.cli); `python train.py` is the same command.
"""
import os
import sys

from absl import app, flags

from mlclf import cli, distribute, rundir, training

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("run_dir", None, "Run directory; default runs/<model>-<dataset>-<langs>.")
    flags.DEFINE_bool("overwrite", False, "Replace an existing run directory.")
    flags.DEFINE_integer("checkpoint_every", 200, "Save a resumable checkpoint every N steps.",
                         lower_bound=1)
    flags.DEFINE_enum("strategy", "auto", distribute.STRATEGIES,
                      "auto: all local GPUs (MirroredStrategy) if any, else one device; "
                      "multi_worker: the cluster in TF_CONFIG.")
    flags.DEFINE_bool("mixed_precision", False, "float16 compute with GPUs, bfloat16 without "
                      "(CPUs with AMX/AVX512_BF16); float32 weights, outputs and loss.")
    cli.define_experiment_flags()


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    try:
        # First: multi-worker collectives must be configured before TensorFlow does anything.
        strategy = distribute.make_strategy(FLAGS.strategy)
        config = cli.config_from_flags()
        run_dir = FLAGS.run_dir or rundir.default_path(config)
        training.train(config, run_dir, overwrite=FLAGS.overwrite,
                       checkpoint_every=FLAGS.checkpoint_every, strategy=strategy,
                       mixed_precision=FLAGS.mixed_precision)
    except training.USER_ERRORS as error:
        sys.exit(f"mlclf train: error: {error}")
    if distribute.is_chief():  # the other workers' folders are thrown away
        print(f"\nrun directory: {run_dir}\n"
              f"  tensorboard --logdir={os.path.join(run_dir, rundir.TENSORBOARD)}")
