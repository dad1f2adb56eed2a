"""``seqexplain motifs``: motifs from an attributions file."""

from __future__ import annotations

import click

from ..annotate import DEFAULT_RELEASE, TAXA
from ..motifs import MotifSettings
from . import main


def motif_options(func):
    """The options of ``seqexplain motifs`` (defaults: :class:`MotifSettings`)."""
    decorators = [
        click.option("--database", type=click.Path(dir_okay=False),
                     help="Known motifs to annotate against (MEME or JASPAR file) [JASPAR CORE "
                          "from pyjaspar, offline]."),
        click.option("--jaspar-release", default=DEFAULT_RELEASE, show_default=True,
                     help="JASPAR release bundled with pyjaspar."),
        click.option("--taxon", default="vertebrates", show_default=True,
                     type=click.Choice(TAXA), help="JASPAR taxon (all: every taxon)."),
        click.option("--fdr", type=click.FloatRange(0, 1, min_open=True), default=MotifSettings.fdr,
                     show_default=True, help="Seqlet false discovery rate."),
        click.option("--hit-fdr", type=click.FloatRange(0, 1, min_open=True),
                     default=MotifSettings.hit_fdr,
                     show_default=True,
                     help="Motif map: false discovery rate of the windows matched to the "
                          "motifs (looser than --fdr, which calls the seqlets motifs are "
                          "discovered from)."),
        click.option("--engine", type=click.Choice(["seqexplain", "modisco"]),
                     default=MotifSettings.engine, show_default=True,
                     help="Motif discovery: ours, or TF-MoDISco (modisco-lite, its defaults; "
                          "DNA only) on the same scores. Annotation, support and maps are "
                          "the same for both."),
        click.option("--seqlet-null", type=click.Choice(["shuffled", "laplace"]),
                     default=MotifSettings.seqlet_null, show_default=True,
                     help="Seqlet thresholds: empirical FDR against the attributions of "
                          "dinucleotide-shuffled sequences (needs the model), or a Laplace "
                          "null fitted to the weakest windows (used with --no-support)."),
        click.option("--seqlet-width", type=click.IntRange(min=3), default=None,
                     help="Seqlet core width [19 DNA/RNA, 9 protein]."),
        click.option("--similarity", type=click.FloatRange(0, 1), default=MotifSettings.similarity,
                     show_default=True, help="Clustering cut and assignment threshold "
                                             "(mean cosine of contributions and hypothetical)."),
        click.option("--min-seqlets", type=click.IntRange(min=2), default=MotifSettings.min_seqlets,
                     show_default=True, help="Smallest motif (seqlets)."),
        click.option("--max-seqlets", type=click.IntRange(min=10),
                     default=MotifSettings.max_seqlets,
                     show_default=True, help="Seqlets clustered per sign (random sample)."),
        click.option("--null-size", type=click.IntRange(min=10), default=MotifSettings.null_size,
                     show_default=True, help="Shuffled sequences in the null pipeline."),
        click.option("--no-support", is_flag=True,
                     help="Skip the support tests (null pipeline, output change)."),
        click.option("--maps", "n_maps", type=click.IntRange(min=0), default=10,
                     show_default=True, help="Motif-map figures of the top K sequences."),
    ]
    for deco in reversed(decorators):
        func = deco(func)
    return func


@main.command("motifs")
@click.argument("attributions", type=click.Path(dir_okay=False), required=False)
@click.option("--compare", nargs=2, type=click.Path(), default=None, metavar="A B",
              help="Compare the motifs of A and B (each a motifs folder, a MEME/JASPAR file "
                   "or a scores file, whose motifs are discovered with these options into "
                   "OUT/a, OUT/b): OUT/compare.tsv, the motifs shared, only in A and only "
                   "in B (TOMTOM).")
@click.option("-m", "--method", default="deepshap", show_default=True,
              help="Attribution method whose scores are used.")
@click.option("--target", help="In an attributions file of several targets (explain --target "
                               "all): the one whose scores are used.")
@click.option("--model", "model_path", type=click.Path(),
              help="Model for the support tests [the one recorded by seqexplain explain].")
@motif_options
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def motifs_command(attributions, compare, method, target, model_path, database, jaspar_release,
                   taxon, fdr, hit_fdr, engine, seqlet_null, seqlet_width, similarity,
                   min_seqlets, max_seqlets, null_size, no_support, n_maps, seed, out, force):
    """Motifs learned by the model: seqlets of high attribution in ATTRIBUTIONS are clustered
    into motifs, matched to known motifs (TOMTOM vs JASPAR), tested against a shuffled-sequence
    null and mapped on every sequence. With --compare A B (no ATTRIBUTIONS): the motifs of two
    runs matched to each other."""
    from ..errors import OptionError

    if (attributions is None) == (compare is None):
        raise OptionError("give ATTRIBUTIONS, or --compare A B (not both)", option="--compare")
    if compare:
        from ..motif_compare import compare_runs

        if model_path:
            raise OptionError("--model is for one scores file; with --compare each scores "
                              "file uses the model it records", option="--model")
        run = compare_runs(*compare, out, method=method, target=target, database=database,
                           jaspar_release=jaspar_release, taxon=taxon, support=not no_support,
                           maps=n_maps, force=force, width=seqlet_width, fdr=fdr,
                           hit_fdr=hit_fdr, engine=engine, seqlet_null=seqlet_null,
                           similarity=similarity, min_seqlets=min_seqlets,
                           max_seqlets=max_seqlets, null_size=null_size, seed=seed)
        click.echo(run, err=True)
        return
    from ..motifs.pipeline import motifs_files

    run = motifs_files(attributions, out, method=method, target=target, model=model_path,
                       database=database, jaspar_release=jaspar_release, taxon=taxon,
                       support=not no_support, maps=n_maps, force=force, width=seqlet_width,
                       fdr=fdr, hit_fdr=hit_fdr, engine=engine, seqlet_null=seqlet_null,
                       similarity=similarity, min_seqlets=min_seqlets,
                       max_seqlets=max_seqlets, null_size=null_size, seed=seed)
    click.echo(run.summary(), err=True)
