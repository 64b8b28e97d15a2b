"""Input pipeline throughput on MasakhaNEWS vs HAN training throughput, in documents/second.

    python benchmarks/pipeline_throughput.py --manual_dir=../shared/data/masakhanews

Prints, for 30x30 hierarchical batches of 64 over all visible languages:
  tokenise  read, normalise (NFKC), split sentences and words, save to the token cache: done
            once per corpus split and tokeniser version, then reused by every run and epoch
            (timed here into a fresh temporary cache)
  encode    a run's first epoch: read the token cache, look words up, pad, balance languages
  cached    later epochs: shuffle, balance languages, batch from the in-memory encoded cache
  train     a Dense-encoder `han` training step on the same batches (the consumer)
The pipeline must not be the bottleneck: encode and cached should be >= 10x train.
"""
import tempfile
import time

import keras
from absl import app, flags

from mlclf import corpora, data, losses, task
from mlclf.models import han

flags.DEFINE_string("manual_dir", "../shared/data/masakhanews", "Local MasakhaNEWS copy.")
flags.DEFINE_string("data_dir", "/tmp/mlclf_bench_tfds", "TFDS data dir.")
flags.DEFINE_list("langs", ["all"], "Languages.")
flags.DEFINE_integer("batch_size", 64, "Batch size.")
flags.DEFINE_integer("train_steps", 30, "Training steps to time.")
FLAGS = flags.FLAGS


def _docs_per_second(iterator, steps, consume=lambda batch: None):
    consume(next(iterator))  # warm up (tracing, first shuffle buffer)
    start, docs = time.perf_counter(), 0
    for _ in range(steps):
        batch = next(iterator)
        consume(batch)
        docs += int(batch[0]["word_ids"].shape[0])
    return docs / (time.perf_counter() - start)


def main(argv):
    del argv
    config = task.ExperimentConfig(model="mhan_att", dataset="masakhanews", langs=("x",),
                                   manual_dir=FLAGS.manual_dir, data_dir=FLAGS.data_dir,
                                   batch_size=FLAGS.batch_size)
    config.langs = tuple(task.resolve_languages(config, FLAGS.langs))
    raw = {lang: corpora.load_split(config.dataset, lang, "train", data_dir=FLAGS.data_dir,
                                    manual_dir=FLAGS.manual_dir) for lang in config.langs}
    total_docs = sum(int(ds.cardinality()) for ds in raw.values())
    cache = tempfile.mkdtemp(prefix="mlclf_bench_tokens_")
    start = time.perf_counter()
    train_examples = {lang: data.cache_tokens(ds, True, f"{cache}/{lang}")
                      for lang, ds in raw.items()}
    tokenise = total_docs / (time.perf_counter() - start)
    resources = task.build_resources(config, train_examples)
    print(f"masakhanews: {len(config.langs)} languages, {total_docs} training documents, "
          f"vocabulary {resources.vocabulary.size}")

    batches = data.make_dataset(train_examples, resources.vocabulary, resources.label_space,
                                resources.spec, FLAGS.batch_size,
                                training_languages=resources.languages, training=True)
    iterator = iter(batches)
    epoch_steps = total_docs // FLAGS.batch_size
    encode = _docs_per_second(iterator, epoch_steps)
    cached = _docs_per_second(iterator, epoch_steps)

    models = han.build_model("han", num_languages=1, vocab_size=resources.vocabulary.size,
                             embed_dim=40, num_outputs=resources.label_space.num_outputs,
                             encoder="dense", hidden=100, max_sentences=30, max_words=30)
    model = models.train
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=losses.masked_binary_crossentropy,
                  jit_compile=True)
    train_batches = batches.map(lambda f, t: ({**f, "lang_id": f["lang_id"] * 0},
                                                     t["labels"]))
    train = _docs_per_second(iter(train_batches), FLAGS.train_steps,
                             lambda batch: model.train_on_batch(*batch))
    print(f"tokenise (once per corpus):    {tokenise:10.0f} docs/s")
    print(f"encode (first epoch of a run): {encode:10.0f} docs/s")
    print(f"cached (later epochs):         {cached:10.0f} docs/s")
    print(f"han training (dense, 30x30):   {train:10.0f} docs/s")
    print(f"pipeline / training:           {encode / train:10.1f}x first epoch, "
          f"{cached / train:.1f}x later epochs, {tokenise / train:.1f}x tokenising")


if __name__ == "__main__":
    app.run(main)
