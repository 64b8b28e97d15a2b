"""Find, build and load one language's split of a corpus (TFDS underneath).

The builders live in `datasets/` (installed as `mlclf_datasets`). A language is prepared into
`data_dir` on first use and reused afterwards. Bad input surfaces as `CorpusError` with the
builder's message (file and line), never as a TFDS wrapper around it.

`options` ({name: value}) tell a corpus of the user's own files how to read them (`csv`: which
column holds the text, ...); each builder lists those it reads (`OPTIONS`), and any other is an
error. Upstream corpora take none.
"""
import hashlib
import importlib
import json
import os

from absl import logging
import tensorflow_datasets as tfds

from mlclf_datasets.errors import CorpusError

__all__ = ["DATASETS", "SPLITS", "CorpusError", "available_languages", "document_locations",
           "load_split", "prepared_language", "read_split", "split_sizes"]

DATASETS = ("masakhanews", "brighter", "sib200", "dw", "jsonl", "csv")
SPLITS = ("train", "validation", "test")


def builder_class(dataset):
    """The TFDS builder class of a dataset name."""
    if dataset not in DATASETS:
        raise CorpusError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
    return importlib.import_module(f"mlclf_datasets.{dataset}.{dataset}_dataset_builder").Builder


def available_languages(dataset, manual_dir=None, options=None):
    """Languages present in `manual_dir` (any found there), else the builder's known list."""
    cls = builder_class(dataset)
    if manual_dir is None:
        cls.check_options(options)
        return sorted(cls.builder_configs)
    return cls.discover_languages(manual_dir, options)


def load_split(dataset, lang, split, *, data_dir, manual_dir=None, options=None):
    """A `tf.data.Dataset` of {id, lang, text, labels} for one language's split."""
    _check_split(split)  # before building anything
    return read_split(prepared_language(dataset, lang, data_dir=data_dir,
                                        manual_dir=manual_dir, options=options), split)


def prepared_language(dataset, lang, *, data_dir, manual_dir=None, options=None):
    """The language's TFDS builder, prepared in `data_dir` unless it already is.

    Read its splits with `read_split`. Data derived from the corpus (token caches) goes inside
    its `data_path`, so that it goes when TFDS rebuilds the language.
    """
    builder = _builder(dataset, lang, data_dir, manual_dir, options)
    if builder.data_path.exists():  # TFDS's own reuse test: builds are moved in when complete
        return builder
    if manual_dir is None and lang not in builder.builder_configs:
        raise CorpusError(f"{dataset}: unknown language {lang!r}; known: "
                          f"{', '.join(sorted(builder.builder_configs)) or 'none'} "
                          "(pass manual_dir for languages of your own files)")
    try:
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=manual_dir))
    except Exception as e:  # pylint: disable=broad-except
        error = _corpus_error(e)
        if error is None:
            raise
        raise error from None
    return builder


def document_locations(dataset, lang, split, *, data_dir, manual_dir=None, options=None):
    """{id: "<file>, line N"} (or the builder's own location) of a prepared split's documents,
    for messages that name a document: read again from the corpus files, so slow; {} where they
    cannot be read."""
    try:
        builder = _builder(dataset, lang, data_dir, manual_dir, options)
        return builder.document_locations(split, manual_dir)
    except Exception as e:  # pylint: disable=broad-except
        # A message that would name the file and line names the id alone.
        logging.warning("cannot locate the documents of %s %s %s: %s", dataset, lang, split, e)
        return {}


def _builder(dataset, lang, data_dir, manual_dir, options):
    cls = builder_class(dataset)
    root = None if manual_dir is None else cls.corpus_root(manual_dir)
    return cls(config=cls.config_for(lang, options),
               data_dir=_source_data_dir(cls, data_dir, root, options))


def read_split(builder, split):
    """One split of a `prepared_language`, with a clear error for a split it lacks."""
    _check_split(split)
    if split not in builder.info.splits:
        raise CorpusError(f"{builder.name} {builder.builder_config.name} has no {split} split; "
                          f"it has {', '.join(builder.info.splits)}")
    return builder.as_dataset(split=split)


def _check_split(split):
    if split not in SPLITS:
        raise CorpusError(f"unknown split {split!r}; splits are {', '.join(SPLITS)}")


def split_sizes(dataset, lang, *, data_dir, manual_dir=None, options=None):
    """{split: number of documents} for the splits the language has."""
    splits = prepared_language(dataset, lang, data_dir=data_dir, manual_dir=manual_dir,
                               options=options).info.splits
    return {split: splits[split].num_examples for split in SPLITS if split in splits}


def _source_data_dir(cls, data_dir, root, options):
    """Where a dataset is prepared. A corpus of the user's own files (jsonl, csv) is anyone's
    files under one name, so its builds go to a folder named after a hash of the files'
    contents and the options they are read with: two corpora never collide, and an edited
    corpus is built again."""
    data_dir = os.path.expanduser(os.fspath(data_dir))
    files = None if root is None else cls.source_files(root)
    if files is None:
        return data_dir
    digest = hashlib.sha256()
    if options:
        digest.update(json.dumps(options, sort_keys=True).encode())
    for path in files:
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    return os.path.join(data_dir, f"{cls.name}-{digest.hexdigest()[:12]}")


def _corpus_error(error):
    """The CorpusError in an exception's chain, if any (TFDS may wrap what builders raise)."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, CorpusError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None
