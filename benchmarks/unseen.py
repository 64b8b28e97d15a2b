"""Zero-shot judge: languages never seen in training, against the pooled linear peer.

    pip install -e ".[bench]"
    python benchmarks/unseen.py --corpus=sib200
    python benchmarks/unseen.py --corpus=masakhanews --held_out=amh,yor --models=peer,mhan_both

Leave-one-language-out. For each corpus (--corpus), its training pool (--langs; default: every
language with a train split, for SIB-200 the 50 languages of SIB200_POOL) and each held-out
language L (--held_out; default: every language of the pool, for SIB-200 the 10 of
SIB200_HELD_OUT, for BRIGHTER also the languages with a test split only), every model of
--models is trained on the pool without L and tested on L's test split:
  peer       benchmarks/quality.py's TF-IDF character n-gram logistic regression, trained on
             the same languages pooled (one-vs-rest, class-balanced, for BRIGHTER)
  mhan_both  flags/recommended.cfg with --model=mhan_both (shared labels and vocabulary; L
             is scored by the wide branch's shared n-gram weights alone), UNSEEN_SETTINGS
  mhan_both_romanized  the same with --wide_romanized (non-Latin words' n-grams romanised too)
  linear     flags/recommended.cfg as it is (shared labels and vocabulary; L is scored by the
             shared n-gram weights)
  cnn        flags/cnn_cpu.cfg (shared labels and vocabulary), UNSEEN_SETTINGS
A held-out language gives nothing but its test split: the vocabulary, the idf, the epoch kept
(best on the training languages' validation) and the thresholds (for sigmoid scores: tuned on
the training languages' validation documents pooled, `evaluation.tuned_thresholds`) come from
the training languages. Languages held out of a pool that never had them (SIB-200's) share one
run. The supervised score of the same model comes from one run on the pool with every held-out
language that has a train split (each language's own threshold on its own validation split),
and `kept` is zero-shot / supervised.

Each (corpus, model, held-out language) is stored in --results/<corpus>-<model>-<lang>.json
(the supervised run in <corpus>-<model>-supervised.json), so that a part of the table can be
(re)run alone; benchmarks/results/unseen.md is then rewritten from every stored file.
--split=validation with --langs and --held_out inside the training pool measures a lever
(--settings) on held-out training languages' validation splits, never on a test split; the
peer is scored there too, as the lever table's reference.
"""
import glob
import json
import os
import sys
import time

import numpy as np
from absl import app, flags

import quality
from mlclf import corpora, evaluation, rundir, task

HERE = quality.HERE
ROOT = quality.ROOT
FLAGS = flags.FLAGS

flags.DEFINE_list("held_out", [], "Languages held out in turn (default: see the docstring).")
flags.DEFINE_list("models", ["peer", "mhan_both", "cnn"], "peer and the mlclf models to run.")
flags.DEFINE_enum("split", "test", ["test", "validation"], "The held-out languages' split "
                  "scored (validation: to choose a lever, with held-out training languages).")
flags.DEFINE_list("settings", [], "name=value settings added to every mlclf model (a lever).")
flags.DEFINE_bool("supervised", True, "Also train each model with the held-out languages.")
FLAGS.set_default("corpus", ["sib200", "masakhanews", "brighter"])
FLAGS.set_default("runs", os.path.join(os.path.dirname(quality.FLAGS["runs"].default),
                                       "mlclf_unseen"))
FLAGS.set_default("results", os.path.join(HERE, "results", "unseen"))
FLAGS.set_default("out", os.path.join(HERE, "results", "unseen.md"))

MODELS = {"mhan_both": ("recommended.cfg", dict(model="mhan_both", label_space="shared",
                                                vocab="shared")),
          "mhan_both_romanized": ("recommended.cfg", dict(model="mhan_both",
                                                          label_space="shared", vocab="shared",
                                                          wide_romanized=True)),
          "linear": ("recommended.cfg", dict(label_space="shared", vocab="shared")),
          "cnn": ("cnn_cpu.cfg", {})}
# What every zero-shot and supervised run changes in its flagfile: mhan_both keeps the
# recommended 4 epochs (the shared n-gram weights an unseen language reads need them: 1 epoch
# scored 6 points lower on the lever set, unseen.md), the CNN 3.
UNSEEN_SETTINGS = {"mhan_both": {}, "mhan_both_romanized": {}, "linear": {},
                   "cnn": dict(epochs=3)}
# SIB-200: 10 held-out languages of different families and scripts, and the 50 training
# languages (relatives of most held-out languages among them; none for Greek).
SIB200_HELD_OUT = {
    "nld_Latn": "Indo-European, Germanic; Latin", "ita_Latn": "Indo-European, Romance; Latin",
    "rus_Cyrl": "Indo-European, Slavic; Cyrillic", "ell_Grek": "Indo-European, Hellenic; Greek",
    "hin_Deva": "Indo-European, Indo-Aryan; Devanagari",
    "pes_Arab": "Indo-European, Iranian; Arabic", "tur_Latn": "Turkic; Latin",
    "fin_Latn": "Uralic, Finnic; Latin", "swh_Latn": "Niger-Congo, Bantu; Latin",
    "amh_Ethi": "Afro-Asiatic, Semitic; Ge'ez"}
SIB200_POOL = (
    "eng_Latn afr_Latn dan_Latn swe_Latn fra_Latn spa_Latn por_Latn ron_Latn pol_Latn ces_Latn "
    "bul_Cyrl srp_Cyrl lit_Latn cym_Latn als_Latn hye_Armn mar_Deva npi_Deva ben_Beng urd_Arab "
    "tgk_Cyrl ckb_Arab kmr_Latn azj_Latn kaz_Cyrl est_Latn hun_Latn arb_Arab heb_Hebr mlt_Latn "
    "tir_Ethi som_Latn gaz_Latn hau_Latn yor_Latn ibo_Latn zul_Latn kin_Latn lin_Latn lug_Latn "
    "ind_Latn tgl_Latn tam_Taml tel_Telu zho_Hans jpn_Jpan kor_Hang vie_Latn kat_Geor tha_Thai"
).split()


def _extra_settings() -> dict:
    """--settings, typed as the ExperimentConfig fields."""
    return dict(quality.read_setting(item, f"--settings={item}") for item in FLAGS.settings)


def _budget(model: str) -> dict:
    """What a zero-shot or supervised run of `model` changes in its flagfile's setting."""
    return {**MODELS[model][1], **UNSEEN_SETTINGS[model],
            **({"epochs": FLAGS.epochs} if FLAGS.epochs else {}), **_extra_settings()}


def _corpus_settings(corpus: str) -> dict:
    return {"dataset": corpus, "manual_dir": os.path.join(FLAGS.data_root, corpus),
            "data_dir": os.path.expanduser(FLAGS.data_dir)}


def model_settings(corpus: str, model: str) -> dict:
    """ExperimentConfig keyword arguments of `model` on `corpus`, languages aside."""
    flagfile = os.path.join(ROOT, "flags", MODELS[model][0])
    return {**_corpus_settings(corpus), **quality.read_flagfile(flagfile), **_budget(model)}


def describe(model: str) -> str:
    """How a row was trained, for the summary."""
    if model == "peer":
        return "TF-IDF char_wb 2-5, LogisticRegression(C=10), the training languages pooled"
    return f"flags/{MODELS[model][0]} " + " ".join(
        f"--{name}={value}" for name, value in _budget(model).items())


def languages(corpus: str, probe) -> tuple:
    """(training pool, held-out languages) of `corpus`."""
    available = corpora.available_languages(corpus, probe.manual_dir)

    def having(split):
        return [lang for lang in available
                if corpora.split_sizes(corpus, lang, data_dir=probe.data_dir,
                                       manual_dir=probe.manual_dir).get(split)]

    sib200 = corpus == "sib200"
    pool = list(FLAGS.langs) or (list(SIB200_POOL) if sib200 else having("train"))
    held_out = list(FLAGS.held_out) or (list(SIB200_HELD_OUT) if sib200 else
                                        having("test") if corpus == "brighter" else pool)
    unknown = sorted(set(pool + held_out) - set(available))
    if unknown:
        raise SystemExit(f"--langs/--held_out: {', '.join(unknown)} not in {corpus} "
                         f"({', '.join(available)})")
    return pool, held_out


def training_groups(pool, held_out) -> dict:
    """{run name: (training languages, held-out languages it is tested on)}: a pool language
    is held out alone (the pool without it); languages outside the pool share the pool's run."""
    groups = {}
    for lang in held_out:
        name = f"without-{lang}" if lang in pool else "pool"
        train = [other for other in pool if other != lang]
        groups.setdefault(name, (train, []))[1].append(lang)
    return groups


def _store(path, value) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1)


def _command() -> str:
    return "python benchmarks/unseen.py " + " ".join(sys.argv[1:])


def _lever() -> str:
    """The --settings of a run, as its lever's name ("" for none)."""
    return " ".join(f"--{item}" for item in FLAGS.settings)


def _record_path(corpus, model, lang) -> str:
    """Test measurements in --results, lever measurements (--split=validation) in
    --results/levers, one file per setting."""
    if FLAGS.split == "test":
        return os.path.join(FLAGS.results, f"{corpus}-{model}-{lang}.json")
    os.makedirs(os.path.join(FLAGS.results, "levers"), exist_ok=True)
    return os.path.join(FLAGS.results, "levers", f"{corpus}-{model}-{lang}-{_lever_tag()}.json")


def _lever_tag() -> str:
    return "-".join(item.replace("=", "_") for item in FLAGS.settings) or "default"


def _mlclf_scores(corpus, model, name, train, tested, split) -> tuple:
    """{lang: metric} of `model` trained on `train` and scored on `tested`'s `split`, with
    each language's decision rule, and the training's wall seconds."""
    settings = model_settings(corpus, model)
    # A lever's runs have folders of their own: the same training languages, other settings.
    name = f"{model}-{name}" + (f"-{FLAGS.split}-{_lever_tag()}" if FLAGS.split != "test"
                                else "")
    _, seconds = quality.train_row(corpus, name, train, settings)
    run = rundir.load(quality.run_dir(corpus, name))
    evaluated = evaluation.evaluate_split(
        run.config, run.resources, run.models.inspect, split, langs=tested,
        tune_threshold=not run.resources.top_k)  # softmax runs take the best label
    metric = quality.METRIC.get(corpus, "micro_f1")
    rules = evaluated.annotated_table()
    return ({lang: evaluated.table[lang][metric] for lang in tested},
            {lang: {key: rules[lang][key] for key in ("threshold", "top_k", "unseen")
                    if key in rules[lang]} for lang in tested},
            seconds)


def run_corpus(corpus: str) -> None:
    probe = task.ExperimentConfig(**_corpus_settings(corpus),
                                  langs=("eng",) if corpus == "brighter" else ("en",))
    pool, held_out = languages(corpus, probe)
    split = FLAGS.split
    for model in FLAGS.models:
        for name, (train, tested) in training_groups(pool, held_out).items():
            start = time.time()
            if model == "peer":
                scores = quality.peer_scores(corpus, train, tested, probe, split)
                rules, seconds = {lang: {} for lang in tested}, time.time() - start
            else:
                scores, rules, seconds = _mlclf_scores(corpus, model, name, train, tested,
                                                       split)
            load = quality.load_average()  # at the run's end, as quality.py records it
            for lang in tested:
                _store(_record_path(corpus, model, lang), {
                    "corpus": corpus, "model": model, "held_out": lang, "split": split,
                    "lever": _lever(), "score": scores[lang], "decision": rules[lang],
                    "train_langs": train,
                    "seconds": round(seconds, 1), "load_average": load,
                    "settings": describe(model), "command": _command()})
                print(f"{corpus} {model} without {lang}: {100 * scores[lang]:.1f} "
                      f"({seconds:.0f} s, load {load[0]})", flush=True)
        if model != "peer" and FLAGS.supervised and split == "test":
            everything = pool + [lang for lang in held_out if lang not in pool and
                                 corpora.split_sizes(corpus, lang, data_dir=probe.data_dir,
                                                     manual_dir=probe.manual_dir).get("train")]
            tested = [lang for lang in held_out if lang in everything]
            scores, rules, seconds = _mlclf_scores(corpus, model, "supervised", everything,
                                                   tested, "test")
            _store(os.path.join(FLAGS.results, f"{corpus}-{model}-supervised.json"), {
                "corpus": corpus, "model": model, "scores": scores, "decision": rules,
                "train_langs": everything, "seconds": round(seconds, 1),
                "load_average": quality.load_average(), "settings": describe(model),
                "command": _command()})
            print(f"{corpus} {model} supervised: mean "
                  f"{100 * np.mean(list(scores.values())):.1f} ({seconds:.0f} s)", flush=True)


TARGETS = {"masakhanews": ("peer", 0.03), "sib200": ("peer", 0.05), "brighter": (None, 0.30)}
TARGET_TEXT = {"masakhanews": "pooled peer + 3 micro-F1", "sib200": "pooled peer + 5 accuracy",
               "brighter": "at least 30 macro-F1"}


def read_results(results_dir: str) -> dict:
    """{corpus: {"held_out": {model: {lang: record}}, "supervised": {model: record}}} of every
    stored test-split measurement."""
    stored = {}
    for path in sorted(glob.glob(os.path.join(results_dir, "*.json"))
                       + glob.glob(os.path.join(results_dir, "levers", "*.json"))):
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
        corpus = stored.setdefault(record["corpus"], {"held_out": {}, "supervised": {},
                                                      "levers": {}})
        if "held_out" not in record:
            corpus["supervised"][record["model"]] = record
        elif record["split"] == "test":
            corpus["held_out"].setdefault(record["model"], {})[record["held_out"]] = record
        else:
            column = f"{record['model']} {record['lever'] or '(no lever)'}"
            corpus["levers"].setdefault(column, {})[record["held_out"]] = record
    return stored


def lever_summary(levers: dict) -> list:
    """Lines of the lever table: per held-out training language (validation split), each
    model and setting measured."""
    langs = sorted({lang for column in levers.values() for lang in column})
    lines = ["### Levers: held-out training languages, validation split", "",
             "| held-out language | " + " | ".join(levers) + " |",
             "|---" * (len(levers) + 1) + "|"]
    for lang in langs:
        lines.append(f"| {lang} | " + " | ".join(
            f"{100 * column[lang]['score']:.1f}" if lang in column else ""
            for column in levers.values()) + " |")
    complete = [lang for lang in langs if all(lang in column for column in levers.values())]
    lines.append("| **mean** | " + " | ".join(
        f"**{100 * np.mean([column[lang]['score'] for lang in complete]):.1f}**"
        for column in levers.values()) + " |")
    records = [record for column in levers.values() for record in column.values()]
    train = records[0]["train_langs"]
    lines += ["", f"Trained on {len(train)} languages ({' '.join(train)}); each column one run "
              f"of {', '.join(sorted({record['settings'] for record in records}))}; "
              + ", ".join(f"{name}: {next(iter(column.values()))['seconds']:.0f} s (load "
                          f"{next(iter(column.values()))['load_average'][0]:.1f})"
                          for name, column in levers.items()) + ".", "", "```"]
    lines += sorted({record["command"] for record in records}) + ["```", ""]
    return lines


def summary(stored: dict) -> str:
    """The markdown of every stored measurement: per corpus and held-out language, each model's
    zero-shot score (and its difference to the peer), its supervised score and the share kept;
    means over the held-out languages every column has; budget and commands."""
    lines = ["# Languages never seen in training: zero-shot against the pooled peer", "",
             "Written by `python benchmarks/unseen.py` (see its docstring). Test split of each "
             "held-out language; each model trained on the other languages of its corpus' pool "
             "(shared labels and vocabulary), epoch and thresholds chosen on the training "
             "languages' validation splits. Metric: micro-F1 (= accuracy) for MasakhaNEWS and "
             "SIB-200, macro-F1 over labels for BRIGHTER, in %. Δ: zero-shot minus the peer "
             "trained on the same languages pooled. supervised: the same model trained with "
             "the language; kept: zero-shot / supervised.", ""]
    for corpus in sorted(stored, key=lambda name: ["sib200", "masakhanews",
                                                   "brighter"].index(name)):
        held = stored[corpus]["held_out"]
        if not held:                                # levers measured, no test split yet
            lines += [f"## {corpus}", ""] + lever_summary(stored[corpus]["levers"])
            continue
        supervised = stored[corpus]["supervised"]
        peer = held.get("peer", {})
        models = [model for model in MODELS if model in held]
        langs = sorted({lang for column in held.values() for lang in column})
        header = ["held-out language"] + (["family; script"] if corpus == "sib200" else [])
        header += ["peer"] if peer else []
        for model in models:
            header += [f"{model}", f"{model} supervised", f"{model} kept"]
        lines += [f"## {corpus} ({quality.METRIC.get(corpus, 'micro_f1')})", "",
                  "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]

        def cells(lang):
            row = [lang] + ([SIB200_HELD_OUT.get(lang, "")] if corpus == "sib200" else [])
            row += [f"{100 * peer[lang]['score']:.1f}" if lang in peer else ""] if peer else []
            for model in models:
                record = held[model].get(lang)
                sup = supervised.get(model, {}).get("scores", {}).get(lang)
                if record is None:
                    row += ["", "", ""]
                    continue
                text = f"{100 * record['score']:.1f}"
                if lang in peer:
                    text += f" ({100 * (record['score'] - peer[lang]['score']):+.1f})"
                row += [text, "" if sup is None else f"{100 * sup:.1f}",
                        "" if not sup else f"{100 * record['score'] / sup:.0f}%"]
            return row

        for lang in langs:
            lines.append("| " + " | ".join(cells(lang)) + " |")
        complete = [lang for lang in langs if all(lang in held[model] for model in held)]
        if complete:
            mean = ["**mean**"] + ([""] if corpus == "sib200" else [])
            peer_mean = np.mean([peer[lang]["score"] for lang in complete]) if peer else None
            mean += [f"**{100 * peer_mean:.1f}**"] if peer else []
            for model in models:
                value = np.mean([held[model][lang]["score"] for lang in complete])
                text = f"**{100 * value:.1f}**"
                if peer_mean is not None:
                    text += f" ({100 * (value - peer_mean):+.1f})"
                sups = [supervised.get(model, {}).get("scores", {}).get(lang)
                        for lang in complete]
                sups = [value for value in sups if value is not None]
                mean += [text, f"{100 * np.mean(sups):.1f}" if sups else "", ""]
            lines.append("| " + " | ".join(mean) + " |")
            lines += ["", f"Mean over the {len(complete)} held-out languages every column has"
                      f" ({', '.join(complete)}).", ""]
            reference, margin = TARGETS[corpus]
            for model in models:
                value = np.mean([held[model][lang]["score"] for lang in complete])
                goal = margin + (peer_mean if reference and peer_mean is not None else 0)
                if reference and peer_mean is None:
                    continue
                lines.append(f"- target ({TARGET_TEXT[corpus]}): {model} {100 * value:.1f} "
                             f"vs {100 * goal:.1f}: " + ("met" if value >= goal else
                                                        f"missed by {100 * (goal - value):.1f}"))
        missing = {model: [lang for lang in langs if lang not in held[model]] for model in held}
        missing = {model: langs for model, langs in missing.items() if langs}
        if missing:
            lines += ["", "Not measured: " + "; ".join(
                f"{model}: {', '.join(langs)}" for model, langs in missing.items())]
        lines += ["", "### Budget, time and commands", ""]
        for model in held:
            records = list(held[model].values())
            runs = {tuple(record["train_langs"]): record for record in records}
            seconds = [record["seconds"] for record in runs.values()]
            loads = sorted({record["load_average"][0] for record in runs.values()})
            lines.append(f"- {model}: {records[0]['settings']}; {len(runs)} zero-shot run(s), "
                         f"{np.mean(seconds):.0f} s each (load average {loads[0]:.1f}-"
                         f"{loads[-1]:.1f}); training languages: "
                         f"{len(records[0]['train_langs'])}" + (
                             f" ({' '.join(records[0]['train_langs'])})"
                             if corpus == "sib200" else " (the pool without the held-out one)"))
            if model in supervised:
                record = supervised[model]
                lines.append(f"  supervised run: {len(record['train_langs'])} languages, "
                             f"{record['seconds']:.0f} s (load average "
                             f"{record['load_average'][0]:.1f})")
        commands = sorted({record["command"] for column in held.values()
                           for record in column.values()}
                          | {record["command"] for record in supervised.values()})
        lines += ["", "```"] + commands + ["```", ""]
        if stored[corpus]["levers"]:
            lines += lever_summary(stored[corpus]["levers"])
    return "\n".join(lines) + "\n"


def main(argv):
    del argv
    os.makedirs(FLAGS.results, exist_ok=True)
    unknown = [model for model in FLAGS.models if model != "peer" and model not in MODELS]
    if unknown:  # before any run, not after the peer's
        raise SystemExit(f"--models: unknown model {unknown[0]!r} (peer, {', '.join(MODELS)})")
    for corpus in FLAGS.corpus:
        run_corpus(corpus)
    with open(FLAGS.out, "w", encoding="utf-8") as f:
        f.write(summary(read_results(FLAGS.results)))
    print(f"wrote {FLAGS.out}", file=sys.stderr)


if __name__ == "__main__":
    app.run(main)
