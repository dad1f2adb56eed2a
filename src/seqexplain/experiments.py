"""In-silico experiments: what putting motifs into sequences does to a model's output.

Each experiment edits a batch of background sequences (:mod:`seqexplain.edit`), runs ``func``
on the sequences before and after, and returns both: ``func`` is any array verb with the
contract ``func(model, X, **kwargs) → array whose first axis is the sequences`` —
:func:`~seqexplain.prediction.predict` (the default) or
:func:`~seqexplain.attribution.registry.attribute` with a ``method=``, so an experiment can
also give the attributions after an insertion.

==================  ===============================================================  =========
experiment          after                                                             result
==================  ===============================================================  =========
:func:`marginalize` the motif in every background (at ``start``, default centred)      Marginal
:func:`ablate`      ``[start, end)`` shuffled, ``n`` times per background              Marginal
:func:`space`       two or more motifs at each spacing (start to start), one strand    Spacing
                    per motif (``orientations``)
:func:`dosage`      1, 2, … copies of the motif, evenly spread                        Dosage
==================  ===============================================================  =========

Backgrounds that do not lie: :func:`shuffled_backgrounds` (dinucleotide shuffles of the
user's own sequences: their composition, none of their motifs) is what the command line uses
by default. Uniform random DNA has 50 % GC, and a model trained on GC-rich peaks scores such
sequences by their GC content first, so every insertion there looks larger than it is.

The model is loaded once (:func:`~seqexplain.bundle.load_model`) and ``func`` runs on the
whole edited batch, in ``func``'s own batches: the numbers are those of ``func`` on the
edited arrays, whatever ``batch_size``.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .encoding import reverse_complement
from .errors import SeqexplainError
from .shuffle import RandomState, dinucleotide_shuffle

#: strand of each motif in :func:`space`: ``+`` as given, ``-`` reverse complement
STRANDS = ("+", "-")


@dataclass(frozen=True)
class Marginal:
    """``func`` on the backgrounds before and after an edit.

    ``before``: shape=(n, …); ``after``: (n, …) for an insertion, (n, k, …) for ``k``
    shuffles of an ablation."""

    before: np.ndarray
    after: np.ndarray

    @property
    def difference(self) -> np.ndarray:
        """``after − before``, shape of ``after``."""
        before = self.before if self.after.ndim == self.before.ndim else \
            np.expand_dims(self.before, 1)
        return self.after - before


@dataclass(frozen=True)
class Spacing:
    """``func`` with the motifs at each spacing: ``after`` shape=(len(spacings), n, …),
    ``before`` (n, …); ``spacings`` as given (each a tuple of start-to-start offsets)."""

    spacings: tuple
    before: np.ndarray
    after: np.ndarray

    @property
    def difference(self) -> np.ndarray:
        return self.after - self.before[None]


@dataclass(frozen=True)
class Dosage:
    """``func`` with ``copies[i]`` copies of the motif: ``after`` shape=(len(copies), n, …),
    ``starts[i]`` the copies' start positions."""

    copies: tuple[int, ...]
    starts: tuple[tuple[int, ...], ...]
    before: np.ndarray
    after: np.ndarray

    @property
    def difference(self) -> np.ndarray:
        return self.after - self.before[None]


def _default_func() -> Callable:
    from .prediction import predict

    return predict


def _prepare(model, X, alphabet=None):
    """(bundle, X as the model's one-hot array)."""
    from .bundle import load_model

    bundle = load_model(model, alphabet)
    return bundle, bundle.onehot_input(X)


def _run(func: Callable | None, bundle, X: np.ndarray, kwargs: dict) -> np.ndarray:
    func = func or _default_func()
    # sx.predict takes the loaded bundle (its alphabet, targets); any other verb the Keras
    # model, as every array verb does
    model = bundle if func is _default_func() else bundle.model
    return np.asarray(func(model, X, **kwargs))


def _oriented(motif, strand: str, alphabet):
    if strand not in STRANDS:
        raise SeqexplainError(f"strand {strand!r}: use + or -")
    if strand == "+":
        return motif
    return reverse_complement(motif if isinstance(motif, str) else np.asarray(motif),
                              alphabet)


def _width(motif, alphabet) -> int:
    return len(motif) if isinstance(motif, str) else int(np.asarray(motif).shape[0])


def marginalize(model, X, motif, *, start: int | None = None, func: Callable | None = None,
                random_state: RandomState = 0, alphabet=None, **kwargs) -> Marginal:
    """``func`` on every background before and after ``motif`` is written into it.

    Parameters
    ----------
    model : a Keras model, a ``.keras``/``.h5`` file, a model folder or a ModelBundle.
    X : backgrounds, one-hot shape=(n, length, C) (or strings).
    motif : a string, a one-hot array (L_m, C), or a PWM (L_m, C) drawn per background.
    start : first position of the motif; default centred.
    func : the array verb run before and after (default :func:`sx.predict`).
    random_state : seeds the PWM draws.
    alphabet : of a bare Keras model (see ``load_model``).
    **kwargs : passed to ``func`` (``target=``, ``output="logit"``, ``batch_size=``,
        ``method=`` …).

    Returns
    -------
    :class:`Marginal` with ``before``, ``after`` shape=(n, …) and ``difference``.
    """
    from .edit import substitute

    bundle, X = _prepare(model, X, alphabet)
    edited = substitute(X, motif, start, alphabet=bundle.alphabet, random_state=random_state)
    return Marginal(_run(func, bundle, X, kwargs), _run(func, bundle, edited, kwargs))


def ablate(model, X, start: int, end: int, *, n: int = 10, kind: str = "dinucleotide",
           func: Callable | None = None, random_state: RandomState = 0, alphabet=None,
           **kwargs) -> Marginal:
    """``func`` on every sequence before and after ``[start, end)`` is shuffled, ``n`` times
    each (:func:`~seqexplain.edit.shuffle_region`).

    Returns
    -------
    :class:`Marginal`: ``before`` shape=(N, …), ``after`` (N, n, …).
    """
    from .edit import shuffle_region

    bundle, X = _prepare(model, X, alphabet)
    shuffled = shuffle_region(X, start, end, kind=kind, n=n, random_state=random_state)
    after = _run(func, bundle, shuffled.reshape(-1, *X.shape[1:]), kwargs)
    return Marginal(_run(func, bundle, X, kwargs), after.reshape(len(X), n, *after.shape[1:]))


def _as_offsets(spacing, k: int) -> tuple[int, ...]:
    offsets = (spacing,) if isinstance(spacing, numbers.Integral) else tuple(spacing)
    if len(offsets) != k - 1 or not all(isinstance(o, numbers.Integral) for o in offsets):
        raise SeqexplainError(f"spacing {spacing!r}: give {k - 1} integer start-to-start "
                              f"offset(s) for {k} motifs")
    return tuple(int(o) for o in offsets)


def arrangement_starts(widths: Sequence[int], offsets: Sequence[int], length: int,
                       start: int | None = None) -> list[int]:
    """Start of each motif: motif ``i+1`` starts ``offsets[i]`` after motif ``i`` (negative:
    before it); the whole arrangement starts at ``start`` (default: centred)."""
    rel = np.concatenate([[0], np.cumsum(offsets)]).astype(int)
    lo = int(min(rel))
    hi = int(max(r + w for r, w in zip(rel, widths)))
    first = (length - (hi - lo)) // 2 if start is None else int(start)
    starts = [first + int(r) - lo for r in rel]
    if min(starts) < 0 or max(s + w for s, w in zip(starts, widths)) > length:
        raise SeqexplainError(f"motifs at offsets {tuple(offsets)} span {hi - lo} positions "
                              f"from {first}; the sequences have {length}")
    return starts


def space(model, X, motifs: Sequence, spacings: Sequence, *, orientations: str | None = None,
          start: int | None = None, func: Callable | None = None, random_state: RandomState = 0,
          alphabet=None, **kwargs) -> Spacing:
    """``func`` with ``motifs`` written into every background at each spacing.

    Parameters
    ----------
    motifs : two or more motifs (strings, one-hot arrays or PWMs), written in order (a later
        one over an earlier one where they overlap).
    spacings : for two motifs, ints: start of the second − start of the first (negative: the
        second comes first); for k motifs, tuples of k − 1 such offsets.
    orientations : one strand per motif, e.g. ``"+-"`` (second motif reverse complemented);
        default all ``+``. DNA and RNA only for ``-``.
    start : where the arrangement starts; default centred at each spacing.
    func, random_state, alphabet, kwargs : as :func:`marginalize`; a PWM is drawn once per
        background and spacing.

    Returns
    -------
    :class:`Spacing`: ``after`` shape=(len(spacings), n, …).
    """
    from .edit import substitute

    motifs = list(motifs)
    if len(motifs) < 2:
        raise SeqexplainError("space: give two or more motifs")
    orientations = orientations or "+" * len(motifs)
    if len(orientations) != len(motifs):
        raise SeqexplainError(f"orientations {orientations!r}: one strand (+/-) per motif "
                              f"({len(motifs)})")
    bundle, X = _prepare(model, X, alphabet)
    oriented = [_oriented(m, s, bundle.alphabet) for m, s in zip(motifs, orientations)]
    widths = [_width(m, bundle.alphabet) for m in oriented]
    rng = np.random.default_rng(random_state)
    offsets = [_as_offsets(s, len(motifs)) for s in spacings]
    edited = []
    for offset in offsets:
        x = X
        for motif, s in zip(oriented, arrangement_starts(widths, offset, X.shape[1], start)):
            x = substitute(x, motif, s, alphabet=bundle.alphabet, random_state=rng)
        edited.append(x)
    after = _run(func, bundle, np.concatenate(edited), kwargs) if edited else np.empty(0)
    after = after.reshape(len(offsets), len(X), *after.shape[1:])
    return Spacing(tuple(spacings), _run(func, bundle, X, kwargs), after)


def dosage_starts(width: int, copies: int, length: int) -> tuple[int, ...]:
    """Starts of ``copies`` copies of a motif of ``width``, evenly spread over ``length``
    (centres at ``length · (i + 1/2) / copies``), none overlapping."""
    if copies * width > length:
        raise SeqexplainError(f"{copies} copies of a {width}-position motif do not fit in "
                              f"{length} positions")
    starts = [int(round(length * (i + 0.5) / copies - width / 2)) for i in range(copies)]
    starts = [min(max(s, 0), length - width) for s in starts]
    return tuple(starts)


def dosage(model, X, motif, copies: Sequence[int] = (1, 2, 3), *, func: Callable | None = None,
           random_state: RandomState = 0, alphabet=None, **kwargs) -> Dosage:
    """``func`` with 1, 2, … copies of ``motif`` evenly spread in every background
    (:func:`dosage_starts`); a PWM gives every copy its own draw.

    Returns
    -------
    :class:`Dosage`: ``after`` shape=(len(copies), n, …).
    """
    from .edit import substitute

    bundle, X = _prepare(model, X, alphabet)
    width = _width(motif, bundle.alphabet)
    rng = np.random.default_rng(random_state)
    copies = tuple(int(c) for c in copies)
    if any(c < 0 for c in copies):
        raise SeqexplainError(f"copies {copies}: counts must be ≥ 0")
    placed = [dosage_starts(width, c, X.shape[1]) if c else () for c in copies]
    edited = []
    for starts in placed:
        x = X
        for s in starts:
            x = substitute(x, motif, s, alphabet=bundle.alphabet, random_state=rng)
        edited.append(x)
    after = _run(func, bundle, np.concatenate(edited), kwargs)
    after = after.reshape(len(copies), len(X), *after.shape[1:])
    return Dosage(copies, tuple(placed), _run(func, bundle, X, kwargs), after)


def default_target(bundle):
    """The target an experiment measures when given none: the model's first output (its name)
    or, for one output, column 0 — what ``sx.attribute`` explains by default."""
    return 0 if bundle.single_output else bundle.targets(None)[0].name


def low_scoring_backgrounds(model, X, n: int, *, target=None, batch_size: int = 256,
                            alphabet=None) -> np.ndarray:
    """The ``n`` sequences of ``X`` the model scores lowest on ``target`` (its logit), lowest
    first, but at most half of ``X``: real sequences the model reads as neutral, for
    experiments that should not inherit the inputs' motifs. ``n`` is capped, not padded."""
    from .prediction import predict

    bundle, X = _prepare(model, X, alphabet)
    if len(X) < 4:
        raise SeqexplainError(f"low-scoring backgrounds: {len(X)} sequences; give at least 4")
    if target is None:
        target = default_target(bundle)
    score = np.asarray(predict(bundle, X, target=target, output="logit",
                               batch_size=batch_size), dtype=np.float64).reshape(len(X), -1)
    k = min(int(n), len(X) // 2)
    return X[np.argsort(score[:, 0], kind="stable")[:k]]


def shuffled_backgrounds(X: np.ndarray, n: int, random_state: RandomState = 0) -> np.ndarray:
    """``n`` backgrounds: dinucleotide shuffles of the sequences of ``X`` (n, length, C),
    taken in turn (sequence ``i % len(X)``), each shuffled once."""
    X = np.asarray(X)
    if X.ndim != 3 or len(X) == 0:
        raise SeqexplainError(f"X has shape {X.shape}; expected (n, length, C) with n ≥ 1")
    picks = X[np.arange(int(n)) % len(X)]
    return dinucleotide_shuffle(picks, n=1, random_state=random_state)[:, 0]
