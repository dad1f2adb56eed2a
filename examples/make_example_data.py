"""Build the two real example datasets in examples/data/ from ../shared/data/.

1. DNA — CTCF ChIP-seq peaks (ENCODE GM12878, 500 × 200 bp) against GC-matched 200 bp windows
   of a human chromosome 1 fragment (two per peak). Matching GC content keeps the task honest:
   CTCF peaks are GC-rich, and unmatched background would let a model score well on GC alone.
2. Protein — Pfam WW domains (PF00397, gaps removed) against fragments of the same lengths
   cut at random from a bacterial proteome.

Run from the repository root:

    python examples/make_example_data.py            # reads ../shared/data, writes examples/data

The output is seeded and reproducible. Sources and licences: examples/data/SOURCES.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from seqexplain import read_fasta

ROOT = Path(__file__).resolve().parents[1]


def gc(seq: str) -> float:
    s = seq.upper()
    return (s.count("G") + s.count("C")) / max(1, len(s) - s.count("N"))


def ctcf(shared: Path, out: Path, rng: np.random.Generator, per_peak: int = 2) -> None:
    peaks = read_fasta(shared / "dna" / "ctcf_gm12878_top500_200bp.fa")
    genome = read_fasta(shared / "genomes" / "human_chr1_fragment_330kb.fa").sequences[0]
    length = 200
    starts = np.arange(0, len(genome) - length, 10)
    windows = [genome[s:s + length] for s in starts]
    ok = np.array(["N" not in w.upper() for w in windows])
    starts = starts[ok]
    wgc = np.array([gc(genome[s:s + length]) for s in starts])
    # GC-matched sampling: for each peak, windows from the closest GC bin, without reuse
    order = np.argsort(wgc)
    used = np.zeros(len(starts), bool)
    chosen = []
    for peak in peaks.sequences:
        target = gc(peak)
        pos = np.searchsorted(wgc[order], target)
        taken = 0
        for step in range(len(order)):
            for cand in (pos + step, pos - step - 1):
                if 0 <= cand < len(order) and not used[order[cand]]:
                    # keep chosen windows apart so negatives do not share sequence
                    s = starts[order[cand]]
                    if all(abs(s - c) >= length for c in chosen[-200:]):
                        used[order[cand]] = True
                        chosen.append(s)
                        taken += 1
                        break
            if taken == per_peak:
                break
    with open(out / "ctcf_peaks.fa", "w") as fh:
        for rid, seq in zip(peaks.ids, peaks.sequences):
            fh.write(f">{rid}\n{seq}\n")
    with open(out / "human_background.fa", "w") as fh:
        for s in chosen:
            fh.write(f">chr1frag:{s}-{s + length}\n{genome[s:s + length]}\n")
    pg = np.mean([gc(p) for p in peaks.sequences])
    bg = np.mean([gc(genome[s:s + length]) for s in chosen])
    print(f"CTCF: {len(peaks)} peaks (GC {pg:.3f}), {len(chosen)} background windows "
          f"(GC {bg:.3f})")


def ww(shared: Path, out: Path, rng: np.random.Generator) -> None:
    domains = read_fasta(shared / "protein" / "ww_domains_pfam_PF00397_rp15.fa")
    proteome = read_fasta(shared / "protein" / "bacterial_proteome_938293.faa")
    prots = [p.rstrip("*") for p in proteome.sequences]
    seqs = [s.replace("-", "").replace(".", "").upper() for s in domains.sequences]
    with open(out / "ww_domains.fa", "w") as fh:
        for rid, seq in zip(domains.ids, seqs):
            fh.write(f">{rid}\n{seq}\n")
    weights = np.array([len(p) for p in prots], float)
    weights /= weights.sum()
    with open(out / "proteome_fragments.fa", "w") as fh:
        for i, seq in enumerate(seqs):
            n = len(seq)
            while True:
                j = rng.choice(len(prots), p=weights)
                if len(prots[j]) > n:
                    break
            s = int(rng.integers(0, len(prots[j]) - n))
            frag = prots[j][s:s + n]
            fh.write(f">frag{i + 1:05d} {proteome.ids[j]}:{s}-{s + n}\n{frag}\n")
    print(f"WW: {len(seqs)} domains (length {min(map(len, seqs))}–{max(map(len, seqs))}), "
          f"{len(seqs)} proteome fragments of the same lengths")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT / ".." / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "examples" / "data")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    ctcf(args.shared, args.out, rng)
    ww(args.shared, args.out, rng)


if __name__ == "__main__":
    main()
