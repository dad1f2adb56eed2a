"""Small Keras rebuilds of published genomics architectures (random weights, tiny sizes) —
the models users bring. Shared by ``tests/test_architectures.py`` and the docs.

=============  ===================================================================  ==========
name           after                                                                outputs
=============  ===================================================================  ==========
deepbind       DeepBind (Alipanahi 2015): conv, global max pool, dense              (None, 1)
basset         Basset (Kelley 2016): 3 conv blocks with batch norm, 12 sigmoid      (None, 12)
deepsea        DeepSEA (Zhou & Troyanskaya 2015): conv/max-pool stack, multi-task    (None, 5)
danq           DanQ (Quang & Xie 2016): conv + bidirectional LSTM                   (None, 3)
bpnet          BPNet (Avsec 2021): dilated residual convs, profile + counts heads    (None, L, 2),
                                                                                    (None, 2)
gated          gated convolution: tanh(conv) × sigmoid(conv) (WaveNet/GLU style)    (None, 1)
attention      conv + multi-head self-attention (Enformer-like, tiny)               (None, 1)
=============  ===================================================================  ==========
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

#: names accepted by :func:`architecture`
ARCHITECTURES = ("deepbind", "basset", "deepsea", "danq", "bpnet", "gated", "attention")
#: architectures the DeepLIFT/DeepSHAP engine has no rule for (recurrent layers)
NO_DEEPLIFT = ("danq",)


def architecture(name: str, length: int = 100, seed: int = 0) -> keras.Model:
    """A small random-weight Keras model of architecture ``name``, input (None, length, 4)."""
    keras.utils.set_random_seed(seed)
    inp = keras.Input((length, 4), name="sequence")
    if name == "deepbind":
        h = layers.Conv1D(4, 7, activation="relu")(inp)
        h = layers.GlobalMaxPooling1D()(h)
        h = layers.Dense(8, activation="relu")(h)
        out = layers.Dense(1, name="logit")(h)
    elif name == "basset":
        h = inp
        for filters, width, pool in ((8, 7, 3), (8, 5, 3), (8, 3, 2)):
            h = layers.Conv1D(filters, width, padding="same")(h)
            h = layers.BatchNormalization()(h)
            h = layers.ReLU()(h)
            h = layers.MaxPooling1D(pool)(h)
        h = layers.Flatten()(h)
        h = layers.Dense(16, activation="relu")(h)
        h = layers.Dropout(0.3)(h)
        out = layers.Dense(12, activation="sigmoid", name="tasks")(h)
    elif name == "deepsea":
        h = layers.Conv1D(8, 8, activation="relu")(inp)
        h = layers.MaxPooling1D(4)(h)
        h = layers.Dropout(0.2)(h)
        h = layers.Conv1D(8, 8, activation="relu")(h)
        h = layers.MaxPooling1D(4)(h)
        h = layers.Flatten()(h)
        h = layers.Dense(16, activation="relu")(h)
        out = layers.Dense(5, activation="sigmoid", name="tasks")(h)
    elif name == "danq":
        h = layers.Conv1D(8, 13, activation="relu")(inp)
        h = layers.MaxPooling1D(4)(h)
        h = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(h)
        h = layers.Flatten()(h)
        h = layers.Dense(8, activation="relu")(h)
        out = layers.Dense(3, activation="sigmoid", name="tasks")(h)
    elif name == "bpnet":
        h = layers.Conv1D(8, 11, padding="same", activation="relu", name="stem")(inp)
        for d in (2, 4, 8):
            c = layers.Conv1D(8, 3, dilation_rate=d, padding="same", activation="relu",
                              name=f"dil{d}")(h)
            h = layers.Add(name=f"res{d}")([h, c])
        profile = layers.Conv1D(2, 9, padding="same", name="profile")(h)
        pooled = layers.GlobalAveragePooling1D()(h)
        counts = layers.Dense(2, name="counts")(pooled)
        model = keras.Model(inp, [profile, counts], name="bpnet")
        _as_if_trained(model, seed)
        return model
    elif name == "gated":
        h = layers.Conv1D(8, 7, padding="same", activation="relu")(inp)
        a = layers.Conv1D(8, 5, padding="same", activation="tanh", name="signal")(h)
        b = layers.Conv1D(8, 5, padding="same", activation="sigmoid", name="gate")(h)
        g = layers.Multiply(name="gating")([a, b])
        g = layers.MaxPooling1D(length)(g)  # global max as a pooling op (shap has its rule)
        g = layers.Flatten()(g)
        out = layers.Dense(1, name="logit")(g)
    elif name == "attention":
        h = layers.Conv1D(8, 7, padding="same", activation="relu")(inp)
        h = layers.MaxPooling1D(4)(h)
        a = layers.MultiHeadAttention(num_heads=2, key_dim=4)(h, h)
        h = layers.Add()([h, a])
        h = layers.GlobalAveragePooling1D()(h)
        out = layers.Dense(1, name="logit")(h)
    else:
        raise ValueError(f"unknown architecture {name!r}; choose from {ARCHITECTURES}")
    model = keras.Model(inp, out, name=name)
    _as_if_trained(model, seed)
    return model


def _as_if_trained(model: keras.Model, seed: int) -> None:
    """Non-zero biases and non-trivial batch norm statistics, as after training (Keras
    initialises biases to zero, which makes a ReLU network linear along every path from the
    zero baseline and hides the kinks the attribution rules are about)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        for weight in getattr(layer, "weights", []):
            if weight.path.endswith("bias"):
                weight.assign(rng.normal(0, 0.1, weight.shape).astype("float32"))
        if isinstance(layer, layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape), rng.normal(0, 0.1, beta.shape),
                               rng.normal(0, 0.2, mean.shape), rng.uniform(0.5, 2, var.shape)])
