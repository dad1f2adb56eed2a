"""`seqexplain motifs`: discovery + annotation + support + motif map, written to a folder.

Files written (see the README for columns):

- ``motifs.tsv`` — one row per motif: id, sign, counts, consensus, support evidence, best
  known matches with family and q-value;
- ``matches.tsv`` — the top TOMTOM matches of every motif;
- ``motifs.meme`` — PFMs in MEME minimal format; ``cwms.npz`` — PFM, CWM and hypothetical CWM
  of every motif (``<id>_pfm`` …, (width, C));
- ``instances.tsv`` / ``instances.bed`` — every motif instance in sequence coordinates
  (``instances.genome.bed`` too when record ids are ``chrom:start-end``);
- ``seqlets.tsv`` — every seqlet called, with its motif (empty when unassigned);
- ``discovery.json`` — counts, the settings, and ``no_motifs``: why no motif was found (which
  threshold stopped discovery, and what to try; empty when motifs were found);
- ``logos/<id>_pwm.png``, ``logos/<id>_cwm.png``; ``positions.png``, ``cooccurrence.png``;
  ``maps/<record>.png`` for the top sequences.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .attributions import Attributions
from .errors import SeqexplainError
from .fasta import genomic_interval
from .motifs import (LearnedMotif, MotifResult, MotifSettings, discover, discover_modisco,
                     is_nucleotide)

MOTIF_COLUMNS = ["motif", "sign", "seqlets", "sequences", "width", "consensus", "supported",
                 "enrichment", "enrichment_q", "output_change", "output_change_q",
                 "null_instances", "best_match", "best_match_id", "best_match_family",
                 "best_match_class", "best_match_q", "other_matches"]


def settings_from_file(attributions: Attributions):
    """The ExplainSettings recorded by ``seqexplain explain`` (None for older files)."""
    from .explain import ExplainSettings

    raw = attributions.settings
    if raw is None:
        return None
    raw["methods"] = tuple(raw.get("methods", ()))
    known = ExplainSettings.__dataclass_fields__
    return ExplainSettings(**{k: v for k, v in raw.items() if k in known})


def annotate_motifs(motifs: list[LearnedMotif], database) -> None:
    """Fill ``motif.matches`` (top 3 TOMTOM matches) from ``database``: a list of
    :class:`~seqexplain.annotate.KnownMotif`."""
    from .annotate import tomtom

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
    from .motifs import null_attributions, support

    null = None
    if model is not None:
        # the null reruns the model: it must be the one that computed the scores
        attributions.check_model(model, f"model {model.name!r}")
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
        table = support(result, attributions, model, null, seed=settings.seed)
    return result, table


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
    chrom, gstart = [], []
    for sid in out["id"]:
        interval = genomic_interval(sid)
        chrom.append(interval[0] if interval else "")
        gstart.append(interval[1] if interval else -1)
    if len(out) and all(chrom):
        out["chrom"] = chrom
        out["genome_start"] = np.array(gstart) + out["start"].to_numpy()
        out["genome_end"] = np.array(gstart) + out["end"].to_numpy()
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
    from . import logos as lg
    from .motif_io import Motif, write_meme
    from .plots import motif_colors, plot_cooccurrence, plot_motif_positions, plt

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
        gbed = pd.DataFrame({"chrom": inst["chrom"], "start": inst["genome_start"],
                             "end": inst["genome_end"], "name": inst["label"],
                             "score": inst["score"], "strand": inst["strand"]})
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
    from dataclasses import asdict

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
    from . import logos as lg
    from .plots import plot_motif_map

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
    from .annotate import DEFAULT_RELEASE, file_motifs, jaspar_motifs

    if database:
        return file_motifs(database)
    if letters != "ACGT":
        return None  # JASPAR holds DNA matrices; protein motifs stay unannotated
    return jaspar_motifs(release or DEFAULT_RELEASE, taxon)
