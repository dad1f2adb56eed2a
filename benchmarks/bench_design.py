"""Does `sx.design` make weak sequences strong with few edits, do its edits build the motif the
model learned, and is it fast enough?

1. **Shipped CTCF model** (`models/ctcf`): 100 genomic background windows
   (`examples/data/human_background.fa`, 200 bp) that the model scores p < 0.1, designed with
   `goal="max", max_edits=10` (greedy, every round taken). Reported: the fraction reaching
   p ≥ 0.9 (target ≥ 90 %) and, of those, the fraction where a CTCF match (JASPAR MA0139.2,
   FIMO p < 1e-4 via memelite) overlaps an edit and was not in the window before (target
   ≥ 90 %); also how often `motif_created` names CTCF.
2. **Against random edits**: each window's random substitutions (a seeded random position
   not yet edited, a random other base) until it reaches p ≥ 0.9 (or, for a window greedy
   design left below, greedy's final score); greedy's count is the edits of its trajectory
   to the same score; median edits of each (target: greedy ≥ 5× fewer). Random walks stop at `--random-cap`
   edits; a window that never gets there counts as the cap (so the ratio is a lower bound).
3. **Speed**: greedy design of 100 random 200 bp sequences with 10 edits each
   (`goal="max"`, no threshold: all 10 rounds) on the reference CNN of
   `tests/data/reference/tangermeme_maxpool.npz` (target ≤ 60 s on the 2 cores).

Run::

    python benchmarks/bench_design.py              # about 5 minutes on 2 busy cores
    python benchmarks/bench_design.py --n 20 --random-cap 50   # quick look
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def ctcf_windows(bundle, n: int, seed: int):
    import seqexplain as sx

    records = sx.read_fasta(ROOT / "examples" / "data" / "human_background.fa")
    X = bundle.encode(list(records.sequences)).onehot
    p = sx.predict(bundle, X)[:, 0]
    low = np.flatnonzero(p < 0.1)
    pick = np.sort(np.random.default_rng(seed).choice(low, size=min(n, len(low)),
                                                      replace=False))
    return X[pick], [records.ids[i] for i in pick], len(low), len(X)


def fimo_hits(X: np.ndarray, pfm: np.ndarray):
    from memelite import fimo

    table = fimo({"CTCF": pfm.T}, X.transpose(0, 2, 1).astype(np.float32), threshold=1e-4)[0]
    return table


def created_overlapping(result, pfm) -> tuple[np.ndarray, np.ndarray]:
    """Per sequence: a FIMO CTCF match overlapping an edit (any), and one that is new (no
    match at that start and strand before)."""
    after = fimo_hits(result.X, pfm)
    before = fimo_hits(result.original, pfm)
    old = set(zip(before["sequence_name"], before["start"], before["strand"]))
    n = len(result.X)
    overlap, new = np.zeros(n, bool), np.zeros(n, bool)
    edits = result.edits
    for i in range(n):
        pos = edits.loc[edits["id"] == result.ids[i], "position"].to_numpy()
        if not len(pos):
            continue
        for h in after[after["sequence_name"] == i].itertuples():
            if ((pos >= h.start) & (pos < h.end)).any():
                overlap[i] = True
                if (i, h.start, h.strand) not in old:
                    new[i] = True
    return overlap, new


def random_edits(bundle, X: np.ndarray, goal_scores: np.ndarray, cap: int, seed: int):
    """Edits each sequence needs, substituting at random, to reach ``goal_scores``."""
    import seqexplain as sx

    rng = np.random.default_rng(seed)
    n, length, channels = X.shape
    x = X.copy()
    order = np.stack([rng.permutation(length) for _ in range(n)])
    needed = np.full(n, cap, float)
    done = sx.predict(bundle, x)[:, 0] >= goal_scores
    needed[done] = 0
    for step in range(cap):
        if done.all():
            break
        rows = np.arange(n)
        pos = order[:, step]
        own = x[rows, pos].argmax(axis=1)
        alt = (own + rng.integers(1, channels, n)) % channels
        x[rows, pos] = 0
        x[rows, pos, alt] = 1
        p = sx.predict(bundle, x)[:, 0]
        reach = ~done & (p >= goal_scores)
        needed[reach] = step + 1
        done |= reach
    return needed, done


def speed(n: int, edits: int) -> tuple[float, float]:
    import keras

    import seqexplain as sx
    from toy_models import random_onehot, reference_model

    keras.utils.set_random_seed(0)
    model = reference_model(ROOT / "tests" / "data" / "reference" / "tangermeme_maxpool.npz")
    X = random_onehot(n, 200, seed=3)
    sx.design(model, X[:2], "max", max_edits=2, output="logit")  # compile
    t = time.perf_counter()
    result = sx.design(model, X, "max", max_edits=edits, output="logit")
    return time.perf_counter() - t, float(np.mean(result.n_edits))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--max-edits", type=int, default=10)
    parser.add_argument("--random-cap", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-ctcf", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()

    import seqexplain as sx

    print(f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    if not args.skip_ctcf:
        bundle = sx.load_model(ROOT / "models" / "ctcf")
        X, ids, n_low, n_all = ctcf_windows(bundle, args.n, args.seed)
        pfm = sx.load_motifs(["MA0139.2"], [ROOT / "examples" / "data" /
                                            "jaspar2024_selected.meme"])[0].pfm
        print(f"CTCF model: {len(X)} of the {n_low} background windows (of {n_all}) it scores "
              "p < 0.1")
        t = time.perf_counter()
        result = sx.design(bundle, X, "max", max_edits=args.max_edits,
                           motifs={"CTCF": pfm}, ids=ids, random_state=args.seed)
        took = time.perf_counter() - t
        reached = result.score_after >= 0.9
        overlap, new = created_overlapping(result, pfm)
        named = result.edits.groupby("id")["motif_created"].apply(
            lambda c: (c == "CTCF").any())
        named = np.array([bool(named.get(i, False)) for i in result.ids])
        k = max(int(reached.sum()), 1)
        print(f"  greedy, {args.max_edits} edits, {took:.0f} s: "
              f"{reached.mean():.0%} reach p ≥ 0.9 (target ≥ 90 %); median "
              f"{np.median(result.n_edits[reached]) if reached.any() else float('nan'):g} "
              f"edits; score {np.median(result.score_before):.3f} → "
              f"{np.median(result.score_after):.3f} (median)")
        print(f"  of those: a FIMO CTCF match (p < 1e-4) overlapping an edit in "
              f"{(overlap & reached).sum() / k:.0%}, one not there before in "
              f"{(new & reached).sum() / k:.0%} (target ≥ 90 %); motif_created names CTCF "
              f"in {(named & reached).sum() / k:.0%}")
        goal = np.where(reached, 0.9, result.score_after)
        needed, done = random_edits(bundle, X, goal, args.random_cap, args.seed)
        traj = result.trajectory
        greedy_edits = np.array([
            traj[(traj["id"] == i) & (traj["score"] >= g - 1e-12)]["edits"].min()
            for i, g in zip(result.ids, goal)], float)
        ratio = np.median(needed) / max(np.median(greedy_edits), 1e-9)
        print(f"  random substitutions to the same score: median "
              f"{'≥ ' if not done.all() and np.median(needed) >= args.random_cap else ''}"
              f"{np.median(needed):g} edits ({done.mean():.0%} got there within "
              f"{args.random_cap}) against greedy's {np.median(greedy_edits):g}: "
              f"{'≥ ' if not done.all() else ''}{ratio:.1f}× (target ≥ 5×)")
    if args.skip_speed:
        return
    took, mean_edits = speed(100, 10)
    print(f"speed: greedy design of 100 × 200 bp, 10 edits each, reference CNN: {took:.1f} s "
          f"({mean_edits:.1f} edits per sequence; target ≤ 60 s)")


if __name__ == "__main__":
    main()
