"""Do the default ``seqexplain train`` settings beat every baseline, on position-invariant and
position-dependent tasks alike?

One table: task × (the CNN with default settings, each baseline fitted by ``train`` on the
same split), test AUROC mean ± sd over seeds (each seed draws its own split, initial weights
and shuffling), the CNN's training time, and the margin over the best baseline. Tasks:

1. ``random`` — one motif (CTCF) planted at a random place in half of 2,000 × 200 bp i.i.d.
   sequences (``seqexplain simulate``): position-invariant;
2. ``promoter`` — a positional grammar: ELK1 at −35 and NFKB1 at −10 (± 5 bp) from a
   landmark, positive only when both are there (``simulate --task and --position -35
   --position -10 --position-window 5``), 2,000 × 200 bp;
3. ``ecoli`` — a real position-dependent task: 100 bp windows centred on the start codons
   of long ORFs of E. coli 536 against in-frame internal ATGs of the same genes
   (``examples/make_ecoli_starts.py``, ~4,100 windows);
4. ``ctcf`` — 500 CTCF ChIP-seq peaks against 1,000 human background windows, 200 bp
   (``examples/data``);
5. ``ww`` — 4,025 WW domains against as many proteome fragments, padded to 34 residues.

Targets (issue 13): the CNN ≥ best baseline + 0.01 on every task (where a baseline scores
≥ 0.99: within 0.005 of it and ≥ 0.99), every seed within 0.02 of its task's mean.
Run from the repository root (≈ 20 minutes on 2 cores):

    python benchmarks/bench_train_panel.py [--seeds 0 1 2] [--tasks random promoter ecoli ctcf ww]
                                           [--n 2000] [--json panel.json]

``--time-10k`` instead times one default training on 10,000 × 200 bp (the ``random`` task;
target: under 3 minutes on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data"
MOTIFS = DATA / "jaspar2024_selected.meme"
TASKS = ("random", "promoter", "ecoli", "ctcf", "ww")


def task_data(name: str, n: int):
    """One-hot X, binary Targets and whether the alphabet is nucleic."""
    import seqexplain as sx
    from seqexplain.motif_io import load_motifs
    from seqexplain.simulate import simulate
    from seqexplain.targets import make_targets
    from seqexplain.train_run import load_training_data
    from seqexplain.training.settings import TrainSettings

    if name in ("random", "promoter"):
        if name == "random":
            data = simulate(load_motifs(["CTCF"], [MOTIFS]), n=n, length=200, random_state=123)
        else:
            data = simulate(load_motifs(["ELK1", "NFKB1"], [MOTIFS]), n=n, length=200,
                            task="and", positions=[-35, -10], position_window=5,
                            random_state=123)
        return (sx.one_hot(data.sequences, "dna"),
                make_targets(data.labels.set_index("id"), "binary"), True)
    if name == "ecoli":
        sys.path.insert(0, str(ROOT / "examples"))
        import make_ecoli_starts as ecoli

        starts, internal = ecoli.build(ecoli.read_genome(ecoli.GENOME), length=100, seed=0)
        folder = Path(os.environ.get("TMPDIR", "/tmp")) / "seqexplain_panel_ecoli"
        folder.mkdir(parents=True, exist_ok=True)
        ecoli.write_fasta(folder / "starts.fa", starts)
        ecoli.write_fasta(folder / "internal_atg.fa", internal)
        fastas, length = [folder / "starts.fa", folder / "internal_atg.fa"], None
    elif name == "ctcf":
        fastas, length = [DATA / "ctcf_peaks.fa", DATA / "human_background.fa"], None
    else:
        fastas, length = [DATA / "ww_domains.fa", DATA / "proteome_fragments.fa"], 34
    loaded = load_training_data([str(f) for f in fastas], None, TrainSettings(verbose=False),
                                length=length)
    return loaded.encoded.onehot, loaded.targets, loaded.encoded.alphabet.is_nucleic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--n", type=int, default=2000, help="simulated sequences per task")
    parser.add_argument("--json", type=Path, help="also write the per-seed results here")
    parser.add_argument("--time-10k", action="store_true",
                        help="time one default training on 10,000 × 200 bp and stop")
    args = parser.parse_args()
    from seqexplain._tf import import_tensorflow

    import_tensorflow()
    from seqexplain.train import train
    from seqexplain.training.settings import TrainSettings

    if args.time_10k:
        X, targets, nucleic = task_data("random", 10_000)
        t0 = time.perf_counter()
        result = train(X, targets, None, TrainSettings(seed=0, verbose=False), nucleic=nucleic,
                       log=lambda msg: None)
        print(f"10,000 × 200 bp, default settings: {time.perf_counter() - t0:.0f} s for "
              f"{len(result.history)} epochs (best {result.best_epoch}), test AUROC "
              f"{result.metrics['auroc']:.4f}; load average at the end (1/5/15 min): {_load()}")
        return

    runs = []
    for task in args.tasks:
        X, targets, nucleic = task_data(task, args.n)
        for seed in args.seeds:
            t0 = time.perf_counter()
            result = train(X, targets, None, TrainSettings(seed=seed, verbose=False),
                           nucleic=nucleic, log=lambda msg: None)
            seconds = time.perf_counter() - t0
            row = {"task": task, "seed": seed, "n": len(X), "length": X.shape[1],
                   "cnn": result.metrics["auroc"], "seconds": seconds,
                   "best_epoch": result.best_epoch, "epochs": len(result.history),
                   "rc": result.choices["reverse_complement"]["value"],
                   "retrained": result.choices["collapse_check"]["retrained"],
                   "position_gain": (result.choices["head"].get("validation", 0)
                                     - result.choices["head"].get(
                                         "validation_without_position_path", 0)),
                   **{name: m["auroc"] for name, m in result.baselines.items()}}
            runs.append(row)
            baselines = {k: v for k, v in row.items() if k.startswith(("kmer", "positional"))}
            print(f"{task:<9} seed {seed}: CNN {row['cnn']:.4f}  "
                  + "  ".join(f"{k} {v:.4f}" for k, v in baselines.items())
                  + f"  rc {'on' if row['rc'] else 'off'}{' retrained' if row['retrained'] else ''}  position path "
                    f"{row['position_gain']:+.3f}  epoch {row['best_epoch']}/{row['epochs']}"
                    f"  {seconds:.0f} s", flush=True)
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))
    print()
    print(table(runs))


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def _mean_sd(values) -> tuple[float, float]:
    values = np.asarray(values, float)
    return values.mean(), values.std(ddof=1) if len(values) > 1 else 0.0


def table(runs: list[dict]) -> str:
    """The Markdown table of the panel, one row per task, and the verdict per target."""
    lines = ["| task | n × length | CNN (defaults) | k-mer | positional | best baseline | "
             "CNN − best | worst seed − mean | CNN time (s) | target met |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for task in dict.fromkeys(r["task"] for r in runs):
        rows = [r for r in runs if r["task"] == task]
        cnn, cnn_sd = _mean_sd([r["cnn"] for r in rows])
        kmer_key = next(k for k in rows[0] if k.startswith("kmer"))
        kmer, kmer_sd = _mean_sd([r[kmer_key] for r in rows])
        pos, pos_sd = _mean_sd([r["positional"] for r in rows])
        best_name, best = max((kmer_key, kmer), ("positional", pos), key=lambda x: x[1])
        spread = max(abs(r["cnn"] - cnn) for r in rows)
        if best >= 0.99:
            met = cnn >= best - 0.005 and cnn >= 0.99
        else:
            met = cnn >= best + 0.01
        met = met and spread <= 0.02
        seconds, _ = _mean_sd([r["seconds"] for r in rows])
        lines.append(f"| {task} | {rows[0]['n']} × {rows[0]['length']} | {cnn:.3f} ± {cnn_sd:.3f} "
                     f"| {kmer:.3f} ± {kmer_sd:.3f} ({kmer_key}) | {pos:.3f} ± {pos_sd:.3f} | "
                     f"{best_name} {best:.3f} | {cnn - best:+.3f} | {spread:.3f} | "
                     f"{seconds:.0f} | {'yes' if met else 'NO'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
