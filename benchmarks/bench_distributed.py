"""Throughput of ``explain`` and ``predict`` with 1 and 2 Dask workers on this machine.

Side by side in one run, on random 200 bp DNA records (fixed seed) and the CTCF model of
``models/ctcf``:

* ``one process`` — :func:`seqexplain.explain.explain_fasta` / ``predict_fasta``, no Dask;
* ``dask, W workers`` — the same through :func:`seqexplain.distributed.explain_fasta_dask` /
  ``predict_fasta_dask`` on a ``LocalCluster`` of W processes × 1 thread (started beforehand,
  so its start-up is not timed; each worker loads the model at its first task, which is);

for each: sequences per second, resident memory per worker process at the end of the run
(``VmRSS``; one process: its peak, ``ru_maxrss``), and whether the output equals the
one-process output exactly.

Defaults are reduced sizes that take a few minutes on 2 cores (``--explain-n 4000
--predict-n 100000``); ``--full`` runs the sizes of the issue (100,000 sequences for
``explain --method deepshap``, 1,000,000 for ``predict``; hours on 2 cores).

Run::

    python benchmarks/bench_distributed.py
    python benchmarks/bench_distributed.py --full
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "ctcf"


def write_fasta(path: Path, n: int, length: int = 200, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    letters = np.array(list("ACGT"))
    with open(path, "w") as fh:
        for lo in range(0, n, 10000):
            block = letters[rng.integers(0, 4, size=(min(10000, n - lo), length))]
            fh.write("".join(f">r{lo + i}\n{''.join(row)}\n" for i, row in enumerate(block)))


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    """Resident memory now (VmRSS). Worker peaks (``ru_maxrss``) are not reliable: a process
    forked from a bigger one starts with that process's high-water mark."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--explain-n", type=int, default=4000)
    parser.add_argument("--predict-n", type=int, default=100000)
    parser.add_argument("--full", action="store_true",
                        help="100,000 sequences for explain, 1,000,000 for predict")
    parser.add_argument("--workers", default="1,2", help="worker counts [1,2]")
    parser.add_argument("--refs", type=int, default=20, help="deepshap references")
    parser.add_argument("--chunk-size", type=int, default=1000)
    args = parser.parse_args()
    if args.full:
        args.explain_n, args.predict_n = 100_000, 1_000_000

    import distributed

    from seqexplain._tf import import_tensorflow
    from seqexplain.bundle import load_model
    from seqexplain.distributed import explain_fasta_dask, predict_fasta_dask
    from seqexplain.explain import ExplainSettings, explain_fasta
    from seqexplain.prediction import predict_fasta

    tf = import_tensorflow()
    print(f"# Dask benchmark | {platform.processor() or platform.machine()}, {os.cpu_count()} "
          f"cores, load average {os.getloadavg()[0]:.2f} at start | TensorFlow {tf.__version__}"
          f", distributed {distributed.__version__}")
    bundle = load_model(MODEL)
    settings = ExplainSettings(methods=("deepshap",), n_references=args.refs,
                               chunk_size=args.chunk_size, seed=0)
    header = f"{'command':<34}{'n':>10}{'  runner':<22}{'seconds':>10}{'seq/s':>10}" \
             f"{'MB/worker':>16}  identical"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        jobs = [("explain --method deepshap", args.explain_n), ("predict", args.predict_n)]
        for command, n in jobs:
            fasta = tmp / f"{command.split()[0]}.fa"
            write_fasta(fasta, n)
            single = tmp / ("single.npz" if command.startswith("explain") else "single.tsv")
            rss0 = _maxrss_mb()
            t = time.perf_counter()
            if command.startswith("explain"):
                explain_fasta(bundle, fasta, single, settings, progress=False)
            else:
                predict_fasta(bundle, fasta, single, progress=False)
            seconds = time.perf_counter() - t
            print(f"{command:<34}{n:>10,}{'  one process':<22}{seconds:>10.1f}"
                  f"{n / seconds:>10.1f}{max(_maxrss_mb(), rss0):>16.0f}  (reference)",
                  flush=True)
            for workers in (int(w) for w in args.workers.split(",")):
                share = str(max(1, (os.cpu_count() or 1) // workers))  # as --cluster local:N
                env = {"TF_NUM_INTRAOP_THREADS": share, "TF_NUM_INTEROP_THREADS": "1",
                       "OMP_NUM_THREADS": share}
                with distributed.LocalCluster(n_workers=workers, threads_per_worker=1,
                                              processes=True, dashboard_address=":0",
                                              silence_logs=logging.ERROR,
                                              env=env) as cluster, \
                        distributed.Client(cluster) as client:
                    out = tmp / f"dask{workers}{single.suffix}"
                    t = time.perf_counter()
                    if command.startswith("explain"):
                        summary = explain_fasta_dask(bundle, str(MODEL), None, fasta, out,
                                                     settings, cluster.scheduler_address,
                                                     progress=False)
                    else:
                        summary = predict_fasta_dask(bundle, str(MODEL), None, fasta, out,
                                                     cluster.scheduler_address,
                                                     progress=False)
                    seconds = time.perf_counter() - t
                    summary["shards"].remove()
                    peak = max(client.run(_rss_mb).values())
                if single.suffix == ".npz":
                    with np.load(single) as a, np.load(out) as b:
                        same = all(np.array_equal(a[k], b[k]) for k in a.files)
                else:
                    same = single.read_text() == out.read_text()
                print(f"{command:<34}{n:>10,}{f'  dask, {workers} worker(s)':<22}"
                      f"{seconds:>10.1f}{n / seconds:>10.1f}{peak:>16.0f}  {same}", flush=True)
    print(f"# load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
