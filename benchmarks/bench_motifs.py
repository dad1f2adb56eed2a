"""Does `seqexplain motifs` find the planted motifs, only them, and fast enough?

1. Simulates the AND task with two JASPAR motifs from tests/data/motifs (default CTCF and
   GATA1: positive only when both co-occur), trains a model with default settings, explains it
   (DeepSHAP) and runs `seqexplain motifs` (our engine: shuffled-sequence null, TOMTOM against
   JASPAR CORE vertebrates). Prints, per discovered motif, its support and its top three
   JASPAR matches, whether each planted factor is among a motif's top three matches at
   q < 0.01, and how well the motif map recovers the planted instances (recall: planted sites
   overlapped ≥ 50 % by an instance of the motif annotated as that factor — over all sites, and
   over the sites in positive sequences: under AND, a lone site does not move the model's
   output, so attribution, faithfully, gives it little; precision: such instances that overlap
   a planted site of it by ≥ 50 %).
2. The same pipeline on an untrained model of the same architecture: supported motifs (target 0).
3. With --engine-modisco, TF-MoDISco (modisco-lite) on the same attributions, its patterns
   annotated the same way, for comparison.
4. Speed: `seqexplain motifs` on 10,000 × 200 bp (explained by the trained model), wall time
   and peak RSS (GNU time), target ≤ 5 minutes on 2 cores.

    python benchmarks/bench_motifs.py [--motifs CTCF GATA1] [--n 4000] [--big 10000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
MOTIF_FILE = ROOT / "tests" / "data" / "motifs" / "jaspar2024_selected.meme"
EXE = [sys.executable, "-m", "seqexplain"]


def run(args, label=None) -> tuple[float, float]:
    """Run a seqexplain command under GNU time; (seconds, peak RSS MB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tf.name, *EXE, *args],
                              capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        if done.returncode:
            sys.exit(f"{' '.join(args[:2])} failed:\n{done.stderr[-3000:]}")
        rss = float(Path(tf.name).read_text().split()[-1]) / 1024
    if label:
        print(f"  {label}: {seconds:.1f} s, peak RSS {rss:.0f} MB")
    return seconds, rss


def score_map(motif_dir: Path, sites: pd.DataFrame, factors: list[str],
              positives: set | None = None) -> list[dict]:
    table = pd.read_csv(motif_dir / "motifs.tsv", sep="\t", keep_default_na=False)
    matches = pd.read_csv(motif_dir / "matches.tsv", sep="\t", keep_default_na=False)
    inst = pd.read_csv(motif_dir / "instances.tsv", sep="\t", keep_default_na=False)
    rows = []
    for factor in factors:
        hits = matches[(matches["name"].str.upper() == factor.upper()) & (matches["q"] < 0.01)]
        motifs = [m for m in table["motif"] if m in set(hits["motif"])]
        supported = [m for m in motifs
                     if table.set_index("motif").loc[m, "supported"] in ("yes", "untested")]
        planted = sites[sites["motif"].str.upper() == factor.upper()]
        mine = inst[inst["motif"].isin(supported)]
        by_id = {k: g for k, g in mine.groupby("id")}
        found = found_pos = 0
        for row in planted.itertuples():
            g = by_id.get(row.id)
            if g is not None:
                overlap = np.minimum(g["end"], row.end) - np.maximum(g["start"], row.start)
                hit = bool((overlap >= 0.5 * (row.end - row.start)).any())
                found += hit
                found_pos += hit and positives is not None and row.id in positives
        n_pos = (planted["id"].isin(positives).sum() if positives is not None else 0)
        planted_by_id = {k: g for k, g in planted.groupby("id")}
        correct = 0
        for row in mine.itertuples():
            g = planted_by_id.get(row.id)
            if g is not None:
                overlap = np.minimum(g["end"], row.end) - np.maximum(g["start"], row.start)
                correct += bool((overlap >= 0.5 * (g["end"] - g["start"])).any())
        rows.append({"factor": factor, "motifs": ",".join(motifs) or "-",
                     "supported": ",".join(supported) or "-",
                     "recall": found / max(len(planted), 1),
                     "recall_in_positives": found_pos / max(n_pos, 1),
                     "precision": correct / max(len(mine), 1),
                     "planted": len(planted), "instances": len(mine)})
    return rows


def show(motif_dir: Path) -> None:
    table = pd.read_csv(motif_dir / "motifs.tsv", sep="\t", keep_default_na=False)
    matches = pd.read_csv(motif_dir / "matches.tsv", sep="\t", keep_default_na=False)
    for r in table.to_dict("records"):
        top = matches[matches["motif"] == r["motif"]]
        names = "; ".join(f"{m['name']} {m['id']} q={m['q']:.1e}" for m in top.to_dict("records"))
        print(f"  {r['motif']:<6} {r['seqlets']:>5} seqlets  supported={r['supported']:<3} "
              f"enrichment {float(r['enrichment'] or 'nan'):6.1f}  {r['consensus']:<22} {names}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--motifs", nargs=2, default=["CTCF", "REST"])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--big", type=int, default=10000)
    parser.add_argument("--engine-modisco", action="store_true")
    parser.add_argument("--keep", type=Path, help="Work in this folder and keep it.")
    args = parser.parse_args()
    if not MOTIF_FILE.exists():
        sys.exit(f"{MOTIF_FILE} is missing (it ships in tests/data/)")
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        print(f"AND task, {args.n} × 200 bp, motifs {' + '.join(args.motifs)}")
        sim = ["simulate", *[x for m in args.motifs for x in ("--motif", m)], "--motif-file",
               str(MOTIF_FILE), "--task", "and", "--length", "200", "--seed", "1"]
        run([*sim, "-n", str(args.n), "--out", str(tmp / "sim")], "simulate")
        run(["train", str(tmp / "sim" / "sequences.fa"), "--labels",
             str(tmp / "sim" / "labels.tsv"), "-q", "-o", str(tmp / "model")], "train")
        metrics = __import__("json").loads((tmp / "model" / "metrics.json").read_text())
        print(f"  test AUROC {metrics['cnn']['auroc']:.3f}")
        run(["explain", str(tmp / "model"), str(tmp / "sim" / "sequences.fa"), "-m", "deepshap",
             "--logos", "0", "-q", "-o", str(tmp / "ex")], "explain (deepshap)")
        run(["motifs", str(tmp / "ex" / "attributions.npz"), "--maps", "0", "-o",
             str(tmp / "motifs")], "motifs")
        show(tmp / "motifs")
        sites = pd.read_csv(tmp / "sim" / "motif_sites.tsv", sep="\t")
        labels = pd.read_csv(tmp / "sim" / "labels.tsv", sep="\t")
        positives = set(labels.loc[labels["label"] == 1, "id"])
        print(pd.DataFrame(score_map(tmp / "motifs", sites, args.motifs, positives)).to_string(
            index=False, float_format=lambda v: f"{v:.3f}"))
        if args.engine_modisco:
            print("TF-MoDISco (modisco-lite defaults) on the same attributions")
            run(["motifs", str(tmp / "ex" / "attributions.npz"), "--engine", "modisco",
                 "--maps", "0", "-o", str(tmp / "modisco")], "motifs --engine modisco")
            show(tmp / "modisco")
            print(pd.DataFrame(score_map(tmp / "modisco", sites, args.motifs,
                                         positives)).to_string(
                index=False, float_format=lambda v: f"{v:.3f}"))

        print("untrained model of the same architecture")
        from seqexplain._tf import import_tensorflow

        import_tensorflow()
        import keras

        from seqexplain.bundle import ModelBundle
        from seqexplain.models import ModelSettings, build_model

        trained = ModelBundle.load(tmp / "model")
        keras.utils.set_random_seed(0)
        cfg = ModelSettings(**trained.metadata["model_config"])
        build_model(cfg, 200, 4, "binary", 1).save(tmp / "untrained.keras")
        run(["explain", str(tmp / "untrained.keras"), str(tmp / "sim" / "sequences.fa"), "-m",
             "deepshap", "--logos", "0", "-q", "-o", str(tmp / "ex0")], "explain")
        run(["motifs", str(tmp / "ex0" / "attributions.npz"), "--maps", "0", "-o",
             str(tmp / "motifs0")], "motifs")
        t0 = pd.read_csv(tmp / "motifs0" / "motifs.tsv", sep="\t")
        print(f"  motifs {len(t0)}, supported {(t0['supported'] == 'yes').sum()}")
        run(["motifs", str(tmp / "ex0" / "attributions.npz"), "--maps", "0", "--seqlet-null",
             "laplace", "-o", str(tmp / "motifs0l")], "motifs, --seqlet-null laplace")
        t0 = pd.read_csv(tmp / "motifs0l" / "motifs.tsv", sep="\t")
        print(f"  motifs {len(t0)}, supported {(t0['supported'] == 'yes').sum()}")
        if args.engine_modisco:
            run(["motifs", str(tmp / "ex0" / "attributions.npz"), "--engine", "modisco",
                 "--maps", "0", "-o", str(tmp / "modisco0")], "motifs --engine modisco")
            t0 = pd.read_csv(tmp / "modisco0" / "motifs.tsv", sep="\t", keep_default_na=False)
            hits = (t0["best_match_q"].replace("", np.nan).astype(float) < 0.01).sum()
            print(f"  modisco patterns {len(t0)}, with a JASPAR hit at q < 0.01: {hits}, "
                  f"supported {(t0['supported'] == 'yes').sum()}")

        if args.big:
            print(f"speed: {args.big} × 200 bp")
            run([*sim, "-n", str(args.big), "--out", str(tmp / "big")], "simulate")
            run(["explain", str(tmp / "model"), str(tmp / "big" / "sequences.fa"), "-m",
                 "deepshap", "--logos", "0", "-q", "-o", str(tmp / "exbig")], "explain")
            run(["motifs", str(tmp / "exbig" / "attributions.npz"), "-o",
                 str(tmp / "motifsbig")], "seqexplain motifs (with support, 10 maps)")
            show(tmp / "motifsbig")


if __name__ == "__main__":
    main()
