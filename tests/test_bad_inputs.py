"""Bad input, one test per class: each is refused before the first training step, with one error
train.py prints alone (`training.USER_ERRORS`) naming the file and line, the id or the value;
never a TensorFlow stack trace, never silent data loss.

Each case goes through what train.py runs (languages resolved, then `training.train`), so that
every class is seen to reach the user whole; test_corpora.py and test_embeddings.py test the
readers themselves in detail. Also: every flag's range, and the text ops on random Unicode.
"""
import dataclasses
import gzip
import json
import os
import pickle
import random
import re
import subprocess
import sys
from typing import Callable, NamedTuple

import numpy as np
import pytest
import tensorflow as tf

from mlclf import rundir, task, text, training

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPLITS = {"train": "train", "validation": "validation", "test": "test"}
TEXTS = {"sports": "The team won the match. A great goal!",
         "health": "The doctor went to the hospital. A new vaccine."}
NEWS_HEADER = "category\theadline\ttext\turl\n"
EMOTIONS_HEADER = "id,text,anger,joy\n"


def _line(split, i, label, **fields):
    return json.dumps({"id": f"{split}-{i}", "lang": "en", "text": TEXTS[label],
                       "labels": [label], **fields})


def jsonl_corpus(root, *, split="train", line=None, files=None):
    """train/validation/test.jsonl, two English documents per label; `line` (text or bytes) is
    appended to `split` as its line 5; `files` ({name: lines or None}) replaces files."""
    contents = {f"{name}.jsonl": [_line(name, i, label) for i, label in
                                  enumerate(["sports", "health"] * 2)] for name in SPLITS}
    if line is not None:
        contents[f"{split}.jsonl"].append(line)
    contents.update(files or {})
    os.makedirs(root, exist_ok=True)
    for name, lines in contents.items():
        if lines is not None:
            data = b"\n".join(l if isinstance(l, bytes) else l.encode("utf-8") for l in lines)
            with open(os.path.join(root, name), "wb") as f:
                f.write(data + b"\n")
    return root


def news_corpus(root, **files):
    """A MasakhaNEWS-layout manual dir, language xx; keyword arguments replace files (None
    leaves one out)."""
    rows = "".join(f"{label}\tHeadline\t{TEXTS[label]}\thttp://x\n" for label in TEXTS)
    defaults = {"labels.txt": "health\nsports\n", "train.tsv": NEWS_HEADER + rows,
                "dev.tsv": NEWS_HEADER + rows, "test.tsv": NEWS_HEADER + rows}
    return _write_language(root, {**defaults, **files})


def emotions_corpus(root, **files):
    """A BRIGHTER-layout manual dir, language xx."""
    rows = "xx_1,A good day.,0,1\nxx_2,A bad day.,1,0\n"
    defaults = {name: EMOTIONS_HEADER + rows for name in ("train.csv", "dev.csv", "test.csv")}
    return _write_language(root, {**defaults, **files})


def _write_language(root, files):
    folder = os.path.join(root, "languages", "xx")
    os.makedirs(folder, exist_ok=True)
    for name, content in files.items():
        if content is not None:
            with open(os.path.join(folder, name), "wb") as f:
                f.write(content if isinstance(content, bytes) else content.encode("utf-8"))
    return root


def vectors_file(path, content):
    """A word-vector file: text (.vec, .vec.gz) or a (words, vectors) pair (.pkl.gz)."""
    if path.endswith(".pkl.gz"):
        with gzip.open(path, "wb") as f:
            pickle.dump(content, f)
    else:
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        with open(path, "wb") as f:
            f.write(gzip.compress(data) if path.endswith(".gz") else data)
    return path


VECTORS = "the 0.1 0.2 0.3 0.4\nmatch 0.1 0.2 0.3 0.4\n"


class Case(NamedTuple):
    setup: Callable  # tmp_path -> ExperimentConfig settings that differ from `_settings`
    message: str     # a regex the error's message must match


def _jsonl(**kwargs):
    return lambda tmp: {"manual_dir": jsonl_corpus(str(tmp / "corpus"), **kwargs)}


def _news(**files):
    return lambda tmp: {"dataset": "masakhanews", "langs": ("xx",),
                        "manual_dir": news_corpus(str(tmp / "corpus"), **files)}


def _emotions(**files):
    return lambda tmp: {"dataset": "brighter", "langs": ("xx",),
                        "manual_dir": emotions_corpus(str(tmp / "corpus"), **files)}


def _vectors(name, content, **settings):
    return lambda tmp: {"manual_dir": jsonl_corpus(str(tmp / "corpus")),
                        "embeddings": vectors_file(str(tmp / name), content), **settings}


def _embeddings(spec):
    def setup(tmp):
        os.makedirs(tmp / "empty", exist_ok=True)
        return {"manual_dir": jsonl_corpus(str(tmp / "corpus")),
                "embeddings": spec.format(tmp=tmp)}
    return setup


def _cut(name, data):
    """--embeddings: a file holding the first half of `data`, as a broken download leaves it."""
    def setup(tmp):
        with open(tmp / name, "wb") as f:
            f.write(data[:len(data) // 2])
        return {"manual_dir": jsonl_corpus(str(tmp / "corpus")), "embeddings": str(tmp / name)}
    return setup


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


DATA_CASES = {
    # JSON lines (the user's own corpus).
    "jsonl_invalid_json": Case(_jsonl(line='{"lang": "en", "text": "A"'),
                               r"train\.jsonl, line 5: invalid JSON"),
    "jsonl_line_not_an_object": Case(_jsonl(line='["en", "A"]'),
                                     r"train\.jsonl, line 5: expected a JSON object"),
    "jsonl_text_not_a_string": Case(_jsonl(line='{"lang": "en", "text": 5, "labels": []}'),
                                    r'line 5: "text" must be a string'),
    "jsonl_labels_not_strings": Case(
        _jsonl(line='{"lang": "en", "text": "A", "labels": "sports"}'),
        r'line 5: "labels" must be a list of non-empty strings'),
    "jsonl_lang_not_a_code": Case(_jsonl(line='{"lang": "e/n", "text": "A", "labels": []}'),
                                  r'line 5: "lang" must be a language code'),
    "jsonl_id_of_another_type": Case(_jsonl(line=_line("train", 9, "sports", id=1.5)),
                                     r'line 5: "id" must be a string or integer'),
    "jsonl_repeated_id": Case(_jsonl(line=_line("train", 0, "sports")),
                              r"line 5: id 'train-0' repeats the one at line 1"),
    "jsonl_lone_surrogate": Case(  # issue #15 row 6
        _jsonl(line='{"lang": "en", "text": "bad \\ud800", "labels": ["sports"]}'),
        r'train\.jsonl, line 5: "text" holds a lone surrogate'),
    "jsonl_not_utf8": Case(_jsonl(line=b'{"lang": "en", "text": "caf\xe9", "labels": []}'),
                           r"train\.jsonl, line 5: not valid UTF-8 \(byte 0xe9"),
    "jsonl_validation_and_dev": Case(_jsonl(files={"dev.jsonl": [_line("dev", 0, "sports")]}),
                                     "both validation.jsonl and dev.jsonl exist"),
    "jsonl_texts_all_empty": Case(
        _jsonl(files={"test.jsonl": [json.dumps({"lang": "en", "text": " ", "labels": []})]}),
        r"test\.jsonl: no documents with text for en"),
    "no_test_split": Case(_jsonl(files={"test.jsonl": None}),  # row 10
                          "jsonl en has no test split"),
    "test_label_training_never_had": Case(  # row 10: file, line and id, before training
        _jsonl(split="test", line=_line("test", 4, "sports", labels=["weather"])),
        r"test\.jsonl, line 5: document 'test-4' has label\(s\) 'weather' that the en training "
        r"split never had; en was trained on: health, sports"),
    "validation_label_training_never_had": Case(
        _jsonl(split="validation", line=_line("validation", 4, "sports", labels=["weather"])),
        r"validation\.jsonl, line 5: document 'validation-4' has label\(s\) 'weather'"),
    "no_labelled_training_documents": Case(
        _jsonl(files={"train.jsonl": [json.dumps({"lang": "en", "text": "A", "labels": []})]}),
        "'en' has no labelled training documents"),
    "language_not_in_the_corpus": Case(
        lambda tmp: {**_jsonl()(tmp), "langs": ("fr",)}, r"'fr'.*\ben\b"),
    "language_code_ambiguous": Case(
        lambda tmp: {**_jsonl(files={"train.jsonl": [
            json.dumps({"lang": lang, "text": "A", "labels": ["x"]}) for lang in ("ptbr", "ptmz")
        ]})(tmp), "langs": ("pt",)}, "'pt' is ambiguous: it matches ptbr, ptmz"),
    "manual_dir_without_the_corpus": Case(
        lambda tmp: {"manual_dir": str(tmp)}, "no jsonl data here or in jsonl/"),
    # Tab- and comma-separated corpora (MasakhaNEWS, SIB-200, BRIGHTER layouts).
    "tsv_wrong_column_count": Case(_news(**{"dev.tsv": NEWS_HEADER + "sports\tH\tB\n"}),
                                   r"dev\.tsv, line 2: expected 4 columns"),
    "tsv_quote_never_closed": Case(_news(**{"train.tsv": NEWS_HEADER + 'sports\tH\t"B\tu\n'}),
                                   r"train\.tsv, line 2: malformed row: .*never closed"),
    "tsv_wrong_header": Case(_news(**{"dev.tsv": "label\theadline\ttext\nsports\tH\tB\n"}),
                             r"dev\.tsv, line 1: the header must be"),
    "tsv_not_utf8": Case(_news(**{"test.tsv": NEWS_HEADER.encode() + b"sports\tCaf\xe9\tB\tu\n"}),
                         r"test\.tsv, line 2: not valid UTF-8 \(byte 0xe9"),
    "tsv_label_outside_the_label_set": Case(
        _news(**{"train.tsv": NEWS_HEADER + "religion\tH\tB\tu\n"}),
        r"train\.tsv, line 2: label 'religion' is not in the label set of xx"),
    "tsv_missing_file": Case(_news(**{"dev.tsv": None}), r"missing dev\.tsv \(validation\)"),
    "csv_cell_not_0_or_1": Case(_emotions(**{"test.csv": EMOTIONS_HEADER + "xx_1,A.,0,\n"}),
                                r"test\.csv, line 2: column 'joy' must be 0 or 1"),
    "csv_splits_with_other_columns": Case(
        _emotions(**{"dev.csv": "id,text,anger,fear\nxx_1,A.,0,1\n"}), "emotion columns differ"),
    "no_train_split": Case(_emotions(**{"train.csv": None}), "brighter xx has no train split"),
    # Word vectors (--embeddings).
    "vectors_file_missing": Case(_embeddings("{tmp}/nothere.vec"),
                                 r"nothere\.vec: no such word-vector file"),
    "vectors_not_utf8": Case(_vectors("v.vec", b"the 0.1 0.2 0.3 0.4\nw\xff 1 2 3 4\n"),
                             r"v\.vec:2: not UTF-8"),
    "vectors_of_another_length": Case(_vectors("v.vec", VECTORS + "goal 0.1 0.2 0.3\n"),
                                      r"v\.vec:3: expected a word and 4 values, got 3"),
    "vectors_not_numbers": Case(_vectors("v.vec", VECTORS + "goal 0.1 x 0.3 0.4\n"),
                                r"v\.vec:3: values are not all numbers"),
    "vectors_header_count_wrong": Case(_vectors("v.vec", "5 4\n" + VECTORS),
                                       "the header announces 5 vectors, the file has 2"),
    "vectors_file_empty": Case(_vectors("v.vec", ""), r"v\.vec: no word vectors in the file"),
    "vectors_gz_truncated": Case(  # row 7
        _cut("v.vec.gz", gzip.compress("".join(f"w{i} 0.1 0.2 0.3 0.4\n"
                                               for i in range(5000)).encode())),
        r"v\.vec\.gz: the compressed file is cut short or damaged after line \d+"),
    "vectors_nan": Case(_vectors("v.vec", VECTORS + "goal 0.1 nan 0.3 0.4\n"),  # row 8
                        r"v\.vec:3: the vector of 'goal' holds 'nan', not a finite"),
    "vectors_inf": Case(_vectors("v.vec", "goal -inf 0 0 0\n" + VECTORS),
                        r"v\.vec:1: the vector of 'goal' holds '-inf'"),
    "vectors_of_another_dimension": Case(_vectors("v.vec", VECTORS, embed_dim=8),
                                         "dimension 4, the model's embeddings 8"),
    "pickle_not_a_pair": Case(_vectors("v.pkl.gz", ["the", "match", "goal"]),
                              r"expected a \(words, vectors\) pair"),
    "pickle_running_code": Case(_vectors("v.pkl.gz", (["the"], Evil())),
                                r"v\.pkl\.gz: refusing to load \w+\.system"),
    "pickle_truncated": Case(
        _cut("v.pkl.gz", gzip.compress(pickle.dumps(([f"w{i}" for i in range(500)],
                                                      np.ones((500, 4)))))),
        r"v\.pkl\.gz: not a complete gzip pickle"),
    "pickle_nan": Case(_vectors("v.pkl.gz", (["the", "goal"], np.array([[0.1] * 4, [np.nan] * 4]))),
                       r"the vector of 'goal' \(entry 2\) holds non-finite values"),
    "embeddings_lang_file_malformed": Case(_embeddings("en:,fr"), "is not LANG:FILE"),
    "embeddings_directory_without_vectors": Case(_embeddings("{tmp}/empty"),
                                                 r"no \.vec/.*files in the directory"),
}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """Shared by the cases: the same corpus files are built once."""
    return str(tmp_path_factory.mktemp("tfds"))


def _settings(data_dir, **overrides):
    return {"model": "mhan_att", "dataset": "jsonl", "langs": ("en",), "data_dir": data_dir,
            "embed_dim": 4, "hidden": 4, "max_sentences": 2, "max_words": 4, "batch_size": 2,
            "epochs": 1, "steps_per_epoch": 1, **overrides}


def _train(settings, run_dir):
    """What train.py does with its flags: the config, its languages resolved, training."""
    config = task.ExperimentConfig(**settings)
    config.langs = tuple(task.resolve_languages(config, config.langs))
    return training.train(config, run_dir, verbose=0)


@pytest.mark.parametrize("name", DATA_CASES)
def test_bad_data_is_refused_before_training(name, data_dir, tmp_path):
    case = DATA_CASES[name]
    run_dir = str(tmp_path / "run")
    with pytest.raises(training.USER_ERRORS, match=case.message):
        _train(_settings(data_dir, **case.setup(tmp_path)), run_dir)
    assert not os.path.exists(os.path.join(run_dir, rundir.LATEST_DIR))  # no step was taken


def _prepared(run_dir, config):
    """A run directory as rundir.prepare leaves it: config.json and flags.cfg."""
    rundir.prepare(run_dir, config, False)
    return run_dir


def _started(run_dir, config):
    """A run directory with something learnt: a checkpoint."""
    _prepared(run_dir, config)
    os.makedirs(os.path.join(run_dir, rundir.LATEST_DIR))
    return run_dir


def _finished(run_dir, config):
    _prepared(run_dir, config)
    rundir.write_json(os.path.join(run_dir, rundir.METRICS_FILE), {})
    os.makedirs(os.path.join(run_dir, rundir.EXPORT_DIR, "1"))
    with open(os.path.join(run_dir, rundir.CARD), "w", encoding="utf-8") as f:
        f.write("# a run\n")
    return run_dir


def _file(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("not a folder\n")
    return path


RUN_DIR_CASES = {
    "not_an_mlclf_run": (lambda tmp, _: os.path.dirname(_file(str(tmp / "mine" / "notes.txt"))),
                         "is not an mlclf run; choose another --run_dir or pass --overwrite"),
    "a_run_with_other_settings": (
        lambda tmp, config: _started(str(tmp / "run"), dataclasses.replace(config, hidden=8)),
        "holds a run with other settings"),
    "a_finished_run": (lambda tmp, config: _finished(str(tmp / "run"), config),
                       "holds a finished run"),
    "cannot_be_created": (lambda tmp, _: os.path.join(_file(str(tmp / "file")), "run"),  # row 11
                          r"cannot use --run_dir=.*/file/run: Not a directory"),
    "a_file": (lambda tmp, _: _file(str(tmp / "file")), r"cannot use --run_dir=.*/file"),
}


@pytest.mark.parametrize("name", RUN_DIR_CASES)
def test_unusable_run_dir_is_refused_before_reading_data(name, data_dir, tmp_path):
    make, message = RUN_DIR_CASES[name]
    # Languages left unresolved: no corpus is read.
    config = task.ExperimentConfig(**_settings(data_dir, manual_dir=str(tmp_path / "none")))
    run_dir = make(tmp_path, config)
    with pytest.raises(rundir.RunDirError, match=message):
        training.train(config, run_dir, verbose=0)


def test_a_run_that_stopped_before_learning_anything_takes_the_new_settings(data_dir, tmp_path):
    # README's offline remedy: the first run could not download its corpus; the rerun names a
    # local copy, which is another setting, in the same default --run_dir.
    config = task.ExperimentConfig(**_settings(data_dir, manual_dir=str(tmp_path / "copy")))
    run_dir = _prepared(str(tmp_path / "run"), dataclasses.replace(config, manual_dir=None))
    assert rundir.prepare(run_dir, config, False) is False  # a new run, not a resumed one
    assert rundir.read_config(run_dir) == config
    with open(os.path.join(run_dir, rundir.FLAGFILE), encoding="utf-8") as f:
        assert f"--manual_dir={tmp_path / 'copy'}\n" in f.read()


# --- flags: every range, stated by each field (task.setting(values=..., choices=...)) -------

def _out_of_range(field):
    """Values just outside a field's `values` interval or `choices`."""
    if "choices" in field.metadata:
        return ["nonsense"]
    allowed, integer = field.metadata["values"], field.type in ("int", int)
    step = 1 if integer else 0.5
    bad = [float("nan")] if not integer else ["30"]
    if allowed.low != float("-inf"):
        bad.append(allowed.low - step if allowed.low_closed else allowed.low)
    if allowed.high != float("inf"):
        bad.append(allowed.high + step if allowed.high_closed else allowed.high)
    return [int(value) if integer and isinstance(value, float) else value for value in bad]


FIELDS = {field.name: field for field in dataclasses.fields(task.ExperimentConfig)}
CHECKED = [(name, value) for name, field in FIELDS.items()
           if "values" in field.metadata or "choices" in field.metadata
           for value in _out_of_range(field)]


def test_every_number_and_choice_setting_states_what_it_allows():
    """A new numeric field must say its range in its `setting(...)` line."""
    for name, field in FIELDS.items():
        if field.type in ("int", "float", int, float):
            assert "values" in field.metadata, f"{name}: give setting(..., values='[a, b]')"


@pytest.mark.parametrize("name,value", CHECKED + [
    # The rows 2 to 5, as reported.
    ("max_words", 0), ("steps_per_epoch", -5), ("epochs", -1), ("batch_size", -8),
    ("batch_size", 0), ("threshold", 2.0)])
def test_flag_out_of_range_names_the_flag_and_its_range(name, value):
    field = FIELDS[name]
    with pytest.raises(ValueError, match=rf"^--{name} must be ") as error:
        task.ExperimentConfig(**{name: value})
    expected = field.metadata.get("values")
    if expected is not None and not isinstance(value, str):
        assert str(expected) in str(error.value)


@pytest.mark.parametrize("settings,message", [
    ({"langs": ()}, "--langs is empty"),
    ({"model": "bert"}, r"unknown --model='bert'; choose from"),
    ({"model": "han", "langs": ("en", "fr")}, "--model=han is monolingual"),
    ({"dataset": "imdb"}, "--dataset must be one of"),
])
def test_other_flag_errors(settings, message):
    with pytest.raises(ValueError, match=message):
        task.ExperimentConfig(**settings)


def test_a_config_json_with_a_bad_value_is_refused_too():
    payload = json.loads(task.ExperimentConfig().to_json())
    payload["threshold"] = 1.5
    with pytest.raises(ValueError, match=r"--threshold must be in \[0, 1\], got 1\.5"):
        task.ExperimentConfig.from_json(json.dumps(payload))


@pytest.mark.parametrize("flags,message", [
    (["--max_words=0"], r"mlclf train: error: --max_words must be >= 1, got 0"),  # was exit 139
    (["--embeddings={nan_vectors}"], r"mlclf train: error: .*v\.vec:3: the vector of 'goal' "
                                     r"holds 'nan'"),
])
def test_train_py_prints_the_error_alone(flags, message, data_dir, tmp_path):
    corpus = jsonl_corpus(str(tmp_path / "corpus"))
    nan_vectors = vectors_file(str(tmp_path / "v.vec"), VECTORS + "goal 0.1 nan 0.3 0.4\n")
    done = subprocess.run(
        [sys.executable, "train.py", "--dataset=jsonl", "--langs=en", f"--manual_dir={corpus}",
         f"--data_dir={data_dir}", f"--run_dir={tmp_path / 'run'}", "--embed_dim=4",
         *[flag.format(nan_vectors=nan_vectors) for flag in flags]],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()[-1]) > 20
    assert re.search(message, done.stderr), done.stderr[-3000:]


# --- text ops on random Unicode -------------------------------------------------------------

# Code points from every kind of script and symbol, with the characters the rules treat
# specially (sentence ends, apostrophes, digits, joiners, combining marks, whitespace).
_SPECIAL = list(".!?።؟。！？।\n\r\t '’-·,0123456789\u200d\u200c\u0301\u00ad\ufeff\u3000")


def random_unicode_texts(seed, count=64, max_length=200):
    """`count` seeded strings of any Unicode scalar values (no surrogates), biased towards the
    characters the text rules treat specially; some also get bytes that are not UTF-8."""
    rng = random.Random(seed)
    planes = [(0x20, 0x7F), (0xA0, 0x2FFF), (0x3000, 0xD7FF), (0xE000, 0xFFFF),
              (0x10000, 0x1FFFF), (0x20000, 0x10FFFF), (0x0, 0x20)]
    texts = []
    for _ in range(count):
        chars = []
        for _ in range(rng.randint(0, max_length)):
            if rng.random() < 0.3:
                chars.append(rng.choice(_SPECIAL))
            else:
                low, high = rng.choice(planes)
                chars.append(chr(rng.randint(low, high)))
        data = "".join(chars).encode("utf-8")
        if rng.random() < 0.2:  # a stray byte that no UTF-8 sequence starts or continues so
            cut = rng.randint(0, len(data))
            data = data[:cut] + bytes([rng.choice([0x80, 0xC0, 0xFF, 0xED])]) + data[cut:]
        texts.append(data)
    return texts


@pytest.mark.parametrize("seed", range(3))
def test_text_ops_survive_random_unicode(seed):
    texts = random_unicode_texts(seed)
    batch = tf.constant(texts, tf.string)
    normalized = text.normalize(batch).numpy()
    assert normalized.shape == (len(texts),)
    for value in normalized:
        value.decode("utf-8")  # valid UTF-8, whatever came in
    sentences = text.split_sentences(batch)
    assert sentences.nrows() == len(texts)
    for hierarchical in (True, False):
        words = text.tokenize(batch, hierarchical=hierarchical)
        assert words.nrows() == len(texts)
        for word in words.flat_values.numpy():
            decoded = word.decode("utf-8")
            assert decoded and not any(char.isspace() for char in decoded), word
