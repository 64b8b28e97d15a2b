"""The `mlclf` command (installed by pip): one entry point, a subcommand per task.

    mlclf train --model=mhan_att --dataset=sib200 --langs=en,ar
    mlclf predict --run_dir=RUN --lang=en --input=texts.txt
    mlclf train --help            every flag of the subcommand

Each subcommand is a module with `define_flags()` and `main(argv)` (absl), listed in
`COMMANDS`; train.py, evaluate.py and `python -m mlclf.<module>` run the same modules through
`run`, so every way of starting a command has the same flags and does the same thing.
"""
import importlib
import os
import sys

# (module, what it does), in the order a user meets them.
COMMANDS = {
    "prepare": ("mlclf.prepare", "build corpora ahead of training; print documents per split"),
    "train": ("mlclf.commands.train", "train, validate, keep the best epoch, evaluate, export"),
    "evaluate": ("mlclf.commands.evaluate", "score a run on a split, any copy of a corpus"),
    "predict": ("mlclf.commands.predict", "classify new texts with a run's exported model"),
    "export": ("mlclf.commands.export", "write a run's next SavedModel version"),
    "align": ("mlclf.align", "cross-lingual word vectors from a parallel corpus"),
}


def usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()]
    return ("usage: mlclf COMMAND [--flags]   (mlclf COMMAND --help: its flags)\n\ncommands:\n"
            + "\n".join(lines))


def run(name: str, argv=None) -> None:
    """Runs subcommand `name` with `argv` (default: the process' arguments after the program)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TF's C++ start-up chatter
    from absl import app, flags  # pylint: disable=import-outside-toplevel

    module = importlib.import_module(COMMANDS[name][0])
    before = set(flags.FLAGS)
    module.define_flags()
    # absl's --help lists the "key flags" of the program named by sys.argv[0]: make that the
    # subcommand, and every flag it defined (in cli.py too) one of its key flags.
    sys.argv[0] = f"mlclf {name}"
    for flag in sorted(set(flags.FLAGS) - before):
        flags.FLAGS.register_key_flag_for_module(sys.argv[0], flags.FLAGS[flag])
    sys.modules["__main__"].__doc__ = module.__doc__  # the usage text absl prints first
    app.run(module.main, argv=[sys.argv[0]] + list(sys.argv[1:] if argv is None else argv))


def main() -> None:
    """The console script: `mlclf COMMAND ...`."""
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help", "help"):
        print(usage())
        return
    name = sys.argv[1]
    if name not in COMMANDS:
        sys.exit(f"mlclf: unknown command {name!r}\n{usage()}")
    run(name, sys.argv[2:])
