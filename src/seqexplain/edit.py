"""Edits of sequences: put a motif in (:func:`substitute`, :func:`insert`), shuffle a stretch
(:func:`shuffle_region`), draw motif instances from a PWM (:func:`sample_pwm`).

Every function returns a new array (or new strings); its input is never changed. Positions
are 0-based and a stretch is half-open, ``[start, end)``.

``X`` is a one-hot array, shape (length, C) for one sequence or (n, length, C) for a batch;
:func:`substitute` and :func:`insert` also take a string or a list of strings (what
``variants`` builds its allele windows from) and then give strings back.

A ``motif`` is one of:

- a string, one-hot encoded with the alphabet of ``X`` (DNA for 4 channels, protein for 20, or
  ``alphabet=``); into strings it goes as it is;
- a one-hot array (L_m, C) — every row one-hot, or all zero (N) — put in as it is;
- a PWM (L_m, C), rows of probabilities summing to 1: every sequence gets its own instance,
  drawn with :func:`sample_pwm` from ``random_state``.

Mistakes (a motif longer than the sequence, a start out of range, a letter the alphabet does
not have, a PWM row that is not a distribution) raise :class:`~seqexplain.SeqexplainError`
with a one-line message.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from .alphabets import Alphabet, alphabet_for
from .encoding import decode, one_hot
from .errors import SeqexplainError
from .shuffle import RandomState, dinucleotide_shuffle

#: kinds of :func:`shuffle_region`
SHUFFLE_KINDS = ("dinucleotide", "mononucleotide")
#: how far a PWM row's sum may be from 1 (motif files round their frequencies)
PWM_TOLERANCE = 0.01

Sequences = np.ndarray | str | Sequence[str]


def sample_pwm(pwm: np.ndarray, n: int = 1, random_state: RandomState = None) -> np.ndarray:
    """``n`` instances drawn from a position probability matrix, independently per position.

    Parameters
    ----------
    pwm : shape=(L_m, C), rows of probabilities (each summing to 1 within
        :data:`PWM_TOLERANCE`; the last channel takes whatever rounding leaves).
    n : instances to draw.
    random_state : seed or ``np.random.Generator``. One ``random((n, L_m, 1))`` draw per call,
        so a generator's stream is the same whatever the alphabet.

    Returns
    -------
    float32 one-hot array, shape=(n, L_m, C).
    """
    pwm = _check_pwm(np.asarray(pwm), "pwm")
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 0:
        raise SeqexplainError(f"n={n!r}: expected an integer ≥ 0")
    rng = np.random.default_rng(random_state)
    cumulative = np.cumsum(pwm, axis=1)
    draws = rng.random((int(n), len(pwm), 1))
    # index of the first channel whose cumulative probability exceeds the draw; the last
    # column is left out so that rounding (a sum of 0.9999…) never gives an index past it
    index = (draws >= cumulative[None, :, :-1]).sum(axis=2)
    return np.eye(pwm.shape[1], dtype=np.float32)[index]


def substitute(X: Sequences, motif, start: int | None = None, *,
               alphabet: str | Alphabet | None = None,
               random_state: RandomState = None) -> Sequences:
    """``X`` with ``motif`` written over positions ``[start, start + L_m)``.

    Parameters
    ----------
    X : one-hot, shape=(length, C) or (n, length, C); or a string or a list of strings.
    motif : a string, a one-hot array (L_m, C) or a PWM (L_m, C) (see the module docstring).
    start : first position the motif covers; ``None``: centred, ``(length - L_m) // 2``.
    alphabet : how string motifs are encoded (and array motifs decoded into strings);
        default DNA for 4 channels, protein for 20.
    random_state : seeds the draws from a PWM.

    Returns
    -------
    A new array of ``X``'s shape and dtype (or new strings); the positions outside the motif
    are ``X``'s.
    """
    return _edit(X, motif, start, alphabet, random_state, "substitute")


def insert(X: Sequences, motif, start: int | None = None, *,
           alphabet: str | Alphabet | None = None,
           random_state: RandomState = None) -> Sequences:
    """``X`` with ``motif`` inserted before position ``start``, keeping the length.

    The motif takes positions ``[start, start + L_m)``; what was at ``start`` and after moves
    ``L_m`` positions right and the last ``L_m`` positions of the sequence fall off the end:
    the result is ``X[:start] + motif + X[start:length - L_m]``. ``start=None`` centres the
    motif in the result, ``(length - L_m) // 2``.

    Parameters and returns as :func:`substitute`.
    """
    return _edit(X, motif, start, alphabet, random_state, "insert")


def shuffle_region(X: np.ndarray, start: int, end: int, kind: str = "dinucleotide",
                   n: int | None = None, random_state: RandomState = None) -> np.ndarray:
    """``X`` with positions ``[start, end)`` shuffled, everything else kept.

    Parameters
    ----------
    X : one-hot, shape=(length, C) or (n_seqs, length, C).
    start, end : the stretch, ``0 <= start <= end <= length``.
    kind : ``"dinucleotide"`` — :func:`~seqexplain.shuffle.dinucleotide_shuffle` of the
        stretch: its dinucleotide counts and its first and last base are kept, so the whole
        sequence keeps its dinucleotide counts too; ``"mononucleotide"`` — the stretch's
        positions permuted (one ``random_state.permutation(end - start)`` per sequence and
        shuffle, in order).
    n : ``None`` for one shuffle per sequence (the result has ``X``'s shape), or the number of
        shuffles: shape=(n, length, C) for one sequence, (n_seqs, n, length, C) for a batch —
        the layout of :func:`~seqexplain.shuffle.dinucleotide_shuffle`.
    random_state : seed or ``np.random.Generator``.

    Returns
    -------
    A new array of ``X``'s dtype.
    """
    X = _check_array(X)
    if kind not in SHUFFLE_KINDS:
        raise SeqexplainError(f"kind={kind!r}: choose one of {', '.join(SHUFFLE_KINDS)}")
    if n is not None and (not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1):
        raise SeqexplainError(f"n={n!r}: expected None or an integer ≥ 1")
    length = X.shape[-2]
    start, end = _index("start", start, length), _index("end", end, length)
    if start > end:
        raise SeqexplainError(f"start={start} is after end={end}")
    rng = np.random.default_rng(random_state)
    batch = X[None] if X.ndim == 2 else X
    count = 1 if n is None else int(n)
    out = np.repeat(batch[:, None], count, axis=1)  # (n_seqs, count, length, C), a copy
    if kind == "mononucleotide":
        for i in range(len(batch)):
            for j in range(count):
                out[i, j, start:end] = batch[i, start:end][rng.permutation(end - start)]
    elif end > start:
        out[:, :, start:end] = dinucleotide_shuffle(batch[:, start:end], n=count,
                                                    random_state=rng)
    if n is None:
        out = out[:, 0]
    return out[0] if X.ndim == 2 else out


# -- the shared steps ---------------------------------------------------------------------------
def _edit(X, motif, start, alphabet, random_state, how: str):
    if isinstance(X, str):
        return _edit([X], motif, start, alphabet, random_state, how)[0]
    if isinstance(X, Sequence) and not isinstance(X, np.ndarray):
        if not all(isinstance(s, str) for s in X):
            raise SeqexplainError("X: expected a one-hot array, a string or a list of strings")
        return _edit_strings(list(X), motif, start, alphabet, random_state, how)
    X = _check_array(X)
    batch = X[None] if X.ndim == 2 else X
    length, channels = batch.shape[1:]
    rows, is_pwm = motif_rows(motif, channels, alphabet)
    at = _start(start, len(rows), length)
    if is_pwm:
        rows = sample_pwm(rows, len(batch), random_state)
    out = np.empty_like(batch)
    width = rows.shape[-2]
    if how == "substitute":
        out[:] = batch
    else:
        out[:, :at] = batch[:, :at]
        out[:, at + width:] = batch[:, at:length - width]
    out[:, at:at + width] = rows
    return out[0] if X.ndim == 2 else out


def _edit_strings(seqs: list[str], motif, start, alphabet, random_state, how: str) -> list[str]:
    if isinstance(motif, str):
        texts = [motif] * len(seqs)
    else:
        array = np.asarray(motif)
        if array.ndim != 2:
            raise SeqexplainError(f"motif has shape {array.shape}; expected a string or "
                                  "(L_m, C)")
        alph = alphabet_for(array.shape[1], alphabet)
        rows, is_pwm = motif_rows(array, alph.channels, alph)
        if is_pwm:
            texts = decode(sample_pwm(rows, len(seqs), random_state), alph)
        else:
            texts = [decode(rows, alph)] * len(seqs)
    out = []
    for seq, text in zip(seqs, texts):
        at = _start(start, len(text), len(seq))
        if how == "substitute":
            out.append(seq[:at] + text + seq[at + len(text):])
        else:
            out.append(seq[:at] + text + seq[at:len(seq) - len(text)])
    return out


def _check_array(X) -> np.ndarray:
    if not isinstance(X, np.ndarray):
        raise SeqexplainError(f"X: expected a one-hot array (length, C) or (n, length, C), got "
                              f"{type(X).__name__}")
    if X.ndim not in (2, 3):
        raise SeqexplainError(f"X has shape {X.shape}; expected (length, C) or (n, length, C)")
    return X


def motif_rows(motif, channels: int, alphabet) -> tuple[np.ndarray, bool]:
    """The motif as rows (L_m, C) and whether they are a PWM to draw from."""
    if isinstance(motif, str):
        if not motif:
            raise SeqexplainError("motif is empty")
        alph = alphabet_for(channels, alphabet)
        _, valid = alph.table()
        for position, letter in enumerate(motif, start=1):
            if ord(letter) > 255 or not valid[ord(letter)]:
                raise SeqexplainError(f"motif {motif!r}, position {position}: {letter!r} is "
                                      f"not a {alph.name} letter")
        return one_hot([motif], alph)[0], False
    array = np.asarray(motif)
    if array.ndim != 2 or array.shape[1] != channels or not len(array):
        raise SeqexplainError(f"motif has shape {array.shape}; expected (L_m, {channels}) like X")
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise SeqexplainError(f"motif: expected numbers, got dtype {array.dtype}")
    binary = np.isin(array, (0, 1)).all() and (array.sum(axis=1) <= 1).all()
    if binary:
        return array, False
    return _check_pwm(array, "motif"), True


def _check_pwm(pwm: np.ndarray, name: str) -> np.ndarray:
    if pwm.ndim != 2 or not len(pwm) or pwm.shape[1] < 1:
        raise SeqexplainError(f"{name} has shape {pwm.shape}; expected (L_m, C)")
    if not np.isfinite(pwm).all() or (pwm < 0).any():
        raise SeqexplainError(f"{name}: probabilities must be finite and ≥ 0")
    sums = pwm.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1) > PWM_TOLERANCE)
    if len(bad):
        raise SeqexplainError(f"{name}: row {bad[0]} sums to {sums[bad[0]]:.4g}; a PWM's rows "
                              "are probabilities summing to 1 (a one-hot motif's rows are 0/1)")
    return pwm


def _index(name: str, value, length: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise SeqexplainError(f"{name}={value!r}: expected an integer position")
    if not 0 <= value <= length:
        raise SeqexplainError(f"{name}={value} is outside the sequence (0..{length})")
    return int(value)


def _start(start, width: int, length: int) -> int:
    if width > length:
        raise SeqexplainError(f"the motif ({width} long) is longer than the sequence "
                              f"({length})")
    if start is None:
        return (length - width) // 2
    if isinstance(start, bool) or not isinstance(start, numbers.Integral):
        raise SeqexplainError(f"start={start!r}: expected an integer position or None")
    if not 0 <= start <= length - width:
        raise SeqexplainError(f"start={start} is out of range: a {width}-long motif in a "
                              f"{length}-long sequence starts at 0..{length - width}")
    return int(start)
