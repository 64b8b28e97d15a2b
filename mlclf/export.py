"""SavedModel for TF Serving: raw text and a language code in, scores, labels and attention out.

    mlclf export --run_dir=RUN [--version=N]    (mlclf train already exports RUN/export/1)

`export_run` writes `RUN/export/<version>/`, the layout TF Serving watches (integer version
folders, the highest served). Signature `serving_default`:

    inputs   text  string [B]   raw documents (newlines are sentence boundaries, as in training)
             lang  string [B]   ISO 639-1, ISO 639-3 or the corpus' code, any case, - or _
    outputs  scores             float32 [B, num_outputs]; 0 outside the document's language's
                                label set (column order: assets.extra/serving.json output_names)
             labels             string [B, k]: the language's labels, best first, k = the largest
                                label set, padded with ""
             word_attention     float32 [B, K, T]  } hierarchical models only
             sentence_attention float32 [B, K]     }

Everything between the raw string and the scores runs inside the graph, with training's own code:
`data.encode_features` (normalisation, sentence and word splitting, vocabulary lookup), a table
of language codes, the label masks and names. The export needs TensorFlow only, not mlclf.

Language codes: the table holds every 2- and 3-letter code, and every training language's own
code, that `languages.resolve` maps to a training language, so serving accepts exactly the codes
train.py and evaluate.py accept (ambiguous ones excepted). An unknown code is an
InvalidArgumentError naming the known languages and the codes sent (invalid UTF-8 replaced, so
that clients can decode the message), except for runs that can read any language
(`evaluation.unseen_language_problem` is None: mhan_both or cnn with shared labels and
vocabulary): there an unknown code is scored with all outputs, as evaluate.py scores an unseen
language. `text` and `lang` of different lengths are an InvalidArgumentError too.

`assets.extra/serving.json` (not read by the graph) is for clients that turn scores into
predicted labels (`mlclf.inference` reads it): the output names and languages, the training
languages, each one's output columns (`outputs_by_language`), the graph's table of language
codes (`language_codes`: `alias_key(code)` -> training language), what an unknown code gets
(`unknown_languages`), the scores' `activation` and the run's decision rule: `decision` names
it ("argmax": the best label, for softmax scores; "threshold": the labels scoring `threshold`
or more, and with `at_least_one` the best label when none does; see README), its parameters
beside it.

`assets.extra/tf_serving_warmup_requests` holds requests TF Serving runs when it loads the
model (PredictionLog records in a TFRecord file, its warm-up format): one document in each
training language alone, and a batch of them. The first request would otherwise pay for
initialising the tables and optimising the graph.
"""
from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import string

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from mlclf import data, evaluation, languages as languages_lib, rundir

SIGNATURE = "serving_default"
INPUT_SIGNATURE = [tf.TensorSpec([None], tf.string, name="text"),
                   tf.TensorSpec([None], tf.string, name="lang")]
EXTRA_FILE = os.path.join("assets.extra", "serving.json")
WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
# A document for the warm-up requests: sentences and words of several scripts, a few hundred
# characters, so that every text op (the exact NFKC path included) and the model run.
WARMUP_TEXT = ("The Minister said on Monday that the new hospital will open in 2027. Élèves, "
               "médecins: ça va? Ọjọ́ àìkú.\nΗ ομάδα κέρδισε! Команда выиграла матч. ቡድኑ "
               "ጨዋታውን አሸነፈ። टीम ने मैच जीता। 球队赢了比赛！ فاز الفريق بالمباراة؟ ﬁnal ①")


def alias_key(code: str) -> str:
    """The form of a code the alias table is keyed by; `_alias_keys` does the same in TF (and
    mlclf.inference with serving.json's copy of the table)."""
    return code.strip().lower().replace("-", "_")


def _alias_keys(codes: tf.Tensor) -> tf.Tensor:
    return tf.strings.regex_replace(tf.strings.lower(tf.strings.strip(codes)), "-", "_")


def language_aliases(training_languages) -> dict:
    """{code key: training language} for every code serving accepts.

    Asks `languages.resolve` itself about each 2- and 3-letter code (ISO 639-1, ISO 639-3 and
    their aliases) and the training languages' own codes, so serving and the Python API can never
    disagree; ambiguous codes are left out.
    """
    short_codes = ("".join(letters) for n in (2, 3)
                   for letters in itertools.product(string.ascii_lowercase, repeat=n))
    aliases = {}
    for code in itertools.chain(training_languages, short_codes):
        try:
            aliases.setdefault(alias_key(code), languages_lib.resolve(code, training_languages))
        except languages_lib.UnknownLanguageError:
            pass
    return aliases


class Serving:
    """The signature's function: raw text and language codes -> scores, labels, attention.

    `tables` are what the graph uses besides the model's variables: the vocabulary (a tf.Module
    holding its table) and the language table. The export must track them so that they are
    saved and initialised on load.
    """

    def __init__(self, config, resources, inspect_model):
        label_space = resources.label_space
        self.languages = list(resources.languages)
        self.model = inspect_model
        self.vocabulary = resources.vocabulary
        self._spec = resources.spec
        # evaluation.unseen_language_problem only names the language in its message.
        self.any_language = evaluation.unseen_language_problem(config, "?") is None
        self.aliases = language_aliases(self.languages)
        self._aliases = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(list(self.aliases), tf.string),
                tf.constant([self.languages.index(lang) for lang in self.aliases.values()],
                            tf.int32)),
            default_value=-1)
        # Row i: training language i; the last row: any other language (all outputs).
        self._masks = np.stack([label_space.mask(lang) for lang in self.languages]
                               + [np.ones(label_space.num_outputs, np.float32)])
        rows = self._masks if self.any_language else self._masks[:-1]
        self._top_k = int(rows.sum(axis=1).max())
        self._output_names = list(label_space.output_names)
        self._unknown_message = (
            f"unknown language code (or one that names several); this model knows "
            f"{', '.join(self.languages)}, also by their ISO 639-1 / 639-3 codes. Unknown codes:")
        self.tables = (self.vocabulary, self._aliases)

    def __call__(self, text, lang):
        same_length = tf.debugging.assert_equal(
            tf.size(text), tf.size(lang),
            message="text and lang must have the same length (a language code per document)")
        with tf.control_dependencies([same_length]):
            lang_id = self._aliases.lookup(_alias_keys(lang))
        unknown = lang_id < 0
        if not self.any_language:
            # The codes as sent, invalid UTF-8 replaced (U+FFFD): clients decode the message.
            shown = tf.strings.unicode_transcode(tf.boolean_mask(lang, unknown), "UTF-8",
                                                 "UTF-8", errors="replace")
            check = tf.debugging.Assert(tf.logical_not(tf.reduce_any(unknown)),
                                        [self._unknown_message, shown], summarize=10)
            with tf.control_dependencies([check]):
                lang_id = tf.identity(lang_id)
        row = tf.where(unknown, len(self.languages), lang_id)
        codes = tf.gather(tf.constant(self.languages + [""]), row)
        features = data.encode_features(text, codes, self.vocabulary, self._spec)
        features["lang_id"] = lang_id
        outputs = self.model(features, training=False)
        mask = tf.gather(tf.constant(self._masks), row)
        scores = tf.cast(outputs["scores"], tf.float32) * mask
        # Scores are probabilities in [0, 1]: -1 ranks the other languages' outputs last.
        best = tf.math.top_k(tf.where(mask > 0, scores, -1.0), k=self._top_k)
        names = tf.gather(tf.constant(self._output_names), best.indices)
        result = {"scores": scores, "labels": tf.where(best.values >= 0, names, "")}
        for name in ("word_attention", "sentence_attention"):
            if name in outputs:
                result[name] = tf.cast(outputs[name], tf.float32)
        return result


def next_version(run_dir: str) -> int:
    """1 + the highest version in RUN/export/ (1 when there is none)."""
    return max(rundir.export_versions(run_dir), default=0) + 1


def _remove_abandoned_staging(export_dir: str) -> None:
    """Deletes the staging folders of exports whose process is gone (killed mid-export)."""
    for name in os.listdir(export_dir) if os.path.isdir(export_dir) else ():
        match = re.fullmatch(r"\.staging-\d+-(\d+)", name)
        if match and not _process_exists(int(match.group(1))):
            shutil.rmtree(os.path.join(export_dir, name), ignore_errors=True)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it does, and belongs to another user
        pass
    return True


def _proto_field(number: int, payload: bytes) -> bytes:
    """A length-delimited protocol buffer field (wire type 2): tag, length, bytes."""
    def varint(value):
        out = bytearray()
        while True:
            out.append(value & 0x7F | (0x80 if value > 0x7F else 0))
            value >>= 7
            if not value:
                return bytes(out)
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def warmup_record(texts, langs) -> bytes:
    """One serialised tensorflow_serving PredictionLog asking `serving_default` about `texts`.

    PredictionLog.predict_log (6) -> PredictLog.request (1) -> PredictRequest: model_spec (1,
    ModelSpec.signature_name = 3) and inputs (2, map entries: key 1, TensorProto 2). Written by
    hand so that exporting needs no tensorflow-serving-api.
    """
    inputs = b"".join(
        _proto_field(2, _proto_field(1, name.encode()) + _proto_field(
            2, tf.make_tensor_proto(np.array(values, object)).SerializeToString()))
        for name, values in (("text", texts), ("lang", langs)))
    request = _proto_field(1, _proto_field(3, SIGNATURE.encode())) + inputs
    return _proto_field(6, _proto_field(1, request))


def write_warmup_requests(path: str, languages) -> None:
    """The warm-up file: one document per language alone, then all of them in one batch."""
    requests = [([WARMUP_TEXT], [lang]) for lang in languages]
    requests.append(([WARMUP_TEXT] * len(languages), list(languages)))
    with tf.io.TFRecordWriter(path) as writer:
        for texts, langs in requests:
            writer.write(warmup_record(texts, langs))


def export_run(run_dir: str, version: int | None = None) -> str:
    """Exports a finished run's best weights to RUN/export/<version>/; returns that path.

    The SavedModel is written to a hidden folder first and renamed into place, so TF Serving,
    which polls the export folder, never loads a half-written version (and a version that
    exists is complete); hidden folders left by a killed export are removed.
    """
    export_dir = os.path.join(run_dir, rundir.EXPORT_DIR)
    version = next_version(run_dir) if version is None else int(version)
    path = os.path.join(export_dir, str(version))
    if os.path.exists(path):
        raise FileExistsError(f"{path} exists: choose another version or leave it out")
    _remove_abandoned_staging(export_dir)
    config, resources, classifier = rundir.load(run_dir)
    serving = Serving(config, resources, classifier.inspect)
    # ExportArchive saves the variables the signature reads and the tables it is told about,
    # not the Python objects around them. (A tf.Module holding the Keras model saves too, and
    # tf.saved_model.load reads it, but TF Serving's TF1-style loader then misses variables.)
    archive = keras.export.ExportArchive()
    for table in serving.tables:
        archive.track(table)
    archive.add_endpoint(SIGNATURE, serving, input_signature=INPUT_SIGNATURE)
    staging = os.path.join(export_dir, f".staging-{version}-{os.getpid()}")
    try:
        archive.write_out(staging, verbose=False)
        os.makedirs(os.path.join(staging, os.path.dirname(EXTRA_FILE)), exist_ok=True)
        with open(os.path.join(staging, EXTRA_FILE), "w", encoding="utf-8") as f:
            json.dump({"model": config.model, "languages": list(resources.languages),
                       "unknown_languages": "all outputs" if serving.any_language else "error",
                       "activation": resources.activation,
                       "decision": "argmax" if resources.top_k == 1 else "threshold",
                       "threshold": config.threshold, "at_least_one": resources.at_least_one,
                       "output_names": resources.label_space.output_names,
                       "output_languages": resources.label_space.output_languages,
                       "outputs_by_language": {
                           lang: np.flatnonzero(resources.label_space.mask(lang)).tolist()
                           for lang in resources.languages},
                       "language_codes": serving.aliases},
                      f, indent=1, ensure_ascii=False)
        write_warmup_requests(os.path.join(staging, WARMUP_FILE), resources.languages)
        os.rename(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logging.info("exported %s", path)
    return path


if __name__ == "__main__":
    from mlclf import commands
    commands.run("export")
