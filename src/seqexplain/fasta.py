"""Reading FASTA files (plain or gzip) with Biopython: whole, or streamed in batches.

Records are checked as they stream: an empty file, text with no ``>`` header, binary or
non-UTF-8 content, an empty id or an empty sequence, and duplicate ids are errors that name the
file and the record. Blank lines and ``#``/``;`` comment lines before the first header are
skipped (Pfam/Stockholm-derived FASTA files often carry them).
"""

from __future__ import annotations

import gzip
import itertools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from Bio.SeqIO.FastaIO import SimpleFastaParser

from .alphabets import Alphabet, detect_alphabet
from .encoding import OneHot, encode, resolve_alphabet
from .errors import SeqexplainError

GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class FastaRecords:
    """Records of one or more FASTA files, in file order.

    ``sources[i]`` is the file record ``i`` came from (for error messages and for labels taken
    from file names)."""

    ids: list[str] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    sequences: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def extend(self, other: "FastaRecords") -> None:
        self.ids += other.ids
        self.descriptions += other.descriptions
        self.sequences += other.sequences
        self.sources += other.sources


_GENOMIC_ID = re.compile(r"^(?P<chrom>[^:\s]+):(?P<start>-?\d[\d,]*)-(?P<end>\d[\d,]*)"
                         r"(?:\((?P<strand>[-+.])\))?$")


def genomic_interval(record_id: str) -> tuple[str, int, int] | None:
    """``(chrom, start, end)`` of a record named ``chrom:start-end`` or
    ``chrom:start-end(strand)`` (0-based, half-open; commas allowed in the numbers, as genome
    browsers print them); ``None`` for any other id."""
    m = _GENOMIC_ID.match(record_id)
    if m is None:
        return None
    return m["chrom"], int(m["start"].replace(",", "")), int(m["end"].replace(",", ""))


def genomic_strand(record_id: str) -> str:
    """``"-"`` for a record named ``chrom:start-end(-)`` (its sequence is the reverse
    complement of the interval, as :mod:`seqexplain.genome` writes it), else ``"+"``."""
    m = _GENOMIC_ID.match(record_id)
    return "-" if m is not None and m["strand"] == "-" else "+"


def to_genome(record_id: str, start, end):
    """Sequence coordinates ``[start, end)`` of record ``record_id`` (a ``chrom:start-end``
    id) as genome coordinates ``(chrom, genome_start, genome_end)``; minus-strand records
    count from the interval's end. ``None`` for a non-genomic id."""
    interval = genomic_interval(record_id)
    if interval is None:
        return None
    chrom, s, e = interval
    if genomic_strand(record_id) == "-":
        return chrom, e - end, e - start
    return chrom, s + start, s + end


class RecordSource:
    """Records that do not come from a FASTA file (e.g. genome regions,
    :class:`seqexplain.genome.RegionSource`) but go wherever a FASTA path goes: every reader
    here (:func:`iter_fasta`, :func:`read_fasta`, :func:`iter_fasta_batches`,
    :func:`scan_fasta`, :func:`read_encoded`) takes one. ``os.fspath(source)`` is the name
    used in messages and as the class name of a file (the regions file)."""

    name: str = "records"

    def records(self) -> Iterator[tuple[str, str, str]]:
        """Yield ``(id, description, sequence)``."""
        raise NotImplementedError

    def __fspath__(self) -> str:
        return self.name

    def __str__(self) -> str:
        return self.name


def _open_text(path: str | os.PathLike):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise SeqexplainError(f"{path}: no such file")
    if os.path.isdir(path):
        raise SeqexplainError(f"{path}: is a directory, not a FASTA file")
    with open(path, "rb") as fh:
        head = fh.read(2)
    if head == GZIP_MAGIC:
        return gzip.open(path, "rt", encoding="utf-8", newline=None)
    return open(path, "rt", encoding="utf-8", newline=None)


def iter_fasta(path: str | os.PathLike, check_duplicates: bool = True
               ) -> Iterator[tuple[str, str, str]]:
    """Yield ``(id, description, sequence)`` for each record of a FASTA file (plain or .gz).

    The id is the first word of the header, the description the rest of it. ``path`` may also
    be a :class:`RecordSource` (genome regions)."""
    if isinstance(path, RecordSource):
        yield from path.records()
        return
    path = os.fspath(path)
    seen: set[str] = set()
    try:
        with _open_text(path) as handle:
            lines = iter(handle)
            first = _skip_preamble(lines, path)
            for title, seq in SimpleFastaParser(itertools.chain([first], lines)):
                parts = title.split(None, 1)
                if not parts:
                    raise SeqexplainError(f"{path}: a header ('>') has no id")
                rid = parts[0]
                if not seq:
                    raise SeqexplainError(f"{path}: record {rid!r}: empty sequence")
                if check_duplicates:
                    if rid in seen:
                        raise SeqexplainError(f"{path}: record {rid!r}: duplicate id")
                    seen.add(rid)
                yield rid, (parts[1] if len(parts) > 1 else ""), seq
    except UnicodeDecodeError:
        raise SeqexplainError(f"{path}: not a text FASTA file (binary or non-UTF-8 content)"
                              ) from None
    except (EOFError, gzip.BadGzipFile, OSError) as exc:
        raise SeqexplainError(f"{path}: cannot read file ({exc})") from None


def _skip_preamble(lines: Iterator[str], path: str) -> str:
    """Return the first header line; allow blank and comment lines before it."""
    for number, line in enumerate(lines, start=1):
        if "\x00" in line:
            raise SeqexplainError(f"{path}: not a text FASTA file (binary content)")
        if line.startswith(">"):
            return line
        text = line.strip()
        if not text or text[0] in "#;":
            continue
        raise SeqexplainError(f"{path}: line {number}: expected a FASTA header starting with '>',"
                              f" found {text[:30]!r}")
    raise SeqexplainError(f"{path}: empty file (no FASTA records)")


def read_fasta(paths: str | os.PathLike | list, check_duplicates: bool = True) -> FastaRecords:
    """Read every record of one or more FASTA files into memory.

    Ids must be unique across all files when ``check_duplicates`` is set."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    records = FastaRecords()
    first_source: dict[str, str] = {}
    for source in paths:
        path = os.fspath(source)
        for rid, desc, seq in iter_fasta(source, check_duplicates=check_duplicates):
            if check_duplicates and len(paths) > 1:
                if rid in first_source and first_source[rid] != path:
                    raise SeqexplainError(f"{path}: record {rid!r}: duplicate id (also in "
                                          f"{first_source[rid]})")
                first_source[rid] = path
            records.ids.append(rid)
            records.descriptions.append(desc)
            records.sequences.append(seq)
            records.sources.append(path)
    return records


def iter_fasta_batches(path: str | os.PathLike, batch_size: int = 10_000,
                       check_duplicates: bool = True) -> Iterator[FastaRecords]:
    """Stream a FASTA file as :class:`FastaRecords` batches of at most ``batch_size`` records."""
    if batch_size <= 0:
        raise SeqexplainError(f"batch size must be positive, got {batch_size}")
    it = iter_fasta(path, check_duplicates=check_duplicates)
    path = os.fspath(path)
    while True:
        chunk = list(itertools.islice(it, batch_size))
        if not chunk:
            return
        ids, descs, seqs = (list(col) for col in zip(*chunk))
        yield FastaRecords(ids, descs, seqs, [path] * len(ids))


@dataclass
class FastaScan:
    """What one streaming pass learns about a FASTA file without keeping its sequences."""

    n: int
    min_length: int
    max_length: int
    alphabet: Alphabet | None


def scan_fasta(path: str | os.PathLike, detect: bool = True) -> FastaScan:
    """Count records and lengths (and detect the alphabet) in one bounded-memory pass."""
    n, lo, hi = 0, None, 0
    counts = np.zeros(256, dtype=np.int64)
    for rid, _, seq in iter_fasta(path):
        n += 1
        ln = len(seq)
        lo = ln if lo is None else min(lo, ln)
        hi = max(hi, ln)
        if detect:
            counts += np.bincount(np.frombuffer(seq.encode("ascii", "replace"), np.uint8),
                                  minlength=256)
    alph = None
    if detect:
        letters = {chr(65 + i): int(counts[65 + i] + counts[97 + i]) for i in range(26)}
        alph = detect_alphabet(letters, source=os.fspath(path))
    return FastaScan(n=n, min_length=lo or 0, max_length=hi, alphabet=alph)


def read_encoded(paths, alphabet: str | Alphabet = "auto", length: int | None = None,
                 pad: str = "center", crop: str = "center", unknown: str = "zero"
                 ) -> tuple[FastaRecords, OneHot]:
    """Read FASTA file(s) and one-hot encode every record. Returns ``(records, encoded)``."""
    records = read_fasta(paths)
    source = records.sources[0] if len(set(records.sources)) == 1 else ", ".join(
        dict.fromkeys(records.sources))
    alph = resolve_alphabet(alphabet, records.sequences, source)
    encoded = _encode_records(records, alph, length, pad, crop, unknown)
    return records, encoded


def _encode_records(records: FastaRecords, alph: Alphabet, length, pad, crop, unknown) -> OneHot:
    # Encode file by file so errors name the right file; concatenate once.
    if len(set(records.sources)) <= 1:
        return encode(records.sequences, alph, length, pad=pad, crop=crop, unknown=unknown,
                      ids=records.ids, source=records.sources[0] if records.sources else None)
    if length is None:
        length = max(map(len, records.sequences))
    parts = []
    src = np.asarray(records.sources)
    for source in dict.fromkeys(records.sources):
        idx = np.nonzero(src == source)[0]
        parts.append(encode([records.sequences[i] for i in idx], alph, length, pad=pad,
                            crop=crop, unknown=unknown, ids=[records.ids[i] for i in idx],
                            source=source))
    return OneHot(onehot=np.concatenate([p.onehot for p in parts]), alphabet=alph,
                  lengths=np.concatenate([p.lengths for p in parts]),
                  n_padded=sum(p.n_padded for p in parts),
                  n_cropped=sum(p.n_cropped for p in parts),
                  offsets=np.concatenate([p.offsets for p in parts]))


def iter_encoded(path: str | os.PathLike, alphabet: str | Alphabet = "auto",
                 length: int | None = None, batch_size: int = 10_000, pad: str = "center",
                 crop: str = "center", unknown: str = "zero", check_duplicates: bool = True
                 ) -> Iterator[tuple[list[str], OneHot]]:
    """Stream a FASTA file as one-hot batches: yields ``(ids, OneHot)`` with bounded memory.

    With ``alphabet="auto"`` or ``length=None`` a first streaming pass over the file detects
    the alphabet / finds the longest sequence, so every batch has the same shape. The
    duplicate-id check keeps every id seen (about 100 bytes per record); switch it off with
    ``check_duplicates=False`` for files of many millions of records."""
    source, path = path, os.fspath(path)
    auto = isinstance(alphabet, str) and alphabet.lower() == "auto"
    if auto or length is None:
        scan = scan_fasta(source, detect=auto)
        alph = scan.alphabet if auto else resolve_alphabet(alphabet, [], path)
        length = scan.max_length if length is None else length
    else:
        alph = resolve_alphabet(alphabet, [], path)
    for batch in iter_fasta_batches(source, batch_size, check_duplicates=check_duplicates):
        yield batch.ids, encode(batch.sequences, alph, length, pad=pad, crop=crop,
                                unknown=unknown, ids=batch.ids, source=path)
