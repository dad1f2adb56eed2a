"""``seqexplain logo``: attribution logos from an attributions file."""

from __future__ import annotations

import click

from . import main
from .options import check_window_option


def split_ids(values) -> list[str]:
    return [i for v in values for i in v.split(",") if i]


@main.command("logo")
@click.argument("attributions", type=click.Path(dir_okay=False))
@click.option("-m", "--method", "methods", default=None,
              help="Comma-separated methods (names or aliases of the method table, as in "
                   "`explain`), one logo row each [all in the file]. With ism, an ISM "
                   "heatmap row is added.")
@click.option("--target", help="In an attributions file of several targets (explain --target "
                               "all): the one drawn.")
@click.option("--ids", multiple=True,
              help="Sequence ids to draw (comma-separated or repeated) [default: --top].")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="Without --ids: the K sequences with the highest explained output.")
@click.option("--window", default="auto", show_default=True, callback=check_window_option,
              help="full, START:END (1-based, inclusive), or auto / auto:WIDTH — a zoom on the "
                   "highest-scoring stretch under a full-length overview.")
@click.option("--highlight", type=click.Path(dir_okay=False),
              help="BED/TSV of intervals to shade (id or chrom, start, end, [name]).")
@click.option("--format", "fmt", type=click.Choice(["png", "svg", "pdf"]), default="png",
              show_default=True)
@click.option("--dpi", type=click.IntRange(min=20, max=1200), default=100, show_default=True)
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Parallel drawing processes [all cores].")
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False),
              help="Output folder: one file per sequence and index.tsv.")
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def logo_command(attributions, methods, target, ids, top, window, highlight, fmt, dpi, jobs, out,
                 force):
    """Attribution logos of sequences in ATTRIBUTIONS (attributions.npz or .h5 from
    `seqexplain explain`), one file per sequence named by its id."""
    from ..logos import draw_logos

    table = draw_logos(attributions, out, methods, target=target, ids=split_ids(ids), top=top,
                       window=window, highlight=highlight, fmt=fmt, dpi=dpi, jobs=jobs,
                       force=force)  # --window: also checked by its click callback
    click.echo(f"{out}: {len(table)} {fmt.upper()} logos", err=True)
