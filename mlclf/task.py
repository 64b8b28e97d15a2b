"""One experiment, assembled from its config: its settings, its examples, and what it learns
from the training split (vocabulary, label space), so that train.py, evaluate.py and the export
all assemble the same pieces the same way. Which model a name means, and how it trains, is the
model registry's to say (`mlclf.models`).
"""
from __future__ import annotations

import collections
import dataclasses
import json
import math
import os
import re
from typing import Optional

import numpy as np
import tensorflow as tf

from mlclf import corpora, data, embeddings as embeddings_lib, languages as languages_lib
from mlclf import labels as labels_lib, models, ngrams as ngrams_lib, text, vocab as vocab_lib
from mlclf.models import wide as wide_lib


class Interval:
    """The values a numeric setting allows, written as in maths: "[1, inf)", "(0, 1]"."""

    def __init__(self, text: str):
        match = re.fullmatch(r"([\[(])\s*([^,\s]+)\s*,\s*([^,\s]+)\s*([\])])", text)
        if not match:
            raise ValueError(f"{text!r} is not an interval such as [1, inf) or (0, 1]")
        opening, self._low_text, high_text, closing = match.groups()
        self.low, self.high = float(self._low_text), float(high_text)
        self.low_closed, self.high_closed = opening == "[", closing == "]"
        self.text = f"{opening}{self._low_text}, {high_text}{closing}"

    def __contains__(self, value) -> bool:
        above = self.low <= value if self.low_closed else self.low < value
        below = value <= self.high if self.high_closed else value < self.high
        return above and below  # NaN is in no interval

    def __str__(self) -> str:
        """">= 1" for a half-line, "in (0, 1]" otherwise: how messages and --help say it."""
        if self.high == float("inf") and not self.high_closed:
            return f"{'>=' if self.low_closed else '>'} {self._low_text}"
        return f"in {self.text}"


def setting(default, help_text: str, *, values: Optional[str] = None, **metadata):
    """A config field with its flag's help (mlclf.cli makes every field a flag). `values`: the
    range a number must lie in (`Interval` notation, "[1, inf)"); `choices`: the strings allowed
    (the flag becomes an enum). ExperimentConfig checks both whenever it is made."""
    if values is not None:
        metadata["values"] = Interval(values)
    return dataclasses.field(default=default, metadata={"help": help_text, **metadata})


@dataclasses.dataclass
class ExperimentConfig:
    """Everything that defines a run; saved to RUN/config.json and RUN/flags.cfg.

    A new field is a new train.py flag: one line, `name: type = setting(default, help)`, with
    `values="[1, inf)"` (numbers) or `choices=(...)` (strings) saying what it allows. The
    fields' order is config.json's (a resumed run must read back the same text).
    """

    model: str = setting("mhan_att", f"Model: {' | '.join(models.names())} (monolingual: "
                         f"{', '.join(models.names(multilingual=False))}).")
    dataset: str = setting("sib200", "Corpus (a TFDS builder in datasets/).",
                           choices=corpora.DATASETS)
    langs: tuple = setting(("en", "ar"), "Languages, comma-separated: ISO 639-1/-3 or corpus "
                           "codes, or 'all'.")
    manual_dir: Optional[str] = setting(
        None, "Local copy of the corpus, the corpus folder or its parent (offline builds). "
        "Unset: $MLCLF_MANUAL_DIR/<dataset> if that is set, else download from upstream "
        "(masakhanews, brighter, sib200).")
    data_dir: str = setting(os.path.join("~", "tensorflow_datasets"),
                            "Where TFDS keeps prepared datasets.")
    # How to read a corpus of your own files (corpus options: the builder names those it reads).
    text_column: str = setting("text", "The column holding the text.", corpus_option=True)
    label_column: str = setting("labels", "The column holding the label (or labels, with "
                                "--label_separator); an empty cell: no label.", corpus_option=True)
    lang_column: str = setting("lang", "The column holding the language code.",
                               corpus_option=True)
    id_column: str = setting("id", "The column holding document ids, if there is one (else "
                             "<split>-<row>).", corpus_option=True)
    label_separator: str = setting("", "What joins several labels in one cell (e.g. '|'); "
                                   "empty: a cell is one label.", corpus_option=True)
    encoder: str = setting("dense", "Word and sentence encoders.",
                           choices=("dense", "gru", "bigru"))
    hidden: int = setting(100, "Encoder size (per direction for bigru).", values="[1, inf)")
    embed_dim: int = setting(100, "Word embedding size (must match --embeddings files when "
                             "given).", values="[1, inf)")
    embeddings: str = setting("learned", "'learned', a .vec/.txt/.pkl.gz file of (aligned) "
                              "vectors, LANG:FILE,..., or a directory of <code>.vec files "
                              "(python -m mlclf.align).")
    freeze_embeddings: bool = setting(False, "Keep loaded embeddings fixed.")
    vocab: str = setting("auto", "shared: one vocabulary for all languages; per_language: one "
                         f"per language; auto: the model's own ({models.auto_help('vocab')}).",
                         choices=("auto", "shared", "per_language"))
    min_count: int = setting(1, "Drop training words seen fewer times.", values="[1, inf)")
    max_vocab: int = setting(100_000, "Keep at most this many words (most frequent first).",
                             values="[1, inf)")
    subword_buckets: int = setting(0, "Hashed character n-gram buckets (fastText style); 0 "
                                   "disables.", values="[0, inf)")
    label_space: str = setting("auto", "per_language: disjoint label sets (the MHAN paper); "
                               "shared: same name, same output (the CNN paper); auto: the "
                               f"model's own ({models.auto_help('label_space')}).",
                               choices=("auto", "per_language", "shared"))
    output: str = setting("auto", "Scores: sigmoid (independent labels, decided by --threshold), "
                          "softmax (one label per document: a distribution over the "
                          "document's language's labels, decided by the best one) or auto "
                          "(softmax when every training document has exactly one label).",
                          choices=("auto", "sigmoid", "softmax"))
    wide: str = setting("auto", "A wide branch: a TF-IDF linear model over hashed character "
                        "and word n-grams of the whole document (its first 5,000 words), whose "
                        "logits add to the model's: true | false | auto (on for the models that "
                        "can have one; the paper presets turn it off).",
                        choices=("auto", "true", "false"))
    wide_learning_rate: float = setting(
        0.02, "Adam's step size for the wide branch's weights, whatever --learning_rate (a "
        "linear model over TF-IDF values needs larger steps than the deep part).",
        values="(0, inf)")
    wide_buckets: int = setting(1 << 20, "Hash buckets of the wide branch's n-grams.",
                                values="[1, 1073741824]")
    wide_char_ngrams: str = setting("2-5", "Character n-gram orders of the wide branch (of "
                                    "'<word>'), e.g. 2-5; '' for none.")
    wide_word_ngrams: str = setting("1-2", "Word n-gram orders of the wide branch, e.g. 1-2; "
                                    "'' for none.")
    wide_language_copies: str = setting(
        "auto", "Give each n-gram of the wide branch a copy per language besides the shared "
        "one: true | false | auto (true with --label_space=shared and several languages).",
        choices=("auto", "true", "false"))
    wide_romanized: bool = setting(
        False, "Also give the wide branch the character n-grams of each word in a non-Latin "
        "script romanised (Cyrillic, Greek, Arabic, Brahmic, Ethiopic, ...), so that scripts "
        "share n-grams.")
    unseen_reads: str = setting(
        "wide", "What a document in a language the model never trained on is read with, in a "
        "model with a wide branch and a deep part: wide (the n-gram branch alone: the deep part "
        "knows few of its words, and its logits then add a bias) | all (both).",
        choices=("wide", "all"))
    wide_shared_weight: float = setting(
        1.0, "With language copies: the weight of the shared n-gram features beside each "
        "language's own copies (0: a training language reads its copies alone, and the shared "
        "weights, all that a language never trained on reads, learn nothing).",
        values="[0, 1]")
    wide_log_count_ratio: bool = setting(
        False, "Scale each n-gram's value in the wide branch, per output, by its naive-Bayes "
        "log-count ratio on the training split (NBSVM).")
    max_sentences: int = setting(30, "Sentences kept per document (hierarchical models).",
                                 values="[1, inf)")
    max_words: int = setting(30, "Words per sentence (hierarchical) or per document (flat).",
                             values="[1, inf)")
    batch_size: int = setting(16, "Global batch size; split evenly across languages.",
                              values="[1, inf)")
    epochs: int = setting(10, "Training epochs.", values="[1, inf)")
    steps_per_epoch: int = setting(0, "Steps per epoch; 0 = one pass over the training "
                                   "documents.", values="[0, inf)")
    learning_rate: float = setting(1e-3, "Adam learning rate.", values="(0, inf)")
    threshold: float = setting(0.4, "Decision threshold on sigmoid scores.", values="[0, 1]")
    label_weights: str = setting(
        "none", "Weights of the targets in a sigmoid head's loss: none | balanced (each output's "
        "positive and negative targets weighted n/(2 n_pos) and n/(2 n_neg) over the training "
        "documents whose language has it, scikit-learn's class_weight='balanced': a rare "
        "label's score then reaches the threshold) | auto (balanced for sigmoid scores, none for "
        "softmax).", choices=("none", "balanced", "auto"))
    at_least_one: str = setting("auto", "Give each document at least its best label: true | "
                                "false | auto (true when every training document has a label, "
                                "i.e. single-label corpora).", choices=("auto", "true", "false"))
    train_fraction: float = setting(1.0, "Seeded fraction of each language's training split "
                                    "(low-resource runs).", values="(0, 1]")
    seed: int = setting(0, "Random seed: same seed, same run on CPU.", values="[0, 4294967295]")
    num_filters: int = setting(128, "Filters per convolution.", values="[1, inf)")
    dropout: float = setting(0.5, "Dropout before the output layer.", values="[0, 1)")
    max_norm: float = setting(5.0, "Max-norm of each output weight vector.", values="(0, inf)")
    loss: str = setting("nce", "Loss.", choices=("nce", "sigmoid"))
    num_sampled: int = setting(5, "NCE negative samples per batch.", values="[1, inf)")
    num_true: int = setting(1, "NCE true labels per document (a document's labels repeated to "
                            "this count).", values="[1, inf)")

    def __post_init__(self):
        self.langs = tuple(self.langs)
        for field in dataclasses.fields(self):
            problem = _setting_problem(field, getattr(self, field.name))
            if problem:
                raise ValueError(f"--{field.name} {problem}")
        if not self.langs:
            raise ValueError("--langs is empty: give at least one language")
        spec = models.get(self.model)  # a ValueError naming the registered models
        for name in models.registry.AUTO:  # config.json keeps what "auto" meant for this model
            if getattr(self, name) == "auto":
                setattr(self, name, spec.auto_value(name))
        if spec.wide == "never" and self.wide == "true":
            widened = [name for name in models.names() if models.get(name).wide != "never"]
            raise ValueError(f"--wide=true: --model={self.model} has no wide branch (models "
                             f"that have one: {', '.join(widened)})")
        if self.output not in ("auto",) + spec.outputs:
            raise ValueError(f"--output={self.output}: --model={self.model} gives "
                             f"{' or '.join(spec.outputs)} scores")
        if self.label_weights == "balanced" and not spec.weighs_targets:
            raise ValueError(f"--label_weights=balanced: --model={self.model} computes its own "
                             f"loss, which takes no target weights")
        char_orders = ()
        if self.reads_ngrams:  # errors name the flag before any work starts
            char_orders = ngrams_lib.parse_orders(self.wide_char_ngrams, "wide_char_ngrams")
            ngrams_lib.parse_orders(self.wide_word_ngrams, "wide_word_ngrams")
        if self.wide_romanized and not char_orders:
            raise ValueError(f"--wide_romanized=true: it adds character n-grams to a wide branch, "
                             f"and --model={self.model} with --wide={self.wide} "
                             f"--wide_char_ngrams={self.wide_char_ngrams!r} reads none")
        if not spec.multilingual and len(self.langs) != 1:
            raise ValueError(f"--model={self.model} is monolingual: give one language in --langs "
                             f"(got {','.join(self.langs)}), or use a multilingual model: "
                             f"{', '.join(models.names(multilingual=True))}")

    @property
    def hierarchical(self) -> bool:
        return models.get(self.model).hierarchical

    @property
    def reads_ngrams(self) -> bool:
        """Whether the model has a wide branch (--wide, or a model that is one)."""
        spec = models.get(self.model)
        return spec.wide == "always" or (spec.wide == "optional" and self.wide == "true")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, payload: str) -> "ExperimentConfig":
        values = json.loads(payload)
        values.setdefault("wide", "false")  # written before the wide branch existed
        return cls(**values)


def _setting_problem(field, value) -> Optional[str]:
    """What is wrong with a field's value given its `values` or `choices`, or None."""
    if "choices" in field.metadata and value not in field.metadata["choices"]:
        return f"must be one of {', '.join(field.metadata['choices'])}, got {value!r}"
    allowed = field.metadata.get("values")
    if allowed is None:
        return None
    integer = field.type in ("int", int)
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        return f"must be {'an integer' if integer else 'a number'}, got {value!r}"
    if value not in allowed:
        finite = "" if math.isfinite(value) else "a finite number "
        return f"must be {finite}{allowed}, got {value!r}"
    return None


@dataclasses.dataclass
class Resources:
    """What a run learns from its training split and writes to the run directory."""

    languages: list
    vocabulary: "vocab_lib.Vocabulary"
    label_space: "labels_lib.LabelSpace"
    spec: data.InputSpec
    # Give every document at least its best label (thresholds alone may predict none): right
    # when every training document has a label, as in single-label corpora.
    at_least_one: bool = False
    # The head's scores (models.head): "softmax" (decided by the best label) when every
    # training document has exactly one label (--output=auto), else "sigmoid" (threshold).
    activation: str = "sigmoid"
    # The wide branch's n-grams also have a copy per language (models.wide).
    wide_language_copies: bool = False
    # {"positive": [num_outputs], "negative": [num_outputs]}: the weights of a sigmoid head's
    # targets in the loss (--label_weights=balanced), or None (every target weighs 1).
    label_weights: Optional[dict] = None
    # Document frequencies of the wide branch's n-grams in the training split (its idf); only
    # when building a model to train: a trained model has its idf in its weights.
    ngram_frequencies: Optional[dict] = None

    @property
    def top_k(self) -> Optional[int]:
        """The decision rule's number of labels per document: 1 for softmax scores (the best
        label), None for sigmoid scores (those that reach the threshold)."""
        return 1 if self.activation == "softmax" else None

    def save(self, run_dir: str) -> None:
        self.vocabulary.save(os.path.join(run_dir, "vocab"))
        self.label_space.save(os.path.join(run_dir, "labels"))
        with open(os.path.join(run_dir, "decision.json"), "w", encoding="utf-8") as f:
            json.dump({"at_least_one": self.at_least_one, "activation": self.activation,
                       "wide_language_copies": self.wide_language_copies,
                       "label_weights": self.label_weights}, f)

    @staticmethod
    def saved_in(run_dir: str) -> bool:
        """Whether `save` has written to `run_dir` (an interrupted run may have stopped before)."""
        return os.path.exists(os.path.join(run_dir, "decision.json"))

    @classmethod
    def load(cls, run_dir: str, config: ExperimentConfig) -> "Resources":
        vocabulary = vocab_lib.Vocabulary.load(os.path.join(run_dir, "vocab"))
        label_space = labels_lib.LabelSpace.load(os.path.join(run_dir, "labels"))
        with open(os.path.join(run_dir, "decision.json"), encoding="utf-8") as f:
            decision = json.load(f)
        return cls(list(label_space.languages), vocabulary, label_space, input_spec(config),
                   decision["at_least_one"], decision.get("activation", "sigmoid"),
                   decision.get("wide_language_copies", False),
                   decision.get("label_weights"))


def input_spec(config: ExperimentConfig) -> data.InputSpec:
    return data.InputSpec(hierarchical=config.hierarchical, max_sentences=config.max_sentences,
                          max_words=config.max_words,
                          num_subword_buckets=config.subword_buckets,
                          num_true=config.num_true,
                          ngrams=ngrams_lib.NgramSpec(
                              buckets=config.wide_buckets,
                              char_orders=ngrams_lib.parse_orders(config.wide_char_ngrams,
                                                                  "wide_char_ngrams"),
                              word_orders=ngrams_lib.parse_orders(config.wide_word_ngrams,
                                                                  "wide_word_ngrams"),
                              romanized=config.wide_romanized)
                          if config.reads_ngrams else None)


CORPUS_OPTIONS = tuple(field.name for field in dataclasses.fields(ExperimentConfig)
                       if field.metadata.get("corpus_option"))


def corpus_options(dataset: str, values) -> dict:
    """The corpus options ({name: value}) to read `dataset` with, from `values` (a config, or
    {name: value}): those its builder reads, and any other not left at its default, which the
    builder then refuses (an option that would do nothing is an error, not ignored)."""
    get = values.get if isinstance(values, dict) else lambda name: getattr(values, name)
    reads = corpora.builder_class(dataset).OPTIONS
    defaults = {field.name: field.default for field in dataclasses.fields(ExperimentConfig)}
    return {name: get(name) for name in CORPUS_OPTIONS
            if name in reads or get(name) != defaults[name]}


def resolve_languages(config: ExperimentConfig, codes) -> list:
    """User codes (ISO or corpus) -> the corpus' own codes, with a clear error when unknown."""
    available = corpora.available_languages(config.dataset, config.manual_dir,
                                            corpus_options(config.dataset, config))
    return languages_lib.resolve_all(list(codes), available)


def tokenized_split(prepared, split: str, hierarchical: bool) -> tf.data.Dataset:
    """A `corpora.prepared_language`'s split with the `words` of each example, from the token
    cache beside the prepared TFDS data (named by the split, the form and the tokeniser version),
    tokenised and saved there on first use, with progress on stderr."""
    mode = "hierarchical" if hierarchical else "flat"
    return data.cache_tokens(
        corpora.read_split(prepared, split), hierarchical,
        os.path.join(os.fspath(prepared.data_path), "mlclf_tokens",
                     f"{split}-{mode}-{text.fingerprint()}"),
        what=f"tokenising {prepared.name}/{prepared.builder_config.name} {split} ({mode})")


def bagged_split(prepared, split: str, spec: data.InputSpec) -> tf.data.Dataset:
    """`tokenized_split` with each example's n-gram bag (the wide branch's input), from the
    cache of bags beside the token cache (named as it is, and by `ngrams.fingerprint`),
    computed and saved there on first use, with progress on stderr."""
    mode = "hierarchical" if spec.hierarchical else "flat"
    return data.cache_ngram_bags(
        tokenized_split(prepared, split, spec.hierarchical), spec.ngrams,
        os.path.join(os.fspath(prepared.data_path), "mlclf_ngrams",
                     f"{split}-{mode}-{text.fingerprint()}-{ngrams_lib.fingerprint(spec.ngrams)}"),
        what=f"hashing n-grams of {prepared.name}/{prepared.builder_config.name} {split}")


def load_examples(config: ExperimentConfig, langs, split: str) -> dict:
    """{lang: examples of the split, with their `words` (`tokenized_split`), and their n-gram
    bags when the model has a wide branch (`bagged_split`)}."""
    data_dir = os.path.expanduser(config.data_dir)
    spec = input_spec(config)
    examples = {}
    for lang in langs:
        # One builder for both: for a jsonl corpus, finding it hashes the user's files.
        prepared = corpora.prepared_language(config.dataset, lang, data_dir=data_dir,
                                             manual_dir=config.manual_dir,
                                             options=corpus_options(config.dataset, config))
        examples[lang] = (bagged_split(prepared, split, spec) if spec.ngrams
                          else tokenized_split(prepared, split, config.hierarchical))
    return examples


def _label_lists(examples: tf.data.Dataset):
    for labels in examples.map(lambda ex: ex["labels"]).as_numpy_iterator():
        yield [label.decode("utf-8") for label in labels]


def _tokens(examples: tf.data.Dataset, hierarchical: bool):
    """Yields the training words of a language, as the model reads them."""
    words = data.with_words(examples, hierarchical).map(lambda ex: ex["words"]).ragged_batch(256)
    for batch in words:
        for word in batch.flat_values.numpy():
            yield word.decode("utf-8")


def build_resources(config: ExperimentConfig, train_examples: dict) -> Resources:
    """Vocabulary and label space from the training split only."""
    label_counts, label_documents, documents, unlabelled, multi_labelled = {}, {}, {}, 0, 0
    for lang, examples in train_examples.items():
        label_counts[lang], label_documents[lang] = collections.Counter(), collections.Counter()
        documents[lang] = 0
        for labels in _label_lists(examples):
            label_counts[lang].update(labels)
            label_documents[lang].update(set(labels))
            documents[lang] += 1
            unlabelled += not labels
            multi_labelled += len(labels) > 1
    total = collections.Counter()
    for counts in label_counts.values():
        total.update(counts)
    # Labels ordered by descending frequency over all training languages (ties by name): the
    # NCE log-uniform sampler assumes it of the output index, and it makes label files easy to
    # read. A shared label space is given the global order explicitly: the union of the
    # languages' lists in first-appearance order is not sorted when a language lacks a label.
    def by_frequency(names):
        return sorted(names, key=lambda name: (-total[name], name))

    labels_by_lang = {lang: by_frequency(counts) for lang, counts in label_counts.items()}
    for lang, labels in labels_by_lang.items():
        if not labels:
            raise ValueError(f"language {lang!r} has no labelled training documents in "
                             f"{config.dataset}; it can only be evaluated, not trained on")
    label_space = labels_lib.LabelSpace(
        labels_by_lang, mode=config.label_space,
        output_order=by_frequency(total) if config.label_space == "shared" else None)
    vocabulary = vocab_lib.Vocabulary.build(
        {lang: _tokens(examples, config.hierarchical) for lang, examples in train_examples.items()},
        mode=config.vocab, min_count=config.min_count, max_size=config.max_vocab)
    at_least_one = (config.at_least_one == "true"
                    or (config.at_least_one == "auto" and unlabelled == 0))
    single_label = unlabelled == 0 and multi_labelled == 0
    activation = (config.output if config.output != "auto"
                  else "softmax" if single_label and "softmax" in models.get(config.model).outputs
                  else "sigmoid")
    copies = (config.wide_language_copies == "true"
              or (config.wide_language_copies == "auto" and config.label_space == "shared"
                  and len(train_examples) > 1))
    if config.wide_shared_weight != 1.0 and not (config.reads_ngrams and copies):
        raise ValueError(f"--wide_shared_weight={config.wide_shared_weight}: the wide branch "
                         f"has no language copies to weigh the shared n-grams against (they "
                         f"need --wide_language_copies=true, or auto with "
                         f"--label_space=shared and several languages)")
    resources = Resources(list(train_examples), vocabulary, label_space, input_spec(config),
                          at_least_one, activation, config.reads_ngrams and copies,
                          _label_weights(config, activation, label_space, label_documents,
                                         documents))
    if config.reads_ngrams:
        resources.ngram_frequencies = ngram_frequencies(
            train_examples, resources, by_output=config.wide_log_count_ratio)
    return resources


def _label_weights(config, activation, label_space, label_documents, documents) -> Optional[dict]:
    """--label_weights' target weights of each output, from the training documents of the
    languages that have it: with the label ({lang: Counter}) and in all ({lang: int})."""
    if (config.label_weights == "none" or not models.get(config.model).weighs_targets
            or (config.label_weights == "auto" and activation == "softmax")):
        return None   # (balanced for a model that takes no weights: ExperimentConfig refuses it)
    if activation == "softmax":
        raise ValueError("--label_weights=balanced weighs the targets of sigmoid scores; this run "
                         "has softmax scores (one label per document, --output=auto or softmax): "
                         "use --label_weights=auto or none, or --output=sigmoid")
    having = np.zeros(label_space.num_outputs)    # documents whose language has the output
    positives = np.zeros(label_space.num_outputs)
    for lang, counts in label_documents.items():
        having += label_space.mask(lang) * documents[lang]
        for label, count in counts.items():
            positives[label_space.encode(lang, [label])[0]] += count
    negatives = having - positives
    return {"positive": np.where(positives > 0, having / (2 * np.maximum(positives, 1)),
                                 1.0).tolist(),
            "negative": np.where(negatives > 0, having / (2 * np.maximum(negatives, 1)),
                                 1.0).tolist()}


def ngram_frequencies(train_examples: dict, resources: Resources,
                      by_output: bool = False) -> dict:
    """In how many training documents each of the wide branch's n-gram ids occurs (its idf):
    {"shared": [buckets + 1], "language": [buckets + 1] (the language copies' ids) or None,
    "documents": the number of documents}; with `by_output`, also "shared_by_output" and
    "language_by_output", [buckets + 1, outputs]: in how many documents with each output (the
    log-count ratios')."""
    spec = resources.spec
    rows, outputs = spec.ngrams.buckets + 1, resources.label_space.num_outputs
    counts = {"shared": np.zeros(rows, np.int64)}
    if resources.wide_language_copies:
        counts["language"] = np.zeros(rows, np.int64)
    if by_output:
        for kind in list(counts):
            counts[f"{kind}_by_output"] = np.zeros((rows, outputs), np.int32)
    documents = 0
    for lang_id, (lang, examples) in enumerate(train_examples.items()):
        bags = data.with_ngram_bags(examples, spec).map(
            lambda ex: {"ids": ex["ngram_ids"], "labels": ex["labels"]})
        for batch in bags.ragged_batch(256):  # each id once per document
            ids = batch["ids"]
            documents += int(ids.nrows())
            ids_by_kind = {"shared": ids}
            if "language" in counts:
                copies = wide_lib.language_copy_ids(
                    ids.to_tensor(), tf.fill([ids.nrows()], lang_id), spec.ngrams.buckets)
                ids_by_kind["language"] = tf.ragged.boolean_mask(copies, copies > 0)
            if by_output:
                targets = np.zeros((int(ids.nrows()), outputs), bool)
                for document, labels in enumerate(batch["labels"].to_list()):
                    targets[document, resources.label_space.encode(lang, labels)] = True
            for kind, kind_ids in ids_by_kind.items():
                flat = kind_ids.flat_values.numpy()
                counts[kind] += np.bincount(flat, minlength=rows)
                if by_output:
                    target_of_id = targets[kind_ids.value_rowids().numpy()]  # [ids, outputs]
                    for output in np.flatnonzero(targets.any(0)):
                        counts[f"{kind}_by_output"][:, output] += np.bincount(
                            flat[target_of_id[:, output]], minlength=rows).astype(np.int32)
    counts.setdefault("language", None)
    return {**counts, "documents": documents}


def unknown_labels(examples: tf.data.Dataset, label_space, lang: str) -> dict:
    """{label: documents} of the labels in `examples` that `lang` has no output for (the
    targets leave them out), most frequent first."""
    known = set(label_space.labels(lang))
    counts = collections.Counter(label for labels in _label_lists(examples)
                                 for label in set(labels) if label not in known)
    return dict(counts.most_common())


def check_labels(config: ExperimentConfig, examples_by_lang: dict, label_space,
                 split: str) -> None:
    """Labels in dev/test that training never saw would silently count as wrong: refuse them,
    naming the first such document's file, line and id."""
    for lang, examples in examples_by_lang.items():
        known = set(label_space.labels(lang))
        strays = []  # (id, its unknown labels)
        documents = examples.map(lambda ex: {"id": ex["id"], "labels": ex["labels"]})
        for doc in documents.as_numpy_iterator():
            unknown = [label for label in map(bytes.decode, doc["labels"]) if label not in known]
            if unknown:
                strays.append((doc["id"].decode(), unknown))
        if strays:
            doc_id, unknown = strays[0]
            where = corpora.document_locations(
                config.dataset, lang, split, data_dir=os.path.expanduser(config.data_dir),
                manual_dir=config.manual_dir, options=corpus_options(config.dataset, config),
            ).get(doc_id, f"{config.dataset} {lang} {split}")
            more = f" ({len(strays) - 1} more such documents)" if len(strays) > 1 else ""
            raise ValueError(
                f"{where}: document {doc_id!r} has label(s) {', '.join(map(repr, unknown))} "
                f"that the {lang} training split never had{more}; {lang} was trained on: "
                f"{', '.join(sorted(known))}")


def embedding_matrix(config: ExperimentConfig, resources: Resources):
    """None for learned embeddings, else a matrix initialised from the `--embeddings` vectors:
    a file, `LANG:FILE,...` or a directory of `<code>.vec` files (`embeddings.load_for_languages`).
    """
    vectors = embeddings_lib.load_for_languages(config.embeddings, resources.languages)
    if vectors is None:
        return None
    matrix, _ = embeddings_lib.build_matrix(resources.vocabulary, vectors,
                                            dim=config.embed_dim, seed=config.seed)
    return matrix
