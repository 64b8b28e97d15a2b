"""A model defined and registered here, outside mlclf, trains, evaluates and exports through
train.py's own code path (`training.train`): the registry is the only place a new model touches
(docs/extending.md)."""
import os

import keras
import numpy as np
import pytest

from mlclf import evaluation, models, rundir, task, training

from export_checks import served_and_scored

NAME = "bag_of_embeddings"


def build_bag_of_embeddings(config, resources, matrix=None):
    """The mean of a document's word vectors -> sigmoid scores over every output."""
    word_ids = keras.Input((config.max_words,), dtype="int32", name="word_ids")
    inputs = {"word_ids": word_ids, "lang_id": keras.Input((), dtype="int32", name="lang_id")}
    vectors = keras.layers.Embedding(resources.vocabulary.size, config.embed_dim,
                                     weights=None if matrix is None else [matrix],
                                     name="embedding")(word_ids)
    real = keras.ops.expand_dims(keras.ops.cast(keras.ops.not_equal(word_ids, 0), "float32"), -1)
    document = keras.ops.sum(vectors * real, axis=1) / keras.ops.maximum(
        keras.ops.sum(real, axis=1), 1.0)
    scores = keras.layers.Dense(resources.label_space.num_outputs, activation="sigmoid",
                                name="scores")(document)
    return models.Models(train=keras.Model(inputs, scores),
                         inspect=keras.Model(inputs, {"scores": scores, "document": document}))


# The one registration line; it trains the registry's default way (sigmoid scores, masked
# binary cross-entropy on the `labels` targets).
models.register({NAME: models.ModelSpec(build_bag_of_embeddings, hierarchical=False,
                                        multilingual=True, language_agnostic=True)})


def test_a_name_is_registered_once():
    with pytest.raises(ValueError, match="registered already"):
        models.register({NAME: models.get(NAME)})


def test_a_model_registered_outside_mlclf_trains_evaluates_and_exports(tiny_corpus,
                                                                       tiny_data_dir, tmp_path):
    config = task.ExperimentConfig(
        model=NAME, dataset="jsonl", langs=("en", "fr"), manual_dir=tiny_corpus,
        data_dir=tiny_data_dir, label_space="shared", embed_dim=16, max_words=24,
        batch_size=8, epochs=3, steps_per_epoch=8, learning_rate=0.05, seed=2)
    assert not config.hierarchical  # the registry's trait, asked through the config
    run_dir = str(tmp_path / "run")
    results = training.train(config, run_dir, verbose=0)
    with open(os.path.join(run_dir, rundir.FLAGFILE), encoding="utf-8") as f:
        assert f"--model={NAME}\n" in f.read()
    assert np.mean([row["micro_f1"] for row in results["test"].values()]) > 0.6

    # evaluate.py's path: the run read back gives metrics.json's numbers again, and tunes.
    run = rundir.load(run_dir)
    again = evaluation.evaluate_split(run.config, run.resources, run.models.inspect, "test")
    assert again.table == results["test"]
    tuned = evaluation.evaluate_split(run.config, run.resources, run.models.inspect, "test",
                                      tune_threshold=True).annotated_table()
    assert all(0 < row["threshold"] < 1 for row in tuned.values())
    # Nothing per language, shared labels and vocabulary: it may read a language never seen.
    assert evaluation.unseen_language_problem(run.config, "de") is None

    # The export that train() wrote serves raw text, with the model's own scores.
    served, _ = served_and_scored(run_dir, run, "The doctor at the hospital gave the vaccine.",
                                  "en", "health")
    assert served["labels"].numpy()[0, 0].decode() == "health"


def test_auto_label_space_and_vocab_are_what_the_model_spec_says():
    # The CNN paper's system unless asked otherwise; the MHAN family keeps per-language heads.
    cnn = task.ExperimentConfig(model="cnn", langs=("en", "ar"))
    assert (cnn.label_space, cnn.vocab) == ("shared", "shared")
    mhan = task.ExperimentConfig(model="mhan_att", langs=("en", "ar"))
    assert (mhan.label_space, mhan.vocab) == ("per_language", "shared")
    asked = task.ExperimentConfig(model="cnn", langs=("en", "ar"), label_space="per_language")
    assert asked.label_space == "per_language"
    # config.json holds the resolved value, so the run reads back the same whatever auto means.
    assert task.ExperimentConfig.from_json(cnn.to_json()).label_space == "shared"
    assert '"label_space": "shared"' in cnn.to_json()
    # A model says what auto means for it in its spec, and nowhere else.
    models.register({"auto_probe": models.ModelSpec(
        build_bag_of_embeddings, hierarchical=False, multilingual=True, language_agnostic=True,
        auto={"vocab": "per_language"})})
    probe = task.ExperimentConfig(model="auto_probe", langs=("en", "ar"))
    assert (probe.label_space, probe.vocab) == ("per_language", "per_language")
