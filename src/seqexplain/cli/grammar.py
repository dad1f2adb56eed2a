"""``seqexplain grammar``: what each motif does to the prediction, and how pairs combine."""

from __future__ import annotations

import click

from . import main
from .options import region_options


@main.command("grammar")
@click.argument("model", type=click.Path())
@click.argument("fasta", required=False, type=click.Path(exists=True, dir_okay=False))
@region_options()
@click.option("--motifs", "motifs", required=True,
              help="A MEME/JASPAR file, a motifs/ folder of explain --motifs, or "
                   "comma-separated JASPAR ids or names (bundled, offline).")
@click.option("--alphabet", type=click.Choice(["dna", "rna", "protein"]),
              help="Channels of a bare Keras model file [dna for 4, protein for 20].")
@click.option("--target", help="Output whose logit is measured (index or name; for several "
                               "outputs NAME, NAME:CHANNEL, PROFILE[A:B]) [the first].")
@click.option("--top", type=click.IntRange(min=0), default=3, show_default=True,
              help="Spacing of every pair among the K motifs with the largest effect over "
                   "their controls, significant or not (motifs that act only together have "
                   "no effect alone).")
@click.option("--max-spacing", type=click.IntRange(min=1), default=30, show_default=True,
              help="Spacings −S … S (start of b − start of a).")
@click.option("--backgrounds", "n_backgrounds", type=click.IntRange(min=2), default=100,
              show_default=True, help="Number of backgrounds (see --background).")
@click.option("--background", type=click.Choice(["shuffle", "gc-matched", "low-scoring"]),
              default="shuffle", show_default=True,
              help="shuffle: dinucleotide shuffles of the inputs (composition kept, motifs "
                   "broken); gc-matched: genome windows of the --regions' GC content, "
                   "overlapping none of them; low-scoring: the inputs the model scores lowest "
                   "(at most half).")
@click.option("--min-effect", type=click.FloatRange(min=0), default=0.5, show_default=True,
              help="Smallest |effect − control| called significant (output units).")
@click.option("--batch-size", type=click.IntRange(min=1), default=256, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def grammar_command(model, fasta, regions, genome, off_edge, motifs, alphabet, target, top,
                    max_spacing, n_backgrounds, background, min_effect, batch_size, seed, out,
                    force):
    """Insert each motif of --motifs into backgrounds made from FASTA (or the --regions of
    --genome) and measure MODEL's
    output: OUT/marginal.tsv (each motif and strand against a shuffled control),
    OUT/spacing.tsv and OUT/grammar.tsv (every spacing and orientation of the top pairs,
    cooperativity, helical periodicity), OUT/dosage.tsv, and their figures."""
    from ..grammar import grammar_files, summary_line

    result = grammar_files(model, fasta, motifs, out, regions=regions, genome=genome,
                           off_edge=off_edge, background=background, force=force,
                           target=target, top=top,
                           max_spacing=max_spacing, n_backgrounds=n_backgrounds,
                           min_effect=min_effect, batch_size=batch_size, seed=seed,
                           alphabet=alphabet)
    click.echo(summary_line(out, result), err=True)
