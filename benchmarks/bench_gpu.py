"""Throughput of DeepSHAP, ISM and predict on the accelerator TensorFlow finds (GPU ready).

Run it wherever a GPU is available; on a machine without one it runs on the CPU and says so
in its first line (the figures are then CPU figures, with smaller default sizes).

Rows, on the ``tangermeme_maxpool`` reference CNN (200 bp) and the Basset-like CNN (600 bp,
``tests/toy_models.basset_like``), random one-hot input, fixed seeds:

* ``predict`` — sequences/s of the compiled forward pass (batch ``--predict-batch``);
* ``deep_shap`` — sequences/s with ``--refs`` shuffled references each, and the largest
  completeness error relative to the largest |output| (must stay ≤ 1e-5 in float32);
* ``ism`` — fast ISM (default) and batched ISM, sequences/s;
* each again under Keras's ``mixed_float16`` policy (the model rebuilt with the same weights):
  reported only as a figure with its completeness error, which must stay ≤ 1e-3 to be
  usable; a method that fails under the policy is reported with the reason.

Run::

    python benchmarks/bench_gpu.py                  # on a GPU: 1-3 minutes
    python benchmarks/bench_gpu.py --n 64 --repeats 1   # quick look (CPU)
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from _common import best_time  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
REFERENCE = ROOT / "tests" / "data" / "reference" / "tangermeme_maxpool.npz"


def build(name: str, policy: str):
    import keras
    from toy_models import basset_like, reference_model

    keras.mixed_precision.set_global_policy(policy)
    try:
        if name == "reference":
            return reference_model(REFERENCE)
        return basset_like()
    finally:
        keras.mixed_precision.set_global_policy("float32")


def run_case(name: str, model, X: np.ndarray, args) -> list[tuple]:
    from seqexplain.attribution import deep_shap, ism
    from seqexplain.attribution.methods import _predict
    from seqexplain.shuffle import dinucleotide_shuffle

    rows = []
    n = len(X)
    _predict(model, X[:8], 0, args.predict_batch)
    t, _ = best_time(lambda: _predict(model, X, 0, args.predict_batch), args.repeats)
    rows.append(("predict", n / t, ""))
    refs = dinucleotide_shuffle(X, n=args.refs, random_state=0).astype(np.float32)
    try:
        deep_shap(model, X[:4], references=refs[:4])
        t, (attr, delta) = best_time(lambda: deep_shap(model, X, references=refs,
                                                       return_delta=True,
                                                       warning_threshold=None,
                                                       batch_size=args.batch), args.repeats)
        y = np.abs(_predict(model, X, 0, args.predict_batch)).max()
        rows.append(("deep_shap", n / t, f"completeness {np.abs(delta).max() / y:.1e}"))
    except Exception as err:  # a policy the engine cannot run
        rows.append(("deep_shap", float("nan"), f"failed: {type(err).__name__}: "
                                                f"{str(err).splitlines()[0][:80]}"))
    m = min(n, args.ism_n if "Basset" in name else n)
    for fast in (True, False):
        ism(model, X[:2], fast=fast)
        t, _ = best_time(lambda: ism(model, X[:m], fast=fast), args.repeats)
        rows.append((f"ism ({'fast' if fast else 'batched'})", m / t, f"n={m}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=None, help="sequences [GPU 4096, CPU 256]")
    parser.add_argument("--ism-n", type=int, default=None,
                        help="sequences for ISM on the 600 bp model [GPU 512, CPU 8]")
    parser.add_argument("--refs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=4096, help="deep_shap pairs per pass")
    parser.add_argument("--predict-batch", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-mixed", action="store_true", help="float32 only")
    args = parser.parse_args()

    import tensorflow as tf
    from toy_models import random_onehot

    gpus = tf.config.list_physical_devices("GPU")
    device = (tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
              if gpus else "none")
    args.n = args.n or (4096 if gpus else 256)
    args.ism_n = args.ism_n or (512 if gpus else 8)
    print(f"# GPU: {device}" + ("" if gpus else " — running on the CPU: these are CPU "
                                                "figures, not GPU ones"))
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load "
          f"average {os.getloadavg()[0]:.2f} | TensorFlow {tf.__version__} | best of "
          f"{args.repeats} after a warm-up")
    header = f"{'model':<22}{'policy':<15}{'row':<16}{'seq/s':>10}  note"
    print(header)
    print("-" * (len(header) + 30))
    policies = ["float32"] + ([] if args.no_mixed else ["mixed_float16"])
    for name, length in (("reference CNN 200 bp", 200), ("Basset-like 600 bp", 600)):
        if "reference" in name and not REFERENCE.exists():
            print(f"{name:<22}skipped: {REFERENCE} not found")
            continue
        X = random_onehot(args.n, length, seed=0)
        for policy in policies:
            model = build("reference" if "reference" in name else "basset", policy)
            for row, rate, note in run_case(name, model, X, args):
                print(f"{name:<22}{policy:<15}{row:<16}{rate:>10.1f}  {note}", flush=True)


if __name__ == "__main__":
    main()
