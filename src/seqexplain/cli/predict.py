"""``seqexplain predict`` and ``seqexplain evaluate``."""

from __future__ import annotations


import click

from .._tf import import_tensorflow
from . import main
from .options import check_inputs, cluster_options, model_kwargs, model_options, \
    region_options, report_inputs


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
    from contextlib import nullcontext

    from ..genome import sequence_inputs
    from ..outputs import atomic_file, check_writable
    from ..prediction import profiles_path

    if resume and not cluster:
        raise click.UsageError("--resume needs --cluster (shards exist only in Dask runs)")
    if cluster and regions:
        raise click.UsageError("--cluster reads a FASTA file; --regions runs in one process "
                               "(leave out --cluster)")
    check_writable(out, force, kind="file")
    check_inputs([fasta] if fasta else [], [regions] if regions else [], genome)
    loading = model_kwargs(custom_objects, input_layout, profile_outputs)
    if cluster and any(loading.values()):
        raise click.UsageError("--cluster: Dask workers load the model file as it is (leave "
                               "out --custom-objects, --input-layout and --profile-output)")
    import_tensorflow()
    from ..bundle import load_model
    from ..prediction import predict_fasta

    bundle = load_model(model_dir, alphabet, **loading)
    profiles = profiles_path(out) if any(o.is_profile for o in bundle.outputs) else None
    if cluster:
        if profiles:
            raise click.UsageError("--cluster: a model with per-position outputs is predicted "
                                   "in one process (leave out --cluster)")
        from ..distributed import predict_fasta_dask

        with atomic_file(out, force=force) as tmp:
            result = predict_fasta_dask(bundle, model_dir, alphabet, fasta, tmp, cluster,
                                        batch_size=batch_size, resume=resume, force=force,
                                        shards=f"{out}.shards", progress=not quiet)
        result["shards"].remove()
        dask = result["dask"]
        click.echo(f"{out}: {result['n']} predictions ({dask['workers']} Dask workers, "
                   f"{dask['computed']} chunks computed, {dask['resumed']} resumed)", err=True)
        return
    inputs = sequence_inputs([fasta] if fasta else [], [regions] if regions else [], genome,
                             length=bundle.length, off_edge=off_edge)
    report_inputs(inputs)
    with atomic_file(out, force=force) as tmp, \
            (atomic_file(profiles, force=force, suffix=".npz") if profiles
             else nullcontext()) as tmp_profiles:
        n = predict_fasta(bundle, inputs.sources[0], tmp, batch_size=batch_size,
                          progress=not quiet, profiles_out=tmp_profiles)
    click.echo(f"{out}: {n} predictions" + (f"; per-position outputs in {profiles}"
                                            if profiles else ""), err=True)


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
    from ..outputs import atomic_file, check_writable, write_json

    if out:
        check_writable(out, force, kind="file")
    check_inputs(list(fasta), list(regions), genome, label_column=label_column,
                 background=background)
    import_tensorflow()
    from ..bundle import ModelBundle
    from ..genome import sequence_inputs
    from ..prediction import evaluate_fasta

    bundle = ModelBundle.load(model_dir)
    source_classes = None
    if background is not None:  # held-out positives against drawn background
        if bundle.task != "binary" or labels:
            raise click.UsageError("--background labels the regions as the positive class of "
                                   "a binary model and the drawn windows as its negative "
                                   "class" + (" (not with --labels)" if labels else
                                              f"; {model_dir} is a {bundle.task} model"))
        source_classes = [bundle.class_names[-1], bundle.class_names[0]]
        click.echo(f"labels: {regions[0]} windows as {source_classes[0]!r}, background as "
                   f"{source_classes[1]!r}", err=True)
    inputs = sequence_inputs(list(fasta), list(regions), genome, length=bundle.length,
                             off_edge=off_edge, label_column=label_column,
                             background=background)
    report_inputs(inputs)
    metrics = evaluate_fasta(bundle, inputs.sources, labels, source_classes)
    for key, value in metrics.items():
        if isinstance(value, float):
            click.echo(f"{key:<14}{value:.4f}")
        elif not isinstance(value, dict):
            click.echo(f"{key:<14}{value}")
    if out:
        with atomic_file(out, force=force) as tmp:
            write_json(tmp, metrics)
