"""Hit calling: motif instances (the motif map).

Every window whose summed contribution passes the seqlet threshold of its sign is matched to
the motifs of that sign (same similarity, shifts and strands as seqlet assignment); matches
become instances on the motif's trimmed columns, and instances of one motif that overlap by
half or more are merged into the strongest. Pure NumPy/pandas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .clustering import assign_seqlets
from .seqlets import window_sums


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



# -- hits of given motifs (seqexplain hits) ---------------------------------------------------
#: Columns of :func:`scan_hits`'s table (sequence rows, 0-based, half-open).
HIT_COLUMNS = ["seq", "start", "end", "strand", "motif", "score", "contribution",
               "similarity", "p", "q"]


@dataclass(frozen=True)
class HitMotif:
    """A motif to call hits of: ``cwm`` (width, C), the contribution it is expected to leave
    (a discovered motif's CWM, or for a PFM its logo's letter heights: probability ×
    information content); ``sign`` +1 (activating) or −1 (repressive)."""

    name: str
    cwm: np.ndarray
    sign: int = 1

    @classmethod
    def from_pfm(cls, name: str, pfm: np.ndarray) -> "HitMotif":
        """The CWM of a PFM (width, C): each column's probabilities × its information content
        (bits), as a sequence logo draws it."""
        pfm = np.asarray(pfm, np.float64)
        p = np.clip(pfm, 1e-9, 1)
        bits = np.log2(pfm.shape[1]) + (pfm * np.log2(p)).sum(1, keepdims=True)
        return cls(name, pfm * bits, 1)

    @property
    def width(self) -> int:
        return int(len(self.cwm))


def _window_dot(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """(n, L, C) · (W, C) → (n, L − W + 1): Σ_w Σ_c x[:, p + w, c] · kernel[w, c]."""
    width = len(kernel)
    positions = x.shape[1] - width + 1
    out = np.zeros((len(x), positions), np.float64)
    for w in range(width):
        out += x[:, w:w + positions] @ kernel[w]
    return out


def null_contributions(contrib: np.ndarray, onehot: np.ndarray,
                       valid: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """The null of :func:`scan_hits`: each sequence's per-base contributions (summed over
    channels) moved to random positions among its bases, each placed on the base already
    there (``onehot``, (n, L, C)) — the sequences stay, so motif-like sequence stays; only
    where the model put its contribution is made random. (n, L, C) float32, seeded."""
    rng = np.random.default_rng([seed, 26])
    track = contrib.sum(-1)
    out = np.zeros(contrib.shape, np.float32)
    for i in range(len(contrib)):
        rows = np.nonzero(valid[i])[0] if valid is not None else np.arange(contrib.shape[1])
        out[i, rows] = onehot[i, rows] * track[i, rng.permutation(rows)][:, None]
    return out


def _window_scores(contrib: np.ndarray, motif: HitMotif, both: bool):
    """Per strand (0 forward, 1 reverse complement): (score, contribution, similarity),
    each (n, L − W + 1). ``score`` is the window's contribution projected on the unit CWM
    (positive where the contribution has the CWM's shape and sign: a repressive motif's
    negative CWM projects negative contributions to positive scores), ``similarity`` the
    cosine of the two."""
    cwm = np.asarray(motif.cwm, np.float64)
    unit = cwm / max(np.linalg.norm(cwm), 1e-12)
    width = motif.width
    sq = np.concatenate([np.zeros((len(contrib), 1)),
                         np.cumsum((contrib.astype(np.float64) ** 2).sum(-1), axis=1)], 1)
    norm = np.sqrt(np.maximum(sq[:, width:] - sq[:, :-width], 0))
    total = window_sums(contrib.sum(-1), width)
    out = []
    for kernel in ([unit, unit[::-1, ::-1]] if both else [unit]):
        proj = _window_dot(contrib, kernel)
        sim = np.where(norm > 0, proj / np.where(norm > 0, norm, 1), 0.0)
        out.append((proj, total, sim))
    return out


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg q-values of ``p`` (any shape)."""
    flat = p.ravel()
    order = np.argsort(flat)
    ranked = flat[order] * len(flat) / np.arange(1, len(flat) + 1)
    q = np.empty_like(flat)
    q[order] = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    return q.reshape(p.shape)


def scan_hits(contrib: np.ndarray, motifs: list[HitMotif], *, onehot: np.ndarray | None = None,
              valid: np.ndarray | None = None, null: np.ndarray | None = None,
              fdr: float = 0.1, min_similarity: float = 0.75, both_strands: bool = True,
              seed: int = 0) -> pd.DataFrame:
    """Hits of ``motifs`` in contribution scores ``contrib`` (n, L, C; the observed base's
    contribution; ``onehot``: the sequences, (n, L, C), default the bases with a non-zero
    contribution), one table (:data:`HIT_COLUMNS`, sorted by sequence and start).

    Every window of every motif's width, on both strands (``both_strands``), is scored by its
    contribution projected on the motif's unit CWM (``score``: how much CWM-shaped
    contribution is there; positive for contributions of the CWM's sign, so a repressive
    motif's hits score positive too). Its ``p`` is the fraction of windows
    of the ``null`` contributions (default :func:`null_contributions`: the same contributions
    moved to random bases of the same sequences) of that motif scoring at least as high, and
    ``q`` the Benjamini–Hochberg adjustment over every window of every motif and strand. A
    hit needs ``q ≤ fdr``, a cosine ``similarity`` of at least ``min_similarity`` with the CWM
    and a positive score. Hits of one motif that overlap (by a
    base or more, either strand) are collapsed to the one of highest score
    (:func:`collapse_overlaps`).

    Overlapping sites of different motifs blur each other's shape: so windows are first
    taken at a lower similarity (``min_similarity − 0.3``) and collapsed per motif; each
    group of such candidates of different motifs that overlap is fitted jointly — the
    contributions of its bases as a non-negative sum of the candidates' CWMs (on the bases
    there; SciPy's NNLS) — and each candidate's ``score``, ``similarity`` and q are those of
    its window with the other candidates' fitted CWMs taken off (``contribution`` is always
    the window's summed contribution). A lone candidate keeps its own."""
    contrib = np.asarray(contrib, np.float32)
    n, length = contrib.shape[:2]
    if valid is None:
        valid = np.ones((n, length), bool)
    if onehot is None:
        onehot = (contrib != 0).astype(np.float32)
    if null is None:
        null = null_contributions(contrib, onehot, valid, seed)
    usable = [m for m in motifs if m.width <= length]
    oks = [window_sums(valid.astype(np.float64), m.width) >= m.width - 0.5 for m in usable]
    nulls = [np.sort(np.concatenate([s[ok] for s, _, _ in _window_scores(null, m,
                                                                          both_strands)]))
             for m, ok in zip(usable, oks)]
    cand, qmap = _scan_round(contrib, usable, oks, nulls, fdr, min_similarity - 0.3,
                             both_strands)
    cand = collapse_overlaps(cand, length, n=n)
    if not len(cand):
        return pd.DataFrame(columns=HIT_COLUMNS)
    cand = _compete(cand.reset_index(drop=True), contrib, onehot,
                    {m.name: m for m in usable}, dict(zip([m.name for m in usable], nulls)),
                    qmap)
    keep = (cand["q"] <= fdr) & (cand["similarity"] >= min_similarity) & (cand["score"] > 0)
    return cand[keep].sort_values(["seq", "start", "motif"], ignore_index=True)[HIT_COLUMNS]


def _oriented(motif: HitMotif, strand: str) -> np.ndarray:
    return motif.cwm if strand == "+" else motif.cwm[::-1, ::-1]


def _compete(cand: pd.DataFrame, contrib, onehot, motifs: dict, nulls: dict, qmap
             ) -> pd.DataFrame:
    """Joint fits of overlapping candidates of different motifs (see :func:`scan_hits`)."""
    from scipy.optimize import nnls

    cand = cand.sort_values(["seq", "start"], ignore_index=True)
    seq, a, b = (cand[k].to_numpy() for k in ("seq", "start", "end"))
    # groups: runs of candidates of one sequence whose spans chain by overlap
    new_group = np.r_[True, (seq[1:] != seq[:-1]) | (a[1:] >= _running_end(seq, b)[:-1])]
    group = np.cumsum(new_group) - 1
    score, sim = cand["score"].to_numpy().copy(), cand["similarity"].to_numpy().copy()
    p = cand["p"].to_numpy().copy()
    for g in np.unique(group[np.r_[group[1:] == group[:-1], False]
                             | np.r_[False, group[1:] == group[:-1]]]):
        members = np.nonzero(group == g)[0]
        if cand["motif"].iloc[members].nunique() < 2:
            continue
        s, lo, hi = int(seq[members[0]]), int(a[members].min()), int(b[members].max())
        x = contrib[s, lo:hi].astype(np.float64)
        shapes = []
        for k in members:
            full = np.zeros_like(x)
            m = motifs[cand["motif"].iat[k]]
            full[a[k] - lo:b[k] - lo] = _oriented(m, cand["strand"].iat[k]) * onehot[
                s, a[k]:b[k]]
            shapes.append(full)
        design = np.stack([f.ravel() for f in shapes], 1)
        coef, _ = nnls(design, x.ravel())
        for j, k in enumerate(members):
            rest = x - sum(coef[i] * shapes[i] for i in range(len(members)) if i != j)
            window = rest[a[k] - lo:b[k] - lo]
            cwm = _oriented(motifs[cand["motif"].iat[k]], cand["strand"].iat[k])
            unit = cwm / max(np.linalg.norm(cwm), 1e-12)
            proj = float((window * unit).sum())
            norm = float(np.linalg.norm(window))
            score[k], sim[k] = proj, (proj / norm if norm > 0 else 0.0)
            null_scores = nulls[cand["motif"].iat[k]]
            above = len(null_scores) - np.searchsorted(null_scores, proj, side="left")
            p[k] = (1 + above) / (1 + len(null_scores))
    return cand.assign(score=score, similarity=sim, p=p, q=qmap(p))


def _running_end(seq: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The furthest end so far within each sequence's run of candidates (sorted by start)."""
    out = end.astype(np.int64).copy()
    for i in range(1, len(out)):
        if seq[i] == seq[i - 1]:
            out[i] = max(out[i], out[i - 1])
    return out


def _scan_round(contrib, motifs, oks, nulls, fdr, min_similarity, both):
    """Windows of ``contrib`` passing the thresholds (before collapsing), with p and q; and
    the BH map p → q of every window (for p-values computed later)."""
    residual = contrib
    stats = []
    for k, (motif, ok, null_scores) in enumerate(zip(motifs, oks, nulls)):
        for strand, (score, _, sim) in enumerate(_window_scores(residual, motif, both)):
            above = len(null_scores) - np.searchsorted(null_scores, score[ok], side="left")
            p = np.ones_like(score)
            p[ok] = (1 + above) / (1 + len(null_scores))
            stats.append((k, strand, score, sim, p, ok))
    if not stats:
        return pd.DataFrame(columns=HIT_COLUMNS), lambda p: np.ones_like(p)
    p_all = np.concatenate([p[ok] for *_, p, ok in stats])
    q_all = _bh(p_all)
    order = np.argsort(p_all)
    p_sorted = p_all[order]
    # q of a new p: the smallest q among windows of p ≥ it (BH's step-up), else 1
    q_tail = np.minimum.accumulate(q_all[order][::-1])[::-1]

    def qmap(p):
        i = np.searchsorted(p_sorted, np.asarray(p), side="left")
        return np.where(i < len(p_sorted), q_tail[np.minimum(i, len(p_sorted) - 1)], 1.0)

    at, tables = 0, []
    totals = {}
    for k, strand, score, sim, p, ok in stats:
        motif = motifs[k]
        if motif.width not in totals:
            totals[motif.width] = window_sums(contrib.sum(-1), motif.width)
        total = totals[motif.width]
        q = np.ones_like(p)
        q[ok] = q_all[at:at + ok.sum()]
        at += ok.sum()
        keep = ok & (q <= fdr) & (sim >= min_similarity) & (score > 0)
        seqs, starts = np.nonzero(keep)
        tables.append(pd.DataFrame({
            "seq": seqs, "start": starts, "end": starts + motif.width,
            "strand": "+" if strand == 0 else "-", "motif": motif.name,
            "score": score[seqs, starts], "contribution": total[seqs, starts],
            "similarity": sim[seqs, starts], "p": p[seqs, starts], "q": q[seqs, starts]}))
    return pd.concat(tables, ignore_index=True), qmap


def collapse_overlaps(table: pd.DataFrame, length: int, taken: dict | None = None,
                      n: int | None = None) -> pd.DataFrame:
    """Hits of one motif that overlap by a base or more (either strand) → the one of highest
    score, taken greedily: the strongest hit is kept, every hit of that motif overlapping it
    dropped, and so on (ties: the leftmost, then ``+``). ``taken``: motif → (n, L) bases
    already held by that motif's hits (updated in place; new hits may not overlap them)."""
    if not len(table):
        return table
    taken = {} if taken is None else taken
    n = int(table["seq"].max()) + 1 if n is None else n
    order = table.sort_values(["score", "start", "strand"], ascending=[False, True, True],
                              kind="stable")
    keep = []
    for idx, seq, motif, a, b in zip(order.index, order["seq"].to_numpy(),
                                     order["motif"].to_numpy(), order["start"].to_numpy(),
                                     order["end"].to_numpy()):
        busy = taken.setdefault(motif, np.zeros((n, length), bool))
        if busy[seq, a:b].any():
            continue
        busy[seq, a:b] = True
        keep.append(idx)
    return table.loc[keep]
