"""DeepSHAP at the floor: seqexplain's deep_shap against shap's DeepExplainer and a plain
gradient over the same pairs, with XLA on and off, side by side in one run.

* model: the ``tangermeme_maxpool`` reference CNN (200 bp) with its global max pooling written
  as ``MaxPooling1D + Flatten`` (same numbers) so that shap's DeepExplainer can run it;
* data: ``--n`` random one-hot sequences (default 500), ``--refs`` shared references (default
  20 dinucleotide shuffles of one random sequence), the same for every method;
* ``seqexplain deep_shap`` — the native engine, ``batch_size`` ``--batch`` pairs;
* ``floor`` — one plain forward + backward pass (``tf.function``) over the n × refs
  (sequence, reference) inputs: what DeepSHAP cannot avoid;
* ``shap DeepExplainer`` — shap's own DeepSHAP on the same model and references.

Each configuration (``SEQEXPLAIN_XLA=1`` and ``=0``) runs in a fresh subprocess (the setting is
read at import). Reported: sequences/s, best of ``--repeats`` after a warm-up, completeness
(max |delta| relative to the largest |output|) and max |ours − shap| relative to the largest
|attribution|. Targets: ≥ 4× shap, ≤ 2.5× the floor's time, both within 1e-5.

Run::

    python benchmarks/bench_deepshap.py           # about 1-2 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from _common import best_time  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
REFERENCE = ROOT / "tests" / "data" / "reference" / "tangermeme_maxpool.npz"


def child(args) -> dict:
    """One XLA setting: the three timings and the checks, as a dict."""
    from toy_models import random_onehot, reference_model

    from seqexplain.attribution import deep_shap, shap_explainer
    from seqexplain.attribution.methods import _gradient_step, _predict
    from seqexplain.shuffle import dinucleotide_shuffle

    model = reference_model(REFERENCE, global_pool_as_pool=True)
    X = random_onehot(args.n, 200, seed=0)
    refs = dinucleotide_shuffle(random_onehot(1, 200, seed=1), n=args.refs,
                                random_state=0)[0].astype(np.float32)
    out = {}

    def ours():
        return deep_shap(model, X, references=refs, batch_size=args.batch, return_delta=True)

    deep_shap(model, X[:4], references=refs, batch_size=args.batch)  # trace
    out["deep_shap"] = best_time(ours, args.repeats)[0]
    attr, delta = ours()
    y = np.abs(np.concatenate([_predict(model, X, 0, 1024), _predict(model, refs, 0, 1024)]))
    out["completeness"] = float(np.abs(delta).max() / y.max())

    pairs = np.ascontiguousarray(np.broadcast_to(refs[None], (args.n, *refs.shape))
                                 ).reshape(-1, 200, 4)
    grad = _gradient_step(model, 0, (200, 4))
    grad(pairs[:args.batch])

    def floor():
        for lo in range(0, len(pairs), args.batch):
            grad(pairs[lo:lo + args.batch])[0].numpy()

    out["floor"] = best_time(floor, args.repeats)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shap_explainer(model, X[:2], references=refs)
        m = min(args.shap_n, args.n)
        t = time.perf_counter()
        theirs = shap_explainer(model, X[:m], references=refs)
        out["shap"] = (time.perf_counter() - t) * args.n / m
    per_seq = np.abs(attr[:m] - theirs).reshape(m, -1).max(axis=1) / np.abs(attr[:m]).max()
    out["vs_shap"] = float(per_seq.max())
    # the max-pool rule differs from shap's only where a pooled input equals its reference
    # exactly (tangermeme's choice: plain gradient, shap's: 0) — sums are equal, splits not
    out["vs_shap_seqs"] = int((per_seq > 1e-5).sum())
    out["vs_shap_median"] = float(np.median(per_seq))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--refs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=512, help="pairs per pass")
    parser.add_argument("--shap-n", type=int, default=500,
                        help="sequences given to shap (extrapolated to --n)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    import tensorflow as tf

    print(f"# DeepSHAP benchmark: {args.n} × 200 bp, {args.refs} shared references "
          f"({args.n * args.refs:,} pairs), batch {args.batch} pairs; reference CNN")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load "
          f"average {os.getloadavg()[0]:.2f} at start | TensorFlow {tf.__version__}, shap "
          f"{__import__('shap').__version__} | best of {args.repeats} after a warm-up")
    header = f"{'XLA':<5}{'row':<24}{'seconds':>9}{'seq/s':>9}  note"
    print(header)
    print("-" * 78)
    summary = []
    for xla in ("1", "0"):
        env = dict(os.environ, SEQEXPLAIN_XLA=xla)
        proc = subprocess.run([sys.executable, __file__, "--child", *sys.argv[1:]], env=env,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{xla:<5}failed: {proc.stderr.strip().splitlines()[-1]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        on = "on" if xla == "1" else "off"
        for row, key, note in (
                ("seqexplain deep_shap", "deep_shap",
                 f"completeness {r['completeness']:.1e} of max |output|"),
                ("floor (plain gradient)", "floor", "forward + backward of the pairs"),
                ("shap DeepExplainer", "shap",
                 f"max |ours - shap| {r['vs_shap']:.1e} of max |attribution|; "
                 f"{r['vs_shap_seqs']} sequence(s) > 1e-5 (exact ties, see README)")):
            print(f"{on:<5}{row:<24}{r[key]:>9.2f}{args.n / r[key]:>9.1f}  {note}")
        summary.append(f"XLA {on}: {r['shap'] / r['deep_shap']:.1f}× shap (target ≥ 4), "
                       f"{r['deep_shap'] / r['floor']:.2f}× the floor's time (target ≤ 2.5)")
    print()
    print("\n".join(summary))
    print(f"# load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
