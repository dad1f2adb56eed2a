"""``explain_files``: a model and sequences (a FASTA file, or regions of a genome) → an output
folder, everything ``seqexplain explain`` writes.

::

    OUT/attributions.npz     the scores file (explain.py; chunks on Dask with ``cluster``)
    OUT/logos/               logos of the ``logos`` sequences with the highest output
    OUT/motifs/[TARGET/]     motifs of ``motif_method``'s scores (``motifs=True``)
    OUT/grammar/[TARGET/]    what those motifs do (``grammar=True``; grammar.py)
    OUT/modisco/[TARGET/]    TF-MoDISco's inputs (``modisco=METHOD``; exports.py)
    OUT/tracks/              a bigWig per method [and target] (``tracks=True``, regions only;
                             tracks.py)

With several targets (``target="all"`` or ``"a,b"``), motifs and MoDISco inputs get one
folder per target. The folder is written atomically: on any error nothing is left.

The verb lives apart from :mod:`seqexplain.explain` (the FASTA → scores-file pipeline) because
it sits above the logos, the motif pipeline and Dask, which import that module; and it is not
called ``explain`` because ``seqexplain.explain`` is a module (a public name equal to a module
name would be replaced by the module when it is first imported).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import OptionError, SeqexplainError

log = logging.getLogger("seqexplain")
#: formats of the scores file (``attributions.npz``, ``attributions.h5``)
FORMATS = ("npz", "h5")


@dataclass(frozen=True)
class ExplainResult:
    """What :func:`explain_files` did.

    ``out``: the folder as given; ``path``: the scores file in it; ``n`` sequences of
    ``length`` positions; ``methods`` (canonical names) and ``targets`` (names) explained;
    ``seconds`` (the attribution pass, Dask's included); ``max_abs_delta``: the largest
    completeness error per method; ``dask``: workers and chunks computed/resumed (``None``
    without a cluster); ``motif_lines``: one summary line per motif folder."""

    out: str
    path: Path
    n: int
    length: int
    methods: tuple[str, ...]
    targets: list[str]
    seconds: float
    max_abs_delta: dict[str, float] = field(default_factory=dict)
    dask: dict | None = None
    motif_lines: list[str] = field(default_factory=list)
    models: int = 1

    def summary(self) -> list[str]:
        """The lines ``seqexplain explain`` prints: the scores file, then each motif folder."""
        rate = self.n / max(self.seconds, 1e-9)
        where = ""
        if self.dask is not None:
            where = (f", {self.dask['workers']} Dask workers, {self.dask['computed']} chunks "
                     f"computed, {self.dask['resumed']} resumed")
        listed = f", targets {', '.join(self.targets)}" if len(self.targets) > 1 else ""
        if self.models > 1:
            listed += f", mean over {self.models} models"
        return [f"{self.out}/{self.path.name}: {self.n} sequences × {self.length} positions, "
                f"methods {', '.join(self.methods)}{listed} ({rate:.0f} sequences/s{where})",
                *self.motif_lines]


def _grammar(bundle, fasta, tmp: Path, folder: str, target: str, several: bool, seed: int,
             out) -> str:
    """The grammar study of the motifs just written to ``tmp/motifs/folder`` → ``tmp/grammar/
    folder``; its summary line."""
    from .experiments import shuffled_backgrounds
    from .fasta import read_fasta
    from .grammar import read_motif_spec, run_grammar, summary_line, write_grammar

    shown = f"{out}/grammar/{folder}" if several else f"{out}/grammar"
    motifs_file = tmp / "motifs" / folder / "motifs.meme"
    if not motifs_file.is_file() or "MOTIF" not in motifs_file.read_text():
        return f"{shown}: no motifs were found, so no grammar study"
    records = read_fasta(fasta)
    X = bundle.encode(list(records.sequences), ids=list(records.ids)).onehot
    backgrounds = shuffled_backgrounds(X, 100, random_state=seed)
    result = run_grammar(bundle, backgrounds, read_motif_spec(str(motifs_file.parent)),
                         target=target if several else None, seed=seed)
    (tmp / "grammar" / folder).mkdir(parents=True)
    write_grammar(result, tmp / "grammar" / folder)
    return summary_line(shown, result)


def explain_files(model, inputs=None, *, out, methods="deepshap", target=None,
                  alphabet: str | None = None, regions=None, genome=None,
                  off_edge: str = "pad", fmt: str = "npz", logos: int = 10,
                  logo_window: str = "auto", motifs: bool = False,
                  motif_method: str | None = None, database=None,
                  taxon: str = "vertebrates", grammar: bool = False,
                  modisco: str | None = None, tracks: bool = False,
                  cluster: str | None = None, resume: bool = False, force: bool = False,
                  progress: bool = True, custom_objects=None, input_layout: str | None = None,
                  profile_outputs=None, **options) -> ExplainResult:
    """Explain every record of ``inputs`` (a FASTA path), or every ``regions`` window of
    ``genome``, under ``model`` and write the folder ``out`` (see the module's table).

    Parameters
    ----------
    model : a model folder or a Keras ``.keras``/``.h5`` file (a path, which Dask workers
        load with ``cluster``), or, without ``cluster``, anything
        :func:`~seqexplain.bundle.load_model` takes; or several models (folds: a list, or
        paths separated by commas, :func:`~seqexplain.bundle.load_models`), not with
        ``cluster`` or ``grammar``: each method's scores, hypothetical scores and deltas,
        and the logits and predictions, are then the mean over the models sequence by
        sequence (the same references for all), before logos, motifs, hits, MoDISco inputs
        and tracks; the file records the models (``models``, ``settings``'s
        ``mean_over_models``).
    inputs : a FASTA file; or ``None`` with ``regions`` (a BED/narrowPeak file) and
        ``genome`` (its genome FASTA), windows of the model's length (``off_edge``: "pad" or
        "drop" those running off a chromosome).
    out : the output folder; replaced only with ``force``.
    methods : names or aliases of the method table, a list or a comma-separated string.
    target : the output(s) explained (see :mod:`seqexplain.heads`); ``None``: the model's
        default.
    alphabet : the channels of a bare Keras file (dna, rna, protein).
    fmt : "npz" or "h5" (``attributions.h5``).
    logos, logo_window : draw ``OUT/logos/`` for the K sequences with the highest explained
        output (0: none), in this window (see :func:`~seqexplain.logos.write_logos`).
    motifs, motif_method, database, taxon : also find motifs (``OUT/motifs/``) from
        ``motif_method``'s scores [deepshap if computed, else the first method], annotated
        against ``database`` [JASPAR CORE of ``taxon``].
    grammar : with ``motifs``, also run the grammar study (:mod:`seqexplain.grammar`) on the
        motifs found (``OUT/grammar/``, per target as motifs): their marginal effects,
        spacing and orientation of the top pairs, and dosage, on 100 dinucleotide shuffles of
        the inputs.
    modisco : also write TF-MoDISco's inputs (``OUT/modisco/``) from this method's
        hypothetical scores.
    tracks : with ``regions``, also write ``OUT/tracks/``: a bigWig of each base's
        contribution per method (and target), :mod:`seqexplain.tracks`.
    cluster, resume : run chunks as Dask tasks (``"local"``, ``"local:N"`` or a scheduler
        address; shards in ``OUT.shards/``); ``resume`` keeps an interrupted run's shards.
    progress : show a progress bar.
    custom_objects, input_layout, profile_outputs : how a bare model file is read (see
        :func:`~seqexplain.bundle.load_model`); not with ``cluster``.
    **options : the methods' options, fields of
        :class:`~seqexplain.attribution.options.MethodSettings` (``output``, ``references`` — a
        kind or a FASTA file —, ``n_references``, ``correct``, ``ig_steps``,
        ``batch_size``, ``chunk_size``, ``seed``); ``None`` values take the defaults.

    Returns
    -------
    ExplainResult

    Raises
    ------
    OptionError : a wrong option or combination, found before any work.
    SeqexplainError : a bad file or record; nothing is written.
    """
    from ._tf import import_tensorflow
    from .attribution.options import REFERENCE_KINDS, MethodSettings
    from .attribution.registry import resolve_method, resolve_methods
    from .distributed import check_cluster_options
    from .genome import check_input_option
    from .logos import check_window
    from .outputs import atomic_dir, check_writable

    known = {f.name for f in fields(MethodSettings)}
    for name in options:
        if name not in known:
            raise OptionError(f"explain_files has no option {name!r}; the methods' options "
                              f"are {', '.join(sorted(known))}")
    options = {k: v for k, v in dict(options, target=target).items() if v is not None}
    references = options.get("references", "shuffle")
    from .bundle import split_models

    folds = len(split_models(model)) > 1
    if folds and cluster:
        raise OptionError("--cluster runs one model; several models (MODEL as PATH,PATH,…) "
                          "are averaged in one process (leave out --cluster)")
    if folds and grammar:
        raise OptionError("--grammar studies one model; with several models run seqexplain "
                          "grammar on each")
    if tracks and not regions:
        raise OptionError("--tracks needs --regions and --genome (tracks are in genome "
                          "coordinates)")
    check_cluster_options(cluster, resume=resume, regions=regions, model=model,
                          loading=bool(custom_objects or input_layout or profile_outputs))
    if custom_objects is not None and not isinstance(custom_objects, dict) \
            and not Path(custom_objects).is_file():
        raise OptionError(f"{custom_objects}: no such Python file", "--custom-objects")
    if cluster:
        from .distributed import parse_cluster

        try:
            parse_cluster(cluster)
        except SeqexplainError as exc:
            raise OptionError(str(exc).split(": ", 1)[-1], "--cluster") from None
    try:
        check_window(logo_window)
    except SeqexplainError as exc:
        raise OptionError(str(exc), "--logo-window") from None
    if fmt not in FORMATS:
        raise OptionError(f"{fmt!r}: choose one of {', '.join(FORMATS)}", "--format")
    check_writable(out, force, kind="folder")
    fastas, region_files = [inputs] if inputs else [], [regions] if regions else []
    check_input_option(fastas, region_files, genome)
    if isinstance(references, str) and references not in REFERENCE_KINDS \
            and not Path(references).is_file():
        raise OptionError(f"{references!r}: not shuffle, zero, uniform or an existing FASTA "
                          "file", "--references")
    if database and not Path(database).is_file():
        raise SeqexplainError(f"{database}: no such motif file (--database)")
    # method names are checked from the method table before TensorFlow starts
    chosen = resolve_methods(methods)
    if motifs:
        motif_method = resolve_method(motif_method).name if motif_method else (
            "deepshap" if "deepshap" in chosen else chosen[0])
        if motif_method not in chosen:
            raise OptionError(f"--motif-method {motif_method}: that method is not in "
                              "--method")
    if grammar and not motifs:
        raise OptionError("--grammar studies the motifs found: add --motifs")
    if modisco:
        modisco_name = resolve_method(modisco).name
        if modisco_name not in chosen:
            raise OptionError(f"--modisco {modisco}: that method is not in --method")

    import_tensorflow()
    from .attributions import Attributions
    from .bundle import load_models
    from .explain import ExplainSettings, explain_fasta, read_references
    from .exports import write_modisco
    from .genome import sequence_inputs
    from .logos import safe_name

    bundles = load_models(model, alphabet, custom_objects=custom_objects,
                          input_layout=input_layout, profile_outputs=profile_outputs)
    bundle = bundles[0]
    bundle.targets(options.get("target"))  # checked before any work
    found = sequence_inputs(fastas, region_files, genome, length=bundle.length,
                            off_edge=off_edge)
    for note in found.notes:
        log.info(note)
    fasta = found.sources[0]
    refs = references
    if isinstance(references, str) and references not in REFERENCE_KINDS:
        refs = read_references(references, bundle.alphabet, bundle.length,
                               bundle.metadata["input"]["unknown"])
    settings = ExplainSettings(methods=chosen, **options)
    name = f"attributions.{fmt}"
    with atomic_dir(out, force=force) as tmp:
        if cluster:
            from .distributed import explain_fasta_dask

            summary = explain_fasta_dask(bundle, model, alphabet, fasta, tmp / name, settings,
                                         cluster, references=refs, resume=resume, force=force,
                                         shards=f"{out}.shards", progress=progress,
                                         keep_top=logos)
        else:
            summary = explain_fasta(bundles if folds else bundle, fasta, tmp / name,
                                    settings, references=refs,
                                    progress=progress, keep_top=logos)
        if logos:
            from .logos import write_logos

            (tmp / "logos").mkdir()
            write_logos(summary["top"], tmp / "logos", top=logos, window=logo_window,
                        source=str(fasta))
        # one target: OUT/motifs, OUT/modisco; several: a folder per target inside them
        several = len(summary["targets"]) > 1
        taken: set[str] = set()
        folders = {t: safe_name(t, taken) if several else "" for t in summary["targets"]}
        motif_lines = []
        if motifs:
            from .motifs import MotifSettings
            from .motifs.pipeline import run_and_write, summary_line

            for t, folder in folders.items():
                (tmp / "motifs" / folder).mkdir(parents=True)
                result, table = run_and_write(
                    Attributions.read(tmp / name, [motif_method], target=t if several
                                      else None), tmp / "motifs" / folder,
                    MotifSettings(method=motif_method, seed=settings.seed), str(fasta),
                    model=[b.model for b in bundles] if folds else bundle.model,
                    database=database, taxon=taxon)
                shown = f"{out}/motifs/{folder}" if several else f"{out}/motifs"
                motif_lines.append(summary_line(shown, result, table))
                if grammar:
                    motif_lines.append(_grammar(bundle, fasta, tmp, folder, t, several,
                                                settings.seed, out))
        if modisco:
            for t, folder in folders.items():
                (tmp / "modisco" / folder).mkdir(parents=True)
                write_modisco(Attributions.read(tmp / name, [modisco_name], delta=False,
                                                target=t if several else None),
                              modisco_name, tmp / "modisco" / folder)
        if tracks:
            from .tracks import chrom_sizes, genome_layout, write_tracks

            (tmp / "tracks").mkdir()
            layout = None
            for t in summary["targets"]:
                data = Attributions.read(tmp / name, chosen, hypothetical=False,
                                         delta=False, target=t if several else None)
                if layout is None:
                    layout = genome_layout(data, chrom_sizes(genome))
                write_tracks(data, tmp / "tracks", None, chosen, layout=layout,
                             suffix=f".{folders[t]}" if several else "")
    if cluster:
        summary["shards"].remove()
    return ExplainResult(out=os.fspath(out), path=Path(os.fspath(out)) / name, n=summary["n"],
                         length=summary["length"], methods=chosen,
                         targets=summary["targets"], seconds=summary["seconds"],
                         max_abs_delta=summary["max_abs_delta"],
                         dask=summary.get("dask"), motif_lines=motif_lines,
                         models=len(bundles))
