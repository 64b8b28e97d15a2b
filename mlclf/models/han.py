"""Hierarchical document classifiers: NN, HNN, HAN and the multilingual MHAN family.

Pappas & Popescu-Belis (2017), "Multilingual Hierarchical Attention Networks for Document
Classification". A document is `word_ids [B, K, T]`: K sentences of T words, 0 = padding.

    word vectors   [B,K,T,E]  --word encoder-->      [B,K,T,H]  --word pooling-->      [B,K,H]
    sentence vecs  [B,K,H]    --sentence encoder-->  [B,K,H]    --sentence pooling-->  [B,H]
    document       [B,H]      --head: Dense(num_outputs, sigmoid)-->  scores

    model      encoders  pooling    per-language parts (the rest is shared)
    nn         -         average    -   (average of all real word vectors; flat input allowed)
    hnn        yes       average    -
    han        yes       attention  -
    mhan_enc   yes       attention  attention (encoders shared)
    mhan_att   yes       attention  encoders  (attention shared)
    mhan_both  yes       attention  -

nn, hnn and han are monolingual (num_languages=1). The MHAN models read one embedding space
and one head over the global output index; a document's targets are -1 outside its
language's labels, so the shared head acts as separate per-language heads. Per-language parts
hold their weights stacked per language and use each document's language's (a gather by
`lang_id`: static shapes, XLA-compilable); per-language GRU encoders route the documents
through one GRU per language instead (layers.PerLanguage), and train without XLA.

Speed: with Dense encoders a word's encoding and attention score depend on nothing but the
word and its document's language, so by default (`by_word_type`) the word level runs once per
distinct (word, language) of the batch, only the sums of the weighted types run per real word
(_attention_pool), and the sentence level reads the real sentences alone; padding costs
nothing, and only the word vectors a batch reads are updated, lazily (`row_sparse_weights`,
optimizers.CompiledAdam). How much that saves, measured against the per-slot
form compiled with XLA: benchmarks/results/train_throughput.md. Its shapes depend on the batch,
so such a model trains without whole-step XLA; `by_word_type=False` gives the per-slot,
XLA-compilable form (the same function: tests check that outputs and gradients agree).
"""
from typing import NamedTuple

import keras
import tensorflow as tf

from mlclf.models import head as head_lib
from mlclf.models.layers import (MaskedAttention, MaskedAverage, PerLanguage, SequenceEncoder,
                                 WordEmbedding, check_languages, register)
from mlclf.models.registry import Models, ModelSpec


class Variant(NamedTuple):
    """Which parts a model has, and which of them all languages share."""
    encoders: bool
    attention: bool
    shared_encoders: bool
    shared_attention: bool
    multilingual: bool


VARIANTS = {
    "nn": Variant(False, False, True, True, False),
    "hnn": Variant(True, False, True, True, False),
    "han": Variant(True, True, True, True, False),
    "mhan_enc": Variant(True, True, True, False, True),
    "mhan_att": Variant(True, True, False, True, True),
    "mhan_both": Variant(True, True, True, True, True),
}


@register
class HierarchicalEncoder(keras.layers.Layer):
    """features -> {"document" [B,D], "word_attention" [B,K,T], "sentence_attention" [B,K]}.

    For flat `word_ids [B,N]` (nn only) the output is just {"document"}.
    Attention weights are 0 on padding and sum to 1 over each sentence's words / the
    document's sentences; a sentence counts as real if it has at least one real word.
    """

    def __init__(self, variant, *, num_languages, vocab_size, embed_dim, encoder="dense",
                 hidden=100, num_subword_buckets=0, trainable_embeddings=True,
                 embedding_matrix=None, by_word_type=True, **kwargs):
        super().__init__(**kwargs)
        if variant not in VARIANTS:
            raise ValueError(f"unknown model {variant!r}; expected one of {list(VARIANTS)}")
        self.variant = variant
        self.num_languages = num_languages
        self.vocab_size = vocab_size
        self.embed_dim = embed_dim
        self.encoder_kind = encoder
        self.hidden = hidden
        self.num_subword_buckets = num_subword_buckets
        self.trainable_embeddings = trainable_embeddings
        self.by_word_type = by_word_type
        spec = VARIANTS[variant]
        if not spec.multilingual and num_languages != 1:
            raise ValueError(f"{variant} is monolingual (num_languages=1); for several "
                             "languages use mhan_enc, mhan_att or mhan_both")

        def languages(shared):
            """None for a part all languages share, else the number of per-language copies."""
            return None if shared or num_languages == 1 else num_languages

        def make_encoder(name):
            per_language = languages(spec.shared_encoders)
            if per_language is None or encoder == "dense":  # one kernel per language, stacked
                return SequenceEncoder(encoder, hidden, per_language, name=name)
            return PerLanguage(SequenceEncoder(encoder, hidden, name=name), per_language,
                               name=name)

        def make_pooling(name):
            if not spec.attention:
                return MaskedAverage(name=name)
            return MaskedAttention(languages(spec.shared_attention), name=name)

        # See _encodes_word_types: XLA cannot compile tf.unique's data-dependent shapes.
        self.supports_jit = not self._encodes_word_types()
        self.embedding = WordEmbedding(vocab_size, embed_dim, num_subword_buckets,
                                       trainable_embeddings, embedding_matrix, name="embedding")
        self.word_pooling = make_pooling("word_pooling")
        if spec.encoders:
            self.word_encoder = make_encoder("word_encoder")
            self.sentence_encoder = make_encoder("sentence_encoder")
            self.sentence_pooling = make_pooling("sentence_pooling")

    def build(self, features_shape):
        # Build every part from the input shapes, so that a loaded model has all its weights
        # before they are restored.
        shape = features_shape["word_ids"]
        sentences, words = (1, shape[-1]) if len(shape) == 2 else shape[-2:]
        self.embedding.build(shape)
        dim = self.embed_dim
        if VARIANTS[self.variant].encoders:
            self.word_encoder.build((None, sentences, words, dim))
            dim = self.hidden * (2 if self.encoder_kind == "bigru" else 1)
            self.sentence_encoder.build((None, sentences, dim))
            self.sentence_pooling.build((None, sentences, dim))
        self.word_pooling.build((None, sentences, words, dim))

    def call(self, features):
        word_ids = features["word_ids"]
        subword_ids = features.get("subword_ids")
        lang_id = features["lang_id"]
        if self._per_language_parts():
            lang_id = check_languages(lang_id, self.num_languages)
        flat = word_ids.shape.rank == 2
        if flat:  # one sentence holding the whole document
            word_ids = word_ids[:, None]
            subword_ids = None if subword_ids is None else subword_ids[:, None]
        real_words = word_ids != 0                           # [B,K,T]
        if self._encodes_word_types():
            document, word_attention, sentence_attention = self._by_word_type(
                word_ids, real_words, lang_id)
        else:
            words = self.embedding(word_ids, subword_ids)    # [B,K,T,E]
            if not VARIANTS[self.variant].encoders:
                document, word_attention, sentence_attention = self._average_words(words,
                                                                                   real_words)
            else:
                real_sentences = tf.reduce_any(real_words, axis=-1)  # [B,K]: has a real word
                words = self._apply(self.word_encoder, words, real_words, lang_id)
                sentences, word_attention = self._apply(self.word_pooling, words, real_words,
                                                        lang_id)
                sentences = self._apply(self.sentence_encoder, sentences, real_sentences,
                                        lang_id)
                document, sentence_attention = self._apply(self.sentence_pooling, sentences,
                                                           real_sentences, lang_id)
        if flat:
            return {"document": document}
        return {"document": document, "word_attention": word_attention,
                "sentence_attention": sentence_attention}

    def _encodes_word_types(self):
        """Whether the word level runs once per word type (see the module docstring): asked
        for, and possible: Dense encoders, and no subword vectors (those of unknown words
        differ from one occurrence to the next)."""
        return (self.by_word_type and VARIANTS[self.variant].encoders
                and self.encoder_kind == "dense" and not self.num_subword_buckets)

    def _by_word_type(self, word_ids, real_words, lang_id):
        """word_ids [B,K,T] -> (document [B,H], word weights [B,K,T], sentence weights [B,K]),
        both levels over the real words and sentences only (the module docstring)."""
        if not self._per_language_parts():
            return self._pool_word_types(word_ids, real_words, lang_id)
        # The documents in language order: the word types (tf.unique keeps the order of first
        # appearance) and the sentences then come grouped by language, as the per-language
        # parts take rows. The outputs go back to the batch's order.
        by_language = tf.argsort(lang_id, stable=True)
        outputs = self._pool_word_types(*(tf.gather(batch, by_language)
                                          for batch in (word_ids, real_words, lang_id)))
        batch_order = tf.math.invert_permutation(by_language)
        return tuple(tf.gather(output, batch_order) for output in outputs)

    def _pool_word_types(self, word_ids, real_words, lang_id):
        """_by_word_type for documents grouped by language where per-language parts read
        rows."""
        shape = tf.shape(word_ids)
        # The real slots, in row-major order (so sorted by sentence), and their sentences,
        # numbered in that order among the real ones.
        slots = tf.where(tf.reshape(real_words, [-1]))[:, 0]
        sentence_ids, sentence_of_slot = tf.unique(slots // tf.cast(shape[2], tf.int64))
        document_of_sentence = tf.cast(sentence_ids // tf.cast(shape[1], tf.int64), tf.int32)
        sentence_langs = tf.gather(lang_id, document_of_sentence)
        # The word types: distinct (word, language) pairs where a per-language part reads them.
        per_language = (self._per_language(self.word_encoder)
                        or self._per_language(self.word_pooling))
        languages = self.num_languages if per_language else 1
        keys = tf.cast(tf.gather(tf.reshape(word_ids, [-1]), slots), tf.int64)
        if per_language:
            keys = keys * languages + tf.cast(tf.gather(sentence_langs, sentence_of_slot),
                                              tf.int64)
        type_keys, type_of_slot = tf.unique(keys, out_idx=tf.int32)
        type_langs = tf.cast(type_keys % languages, tf.int32)
        types = self.embedding(tf.cast(type_keys // languages, tf.int32))   # [U,E]
        types = self._apply(self.word_encoder, types, None, type_langs)     # [U,H]
        sentences, slot_weights = _attention_pool(
            types, self._scores(self.word_pooling, types, type_langs), type_of_slot,
            sentence_of_slot)                                               # [S,H]
        sentences = self._apply(self.sentence_encoder, sentences, None, sentence_langs)
        documents, sentence_weights = _attention_pool(
            sentences, self._scores(self.sentence_pooling, sentences, sentence_langs),
            tf.range(tf.shape(sentences)[0]), document_of_sentence)
        # Documents after the last one with a real word are all padding: zero vectors.
        document = tf.pad(documents, [[0, shape[0] - tf.shape(documents)[0]], [0, 0]])
        # The weights of the real positions back in place, for the outputs alone.
        word_weights = tf.scatter_nd(slots[:, None], slot_weights,
                                     tf.size(word_ids, out_type=tf.int64)[None])
        sentence_weights = tf.scatter_nd(sentence_ids[:, None], sentence_weights,
                                         tf.cast(shape[:1] * shape[1:2], tf.int64))
        return (document, tf.reshape(word_weights, shape),
                tf.reshape(sentence_weights, shape[:2]))

    @property
    def row_sparse_weights(self) -> list:
        """The word vectors, when read once per word type: a batch reads a few percent of
        their rows, and the optimizer updates those alone (optimizers.CompiledAdam)."""
        if self._encodes_word_types() and self.trainable_embeddings:
            return [self.embedding.words.embeddings]
        return []

    def _scores(self, pooling, rows, langs):
        """Attention scores of `rows [N,H]` of languages `langs [N]`; zeros for an average
        (every row weighs the same)."""
        if not isinstance(pooling, MaskedAttention):
            return tf.zeros_like(rows[:, 0])
        if self._per_language(pooling):
            return pooling.score(rows, langs)
        return pooling.score(rows)

    def _average_words(self, words, real_words):
        """nn: the mean over all real words of the document, written as sentence means
        weighted by each sentence's share of the words, to report both levels of weights."""
        sentences, word_attention = self.word_pooling(words, real_words)
        counts = tf.reduce_sum(tf.cast(real_words, words.dtype), axis=-1)
        sentence_attention = tf.math.divide_no_nan(
            counts, tf.reduce_sum(counts, axis=-1, keepdims=True))
        document = tf.reduce_sum(sentence_attention[..., None] * sentences, axis=1)
        return document, word_attention, sentence_attention

    @staticmethod
    def _per_language(layer):
        return isinstance(layer, PerLanguage) or getattr(layer, "num_languages", None) is not None

    def _per_language_parts(self):
        parts = ("word_encoder", "word_pooling", "sentence_encoder", "sentence_pooling")
        return any(self._per_language(getattr(self, part, None)) for part in parts)

    def _apply(self, layer, inputs, valid, lang_id):
        if self._per_language(layer):
            return layer(inputs, valid, lang_id)
        return layer(inputs, valid)

    def get_config(self):
        return {**super().get_config(), "variant": self.variant,
                "num_languages": self.num_languages, "vocab_size": self.vocab_size,
                "embed_dim": self.embed_dim, "encoder": self.encoder_kind, "hidden": self.hidden,
                "num_subword_buckets": self.num_subword_buckets,
                "trainable_embeddings": self.trainable_embeddings,
                "by_word_type": self.by_word_type}


def _attention_pool(rows, scores, row_of_item, group_of_item):
    """Attention pooling of items (a sentence's words, a document's sentences) given as
    `row_of_item [I]` into `rows [R,H]` with `scores [R]`, sorted by `group_of_item [I]`: each
    group's softmax over its items' scores weighs their rows -> (group vectors [G,H], item
    weights [I]). At the word level the rows are the batch's word types, of which the words
    are ~3x as many.

    A softmax's weights are exp(score) up to one factor per group, so the rows are weighted
    before they reach the items: the items are then only gathered and summed, one pass each way
    (_sum_by_group), and each sum divided by its group's total weight. One shift of the scores
    serves the whole batch: the largest score, lowered where needed so that every group's best
    item keeps 17 orders of e (float32's precision) above the smallest normal float. Exact to
    float32 precision while the groups' best scores in a batch lie within 158 of each other;
    beyond that (never seen) a low group's weights lose precision, but nothing becomes inf or
    NaN.
    """
    item_scores = tf.gather(scores, row_of_item)
    lowest_best = tf.reduce_min(tf.gather(tf.math.segment_max(item_scores, group_of_item),
                                          group_of_item))
    shift = tf.stop_gradient(tf.minimum(tf.reduce_max(scores), lowest_best + 70))
    row_weights = tf.exp(tf.minimum(scores - shift, 80))
    item_weights = tf.gather(row_weights, row_of_item)
    totals = tf.math.segment_sum(item_weights, group_of_item)
    sums = _sum_by_group(row_weights[:, None] * rows, row_of_item, group_of_item)
    # A group without items (a document of padding between others) sums to 0 and stays 0.
    return (tf.math.divide_no_nan(sums, totals[:, None]),
            item_weights / tf.gather(totals, group_of_item))


def _sum_by_group(rows, row_of_item, group_of_item):
    """Sum over each group's items of its row -> [G, H], gathered and summed in one op
    (tf.sparse.segment_sum: the [I, H] gathered rows are never stored).

    With its own gradient: automatic differentiation would return the rows' gradient as a
    scatter-add over the items in group order (an unsorted segment sum, slower than a sorted
    one: benchmarks/results/train_throughput.md); here it is a sorted segment sum over the
    items in row order."""

    @tf.custom_gradient
    def summed(rows):
        def gradient(upstream):
            by_row = tf.argsort(row_of_item, stable=True)  # only the gradient needs it
            return tf.math.segment_sum(
                tf.gather(tf.convert_to_tensor(upstream), tf.gather(group_of_item, by_row)),
                tf.gather(row_of_item, by_row))

        return tf.sparse.segment_sum(rows, row_of_item, group_of_item), gradient

    return summed(rows)


def model_inputs(max_sentences, max_words, num_subword_buckets=0, wide=False):
    """The features dict of docs/architecture.md as keras.Inputs.

    `max_sentences=None` means flat `word_ids [B, max_words]`.
    """
    words_shape = (max_words,) if max_sentences is None else (max_sentences, max_words)
    inputs = {"word_ids": keras.Input(words_shape, dtype="int32", name="word_ids"),
              "lang_id": keras.Input((), dtype="int32", name="lang_id")}
    if num_subword_buckets:
        inputs["subword_ids"] = keras.Input((*words_shape, None), dtype="int32",
                                            name="subword_ids")
    if wide:
        inputs.update(head_lib.wide_inputs())
    return inputs


def build_model(name, *, num_languages, vocab_size, embed_dim, num_outputs, encoder="dense",
                hidden=100, embedding_matrix=None, trainable_embeddings=True,
                num_subword_buckets=0, max_sentences, max_words,
                by_word_type=True, head: head_lib.HeadSpec | None = None) -> Models:
    """Builds one of VARIANTS; see the module docstring.

    encoder: 'dense' | 'gru' | 'bigru' (hidden units per direction). embedding_matrix
    `[vocab_size, embed_dim]` initialises the word vectors, frozen if not
    trainable_embeddings. max_sentences=None: flat `[B, max_words]` input (nn only).
    by_word_type: see the module docstring (False: the per-slot, XLA-compilable form).
    head: the output head (default: sigmoid scores from the document vector, the paper's).
    Train `train` with the loss of the head's activation (losses.for_activation) on the
    `labels` targets.
    """
    if max_sentences is None and name != "nn":
        raise ValueError(f"{name} needs hierarchical input: give max_sentences")
    head = head or head_lib.HeadSpec(num_outputs)
    inputs = model_inputs(max_sentences, max_words, num_subword_buckets,
                          wide=bool(head.wide_buckets))
    encoded = HierarchicalEncoder(
        name, num_languages=num_languages, vocab_size=vocab_size, embed_dim=embed_dim,
        encoder=encoder, hidden=hidden, num_subword_buckets=num_subword_buckets,
        trainable_embeddings=trainable_embeddings, embedding_matrix=embedding_matrix,
        by_word_type=by_word_type, name="document_encoder")(inputs)
    scores = head_lib.scores(encoded["document"], inputs, head)
    return Models(train=keras.Model(inputs, scores, name=name),
                  inspect=keras.Model(inputs, {"scores": scores, **encoded},
                                      name=f"{name}_inspect"))


def build(config, resources, matrix=None) -> Models:
    """The registry's builder: `config.model` (one of VARIANTS), sized for the run."""
    return build_model(config.model, num_languages=len(resources.languages),
                       vocab_size=resources.vocabulary.size, embed_dim=config.embed_dim,
                       num_outputs=resources.label_space.num_outputs, encoder=config.encoder,
                       hidden=config.hidden, embedding_matrix=matrix,
                       trainable_embeddings=not config.freeze_embeddings,
                       num_subword_buckets=config.subword_buckets,
                       max_sentences=config.max_sentences, max_words=config.max_words,
                       head=head_lib.for_run(config, resources))


# Every variant trains the registry's default way (compile_default, label_targets) and has the
# head of models.head (a wide branch, softmax scores). A model with nothing per language can
# read a language it never trained on.
SPECS = {name: ModelSpec(build, hierarchical=True, multilingual=variant.multilingual,
                         language_agnostic=(variant.multilingual and variant.shared_encoders
                                            and variant.shared_attention),
                         config_fields=("encoder", "hidden") if variant.encoders else (),
                         wide="optional", outputs=("sigmoid", "softmax"))
         for name, variant in VARIANTS.items()}
