"""``seqexplain design``: the fewest edits that make MODEL say what --goal asks."""

from __future__ import annotations

import click

from . import main
from .options import region_options


@main.command("design")
@click.argument("model", type=click.Path())
@click.argument("inputs", required=False, type=click.Path(exists=True, dir_okay=False))
@region_options()
@click.option("--goal", required=True,
              help="max, min, value:V, or specific:A>B (target A high, B low).")
@click.option("--target", help="Target of max/min/value (index or name; for several outputs "
                                "NAME, NAME:CHANNEL, PROFILE[A:B]) [the first].")
@click.option("--threshold", type=float,
              help="Bar of max/min/specific: a sequence stops once it gets there (met).")
@click.option("--tolerance", type=click.FloatRange(min=0), default=0.01, show_default=True,
              help="How close to V a value:V goal must get.")
@click.option("--method", type=click.Choice(["greedy", "motif", "ledidi"]), default="greedy",
              show_default=True, help="greedy: best single substitution per round (fast "
                                      "ISM); motif: write --motif at the best place; ledidi: "
                                      "a Gumbel-softmax relaxation with an edit penalty, "
                                      "then pruning and an exact local search.")
@click.option("--penalty", type=click.FloatRange(min=0), default=0.1, show_default=True,
              help="ledidi: λ, the loss of one edit in output units.")
@click.option("--prune", type=click.FloatRange(min=0),
              help="ledidi: revert every edit whose reversal costs less than this "
                   "[--penalty].")
@click.option("--max-edits", type=click.IntRange(min=0),
              help="Most substituted positions per sequence [greedy 10, motif no limit].")
@click.option("--beam", type=click.IntRange(min=1), default=1, show_default=True,
              help="Sequences kept per input each greedy round (beam search).")
@click.option("--mask", help="Positions never edited: START-END,… (0-based, half-open) or a "
                             "BED-like file of ID START END lines (with --regions also "
                             "CHROM START END in genome coordinates); lowercase letters of "
                             "INPUTS are kept too.")
@click.option("--soft-masked", is_flag=True,
              help="With --regions: the genome's lowercase (soft-masked) bases are never "
                   "edited.")
@click.option("--forbid", help="Sites never created, both strands: IUPAC strings separated by "
                               "commas (e.g. GAATTC,GGATCC).")
@click.option("--gc", help="GC fraction range every design keeps, LOW-HIGH (e.g. 0.4-0.6).")
@click.option("--motif", "motif", help="What --method motif writes: a sequence, or a JASPAR "
                                       "id or name (its consensus).")
@click.option("--copies", type=click.IntRange(min=1), default=1, show_default=True,
              help="Copies --method motif writes.")
@click.option("--motifs", help="Motifs that explain each edit (motif_created/broken): a "
                               "MEME/JASPAR file or comma-separated JASPAR ids or names.")
@click.option("--ensemble", type=click.Choice(["mean", "min"]), default="mean",
              show_default=True, help="Several models (MODEL as PATH,PATH,…): the goal on "
                                      "their mean, or on the worst model.")
@click.option("--output", "output", type=click.Choice(["prob", "logit"]), default="prob",
              show_default=True, help="Scores as the model gives them, or logits.")
@click.option("--logos", type=click.IntRange(min=0), default=5, show_default=True,
              help="Before/after attribution logos of the K best designs.")
@click.option("--alphabet", type=click.Choice(["dna", "rna", "protein"]),
              help="Channels of a bare Keras model file [dna for 4, protein for 20].")
@click.option("--batch-size", type=click.IntRange(min=1), default=256, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def design_command(model, inputs, regions, genome, off_edge, goal, target, threshold, tolerance, method, penalty, prune,
                   max_edits, beam,
                   mask, soft_masked, forbid, gc, motif, copies, motifs, ensemble, output, logos, alphabet,
                   batch_size, seed, out, force):
    """Edit the sequences of INPUTS (FASTA; or the --regions windows of --genome) until
    MODEL meets --goal: OUT/designed.fa,
    OUT/edits.tsv (every edit, the motif it creates or breaks), OUT/trajectory.tsv and
    trajectory.png, OUT/designs.tsv (met or why not, per sequence) and OUT/logos/."""
    from ..sequence_design import design_files, summary_line

    result = design_files(model, inputs, out, goal=goal, force=force, mask=mask, logos=logos,
                          regions=regions, genome=genome, off_edge=off_edge,
                          soft_masked=soft_masked,
                          alphabet=alphabet, target=target, threshold=threshold,
                          tolerance=tolerance, method=method, max_edits=max_edits, beam=beam,
                          forbidden=forbid or (), gc=gc, motif=motif, copies=copies,
                          motifs=motifs, ensemble=ensemble, output=output,
                          ledidi=dict(penalty=penalty, prune=prune) if method == "ledidi"
                          else None,
                          batch_size=batch_size, random_state=seed)
    click.echo(summary_line(out, result), err=True)
