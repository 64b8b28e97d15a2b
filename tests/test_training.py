"""End to end on a tiny corpus: train, resume, refuse to overwrite, stop on NaN, evaluate."""
import dataclasses
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from mlclf import evaluation, metrics, rundir, task, text, training

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _config(corpus, data_dir, **overrides):
    # The wide branch at a test's size (1M buckets by default; tests/test_wide.py tests it).
    settings = dict(model="mhan_att", dataset="jsonl", langs=("en", "fr"), manual_dir=corpus,
                    data_dir=str(data_dir), embed_dim=16, hidden=16, max_sentences=4,
                    max_words=8, wide_buckets=1 << 14, batch_size=8, epochs=2,
                    steps_per_epoch=6, learning_rate=0.01, seed=3)
    settings.update(overrides)
    return task.ExperimentConfig(**settings)


def _train(config, run_dir, **kwargs):
    return training.train(config, str(run_dir), verbose=0, **kwargs)


def test_training_writes_the_run_directory_and_learns(tiny_corpus, tmp_path):
    run_dir = tmp_path / "run"
    # A data dir of its own: the test checks the token caches the run writes there.
    results = _train(_config(tiny_corpus, tmp_path / "tfds", epochs=4), run_dir)
    for name in ("config.json", "flags.cfg", "metrics.json", "vocab", "labels",
                 rundir.BEST_WEIGHTS, "tensorboard"):
        assert (run_dir / name).exists(), name
    with open(run_dir / "metrics.json") as f:
        written = json.load(f)
    # metrics.json: the returned tables, each split with its mean row (the printed one).
    assert {split: {lang: row for lang, row in table.items() if lang != "mean"}
            for split, table in written.items()} == results
    assert written["test"]["mean"] == metrics.over_languages(results["test"].values())
    assert set(results) == {"validation", "test"}
    for split in results.values():
        assert set(split) == {"en", "fr"}
        for row in split.values():
            assert set(row) >= {"micro_f1", "macro_f1", "precision", "recall", "jaccard", "num_docs"}
            assert all(0.0 <= row[key] <= 1.0 for key in ("micro_f1", "macro_f1", "jaccard"))
    assert results["test"]["en"]["num_docs"] == 24 and results["test"]["fr"]["num_docs"] == 16
    # The topic words make the task easy: the model must beat chance clearly.
    assert np.mean([row["micro_f1"] for row in results["test"].values()]) > 0.6
    # TensorBoard's projector gets every validation document's vector, language and labels.
    assert (run_dir / "tensorboard" / "projector_config.pbtxt").exists()
    vectors = np.loadtxt(run_dir / "tensorboard" / "document_vectors.tsv", delimiter="\t")
    with open(run_dir / "tensorboard" / "document_metadata.tsv", encoding="utf-8") as f:
        metadata = [line.rstrip("\n").split("\t") for line in f][1:]
    assert vectors.shape == (18 + 12, 16)  # 6 validation documents per label; hidden 16
    assert [row[0] for row in metadata] == ["en"] * 18 + ["fr"] * 12
    assert {row[1] for row in metadata} == {"sports", "health", "politics"}
    # Each split was tokenised once, into the cache beside the prepared corpus.
    # (<lang>/<version>/mlclf_tokens/<split>-<mode>-<tokeniser>)
    caches = sorted((path.parts[-4], path.name)
                    for path in (tmp_path / "tfds").glob("**/mlclf_tokens/*"))
    assert caches == [(lang, f"{split}-hierarchical-{text.fingerprint()}")
                      for lang in ("en", "fr") for split in ("test", "train", "validation")]


@pytest.fixture(scope="module")
def finished(tiny_corpus, tmp_path_factory):
    """(config, run directory, results) of a finished one-epoch run, shared by the tests that
    train it again or try to overwrite it. Its data dir is its own: the run builds the corpus,
    which the same-seed test's run then finds built."""
    tmp = tmp_path_factory.mktemp("finished")
    config = _config(tiny_corpus, tmp / "tfds", epochs=1)
    return config, tmp / "run", _train(config, tmp / "run")


def test_same_seed_gives_the_same_run(finished, tmp_path):
    config, _, first = finished
    assert _train(config, tmp_path / "again") == first  # the corpus built already this time


def test_finished_or_different_run_dir_is_not_overwritten(finished, tmp_path):
    config, finished_dir, _ = finished
    run_dir = tmp_path / "run"
    shutil.copytree(finished_dir, run_dir)
    with pytest.raises(rundir.RunDirExists, match="finished"):
        _train(config, run_dir)
    other = dataclasses.replace(config, hidden=8, steps_per_epoch=2)
    with pytest.raises(rundir.RunDirExists, match="--overwrite"):
        _train(other, run_dir)
    _train(other, run_dir, overwrite=True)
    assert json.loads((run_dir / rundir.CONFIG).read_text())["hidden"] == 8


# Trains twice; the default suite's tests/test_interrupted_runs.py kills a run at the same
# step (9, checkpoints every 2) and checks the rerun's weights equal an uninterrupted run's.
@pytest.mark.slow
def test_interrupted_training_resumes_from_the_last_checkpoint(tiny_corpus, tiny_data_dir,
                                                                tmp_path, monkeypatch):
    config = _config(tiny_corpus, tiny_data_dir, epochs=2, steps_per_epoch=6)
    run_dir = tmp_path / "run"
    original = training.StopOnNaN.on_train_batch_end
    seen = {"steps": 0}

    def interrupt(self, batch, logs=None):
        seen["steps"] += 1
        if seen["steps"] == 9:  # epoch 2, step 3: after the checkpoint at step 2
            raise KeyboardInterrupt
        original(self, batch, logs)

    monkeypatch.setattr(training.StopOnNaN, "on_train_batch_end", interrupt)
    with pytest.raises(KeyboardInterrupt):
        _train(config, run_dir, checkpoint_every=2)
    monkeypatch.setattr(training.StopOnNaN, "on_train_batch_end", original)

    restored = {}
    original_restore = training.Checkpointer.restore

    def record(self):
        restored["at"] = original_restore(self)
        return restored["at"]

    monkeypatch.setattr(training.Checkpointer, "restore", record)
    results = _train(config, run_dir, checkpoint_every=2)
    assert restored["at"] == (1, 2)
    assert set(results["test"]) == {"en", "fr"}


def test_nan_loss_stops_with_a_clear_message(tiny_corpus, tiny_data_dir, tmp_path,
                                             monkeypatch):
    import keras
    from mlclf import losses

    def nan_loss(y_true, y_pred):
        return keras.ops.mean(y_pred) * float("nan")

    monkeypatch.setattr(losses, "for_activation", lambda activation, label_weights=None: nan_loss)
    with pytest.raises(training.TrainingDiverged, match="learning_rate"):
        _train(_config(tiny_corpus, tiny_data_dir, epochs=1), tmp_path / "run")


def test_train_and_evaluate_commands(tiny_corpus, tiny_data_dir, tmp_path):
    run_dir = tmp_path / "cli_run"
    common = [f"--manual_dir={tiny_corpus}", f"--data_dir={tiny_data_dir}"]
    subprocess.run([sys.executable, "train.py", "--model=mhan_both", "--dataset=jsonl",
                    "--langs=en,fr", "--embed_dim=8", "--hidden=8", "--max_sentences=3",
                    "--max_words=6", "--wide_buckets=16384", "--epochs=1", "--steps_per_epoch=3",
                    "--label_space=shared", f"--run_dir={run_dir}"] + common,
                   cwd=REPO, check=True, capture_output=True)
    # A single-label corpus: softmax scores, decided by the best label; no threshold to tune.
    refused = subprocess.run([sys.executable, "evaluate.py", f"--run_dir={run_dir}",
                              "--split=test", "--tune_threshold"],
                             cwd=REPO, capture_output=True, text=True)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().splitlines()[-1].startswith(
        "mlclf evaluate: error: --tune_threshold: this run decides by the best label")
    run = rundir.load(str(run_dir))
    with pytest.raises(ValueError, match=r"^--threshold=0.3: this run decides by the best label"):
        evaluation.evaluate_split(run.config, run.resources, run.models.inspect, "test",
                                  threshold=0.3)
    predictions = tmp_path / "predictions.jsonl"
    done = subprocess.run([sys.executable, "evaluate.py", f"--run_dir={run_dir}",
                           "--split=test", f"--predictions={predictions}"],
                          cwd=REPO, check=True, capture_output=True, text=True)
    assert "micro" in done.stdout.lower() and "en" in done.stdout
    with open(run_dir / "eval_test.json") as f:
        table = json.load(f)["test"]
    assert set(table) == {"en", "fr", "mean"}
    records = [json.loads(line) for line in predictions.read_text().splitlines()]
    assert len(records) == 40
    first = records[0]
    assert {"id", "lang", "gold", "predicted", "word_attention", "sentence_attention"} <= set(first)
    assert len(first["word_attention"]) == len(first["sentence_attention"]) == len(first["sentences"])
    assert sum(first["sentence_attention"]) == pytest.approx(1.0, abs=1e-3)


def test_unknown_language_is_a_clear_command_error(tiny_corpus, tmp_path):
    done = subprocess.run([sys.executable, "train.py", "--model=mhan_att", "--dataset=jsonl",
                           "--langs=en,xx", f"--manual_dir={tiny_corpus}",
                           f"--data_dir={tmp_path / 'tfds'}", f"--run_dir={tmp_path / 'r'}"],
                          cwd=REPO, capture_output=True, text=True)
    assert done.returncode != 0
    assert "xx" in done.stderr and "en" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("model,encoder,by_word_type,xla", [
    ("mhan_att", "dense", False, True), ("nn", "dense", True, True),
    ("han", "dense", True, False), ("mhan_att", "gru", True, False)])
def test_hierarchical_models_train_with_xla_where_they_can(model, encoder, by_word_type, xla):
    """Whole steps XLA-compiled where every shape is static (the per-slot form, nn), not for
    the word-type level or GRUs; the Adam update compiled in every case."""
    import warnings
    from types import SimpleNamespace
    from mlclf import models, optimizers
    from mlclf.models import han
    built = han.build_model(model, num_languages=2 if model.startswith("mhan") else 1,
                            vocab_size=20, embed_dim=4, num_outputs=3, encoder=encoder,
                            hidden=4, max_sentences=2, max_words=3,
                            by_word_type=by_word_type).train
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "doesn't support jit_compile" warning either
        models.get(model).compile(built, SimpleNamespace(learning_rate=0.01),
                                  SimpleNamespace(activation="sigmoid", label_weights=None))
    assert built.jit_compile is xla
    assert isinstance(built.optimizer, optimizers.CompiledAdam)
