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


def test_balanced_label_weights_are_sklearns_balanced_class_weights_of_each_output(
        tmp_path):
    # af has joy and anger (3 documents), en all three (5). joy: 8 documents have the output,
    # 1 + 2 with it; surprise: en's 5, 3 with it; anger: 8, 1 + 1 with it (a label repeated
    # in a document counts once).
    train = {"af": _examples([["joy"], ["anger", "anger"], []]),
             "en": _examples([["joy", "surprise"], ["surprise"], ["surprise"], ["joy"],
                              ["anger"]])}
    config = task.ExperimentConfig(model="mhan_att", dataset="jsonl", langs=("af", "en"),
                                   label_space="shared", label_weights="balanced", wide="false")
    resources = task.build_resources(config, train)
    counts = {"joy": (8, 3), "surprise": (5, 3), "anger": (8, 2)}   # (having, with it)
    having, positives = zip(*(counts[name] for name in resources.label_space.output_names))
    weights = resources.label_weights
    assert weights["positive"] == pytest.approx([n / (2 * p) for n, p in zip(having, positives)])
    assert weights["negative"] == pytest.approx(
        [n / (2 * (n - p)) for n, p in zip(having, positives)])
    resources.save(str(tmp_path))      # a resumed run trains on the same loss
    assert task.Resources.load(str(tmp_path), config).label_weights == weights


def test_label_weights_auto_weighs_sigmoid_scores_only_and_balanced_refuses_softmax():
    multi = {"en": _examples([["joy", "anger"], ["joy"], []])}
    single = {"en": _examples([["joy"], ["anger"], ["joy"]])}

    def config(**fields):
        return task.ExperimentConfig(model="mhan_att", dataset="jsonl", langs=("en",),
                                     wide="false", **fields)
    assert task.build_resources(config(label_weights="auto"), multi).label_weights is not None
    assert task.build_resources(config(label_weights="auto"), single).label_weights is None
    assert task.build_resources(config(), multi).label_weights is None   # default: none
    with pytest.raises(ValueError, match="--label_weights=balanced .*softmax"):
        task.build_resources(config(label_weights="balanced"), single)
    with pytest.raises(ValueError, match="--label_weights=balanced: --model=cnn"):
        task.ExperimentConfig(model="cnn", dataset="jsonl", langs=("en",),
                              label_weights="balanced")   # before any data is read
