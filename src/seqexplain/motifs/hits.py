"""Hit calling: motif instances (the motif map).

Every window whose summed contribution passes the seqlet threshold of its sign is matched to
the motifs of that sign (same similarity, shifts and strands as seqlet assignment); matches
become instances on the motif's trimmed columns, and instances of one motif that overlap by
half or more are merged into the strongest. Pure NumPy/pandas.
"""

from __future__ import annotations

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

