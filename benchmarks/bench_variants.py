"""Does `seqexplain variants` find the variants that destroy a motif site, name the motif, and
go fast enough?

Ground truth: examples/data/genome/ (examples/make_genome_example.py): 300 JASPAR CTCF sites
planted in a real 330 kb human chromosome 1 fragment, their peaks, and a VCF of 150 SNVs that
destroy a planted site (a high-information core position changed to the motif's least likely
base) and 300 control SNVs at least 150 bp from any site.

1. Trains a model (seqexplain's CNN, default settings) on the peaks (200 bp windows on the
   summits) against as many GC-matched background windows (`--split-by chrom`), as
   `seqexplain train --regions … --background gc-matched` does; and takes the shipped
   `models/ctcf` (a real CTCF model, default architecture, trained on ENCODE peaks) as a second
   model.
2. Scores the VCF with the JASPAR file: AUROC of |alt − ref| separating the site-destroying
   SNVs from the controls (target ≥ 0.95), and the fraction of site-destroying SNVs for which
   CTCF is named as the broken motif instance.
3. Speed: predictions only, on --n random SNVs (200 bp models, chunks of 2,000 records,
   target ≥ 1,000 variants/s on 2 CPU cores), and with DeepSHAP (20 shuffles, both alleles)
   on --n-deepshap SNVs.

Figures are printed beside the previous implementation's (the reference column).

    python benchmarks/bench_variants.py [--n 20000] [--n-deepshap 200] [--epochs 50]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data" / "genome"
MOTIFS = ROOT / "examples" / "data" / "jaspar2024_selected.meme"
#: the previous implementation's figures (lost branch; 2 shared CPU cores)
REFERENCE = {"auroc": "0.995", "named": "88.7 %", "rate": "4,580–9,982/s", "deepshap": "n/a"}


def train_small(out: Path, epochs: int, seed: int):
    from seqexplain import read_regions
    from seqexplain.genome import gc_matched_background
    from seqexplain.models import ModelSettings
    from seqexplain.train_run import train_model
    from seqexplain.training.settings import TrainSettings

    peaks = read_regions(DATA / "ctcf_sites.narrowPeak", DATA / "genome.fa", length=200)
    background = gc_matched_background(peaks, seed=seed)
    t0 = time.perf_counter()
    result = train_model(
        [peaks, background], out, train_config=TrainSettings(epochs=epochs, split_by="chrom",
                                                           seed=seed, verbose=False),
        model_config=ModelSettings(), log=lambda msg: None)
    auroc = result.metrics.get("auroc")
    print(f"trained the model in {time.perf_counter() - t0:.0f} s: test AUROC "
          f"{auroc:.3f} (split by chromosome)")
    return out


def ground_truth(bundle, motifs) -> tuple[float, float, int, int]:
    from sklearn.metrics import roc_auc_score

    from seqexplain.variants import score_variants

    table, _ = score_variants(bundle, DATA / "variants.vcf", DATA / "genome.fa",
                              motifs=motifs, progress=False)
    destroy = table["id"].str.endswith("_core").to_numpy()
    control = table["id"].str.startswith("ctrl").to_numpy()
    keep = destroy | control
    auroc = roc_auc_score(destroy[keep], np.abs(table["effect"].to_numpy()[keep]))
    named = float((table.loc[destroy, "motif_broken"] == "CTCF").mean())
    return auroc, named, int(destroy.sum()), int(control.sum())


def random_vcf(path: Path, n: int, seed: int) -> None:
    from seqexplain.genome import Genome

    g = Genome(DATA / "genome.fa")
    rng = np.random.default_rng(seed)
    rows = []
    chroms = list(g.lengths)
    for _ in range(n):
        chrom = chroms[int(rng.integers(len(chroms)))]
        pos0 = int(rng.integers(0, g.lengths[chrom]))
        ref = g.fetch(chrom, pos0, pos0 + 1)
        if ref == "N":
            continue
        alt = "ACGT"[("ACGT".index(ref) + int(rng.integers(1, 4))) % 4]
        rows.append((chroms.index(chrom), pos0 + 1, chrom, ref, alt))
    rows.sort()
    with open(path, "w") as fh:
        fh.write("##fileformat=VCFv4.2\n" + "".join(f"##contig=<ID={c}>\n" for c in chroms)
                 + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        fh.writelines(f"{c}\t{p}\t.\t{r}\t{a}\t.\t.\t.\n" for _, p, c, r, a in rows)


def rate(bundle, vcf: Path, methods=()) -> tuple[float, int]:
    from seqexplain.variants import VariantSettings, score_variants

    t0 = time.perf_counter()
    table, report = score_variants(bundle, vcf, DATA / "genome.fa",
                                   VariantSettings(methods=methods), progress=False)
    seconds = time.perf_counter() - t0
    return report.scored / seconds, report.scored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="SNVs for the speed test")
    parser.add_argument("--n-deepshap", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from seqexplain import load_model
    from seqexplain.motif_io import read_motifs

    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} CPUs)")
    motifs = read_motifs(MOTIFS)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        small = load_model(train_small(tmp / "small", args.epochs, args.seed))
        models = {"trained here (default CNN)": small, "models/ctcf": load_model(ROOT / "models" /
                                                                           "ctcf")}
        random_vcf(tmp / "speed.vcf", args.n, args.seed)
        random_vcf(tmp / "deepshap.vcf", args.n_deepshap, args.seed + 1)
        rows = []
        for name, bundle in models.items():
            auroc, named, n_destroy, n_control = ground_truth(bundle, motifs)
            rate(bundle, tmp / "deepshap.vcf")  # warm-up (graph tracing)
            fast, n_fast = rate(bundle, tmp / "speed.vcf")
            slow, n_slow = rate(bundle, tmp / "deepshap.vcf", ("deepshap",))
            rows.append((name, auroc, named, fast, slow))
        print(f"\n{n_destroy} site-destroying SNVs vs {n_control} controls; speed on "
              f"{n_fast} SNVs (predictions only) and {n_slow} SNVs (DeepSHAP, 20 shuffles)")
        print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
        head = ("model", "AUROC of abs(alt − ref)", "CTCF named broken", "variants/s (predictions)",
                "variants/s (DeepSHAP)")
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for name, auroc, named, fast, slow in rows:
            print(f"| {name} | {auroc:.3f} | {100 * named:.1f} % | {fast:,.0f} | {slow:,.1f} |")
        print(f"| reference (previous implementation) | {REFERENCE['auroc']} | "
              f"{REFERENCE['named']} | {REFERENCE['rate']} | {REFERENCE['deepshap']} |")
        print("| target | ≥ 0.95 | most | ≥ 1,000 | — |")


if __name__ == "__main__":
    main()
