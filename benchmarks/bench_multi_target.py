"""ISM of several targets of a BPNet-style model: one forward pass per mutant for every target
(``ism_targets``, what ``explain --target all`` runs) against one ISM run per target, side by
side, with the maps checked equal; and the cost of the other methods per target.

    python benchmarks/bench_multi_target.py            # default: 32 sequences × 500 bp
    python benchmarks/bench_multi_target.py --n 8 --length 200
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def bpnet(length: int, filters: int, dilations: int, seed: int = 0):
    """A BPNet-style model: dilated residual convolutions, a profile head (None, L, 2) and a
    counts head (None, 2); random weights."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inp = keras.Input((length, 4))
    h = layers.Conv1D(filters, 21, padding="same", activation="relu")(inp)
    for i in range(1, dilations + 1):
        h = layers.Add()([h, layers.Conv1D(filters, 3, dilation_rate=2 ** i, padding="same",
                                           activation="relu")(h)])
    profile = layers.Conv1D(2, 75, padding="same", name="profile")(h)
    counts = layers.Dense(2, name="counts")(layers.GlobalAveragePooling1D()(h))
    return keras.Model(inp, [profile, counts], name="bpnet")


def timed(fn, repeats: int = 2) -> tuple[float, object]:
    """(best wall seconds of ``repeats`` calls after a warm-up call, the last result)."""
    result = fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=32, help="sequences")
    parser.add_argument("--length", type=int, default=500)
    parser.add_argument("--filters", type=int, default=32)
    parser.add_argument("--dilations", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    from seqexplain.attribution import methods as M

    model = bpnet(args.length, args.filters, args.dilations)
    rng = np.random.default_rng(0)
    X = np.eye(4, dtype=np.float32)[rng.integers(4, size=(args.n, args.length))]
    targets = ["profile", "counts:0", "counts:1"]
    print(f"BPNet-style model: {args.length} bp, {args.filters} filters, {args.dilations} "
          f"dilated layers; {args.n} sequences; targets {', '.join(targets)}; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")

    shared_s, shared = timed(lambda: M.ism_targets(model, X, targets), args.repeats)
    each_s, each = timed(lambda: [M.ism(model, X, target=t) for t in targets], args.repeats)
    worst = max(float(np.abs(a - b).max()) for a, b in zip(shared, each))
    rows = [("ism, every target from shared passes (ism_targets)", shared_s),
            ("ism, one run per target", each_s)]
    for method in ("saliency", "integrated_gradients", "deep_shap"):
        fn = getattr(M, method)
        kwargs = dict(n_references=10, random_state=0) if method == "deep_shap" else {}
        seconds, _ = timed(lambda: [fn(model, X, target=t, **kwargs) for t in targets],
                           args.repeats)
        rows.append((f"{method}, one run per target", seconds))
    width = max(len(r[0]) for r in rows)
    print(f"{'method':<{width}}  {'best s':>8}  {'seq/s':>8}")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:8.2f}  {args.n / seconds:8.1f}")
    print(f"shared ISM speed-up: {each_s / shared_s:.2f}×; largest difference between the "
          f"maps: {worst:.2e}")
    if worst > 1e-5:
        raise SystemExit("shared and per-target ISM maps differ")


if __name__ == "__main__":
    main()
