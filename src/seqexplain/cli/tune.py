"""``seqexplain tune``: KerasTuner search, then the best model as a model folder."""

from __future__ import annotations

import click

from . import main
from .options import region_options, sequence_options


@main.command("tune")
@click.argument("fasta", nargs=-1, type=click.Path(dir_okay=False))
@region_options(many=True, training=True)
@click.option("--labels", type=click.Path(dir_okay=False),
              help="TSV/CSV: first column id, then one column per target.")
@click.option("--task", type=click.Choice(["binary", "multiclass", "multilabel", "regression"]))
@sequence_options
@click.option("--max-trials", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--tuner", type=click.Choice(["random", "hyperband", "bayesian"]),
              default="random", show_default=True)
@click.option("--search-space", type=click.Path(dir_okay=False),
              help="YAML/JSON: model-config key → list of choices or {min, max, sampling}.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="YAML/JSON training settings; its `model:` mapping fixes the settings "
                   "that are not searched.")
@click.option("--epochs", type=click.IntRange(min=1), default=30, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--patience", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def tune_command(fasta, regions, genome, off_edge, label_column, background, labels, task,
                 alphabet, length, pad, crop, unknown, max_trials, tuner, search_space,
                 config_file, epochs, batch_size, patience, seed, quiet, out, force):
    """Search filters, kernel widths, blocks, dropout, L2 and learning rate with KerasTuner;
    retrain the best configuration and write it as a model folder (with trials.tsv).

    FASTA file(s) labelled as for train, or --regions windows of --genome (--length: the
    window length), labelled as for train."""
    from ..tune import tune_files

    run = tune_files(fasta, out=out, labels=labels, config=config_file,
                     search_space=search_space, max_trials=max_trials, tuner=tuner,
                     regions=regions, genome=genome, off_edge=off_edge,
                     label_column=label_column, background=background, alphabet=alphabet,
                     length=length, pad=pad, crop=crop, unknown=unknown, force=force,
                     task=task, epochs=epochs, batch_size=batch_size, patience=patience,
                     seed=seed, verbose=not quiet)
    click.echo(run.summary())
    click.echo(f"model folder: {out}", err=True)
