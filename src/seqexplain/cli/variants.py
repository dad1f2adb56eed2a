"""``seqexplain variants``: a model, a VCF and the genome → variant effects."""

from __future__ import annotations

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
    from ..variants import variants_files

    run = variants_files(model, vcf, genome, out, methods=methods, target=target,
                         logos=n_logos, motifs=motifs_dir, database=database,
                         alphabet=alphabet, n_references=n_references, batch_size=batch_size,
                         chunk_size=chunk_size, seed=seed, progress=not quiet, force=force)
    for line in run.summary():
        click.echo(line, err=True)
