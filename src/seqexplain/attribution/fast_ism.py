"""Fast exact in-silico mutagenesis: recompute only what a substitution can change.

A single substitution at position ``p`` changes the output of a convolution or pooling layer
only inside that layer's receptive field around ``p``. For every layer up to the first one that
mixes all positions (Flatten, global pooling, a Dense on flattened input, ...), the mutant's
activations are therefore the sequence's own (*reference*) activations with one short *window*
replaced. This module carries, for every tensor of the model's graph, the reference activations
of each sequence (computed once) and the window of each mutant (recomputed from the window of
the layer below, spliced into the reference activations on either side). The layers that mix
positions and everything after them then run on the patched full activations — the approach of
fastISM (Nair et al., Bioinformatics 2022), here for Keras 3 graphs.

Windowed layers (channels last, 1-D):

- ``Conv1D`` with any dilation and padding ``"valid"``, ``"same"`` (stride 1) or ``"causal"``;
- ``MaxPooling1D``/``AveragePooling1D`` with padding ``"valid"`` (any stride);
- ``Cropping1D`` (a shift of the positions: BPNet/ChromBPNet's residual blocks of "valid"
  convolutions crop the skip connection to the convolution's length);
- position-wise layers: activations, batch normalization, dropout, rescaling, layer
  normalization, a ``Dense`` applied to every position (rank-3 input);
- element-wise merges of windowed tensors: ``Add``, ``Subtract``, ``Multiply``, ``Average``,
  ``Maximum``, ``Minimum``, and ``Concatenate`` along the channels (residual blocks).

Any other layer is simply run on the patched full activations, so every graph model gets the
same numbers as naive ISM; a model with no windowed layer at all (or a subclassed model) uses
the batched path of :func:`~seqexplain.attribution.methods.ism`.

The window geometry is static: for each tensor, the affected range ``[lo[p], hi[p])`` of a
substitution at every input position ``p``, a fixed window width ``W`` (the widest range) and a
start ``start[p]`` clipped so that the window stays inside the tensor. Windows of one layer are
gathered from the one below with index tables built once per model (numpy), so a whole batch of
mutants at different positions is one gather and one convolution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from .engine import call_inference, select_output, is_graph_model, layer_kind

#: position-wise layers: output at a position depends only on the input at that position
POSITIONWISE_LAYERS = frozenset({
    "Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax", "BatchNormalization",
    "LayerNormalization", "RMSNormalization", "Dropout", "SpatialDropout1D", "GaussianDropout",
    "GaussianNoise", "AlphaDropout", "ActivityRegularization", "Rescaling", "Identity",
})
#: merges whose output at a position depends only on their inputs at that position
MERGE_LAYERS = frozenset({"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
                          "Concatenate"})
#: global pooling computed from the window and summaries of the reference activations
GLOBAL_POOLING = frozenset({"GlobalMaxPooling1D", "GlobalAveragePooling1D"})
#: layers sliding a window along the positions
SLIDING_LAYERS = frozenset({"Conv1D", "MaxPooling1D", "AveragePooling1D"})


class _Window:
    """A tensor of the mutants as reference activations + one recomputed window per mutant.

    ``ref``: (n_seq, L, F), the sequences' own activations; ``win``: (m, W, F), positions
    ``start[p] … start[p] + W`` of mutant ``(seq, p)``; ``lo``/``hi``: per input position p,
    the positions ``[lo, hi)`` a substitution at p can change (numpy, static)."""

    # a plain class, not a dataclass: Keras's tree utilities must treat it as one leaf
    def __init__(self, ref: tf.Tensor, win: tf.Tensor, start: np.ndarray, lo: np.ndarray,
                 hi: np.ndarray):
        self.ref, self.win, self.start, self.lo, self.hi = ref, win, start, lo, hi

    @property
    def width(self) -> int:
        return int(self.win.shape[1])

    @property
    def length(self) -> int:
        return int(self.ref.shape[1])


@dataclass
class _Mutants:
    """The mutant batch: sequence row (into the reference batch) and position of each."""

    seq: tf.Tensor
    pos: tf.Tensor


def _geometry(lo: np.ndarray, hi: np.ndarray, length: int) -> tuple[int, np.ndarray]:
    """Fixed width and per-position start of windows covering ``[lo, hi)`` in a tensor of
    ``length`` positions."""
    width = int(np.clip((hi - lo).max(initial=1), 1, length))
    return width, np.clip(lo, 0, length - width).astype(np.int32)


def _splice_table(start_out: np.ndarray, width_out: int, shift: int, src: _Window
                  ) -> np.ndarray:
    """For each position p and each of ``width_out`` gathered positions ``q = start_out[p] +
    j - shift`` of ``src``: where to read it in ``concat([src.win, gathered_ref], axis=1)``
    — inside the source window ``q - src.start[p]``, otherwise ``src.width + j``."""
    j = np.arange(width_out)[None, :]
    q = start_out[:, None] + j - shift
    inside = (q >= src.start[:, None]) & (q < src.start[:, None] + src.width)
    return np.where(inside, q - src.start[:, None], src.width + j).astype(np.int32)


def _gather_window(src: _Window, mut: _Mutants, start: np.ndarray, width: int,
                   pad: tuple[int, int] = (0, 0)) -> tf.Tensor:
    """Positions ``start[p] … start[p] + width`` of every mutant's full activations (after
    zero padding ``pad`` on the left/right), shape (m, width, F): the reference activations
    with the source window spliced in."""
    ref = src.ref
    if pad != (0, 0):
        ref = tf.pad(ref, [[0, 0], list(pad), [0, 0]])
    length, channels = int(ref.shape[1]), int(ref.shape[2])
    flat = tf.reshape(ref, (-1, channels))
    rows = (mut.seq[:, None] * length + tf.gather(tf.constant(start), mut.pos)[:, None]
            + tf.range(width, dtype=tf.int32)[None, :])
    gathered = tf.gather(flat, rows)
    table = tf.constant(_splice_table(start, width, pad[0], src))
    both = tf.concat([tf.cast(src.win, gathered.dtype), gathered], axis=1)
    return tf.gather(both, tf.gather(table, mut.pos), batch_dims=1)


def _full(value, mut: _Mutants) -> tf.Tensor:
    """The mutants' full activations of a tensor, shape (m, L, F)."""
    if not isinstance(value, _Window):
        return value
    return _gather_window(value, mut, np.zeros_like(value.start), value.length)


def _sliding_params(layer) -> tuple[int, int, tuple[int, int]] | None:
    """``(span, stride, (pad_left, pad_right))`` of a windowed sliding layer, or ``None`` when
    it cannot be windowed (channels first, 'same' pooling or strided 'same' convolution,
    grouped convolution)."""
    kind = layer_kind(layer)
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        return None
    if kind == "Conv1D":
        if getattr(layer, "groups", 1) != 1:
            return None
        k, d, s = layer.kernel_size[0], layer.dilation_rate[0], layer.strides[0]
        span = (k - 1) * d + 1
        if layer.padding == "valid":
            return span, s, (0, 0)
        if layer.padding == "causal":
            return span, s, (span - 1, 0)
        if layer.padding == "same" and s == 1:
            return span, 1, ((span - 1) // 2, span - 1 - (span - 1) // 2)
        return None
    if kind in ("MaxPooling1D", "AveragePooling1D") and layer.padding == "valid":
        return layer.pool_size[0], layer.strides[0], (0, 0)
    return None


def _sliding(layer, src: _Window, ref_out: tf.Tensor, mut: _Mutants) -> _Window | None:
    params = _sliding_params(layer)
    if params is None:
        return None
    span, stride, pad = params
    length_out = int(ref_out.shape[1])
    if length_out < 1:
        return None
    empty = src.hi <= src.lo
    lo = -((-(src.lo + pad[0] - span + 1)) // stride)   # ceil division
    hi = (src.hi - 1 + pad[0]) // stride + 1
    lo, hi = np.clip(lo, 0, length_out), np.clip(hi, 0, length_out)
    lo, hi = np.where(empty, 0, lo), np.where(empty | (hi < lo), np.where(empty, 0, lo), hi)
    width, start = _geometry(lo, hi, length_out)
    window = _gather_window(src, mut, start * stride, (width - 1) * stride + span, pad)
    if layer_kind(layer) == "Conv1D":
        window = tf.cast(window, layer.compute_dtype)  # mixed precision: float16 windows
        y = tf.nn.convolution(window, tf.cast(layer.kernel, window.dtype), strides=stride,
                              padding="VALID", dilations=layer.dilation_rate[0])
        if layer.use_bias:
            y = y + tf.cast(layer.bias, y.dtype)
        y = layer.activation(y)
    else:
        y = call_inference(layer, window)
    return _Window(ref_out, y, start, lo, hi)


def _cropping(layer, src: _Window, ref_out: tf.Tensor, mut: _Mutants) -> _Window | None:
    """``Cropping1D``: output position j is input position j + left; the window moves."""
    left = int(layer.cropping[0])
    length_out = int(ref_out.shape[1])
    if length_out < 1:
        return None
    empty = src.hi <= src.lo
    lo = np.clip(src.lo - left, 0, length_out)
    hi = np.clip(src.hi - left, 0, length_out)
    lo, hi = np.where(empty, 0, lo), np.where(empty, 0, np.maximum(hi, lo))
    width, start = _geometry(lo, hi, length_out)
    window = _gather_window(src, mut, (start + left).astype(np.int32), width)
    return _Window(ref_out, window, start, lo, hi)


def _merge(layer, srcs: list[_Window], ref_out: tf.Tensor, mut: _Mutants) -> _Window | None:
    if layer_kind(layer) == "Concatenate" and layer.axis not in (-1, 2):
        return None
    length = srcs[0].length
    if any(s.length != length for s in srcs):
        return None
    lo = np.min([np.where(s.hi > s.lo, s.lo, length) for s in srcs], axis=0)
    hi = np.max([np.where(s.hi > s.lo, s.hi, 0) for s in srcs], axis=0)
    hi = np.maximum(hi, lo)
    lo, hi = np.minimum(lo, length), np.minimum(hi, length)
    width, start = _geometry(lo, hi, length)
    parts = [_gather_window(s, mut, start, width) for s in srcs]
    return _Window(ref_out, call_inference(layer, parts), start, lo, hi)


def _prefix_max(a: tf.Tensor) -> tf.Tensor:
    """``out[:, i] = max(a[:, :i])`` along axis 1 for i in 0 … L (``-inf`` for i = 0), by
    log2(L) doubling steps."""
    low = tf.fill(tf.shape(a[:, :1]), tf.constant(-np.inf, a.dtype))
    out = tf.concat([low, a], axis=1)
    shift = 1
    while shift < int(out.shape[1]):
        out = tf.concat([out[:, :shift], tf.maximum(out[:, shift:], out[:, :-shift])], axis=1)
        shift *= 2
    return out


def _global_pool(layer, src: _Window, mut: _Mutants) -> tf.Tensor | None:
    """Global max/average pooling of the mutants from the window and per-sequence summaries of
    the reference activations (prefix/suffix maxima, sums), without their full activations."""
    kind = layer_kind(layer)
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        return None
    length, width = src.length, src.width
    rows = (mut.seq[:, None] * length + tf.gather(tf.constant(src.start), mut.pos)[:, None]
            + tf.range(width, dtype=tf.int32)[None, :])
    start = tf.gather(tf.constant(src.start), mut.pos)
    win = tf.cast(src.win, src.ref.dtype)
    if kind == "GlobalAveragePooling1D":
        ref_win = tf.gather(tf.reshape(src.ref, (-1, int(src.ref.shape[2]))), rows)
        total = tf.gather(tf.reduce_sum(src.ref, axis=1), mut.seq)
        out = (total + tf.reduce_sum(win - ref_win, axis=1)) / length
    else:
        before = _prefix_max(src.ref)                                      # (n, L + 1, F)
        after = tf.reverse(_prefix_max(tf.reverse(src.ref, [1])), [1])     # max(ref[:, i:])
        out = tf.maximum(tf.reduce_max(win, axis=1), tf.maximum(
            tf.gather_nd(before, tf.stack([mut.seq, start], 1)),
            tf.gather_nd(after, tf.stack([mut.seq, start + width], 1))))
    if getattr(layer, "keepdims", False):
        out = out[:, None, :]
    return out


def _windowed(layer, args: tuple, ref_out, mut: _Mutants) -> _Window | None:
    """The windowed output of ``layer`` on windowed inputs, or ``None`` when the layer has to
    run on full activations."""
    kind = layer_kind(layer)
    if not isinstance(ref_out, tf.Tensor) or ref_out.shape.rank != 3:
        return None
    if kind in SLIDING_LAYERS and len(args) == 1 and isinstance(args[0], _Window):
        return _sliding(layer, args[0], ref_out, mut)
    if kind == "Cropping1D" and len(args) == 1 and isinstance(args[0], _Window):
        return _cropping(layer, args[0], ref_out, mut)
    if kind in MERGE_LAYERS and len(args) == 1 and isinstance(args[0], (list, tuple)) \
            and all(isinstance(a, _Window) for a in args[0]):
        return _merge(layer, list(args[0]), ref_out, mut)
    positionwise = kind in POSITIONWISE_LAYERS or (kind == "Dense" and len(args) == 1)
    if positionwise and len(args) == 1 and isinstance(args[0], _Window):
        src = args[0]
        if kind == "BatchNormalization" and layer.axis not in (-1, 2):
            return None
        if kind == "PReLU" and int(layer.alpha.shape[0]) != 1:
            return None  # a slope per position (shared_axes without the length axis)
        if kind in ("LayerNormalization", "RMSNormalization", "Softmax") \
                and tuple(np.atleast_1d(layer.axis)) not in ((-1,), (2,)):
            return None
        return _Window(ref_out, call_inference(layer, src.win), src.start, src.lo, src.hi)
    return None


def _graph(model: keras.Model):
    """The Functional graph of a Sequential or Functional model."""
    if isinstance(model, keras.Sequential):
        return getattr(model, "_functional", None)
    return model


def plan(model: keras.Model) -> list[str] | None:
    """The names of the layers of ``model`` that fast ISM recomputes by windows, in graph
    order; ``None`` when fast ISM does not apply (subclassed model, several inputs or outputs,
    input not (length, channels), or no windowed layer — :func:`ism` then uses batched ISM).
    """
    graph = _graph(model) if is_graph_model(model) else None
    if graph is None or len(graph.inputs) != 1 or len(graph.outputs) != 1:
        return None
    shape = tuple(graph.inputs[0].shape)
    if len(shape) != 3 or any(s is None for s in shape[1:]):
        return None
    length, channels = shape[1:]
    trace = _trace(graph, tf.zeros((1, length, channels)), tf.zeros((1, 1, channels)),
                   np.zeros(1, np.int32), np.zeros(1, np.int32))[1]
    slides = [name for name, kind in trace if kind in SLIDING_LAYERS]
    return [name for name, _ in trace] if slides else None


def _trace(graph, x, rows, seq, pos) -> tuple[tf.Tensor, list[tuple[str, str]]]:
    """Run ``graph`` on the mutants ``(seq, pos)`` of the sequences ``x`` whose mutated row is
    ``rows`` (m, 1, C). Returns the output (m, ...) and the (name, kind) of windowed layers."""
    length = int(x.shape[1])
    positions = np.arange(length, dtype=np.int32)
    mut = _Mutants(tf.convert_to_tensor(seq, tf.int32), tf.convert_to_tensor(pos, tf.int32))
    values: dict[int, tuple] = {id(graph.inputs[0]): (
        x, _Window(x, rows, positions, positions, positions + 1))}
    windowed: list[tuple[str, str]] = []
    depths = sorted(graph._nodes_by_depth, reverse=True)
    for depth in depths:
        for node in graph._nodes_by_depth[depth]:
            if not node.operation or node.is_input:
                continue
            if any(id(t) not in values for t in node.input_tensors):
                continue
            layer = node.operation
            refs = {k: v[0] for k, v in values.items()}
            muts = {k: v[1] for k, v in values.items()}
            ref_args, ref_kwargs = node.arguments.fill_in(refs)
            mut_args, mut_kwargs = node.arguments.fill_in(muts)
            ref_kwargs = {k: v for k, v in ref_kwargs.items() if k not in ("training", "mask")}
            mut_kwargs = {k: v for k, v in mut_kwargs.items() if k not in ("training", "mask")}
            has_window = any(isinstance(v, _Window)
                             for v in keras.tree.flatten(mut_args))
            out = None
            ref_out = None
            if has_window and not mut_kwargs and layer_kind(layer) in GLOBAL_POOLING \
                    and len(mut_args) == 1 and isinstance(mut_args[0], _Window):
                out = _global_pool(layer, mut_args[0], mut)
                if out is not None:  # a full tensor: no reference activations needed after it
                    windowed.append((layer.name, layer_kind(layer)))
                    values[id(node.outputs[0])] = (None, out)
                    continue
            if has_window and not mut_kwargs:
                ref_out = _run_op(layer, ref_args, ref_kwargs)
                out = _windowed(layer, mut_args, ref_out, mut)
            if out is not None:
                windowed.append((layer.name, layer_kind(layer)))
            else:
                if ref_out is None and has_window:
                    ref_out = _run_op(layer, ref_args, ref_kwargs)
                full_args = keras.tree.map_structure(lambda v: _full(v, mut), mut_args)
                full_kwargs = keras.tree.map_structure(lambda v: _full(v, mut), mut_kwargs)
                out = _run_op(layer, full_args, full_kwargs)
            for t, r, o in zip(node.outputs, keras.tree.flatten(ref_out)
                               if ref_out is not None else [None] * len(node.outputs),
                               keras.tree.flatten(out) if not isinstance(out, _Window)
                               else [out]):
                values[id(t)] = (r, o)
    result = values[id(graph.outputs[0])][1]
    return _full(result, mut), windowed


def _run_op(layer, args, kwargs):
    if isinstance(layer, keras.layers.Layer):
        return call_inference(layer, *args, **kwargs)
    return layer(*args, **kwargs)


def fast_ism_step(model: keras.Model, columns: list, shape: tuple,
                  reduce: Callable | None = None) -> Callable:
    """``step(x, seq, pos, chan) -> y`` (m, K): the output columns ``columns`` of the mutants
    ``x[seq]`` with position ``pos`` set to channel ``chan``, computed by windows (same
    contract as the batched ISM step). ``model`` must be one :func:`plan` accepts.
    ``reduce(out, out_x, seq) -> (m, K)``, if given, reads the mutants' output ``out``
    instead, with ``out_x`` the output of the sequences themselves (a profile scalar's
    weights are those of the sequence mutated)."""
    graph = _graph(model)
    idx = tf.TensorSpec((None,), tf.int32)

    @tf.function(input_signature=[tf.TensorSpec((None, *shape), tf.float32), idx, idx, idx],
                 autograph=False)
    def step(x, seq, pos, chan):
        rows = tf.one_hot(chan, shape[1], dtype=x.dtype)[:, None, :]
        out, _ = _trace(graph, x, rows, seq, pos)
        if reduce is not None:
            return reduce(out, call_inference(model, x), seq)
        return tf.stack([select_output(out, column) for column in columns], axis=1)

    return step
