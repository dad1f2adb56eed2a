"""Does `seqexplain explain` keep peak memory flat as the input grows?

Runs the command (the shipped CTCF model, random 200 bp DNA, DeepSHAP with 5 shuffled
references and corrected saliency) on two input sizes, 4× apart, in fresh processes, and prints
peak resident memory (GNU time's maximum RSS), time and throughput for each. Chunks of
`--chunk-size` sequences are explained and written to disk one at a time, so the peak should
not grow with the number of sequences (only the list of ids does, a few bytes per record).

    python benchmarks/bench_explain_memory.py [--sizes 4000 16000] [--format npz|h5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4000, 16000])
    parser.add_argument("--format", default="npz", choices=["npz", "h5"])
    parser.add_argument("--chunk-size", type=int, default=1000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    exe = [sys.executable, "-m", "seqexplain"]
    print(f"{'sequences':>10} {'seconds':>8} {'seqs/s':>8} {'peak RSS MB':>12} {'output MB':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            fa = Path(tmp) / f"r{n}.fa"
            letters = np.frombuffer(b"ACGT", np.uint8)
            with open(fa, "w") as fh:
                for i in range(n):
                    fh.write(f">s{i}\n{rng.choice(letters, 200).tobytes().decode()}\n")
            out = Path(tmp) / f"out{n}"
            cmd = ["/usr/bin/time", "-f", "%M %e", *exe, "explain", str(ROOT / "models" / "ctcf"),
                   str(fa), "-m", "deepshap,saliency", "--n-references", "5", "-q",
                   "--chunk-size", str(args.chunk_size), "--format", args.format,
                   "-o", str(out)]
            proc = subprocess.run(cmd, capture_output=True, text=True,
                                  env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
            if proc.returncode != 0:
                sys.exit(proc.stderr[-2000:])
            rss_kb, seconds = proc.stderr.strip().splitlines()[-1].split()
            size = sum(p.stat().st_size for p in out.iterdir()) / 1e6
            print(f"{n:>10} {float(seconds):>8.1f} {n / float(seconds):>8.0f} "
                  f"{int(rss_kb) / 1024:>12.0f} {size:>10.0f}")


if __name__ == "__main__":
    main()
