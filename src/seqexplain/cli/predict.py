"""``seqexplain predict`` and ``seqexplain evaluate``."""

from __future__ import annotations

import click

from . import main
from .options import cluster_options, model_kwargs, model_options, region_options


@main.command("predict")
@click.argument("model_dir", type=click.Path())
@click.argument("fasta", required=False, type=click.Path(dir_okay=False))
@region_options()
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False),
              help="Output TSV: id + one column per output; per-position outputs (profile "
                   "heads) go to OUT's name with .profiles.npz.")
@click.option("--alphabet", type=click.Choice(["dna", "rna", "protein"]),
              help="Channels of a bare Keras model file [dna for 4, protein for 20].")
@model_options
@click.option("--batch-size", type=click.IntRange(min=1), default=4096, show_default=True,
              help="Records read and predicted at a time (bounds memory).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
@cluster_options
def predict_command(model_dir, fasta, regions, genome, off_edge, out, alphabet, custom_objects,
                    input_layout, profile_outputs, batch_size, quiet, force, cluster, resume):
    """Predict every record of FASTA (or every --regions window of --genome) with a trained
    model (a model folder, a Keras .keras/.h5 file or a TF SavedModel folder; probabilities
    for classification)."""
    from ..predict_run import predict_files

    result = predict_files(model_dir, fasta, out=out, regions=regions, genome=genome,
                           off_edge=off_edge, alphabet=alphabet, batch_size=batch_size,
                           cluster=cluster, resume=resume, force=force, progress=not quiet,
                           **model_kwargs(custom_objects, input_layout, profile_outputs))
    click.echo(result.summary(), err=True)


@main.command("evaluate")
@click.argument("model_dir", type=click.Path())
@click.argument("fasta", nargs=-1, type=click.Path(dir_okay=False))
@region_options(many=True, training=True)
@click.option("--labels", type=click.Path(dir_okay=False),
              help="TSV/CSV: first column id, then the target column(s).")
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="Also write metrics as JSON.")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
def evaluate_command(model_dir, fasta, regions, genome, off_edge, label_column, background,
                     labels, out, force):
    """Metrics of a trained model on new labelled data: FASTA file(s) labelled as for train
    (one file per class, --labels, or label= header tokens), or --regions windows of
    --genome (one --regions file per class, --label-column, --labels, or one file of
    positives with --background gc-matched)."""
    from ..predict_run import evaluate_files

    result = evaluate_files(model_dir, fasta, labels=labels, regions=regions, genome=genome,
                            off_edge=off_edge, label_column=label_column,
                            background=background, out=out, force=force)
    for line in result.summary():
        click.echo(line)
