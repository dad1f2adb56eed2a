"""Genome-browser tracks of a scores file: each base's observed contribution as a bigWig
(pyBigWig) or bedGraph, one file per method and target.

Only scores of records with genome coordinates can become tracks: record ids
``chrom:start-end(strand)``, as ``explain --regions … --genome …`` writes them
(:mod:`seqexplain.genome`). Input row ``j`` of record ``i`` is base ``j + offsets[i]`` of the
record, which is genome base ``start + that`` (``end − 1 − that`` for a ``-`` record, whose
sequence is the reverse complement of the window). Padding rows, and bases outside the
window's interval or the chromosome, are left out.

**Overlapping regions** (windows of nearby peaks share bases): each genome base takes the
value of the region whose window centre is nearest to it; a tie (a base exactly half-way
between two centres) goes to the region that comes first in the file. For windows of one
length this cuts every overlap at the midpoint between the two centres, so each base keeps
the score computed with the most context on both sides.

The value of a base is the method's score summed over the channels of its row: for one-hot
input, the observed base's contribution exactly (bigWig stores float32, as the scores file
does, so the values read back are the file's values). A bedGraph line covers a run of
consecutive bases with equal values, written with 9 significant digits (float32 round-trips).

Chromosome sizes come from the genome's FASTA index (``.fai``, built by pyfaidx when missing)
or from a ``.fai`` / ``chrom.sizes`` file given instead of the genome.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .attribution.registry import resolve_methods
from .attributions import Attributions
from .errors import SeqexplainError
from .fasta import genomic_interval, genomic_strand
from .outputs import atomic_dir, check_writable

#: suffixes of a file that lists chromosome sizes (name, size, ...) instead of a genome FASTA
SIZES_SUFFIXES = (".fai", ".sizes", ".chrom.sizes", ".genome")


@dataclass
class GenomeLayout:
    """Where each input row of a scores file lies in the genome, after overlaps are merged.

    ``sizes``: chromosome → length, in the genome's order; ``chroms``: the chromosomes that
    hold bases, in that order; for each, ``positions[c]`` (sorted genome positions, 0-based)
    and ``rows[c]`` (the flat index ``i × L + j`` into the (N, L) rows whose value each
    position takes)."""

    sizes: dict[str, int]
    positions: dict[str, np.ndarray] = field(default_factory=dict)
    rows: dict[str, np.ndarray] = field(default_factory=dict)
    covered: int = 0        # input rows that lie in the genome
    overlapping: int = 0    # of those, rows another region's row won

    @property
    def chroms(self) -> list[str]:
        return [c for c in self.sizes if c in self.positions]

    @property
    def bases(self) -> int:
        return int(sum(len(p) for p in self.positions.values()))


def chrom_sizes(genome) -> dict[str, int]:
    """Chromosome → length from a genome FASTA (its ``.fai`` index, built when missing) or a
    ``.fai`` / ``chrom.sizes`` table (name and size in the first two columns)."""
    path = os.fspath(genome)
    if not path.lower().endswith(SIZES_SUFFIXES):
        from .genome import open_genome

        return dict(open_genome(genome).lengths)
    if not os.path.isfile(path):
        raise SeqexplainError(f"{path}: no such chromosome sizes file")
    sizes: dict[str, int] = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            cols = line.split()
            if not cols or cols[0].startswith("#"):
                continue
            try:
                sizes[cols[0]] = int(cols[1])
            except (IndexError, ValueError):
                raise SeqexplainError(f"{path}, line {number}: expected a chromosome name and "
                                      "its size") from None
    if not sizes:
        raise SeqexplainError(f"{path}: no chromosome sizes")
    return sizes


def genome_layout(attributions: Attributions, sizes: dict[str, int]) -> GenomeLayout:
    """Map every valid input row of ``attributions`` to its genome base and merge overlapping
    regions (the nearest window centre wins; see the module docstring).

    Raises
    ------
    SeqexplainError
        A record id without coordinates (FASTA input), or a chromosome not in ``sizes``.
    """
    ids = attributions.ids
    n, length = len(ids), attributions.length
    chrom = np.empty(n, object)
    start, end = np.zeros(n, np.int64), np.zeros(n, np.int64)
    minus = np.zeros(n, bool)
    for i, rid in enumerate(ids):
        interval = genomic_interval(str(rid))
        if interval is None:
            raise SeqexplainError(
                f"{attributions.source}: record {str(rid)!r} has no genome coordinates (ids "
                "are chrom:start-end only for sequences explained from --regions … --genome "
                "…); tracks need scores of genome regions")
        chrom[i], start[i], end[i] = interval
        minus[i] = genomic_strand(str(rid)) == "-"
    absent = [c for c in dict.fromkeys(chrom) if c not in sizes]
    if absent:
        shown = ", ".join(repr(c) for c in absent[:3]) + (", …" if len(absent) > 3 else "")
        raise SeqexplainError(f"{attributions.source}: {len(absent)} chromosome(s) not in the "
                              f"genome: {shown}")
    seqpos = np.arange(length)[None, :]
    offsets = attributions.offsets
    if offsets is not None:
        seqpos = seqpos + np.asarray(offsets, np.int64)[:, None]
    pos = np.where(minus[:, None], end[:, None] - 1 - seqpos, start[:, None] + seqpos)
    size = np.array([sizes[c] for c in chrom], np.int64)
    keep = (attributions.valid() & (pos >= start[:, None]) & (pos < end[:, None])
            & (pos >= 0) & (pos < size[:, None]))
    # twice the distance to the window centre (start + end) / 2, in whole numbers
    dist = np.abs(2 * pos + 1 - (start + end)[:, None])
    layout = GenomeLayout(dict(sizes))
    flat = np.arange(n * length, dtype=np.int64).reshape(n, length)
    for c in dict.fromkeys(chrom):
        mine = np.nonzero(chrom == c)[0]
        ok = keep[mine]
        p, d, r = pos[mine][ok], dist[mine][ok], flat[mine][ok]
        # by position, then distance to the centre, then file order (the row index)
        order = np.lexsort((r, d, p))
        p, r = p[order], r[order]
        first = np.ones(len(p), bool)
        first[1:] = p[1:] != p[:-1]
        layout.positions[c], layout.rows[c] = p[first], r[first]
        layout.covered += len(p)
        layout.overlapping += int(len(p) - first.sum())
    return layout


def base_values(attributions: Attributions, method: str) -> np.ndarray:
    """(N × L,) float32: ``method``'s score of each input row summed over channels (the
    observed base's contribution), flattened as :class:`GenomeLayout` rows index it."""
    return np.asarray(attributions.scores(method), np.float32).sum(-1).ravel()


def _runs(positions: np.ndarray) -> np.ndarray:
    """Start indices of runs of consecutive positions, plus ``len(positions)``."""
    breaks = np.nonzero(np.diff(positions) != 1)[0] + 1
    return np.concatenate([[0], breaks, [len(positions)]])


def write_bigwig(path, layout: GenomeLayout, values: np.ndarray) -> Path:
    """``values`` (indexed by the layout's rows) at the layout's positions as a bigWig:
    every chromosome of the genome in the header, one fixed-step block per run of
    consecutive bases."""
    import pyBigWig

    path = Path(path)
    bw = pyBigWig.open(str(path), "w")
    try:
        bw.addHeader(list(layout.sizes.items()), maxZooms=10)
        for c in layout.chroms:
            pos, vals = layout.positions[c], values[layout.rows[c]].astype(np.float64)
            runs = _runs(pos)
            for a, b in zip(runs[:-1], runs[1:]):
                bw.addEntries(c, int(pos[a]), values=vals[a:b], span=1, step=1)
    finally:
        bw.close()
    return path


def write_bedgraph(path, layout: GenomeLayout, values: np.ndarray, name: str = "") -> Path:
    """The same as a bedGraph (a ``track`` line, then ``chrom start end value``; a run of
    consecutive bases with equal values is one line)."""
    path = Path(path)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f'track type=bedGraph name="{name or path.stem}"\n')
        for c in layout.chroms:
            pos, vals = layout.positions[c], values[layout.rows[c]]
            cut = np.nonzero((np.diff(pos) != 1) | (vals[1:] != vals[:-1]))[0] + 1
            lo = np.concatenate([[0], cut])
            hi = np.concatenate([cut, [len(pos)]])
            starts, ends = pos[lo], pos[hi - 1] + 1
            fh.writelines(f"{c}\t{s}\t{e}\t{v:.9g}\n"
                          for s, e, v in zip(starts.tolist(), ends.tolist(),
                                             vals[lo].astype(np.float64).tolist()))
    return path


@dataclass(frozen=True)
class TracksResult:
    """What :func:`tracks_files` wrote: the files (in the output folder), the regions read,
    the genome bases covered and the input rows left to a nearer region's."""

    files: list[Path]
    regions: int
    bases: int
    overlapping: int

    def summary_line(self, out) -> str:
        text = (f"{out}: {len(self.files)} track(s) of {self.bases:,} bases from "
                f"{self.regions:,} regions")
        if self.overlapping:
            text += f"; {self.overlapping:,} overlapping bases taken from the nearer centre"
        return text


def write_tracks(attributions: Attributions, folder, genome, methods=None, *,
                 bedgraph: bool = False, suffix: str = "",
                 layout: GenomeLayout | None = None) -> tuple[list[Path], GenomeLayout]:
    """One track per method of ``attributions`` (a one-target view) into the existing
    ``folder``: ``<method><suffix>.bw`` (``.bedGraph`` with ``bedgraph``). ``genome``: a
    genome FASTA or sizes file (see :func:`chrom_sizes`), unless ``layout`` is given.
    Returns (files, layout)."""
    folder = Path(folder)
    if layout is None:
        layout = genome_layout(attributions, chrom_sizes(genome))
    chosen = resolve_methods(methods) if methods else tuple(attributions.methods)
    files = []
    for m in chosen:
        values = base_values(attributions, m)
        name = f"{m}{suffix}"
        if bedgraph:
            files.append(write_bedgraph(folder / f"{name}.bedGraph", layout, values, name))
        else:
            files.append(write_bigwig(folder / f"{name}.bw", layout, values))
    return files, layout


def tracks_files(attributions, genome, out, *, methods=None, target=None,
                 bedgraph: bool = False, force: bool = False) -> TracksResult:
    """What ``seqexplain tracks`` does: tracks of every method (``methods``: names or aliases,
    a list or comma-separated string) of the scores file ``attributions`` — for a file of
    several targets, of ``target`` or else of every target (``<method>.<target>.bw``) — into
    the new folder ``out`` (replaced only with ``force``; nothing is left on error)."""
    check_writable(out, force, kind="folder")
    path = Path(attributions)
    chosen = list(resolve_methods(methods) if methods else Attributions.methods_of(path))
    targets = Attributions.targets_of(path)
    sizes = chrom_sizes(genome)
    runs = [(target, "")] if target is not None or not targets else [
        (t, f".{t}") for t in targets]
    with atomic_dir(out, force=force) as tmp:
        files, layout = [], None
        for t, suffix in runs:
            data = Attributions.read(path, chosen, hypothetical=False, delta=False, target=t)
            if layout is None:
                layout = genome_layout(data, sizes)
            written, _ = write_tracks(data, tmp, None, chosen, bedgraph=bedgraph,
                                      suffix=suffix, layout=layout)
            files += [Path(out) / f.name for f in written]
        regions = len(data)
    return TracksResult(files, regions, layout.bases, layout.overlapping)
