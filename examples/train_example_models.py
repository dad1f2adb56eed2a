"""Train the small example models shipped in models/ from the data in examples/data/.

1. models/ctcf — DNA: 500 CTCF ChIP-seq peaks (GM12878) against 1,000 GC-matched human
   background windows, 200 bp, binary.
2. models/ww — protein: 4,025 Pfam WW domains against proteome fragments of the same lengths,
   padded to 34 residues, binary.
3. models/grammar — DNA, simulated: a SOX2–FOXA1 pair rule (FOXA1 14 ± 1 bp after SOX2, both
   on the + strand) in 3,000 random 200 bp sequences, whose negatives hold each motif alone,
   the pair at other spacings and the pair in other orientations; binary. The data are made
   by ``seqexplain simulate`` (seed 7) into examples/data/grammar_sim/ (not shipped: this
   script makes it again, identical), exactly as

    seqexplain simulate --motif SOX2 --motif FOXA1 --motif-file examples/data/jaspar2024_selected.meme --grammar "SOX2,FOXA1,spacing=14±1,orientation=++" -n 3000 --length 200 --seed 7 --out sim
    seqexplain train sim/sequences.fa --labels sim/labels.tsv --out models/grammar

All are trained with seqexplain's default settings (seed 0), exactly as

    seqexplain train examples/data/ctcf_peaks.fa examples/data/human_background.fa --out models/ctcf
    seqexplain train examples/data/ww_domains.fa examples/data/proteome_fragments.fa --length 34 --out models/ww

and held-out test-split records of each are written as demo FASTA files: 20 positives
(examples/data/ctcf_demo.fa, ww_demo.fa) and the whole test split (ctcf_test.fa, ww_test.fa,
positives and negatives — the README's first command explains ctcf_test.fa; grammar_test.fa is
what the README's grammar block studies).
Run from the repository root (≈ 3 minutes on 2 cores); rebuild the data first with
examples/make_example_data.py if needed.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pandas as pd

import seqexplain as sx

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data"

EXAMPLES = {
    "ctcf": {"fastas": ["ctcf_peaks.fa", "human_background.fa"], "length": None,
             "demo": "ctcf_demo.fa", "n_demo": 20, "test": "ctcf_test.fa"},
    "ww": {"fastas": ["ww_domains.fa", "proteome_fragments.fa"], "length": 34,
           "demo": "ww_demo.fa", "n_demo": 20, "test": "ww_test.fa"},
    "grammar": {"fastas": ["grammar_sim/sequences.fa"], "labels": "grammar_sim/labels.tsv",
                "length": None, "demo": None, "n_demo": 0, "test": "grammar_test.fa"},
}
#: the simulated pair-grammar task behind models/grammar
GRAMMAR_RULE = "SOX2,FOXA1,spacing=14±1,orientation=++"


def simulate_grammar() -> None:
    """examples/data/grammar_sim/: the pair-rule task (sequences, labels, planted sites)."""
    from seqexplain.simulate import simulate_files

    simulate_files(["SOX2", "FOXA1"], DATA / "grammar_sim",
                      motif_files=[DATA / "jaspar2024_selected.meme"], seed=7, force=True,
                      n=3000, length=200, task="binary", grammar=GRAMMAR_RULE)


def demo_fasta(model_dir: Path, fastas: list[Path], out: Path | None, n: int) -> None:
    """The first ``n`` positive test-split records (never seen in training)."""
    if out is None:
        return
    splits = pd.read_csv(model_dir / "splits.tsv", sep="\t").set_index("id")["split"]
    records = sx.read_fasta(fastas[0])
    chosen = [(i, s) for i, s in zip(records.ids, records.sequences)
              if splits.get(i) == "test"][:n]
    out.write_text("".join(f">{i}\n{s}\n" for i, s in chosen))


def test_fasta(model_dir: Path, fastas: list[Path], out: Path) -> None:
    """Every test-split record (positives and negatives, never seen in training)."""
    splits = pd.read_csv(model_dir / "splits.tsv", sep="\t").set_index("id")["split"]
    lines = []
    for fasta in fastas:
        records = sx.read_fasta(fasta)
        lines += [f">{i}\n{s}\n" for i, s in zip(records.ids, records.sequences)
                  if splits.get(i) == "test"]
    out.write_text("".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(EXAMPLES), nargs="+", default=list(EXAMPLES))
    parser.add_argument("--out", type=Path, default=ROOT / "models")
    parser.add_argument("--demo-only", action="store_true",
                        help="Only rewrite the demo/test FASTA files from existing model folders.")
    args = parser.parse_args()
    if args.demo_only:
        for name in args.only:
            spec = EXAMPLES[name]
            fastas = [DATA / f for f in spec["fastas"]]
            demo_fasta(args.out / name, fastas, spec["demo"] and DATA / spec["demo"],
                       spec["n_demo"])
            test_fasta(args.out / name, fastas, DATA / spec["test"])
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter

    for name in args.only:
        spec = EXAMPLES[name]
        fastas = [DATA / f for f in spec["fastas"]]
        out = args.out / name
        if name == "grammar":
            simulate_grammar()
        labels = spec.get("labels") and os.path.relpath(DATA / spec["labels"], ROOT)
        # sources recorded relative to the repository, as a user would type them
        result = sx.train_model([os.path.relpath(f, ROOT) for f in fastas], out, labels,
                                length=spec["length"],
                                train_config=sx.TrainSettings(seed=0, verbose=False),
                                force=True)
        print(f"== {name}\n{result.report()}")
        demo_fasta(out, fastas, spec["demo"] and DATA / spec["demo"], spec["n_demo"])
        test_fasta(out, fastas, DATA / spec["test"])


if __name__ == "__main__":
    main()
