"""Sequences from genome coordinates: regions of a BED/narrowPeak file read from an indexed
genome FASTA, as records that go wherever a FASTA file goes.

- :class:`Genome` — random access to a genome FASTA with pyfaidx (a ``.fai`` index is built
  next to it when missing); plain text or bgzip-compressed, never read whole into memory. A
  plain-gzip genome cannot be read at random and is refused with a message saying how to fix
  it (``bgzip`` + ``samtools faidx``).
- :func:`read_bed` — intervals of a BED (3+ columns) or narrowPeak file (column 10: the
  summit's offset from the start).
- :class:`RegionSource` — those intervals as fixed-length windows of the model's length,
  centred on the summit (narrowPeak) or on the interval's centre; minus-strand intervals are
  reverse complemented; record ids are ``chrom:start-end(strand)`` (0-based, half-open: the
  window, not the peak), so motif maps and BED outputs carry genome coordinates
  (:func:`seqexplain.fasta.to_genome`). Windows running off a chromosome end are padded with
  N (or dropped: ``off_edge="drop"``) and counted; duplicate windows are kept once and
  counted; a chromosome missing from the genome is an error naming the first few.
- :func:`gc_matched_background` — seeded background windows of the positives' GC
  distribution that overlap no positive region.

A :class:`RegionSource` is a :class:`seqexplain.fasta.RecordSource`: ``read_fasta``,
``iter_fasta_batches``, ``read_encoded``, ``train_model``, ``predict_fasta`` and
``explain_fasta`` take it in place of a FASTA path.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from .encoding import reverse_complement
from .errors import OptionError, SeqexplainError, check_choice, check_int
from .fasta import GZIP_MAGIC, RecordSource

OFF_EDGE = ("pad", "drop")
BACKGROUNDS = ("gc-matched",)


def _first_few(items, k: int = 3) -> str:
    items = list(items)
    return ", ".join(repr(x) for x in items[:k]) + (", …" if len(items) > k else "")


def _is_bgzf(head: bytes) -> bool:
    """BGZF blocks are gzip members with an extra field ``BC`` (SAM/BAM specification)."""
    return len(head) >= 14 and head[:2] == GZIP_MAGIC and bool(head[3] & 4) \
        and head[12:14] == b"BC"


class Genome:
    """A genome FASTA opened for random access (pyfaidx).

    ``lengths`` maps each chromosome to its length; :meth:`fetch` returns any interval, padded
    with N where it runs off the chromosome."""

    def __init__(self, path: str | os.PathLike):
        import pyfaidx

        path = os.fspath(path)
        if not os.path.exists(path):
            raise SeqexplainError(f"{path}: no such genome file")
        if os.path.isdir(path):
            raise SeqexplainError(f"{path}: is a directory, not a genome FASTA file")
        with open(path, "rb") as fh:
            head = fh.read(18)
        if head[:2] == GZIP_MAGIC and not _is_bgzf(head):
            raise SeqexplainError(
                f"{path}: compressed with plain gzip, which cannot be read at random; "
                f"recompress it with bgzip (`zcat {path} | bgzip > genome.fa.gz`) and index it "
                "(`samtools faidx genome.fa.gz`), or decompress it")
        try:
            self._fasta = pyfaidx.Fasta(path, as_raw=True, sequence_always_upper=True,
                                        read_long_names=False)
        except (pyfaidx.FastaIndexingError, pyfaidx.UnsupportedCompressionFormat,
                ValueError, OSError, UnicodeDecodeError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else \
                type(exc).__name__
            raise SeqexplainError(f"{path}: cannot index the genome FASTA ({reason})") from None
        self.path = path
        self._cased = None  # opened by soft_masked when first needed
        self.lengths: dict[str, int] = {name: int(rec.rlen)
                                        for name, rec in self._fasta.faidx.index.items()}
        if not self.lengths:
            raise SeqexplainError(f"{path}: no sequences in the genome FASTA")

    def fetch(self, chrom: str, start: int, end: int) -> str:
        """Bases ``[start, end)`` (0-based) of ``chrom`` in upper case, N where the interval
        runs off the chromosome."""
        size = self.lengths[chrom]
        lo, hi = max(start, 0), min(end, size)
        core = self._fasta[chrom][lo:hi] if hi > lo else ""
        return "N" * (lo - start) + core + "N" * max(0, end - max(hi, start))

    def soft_masked(self, chrom: str, start: int, end: int) -> np.ndarray:
        """bool (end − start,): whether each base of ``[start, end)`` is lowercase in the
        genome file (soft-masked); False where the interval runs off the chromosome."""
        import pyfaidx

        if self._cased is None:
            # a second handle on the same index that keeps the file's case
            self._cased = pyfaidx.Fasta(self.path, as_raw=True, sequence_always_upper=False,
                                        read_long_names=False)
        size = self.lengths[chrom]
        lo, hi = max(start, 0), min(end, size)
        out = np.zeros(end - start, bool)
        if hi > lo:
            core = np.frombuffer(self._cased[chrom][lo:hi].encode("ascii", "replace"),
                                 np.uint8)
            out[lo - start:hi - start] = (core >= ord("a")) & (core <= ord("z"))
        return out

    def missing(self, chroms, source: str, what: str = "chromosome") -> None:
        """Raise a one-line error when any of ``chroms`` is not in the genome, suggesting the
        ``chr`` prefix fix when that is what differs."""
        absent = [c for c in dict.fromkeys(chroms) if c not in self.lengths]
        if not absent:
            return
        hint = ""
        if all(("chr" + c) in self.lengths for c in absent):
            hint = "; the genome names them with a 'chr' prefix: add it (e.g. " \
                   f"'chr{absent[0]}')"
        elif all(c.startswith("chr") and c[3:] in self.lengths for c in absent):
            hint = "; the genome names them without the 'chr' prefix: remove it (e.g. " \
                   f"'{absent[0][3:]}')"
        raise SeqexplainError(
            f"{source}: {len(absent)} {what}(s) not in the genome {self.path}: "
            f"{_first_few(absent)} (the genome has {_first_few(self.lengths)}){hint}")

    def __repr__(self) -> str:
        return f"Genome({self.path!r}, {len(self.lengths)} sequences)"


def open_genome(genome) -> Genome:
    """A :class:`Genome` from a path (or the same object)."""
    return genome if isinstance(genome, Genome) else Genome(genome)


@dataclass(frozen=True)
class Interval:
    """One line of a BED file: 0-based half-open ``[start, end)``, strand ``+``/``-``
    (``.`` read as ``+``), the narrowPeak summit (absolute position) when given, and every
    column as text (for ``label_column``)."""

    chrom: str
    start: int
    end: int
    strand: str = "+"
    summit: int | None = None
    fields: tuple[str, ...] = ()
    line: int = 0


def _open_text(path: str):
    with open(path, "rb") as fh:
        head = fh.read(2)
    if head == GZIP_MAGIC:
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, "rt", encoding="utf-8")


def is_narrowpeak(path: str | os.PathLike) -> bool:
    name = os.fspath(path).lower()
    return name.endswith((".narrowpeak", ".narrowpeak.gz"))


def read_bed(path: str | os.PathLike) -> list[Interval]:
    """Intervals of a BED or narrowPeak file (plain or gzip). ``track``/``browser``/``#``
    lines and blank lines are skipped. narrowPeak files (by name, or any line of exactly 10
    columns whose tenth is an integer) give a summit: ``start + column 10`` (``-1``: none)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise SeqexplainError(f"{path}: no such regions file")
    if os.path.isdir(path):
        raise SeqexplainError(f"{path}: is a directory, not a BED file")
    peaks = is_narrowpeak(path)
    out: list[Interval] = []
    try:
        with _open_text(path) as fh:
            for number, raw in enumerate(fh, start=1):
                line = raw.rstrip("\r\n")
                if not line.strip() or line.startswith(("#", "track", "browser")):
                    continue
                cols = line.split("\t") if "\t" in line else line.split()
                where = f"{path}, line {number}"
                if len(cols) < 3:
                    raise SeqexplainError(f"{where}: expected at least 3 columns (chrom, start, "
                                          f"end), found {len(cols)}")
                try:
                    start, end = int(cols[1]), int(cols[2])
                except ValueError:
                    raise SeqexplainError(f"{where}: start and end must be integers, found "
                                          f"{cols[1]!r}, {cols[2]!r}") from None
                if start < 0 or end <= start:
                    raise SeqexplainError(f"{where}: need 0 ≤ start < end, found {start}, "
                                          f"{end}")
                strand = cols[5] if len(cols) > 5 and cols[5] in ("+", "-") else "+"
                summit = None
                if peaks or len(cols) == 10:
                    try:
                        offset = int(cols[9]) if len(cols) >= 10 else -1
                    except ValueError:
                        if peaks:
                            raise SeqexplainError(f"{where}: narrowPeak column 10 (summit "
                                                  f"offset) must be an integer, found "
                                                  f"{cols[9]!r}") from None
                        offset = -1
                    if offset >= end - start:
                        raise SeqexplainError(
                            f"{where}: narrowPeak column 10 (summit offset from the start) is "
                            f"{offset}, outside the {end - start}-bp peak; it must be in 0.."
                            f"{end - start - 1} (or -1: no summit)")
                    if offset >= 0:
                        summit = start + offset
                out.append(Interval(cols[0], start, end, strand, summit, tuple(cols), number))
    except UnicodeDecodeError:
        raise SeqexplainError(f"{path}: not a text BED file (binary or non-UTF-8 content)"
                              ) from None
    except (EOFError, gzip.BadGzipFile) as exc:
        raise SeqexplainError(f"{path}: cannot read file ({exc})") from None
    if not out:
        raise SeqexplainError(f"{path}: no regions (an empty BED file)")
    return out


@dataclass(frozen=True)
class Window:
    chrom: str
    start: int
    end: int
    strand: str = "+"
    label: str | None = None

    @property
    def id(self) -> str:
        return f"{self.chrom}:{self.start}-{self.end}({self.strand})"


@dataclass
class RegionReport:
    """What building the windows found: counts a command reports."""

    n: int = 0
    off_edge: int = 0
    dropped: int = 0
    duplicates: int = 0
    first_duplicate: str | None = None

    def line(self, name: str, off_edge: str) -> str:
        parts = [f"{name}: {self.n} regions"]
        if self.off_edge:
            what = "dropped" if off_edge == "drop" else "padded with N"
            parts.append(f"{self.off_edge} running off a chromosome end ({what})")
        if self.duplicates:
            parts.append(f"{self.duplicates} duplicate(s) kept once (first: "
                         f"{self.first_duplicate})")
        return "; ".join(parts)


class RegionSource(RecordSource):
    """Regions of a genome as fixed-length records (see the module docstring).

    Parameters
    ----------
    regions : a BED/narrowPeak path, or a list of :class:`Interval`.
    genome : a genome FASTA path (plain or bgzip) or a :class:`Genome`.
    length : window length (the model's input length); ``None``: every interval's own width,
        which must then be the same for all.
    off_edge : ``"pad"`` (N beyond a chromosome end) or ``"drop"``.
    label_column : 1-based BED column whose value labels each region (``label=VALUE`` in the
        record description, read by :func:`seqexplain.labels.labels_for`).
    name : the name used in messages and as the class name (default: the BED path).
    """

    def __init__(self, regions, genome, length: int | None = None, off_edge: str = "pad",
                 label_column: int | None = None, name: str | None = None):
        off_edge = check_choice("off_edge", off_edge, OFF_EDGE)
        self.genome = open_genome(genome)
        if isinstance(regions, (str, os.PathLike)):
            self.name = name or os.fspath(regions)
            intervals = read_bed(regions)
        else:
            self.name = name or "regions"
            intervals = list(regions)
        if not intervals:
            raise SeqexplainError(f"{self.name}: no regions")
        self.genome.missing((iv.chrom for iv in intervals), self.name)
        if length is None:
            widths = {iv.end - iv.start for iv in intervals}
            if len(widths) > 1:
                raise SeqexplainError(f"{self.name}: regions have different widths "
                                      f"({min(widths)}–{max(widths)} bp); pass --length "
                                      "(windows of that length are centred on each region)")
            length = widths.pop()
        self.length = check_int("length", length, 1)
        if label_column is not None:
            label_column = check_int("label_column", label_column, 1)
            for iv in intervals:
                if len(iv.fields) < label_column:
                    raise SeqexplainError(f"{self.name}, line {iv.line}: no column "
                                          f"{label_column} (--label-column); the line has "
                                          f"{len(iv.fields)}")
        self.off_edge = off_edge
        self.intervals = intervals
        self.report = RegionReport()
        self.windows = self._windows(intervals, label_column)

    @classmethod
    def from_windows(cls, windows: Sequence[Window], genome, name: str) -> "RegionSource":
        """A source of ready-made windows (e.g. a background set)."""
        self = cls.__new__(cls)
        self.genome, self.name, self.off_edge = open_genome(genome), name, "pad"
        self.intervals, self.windows = [], list(windows)
        self.length = windows[0].end - windows[0].start if windows else 0
        self.report = RegionReport(n=len(self.windows))
        return self

    def _windows(self, intervals, label_column) -> list[Window]:
        L, report = self.length, self.report
        seen: set[str] = set()
        out = []
        for iv in intervals:
            centre = iv.summit if iv.summit is not None else (iv.start + iv.end) // 2
            start = centre - L // 2
            w = Window(iv.chrom, start, start + L, iv.strand,
                       iv.fields[label_column - 1] if label_column else None)
            if start < 0 or w.end > self.genome.lengths[iv.chrom]:
                report.off_edge += 1
                if self.off_edge == "drop":
                    report.dropped += 1
                    continue
            if w.id in seen:
                report.duplicates += 1
                report.first_duplicate = report.first_duplicate or w.id
                continue
            seen.add(w.id)
            out.append(w)
        report.n = len(out)
        if not out:
            raise SeqexplainError(f"{self.name}: no regions left ({report.dropped} ran off a "
                                  "chromosome end and were dropped)")
        return out

    def __len__(self) -> int:
        return len(self.windows)

    @property
    def ids(self) -> list[str]:
        return [w.id for w in self.windows]

    def sequence(self, w: Window) -> str:
        seq = self.genome.fetch(w.chrom, w.start, w.end)
        return reverse_complement(seq) if w.strand == "-" else seq

    def soft_masked(self) -> np.ndarray:
        """bool (windows, length): the genome's lowercase (soft-masked) bases of each window
        as its sequence reads (reversed on a ``-`` strand)."""
        rows = [self.genome.soft_masked(w.chrom, w.start, w.end) for w in self.windows]
        return np.stack([r[::-1] if w.strand == "-" else r
                         for r, w in zip(rows, self.windows)]).reshape(len(rows), self.length)

    def records(self) -> Iterator[tuple[str, str, str]]:
        for w in self.windows:
            yield w.id, (f"label={w.label}" if w.label is not None else ""), self.sequence(w)

    def summary(self) -> str:
        """One line: regions read, off-edge and duplicate counts."""
        return self.report.line(self.name, self.off_edge)

    def __repr__(self) -> str:
        return f"RegionSource({self.name!r}, {len(self)} windows of {self.length} bp)"


def read_regions(regions, genome, length: int | None = None, off_edge: str = "pad",
                 label_column: int | None = None) -> RegionSource:
    """Regions of a BED/narrowPeak file read from ``genome`` as fixed-length records: a
    :class:`RegionSource` that ``read_fasta``, ``read_encoded``, ``train_model``,
    ``predict_fasta`` and ``explain_fasta`` take in place of a FASTA path."""
    return RegionSource(regions, genome, length, off_edge=off_edge, label_column=label_column)


def _gc(seq: str) -> tuple[float, float]:
    """(GC fraction of the A/C/G/T bases, fraction of other letters)."""
    arr = np.frombuffer(seq.encode("ascii"), np.uint8)
    gc = int(np.isin(arr, (67, 71)).sum())
    acgt = gc + int(np.isin(arr, (65, 84)).sum())
    return (gc / acgt if acgt else 0.0), 1 - acgt / max(len(arr), 1)


class _Occupied:
    """Intervals per chromosome, sorted by start, for overlap queries in O(log n + k)."""

    def __init__(self):
        self.starts: dict[str, list[int]] = {}
        self.ends: dict[str, list[int]] = {}
        self.longest = 0

    def add(self, chrom: str, start: int, end: int) -> None:
        import bisect

        starts = self.starts.setdefault(chrom, [])
        k = bisect.bisect_left(starts, start)
        starts.insert(k, start)
        self.ends.setdefault(chrom, []).insert(k, end)
        self.longest = max(self.longest, end - start)

    def overlaps(self, chrom: str, start: int, end: int) -> bool:
        import bisect

        starts = self.starts.get(chrom)
        if not starts:
            return False
        ends = self.ends[chrom]
        # an overlapping interval starts before ``end`` and after ``start - longest``
        lo = bisect.bisect_right(starts, start - self.longest)
        hi = bisect.bisect_left(starts, end)
        return any(ends[k] > start for k in range(lo, hi))


def gc_matched_background(positives: RegionSource, n: int | None = None, seed: int = 0,
                          bins: int = 20, max_n_fraction: float = 0.01,
                          name: str = "background") -> RegionSource:
    """Background windows (``+`` strand, the positives' length) drawn at random from the
    positives' genome with the same GC distribution (GC fraction in ``bins`` equal bins, one
    background per positive by default), overlapping no positive interval or window and no
    other background window; windows with more than ``max_n_fraction`` N are skipped. Seeded:
    the same ``seed`` gives the same windows."""
    genome, L = positives.genome, positives.length
    n = len(positives) if n is None else check_int("n", n, 1)
    rng = np.random.default_rng(seed)
    pos_bins = np.array([min(int(_gc(seq)[0] * bins), bins - 1)
                         for _, _, seq in positives.records()])
    quota = np.bincount(rng.choice(pos_bins, n, replace=n > len(pos_bins)) if
                        n != len(pos_bins) else pos_bins, minlength=bins)
    taken = _Occupied()
    for w in positives.windows:
        taken.add(w.chrom, w.start, w.end)
    for iv in positives.intervals:
        taken.add(iv.chrom, iv.start, iv.end)
    chroms = [c for c, size in genome.lengths.items() if size >= L]
    if not chroms:
        raise SeqexplainError(f"{genome.path}: no chromosome is {L} bp long")
    sizes = np.array([genome.lengths[c] - L + 1 for c in chroms], float)
    chosen: list[Window] = []
    spare: list[tuple[int, Window]] = []
    for _ in range(200):
        if quota.sum() == 0:
            break
        k = max(64, 4 * int(quota.sum()))
        which = rng.choice(len(chroms), k, p=sizes / sizes.sum())
        starts = (rng.random(k) * sizes[which]).astype(np.int64)
        for c, s in zip(which, starts):
            chrom = chroms[c]
            if taken.overlaps(chrom, int(s), int(s) + L):
                continue
            gc, other = _gc(genome.fetch(chrom, int(s), int(s) + L))
            if other > max_n_fraction:
                continue
            b = min(int(gc * bins), bins - 1)
            w = Window(chrom, int(s), int(s) + L)
            if quota[b] > 0:
                quota[b] -= 1
                chosen.append(w)
                taken.add(chrom, w.start, w.end)
            elif len(spare) < 4 * n:
                spare.append((b, w))
            if quota.sum() == 0:
                break
    missing = int(quota.sum())
    if missing:  # rare GC bins: the nearest GC bins fill in
        wanted = np.repeat(np.arange(bins), quota)
        for b in wanted:
            spare.sort(key=lambda item: abs(item[0] - b))
            while spare:
                _, w = spare.pop(0)
                if not taken.overlaps(w.chrom, w.start, w.end):
                    chosen.append(w)
                    taken.add(w.chrom, w.start, w.end)
                    break
    if len(chosen) < n:
        raise SeqexplainError(f"{genome.path}: could draw only {len(chosen)} of {n} background "
                              "windows outside the positive regions (the genome is too small)")
    chosen.sort(key=lambda w: (chroms.index(w.chrom), w.start))
    return RegionSource.from_windows(chosen, genome, name)


@dataclass
class SequenceInputs:
    """What a command reads: FASTA paths and/or region sources, in order, and one line per
    region source to report."""

    sources: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def sequence_inputs(fastas: Sequence[str] = (), regions: Sequence[str] = (), genome=None,
                    length: int | None = None, off_edge: str = "pad",
                    label_column: int | None = None, background: str | None = None,
                    seed: int = 0, many: bool = True) -> SequenceInputs:
    """The inputs of a command that takes FASTA file(s) or ``--regions`` + ``--genome``:
    exactly one kind; ``--genome`` with regions; one regions file unless ``many``; a
    background set drawn for ``background="gc-matched"``."""
    fastas, regions = list(fastas or ()), list(regions or ())
    check_input_choice(fastas, regions, genome, label_column, background, many)
    if not regions:
        return SequenceInputs(fastas)
    g = open_genome(genome)
    sources = [RegionSource(r, g, length, off_edge, label_column) for r in regions]
    notes = [s.summary() for s in sources]
    if background is not None:
        check_choice("background", background, BACKGROUNDS)
        back = gc_matched_background(sources[0], seed=seed)
        sources.append(back)
        notes.append(f"background: {len(back)} GC-matched windows (seed {seed})")
    return SequenceInputs(sources, notes)


def check_input_option(fastas=(), regions=(), genome=None, **options) -> None:
    """:func:`check_input_choice` as a file verb checks its options before any work: a wrong
    combination is an :class:`~seqexplain.errors.OptionError` (a usage error, exit 2)."""
    try:
        check_input_choice(fastas, regions, genome, **options)
    except OptionError:
        raise
    except SeqexplainError as exc:
        raise OptionError(str(exc)) from None


def check_input_choice(fastas=(), regions=(), genome=None, label_column=None, background=None,
                       many: bool = True) -> None:
    """The combination of inputs is valid (checked before any file is read): FASTA file(s)
    or ``--regions`` with ``--genome``, not both."""
    fastas, regions = list(fastas or ()), list(regions or ())
    if fastas and regions:
        raise SeqexplainError("give FASTA file(s) or --regions, not both")
    if not fastas and not regions:
        raise SeqexplainError("no sequences: give a FASTA file or --regions FILE.bed "
                              "--genome GENOME.fa")
    if genome and not regions:
        raise SeqexplainError("--genome is used with --regions")
    if label_column is not None and not regions:
        raise SeqexplainError("--label-column is used with --regions")
    if background is not None and not regions:
        raise SeqexplainError("--background is used with --regions")
    if regions and not genome:
        raise SeqexplainError("--regions needs --genome GENOME.fa (the genome the regions "
                              "are on)")
    if not many and len(regions) > 1:
        raise SeqexplainError("give one --regions file")
    if background is not None and (len(regions) != 1 or label_column is not None):
        raise SeqexplainError("--background gc-matched takes one --regions file of "
                              "positives (and no --label-column)")
