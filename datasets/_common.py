"""What every mlclf corpus builder shares: the example features, one config per language, where
manual data lives, and strict readers that turn bad input into a `CorpusError` naming file and line.

Errors raised while TFDS iterates a split reach the caller unwrapped; `mlclf.corpora` still looks
for a `CorpusError` in the exception chain in case a TFDS version wraps them.
"""
import csv
import io
import re
import urllib.parse

from absl import logging
from etils import epath
import requests
import tensorflow_datasets as tfds

from mlclf_datasets.errors import CorpusError

SPLITS = ("train", "validation", "test")
# Language codes become config names and folders under data_dir and the manual dir.
LANG_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")

# Seconds an upstream host has to answer before a build concludes there is no network. TFDS
# itself retries a failed connection for minutes, so the hosts are asked first.
CONNECT_TIMEOUT = 5
_NETWORK_ERRORS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout)

# A quoted news article can exceed csv's 128 KiB default field limit.
_MAX_FIELD_CHARS = 2**31 - 1


def features():
    """The example features of docs/architecture.md: id, lang, text, labels."""
    return tfds.features.FeaturesDict({
        "id": tfds.features.Text(),
        "lang": tfds.features.Text(),
        "text": tfds.features.Text(),
        "labels": tfds.features.Sequence(tfds.features.Text()),
    })


def language_config(lang, corpus):
    """The BuilderConfig of one language; its name is the corpus' own language code."""
    return tfds.core.BuilderConfig(name=lang, description=f"{corpus}, language {lang}")


class CorpusBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """Base of the per-language corpus builders.

    Subclasses list the upstream languages in BUILDER_CONFIGS; `config_for` makes a config for any
    other language found in a manual dir (e.g. one withheld from a shared snapshot). The manual dir
    may be the corpus folder itself or a folder holding `<name>/`.
    """

    HOMEPAGE = None
    # The options a user may give this corpus (how to read their files, e.g. which column holds
    # the text): names of mlclf's config fields, passed as {name: value}. Upstream corpora have
    # fixed layouts and take none.
    OPTIONS = ()

    def _info(self):
        return self.dataset_info_from_configs(features=features(), homepage=self.HOMEPAGE)

    @classmethod
    def config_for(cls, lang, options=None):
        """The class's own config for `lang` (TFDS refuses a twin), else a new one."""
        if not (isinstance(lang, str) and LANG_CODE.fullmatch(lang)):
            raise CorpusError(f"{cls.name}: {lang!r} is not a language code (letters, digits, "
                              "_ and -)")
        cls.check_options(options)
        return cls.builder_configs.get(lang) or language_config(lang, cls.name)

    @classmethod
    def check_options(cls, options):
        """Options this corpus does not read are an error, never silently ignored."""
        unknown = sorted(set(options or ()) - set(cls.OPTIONS))
        if unknown:
            takes = ", ".join(f"--{name}" for name in cls.OPTIONS) or "none"
            raise CorpusError(f"{', '.join(f'--{name}' for name in unknown)}: not an option of "
                              f"the {cls.name} corpus (its options: {takes})")

    @classmethod
    def is_root(cls, path):
        """Whether `path` is this corpus' folder: by default it holds `languages/<lang>/`."""
        return (path / "languages").is_dir()

    @classmethod
    def languages_in(cls, root, options=None):
        """The language codes present under the corpus folder `root`."""
        del options  # a fixed layout
        return subdir_languages(root)

    @classmethod
    def source_files(cls, root):
        """A user's corpus: the files its builds depend on (mlclf.corpora names the prepared
        folder after a hash of them and the options). None for an upstream corpus."""
        del root
        return None

    @classmethod
    def find_root(cls, manual_dir):
        """`manual_dir` or `manual_dir/<name>`, whichever holds the corpus; None if neither."""
        base = epath.Path(manual_dir)
        for candidate in (base, base / cls.name):
            if candidate.is_dir() and cls.is_root(candidate):
                return candidate
        return None

    @classmethod
    def corpus_root(cls, manual_dir):
        """`find_root`, where a manual dir without the corpus is an error describing the layout."""
        root = cls.find_root(manual_dir)
        if root is None:
            raise CorpusError(
                f"{manual_dir}: no {cls.name} data here or in {cls.name}/; expected: "
                + " ".join(cls.MANUAL_DOWNLOAD_INSTRUCTIONS.split()))
        return root

    @classmethod
    def discover_languages(cls, manual_dir, options=None):
        """Sorted languages present in a manual dir."""
        cls.check_options(options)
        return sorted(cls.languages_in(cls.corpus_root(manual_dir), options))

    def manual_root(self, dl_manager):
        """The corpus folder in the build's manual dir, or None when there is none (download)."""
        try:
            manual_dir = dl_manager.manual_dir
        except AssertionError:  # TFDS: manual dir missing or empty
            return None
        return self.find_root(manual_dir)

    def document_locations(self, split, manual_dir=None):
        """{id: "<file>, <location>"} of a split's documents, read again from the source files
        (for messages about documents of the prepared split; as slow as reading them was)."""
        dl_manager = tfds.download.DownloadManager(
            download_dir=self.data_dir_root / "downloads", manual_dir=manual_dir,
            manual_dir_instructions=self.MANUAL_DOWNLOAD_INSTRUCTIONS)
        return dict(self._split_generators(dl_manager)[split].locations())

    def language_files(self, dl_manager, candidates, urls, optional=()):
        """This config's files by role: from the manual dir's `languages/<lang>/` when the manual
        dir holds the corpus (see `pick_files`), else downloaded from `urls` ({role: url})."""
        root = self.manual_root(dl_manager)
        if root is None:
            return self.download(dl_manager, urls)
        return pick_files(language_dir(root, self.builder_config.name), candidates, optional)

    def download(self, dl_manager, urls):
        """`dl_manager.download(urls)`, where a network failure (no route, refused, DNS, timeout)
        is a one-line CorpusError naming the remedy, found within seconds by `check_reachable`."""
        try:
            check_reachable(urls.values())
            return dl_manager.download(urls)
        except _NETWORK_ERRORS as e:
            reason = (f"no answer within {CONNECT_TIMEOUT} s"
                      if isinstance(e, requests.exceptions.Timeout) else "cannot connect")
            url = e.request.url if e.request is not None else next(iter(urls.values()))
            raise CorpusError(
                f"{self.name} {self.builder_config.name}: cannot download {url} ({reason}); "
                f"without network, give a local copy of the corpus: --manual_dir=FOLDER, or "
                f"MLCLF_MANUAL_DIR=PARENT for PARENT/{self.name}/. FOLDER: "
                + " ".join(self.MANUAL_DOWNLOAD_INSTRUCTIONS.split())) from None


def check_reachable(urls):
    """Asks each host of `urls` for one of them, once, with a short timeout; raises the
    requests error when one cannot be reached."""
    first_per_host = {}
    for url in urls:
        first_per_host.setdefault(urllib.parse.urlsplit(url).netloc, url)
    for url in first_per_host.values():
        requests.head(url, timeout=CONNECT_TIMEOUT, allow_redirects=False).close()


def subdir_languages(root):
    """Languages laid out as `<root>/languages/<lang>/`."""
    return [p.name for p in (root / "languages").iterdir() if p.is_dir()]


def language_dir(root, lang):
    """`<root>/languages/<lang>`; a language missing from the manual dir is an error."""
    path = root / "languages" / lang
    if not path.is_dir():
        raise CorpusError(f"{root}: language {lang!r} not found; available: "
                          f"{preview(subdir_languages(root), limit=300)}")
    return path


def pick_files(folder, candidates, optional=()):
    """Maps each role to the first of its candidate file names present in `folder`.

    A role in `optional` may be absent (it is then left out); any other missing role is an error.
    """
    found = {}
    for role, names in candidates.items():
        path = next((folder / n for n in names if (folder / n).is_file()), None)
        if path is not None:
            found[role] = path
        elif role not in optional:
            raise CorpusError(f"{folder}: missing {' or '.join(names)} ({role})")
    return found


def read_text(path):
    """The file decoded as UTF-8 (a BOM is dropped); anything else is an error naming the line."""
    return decode(epath.Path(path).read_bytes(), path)


def decode(data, source):
    """`data` (bytes read from `source`, a path or a name for messages) decoded as `read_text`
    decodes a file."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise CorpusError(f"{source}, line {line}: not valid UTF-8 (byte 0x{data[e.start]:02x} "
                          f"at offset {e.start}); re-encode the file as UTF-8") from None


def read_table(path, delimiter, required):
    """Parses a CSV/TSV file whose header starts with the columns `required`.

    Returns `(header, rows)`, rows being `(location, {column: value})`. Quoted fields may span
    lines; the location is the line where the row starts. Blank lines are ignored.
    """
    return parse_table(read_text(path), path, delimiter, required)


def parse_table(text, path, delimiter, required):
    """`read_table` on the `text` of `path` (a path or a name for messages)."""
    csv.field_size_limit(_MAX_FIELD_CHARS)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    try:
        header = [h.strip() for h in next(reader, [])]
        if header[:len(required)] != list(required) or len(set(header)) != len(header):
            raise CorpusError(f"{path}, line 1: the header must be {delimiter.join(required)}"
                              f"[{delimiter}...] with distinct names, found {header}")
        rows = []
        start = reader.line_num + 1
        for values in reader:
            if values:
                if len(values) != len(header):
                    raise CorpusError(
                        f"{path}, line {start}: expected {len(header)} columns "
                        f"({', '.join(header)}), found {len(values)}")
                rows.append((f"line {start}", dict(zip(header, values, strict=True))))
            start = reader.line_num + 1
    except csv.Error as e:
        hint = " (a quote opened here is never closed)" if "end of data" in str(e) else ""
        raise CorpusError(f"{path}, line {start}: malformed row: {e}{hint}") from None
    return header, rows


def read_label_file(path):
    """A labels.txt: one label per line."""
    labels = [line.strip() for line in read_text(path).splitlines() if line.strip()]
    if not labels or len(set(labels)) != len(labels):
        raise CorpusError(f"{path}: expected distinct labels, one per line, found {labels}")
    return labels


def preview(values, limit=20):
    """Up to `limit` sorted values, comma-separated, for error messages."""
    values = sorted(values)
    more = f", ... ({len(values)} in all)" if len(values) > limit else ""
    return ", ".join(values[:limit]) + more


class Examples:
    """What a builder's `_generate_examples` returns: iterated (by TFDS), the checked
    `(key, example)` pairs of `documents`, one document `(location, id, text, labels)` at a time;
    `locations()` says instead where each id is, for messages about a prepared split."""

    def __init__(self, path, lang, documents, label_set=None):
        self.path, self.lang, self.label_set = path, lang, label_set
        self._documents = documents

    def locations(self):
        """Yields `(id, "<file>, <location>")` for each document, unchecked."""
        for where, doc_id, *_ in self._documents:
            yield doc_id, f"{self.path}, {where}"

    def __iter__(self):
        """Empty or whitespace-only texts are skipped and reported in a warning naming the file
        and count. Labels outside `label_set` (when given), repeated ids and a file without any
        text are errors."""
        path, lang, label_set = self.path, self.lang, self.label_set
        seen, empty = {}, []
        for where, doc_id, text, labels in self._documents:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            if not text.strip():
                empty.append(where)
                continue
            if doc_id in seen:
                raise CorpusError(f"{path}, {where}: id {doc_id!r} repeats the one at "
                                  f"{seen[doc_id]}")
            seen[doc_id] = where
            labels = list(dict.fromkeys(labels))
            unknown = [label for label in labels
                       if label_set is not None and label not in label_set]
            if unknown:
                raise CorpusError(f"{path}, {where}: label {unknown[0]!r} is not in the label "
                                  f"set of {lang}: {preview(label_set)}")
            yield doc_id, {"id": doc_id, "lang": lang, "text": text, "labels": labels}
        if empty:
            shown = ", ".join(empty[:5]) + (", ..." if len(empty) > 5 else "")
            logging.warning("%s: skipped %d document(s) with empty text (%s)", path, len(empty),
                            shown)
        if not seen:
            raise CorpusError(f"{path}: no documents with text for {lang}")


def examples(path, lang, docs, label_set=None):
    """Checks documents `(location, id, text, labels)` as TFDS reads them: `Examples`."""
    return Examples(path, lang, docs, label_set)
