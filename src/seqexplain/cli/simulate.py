"""``seqexplain simulate``: a FASTA data set with planted motifs, its labels and ground truth."""

from __future__ import annotations

import click

from ..simulate import BACKGROUND_MODES, DEFAULT_GC, TASKS
from . import main


@main.command("simulate")
@click.option("--motif", "motif_tokens", multiple=True, required=True,
              help="Motif to plant (repeatable): an id or name from --motif-file (CTCF, "
                   "MA0139.2) or an IUPAC consensus (CCGCGNGGNGGCAG).")
@click.option("--motif-file", "motif_files", multiple=True, type=click.Path(dir_okay=False),
              help="JASPAR or MEME motif file to look --motif names up in (repeatable).")
@click.option("--task", type=click.Choice(TASKS), default="binary", show_default=True,
              help="binary: one motif present or not; multiclass: which motif; multilabel: "
                   "each motif present or not; and: positive only when both motifs are.")
@click.option("-n", "--n-seqs", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Number of sequences.")
@click.option("--length", type=click.IntRange(min=1), default=200, show_default=True,
              help="Sequence length (bp).")
@click.option("--gc", type=click.FloatRange(0, 1), default=None,
              help=f"GC content of the i.i.d. background [default: {DEFAULT_GC}].")
@click.option("--background", type=click.Path(dir_okay=False), default=None,
              help="FASTA (plain or .gz) to take background windows from instead of i.i.d. "
                   "bases.")
@click.option("--background-mode", type=click.Choice(BACKGROUND_MODES), default="windows",
              show_default=True,
              help="With --background: use windows as they are, or dinucleotide-shuffled.")
@click.option("--positive-fraction", default=None,
              type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="Fraction of positives (binary, and) or of sequences with each motif "
                   "(multilabel) [default: 0.5].")
@click.option("--instances", type=click.IntRange(min=1), default=1, show_default=True,
              help="Instances of each present motif per sequence.")
@click.option("--position", "positions", type=int, multiple=True,
              help="Plant each motif with its start at this offset (bp, negative = upstream) "
                   "from the landmark at the sequence centre (length // 2); once for every "
                   "motif or once per motif, e.g. --position -35 --position -10.")
@click.option("--position-window", type=click.IntRange(min=0), default=0, show_default=True,
              help="With --position: sites start up to this many bp either side of it.")
@click.option("--decoys", type=click.IntRange(min=0), default=0, show_default=True,
              help="With --position: instances of every motif added to every sequence away "
                   "from the positional windows, so only the position tells the label.")
@click.option("--grammar", "grammar", default=None, metavar="RULE",
              help="A pair rule over the two motifs, e.g. 'A,B,spacing=12±1,orientation=++' "
                   "(spacing: start of B − start of A): positives hold the pair so, negatives A "
                   "alone, B alone, the pair at other spacings or in other orientations; writes "
                   "grammar_truth.tsv and arrangements.tsv too.")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Random seed; the same seed gives the same files. Default: a fresh seed, "
                   "printed in the summary.")
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False),
              help="Output folder: sequences.fa, labels.tsv, motif_sites.tsv, motifs.meme.")
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def simulate_command(motif_tokens, motif_files, task, n_seqs, length, gc, background,
                     background_mode, positive_fraction, instances, positions, position_window,
                     decoys, grammar, seed, out, force):
    """Simulate sequences with planted motifs and known ground truth.

    Motif instances are sampled from the motifs' frequency matrices and planted on random
    strands at random non-overlapping positions. OUT/labels.tsv holds the labels (`id`, then
    `label`, or one 0/1 column per motif for multilabel); OUT/motif_sites.tsv lists every
    planted instance (`id motif start end strand instance offset role`, 0-based
    half-open; `offset` from the landmark at length // 2; `role` site or decoy).
    """
    from ..simulate import simulate_files

    data = simulate_files(motif_tokens, out, motif_files=motif_files, seed=seed, force=force,
                          n=n_seqs, length=length, task=task, background=background,
                          background_mode=background_mode, gc=gc,
                          positive_fraction=positive_fraction, instances=instances,
                          positions=list(positions) or None, position_window=position_window,
                          decoys=decoys, grammar=grammar)
    click.echo(f"{out}: {data.summary()}; seed {data.seed}", err=True)
