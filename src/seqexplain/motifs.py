"""Motifs from attributions: seqlets, clustering, motif matrices, instances and their support.

The pipeline (:func:`discover`):

1. **Seqlets.** Per-position attribution (the observed base's contribution) is summed in
   sliding windows of ``width`` positions. The null is estimated from the data: a Laplace
   distribution centred on 0 is fitted to the weakest windows (its scale from the 20th
   percentile of |window sum|, robust to motif windows), and windows are called where the
   Benjamini–Hochberg q-value is below ``fdr``. Positive (activating) and negative
   (repressive) windows are kept apart. Called windows are taken greedily, strongest
   first, without overlap.
2. **Clustering.** Up to ``max_seqlets`` seqlets per sign are compared by the mean of two
   cosine similarities — of their contributions (which bases are there) and of their
   hypothetical contributions (what the model looks for) — maximised over shifts of up to ``flank``
   positions and, for DNA, both strands (a reverse complement reverses positions and channels).
   Average-linkage clustering is cut at ``similarity``; clusters of at least ``min_seqlets``
   become motifs. Every seqlet (clustered or not) is then assigned to the motif it matches best,
   if at least at ``similarity``.
3. **Motif matrices.** Members are aligned to their motif (shift and strand); the PFM is the mean
   one-hot, the CWM the mean contribution, the hypothetical CWM the mean hypothetical
   contribution. Motifs are trimmed to the columns holding at least ``trim`` of the largest
   column's contribution.
4. **Instances.** Each assigned seqlet is an instance: sequence, start, end, strand, score (the
   summed contribution over the trimmed motif).

Support (:func:`support`) needs the model: the same pipeline on dinucleotide-shuffled
sequences counts the instances a null gives, and each motif's instances are shuffled out to
measure the model's output change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .alphabets import alphabet_from_letters
from .annotate import best_match, bh, motif_title, significant_name
from .attributions import Attributions, valid_rows
from .errors import SeqexplainError


@dataclass
class MotifSettings:
    method: str = "deepshap"
    width: int | None = None       # seqlet core width [19 nucleotide, 9 protein]
    flank: int = 7                 # shift allowed when aligning; context kept around cores
    fdr: float = 0.05              # seqlets (discovery)
    hit_fdr: float = 0.2           # motif map: windows matched to the motifs
    max_seqlets: int = 2000        # clustered per sign (a seeded random sample)
    similarity: float = 0.6        # clustering cut and assignment threshold
    merge: float = 0.5             # a prototype this similar to a larger one is dropped
    min_seqlets: int = 10
    trim: float = 0.25
    engine: str = "seqexplain"     # or "modisco" (TF-MoDISco, modisco-lite)
    null_size: int = 1000          # shuffled sequences in the null pipeline (with the model)
    seqlet_null: str = "shuffled"  # thresholds from shuffled sequences (needs the model) or
    #                                "laplace" (fitted to the weakest windows; no model needed)
    seed: int = 0


@dataclass
class LearnedMotif:
    """One discovered motif. Matrices are (width, C)."""

    id: str
    sign: int                      # +1 activating, -1 repressive
    pfm: np.ndarray
    cwm: np.ndarray
    hcwm: np.ndarray
    n_seqlets: int
    letters: str
    consensus: str = ""
    span: tuple[int, int] = (0, 0)  # trimmed columns of the aligned frame (internal)
    evidence: dict = field(default_factory=dict)
    matches: list = field(default_factory=list)   # [{id, name, family, klass, p, q}]

    @property
    def width(self) -> int:
        return len(self.pfm)

    @property
    def name(self) -> str:
        """The best known match's name when it is significant (see
        :func:`~seqexplain.annotate.significant_name`), else ``""``."""
        return significant_name(*best_match(self.matches))

    @property
    def label(self) -> str:
        """Short label for maps and instance tables: ``pos_1 (CTCF)`` when the best known match
        is significant, else the id alone."""
        return f"{self.id} ({self.name})" if self.name else self.id

    @property
    def title(self) -> str:
        """How summaries, logo titles and the report name the motif: ``pos_1 (CTCF)``,
        ``neg_1 (no significant match)``, or the id alone when never compared."""
        return motif_title(self.id, *best_match(self.matches))


@dataclass
class MotifResult:
    motifs: list[LearnedMotif]
    seqlets: pd.DataFrame          # every seqlet: seq, start, end, sign, score, motif, strand
    instances: pd.DataFrame        # seqlets assigned to a motif, trimmed to its columns
    thresholds: dict               # sign → window-sum threshold
    settings: MotifSettings
    n_sequences: int
    prototypes: dict = field(default_factory=dict)  # motif id → (sign, core (width, C))
    width: int = 19                                 # seqlet core width used
    hit_thresholds: dict | None = None              # window-sum thresholds of the map
    #: Why no motif was found — which threshold stopped discovery, with its value, and what to
    #: try (options of ``seqexplain motifs``, named like the MotifSettings fields); "" when
    #: motifs were found.
    no_motifs: str = ""

    def motif(self, motif_id: str) -> LearnedMotif:
        return next(m for m in self.motifs if m.id == motif_id)


def default_width(letters: str) -> int:
    """Seqlet core width: 19 for DNA/RNA, 9 for protein."""
    return 19 if is_nucleotide(letters) else 9


def is_nucleotide(letters: str) -> bool:
    """Whether ``letters`` are a nucleic-acid alphabet's (reverse complements exist)."""
    return alphabet_from_letters(letters).is_nucleic


# -- 1. seqlets ------------------------------------------------------------------------------


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


# -- 2. similarity and clustering --------------------------------------------------------------
def _windows(arr: np.ndarray, seqlets: pd.DataFrame, width: int, pad: int) -> np.ndarray:
    """(k, width + 2 pad, C) windows of ``arr`` (n, L, C) around each seqlet core, zero
    outside the sequence."""
    n, length = arr.shape[:2]
    padded = np.zeros((n, length + 2 * pad, *arr.shape[2:]), arr.dtype)
    padded[:, pad:pad + length] = arr
    idx = seqlets["start"].to_numpy()[:, None] + np.arange(width + 2 * pad)[None, :]
    return padded[seqlets["seq"].to_numpy()[:, None], idx]


def _unit(x: np.ndarray) -> np.ndarray:
    """Rows flattened to unit length; windows with a feature axis (k, W, F, C) get each
    feature scaled to unit length first, so that their dot product is the mean cosine."""
    x = x.astype(np.float64)
    if x.ndim == 4:
        norm = np.sqrt((x ** 2).sum(axis=(1, 3), keepdims=True))
        x = x / np.where(norm > 0, norm, 1) / np.sqrt(x.shape[2])
        return x.reshape(len(x), -1)
    flat = x.reshape(len(x), -1)
    norm = np.linalg.norm(flat, axis=1, keepdims=True)
    return flat / np.where(norm > 0, norm, 1)


def _rc(x: np.ndarray) -> np.ndarray:
    """Reverse complement of windows (k, W, C) or (k, W, F, C): positions and channels
    reversed (ACGT → TGCA)."""
    return x[:, ::-1, ..., ::-1]


def best_alignment(query: np.ndarray, ext: np.ndarray, width: int, flank: int,
                   both_strands: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cosine similarity of each query core (q, width, C) with every candidate window, over
    shifts -flank..flank of the candidates' extended windows ``ext`` (k, width + 4 flank, C) and
    strands. Returns (best similarity (q, k), shift (q, k), strand (q, k): 0 forward, 1 rc)."""
    pad = 2 * flank
    Q = _unit(query)
    best = np.full((len(query), len(ext)), -np.inf)
    shift = np.zeros(best.shape, np.int64)
    strand = np.zeros(best.shape, np.int8)
    views = [ext, _rc(ext)] if both_strands else [ext]
    for st, view in enumerate(views):
        for o in range(-flank, flank + 1):
            sim = Q @ _unit(view[:, pad + o:pad + o + width]).T
            better = sim > best
            best[better], shift[better], strand[better] = sim[better], o, st
    return best, shift, strand


def cluster(ext: np.ndarray, width: int, flank: int, both_strands: bool, threshold: float
            ) -> np.ndarray:
    """Average-linkage clusters (labels 0..k-1, by size) of seqlets from their extended
    hypothetical windows; the similarity is the best over shifts and strands."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    if len(ext) < 2:
        return np.zeros(len(ext), np.int64)
    core = ext[:, 2 * flank:2 * flank + width]
    sim, _, _ = best_alignment(core, ext, width, flank, both_strands)
    sim = np.maximum(sim, sim.T)
    dist = np.clip(1 - sim, 0, 2)
    np.fill_diagonal(dist, 0)
    labels = fcluster(linkage(squareform(dist, checks=False), "average"), 1 - threshold,
                      criterion="distance")
    sizes = np.bincount(labels)
    rank = np.argsort(-sizes[1:], kind="stable")  # label 1.. by size
    remap = np.empty(len(sizes), np.int64)
    remap[1 + rank] = np.arange(len(rank))
    return remap[labels]


# -- 3. motif matrices ---------------------------------------------------------------------------
def _aligned(arr_ext: np.ndarray, shift: np.ndarray, strand: np.ndarray, width: int,
             flank: int) -> np.ndarray:
    """Member windows (width + 2 flank, C) aligned to the motif frame."""
    pad = 2 * flank
    out = np.empty((len(arr_ext), width + 2 * flank, *arr_ext.shape[2:]), arr_ext.dtype)
    for i, (o, st) in enumerate(zip(shift, strand)):
        view = _rc(arr_ext[i:i + 1])[0] if st else arr_ext[i]
        out[i] = view[pad + o - flank:pad + o + width + flank]
    return out


def _redundant(proto: np.ndarray, kept: list, width: int, flank: int, both: bool,
               threshold: float) -> bool:
    """Whether ``proto`` matches one of the ``kept`` prototypes at some shift and strand."""
    if not kept:
        return False
    pad = 2 * flank
    ext = np.zeros((len(kept), width + 2 * pad, *proto.shape[1:]), proto.dtype)
    ext[:, pad:pad + width] = np.stack(kept)
    sim, _, _ = best_alignment(proto[None], ext, width, flank, both)
    return bool(sim.max() >= threshold)


def assign_seqlets(seqlets: pd.DataFrame, features: np.ndarray, protos: list, width: int,
                   flank: int, both: bool, threshold: float) -> pd.DataFrame:
    """Each seqlet's best prototype of its sign (seqlet, motif, shift, strand, similarity),
    for those matching one at ``threshold`` or better. ``features``: (n, L, 2, C) stacked
    contributions and hypothetical contributions; ``protos``: (sign, id, (width, 2, C))."""
    rows = []
    for sign in (1, -1):
        mine = [(mid, p) for sg, mid, p in protos if sg == sign]
        members = seqlets.index[seqlets["sign"] == sign].to_numpy()
        if not mine or not len(members):
            continue
        ext = _windows(features, seqlets.loc[members], width, 2 * flank)
        sim, sh, st = best_alignment(np.stack([p for _, p in mine]), ext, width, flank, both)
        best = np.argmax(sim, axis=0)
        cols = np.arange(len(members))
        ok = sim[best, cols] >= threshold
        for j in np.nonzero(ok)[0]:
            k = int(best[j])
            rows.append((members[j], mine[k][0], int(sh[k, j]), int(st[k, j]),
                         float(sim[k, j])))
    return pd.DataFrame(rows, columns=["seqlet", "motif", "shift", "strand", "similarity"])


def _instances(sel: pd.DataFrame, part: pd.DataFrame, span: tuple[int, int], width: int,
               flank: int, contrib: np.ndarray, motif_id: str) -> pd.DataFrame:
    """Instances of a motif from its assigned seqlets ``sel`` (rows of the seqlet table) and
    their alignment ``part`` (shift, strand, similarity): the trimmed motif columns ``span`` of
    the motif frame mapped back to sequence rows, clipped to the sequence, with the summed
    contribution over them as score."""
    sh, st = part["shift"].to_numpy(), part["strand"].to_numpy()
    starts = sel["start"].to_numpy()
    # motif frame column c ↔ core column c - flank; the core starts at start ± shift
    core = np.where(st == 0, starts + sh, starts - sh)
    lo, hi = span[0] - flank, span[1] - flank
    start = np.where(st == 0, core + lo, core + width - hi)
    end = start + (hi - lo)
    length = contrib.shape[1]
    start, end = np.clip(start, 0, length), np.clip(end, 0, length)
    seq = sel["seq"].to_numpy()
    track = contrib.sum(-1)
    csum = np.concatenate([np.zeros((len(track), 1)), np.cumsum(track, axis=1)], axis=1)
    scores = csum[seq, end] - csum[seq, start] if len(seq) else np.zeros(0)
    table = pd.DataFrame({"seq": seq, "start": start, "end": end,
                          "strand": np.where(st == 0, "+", "-"), "motif": motif_id,
                          "score": scores, "similarity": part["similarity"].to_numpy()})
    return table[table["end"] > table["start"]]


def call_hits(contrib: np.ndarray, hyp: np.ndarray, thresholds: dict, motifs: list,
              protos: dict, width: int, flank: int, both: bool, similarity: float,
              valid: np.ndarray | None = None, block: int = 50_000) -> pd.DataFrame:
    """Motif instances (the motif map): every window whose summed contribution passes the
    seqlet threshold of its sign — not only the non-overlapping seqlets — is matched to the
    motifs of that sign (same similarity, shifts and strands as seqlet assignment); matches
    become instances on the motif's trimmed columns, and instances of one motif that overlap
    by half or more are merged into the strongest. ``protos``: motif id → (sign, prototype)."""
    track = contrib.sum(-1)
    sums = window_sums(track, width)
    ok = np.ones_like(sums, bool) if valid is None else (
        window_sums(valid.astype(np.float64), width) >= width - 0.5)
    cand = ok & ((sums >= thresholds[1]) | (sums <= thresholds[-1]))
    seqs, starts = np.nonzero(cand)
    windows = pd.DataFrame({"seq": seqs, "start": starts, "end": starts + width,
                            "sign": np.where(sums[seqs, starts] > 0, 1, -1),
                            "score": sums[seqs, starts]})
    features = np.stack([contrib, hyp], axis=2)
    plist = [(protos[m.id][0], m.id, protos[m.id][1]) for m in motifs if m.id in protos]
    parts = []
    for lo in range(0, len(windows), block):
        chunk = windows.iloc[lo:lo + block]
        parts.append(assign_seqlets(chunk, features, plist, width, flank, both, similarity))
    assigned = (pd.concat(parts, ignore_index=True) if parts else
                assign_seqlets(windows, features, [], width, flank, both, similarity))
    tables = []
    for m in motifs:
        part = assigned[assigned["motif"] == m.id]
        if len(part):
            found = _instances(windows.loc[part["seqlet"].to_numpy()], part, m.span, width,
                               flank, contrib, m.id)
            tables.append(_merge_duplicates(found))
    if not tables:
        return _instances(windows.iloc[:0], assigned.iloc[:0], (0, 1), width, flank, contrib,
                          "")
    return pd.concat(tables, ignore_index=True).sort_values(["seq", "start"],
                                                            ignore_index=True)


def _merge_duplicates(table: pd.DataFrame) -> pd.DataFrame:
    """Instances of one motif overlapping by half or more → the strongest."""
    if len(table) < 2:
        return table
    order = table.assign(_abs=table["score"].abs()).sort_values(
        ["seq", "_abs"], ascending=[True, False], kind="stable")
    keep, kept = [], {}
    for idx, q, a, b in zip(order.index, order["seq"].to_numpy(), order["start"].to_numpy(),
                            order["end"].to_numpy()):
        mine = kept.setdefault(q, [])
        if any(min(b, e) - max(a, f) >= 0.5 * min(b - a, e - f) for f, e in mine):
            continue
        mine.append((a, b))
        keep.append(idx)
    return table.loc[sorted(keep)]


def consensus(pfm: np.ndarray, letters: str) -> str:
    """Most likely letter per column; lower case where it has under half the probability,
    ``N``/``X`` where no letter reaches a quarter."""
    gap = "N" if is_nucleotide(letters) else "X"
    out = []
    for row in pfm:
        j = int(np.argmax(row))
        out.append(letters[j] if row[j] >= 0.5 else letters[j].lower() if row[j] >= 0.25
                   else gap)
    return "".join(out)


#: Trimmed motifs are at least this wide (grown around their strongest column).
MIN_WIDTH = 4


def _trim_span(cwm: np.ndarray, trim: float) -> tuple[int, int]:
    mass = np.abs(cwm).sum(axis=1)
    keep = np.nonzero(mass >= trim * mass.max())[0] if mass.max() > 0 else np.arange(len(mass))
    a, b = int(keep[0]), int(keep[-1]) + 1
    while b - a < min(MIN_WIDTH, len(mass)):
        if a > 0 and (b == len(mass) or mass[a - 1] >= mass[b]):
            a -= 1
        else:
            b += 1
    return a, b


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


def discover(attributions: Attributions, settings: MotifSettings | None = None,
             null: NullAttributions | None = None) -> MotifResult:
    """Seqlets, motifs and instances from :class:`~seqexplain.attributions.Attributions`.
    With ``null`` (see :func:`null_attributions`) seqlet thresholds come from the empirical
    FDR against the shuffled sequences; without, from the Laplace fit."""
    s = settings or MotifSettings()
    attributions.require(s.method)
    letters = attributions.letters
    width = s.width or default_width(letters)
    onehot = np.asarray(attributions.onehot, np.float32)
    contrib = np.asarray(attributions.scores(s.method), np.float32)
    hyp = np.asarray(attributions.hypothetical(s.method), np.float32)
    seqlets, thresholds, hit_thresholds = _seqlets(attributions, contrib, width, s.fdr, null,
                                                   s.hit_fdr)
    valid = attributions.valid()
    result = assemble(seqlets, thresholds, onehot, contrib, hyp, letters, s, width, valid,
                      hit_thresholds)
    return result


def _seqlets(attributions: Attributions, contrib: np.ndarray, width: int, fdr: float,
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


def _suggest(*options: str) -> str:
    """"; try more sequences, or seqexplain motifs with A or B" (options that apply)."""
    options = [o for o in options if o]
    if not options:
        return "; try more sequences"
    return "; try more sequences, or seqexplain motifs with " + " or ".join(options)


def _looser_fdr(fdr: float) -> str:
    step = next((f for f in (0.2, 0.5) if fdr < f), None)
    return f"--fdr {step:g}" if step else ""


def _fewer_seqlets(s: MotifSettings, have: int) -> str:
    """A --min-seqlets that ``have`` seqlets would pass: half the current one, at most ``have``
    (none when under 2, the smallest allowed)."""
    k = max(2, min(have, s.min_seqlets // 2))
    return f"--min-seqlets {k}" if 2 <= have and k < s.min_seqlets else ""


def why_no_motifs(seqlets: pd.DataFrame, s: MotifSettings, width: int,
                  largest_cluster: int = 0, largest_kept: int | None = None) -> str:
    """Which threshold stopped discovery, with its value, and what to try (for
    :attr:`MotifResult.no_motifs`). Thresholds are named by the ``seqexplain motifs`` options
    (the MotifSettings fields): ``--fdr`` (no seqlet called), ``--min-seqlets`` (too few
    seqlets of one sign, or no cluster / motif that large), ``--similarity`` (the clustering
    cut). ``largest_cluster``: the largest cluster formed; ``largest_kept``: the most seqlets
    a prototype kept after assignment (None when no cluster became a prototype)."""
    n = len(seqlets)
    pos = int((seqlets["sign"] > 0).sum()) if n else 0
    neg = n - pos
    most, m = max(pos, neg), s.min_seqlets
    if n == 0:
        return (f"no window of {width} positions passed the seqlet FDR (--fdr {s.fdr:g})"
                + _suggest(_looser_fdr(s.fdr)))
    called = (f"{n} seqlet{'s' if n != 1 else ''} passed the seqlet FDR (--fdr {s.fdr:g}; "
              f"{pos} activating, {neg} repressive)")
    needs = f"the {m} seqlets of one sign a motif needs (--min-seqlets {m}"
    if most < m:
        return (f"{called}, fewer than {needs})"
                + _suggest(_fewer_seqlets(s, most) or _looser_fdr(s.fdr)))
    lower = f"--similarity {s.similarity - 0.1:.2g}" if s.similarity > 0.15 else ""
    if largest_kept is None:
        return (f"{called}, but no cluster of them (cut at --similarity {s.similarity:g}) "
                f"reached {needs}; the largest held {largest_cluster})"
                + _suggest(_fewer_seqlets(s, largest_cluster), lower))
    return (f"{called}, but once each seqlet was assigned to the motif it matches best "
            f"(--similarity {s.similarity:g}), none kept {needs}; the largest kept "
            f"{largest_kept})" + _suggest(_fewer_seqlets(s, largest_kept), lower))


def assemble(seqlets, thresholds, onehot, contrib, hyp, letters, s: MotifSettings,
             width: int, valid: np.ndarray | None = None, hit_thresholds: dict | None = None
             ) -> MotifResult:
    """Cluster ``seqlets`` into motifs and assign every seqlet (step 2–4 of :func:`discover`)."""
    both = is_nucleotide(letters)
    flank = s.flank
    rng = np.random.default_rng(s.seed)
    motifs: list[LearnedMotif] = []
    protos = []  # (motif, hypothetical prototype core window)
    seqlets = seqlets.assign(motif="", strand="+")
    features = np.stack([contrib, hyp], axis=2)  # similarity: contributions and hypothetical
    largest_cluster, largest_kept = 0, 0  # why nothing was found, when nothing is
    for sign, prefix in ((1, "pos"), (-1, "neg")):
        members = seqlets.index[seqlets["sign"] == sign].to_numpy()
        if len(members) < s.min_seqlets:
            continue
        sample = members if len(members) <= s.max_seqlets else np.sort(
            rng.choice(members, s.max_seqlets, replace=False))
        ext = _windows(features, seqlets.loc[sample], width, 2 * flank)
        labels = cluster(ext, width, flank, both, s.similarity)
        if len(labels):
            largest_cluster = max(largest_cluster, int(np.bincount(labels).max()))
        for lab in range(labels.max() + 1 if len(labels) else 0):
            idx = np.nonzero(labels == lab)[0]
            if len(idx) < s.min_seqlets:
                break  # labels are ordered by size
            core = ext[idx, 2 * flank:2 * flank + width]
            sim, sh, st = best_alignment(core, ext[idx], width, flank, both)
            medoid = int(np.argmax(sim.sum(axis=1)))
            aligned = _aligned(ext[idx], sh[medoid], st[medoid], width, flank)
            proto = aligned.mean(axis=0)[flank:flank + width]
            if _redundant(proto, [p for sg, _, p in protos if sg == sign], width, flank, both,
                          s.merge):
                continue  # a shifted or reverse-complement copy of a larger motif
            protos.append((sign, f"{prefix}_{sum(1 for p in protos if p[0] == sign) + 1}",
                           proto))
    assigned = assign_seqlets(seqlets, features, protos, width, flank, both, s.similarity)
    for sign, mid, _ in protos:
        part = assigned[assigned["motif"] == mid]
        largest_kept = max(largest_kept, len(part))
        if len(part) < s.min_seqlets:
            continue
        sel = seqlets.loc[part["seqlet"].to_numpy()]
        sh, st = part["shift"].to_numpy(), part["strand"].to_numpy()
        views = {name: _aligned(_windows(arr, sel, width, 2 * flank), sh, st, width, flank)
                 for name, arr in (("onehot", onehot), ("contrib", contrib), ("hyp", hyp))}
        cwm_full = views["contrib"].mean(axis=0)
        a, b = _trim_span(cwm_full * sign, s.trim)
        pfm = views["onehot"].mean(axis=0)[a:b]
        pfm = pfm / np.clip(pfm.sum(axis=1, keepdims=True), 1e-9, None)
        motif = LearnedMotif(id=mid, sign=sign, pfm=pfm, cwm=cwm_full[a:b],
                             hcwm=views["hyp"].mean(axis=0)[a:b], n_seqlets=len(part),
                             letters=letters, span=(a, b))
        motif.consensus = consensus(motif.pfm, letters)
        motifs.append(motif)
        seqlets.loc[part["seqlet"].to_numpy(), "motif"] = mid
        seqlets.loc[part["seqlet"].to_numpy(), "strand"] = np.where(st == 0, "+", "-")
    hit_thresholds = hit_thresholds or thresholds
    inst = call_hits(contrib, hyp, hit_thresholds, motifs,
                     {mid: (sign, p) for sign, mid, p in protos}, width, flank, both,
                     s.similarity, valid)
    # number the motifs of each sign by size: pos_1 is the most frequent activating one
    motifs.sort(key=lambda m: (-m.sign, -m.n_seqlets, m.id))
    rename = {}
    for sign, prefix in ((1, "pos"), (-1, "neg")):
        for k, m in enumerate([m for m in motifs if m.sign == sign], start=1):
            rename[m.id] = f"{prefix}_{k}"
            m.id = rename[m.id]
    if len(inst):
        inst["motif"] = inst["motif"].map(rename)
    seqlets["motif"] = seqlets["motif"].map(lambda x: rename.get(x, ""))
    prototypes = {rename[mid]: (sign, p) for sign, mid, p in protos if mid in rename}
    return MotifResult(motifs=motifs, seqlets=seqlets, instances=inst, thresholds=thresholds,
                       settings=s, n_sequences=len(onehot), prototypes=prototypes,
                       width=width, hit_thresholds=hit_thresholds,
                       no_motifs="" if motifs else why_no_motifs(
                           seqlets, s, width, largest_cluster, largest_kept if protos else None))


# -- support: is a motif learned signal? ------------------------------------------------------
#: Thresholds a motif must pass to be "supported".
MIN_FOLD = 2.0
MAX_Q = 0.01


def null_attributions(model, attributions: Attributions, settings, method: str,
                      size: int = 1000, seed: int = 0, references=None) -> NullAttributions:
    """The same attribution method on one dinucleotide shuffle of each of (a seeded sample
    of up to ``size``) the sequences."""
    from dataclasses import replace

    from .attribution.registry import REFERENCE_KINDS
    from .explain import attribute_chunk, read_references
    from .shuffle import dinucleotide_shuffle

    onehot = np.asarray(attributions.onehot, np.float32)
    n = len(onehot)
    index = np.sort(np.random.default_rng([seed, 11]).choice(n, min(size, n), replace=False))
    X = dinucleotide_shuffle(onehot[index], n=1,
                             random_state=np.random.default_rng([seed, 7]))[:, 0]
    cfg = replace(settings, methods=(method,))
    refs = settings.references if references is None else references
    if isinstance(refs, str) and refs not in REFERENCE_KINDS:
        if not Path(refs).is_file():
            raise SeqexplainError(f"{refs}: the reference FASTA used by seqexplain explain is "
                                  "gone; the null pipeline needs it")
        refs = read_references(refs, attributions.alphabet, attributions.length)
    contrib = np.empty_like(X)
    hyp = np.empty_like(X)
    for lo in range(0, len(X), 1024):
        arrays = attribute_chunk(model, X[lo:lo + 1024], cfg, refs, offset=lo)
        contrib[lo:lo + 1024] = arrays[method]
        hyp[lo:lo + 1024] = arrays[f"{method}_hypothetical"]
    return NullAttributions(index=index, onehot=X, contrib=contrib, hyp=hyp)


def support(result: MotifResult, attributions: Attributions, model, null: NullAttributions,
            max_instances: int = 200, seed: int = 0) -> pd.DataFrame:
    """Evidence that each motif is learned signal; fills ``motif.evidence`` and returns it as a
    table. Two tests, both needed for ``supported``:

    * **null enrichment** — the same pipeline (attribution method, seqlet thresholds of the real
      data, hit calling with the motifs) on ``null``, dinucleotide shuffles of the sequences.
      Per sequence, the attribution mass of the motif's instances (count × strength): the
      mean over real sequences must be ≥ 2 × the null's, and higher by a one-sided
      Mann–Whitney test (BH q < 0.01 across motifs);
    * **output change** — up to ``max_instances`` instances shuffled out (their bases
      permuted) and the explained logit recomputed: it must move against the motif's sign
      (down for activating, up for repressive), one-sided Wilcoxon signed-rank q < 0.01.
    """
    from scipy.stats import mannwhitneyu, wilcoxon

    from .attribution import explained_output  # imports TensorFlow: only with a model

    s = result.settings
    onehot = np.asarray(attributions.onehot, np.float32)
    rng = np.random.default_rng([seed, 13])
    n = len(onehot)
    pick, cn, hn = null.index, null.contrib, null.hyp
    # both sides through the same steps: windows at the same thresholds matched to the motifs
    both = attributions.alphabet.is_nucleic
    hits = result.hit_thresholds or result.thresholds
    null_inst = call_hits(cn, hn, hits, result.motifs, result.prototypes,
                          result.width, s.flank, both, s.similarity, null.valid)
    null_mass = {mid: part for mid, part in null_inst.groupby("motif")}
    if s.engine == "seqexplain":
        real_inst = result.instances
    else:
        contrib = np.asarray(attributions.scores(s.method), np.float32)
        hyp = np.asarray(attributions.hypothetical(s.method), np.float32)
        real_inst = call_hits(contrib, hyp, hits, result.motifs, result.prototypes,
                              result.width, s.flank, both, s.similarity, attributions.valid())
    real_mass = {mid: part for mid, part in real_inst.groupby("motif")}
    target = attributions.target
    rows = []
    for m in result.motifs:
        inst = result.instances[result.instances["motif"] == m.id]
        real_seq = np.zeros(n)
        rm = real_mass.get(m.id)
        if rm is not None:
            np.add.at(real_seq, rm["seq"].to_numpy(), rm["score"].to_numpy() * m.sign)
        nm = null_mass.get(m.id)
        null_seq = np.zeros(len(pick))
        if nm is not None:
            np.add.at(null_seq, nm["seq"].to_numpy(), nm["score"].to_numpy() * m.sign)
        real, n_null = 0 if rm is None else len(rm), 0 if nm is None else len(nm)
        fold = real_seq.mean() / max(null_seq.mean(), 1e-3 * max(real_seq.mean(), 1e-12))
        p_enrich = float(mannwhitneyu(real_seq, null_seq, alternative="greater").pvalue) \
            if real else 1.0
        if not real:
            fold = 0.0
        # output change when instances are shuffled out
        take = inst.iloc[np.sort(rng.choice(len(inst), min(max_instances, len(inst)),
                                            replace=False))] if len(inst) else inst
        X = onehot[take["seq"].to_numpy()].copy()
        for row, (a, b) in enumerate(zip(take["start"], take["end"])):
            X[row, a:b] = X[row, a:b][rng.permutation(b - a)]
        before = explained_output(model, onehot[take["seq"].to_numpy()], target)
        after = explained_output(model, X, target)
        delta = after - before
        if len(delta) and np.any(delta != 0):
            p_effect = float(wilcoxon(delta, alternative="less" if m.sign > 0 else
                                      "greater").pvalue)
        else:
            p_effect = 1.0
        rows.append({"motif": m.id, "instances": real, "null_instances": n_null,
                     "null_sequences": len(pick), "enrichment": fold,
                     "enrichment_p": float(p_enrich),
                     "output_change": float(delta.mean()) if len(delta) else 0.0,
                     "output_change_p": p_effect})
    table = pd.DataFrame(rows, columns=["motif", "instances", "null_instances",
                                        "null_sequences", "enrichment", "enrichment_p",
                                        "output_change", "output_change_p"])
    if len(table):
        table["enrichment_q"] = bh(table["enrichment_p"].to_numpy())
        table["output_change_q"] = bh(table["output_change_p"].to_numpy())
        table["supported"] = ((table["enrichment"] >= MIN_FOLD)
                              & (table["enrichment_q"] < MAX_Q)
                              & (table["output_change_q"] < MAX_Q))
    else:
        table = table.assign(enrichment_q=[], output_change_q=[], supported=[])
    for m, row in zip(result.motifs, table.to_dict("records")):
        m.evidence = row
    return table


# -- TF-MoDISco as an alternative engine -------------------------------------------------------
def discover_modisco(attributions: Attributions, settings: MotifSettings | None = None,
                     null: NullAttributions | None = None) -> MotifResult:
    """Motifs from TF-MoDISco (modisco-lite, its default settings) on the same scores, in the
    same form as :func:`discover`: its patterns become motifs (PFM = pattern sequence, CWM and
    hypothetical CWM as it reports them), its pattern seqlets the instances. DNA only.

    So that the support tests treat both engines alike, every pattern also gets a prototype
    (its CWM and hypothetical CWM, zero-padded to the widest pattern) and our seqlet thresholds
    (shuffled-sequence null when given, else the Laplace fit) at that width."""
    from modiscolite.tfmodisco import TFMoDISco

    s = settings or MotifSettings()
    attributions.require(s.method)
    letters = attributions.letters
    if not attributions.alphabet.is_nucleic:
        raise SeqexplainError("the modisco engine handles DNA/RNA only; use --engine "
                              "seqexplain for protein")
    onehot = np.asarray(attributions.onehot, np.float32)
    hyp = np.asarray(attributions.hypothetical(s.method), np.float32)
    contrib = np.asarray(attributions.scores(s.method), np.float32)
    n, length, _ = onehot.shape
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pos, neg = TFMoDISco(one_hot=onehot, hypothetical_contribs=hyp,
                             sliding_window_size=min(21, length),
                             flank_size=min(10, max(0, (length - 21) // 2)), verbose=False)
    patterns = [(1, p) for p in (pos or [])] + [(-1, p) for p in (neg or [])]
    width = max([len(p.sequence) for _, p in patterns] + [s.width or default_width(letters)])
    width = min(width, length)
    seqlets, thresholds, hit_thresholds = _seqlets(attributions, contrib, width, s.fdr, null,
                                                   s.hit_fdr)
    track = contrib.sum(-1)
    motifs, prototypes, tables = [], {}, []
    counts = {1: 0, -1: 0}
    for sign, p in patterns:
        counts[sign] += 1
        mid = f"{'pos' if sign > 0 else 'neg'}_{counts[sign]}"
        pfm = np.asarray(p.sequence, dtype=np.float64)
        pfm = pfm / np.clip(pfm.sum(axis=1, keepdims=True), 1e-9, None)
        w = min(len(pfm), width)
        left = (width - w) // 2
        proto = np.zeros((width, 2, onehot.shape[2]), np.float32)
        proto[left:left + w, 0] = np.asarray(p.contrib_scores)[:w]
        proto[left:left + w, 1] = np.asarray(p.hypothetical_contribs)[:w]
        motif = LearnedMotif(id=mid, sign=sign, pfm=pfm, cwm=np.asarray(p.contrib_scores),
                             hcwm=np.asarray(p.hypothetical_contribs), n_seqlets=len(p.seqlets),
                             letters=letters, span=(s.flank + left, s.flank + left + w))
        motif.consensus = consensus(pfm, letters)
        motifs.append(motif)
        prototypes[mid] = (sign, proto)
        rows = []
        for q in p.seqlets:
            a, b = max(0, int(q.start)), min(length, int(q.end))
            if b > a:
                rows.append((int(q.example_idx), a, b, "-" if q.is_revcomp else "+", mid,
                             float(track[q.example_idx, a:b].sum()), np.nan))
        tables.append(pd.DataFrame(rows, columns=["seq", "start", "end", "strand", "motif",
                                                  "score", "similarity"]))
    inst = (pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(
        columns=["seq", "start", "end", "strand", "motif", "score", "similarity"]))
    inst = inst.sort_values(["seq", "start"], ignore_index=True)
    seqlets = seqlets.assign(motif="", strand="+")
    none = "" if motifs else (
        f"TF-MoDISco (its default settings) found no pattern in {n} sequences "
        f"({len(seqlets)} seqlets pass our seqlet FDR, --fdr {s.fdr:g})"
        + _suggest("--engine seqexplain"))
    return MotifResult(motifs=motifs, seqlets=seqlets, instances=inst, thresholds=thresholds,
                       settings=s, n_sequences=n, prototypes=prototypes, width=width,
                       hit_thresholds=hit_thresholds, no_motifs=none)
