"""Options shared by several commands."""

from __future__ import annotations

import click

from ..encoding import CROP_MODES, PAD_MODES


def check_window_option(ctx, param, value):
    """click callback for logo window options (--window, --logo-window): a spec that can never
    be valid is a usage error, found before any work."""
    from ..errors import SeqexplainError
    from ..logos import check_window

    try:
        check_window(value)
    except SeqexplainError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return value


def method_options(func):
    """One flag per field of :class:`~seqexplain.attribution.options.MethodSettings` that has one
    (--target, --output, --references, ...), generated from the field: its name, default and
    help; the command receives each under the field's name."""
    from dataclasses import MISSING

    from ..attribution.options import option_fields

    for f in reversed(option_fields()):
        extra = {k: v(click) if callable(v) and k == "type" else v
                 for k, v in f.metadata["click"].items()}
        extra.setdefault("default", f.default if f.default is not MISSING else None)
        extra.setdefault("show_default", True)
        func = click.option(f.metadata["flag"], f.name, help=f.metadata["help"] or None,
                            **extra)(func)
    return func


def model_options(func):
    """--custom-objects, --input-layout, --profile-output: how a bare model file is read
    (passed to :func:`~seqexplain.bundle.load_model`)."""
    decorators = [
        click.option("--custom-objects", type=click.Path(dir_okay=False),
                     help="Python file defining the layer classes a Keras model file names "
                          "(safe mode stays on: no code stored in the model file runs)."),
        click.option("--input-layout", type=click.Choice(["channels_last", "channels_first"]),
                     help="Input of a bare model: (N, L, C) or (N, C, L) as PyTorch ports "
                          "take [detected from the channels]."),
        click.option("--profile-output", "profile_outputs", multiple=True, metavar="NAME",
                     help="A flat output (N, L) to explain as a profile (repeatable) [those "
                          "whose name contains 'profile']."),
    ]
    for deco in reversed(decorators):
        func = deco(func)
    return func


def model_kwargs(custom_objects, input_layout, profile_outputs) -> dict:
    """The options of :func:`model_options` as :func:`~seqexplain.bundle.load_model` takes
    them."""
    return dict(custom_objects=custom_objects, input_layout=input_layout,
                profile_outputs=list(profile_outputs) or None)


def sequence_options(func):
    """--alphabet, --length, --pad, --crop, --unknown: how FASTA records become one-hot rows."""
    decorators = [
        click.option("--alphabet", default="auto", show_default=True,
                     type=click.Choice(["auto", "dna", "rna", "protein"], case_sensitive=False),
                     help="Sequence alphabet; auto detects DNA, RNA or protein."),
        click.option("--length", type=click.IntRange(min=1), default=None,
                     help="Target length: shorter sequences are padded with zero rows, longer "
                          "ones cropped. Default: the longest sequence."),
        click.option("--pad", default="center", show_default=True, type=click.Choice(PAD_MODES),
                     help="Where zero rows go for shorter sequences."),
        click.option("--crop", default="center", show_default=True,
                     type=click.Choice(CROP_MODES),
                     help="Where positions are removed from longer sequences; error refuses "
                          "them."),
        click.option("--unknown", default="zero", show_default=True,
                     type=click.Choice(["zero", "uniform"]),
                     help="Row for N (DNA/RNA) or X (protein): all zeros or uniform."),
    ]
    for deco in reversed(decorators):
        func = deco(func)
    return func


def _check_cluster(ctx, param, value):
    """click callback for --cluster: a spec that is neither local[:N] nor an address is a
    usage error, found before any work."""
    if value is None:
        return value
    from ..distributed import parse_cluster
    from ..errors import SeqexplainError

    try:
        parse_cluster(value)
    except SeqexplainError as exc:
        raise click.BadParameter(str(exc).split(": ", 1)[-1], ctx=ctx, param=param) from None
    return value


def cluster_options(func):
    """--cluster and --resume: run chunks of the input as tasks on Dask."""
    decorators = [
        click.option("--cluster", callback=_check_cluster, metavar="local[:N]|ADDRESS",
                     help="Run chunks as Dask tasks: local:N starts N worker processes here "
                          "(local: one per core); tcp://HOST:8786 uses a running Dask "
                          "scheduler. Shards go to OUT.shards/ and are assembled into OUT."),
        click.option("--resume", is_flag=True,
                     help="With --cluster: keep the finished shards in OUT.shards/ of an "
                          "interrupted run and compute only the missing ones."),
    ]
    for deco in reversed(decorators):
        func = deco(func)
    return func

def region_options(many: bool = False, training: bool = False):
    """--regions, --genome, --off-edge (and for training --label-column, --background): read
    sequences from genome coordinates instead of a FASTA file."""
    def wrap(func):
        decorators = [
            click.option("--regions", multiple=many, type=click.Path(dir_okay=False),
                         default=None,
                         help="BED/narrowPeak regions read from --genome instead of a FASTA "
                              "file: windows of the model's length centred on the summit "
                              "(narrowPeak) or centre; '-' strand reverse complemented"
                              + ("; repeat for one file per class." if many else ".")),
            click.option("--genome", type=click.Path(dir_okay=False),
                         help="Genome FASTA (plain or bgzip; indexed with pyfaidx) for "
                              "--regions."),
            click.option("--off-edge", type=click.Choice(["pad", "drop"]), default="pad",
                         show_default=True,
                         help="--regions windows running off a chromosome end: pad with N "
                              "or drop."),
        ]
        if training:
            decorators += [
                click.option("--label-column", type=click.IntRange(min=1), default=None,
                             help="--regions: 1-based BED column holding each region's "
                                  "label."),
                click.option("--background", type=click.Choice(["gc-matched"]), default=None,
                             help="--regions: add a negative class of genome windows with "
                                  "the positives' GC distribution, overlapping none of them "
                                  "(seeded by --seed)."),
            ]
        for deco in reversed(decorators):
            func = deco(func)
        return func
    return wrap
