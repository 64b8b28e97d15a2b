"""Multi-window CNN document classifier trained with noise-contrastive estimation (NCE).

    word_ids [B,N] (flat, N=1500 in the original system; one vocabulary for all languages)
      -> Embedding(E) -> Conv1D(F, 32) -> Conv1D(F, 16) -> Conv1D(F, 3 | 4 | 5) in parallel
      -> global max over time per branch -> concat [B,3F]            (= `encoder`)
      -> Dropout(0.5) -> Dense(num_outputs) with max-norm 5 per class -> sigmoid scores

Convolutions: stride 1, 'same' zero padding, ReLU. Padding positions (word id 0) are set to
zero after the embedding and after every convolution. The convolutions then see padding exactly
like the implicit zero padding past the end of the document, so a document's vector does not
depend on how much padding follows it. For max-pooling, zeroed padding is as good as masking to
-inf: after ReLU every real position is >= 0, so a zero can only win where the real maximum is
0 as well; and an all-padding document gets a zero vector rather than -inf.

Training with loss='nce' samples `num_sampled` negative categories per batch from the
log-uniform (Zipfian) distribution of tf.nn.nce_loss, which assumes category ids are ordered by
descending frequency (id 0 the most frequent): the label space must be built that way upstream.
Documents without labels (`label_ids` all -1) add nothing to the NCE loss.

XLA: the candidate sampler and nce_loss' accidental-hit removal do not compile, so an NCE model
never uses Keras' jit_compile (it declares `supports_jit = False`, which Keras honours). With
`jit_encoder` (the default) the training step instead runs the encoder, which holds nearly all
the FLOPs, as an XLA-compiled function; TensorFlow compiles its gradient too. With `jit_update`
(the default; not under a tf.distribute strategy) the optimizer's update (Adam, max-norm) is a
second XLA-compiled function. The sampler, the NCE loss and the output layer run as ordinary TF
ops around them. Whether each pays off depends on the size: at the paper size both do (Adam
updates the whole [vocab, 512] embedding every step); at the small flags/cnn_cpu.cfg size the
compiled update does while plain TF convolutions beat the compiled encoder. The figures, and
the command that measures them: benchmarks/results/cnn_throughput.md.

Mixed precision: `encoder_dtype="mixed_bfloat16"` computes the encoder in bfloat16 (weights,
the document vector, the output layer, scores and losses stay float32). On CPUs with AMX or
AVX512_BF16, oneDNN's bfloat16 convolutions train several times faster than float32; XLA's CPU
convolutions do not use them (bfloat16 under XLA is slower than float32), so a bfloat16 encoder
always runs as plain TF ops, whatever `jit_encoder` says. Float32 unless asked.
"""
import keras
import tensorflow as tf

from mlclf import optimizers
from mlclf.losses import masked_binary_crossentropy
from mlclf.models.layers import ZeroPadPositions, register
from mlclf.models.registry import Models, ModelSpec


def multi_window_encoder(vocab_size, embed_dim=512, num_filters=128, windows=(32, 16, (3, 4, 5)),
                         max_words=None, embedding_matrix=None, trainable_embeddings=True,
                         dtype=None, name="encoder"):
    """word_ids [B, max_words] -> document vector [B, F * len(windows[-1])], float32.

    `windows`: the stacked convolutions' windows, then a tuple of the parallel branches' windows.
    `embedding_matrix` [vocab_size, embed_dim] initialises the word vectors (frozen unless
    trainable_embeddings). `dtype`: the layers' Keras dtype policy (None: the global policy),
    e.g. "mixed_bfloat16": float32 weights, bfloat16 computation; the document vector is cast
    back to float32.
    """
    word_ids = keras.Input((max_words,), dtype="int32", name="word_ids")

    def conv(x, window, name):
        x = keras.layers.Conv1D(num_filters, window, padding="same", activation="relu",
                                dtype=dtype, name=name)(x)
        return ZeroPadPositions(dtype=dtype)(x, word_ids)

    embedding = keras.layers.Embedding(vocab_size, embed_dim, weights=embedding_matrix,
                                       trainable=trainable_embeddings, dtype=dtype,
                                       name="embedding")
    x = ZeroPadPositions(dtype=dtype)(embedding(word_ids), word_ids)
    *stacked, branches = windows
    for i, window in enumerate(stacked):
        x = conv(x, window, name=f"conv{i}_window{window}")
    pooled = [keras.layers.GlobalMaxPooling1D(dtype=dtype)(
        conv(x, window, name=f"branch_window{window}")) for window in branches]
    document = (pooled[0] if len(pooled) == 1
                else keras.layers.Concatenate(dtype=dtype)(pooled))
    if document.dtype != "float32":  # a float32 model keeps exactly its former layers
        document = keras.layers.Activation("linear", dtype="float32", name="document")(document)
    return keras.Model(word_ids, document, name=name)


@register
class CnnClassifier(keras.Model):
    """features {"word_ids" [B,N], ...} -> sigmoid scores [B, num_outputs].

    Fit on (features, {"labels": [B, num_outputs], "label_ids": [B, num_true]}). loss='nce'
    trains with tf.nn.nce_loss on `label_ids`; loss='sigmoid' with the masked binary
    cross-entropy on `labels`. Validation (`evaluate`) always reports the masked binary
    cross-entropy, so `val_loss` is comparable between the two. Compile with an optimizer
    only: the model computes its own loss (sample weights are not supported).

    max_words: the padded length N of `word_ids [B, N]`, or None for any length.
    jit_encoder: run the encoder of each training step as an XLA-compiled function.
    jit_update: apply the optimizer's update as an XLA-compiled function (one replica only).
    encoder_dtype: the encoder's Keras dtype policy; None follows the global policy (float32
    unless set), "mixed_bfloat16" computes the convolutions in bfloat16 (oneDNN on CPUs).
    """

    def __init__(self, *, vocab_size, num_outputs, embed_dim=512, num_filters=128,
                 windows=(32, 16, (3, 4, 5)), dropout=0.5, max_norm=5.0, loss="nce",
                 num_sampled=5, num_true=1, max_words=None, trainable_embeddings=True,
                 embedding_matrix=None, jit_encoder=True, jit_update=True, encoder_dtype=None,
                 **kwargs):
        super().__init__(**kwargs)
        if loss not in ("nce", "sigmoid"):
            raise ValueError(f"loss must be 'nce' or 'sigmoid', not {loss!r}")
        if loss == "nce" and not 0 < num_sampled < num_outputs:
            raise ValueError(f"num_sampled={num_sampled} must be in [1, num_outputs) for NCE "
                             f"(num_outputs={num_outputs})")
        *stacked, branches = windows
        self.hyperparameters = dict(
            vocab_size=vocab_size, num_outputs=num_outputs, embed_dim=embed_dim,
            num_filters=num_filters, windows=[*stacked, list(branches)], dropout=dropout,
            max_norm=max_norm, loss=loss, num_sampled=num_sampled, num_true=num_true,
            max_words=max_words, trainable_embeddings=trainable_embeddings,
            jit_encoder=jit_encoder, jit_update=jit_update, encoder_dtype=encoder_dtype)
        self.encoder = multi_window_encoder(vocab_size, embed_dim, num_filters,
                                            (*stacked, tuple(branches)), max_words,
                                            embedding_matrix, trainable_embeddings,
                                            dtype=encoder_dtype)
        # float32 like the document vector and the output layer, whatever the global policy.
        self.dropout = keras.layers.Dropout(dropout, dtype="float32")
        # Kernel [dim, classes]: axis=0 bounds each class's weight vector. Keras' optimizers
        # apply the constraint after every update, also in the custom train_step below.
        self.classifier = keras.layers.Dense(
            num_outputs, kernel_constraint=keras.constraints.MaxNorm(max_norm, axis=0),
            dtype="float32", name="classifier")  # float32 scores and losses, whatever the policy
        self.classifier.build(self.encoder.output.shape)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.supports_jit = loss != "nce"
        self.built = True  # every weight exists now: saving and loading need no sample input

    def call(self, features, training=False):
        document = self.encoder(features["word_ids"], training=training)
        return tf.sigmoid(self.classifier(self.dropout(document, training=training)))

    def sample_negatives(self, label_ids):
        """The negative categories of one NCE step: tf.nn.nce_loss' default sampler, made a
        method so that a test can substitute a deterministic one."""
        hp = self.hyperparameters
        return tf.random.log_uniform_candidate_sampler(
            true_classes=label_ids, num_true=hp["num_true"], num_sampled=hp["num_sampled"],
            unique=True, range_max=hp["num_outputs"])

    def _encode_for_training(self, word_ids):
        """The encoder's forward pass of a training step: an XLA-compiled function call with
        `jit_encoder` while a step is being traced (eagerly, e.g. `run_eagerly`, plain ops;
        a bfloat16 encoder: plain ops, see the module docstring)."""
        def encode(ids):
            return self.encoder(ids, training=True)

        if (self.hyperparameters["jit_encoder"] and not tf.executing_eagerly()
                and not any(layer.compute_dtype == "bfloat16"
                            for layer in self.encoder.layers)):
            # A new function per trace of the step, not an attribute: nothing extra is tracked
            # or saved with the model.
            encode = tf.function(encode, jit_compile=True, autograph=False)
        return encode(word_ids)

    def _training_loss(self, features, targets):
        """Mean loss over this replica's documents."""
        hp = self.hyperparameters
        document = self.dropout(self._encode_for_training(features["word_ids"]), training=True)
        if hp["loss"] == "sigmoid":
            scores = tf.sigmoid(self.classifier(document))
            return tf.reduce_mean(masked_binary_crossentropy(targets["labels"], scores))
        # The pipeline gives documents without labels -1 ids: they cannot be NCE-trained, so
        # they get a placeholder id and no loss (but still count in the batch mean).
        label_ids = tf.cast(targets["label_ids"], tf.int64)
        labelled = tf.reduce_all(label_ids >= 0, axis=-1)
        label_ids = tf.maximum(label_ids, 0)
        per_document = tf.nn.nce_loss(
            weights=tf.transpose(self.classifier.kernel), biases=self.classifier.bias,
            labels=label_ids, inputs=document, num_sampled=hp["num_sampled"],
            num_classes=hp["num_outputs"], num_true=hp["num_true"],
            sampled_values=self.sample_negatives(label_ids), remove_accidental_hits=True)
        return tf.reduce_mean(tf.where(labelled, per_document, tf.zeros_like(per_document)))

    def train_step(self, data):
        features, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            loss = self._training_loss(features, targets)
            # Each replica's gradients are summed across replicas: divide so that the update
            # is the one of the mean loss over the global batch.
            scaled = loss / tf.distribute.get_strategy().num_replicas_in_sync
            scaled = self.optimizer.scale_loss(scaled)  # mixed-precision loss scaling, if any
        gradients = tape.gradient(scaled, self.trainable_variables)
        self._apply_gradients(gradients)
        return self._track(loss, features)

    def _apply_gradients(self, gradients):
        """The optimizer's update (Adam over every weight, then max-norm): with `jit_update`,
        one XLA-compiled function (optimizers.apply_compiled), which fuses the elementwise ops
        of the dense update of the [vocab, embed_dim] embedding and its two moments (plain TF
        ops make a pass over them per op); plain under a tf.distribute strategy, where the
        update all-reduces across replicas."""
        variables = self.trainable_variables
        if self.hyperparameters["jit_update"]:
            optimizers.apply_compiled(self.optimizer.apply, self.optimizer, gradients, variables)
        else:
            self.optimizer.apply_gradients(zip(gradients, variables))

    def test_step(self, data):
        features, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
        scores = self(features, training=False)
        loss = tf.reduce_mean(masked_binary_crossentropy(targets["labels"], scores))
        return self._track(loss, features)

    def _track(self, loss, features):
        self.loss_tracker.update_state(loss, sample_weight=tf.shape(features["word_ids"])[0])
        return {"loss": self.loss_tracker.result()}

    def inspect_model(self):
        """A functional model sharing these weights: features -> {"scores", "document"}.

        It takes the whole features dict of docs/architecture.md, `lang_id` unused: Keras pairs
        a dict of data with the model's inputs in sorted-key order, so an input left out would
        shift the others.
        """
        features = {"word_ids": keras.Input((self.hyperparameters["max_words"],),
                                            dtype="int32", name="word_ids"),
                    "lang_id": keras.Input((), dtype="int32", name="lang_id")}
        document = self.encoder(features["word_ids"])
        scores = keras.layers.Activation("sigmoid", name="scores", dtype="float32")(
            self.classifier(document))  # float32 even under mixed precision
        return keras.Model(features, {"scores": scores, "document": document},
                           name="cnn_inspect")

    @property
    def metrics(self):
        return [self.loss_tracker]

    def get_config(self):
        return {**super().get_config(), **self.hyperparameters}


def build(config, resources, matrix=None) -> Models:
    """The registry's builder: the CNN sized for the run (the paper's windows)."""
    model = CnnClassifier(vocab_size=resources.vocabulary.size,
                          num_outputs=resources.label_space.num_outputs,
                          embed_dim=config.embed_dim, num_filters=config.num_filters,
                          dropout=config.dropout, max_norm=config.max_norm, loss=config.loss,
                          num_sampled=config.num_sampled, num_true=config.num_true,
                          max_words=config.max_words, embedding_matrix=matrix,
                          trainable_embeddings=not config.freeze_embeddings)
    return Models(train=model, inspect=model.inspect_model())


def compile_classifier(model, config, resources) -> None:
    """Adam only: the model computes its own loss, and compiles its encoder and update itself
    (never Keras' whole-step XLA, see the module docstring)."""
    del resources
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
                  jit_compile=False)


def all_targets(targets, config, resources):
    """Both target kinds: NCE trains on `label_ids`, the sigmoid loss on `labels`."""
    del config, resources
    return targets


SPECS = {"cnn": ModelSpec(build, hierarchical=False, multilingual=True, language_agnostic=True,
                          compile=compile_classifier, targets=all_targets,
                          weighs_targets=False,
                          config_fields=("num_filters", "dropout", "max_norm", "loss",
                                         "num_sampled", "num_true"),
                          # The paper's system: one category index (and vocabulary) for all
                          # languages, so it can label languages it never trained on.
                          auto={"label_space": "shared", "vocab": "shared"})}
