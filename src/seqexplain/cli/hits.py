"""``seqexplain hits``: motif hits called from an attributions file's contributions."""

from __future__ import annotations

import click

from . import main


@main.command("hits")
@click.argument("attributions", type=click.Path(dir_okay=False))
@click.option("--motifs", "motifs", required=True,
              help="A motifs/ folder of explain --motifs (its CWMs), a TF-MoDISco .h5, a "
                   "MEME/JASPAR file, or comma-separated JASPAR ids or names (bundled, "
                   "offline).")
@click.option("-m", "--method", default=None,
              help="Whose scores are searched [deepshap when in the file, else the first].")
@click.option("--target", help="In a file of several targets (explain --target all): the one "
                               "searched, or 'all': every target, with classes.tsv and "
                               "classes.png (targets × motifs).")
@click.option("--fdr", type=float, default=0.1, show_default=True,
              help="Largest Benjamini–Hochberg q of a hit (null: the same contributions "
                   "moved to random bases of the same sequences).")
@click.option("--min-similarity", type=float, default=0.75, show_default=True,
              help="Smallest cosine similarity of a hit's contributions with the motif's CWM.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False),
              help="Output folder: hits.tsv, hits.bed, counts.tsv.")
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def hits_command(attributions, motifs, method, target, fdr, min_similarity, seed, out, force):
    """Where the motifs of --motifs are in ATTRIBUTIONS (from `seqexplain explain`, or a
    Fi-NeMo regions .npz of `finemo extract-regions-*`): each hit
    with its strength, its similarity to the motif's CWM and a q-value; in genome coordinates
    when the sequences came from --regions. Overlapping hits of one motif are collapsed to the
    strongest."""
    from ..motif_hits import hits_files

    result = hits_files(attributions, motifs, out, method=method, target=target, fdr=fdr,
                        min_similarity=min_similarity, seed=seed, force=force)
    click.echo(result.summary_line(out), err=True)
