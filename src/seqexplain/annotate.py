"""Known-motif annotation: TOMTOM (memelite) against JASPAR (pyjaspar, offline) or a user file.

TOMTOM scores every offset and strand of a query PFM against each database PFM by the negative
Euclidean distance of aligned columns and turns the best score into a p-value with a null built
from the query's columns against all database columns. q-values are Benjamini–Hochberg over
the database, per query (as TOMTOM reports them); E-value = p × database size.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import SeqexplainError


@dataclass
class KnownMotif:
    id: str
    name: str
    pfm: np.ndarray          # (width, C) probabilities
    family: str = ""
    klass: str = ""


DEFAULT_RELEASE = "JASPAR2024"
TAXA = ("vertebrates", "plants", "insects", "nematodes", "fungi", "urochordates", "diatoms",
        "trematodes", "all")


def jaspar_motifs(release: str = DEFAULT_RELEASE, taxon: str = "vertebrates"
                  ) -> list[KnownMotif]:
    """JASPAR CORE matrices (latest version of each) from the database bundled with pyjaspar
    — no network needed — with each factor's family and class."""
    from pyjaspar import jaspardb

    try:
        db = jaspardb(release=release)
    except Exception as exc:  # pyjaspar raises plain Exceptions for unknown releases
        raise SeqexplainError(f"JASPAR release {release!r}: {exc}") from None
    if taxon not in TAXA:
        raise SeqexplainError(f"taxon {taxon!r}: choose one of {', '.join(TAXA)}")
    found = db.fetch_motifs(collection="CORE",
                            tax_group=None if taxon == "all" else [taxon])
    out = []
    for m in found:
        counts = np.array([m.counts[c] for c in "ACGT"], dtype=float).T
        pfm = counts / np.clip(counts.sum(axis=1, keepdims=True), 1e-12, None)
        out.append(KnownMotif(id=m.matrix_id, name=m.name, pfm=pfm,
                              family="; ".join(m.tf_family or []),
                              klass="; ".join(m.tf_class or [])))
    return out


def file_motifs(path) -> list[KnownMotif]:
    """Motifs of a MEME or JASPAR file (DNA)."""
    from .motif_io import read_motifs

    return [KnownMotif(id=m.id, name=m.name, pfm=m.pfm) for m in read_motifs(Path(path))]


def tomtom(queries: list[np.ndarray], targets: list[KnownMotif], top: int = 3,
           reverse_complement: bool = True) -> list[list[dict]]:
    """The ``top`` best database matches of each query PFM (width, C): dicts with id, name,
    family, klass, p, e, q, offset, strand ('+' or '-'), sorted by p."""
    from memelite import tomtom as _tomtom

    if not queries:
        return []
    if not targets:
        raise SeqexplainError("the motif database is empty")
    Qs = [np.ascontiguousarray(q.T, dtype=np.float64) for q in queries]
    Ts = [np.ascontiguousarray(t.pfm.T, dtype=np.float64) for t in targets]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # memelite warns for < 25 targets (tests, small files)
        p, _scores, offsets, _overlaps, strands = _tomtom(
            Qs, Ts, reverse_complement=reverse_complement, n_jobs=1)[:5]
    p = np.asarray(p, dtype=np.float64)
    n = p.shape[1]
    out = []
    for i in range(len(Qs)):
        row = np.nan_to_num(p[i], nan=1.0)
        q = bh(row)
        order = np.argsort(row, kind="stable")[:top]
        out.append([{"id": targets[j].id, "name": targets[j].name,
                     "family": targets[j].family, "klass": targets[j].klass,
                     "p": float(row[j]), "e": float(row[j] * n), "q": float(q[j]),
                     "offset": int(offsets[i, j]),
                     "strand": "-" if int(strands[i, j]) else "+"} for j in order])
    return out


#: A learned motif (or filter) is named after its best known match only when that TOMTOM match
#: has q below this; otherwise it is shown as :data:`NO_MATCH`. Tables (motifs.tsv,
#: matches.tsv, filters.tsv) keep every match with its q-value.
MATCH_Q = 0.05
NO_MATCH = "no significant match"


def significant_name(name, q) -> str:
    """The known motif's ``name`` when its match passes q < :data:`MATCH_Q`, else ``""`` —
    the one place that decides whether a motif is named. ``name``/``q`` may come straight from
    a table read back from disk (empty or NaN cells)."""
    if not isinstance(name, str) or not name:
        return ""
    try:
        q = float(q)
    except (TypeError, ValueError):
        return ""
    return name if q < MATCH_Q else ""


def shown_match(name, q) -> str:
    """What to show as a motif's known identity: its significant match's name,
    :data:`NO_MATCH` when it was compared but its best match is not significant, ``""`` when it
    was never compared (no database, e.g. protein)."""
    if not isinstance(name, str) or not name:
        return ""
    return significant_name(name, q) or NO_MATCH


def motif_title(motif_id: str, name, q) -> str:
    """``pos_1 (CTCF)``, ``neg_1 (no significant match)`` or ``pos_1`` (never compared): how
    summaries, logo titles and the report name a motif."""
    shown = shown_match(name, q)
    return f"{motif_id} ({shown})" if shown else motif_id


def best_match(matches) -> tuple[str, float]:
    """(name, q) of the best of ``matches`` (TOMTOM dicts), ("", nan) when there are none."""
    return (matches[0]["name"], matches[0]["q"]) if matches else ("", float("nan"))


def bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg q-values."""
    p = np.asarray(p, dtype=np.float64)
    n = len(p)
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out
