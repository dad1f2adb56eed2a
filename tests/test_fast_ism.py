"""Fast ISM (recompute by windows) is exact: equal to naive ISM on every model kind."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from helpers import assert_close, batch_scale
from keras import layers
from toy_models import TOY_MODELS, basset_like, random_onehot, toy_model

from seqexplain.attribution import ism
from seqexplain.attribution.fast_ism import plan
from seqexplain.attribution.logits import logit_model


def _naive(model, X, target=0):
    """Every substitution written out and predicted by the whole model (an oracle independent
    of both ISM code paths)."""
    logits = logit_model(model)
    n, length, channels = X.shape
    mutants = np.repeat(X[:, None, None], length, 1).repeat(channels, 2)  # (n, L, C, L, C)
    for p in range(length):
        mutants[:, p, :, p, :] = np.eye(channels, dtype=X.dtype)
    y = np.asarray(logits(mutants.reshape(-1, length, channels), training=False)
                   ).reshape(n, length, channels, -1)[..., target]
    wild = np.asarray(logits(X, training=False)).reshape(n, -1)[:, target]
    return y - wild[:, None, None], batch_scale(y, wild)


def _check(model, X, target=0, windowed=True, batched=False):
    expected, scale = _naive(model, X, target)
    fast = ism(model, X, target=target)
    assert_close(fast, expected, scale, what=f"fast ISM of {model.name}")
    if batched:  # the batched path has its own tests (test_attribution.py); here, spot checks
        assert_close(ism(model, X, target=target, fast=False), fast, scale,
                     what=f"batched vs fast ISM of {model.name}")
    assert (plan(logit_model(model)) is not None) == windowed


@pytest.mark.parametrize("kind", TOY_MODELS)
def test_fast_ism_equals_naive_on_toy_models(kind):
    X = random_onehot(2, 40, seed=11)
    X[1, 3] = 0.0  # an N row: every channel is a substitution
    _check(toy_model(kind), X, target=1 if kind == "multi_output" else 0)


def test_fast_ism_basset_like():
    model = basset_like(length=90, filters=6, kernels=(7, 5, 3), pools=(3, 2, 2), dense=8,
                        n_outputs=2)
    X = random_onehot(2, 90, seed=12)
    _check(model, X, target=1, batched=True)
    assert plan(model)[:4] == ["conv1", "bn1", "relu1", "pool1"]


def _residual_dilated(length=64):
    """Dilated "same"/causal/strided convolutions, residual Add, channel Concatenate, a
    position-wise Dense and average pooling that leaves positions out at the end."""
    keras.utils.set_random_seed(3)
    inp = keras.Input((length, 4))
    x = layers.Conv1D(6, 5, padding="same", activation="relu")(inp)
    for rate in (2, 4):
        y = layers.Conv1D(6, 3, dilation_rate=rate, padding="same")(x)
        y = layers.BatchNormalization()(y)
        y = layers.Activation("gelu")(y)
        x = layers.Add()([x, y])
    c = layers.Conv1D(3, 4, dilation_rate=3, padding="causal", activation="tanh")(x)
    x = layers.Concatenate()([x, c])
    x = layers.Dense(5, activation="elu")(x)                 # position-wise
    x = layers.Conv1D(5, 4, strides=3, padding="valid")(x)  # strided
    x = layers.AveragePooling1D(3, strides=2)(x)             # overlapping windows
    x = layers.GlobalAveragePooling1D()(x)
    out = layers.Dense(2)(x)
    model = keras.Model(inp, out, name="residual_dilated")
    rng = np.random.default_rng(3)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(np.float32)
                               for w in layer.get_weights()])
    return model


def test_fast_ism_dilated_residual():
    model = _residual_dilated()
    _check(model, random_onehot(2, 64, seed=13), target=1, batched=True)
    kinds = plan(model)
    assert len(kinds) == len(model.layers) - 2  # every layer but the input and the last Dense


def test_fast_ism_valid_residual_crops_and_profile_scalar():
    """BPNet/ChromBPNet's residual blocks of valid convolutions crop the skip connection
    (Cropping1D, windowed); a profile scalar's ISM (weights of the sequence mutated) runs by
    windows too, and equals the change of the scalar computed by hand for every mutant."""
    keras.utils.set_random_seed(5)
    inp = keras.Input((48, 4))
    h = layers.Conv1D(4, 5, activation="relu", name="first")(inp)
    c = layers.Conv1D(4, 3, dilation_rate=2, activation="relu", name="dilated")(h)
    h = layers.Add(name="residual")([c, layers.Cropping1D(2, name="crop")(h)])
    profile = layers.Flatten(name="profile")(layers.Cropping1D((3, 5))(layers.Conv1D(1, 5)(h)))
    model = keras.Model(inp, [profile, layers.Dense(1, name="counts")(
        layers.GlobalAveragePooling1D()(h))])
    assert ["crop", "residual"] == [n for n in plan(keras.Model(inp, profile))
                                    if n in ("crop", "residual")]
    X = random_onehot(2, 48, seed=3)
    n, length, channels = X.shape
    mutants = np.repeat(X[:, None, None], length, 1).repeat(channels, 2)
    for p in range(length):
        mutants[:, p, :, p, :] = np.eye(channels, dtype=X.dtype)
    logits = np.asarray(model(mutants.reshape(-1, length, channels))[0], np.float64)
    own = np.asarray(model(X)[0], np.float64)
    w = np.exp(own - own.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    centred = logits - logits.mean(axis=1, keepdims=True)
    g = (centred.reshape(n, length * channels, -1) * w[:, None]).sum(-1)
    g_own = (w * (own - own.mean(axis=1, keepdims=True))).sum(1)
    expected = (g - g_own[:, None]).reshape(n, length, channels)
    assert_close(ism(model, X, target="profile"), expected, batch_scale(g, g_own),
                 what="fast ISM of the profile scalar")
    from seqexplain.attribution.methods import _fast_ism_step, _Readout

    readout = _Readout(model, ["profile"], "logit", X)
    assert _fast_ism_step(readout, ("check",), X.shape[1:], model) is not None


class _Subclassed(keras.Model):
    def __init__(self):
        super().__init__(name="subclassed")
        self.conv = layers.Conv1D(4, 5, activation="relu")
        self.flat = layers.Flatten()
        self.out = layers.Dense(1)

    def call(self, x):
        return self.out(self.flat(self.conv(x)))


def test_fast_ism_falls_back():
    X = random_onehot(2, 30, seed=14)
    # no windowed layer: the first layer mixes all positions
    keras.utils.set_random_seed(4)
    flat = keras.Sequential([keras.Input((30, 4)), layers.Flatten(), layers.Dense(3, "relu"),
                             layers.Dense(1)], name="flat_first")
    _check(flat, X, windowed=False, batched=True)
    # a subclassed model has no graph to window
    sub = _Subclassed()
    sub(X)
    expected = ism(sub, X, fast=False, output="prob")
    np.testing.assert_array_equal(ism(sub, X, output="prob"), expected)
    assert plan(sub) is None
    # a layer without a window rule ('same' pooling) in the middle: windows stop there
    keras.utils.set_random_seed(5)
    mixed = keras.Sequential([keras.Input((30, 4)), layers.Conv1D(4, 5, activation="relu"),
                              layers.MaxPooling1D(3, padding="same"),
                              layers.Conv1D(3, 3, activation="relu"), layers.Flatten(),
                              layers.Dense(1)], name="same_pooling")
    _check(mixed, X)
    assert plan(mixed) == [mixed.layers[0].name]
