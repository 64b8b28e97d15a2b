"""Evaluate a trained run on a split: `mlclf evaluate`, for a checkout without installing.

    python evaluate.py --run_dir=RUN --split=test
    python evaluate.py --help
"""
from mlclf import commands

if __name__ == "__main__":
    commands.run("evaluate")
