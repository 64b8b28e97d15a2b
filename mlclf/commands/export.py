"""mlclf export: write a trained run's next SavedModel version (train already wrote export/1).

    mlclf export --run_dir=RUN [--version=N]

Prints the version's folder; the SavedModel and its signature: `mlclf.export`, README "Serving".
"""
import sys

from absl import app, flags

from mlclf import export

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("run_dir", None, "Run directory written by mlclf train.", required=True)
    flags.DEFINE_integer("version", None, "Version folder; default: the next integer.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    try:
        print(export.export_run(FLAGS.run_dir, FLAGS.version))
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        sys.exit(f"mlclf export: error: {error}")
