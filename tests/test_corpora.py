"""mlclf.corpora and mlclf.prepare on small fixtures: discovery, loading, reuse, and bad input
(each error must be a CorpusError naming the file and line, or the value)."""
import gzip
import importlib
import json
import logging
import os
import pathlib
import pickle
import re
import socket
import subprocess
import sys

import numpy as np
import pytest
import requests
import tensorflow_datasets as tfds

import mlclf_datasets
from mlclf_datasets import _common
from mlclf import corpora, prepare
from mlclf.corpora import CorpusError

DUMMY = pathlib.Path(mlclf_datasets.__file__).parent
SIB_DUMMY = DUMMY / "sib200" / "dummy_data"
NEWS_HEADER = "category\theadline\ttext\turl\n"


def write_files(folder, files):
    """Writes {name: text or bytes}; None leaves the file out."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if content is not None:
            data = content if isinstance(content, bytes) else content.encode("utf-8")
            (folder / name).write_bytes(data)
    return folder


def masakhanews(root, **files):
    """A one-language (xx) MasakhaNEWS manual dir; keyword arguments replace files."""
    row = "sports\tHeadline\tBody text.\thttp://x\n"
    defaults = {"labels.txt": "health\nsports\n", "train.tsv": NEWS_HEADER + row,
                "dev.tsv": NEWS_HEADER + row, "test.tsv": NEWS_HEADER + row}
    write_files(root / "languages" / "xx", {**defaults, **files})
    return root


def brighter(root, **files):
    row = "xx_1,A text.,0,1\n"
    header = "id,text,anger,joy\n"
    defaults = {"train.csv": header + row, "dev.csv": header + row, "test.csv": header + row}
    write_files(root / "languages" / "xx", {**defaults, **files})
    return root


def jsonl(root, docs, name="train.jsonl"):
    lines = [d if isinstance(d, str) else json.dumps(d, ensure_ascii=False) for d in docs]
    write_files(root, {name: "\n".join(lines) + "\n"})
    return root


# Imports every builder in an interpreter where `mlclf` cannot be imported.
_BUILDERS_WITHOUT_MLCLF = r"""
import importlib, importlib.abc, sys

class BlockMlclf(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "mlclf":
            raise ImportError(f"{name} imported by a builder")

sys.meta_path.insert(0, BlockMlclf())
for dataset in sys.argv[1:]:
    importlib.import_module(f"mlclf_datasets.{dataset}.{dataset}_dataset_builder")
"""


def test_builders_do_not_import_mlclf():
    """mlclf imports the builders (corpora.py); the builders must not import mlclf back."""
    done = subprocess.run([sys.executable, "-c", _BUILDERS_WITHOUT_MLCLF, *corpora.DATASETS],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]


def sizes(dataset, manual_dir, data_dir, lang="xx"):
    return corpora.split_sizes(dataset, lang, data_dir=data_dir, manual_dir=manual_dir)


# --- discovery, loading, reuse ---------------------------------------------------------------

def test_available_languages_come_from_the_manual_dir_or_the_known_list():
    assert corpora.available_languages("sib200", SIB_DUMMY) == ["amh_Ethi", "eng_Latn",
                                                                "zho_Hans"]
    # kin is not a MasakhaNEWS language upstream: found all the same.
    assert "kin" in corpora.available_languages("masakhanews", DUMMY / "masakhanews" / "dummy_data")
    known = corpora.available_languages("sib200")
    assert len(known) == 205 and {"deu_Latn", "glg_Latn", "ukr_Cyrl"} <= set(known)
    assert corpora.available_languages("jsonl") == []


def test_manual_dir_may_be_the_corpus_folder_or_its_parent(tmp_path):
    root = tmp_path / "shared"
    masakhanews(root / "masakhanews")
    assert corpora.available_languages("masakhanews", root) == ["xx"]
    assert sizes("masakhanews", root, tmp_path / "a") == sizes("masakhanews",
                                                                 root / "masakhanews",
                                                                 tmp_path / "b")


def test_load_split_yields_documents(tmp_path):
    docs = list(corpora.load_split("sib200", "eng_Latn", "validation", data_dir=tmp_path,
                                   manual_dir=SIB_DUMMY).as_numpy_iterator())
    by_id = {d["id"].decode(): d for d in docs}
    assert set(by_id) == {"1095", "77"}
    assert by_id["1095"]["lang"] == b"eng_Latn"
    assert by_id["1095"]["text"].decode() == 'A new study says "sugar is harmful."'
    assert list(by_id["1095"]["labels"]) == [b"health"]


def test_prepared_language_is_reused_not_rebuilt(tmp_path, monkeypatch):
    first = corpora.split_sizes("sib200", "zho_Hans", data_dir=tmp_path, manual_dir=SIB_DUMMY)
    assert first == {"train": 3, "validation": 2, "test": 2}

    def rebuild(*args, **kwargs):
        raise AssertionError("rebuilt a prepared language")

    monkeypatch.setattr(corpora.builder_class("sib200"), "_split_generators", rebuild)
    assert corpora.split_sizes("sib200", "zho_Hans", data_dir=tmp_path) == first
    assert len(list(corpora.load_split("sib200", "zho_Hans", "test", data_dir=tmp_path))) == 2


def test_language_without_train_has_no_train_split(tmp_path):
    manual = DUMMY / "brighter" / "dummy_data"
    assert corpora.split_sizes("brighter", "ind", data_dir=tmp_path, manual_dir=manual) == {
        "validation": 2, "test": 2}
    with pytest.raises(CorpusError, match="brighter ind has no train split"):
        corpora.load_split("brighter", "ind", "train", data_dir=tmp_path, manual_dir=manual)


def test_jsonl_corpora_in_different_folders_do_not_collide(tmp_path):
    one = jsonl(tmp_path / "one", [{"lang": "en", "text": "One.", "labels": []}])
    two = jsonl(tmp_path / "two", [{"lang": "en", "text": "One.", "labels": []},
                                   {"lang": "en", "text": "Two.", "labels": ["b"]}])
    data_dir = tmp_path / "tfds"
    assert sizes("jsonl", one, data_dir, "en") == {"train": 1}
    assert sizes("jsonl", two, data_dir, "en") == {"train": 2}
    assert sizes("jsonl", one, data_dir, "en") == {"train": 1}
    jsonl(one, [{"lang": "en", "text": f"Doc {i}.", "labels": []} for i in range(3)])
    assert sizes("jsonl", one, data_dir, "en") == {"train": 3}  # edited: rebuilt


def test_a_failed_build_leaves_nothing_behind(tmp_path):
    manual = masakhanews(tmp_path / "m", **{"test.tsv": NEWS_HEADER + "sports\tH\tB\n"})
    with pytest.raises(CorpusError):
        sizes("masakhanews", manual, tmp_path / "tfds")
    masakhanews(manual, **{"test.tsv": NEWS_HEADER + "sports\tH\tB\tu\n"})
    assert sizes("masakhanews", manual, tmp_path / "tfds") == {"train": 1, "validation": 1,
                                                                "test": 1}


def test_corpus_errors_wrapped_by_tfds_reach_the_caller_unwrapped(tmp_path, monkeypatch):
    original = CorpusError("dev.tsv, line 3: the message users need")

    def wrapped(*args, **kwargs):
        try:
            raise original
        except CorpusError as e:  # as TFDS's reraise does for errors it decorates
            raise RuntimeError(f"Failed to encode example: {e}") from e

    monkeypatch.setattr(corpora.builder_class("sib200"), "download_and_prepare", wrapped)
    with pytest.raises(CorpusError) as error:
        corpora.split_sizes("sib200", "eng_Latn", data_dir=tmp_path, manual_dir=SIB_DUMMY)
    assert error.value is original


# --- no network ------------------------------------------------------------------------------

def _closed_port():
    """A local port nothing listens on: connecting to it is refused at once, with no network."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _offline_message(error):
    message = str(error.value)
    assert "\n" not in message
    assert "--manual_dir=FOLDER" in message and "MLCLF_MANUAL_DIR=PARENT" in message
    assert "languages/<lang_Script>/" in message  # the layout of the copy
    return message


def test_no_network_is_one_line_naming_the_remedy_before_tfds_retries(tmp_path, monkeypatch):
    url = f"http://127.0.0.1:{_closed_port()}/{{lang}}/{{file}}"
    monkeypatch.setattr(importlib.import_module(corpora.builder_class("sib200").__module__),
                        "_URL", url)
    tfds_downloads = []
    monkeypatch.setattr(tfds.download.DownloadManager, "download",
                        lambda self, urls: tfds_downloads.append(urls))
    with pytest.raises(CorpusError) as error:
        corpora.split_sizes("sib200", "eng_Latn", data_dir=tmp_path)
    assert _offline_message(error).startswith(
        f"sib200 eng_Latn: cannot download {url.format(lang='eng_Latn', file='train.tsv')} "
        "(cannot connect)")
    assert tfds_downloads == []  # TFDS's download, which retries for minutes, is never reached
    assert not (tmp_path / "sib200" / "eng_Latn" / "1.0.0").exists()  # nothing to reuse


def test_a_host_that_does_not_answer_is_given_seconds(tmp_path, monkeypatch):
    asked = []

    def head(url, timeout, **kwargs):
        asked.append(timeout)
        raise requests.exceptions.ConnectTimeout(f"{url}: timed out")

    monkeypatch.setattr(requests, "head", head)
    with pytest.raises(CorpusError) as error:
        corpora.split_sizes("sib200", "eng_Latn", data_dir=tmp_path)
    assert "(no answer within 5 s)" in _offline_message(error)
    assert asked == [_common.CONNECT_TIMEOUT] and _common.CONNECT_TIMEOUT <= 10


def test_a_connection_lost_during_the_download_names_the_remedy(tmp_path, monkeypatch):
    monkeypatch.setattr(_common, "check_reachable", lambda urls: None)  # the hosts answer

    def download(self, urls):
        raise requests.exceptions.ConnectionError("Max retries exceeded")

    monkeypatch.setattr(tfds.download.DownloadManager, "download", download)
    with pytest.raises(CorpusError) as error:
        corpora.split_sizes("brighter", "afr", data_dir=tmp_path)
    assert str(error.value).startswith("brighter afr: cannot download https://")
    assert "--manual_dir=FOLDER" in str(error.value) and "\n" not in str(error.value)


def test_a_command_without_network_exits_with_the_remedy_not_a_traceback(tmp_path):
    # Every download goes through a proxy nothing listens on: refused, as with no network.
    proxy = f"http://127.0.0.1:{_closed_port()}"
    env = dict(os.environ)
    for name in ("https_proxy", "http_proxy", "all_proxy", "no_proxy"):  # either case counts
        env[name] = env[name.upper()] = "" if name == "no_proxy" else proxy
    env.pop("MLCLF_MANUAL_DIR", None)
    # Without the check, TFDS retries for minutes: the timeout catches that.
    done = subprocess.run([sys.executable, "-m", "mlclf", "prepare", "--dataset=sib200",
                           "--langs=eng_Latn", f"--data_dir={tmp_path}"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert "sib200 eng_Latn: cannot download https://" in last
    assert "--manual_dir=FOLDER" in last and "MLCLF_MANUAL_DIR=PARENT" in last


# --- unknown names ---------------------------------------------------------------------------

def test_unknown_dataset_split_and_language_are_corpus_errors(tmp_path):
    with pytest.raises(CorpusError, match="unknown dataset 'imdb'"):
        corpora.available_languages("imdb")
    with pytest.raises(CorpusError, match="unknown split 'dev'"):
        corpora.load_split("sib200", "eng_Latn", "dev", data_dir=tmp_path, manual_dir=SIB_DUMMY)
    with pytest.raises(CorpusError, match=r"language 'fra_Latn' not found; available: "
                                          r"amh_Ethi, eng_Latn, zho_Hans"):
        corpora.split_sizes("sib200", "fra_Latn", data_dir=tmp_path, manual_dir=SIB_DUMMY)
    with pytest.raises(CorpusError, match="unknown language 'xyz'"):
        corpora.split_sizes("sib200", "xyz", data_dir=tmp_path)
    with pytest.raises(CorpusError, match="not a language code"):
        corpora.split_sizes("sib200", "../eng_Latn", data_dir=tmp_path, manual_dir=SIB_DUMMY)


def test_manual_dir_without_the_corpus_is_an_error(tmp_path):
    with pytest.raises(CorpusError, match=r"no sib200 data here or in sib200/; expected: .*"
                                          r"languages/<lang_Script>/"):
        corpora.available_languages("sib200", tmp_path)
    with pytest.raises(CorpusError, match="no dw data here"):
        corpora.split_sizes("dw", "english", data_dir=tmp_path, manual_dir=tmp_path)


# --- bad input -------------------------------------------------------------------------------

def test_wrong_column_count(tmp_path):
    manual = masakhanews(tmp_path / "m", **{"dev.tsv": NEWS_HEADER + "sports\tH\tB\tu\n"
                                                        + "sports\tH\tB\n"})
    with pytest.raises(CorpusError, match=r"dev\.tsv, line 3: expected 4 columns \(category, "
                                          r"headline, text, url\), found 3"):
        sizes("masakhanews", manual, tmp_path / "tfds")


def test_broken_quoting(tmp_path):
    manual = masakhanews(tmp_path / "m", **{"train.tsv": NEWS_HEADER + 'sports\tH\t"B\tu\n'
                                                          + "sports\tH\tB\tu\n"})
    with pytest.raises(CorpusError, match=r"train\.tsv, line 2: malformed row: .*never closed"):
        sizes("masakhanews", manual, tmp_path / "tfds")
    manual = brighter(tmp_path / "b", **{"dev.csv": 'id,text,anger,joy\nxx_1,"A" text,0,1\n'})
    with pytest.raises(CorpusError, match=r"dev\.csv, line 2: malformed row"):
        sizes("brighter", manual, tmp_path / "tfds")


def test_wrong_header(tmp_path):
    manual = masakhanews(tmp_path / "m", **{"dev.tsv": "label\theadline\ttext\nsports\tH\tB\n"})
    with pytest.raises(CorpusError, match=r"dev\.tsv, line 1: the header must be "
                                          r"category\theadline\ttext"):
        sizes("masakhanews", manual, tmp_path / "tfds")


def test_non_utf8_bytes(tmp_path):
    data = (NEWS_HEADER + "sports\tH\tB\tu\n").encode() + b"sports\tCaf\xe9\tB\tu\n"
    manual = masakhanews(tmp_path / "m", **{"test.tsv": data})
    with pytest.raises(CorpusError, match=r"test\.tsv, line 3: not valid UTF-8 \(byte 0xe9"):
        sizes("masakhanews", manual, tmp_path / "tfds")


def test_empty_texts_are_skipped_and_reported(tmp_path, caplog):
    manual = masakhanews(tmp_path / "m", **{
        "dev.tsv": NEWS_HEADER + "sports\tH\tB\tu\nsports\t \t\tu\nhealth\t\t \tu\n"})
    with caplog.at_level(logging.WARNING):
        assert sizes("masakhanews", manual, tmp_path / "tfds")["validation"] == 1
    assert re.search(r"dev\.tsv: skipped 2 document\(s\) with empty text \(line 3, line 4\)",
                     caplog.text)


def test_a_file_of_empty_texts_is_an_error(tmp_path):
    manual = masakhanews(tmp_path / "m", **{"test.tsv": NEWS_HEADER})
    with pytest.raises(CorpusError, match=r"test\.tsv: no documents with text for xx"):
        sizes("masakhanews", manual, tmp_path / "tfds")


def test_label_outside_the_label_set(tmp_path):
    manual = masakhanews(tmp_path / "m", **{"train.tsv": NEWS_HEADER + "sports\tH\tB\tu\n"
                                                          + "religion\tH\tB\tu\n"})
    with pytest.raises(CorpusError, match=r"train\.tsv, line 3: label 'religion' is not in the "
                                          r"label set of xx: health, sports"):
        sizes("masakhanews", manual, tmp_path / "tfds")


def test_missing_files(tmp_path):
    manual = masakhanews(tmp_path / "m", **{"dev.tsv": None})
    with pytest.raises(CorpusError, match=r"languages/xx: missing dev\.tsv \(validation\)"):
        sizes("masakhanews", manual, tmp_path / "tfds")
    manual = masakhanews(tmp_path / "n", **{"train.tsv": None})
    with pytest.raises(CorpusError, match=r"missing train\.tsv or train_fewshot50\.tsv"):
        sizes("masakhanews", manual, tmp_path / "tfds")


def test_fewshot_file_is_the_train_split(tmp_path, caplog):
    manual = masakhanews(tmp_path / "m", **{
        "train.tsv": None,
        "train_fewshot50.tsv": NEWS_HEADER + "sports\tH\tB\tu\nhealth\tH\tB\tu\n"})
    with caplog.at_level(logging.WARNING):
        assert sizes("masakhanews", manual, tmp_path / "tfds")["train"] == 2
    assert "few-shot sample" in caplog.text


def test_brighter_cells_must_be_0_or_1(tmp_path):
    manual = brighter(tmp_path / "m", **{"test.csv": "id,text,anger,joy\nxx_1,A text.,0,\n"})
    with pytest.raises(CorpusError, match=r"test\.csv, line 2: column 'joy' must be 0 or 1, "
                                          r"found ''"):
        sizes("brighter", manual, tmp_path / "tfds")


def test_brighter_splits_must_share_their_columns(tmp_path):
    manual = brighter(tmp_path / "m", **{"dev.csv": "id,text,anger,fear\nxx_1,A text.,0,1\n"})
    with pytest.raises(CorpusError, match="emotion columns differ"):
        sizes("brighter", manual, tmp_path / "tfds")


def test_repeated_ids(tmp_path):
    manual = brighter(tmp_path / "m", **{"train.csv": "id,text,anger,joy\nxx_1,A.,0,1\n"
                                                       "xx_1,B.,1,0\n"})
    with pytest.raises(CorpusError, match=r"train\.csv, line 3: id 'xx_1' repeats the one at "
                                          r"line 2"):
        sizes("brighter", manual, tmp_path / "tfds")


@pytest.mark.parametrize("line, message", [
    ('{"lang": "en", "text": "A", "labels": []', r"line 2: invalid JSON"),
    ('["en", "A"]', r"line 2: expected a JSON object"),
    ('{"lang": "en", "text": 5, "labels": []}', r'line 2: "text" must be a string'),
    ('{"lang": "en", "text": "A", "labels": "sports"}', r'line 2: "labels" must be a list'),
    ('{"lang": "en", "text": "A", "labels": [""]}', r'line 2: "labels" must be a list'),
    ('{"lang": "e/n", "text": "A", "labels": []}', r'line 2: "lang" must be a language code'),
    ('{"lang": "en", "text": "A", "labels": [], "id": 1.5}', r'line 2: "id" must be'),
    ('{"lang": "en", "text": "A", "labels": [], "id": "train-1"}',
     r"line 2: id 'train-1' repeats the one at line 1"),
])
def test_jsonl_bad_lines(tmp_path, line, message):
    manual = jsonl(tmp_path / "m", [{"lang": "en", "text": "First.", "labels": []}, line])
    with pytest.raises(CorpusError, match=r"train\.jsonl, " + message):
        sizes("jsonl", manual, tmp_path / "tfds", "en")


def test_jsonl_validation_file_must_be_unique(tmp_path):
    manual = jsonl(tmp_path / "m", [{"lang": "en", "text": "A.", "labels": []}], "dev.jsonl")
    jsonl(manual, [{"lang": "en", "text": "A.", "labels": []}], "validation.jsonl")
    with pytest.raises(CorpusError, match="both validation.jsonl and dev.jsonl exist"):
        corpora.available_languages("jsonl", manual)


def test_jsonl_language_absent_from_the_files(tmp_path):
    manual = jsonl(tmp_path / "m", [{"lang": "en", "text": "A.", "labels": []}])
    with pytest.raises(CorpusError, match="no documents with lang 'fr'; languages found: en"):
        sizes("jsonl", manual, tmp_path / "tfds", "fr")


def dw(root, words=("the", "vote", "politics"), x_ids=((0, 1),), y_ids=((0,),),
       label_ids=("2",), vectors=None):
    for folder in ("train", "dev", "test"):
        write_files(root / folder, {"english.json": json.dumps(
            {"X_ids": [[list(sentence) for sentence in x_ids]], "Y_ids": [list(y) for y in y_ids],
             "label_ids": list(label_ids)})})
    payload = (list(words), np.zeros((len(words), 2), np.float32) if vectors is None else vectors)
    with gzip.open(root / "english.pkl.gz", "wb") as f:
        pickle.dump(payload, f, protocol=2)
    return root


def test_dw_decodes_word_ids(tmp_path):
    docs = list(corpora.load_split("dw", "english", "test", data_dir=tmp_path / "tfds",
                                   manual_dir=dw(tmp_path / "dw")).as_numpy_iterator())
    assert [(d["text"], list(d["labels"])) for d in docs] == [(b"the vote", [b"politics"])]


def test_dw_word_id_outside_the_vocabulary(tmp_path):
    manual = dw(tmp_path / "dw", x_ids=((0, 7),))
    with pytest.raises(CorpusError, match=r"english\.json, document 0: word id 7 is not in the "
                                          r"vocabulary of .*english\.pkl\.gz \(3 words\)"):
        sizes("dw", manual, tmp_path / "tfds", "english")


def test_dw_label_index_outside_label_ids(tmp_path):
    manual = dw(tmp_path / "dw", y_ids=((3,),))
    with pytest.raises(CorpusError, match=r"document 0: label index 3 is outside label_ids"):
        sizes("dw", manual, tmp_path / "tfds", "english")


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned > pwned.txt",))


def test_dw_refuses_a_pickle_that_runs_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    manual = dw(tmp_path / "dw", vectors=[_RunsCode()] * 3)
    with pytest.raises(CorpusError, match=r"english\.pkl\.gz: cannot load word vectors: .*"
                                          r"refusing to load posix\.system"):
        sizes("dw", manual, tmp_path / "tfds", "english")
    assert not (tmp_path / "pwned.txt").exists()


def test_dw_missing_word_vectors(tmp_path):
    manual = dw(tmp_path / "dw")
    (manual / "english.pkl.gz").unlink()
    with pytest.raises(CorpusError, match=r"dw english: no word vectors; looked for "
                                          r".*english\.pkl\.gz and .*word_vectors/english"):
        sizes("dw", manual, tmp_path / "tfds", "english")


# --- prepare ---------------------------------------------------------------------------------

def test_prepare_resolves_iso_codes(tmp_path):
    counts = prepare.prepare("sib200", ["en", "zh"], data_dir=tmp_path, manual_dir=SIB_DUMMY)
    assert counts == {"eng_Latn": {"train": 3, "validation": 2, "test": 2},
                      "zho_Hans": {"train": 3, "validation": 2, "test": 2}}
    table = prepare.format_table({**counts, "ind": {"validation": 2, "test": 2}})
    assert table.splitlines()[0].split() == ["lang", "train", "validation", "test", "total"]
    assert table.splitlines()[-3].split() == ["ind", "-", "2", "2", "4"]
    assert table.splitlines()[-1].split() == ["total", "6", "6", "6", "18"]


def test_prepare_fills_the_token_cache_that_training_reads(tmp_path, capsys):
    from mlclf import task, text
    counts = prepare.prepare("sib200", ["en"], data_dir=tmp_path, manual_dir=SIB_DUMMY,
                             tokenize=["hierarchical"])
    caches = sorted(path.name for path in tmp_path.glob("**/mlclf_tokens/*"))
    assert caches == sorted(f"{split}-hierarchical-{text.fingerprint()}"
                            for split in counts["eng_Latn"])
    reported = capsys.readouterr().err
    assert "tokenising sib200/eng_Latn train (hierarchical): 3/3 documents" in reported
    config = task.ExperimentConfig(model="mhan_att", dataset="sib200", langs=("eng_Latn",),
                                   manual_dir=str(SIB_DUMMY), data_dir=str(tmp_path))
    cached = task.load_examples(config, ["eng_Latn"], "train")["eng_Latn"]
    assert "tokenising" not in capsys.readouterr().err   # read back, not tokenised again
    for example in cached:
        assert example["words"].to_list() == text.tokenize(
            example["text"][None], hierarchical=True)[0].to_list()


def _run_prepare(*args):
    return subprocess.run([sys.executable, "-m", "mlclf.prepare", *args], capture_output=True,
                          text=True, timeout=300, check=False)


def test_prepare_cli_prints_and_writes_counts(tmp_path):
    stats = tmp_path / "stats.json"
    done = _run_prepare("--dataset=jsonl", "--langs=all", f"--data_dir={tmp_path / 'tfds'}",
                        f"--manual_dir={DUMMY / 'jsonl' / 'dummy_data'}",
                        f"--stats_json={stats}")
    assert done.returncode == 0, done.stderr
    assert json.loads(stats.read_text()) == {
        lang: {"train": 3, "validation": 2, "test": 2} for lang in ("en", "hi", "ru")}
    assert "total" in done.stdout and "3 language(s) ready" in done.stdout

    done = _run_prepare("--dataset=sib200", "--langs=xx", f"--data_dir={tmp_path / 'tfds'}",
                        f"--manual_dir={SIB_DUMMY}")
    assert done.returncode == 1
    assert "prepare: unknown language code 'xx'" in done.stderr
    assert "Traceback" not in done.stderr
