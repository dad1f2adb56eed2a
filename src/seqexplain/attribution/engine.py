"""Native DeepLIFT (rescale rule) / DeepSHAP engine for Keras 3 models on the TensorFlow backend.

How it works
------------
A batch of ``b`` sequences ``x`` and their ``b * R`` references ``r`` (R per sequence, stored
sequence-major) run through the model *as one stacked batch* ``t = [x; r]`` of ``b + b*R`` rows.
The graph is interpreted layer by layer (Sequential and Functional models, nested models too):

- linear layers (convolutions incl. dilation, dense, average pooling, batch norm and dropout at
  inference, flatten/reshape, Add/Concatenate, ...) are called as they are: their gradient does
  not depend on their input, so it is already the DeepLIFT multiplier;
- element-wise nonlinearities (``Activation`` layers, the built-in ``activation=`` of
  Conv/Dense layers, ReLU/LeakyReLU/ELU/PReLU layers) become a ``tf.custom_gradient`` op whose
  gradient is the rescale multiplier ``(f(x) - f(r)) / (x - r)``, or ``f'(x)`` where
  ``|x - r| < 1e-6`` (the threshold tangermeme uses). For every activation but ReLU the
  secant is evaluated in float64 from the layer's float32 inputs: in float32, ``f(x) - f(r)``
  of a curved or saturated activation keeps too few digits when ``x - r`` is small, and the
  chain rule spreads that rounding over the input positions (the sum stays right, its split
  does not). Float32 DeepSHAP is thereby within 2e-6 of the largest attribution of the same
  computation in float64 on every toy model (1e-4 with a float32 secant);
- max pooling (local and global) gets the DeepSHAP max-pool rule of shap's DeepExplainer
  (``shap/explainers/_deep/deep_tf.py``, handler ``maxpool``): route ``g * (max(x,r)_out - r_out)``
  through the argmax of ``x`` and ``g * (x_out - max(x,r)_out)`` through the argmax of ``r``, and
  divide by ``x_in - r_in``. Where ``|x_in - r_in| < 1e-7`` the multiplier is the plain
  max-pool gradient at ``x``, as in tangermeme (shap uses 0 there); this only changes the
  multipliers of inputs that equal their reference — hypothetical contributions, never sums.
  Pooling whose windows tile the input (stride = pool size, "valid"; global pooling) is
  computed by one fused kernel from each window's argmax; other pooling is routed through the
  pooling op's own gradient.

- ``Multiply`` of input-dependent tensors (gating) gets the Shapley rule for products, as
  shap's DeepExplainer applies it to ``Mul`` (handler ``nonlinearity_2d``): the change
  ``ab - a'b'`` is split exactly as ``(a - a')·(b + b')/2 + (b - b')·(a + a')/2``; an einsum of
  two input-dependent tensors (linear in each) gets the same rule in its bilinear form;
- ``MultiHeadAttention`` (unmasked, inference) is decomposed: linear Q/K/V/output
  projections, bilinear ``einsum(k, q)`` and ``einsum(attention, v)``, and the softmax as
  ``exp(z - c)`` (rescale) times ``1 / sum`` (rescale) by the product rule — each step exact,
  so completeness holds. shap's DeepExplainer has no Einsum handler; tangermeme's
  DeepLIFT (2026) leaves attention out;
- seqexplain's profile scalar (:mod:`.multi_output`) holds its softmax weights at the
  explained sequence for every reference row, which makes it linear in the profile logits.

Every rule uses the ``x`` rows of its input (computed once per sequence, not once per reference)
broadcast against the ``r`` rows, and returns a zero gradient to the ``x`` rows. The gradient of
``sum(output[b:, target])`` with respect to the ``r`` rows of ``t`` is then, for every
(sequence, reference) pair, the DeepLIFT multiplier ``m`` of the input, and
``sum((x - r) * m) = output(x) - output(r)`` (completeness) holds up to float rounding.

The whole step — interpretation, backward pass and the reduction over references to
hypothetical contributions — is one ``tf.function`` with a dynamic batch dimension, traced once
per (model, target, R, input shape) and cached on the model. The element-wise multiplier
arithmetic is fused by XLA (``SEQEXPLAIN_XLA=0`` turns that off).

Rules are looked up in one table (:func:`rule_for`): by the class name of Keras's own layers
(:data:`LAYER_RULES`, :data:`OP_RULES`), and by class for the layers a user registered with
:func:`register_rule`; a layer of any other class (a subclass of ``Conv1D`` with its own
``call``, a ``Lambda``) has no rule.

A layer without a rule raises :class:`~seqexplain.errors.SeqexplainError` naming it, before any
tracing: the engine never returns numbers it cannot vouch for.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from .. import batching
from ..batching import map_batches
from ..errors import SeqexplainError

#: fuse the element-wise multiplier arithmetic with XLA (several times faster on CPU); set
#: the environment variable SEQEXPLAIN_XLA=0 where XLA is unavailable
USE_XLA = os.environ.get("SEQEXPLAIN_XLA", "1") != "0"
#: |x - r| below which the rescale rule falls back to the plain gradient f'(x) (tangermeme's)
RESCALE_EPS = 1e-6
#: |x_in - r_in| below which the max-pool multiplier is 0 (shap's and tangermeme's)
MAXPOOL_EPS = 1e-7

# Layers whose output is a linear (affine) function of their inputs at inference time; their
# own gradient is the DeepLIFT multiplier. Those with an ``activation`` attribute (Conv, Dense)
# are linear once it is split off and handled by the rescale rule.
LINEAR_LAYERS = frozenset({
    "InputLayer", "Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose",
    "Conv2DTranspose", "Conv3DTranspose", "SeparableConv1D", "SeparableConv2D",
    "DepthwiseConv1D", "DepthwiseConv2D", "BatchNormalization", "Dropout", "SpatialDropout1D",
    "SpatialDropout2D", "SpatialDropout3D", "GaussianDropout", "GaussianNoise", "AlphaDropout",
    "ActivityRegularization", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D", "Flatten",
    "Reshape", "Permute", "RepeatVector", "Cropping1D", "Cropping2D", "Cropping3D",
    "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "UpSampling1D", "UpSampling2D",
    "UpSampling3D", "Add", "Subtract", "Average", "Concatenate", "Identity", "Rescaling",
    "PreActivation",  # seqexplain's wrapper: a Dense/Conv layer without its activation
    "ChannelSum",  # seqexplain's sum over a vector output's columns (multi_output.py)
})
#: Keras operations (not layers) met in Functional graphs that are linear: slicing (t[:, a:b]),
#: reshaping, sums and means
LINEAR_OPS = frozenset({
    "GetItem", "Reshape", "ExpandDims", "Squeeze", "Transpose", "Sum", "Mean", "Add",
    "Subtract", "Concatenate", "Stack", "Negative", "Cast", "Flatten",
})
#: layers (and the operation ``keras.ops.multiply``) whose output is the product of their
#: inputs: the Shapley rule for products
MULTIPLY_LAYERS = frozenset({"Multiply"})
#: operations linear in each of two tensors (``keras.ops.einsum``, ``matmul``): the bilinear
#: form of the same rule
BILINEAR_OPS = frozenset({"Einsum", "Matmul"})
#: seqexplain's profile scalar (multi_output.py): weights held at the explained sequence
PROFILE_LAYERS = frozenset({"ProfileScalar"})
#: attention layers with a rule (dot-product attention decomposed into exact rules)
ATTENTION_LAYERS = frozenset({"MultiHeadAttention"})
#: normalisations whose statistics depend on the input, decomposed into exact rules
NORMALIZATION_LAYERS = frozenset({"LayerNormalization", "RMSNormalization"})
#: softmax inside the network (a final one is stripped: the logits are explained)
SOFTMAX_LAYERS = frozenset({"Softmax"})
#: layers handled by the DeepSHAP max-pool rule
MAXPOOL_LAYERS = frozenset({
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
})
#: layers that apply an element-wise nonlinearity (rescale rule)
ELEMENTWISE_LAYERS = frozenset({"Activation", "ReLU", "LeakyReLU", "ELU", "PReLU"})
#: element-wise activation functions (by Keras name) the rescale rule applies to
ELEMENTWISE_ACTIVATIONS = frozenset({
    "relu", "relu6", "elu", "selu", "celu", "sigmoid", "hard_sigmoid", "log_sigmoid", "tanh",
    "hard_tanh", "tanh_shrink", "softplus", "softsign", "exponential", "gelu", "silu", "swish",
    "hard_silu", "hard_swish", "mish", "leaky_relu", "squareplus", "sparse_plus",
})
_LINEAR_ACTIVATIONS = frozenset({"linear", None})


def _fused(fn: Callable) -> Callable:
    """One XLA kernel for a multiplier's element-wise arithmetic; without XLA, the plain
    function, inlined in the step's graph (a nested non-XLA ``tf.function`` would only add a
    function call per layer and hide the ops from Grappler's optimisations)."""
    return tf.function(fn, jit_compile=True, autograph=False) if USE_XLA else fn


def activation_name(fn: Callable | None) -> str:
    """The Keras name of an activation function (``"relu"``...); ``"linear"`` for ``None``;
    ``"<module>.<name>"`` for a function that is not Keras's own (it gets no rule)."""
    if fn is None:
        return "linear"
    name = getattr(fn, "__name__", None) or repr(fn)
    if not getattr(fn, "__module__", "").startswith("keras."):
        return f"{getattr(fn, '__module__', '?')}.{name}"
    try:
        serialized = keras.activations.serialize(fn)
    except Exception:  # not a registered activation
        serialized = None
    return serialized if isinstance(serialized, str) else name


def layer_kind(layer) -> str:
    """The class name of a Keras (or seqexplain) layer; ``"<module>.<name>"`` for any other
    class, so that a user's class named like a Keras layer never gets that layer's rule."""
    cls = type(layer)
    if cls.__module__.startswith(("keras.", "seqexplain.")):
        return cls.__name__
    return f"{cls.__module__}.{cls.__name__}"


def _layer_activation(layer: keras.layers.Layer) -> str:
    """Name of a linear layer's built-in activation ("linear" when there is none)."""
    return activation_name(getattr(layer, "activation", None))


def is_graph_model(model) -> bool:
    """Whether ``model`` is a Sequential or Functional model (a graph of layers that can be
    inspected), as opposed to a subclassed one."""
    return isinstance(model, (keras.Sequential, keras.src.models.functional.Functional))


def check_supported(model: keras.Model, path: str = "") -> None:
    """Raise :class:`SeqexplainError` naming the first layer of ``model`` (recursively) that
    the DeepLIFT engine has no rule for (looked up in the rule table, :func:`rule_for`).

    Parameters
    ----------
    model : a Sequential or Functional Keras model.
    path : prefix for nested model names in messages.
    """
    if not is_graph_model(model):
        raise SeqexplainError(
            f"DeepLIFT/DeepSHAP needs a Sequential or Functional Keras model; "
            f"{type(model).__name__} {model.name!r} is a subclassed model whose graph cannot be "
            f"inspected")
    for layer in _graph_layers(model):
        where = f"{path}{layer.name}"
        if isinstance(layer, keras.Model):
            check_supported(layer, path=f"{where}/")
            continue
        rule = rule_for(layer)
        if rule is None:
            raise SeqexplainError(
                f"layer {where!r} ({layer_kind(layer)}) has no DeepLIFT/DeepSHAP rule; "
                f"supported: linear layers (Conv, Dense, pooling, BatchNormalization, Dropout, "
                f"Flatten, Reshape, Add, Concatenate, ...), element-wise activations, softmax, "
                f"Multiply, Layer/RMSNormalization, MultiHeadAttention and max pooling (no rule "
                f"for recurrent layers); give a custom layer one with "
                f"seqexplain.register_rule, or use saliency, grad_input, integrated_gradients "
                f"or ism for this model")
        if rule.check is not None:
            rule.check(layer, where)
    for op in getattr(model, "operations", ()):
        if not isinstance(op, keras.layers.Layer) and rule_for(op) is None:
            raise SeqexplainError(
                f"operation {path}{op.name!r} ({layer_kind(op)}) in model {model.name!r} has no "
                f"DeepLIFT/DeepSHAP rule (linear operations, multiply, einsum and matmul "
                f"only); use saliency, grad_input, "
                f"integrated_gradients or ism for this model")


def _softmax_hint(act: str) -> str:
    if act in ("softmax", "log_softmax"):
        return ("; explain the logits (output='logit') when softmax is the final activation")
    return ""


def _graph_layers(model: keras.Model) -> list:
    """The layers of a model in graph order (InputLayers excluded)."""
    return [layer for layer in model.layers if layer_kind(layer) != "InputLayer"]


@dataclass
class Pairs:
    """The stacked batch ``[x; r]`` a DeepLIFT step runs on (what a custom rule receives):
    ``n_x`` sequence rows, then ``n_x * R`` reference rows (sequence-major)."""

    n_x: tf.Tensor
    n_refs: int

    def split(self, t: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """``(x, r)`` of a stacked tensor: x with shape (n_x, 1, ...) and r with shape
        (n_x, R, ...), so that x broadcasts against the references of its own sequence."""
        x, r = t[: self.n_x], t[self.n_x:]
        shape = tf.shape(x)[1:]
        return (tf.expand_dims(x, 1),
                tf.reshape(r, tf.concat([[self.n_x, self.n_refs], shape], 0)))

    def stack(self, grad_r: tf.Tensor, like: tf.Tensor) -> tf.Tensor:
        """The gradient of a stacked tensor: zero for the x rows, ``grad_r`` (n_x, R, ...) for
        the reference rows."""
        flat = tf.reshape(grad_r, tf.concat([[-1], tf.shape(like)[1:]], 0))
        return tf.concat([tf.zeros_like(like[: self.n_x]), flat], 0)

    def rescale(self, t: tf.Tensor, f: Callable[[tf.Tensor], tf.Tensor]) -> tf.Tensor:
        """``f(t)`` for an element-wise ``f``, with the rescale rule (for custom rules)."""
        return _rescale(t, f, self)

    def product(self, a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
        """``a * b`` of two input-dependent tensors, with the Shapley rule (custom rules)."""
        return _product(a, b, self)


@_fused
def _rescale_multiplier(x_in, x_out, fprime, r_in, r_out, g):
    """Upstream gradient × rescale multiplier, one fused kernel (XLA).

    Shapes: x_* and fprime (b, 1, ...), r_* and g (b, R, ...)."""
    d_in = x_in - r_in
    near = tf.abs(d_in) < RESCALE_EPS
    # where(near, ·, ·) picks per element: the values kept need no "safe" divisor (without XLA
    # that would be one more pass over every activation)
    return g * tf.where(near, fprime, (x_out - r_out) / d_in)


@_fused
def _wide_rescale_multiplier(x_in, fprime, r_in, g, wide_f):
    """Upstream gradient × rescale multiplier with the secant evaluated in float64.

    In float32, ``f(x) - f(r)`` of a curved activation keeps only the digits that ``f(x)`` and
    ``f(r)`` do not share: where ``x - r`` is small, or both sit on a saturated tail (tanh,
    sigmoid near ±1), the secant carries a rounding error of about ``eps·|f(x)| / |x - r|``,
    which the DeepLIFT chain rule then spreads over the input positions (completeness still
    holds; the split across positions does not). The layer's float32 inputs are exact in
    float64, so ``(f(x) - f(r)) / (x - r)`` evaluated there is correct to the last float32
    bit. ``wide_f`` is the activation applied without casting its input.
    """
    x64, r64 = tf.cast(x_in, tf.float64), tf.cast(r_in, tf.float64)
    d_in = x64 - r64
    near = tf.abs(d_in) < RESCALE_EPS
    safe = tf.where(near, tf.ones_like(d_in), d_in)
    secant = tf.cast((wide_f(x64) - wide_f(r64)) / safe, g.dtype)
    return g * tf.where(near, fprime, secant)


def _rescale(t: tf.Tensor, f: Callable[[tf.Tensor], tf.Tensor], pairs: Pairs,
             wide_f: Callable[[tf.Tensor], tf.Tensor] | None = None) -> tf.Tensor:
    """``f(t)`` whose gradient is the DeepLIFT rescale multiplier for the reference rows.

    ``wide_f``: ``f`` in a form that computes in its input's dtype (no cast to the layer's
    float32), used to evaluate the secant in float64; ``None`` where the float32 secant is
    already exact (ReLU: slopes 0 and 1, no cancellation).
    """
    def multiplier(t, x_in, r_in, x_out, r_out, g):
        # plain gradient f'(x) for (near-)equal inputs, computed once per sequence row
        x_rows = t[: pairs.n_x]
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(x_rows)
            fx = f(x_rows)
        fprime = tf.expand_dims(tape.gradient(fx, x_rows), 1)
        if wide_f is None or x_in.dtype == tf.float64:
            return _rescale_multiplier(x_in, x_out, fprime, r_in, r_out, g)
        return _wide_rescale_multiplier(x_in, fprime, r_in, g, wide_f)

    return _with_multiplier(t, f, pairs, multiplier)


def _is_plain_relu(layer) -> bool:
    """Whether an element-wise layer is max(x, 0)."""
    if layer_kind(layer) == "Activation":
        return activation_name(layer.activation) == "relu"
    if layer_kind(layer) == "ReLU":
        return (layer.max_value is None and not float(layer.negative_slope)
                and not float(layer.threshold))
    return False


def _wide_elementwise(layer) -> Callable[[tf.Tensor], tf.Tensor] | None:
    """An element-wise layer's function in a form that keeps its input's dtype (Keras casts
    a layer's inputs to float32 when it is called; ``call`` itself does not)."""
    if _is_plain_relu(layer):
        return None
    kind = layer_kind(layer)
    if kind == "Activation":
        return layer.activation
    if kind == "PReLU":  # its float32 slopes, cast to the input's dtype
        return lambda t: tf.nn.relu(t) - tf.cast(layer.alpha.value, t.dtype) * tf.nn.relu(-t)
    return layer.call  # ReLU, LeakyReLU, ELU: parameters are Python floats


def _with_multiplier(t: tf.Tensor, f: Callable[[tf.Tensor], tf.Tensor], pairs: Pairs,
                     multiplier: Callable) -> tf.Tensor:
    """``f(t)`` whose gradient, for the reference rows, is ``multiplier(t, x_in, r_in, x_out,
    r_out, g)`` (the layer's DeepLIFT/DeepSHAP multiplier times the upstream gradient ``g``);
    the sequence rows get what :meth:`Pairs.stack` gives them."""
    y = tf.stop_gradient(f(t))

    @tf.custom_gradient
    def op(t, y):
        def grad(dy):
            x_in, r_in = pairs.split(t)
            x_out, r_out = pairs.split(y)
            _, g = pairs.split(dy)
            m = multiplier(t, x_in, r_in, x_out, r_out, g)
            return pairs.stack(m, t), tf.zeros_like(y)

        return tf.identity(y), grad

    return op(t, y)


def _maxpool(t: tf.Tensor, pool: Callable[[tf.Tensor], tf.Tensor], pairs: Pairs,
             window: int | None = None) -> tf.Tensor:
    """``pool(t)`` whose gradient is the DeepSHAP max-pool multiplier for the reference rows.

    ``window``: for 1-D pooling whose windows tile the input (stride = pool size, "valid";
    or global), the window length — the multiplier is then computed by one fused kernel from
    the argmax of each window. ``None`` routes through the pooling op's own gradient.
    """
    def multiplier(t, x_in, r_in, x_out, r_out, g):
        if window is not None:
            tiled = _tiled_maxpool_multiplier if USE_XLA else _pooled_maxpool_multiplier
            return tiled(x_in, r_in, x_out, r_out, g, window)
        return _routed_maxpool_multiplier(x_in, r_in, x_out, r_out, g, pool)

    return _with_multiplier(t, pool, pairs, multiplier)


@_fused
def _tiled_maxpool_multiplier(x_in, r_in, x_out, r_out, g, window: int):
    """Max-pool multiplier (× upstream gradient) for 1-D windows that tile the input.

    Shapes: x_in (b, 1, L, F), r_in (b, R, L, F); x_out (b, 1, L', F) or (b, 1, F) for global
    pooling; r_out and g (b, R, L', F) or (b, R, F). Positions past the last whole window get 0.
    """
    length = x_in.shape[2]
    if x_out.shape.rank == 3:  # global pooling: one window over the whole length
        x_out, r_out, g = (tf.expand_dims(a, 2) for a in (x_out, r_out, g))
    n_win = x_out.shape[2]
    used = n_win * window

    def windows(a):
        a = a[:, :, :used]
        return tf.reshape(a, tf.concat([tf.shape(a)[:2], [n_win, window], tf.shape(a)[3:]], 0))

    xw, rw = windows(x_in), windows(r_in)
    # one-hot of each window's (first) argmax: where the pooling op routes its gradient
    x_sel = tf.one_hot(tf.argmax(xw, axis=3), window, axis=3, dtype=xw.dtype)
    r_sel = tf.one_hot(tf.argmax(rw, axis=3), window, axis=3, dtype=rw.dtype)
    cross_max = tf.maximum(x_out, r_out)
    gx = tf.expand_dims(g * (cross_max - r_out), 3)
    gr = tf.expand_dims(g * (x_out - cross_max), 3)
    d_in = xw - rw
    near = tf.abs(d_in) < MAXPOOL_EPS
    safe = tf.where(near, tf.ones_like(d_in), d_in)
    m = tf.where(near, x_sel * tf.expand_dims(g, 3), (x_sel * gx + r_sel * gr) / safe)
    m = tf.reshape(m, tf.concat([tf.shape(m)[:2], [used], tf.shape(m)[4:]], 0))
    if used < length:
        m = tf.pad(m, [[0, 0], [0, 0], [0, length - used], [0, 0]])
    return m


def _first_argmax_routed(a: tf.Tensor, grad: tf.Tensor, window: int) -> tf.Tensor:
    """``grad`` (rows, n_win, F) placed at the first argmax of each window of ``a``
    (rows, length, F), zeros elsewhere: the gradient of 1-D max pooling (one kernel)."""
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(a)
        pooled = tf.nn.max_pool1d(a, window, window, "VALID")
    return tape.gradient(pooled, a, output_gradients=grad)


def _pooled_maxpool_multiplier(x_in, r_in, x_out, r_out, g, window: int):
    """:func:`_tiled_maxpool_multiplier` for running without XLA, with the same values: each
    window's argmax one-hot comes from the max-pool gradient kernel (``tf.argmax`` over the
    window axis and ``tf.one_hot`` are several passes each when nothing fuses them), and the
    sequence's one-hot is computed once per sequence, not once per reference."""
    if x_out.shape.rank == 3:  # global pooling: one window over the whole length
        x_out, r_out, g = (tf.expand_dims(a, 2) for a in (x_out, r_out, g))
    length, n_win = x_in.shape[2], x_out.shape[2]
    used = n_win * window
    shape_r = tf.shape(r_in)
    b, n_refs, n_f = shape_r[0], shape_r[1], shape_r[3]
    cross_max = tf.maximum(x_out, r_out)
    gx = g * (cross_max - r_out)
    gr = g * (x_out - cross_max)
    x_sel = _first_argmax_routed(x_in[:, 0], tf.ones_like(x_out[:, 0]), window)
    r_routed = _first_argmax_routed(tf.reshape(r_in, [-1, length, n_f]),
                                    tf.reshape(gr, [-1, n_win, n_f]), window)  # r_sel × gr

    def windows(a, rows):
        a = a[:, :, :used] if used < length else a
        return tf.reshape(a, [rows, -1, n_win, window, n_f])

    x_sel = windows(x_sel[:, None], b)
    d_in = windows(x_in, b) - windows(r_in, b)
    near = tf.abs(d_in) < MAXPOOL_EPS
    # where(near, ·, ·) picks per element, so no "safe" divisor is needed for the values kept
    m = tf.where(near, x_sel * g[:, :, :, None],
                 (x_sel * gx[:, :, :, None] + windows(tf.reshape(r_routed, shape_r), b)) / d_in)
    m = tf.reshape(m, [b, n_refs, used, n_f])
    if used < length:
        m = tf.pad(m, [[0, 0], [0, 0], [0, length - used], [0, 0]])
    return m


def _routed_maxpool_multiplier(x_in, r_in, x_out, r_out, g, pool):
    """Max-pool multiplier for any pooling layer, routed through the layer's own gradient."""
    cross_max = tf.maximum(x_out, r_out)
    shape_r = tf.shape(r_in)

    def flat(a):
        return tf.reshape(a, tf.concat([[-1], tf.shape(a)[2:]], 0))

    xb_in = flat(tf.broadcast_to(x_in, shape_r))
    # Route each half's share through its own argmax (the pooling op's gradient); the third
    # block is the plain gradient at x, used where x_in and r_in (nearly) agree.
    both = tf.concat([xb_in, flat(r_in), xb_in], 0)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(both)
        pooled = pool(both)
    routed = tape.gradient(pooled, both, output_gradients=tf.concat(
        [flat(g * (cross_max - r_out)), flat(g * (x_out - cross_max)),
         flat(g + tf.zeros_like(r_out))], 0))
    routed = tf.reshape(routed, tf.concat([[3], shape_r], 0))
    return _maxpool_multiplier(x_in, r_in, routed[0], routed[1], routed[2])


@_fused
def _maxpool_multiplier(x_in, r_in, routed_x, routed_r, plain):
    d_in = x_in - r_in
    near = tf.abs(d_in) < MAXPOOL_EPS
    safe = tf.where(near, tf.ones_like(d_in), d_in)
    return tf.where(near, plain, (routed_x + routed_r) / safe)


def _tiling_window(layer, input_shape) -> int | None:
    """The window length of a 1-D channels-last max pooling whose windows tile its input
    (global, or stride = pool size with "valid" padding); ``None`` otherwise."""
    if getattr(layer, "data_format", "channels_last") != "channels_last" or len(input_shape) != 3:
        return None
    kind = layer_kind(layer)
    if kind == "GlobalMaxPooling1D":
        return input_shape[1]
    if kind == "MaxPooling1D":
        size, strides = tuple(layer.pool_size), tuple(layer.strides)
        if size == strides and layer.padding == "valid":
            return size[0]
    return None


def _unbroadcast(grad: tf.Tensor, like: tf.Tensor) -> tf.Tensor:
    """Sum ``grad`` (b, R, ...) over the axes that ``like`` (b, 1 or R, ...) broadcast on."""
    axes = [i for i in range(2, like.shape.rank)
            if like.shape[i] == 1 and grad.shape[i] != 1]
    return tf.reduce_sum(grad, axis=axes, keepdims=True) if axes else grad


def _product(a: tf.Tensor, b: tf.Tensor, pairs: Pairs) -> tf.Tensor:
    """``a * b`` whose gradient is the Shapley rule for a product of two input-dependent
    tensors (shap's DeepExplainer ``nonlinearity_2d`` handler for Mul): the output change
    ``ab - a'b'`` is split exactly as ``(a - a')·(b + b')/2 + (b - b')·(a + a')/2``, so the
    multipliers are ``(b + b')/2`` for ``a`` and ``(a + a')/2`` for ``b``."""
    y = tf.stop_gradient(a * b)

    @tf.custom_gradient
    def op(a, b, y):
        def grad(dy):
            a_x, a_r = pairs.split(a)
            b_x, b_r = pairs.split(b)
            _, g = pairs.split(dy)
            g_a = _unbroadcast(g * (b_x + b_r) * 0.5, a_r)
            g_b = _unbroadcast(g * (a_x + a_r) * 0.5, b_r)
            return pairs.stack(g_a, a), pairs.stack(g_b, b), tf.zeros_like(y)

        return tf.identity(y), grad

    return op(a, b, y)


def _bilinear(f: Callable, a: tf.Tensor, b: tf.Tensor, pairs: Pairs) -> tf.Tensor:
    """``f(a, b)`` for ``f`` linear in each argument (an einsum of two input-dependent
    tensors), with the Shapley rule for products: ``f(a, b) - f(a', b') = f(a - a', (b + b')/2)
    + f((a + a')/2, b - b')`` exactly, so ``a`` gets the gradient of ``f(·, (b + b')/2)`` and
    ``b`` that of ``f((a + a')/2, ·)``."""
    y = tf.stop_gradient(f(a, b))

    def rows(t):  # (b, R, ...) → (b*R, ...)
        return tf.reshape(t, tf.concat([[-1], tf.shape(t)[2:]], 0))

    @tf.custom_gradient
    def op(a, b, y):
        def grad(dy):
            a_x, a_r = pairs.split(a)
            b_x, b_r = pairs.split(b)
            _, g = pairs.split(dy)
            a_r, b_r, g = rows(a_r), rows(b_r), rows(g)
            a_mid = rows((a_x + pairs.split(a)[1]) * 0.5)
            b_mid = rows((b_x + pairs.split(b)[1]) * 0.5)
            with tf.GradientTape(persistent=True, watch_accessed_variables=False) as tape:
                tape.watch([a_r, b_r])
                y_a, y_b = f(a_r, b_mid), f(a_mid, b_r)
            g_a = tape.gradient(y_a, a_r, output_gradients=g)
            g_b = tape.gradient(y_b, b_r, output_gradients=g)
            shape_a = tf.concat([[pairs.n_x, pairs.n_refs], tf.shape(a)[1:]], 0)
            shape_b = tf.concat([[pairs.n_x, pairs.n_refs], tf.shape(b)[1:]], 0)
            return (pairs.stack(tf.reshape(g_a, shape_a), a),
                    pairs.stack(tf.reshape(g_b, shape_b), b), tf.zeros_like(y))

        return tf.identity(y), grad

    return op(a, b, y)


def _softmax(z: tf.Tensor, axes: tuple[int, ...], pairs: Pairs) -> tf.Tensor:
    """``softmax(z)`` over ``axes`` as ``e · (1/S)`` with ``e = exp(z - c)`` (rescale rule),
    ``S = sum(e)`` (linear), ``1/S`` (rescale rule) and the product (Shapley rule): every step
    exact, so completeness holds. The shift ``c`` (for range) is the explained sequence's
    maximum, shared by its references: a constant, so it changes no difference."""
    axes = tuple(a % z.shape.rank for a in axes)
    c_x = tf.stop_gradient(tf.reduce_max(z[: pairs.n_x], axis=axes, keepdims=True))
    c = tf.concat([c_x, tf.repeat(c_x, pairs.n_refs, axis=0)], 0)
    e = _rescale(z - c, tf.exp, pairs, tf.exp)
    total = tf.reduce_sum(e, axis=axes, keepdims=True)
    inverse = _rescale(total, tf.math.reciprocal, pairs, tf.math.reciprocal)
    return _product(e, inverse, pairs)


def _normalization(layer, t: tf.Tensor, pairs: Pairs) -> tf.Tensor:
    """Keras ``LayerNormalization`` and ``RMSNormalization`` decomposed into exact rules, so
    completeness holds: the centring ``a = x - mean(x)`` and the mean of squares are linear,
    ``a · a`` and ``a · s`` are products (Shapley rule), ``s = 1/sqrt(var + epsilon)`` is
    element-wise (rescale rule), and the learned scale and offset are affine.

    ``RMSNormalization`` (and ``LayerNormalization(rms_scaling=True)``, which Keras computes as
    ``x · s`` with the centred variance): the input is scaled without centring."""
    axes = getattr(layer, "axis", -1)
    axes = sorted(a % t.shape.rank for a in (axes if isinstance(axes, (list, tuple))
                                              else [axes]))
    eps = float(layer.epsilon)
    rms_layer = layer_kind(layer) == "RMSNormalization"
    centred = t if rms_layer else t - tf.reduce_mean(t, axis=axes, keepdims=True)
    variance = tf.reduce_mean(_product(centred, centred, pairs), axis=axes, keepdims=True)

    def inv_sqrt(v):
        return tf.math.rsqrt(v + tf.cast(eps, v.dtype))

    inv_std = _rescale(variance, inv_sqrt, pairs, inv_sqrt)
    unshifted = rms_layer or getattr(layer, "rms_scaling", False)
    out = _product(t if unshifted else centred, inv_std, pairs)
    shape = [1] * t.shape.rank
    for a in axes:
        shape[a] = t.shape[a]
    scale = getattr(layer, "scale" if rms_layer else "gamma", None)
    if scale is not None and not isinstance(scale, bool):
        out = out * tf.reshape(tf.cast(scale, t.dtype), shape)
    beta = None if unshifted else getattr(layer, "beta", None)
    if beta is not None:
        out = out + tf.reshape(tf.cast(beta, t.dtype), shape)
    return out


def _check_attention(layer, where: str) -> None:
    """Raise unless the MultiHeadAttention ``layer`` is plain dot-product attention that
    :func:`_attention` decomposes (no gate, sliding window or dropout-only variants)."""
    if getattr(layer, "_use_gate", False) or getattr(layer, "_sliding_window", None):
        raise SeqexplainError(
            f"layer {where!r} (MultiHeadAttention with a gate or sliding window) has no "
            f"DeepLIFT/DeepSHAP rule; use saliency, grad_input, integrated_gradients or ism "
            f"for this model")


def _attention(layer, args: tuple, kwargs: dict, pairs: Pairs) -> tf.Tensor:
    """Keras ``MultiHeadAttention`` at inference, decomposed into exact rules: the Q/K/V and
    output projections are linear (EinsumDense), the scores ``einsum(k, q)`` and the output
    ``einsum(attention, v)`` bilinear (:func:`_bilinear`), the softmax :func:`_softmax`.
    Masks (attention, causal, Keras masks) and returned scores are refused."""
    names = ("query", "value", "key")
    given = dict(zip(names, args))
    given.update({k: v for k, v in kwargs.items() if k in names})
    extra = {k: v for k, v in kwargs.items() if k not in names and v is not None
             and v is not False}
    if extra:
        raise SeqexplainError(
            f"layer {layer.name!r} (MultiHeadAttention) is called with "
            f"{', '.join(sorted(extra))}: DeepLIFT/DeepSHAP supports unmasked attention only; "
            f"use saliency, grad_input, integrated_gradients or ism for this model")
    query, value = given["query"], given["value"]
    key = given.get("key")
    key = value if key is None else key

    def project(dense, t):
        return _apply(dense, (t,), {}, pairs)

    q = project(layer._query_dense, query) * tf.cast(layer._inverse_sqrt_key_dim, query.dtype)
    k = project(layer._key_dense, key)
    v = project(layer._value_dense, value)
    dot, combine = layer._dot_product_equation, layer._combine_equation
    scores = _bilinear(lambda a, b: tf.einsum(dot, a, b), k, q, pairs)
    weights = _softmax(scores, tuple(layer._softmax.axis), pairs)
    out = _bilinear(lambda a, b: tf.einsum(combine, a, b), weights, v, pairs)
    return project(layer._output_dense, out)


def _profile_scalar(layer, t: tf.Tensor, pairs: Pairs) -> tf.Tensor:
    """seqexplain's :class:`~.multi_output.ProfileScalar` with its softmax weights held at the
    explained sequence's: every reference row of sequence i is weighted by ``w(x_i)``, so the
    scalar is linear in the profile logits and DeepLIFT's sum is exact."""
    p = layer.select(t)
    if not layer.anchored:
        return layer.reduce(p)
    w_x = layer.weights_for(p[: pairs.n_x])
    weights = tf.concat([w_x, tf.repeat(w_x, pairs.n_refs, axis=0)], 0)
    return layer.reduce(p, weights)


class LinearPart:
    """Call a Conv/Dense layer without its built-in activation (restored afterwards)."""

    def __init__(self, layer: keras.layers.Layer):
        self.layer = layer

    def __enter__(self):
        self.saved = self.layer.activation
        self.layer.activation = keras.activations.linear
        return self.layer

    def __exit__(self, *exc):
        self.layer.activation = self.saved
        return False


def call_inference(layer: keras.layers.Layer, *args, **kwargs):
    """Call a layer at inference (dropout off, batch norm with moving statistics)."""
    if getattr(layer, "_call_has_training_arg", False):
        kwargs["training"] = False
    return layer(*args, **kwargs)


def _run(model: keras.Model, inputs: tf.Tensor, pairs: Pairs) -> tf.Tensor:
    """Run ``model`` on the stacked batch with every nonlinear layer replaced by its rule."""

    def operation_fn(layer):
        return lambda *args, **kwargs: _apply(layer, args, kwargs, pairs)

    if isinstance(model, keras.Sequential):
        out = inputs
        for layer in _graph_layers(model):
            out = _apply(layer, (out,), {}, pairs)
        return out
    # Functional: Keras's own graph walk (nodes by depth, args/kwargs filled in), with each
    # operation swapped for its DeepLIFT version.
    outputs = model._run_through_graph(inputs, operation_fn=operation_fn)
    return outputs[0] if isinstance(outputs, (list, tuple)) and len(outputs) == 1 else outputs


def _apply(layer, args: tuple, kwargs: dict, pairs: Pairs):
    kwargs = {k: v for k, v in kwargs.items() if k not in ("training", "mask")}
    if isinstance(layer, keras.Model):
        return _run(layer, args[0], pairs)
    rule = rule_for(layer)
    if rule is None:
        raise SeqexplainError(f"layer {layer.name!r} ({layer_kind(layer)}) has no "
                              f"DeepLIFT/DeepSHAP rule")
    return rule.apply(layer, args, kwargs, pairs)


# -- the rule table: layer type → DeepLIFT rule -----------------------------------------------

@dataclass(frozen=True)
class Rule:
    """A DeepLIFT rule: ``apply(layer, args, kwargs, pairs)`` computes the layer on the
    stacked batch with its multiplier as gradient; ``check(layer, where)``, if any, raises
    :class:`SeqexplainError` for a configuration the rule cannot handle (run by
    :func:`check_supported` before any tracing)."""

    name: str
    apply: Callable
    check: Callable | None = None


def _check_linear(layer, where: str) -> None:
    act = _layer_activation(layer)
    if act not in _LINEAR_ACTIVATIONS and act not in ELEMENTWISE_ACTIVATIONS:
        raise SeqexplainError(
            f"layer {where!r} ({layer_kind(layer)}) uses activation {act!r}, which "
            f"DeepLIFT/DeepSHAP has no rule for (element-wise activations only: "
            f"{', '.join(sorted(ELEMENTWISE_ACTIVATIONS))})" + _softmax_hint(act))


def _linear(layer, args, kwargs, pairs):
    """A linear layer, its own gradient the multiplier; a built-in activation split off and
    given the rescale rule."""
    act = _layer_activation(layer)
    if act in _LINEAR_ACTIVATIONS:
        return call_inference(layer, *args, **kwargs)
    with LinearPart(layer):
        pre = call_inference(layer, *args, **kwargs)
    return _rescale(pre, layer.activation, pairs, None if act == "relu" else layer.activation)


def _check_elementwise(layer, where: str) -> None:
    if layer_kind(layer) == "Activation":
        act = activation_name(layer.activation)
        if (act not in _LINEAR_ACTIVATIONS and act not in ELEMENTWISE_ACTIVATIONS
                and act != "softmax"):
            raise SeqexplainError(
                f"layer {where!r} (Activation {act!r}) has no DeepLIFT/DeepSHAP rule; "
                f"only element-wise activations are supported" + _softmax_hint(act))


def _elementwise(layer, args, kwargs, pairs):
    """An element-wise nonlinearity: the rescale rule (an ``Activation("softmax")`` gets the
    softmax rule, a linear one none)."""
    if layer_kind(layer) == "Activation":
        act = activation_name(layer.activation)
        if act == "softmax":
            return _softmax_rule(layer, args, kwargs, pairs)
        if act in _LINEAR_ACTIVATIONS:
            return call_inference(layer, *args, **kwargs)
    return _rescale(args[0], lambda t: call_inference(layer, t, **kwargs), pairs,
                    _wide_elementwise(layer))


def _user_elementwise(layer, args, kwargs, pairs):
    """A user's element-wise layer: the rescale rule with the float32 secant (its ``call``
    may not compute in float64)."""
    return _rescale(args[0], lambda t: call_inference(layer, t, **kwargs), pairs)


def _softmax_rule(layer, args, kwargs, pairs):
    axis = getattr(layer, "axis", -1)
    return _softmax(args[0], tuple(axis) if isinstance(axis, (list, tuple)) else (axis,),
                    pairs)


def _maxpool_rule(layer, args, kwargs, pairs):
    window = _tiling_window(layer, tuple(args[0].shape))
    return _maxpool(args[0], lambda t: call_inference(layer, t, **kwargs), pairs, window)


def _multiply_rule(layer, args, kwargs, pairs):
    """Products of input-dependent tensors (a ``Multiply`` layer's list, or the operation's
    arguments): the Shapley rule, exact for each product, so for the chain."""
    op = not isinstance(layer, keras.layers.Layer)
    inputs = list(args) if op else list(args[0])
    if not all(tf.is_tensor(t) for t in inputs):  # a constant factor: linear
        return layer(*args, **kwargs)
    out = inputs[0]
    for other in inputs[1:]:
        out = _product(out, other, pairs)
    return out


def _bilinear_rule(layer, args, kwargs, pairs):
    inputs = list(args)
    if not all(tf.is_tensor(t) for t in inputs):  # a constant factor: linear
        return layer(*args, **kwargs)
    if len(inputs) != 2:
        raise SeqexplainError(f"operation {layer.name!r} ({layer_kind(layer)}) of "
                              f"{len(inputs)} tensors has no DeepLIFT/DeepSHAP rule (two only)")
    return _bilinear(lambda a, b: layer(a, b), inputs[0], inputs[1], pairs)


def _linear_op(layer, args, kwargs, pairs):
    return layer(*args, **kwargs)


#: the rules by name — what :func:`register_rule` accepts as a string
RULES = {rule.name: rule for rule in (
    Rule("linear", _linear, _check_linear),
    Rule("elementwise", _elementwise, _check_elementwise),
    Rule("maxpool", _maxpool_rule),
    Rule("multiply", _multiply_rule),
    Rule("profile", lambda layer, args, kwargs, pairs: _profile_scalar(layer, args[0], pairs)),
    Rule("attention", lambda layer, args, kwargs, pairs: _attention(layer, args, kwargs, pairs),
         _check_attention),
    Rule("normalization",
         lambda layer, args, kwargs, pairs: _normalization(layer, args[0], pairs)),
    Rule("softmax", _softmax_rule),
)}
RULES["rescale"] = Rule("rescale", _user_elementwise)


def _check_saved_model(layer, where: str) -> None:
    raise SeqexplainError(
        f"layer {where!r} is a SavedModel's signature, one opaque TensorFlow graph without "
        f"the layers DeepLIFT/DeepSHAP rules apply to; use saliency, grad_input, "
        f"integrated_gradients or ism for this model (or load its Keras file)")


#: a SavedModel signature (savedmodel.py): refused, in one line naming the methods that work
OPAQUE_LAYERS = {"SavedModelSignature": Rule("opaque", _linear_op, _check_saved_model)}
#: Keras's (and seqexplain's) layers by class name → their rule
LAYER_RULES: dict[str, Rule] = {
    **{kind: RULES["linear"] for kind in LINEAR_LAYERS},
    **{kind: RULES["elementwise"] for kind in ELEMENTWISE_LAYERS},
    **{kind: RULES["maxpool"] for kind in MAXPOOL_LAYERS},
    **{kind: RULES["multiply"] for kind in MULTIPLY_LAYERS},
    **{kind: RULES["profile"] for kind in PROFILE_LAYERS},
    **{kind: RULES["attention"] for kind in ATTENTION_LAYERS},
    **{kind: RULES["normalization"] for kind in NORMALIZATION_LAYERS},
    **{kind: RULES["softmax"] for kind in SOFTMAX_LAYERS},
    **OPAQUE_LAYERS,
}
#: Keras operations (not layers) of Functional graphs by class name → their rule
OP_RULES: dict[str, Rule] = {
    **{kind: Rule("linear", _linear_op) for kind in LINEAR_OPS},
    **{kind: RULES["multiply"] for kind in MULTIPLY_LAYERS},
    **{kind: Rule("bilinear", _bilinear_rule) for kind in BILINEAR_OPS},
}
#: rules given to users' layer classes (exact classes) by :func:`register_rule`
USER_RULES: dict[type, Rule] = {}


def rule_for(layer) -> Rule | None:
    """The rule of a layer or operation: its class's registered rule, else Keras's class
    name looked up in :data:`LAYER_RULES` (layers) or :data:`OP_RULES` (operations);
    ``None`` when it has none."""
    user = USER_RULES.get(type(layer))
    if user is not None:
        return user
    table = LAYER_RULES if isinstance(layer, keras.layers.Layer) else OP_RULES
    return table.get(layer_kind(layer))


def register_rule(layer_class: type, rule) -> None:
    """Give the layer class ``layer_class`` (a user's Keras layer) a DeepLIFT/DeepSHAP rule.

    Parameters
    ----------
    layer_class : the layer's class; only layers of exactly this class get the rule.
    rule : ``"linear"`` (an affine function of its inputs at inference: its own gradient is
        the multiplier; a built-in ``activation`` attribute is split off), ``"elementwise"``
        (or ``"rescale"``: an element-wise nonlinearity of one input, the rescale rule),
        another name of :data:`RULES`, or a callable ``rule(layer, args, kwargs, pairs)``
        returning the layer's output on the stacked batch built from operations that have
        rules (linear TensorFlow ops, and ``pairs.rescale(t, f)`` for an element-wise ``f``,
        ``pairs.product(a, b)`` for a product of two input-dependent tensors).
    """
    if not isinstance(layer_class, type):
        raise SeqexplainError(f"register_rule: {layer_class!r} is not a class")
    if isinstance(rule, str):
        # a user's element-wise layer gets the float32 secant: its call may not run in float64
        key = "rescale" if rule == "elementwise" else rule
        if key not in RULES:
            raise SeqexplainError(f"register_rule: unknown rule {rule!r}; choose from "
                                  f"{', '.join(sorted(RULES))} or pass a callable")
        chosen = RULES[key]
    elif callable(rule):
        chosen = Rule(getattr(rule, "__name__", "custom"), rule)
    else:
        raise SeqexplainError(f"register_rule: rule must be a name or a callable, not "
                              f"{type(rule).__name__}")
    USER_RULES[layer_class] = chosen


# -- the compiled step -----------------------------------------------------------------------

_CACHE_ATTRIBUTE = "_seqexplain_cache"


def model_cache(model: keras.Model) -> dict:
    """A dict stored on ``model`` for its compiled functions and derived models.

    Kept on the model itself (not in a global table) so that it is freed with the model; set
    with ``object.__setattr__`` so that Keras does not track it as model state.
    """
    cache = model.__dict__.get(_CACHE_ATTRIBUTE)
    if cache is None:
        cache = {}
        object.__setattr__(model, _CACHE_ATTRIBUTE, cache)
    return cache


def deeplift_step(model: keras.Model, target: int, n_refs: int,
                  input_shape: tuple[int, ...]) -> Callable:
    """The compiled DeepLIFT step for ``model`` (checked with :func:`check_supported`).

    Parameters
    ----------
    model : Sequential/Functional model whose output has shape (batch, n_outputs) or (batch,).
    target : output index explained.
    n_refs : references per sequence, R.
    input_shape : (length, C) of one sequence.

    Returns
    -------
    Callable
        ``step(x, r) -> (hypothetical, diff_sum, y_x, y_r)`` with ``x`` shape (b, length, C) and
        ``r`` shape (b * R, length, C) (the R references of each sequence in a row), returning
        the hypothetical contributions averaged over references, shape (b, length, C); the
        DeepLIFT sum ``mean_r sum((x - r) * m)``, shape (b,); the output at ``x``, shape (b,);
        and the mean output at the references, shape (b,).
    """
    key = ("deeplift", int(target), int(n_refs), tuple(input_shape))
    cache = model_cache(model)
    if key not in cache:
        check_supported(model)
        cache[key] = _make_step(model, int(target), int(n_refs), tuple(input_shape))
    return cache[key]


def step_dtype(model: keras.Model) -> tf.DType:
    """The dtype the DeepLIFT step runs in: the model's input dtype (float32 for every model
    seqexplain builds; float64 for a float64 copy used as an oracle)."""
    try:
        dtype = tf.as_dtype(model.inputs[0].dtype)
    except (AttributeError, IndexError, TypeError, ValueError):
        return tf.float32
    return dtype if dtype.is_floating else tf.float32


def _make_step(model: keras.Model, target: int, n_refs: int, input_shape: tuple) -> Callable:
    spec = tf.TensorSpec((None, *input_shape), step_dtype(model))

    @tf.function(input_signature=[spec, spec], autograph=False)
    def step(x, r):
        n_x = tf.shape(x)[0]
        pairs = Pairs(n_x=n_x, n_refs=n_refs)
        t = tf.concat([x, r], 0)
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(t)
            out = _run(model, t, pairs)
            y = select_output(out, target)
            seed = tf.reduce_sum(y[n_x:])
        m = tape.gradient(seed, t)[n_x:]
        shape = tf.concat([[n_x, n_refs], tf.shape(x)[1:]], 0)
        m = tf.reshape(m, shape)
        refs = tf.reshape(r, shape)
        # hypothetical contribution of channel c at a position: what (e_c - r) * m would give
        hyp = m - tf.reduce_sum(refs * m, axis=-1, keepdims=True)
        axes = tf.range(2, tf.rank(m))
        diff_sum = tf.reduce_sum((x[:, None] - refs) * m, axis=axes)
        return (tf.reduce_mean(hyp, axis=1), tf.reduce_mean(diff_sum, axis=1), y[:n_x],
                tf.reduce_mean(tf.reshape(y[n_x:], (n_x, n_refs)), axis=1))

    return step


def select_output(out: tf.Tensor, target: int) -> tf.Tensor:
    """Column ``target`` of an output of shape (batch, n_outputs), or the output itself when it
    has shape (batch,)."""
    if out.shape.rank == 1:
        return out
    return out[:, target]


def run_pairs(model: keras.Model, X: np.ndarray, references: Callable[[int, int], np.ndarray],
              n_refs: int, target: int, batch_size: int,
              progress: Callable | None = None) -> tuple[np.ndarray, ...]:
    """Run the DeepLIFT step over all sequences in batches of ``batch_size`` pairs.

    Parameters
    ----------
    model : the model explained (already the logit model where wanted).
    X : float32, shape (n, length, C).
    references : ``references(lo, hi)`` → the references of sequences ``lo:hi``, float32,
        shape (hi - lo, R, length, C).
    n_refs : R.
    target : output index.
    batch_size : (sequence, reference) pairs per step; at least one whole sequence.
    progress : optional callable wrapping the batch iterator (e.g. tqdm).

    Returns
    -------
    hypothetical : (n, length, C) in the step's dtype (float32; float64 for a float64
        model), averaged over references.
    diff_sum, y_x, y_r : (n,) float64 — see :func:`deeplift_step`.
    """
    step = deeplift_step(model, target, n_refs, X.shape[1:])
    dtype = step_dtype(model).as_numpy_dtype
    X = np.asarray(X, dtype)
    per_batch = max(1, int(batch_size) // n_refs)

    def fetch(lo, hi):  # references (hi - lo, R, length, C): padded by whole sequences
        return X[lo:hi], np.ascontiguousarray(references(lo, hi), dtype=dtype)

    def run(x, refs):
        return step(x, refs.reshape((-1, *X.shape[1:])))

    # XLA compiles the fused multipliers once per shape: batches padded to a few bucket
    # sizes, each compiled the first time a batch needs it (so at most a few compiles per
    # step, whatever the numbers of sequences; compiling every bucket up front cost each new
    # model several compiles it mostly never used)
    pad = USE_XLA and batching.PAD_BATCHES
    hyp, sums, y_x, y_r = map_batches(run, X.shape[0], per_batch, fetch, progress, pad=pad)
    return hyp, sums.astype(np.float64), y_x.astype(np.float64), y_r.astype(np.float64)
