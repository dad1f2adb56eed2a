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
   to the same score; median edits of each (target: greedy ≥ 5× fewer). Random walks stop
   at `--random-cap` edits; a window that never gets there counts as the cap (so the ratio is a lower bound).
3. **Side by side with ledidi 2.2** (`--ledidi-n` sequences, default 4): the reference CNN
   below in TensorFlow (seqexplain) and its PyTorch twin (same weights, `_common.py`) for
   ledidi 2.2 on CPU, run by `.venv-bench`'s python as a subprocess; the same random 200 bp
   starting sequences and the same goal, the logit reaching V = mean + 6 sd of the logits of
   1,000 random sequences (`value:V`). Rows: seqexplain greedy (stops within
   `--tolerance` of V), seqexplain `method="ledidi"`, and ledidi 2.2 (`ledidi(...)` with its
   MSE loss, the best of its batch of 16 samples by its own loss, then its `greedy_pruning`);
   each with its median |logit − V|, median edits and seconds. Both relaxations minimise
   (logit − V)² + λ × edits with the same λ = (0.1 sd of the pool)², and both prune edits
   whose reversal moves the objective less than 0.1 sd; seqexplain's then polishes the
   design by exact local search on the same loss (its default), with 1 and 4 restarts.
   ``--ledidi-cache FILE`` keeps ledidi 2.2's designs between runs.
4. **Speed**: greedy design of 100 random 200 bp sequences with 10 edits each
   (`goal="max"`, no threshold: all 10 rounds) on the reference CNN of
   `tests/data/reference/tangermeme_maxpool.npz` (target ≤ 60 s on the 2 cores).

Run::

    python benchmarks/bench_design.py              # about 5 minutes on 2 busy cores
    python benchmarks/bench_design.py --n 20 --random-cap 50   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from _common import TORCH_REFERENCE_CNN  # noqa: E402

REFERENCE = ROOT / "tests" / "data" / "reference" / "tangermeme_maxpool.npz"
BENCH_PYTHONS = [ROOT / ".venv-bench" / "bin" / "python",
                 ROOT.parent / "main" / ".venv-bench" / "bin" / "python"]

# ledidi 2.2 on the PyTorch twin of the reference CNN: one call per sequence (ledidi designs
# one sequence at a time), the best sample of its batch by its own loss, then its pruning
LEDIDI_SCRIPT = r"""
import json, sys, time, warnings
import numpy as np, torch
import ledidi as ledidi_pkg
from ledidi import ledidi
from ledidi.pruning import greedy_pruning
torch.set_num_threads(int(sys.argv[4]))
ref = np.load(sys.argv[1]); X = np.load(sys.argv[2]); cfg = json.loads(sys.argv[5])
W = lambda name, part: torch.tensor(ref[f"weights/{name}/{part}"])
""" + TORCH_REFERENCE_CNN + r"""
model = Net().eval()
V, lam = cfg["V"], cfg["l"]
designs = []
start = time.perf_counter()
for i in range(len(X)):
    x = torch.tensor(X[i:i + 1]).permute(0, 2, 1).contiguous()
    y_bar = torch.tensor([[V]], dtype=torch.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch = ledidi(model, x, y_bar, device="cpu", random_state=cfg["seed"] + i, l=lam,
                       verbose=False)
    with torch.no_grad():
        y = model(batch)[:, 0]
    edits = (batch != x).any(dim=1).sum(dim=-1)
    best = batch[int(torch.argmin((y - V) ** 2 + lam * edits))][None]
    if cfg["prune"] > 0:
        best = greedy_pruning(model, x, best, threshold=cfg["prune"])
    designs.append(best[0].permute(1, 0).numpy())
seconds = time.perf_counter() - start
np.save(sys.argv[3], np.stack(designs))
print(json.dumps({"seconds": seconds, "torch": torch.__version__,
                  "ledidi": getattr(ledidi_pkg, "__version__", "?")}))
"""


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


def ledidi_peer(X: np.ndarray, V: float, lam: float, prune: float, seed: int,
                cache: Path | None = None):
    """ledidi 2.2's designs of ``X`` (its info dict with ``"X"``), or (None, why not). With
    ``cache`` (an .npz), an earlier run's designs of the same inputs and settings are read
    from it instead of being run again (ledidi 2.2 takes minutes per sequence), and a new run
    is written to it."""
    settings = np.array([V, lam, prune, seed], np.float64)
    if cache is not None and Path(cache).exists():
        with np.load(cache) as saved:
            if (saved["inputs"].shape == X.shape and np.array_equal(saved["inputs"], X)
                    and np.allclose(saved["settings"], settings)):
                return dict(X=saved["designs"], seconds=float(saved["seconds"]),
                            torch=str(saved["torch"]), ledidi=str(saved["ledidi"]),
                            cached=True), ""
    info, why = _run_ledidi_peer(X, V, lam, prune, seed)
    if info is not None and cache is not None:
        np.savez(cache, inputs=X, designs=info["X"], seconds=info["seconds"],
                 torch=info["torch"], ledidi=info["ledidi"], settings=settings)
    return info, why


def _run_ledidi_peer(X: np.ndarray, V: float, lam: float, prune: float, seed: int):
    python = next((p for p in BENCH_PYTHONS if p.exists()), None)
    if python is None:
        return None, "no .venv-bench (see benchmarks/README.md)"
    with tempfile.TemporaryDirectory() as tmp:
        script, x_path, out = Path(tmp, "l.py"), Path(tmp, "X.npy"), Path(tmp, "out.npy")
        script.write_text(LEDIDI_SCRIPT)
        np.save(x_path, X.astype(np.float32))
        cfg = json.dumps(dict(V=V, l=lam, prune=prune, seed=seed))
        run = subprocess.run([str(python), str(script), str(REFERENCE), str(x_path), str(out),
                              str(os.cpu_count() or 1), cfg], capture_output=True, text=True)
        if run.returncode != 0:
            return None, run.stderr.strip().splitlines()[-1][:160]
        info = json.loads(run.stdout.strip().splitlines()[-1])
        info["X"] = np.load(out)
        return info, ""


def side_by_side(n: int, seed: int, tolerance: float | None, max_edits: int,
                 cache: Path | None = None) -> None:
    import keras

    import seqexplain as sx
    from toy_models import random_onehot, reference_model

    keras.utils.set_random_seed(0)
    model = reference_model(REFERENCE)
    pool = sx.predict(model, random_onehot(1000, 200, seed=3), output="logit")[:, 0]
    V = float(pool.mean() + 6 * pool.std())
    tolerance = 0.25 * float(pool.std()) if tolerance is None else tolerance
    X = random_onehot(n, 200, seed=5)
    goal = f"value:{V}"
    # the same loss for both relaxations: (logit − V)² + λ × edits, λ = (0.1 sd of the
    # pool)²; both prune an edit whose reversal moves the objective less than 0.1 sd
    ledidi_l = ours_penalty = float((0.1 * pool.std()) ** 2)
    prune = float(0.1 * pool.std())
    sx.design(model, X[:1], goal, max_edits=2, output="logit")  # compile
    sx.design(model, X[:1], goal, method="ledidi", output="logit",
              ledidi=dict(max_iter=3, penalty=ours_penalty))
    rows = []
    t = time.perf_counter()
    greedy = sx.design(model, X, goal, max_edits=max_edits, tolerance=tolerance,
                       output="logit", random_state=seed)
    rows.append(("seqexplain greedy", greedy.X, time.perf_counter() - t))
    for restarts in (1, 4):
        t = time.perf_counter()
        ours = sx.design(model, X, goal, method="ledidi", output="logit", random_state=seed,
                         ledidi=dict(penalty=ours_penalty, prune=prune, restarts=restarts))
        rows.append((f"seqexplain ledidi (TensorFlow, restarts={restarts})", ours.X,
                     time.perf_counter() - t))
    peer, why = ledidi_peer(X, V, ledidi_l, prune, seed, cache)
    if peer is not None:
        rows.append((f"ledidi {peer['ledidi']} (torch {peer['torch']}, CPU)", peer["X"],
                     peer["seconds"]))
    if peer is not None and peer.get("cached"):
        print("  (ledidi 2.2's designs and seconds read from the cache)")
    print(f"side by side on the reference CNN, {n} random 200 bp sequences, goal logit = V = "
          f"{V:.4f} (pool mean {pool.mean():.4f}, sd {pool.std():.4f}); start |logit − V| "
          f"median {np.median(np.abs(sx.predict(model, X, output='logit')[:, 0] - V)):.4f}; "
          f"penalties: ours {ours_penalty:.2g} per edit, ledidi l = {ledidi_l:.2g}; "
          f"pruning threshold {prune:.2g}")
    for name, designed, seconds in rows:
        y = sx.predict(model, designed, output="logit")[:, 0]
        edits = (np.abs(designed - X).sum(axis=-1) > 0).sum(axis=1)
        print(f"  {name:40s} |logit − V| median {np.median(np.abs(y - V)):.4f}, edits median "
              f"{np.median(edits):g} (max {edits.max()}), {seconds:.1f} s")
    if peer is None:
        print(f"  ledidi 2.2: skipped ({why})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--max-edits", type=int, default=10)
    parser.add_argument("--random-cap", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-ctcf", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--ledidi-n", type=int, default=4,
                        help="sequences side by side with ledidi 2.2 (about 80 s each for "
                             "ledidi 2.2 on 2 busy cores)")
    parser.add_argument("--ledidi-cache", type=Path, default=None,
                        help="an .npz keeping ledidi 2.2's designs: read when it holds the "
                             "same inputs and settings, written after a run")
    parser.add_argument("--tolerance", type=float, default=None,
                        help="greedy's tolerance around V [0.25 sd of the pool]")
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
    if args.ledidi_n:
        side_by_side(args.ledidi_n, args.seed, args.tolerance, 40, args.ledidi_cache)
    if args.skip_speed:
        return
    took, mean_edits = speed(100, 10)
    print(f"speed: greedy design of 100 × 200 bp, 10 edits each, reference CNN: {took:.1f} s "
          f"({mean_edits:.1f} edits per sequence; target ≤ 60 s)")


if __name__ == "__main__":
    main()
