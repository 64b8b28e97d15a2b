"""Document vectors for TensorBoard's Embedding Projector, with their language and labels.

The MHAN paper's Figure 1 view: documents of every language in the model's one document space,
coloured by topic or by language (`tensorboard --logdir=RUN/tensorboard`, PROJECTOR tab). The
vectors and their metadata are TSV files referenced from `projector_config.pbtxt` in the log
directory, so no checkpoint of a variable is needed.
"""
from __future__ import annotations

import os
from typing import Mapping

import numpy as np
from tensorboard.plugins import projector

VECTORS = "document_vectors.tsv"
METADATA = "document_metadata.tsv"


def _cell(text: str) -> str:
    """A metadata cell: TSV has no quoting, so tabs and line breaks become spaces."""
    return " ".join(text.split())


def write_document_vectors(logdir: str, scored_by_lang: Mapping, label_space,
                           max_per_language: int = 1000) -> int:
    """Writes the first `max_per_language` documents of each language; returns how many.

    `scored_by_lang`: {lang: evaluation.LanguageScores} scored `with_extras`, so that each has
    its `document` vectors. Metadata columns: language, gold labels, best-scoring label.
    """
    vectors, rows = [], []
    for lang, scored in scored_by_lang.items():
        names = scored.label_names(label_space)
        count = min(len(scored.scores), max_per_language)
        vectors.append(np.asarray(scored.extras["document"][:count], np.float32))
        for gold, scores in zip(scored.gold[:count], scored.scores[:count]):
            labels = ",".join(name for name, flag in zip(names, gold) if flag) or "(none)"
            best = names[int(np.argmax(scores))] if len(names) else "(none)"
            rows.append((lang, labels, best))
    if not rows:
        return 0
    os.makedirs(logdir, exist_ok=True)
    np.savetxt(os.path.join(logdir, VECTORS), np.concatenate(vectors), fmt="%.6g",
               delimiter="\t")
    with open(os.path.join(logdir, METADATA), "w", encoding="utf-8", newline="\n") as f:
        f.write("language\tgold\tpredicted\n")
        for row in rows:
            f.write("\t".join(_cell(value) for value in row) + "\n")
    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = "documents"
    embedding.tensor_path = VECTORS
    embedding.metadata_path = METADATA
    projector.visualize_embeddings(logdir, config)
    return len(rows)
