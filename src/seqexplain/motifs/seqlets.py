"""Seqlets: windows of high attribution, and the thresholds that call them.

Per-position attribution (the observed base's contribution) is summed in sliding windows of
``width`` positions. Thresholds come either from a Laplace null fitted to the weakest windows
(:func:`laplace_thresholds`, no model needed) or from the empirical false discovery rate
against the same scores on dinucleotide-shuffled sequences (:func:`empirical_thresholds`,
:class:`NullAttributions`). Called windows are taken greedily, strongest first, without
overlap (:func:`call_seqlets`). Pure NumPy/pandas: no model runs here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..attributions import Attributions
from ..errors import SeqexplainError


def window_sums(track: np.ndarray, width: int) -> np.ndarray:
    """(n, L) → (n, L - width + 1): sums over each window of ``width`` positions."""
    c = np.concatenate([np.zeros((len(track), 1)), np.cumsum(track, axis=1, dtype=np.float64)],
                       axis=1)
    return c[:, width:] - c[:, :-width]


#: Quantile of |window sum| the Laplace null's scale is estimated from: the null is fitted to
#: the weakest windows, so it holds while up to 80 % of the windows overlap motifs.
NULL_QUANTILE = 0.2


def laplace_thresholds(sums: np.ndarray, fdr: float) -> dict[int, float]:
    """Window-sum thresholds (per sign) at which BH q < ``fdr`` under a Laplace null centred
    on 0 (the reference's output) whose scale is fitted to the weakest windows: for a Laplace
    variable P(|X| ≤ x) = 1 − exp(−x / b), so b = quantile(|X|, 0.2) / ln(1 / 0.8)."""
    dev = np.abs(sums)
    scale = float(np.quantile(dev, NULL_QUANTILE)) / math.log(1 / (1 - NULL_QUANTILE))
    if scale <= 0 or not np.isfinite(scale):
        return {1: np.inf, -1: -np.inf}
    n = len(sums)
    p = 0.5 * np.exp(-dev / scale)  # one tail (each sign tested on its own side)
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    passing = np.zeros(n, bool)
    passing[order] = q < fdr
    out = {}
    for sign in (1, -1):
        ok = passing & (sums * sign > 0)
        out[sign] = float(sign * dev[ok].min()) if ok.any() else sign * np.inf
    return out


def call_seqlets(track: np.ndarray, width: int, thresholds: dict | None = None,
                 fdr: float = 0.05, valid: np.ndarray | None = None
                 ) -> tuple[pd.DataFrame, dict]:
    """Seqlets of a per-position attribution ``track`` (n, L): non-overlapping windows of
    ``width`` whose sum passes the threshold of its sign (estimated from ``track`` itself
    unless ``thresholds`` are given — the null pipeline reuses the real data's). Returns
    (table with seq, start, end, sign, score; thresholds)."""
    n, length = track.shape
    if width > length:
        raise SeqexplainError(f"seqlet width {width} is longer than the sequences ({length})")
    sums = window_sums(track, width)
    ok = np.ones_like(sums, bool)
    if valid is not None:
        ok = window_sums(valid.astype(np.float64), width) >= width - 0.5
    if thresholds is None:
        thresholds = laplace_thresholds(sums[ok], fdr) if ok.any() else {1: np.inf, -1: -np.inf}
    cand = ok & ((sums >= thresholds[1]) | (sums <= thresholds[-1]))
    rows = []
    seqs, starts = np.nonzero(cand)
    strength = np.abs(sums[seqs, starts])
    taken = np.zeros((n, length), bool)
    for k in np.argsort(-strength, kind="stable"):
        s, i = int(seqs[k]), int(starts[k])
        if taken[s, i:i + width].any():
            continue
        taken[s, i:i + width] = True
        score = float(sums[s, i])
        rows.append((s, i, i + width, 1 if score > 0 else -1, score))
    table = pd.DataFrame(rows, columns=["seq", "start", "end", "sign", "score"])
    return table.sort_values(["seq", "start"], ignore_index=True), thresholds



def empirical_thresholds(real: np.ndarray, null: np.ndarray, fdr: float) -> dict[int, float]:
    """Per sign, the smallest window sum ``t`` whose estimated false discovery rate — the
    fraction of null windows beyond ``t`` over the fraction of real windows beyond it — is at
    most ``fdr``."""
    out = {}
    for sign in (1, -1):
        r = np.sort(real[real * sign > 0] * sign)
        nl = np.sort(null[null * sign > 0] * sign)
        if not len(r):
            out[sign] = sign * np.inf
            continue
        above_real = (len(r) - np.arange(len(r))) / len(real)   # fraction ≥ r[i]
        above_null = (len(nl) - np.searchsorted(nl, r, side="left")) / max(len(null), 1)
        ok = np.nonzero(above_null <= fdr * above_real)[0]
        # the smallest threshold from which on every larger one passes too
        bad = np.nonzero(above_null > fdr * above_real)[0]
        first = bad[-1] + 1 if len(bad) else 0
        out[sign] = float(sign * r[first]) if first < len(r) and len(ok) else sign * np.inf
    return out


@dataclass
class NullAttributions:
    """The attribution method on dinucleotide shuffles of (a sample of) the sequences."""

    index: np.ndarray      # which sequences were shuffled
    onehot: np.ndarray
    contrib: np.ndarray
    hyp: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        return self.onehot.sum(-1) > 0



def seqlets_and_thresholds(attributions: Attributions, contrib: np.ndarray, width: int,
                           fdr: float,
                            null: NullAttributions | None, hit_fdr: float | None = None
                            ) -> tuple[pd.DataFrame, dict, dict]:
    """Seqlets of the real scores; thresholds from the empirical FDR against ``null`` when
    given, else from the Laplace fit. Returns (seqlets, thresholds, hit thresholds — the same
    rule at ``hit_fdr``, for the motif map)."""
    valid = attributions.valid()
    track = contrib.sum(-1)
    sums = window_sums(track, width)
    ok = window_sums(valid.astype(np.float64), width) >= width - 0.5
    if null is not None:
        ok_null = window_sums(null.valid.astype(np.float64), width) >= width - 0.5
        null_sums = window_sums(null.contrib.sum(-1), width)[ok_null]
        rule = lambda q: empirical_thresholds(sums[ok], null_sums, q)  # noqa: E731
    else:
        rule = lambda q: (laplace_thresholds(sums[ok], q) if ok.any()  # noqa: E731
                          else {1: np.inf, -1: -np.inf})
    thresholds = rule(fdr)
    seqlets, _ = call_seqlets(track, width, thresholds=thresholds, valid=valid)
    # the map is never stricter than seqlet calling
    return seqlets, thresholds, rule(max(fdr, hit_fdr if hit_fdr is not None else fdr))

