"""`linear`: the wide branch alone, a TF-IDF n-gram linear model (models.wide) with the same
head as every model. What a linear n-gram baseline does, inside mlclf: one model for many
languages, the same export and raw-text serving. It is the recommended setting
(flags/recommended.cfg), which `--model=mhan_att` turns into the attention model with this
branch beside it.
"""
import keras

from mlclf.models import han, head as head_lib
from mlclf.models.registry import Models, ModelSpec


def build(config, resources, matrix=None) -> Models:
    """The registry's builder: the wide branch of `config` (`--wide_*` flags), sized for the
    run. `matrix` (word vectors) is unused: the model reads n-grams only."""
    del matrix
    head = head_lib.for_run(config, resources)
    inputs = han.model_inputs(config.max_sentences, config.max_words, wide=True)
    scores, logits = head_lib.scores(None, inputs, head, with_logits=True)
    return Models(train=keras.Model(inputs, scores, name="linear"),
                  inspect=keras.Model(inputs, {"scores": scores, "document": logits},
                                      name="linear_inspect"))


# Nothing per language but the n-gram copies, which a new language simply goes without. Read
# by sentence (hierarchical), as the other models are: word n-grams stay within a sentence,
# and the words tokenised for them serve it too.
SPECS = {"linear": ModelSpec(build, hierarchical=True, multilingual=True,
                             language_agnostic=True, wide="always",
                             outputs=("sigmoid", "softmax"),
                             auto={"label_space": "shared"})}
