"""Build examples/data/genome/: a small genome with planted CTCF sites, its peaks and variants
whose effect is known — the ground truth of `seqexplain variants`.

- ``genome.fa`` (+ ``genome.fa.fai``): the 330 kb human chromosome 1 fragment of
  ``tests/data/genomes/`` cut into three 110 kb sequences ``chrA``, ``chrB``, ``chrC``, with
  JASPAR CTCF (MA0139.2) sites planted at random positions and strands (sampled from the
  motif's sharpened matrix; every site scores ≥ 0.85 of the motif's range);
- ``ctcf_sites.narrowPeak``: one peak per planted site, of random width, its summit (column
  10) a few bases from the site's centre;
- ``variants.vcf``: SNVs that destroy a planted site (a high-information core position
  changed to the motif's least likely base; ID ``siteN_core``), SNVs at random positions at
  least 150 bp from any site (ID ``ctrlN``), and a few records of every other kind the
  command handles: indels, a multi-allelic record, a symbolic allele and a REF allele that
  does not match the genome.

Run from the repository root (seeded, reproducible):

    python examples/make_genome_example.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from seqexplain import read_fasta
from seqexplain.motif_io import read_motifs

ROOT = Path(__file__).resolve().parents[1]
CHROMS = ("chrA", "chrB", "chrC")
COMPLEMENT = str.maketrans("ACGT", "TGCA")


def relative_score(site: str, pfm: np.ndarray) -> float:
    logp = np.log(pfm + 1e-3)
    idx = ["ACGT".index(b) for b in site]
    score = logp[np.arange(len(idx)), idx].sum()
    lo, hi = logp.min(axis=1).sum(), logp.max(axis=1).sum()
    return float((score - lo) / (hi - lo))


def build(data: Path, out: Path, n_sites: int = 300, n_destroy: int = 150,
          n_control: int = 300, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    fragment = read_fasta(data / "genomes" / "human_chr1_fragment_330kb.fa").sequences[0]
    fragment = fragment.upper()
    size = len(fragment) // len(CHROMS)
    genome = {c: list(fragment[i * size:(i + 1) * size]) for i, c in enumerate(CHROMS)}
    motif = next(m for m in read_motifs(data / "motifs" / "jaspar2024_selected.meme")
                 if m.name == "CTCF")
    pfm, width = motif.pfm, motif.width
    sharp = pfm ** 3 / (pfm ** 3).sum(axis=1, keepdims=True)
    info = 2 + (pfm * np.log2(pfm + 1e-9)).sum(axis=1)
    core = np.flatnonzero(info > 1.4)

    # sites: one per 1 kb slot, placed at random inside it, away from N
    sites = []  # (chrom, start, strand, sequence of the + strand)
    slots = [(c, s) for c in CHROMS for s in range(200, size - 1200, 1000)]
    for k in rng.permutation(len(slots))[:n_sites]:
        chrom, slot = slots[k]
        start = slot + int(rng.integers(0, 800))
        if "N" in "".join(genome[chrom][start - 150:start + width + 150]):
            continue
        while True:
            site = "".join("ACGT"[rng.choice(4, p=row)] for row in sharp)
            if relative_score(site, pfm) >= 0.85:
                break
        strand = "+" if rng.random() < 0.5 else "-"
        plus = site if strand == "+" else site.translate(COMPLEMENT)[::-1]
        genome[chrom][start:start + width] = list(plus)
        sites.append((chrom, start, strand, site))
    sites.sort(key=lambda s: (CHROMS.index(s[0]), s[1]))

    out.mkdir(parents=True, exist_ok=True)
    with open(out / "genome.fa", "w") as fh:
        for chrom in CHROMS:
            seq = "".join(genome[chrom])
            fh.write(f">{chrom}\n")
            fh.writelines(seq[i:i + 60] + "\n" for i in range(0, len(seq), 60))
    import pyfaidx

    (out / "genome.fa.fai").unlink(missing_ok=True)
    pyfaidx.Faidx(str(out / "genome.fa")).close()

    with open(out / "ctcf_sites.narrowPeak", "w") as fh:
        for i, (chrom, start, strand, _) in enumerate(sites):
            centre = start + width // 2
            left, right = int(rng.integers(60, 200)), int(rng.integers(60, 200))
            summit = centre + int(rng.integers(-5, 6))
            p0 = summit - left
            fh.write(f"{chrom}\t{p0}\t{summit + right}\tpeak{i}\t1000\t.\t"
                     f"{rng.uniform(20, 80):.2f}\t{rng.uniform(10, 50):.2f}\t"
                     f"{rng.uniform(8, 45):.2f}\t{summit - p0}\n")

    records = []  # (chrom, pos (1-based), id, ref, alt)
    for k in rng.permutation(len(sites))[:n_destroy]:
        chrom, start, strand, site = sites[k]
        j = int(rng.choice(core))
        worst = "ACGT"[int(np.argmin(pfm[j]))]
        offset = j if strand == "+" else width - 1 - j
        if strand == "-":
            worst = worst.translate(COMPLEMENT)
        ref = genome[chrom][start + offset]
        if worst != ref:
            records.append((chrom, start + offset + 1, f"site{k}_core", ref, worst))
    near = {c: np.array([s[1] for s in sites if s[0] == c]) for c in CHROMS}
    while sum(r[2].startswith("ctrl") for r in records) < n_control:
        chrom = CHROMS[int(rng.integers(len(CHROMS)))]
        pos0 = int(rng.integers(300, size - 300))
        ref = genome[chrom][pos0]
        if ref == "N" or (len(near[chrom]) and np.abs(near[chrom] + width // 2 - pos0).min()
                          < 150):
            continue
        alt = "ACGT"[("ACGT".index(ref) + int(rng.integers(1, 4))) % 4]
        records.append((chrom, pos0 + 1, f"ctrl{len(records)}", ref, alt))
    # one of every other kind
    chrom, start, strand, _ = sites[0]
    g = genome[chrom]
    records.append((chrom, start + 3, "site0_deletion", "".join(g[start + 2:start + 8]),
                    g[start + 2]))
    records.append(("chrB", 5001, "insertion", genome["chrB"][5000],
                    genome["chrB"][5000] + "GATTACA"))
    b = genome["chrC"][7000]
    others = [x for x in "ACGT" if x != b]
    records.append(("chrC", 7001, "multiallelic", b, ",".join(others[:2])))
    records.append(("chrC", 8001, "symbolic", genome["chrC"][8000], "<DEL>"))
    wrong = "ACGT"[("ACGT".index(genome["chrC"][9000]) + 1) % 4]
    records.append(("chrC", 9001, "ref_mismatch", wrong, genome["chrC"][9000]))
    records.sort(key=lambda r: (CHROMS.index(r[0]), r[1]))
    with open(out / "variants.vcf", "w") as fh:
        fh.write("##fileformat=VCFv4.2\n")
        for chrom in CHROMS:
            fh.write(f"##contig=<ID={chrom},length={size}>\n")
        fh.write("##INFO=<ID=SVTYPE,Number=1,Type=String,Description=\"Structural variant "
                 "type\">\n")
        fh.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for chrom, pos, vid, ref, alt in records:
            info = "SVTYPE=DEL" if alt == "<DEL>" else "."
            fh.write(f"{chrom}\t{pos}\t{vid}\t{ref}\t{alt}\t.\tPASS\t{info}\n")
    print(f"{out}: {len(sites)} CTCF sites on {len(CHROMS)} × {size} bp; "
          f"{len(records)} variants ({n_destroy} site-destroying requested)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "tests" / "data",
                        help="folder holding genomes/human_chr1_fragment_330kb.fa and "
                        "motifs/jaspar2024_selected.meme")
    parser.add_argument("--out", type=Path, default=ROOT / "examples" / "data" / "genome")
    args = parser.parse_args()
    build(args.data, args.out)


if __name__ == "__main__":
    main()
