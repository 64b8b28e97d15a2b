"""Train a multilingual document classifier.

    python train.py --model=mhan_att --langs=en,ar
    python train.py --flagfile=flags/quick_cpu.cfg --dataset=masakhanews --langs=all

Writes a run directory (see README): rerunning the same command resumes an interrupted run.
"""
import os
import sys

from absl import app, flags

from mlclf import cli, training

flags.DEFINE_string("run_dir", None, "Run directory; default runs/<model>-<dataset>-<langs>.")
flags.DEFINE_bool("overwrite", False, "Replace an existing run directory.")
flags.DEFINE_integer("checkpoint_every", 200, "Save a resumable checkpoint every N steps.")
cli.define_experiment_flags()
FLAGS = flags.FLAGS


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    try:
        config = cli.config_from_flags()
        run_dir = FLAGS.run_dir or os.path.join(
            "runs", f"{config.model}-{config.dataset}-{'_'.join(config.langs)}")
        training.train(config, run_dir, flagfile_text=cli.flagfile_text(config, run_dir),
                       overwrite=FLAGS.overwrite, checkpoint_every=FLAGS.checkpoint_every)
    except (ValueError, training.TrainingDiverged, training.RunDirExists) as error:
        sys.exit(f"train.py: error: {error}")
    print(f"\nrun directory: {run_dir}\n  tensorboard --logdir={os.path.join(run_dir, 'tensorboard')}")


if __name__ == "__main__":
    app.run(main)
