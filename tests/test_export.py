"""SavedModel export: reloaded with TensorFlow alone, it must give what the Keras model gives."""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from mlclf import evaluation, export, rundir, task, training

from export_checks import WITHOUT_MLCLF

# The tiny corpus with SIB-200-style codes, so ISO codes and corpus codes differ.
CORPUS_CODES = {"en": "eng_Latn", "fr": "fra_Latn"}

# (code as a client sends it, language it resolves to, text).
DOCUMENTS = [
    ("en", "eng_Latn", "The DOCTOR said: the hospital needs a vaccine.\nThe team won the match!"),
    ("eng", "eng_Latn", "Élection du ministre? The parliament vote is today. Naïve café."),
    ("fr", "fra_Latn", "Le médecin de l'hôpital a dit: la maladie recule. L'équipe a gagné!"),
    ("FRA_latn", "fra_Latn", "Врач сказал, что больница закрыта. Команда выиграла матч."),
    ("fre", "fra_Latn", "قال الطبيب إن المستشفى مغلق؟ فاز الفريق بالمباراة."),
    ("eng-Latn", "eng_Latn", "ሐኪሙ ወደ ሆስፒታል ሄደ። ቡድኑ ጨዋታውን አሸነፈ።"),
    (" en ", "eng_Latn", "डॉक्टर अस्पताल गए। टीम ने मैच जीता॥ football"),
    ("fr", "fra_Latn", "医生去了医院。球队赢了比赛！ サッカーの試合。"),
    ("en", "eng_Latn", ""),
    ("fr", "fra_Latn", "  \n ... !"),
]
UNSEEN = ("de", "Der Arzt ging ins Krankenhaus. Die Mannschaft gewann.")

# Runs in a fresh interpreter that cannot import mlclf: only TensorFlow reads the export.
SERVE = WITHOUT_MLCLF + r"""
try:
    import mlclf
    sys.exit("mlclf is importable")
except ImportError:
    pass
import tensorflow as tf

export_dir, requests_path, results_path = sys.argv[1:]
serve = tf.saved_model.load(export_dir).signatures["serving_default"]
results = {}
with open(requests_path, encoding="utf-8") as f:
    requests = json.load(f)
for name, request in requests.items():
    # Strings carry undecodable bytes as lone surrogates (surrogateescape).
    text, lang = ([value.encode("utf-8", "surrogateescape") for value in request[key]]
                  for key in ("text", "lang"))
    try:
        outputs = serve(text=tf.constant(text, tf.string), lang=tf.constant(lang, tf.string))
        results[name] = {key: value.numpy().tolist() for key, value in outputs.items()}
        results[name]["labels"] = [[l.decode() for l in row] for row in results[name]["labels"]]
    except tf.errors.InvalidArgumentError as error:
        results[name] = {"error": error.message}
# TF Serving's way: the TF1 loader, the signature's tensors fed and fetched by name.
with tf.compat.v1.Session(graph=tf.Graph()) as session:
    meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], export_dir)
    signature = meta_graph.signature_def["serving_default"]
    names = sorted(signature.outputs)
    values = session.run([signature.outputs[name].name for name in names],
                         {signature.inputs[key].name: requests["mixed"][key]
                          for key in ("text", "lang")})
    results["session"] = {name: value.tolist() for name, value in zip(names, values)}
    results["session"]["labels"] = [[l.decode() for l in row]
                                    for row in results["session"]["labels"]]
results["modules"] = sorted(m for m in sys.modules if m.split(".")[0] == "mlclf")
with open(results_path, "w", encoding="utf-8") as f:
    json.dump(results, f)
"""


@pytest.fixture(scope="module")
def corpus(tiny_corpus, tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus_codes")
    for name in os.listdir(tiny_corpus):
        with open(os.path.join(tiny_corpus, name), encoding="utf-8") as src, \
                open(root / name, "w", encoding="utf-8") as dst:
            for line in src:
                record = json.loads(line)
                record["lang"] = CORPUS_CODES[record["lang"]]
                dst.write(json.dumps(record, ensure_ascii=False) + "\n")
    return str(root)


SETTINGS = {
    # Hierarchical, per-language parts, vocabulary and heads: unknown languages are errors.
    "mhan_att": dict(model="mhan_att", vocab="per_language", embed_dim=8, hidden=8,
                     max_sentences=4, max_words=8, wide_buckets=1 << 14),
    # Language-agnostic, shared vocabulary and labels: any language gets all outputs.
    "cnn": dict(model="cnn", label_space="shared", embed_dim=8, num_filters=4, max_words=24,
                num_sampled=2),
}


@pytest.fixture(scope="module", params=list(SETTINGS))
def run(request, corpus, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param)
    config = task.ExperimentConfig(
        dataset="jsonl", langs=tuple(CORPUS_CODES.values()), manual_dir=corpus,
        data_dir=str(tmp_path_factory.getbasetemp() / "tfds_export"), batch_size=8, epochs=1,
        steps_per_epoch=4, learning_rate=0.05, seed=1, **SETTINGS[request.param])
    run_dir = str(tmp / "run")
    training.train(config, run_dir, verbose=0)
    return run_dir


def _config(run_dir):
    with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
        return task.ExperimentConfig.from_json(f.read())


def _reads_any_language(run_dir):
    return evaluation.unseen_language_problem(_config(run_dir), "de") is None


def _requests(any_language):
    documents = DOCUMENTS + ([(UNSEEN[0], UNSEEN[0], UNSEEN[1])] if any_language else [])
    return {
        "mixed": {"text": [text for *_, text in documents],
                  "lang": [code for code, *_ in documents]},
        "corpus_codes": {"text": [text for *_, text in DOCUMENTS],
                         "lang": [lang for _, lang, _ in DOCUMENTS]},
        "empty_alone": {"text": [""], "lang": ["fr"]},
        "unknown": {"text": ["a doctor", "un médecin", "ein Arzt"], "lang": ["en", "xx", "de"]},
        # Bytes that are not UTF-8, as a client may send them.
        "non_utf8_lang": {"text": ["a doctor", "a match"],
                          "lang": ["en", b"\xff\xfeen".decode("utf-8", "surrogateescape")]},
        "different_lengths": {"text": ["a doctor", "un médecin"], "lang": ["en"]},
    }


@pytest.fixture(scope="module")
def served(run, tmp_path_factory):
    """(requests, outputs of the export written by training, reloaded without mlclf)."""
    tmp = tmp_path_factory.mktemp("served")
    requests = _requests(_reads_any_language(run))
    with open(tmp / "requests.json", "w", encoding="utf-8") as f:
        json.dump(requests, f)  # ASCII: lone surrogates escaped
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-I", "-c", SERVE, os.path.join(run, "export", "1"),
                           str(tmp / "requests.json"), str(tmp / "results.json")],
                          cwd=tmp, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    with open(tmp / "results.json", encoding="utf-8") as f:
        results = json.load(f)
    assert results.pop("modules") == []
    return requests, results


def _keras_outputs(run_dir, documents):
    """What evaluate.py's code path gives, per document: scores over all outputs (0 outside
    the language's own), own labels best first, and attention."""
    config, resources, models = rundir.load(run_dir)
    label_space = resources.label_space
    rows = []
    for lang in dict.fromkeys(lang for _, lang, _ in documents):
        texts = [text for _, doc_lang, text in documents if doc_lang == lang]
        # Any label will do (scores do not depend on it); a batch where no document has a label
        # trips data.TargetEncoder (NCE ids padded from an empty [B, 0] tensor).
        examples = tf.data.Dataset.from_tensor_slices({
            "text": texts, "lang": [lang] * len(texts),
            "labels": tf.ragged.constant([label_space.labels(lang)[:1]] * len(texts))})
        scored = evaluation.score_language(models.inspect, examples, lang, resources,
                                           with_extras=True)
        for i, text in enumerate(texts):
            scores = np.zeros(label_space.num_outputs, np.float32)
            scores[scored.output_indices] = scored.scores[i]
            order = scored.output_indices[np.argsort(-scored.scores[i], kind="stable")]
            rows.append((text, {"scores": scores,
                                "labels": [label_space.output_names[j] for j in order],
                                **{name: value[i] for name, value in scored.extras.items()
                                   if name.endswith("attention")}}))
    by_text = dict(rows)
    return [by_text[text] for *_, text in documents]


def _output_names(run_dir):
    with open(os.path.join(run_dir, "export", "1", export.EXTRA_FILE), encoding="utf-8") as f:
        return json.load(f)["output_names"]


def _assert_same_ranking(labels, expected, scores, output_names, atol):
    """`labels` are `expected` (output names best first, "" after them) but for the order of
    names whose `scores` differ by at most `atol`: scores computed apart (another batch, another
    loader) differ in the last float32 digits, which may swap a near-tie."""
    labels, expected = list(labels), list(expected)
    assert sorted(labels) == sorted(expected), (labels, expected)
    for names in (labels, expected):
        ranked = [scores[output_names.index(name)] if name else -np.inf for name in names]
        assert all(a >= b - atol for a, b in zip(ranked, ranked[1:])), (names, ranked)


def test_export_reloaded_without_mlclf_matches_keras(run, served):
    requests, results = served
    texts = requests["mixed"]["text"]
    documents = [doc for doc in DOCUMENTS + [(UNSEEN[0], UNSEEN[0], UNSEEN[1])]
                 if doc[2] in texts]
    expected = _keras_outputs(run, documents)
    outputs = results["mixed"]
    hierarchical = _config(run).hierarchical
    assert set(outputs) == ({"scores", "labels", "word_attention", "sentence_attention"}
                            if hierarchical else {"scores", "labels"})
    output_names = _output_names(run)
    width = max(len(want["labels"]) for want in expected)
    for i, want in enumerate(expected):
        got = {key: np.asarray(value[i]) for key, value in outputs.items()}
        for name in set(got) - {"labels"}:
            np.testing.assert_allclose(got[name], want[name], atol=1e-5, rtol=0,
                                       err_msg=f"{name} of {documents[i][2]!r}")
        # Scores within 1e-5 of each other: labels may swap where two are within 2e-5.
        _assert_same_ranking(got["labels"], want["labels"] + [""] * (width - len(want["labels"])),
                             want["scores"], output_names, atol=2e-5)


def test_tf_serving_loader_gives_the_same_outputs(run, served):
    _, results = served
    session, mixed = results["session"], results["mixed"]
    assert set(session) == set(mixed)
    for name in set(session) - {"labels"}:  # another loader: equal to float32 rounding
        np.testing.assert_allclose(session[name], mixed[name], atol=1e-6, rtol=0)
    for labels, expected, scores in zip(session["labels"], mixed["labels"], mixed["scores"]):
        _assert_same_ranking(labels, expected, scores, _output_names(run), atol=2e-6)


def test_iso_and_corpus_codes_give_the_same_outputs(run, served):
    requests, results = served
    count = len(DOCUMENTS)
    mixed = {key: values[:count] for key, values in results["mixed"].items()}
    alone = results["corpus_codes"]
    assert set(mixed) == set(alone)
    for key in set(alone) - {"labels"}:  # batches of other sizes may sum in another order
        np.testing.assert_allclose(np.asarray(mixed[key]), np.asarray(alone[key]), atol=1e-6)
    for labels, expected, scores in zip(mixed["labels"], alone["labels"], alone["scores"]):
        _assert_same_ranking(labels, expected, scores, _output_names(run), atol=2e-6)


def test_empty_text_gives_finite_outputs(run, served):
    requests, results = served
    outputs = results["empty_alone"]
    assert np.all(np.isfinite(outputs["scores"]))
    # The same as the empty document in a batch with others.
    position = DOCUMENTS.index(("fr", "fra_Latn", "  \n ... !"))
    in_batch = {key: values[position] for key, values in results["mixed"].items()}
    assert outputs["scores"][0] == pytest.approx(in_batch["scores"], abs=1e-6)
    _assert_same_ranking(outputs["labels"][0], in_batch["labels"], in_batch["scores"],
                         _output_names(run), atol=2e-6)


def test_unknown_language(run, served):
    _, results = served
    outputs = results["unknown"]
    if _reads_any_language(run):
        # Read with every output, as evaluate.py reads an unseen language.
        assert np.all(np.asarray(outputs["scores"])[1:] > 0)
        assert all("" not in row for row in outputs["labels"][1:])
    else:
        message = outputs["error"]
        assert "eng_Latn, fra_Latn" in message and "xx" in message and "de" in message


def test_bad_requests_get_the_models_own_message(run, served):
    """The client reads every refusal (the served script would fail on an undecodable one)."""
    _, results = served
    assert "same length" in results["different_lengths"]["error"]
    if _reads_any_language(run):  # an undecodable code is one more unknown language
        assert np.all(np.asarray(results["non_utf8_lang"]["scores"])[1] > 0)
    else:
        message = results["non_utf8_lang"]["error"]
        assert "eng_Latn, fra_Latn" in message and "\ufffd\ufffden" in message


def test_language_aliases_follow_languages_resolve():
    aliases = export.language_aliases(["eng_Latn", "fra_Latn", "arb_Arab"])
    assert {code: aliases[code] for code in ("en", "eng", "eng_latn", "fr", "fra", "fre", "ar",
                                             "ara", "arb")} == {
        "en": "eng_Latn", "eng": "eng_Latn", "eng_latn": "eng_Latn", "fr": "fra_Latn",
        "fra": "fra_Latn", "fre": "fra_Latn", "ar": "arb_Arab", "ara": "arb_Arab",
        "arb": "arb_Arab"}
    assert "de" not in aliases and "deu" not in aliases


def test_saved_model_cli_lists_the_signature_and_extra_file(run):
    config, resources, _ = rundir.load(run)
    export_dir = os.path.join(run, "export", "1")
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    shown = subprocess.run([cli, "show", "--all", "--dir", export_dir],
                           capture_output=True, text=True, check=True).stdout
    signature = shown.split(f"signature_def['{export.SIGNATURE}']:")[1]
    for name, dtype in (("inputs['text']", "DT_STRING"), ("inputs['lang']", "DT_STRING"),
                        ("outputs['scores']", "DT_FLOAT"), ("outputs['labels']", "DT_STRING")):
        assert re.search(re.escape(name) + r" tensor_info:\s+dtype: " + dtype, signature), name
    assert ("outputs['word_attention']" in signature) == config.hierarchical
    with open(os.path.join(export_dir, export.EXTRA_FILE), encoding="utf-8") as f:
        extra = json.load(f)
    assert extra["output_names"] == resources.label_space.output_names
    assert (extra["threshold"], extra["at_least_one"]) == (config.threshold,
                                                           resources.at_least_one)


def test_versions_count_up_and_are_never_overwritten(run, tmp_path):
    for name in ("1", "3", "latest", ".staging-7-1"):
        (tmp_path / "export" / name).mkdir(parents=True)
    assert export.next_version(str(tmp_path)) == 4
    assert export.next_version(str(tmp_path / "missing")) == 1
    with pytest.raises(FileExistsError, match="exists"):
        export.export_run(run, version=1)


def _prediction_log_class():
    """tensorflow_serving's PredictionLog, as far as warm-up requests use it, built from its
    .proto field numbers and read by protobuf's own parser (no tensorflow-serving-api needed)."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    from tensorflow.core.framework import tensor_pb2

    pool, added = descriptor_pool.DescriptorPool(), set()

    def add(file):
        for dependency in file.dependencies:
            add(dependency)
        if file.name not in added:
            proto = descriptor_pb2.FileDescriptorProto()
            file.CopyToProto(proto)
            pool.Add(proto)
            added.add(file.name)

    add(tensor_pb2.DESCRIPTOR)
    field = descriptor_pb2.FieldDescriptorProto
    one, many = field.LABEL_OPTIONAL, field.LABEL_REPEATED
    serving = descriptor_pb2.FileDescriptorProto(name="warmup_test.proto",
                                                 package="tensorflow.serving",
                                                 dependency=[tensor_pb2.DESCRIPTOR.name])
    spec = serving.message_type.add(name="ModelSpec")
    spec.field.add(name="name", number=1, type=field.TYPE_STRING, label=one)
    spec.field.add(name="signature_name", number=3, type=field.TYPE_STRING, label=one)
    request = serving.message_type.add(name="PredictRequest")
    entry = request.nested_type.add(name="InputsEntry",
                                    options=descriptor_pb2.MessageOptions(map_entry=True))
    entry.field.add(name="key", number=1, type=field.TYPE_STRING, label=one)
    entry.field.add(name="value", number=2, type=field.TYPE_MESSAGE, label=one,
                    type_name=".tensorflow.TensorProto")
    request.field.add(name="model_spec", number=1, type=field.TYPE_MESSAGE, label=one,
                      type_name=".tensorflow.serving.ModelSpec")
    request.field.add(name="inputs", number=2, type=field.TYPE_MESSAGE, label=many,
                      type_name=".tensorflow.serving.PredictRequest.InputsEntry")
    predict_log = serving.message_type.add(name="PredictLog")
    predict_log.field.add(name="request", number=1, type=field.TYPE_MESSAGE, label=one,
                          type_name=".tensorflow.serving.PredictRequest")
    log = serving.message_type.add(name="PredictionLog")
    log.field.add(name="predict_log", number=6, type=field.TYPE_MESSAGE, label=one,
                  type_name=".tensorflow.serving.PredictLog")
    pool.Add(serving)
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName("tensorflow.serving.PredictionLog"))


def test_warmup_requests_parse_and_run_on_the_export(run):
    config, resources, _ = rundir.load(run)
    export_dir = os.path.join(run, "export", "1")
    prediction_log = _prediction_log_class()
    serve = tf.saved_model.load(export_dir).signatures[export.SIGNATURE]
    records = list(tf.data.TFRecordDataset(os.path.join(export_dir, export.WARMUP_FILE)))
    languages = list(resources.languages)
    assert len(records) == len(languages) + 1
    batch_sizes = []
    for record in records:
        log = prediction_log.FromString(record.numpy())
        request = log.predict_log.request
        assert request.model_spec.signature_name == export.SIGNATURE
        assert set(request.inputs) == {"text", "lang"}
        texts, langs = (tf.make_ndarray(request.inputs[key]) for key in ("text", "lang"))
        assert {lang.decode() for lang in langs} <= set(languages)
        outputs = serve(text=tf.constant(texts), lang=tf.constant(langs))
        assert outputs["scores"].shape == (len(texts), resources.label_space.num_outputs)
        assert "word_attention" in outputs or not config.hierarchical
        batch_sizes.append(len(texts))
    assert batch_sizes == [1] * len(languages) + [len(languages)]
