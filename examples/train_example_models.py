"""Train the small example models shipped in models/ from the data in examples/data/.

1. models/ctcf — DNA: 500 CTCF ChIP-seq peaks (GM12878) against 1,000 GC-matched human
   background windows, 200 bp, binary.
2. models/ww — protein: 4,025 Pfam WW domains against proteome fragments of the same lengths,
   padded to 34 residues, binary.

Both are trained with seqexplain's default settings (seed 0), exactly as

    seqexplain train examples/data/ctcf_peaks.fa examples/data/human_background.fa --out models/ctcf
    seqexplain train examples/data/ww_domains.fa examples/data/proteome_fragments.fa --length 34 --out models/ww

and a few held-out test-split records of each are written as demo FASTA files
(examples/data/ctcf_demo.fa, examples/data/ww_demo.fa) for the README's first command.
Run from the repository root (≈ 3 minutes on 2 cores); rebuild the data first with
examples/make_example_data.py if needed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from seqexplain._tf import import_tensorflow
from seqexplain.fasta import read_fasta

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data"

EXAMPLES = {
    "ctcf": {"fastas": ["ctcf_peaks.fa", "human_background.fa"], "length": None,
             "demo": "ctcf_demo.fa", "n_demo": 20},
    "ww": {"fastas": ["ww_domains.fa", "proteome_fragments.fa"], "length": 34,
           "demo": "ww_demo.fa", "n_demo": 20},
}


def demo_fasta(model_dir: Path, fastas: list[Path], out: Path, n: int) -> None:
    """The first ``n`` positive test-split records (never seen in training)."""
    splits = pd.read_csv(model_dir / "splits.tsv", sep="\t").set_index("id")["split"]
    records = read_fasta(fastas[0])
    chosen = [(i, s) for i, s in zip(records.ids, records.sequences)
              if splits.get(i) == "test"][:n]
    out.write_text("".join(f">{i}\n{s}\n" for i, s in chosen))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(EXAMPLES), nargs="+", default=list(EXAMPLES))
    parser.add_argument("--out", type=Path, default=ROOT / "models")
    args = parser.parse_args()
    import_tensorflow()
    from seqexplain.train import TrainConfig, format_report, train_model_folder

    for name in args.only:
        spec = EXAMPLES[name]
        fastas = [DATA / f for f in spec["fastas"]]
        out = args.out / name
        result = train_model_folder([str(f) for f in fastas], out, length=spec["length"],
                                    train_config=TrainConfig(seed=0, verbose=False),
                                    force=True)
        print(f"== {name}\n{format_report(result)}")
        demo_fasta(out, fastas, DATA / spec["demo"], spec["n_demo"])


if __name__ == "__main__":
    main()
