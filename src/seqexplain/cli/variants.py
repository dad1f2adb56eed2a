"""``seqexplain variants``: a model, a VCF and the genome → variant effects."""

from __future__ import annotations

from pathlib import Path

import click

from . import main


@main.command("variants")
@click.argument("model", type=click.Path())
@click.option("--vcf", required=True, type=click.Path(dir_okay=False),
              help="Variants (VCF or bgzipped VCF; read with cyvcf2, streamed).")
@click.option("--genome", required=True, type=click.Path(dir_okay=False),
              help="Genome FASTA the VCF is on (plain or bgzip; indexed with pyfaidx).")
@click.option("-m", "--method", "methods", default=None,
              help="Also attribution maps of both alleles, comma-separated (e.g. "
                   "deepshap,ism): per-method columns and logos.")
@click.option("--target", help="Output whose effect sorts the table and fills the VCF INFO "
                               "[0; binary: the positive class].")
@click.option("--logos", "n_logos", type=click.IntRange(min=0), default=10, show_default=True,
              help="Paired ref/alt logos of the K variants of largest |effect| (with "
                   "--method).")
@click.option("--motifs", "motifs_dir", type=click.Path(file_okay=False),
              help="Output folder of `seqexplain motifs`: test its motifs (motifs.meme) for "
                   "instances the variants break or create.")
@click.option("--database", type=click.Path(dir_okay=False),
              help="Or known motifs (MEME/JASPAR file) to test.")
@click.option("--alphabet", type=click.Choice(["dna"]),
              help="A bare Keras model file: its channels are DNA.")
@click.option("--n-references", type=click.IntRange(min=1), default=20, show_default=True,
              help="DeepSHAP shuffles of the reference window, shared by both alleles.")
@click.option("--batch-size", type=click.IntRange(min=1), default=256, show_default=True)
@click.option("--chunk-size", type=click.IntRange(min=1), default=2000, show_default=True,
              help="VCF records read and scored at a time (bounds memory).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False),
              help="Output folder: variants.tsv, variants.vcf.gz, logos/.")
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def variants_command(model, vcf, genome, methods, target, n_logos, motifs_dir, database,
                     alphabet, n_references, batch_size, chunk_size, seed, quiet, out, force):
    """Effect of every variant of VCF under MODEL: reference and alternative windows centred
    on the variant, their logits, alt − ref and the log2 fold change of the probability for
    every output; optionally attributions of both alleles with paired logos, and the motif
    instance each variant breaks or creates. Multi-allelic records are split; symbolic alleles
    and REF alleles that do not match the genome are counted and skipped."""
    from .._tf import import_tensorflow
    from ..errors import SeqexplainError
    from ..outputs import atomic_dir, check_writable

    check_writable(out, force, kind="folder")
    if motifs_dir and database:
        raise click.UsageError("give --motifs or --database, not both")
    motif_file = None
    if motifs_dir:
        motif_file = Path(motifs_dir) / "motifs.meme"
        if not motif_file.is_file():
            raise SeqexplainError(f"{motifs_dir}: not a `seqexplain motifs` output folder "
                                  "(no motifs.meme)")
    elif database:
        motif_file = Path(database)
        if not motif_file.is_file():
            raise SeqexplainError(f"{database}: no such motif file (--database)")
    chosen = ()
    if methods:
        from ..attribution.registry import resolve_methods

        chosen = resolve_methods(methods)
    for path, what in ((vcf, "VCF"), (genome, "genome")):
        if not Path(path).exists():
            raise SeqexplainError(f"{path}: no such {what} file")
    from ..genome import open_genome
    from ..motif_io import read_motifs

    from ..variants import check_vcf_records

    g = open_genome(genome)  # a bad genome or VCF is reported before TensorFlow starts
    check_vcf_records(vcf)
    motifs = read_motifs(motif_file) if motif_file else None
    import_tensorflow()
    from ..bundle import load_model
    from ..explain import resolve_target
    from ..heads import column_names
    from ..variants import VariantSettings, write_variants

    bundle = load_model(model, alphabet)
    # several outputs: the default is the first column of the vector outputs
    if target is None and not bundle.single_output:
        chosen_target = 0
        bundle.tell_default_target(column_names(bundle.outputs)[0])
    else:
        chosen_target = resolve_target(bundle, target)
    settings = VariantSettings(target=chosen_target, methods=chosen,
                               logos=n_logos, n_references=n_references,
                               batch_size=batch_size, chunk_size=chunk_size, seed=seed)
    with atomic_dir(out, force=force) as tmp:
        table, report = write_variants(bundle, vcf, g, tmp, settings, motifs,
                                       progress=not quiet)
    click.echo(f"{out}: {report.line()}", err=True)
    if motifs is not None and len(table):
        click.echo(f"{out}: {int((table['motif_broken'] != '').sum())} variants break and "
                   f"{int((table['motif_created'] != '').sum())} create a motif instance",
                   err=True)
