"""Tiny Keras models shared by the attribution tests and benchmarks.

- :func:`reference_model` rebuilds the CNNs of ``tests/data/reference/tangermeme_*.npz`` (weights
  in Keras layout, attributions computed by tangermeme) from their ``architecture`` JSON.
- :func:`toy_model` builds one small random model per DeepLIFT rule (every activation, batch
  norm, dilation, pooling kinds, global pooling, Add/Concatenate branches), each with a separate
  ``logits`` layer followed by an ``output`` activation like seqexplain's own models.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
from keras import layers

#: names accepted by :func:`toy_model`
TOY_MODELS = ("relu", "elu", "sigmoid", "tanh", "softplus", "exponential", "gelu", "silu",
              "leaky_relu", "batchnorm_dilated", "avgpool", "maxpool", "global_max",
              "global_avg", "add_concat", "dense_activations", "prelu_layers", "multi_output",
              "smooth_mix", "norm_softmax")


def random_onehot(n: int, length: int, channels: int = 4, seed: int = 0) -> np.ndarray:
    """Random one-hot sequences, float32, shape (n, length, channels)."""
    idx = np.random.default_rng(seed).integers(channels, size=(n, length))
    return np.eye(channels, dtype=np.float32)[idx]


def load_reference(path: str | Path) -> tuple[dict, dict[str, np.ndarray]]:
    """``(architecture, arrays)`` of a tangermeme reference file."""
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    return json.loads(str(arrays.pop("architecture"))), arrays


def reference_model(path: str | Path, global_pool_as_pool: bool = False) -> keras.Model:
    """Rebuild the Keras model described by a reference file's ``architecture`` and weights.

    Parameters
    ----------
    path : a ``tangermeme_*.npz`` file.
    global_pool_as_pool : write GlobalMax/AveragePooling1D as a pooling layer over the whole
        length + Flatten (the same numbers). shap's DeepExplainer applies its max-pool rule to
        the pooling op but not to the ``reduce_max`` of GlobalMaxPooling1D.

    Returns
    -------
    keras.Model
        A Sequential model, input (None, 200, 4), output (None, T) logits.
    """
    arch, arrays = load_reference(path)
    length, channels = arch["input_shape"]
    model = keras.Sequential([keras.Input((length, channels))], name=Path(path).stem)
    for spec in arch["layers"]:
        kind, name = spec["type"], spec["name"]
        if kind == "Conv1D":
            layer = layers.Conv1D(spec["filters"], spec["kernel_size"],
                                  dilation_rate=spec.get("dilation_rate", 1), padding="valid",
                                  activation=spec.get("activation"), name=name)
        elif kind in ("MaxPooling1D", "AveragePooling1D"):
            layer = getattr(layers, kind)(pool_size=spec["pool_size"], padding="valid",
                                          name=name)
        elif kind in ("GlobalMaxPooling1D", "GlobalAveragePooling1D"):
            if global_pool_as_pool:
                pool = layers.MaxPooling1D if "Max" in kind else layers.AveragePooling1D
                model.add(pool(pool_size=model.output_shape[1], name=name))
                layer = layers.Flatten(name=f"{name}_flatten")
            else:
                layer = getattr(layers, kind)(name=name)
        elif kind == "Dense":
            layer = layers.Dense(spec["units"], activation=spec.get("activation"), name=name)
        else:
            raise ValueError(f"reference architecture: unknown layer type {kind!r}")
        model.add(layer)
    for layer in model.layers:
        key = f"weights/{layer.name}/kernel"
        if key in arrays:
            layer.set_weights([arrays[key], arrays[f"weights/{layer.name}/bias"]])
    return model


def _head(x, n_outputs: int = 1, activation: str = "sigmoid"):
    logits = layers.Dense(n_outputs, name="logits")(x)
    return layers.Activation(activation, name="output")(logits)


def toy_model(kind: str, length: int = 40, channels: int = 4, seed: int = 0) -> keras.Model:
    """A small random model exercising one DeepLIFT rule; output = sigmoid(logits).

    Weights are drawn with a fixed seed and scaled so that activations are neither all dead nor
    saturated on random one-hot input.
    """
    keras.utils.set_random_seed(seed)
    inp = keras.Input((length, channels), name="sequence")
    if kind in ("relu", "elu", "sigmoid", "tanh", "softplus", "exponential", "gelu", "silu",
                "leaky_relu"):
        x = layers.Conv1D(6, 5, padding="same", name="conv1")(inp)
        # exponential blows up on large pre-activations; keep it small
        scale = 0.3 if kind == "exponential" else 1.0
        x = layers.Rescaling(scale, name="scale")(x)
        x = layers.Activation(kind, name="act1")(x)
        x = layers.MaxPooling1D(4, name="pool1")(x)
        x = layers.Conv1D(4, 3, padding="valid", activation=kind, name="conv2")(x)
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(8, activation=kind, name="dense1")(x)
        out = _head(x)
    elif kind == "batchnorm_dilated":
        x = layers.Conv1D(6, 3, dilation_rate=2, padding="same", use_bias=False, name="conv1")(inp)
        x = layers.BatchNormalization(name="bn1")(x)
        x = layers.Activation("relu", name="act1")(x)
        x = layers.Dropout(0.3, name="drop1")(x)
        x = layers.Conv1D(5, 3, dilation_rate=4, padding="valid", name="conv2")(x)
        x = layers.BatchNormalization(name="bn2")(x)
        x = layers.ReLU(name="act2")(x)
        x = layers.GlobalAveragePooling1D(name="gap")(x)
        out = _head(x)
    elif kind in ("avgpool", "maxpool"):
        pool = layers.AveragePooling1D if kind == "avgpool" else layers.MaxPooling1D
        x = layers.Conv1D(6, 7, padding="same", activation="relu", name="conv1")(inp)
        x = pool(3, strides=2, padding="valid", name="pool1")(x)
        x = layers.Conv1D(6, 3, padding="same", activation="relu", name="conv2")(x)
        x = pool(2, name="pool2")(x)
        x = layers.Flatten(name="flatten")(x)
        out = _head(x)
    elif kind in ("global_max", "global_avg"):
        glob = layers.GlobalMaxPooling1D if kind == "global_max" else layers.GlobalAveragePooling1D
        x = layers.Conv1D(8, 9, padding="valid", activation="relu", name="conv1")(inp)
        x = glob(name="global_pool")(x)
        x = layers.Dense(6, activation="relu", name="dense1")(x)
        out = _head(x)
    elif kind == "add_concat":
        a = layers.Conv1D(6, 5, padding="same", name="conv_a")(inp)
        b = layers.Conv1D(6, 3, padding="same", name="conv_b")(inp)
        s = layers.Activation("relu", name="act_sum")(layers.Add(name="add")([a, b]))
        r = layers.Activation("tanh", name="act_b")(b)
        x = layers.Concatenate(name="concat")([s, r, a])
        x = layers.MaxPooling1D(5, name="pool")(x)
        x = layers.Flatten(name="flatten")(x)
        out = _head(x)
    elif kind == "dense_activations":
        # built-in activations of Conv1D/Dense, softmax output
        x = layers.Conv1D(6, 5, activation="relu", name="conv1")(inp)
        x = layers.AveragePooling1D(4, name="pool1")(x)
        x = layers.Flatten(name="flatten")(x)
        out = layers.Dense(3, activation="softmax", name="dense_out")(x)
    elif kind == "prelu_layers":
        x = layers.Conv1D(6, 5, name="conv1")(inp)
        x = layers.PReLU(name="prelu")(x)
        x = layers.Conv1D(6, 3, name="conv2")(x)
        x = layers.ELU(name="elu")(x)
        x = layers.LeakyReLU(negative_slope=0.1, name="lrelu")(x)
        x = layers.GlobalMaxPooling1D(name="gmp")(x)
        out = _head(x)
    elif kind == "smooth_mix":
        # batch norm and every saturating activation in one network (the case where float32
        # secants lose their digits)
        x = layers.Conv1D(8, 5, padding="same", use_bias=False, name="conv1")(inp)
        x = layers.BatchNormalization(name="bn1")(x)
        x = layers.ELU(name="elu")(x)
        x = layers.Conv1D(6, 3, padding="same", activation="tanh", name="conv2")(x)
        x = layers.MaxPooling1D(2, name="pool1")(x)
        x = layers.Conv1D(6, 3, activation="softplus", name="conv3")(x)
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(8, activation="sigmoid", name="dense1")(x)
        out = _head(x)
    elif kind == "norm_softmax":
        # layer and RMS normalisation and an in-network softmax: attention
        # pooling over positions
        x = layers.Conv1D(8, 5, padding="same", name="conv1")(inp)
        x = layers.LayerNormalization(name="ln1")(x)
        x = layers.Activation("relu", name="act1")(x)
        x = layers.Conv1D(6, 3, padding="same", name="conv2")(x)
        x = layers.RMSNormalization(name="rms2")(x)
        w = layers.Softmax(axis=1, name="attend")(layers.Conv1D(1, 1, name="score")(x))
        x = layers.GlobalAveragePooling1D(name="gap")(layers.Multiply(name="weigh")([x, w]))
        out = _head(x)
    elif kind == "multi_output":
        x = layers.Conv1D(8, 7, activation="relu", name="conv1")(inp)
        x = layers.MaxPooling1D(4, name="pool1")(x)
        x = layers.Flatten(name="flatten")(x)
        out = _head(x, n_outputs=3, activation="softmax")
    else:
        raise ValueError(f"unknown toy model {kind!r}; choose from {TOY_MODELS}")
    model = keras.Model(inp, out, name=f"toy_{kind}")
    # Random-normal-ish weights that keep units alive; BN statistics made non-trivial.
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        new = []
        weights = layer.get_weights()
        for i, w in enumerate(weights):
            if isinstance(layer, layers.BatchNormalization):
                # gamma, beta, moving mean, moving variance: scale and variance positive
                positive = i in (0, len(weights) - 1)
                new.append(rng.uniform(0.5, 1.5, w.shape).astype(np.float32) if positive
                           else rng.normal(0, 0.5, w.shape).astype(np.float32))
            elif isinstance(layer, layers.PReLU):
                new.append(rng.uniform(0.05, 0.3, w.shape).astype(np.float32))
            else:
                fan_in = int(np.prod(w.shape[:-1])) if w.ndim > 1 else 1
                sd = 1.0 / np.sqrt(max(fan_in, 1)) * (1.5 if w.ndim > 1 else 0.3)
                new.append(rng.normal(0, sd, w.shape).astype(np.float32))
        if new:
            layer.set_weights(new)
    return model


def float64_copy(model: keras.Model) -> keras.Model:
    """The same model (same weights, same graph) computing in float64: the oracle against
    which float32 rounding of attributions is measured."""
    def clone(layer):
        return layer.__class__.from_config({**layer.get_config(), "dtype": "float64"})

    inp = keras.Input(model.inputs[0].shape[1:], dtype="float64")
    copy = keras.models.clone_model(model, input_tensors=inp, clone_function=clone)
    copy.set_weights([w.astype(np.float64) for w in model.get_weights()])
    return copy


def basset_like(length: int = 600, filters: int = 128, kernels: tuple[int, ...] = (19, 11, 7),
                pools: tuple[int, ...] = (3, 4, 4), dense: int = 256, n_outputs: int = 1,
                seed: int = 0) -> keras.Model:
    """A Basset-like CNN (Kelley et al. 2016): conv blocks (Conv1D "same" → batch norm → ReLU →
    max pooling), Flatten, Dense + ReLU, linear outputs; random weights, fixed seed."""
    keras.utils.set_random_seed(seed)
    inp = keras.Input((length, 4), name="sequence")
    x = inp
    for i, (k, p) in enumerate(zip(kernels, pools), 1):
        x = layers.Conv1D(filters, k, padding="same", name=f"conv{i}")(x)
        x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.ReLU(name=f"relu{i}")(x)
        x = layers.MaxPooling1D(p, name=f"pool{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense, activation="relu", name="dense1")(x)
    out = layers.Dense(n_outputs, name="logits")(x)
    model = keras.Model(inp, out, name="basset_like")
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape).astype(np.float32),
                               rng.normal(0, 0.2, beta.shape).astype(np.float32),
                               rng.normal(0, 0.2, mean.shape).astype(np.float32),
                               rng.uniform(0.5, 1.5, var.shape).astype(np.float32)])
    return model
