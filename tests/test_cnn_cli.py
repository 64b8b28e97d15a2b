"""The CNN as a user runs it: train.py with a cnn preset, evaluate.py on a language never seen."""
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_cnn_preset_trains_and_evaluates_an_unseen_language(tiny_corpus, tiny_data_dir, tmp_path):
    run_dir = tmp_path / "run"
    common = [f"--manual_dir={tiny_corpus}", f"--data_dir={tiny_data_dir}"]
    # flags/cnn_cpu.cfg, made tiny; English only: French is never seen in training.
    subprocess.run([sys.executable, "train.py", "--flagfile=flags/cnn_cpu.cfg",
                    "--dataset=jsonl", "--langs=en", "--max_words=16", "--embed_dim=8",
                    "--num_filters=4", "--min_count=1", "--num_sampled=2", "--batch_size=8",
                    "--epochs=1", "--steps_per_epoch=3", f"--run_dir={run_dir}"] + common,
                   cwd=REPO, check=True, capture_output=True)
    with open(run_dir / "metrics.json") as f:
        assert set(json.load(f)["test"]["en"]) >= {"jaccard", "micro_f1", "macro_f1"}
    done = subprocess.run([sys.executable, "evaluate.py", f"--run_dir={run_dir}",
                           "--split=test", "--langs=en,fr", "--tune_threshold",
                           "--threshold=0.97"],  # the fallback: tuning never picks it
                          cwd=REPO, check=True, capture_output=True, text=True)
    assert "fr (unseen)" in done.stdout
    with open(run_dir / "eval_test.json") as f:
        table = json.load(f)["test"]
    assert table["fr"]["unseen"] and "unseen" not in table["en"]
    assert table["fr"]["num_docs"] == 16 and table["en"]["num_docs"] == 24
    # French has no validation data of its own to tune on: it gets the threshold tuned on the
    # training languages' validation documents pooled, here English's alone (all the outputs).
    assert table["fr"]["threshold"] == table["en"]["threshold"] != 0.97

    # Top-k decisions instead of a threshold: one label per document, the best.
    predictions = tmp_path / "top1.jsonl"
    subprocess.run([sys.executable, "evaluate.py", f"--run_dir={run_dir}", "--split=test",
                    "--langs=en,fr", "--top_k=1", f"--predictions={predictions}"],
                   cwd=REPO, check=True, capture_output=True, text=True)
    with open(run_dir / "eval_test.json") as f:
        table = json.load(f)["test"]
    del table["mean"]
    for row in table.values():  # one gold and one predicted label per document
        assert row["top_k"] == 1 and "threshold" not in row
        assert row["precision"] == row["recall"]  # the same count over the same count
        # 2PR/(P+R) is P mathematically, not always in floating point (2/40: 1 ulp off).
        assert row["micro_f1"] == pytest.approx(row["precision"], rel=1e-12)
    records = [json.loads(line) for line in predictions.read_text().splitlines()]
    assert len(records) == 40
    for record in records:  # the best label; scores are rounded, so ties are allowed
        [predicted] = record["predicted"]
        assert predicted["score"] == record["scores"][predicted["label"]] == max(
            record["scores"].values())
    refused = subprocess.run([sys.executable, "evaluate.py", f"--run_dir={run_dir}",
                              "--top_k=1", "--tune_threshold"], cwd=REPO, capture_output=True,
                             text=True)
    assert refused.returncode != 0 and "not both" in refused.stderr
