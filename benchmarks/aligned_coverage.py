"""How much of MasakhaNEWS' and BRIGHTER's training text the SIB-200 aligned vectors cover, and
whether their cross-lingual neighbours make sense.

    python -m mlclf.align --manual_dir=../shared/data/sib200 --data_dir=/tmp/tfds_all \\
        --langs=all --dim=40 --output=/tmp/aligned_sib200_d40
    python benchmarks/aligned_coverage.py --vectors=/tmp/aligned_sib200_d40 \\
        --shared_data=../shared/data --data_dir=/tmp/tfds_all \\
        --output=benchmarks/results/aligned_coverage.md

Coverage is what training with `--embeddings=<vectors> --vocab=per_language --min_count=1` would
log: per language, the fraction of its training token occurrences, and of its vocabulary types,
that find a vector (the language matched to a vector file by `mlclf.languages.resolve`).
"""
import json
import os
import sys

import numpy as np
from absl import app, flags, logging

from mlclf import align, corpora, embeddings, languages, vocab

flags.DEFINE_string("vectors", "/tmp/aligned_sib200_d40", "mlclf.align output directory.")
flags.DEFINE_string("shared_data", "../shared/data", "Folder with masakhanews/, brighter/.")
flags.DEFINE_string("data_dir", "/tmp/tfds_all", "TFDS data dir (prepared corpora).")
flags.DEFINE_list("datasets", ["masakhanews", "brighter"], "Corpora whose training text to cover.")
flags.DEFINE_list("words", ["football", "election", "hospital", "president", "water"],
                  "English words whose neighbours are shown.")
flags.DEFINE_list("neighbour_langs", ["fra_Latn", "swh_Latn", "hau_Latn"],
                  "Vector files (codes) searched for the neighbours.")
flags.DEFINE_string("output", None, "Also write the report here (markdown).")
FLAGS = flags.FLAGS


def coverage_rows(dataset, vector_codes, dim):
    """[(lang, vector code or None, training tokens, types, Coverage or None)] of a corpus."""
    manual_dir = os.path.join(FLAGS.shared_data, dataset)
    langs = [lang for lang in corpora.available_languages(dataset, manual_dir)
             if "train" in corpora.split_sizes(dataset, lang, data_dir=FLAGS.data_dir,
                                               manual_dir=manual_dir)]
    tokens = {lang: [token for _, words in align.corpus_sentences(
        dataset, lang, ["train"], data_dir=FLAGS.data_dir, manual_dir=manual_dir)
        for token in words] for lang in langs}
    vocabulary = vocab.Vocabulary.build(tokens, mode="per_language")
    _, coverage = embeddings.build_matrix(
        vocabulary, embeddings.load_for_languages(FLAGS.vectors, langs), dim)
    rows = []
    for lang in langs:
        try:
            code = languages.resolve(lang, vector_codes)
        except languages.UnknownLanguageError:
            code = None
        rows.append((lang, code, len(tokens[lang]), len(set(tokens[lang])),
                     coverage[lang] if code else None))
    return rows


def coverage_table(rows_by_dataset):
    lines = ["| corpus | language | vectors | training tokens | types | tokens covered | "
             "types covered |", "|---|---|---|---:|---:|---:|---:|"]
    for dataset, rows in rows_by_dataset.items():
        for lang, code, tokens, types, cov in rows:
            cells = ([f"{100 * cov.occurrences:.1f}%", f"{100 * cov.words:.1f}%"] if cov
                     else ["—", "—"])
            lines.append(f"| {dataset} | {lang} | {code or 'none'} | {tokens} | {types} | "
                         + " | ".join(cells) + " |")
        matched = [row[4] for row in rows if row[4]]
        if matched:
            tokens, types = (100 * np.mean([c.occurrences for c in matched]),
                             100 * np.mean([c.words for c in matched]))
            lines.append(f"| {dataset} | **mean of {len(matched)} matched** | | | | "
                         f"**{tokens:.1f}%** | **{types:.1f}%** |")
    return "\n".join(lines)


def neighbours(source="eng_Latn", k=5):
    """Nearest words by cosine in other languages' files, for a few English words."""
    def read(code):
        return embeddings.load_vectors(os.path.join(FLAGS.vectors, f"{code}.vec"))
    words, vectors = read(source)
    index = {word: i for i, word in enumerate(words)}
    targets = {code: read(code) for code in FLAGS.neighbour_langs}
    lines = [f"| {source} | " + " | ".join(targets) + " |", "|---" * (len(targets) + 1) + "|"]
    for word in FLAGS.words:
        if word not in index:
            lines.append(f"| {word} | " + " | ".join("(not in the file)" for _ in targets) + " |")
            continue
        cells = []
        for target_words, target in targets.values():
            similarity = target @ vectors[index[word]]
            cells.append(", ".join(f"{target_words[i]} {similarity[i]:.2f}"
                                   for i in np.argsort(-similarity)[:k]))
        lines.append(f"| {word} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    with open(os.path.join(FLAGS.vectors, align.MANIFEST), encoding="utf-8") as f:
        manifest = json.load(f)
    rows = {dataset: coverage_rows(dataset, list(manifest["languages"]), manifest["dim"])
            for dataset in FLAGS.datasets}
    words = sum(info["words"] for info in manifest["languages"].values())
    report = "\n\n".join([
        "# Coverage of MasakhaNEWS and BRIGHTER training text by SIB-200 aligned vectors",
        f"Vectors: {len(manifest['languages'])} languages of {manifest['dataset']}, dim "
        f"{manifest['dim']}, min_count {manifest['min_count']}, {manifest['sentences']} parallel "
        f"sentences (splits {','.join(manifest['splits'])}), {words} words; built in "
        f"{manifest['seconds']:.0f}s wall, {manifest['cpu_seconds']:.0f}s of CPU, by",
        f"    {manifest['command']}",
        "This report:",
        "    " + " ".join(["python", *sys.argv]),
        "Per language: the share of its training token occurrences, and of its vocabulary types "
        "(all training words, min_count 1), found in the vector file of the SIB-200 language it "
        "resolves to (`mlclf.languages.resolve`); `none`: SIB-200 has no such language.",
        coverage_table(rows),
        "## Cross-lingual nearest neighbours (cosine)",
        neighbours(),
    ]) + "\n"
    print(report)
    if FLAGS.output:
        os.makedirs(os.path.dirname(FLAGS.output) or ".", exist_ok=True)
        with open(FLAGS.output, "w", encoding="utf-8") as f:
            f.write(report)


if __name__ == "__main__":
    app.run(main)
