"""Train a multilingual document classifier: `mlclf train`, for a checkout without installing.

    python train.py --model=mhan_att --langs=en,ar
    python train.py --help
"""
from mlclf import commands

if __name__ == "__main__":
    commands.run("train")
