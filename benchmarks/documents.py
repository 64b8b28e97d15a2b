"""MasakhaNEWS test documents for the benchmarks, read straight from a local copy of the corpus."""
import csv
import os
import sys


def read_documents(manual_dir, langs):
    """[(text, lang)] from each language's test split, interleaved language by language.

    Text is headline, newline, body, as the corpus builder joins them.
    """
    csv.field_size_limit(sys.maxsize)
    by_lang = []
    for lang in langs:
        path = os.path.join(manual_dir, "languages", lang, "test.tsv")
        with open(path, encoding="utf-8", newline="") as f:
            by_lang.append([(f"{row['headline']}\n{row['text']}", lang)
                            for row in csv.DictReader(f, delimiter="\t")])
    longest = max(len(docs) for docs in by_lang)
    return [docs[i] for i in range(longest) for docs in by_lang if i < len(docs)]
