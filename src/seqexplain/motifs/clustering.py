"""Motif settings and results, seqlet similarity and clustering, motif matrices.

Seqlets are compared by the mean of two cosine similarities — of their contributions (which
bases are there) and of their hypothetical contributions (what the model looks for) —
maximised over shifts of up to ``flank`` positions and, for DNA, both strands (a reverse
complement reverses positions and channels). Average-linkage clustering is cut at
``similarity``; members are aligned to their motif (shift and strand) to form the PFM (mean
one-hot), the CWM (mean contribution) and the hypothetical CWM, trimmed to the columns holding
at least ``trim`` of the largest column's contribution. Pure NumPy/pandas/SciPy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..alphabets import alphabet_from_letters
from ..annotate import best_match, motif_title, significant_name


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



# -- similarity and clustering --------------------------------------------------------------
def seqlet_windows(arr: np.ndarray, seqlets: pd.DataFrame, width: int, pad: int) -> np.ndarray:
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
    # SciPy's clustering takes ~0.2 s to import: here, so that the CLI (which reads
    # MotifSettings for its option defaults) starts fast
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
def aligned_windows(arr_ext: np.ndarray, shift: np.ndarray, strand: np.ndarray, width: int,
             flank: int) -> np.ndarray:
    """Member windows (width + 2 flank, C) aligned to the motif frame."""
    pad = 2 * flank
    out = np.empty((len(arr_ext), width + 2 * flank, *arr_ext.shape[2:]), arr_ext.dtype)
    for i, (o, st) in enumerate(zip(shift, strand)):
        view = _rc(arr_ext[i:i + 1])[0] if st else arr_ext[i]
        out[i] = view[pad + o - flank:pad + o + width + flank]
    return out


def is_redundant(proto: np.ndarray, kept: list, width: int, flank: int, both: bool,
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
        ext = seqlet_windows(features, seqlets.loc[members], width, 2 * flank)
        sim, sh, st = best_alignment(np.stack([p for _, p in mine]), ext, width, flank, both)
        best = np.argmax(sim, axis=0)
        cols = np.arange(len(members))
        ok = sim[best, cols] >= threshold
        for j in np.nonzero(ok)[0]:
            k = int(best[j])
            rows.append((members[j], mine[k][0], int(sh[k, j]), int(st[k, j]),
                         float(sim[k, j])))
    return pd.DataFrame(rows, columns=["seqlet", "motif", "shift", "strand", "similarity"])



# -- motif matrices ----------------------------------------------------------------------------
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


def trim_span(cwm: np.ndarray, trim: float) -> tuple[int, int]:
    mass = np.abs(cwm).sum(axis=1)
    keep = np.nonzero(mass >= trim * mass.max())[0] if mass.max() > 0 else np.arange(len(mass))
    a, b = int(keep[0]), int(keep[-1]) + 1
    while b - a < min(MIN_WIDTH, len(mass)):
        if a > 0 and (b == len(mass) or mass[a - 1] >= mass[b]):
            a -= 1
        else:
            b += 1
    return a, b

