"""The README's "Your own data" path with the installed command: train on CSV files with column
flags, predict on a text file, evaluate on another copy of the data in another format, with
codes and a label the run does not know."""
import csv
import json
import os
import subprocess
import sys

import pytest

from conftest import write_tiny_corpus

MLCLF = os.path.join(os.path.dirname(sys.executable), "mlclf")


def _mlclf(*args, cwd):
    done = subprocess.run([MLCLF, *args], capture_output=True, text=True, timeout=1800, cwd=cwd)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(folder, run directory) of a run trained with `mlclf train` on CSV/TSV files."""
    tmp = tmp_path_factory.mktemp("own_data")
    write_tiny_corpus(str(tmp / "jsonl"))
    (tmp / "csv").mkdir()
    for split, name in (("train", "train.csv"), ("validation", "dev.tsv"), ("test", "test.csv")):
        with open(tmp / "jsonl" / f"{split}.jsonl", encoding="utf-8") as f:
            rows = [json.loads(line) for line in f]
        with open(tmp / "csv" / name, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, delimiter="\t" if name.endswith(".tsv") else ",")
            writer.writerow(["language", "body", "topic"])
            writer.writerows([row["lang"], row["text"], row["labels"][0]] for row in rows)
    _mlclf("train", "--dataset=csv", f"--manual_dir={tmp / 'csv'}", "--text_column=body",
           "--label_column=topic", "--lang_column=language", "--langs=en,fr",
           "--embed_dim=8", "--hidden=8", "--max_sentences=4", "--max_words=8",
           "--wide_buckets=16384", "--batch_size=8",
           "--epochs=1", "--steps_per_epoch=4", f"--data_dir={tmp / 'tfds'}",
           f"--run_dir={tmp / 'run'}", cwd=tmp)
    return tmp, tmp / "run"


def test_a_run_trained_on_csv_files_predicts_a_text_file(trained):
    tmp, run = trained
    (tmp / "new.txt").write_text("The team won the football match.\nLe médecin et le vaccin.\n",
                                 encoding="utf-8")
    written = [json.loads(line) for line in _mlclf(
        "predict", f"--run_dir={run}", "--lang=en", f"--input={tmp / 'new.txt'}", cwd=tmp
    ).splitlines()]
    assert [record["id"] for record in written] == [1, 2]
    for record in written:
        assert set(record["scores"]) == {"sports", "health", "politics"}  # English's labels
        assert record["labels"] and set(record["labels"]) <= set(record["scores"])


def test_evaluate_scores_another_copy_with_other_codes_and_reports_unknown_labels(trained):
    tmp, run = trained
    # Another copy, as JSON lines, with ISO 639-3 codes and a label the run never saw.
    (tmp / "copy").mkdir()
    for split in ("train", "validation", "test"):
        with open(tmp / "jsonl" / f"{split}.jsonl", encoding="utf-8") as src, \
                open(tmp / "copy" / f"{split}.jsonl", "w", encoding="utf-8") as dst:
            for number, line in enumerate(src):
                record = json.loads(line)
                record["lang"] = {"en": "eng", "fr": "fra"}[record["lang"]]
                if split == "test" and number == 0:
                    record["labels"] = ["weather"]
                dst.write(json.dumps(record, ensure_ascii=False) + "\n")
    printed = _mlclf("evaluate", f"--run_dir={run}", "--dataset=jsonl",
                     f"--manual_dir={tmp / 'copy'}", "--split=test", "--per_label", cwd=tmp)
    assert "labels the run does not know, left out of the gold labels (documents): " \
           "weather (1)" in printed
    assert "confusion (rows: gold, columns: predicted)" in printed  # fra is single-label
    with open(run / "eval_test.json", encoding="utf-8") as f:
        test = json.load(f)["test"]
    assert list(test) == ["eng", "fra", "mean"]
    assert test["eng"]["num_docs"] == 24 and test["eng"]["unknown_labels"] == {"weather": 1}
    assert test["eng"]["per_label"]["sports"]["support"] == 7  # one of 8 became "weather"
    assert sum(test["fra"]["per_label"][label]["support"] for label in ("sports", "health")) == 16
    assert sum(map(sum, test["fra"]["confusion_matrix"]["matrix"])) >= 16
    assert test["mean"]["num_docs"] == 40


def test_training_leaves_a_run_card(trained):
    tmp, run = trained
    card = (run / "README.md").read_text(encoding="utf-8")
    with open(run / "metrics.json", encoding="utf-8") as f:
        test = json.load(f)["test"]
    for expected in (
            "mhan_att on csv (en, fr)",
            "read with `--text_column=body`, `--label_column=topic`, `--lang_column=language`",
            "| en | 72 | 18 | 24 | health, sports, politics |",  # documents per split, labels
            # single-label data: softmax scores, the best label
            "`--hidden=8`", "each document gets its best-scoring label",
            f"| fr | {test['fr']['micro_f1']:.3f} |", f"mlclf predict --run_dir={run} --lang=en",
            f"mlclf.load({str(run)!r})"):
        assert expected in card, expected
    assert card.index("## Validation") < card.index("## Test") < card.index("## Use it")
