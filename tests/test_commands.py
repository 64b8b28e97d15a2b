"""The `mlclf` command: its subcommands, and `--help` showing every flag of each."""
import os
import re
import subprocess
import sys

import pytest

from mlclf import cli, commands, task

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The installed console script, beside this interpreter.
MLCLF = os.path.join(os.path.dirname(sys.executable), "mlclf")


def _help(argv):
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False, cwd=REPO)
    assert done.returncode in (0, 1), done.stderr[-2000:]  # absl exits 1 after --help
    return done.stdout


def _flags_in(help_text):
    return set(re.findall(r"^  --(?:\[no\])?(\w+):", help_text, flags=re.MULTILINE))


def test_mlclf_lists_every_subcommand():
    listed = _help([MLCLF, "--help"])
    for name in commands.COMMANDS:
        assert re.search(rf"^  {name}\s", listed, flags=re.MULTILINE), listed


def test_mlclf_train_help_shows_every_config_flag_and_train_py_shows_the_same():
    fields = {field for field in task.ExperimentConfig.__dataclass_fields__}
    shown = _flags_in(_help([MLCLF, "train", "--help"]))
    assert fields <= shown
    assert {"run_dir", "overwrite", "checkpoint_every", "strategy"} <= shown
    assert _flags_in(_help([sys.executable, "train.py", "--help"])) == shown


@pytest.mark.parametrize("name", [name for name in commands.COMMANDS if name != "train"])
def test_each_subcommand_help_shows_its_own_flags(name):
    shown = _flags_in(_help([sys.executable, "-m", "mlclf", name, "--help"]))
    # Every command that reads a corpus shows the corpus flags it defines; none shows train's.
    assert "run_dir" in shown or set(cli.CORPUS_FLAGS) <= shown, shown
    assert "checkpoint_every" not in shown


def test_an_unknown_subcommand_is_named_with_the_list():
    done = subprocess.run([MLCLF, "tarin"], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "unknown command 'tarin'" in done.stderr and "train" in done.stderr
