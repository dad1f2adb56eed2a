"""Support: is a motif learned signal? Two tests on arrays and a ``predict`` callable.

The null scores (the attribution method on dinucleotide shuffles of the sequences) and the
``predict`` callable (one-hot sequences → the explained output) come from the caller — the
pipeline (:mod:`.pipeline`) builds both from the model — so this module runs no model and
imports no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..annotate import bh
from ..attributions import Attributions
from ..edit import shuffle_region
from .clustering import MotifResult
from .hits import call_hits
from .seqlets import NullAttributions

#: Thresholds a motif must pass to be "supported".
MIN_FOLD = 2.0
MAX_Q = 0.01



def motif_support(result: MotifResult, attributions: Attributions,
                  predict: Callable[[np.ndarray], np.ndarray], null: NullAttributions,
                  max_instances: int = 200, seed: int = 0) -> pd.DataFrame:
    """Evidence that each motif is learned signal; fills ``motif.evidence`` and returns it as a
    table. ``predict`` maps one-hot sequences (k, L, C) to the explained output (k,) — the
    pipeline passes the model's explained logit
    (:func:`seqexplain.attribution.explained_output`); ``null``: the same attribution method
    on dinucleotide shuffles (:class:`~seqexplain.motifs.seqlets.NullAttributions`). Two
    tests, both needed for ``supported``:

    * **null enrichment** — the same pipeline (attribution method, seqlet thresholds of the real
      data, hit calling with the motifs) on ``null``, dinucleotide shuffles of the sequences.
      Per sequence, the attribution mass of the motif's instances (count × strength): the
      mean over real sequences must be ≥ 2 × the null's, and higher by a one-sided
      Mann–Whitney test (BH q < 0.01 across motifs);
    * **output change** — up to ``max_instances`` instances shuffled out (their bases
      permuted) and the explained output recomputed with ``predict``: it must move against
      the motif's sign (down for activating, up for repressive), one-sided Wilcoxon
      signed-rank q < 0.01.
    """
    # scipy.stats takes ~0.4 s to import: here, so that importing the motif steps (and the
    # CLI, which reads MotifSettings for its option defaults) stays fast
    from scipy.stats import mannwhitneyu, wilcoxon

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
        if len(take):
            X = np.stack([shuffle_region(onehot[i], int(a), int(b), kind="mononucleotide",
                                         random_state=rng)
                          for i, a, b in zip(take["seq"], take["start"], take["end"])])
            before = np.asarray(predict(onehot[take["seq"].to_numpy()]), np.float64)
            after = np.asarray(predict(X), np.float64)
            delta = after - before
        else:
            delta = np.zeros(0, np.float64)
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

