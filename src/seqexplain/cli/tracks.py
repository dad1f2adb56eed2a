"""``seqexplain tracks``: genome-browser tracks (bigWig, bedGraph) of an attributions file."""

from __future__ import annotations

import click

from . import main


@main.command("tracks")
@click.argument("attributions", type=click.Path(dir_okay=False))
@click.option("--genome", required=True, type=click.Path(),
              help="The genome FASTA the regions were read from (its .fai index gives the "
                   "chromosome sizes), or a .fai / chrom.sizes file.")
@click.option("-m", "--method", "methods", default=None,
              help="Comma-separated methods (names or aliases) [every method in the file].")
@click.option("--target", help="In a file of several targets (explain --target all): the one "
                               "written [every target: METHOD.TARGET.bw].")
@click.option("--bedgraph", is_flag=True, help="Write bedGraph text files instead of bigWig.")
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False),
              help="Output folder: METHOD.bw (or .bedGraph) per method and target.")
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def tracks_command(attributions, genome, methods, target, bedgraph, out, force):
    """Each base's contribution in ATTRIBUTIONS (from `seqexplain explain --regions …
    --genome …`) as a bigWig per method and target. Where regions overlap, a base takes the
    value of the region whose centre is nearest."""
    from ..tracks import tracks_files

    result = tracks_files(attributions, genome, out, methods=methods, target=target,
                          bedgraph=bedgraph, force=force)
    click.echo(result.summary_line(out), err=True)
