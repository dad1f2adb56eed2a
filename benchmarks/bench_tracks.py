"""How fast is a bigWig of attributions written? Target: 10,000 regions in at most 30 s.

10,000 windows of 1,000 bp centred at random places on three 5 Mb chromosomes (so that some
overlap), with random float32 scores, are written as a scores file; ``tracks_files`` (what
``seqexplain tracks`` calls: reading the file, the genome layout with overlaps merged, the
bigWig) is timed. The bigWig is then read back with pyBigWig and compared, at every base, with
the scores of the region whose centre is nearest (found independently: the nearest of the
sorted centres), and the bedGraph option is timed too.

    python benchmarks/bench_tracks.py [--n 10000] [--length 1000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--length", type=int, default=1_000)
    args = parser.parse_args()
    import pyBigWig

    from seqexplain.attributions import Attributions
    from seqexplain.tracks import tracks_files

    n, L = args.n, args.length
    sizes = {"chr1": 5_000_000, "chr2": 5_000_000, "chr3": 5_000_000}
    rng = np.random.default_rng(0)
    chrom = rng.choice(list(sizes), n)
    start = rng.integers(0, 5_000_000 - L, n)
    # unique windows, as explain --regions keeps them
    keys = np.unique(np.stack([np.searchsorted(list(sizes), chrom), start], 1), axis=0)
    chrom, start = np.array(list(sizes))[keys[:, 0]], keys[:, 1]
    n = len(chrom)
    onehot = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (n, L))]
    scores = rng.normal(size=(n, L, 4)).astype(np.float32) * onehot
    ids = np.array([f"{c}:{s}-{s + L}(+)" for c, s in zip(chrom, start)])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "g.chrom.sizes").write_text("".join(f"{c}\t{s}\n" for c, s in sizes.items()))
        Attributions({"ids": ids, "onehot": onehot, "alphabet": np.array("ACGT"),
                      "saliency": scores}).write(tmp / "a.npz")
        print(f"{n:,} regions × {L} bp, {os.cpu_count()} cores, load "
              f"{os.getloadavg()[0]:.1f}")
        t = time.perf_counter()
        result = tracks_files(tmp / "a.npz", tmp / "g.chrom.sizes", tmp / "bw")
        bw_s = time.perf_counter() - t
        t = time.perf_counter()
        tracks_files(tmp / "a.npz", tmp / "g.chrom.sizes", tmp / "bg", bedgraph=True)
        bg_s = time.perf_counter() - t
        size_mb = (tmp / "bw" / "saliency.bw").stat().st_size / 1e6

        values = scores.sum(-1)
        bw = pyBigWig.open(str(tmp / "bw" / "saliency.bw"))
        bad = bases = 0
        for c in sizes:
            mine = np.nonzero(chrom == c)[0]
            order = mine[np.argsort(start[mine] * 2 + L, kind="stable")]
            centres = start[order] + L / 2
            got = bw.values(c, 0, sizes[c], numpy=True)
            pos = np.nonzero(~np.isnan(got))[0]
            # nearest centre of the sorted ones (a tie: the earlier region in the file)
            k = np.clip(np.searchsorted(centres, pos + 0.5), 1, len(centres) - 1)
            left, right = np.abs(pos + 0.5 - centres[k - 1]), np.abs(centres[k] - pos - 0.5)
            tie = left == right
            pick = np.where(left < right, k - 1, k)
            pick[tie] = np.where(order[k - 1] < order[k], k - 1, k)[tie]
            region = order[pick]
            want = values[region, pos - start[region]]
            covered = np.zeros(sizes[c], bool)
            for s in start[mine]:
                covered[s:s + L] = True
            bases += len(pos)
            bad += int((got[pos] != want).sum()) + int((covered != ~np.isnan(got)).sum())
        bw.close()
    print(f"{'output':<28} {'seconds':>8}")
    print(f"{'bigWig (tracks_files)':<28} {bw_s:8.2f}   ({size_mb:.1f} MB, target ≤ 30 s)")
    print(f"{'bedGraph (--bedgraph)':<28} {bg_s:8.2f}")
    print(f"bases: {result.bases:,} written, {result.overlapping:,} overlapping rows merged; "
          f"read back: {bases:,} bases, {bad} differ from the nearest-centre scores")


if __name__ == "__main__":
    main()
