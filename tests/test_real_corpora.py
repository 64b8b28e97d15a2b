"""The real corpora of the shared snapshot (<repo>/../shared/data, or $MLCLF_SHARED_DATA) build
offline and match their STATS.tsv: a few languages by default (documents and label counts), every
visible language with `-m slow`."""
import collections
import os
import pathlib

import pytest

from mlclf import corpora

SHARED = pathlib.Path(os.environ.get(
    "MLCLF_SHARED_DATA", pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"))
# STATS.tsv names splits as the files do; masakhanews' few-shot file is our train split.
SPLIT_NAMES = {"train": "train", "train_fewshot50": "train", "dev": "validation", "test": "test"}
FEW = {"masakhanews": ["amh", "xho", "yor"],  # few-shot train; multi-line bodies; diacritics
       "brighter": ["eng", "ind", "afr"],  # modified test, no disgust; no train; no surprise
       "sib200": ["eng_Latn", "zho_Hans", "nqo_Nkoo"]}


def manual_dir(dataset):
    path = SHARED / dataset
    if not (path / "STATS.tsv").is_file():
        pytest.skip(f"shared data not found at {path} (set MLCLF_SHARED_DATA to the folder "
                    "holding masakhanews/, brighter/ and sib200/)")
    return path


def stats(dataset):
    """{lang: {split: (n_docs, {label: count})}} from the corpus' STATS.tsv."""
    lines = (manual_dir(dataset) / "STATS.tsv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    table = collections.defaultdict(dict)
    for line in lines[1:]:
        row = dict(zip(header, line.split("\t"), strict=True))
        label_counts = dict(item.rsplit(":", 1) for item in row["label_counts"].split(",") if item)
        table[row["language"]][SPLIT_NAMES[row["split"]]] = (
            int(row["n_docs"]), {label: int(n) for label, n in label_counts.items()})
    return table


def label_counts(dataset, lang, split, data_dir, manual):
    counts = collections.Counter()
    for doc in corpora.load_split(dataset, lang, split, data_dir=data_dir,
                                  manual_dir=manual).as_numpy_iterator():
        counts.update(label.decode() for label in doc["labels"])
    return dict(counts)


@pytest.mark.parametrize("dataset", sorted(FEW))
def test_a_few_languages_match_their_stats(dataset, tmp_path):
    manual, expected = manual_dir(dataset), stats(dataset)
    for lang in FEW[dataset]:
        sizes = corpora.split_sizes(dataset, lang, data_dir=tmp_path, manual_dir=manual)
        assert sizes == {split: n for split, (n, _) in expected[lang].items()}, lang
        for split, (_, labels) in expected[lang].items():
            assert label_counts(dataset, lang, split, tmp_path, manual) == labels, (lang, split)


@pytest.mark.slow
@pytest.mark.parametrize("dataset", sorted(FEW))
def test_every_visible_language_matches_its_stats(dataset, tmp_path):
    manual, expected = manual_dir(dataset), stats(dataset)
    langs = corpora.available_languages(dataset, manual)
    assert langs == sorted(expected)
    built = {lang: corpora.split_sizes(dataset, lang, data_dir=tmp_path, manual_dir=manual)
             for lang in langs}
    assert built == {lang: {split: n for split, (n, _) in splits.items()}
                     for lang, splits in expected.items()}
