"""Scoring a model on a split, one language at a time, the per-language metric table, and the
evaluation policy: which languages, which decision rule (the run's threshold, thresholds tuned
on validation, pooled for languages never trained on, or the k best labels).

`evaluate_split` is the one evaluation of a split: training's final one (metrics.json),
evaluate.py's and the experiments', so a number means the same thing wherever it is printed.
"""
from __future__ import annotations

import dataclasses
import weakref
from typing import Mapping, Optional

import numpy as np
import tensorflow as tf

from mlclf import corpora, data, languages as languages_lib, metrics, models, task


@dataclasses.dataclass
class LanguageScores:
    """Model outputs and gold targets for one language, restricted to its own outputs."""

    lang: str
    output_indices: np.ndarray      # positions of this language's labels in the output index
    scores: np.ndarray              # [docs, len(output_indices)]
    gold: np.ndarray                # [docs, len(output_indices)] 0/1
    extras: dict = dataclasses.field(default_factory=dict)  # attention, document vectors

    def label_names(self, label_space) -> list:
        """The label name of each score column."""
        return [label_space.output_names[i] for i in self.output_indices]


_PREDICTORS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def predictor(model):
    """`model(features, training=False)` as one graph, traced once per model for batches of
    any size (reduce_retracing), instead of op by op eagerly: scoring every epoch's validation
    split batch after batch is then a few graph calls."""
    if model not in _PREDICTORS:
        held = weakref.ref(model)  # the cache must not keep the model alive
        _PREDICTORS[model] = tf.function(lambda features: held()(features, training=False),
                                         reduce_retracing=True)
    return _PREDICTORS[model]


def score_language(model, examples, lang: str, resources, *, source: Optional[str] = None,
                   batch_size: int = 64, with_extras: bool = False) -> LanguageScores:
    """Runs `model` over every document of `examples` (language `lang`), in order.

    `source` applies another language's head (cross-lingual prediction): documents are read as
    `lang` but scored on `source`'s outputs, and gold labels are mapped there by name.
    """
    label_space = resources.label_space
    head = source or lang
    dataset = data.make_dataset({lang: examples}, resources.vocabulary, label_space,
                                resources.spec, batch_size,
                                training_languages=resources.languages, training=False)
    outputs = {"scores": [], "gold": []}
    extras: dict = {}
    predict = predictor(model)
    for features, targets in dataset:
        result = predict(features)
        if not isinstance(result, Mapping):
            result = {"scores": result}
        outputs["scores"].append(np.asarray(result["scores"]))
        outputs["gold"].append(np.asarray(targets["labels"]))
        if with_extras:
            for name, value in result.items():
                if name != "scores":
                    extras.setdefault(name, []).append(np.asarray(value))
    num_outputs = label_space.num_outputs
    scores = np.concatenate(outputs["scores"]) if outputs["scores"] else np.zeros((0, num_outputs))
    gold = np.concatenate(outputs["gold"]) if outputs["gold"] else np.zeros((0, num_outputs))
    own = np.flatnonzero(label_space.mask(lang))
    target = np.flatnonzero(label_space.mask(head))
    if head != lang:
        # Map gold labels by name onto the source language's outputs.
        names = [label_space.output_names[i] for i in target]
        gold_by_name = {label_space.output_names[i]: gold[:, i] for i in own}
        gold = np.stack([gold_by_name.get(name, np.zeros(len(scores))) for name in names], 1) \
            if names else np.zeros((len(scores), 0))
    else:
        gold = gold[:, own]
    return LanguageScores(lang, target, scores[:, target], (gold > 0).astype(np.int8),
                          {name: np.concatenate(parts) for name, parts in extras.items()})


def _decide(scores, threshold, at_least_one, top_k):
    """metrics.decide: the `top_k` best labels when it is given, else the threshold rule."""
    if top_k:
        return metrics.decide(scores, top_k=top_k)
    return metrics.decide(scores, threshold=threshold, at_least_one=at_least_one)


def language_metrics(scored: LanguageScores, threshold: float, at_least_one=False,
                     top_k=None, label_space=None) -> dict:
    """The METRICS of one language's decisions; with `label_space` (which names the labels)
    also `per_label` (metrics.label_metrics) and, for single-label data, `confusion_matrix`."""
    predicted = _decide(scored.scores, threshold, at_least_one, top_k)
    row = metrics.classification_metrics(scored.gold, predicted)
    if label_space is not None:
        names = scored.label_names(label_space)
        row["per_label"] = metrics.label_metrics(scored.gold, predicted, names)
        matrix = metrics.confusion(scored.gold, predicted, names)
        if matrix is not None:
            row["confusion_matrix"] = matrix
    return row


def _documents(examples, hierarchical):
    """(id, gold labels, words) of each document, in dataset order."""
    for batch in data.with_words(examples, hierarchical).ragged_batch(256):
        for doc_id, labels, words in zip(batch["id"].numpy(), batch["labels"].to_list(),
                                         batch["words"].to_list()):
            yield doc_id.decode(), [label.decode() for label in labels], words


def _rounded(values):
    return [round(float(value), 5) for value in values]


def document_records(examples, scored: LanguageScores, label_space, config,
                     threshold: float, at_least_one: bool = False, top_k=None) -> list:
    """One dict per document (id, gold, predicted, scores, and the words the model read with
    their attention), built once for both the JSONL predictions and the HTML report.

    Hierarchical runs give `sentences` with `sentence_attention`/`word_attention` when the
    model has attention outputs; flat runs (cnn) give `words`.
    """
    names = scored.label_names(label_space)
    decided = _decide(scored.scores, threshold, at_least_one, top_k)
    max_sentences, max_words = config.max_sentences, config.max_words
    records = []
    for row, (doc_id, gold, words) in enumerate(_documents(examples, config.hierarchical)):
        scores = scored.scores[row]
        record = {"id": doc_id, "lang": scored.lang, "gold": gold,
                  "predicted": [{"label": names[j], "score": round(float(scores[j]), 5)}
                                for j in np.argsort(-scores) if decided[row, j]],
                  "scores": {names[j]: round(float(scores[j]), 5) for j in range(len(names))}}
        if not config.hierarchical:
            record["words"] = [w.decode() for w in words[:max_words]]
        elif "word_attention" in scored.extras:
            sentences = [[w.decode() for w in sentence[:max_words]]
                         for sentence in words[:max_sentences]]
            sentence_attention = scored.extras["sentence_attention"][row]
            word_attention = scored.extras["word_attention"][row]
            record["sentences"] = sentences
            record["sentence_attention"] = _rounded(sentence_attention[:len(sentences)])
            record["word_attention"] = [_rounded(word_attention[k][:len(sentence)])
                                        for k, sentence in enumerate(sentences)]
        records.append(record)
    return records


def metric_table(scored_by_lang: Mapping[str, LanguageScores], thresholds,
                 at_least_one=False, top_k=None, label_space=None) -> dict:
    """{lang: metrics} with `thresholds` a float or {lang: float} (unused with `top_k`); with
    `label_space`, per-label results too (`language_metrics`)."""
    table = {}
    for lang, scored in scored_by_lang.items():
        threshold = thresholds[lang] if isinstance(thresholds, Mapping) else thresholds
        table[lang] = language_metrics(scored, threshold, at_least_one, top_k, label_space)
    return table


def format_label_table(table: Mapping[str, dict]) -> str:
    """Per language, each label's precision, recall, F1 and support (`evaluate --per_label`),
    and the confusion matrix where the data is single-label."""
    blocks = []
    for lang, row in table.items():
        per_label = row.get("per_label", {})
        width = max([len("label")] + [len(name) for name in per_label])
        lines = [f"{lang}:", f"  {'label':<{width}}      P      R     F1  support"]
        lines += [f"  {name:<{width}}  {v['precision']:5.3f}  {v['recall']:5.3f}  "
                  f"{v['f1']:5.3f}  {v['support']:7d}" for name, v in per_label.items()]
        matrix = row.get("confusion_matrix")
        if matrix:
            cell = max(5, *(len(name) for name in matrix["predicted"]))
            lines.append("  confusion (rows: gold, columns: predicted):")
            lines.append(f"  {'':<{width}}" + "".join(f"  {name:>{cell}}"
                                                      for name in matrix["predicted"]))
            lines += [f"  {name:<{width}}" + "".join(f"  {count:>{cell}d}" for count in counts)
                      for name, counts in zip(matrix["gold"], matrix["matrix"])]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def format_table(table: Mapping[str, dict], unseen=()) -> str:
    """The per-language table that train.py and evaluate.py print: a column per
    metrics.METRICS entry, and a mean row (counts summed) for several languages."""
    columns = [(metric, max(7, len(metric.label) + 2)) for metric in metrics.METRICS]

    def line(name, row):
        return f"{name:<12}" + "".join(
            f"{row[metric.key]:>{width}d}" if metric.count else f"{row[metric.key]:>{width}.3f}"
            for metric, width in columns)

    header = f"{'lang':<12}" + "".join(f"{metric.label:>{width}}" for metric, width in columns)
    lines = [header, "-" * len(header)]
    lines += [line(lang + (" (unseen)" if lang in unseen else ""), row)
              for lang, row in table.items()]
    if len(table) > 1:
        lines.append(line("mean", metrics.over_languages(table.values())))
    return "\n".join(lines)


def unseen_language_problem(config, lang: str) -> Optional[str]:
    """Why a model cannot read a language it never trained on, or None if it can."""
    if not models.get(config.model).language_agnostic:
        return (f"--model={config.model} has per-language parts; only "
                f"{', '.join(models.names(language_agnostic=True))} can read an unseen language")
    if config.label_space != "shared":
        return "the run used --label_space=per_language, so there is no head for it"
    if config.vocab != "shared":
        return "the run used --vocab=per_language, so its words have no embeddings"
    return None


def languages_to_evaluate(config, resources, codes) -> list:
    """The corpus codes that `codes` (ISO or corpus codes, or 'all') name in `config`'s corpus
    (the training languages when it cannot list its own); no codes: the training languages, in
    another corpus the codes they resolve to there (`en` -> `eng`)."""
    try:
        available = corpora.available_languages(
            config.dataset, config.manual_dir, task.corpus_options(config.dataset, config))
    except (ValueError, OSError):
        available = list(resources.languages)
    if not codes:
        return [lang if lang in available else languages_lib.resolve(lang, available)
                for lang in resources.languages]
    return languages_lib.resolve_all(codes, available)


def model_language(code: str, resources) -> Optional[str]:
    """The training language that documents of corpus code `code` are read as: the same code,
    else the one it names (`languages.resolve`, as the export's language table does: `eng` of
    another corpus -> `en`); None for a language the run never trained on."""
    if code in resources.languages:
        return code
    try:
        return languages_lib.resolve(code, resources.languages)
    except languages_lib.UnknownLanguageError:
        return None


def _read_as(examples, lang: str):
    """`examples` with their `lang` feature set to `lang` (the model's code for them)."""
    return examples.map(lambda example: {**example, "lang": tf.constant(lang)})


def _pooled(scored_languages, num_outputs):
    """Gold labels and scores of several languages' documents over the whole output index; a
    language's other outputs get score -inf (never decided) and gold 0."""
    gold = np.zeros((sum(len(s.gold) for s in scored_languages), num_outputs), np.int8)
    scores = np.full(gold.shape, -np.inf, np.float32)
    row = 0
    for scored in scored_languages:
        rows = slice(row, row + len(scored.gold))
        gold[rows, scored.output_indices] = scored.gold
        scores[rows, scored.output_indices] = scored.scores
        row = rows.stop
    return gold, scores


def tuned_thresholds(config, resources, model, langs, split: str, source=None) -> dict:
    """{lang: threshold} tuned on validation data (metrics.tune_threshold, micro-F1).

    A training language gets the best threshold on its own validation split. A language the run
    never trained on has no data that may be used (unless `split` is validation itself): it
    gets the threshold best for the training languages' validation documents pooled (their
    micro-F1 over every language's outputs).
    """
    scored_validation = {}

    def validation(lang):
        if lang not in scored_validation:
            examples = task.load_examples(config, [lang], "validation")[lang]
            head = model_language(lang, resources) or lang
            scored_validation[lang] = score_language(
                model, examples if head == lang else _read_as(examples, head), head, resources,
                source=source)
        return scored_validation[lang]

    thresholds = {}
    for lang in langs:
        if model_language(lang, resources) or split == "validation":
            scored = validation(lang)
            thresholds[lang] = metrics.tune_threshold(scored.gold, scored.scores,
                                                      at_least_one=resources.at_least_one)
    pending = [lang for lang in langs if lang not in thresholds]
    if pending:
        gold, scores = _pooled([validation(lang) for lang in resources.languages],
                               resources.label_space.num_outputs)
        pooled = metrics.tune_threshold(gold, scores, at_least_one=resources.at_least_one)
        thresholds.update({lang: pooled for lang in pending})
    return {lang: thresholds[lang] for lang in langs}


@dataclasses.dataclass
class SplitEvaluation:
    """A model's scores and metrics on one split, per language, and how it decided."""

    split: str
    examples: dict      # {lang: examples} as scored, in order
    scored: dict        # {lang: LanguageScores}
    thresholds: dict    # {lang: threshold}; unused with top_k
    top_k: Optional[int]
    unseen: list        # the languages evaluated that the run never trained on
    table: dict         # {lang: metrics}, as metrics.json holds it

    def annotated_table(self) -> dict:
        """`table` with each language's decision rule (`threshold` or `top_k`) and `unseen`
        where it is: what evaluate.py writes (eval_<split>.json) and the report shows."""
        table = {}
        for lang, row in self.table.items():
            row = dict(row)
            if self.top_k:
                row["top_k"] = self.top_k
            else:
                row["threshold"] = self.thresholds[lang]
            if lang in self.unseen:
                row["unseen"] = True
            table[lang] = row
        return table

    def document_records(self, label_space, config, at_least_one: bool) -> dict:
        """{lang: document_records of its documents}, decided as the metrics were."""
        return {lang: document_records(self.examples[lang], scored, label_space, config,
                                       self.thresholds[lang], at_least_one, self.top_k)
                for lang, scored in self.scored.items()}


def evaluate_split(config, resources, model, split: str, *, langs=None, examples=None,
                   threshold=None, tune_threshold=False, top_k=None, source=None,
                   batch_size: int = 64, with_extras: bool = False) -> SplitEvaluation:
    """Scores `model` (a run's inspect model) on a split, language by language, and decides.

    `langs`: corpus codes of `config`'s corpus (default: the training languages), each read as
    its `model_language`; a language the run never trained on is allowed where
    `unseen_language_problem` has nothing against it. `examples`: the split, when the caller
    has read it already. Decisions: `top_k` best labels, or thresholds: `threshold` (default:
    the run's), or with `tune_threshold` `tuned_thresholds`; with `resources.at_least_one`
    every document keeps its best label. A run that decides by its best label (softmax,
    `resources.top_k`) has no threshold: `threshold` or `tune_threshold` is an error. `source`:
    score every language on that training language's outputs (cross-lingual), labels mapped by
    name. Gold labels the run has no output for (another corpus) are left out of the targets
    and counted in the language's `unknown_labels`.
    """
    if top_k and tune_threshold:
        raise ValueError("give --top_k or --tune_threshold, not both")
    if resources.top_k and not top_k and (tune_threshold or threshold is not None):
        flag = "--tune_threshold" if tune_threshold else f"--threshold={threshold}"
        raise ValueError(
            f"{flag}: this run decides by the best label (softmax scores over the document's "
            "language's labels; serving.json's decision \"argmax\"), so it has no threshold to "
            "set; --top_k=K predicts the K best labels, and a run trained with "
            "--output=sigmoid decides by thresholds")
    top_k = top_k or resources.top_k
    langs = list(langs or resources.languages)
    heads = {lang: model_language(lang, resources) or lang for lang in langs}
    unseen = [lang for lang in langs if heads[lang] not in resources.languages]
    for lang in unseen:
        problem = unseen_language_problem(config, lang)
        if problem:
            raise ValueError(f"{lang} was not a training language "
                             f"({', '.join(resources.languages)}): {problem}")
    if examples is None:
        examples = task.load_examples(config, langs, split)
    examples = {lang: examples[lang] if heads[lang] == lang else _read_as(examples[lang],
                                                                           heads[lang])
                for lang in langs}
    if tune_threshold:
        thresholds = tuned_thresholds(config, resources, model, langs, split, source)
    else:
        thresholds = {lang: config.threshold if threshold is None else threshold
                      for lang in langs}
    scored = {lang: score_language(model, examples[lang], heads[lang], resources,
                                   source=source, batch_size=batch_size,
                                   with_extras=with_extras)
              for lang in langs}
    table = metric_table(scored, thresholds, resources.at_least_one, top_k,
                         resources.label_space)
    if source is None:
        for lang in langs:
            unknown = task.unknown_labels(examples[lang], resources.label_space, heads[lang])
            if unknown:
                table[lang]["unknown_labels"] = unknown
    return SplitEvaluation(split, examples, scored, thresholds, top_k, unseen, table)
