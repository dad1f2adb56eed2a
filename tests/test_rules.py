"""The DeepLIFT rule table: a user's layer has no rule until ``sx.register_rule`` gives it
one, and then DeepSHAP through it is complete and equals a float64 NumPy DeepLIFT."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import assert_close, batch_scale, contribution_scale
from toy_models import random_onehot

import seqexplain as sx
from seqexplain.attribution import engine
from seqexplain.attribution.methods import deep_shap, explained_output
from seqexplain.errors import SeqexplainError

LENGTH, KERNEL, FILTERS = 12, 3, 3


class Scale(keras.layers.Layer):
    """A custom affine layer: x · w + b per channel."""

    def build(self, shape):
        self.w = self.add_weight(shape=(shape[-1],), initializer=keras.initializers.RandomUniform(
            0.5, 1.5, seed=1))
        self.b = self.add_weight(shape=(shape[-1],), initializer=keras.initializers.RandomUniform(
            -0.2, 0.2, seed=2))

    def call(self, x):
        return x * self.w + self.b


class SoftKnee(keras.layers.Layer):
    """A custom element-wise nonlinearity: softplus(x) - 0.3 x."""

    def call(self, x):
        return keras.ops.softplus(x) - 0.3 * x


class Gated(keras.layers.Layer):
    """x · sigmoid(x), given a rule as a callable (product of x and its rescaled sigmoid)."""

    def call(self, x):
        return x * keras.ops.sigmoid(x)


def gated_rule(layer, args, kwargs, pairs):
    return pairs.product(args[0], pairs.rescale(args[0], tf.sigmoid))


def build(activation=SoftKnee) -> keras.Model:
    keras.utils.set_random_seed(3)
    inp = keras.Input((LENGTH, 4))
    x = keras.layers.Conv1D(FILTERS, KERNEL, name="conv")(inp)
    x = Scale(name="scale")(x)
    x = activation(name="knee")(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(inp, keras.layers.Dense(1, name="dense")(x))


@pytest.fixture
def fresh_rules(monkeypatch):
    """A rule table without this test's registrations afterwards."""
    monkeypatch.setattr(engine, "USER_RULES", {})


X = random_onehot(3, LENGTH, seed=8)
REFS = random_onehot(4, LENGTH, seed=9)


def test_custom_layers_are_refused_until_registered(fresh_rules):
    model = build()
    with pytest.raises(SeqexplainError) as err:
        sx.attribute(model, X, method="deepshap", references=REFS)
    message = str(err.value)
    assert "\n" not in message and "'scale'" in message and "register_rule" in message
    sx.register_rule(Scale, "linear")
    with pytest.raises(SeqexplainError, match="'knee'"):
        sx.attribute(model, X, method="deepshap", references=REFS)
    with pytest.raises(SeqexplainError, match="unknown rule 'smooth'"):
        sx.register_rule(SoftKnee, "smooth")


def numpy_deepshap(model: keras.Model, X: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """Observed DeepSHAP contributions of the model of :func:`build`, in float64: linear
    layers pass the gradient, the knee gets the rescale multiplier, averaged over refs."""
    kernel, bias = (np.asarray(v, np.float64) for v in model.get_layer("conv").weights)
    w, b = (np.asarray(v, np.float64) for v in model.get_layer("scale").weights)
    dense = np.asarray(model.get_layer("dense").weights[0], np.float64)[:, 0]
    out_len = LENGTH - KERNEL + 1

    def pre(x):  # the knee's input, (out_len, FILTERS)
        h = np.stack([np.einsum("jc,jcf->f", x[t:t + KERNEL], kernel) for t in range(out_len)])
        return (h + bias) * w + b

    def knee(z):
        return np.log1p(np.exp(z)) - 0.3 * z

    out = np.zeros(X.shape)
    for i, x in enumerate(X.astype(np.float64)):
        for r in refs.astype(np.float64):
            zx, zr = pre(x), pre(r)
            dz = zx - zr
            slope = 1 / (1 + np.exp(-zx)) - 0.3
            secant = np.where(np.abs(dz) < 1e-6, slope,
                              (knee(zx) - knee(zr)) / np.where(dz == 0, 1, dz))
            g = dense.reshape(out_len, FILTERS) * secant * w   # multiplier at the conv output
            m = np.zeros((LENGTH, 4))
            for t in range(out_len):
                m[t:t + KERNEL] += np.einsum("f,jcf->jc", g[t], kernel)
            # the observed base carries the position's whole (x - r)·m
            out[i] += ((x - r) * m).sum(axis=-1, keepdims=True) * x
    return out / len(refs)


def test_registered_layers_follow_their_rules(fresh_rules):
    model = build()
    sx.register_rule(Scale, "linear")
    sx.register_rule(SoftKnee, "elementwise")
    scores, delta = deep_shap(model, X, references=REFS, return_delta=True)
    y_x = explained_output(model, X)
    y_r = explained_output(model, REFS)
    scale = batch_scale(y_x, y_r, contribution_scale(scores))
    # completeness: contributions sum to f(x) - mean f(refs)
    assert_close(scores.sum(axis=(1, 2)), y_x - y_r.mean(), scale, what="completeness")
    assert_close(delta, 0, scale, what="delta")
    # the float32 secant of a user's layer: within 1e-4 of the contribution scale
    assert_close(scores, numpy_deepshap(model, X, REFS), scale, rel=1e-4, what="oracle")


def test_a_callable_rule_is_complete(fresh_rules):
    model = build(Gated)
    sx.register_rule(Scale, "linear")
    sx.register_rule(Gated, gated_rule)
    scores = deep_shap(model, X, references=REFS)
    y_x, y_r = explained_output(model, X), explained_output(model, REFS)
    assert_close(scores.sum(axis=(1, 2)), y_x - y_r.mean(),
                 batch_scale(y_x, y_r, contribution_scale(scores)), what="completeness")
