"""Shared fixtures: a tiny synthetic multilingual corpus in the `jsonl` builder's format."""
import json
import os
import random

import pytest

# Topic words per language; documents mix them with filler so the task is learnable but not
# trivial. Label sets differ per language, as in MasakhaNEWS.
_TOPICS = {
    "en": {"sports": ["football", "match", "goal", "team"],
           "health": ["doctor", "hospital", "vaccine", "disease"],
           "politics": ["election", "minister", "parliament", "vote"]},
    "fr": {"sports": ["football", "équipe", "but", "match"],
           "health": ["médecin", "hôpital", "vaccin", "maladie"]},
}
_FILLER = {"en": ["the", "a", "today", "people", "said", "new", "city"],
           "fr": ["le", "la", "aujourd'hui", "gens", "dit", "nouveau", "ville"]}


def write_tiny_corpus(root, docs_per_label=(24, 6, 8), seed=0):
    """train/validation/test JSONL files with the `jsonl` builder's fields."""
    rng = random.Random(seed)
    os.makedirs(root, exist_ok=True)
    for split, per_label in zip(("train", "validation", "test"), docs_per_label):
        with open(os.path.join(root, f"{split}.jsonl"), "w", encoding="utf-8") as f:
            for lang, topics in _TOPICS.items():
                for label, words in topics.items():
                    for i in range(per_label):
                        sentences = []
                        for _ in range(rng.randint(2, 4)):
                            sentence = rng.sample(_FILLER[lang], 3) + rng.sample(words, 2)
                            rng.shuffle(sentence)
                            sentences.append(" ".join(sentence).capitalize() + ".")
                        record = {"id": f"{lang}-{label}-{split}-{i}", "lang": lang,
                                  "text": " ".join(sentences), "labels": [label]}
                        f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return root


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    return write_tiny_corpus(str(tmp_path_factory.mktemp("tiny_corpus")))


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory):
    """A TFDS data dir shared by the tiny runs of every module: the tiny corpus is built, and
    each split tokenised and hashed into n-gram bags, by the first run that reads it (some 30 s
    of tracing per fresh data dir) instead of once per test. A test that checks what a run
    builds in its data dir keeps one of its own. (Under pytest-xdist each worker has its own.)"""
    return str(tmp_path_factory.mktemp("tiny_tfds"))
