"""Flags: every command that reads a corpus has the same corpus flags, defined in one place."""
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pytest

from mlclf import cli

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMANDS = {"train.py": ["train.py"], "evaluate.py": ["evaluate.py"],
            "prepare": ["-m", "mlclf.prepare"], "align": ["-m", "mlclf.align"]}


def _flags(command):
    """{name: (help, default, type)} of the corpus flags a command defines (absl --helpxml)."""
    done = subprocess.run([sys.executable, *command, "--helpxml"], cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode in (0, 1), done.stderr[-2000:]  # absl exits 1 after the help
    flags = ElementTree.fromstring(done.stdout).iter("flag")
    return {flag.findtext("name"): (flag.findtext("meaning"), flag.findtext("default"),
                                    flag.findtext("type"))
            for flag in flags if flag.findtext("name") in cli.CORPUS_FLAGS}


def test_commands_share_the_corpus_flags_names_types_and_meanings():
    defined = {name: _flags(command) for name, command in COMMANDS.items()}
    train = defined.pop("train.py")
    assert set(train) == set(cli.CORPUS_FLAGS)
    assert train["langs"][1] == "en,ar" and train["data_dir"][1] == "~/tensorflow_datasets"
    for command, flags in defined.items():
        for name, (meaning, default, kind) in flags.items():
            # The same help, with at most a note on what the command's own default means.
            assert meaning.startswith(train[name][0]), (command, name)
            assert kind == train[name][2], (command, name)
    assert set(defined["prepare"]) == set(defined["align"]) == set(cli.CORPUS_FLAGS)
    assert defined["prepare"]["langs"][1] == defined["align"]["langs"][1] == "all"
    # evaluate: the same flags, unset meaning the run's corpus (or another one).
    assert set(defined["evaluate.py"]) == set(cli.CORPUS_FLAGS)


@pytest.mark.parametrize("flag,environment,expected", [
    ("/given", "/shared", "/given"), (None, "/shared", os.path.join("/shared", "brighter")),
    (None, None, None)])
def test_manual_dir_falls_back_to_the_environment(monkeypatch, flag, environment, expected):
    if environment is None:
        monkeypatch.delenv("MLCLF_MANUAL_DIR", raising=False)
    else:
        monkeypatch.setenv("MLCLF_MANUAL_DIR", environment)
    assert cli.manual_dir(flag, "brighter") == expected
