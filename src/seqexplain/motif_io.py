"""Motifs as position frequency matrices: read JASPAR and MEME files (with ``Bio.motifs``),
build them from IUPAC consensus strings, resolve names given on the command line, write MEME.

Every motif becomes a :class:`Motif` whose ``pfm`` has shape (width, 4), channels A, C, G, T
(RNA motifs' U is read as T), each row summing to 1.

Formats are recognised by content, whatever the file extension:

- JASPAR (``>MA0139.2 CTCF`` headers, then ``A [ ... ]`` count rows) — Bio format ``"jaspar"``;
- MEME minimal, the text format MEME-suite tools exchange (starts with ``MEME version``) — Bio
  format ``"minimal"``;
- MEME XML output (``<MEME version=…>``) — Bio format ``"meme"``.

Biopython's MEME text reader rebuilds counts as probability × ``nsites`` rounded to whole
numbers, so a MEME file's matrix is read to a precision of ``1 / nsites``. :func:`write_meme`
therefore writes each motif's real site count when it is known and :data:`DEFAULT_NSITES`
otherwise.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from Bio import motifs as bio_motifs

from .alphabets import DNA
from .encoding import one_hot
from .errors import SeqexplainError
from .outputs import atomic_file

#: Letters a consensus motif may contain: A C G T, the IUPAC codes and N (any base).
CONSENSUS_LETTERS = DNA.accepted_letters()
#: Biopython format name → what users call the format, for messages.
_FORMAT_NAMES = {"jaspar": "JASPAR", "minimal": "MEME", "meme": "MEME XML"}
#: ``nsites`` written for motifs whose number of sites is unknown (consensus motifs, learned
#: matrices), so that readers rebuilding counts from it keep three decimals.
DEFAULT_NSITES = 1000


@dataclass(eq=False)
class Motif:
    """A DNA motif.

    Attributes
    ----------
    id : identifier, e.g. ``"MA0139.2"`` (for a consensus motif, the consensus).
    name : display name, e.g. ``"CTCF"``; names label simulated data and plots.
    pfm : float64 array, shape (width, 4) — base probabilities per position, columns A, C, G, T,
        each row summing to 1.
    source : the file the motif was read from, or ``"consensus"``.
    nsites : number of sites the matrix was built from, when known.
    """

    id: str
    name: str
    pfm: np.ndarray
    source: str
    nsites: int | None = None

    @property
    def width(self) -> int:
        return int(self.pfm.shape[0])

    def __repr__(self) -> str:
        return f"Motif({self.id!r}, {self.name!r}, width={self.width}, source={self.source!r})"


def _normalised_pfm(counts: np.ndarray, label: str) -> np.ndarray:
    """Rows of ``counts`` (width, 4) scaled to sum to 1; refuses empty, negative or blank rows."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[1] != 4 or counts.shape[0] == 0:
        raise SeqexplainError(f"{label}: matrix has shape {counts.shape}; expected (width, 4)")
    if not np.isfinite(counts).all() or (counts < 0).any():
        raise SeqexplainError(f"{label}: matrix has negative or non-finite values")
    totals = counts.sum(axis=1, keepdims=True)
    if (totals == 0).any():
        position = int(np.argmin(totals[:, 0])) + 1
        raise SeqexplainError(f"{label}: position {position} has no counts")
    return counts / totals


def consensus_motif(consensus: str) -> Motif:
    """A motif from an IUPAC consensus string (case-insensitive).

    Each code shares probability equally among its bases (``R`` → A 0.5, G 0.5; ``N`` → 0.25
    each), e.g. ``consensus_motif("CCGCGNGGNGGCAG")`` for CTCF's core.
    """
    letters = consensus.upper()
    bad = sorted(set(letters) - set(CONSENSUS_LETTERS))
    if not letters or bad:
        raise SeqexplainError(f"consensus {consensus!r}: use the IUPAC letters "
                              f"{CONSENSUS_LETTERS}" + (f" (not {''.join(bad)})" if bad else ""))
    pfm = _normalised_pfm(one_hot([letters], "dna", unknown="uniform")[0], consensus)
    return Motif(id=letters, name=letters, pfm=pfm, source="consensus")


def is_consensus(token: str) -> bool:
    """Whether ``token`` is made only of IUPAC DNA letters (any case)."""
    return bool(token) and set(token.upper()) <= set(CONSENSUS_LETTERS)


def read_motifs(path: str | os.PathLike) -> list[Motif]:
    """Every motif in a JASPAR, MEME minimal or MEME XML file (format detected by content).

    Raises
    ------
    SeqexplainError
        A missing or unreadable file, an unknown format, a non-DNA/RNA alphabet, or a matrix
        with an empty position; the message names the file.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise SeqexplainError(f"{path}: no such motif file")
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError:
        raise SeqexplainError(f"{path}: not a text motif file") from None
    fmt = _detect_format(text, path)
    try:
        parsed = list(bio_motifs.parse(io.StringIO(text), fmt))
    except (ValueError, KeyError, IndexError, AttributeError) as exc:
        raise SeqexplainError(f"{path}: cannot read it as {_FORMAT_NAMES[fmt]} ({exc})"
                              ) from None
    if not parsed:
        raise SeqexplainError(f"{path}: no motifs found")
    if fmt == "minimal":
        # Biopython keeps only the first word of ``MOTIF id [name]``; recover the names.
        titles = re.findall(r"^MOTIF[ \t]+(\S+)[ \t]*(\S*)", text, flags=re.MULTILINE)
        if len(titles) != len(parsed):
            raise SeqexplainError(f"{path}: {len(titles)} MOTIF lines but {len(parsed)} "
                                  "matrices")
        names = [(motif_id, alt or motif_id) for motif_id, alt in titles]
    elif fmt == "meme":
        # As in MEME's text output (``MOTIF GCGCATGC MEME-1``): the name attribute is the id.
        names = [(m.name or m.id, m.alt_id or m.name or m.id) for m in parsed]
    else:
        names = [(m.matrix_id or m.name, m.name or m.matrix_id) for m in parsed]
    return [_from_bio(m, motif_id, name, path) for m, (motif_id, name) in zip(parsed, names)]


def _detect_format(text: str, path: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if first.startswith(">"):
        return "jaspar"
    if first.startswith("MEME version"):
        return "minimal"
    if first.startswith("<?xml") or first.startswith("<MEME"):
        return "meme"
    raise SeqexplainError(f"{path}: not a JASPAR or MEME motif file (it starts with "
                          f"{first[:30]!r})")


def _from_bio(motif, motif_id: str, name: str, path: str) -> Motif:
    letters = str(motif.alphabet).upper()
    if sorted(letters) not in (list("ACGT"), list("ACGU")):
        raise SeqexplainError(f"{path}: motif {motif_id!r}: alphabet {letters!r} is not DNA/RNA")
    counts = np.array([motif.counts[letter] for letter in letters], dtype=np.float64).T
    order = [letters.index(base) for base in ("A", "C", "G", "U" if "U" in letters else "T")]
    counts = counts[:, order]
    pfm = _normalised_pfm(counts, f"{path}: motif {motif_id!r}")
    # MEME files state nsites; JASPAR columns count sites, and can differ by a few.
    nsites = getattr(motif, "num_occurrences", None) or int(round(counts.sum(axis=1).max()))
    return Motif(id=motif_id, name=name, pfm=pfm, source=path, nsites=nsites)


def load_motifs(tokens: Iterable[str], motif_files: Sequence[str | os.PathLike] = ()
                ) -> list[Motif]:
    """Resolve motif tokens (e.g. from repeated ``--motif`` options), in order.

    A token is, first, a motif id or name in ``motif_files`` (case-insensitive; ``"CTCF"``,
    ``"MA0139.2"``, or ``"MA0139"`` without the version); otherwise, when it consists of IUPAC
    letters, a consensus (see :func:`consensus_motif`).

    Raises
    ------
    SeqexplainError
        A token that matches nothing (the message lists the motifs available) or several
        motifs (e.g. two versions of one name; give the id instead).
    """
    available = [m for path in motif_files for m in read_motifs(path)]
    resolved = []
    for token in tokens:
        key = token.strip().casefold()
        matches = [m for m in available if m.id.casefold() == key]
        if not matches:
            matches = [m for m in available
                       if m.name.casefold() == key or m.id.casefold().split(".")[0] == key]
        if len(matches) > 1:
            listed = ", ".join(f"{m.id} {m.name} ({m.source})" for m in matches)
            raise SeqexplainError(f"motif {token!r} is ambiguous: it matches {listed}; "
                                  "give one id")
        if matches:
            resolved.append(matches[0])
        elif is_consensus(token.strip()):
            resolved.append(consensus_motif(token.strip()))
        else:
            raise SeqexplainError(_unknown_motif_message(token, available, motif_files))
    return resolved


def _unknown_motif_message(token: str, available: list[Motif], motif_files) -> str:
    if not motif_files:
        return (f"unknown motif {token!r}: not an IUPAC consensus ({CONSENSUS_LETTERS}) and no "
                "motif file was given to look names up in (--motif-file)")
    files = ", ".join(os.fspath(p) for p in motif_files)
    names = ", ".join(f"{m.name} ({m.id})" if m.name != m.id else m.id for m in available)
    return (f"unknown motif {token!r}: not an id or name in {files} (available: {names}) and "
            f"not an IUPAC consensus ({CONSENSUS_LETTERS})")


def write_meme(motifs: Sequence[Motif], path: str | os.PathLike, force: bool = False,
               letters: str = "ACGT") -> Path:
    """Write motifs as a MEME minimal (version 4) file, atomically.

    Each motif is written as ``MOTIF <id> <name>`` with its letter-probability matrix (6
    decimals) and ``nsites`` = its site count, or :data:`DEFAULT_NSITES` when unknown. Spaces
    in ids and names become underscores (MEME splits the line on whitespace). ``letters``: the
    alphabet of the matrices' columns (``ACGT``, ``ACGU`` or the 20 amino acids); only DNA
    declares both strands.
    """
    if not motifs:
        raise SeqexplainError("no motifs to write")
    background = " ".join(f"{c} {1 / len(letters):.4g}" for c in letters)
    lines = ["MEME version 4", "", f"ALPHABET= {letters}", ""]
    if letters == "ACGT":
        lines += ["strands: + -", ""]
    lines += ["Background letter frequencies", background, ""]
    for motif in motifs:
        motif_id = re.sub(r"\s+", "_", motif.id)
        name = re.sub(r"\s+", "_", motif.name)
        lines.append(f"MOTIF {motif_id} {name}" if name != motif_id else f"MOTIF {motif_id}")
        nsites = motif.nsites or DEFAULT_NSITES
        lines.append(f"letter-probability matrix: alength= {len(letters)} w= {motif.width} "
                     f"nsites= {nsites} E= 0")
        lines += [" ".join(f"{p:.6f}" for p in row) for row in motif.pfm]
        lines.append("")
    with atomic_file(path, force=force) as tmp:
        tmp.write_text("\n".join(lines), encoding="utf-8")
    return Path(path)
