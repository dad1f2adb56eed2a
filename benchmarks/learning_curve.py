"""Learning curve of the default ``seqexplain train``: the CNN against the best baseline at
300, 1,000, 3,000 and 10,000 training records (issue 28).

Each task is subsampled (stratified by label, seeded) to each size where it has that many
records — the size is of the whole subsample, which ``train`` splits 70/10/20 as usual —
and trained with the defaults, which now follow the data (``capacity_rule``: the *small*
tier under 1,000 training sequences, *medium* under 5,000, *large* above; flatten instead
of max pooling where the positional baseline wins on validation). Printed per size: the
CNN's test main metric (AUROC) and the best baseline's (k-mer or positional), mean ± sd over
seeds, and the tier and pooling used. Tasks (the builders of ``bench_train_panel.py`` where they
exist):

1. ``motif`` — one CTCF site (sampled from its JASPAR PWM) planted anywhere in half of
   200 bp i.i.d. sequences;
2. ``pair`` — non-additive: CTCF and REST anywhere in 200 bp, positive only with both
   (negatives hold one, the other or neither: ``simulate --task and``);
3. ``ecoli`` — 100 bp windows on the start codons of E. coli 536 long ORFs against in-frame
   internal ATGs (~4,100 windows; ``examples/make_ecoli_starts.py``);
4. ``ctcf`` — 500 CTCF ChIP-seq peaks against 1,000 human background windows, 200 bp
   (``examples/data``; 1,500 records in all);
5. ``ww`` — 4,025 WW domains against as many proteome fragments, 34 residues;
6. ``splice`` — splice-junction-like, 3 classes (donor, acceptor, neither) in 60 bp with the
   junction at the centre (:func:`splice_like`): a fixed landmark plus a motif at a variable
   position. Main metric: macro one-vs-rest AUROC.

Targets (issue 28): the CNN ≥ best baseline − 0.01 at every size, and ahead of it from
1,000 on wherever the task has non-additive structure. CPU heavy (a full run is hours on
2 cores); run a subset with e.g. ``--sizes 300 1000 --seeds 0``:

    python benchmarks/learning_curve.py [--tasks motif pair ecoli ctcf ww splice]
        [--sizes 300 1000 3000 10000] [--seeds 0 1 2] [--json curve.json]
        [--jsonl rows.jsonl]        # rows appended as they finish
    python benchmarks/learning_curve.py --table rows.jsonl   # the table of saved rows
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from bench_train_panel import MOTIFS, task_data as panel_task_data  # noqa: E402

from seqexplain.metrics import headline_value, main_metric  # noqa: E402

TASKS = ("motif", "pair", "ecoli", "ctcf", "ww", "splice")
SIZES = (300, 1000, 3000, 10000)


def task_data(name: str, n: int):
    """One-hot X, binary Targets and whether the alphabet is nucleic; simulated tasks get
    ``n`` sequences, real ones all they have."""
    import seqexplain as sx
    from seqexplain.motif_io import load_motifs
    from seqexplain.simulate import simulate
    from seqexplain.targets import make_targets

    if name == "motif":
        return panel_task_data("random", n)
    if name == "splice":
        sequences, labels = splice_like(n, random_state=123)
        return (sx.one_hot(sequences, "dna"),
                make_targets(pd.DataFrame({"label": labels}), "multiclass"), True)
    if name == "pair":
        data = simulate(load_motifs(["CTCF", "REST"], [MOTIFS]), n=n, length=200, task="and",
                        random_state=123)
        return (sx.one_hot(data.sequences, "dna"),
                make_targets(data.labels.set_index("id"), "binary"), True)
    return panel_task_data(name, n)


#: donor site around the exon|intron junction (positions -3…+6, the junction between -1 and
#: +1; +1/+2 always GT): the consensus MAG|GTRAGT, with the letter frequencies of human
#: donors rounded (A, C, G, T)
DONOR = {-3: (.35, .35, .2, .1), -2: (.6, .1, .1, .2), -1: (.1, .05, .8, .05),
         3: (.6, .03, .35, .02), 4: (.7, .1, .1, .1), 5: (.1, .05, .8, .05),
         6: (.15, .15, .2, .5)}
#: exonic splicing enhancers (SR-protein sites; one, at any position in the exon, makes a
#: donor used) and branch points (yUnAy; starting anywhere 19-28 nt upstream of the acceptor AG)
ESES = ("GAAGAA", "GGAGGA", "GACGAC")
BRANCH_POINTS = ("CTAAC", "CTGAC", "TTAAT")


def splice_like(n: int, length: int = 60, random_state: int = 0):
    """A splice-junction-like task (the UCI data's layout: 60 bp, junction between positions
    29 and 30, classes EI (donor), IE (acceptor) and N (neither), 1:1:2), simulated: no
    splice data ships with the repository or an installable package.

    A donor is the donor site (:data:`DONOR`) at the junction plus an exonic splicing
    enhancer (:data:`ESES`) anywhere in the exon; an acceptor is a pyrimidine tract ending in
    (C/T)AG at the junction plus a branch point (:data:`BRANCH_POINTS`) 19-28 nt upstream of
    the AG. Half of N is plain sequence; the other half are decoys: a donor or an acceptor
    site at the junction without its enhancer or branch point. Telling a site from its decoy
    needs a motif at a variable position, on top of the position-specific letters that a
    positional linear model reads. Returns ``(sequences, labels)``.
    """
    rng = np.random.default_rng(random_state)
    letters = np.array(list("ACGT"))
    centre = length // 2  # first intron base of a donor, first exon base after an acceptor

    def background(k):
        return rng.choice(letters, size=(k, length))

    def put(seq, start, word):
        seq[start:start + len(word)] = list(word)

    def donor_site(seq):
        for offset, probs in DONOR.items():
            seq[centre + offset - (offset > 0)] = rng.choice(letters, p=probs)
        put(seq, centre, "GT")

    def acceptor_site(seq):
        tract = slice(centre - 16, centre - 3)
        seq[tract] = rng.choice(letters, size=13, p=(.1, .4, .1, .4))
        seq[centre - 3] = rng.choice(["C", "T"])
        put(seq, centre - 2, "AG")

    n_donor, n_acceptor = n // 4, n // 4
    n_decoy = (n - n_donor - n_acceptor) // 2
    seqs, labels = background(n), []
    for i, seq in enumerate(seqs):
        if i < n_donor:
            donor_site(seq)
            put(seq, rng.integers(0, centre - 3 - 6), rng.choice(ESES))
            labels.append("EI")
        elif i < n_donor + n_acceptor:
            acceptor_site(seq)
            put(seq, centre - 2 - rng.integers(19, 29), rng.choice(BRANCH_POINTS))
            labels.append("IE")
        else:
            if i < n_donor + n_acceptor + n_decoy:
                (donor_site if i % 2 else acceptor_site)(seq)
            labels.append("N")
    order = rng.permutation(n)
    return ["".join(seqs[i]) for i in order], [labels[i] for i in order]


def subsample(targets, size: int, seed: int) -> np.ndarray:
    """Indices of ``size`` records, stratified by label."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(targets.y))
    if size >= len(idx):
        return idx
    keep, _ = train_test_split(idx, train_size=size, random_state=seed,
                               stratify=targets.stratify_key())
    return np.sort(keep)


def run(tasks, sizes, seeds, log=print, out: Path | None = None) -> list[dict]:
    """Train every (size, seed, task) cell, smallest sizes first so that a partial run holds
    whole columns; each row is appended to ``out`` (JSON lines) as soon as it is done."""
    from seqexplain._tf import import_tensorflow

    import_tensorflow()
    from seqexplain.train import train
    from seqexplain.training.settings import TrainSettings

    data = {task: task_data(task, max(sizes)) for task in tasks}
    rows = []
    for size in sizes:
        for seed in seeds:
            for task in tasks:
                X, targets, nucleic = data[task]
                if size > len(X):
                    if seed == seeds[0]:
                        log(f"{task}: {len(X)} records, fewer than {size}: skipped")
                    continue
                keep = subsample(targets, size, seed)
                t0 = time.perf_counter()
                result = train(X[keep], targets.subset(keep), None,
                               TrainSettings(seed=seed, verbose=False), nucleic=nucleic,
                               log=lambda msg: None)
                name, best = result.best_baseline()
                key = main_metric(result.targets.task)
                row = {"task": task, "n": int(len(keep)), "seed": seed,
                       "tier": result.choices["capacity"]["tier"],
                       "pooling": result.choices["pooling"]["value"],
                       "cnn": headline_value(result.metrics, key), "baseline": name,
                       "best_baseline": best,
                       "retrained": result.choices["collapse_check"]["retrained"],
                       "failed": result.quality["failed"],
                       "seconds": time.perf_counter() - t0, "load": os.getloadavg()[0],
                       **{k: headline_value(m, key) for k, m in result.baselines.items()}}
                rows.append(row)
                if out is not None:
                    with open(out, "a") as fh:
                        fh.write(json.dumps(row) + "\n")
                log(f"{task:<6} n {row['n']:>5} seed {seed}: CNN {row['cnn']:.4f}  best "
                    f"baseline {name} {best:.4f}  tier {row['tier']} {row['pooling']}"
                    f"{'  retrained' if row['retrained'] else ''}"
                    f"{'  FAILED' if row['failed'] else ''}  {row['seconds']:.0f} s")
    return rows


def table(rows: list[dict]) -> str:
    """Markdown: one row per task and size."""
    lines = ["| task | n | seeds | tier, pooling | CNN (defaults) | best baseline | CNN − best | "
             "≥ best − 0.01 |", "|---|---|---|---|---|---|---|---|"]
    for task in dict.fromkeys(r["task"] for r in rows):
        for n in sorted({r["n"] for r in rows if r["task"] == task}):
            sel = [r for r in rows if r["task"] == task and r["n"] == n]
            cnn = np.array([r["cnn"] for r in sel])
            base = np.array([r["best_baseline"] for r in sel])
            names = sorted({r["baseline"] for r in sel})
            sd = lambda v: f" ± {v.std(ddof=1):.3f}" if len(v) > 1 else ""  # noqa: E731
            gap = cnn.mean() - base.mean()
            pools = "/".join(sorted({r.get("pooling", "max") for r in sel}))
            lines.append(f"| {task} | {n} | {len(sel)} | {sel[0]['tier']}, {pools} | "
                         f"{cnn.mean():.3f}{sd(cnn)} | {'/'.join(names)} "
                         f"{base.mean():.3f}{sd(base)} | {gap:+.3f} | "
                         f"{'yes' if gap >= -0.01 else 'NO'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--sizes", nargs="+", type=int, default=list(SIZES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--json", type=Path, help="also write the per-run rows here")
    parser.add_argument("--jsonl", type=Path,
                        help="append each row here as soon as it is done (a partial run "
                             "keeps its rows)")
    parser.add_argument("--table", type=Path, help="only print the table of these JSON lines")
    args = parser.parse_args()
    if args.table:
        print(table([json.loads(line) for line in args.table.read_text().splitlines()]))
        return
    rows = run(args.tasks, args.sizes, args.seeds, log=lambda m: print(m, flush=True),
               out=args.jsonl)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
