"""TF-MoDISco (modisco-lite) as an alternative discovery engine, in our result's form."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..attributions import Attributions
from ..errors import SeqexplainError
from .clustering import LearnedMotif, MotifResult, MotifSettings, consensus, default_width
from .discovery import suggest_options
from .seqlets import NullAttributions, seqlets_and_thresholds


def discover_modisco(attributions: Attributions, settings: MotifSettings | None = None,
                     null: NullAttributions | None = None) -> MotifResult:
    """Motifs from TF-MoDISco (modisco-lite, its default settings) on the same scores, in the
    same form as :func:`~seqexplain.motifs.discovery.discover`: its patterns become motifs
    (PFM = pattern sequence, CWM and hypothetical CWM as it reports them), its pattern seqlets
    the instances. DNA only.

    So that the support tests treat both engines alike, every pattern also gets a prototype
    (its CWM and hypothetical CWM, zero-padded to the widest pattern) and our seqlet thresholds
    (shuffled-sequence null when given, else the Laplace fit) at that width."""
    # modisco-lite (and numba with it) takes about a second to import: only for this engine
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pos, neg = TFMoDISco(one_hot=onehot, hypothetical_contribs=hyp,
                             sliding_window_size=min(21, length),
                             flank_size=min(10, max(0, (length - 21) // 2)), verbose=False)
    patterns = [(1, p) for p in (pos or [])] + [(-1, p) for p in (neg or [])]
    width = max([len(p.sequence) for _, p in patterns] + [s.width or default_width(letters)])
    width = min(width, length)
    seqlets, thresholds, hit_thresholds = seqlets_and_thresholds(attributions, contrib, width,
                                                                 s.fdr, null, s.hit_fdr)
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
        + suggest_options("--engine seqexplain"))
    return MotifResult(motifs=motifs, seqlets=seqlets, instances=inst, thresholds=thresholds,
                       settings=s, n_sequences=n, prototypes=prototypes, width=width,
                       hit_thresholds=hit_thresholds, no_motifs=none)
