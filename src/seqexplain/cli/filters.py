"""``seqexplain filters``: first-layer convolutional filters as motifs."""

from __future__ import annotations

from pathlib import Path

import click

from ..annotate import TAXA
from . import main
from .options import check_inputs, region_options, report_inputs


@main.command("filters")
@click.argument("model", type=click.Path())
@click.argument("fasta", required=False, type=click.Path(dir_okay=False))
@region_options()
@click.option("--alphabet", type=click.Choice(["dna", "rna", "protein"]),
              help="Channels of a bare Keras model file [dna for 4, protein for 20].")
@click.option("--target", help="Output whose logit the influence is measured on (index or "
                               "name; for several outputs NAME, NAME:CHANNEL, PROFILE[A:B]).")
@click.option("--max-sequences", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Sequences used (the first ones of FASTA).")
@click.option("--database", type=click.Path(dir_okay=False),
              help="Known motifs (MEME/JASPAR file) [JASPAR CORE from pyjaspar, DNA].")
@click.option("--jaspar-release", default="JASPAR2024", show_default=True)
@click.option("--taxon", default="vertebrates", show_default=True,
              type=click.Choice(TAXA), help="JASPAR taxon.")
@click.option("--logos", "n_logos", type=click.IntRange(min=0), default=None,
              help="PWM logos of the K most influential filters [all].")
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def filters_command(model, fasta, regions, genome, off_edge, alphabet, target, max_sequences,
                    database, jaspar_release, taxon, n_logos, out, force):
    """PWM of every first-layer filter of MODEL from the FASTA (or --regions) subsequences
    that activate it
    above half its maximum (DeepBind/Basset), with JASPAR matches and each filter's influence
    (logit change when it is switched off), most influential first."""
    from itertools import islice

    from .._tf import import_tensorflow
    from ..errors import SeqexplainError
    from ..outputs import atomic_dir, check_writable

    check_writable(out, force, kind="folder")
    check_inputs([fasta] if fasta else [], [regions] if regions else [], genome)
    if database and not Path(database).is_file():
        raise SeqexplainError(f"{database}: no such motif file")
    import_tensorflow()
    from ..bundle import load_model
    from ..explain import resolve_target
    from ..fasta import iter_fasta
    from ..filters import write_filters

    from ..genome import sequence_inputs

    bundle = load_model(model, alphabet)
    inputs = sequence_inputs([fasta] if fasta else [], [regions] if regions else [], genome,
                             length=bundle.length, off_edge=off_edge)
    report_inputs(inputs)
    fasta = inputs.sources[0]
    records = list(islice(iter_fasta(fasta), max_sequences))
    if not records:
        raise SeqexplainError(f"{fasta}: no sequences")
    enc = bundle.encode([r[2] for r in records], ids=[r[0] for r in records], source=str(fasta))
    with atomic_dir(out, force=force) as tmp:
        table = write_filters(bundle, enc.onehot, tmp, resolve_target(bundle, target),
                              database, jaspar_release, taxon, logos=n_logos)
    top = table.iloc[0] if len(table) else None
    click.echo(f"{out}: {len(table)} filters" + (
        f"; most influential {top['filter']} ({top['consensus']}"
        + (f", {top['best_match']}" if top["best_match"] else "") + ")" if top is not None
        else ""), err=True)
