"""``seqexplain explain`` and ``seqexplain export-modisco``."""

from __future__ import annotations

from pathlib import Path

import click

from .._tf import import_tensorflow
from ..annotate import TAXA
from ..errors import SeqexplainError
from . import main
from ..attribution.registry import METHODS
from .options import (check_inputs, check_window_option, cluster_options, method_options,
                      region_options, report_inputs)


@main.command("explain")
@click.argument("model", type=click.Path())
@click.argument("fasta", required=False, type=click.Path(dir_okay=False))
@region_options()
@click.option("-m", "--method", "methods", default="deepshap", show_default=True,
              help="Comma-separated, from the method table: " + ", ".join(METHODS) + ".")
@click.option("--alphabet", type=click.Choice(["dna", "rna", "protein"]),
              help="Channels of a bare Keras model file [dna for 4, protein for 20].")
@method_options
@click.option("--format", "fmt", type=click.Choice(["npz", "h5"]), default="npz",
              show_default=True, help="attributions.npz, or attributions.h5 (HDF5, chunked).")
@click.option("--modisco", "modisco_method", default=None,
              help="Also write OUT/modisco/ohe.npz and shap.npz for TF-MoDISco from this "
                   "method's hypothetical scores (e.g. deepshap); with several targets, "
                   "OUT/modisco/TARGET/ for each.")
@click.option("--logos", "n_logos", type=click.IntRange(min=0), default=10, show_default=True,
              help="Draw OUT/logos/ for the K sequences with the highest explained output "
                   "(0: none).")
@click.option("--logo-window", default="auto", show_default=True,
              callback=check_window_option,
              help="Window of those logos: full, START:END, auto or auto:WIDTH (see "
                   "`seqexplain logo`).")
@click.option("--motifs", "with_motifs", is_flag=True,
              help="Also discover, annotate and map motifs into OUT/motifs/ (as `seqexplain "
                   "motifs`, with its defaults) from --motif-method's scores; with several "
                   "targets, OUT/motifs/TARGET/ for each.")
@click.option("--motif-method", default=None,
              help="Scores used by --motifs [deepshap if computed, else the first method].")
@click.option("--database", type=click.Path(dir_okay=False),
              help="--motifs: MEME/JASPAR file of known motifs [JASPAR CORE, pyjaspar].")
@click.option("--taxon", default="vertebrates", show_default=True,
              type=click.Choice(TAXA), help="--motifs: JASPAR taxon.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False),
              help="Output folder.")
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@cluster_options
def explain_command(model, fasta, regions, genome, off_edge, methods, alphabet, fmt,
                    modisco_method, n_logos, logo_window, with_motifs, motif_method, database,
                    taxon, quiet, out, force, cluster, resume, **options):
    """Attribution scores of every record of FASTA (or every --regions window of --genome)
    under MODEL (a model folder or a Keras .keras/.h5 file), written to
    OUT/attributions.npz."""
    from ..outputs import atomic_dir, check_writable

    references, target, seed = options["references"], options["target"], options["seed"]

    if resume and not cluster:
        raise click.UsageError("--resume needs --cluster (shards exist only in Dask runs)")
    if cluster and regions:
        raise click.UsageError("--cluster reads a FASTA file; --regions runs in one process "
                               "(leave out --cluster)")
    check_writable(out, force, kind="folder")
    check_inputs([fasta] if fasta else [], [regions] if regions else [], genome)
    from ..attribution.registry import REFERENCE_KINDS, resolve_method, resolve_methods

    if references not in REFERENCE_KINDS and not Path(references).is_file():
        raise click.BadParameter(f"{references!r}: not shuffle, zero, uniform or an existing "
                                 "FASTA file", param_hint="'--references'")
    if database and not Path(database).is_file():
        raise SeqexplainError(f"{database}: no such motif file (--database)")
    # method names are checked from the method table before TensorFlow starts
    chosen = resolve_methods(methods)
    if with_motifs:
        motif_method = resolve_method(motif_method).name if motif_method else (
            "deepshap" if "deepshap" in chosen else chosen[0])
        if motif_method not in chosen:
            raise click.UsageError(f"--motif-method {motif_method}: that method is not in "
                                   "--method")
    if modisco_method and resolve_method(modisco_method).name not in chosen:
        raise click.UsageError(f"--modisco {modisco_method}: that method is not in --method")
    import_tensorflow()
    from ..attributions import Attributions
    from ..bundle import load_model
    from ..logos import safe_name
    from ..explain import ExplainSettings, explain_fasta, read_references

    from ..genome import sequence_inputs

    bundle = load_model(model, alphabet)
    bundle.targets(target)  # checked before any work
    inputs = sequence_inputs([fasta] if fasta else [], [regions] if regions else [], genome,
                             length=bundle.length, off_edge=off_edge)
    report_inputs(inputs)
    fasta = inputs.sources[0]
    refs = references
    if references not in REFERENCE_KINDS:
        refs = read_references(references, bundle.alphabet, bundle.length,
                               bundle.metadata["input"]["unknown"])
    settings = ExplainSettings(methods=chosen, **{k: v for k, v in options.items()
                                                  if v is not None})
    with atomic_dir(out, force=force) as tmp:
        name = f"attributions.{fmt}"
        if cluster:
            from ..distributed import explain_fasta_dask

            summary = explain_fasta_dask(bundle, model, alphabet, fasta, tmp / name, settings,
                                         cluster, references=refs, resume=resume, force=force,
                                         shards=f"{out}.shards", progress=not quiet,
                                         keep_top=n_logos)
        else:
            summary = explain_fasta(bundle, fasta, tmp / name, settings, references=refs,
                                    progress=not quiet, keep_top=n_logos)
        if n_logos:
            from ..logos import write_logos

            (tmp / "logos").mkdir()
            write_logos(summary["top"], tmp / "logos", top=n_logos, window=logo_window,
                        source=str(fasta))
        # one target: OUT/motifs, OUT/modisco; several: a folder per target inside them
        several = len(summary["targets"]) > 1
        taken: set[str] = set()
        folders = {t: safe_name(t, taken) if several else "" for t in summary["targets"]}
        motif_lines = []
        if with_motifs:
            from ..motifs import MotifSettings
            from ..motifs.pipeline import run_and_write, summary_line

            for t, folder in folders.items():
                (tmp / "motifs" / folder).mkdir(parents=True)
                result, table = run_and_write(
                    Attributions.read(tmp / name, [motif_method], target=t if several
                                      else None), tmp / "motifs" / folder,
                    MotifSettings(method=motif_method, seed=seed), str(fasta),
                    model=bundle.model, database=database, taxon=taxon)
                shown = f"{out}/motifs/{folder}" if several else f"{out}/motifs"
                motif_lines.append(summary_line(shown, result, table))
        if modisco_method:
            modisco = resolve_method(modisco_method).name
            for t, folder in folders.items():
                (tmp / "modisco" / folder).mkdir(parents=True)
                Attributions.read(tmp / name, [modisco], delta=False,
                                  target=t if several else None).export_modisco(
                    modisco, tmp / "modisco" / folder)
    rate = summary["n"] / max(summary["seconds"], 1e-9)
    where = ""
    if cluster:
        summary["shards"].remove()
        dask = summary["dask"]
        where = (f", {dask['workers']} Dask workers, {dask['computed']} chunks computed, "
                 f"{dask['resumed']} resumed")
    listed = f", targets {', '.join(summary['targets'])}" if several else ""
    click.echo(f"{out}/{name}: {summary['n']} sequences × {summary['length']} positions, "
               f"methods {', '.join(chosen)}{listed} ({rate:.0f} sequences/s{where})", err=True)
    for line in motif_lines:
        click.echo(line, err=True)


@main.command("export-modisco")
@click.argument("attributions", type=click.Path(dir_okay=False))
@click.option("-m", "--method", default="deepshap", show_default=True)
@click.option("--target", help="In an attributions file of several targets (explain --target "
                               "all or a list): the target to export.")
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False))
@click.option("--force", is_flag=True)
def export_modisco_command(attributions, method, target, out, force):
    """Write OUT/ohe.npz and OUT/shap.npz (channels first) for
    `modisco motifs -s OUT/ohe.npz -a OUT/shap.npz -n 2000 -w LENGTH`."""
    from ..attribution.registry import resolve_method
    from ..attributions import Attributions
    from ..outputs import atomic_dir, check_writable

    check_writable(out, force, kind="folder")
    method = resolve_method(method).name
    data = Attributions.read(attributions, [method], delta=False, target=target)
    with atomic_dir(out, force=force) as tmp:
        data.export_modisco(method, tmp)
    click.echo(f"modisco motifs -s {out}/ohe.npz -a {out}/shap.npz -n 2000 "
               f"-w {data.length}", err=False)
