"""Benchmark in-silico mutagenesis: fast ISM (windows) against batched ISM and tangermeme.

Side by side in one run, on the same sequences (random one-hot, fixed seed):

* models: the ``tangermeme_maxpool`` reference CNN of ``tests/data/reference`` (200 bp: Conv
  12×32 → MaxPool 4 → Conv 6×32 → global max → Dense) and a Basset-like CNN (600 bp, three
  blocks Conv1D "same" 128 filters (19/11/7) → batch norm → ReLU → MaxPool 3/4/4, Flatten,
  Dense 256, random weights);
* ``fast`` — ``seqexplain.attribution.ism`` (default: fast ISM, windows recomputed);
* ``batched`` — ``ism(..., fast=False)``: every mutant through the whole compiled model, in
  batches built on the device (the naive method done well);
* ``tangermeme`` — ``tangermeme.saturation_mutagenesis`` on the same reference CNN in PyTorch
  (weights copied), with its own fastISM path (``fast=True``, its default) and without;
  run by the separate virtualenv ``.venv-bench`` (CPU torch, no TensorFlow) as a subprocess;
  skipped, with the reason, when that environment is missing. tangermeme returns centred
  ISM (the mean of the 4 bases at each position subtracted); it is compared with ours
  centred the same way.

Every row reports sequences per second (best of ``--repeats`` after a warm-up) and the
largest difference from the batched values relative to the largest |ISM value| (exactness).
Targets: fast ≥ 5× batched on the Basset-like model, ≥ 2× on the reference CNN.

Run::

    python benchmarks/bench_ism.py                 # about 3-5 minutes on 2 busy cores
    python benchmarks/bench_ism.py --n 64 --basset-n 4 --repeats 1   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from _common import TORCH_REFERENCE_CNN, best_time  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
REFERENCE = ROOT / "tests" / "data" / "reference" / "tangermeme_maxpool.npz"
BENCH_PYTHONS = [ROOT / ".venv-bench" / "bin" / "python",
                 ROOT.parent / "main" / ".venv-bench" / "bin" / "python"]

# The tangermeme side: the reference CNN in PyTorch (weights from the reference file, Keras
# layout → torch layout), saturation_mutagenesis on the given sequences, best-of-repeats
# seconds; the ISM values (logit change of each substitution) are written back.
TANGERMEME_SCRIPT = r"""
import json, sys, time, warnings
import numpy as np, torch
from tangermeme.saturation_mutagenesis import saturation_mutagenesis
torch.set_num_threads(int(sys.argv[4]))
ref = np.load(sys.argv[1]); X = np.load(sys.argv[2])
W = lambda name, part: torch.tensor(ref[f"weights/{name}/{part}"])
""" + TORCH_REFERENCE_CNN + r"""
model = Net().eval()
X = torch.tensor(X).permute(0, 2, 1).contiguous()
batch = int(sys.argv[5])
result = {}
import tangermeme
for fast in (True, False):
    kw = dict(batch_size=batch, device="cpu", hypothetical=True, fast=fast)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        saturation_mutagenesis(model, X[:2], **kw)
        best = float("inf")
        for _ in range(int(sys.argv[6])):
            t = time.perf_counter()
            attr = saturation_mutagenesis(model, X, **kw)
            best = min(best, time.perf_counter() - t)
    result["fast" if fast else "naive"] = best
    np.save(sys.argv[3] + ("_fast.npy" if fast else "_naive.npy"),
            attr.permute(0, 2, 1).numpy())  # centred ISM, (n, L, 4)
print(json.dumps({"seconds": result, "torch": torch.__version__,
                  "tangermeme": getattr(tangermeme, "__version__", "?")}))
"""


def tangermeme_row(X: np.ndarray, threads: int, batch: int, repeats: int):
    python = next((p for p in BENCH_PYTHONS if p.exists()), None)
    if python is None:
        return None, "no .venv-bench (see benchmarks/README.md)"
    with tempfile.TemporaryDirectory() as tmp:
        script, x_path, out = Path(tmp, "t.py"), Path(tmp, "X.npy"), Path(tmp, "ism.npy")
        script.write_text(TANGERMEME_SCRIPT)
        np.save(x_path, X)
        run = subprocess.run([str(python), str(script), str(REFERENCE), str(x_path), str(out),
                              str(threads), str(batch), str(repeats)],
                             capture_output=True, text=True)
        if run.returncode != 0:
            return None, run.stderr.strip().splitlines()[-1][:120]
        info = json.loads(run.stdout.strip().splitlines()[-1])
        info["ism"] = {k: np.load(f"{out}_{k}.npy") for k in ("fast", "naive")}
        return info, ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=256, help="sequences, reference CNN")
    parser.add_argument("--basset-n", type=int, default=16, help="sequences, Basset-like")
    parser.add_argument("--batch", type=int, default=1024, help="ism batch_size (mutants)")
    parser.add_argument("--tangermeme-batch", type=int, default=1024)
    parser.add_argument("--tangermeme-n", type=int, default=32,
                        help="sequences given to tangermeme (its rate is per sequence)")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    import tensorflow as tf
    from toy_models import basset_like, random_onehot, reference_model

    from seqexplain.attribution import ism
    from seqexplain.attribution.fast_ism import plan

    threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
    print(f"# ISM benchmark | {platform.processor() or platform.machine()}, {os.cpu_count()} "
          f"cores, load average {os.getloadavg()[0]:.2f} at start | TensorFlow "
          f"{tf.__version__}, XLA {'off' if os.environ.get('SEQEXPLAIN_XLA') == '0' else 'on'}")
    print(f"# best of {args.repeats} after a warm-up; batch_size {args.batch} mutants")
    cases = []
    if REFERENCE.exists():
        cases.append(("reference CNN, 200 bp", reference_model(REFERENCE),
                      random_onehot(args.n, 200, seed=0)))
    else:
        print(f"# {REFERENCE} not found: reference CNN rows skipped")
    cases.append(("Basset-like, 600 bp", basset_like(), random_onehot(args.basset_n, 600,
                                                                        seed=1)))
    header = f"{'model':<24}{'method':<34}{'n':>6}{'seconds':>10}{'seq/s':>10}" \
             f"{'vs batched':>12}{'max |diff|/scale':>18}"
    print(header)
    print("-" * len(header))
    for name, model, X in cases:
        windows = plan(model)
        for fast in (True, False):
            ism(model, X[:2], batch_size=args.batch, fast=fast)  # trace
        t_fast, fast_values = best_time(lambda: ism(model, X, batch_size=args.batch),
                                        args.repeats)
        t_batched, batched = best_time(
            lambda: ism(model, X, batch_size=args.batch, fast=False), args.repeats)
        scale = float(np.abs(batched).max())
        rows = [("seqexplain ism (fast, default)", t_fast,
                 np.abs(fast_values - batched).max() / scale),
                ("seqexplain ism(fast=False)", t_batched, 0.0)]
        note = ""
        if "reference" in name:
            k = min(args.tangermeme_n, len(X))
            info, why = tangermeme_row(X[:k], threads, args.tangermeme_batch, args.repeats)
            if info is None:
                note = f"tangermeme: skipped ({why})"
            else:
                centred = batched[:k] - batched[:k].mean(axis=-1, keepdims=True)
                for kind, label in (("fast", "fastISM path"), ("naive", "fast=False")):
                    rows.append((f"tangermeme {info['tangermeme']}, {label}",
                                 info["seconds"][kind] * len(X) / k,
                                 np.abs(info["ism"][kind] - centred).max() / scale))
        for method, seconds, diff in rows:
            print(f"{name:<24}{method:<34}{len(X):>6}{seconds:>10.2f}{len(X) / seconds:>10.1f}"
                  f"{t_batched / seconds:>11.2f}×{diff:>18.1e}")
        print(f"{'':<24}windowed layers: {', '.join(windows or ['none'])}")
        if "reference" in name and note == "":
            print(f"{'':<24}tangermeme: {k} sequences, seconds scaled to n = {len(X)}")
        if note:
            print(f"{'':<24}{note}")
    print(f"# load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
