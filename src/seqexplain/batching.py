"""Batches of a few fixed sizes, so that a compiled function is reused whatever ``n`` is.

XLA compiles a function once per input shape: run on ``n`` sequences in batches of
``batch_size``, an XLA-compiled step would meet a new last-batch shape for almost every
``n`` and compile again (0.7-1.3 s on a CPU for DeepSHAP's step, issue 23). Every verb
therefore cuts its rows with :func:`map_batches`; a step compiled per shape (``pad=True``:
the DeepLIFT/DeepSHAP engine when XLA fuses its multipliers) gets each batch padded with
:func:`padded` to one of a few *bucket* sizes — the powers of two from :data:`MIN_BUCKET`
below ``batch_size``, and ``batch_size`` itself — so that a few calls compile every shape
it will meet. Padding rows are copies of the batch's last row, and their outputs are cut off
again: every row is computed on its own, so padding changes no result beyond the rounding of
kernels whose blocking depends on the batch size.

Steps that TensorFlow runs for any batch size without compiling again (plain
``tf.function`` graphs with a dynamic batch dimension: gradients, predictions, integrated
gradients, ISM) run their exact sizes: padding would only add work to them (measured in
``benchmarks/bench_batch_sizes.py``) and change their last bits.

``SEQEXPLAIN_PAD_BATCHES=0`` (or :data:`PAD_BATCHES` set to ``False``) turns padding off
everywhere, for comparison. This module does not import TensorFlow.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import NamedTuple

import numpy as np

from .progress import advance

#: pad each batch to a bucket size (set SEQEXPLAIN_PAD_BATCHES=0 to run exact sizes)
PAD_BATCHES = os.environ.get("SEQEXPLAIN_PAD_BATCHES", "1") != "0"
#: the smallest bucket: batches of fewer rows are padded to it (compiling sizes 1, 2, 4
#: separately saves no time worth a compile)
MIN_BUCKET = 8


class Batch(NamedTuple):
    """Rows ``lo:hi`` of the input, run padded to ``size`` rows."""

    lo: int
    hi: int
    size: int


def bucket(rows: int, batch_size: int, pad: bool = True) -> int:
    """The number of rows a batch of ``rows`` (1 ≤ rows ≤ batch_size) is padded to: the
    smallest power of two ≥ rows (at least :data:`MIN_BUCKET`), or ``batch_size`` when that
    is smaller; ``rows`` itself when ``pad`` or :data:`PAD_BATCHES` is off."""
    if not (pad and PAD_BATCHES):
        return rows
    size = MIN_BUCKET
    while size < rows:
        size *= 2
    return min(size, batch_size)


def bucket_sizes(batch_size: int) -> list[int]:
    """Every size a padded batch of at most ``batch_size`` rows runs at, smallest first."""
    return sorted({bucket(rows, batch_size) for rows in range(1, max(1, batch_size) + 1)})


def batches(n: int, batch_size: int, pad: bool = True) -> list[Batch]:
    """``n`` rows in batches of ``batch_size`` (the last one shorter), each with the size it
    runs at (its bucket with ``pad``, else its own)."""
    batch_size = max(1, int(batch_size))
    return [Batch(lo, min(n, lo + batch_size),
                  bucket(min(n, lo + batch_size) - lo, batch_size, pad))
            for lo in range(0, n, batch_size)]


def padded(a: np.ndarray, size: int) -> np.ndarray:
    """``a`` (rows, ...) with its last row repeated to ``size`` rows (``a`` itself when it
    has them already)."""
    missing = size - len(a)
    if missing <= 0:
        return a
    return np.concatenate([a, np.repeat(a[-1:], missing, axis=0)])


def map_batches(step: Callable, n: int, batch_size: int, fetch: Callable[[int, int], tuple],
                progress: Callable[[Iterable], Iterable] | None = None, *, pad: bool = False
                ) -> tuple[np.ndarray, ...]:
    """Run ``step`` over ``n`` rows in batches and put the outputs together.

    Parameters
    ----------
    step : ``step(*arrays)`` → a tensor/array or a tuple of them, each with one row per input
        row (leading dimension the padded batch size).
    n, batch_size : rows in all, rows per batch.
    fetch : ``fetch(lo, hi)`` → the tuple of arrays (each with ``hi - lo`` rows) of rows
        ``lo:hi``; each is padded to the batch's bucket size.
    progress : optional wrapper of the batch iterator (a progress bar).
    pad : pad each batch to its bucket size — for a step compiled once per input shape.

    Returns
    -------
    tuple of numpy.ndarray
        One per output of ``step``, ``n`` rows each (the padding rows cut off).
    """
    parts: list[list[np.ndarray]] = []
    todo: Iterable[Batch] = batches(n, batch_size, pad)
    for lo, hi, size in (progress(todo) if progress else todo):
        out = step(*(padded(a, size) for a in fetch(lo, hi)))
        out = out if isinstance(out, (tuple, list)) else (out,)
        if not parts:
            parts = [[] for _ in out]
        for acc, value in zip(parts, out):
            acc.append(np.asarray(value)[:hi - lo])
        advance(hi - lo)  # to the caller's progress display (seqexplain.progress), if any
    return tuple(np.concatenate(acc) for acc in parts)
