"""The motifs pipeline (`seqexplain motifs`, `explain --motifs`): discovery + annotation +
support + motif map, written to a folder.

The one module of :mod:`seqexplain.motifs` that runs the model: :func:`null_attributions`
(the attribution method on dinucleotide shuffles) and the ``predict`` callable of the support
tests (:func:`seqexplain.attribution.explained_output`); :func:`run_and_write` loads the
model recorded in the attributions file when none is given.

Files written (see the README for columns):

- ``motifs.tsv`` — one row per motif: id, sign, counts, consensus, support evidence, best
  known matches with family and q-value;
- ``matches.tsv`` — the top TOMTOM matches of every motif;
- ``motifs.meme`` — PFMs in MEME minimal format; ``cwms.npz`` — PFM, CWM and hypothetical CWM
  of every motif (``<id>_pfm`` …, (width, C));
- ``instances.tsv`` / ``instances.bed`` — every motif instance in sequence coordinates
  (``instances.genome.bed`` too when record ids are ``chrom:start-end``): the motif map of
  discovery (windows matched to the motifs' prototypes);
- ``hits.tsv``, ``hits.bed``, ``counts.tsv`` — the hits of the discovered motifs called by
  ``seqexplain hits``' caller (:func:`seqexplain.motif_hits.call_motif_hits` on the CWMs of
  ``cwms.npz``: null, BH q, genome coordinates for region ids);
- ``seqlets.tsv`` — every seqlet called, with its motif (empty when unassigned);
- ``discovery.json`` — counts, the settings, and ``no_motifs``: why no motif was found (which
  threshold stopped discovery, and what to try; empty when motifs were found);
- ``logos/<id>_pwm.png``, ``logos/<id>_cwm.png``; ``positions.png``, ``cooccurrence.png``;
  ``maps/<record>.png`` for the top sequences.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .. import logos as lg
from .._tf import import_tensorflow
from ..annotate import DEFAULT_RELEASE, file_motifs, jaspar_motifs, motif_title, tomtom
from ..attribution.registry import REFERENCE_KINDS
from ..attributions import Attributions
from ..bundle import load_model, load_models
from ..errors import SeqexplainError
from ..explain import ExplainSettings, attribute_chunk, read_references
from ..fasta import genomic_strand, to_genome
from ..motif_hits import call_motif_hits, read_hit_motifs, write_hits
from ..motif_io import Motif, write_meme
from ..outputs import atomic_dir, check_writable, recorded_path
from ..plots import motif_colors, plot_cooccurrence, plot_motif_map, plot_motif_positions, plt
from ..shuffle import dinucleotide_shuffle
from .clustering import LearnedMotif, MotifResult, MotifSettings, is_nucleotide
from .discovery import discover
from .modisco import discover_modisco
from .seqlets import NullAttributions
from .support import motif_support

MOTIF_COLUMNS = ["motif", "sign", "seqlets", "sequences", "width", "consensus", "supported",
                 "enrichment", "enrichment_q", "output_change", "output_change_q",
                 "null_instances", "best_match", "best_match_id", "best_match_family",
                 "best_match_class", "best_match_q", "other_matches"]


def settings_from_file(attributions: Attributions):
    """The ExplainSettings recorded by ``seqexplain explain`` (None for older files)."""
    raw = attributions.settings
    if raw is None:
        return None
    raw["methods"] = tuple(raw.get("methods", ()))
    if raw.get("references", "shuffle") not in REFERENCE_KINDS:  # a FASTA beside the file
        raw["references"] = str(recorded_path(raw["references"], attributions.source))
    known = ExplainSettings.__dataclass_fields__
    return ExplainSettings(**{k: v for k, v in raw.items() if k in known})


def annotate_motifs(motifs: list[LearnedMotif], database) -> None:
    """Fill ``motif.matches`` (top 3 TOMTOM matches) from ``database``: a list of
    :class:`~seqexplain.annotate.KnownMotif`."""
    if not motifs or not database:
        return
    rc = is_nucleotide(motifs[0].letters)
    for motif, hits in zip(motifs, tomtom([m.pfm for m in motifs], database,
                                          reverse_complement=rc)):
        motif.matches = hits


def run_motifs(attributions: Attributions, settings: MotifSettings, model=None, database=None,
               source: str = "attributions") -> tuple[MotifResult, pd.DataFrame | None]:
    """Discovery, annotation and (with ``model``, which must be the model that computed the
    scores: its fingerprint is checked) support. With the model, the attribution
    method is also run on dinucleotide shuffles of up to ``settings.null_size`` sequences: seqlet
    thresholds come from the empirical FDR against them, and each motif's support is tested
    on them. Returns (result, support table or None)."""
    null = None
    if model is not None:
        # the null reruns the model: it must be the one that computed the scores
        shown = ", ".join(f"model {m.name!r}" for m in model) \
            if isinstance(model, (list, tuple)) else f"model {model.name!r}"
        attributions.check_model(model, shown)
        explain_settings = settings_from_file(attributions)
        if explain_settings is None:
            raise SeqexplainError(f"{source}: no explain settings recorded (written by an "
                                  "older seqexplain); re-run seqexplain explain")
        null = null_attributions(model, attributions, explain_settings, settings.method,
                                 size=settings.null_size, seed=settings.seed)
    engine = discover_modisco if settings.engine == "modisco" else discover
    result = engine(attributions, settings,
                    null=null if settings.seqlet_null == "shuffled" else None)
    annotate_motifs(result.motifs, database)
    table = None
    if null is not None and result.motifs:
        predict = explained_predict(model, explain_settings.target)
        table = motif_support(result, attributions, predict, null, seed=settings.seed)
    return result, table


def explained_predict(model, target: int | str = 0):
    """The support tests' ``predict`` callable: one-hot sequences → the explained output (the
    logit of ``target``: an index or a target spec such as ``"counts:0"``) of ``model``, or
    its mean over a list of models (folds)."""
    # imports TensorFlow: only here, where the pipeline runs the model
    from ..attribution import explained_output

    if isinstance(model, (list, tuple)):
        return lambda X: np.mean([explained_output(m, X, target) for m in model], axis=0)
    return lambda X: explained_output(model, X, target)


def null_attributions(model, attributions: Attributions, settings, method: str,
                      size: int = 1000, seed: int = 0, references=None) -> NullAttributions:
    """The same attribution method on one dinucleotide shuffle of each of (a seeded sample
    of up to ``size``) the sequences."""
    onehot = np.asarray(attributions.onehot, np.float32)
    n = len(onehot)
    index = np.sort(np.random.default_rng([seed, 11]).choice(n, min(size, n), replace=False))
    X = dinucleotide_shuffle(onehot[index], n=1,
                             random_state=np.random.default_rng([seed, 7]))[:, 0]
    cfg = replace(settings, methods=(method,))
    refs = settings.references if references is None else references
    if isinstance(refs, str) and refs not in REFERENCE_KINDS:
        if not Path(refs).is_file():
            raise SeqexplainError(f"{refs}: the reference FASTA used by seqexplain explain is "
                                  "gone; the null pipeline needs it")
        refs = read_references(refs, attributions.alphabet, attributions.length)
    contrib = np.empty_like(X)
    hyp = np.empty_like(X)
    for lo in range(0, len(X), 1024):
        arrays = attribute_chunk(model, X[lo:lo + 1024], cfg, refs, offset=lo)
        contrib[lo:lo + 1024] = arrays[method]
        hyp[lo:lo + 1024] = arrays[f"{method}_hypothetical"]
    return NullAttributions(index=index, onehot=X, contrib=contrib, hyp=hyp)


def run_and_write(data: Attributions, out_dir, settings: MotifSettings, source: str,
                  model=None, model_path=None, database=None,
                  jaspar_release: str = DEFAULT_RELEASE, taxon: str = "vertebrates",
                  no_support: bool = False, n_maps: int = 10):
    """Run the motif layer on attributions and write ``out_dir`` (exists). ``model``: a
    loaded Keras model for the support tests (else ``model_path`` or the one recorded in the
    file). Returns (result, motifs table)."""
    letters = data.letters
    if no_support:
        model = None
    elif model is None and not model_path and data.mean_over_models > 1:
        # scores averaged over several models: the null and the support use their mean
        paths = data.model_paths
        gone = [p for p in paths if not p or not Path(p).exists()]
        if gone:
            raise SeqexplainError(f"{source}: a model its scores are a mean over is not at "
                                  f"{gone[0] or '(unrecorded)'}; pass --no-support")
        import_tensorflow()
        bundles = load_models(paths, data.alphabet.name)
        model = [b.model for b in bundles]
        data.check_model(model, ",".join(paths))
    elif model is None:
        path = model_path or data.model_path
        if not path:
            raise SeqexplainError(f"{source}: no model recorded; pass --model, or --no-support")
        if not model_path and not Path(path).exists():
            raise SeqexplainError(
                f"{source}: the model it was computed with is not at {path} (moved?); pass "
                "--model PATH to point at it (its fingerprint is checked), or --no-support")
        import_tensorflow()
        # a folder knows its alphabet; a bare Keras file is told it by the scores' letters
        bundle = load_model(path, None if Path(path).is_dir() else data.alphabet.name)
        data.check_model(bundle.model, path)
        if bundle.alphabet.letters != letters:
            raise SeqexplainError(f"{source}: the scores are over {letters} but {path} takes "
                                  f"{bundle.alphabet.name} ({bundle.alphabet.letters})")
        model = bundle.model
    database = load_database(database, jaspar_release, taxon, letters)
    result, _ = run_motifs(data, settings, model=model, database=database, source=source)
    table = write_motifs(result, data, out_dir, maps=n_maps)
    return result, table


@dataclass
class MotifsRun:
    """What :func:`motifs_files` did: ``out``, the folder as given; ``result``, the motifs
    found (:class:`~seqexplain.motifs.MotifResult`); ``table``, ``motifs.tsv`` as written."""

    out: str
    result: MotifResult
    table: pd.DataFrame

    def summary(self) -> str:
        """The line ``seqexplain motifs`` prints (:func:`summary_line`)."""
        return summary_line(self.out, self.result, self.table)


def run_settings(method: str, database, support: bool, **settings) -> MotifSettings:
    """The settings of a ``seqexplain motifs`` run (:func:`motifs_files`, and each side of
    ``--compare``): ``method`` resolved through the method table, ``database`` checked to
    exist, Laplace seqlet thresholds when the support tests (and their null) are skipped."""
    from ..attribution.registry import resolve_method

    if database and not Path(database).is_file():
        raise SeqexplainError(f"{database}: no such motif file")
    if not support:
        settings["seqlet_null"] = "laplace"
    return MotifSettings(method=resolve_method(method).name, **settings)


def motifs_files(attributions, out, *, method: str = "deepshap", target=None, model=None,
                 database=None, jaspar_release: str = DEFAULT_RELEASE,
                 taxon: str = "vertebrates", support: bool = True, maps: int = 10,
                 force: bool = False, **settings) -> MotifsRun:
    """What ``seqexplain motifs`` does: the motifs of ``method``'s scores (a name or alias of
    the method table) in the scores file ``attributions`` (of ``target``, in a file of
    several), written to the new folder ``out`` (replaced only with ``force``; see the module
    docstring for its files).

    ``model``: the model for the support tests, a path (a model folder or a Keras file) or a
    loaded Keras model [the one recorded in the file; its fingerprint is checked];
    ``support=False`` skips them (no model; Laplace seqlet thresholds). ``database``: a
    MEME/JASPAR file of known motifs [JASPAR ``jaspar_release``, ``taxon``, from pyjaspar].
    ``maps``: motif-map figures of the top K sequences. ``**settings``: the fields of
    :class:`~seqexplain.motifs.MotifSettings` (``width``, ``fdr``, ``seed``, ...)."""
    check_writable(out, force, kind="folder")
    chosen = run_settings(method, database, support, **settings)
    data = Attributions.read(attributions, [chosen.method], target=target)  # checks the method
    loaded = model if model is not None and not isinstance(model, (str, Path)) else None
    with atomic_dir(out, force=force) as tmp:
        result, table = run_and_write(data, tmp, chosen, str(attributions), model=loaded,
                                      model_path=None if loaded is not None else model,
                                      database=database, jaspar_release=jaspar_release,
                                      taxon=taxon, no_support=not support, n_maps=maps)
    return MotifsRun(str(out), result, table)


def summary_line(out, result: MotifResult, table: pd.DataFrame) -> str:
    """One line for the terminal: the motifs found and the first one's name (only when its
    known match is significant), or why none was found (``result.no_motifs``)."""
    if not len(table):
        return f"{out}: no motifs found: {result.no_motifs or f'{len(result.seqlets)} seqlets'}"
    supported = (table["supported"] == "yes").sum()
    tested = (table["supported"] != "untested").sum()
    best = table.iloc[0]
    return (f"{out}: {len(table)} motifs from {len(result.seqlets)} seqlets"
            + (f", {supported} of {tested} supported" if tested else ", support untested")
            + f"; {motif_title(best['motif'], best['best_match'], best['best_match_q'])}: "
            + f"{best['consensus']}")


def _offsets(attributions: Attributions) -> np.ndarray:
    off = attributions.offsets
    return np.zeros(len(attributions), np.int64) if off is None else np.asarray(off, np.int64)


def instance_table(result: MotifResult, attributions: Attributions) -> pd.DataFrame:
    """Instances in sequence coordinates (0-based, half-open), with the record id, the motif
    label (best known match) and, for ``chrom:start-end`` ids, genome coordinates."""
    ids = attributions.ids
    inst = result.instances
    seq = inst["seq"].to_numpy().astype(np.int64)
    offsets = _offsets(attributions)
    labels = {m.id: m.label for m in result.motifs}
    out = pd.DataFrame({
        "id": ids[seq],
        "start": (inst["start"].to_numpy() + offsets[seq]).astype(np.int64),
        "end": (inst["end"].to_numpy() + offsets[seq]).astype(np.int64),
        "strand": inst["strand"], "motif": inst["motif"],
        "label": inst["motif"].map(labels), "score": inst["score"].round(6),
        "similarity": inst["similarity"].round(4)})
    # genome coordinates for chrom:start-end(strand) ids (minus strand: counted from the end)
    spans = [to_genome(sid, s, e) for sid, s, e in zip(out["id"], out["start"], out["end"])]
    if len(out) and all(spans):
        out["chrom"] = [c for c, _, _ in spans]
        out["genome_start"] = np.array([s for _, s, _ in spans], np.int64)
        out["genome_end"] = np.array([e for _, _, e in spans], np.int64)
    out["seq"] = seq
    return out


def motif_table(result: MotifResult) -> pd.DataFrame:
    rows = []
    per_seq = result.instances.groupby("motif")["seq"].nunique() if len(
        result.instances) else {}
    for m in result.motifs:
        ev = m.evidence
        best = m.matches[0] if m.matches else {}
        supported = ("untested" if not ev else "yes" if ev.get("supported") else "no")
        rows.append({
            "motif": m.id, "sign": "+" if m.sign > 0 else "-", "seqlets": m.n_seqlets,
            "sequences": int(per_seq.get(m.id, 0)), "width": m.width,
            "consensus": m.consensus, "supported": supported,
            "enrichment": ev.get("enrichment", np.nan), "enrichment_q": ev.get(
                "enrichment_q", np.nan), "output_change": ev.get("output_change", np.nan),
            "output_change_q": ev.get("output_change_q", np.nan),
            "null_instances": ev.get("null_instances", np.nan),
            "best_match": best.get("name", ""), "best_match_id": best.get("id", ""),
            "best_match_family": best.get("family", ""),
            "best_match_class": best.get("klass", ""),
            "best_match_q": best.get("q", np.nan),
            "other_matches": "; ".join(
                f"{h['name']} ({h['id']}{', ' + h['family'] if h['family'] else ''}, "
                f"q={h['q']:.2g})" for h in m.matches[1:])})
    return pd.DataFrame(rows, columns=MOTIF_COLUMNS)


def write_motifs(result: MotifResult, attributions: Attributions, out_dir, maps: int = 10,
                 dpi: int = 100) -> pd.DataFrame:
    """Write every output file into ``out_dir`` (which exists); returns the motifs table."""
    out = Path(out_dir)
    letters = attributions.letters
    table = motif_table(result)
    table.to_csv(out / "motifs.tsv", sep="\t", index=False, float_format="%.4g")
    matches = [{"motif": m.id, "rank": r, **{k: h[k] for k in ("id", "name", "family",
                                                              "klass", "p", "e", "q",
                                                              "offset", "strand")}}
               for m in result.motifs for r, h in enumerate(m.matches, start=1)]
    pd.DataFrame(matches, columns=["motif", "rank", "id", "name", "family", "klass", "p", "e",
                                   "q", "offset", "strand"]).rename(
        columns={"klass": "class"}).to_csv(out / "matches.tsv", sep="\t", index=False,
                                           float_format="%.4g")
    inst = instance_table(result, attributions)
    inst.drop(columns=["seq"]).to_csv(out / "instances.tsv", sep="\t", index=False)
    bed = pd.DataFrame({"id": inst["id"], "start": inst["start"], "end": inst["end"],
                        "name": inst["label"], "score": inst["score"],
                        "strand": inst["strand"]})
    bed.to_csv(out / "instances.bed", sep="\t", index=False, header=False)
    if "chrom" in inst:
        # a minus-strand record (reverse complemented region) flips the instance's strand
        flip = np.array([genomic_strand(sid) == "-" for sid in inst["id"]], bool)
        strand = np.where(flip, inst["strand"].map({"+": "-", "-": "+"}).fillna(
            inst["strand"]), inst["strand"])
        gbed = pd.DataFrame({"chrom": inst["chrom"], "start": inst["genome_start"],
                             "end": inst["genome_end"], "name": inst["label"],
                             "score": inst["score"], "strand": strand})
        gbed.to_csv(out / "instances.genome.bed", sep="\t", index=False, header=False)
    ids = attributions.ids
    seqlets = result.seqlets.assign(id=ids[result.seqlets["seq"].to_numpy().astype(np.int64)])
    seqlets[["id", "start", "end", "sign", "score", "motif"]].to_csv(
        out / "seqlets.tsv", sep="\t", index=False, float_format="%.6g")
    write_discovery(result, out / "discovery.json")
    if not result.motifs:
        return table
    write_meme([Motif(id=m.id, name=m.name or m.id,
                      pfm=m.pfm, source="seqexplain", nsites=m.n_seqlets)
                for m in result.motifs], out / "motifs.meme", letters=letters)
    np.savez(out / "cwms.npz", ids=np.array([m.id for m in result.motifs]),
             alphabet=np.array(letters),
             **{f"{m.id}_{k}": getattr(m, k).astype(np.float32)
                for m in result.motifs for k in ("pfm", "cwm", "hcwm")})
    # hits of the discovered motifs by the caller of `seqexplain hits` (read back from
    # cwms.npz, so `hits --motifs <this folder>` on the same scores writes the same files)
    write_hits(call_motif_hits(attributions, read_hit_motifs(out), result.settings.method),
               out)
    (out / "logos").mkdir()
    lg.render_matrix_logos(
        [(kind, getattr(m, {"pwm": "pfm", "cwm": "cwm"}[kind]), letters,
          f"{m.title} · {m.n_seqlets} seqlets", str(out / "logos" / f"{m.id}_{kind}.png"))
         for m in result.motifs for kind in ("pwm", "cwm")], dpi=dpi)
    labels = [m.label for m in result.motifs]
    lengths = attributions.lengths
    length = int(np.max(lengths)) if lengths is not None else attributions.length
    fig = plot_motif_positions(inst, labels, length)
    fig.savefig(out / "positions.png", dpi=dpi)
    plt.close(fig)
    fig = plot_cooccurrence(inst, labels, len(ids))
    fig.savefig(out / "cooccurrence.png", dpi=dpi)
    plt.close(fig)
    if maps:
        _write_maps(result, attributions, inst, out / "maps", maps, dpi, motif_colors(labels))
    return table


def write_discovery(result: MotifResult, path) -> None:
    """``discovery.json``: what discovery found, and why nothing when it found nothing — read
    back by the report so that it says what the command said."""
    Path(path).write_text(json.dumps({
        "sequences": int(result.n_sequences), "seqlets": int(len(result.seqlets)),
        "motifs": len(result.motifs), "no_motifs": result.no_motifs,
        "settings": asdict(result.settings)}, indent=2) + "\n")


def read_no_motifs(folder) -> str:
    """The ``no_motifs`` reason recorded in a motifs folder ("" when absent: older folders)."""
    path = Path(folder) / "discovery.json"
    if not path.is_file():
        return ""
    try:
        return str(json.loads(path.read_text()).get("no_motifs", ""))
    except (ValueError, AttributeError):
        return ""


def _write_maps(result, attributions, inst, folder: Path, k: int, dpi: int, colors) -> None:
    folder.mkdir()
    contrib = attributions.scores(result.settings.method)
    offsets = _offsets(attributions)
    ids = attributions.ids
    taken: set[str] = set()
    for i in lg.select_indices(attributions, top=k):
        off = int(offsets[i])
        lo, hi = attributions.span(i)
        track = contrib[i, lo:hi].sum(-1)
        mine = inst[inst["seq"] == i]
        # instances are in sequence coordinates; the track starts at base lo + off
        shown = mine.assign(start=mine["start"] - (lo + off), end=mine["end"] - (lo + off))
        sid = str(ids[i])
        fig = plot_motif_map(track, shown, title=sid, start=lo + off + 1, colors=colors)
        lg.save_figure(fig, folder / f"{lg.safe_name(sid, taken)}.png", dpi)


def load_database(database=None, release: str | None = None, taxon: str = "vertebrates",
                  letters: str = "ACGT"):
    """The motifs to annotate against: a user file, or JASPAR CORE (DNA only)."""
    if database:
        return file_motifs(database)
    if letters != "ACGT":
        return None  # JASPAR holds DNA matrices; protein motifs stay unannotated
    return jaspar_motifs(release or DEFAULT_RELEASE, taxon)
