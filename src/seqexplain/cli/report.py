"""``seqexplain report``: one self-contained HTML page about a model."""

from __future__ import annotations

import click

from . import main
from .options import check_window_option


@main.command("report")
@click.argument("model_dir", type=click.Path())
@click.option("-a", "--attributions", type=click.Path(dir_okay=False),
              help="attributions.npz/.h5 from `seqexplain explain`: adds logos and ISM "
                   "heatmaps of the top sequences.")
@click.option("--motifs", "motifs_dir", type=click.Path(file_okay=False),
              help="Folder from `seqexplain motifs` [motifs/ beside the attributions, if any].")
@click.option("--design", "design_dir", type=click.Path(file_okay=False),
              help="Folder from `seqexplain design`: adds its outcome, edits, trajectory and "
                   "before/after logos.")
@click.option("--grammar", "grammar_dir", type=click.Path(file_okay=False),
              help="Folder from `seqexplain grammar`: adds what the motifs do [grammar/ beside "
                   "the attributions, if any].")
@click.option("--target", help="In an attributions file of several targets (explain --target "
                               "all): the one shown.")
@click.option("--top", type=click.IntRange(min=1), default=5, show_default=True,
              help="Sequences shown (highest explained output first).")
@click.option("--window", default="auto", show_default=True, callback=check_window_option,
              help="Logo window: full, START:END, auto or auto:WIDTH.")
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False),
              help="HTML file to write.")
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def report_command(model_dir, attributions, motifs_dir, design_dir, grammar_dir, target, top,
                   window, out, force):
    """HTML report of MODEL_DIR (a folder from `seqexplain train`, or a Keras .keras file:
    then the model and attributions only): model, data, test metrics
    beside the baselines, training curves and, with --attributions, the top sequences' logos
    and the motifs found (see --motifs); with --grammar, what the motifs do; with --design, a
    design run.
    Images are embedded; the file needs no network."""
    from ..report import write_report

    path = write_report(model_dir, out, attributions, top, window, force=force,
                        motifs=motifs_dir, target=target, design=design_dir,
                        grammar=grammar_dir)
    click.echo(f"{path}: {path.stat().st_size / 1e6:.1f} MB", err=True)
