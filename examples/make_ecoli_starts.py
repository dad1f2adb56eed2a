"""Build a real position-dependent task: E. coli translation starts against internal ATGs.

From the E. coli 536 genome (``../shared/data/genomes/ecoli536_NC_008253.fna.gz``, NCBI
NC_008253) this finds, on both strands and in all three frames, every open reading frame of
at least 300 codons (ATG … stop; ORFs that long are nearly all real genes) and writes
windows of ``--length`` bp (default 100) aligned on an ATG, which sits at 0-based position
``length // 2`` of every window:

- ``starts.fa`` — one window per ORF, on its first ATG (the start codon; real starts carry a
  Shine–Dalgarno site ~8 bp upstream and intergenic sequence before it);
- ``internal_atg.fa`` — for each ORF, one in-frame ATG drawn at random (seeded) from its
  interior, at least 50 codons past the start and 50 codons before the stop: same genes,
  same codon, but coding sequence on both sides.

So the two classes differ only in what lies at fixed offsets from the ATG, which is what the
default ``seqexplain train`` must pick up. The files are generated at run time (about 2 × 2,000
windows, a few seconds) and not shipped. Run from the repository root::

    python examples/make_ecoli_starts.py --out ecoli_starts
    seqexplain train ecoli_starts/starts.fa ecoli_starts/internal_atg.fa --out models/ecoli
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GENOME = ROOT.parent / "shared" / "data" / "genomes" / "ecoli536_NC_008253.fna.gz"
MIN_CODONS = 300
MARGIN_CODONS = 50  # internal ATGs this far from both ends of the ORF
_CODE = {ord(b): i for i, b in enumerate("ACGT")}
_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


def read_genome(path: Path) -> str:
    """The concatenated sequences of a (gzipped) FASTA, upper case; records joined by N."""
    opener = gzip.open if str(path).endswith(".gz") else open
    parts, current = [], []
    with opener(path, "rt") as fh:
        for line in fh:
            if line.startswith(">"):
                if current:
                    parts.append("".join(current))
                current = []
            else:
                current.append(line.strip().upper())
    if current:
        parts.append("".join(current))
    return "N".join(parts)


def long_orfs(seq: str, min_codons: int = MIN_CODONS) -> list[tuple[int, int]]:
    """(start, stop) of every ORF on the forward strand of ``seq``: ``start`` the 0-based
    position of its first ATG after the previous in-frame stop, ``stop`` the position of the
    stop codon; at least ``min_codons`` codons from start to stop."""
    codes = np.frombuffer(seq.encode("ascii"), np.uint8)
    lut = np.full(256, 4, np.int64)
    for letter, i in _CODE.items():
        lut[letter] = i
    base = lut[codes]
    orfs = []
    for frame in range(3):
        b = base[frame:]
        n = len(b) // 3
        c = b[:3 * n].reshape(n, 3)
        valid = (c < 4).all(axis=1)
        index = np.where(valid, c[:, 0] * 16 + c[:, 1] * 4 + c[:, 2], -1)
        stop = np.isin(index, [48, 50, 56]) | ~valid  # TAA, TAG, TGA (or N: no ORF across)
        atg = np.flatnonzero(index == 14)
        stops = np.flatnonzero(stop)
        # for each stop, the first ATG after the previous stop
        previous = np.concatenate([[-1], stops[:-1]])
        first = np.searchsorted(atg, previous + 1)
        has = first < len(atg)
        for s, p, f, h in zip(stops, previous, first, has):
            if h and atg[f] < s and s - atg[f] >= min_codons and valid[s]:
                orfs.append((frame + 3 * int(atg[f]), frame + 3 * int(s)))
    return orfs


def build(genome: str, length: int = 100, seed: int = 0):
    """Lists of (id, window) for starts and internal ATGs, both strands."""
    rng = np.random.default_rng(seed)
    half = length // 2
    starts, internal = [], []
    strands = {"+": genome, "-": genome.translate(_COMPLEMENT)[::-1]}
    for strand, seq in strands.items():
        for start, stop in sorted(long_orfs(seq)):
            if start - half < 0 or start - half + length > len(seq):
                continue
            window = seq[start - half:start - half + length]
            candidates = [p for p in range(start + 3 * MARGIN_CODONS,
                                           stop - 3 * MARGIN_CODONS, 3)
                          if seq[p:p + 3] == "ATG"]
            if not candidates or "N" in window:
                continue
            inner = int(rng.choice(candidates))
            other = seq[inner - half:inner - half + length]
            if "N" in other:
                continue
            where = start if strand == "+" else len(seq) - 1 - start
            starts.append((f"start_{strand}{where}", window))
            internal.append((f"atg_{strand}{where}_{(inner - start) // 3}", other))
    return starts, internal


def write_fasta(path: Path, records) -> None:
    path.write_text("".join(f">{i}\n{s}\n" for i, s in records))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genome", type=Path, default=GENOME)
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    starts, internal = build(read_genome(args.genome), args.length, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    write_fasta(args.out / "starts.fa", starts)
    write_fasta(args.out / "internal_atg.fa", internal)
    print(f"{args.out}: {len(starts)} start windows, {len(internal)} internal-ATG windows, "
          f"{args.length} bp (ATG at position {args.length // 2})")


if __name__ == "__main__":
    main()
