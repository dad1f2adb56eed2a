"""Motif instances a variant breaks or creates: PWM scores of the reference and alternative
sequences, over the windows that overlap the variant.

Pure array steps (no model): a PFM (width, 4) becomes log-odds against a uniform background
(:func:`log_odds`); :func:`overlap_scores` gives each sequence's best relative score
(0 = the worst possible site, 1 = the best) among the motif windows, on either strand, that
overlap the positions ``[lo, hi)``; :func:`allele_motif_effects` compares the two alleles.
"""

from __future__ import annotations

import numpy as np

#: a motif instance: relative score at least this
INSTANCE_THRESHOLD = 0.8
#: a variant breaks (creates) an instance when its log-odds score falls (rises) this much
#: (natural log: a site at least e² ≈ 7.4 times less (more) likely under the motif)
MIN_CHANGE = 2.0
PSEUDOCOUNT = 0.01


def log_odds(pfm: np.ndarray, pseudocount: float = PSEUDOCOUNT) -> np.ndarray:
    """Log-odds (natural log) of a PFM (width, 4) against a uniform background."""
    p = (np.asarray(pfm, float) + pseudocount)
    p /= p.sum(axis=1, keepdims=True)
    return np.log(p / 0.25)


def relative(scores: np.ndarray, pwm: np.ndarray) -> np.ndarray:
    """Log-odds scores as relative scores: 0 for the worst site, 1 for the best."""
    low, high = pwm.min(axis=1).sum(), pwm.max(axis=1).sum()
    return (scores - low) / (high - low)


def overlap_scores(X: np.ndarray, pwm: np.ndarray, lo: np.ndarray, hi: np.ndarray
                   ) -> np.ndarray:
    """Best log-odds score per sequence of the motif windows that overlap ``[lo[i], hi[i])``
    (both strands).

    Parameters
    ----------
    X : one-hot DNA, shape=(n, length, 4); N rows (all zero) score 0 at that position.
    pwm : log-odds, shape=(width, 4).
    lo, hi : int arrays, shape=(n,): the variant's positions in each sequence (hi > lo).

    Returns
    -------
    numpy.ndarray, shape=(n,): the lowest possible score where no window fits.
    """
    n, length, _ = X.shape
    w = len(pwm)
    worst = pwm.min(axis=1).sum()
    if w > length:
        return np.full(n, worst)
    lo, hi = np.asarray(lo), np.asarray(hi)
    first = max(0, int(lo.min()) - w + 1)
    last = min(length - w, int(hi.max()) - 1)  # last window start considered
    if last < first:
        return np.full(n, worst)
    crop = X[:, first:last + w, :].astype(np.float64)
    windows = np.lib.stride_tricks.sliding_window_view(crop, (w, 4), axis=(1, 2))[:, :, 0]
    fwd = np.einsum("nswc,wc->ns", windows, pwm)
    rev = np.einsum("nswc,wc->ns", windows, pwm[::-1, ::-1])
    scores = np.maximum(fwd, rev)
    starts = np.arange(first, last + 1)
    ok = (starts[None, :] < hi[:, None]) & (starts[None, :] + w > lo[:, None])
    best = np.where(ok, scores, -np.inf).max(axis=1)
    return np.where(np.isfinite(best), best, worst)


def allele_motif_effects(X_ref: np.ndarray, X_alt: np.ndarray, ref_span, alt_span,
                         pwms: list[np.ndarray], names: list[str],
                         threshold: float = INSTANCE_THRESHOLD, min_change: float = MIN_CHANGE
                         ) -> dict[str, np.ndarray]:
    """For each variant, the motif instance it breaks and the one it creates.

    An instance is broken when its best relative score over the windows overlapping the
    variant is at least ``threshold`` on the reference allele and its log-odds score falls by
    at least ``min_change`` (natural log) on the alternative one; of several, the motif with
    the largest fall of log-odds is reported. Created is the mirror image.
    ``ref_span``/``alt_span``: ``(lo, hi)`` int arrays of the allele's positions in each
    sequence.

    Returns ``{"broken", "broken_ref", "broken_alt", "created", "created_ref",
    "created_alt"}``: names ("" when none) and relative scores (NaN when none), shape (n,).
    """
    n = len(X_ref)
    raw_ref = np.stack([overlap_scores(X_ref, p, *ref_span) for p in pwms], axis=1) if pwms \
        else np.zeros((n, 0))
    raw_alt = np.stack([overlap_scores(X_alt, p, *alt_span) for p in pwms], axis=1) if pwms \
        else np.zeros((n, 0))
    ref = np.stack([relative(raw_ref[:, k], p) for k, p in enumerate(pwms)], axis=1) if pwms \
        else raw_ref
    alt = np.stack([relative(raw_alt[:, k], p) for k, p in enumerate(pwms)], axis=1) if pwms \
        else raw_alt
    out: dict[str, np.ndarray] = {}
    names_arr = np.asarray(names, dtype=object)
    for kind, before, after, raw_before, raw_after in (
            ("broken", ref, alt, raw_ref, raw_alt), ("created", alt, ref, raw_alt, raw_ref)):
        change = np.where(before >= threshold, raw_before - raw_after, -np.inf)
        best = change.argmax(axis=1) if pwms else np.zeros(n, int)
        hit = np.take_along_axis(change, best[:, None], axis=1)[:, 0] >= min_change \
            if pwms else np.zeros(n, bool)
        rows = np.arange(n)
        out[kind] = np.where(hit, names_arr[best] if pwms else "", "")
        out[f"{kind}_ref"] = np.where(hit, ref[rows, best] if pwms else np.nan, np.nan)
        out[f"{kind}_alt"] = np.where(hit, alt[rows, best] if pwms else np.nan, np.nan)
    return out
