"""Ground-truth benchmark: do attribution maps put their weight on the planted motifs?

The Koo-lab recipe (Koo & Ploenzke 2021; Majdandzic et al. 2023), on simulated data whose
motif positions are known:

1. simulate a binary task with ``seqexplain.simulate`` (CTCF from
   ``examples/data/jaspar2024_selected.meme`` planted once in each positive, i.i.d.
   background), ``--n`` sequences × ``--length`` bp, seeded;
2. train the default CNN (``seqexplain.train.train`` with ``TrainSettings(seed=0)``);
3. explain the logit of up to ``--max-seqs`` test-split positives with every method of
   ``seqexplain.attribution``; the **observed-base contribution** is used throughout:
   saliency's gradient × X (for every channel the function returns the gradient, corrected or
   not), ``grad_input`` as it is, integrated gradients and DeepLIFT/DeepSHAP as returned
   (observed by default), centred ISM × X;
4. per position, score = ``|sum over channels|`` of the observed contribution (and the
   positive-only variant ``max(0, sum)``); label = 1 inside a planted instance
   (``data.sites``: 0-based, half-open); AUROC and AUPRC (``sklearn.metrics``) over all
   positions of all explained sequences pooled, plus the mean of the per-sequence AUROCs.

Also printed: seconds per method (one call on all explained sequences, after a warm-up call
on four of them so that tracing is excluded), the completeness error of the methods that have
one, and a random-score row (AUROC 0.5; its AUPRC is the fraction of motif positions).

Run::

    python benchmarks/bench_attribution_groundtruth.py            # about 2-4 minutes, 2 cores
    python benchmarks/bench_attribution_groundtruth.py --max-seqs 50 --shuffles 10   # quicker
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MOTIF_FILE = ROOT / "examples" / "data" / "jaspar2024_selected.meme"


def site_mask(sites, ids: list[str], length: int) -> np.ndarray:
    """(len(ids), length) 0/1: 1 at every position inside a planted instance."""
    row = {i: k for k, i in enumerate(ids)}
    mask = np.zeros((len(ids), length), np.int8)
    for sid, start, end in zip(sites["id"], sites["start"], sites["end"]):
        if sid in row:
            mask[row[sid], int(start):int(end)] = 1
    return mask


def groundtruth_metrics(position_score: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """Pooled AUROC/AUPRC over all positions, and the mean per-sequence AUROC."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    y, s = mask.ravel(), position_score.ravel()
    per_seq = [roc_auc_score(m, p) for m, p in zip(mask, position_score)
               if 0 < m.sum() < len(m)]
    return {"auroc": roc_auc_score(y, s), "auprc": average_precision_score(y, s),
            "seq_auroc": float(np.mean(per_seq))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="simulated sequences (2000)")
    parser.add_argument("--length", type=int, default=200, help="sequence length (200)")
    parser.add_argument("--seed", type=int, default=1, help="simulation seed (1)")
    parser.add_argument("--max-seqs", type=int, default=200,
                        help="test-split positives explained (at most; 200)")
    parser.add_argument("--shuffles", type=int, default=20,
                        help="dinucleotide-shuffled references per sequence for deep_shap (20)")
    parser.add_argument("--ig-steps", type=int, default=50, help="integrated-gradients steps")
    args = parser.parse_args()
    wall = time.perf_counter()

    random.seed(0)
    np.random.seed(0)
    from seqexplain._tf import import_tensorflow

    tf = import_tensorflow()
    import keras

    keras.utils.set_random_seed(0)

    import seqexplain.attribution as attribution
    from seqexplain import one_hot
    from seqexplain.motif_io import load_motifs
    from seqexplain.simulate import simulate
    from seqexplain.targets import make_targets
    from seqexplain.train import train
    from seqexplain.training.settings import TrainSettings

    # -- data and model ---------------------------------------------------------------------
    motifs = load_motifs(["CTCF"], [MOTIF_FILE])
    data = simulate(motifs, n=args.n, length=args.length, task="binary",
                    random_state=args.seed)
    X = one_hot(data.sequences)
    targets = make_targets(data.labels.set_index("id"), "binary")
    print(f"# {data.summary()}")
    print(f"# motif {motifs[0].name} ({getattr(motifs[0], 'id', '')}), width "
          f"{motifs[0].width}; simulation seed {args.seed}")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, TensorFlow {tf.__version__}, "
          f"Keras {keras.__version__}")

    t = time.perf_counter()
    result = train(X, targets, None, TrainSettings(seed=0, verbose=False))
    t_train = time.perf_counter() - t
    model = result.model
    print(f"# CNN (default settings, seed 0): {t_train:.0f} s, best epoch "
          f"{result.best_epoch}, {len(result.history)} epochs; test AUROC "
          f"{result.metrics['auroc']:.4f}, AUPRC {result.metrics.get('auprc', float('nan')):.4f}")

    test = np.asarray(result.split.test)
    positives = np.sort(test[targets.y[test, 0] == 1])[: args.max_seqs]
    Xp = np.ascontiguousarray(X[positives])
    ids = [data.ids[i] for i in positives]
    mask = site_mask(data.sites, ids, args.length)
    print(f"# explained: {len(Xp)} test-split positives (of {int((targets.y[test, 0] == 1).sum())}"
          f"), logit; {mask.sum():,} of {mask.size:,} positions inside a planted instance "
          f"({mask.mean():.3f})")

    # -- methods: name -> (call returning the observed-base contribution, note) ----------------
    A = attribution
    methods = {
        "saliency (corrected) × X": (
            lambda x: A.saliency(model, x, correct=True) * x, "gradient correction"),
        "saliency (raw) × X": (
            lambda x: A.saliency(model, x, correct=False) * x, "no correction"),
        "grad_input (corrected)": (
            lambda x: A.grad_input(model, x, correct=True), "gradient correction"),
        "grad_input (raw)": (
            lambda x: A.grad_input(model, x, correct=False), "default: no correction"),
        "integrated_gradients": (
            lambda x: A.integrated_gradients(model, x, steps=args.ig_steps,
                                             return_delta=True),
            f"zero baseline, {args.ig_steps} steps"),
        "deeplift": (
            lambda x: A.deeplift(model, x, return_delta=True), "uniform reference"),
        "deep_shap": (
            lambda x: A.deep_shap(model, x, n_references=args.shuffles, random_state=0,
                                  return_delta=True),
            f"{args.shuffles} dinucleotide shuffles"),
        "ism (centred) × X": (
            lambda x: A.ism(model, x, center=True) * x, "3 substitutions per position"),
    }

    rows = []
    observed = {}
    for name, (fn, note) in methods.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fn(Xp[:4])  # warm-up: trace the compiled steps
            t = time.perf_counter()
            out = fn(Xp)
            seconds = time.perf_counter() - t
        delta = None
        if isinstance(out, tuple):
            out, delta = out
        out = np.asarray(out, np.float64)
        observed[name] = out
        per_pos = out.sum(axis=-1)
        m_abs = groundtruth_metrics(np.abs(per_pos), mask)
        m_pos = groundtruth_metrics(np.maximum(per_pos, 0.0), mask)
        if delta is not None:
            note += f"; max |delta| {np.abs(delta).max():.1e}"
        rows.append((name, seconds, m_abs, m_pos, note))

    rng = np.random.default_rng(0)
    random_score = rng.random(mask.shape)
    m = groundtruth_metrics(random_score, mask)
    rows.append(("random scores", float("nan"), m, m, "chance level"))

    # -- table --------------------------------------------------------------------------------
    print()
    print(f"{'':<26} {'':>8}   {'|sum over channels|':^26}   {'max(0, sum)':^26}")
    print(f"{'method':<26} {'seconds':>8}   {'AUROC':>7} {'AUPRC':>7} {'seqROC':>8}   "
          f"{'AUROC':>7} {'AUPRC':>7} {'seqROC':>8}   note")
    print("-" * 130)
    for name, seconds, a, p, note in rows:
        sec = "-" if np.isnan(seconds) else f"{seconds:.2f}"
        print(f"{name:<26} {sec:>8}   {a['auroc']:>7.4f} {a['auprc']:>7.4f} "
              f"{a['seq_auroc']:>8.4f}   {p['auroc']:>7.4f} {p['auprc']:>7.4f} "
              f"{p['seq_auroc']:>8.4f}   {note}")
    print()
    print("AUROC/AUPRC: pooled over all positions of all explained sequences; seqROC: mean of "
          "the per-sequence AUROCs. Seconds: one call on all explained sequences, tracing "
          "excluded.")

    # saliency × X and grad_input are the same numbers by construction: say whether they are
    same = [("saliency (corrected) × X", "grad_input (corrected)"),
            ("saliency (raw) × X", "grad_input (raw)")]
    for a, b in same:
        diff = np.abs(observed[a] - observed[b]).max()
        print(f"check: max |{a} - {b}| = {diff:.1e}")
    print(f"wall time {time.perf_counter() - wall:.0f} s")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
