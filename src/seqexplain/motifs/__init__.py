"""Motifs from attributions: pure array steps, and one pipeline module that runs the model.

=====================  ======================================================================
:mod:`.seqlets`        window sums, seqlet thresholds (Laplace null, empirical FDR against
                       shuffled sequences: :class:`NullAttributions`), :func:`call_seqlets`
:mod:`.clustering`     :class:`MotifSettings`, :class:`LearnedMotif`, :class:`MotifResult`;
                       similarity over shifts and strands, clustering, seqlet assignment,
                       motif matrices (PFM/CWM/hypothetical CWM), :func:`consensus`
:mod:`.hits`           :func:`call_hits`: motif instances (the motif map); :func:`scan_hits`:
                       hits of given motifs (:class:`HitMotif`) with a null and BH q
:mod:`.discovery`      :func:`discover` (seqlets → motifs → instances), :func:`why_no_motifs`
:mod:`.support`        :func:`motif_support`: null enrichment and output change, given the null
                       scores and a ``predict`` callable (no model, no TensorFlow)
:mod:`.modisco`        :func:`discover_modisco`: TF-MoDISco (modisco-lite) as the engine
:mod:`.scan`           PWM scores of two alleles over the windows overlapping a variant:
                       the motif instance a variant breaks or creates
:mod:`.pipeline`       the ``seqexplain motifs`` pipeline: the null attributions and the
                       ``predict`` callable from the model, annotation (TOMTOM), the output
                       files (``run_motifs``, ``write_motifs``, ``run_and_write``), and
                       ``motifs_files``: what ``seqexplain motifs`` does
=====================  ======================================================================

Importing this package imports the array steps only (NumPy, pandas, SciPy): not the pipeline,
not TensorFlow. No name exported here is also the name of one of its modules.
"""

from __future__ import annotations

from .clustering import (MIN_WIDTH, LearnedMotif, MotifResult, MotifSettings, assign_seqlets,
                         best_alignment, cluster, consensus, default_width, is_nucleotide)
from .discovery import assemble, discover, why_no_motifs
from .hits import HitMotif, call_hits, collapse_overlaps, null_contributions, scan_hits
from .modisco import discover_modisco
from .seqlets import (NULL_QUANTILE, NullAttributions, call_seqlets, empirical_thresholds,
                      laplace_thresholds, seqlets_and_thresholds, window_sums)
from .support import MAX_Q, MIN_FOLD, motif_support

__all__ = [
    "MotifSettings", "LearnedMotif", "MotifResult", "NullAttributions",
    "default_width", "is_nucleotide", "window_sums", "NULL_QUANTILE", "laplace_thresholds",
    "empirical_thresholds", "call_seqlets", "seqlets_and_thresholds", "best_alignment",
    "cluster", "assign_seqlets", "consensus", "MIN_WIDTH", "call_hits", "HitMotif", "scan_hits",
    "collapse_overlaps", "null_contributions", "discover", "assemble",
    "why_no_motifs", "MIN_FOLD", "MAX_Q", "motif_support", "discover_modisco",
]
