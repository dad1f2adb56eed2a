"""Motif discovery with our engine: seqlets → clusters → motifs → instances.

1. **Seqlets** (:mod:`.seqlets`): windows of ``width`` positions whose summed attribution
   passes the threshold of its sign (Laplace null, or empirical FDR against shuffled
   sequences); positive (activating) and negative (repressive) windows are kept apart.
2. **Clustering** (:mod:`.clustering`): up to ``max_seqlets`` seqlets per sign, compared over
   shifts and strands, average-linkage clustered at ``similarity``; clusters of at least
   ``min_seqlets`` become motifs, and every seqlet is assigned to the motif it matches best.
3. **Motif matrices** (:mod:`.clustering`): PFM, CWM and hypothetical CWM of the aligned
   members, trimmed at ``trim``.
4. **Instances** (:mod:`.hits`): the motif map — every window passing the map's threshold,
   matched to the motifs.

When nothing is found, :func:`why_no_motifs` says which threshold stopped discovery and what
to try. Pure NumPy/pandas: no model runs here (see :mod:`.support` and :mod:`.pipeline`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..attributions import Attributions
from .clustering import (LearnedMotif, MotifResult, MotifSettings, aligned_windows,
                         assign_seqlets, best_alignment, cluster, consensus, default_width,
                         is_nucleotide, is_redundant, seqlet_windows, trim_span)
from .hits import call_hits
from .seqlets import NullAttributions, seqlets_and_thresholds


def discover(attributions: Attributions, settings: MotifSettings | None = None,
             null: NullAttributions | None = None) -> MotifResult:
    """Seqlets, motifs and instances from :class:`~seqexplain.attributions.Attributions`.
    With ``null`` (see :func:`seqexplain.motifs.pipeline.null_attributions`) seqlet thresholds
    come from the empirical FDR against the shuffled sequences; without, from the Laplace fit."""
    s = settings or MotifSettings()
    attributions.require(s.method)
    letters = attributions.letters
    width = s.width or default_width(letters)
    onehot = np.asarray(attributions.onehot, np.float32)
    contrib = np.asarray(attributions.scores(s.method), np.float32)
    hyp = np.asarray(attributions.hypothetical(s.method), np.float32)
    seqlets, thresholds, hit_thresholds = seqlets_and_thresholds(attributions, contrib, width,
                                                                 s.fdr, null, s.hit_fdr)
    valid = attributions.valid()
    result = assemble(seqlets, thresholds, onehot, contrib, hyp, letters, s, width, valid,
                      hit_thresholds)
    return result



def suggest_options(*options: str) -> str:
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
                + suggest_options(_looser_fdr(s.fdr)))
    called = (f"{n} seqlet{'s' if n != 1 else ''} passed the seqlet FDR (--fdr {s.fdr:g}; "
              f"{pos} activating, {neg} repressive)")
    needs = f"the {m} seqlets of one sign a motif needs (--min-seqlets {m}"
    if most < m:
        return (f"{called}, fewer than {needs})"
                + suggest_options(_fewer_seqlets(s, most) or _looser_fdr(s.fdr)))
    lower = f"--similarity {s.similarity - 0.1:.2g}" if s.similarity > 0.15 else ""
    if largest_kept is None:
        return (f"{called}, but no cluster of them (cut at --similarity {s.similarity:g}) "
                f"reached {needs}; the largest held {largest_cluster})"
                + suggest_options(_fewer_seqlets(s, largest_cluster), lower))
    return (f"{called}, but once each seqlet was assigned to the motif it matches best "
            f"(--similarity {s.similarity:g}), none kept {needs}; the largest kept "
            f"{largest_kept})" + suggest_options(_fewer_seqlets(s, largest_kept), lower))



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
        ext = seqlet_windows(features, seqlets.loc[sample], width, 2 * flank)
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
            aligned = aligned_windows(ext[idx], sh[medoid], st[medoid], width, flank)
            proto = aligned.mean(axis=0)[flank:flank + width]
            if is_redundant(proto, [p for sg, _, p in protos if sg == sign], width, flank, both,
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
        views = {name: aligned_windows(seqlet_windows(arr, sel, width, 2 * flank), sh, st,
                                       width, flank)
                 for name, arr in (("onehot", onehot), ("contrib", contrib), ("hyp", hyp))}
        cwm_full = views["contrib"].mean(axis=0)
        a, b = trim_span(cwm_full * sign, s.trim)
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

