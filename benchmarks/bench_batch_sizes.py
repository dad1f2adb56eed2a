"""Benchmark calls on varying batch sizes: exact batch shapes (padding off) against batches
padded to bucket sizes (:mod:`seqexplain.batching`), side by side in one run.

The calls of issue 23's table, in its order — n = 7 (the first call), 9, 13, 7 again, 32,
33, 100, 101 — on ``models/ctcf`` (200 bp) and random one-hot sequences (fixed seed), for
each verb given (default: ``sx.attribute`` with deepshap, saliency, ism and
integrated_gradients, and the explained output, :func:`~seqexplain.attribution.
explained_output`). Each setting runs in a fresh Python process (``SEQEXPLAIN_PAD_BATCHES``
0 or 1), so that neither inherits the other's compiled functions. Every call is timed once:
what a notebook user pays; then the whole sequence of calls runs once more and is timed again,
every shape compiled by then: the compute alone. Target: after the first call, every call
costs about its compute.

Run::

    python benchmarks/bench_batch_sizes.py                  # about 2-4 minutes on 2 cores
    python benchmarks/bench_batch_sizes.py --verbs deepshap # one verb
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = (7, 9, 13, 7, 32, 33, 100, 101)
VERBS = ("deepshap", "saliency", "ism", "integrated_gradients", "predict")


def child(verb: str, model_path: str, sizes: tuple[int, ...]) -> list[list[float]]:
    """Seconds of each call of ``verb`` on ``sizes`` sequences in this process, then of each
    call once more (everything compiled by then: the compute alone)."""
    import time

    import numpy as np

    import seqexplain as sx
    from seqexplain.attribution import explained_output

    model = sx.load_model(model_path).model
    rng = np.random.default_rng(0)
    X = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (max(sizes), 200))]
    if verb == "predict":
        def run(x):
            return explained_output(model, x)
    else:
        def run(x):
            return sx.attribute(model, x, method=verb)
    times: list[list[float]] = [[], []]
    for rerun in (0, 1):
        for n in sizes:
            t = time.perf_counter()
            run(X[:n])
            times[rerun].append(time.perf_counter() - t)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "ctcf"))
    parser.add_argument("--verbs", default=",".join(VERBS),
                        help=f"comma-separated, from {', '.join(VERBS)}")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.model, SIZES)))
        return
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
    for verb in args.verbs.split(","):
        results = {}
        for pad in ("0", "1"):
            env = dict(os.environ, SEQEXPLAIN_PAD_BATCHES=pad, TF_CPP_MIN_LOG_LEVEL="3",
                       PYTHONPATH=os.pathsep.join(
                           [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
            out = subprocess.run([sys.executable, __file__, "--child", verb, "--model",
                                  args.model], env=env, capture_output=True, text=True)
            if out.returncode:
                sys.exit(f"{verb} (SEQEXPLAIN_PAD_BATCHES={pad}) failed:\n{out.stderr}")
            results[pad] = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"\n{verb}: seconds per call (load average now {os.getloadavg()[0]:.1f})")
        print("| call | exact sizes | padded to buckets | compute alone (padded, repeated) |")
        print("|---|---|---|---|")
        seen = set()
        for i, n in enumerate(SIZES):
            label = f"n = {n}" + (" (first)" if i == 0 else " again" if n in seen else "")
            seen.add(n)
            print(f"| {label} | {results['0'][0][i]:.2f} s | {results['1'][0][i]:.2f} s | "
                  f"{results['1'][1][i]:.2f} s |", flush=True)


if __name__ == "__main__":
    main()
