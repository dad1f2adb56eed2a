"""Benchmark seqexplain's attribution engine against shap, tangermeme and the physical floor.

What it measures, side by side in one run (fixed seeds, same model, same inputs):

* model: the ``tangermeme_maxpool`` CNN of ``tests/data/reference`` rebuilt in Keras (Conv 12×32
  relu → MaxPool 4 → Conv 6×32 relu → global max → Dense 1), with the global max pooling written
  as ``MaxPooling1D(42) + Flatten`` (the same numbers) so that shap's DeepExplainer can run it;
* data: ``--n`` random one-hot sequences (default 1,000 × 200 bp), ``--refs`` dinucleotide
  shuffles of each (default 20) — one fixed reference array given to every method;
* ``deep_shap`` — seqexplain's native DeepSHAP (batch = ``--batch`` pairs);
* ``floor`` — a plain batched gradient (one forward + backward pass, ``tf.function``) over the
  same n × refs (sequence, reference) inputs: the cost of the passes DeepSHAP cannot avoid.
  (The native engine can come out *below* it: it replaces TensorFlow's generic max-pool
  gradient kernel by a fused argmax kernel, and runs the sequences forward once, not once
  per reference);
* ``shap DeepExplainer`` — shap's own DeepSHAP on the same model and references, on a subset
  (``--shap-n``, default 100) with the rate extrapolated; its values are compared with ours;
* ``tangermeme deep_lift_shap`` (batch 640) on the equivalent PyTorch model — run in the
  separate virtualenv ``.venv-bench`` (tangermeme + CPU torch, no TensorFlow) as a subprocess;
  skipped with the reason when that environment or its packages are missing. Its values are
  compared with ours too;
* ``ism`` — seqexplain's batched in-silico mutagenesis; its floor, a plain forward pass over
  the same mutants built beforehand (100 sequences, extrapolated); and a naive loop calling
  ``model.predict`` on each sequence's 600 mutants (``--naive-n`` sequences, extrapolated).

Each timed row is the best of ``--repeats`` runs after a warm-up (tracing excluded). Targets:
deep_shap ≥ 4× shap's throughput and within 3× of the floor.

Run::

    python benchmarks/bench_attribution.py                   # about 2-4 minutes on 2 cores
    python benchmarks/bench_attribution.py --n 200 --shap-n 20 --repeats 1   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from _common import TORCH_REFERENCE_CNN, best_time  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
REFERENCE = ROOT / "tests" / "data" / "reference" / "tangermeme_maxpool.npz"
BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"

# The tangermeme side, run by .venv-bench's python: the same CNN in PyTorch (weights from the
# reference file, Keras layout → torch layout), tangermeme's deep_lift_shap on the given
# sequences and references, best-of-repeats seconds and the attributions written back.
TANGERMEME_SCRIPT = r"""
import json, sys, time, warnings
import numpy as np, torch
from tangermeme.deep_lift_shap import deep_lift_shap
torch.set_num_threads(int(sys.argv[4]))
ref = np.load(sys.argv[1]); data = np.load(sys.argv[2])
arch = json.loads(str(ref["architecture"]))
W = lambda name, part: torch.tensor(ref[f"weights/{name}/{part}"])
""" + TORCH_REFERENCE_CNN + r"""
model = Net().eval()
X = torch.tensor(data["X"]).permute(0, 2, 1).contiguous()
R = torch.tensor(data["refs"]).permute(0, 1, 3, 2).contiguous()
kw = dict(references=R, batch_size=640, device="cpu", warning_threshold=1e-3)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    deep_lift_shap(model, X[:32], references=R[:32], batch_size=640, device="cpu")
    best = float("inf")
    for _ in range(int(sys.argv[5])):
        t = time.perf_counter()
        attr = deep_lift_shap(model, X, **kw)
        best = min(best, time.perf_counter() - t)
np.save(sys.argv[3], attr.permute(0, 2, 1).numpy())
print(json.dumps({"seconds": best, "torch": torch.__version__}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="sequences (default 1000)")
    parser.add_argument("--length", type=int, default=200, help="fixed by the model: 200")
    parser.add_argument("--refs", type=int, default=20, help="references per sequence")
    parser.add_argument("--batch", type=int, default=512, help="(sequence, reference) pairs "
                        "per pass for deep_shap and the floor")
    parser.add_argument("--shap-n", type=int, default=100, help="sequences for shap")
    parser.add_argument("--naive-n", type=int, default=20, help="sequences for naive ISM")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    import tensorflow as tf
    from toy_models import random_onehot, reference_model

    import seqexplain.attribution as attribution
    from seqexplain.attribution.methods import _gradient_step, _predict_step
    from seqexplain.shuffle import dinucleotide_shuffle

    if not REFERENCE.exists():
        sys.exit(f"{REFERENCE} not found (it ships in tests/data/)")
    model = reference_model(REFERENCE, global_pool_as_pool=True)
    X = random_onehot(args.n, args.length, seed=0)
    refs = dinucleotide_shuffle(X, n=args.refs, random_state=0).astype(np.float32)
    pairs = args.n * args.refs
    threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
    print(f"# attribution benchmark: {args.n} × {args.length} bp, {args.refs} references "
          f"each ({pairs:,} pairs); model {model.name} ({model.count_params():,} parameters)")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"TensorFlow {tf.__version__}, Keras {__import__('keras').__version__}, "
          f"shap {__import__('shap').__version__}")
    rows: list[tuple[str, int, float, str]] = []  # (name, sequences, seconds, note)

    # -- native DeepSHAP ----------------------------------------------------------------------
    def native():
        return attribution.deep_shap(model, X, references=refs, batch_size=args.batch,
                                     return_delta=True)

    attribution.deep_shap(model, X[:8], references=refs[:8], batch_size=args.batch)  # trace
    t_native = best_time(native, args.repeats)[0]
    ours, delta = native()
    rows.append(("seqexplain deep_shap", args.n, t_native,
                 f"max |delta| {np.abs(delta).max():.1e}"))

    # -- floor: plain batched gradient over the same pairs ----------------------------------------
    flat = refs.reshape(-1, *X.shape[1:])
    grad = _gradient_step(model, 0, X.shape[1:])
    grad(flat[: args.batch])

    def floor():
        for lo in range(0, len(flat), args.batch):
            grad(flat[lo: lo + args.batch])[0].numpy()

    t_floor = best_time(floor, args.repeats)[0]
    rows.append(("floor: gradient of n×refs inputs", args.n, t_floor, "forward+backward only"))

    # -- shap's DeepExplainer -------------------------------------------------------------------
    m = min(args.shap_n, args.n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        attribution.shap_explainer(model, X[:2], references=refs[:2])  # build + trace once
        t = time.perf_counter()
        theirs = attribution.shap_explainer(model, X[:m], references=refs[:m])
        t_shap = time.perf_counter() - t
    rows.append(("shap DeepExplainer", m, t_shap,
                 f"max |ours - shap| {np.abs(ours[:m] - theirs).max():.1e}"))

    # -- tangermeme (separate environment) ------------------------------------------------------
    t_tm, tm_note = _tangermeme(X, refs, ours, threads, args.repeats)
    if t_tm is not None:
        rows.append(("tangermeme deep_lift_shap (b=640)", args.n, t_tm, tm_note))

    # -- ISM ------------------------------------------------------------------------------------
    attribution.ism(model, X[:2])  # trace
    t_ism = best_time(lambda: attribution.ism(model, X), args.repeats)[0]
    rows.append(("seqexplain ism", args.n, t_ism,
                 f"{args.n * args.length * 3:,} mutants, fast ISM (the default)"))
    # its floor: a plain forward pass over ready-made mutants (a subset: they take memory)
    k = min(100, args.n)
    seq, pos, chan = np.nonzero(X[:k] == 0)
    mutants = X[seq].copy()
    mutants[np.arange(len(seq)), pos] = 0
    mutants[np.arange(len(seq)), pos, chan] = 1
    predict = _predict_step(model, 0, X.shape[1:])
    predict(mutants[:1024])

    def forward(mutants=mutants):
        for lo in range(0, len(mutants), 1024):
            predict(mutants[lo: lo + 1024]).numpy()

    rows.append(("floor: forward pass of the mutants", k, best_time(forward, args.repeats)[0],
                 "mutants built beforehand"))
    del mutants, forward
    k = min(args.naive_n, args.n)

    def naive_ism():
        out = np.zeros((k, args.length, 4), np.float32)
        for i in range(k):
            wild = model.predict(X[i:i + 1], verbose=0)[0, 0]
            pos, chan = np.nonzero(X[i] == 0)
            mutants = np.repeat(X[i:i + 1], len(pos), axis=0)
            mutants[np.arange(len(pos)), pos] = 0
            mutants[np.arange(len(pos)), pos, chan] = 1
            out[i, pos, chan] = model.predict(mutants, verbose=0)[:, 0] - wild
        return out

    naive_ism()  # warm-up (predict traces on first use)
    t = time.perf_counter()
    naive = naive_ism()
    t_naive = time.perf_counter() - t
    check = np.abs(attribution.ism(model, X[:k]) - naive).max()
    rows.append(("naive ISM: model.predict per sequence", k, t_naive,
                 f"max |batched - naive| {check:.1e}"))

    _print_table(rows)
    rate = {name: n / s for name, n, s, _ in rows}
    r_native = rate["seqexplain deep_shap"]
    r_ism = rate["seqexplain ism"]
    print()
    print(f"deep_shap vs shap DeepExplainer: {r_native / rate['shap DeepExplainer']:.1f}× "
          f"faster (target ≥ 4×)")
    print(f"deep_shap vs floor: {rate['floor: gradient of n×refs inputs'] / r_native:.2f}× "
          f"the floor's time (target ≤ 3×)")
    if t_tm is not None:
        print(f"deep_shap vs tangermeme: "
              f"{r_native / rate['tangermeme deep_lift_shap (b=640)']:.1f}× faster")
    print(f"ism vs naive loop: {r_ism / rate['naive ISM: model.predict per sequence']:.0f}× "
          f"faster; {rate['floor: forward pass of the mutants'] / r_ism:.2f}× the floor's time")


def _tangermeme(X, refs, ours, threads, repeats):
    """Seconds of tangermeme's deep_lift_shap in .venv-bench, or (None, reason)."""
    if not BENCH_PYTHON.exists():
        print(f"# tangermeme skipped: {BENCH_PYTHON} not found (see benchmarks/bench_encoding.py "
              f"for how to set up .venv-bench)")
        return None, ""
    with tempfile.TemporaryDirectory() as tmp:
        data, out = Path(tmp) / "data.npz", Path(tmp) / "attr.npy"
        np.savez(data, X=X, refs=refs)
        proc = subprocess.run([str(BENCH_PYTHON), "-c", TANGERMEME_SCRIPT, str(REFERENCE),
                               str(data), str(out), str(threads), str(repeats)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            reason = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"# tangermeme skipped: .venv-bench could not run it ({reason})")
            return None, ""
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        diff = np.abs(np.load(out) - ours).max()
    return result["seconds"], f"torch {result['torch']}; max |ours - tangermeme| {diff:.1e}"


def _print_table(rows) -> None:
    print()
    print(f"{'method':<40} {'seqs':>6} {'seconds':>9} {'seqs/s':>9}  note")
    print("-" * 100)
    for name, n, seconds, note in rows:
        print(f"{name:<40} {n:>6} {seconds:>9.2f} {n / seconds:>9.1f}  {note}")


if __name__ == "__main__":
    main()
