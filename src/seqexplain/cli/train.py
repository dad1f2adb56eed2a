"""``seqexplain train``: labelled FASTA → a model folder."""

from __future__ import annotations

import click
from click.core import ParameterSource

from . import main
from .options import region_options, sequence_options


def _ints(value):
    """'64,32' → [64, 32]; '64' → 64 (click callback for per-block options)."""
    if value is None:
        return None
    try:
        parts = [int(v) for v in str(value).split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected integers separated by commas") from None
    return parts[0] if len(parts) == 1 else parts


def _words(value):
    if value is None:
        return None
    parts = [v.strip() for v in str(value).split(",") if v.strip()]
    return parts[0] if len(parts) == 1 else parts


def architecture_options(func):
    """One flag per field of :class:`~seqexplain.models.ModelSettings` that has one, generated
    from the field: its flag, help and click type; the command receives each as
    ``model_<field>``, ``None`` when not given (the config file's or the data-sized value
    stays)."""
    from dataclasses import fields

    from ..models import ModelSettings

    parsers = {"ints": _ints, "words": _words}
    for f in reversed([f for f in fields(ModelSettings) if f.metadata.get("flag")]):
        extra = {k: v(click) if k == "type" else v for k, v in f.metadata["click"].items()}
        if f.metadata["values"]:
            parse = parsers[f.metadata["values"]]
            extra.update(type=str, callback=lambda ctx, param, value, parse=parse: parse(value))
        func = click.option(f.metadata["flag"], "model_" + f.name, default=None,
                            help=f.metadata["help"], **extra)(func)
    return func


@main.command("train")
@click.argument("fasta", nargs=-1, required=False, type=click.Path(dir_okay=False))
@region_options(many=True, training=True)
@click.option("--labels", type=click.Path(dir_okay=False),
              help="TSV/CSV: first column id, then one column per target.")
@click.option("--task", type=click.Choice(["binary", "multiclass", "multilabel", "regression"]),
              help="Learning task (inferred from the labels when unambiguous).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="YAML/JSON file with any of these options (a `model:` mapping for the "
                   "architecture); the command line wins.")
@sequence_options
@click.option("--epochs", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--patience", type=click.IntRange(min=1), default=None,
              help="Early stopping: epochs without a better validation loss [10; 15 under "
                   "1,000 training sequences].")
@click.option("--reduce-lr/--no-reduce-lr", default=True, show_default=True,
              help="Halve the learning rate when validation loss stalls.")
@click.option("--class-weight", is_flag=True, help="Weight classes by inverse frequency.")
@click.option("--val-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.1, show_default=True)
@click.option("--test-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.2, show_default=True)
@click.option("--split-by", help="Labels column (e.g. chromosome) whose groups never straddle "
                                 "training, validation and test.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--reverse-complement/--no-reverse-complement", default=None,
              help="Reverse-complement augmentation [on for DNA/RNA].")
@click.option("--shift", type=click.IntRange(min=0), default=0, show_default=True,
              help="Random-shift augmentation of up to this many positions.")
@click.option("--restarts", type=click.IntRange(min=1), default=1, show_default=True,
              help="Train this many seeds; keep the best validation loss, report the spread.")
@click.option("--cv", type=click.IntRange(min=0), default=0, show_default=True,
              help="K-fold cross-validation (K ≥ 2) reported beside the holdout test.")
@click.option("--cv-repeats", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--kmer", type=click.IntRange(1, 8), default=None,
              help="k of the k-mer baseline [4 for DNA/RNA, 2 for protein].")
@click.option("--positive-class", help="Binary tasks with class names: the positive class.")
@click.option("--distribute", type=click.Choice(["none", "mirrored"]), default="none",
              show_default=True, help="mirrored: tf.distribute over all GPUs (or TF_CONFIG "
                                      "workers).")
@architecture_options
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False),
              help="Model folder to write.")
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@click.pass_context
def train_command(ctx, fasta, regions, genome, off_edge, label_column, background, labels,
                  config_file, out, force, quiet, **options):
    """Train a regularized CNN on labelled FASTA files and write a model folder.

    Labels come from --labels, from `label=VALUE` header tokens, or, with several FASTA files,
    from the file names (one class per file; the first file is the positive class of a binary
    task). The folder holds model.keras, metadata.json, metrics.json (CNN and baselines on the
    test split), history.csv, training_curves.png, splits.tsv and test_predictions.tsv.

    From genome coordinates: --regions peaks.narrowPeak --genome genome.fa (--length: the
    window length), labelled by one --regions file per class, --label-column, --labels
    (keyed by the region ids chrom:start-end(strand)) or --background gc-matched.
    """
    from ..train_run import train_files

    # the flags given on the command line win over the file; the file over the defaults
    given = {k: v for k, v in options.items() if not k.startswith("model_")
             and ctx.get_parameter_source(k) == ParameterSource.COMMANDLINE}
    model = {k[len("model_"):]: v for k, v in options.items() if k.startswith("model_")}
    result = train_files(fasta, out=out, labels=labels, config=config_file, model=model,
                         regions=regions, genome=genome, off_edge=off_edge,
                         label_column=label_column, background=background, force=force,
                         verbose=not quiet, **given)
    click.echo(result.report())
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"model folder: {out}", err=True)
