"""How fast are attribution logos drawn? Target: 100 logos of 200 bp in under a minute on 2 cores.

Explains 100 CTCF peaks (200 bp) with the shipped model (DeepSHAP, 5 references), then draws a
full-length logo of every sequence three ways, in one run:

* reference — logomaker alone: ``logomaker.Logo`` of each (200 × 4) score matrix and
  ``savefig``, one after another in this process (what a user's notebook loop does);
* seqexplain, one process — ``render_logos(..., jobs=1)``, the same figure plus title/axes;
* ``seqexplain logo --top 100 --window full`` — the command, parallel processes on all cores,
  timed from the shell (process start, reading the npz, index.tsv included).

It also times the default figure of ``seqexplain explain`` (DeepSHAP + ISM logos, ISM heatmap,
auto zoom under an overview track) through the command.

    python benchmarks/bench_logos.py [--n 100]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args()
    exe = [sys.executable, "-m", "seqexplain"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        lines = (ROOT / "examples" / "data" / "ctcf_peaks.fa").read_text().splitlines()
        (tmp / "peaks.fa").write_text("\n".join(lines[: 2 * args.n]) + "\n")
        subprocess.run([*exe, "explain", str(ROOT / "models" / "ctcf"), str(tmp / "peaks.fa"),
                        "-m", "deepshap,ism", "--n-references", "5", "--logos", "0", "-q",
                        "-o", str(tmp / "ex")], check=True)
        npz = tmp / "ex" / "attributions.npz"

        import logomaker
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import pandas as pd

        from seqexplain import logos
        from seqexplain.attributions import Attributions

        data = Attributions.read(npz)
        deepshap = data.scores("deepshap")
        n, length = deepshap.shape[:2]
        print(f"{n} sequences × {length} bp, {os.cpu_count()} cores")
        print(f"{'how':<58} {'seconds':>8} {'logos/s':>8}")

        def report(label, seconds, count=n):
            print(f"{label:<58} {seconds:8.1f} {count / seconds:8.2f}")

        (tmp / "ref").mkdir()
        t0 = time.perf_counter()
        for i in range(n):
            fig, ax = plt.subplots(figsize=(21.5, 2.2))
            logomaker.Logo(pd.DataFrame(deepshap[i], columns=list("ACGT")), ax=ax)
            fig.savefig(tmp / "ref" / f"{i}.png", dpi=100)
            plt.close(fig)
        report("reference: logomaker loop, 1 process", time.perf_counter() - t0)

        seqs = [logos.sequence_scores(data, i, ["deepshap"]) for i in range(n)]
        (tmp / "one").mkdir()
        t0 = time.perf_counter()
        logos.render_logos(seqs, tmp / "one", methods=["deepshap"], window="full", jobs=1)
        report("seqexplain render_logos, jobs=1", time.perf_counter() - t0)

        for label, extra in (("`seqexplain logo -m deepshap --window full` (all cores)",
                              ["-m", "deepshap", "--window", "full"]),
                             ("`seqexplain logo` default: deepshap+ism+heatmap, auto zoom",
                              [])):
            out = tmp / f"cli{len(extra)}"
            t0 = time.perf_counter()
            subprocess.run([*exe, "logo", str(npz), "--top", str(n), *extra, "-o", str(out)],
                           check=True, stderr=subprocess.DEVNULL)
            report(label, time.perf_counter() - t0)
            assert len(list(out.glob("*.png"))) == n


if __name__ == "__main__":
    main()
