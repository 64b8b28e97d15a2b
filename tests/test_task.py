"""Experiment assembly: what task.build_resources learns from the training split."""
import pytest
import tensorflow as tf

from mlclf import task


def _examples(label_lists):
    """A training split with the given label lists (one short text per document)."""
    def generate():
        for i, labels in enumerate(label_lists):
            yield {"text": f"word{i} common", "labels": labels}

    return tf.data.Dataset.from_generator(generate, output_signature={
        "text": tf.TensorSpec((), tf.string), "labels": tf.TensorSpec((None,), tf.string)})


def test_shared_labels_are_ordered_by_global_frequency_when_a_language_lacks_one():
    # af (first) has no "surprise", which is the second most frequent label over both
    # languages: 1 + 3 = 4 joy, 3 surprise, 1 + 1 = 2 anger. Unlabelled documents are allowed.
    train = {"af": _examples([["joy"], ["anger"], []]),
             "en": _examples([["joy", "surprise"], ["surprise"], ["surprise"], ["joy"],
                              ["joy", "anger"]])}
    config = task.ExperimentConfig(model="cnn", dataset="jsonl", langs=("af", "en"),
                                   label_space="shared", vocab="shared")
    space = task.build_resources(config, train).label_space
    assert space.output_names == ["joy", "surprise", "anger"]  # NCE's log-uniform order
    assert space.labels("af") == ["joy", "anger"]
    assert space.labels("en") == ["joy", "surprise", "anger"]


def test_per_language_labels_are_ordered_by_global_frequency_within_each_language():
    train = {"af": _examples([["anger"], ["joy"]]),
             "en": _examples([["joy"], ["surprise"], ["joy"]])}
    config = task.ExperimentConfig(model="mhan_att", dataset="jsonl", langs=("af", "en"),
                                   label_space="per_language")
    space = task.build_resources(config, train).label_space
    assert space.output_names == ["joy", "anger", "joy", "surprise"]


def test_a_shared_weight_without_language_copies_is_refused_naming_the_flag():
    train = {"af": _examples([["joy"], ["anger"]]), "en": _examples([["joy"], ["anger"]])}
    config = task.ExperimentConfig(model="mhan_att", dataset="jsonl", langs=("af", "en"),
                                   label_space="per_language", wide="true",
                                   wide_shared_weight=0.0)
    with pytest.raises(ValueError, match="--wide_shared_weight=0.0: .*no language copies"):
        task.build_resources(config, train)
