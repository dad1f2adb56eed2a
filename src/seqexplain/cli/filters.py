"""``seqexplain filters``: first-layer convolutional filters as motifs."""

from __future__ import annotations

import click

from ..annotate import TAXA
from . import main
from .options import region_options


@main.command("filters")
@click.argument("model", type=click.Path())
@click.argument("fasta", required=False, type=click.Path(dir_okay=False))
@region_options()
@click.option("--alphabet", type=click.Choice(["dna", "rna", "protein"]),
              help="Channels of a bare Keras model file [dna for 4, protein for 20].")
@click.option("--target", help="Output whose logit the influence is measured on (index or "
                               "name; for several outputs NAME, NAME:CHANNEL, PROFILE[A:B]).")
@click.option("--max-sequences", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Sequences used (the first ones of FASTA).")
@click.option("--database", type=click.Path(dir_okay=False),
              help="Known motifs (MEME/JASPAR file) [JASPAR CORE from pyjaspar, DNA].")
@click.option("--jaspar-release", default="JASPAR2024", show_default=True)
@click.option("--taxon", default="vertebrates", show_default=True,
              type=click.Choice(TAXA), help="JASPAR taxon.")
@click.option("--logos", "n_logos", type=click.IntRange(min=0), default=20, show_default=True,
              help="PWM logos of the K most influential filters (filters.meme has them all).")
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def filters_command(model, fasta, regions, genome, off_edge, alphabet, target, max_sequences,
                    database, jaspar_release, taxon, n_logos, out, force):
    """PWM of every first-layer filter of MODEL from the FASTA (or --regions) subsequences
    that activate it
    above half its maximum (DeepBind/Basset), with JASPAR matches and each filter's influence
    (logit change when it is switched off), most influential first."""
    from ..filters import filters_files

    result = filters_files(model, fasta, out=out, regions=regions, genome=genome,
                           off_edge=off_edge, alphabet=alphabet, target=target,
                           max_sequences=max_sequences, database=database,
                           release=jaspar_release, taxon=taxon, logos=n_logos, force=force)
    click.echo(result.summary(), err=True)
