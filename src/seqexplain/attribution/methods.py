"""Attribution methods for one-hot sequence models, one verb per method, one signature:

``method(model, X, target=0, batch_size=..., random_state=None, *, output="logit", ...)``
takes one-hot sequences ``X`` of shape (n, length, C) and returns scores of the same shape
(float32), so that swapping methods means swapping one name (or
:func:`~seqexplain.attribution.registry.attribute` with ``method=...``).

- :func:`saliency` — gradient of the target w.r.t. the input, gradient-corrected by default;
- :func:`grad_input` — gradient × input;
- :func:`integrated_gradients` — path integral of the gradient from a baseline;
- :func:`deeplift` — DeepLIFT, rescale rule, against one reference;
- :func:`deep_shap` — DeepLIFT averaged over many references (DeepSHAP), native engine;
- :func:`ism` — in-silico saturation mutagenesis;
- :func:`shap_explainer` — shap's own DeepExplainer, for cross-checking.

Methods with a completeness property (deeplift, deep_shap, integrated_gradients, shap_explainer)
check it for every sequence — ``delta = (f(x) - mean f(ref)) - sum(attributions)`` — and emit a
``RuntimeWarning`` naming the sequences whose ``|delta|`` exceeds ``warning_threshold ×`` the
largest |output| of the batch's sequences and references; ``return_delta=True`` returns
``(attributions, delta)``.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from ..batching import batches, map_batches
from ..errors import SeqexplainError, check_int
from ..progress import advance
from . import fast_ism
from .engine import select_output, check_supported, model_cache, run_pairs
from .logits import model_inputs
from .multi_output import anchor_of, explained_target
from .options import N_REFERENCES, REFERENCE_KINDS

RandomState = int | np.random.Generator | None
#: what methods with a completeness check return: scores, or (scores, delta)
ScoresMaybeDelta = np.ndarray | tuple[np.ndarray, np.ndarray]

#: fast ISM runs this many times ``batch_size`` mutants per pass (same peak memory, roughly)
FAST_ISM_BATCH = 4
#: sequences whose default shuffled references are drawn from one seed block; fixed so that
#: the references (hence the scores) do not depend on ``batch_size``
_SHUFFLE_BLOCK = 256


# -- input checks ----------------------------------------------------------------------------

def validate_input(X, model: keras.Model | None = None, name: str = "X") -> np.ndarray:
    """Check one-hot sequences and return them as a C-contiguous float32 array.

    Parameters
    ----------
    X : array-like, shape=(n, length, C); values in [0, 1], each position summing to at most
        1 (one-hot rows, all-zero N/padding rows and fractional IUPAC rows are all accepted).
    model : when given, ``(length, C)`` must fit the model's input shape.
    name : the argument's name in error messages.

    Returns
    -------
    numpy.ndarray
        float32, shape=(n, length, C).

    Raises
    ------
    SeqexplainError
        Wrong rank or shape, no sequences, NaN/inf, or values that are not one-hot.
    """
    try:
        arr = np.ascontiguousarray(X, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise SeqexplainError(f"{name} must be a numeric array of shape (n, length, channels): "
                              f"{err}") from None
    if arr.ndim != 3:
        raise SeqexplainError(f"{name} has shape {arr.shape} but must have shape "
                              f"(n, length, channels)")
    if arr.shape[0] == 0:
        raise SeqexplainError(f"{name} has no sequences (shape {arr.shape})")
    if not np.isfinite(arr).all():
        raise SeqexplainError(f"{name} contains NaN or infinite values")
    if arr.min() < 0 or arr.max() > 1 or arr.sum(axis=-1).max() > 1 + 1e-4:
        raise SeqexplainError(f"{name} must be one-hot encoded: values in [0, 1] with each "
                              f"position summing to at most 1")
    try:
        inputs = model.inputs if model is not None else None
    except (AttributeError, ValueError):  # subclassed models have no symbolic inputs
        inputs = None
    if inputs:
        expected = tuple(inputs[0].shape[1:])
        if len(expected) != 2 or any(e is not None and e != a
                                     for e, a in zip(expected, arr.shape[1:])):
            raise SeqexplainError(f"{name} has shape {arr.shape} but model {model.name!r} takes "
                                  f"(n, {', '.join(str(e) for e in expected)})")
    return arr


def _prepare(model, X, target, batch_size, output):
    """Shared argument handling: (explained model, X float32, target, batch_size)."""
    X = validate_input(X, model)
    explained, column = explained_target(model, target, output, X)
    return explained, X, column, check_int("batch_size", batch_size)


def correct_gradient(gradient: np.ndarray) -> np.ndarray:
    """Gradient correction for one-hot inputs (Majdandzic et al., Genome Biology 2023).

    A one-hot input lives on the simplex, so the gradient component along ``(1, ..., 1)`` at a
    position is off-simplex noise; it is removed by subtracting the channel mean.

    Parameters
    ----------
    gradient : shape=(n, length, C).

    Returns
    -------
    numpy.ndarray
        ``gradient - gradient.mean(axis=-1, keepdims=True)``; channels sum to 0 per position.
    """
    return gradient - gradient.mean(axis=-1, keepdims=True)


# -- compiled steps, cached per model --------------------------------------------------------

def _cached(model: keras.Model, key: tuple, factory: Callable[[], Callable]) -> Callable:
    cache = model_cache(model)
    if key not in cache:
        cache[key] = factory()
    return cache[key]


def _gradient_step(model: keras.Model, target: int, shape: tuple) -> Callable:
    """``step(x) -> (d y / d x, y)`` for x of shape (b, *shape)."""

    def factory():
        @tf.function(input_signature=[tf.TensorSpec((None, *shape), tf.float32)])
        def step(x):
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(x)
                y = select_output(model(x, training=False), target)
            return tape.gradient(y, x), y

        return step

    return _cached(model, ("gradient", target, shape), factory)


def _predict_step(model: keras.Model, target: int, shape: tuple) -> Callable:
    """``step(x) -> y`` (the target column) for x of shape (b, *shape)."""

    def factory():
        @tf.function(input_signature=[tf.TensorSpec((None, *shape), tf.float32)])
        def step(x):
            return select_output(model(x, training=False), target)

        return step

    return _cached(model, ("predict", target, shape), factory)


def _ig_step(model: keras.Model, target: int, shape: tuple, steps: int) -> Callable:
    """``step(x, baseline) -> mean gradient along the straight path`` (midpoint rule)."""

    def factory():
        spec = tf.TensorSpec((None, *shape), tf.float32)
        alphas = tf.constant((np.arange(steps) + 0.5) / steps, tf.float32)

        anchor = anchor_of(model)

        @tf.function(input_signature=[spec, spec])
        def step(x, baseline):
            n = tf.shape(x)[0]
            diff = x - baseline
            a = tf.reshape(alphas, (1, steps) + (1,) * len(shape))
            path = tf.reshape(baseline[:, None] + a * diff[:, None], (-1, *shape))
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(path)
                if anchor is None:
                    y = select_output(model(path, training=False), target)
                else:  # profile weights held at the explained sequence x along its path
                    y = _anchored(anchor, path, x, steps)
            grads = tf.reshape(tape.gradient(y, path), tf.concat([[n, steps], shape], 0))
            return diff * tf.reduce_mean(grads, axis=1)

        return step

    return _cached(model, ("ig", target, shape, steps), factory)


class _Readout:
    """Several explained targets of one model read from one forward pass: a model sharing
    ``model``'s layers whose outputs are the tensors the targets are read from (each
    target's explained output, or a profile target's per-position logits), and how each
    target is read from them."""

    def __init__(self, model: keras.Model, targets: list, output: str, X=None):
        resolved = [explained_target(model, target, output, X) for target in targets]
        anchors = [anchor_of(explained) for explained, _ in resolved]
        self.anchored = any(anchor is not None for anchor in anchors)
        if len(resolved) == 1 and not self.anchored:  # any model, subclassed ones too
            self.model, column = resolved[0]
            self.reads = [(0, column, None)]
            return
        tensors: list = []
        self.reads = []  # (tensor index, column or None, ProfileScalar or None)
        for (explained, column), anchor in zip(resolved, anchors):
            tensor = anchor[0].outputs[0] if anchor else explained.outputs[0]
            index = next((i for i, t in enumerate(tensors) if t is tensor), None)
            if index is None:
                index = len(tensors)
                tensors.append(tensor)
            self.reads.append((index, None if anchor else column,
                               anchor[1] if anchor else None))
        self.model = keras.Model(model_inputs(model), tensors, name=f"{model.name}_readout")

    def _outputs(self, rows):
        outs = self.model(rows, training=False)
        return list(outs) if isinstance(outs, (list, tuple)) else [outs]

    def values(self, rows, x=None, owners=None):
        """(rows, K): each target's explained value of ``rows``; a profile target's weights
        are those of the sequences ``x[owners]`` (the rows' own when ``x`` is None)."""
        outs = self._outputs(rows)
        outs_x = self._outputs(x) if x is not None and self.anchored else None
        cols = []
        for index, column, layer in self.reads:
            if layer is None:
                cols.append(select_output(outs[index], column))
                continue
            p = layer.select(outs[index])
            w = layer.weights_for(p if outs_x is None else layer.select(outs_x[index]))
            cols.append(layer.reduce(p, w if outs_x is None else tf.gather(w, owners))[:, 0])
        return tf.stack(cols, axis=1)


def _ism_steps(readout: _Readout, key: tuple, shape: tuple, model) -> tuple[Callable, Callable]:
    """``(step, wild)``: ``step(x, seq, pos, chan) -> (m, K)`` the targets' values of the
    mutants ``x[seq]`` with position ``pos`` set to channel ``chan`` (built on the device, one
    forward pass for every target; profile weights held at the sequence mutated), and
    ``wild(x) -> (n, K)``."""

    def factory():
        idx = tf.TensorSpec((None,), tf.int32)
        spec = tf.TensorSpec((None, *shape), tf.float32)

        @tf.function(input_signature=[spec, idx, idx, idx])
        def step(x, seq, pos, chan):
            mutants = tf.gather(x, seq)
            at = tf.one_hot(pos, shape[0])[:, :, None]           # (m, length, 1)
            row = tf.one_hot(chan, shape[1])[:, None, :]         # (m, 1, C)
            mutants = mutants * (1.0 - at) + at * row
            return readout.values(mutants, x, seq)

        @tf.function(input_signature=[spec])
        def wild(x):
            return readout.values(x)

        return step, wild

    return _cached(model, ("ism", key, shape), factory)


def _anchored(anchor, rows, x, owners):
    """The profile scalar of ``rows`` with the softmax weights of the sequences ``x`` they
    belong to: ``owners`` is an index per row, or an int ``k`` when every sequence owns ``k``
    consecutive rows. Shape (rows, 1)."""
    profile, layer = anchor
    w = layer.weights_for(layer.select(profile(x, training=False)))
    if isinstance(owners, int):
        w = tf.repeat(w, owners, axis=0)
    else:
        w = tf.gather(w, owners)
    return layer.reduce(layer.select(profile(rows, training=False)), w)


def _progress(verbose: bool, desc: str):
    """A function wrapping an iterable of batches in a progress bar, or ``None``."""
    if not verbose:
        return None
    from tqdm.auto import tqdm
    return lambda it: tqdm(it, desc=desc, unit="batch")


def _progress_over(items, verbose: bool, desc: str):
    """``items`` (batches), in a progress bar when ``verbose``; each batch's rows reported
    to the caller's active :class:`~seqexplain.progress.Progress` once it is done."""
    wrap = _progress(verbose, desc)
    for batch in (wrap(items) if wrap else items):
        yield batch
        advance(batch.hi - batch.lo)


def _gradients(model, X, target, batch_size, verbose, desc) -> np.ndarray:
    step = _gradient_step(model, target, X.shape[1:])
    return map_batches(lambda x: step(x)[0], len(X), batch_size, lambda lo, hi: (X[lo:hi],),
                       _progress(verbose, desc))[0]


def _predict(model, X, target, batch_size, anchor_X=None) -> np.ndarray:
    """The explained output of ``X``; for a profile target (weights held at the explained
    sequence) with ``anchor_X``, row i weighted by the softmax of ``anchor_X[i]``."""
    anchor = anchor_of(model) if anchor_X is not None else None
    if anchor is not None:
        out = map_batches(lambda x, a: _anchored(anchor, tf.constant(x), tf.constant(a), 1)[:, 0],
                          len(X), batch_size, lambda lo, hi: (X[lo:hi], anchor_X[lo:hi]))[0]
    else:
        step = _predict_step(model, target, X.shape[1:])
        out = map_batches(step, len(X), batch_size, lambda lo, hi: (X[lo:hi],))[0]
    return out.astype(np.float64)


def explained_output(model: keras.Model, X: np.ndarray, target: int = 0, batch_size: int = 256,
                     *, output: str = "logit") -> np.ndarray:
    """The output the methods explain (the logit by default) for every sequence: what
    completeness, ISM and the motif support tests measure changes of.

    Parameters
    ----------
    model, target, batch_size, output : as in :func:`saliency`.
    X : one-hot sequences, shape=(n, length, C); n may be 0.

    Returns
    -------
    numpy.ndarray
        float64, shape=(n,). Compiled once per model: later weight changes are seen.
    """
    if len(X) == 0:
        return np.zeros(0, np.float64)
    model, X, target, batch_size = _prepare(model, X, target, batch_size, output)
    return _predict(model, X, target, batch_size)


# -- gradient methods ------------------------------------------------------------------------

def saliency(model: keras.Model, X: np.ndarray, target: int = 0, batch_size: int = 256,
             random_state: RandomState = None, *, output: str = "logit", correct: bool = True,
             verbose: bool = False) -> np.ndarray:
    """Gradient of the target output with respect to the one-hot input.

    Parameters
    ----------
    model : Keras model, input (None, length, C); output (None, n_outputs) or (None,), or
        several outputs (a list or dict, e.g. profile (None, L, S) and counts (None, S)).
    X : one-hot sequences, shape=(n, length, C).
    target : output index explained, or a target spec of a model with several or
        per-position outputs (``"counts:0"``, ``"profile"``, ``"profile[90:110]"``; see
        :mod:`seqexplain.heads` and :func:`~.multi_output.explained_target`).
    batch_size : sequences per forward/backward pass.
    random_state : unused (shared signature).
    output : ``"logit"`` (pre-sigmoid/softmax, default) or ``"prob"``.
    correct : subtract the channel mean at each position (gradient correction, Majdandzic et
        al. 2023; see :func:`correct_gradient`). ``False`` returns the raw gradient.
    verbose : show a progress bar.

    Returns
    -------
    numpy.ndarray
        float32, shape=(n, length, C).
    """
    model, X, target, batch_size = _prepare(model, X, target, batch_size, output)
    grad = _gradients(model, X, target, batch_size, verbose, "saliency")
    return correct_gradient(grad) if correct else grad


def grad_input(model: keras.Model, X: np.ndarray, target: int = 0, batch_size: int = 256,
               random_state: RandomState = None, *, output: str = "logit", correct: bool = False,
               hypothetical: bool = False, verbose: bool = False) -> np.ndarray:
    """Gradient × input: the gradient at the observed base of each position.

    Parameters are those of :func:`saliency`; ``correct=True`` corrects the gradient before
    multiplying by ``X``; ``hypothetical=True`` returns the gradient itself (what each base
    would contribute at each position: gradient × e_c).

    Returns
    -------
    numpy.ndarray
        float32, shape=(n, length, C); zero at unobserved channels of one-hot rows (unless
        ``hypothetical``).
    """
    model, X, target, batch_size = _prepare(model, X, target, batch_size, output)
    grad = _gradients(model, X, target, batch_size, verbose, "grad_input")
    grad = correct_gradient(grad) if correct else grad
    return grad if hypothetical else grad * X


def integrated_gradients(model: keras.Model, X: np.ndarray, target: int = 0,
                         batch_size: int = 512, random_state: RandomState = None, *,
                         output: str = "logit", baseline: str | np.ndarray = "zero",
                         steps: int = 50, return_delta: bool = False,
                         warning_threshold: float = 0.05,
                         verbose: bool = False) -> ScoresMaybeDelta:
    """Integrated gradients (Sundararajan et al. 2017) from a baseline to each sequence.

    ``(x - baseline) × mean gradient`` along the straight path, the mean taken by the
    midpoint rule over ``steps`` points. The gradient of a ReLU/max-pool network jumps along
    the path, so the completeness error shrinks only like 1/steps there (about 1 % of
    ``|f(x) - f(baseline)|`` at 50 steps); raise ``steps`` when the warning fires.

    Parameters
    ----------
    model, X, target, output, verbose : as in :func:`saliency`.
    batch_size : path points per forward/backward pass (at least one sequence's ``steps``).
    random_state : unused (shared signature).
    baseline : ``"zero"`` (all-zero rows, default), ``"uniform"`` (1/C everywhere), or an
        array of shape=(length, C) (every sequence) or shape=(n, length, C) (one each).
    steps : path points (≥ 1).
    return_delta : also return the completeness error per sequence.
    warning_threshold : warn when ``|delta| > warning_threshold ×`` the largest |output| of the
        sequences and baselines (the scale float32 rounding acts on).

    Returns
    -------
    attributions : numpy.ndarray, float32, shape=(n, length, C).
    delta : numpy.ndarray, shape=(n,) — only with ``return_delta=True``:
        ``f(x) - f(baseline) - attributions.sum((1, 2))``.
    """
    model, X, target, batch_size = _prepare(model, X, target, batch_size, output)
    steps = check_int("steps", steps)
    base = _fixed_references(X, baseline, "baseline", per_sequence_ndim=3)[:, 0]
    step = _ig_step(model, target, X.shape[1:], steps)
    per_batch = max(1, batch_size // steps)

    def fetch(lo, hi):
        b = base[lo:hi] if len(base) > 1 else np.broadcast_to(base, X[lo:hi].shape)
        return X[lo:hi], np.ascontiguousarray(b)

    attr = map_batches(step, len(X), per_batch, fetch,
                       _progress(verbose, "integrated gradients"))[0]
    y = _predict(model, X, target, batch_size)
    y0 = _predict(model, np.ascontiguousarray(np.broadcast_to(base, X.shape)), target, batch_size,
                  anchor_X=X)
    delta = (y - y0) - attr.sum(axis=(1, 2), dtype=np.float64)
    _warn_deltas("integrated_gradients", delta, (y, y0), warning_threshold)
    return (attr, delta) if return_delta else attr


# -- DeepLIFT / DeepSHAP ---------------------------------------------------------------------

def deeplift(model: keras.Model, X: np.ndarray, target: int = 0, batch_size: int = 512,
             random_state: RandomState = None, *, output: str = "logit",
             reference: str | np.ndarray = "uniform", hypothetical: bool = False,
             return_delta: bool = False, warning_threshold: float = 1e-3,
             verbose: bool = False) -> ScoresMaybeDelta:
    """DeepLIFT (rescale rule; DeepSHAP max-pool rule) against one reference per sequence.

    Parameters
    ----------
    model, X, target, output, verbose : as in :func:`saliency`.
    batch_size : sequences per pass.
    random_state : seed for ``reference="shuffle"``.
    reference : ``"uniform"`` (1/C everywhere, default), ``"zero"``, ``"shuffle"`` (one
        dinucleotide shuffle of each sequence), or an array of shape=(length, C) (every
        sequence) or shape=(n, length, C) (one each).
    hypothetical, return_delta, warning_threshold : as in :func:`deep_shap`.

    Returns
    -------
    As :func:`deep_shap`.
    """
    if isinstance(reference, str):
        if reference not in REFERENCE_KINDS:
            raise SeqexplainError(f"reference={reference!r}: choose one of "
                                  f"{', '.join(REFERENCE_KINDS)} or pass an array")
        references = reference
    else:
        ref = np.asarray(reference, dtype=np.float32)
        if ref.ndim == 3:  # one reference per sequence → (n, 1, length, C)
            ref = ref[:, None]
        elif ref.ndim == 2:  # one reference for every sequence → (1, length, C)
            ref = ref[None]
        references = ref
    return _deeplift_shap("deeplift", model, X, target, batch_size, random_state, output,
                          references, 1, hypothetical, return_delta, warning_threshold,
                          verbose)


def deep_shap(model: keras.Model, X: np.ndarray, target: int = 0, batch_size: int = 512,
              random_state: RandomState = None, *, output: str = "logit",
              references: str | np.ndarray | Callable = "shuffle",
              n_references: int = N_REFERENCES, hypothetical: bool = False,
              return_delta: bool = False, warning_threshold: float = 1e-3,
              verbose: bool = False) -> ScoresMaybeDelta:
    """DeepSHAP: DeepLIFT multipliers averaged over many references, native TF engine.

    Rules: rescale for element-wise nonlinearities, the DeepSHAP max-pool rule for max
    pooling, linear layers pass through (see :mod:`seqexplain.attribution.engine`). A layer
    without a rule raises :class:`SeqexplainError`.

    Parameters
    ----------
    model : Sequential or Functional Keras model; input (None, length, C), output (None,
        n_outputs) or (None,).
    X : one-hot sequences, shape=(n, length, C).
    target : output index explained, or a target spec of a model with several or
        per-position outputs (``"counts:0"``, ``"profile"``, ``"profile[90:110]"``; see
        :mod:`seqexplain.heads` and :func:`~.multi_output.explained_target`).
    batch_size : (sequence, reference) pairs per pass; rounded down to whole sequences (at
        least one).
    random_state : seed for the default shuffled references (int or Generator); the same seed
        gives the same references whatever ``batch_size`` is.
    output : ``"logit"`` (default) or ``"prob"``.
    references : ``"shuffle"`` (default: ``n_references`` dinucleotide shuffles of each
        sequence), ``"zero"`` or ``"uniform"`` (a single all-zero / 1/C reference), an array of
        shape=(r, length, C) (one background set for every sequence), an array of
        shape=(n, r, length, C) (per sequence), or a callable ``f(X, n=..., random_state=...)``
        returning shape=(len(X), n, length, C) like
        :func:`~seqexplain.shuffle.dinucleotide_shuffle`.
    n_references : references per sequence for ``"shuffle"`` or a callable.
    hypothetical : return hypothetical contributions — for every channel ``c`` at every
        position, ``mean_r sum_c' (e_c - r)_c' m_c'``: what the base would contribute if it
        were ``c`` (what TF-MoDISco needs). ``False`` (default) returns observed contributions,
        hypothetical × X.
    return_delta : also return the completeness error per sequence.
    warning_threshold : warn when ``|delta| > warning_threshold ×`` the largest |output| of the
        sequences and (mean) references (the scale float32 rounding acts on).
    verbose : show a progress bar.

    Returns
    -------
    attributions : numpy.ndarray, float32, shape=(n, length, C).
    delta : numpy.ndarray, shape=(n,) — only with ``return_delta=True``:
        ``f(x) - mean_r f(r) - mean_r sum((x - r) × m)``. For one-hot X the observed
        contributions sum to the same value; rows that are not one-hot (e.g. all-zero N) keep
        only the hypothetical × X part.
    """
    return _deeplift_shap("deep_shap", model, X, target, batch_size, random_state, output,
                          references, n_references, hypothetical, return_delta,
                          warning_threshold, verbose)


def _deeplift_shap(method: str, model, X, target, batch_size, random_state, output, references,
                   n_references, hypothetical, return_delta, warning_threshold, verbose):
    """The body of :func:`deeplift` and :func:`deep_shap`; ``method`` names it in messages."""
    model, X, target, batch_size = _prepare(model, X, target, batch_size, output)
    check_supported(model)
    n_refs, get_refs, _ = _resolve_references(X, references, n_references, random_state)
    hyp, diff_sum, y_x, y_r = run_pairs(model, X, get_refs, n_refs, target, batch_size,
                                        progress=_progress(verbose, method))
    delta = (y_x - y_r) - diff_sum
    _warn_deltas(method, delta, (y_x, y_r), warning_threshold)
    attr = hyp if hypothetical else hyp * X
    return (attr, delta) if return_delta else attr


def _fixed_references(X: np.ndarray, spec, name: str, per_sequence_ndim: int = 4) -> np.ndarray:
    """A named or given reference set as shape (1, r, length, C) (shared) or
    (n, r, length, C) (per sequence); ``per_sequence_ndim`` is the rank of a per-sequence
    array (4 for DeepSHAP's (n, r, length, C), 3 for one baseline per sequence)."""
    n, length, channels = X.shape
    if isinstance(spec, str):
        if spec == "zero":
            return np.zeros((1, 1, length, channels), np.float32)
        if spec == "uniform":
            return np.full((1, 1, length, channels), 1.0 / channels, np.float32)
        kinds = REFERENCE_KINDS if name == "references" else REFERENCE_KINDS[1:]
        raise SeqexplainError(f"{name}={spec!r}: choose one of {', '.join(kinds)} or pass an "
                              f"array")
    ref = validate_reference(spec, name)
    if ref.ndim == per_sequence_ndim:
        if per_sequence_ndim == 3:
            ref = ref[:, None]
        if ref.shape[0] != n or ref.shape[2:] != (length, channels):
            raise SeqexplainError(f"{name} has shape {np.shape(spec)} but must have shape "
                                  f"({n}, {'r, ' if per_sequence_ndim == 4 else ''}"
                                  f"{length}, {channels}) for X of shape {X.shape}")
        return ref
    if ref.ndim == per_sequence_ndim - 1:
        ref = ref[None] if per_sequence_ndim == 4 else ref[None, None]
    if ref.ndim != 4 or ref.shape[2:] != (length, channels):
        shapes = ("(r, {0}, {1}) or ({2}, r, {0}, {1})" if per_sequence_ndim == 4
                  else "({0}, {1}) or ({2}, {0}, {1})").format(length, channels, n)
        raise SeqexplainError(f"{name} has shape {np.shape(spec)} but must have shape {shapes}")
    return ref


def validate_reference(ref, name: str) -> np.ndarray:
    """A user-given reference array as float32; finite, values in [0, 1]."""
    try:
        arr = np.asarray(ref, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise SeqexplainError(f"{name} must be a numeric array: {err}") from None
    if arr.size == 0:
        raise SeqexplainError(f"{name} is empty (shape {arr.shape})")
    if not np.isfinite(arr).all():
        raise SeqexplainError(f"{name} contains NaN or infinite values")
    return arr


def _resolve_references(X: np.ndarray, references, n_references: int,
                        random_state: RandomState):
    """``(R, get, shared)``: ``get(lo, hi)`` gives the references of sequences lo:hi, shape
    (hi - lo, R, length, C); ``shared`` tells whether every sequence has the same ones."""
    if isinstance(references, str) and references == "shuffle" or callable(references):
        n_references = check_int("n_references", n_references)
        if isinstance(references, str):
            from ..shuffle import dinucleotide_shuffle as make
        else:
            make = references
        return n_references, _GeneratedReferences(X, make, n_references, random_state), False
    ref = _fixed_references(X, references, "references")
    if ref.shape[0] == 1:
        return (ref.shape[1], lambda lo, hi: np.broadcast_to(ref, (hi - lo, *ref.shape[1:])),
                True)
    return ref.shape[1], lambda lo, hi: ref[lo:hi], False


class _GeneratedReferences:
    """References drawn by ``make(X_block, n=R, random_state=seed)`` for fixed blocks of
    sequences, each block with its own child seed: the same seed gives the same references
    whatever batches ask for them, and only one block is held in memory."""

    def __init__(self, X: np.ndarray, make: Callable, n: int, random_state: RandomState):
        self.X, self.make, self.n = X, make, n
        if isinstance(random_state, np.random.Generator):
            random_state = int(random_state.integers(2**63))
        elif random_state is not None and not isinstance(random_state, numbers.Integral):
            raise SeqexplainError(f"random_state={random_state!r}: expected an integer, a "
                                  f"numpy Generator or None")
        self.seeds = np.random.SeedSequence(random_state)
        self.block_index, self.block = -1, None

    def _block(self, k: int) -> np.ndarray:
        if k != self.block_index:
            lo = k * _SHUFFLE_BLOCK
            # block k's own stream: independent of which batches ask for it
            seed = np.random.default_rng(np.random.SeedSequence(self.seeds.entropy,
                                                                spawn_key=(k,)))
            refs = np.asarray(self.make(self.X[lo:lo + _SHUFFLE_BLOCK], n=self.n,
                                        random_state=seed), dtype=np.float32)
            expected = (min(_SHUFFLE_BLOCK, len(self.X) - lo), self.n, *self.X.shape[1:])
            if refs.shape != expected:
                raise SeqexplainError(f"the reference function returned shape {refs.shape}; "
                                      f"expected {expected}")
            self.block_index, self.block = k, refs
        return self.block

    def __call__(self, lo: int, hi: int) -> np.ndarray:
        first, last = lo // _SHUFFLE_BLOCK, (hi - 1) // _SHUFFLE_BLOCK
        parts = []
        for k in range(first, last + 1):
            block = self._block(k)
            start = max(lo, k * _SHUFFLE_BLOCK) - k * _SHUFFLE_BLOCK
            stop = min(hi, (k + 1) * _SHUFFLE_BLOCK) - k * _SHUFFLE_BLOCK
            parts.append(block[start:stop])
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _warn_deltas(method: str, delta: np.ndarray, outputs: tuple[np.ndarray, ...],
                 threshold: float | None) -> None:
    """RuntimeWarning naming the sequences whose completeness error exceeds ``threshold ×``
    the batch's output scale (the largest |output| among ``outputs``) — rounding acts on that
    scale, not on one sequence's difference, which may be close to zero."""
    if threshold is None:
        return
    scale = max(float(np.max(np.abs(o))) if np.size(o) else 0.0 for o in outputs)
    bad = np.flatnonzero(~(np.abs(delta) <= threshold * scale))
    if bad.size:
        shown = ", ".join(str(i) for i in bad[:10]) + (", ..." if bad.size > 10 else "")
        warnings.warn(
            f"{method}: attributions of {bad.size} sequence{'s' if bad.size > 1 else ''} do "
            f"not sum to the output difference (|delta| up to {np.nanmax(np.abs(delta[bad])):.3g}"
            f", threshold {threshold:g} × largest |output| {scale:.3g}): sequences {shown}",
            RuntimeWarning, stacklevel=3)


# -- in-silico mutagenesis -------------------------------------------------------------------

def ism(model: keras.Model, X: np.ndarray, target: int = 0, batch_size: int = 1024,
        random_state: RandomState = None, *, output: str = "logit", center: bool = False,
        fast: bool = True, verbose: bool = False) -> np.ndarray:
    """In-silico saturation mutagenesis: the change of the target output for every single
    substitution, ``f(x with position i set to channel c) - f(x)``.

    Mutants are built on the device and predicted in batches; a one-hot row's own base is not
    re-predicted (its change is 0). Rows that are not one-hot (N) get all C substitutions.
    By default (``fast=True``) each mutant's activations are recomputed only inside the
    receptive field of its substitution, up to the first layer that mixes all positions
    (:mod:`seqexplain.attribution.fast_ism`); models it cannot window (subclassed, several
    inputs, no convolution or pooling) take the batched path, with the same results.

    Parameters
    ----------
    model, X, target, output, verbose : as in :func:`saliency`.
    batch_size : mutants per forward pass (fast ISM: ``FAST_ISM_BATCH ×`` as many, each
        being a few windows instead of the whole network's activations).
    random_state : unused (shared signature).
    center : subtract the mean of the C values at each position (the centred ISM map).
    fast : recompute by windows where the model allows it; ``False``: every mutant through the
        whole model (naive batched ISM).

    Returns
    -------
    numpy.ndarray
        float32, shape=(n, length, C).
    """
    return ism_targets(model, X, [target], batch_size, output=output, center=center,
                       fast=fast, verbose=verbose)[0]


def ism_targets(model: keras.Model, X: np.ndarray, targets: list, batch_size: int = 1024, *,
                output: str = "logit", center: bool = False, fast: bool = True,
                verbose: bool = False) -> list[np.ndarray]:
    """:func:`ism` of several targets of one model from the same forward passes: every
    mutant is predicted once and each target (an index or a spec such as ``"counts:0"``,
    ``"profile"``) read from the outputs. Fast (windowed) ISM applies when every target is
    read from one output tensor (a profile scalar too: its weights are those of the sequence
    mutated); otherwise, and with ``fast=False``, the batched path.

    Returns
    -------
    list of numpy.ndarray
        One float32 array of shape=(n, length, C) per target, in order.
    """
    X = validate_input(X, model)
    batch_size = check_int("batch_size", batch_size)
    targets = list(targets)
    readout = _Readout(model, targets, output, X)
    key = (tuple(str(t) for t in targets), output)
    step, wild_step = _ism_steps(readout, key, X.shape[1:], model)
    n, length, channels = X.shape
    fast_step = _fast_ism_step(readout, key, X.shape[1:], model) if fast else None
    windowed = fast_step is not None
    if windowed:
        step = fast_step
    wild = map_batches(wild_step, n, batch_size, lambda lo, hi: (X[lo:hi],))[0]
    wild = wild.astype(np.float64)
    # substitution (i, p, c) is needed unless row p of sequence i already is e_c
    needed = ~((X == 1) & (X.sum(axis=-1, keepdims=True) == 1))
    per_seq = max(1, int(needed.reshape(n, -1).sum(axis=1).max()))
    if windowed:
        batch_size *= FAST_ISM_BATCH  # windows: a fraction of a mutant's activations
    # sequences whose mutants fill about four batches, cut into equal pieces ≤ batch_size
    chunk = max(1, round(4 * batch_size / per_seq))
    out = np.zeros((len(targets), n, length, channels), np.float64)
    for lo, hi, _ in _progress_over(batches(n, chunk, pad=False), verbose, "ism"):
        seq, pos, chan = (a.astype(np.int32) for a in np.nonzero(needed[lo:hi]))
        x = X[lo:hi]
        m = len(seq)
        # equal-sized pieces of at most batch_size mutants
        pieces = -(-m // batch_size)
        size = -(-m // pieces) if pieces else 0
        for a in range(0, m, max(size, 1)):
            b = a + size
            y = step(x, seq[a:b], pos[a:b], chan[a:b]).numpy()        # (m, K)
            out[:, lo + seq[a:b], pos[a:b], chan[a:b]] = (y - wild[lo + seq[a:b]]).T
    if center:
        out -= out.mean(axis=-1, keepdims=True)
    return list(out.astype(np.float32))


def _fast_ism_plan(model: keras.Model) -> list[str] | None:
    """The windowed layers of fast ISM for ``model`` (cached), or ``None``."""
    cache = model_cache(model)
    if "fast_ism_plan" not in cache:
        cache["fast_ism_plan"] = fast_ism.plan(model)
    return cache["fast_ism_plan"]


def _fast_ism_step(readout: _Readout, key: tuple, shape: tuple, model) -> Callable | None:
    """The windowed ISM step of ``readout`` (same contract as the batched step of
    :func:`_ism_steps`), or ``None`` when fast ISM does not apply: targets read from
    several output tensors, or a model :func:`fast_ism.plan` refuses. A profile scalar is
    read from the mutants' windowed profile with the weights of the sequence mutated (a
    substitution changes the logits of its receptive field only, so the windows save
    most of the work)."""
    if len(getattr(readout.model, "outputs", None) or ()) != 1 or any(
            index != 0 for index, _, _ in readout.reads):
        return None  # a subclassed model has no graph (and no ``outputs``) to window
    if _fast_ism_plan(readout.model) is None:
        return None
    columns = [column for _, column, _ in readout.reads]
    reduce = None
    if any(layer is not None for _, _, layer in readout.reads):
        reads = readout.reads

        def reduce(out, out_x, seq):
            cols = []
            for _, column, layer in reads:
                if layer is None:
                    cols.append(select_output(out, column))
                    continue
                w = tf.gather(layer.weights_for(layer.select(out_x)), seq)
                cols.append(layer.reduce(layer.select(out), w)[:, 0])
            return tf.stack(cols, axis=1)

    return _cached(model, ("fast_ism", key, shape),
                   lambda: fast_ism.fast_ism_step(readout.model, columns, shape, reduce))


# -- shap's DeepExplainer ---------------------------------------------------------------------

def _first_line(err: Exception, width: int = 160) -> str:
    """An exception's message on one line (TensorFlow's run over many, with a traceback)."""
    lines = str(err).strip().splitlines()
    return lines[0][:width] if lines else ""


def shap_explainer(model: keras.Model, X: np.ndarray, target: int = 0, batch_size: int = 512,
              random_state: RandomState = None, *, output: str = "logit",
              references: str | np.ndarray | Callable = "shuffle",
              n_references: int = N_REFERENCES, project: bool = True,
              return_delta: bool = False, warning_threshold: float = 1e-3,
              verbose: bool = False) -> ScoresMaybeDelta:
    """DeepSHAP values from the shap library's own ``DeepExplainer``, for cross-checking
    :func:`deep_shap` (same references, same conventions).

    Falls back to ``shap.GradientExplainer`` (expected gradients — a different method) with a
    ``RuntimeWarning`` when DeepExplainer cannot handle the model (e.g. GlobalMaxPooling1D,
    which shap has no max-pool rule for; write it as ``MaxPooling1D(length) + Flatten``).
    shap explains one sequence at a time: this is slow, meant for checks on a subset.

    Parameters
    ----------
    model, X, target, output, verbose : as in :func:`deep_shap`.
    batch_size : unused (shap batches per sequence).
    random_state, references, n_references : as in :func:`deep_shap`.
    project : put the sum over channels of shap's values at each position on the observed
        base (the convention of :func:`deep_shap`, exact for one-hot rows). ``False`` returns
        shap's values as they are, ``mean_r (x - r) × m``.
    return_delta, warning_threshold : as in :func:`deep_shap`.

    Returns
    -------
    As :func:`deep_shap` (observed contributions).
    """
    with warnings.catch_warnings():  # shap's own import-time deprecation notices
        warnings.simplefilter("ignore")
        import shap

    model, X, target, batch_size = _prepare(model, X, target, batch_size, output)
    if anchor_of(model) is not None:
        raise SeqexplainError("method 'shap' cannot hold a profile target's softmax weights "
                              "at the explained sequence; use method 'deepshap' (or a window "
                              "target such as profile[90:110])")
    n_refs, get_refs, shared = _resolve_references(X, references, n_references, random_state)
    out = model.outputs[0]
    single = keras.Model(model_inputs(model), out[:, target:target + 1] if len(out.shape) == 2
                         else keras.ops.expand_dims(out, -1), name=f"{model.name}_target")
    refs_all = np.ascontiguousarray(get_refs(0, len(X)), dtype=np.float32)
    with warnings.catch_warnings():
        # shap warns about TF > 2.4 graph support and Keras about input structures every call
        warnings.filterwarnings("ignore", message=".*TensorFlow version is newer.*")
        warnings.filterwarnings("ignore", message=".*structure of `inputs`.*")
        try:
            values = _shap_deep_values(shap, single, X, refs_all, shared, verbose)
        except Exception as err:  # shap raises assorted errors on ops it cannot handle
            try:
                values = _shap_gradient_values(shap, single, X, refs_all, shared, random_state)
            except Exception as second:  # neither explainer handles the model
                raise SeqexplainError(
                    f"shap cannot explain model {model.name!r}: DeepExplainer failed "
                    f"({type(err).__name__}) and so did GradientExplainer "
                    f"({type(second).__name__}: {_first_line(second)}); "
                    f"use method 'deepshap'") from None
            # warned once the fallback worked (a failure is one error line, nothing before it)
            warnings.warn(f"shap_explainer: shap's DeepExplainer cannot handle model "
                          f"{model.name!r} ({type(err).__name__}: {_first_line(err)}); "
                          f"falling back to shap.GradientExplainer (expected gradients, not "
                          f"DeepSHAP values)", RuntimeWarning, stacklevel=2)
    y_x = _predict(model, X, target, 1024)
    y_r = _predict(model, refs_all.reshape(-1, *X.shape[1:]), target, 1024)
    y_r = y_r.reshape(len(X), n_refs).mean(axis=1)
    delta = (y_x - y_r) - values.sum(axis=(1, 2), dtype=np.float64)
    _warn_deltas("shap_explainer", delta, (y_x, y_r), warning_threshold)
    if project:
        values = values.sum(axis=-1, keepdims=True) * X
    values = values.astype(np.float32)
    return (values, delta) if return_delta else values


def _shap_deep_values(shap, model, X, refs, shared, verbose) -> np.ndarray:
    # DeepExplainer swaps TensorFlow's global gradient recorder while it runs and leaves the
    # swap in place when it fails, breaking every later gradient in the process: restore it.
    from tensorflow.python.eager import execute as tf_execute

    recorder = tf_execute.record_gradient
    try:
        if shared:
            explainer = shap.DeepExplainer(model, refs[0])
        else:
            # shap asks data(x) for each sequence in order: hand out that sequence's references
            order = iter(range(len(X)))
            explainer = shap.DeepExplainer(model, lambda x: [refs[next(order)]])
        values = explainer.shap_values(X, check_additivity=False)
    finally:
        tf_execute.record_gradient = recorder
    return np.asarray(values, dtype=np.float64).reshape(X.shape)


def _shap_gradient_values(shap, model, X, refs, shared, random_state) -> np.ndarray:
    seed = random_state if isinstance(random_state, numbers.Integral) else 0
    if shared:
        values = shap.GradientExplainer(model, refs[0]).shap_values(X, rseed=int(seed))
        return np.asarray(values, dtype=np.float64).reshape(X.shape)
    out = np.empty(X.shape, np.float64)
    for i in range(len(X)):
        values = shap.GradientExplainer(model, refs[i]).shap_values(X[i:i + 1], rseed=int(seed))
        out[i] = np.asarray(values, dtype=np.float64).reshape(X.shape[1:])
    return out
