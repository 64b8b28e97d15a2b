"""Cross-lingual word vectors from a parallel corpus (SIB-200: the same 1004 sentences in 202
languages), for `--embeddings`: MHAN transfers across languages only if their words share a space.

A word is described by the parallel sentences it occurs in; words that translate each other occur
in the same sentences, so their descriptions agree whatever their language. Steps:
1. tokenise with `mlclf.text.tokenize`, the models' own ops, so the words are the vocabulary's;
2. per language, count words per sentence, keep words seen `min_count` times or more, and weight
   the counts by positive PMI, max(0, log(c(w,s) T / (c(w) c(s)))): it keeps the sentences that
   characterise a word, mutes function words, and puts every language on the same scale;
3. stack all languages into X [words of all languages x sentences] and take its truncated SVD
   X = U S V^T from the eigen-decomposition of the sentence Gram matrix X^T X, whose size is the
   number of sentences (1004), not the vocabulary's (~430k words for 202 languages);
4. a word's vector is its row of U S = X V[:, :dim] (its sentence profile projected on the top
   `dim` sentence directions), L2-normalised. Words without a positive PMI cell are left out.

    python -m mlclf.align --manual_dir=../shared/data/sib200 --data_dir=DIR --langs=all \\
        --dim=40 --output=DIR [--min_count=2] [--splits=train] [--dataset=sib200]

writes `<output>/<corpus code>.vec` (word2vec text, most frequent words first), `manifest.json`
and `README.txt`; train with `--embeddings=<output> --embed_dim=<dim>`. `--dataset=jsonl` reads a
parallel corpus of your own: documents with the same split and id are translations.
"""
from __future__ import annotations

import collections
import contextlib
import json
import os
import sys
import time
from typing import Iterable, Mapping, NamedTuple

import numpy as np
import tensorflow as tf
from absl import app, flags, logging

from mlclf import cli, corpora, languages as languages_lib, text

FLAGS = flags.FLAGS
MANIFEST = "manifest.json"


class Block(NamedTuple):
    """One language's PPMI-weighted word-by-sentence matrix, as its positive cells."""
    words: list          # words seen min_count times or more, most frequent first
    rows: np.ndarray     # word index of each cell
    cols: np.ndarray     # sentence index of each cell
    values: np.ndarray   # PPMI, float32
    tokens: int          # all tokens of the language's sentences
    sentences: int

    def dense(self, num_sentences: int) -> np.ndarray:
        matrix = np.zeros((len(self.words), num_sentences), np.float32)
        matrix[self.rows, self.cols] = self.values
        return matrix


def ppmi_block(sentences: Iterable[tuple[int, list]], min_count: int) -> Block:
    """The block of one language from (sentence index, tokens) pairs."""
    sentences = [(col, tokens) for col, tokens in sentences if tokens]
    counts = collections.Counter(token for _, tokens in sentences for token in tokens)
    words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    if not words:
        empty = np.zeros(0, np.int64)
        return Block([], empty, empty, np.zeros(0, np.float32), sum(counts.values()),
                     len(sentences))
    index = {word: i for i, word in enumerate(words)}
    span = max(col for col, _ in sentences) + 1
    sentence_tokens = np.zeros(span)
    for col, tokens in sentences:
        sentence_tokens[col] += len(tokens)
    cells = np.fromiter((index[w] * span + col for col, tokens in sentences for w in tokens
                         if w in index), np.int64)
    keys, together = np.unique(cells, return_counts=True)
    rows, cols = np.divmod(keys, span)
    word_counts = np.array([counts[w] for w in words], np.float64)
    pmi = np.log(together * sentence_tokens.sum() / (word_counts[rows] * sentence_tokens[cols]))
    positive = pmi > 0
    return Block(words, rows[positive], cols[positive], pmi[positive].astype(np.float32),
                 int(sentence_tokens.sum()), len(sentences))


def factorize(blocks: Mapping[str, Block], num_sentences: int, dim: int) -> tuple:
    """({lang: (words, float32 [N, dim] unit vectors)}, eigenvalues of X^T X, descending)."""
    if not 0 < dim <= num_sentences:
        raise ValueError(f"dim={dim}: must be between 1 and the number of parallel sentences "
                         f"({num_sentences})")
    gram = np.zeros((num_sentences, num_sentences))
    for block in blocks.values():
        matrix = block.dense(num_sentences)
        gram += matrix.T @ matrix
    eigenvalues, eigenvectors = np.linalg.eigh(gram)
    eigenvalues, top = eigenvalues[::-1], eigenvectors[:, ::-1][:, :dim].astype(np.float32)
    vectors = {}
    for lang, block in blocks.items():
        kept = np.unique(block.rows)  # words with a positive cell
        projected = block.dense(num_sentences)[kept] @ top
        projected /= np.maximum(np.linalg.norm(projected, axis=1, keepdims=True), 1e-12)
        vectors[lang] = ([block.words[i] for i in kept], projected)
    return vectors, eigenvalues


def build(sentences_by_lang, dim: int, min_count: int = 2) -> tuple:
    """({lang: (words, vectors)}, statistics) from {lang: iterable of (sentence key, tokens)}
    (or an iterable of such pairs, read one language at a time). Sentences with the same key in
    different languages are translations."""
    items = sentences_by_lang.items() if isinstance(sentences_by_lang, Mapping) \
        else sentences_by_lang
    columns, blocks = {}, {}
    for lang, sentences in items:
        blocks[lang] = ppmi_block(((columns.setdefault(key, len(columns)), tokens)
                                   for key, tokens in sentences), min_count)
        logging.info("%s: %d sentences, %d tokens, %d words", lang, blocks[lang].sentences,
                     blocks[lang].tokens, len(blocks[lang].words))
    for lang in [lang for lang, block in blocks.items() if not block.rows.size]:
        logging.warning("%s: no word seen %d times with a positive PMI; no vectors", lang,
                        min_count)
        del blocks[lang]
    if not blocks:
        raise ValueError(f"no language has words seen {min_count} times or more")
    vectors, eigenvalues = factorize(blocks, len(columns), dim)
    stats = {
        "sentences": len(columns),
        "explained": float(eigenvalues[:dim].sum() / eigenvalues.sum()),
        "languages": {lang: {"words": len(vectors[lang][0]), "tokens": block.tokens,
                             "sentences": block.sentences} for lang, block in blocks.items()},
    }
    return vectors, stats


@tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
def _tokenize(texts):
    return text.tokenize(texts, hierarchical=False)


def corpus_sentences(dataset: str, lang: str, splits, *, data_dir: str, manual_dir=None,
                     options=None):
    """Yields ((split, id), tokens) for a language's documents in `splits`."""
    for split in splits:
        examples = corpora.load_split(dataset, lang, split, data_dir=data_dir,
                                      manual_dir=manual_dir, options=options)
        # 256: tokenize's cost grows faster than the batch (padding to the longest text).
        for ids, texts in examples.map(lambda ex: (ex["id"], ex["text"])).batch(256):
            for doc_id, tokens in zip(ids.numpy(), _tokenize(texts).to_list()):
                yield (split, doc_id.decode("utf-8")), [t.decode("utf-8") for t in tokens]


def check_output(directory: str) -> None:
    """Refuses a directory holding anything but a previous build (whose files get replaced)."""
    if (os.path.isdir(directory) and os.listdir(directory)
            and not os.path.isfile(os.path.join(directory, MANIFEST))):
        raise ValueError(f"--output={directory}: not empty and not an mlclf.align output; give a "
                         "new directory")


def write_vec(path: str, words: list, vectors: np.ndarray) -> None:
    """word2vec text: a "count dim" header, then a word and its values per line."""
    row_format = " ".join(["%.5f"] * vectors.shape[1])
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(f"{len(words)} {vectors.shape[1]}\n")
        for word, row in zip(words, vectors.tolist()):
            f.write(word + " " + row_format % tuple(row) + "\n")


def write_output(directory: str, vectors: dict, manifest: dict) -> None:
    """`<lang>.vec` files, manifest.json and README.txt; a previous build's files are replaced."""
    check_output(directory)
    old = os.path.join(directory, MANIFEST)
    if os.path.isfile(old):
        with open(old, encoding="utf-8") as f:
            for info in json.load(f).get("languages", {}).values():
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(directory, info["file"]))
    os.makedirs(directory, exist_ok=True)
    for lang, (words, matrix) in vectors.items():
        manifest["languages"][lang]["file"] = f"{lang}.vec"
        write_vec(os.path.join(directory, f"{lang}.vec"), words, matrix)
    with open(old, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(directory, "README.txt"), "w", encoding="utf-8") as f:
        f.write(_README.format(**manifest, count=len(vectors), output=directory,
                               words=sum(len(w) for w, _ in vectors.values()),
                               splits_text=",".join(manifest["splits"]),
                               explained_percent=100 * manifest["explained"]))


_README = """\
Cross-lingual word vectors, {dim} dimensions, for {count} languages of {dataset} ({words} words).

Built by mlclf.align in {seconds:.0f}s ({cpu_seconds:.0f}s of CPU):
    {command}
from {sentences} parallel sentences (splits: {splits_text}): per language, words seen at least
{min_count} times, weighted by positive PMI with the sentences they occur in; all languages'
rows factorised together by a truncated SVD (eigen-decomposition of the {sentences}x{sentences}
sentence Gram matrix; the top {dim} directions hold {explained_percent:.1f}% of its trace); a word's
vector is its projection on those directions, L2-normalised. Words that translate each other
share sentences, so they get nearby vectors in every language.

One word2vec text file per language, <corpus code>.vec, words as mlclf.text.tokenize writes them
(normalised, lower-cased), most frequent first. manifest.json: settings and per-language counts.

Use: python train.py --embeddings={output} --embed_dim={dim} ...
Training languages are matched to the files with mlclf.languages.resolve (swa -> swh_Latn,
orm -> gaz_Latn, amh -> amh_Ethi). The vectors saw the texts (not the labels) of the splits
above: an evaluation on those texts is transductive.
"""


def define_flags():
    """Defined on demand, so that importing this module never clashes with other flag sets.
    The corpus flags are train.py's (mlclf.cli); --langs defaults to all here."""
    cli.define_corpus_flags(defaults={"langs": ["all"]}, notes={
        "dataset": "Here a parallel corpus: documents with the same split and id are "
                   "translations."})
    flags.DEFINE_list("splits", ["train"], "Splits whose texts are used. Only train by default: "
                      "vectors that saw the validation or test texts make their scores "
                      "transductive, not a measure of new documents.")
    flags.DEFINE_integer("dim", 40, "Vector dimension (--embed_dim of the models).")
    flags.DEFINE_integer("min_count", 2, "Leave out words seen fewer times in a language.")
    flags.DEFINE_string("output", None, "Directory for <lang>.vec, manifest.json, README.txt.")
    flags.mark_flag_as_required("output")


def _manual_dir():
    return cli.manual_dir(FLAGS.manual_dir, FLAGS.dataset)


def _with_progress(langs, data_dir):
    for number, lang in enumerate(langs, start=1):
        print(f"[{number}/{len(langs)}] {lang}", file=sys.stderr, flush=True)
        yield lang, corpus_sentences(FLAGS.dataset, lang, FLAGS.splits, data_dir=data_dir,
                                     manual_dir=_manual_dir(),
                                     options=cli.corpus_options(FLAGS.dataset))


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    if not FLAGS["verbosity"].present:  # TFDS logs every dataset it opens at INFO
        logging.set_verbosity(logging.WARNING)
    start = time.time()
    data_dir = os.path.expanduser(FLAGS.data_dir)
    try:
        check_output(FLAGS.output)
        available = corpora.available_languages(FLAGS.dataset, _manual_dir(),
                                                cli.corpus_options(FLAGS.dataset))
        langs = languages_lib.resolve_all(FLAGS.langs, available)
        with contextlib.redirect_stdout(sys.stderr):  # TFDS's progress chatter
            vectors, stats = build(_with_progress(langs, data_dir), dim=FLAGS.dim,
                                   min_count=FLAGS.min_count)
        manifest = {"dataset": FLAGS.dataset, "splits": FLAGS.splits, "dim": FLAGS.dim,
                    "min_count": FLAGS.min_count, "weighting": "ppmi",
                    "seconds": round(time.time() - start, 1),
                    "cpu_seconds": round(time.process_time(), 1),
                    "command": " ".join(["python -m mlclf.align"] + sys.argv[1:]), **stats}
        write_output(FLAGS.output, vectors, manifest)
    except (corpora.CorpusError, ValueError) as e:  # UnknownLanguageError is a ValueError
        sys.exit(f"align: {e}")
    print(f"{len(vectors)} language(s), {stats['sentences']} sentences, "
          f"{sum(len(w) for w, _ in vectors.values())} words, dim {FLAGS.dim} "
          f"({100 * stats['explained']:.1f}% of the weight): {FLAGS.output} "
          f"({time.time() - start:.0f}s)")


if __name__ == "__main__":
    from mlclf import commands
    commands.run("align")
