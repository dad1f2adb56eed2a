"""``seqexplain explain`` and ``seqexplain export-modisco``."""

from __future__ import annotations

import click

from ..annotate import TAXA
from ..attribution.registry import METHODS
from . import main
from .options import check_window_option, cluster_options, method_options, model_kwargs, \
    model_options, region_options


@main.command("explain")
@click.argument("model", type=click.Path())
@click.argument("fasta", required=False, type=click.Path(dir_okay=False))
@region_options()
@click.option("-m", "--method", "methods", default="deepshap", show_default=True,
              help="Comma-separated, from the method table: " + ", ".join(METHODS) + ".")
@click.option("--alphabet", type=click.Choice(["dna", "rna", "protein"]),
              help="Channels of a bare Keras model file [dna for 4, protein for 20].")
@model_options
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
@click.option("--grammar", "with_grammar", is_flag=True,
              help="With --motifs: also measure what the motifs found do (`seqexplain "
                   "grammar` on them, 100 dinucleotide shuffles of the inputs) into "
                   "OUT/grammar/.")
@click.option("--motif-method", default=None,
              help="Scores used by --motifs [deepshap if computed, else the first method].")
@click.option("--database", type=click.Path(dir_okay=False),
              help="--motifs: MEME/JASPAR file of known motifs [JASPAR CORE, pyjaspar].")
@click.option("--taxon", default="vertebrates", show_default=True,
              type=click.Choice(TAXA), help="--motifs: JASPAR taxon.")
@click.option("--tracks", "with_tracks", is_flag=True,
              help="With --regions: also write OUT/tracks/METHOD.bw, each base's "
                   "contribution as a bigWig (as `seqexplain tracks`).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False),
              help="Output folder.")
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@cluster_options
def explain_command(model, fasta, regions, genome, off_edge, methods, alphabet,
                    custom_objects, input_layout, profile_outputs, fmt, modisco_method,
                    n_logos, logo_window, with_motifs, with_grammar, motif_method, database,
                    taxon, with_tracks, quiet, out, force, cluster, resume, **options):
    """Attribution scores of every record of FASTA (or every --regions window of --genome)
    under MODEL (a model folder, a Keras .keras/.h5 file or a TF SavedModel folder), written
    to OUT/attributions.npz. MODEL may be several models, PATH,PATH,… (folds): their scores
    are averaged per sequence before logos, motifs and tracks."""
    from ..explain_run import explain_files

    result = explain_files(model, fasta, out=out, methods=methods, alphabet=alphabet,
                           regions=regions, genome=genome, off_edge=off_edge, fmt=fmt,
                           logos=n_logos, logo_window=logo_window, motifs=with_motifs,
                           grammar=with_grammar, motif_method=motif_method,
                           database=database, taxon=taxon,
                           modisco=modisco_method, tracks=with_tracks, cluster=cluster,
                           resume=resume, force=force, progress=not quiet,
                           **model_kwargs(custom_objects, input_layout, profile_outputs),
                           **options)
    for line in result.summary():
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
    from ..exports import export_modisco

    written = export_modisco(attributions, out, method, target=target, force=force)
    click.echo(f"modisco motifs -s {out}/ohe.npz -a {out}/shap.npz -n 2000 "
               f"-w {written.length}", err=False)
