"""Deutsche Welle news (MHAN paper, Pappas & Popescu-Belis 2017): multi-label, 8 languages.

Manual only: the input is what the MHAN toolkit's crawler (fetch_data.py) writes, documents as
word ids into per-language word-vector vocabularies. Ids are decoded back to words so that DW
flows through the same text pipeline as every other corpus.
"""
import json

import tensorflow_datasets as tfds

from mlclf_datasets import _common, safe_pickle
from mlclf_datasets.errors import CorpusError

LANGUAGES = ("arabic", "english", "german", "persian", "portuguese", "russian", "spanish",
             "ukrainian")
_SPLIT_DIRS = {"train": "train", "validation": "dev", "test": "test"}


class Builder(_common.CorpusBuilder):
    """DW; text = sentences joined by newlines, words by spaces; label = its words joined by _."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release: reads the MHAN toolkit's crawler output."}
    BUILDER_CONFIGS = [_common.language_config(lang, "Deutsche Welle") for lang in LANGUAGES]
    HOMEPAGE = "https://github.com/idiap/mhan"
    MANUAL_DOWNLOAD_INSTRUCTIONS = """
    Required: the output of the MHAN toolkit's fetch_data.py (https://github.com/idiap/mhan):
    train/, dev/ and test/ folders with one <language>.json each (X_ids, Y_ids, label_ids), and
    the word vectors <language>.pkl.gz beside those folders or in word_vectors/. Point manual_dir
    at that folder or at its parent holding dw/.
    """

    @classmethod
    def is_root(cls, path):
        return bool(cls.languages_in(path))

    @classmethod
    def languages_in(cls, root):
        return {p.name[:-len(".json")] for folder in _SPLIT_DIRS.values()
                if (root / folder).is_dir() for p in (root / folder).glob("*.json")}

    def _split_generators(self, dl_manager):
        root = self.manual_root(dl_manager)
        if root is None:
            raise CorpusError("dw cannot be downloaded; pass a manual_dir holding: "
                              + self.MANUAL_DOWNLOAD_INSTRUCTIONS.strip())
        lang = self.builder_config.name
        files = {split: root / folder / f"{lang}.json" for split, folder in _SPLIT_DIRS.items()}
        missing = [str(path) for path in files.values() if not path.is_file()]
        if missing:
            raise CorpusError(f"dw {lang}: missing {', '.join(missing)}")
        vocabulary = _Vocabulary(root, lang)
        return {split: self._generate_examples(path, split, vocabulary)
                for split, path in files.items()}

    def _generate_examples(self, path, split, vocabulary):
        data = _read_json(path)
        documents, targets = data["X_ids"], data["Y_ids"]
        if len(documents) != len(targets):
            raise CorpusError(f"{path}: {len(documents)} documents (X_ids) but {len(targets)} "
                              "label lists (Y_ids)")
        label_ids = data["label_ids"]
        label_names = [vocabulary.label(path, f"label_ids[{i}]", key)
                       for i, key in enumerate(label_ids)]
        docs = ((f"document {i}", f"{split}-{i}", vocabulary.text(path, f"document {i}", x),
                 [_label(path, i, y, label_ids, label_names, vocabulary) for y in ys])
                for i, (x, ys) in enumerate(zip(documents, targets, strict=True)))
        return _common.examples(path, self.builder_config.name, docs)


def _label(path, doc, y, label_ids, label_names, vocabulary):
    """A document's label: an index into label_ids, or (as fetch_data.py writes Y_ids) the label's
    own word ids, whose `_`-joined key must then be one of label_ids."""
    where = f"document {doc}"
    if isinstance(y, list):
        key = "_".join(map(str, y))
        if key not in label_ids:
            raise CorpusError(f"{path}, {where}: label words {key} are not in label_ids")
        return vocabulary.label(path, where, key)
    if type(y) is not int or not 0 <= y < len(label_names):
        raise CorpusError(f"{path}, {where}: label index {y!r} is outside label_ids "
                          f"(0..{len(label_names) - 1})")
    return label_names[y]


def _read_json(path):
    try:
        data = json.loads(_common.read_text(path))
    except json.JSONDecodeError as e:
        raise CorpusError(f"{path}, line {e.lineno}: invalid JSON: {e.msg}") from None
    missing = [k for k in ("X_ids", "Y_ids", "label_ids") if not isinstance(data, dict)
               or not isinstance(data.get(k), list)]
    if missing:
        raise CorpusError(f"{path}: expected a JSON object with the lists X_ids, Y_ids and "
                          f"label_ids; missing {', '.join(missing)}")
    return data


class _Vocabulary:
    """The words of a language's word-vector pickle, to decode word ids."""

    def __init__(self, root, lang):
        candidates = [root / f"{lang}.pkl.gz", root / "word_vectors" / f"{lang}.pkl.gz"]
        self.source = next((p for p in candidates if p.is_file()), None)
        if self.source is None:
            raise CorpusError(f"dw {lang}: no word vectors; looked for "
                              f"{' and '.join(map(str, candidates))}")
        try:
            loaded = safe_pickle.load_pickle_gz(self.source)
        except Exception as e:  # a refused, truncated or foreign pickle alike
            raise CorpusError(f"{self.source}: cannot load word vectors: {e}") from e
        if not (isinstance(loaded, (tuple, list)) and len(loaded) == 2
                and len(loaded[0]) == len(loaded[1])):
            raise CorpusError(f"{self.source}: expected a pair (words, vectors) of equal length")
        self.words = [_decode(self.source, i, w) for i, w in enumerate(loaded[0])]

    def word(self, path, where, word_id):
        if type(word_id) is not int or not 0 <= word_id < len(self.words):
            raise CorpusError(f"{path}, {where}: word id {word_id!r} is not in the vocabulary of "
                              f"{self.source} ({len(self.words)} words)")
        return self.words[word_id]

    def text(self, path, where, sentences):
        return "\n".join(" ".join(self.word(path, where, w) for w in sentence)
                         for sentence in sentences)

    def label(self, path, where, key):
        """A label key (word ids joined by _) as words joined by _."""
        try:
            ids = [int(part) for part in str(key).split("_")]
        except ValueError:
            raise CorpusError(
                f"{path}, {where}: label key {key!r} is not word ids joined by _") from None
        return "_".join(self.word(path, where, i) for i in ids)


def _decode(path, index, word):
    """A vocabulary word as str; Python 2 pickles hold UTF-8 bytes."""
    if isinstance(word, bytes):
        try:
            return word.decode("utf-8")
        except UnicodeDecodeError:
            raise CorpusError(f"{path}: word {index} is not valid UTF-8: {word!r}") from None
    if not isinstance(word, str):
        raise CorpusError(f"{path}: word {index} is {type(word).__name__}, not a string")
    return word
