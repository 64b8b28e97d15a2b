"""Your own data as CSV/TSV: the `csv` corpus read through mlclf.corpora with the column flags,
and its errors naming file and line."""
import pytest

from mlclf import corpora, task
from mlclf.corpora import CorpusError


def _write(root, name, text):
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text, encoding="utf-8")
    return root


def _documents(manual_dir, data_dir, lang, split="train", **options):
    options = task.corpus_options("csv", {**{name: task.ExperimentConfig.__dataclass_fields__[
        name].default for name in task.CORPUS_OPTIONS}, **options})
    examples = corpora.load_split("csv", lang, split, data_dir=data_dir, manual_dir=manual_dir,
                                  options=options)
    return [(ex["id"].decode(), ex["text"].decode(), [label.decode() for label in ex["labels"]])
            for ex in examples.as_numpy_iterator()]


def test_columns_and_label_separator_come_from_the_options(tmp_path):
    manual = _write(tmp_path / "m", "train.csv",
                    'topic,body,language\n"sports|politics","A goal, then a vote.",en\n'
                    "health,Un vaccin.,fr\n")
    data_dir = tmp_path / "tfds"
    options = dict(text_column="body", label_column="topic", lang_column="language")
    assert _documents(manual, data_dir, "en", **options) == [
        ("train-1", "A goal, then a vote.", ["sports|politics"])]
    # Other options, another build: the same files are read again, not a stale build reused.
    assert _documents(manual, data_dir, "en", label_separator="|", **options) == [
        ("train-1", "A goal, then a vote.", ["sports", "politics"])]
    assert corpora.available_languages("csv", manual, task.corpus_options(
        "csv", task.ExperimentConfig(dataset="csv", langs=("en",), **options))) == ["en", "fr"]


@pytest.mark.parametrize("text,message", [
    ("text,labels,lang\nOne.,a,en\nTwo.,b\n", r"train\.csv, line 3: expected 3 columns"),
    ('text,labels,lang\nOne.,a,en\n"Two.,b,en\n', r"train\.csv, line 3: malformed row.*never closed"),
    ("text,labels,lang\nOne.,a,e n\n", r"train\.csv, line 2: column 'lang' must hold a language"),
    ("body,labels,lang\nOne.,a,en\n", r"train\.csv, line 1: no column 'text' \(--text_column\)"),
    ("id,text,labels,lang\n,One.,a,en\n", r"train\.csv, line 2: empty id in column 'id'"),
    ("id,text,labels,lang\n7,One.,a,en\n7,Two.,b,en\n", r"train\.csv, line 3: id '7' repeats"),
])
def test_bad_rows_are_errors_naming_file_and_line(tmp_path, text, message):
    manual = _write(tmp_path / "m", "train.csv", text)
    with pytest.raises(CorpusError, match=message):
        _documents(manual, tmp_path / "tfds", "en")


def test_a_column_option_for_a_corpus_with_fixed_columns_is_refused():
    config = task.ExperimentConfig(dataset="masakhanews", langs=("en",), text_column="body")
    with pytest.raises(CorpusError, match="--text_column: not an option of the masakhanews"):
        task.resolve_languages(config, ["en"])
