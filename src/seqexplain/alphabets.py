"""Sequence alphabets: channel order, ambiguity codes and the byte → one-hot row tables.

Channel orders (fixed, documented):

- DNA: ``ACGT``
- RNA: ``ACGU``
- protein: ``ACDEFGHIKLMNPQRSTVWY`` (the 20 standard amino acids, alphabetical one-letter code)

Letters are case-insensitive. DNA/RNA: ``N`` is an all-zero row (or uniform 0.25 with
``unknown="uniform"``); IUPAC codes ``R Y S W K M B D H V`` are fractional rows summing to 1.
Protein: ``X`` is an all-zero row (or uniform 0.05); ``B`` = D/N, ``Z`` = E/Q, ``J`` = I/L at 0.5
each; ``U`` (selenocysteine) is read as ``C`` and ``O`` (pyrrolysine) as ``K``; ``*`` (stop) is an
all-zero row. Alignment gaps ``-`` and ``.`` are all-zero rows in every alphabet. Any other
character is an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .errors import SeqexplainError

GAPS = "-."

_DNA_IUPAC = {
    "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT", "M": "AC",
    "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG",
}


@dataclass(frozen=True)
class Alphabet:
    """A sequence alphabet.

    Attributes
    ----------
    name : "dna", "rna" or "protein".
    letters : the channel order; ``len(letters)`` is the number of one-hot channels.
    ambiguity : code → the letters it stands for, each given an equal share of 1.
    unknown_letter : the "any residue" letter ("N" or "X"): zero row, or uniform on request.
    zero_letters : further letters encoded as all-zero rows (gaps, protein stop ``*``).
    complement : the complement of each letter of ``letters`` (nucleic acids only).
    """

    name: str
    letters: str
    ambiguity: dict = field(default_factory=dict, compare=False)
    unknown_letter: str = "N"
    zero_letters: str = GAPS
    complement: str | None = None

    @property
    def channels(self) -> int:
        return len(self.letters)

    @property
    def is_nucleic(self) -> bool:
        return self.complement is not None

    def accepted_letters(self) -> str:
        """Every upper-case letter this alphabet reads (without gaps)."""
        return self.letters + "".join(self.ambiguity) + self.unknown_letter

    def table(self, unknown: str = "zero") -> tuple[np.ndarray, np.ndarray]:
        """Return ``(rows, valid)``: a (256, C) float32 one-hot row per byte value and a (256,)
        bool mask of the bytes this alphabet accepts (both cases of every letter)."""
        return _table(self, unknown)

    def complement_string(self, seq: str) -> str:
        if not self.is_nucleic:
            raise SeqexplainError(f"reverse complement is defined for DNA and RNA, not {self.name}")
        return seq.translate(_complement_translation(self))

    def __str__(self) -> str:
        return self.name


def _nucleic(name: str, t: str) -> Alphabet:
    amb = {k: v.replace("T", t) for k, v in _DNA_IUPAC.items()}
    return Alphabet(name=name, letters="ACG" + t, ambiguity=amb, unknown_letter="N",
                    zero_letters=GAPS, complement=t + "GCA")


DNA = _nucleic("dna", "T")
RNA = _nucleic("rna", "U")
PROTEIN = Alphabet(
    name="protein",
    letters="ACDEFGHIKLMNPQRSTVWY",
    ambiguity={"B": "DN", "Z": "EQ", "J": "IL", "U": "C", "O": "K"},
    unknown_letter="X",
    zero_letters=GAPS + "*",
    complement=None,
)

ALPHABETS = {"dna": DNA, "rna": RNA, "protein": PROTEIN}
UNKNOWN_MODES = ("zero", "uniform")


def get_alphabet(name: str | Alphabet) -> Alphabet:
    """Look up an alphabet by name ("dna", "rna", "protein"; case-insensitive)."""
    if isinstance(name, Alphabet):
        return name
    try:
        return ALPHABETS[str(name).lower()]
    except KeyError:
        raise SeqexplainError(
            f"unknown alphabet {name!r}: choose one of {', '.join(ALPHABETS)} or 'auto'"
        ) from None


def alphabet_from_letters(letters: str) -> Alphabet:
    """The alphabet whose channel order is ``letters`` (e.g. "ACGT" → DNA)."""
    for alph in ALPHABETS.values():
        if alph.letters == str(letters).upper():
            return alph
    raise SeqexplainError(f"no alphabet has the channel order {letters!r}")


def alphabet_for(channels: int, alphabet: str | Alphabet | None = None) -> Alphabet:
    """The alphabet of a one-hot array with ``channels`` channels: ``alphabet`` (a name or an
    :class:`Alphabet`) checked against them, or by default DNA for 4 and protein for 20."""
    if alphabet is not None:
        alph = get_alphabet(alphabet)
    elif channels in (4, 20):
        alph = DNA if channels == 4 else PROTEIN
    else:
        raise SeqexplainError(f"{channels} channels: give the alphabet (dna, rna or protein)")
    if alph.channels != channels:
        raise SeqexplainError(f"{channels} channels, but {alph.name} has {alph.channels}")
    return alph


@lru_cache(maxsize=None)
def _table(alph: Alphabet, unknown: str) -> tuple[np.ndarray, np.ndarray]:
    if unknown not in UNKNOWN_MODES:
        raise SeqexplainError(f"unknown={unknown!r}: choose 'zero' or 'uniform'")
    c = alph.channels
    rows = np.zeros((256, c), dtype=np.float32)
    valid = np.zeros(256, dtype=bool)

    def put(letter: str, row: np.ndarray) -> None:
        for ch in {letter.upper(), letter.lower()}:
            rows[ord(ch)] = row
            valid[ord(ch)] = True

    for i, letter in enumerate(alph.letters):
        row = np.zeros(c, np.float32)
        row[i] = 1.0
        put(letter, row)
    for code, meaning in alph.ambiguity.items():
        row = np.zeros(c, np.float32)
        for letter in meaning:
            row[alph.letters.index(letter)] = 1.0 / len(meaning)
        put(code, row)
    put(alph.unknown_letter,
        np.full(c, 1.0 / c, np.float32) if unknown == "uniform" else np.zeros(c, np.float32))
    for letter in alph.zero_letters:
        put(letter, np.zeros(c, np.float32))
    rows.setflags(write=False)
    valid.setflags(write=False)
    return rows, valid


@lru_cache(maxsize=None)
def _complement_translation(alph: Alphabet) -> dict:
    pairs = dict(zip(alph.letters, alph.complement))
    # IUPAC codes complement to the code of the complemented set (R=AG ↔ Y=CT, ...).
    by_set = {frozenset(v): k for k, v in alph.ambiguity.items()}
    for code, meaning in alph.ambiguity.items():
        comp = frozenset(pairs[x] for x in meaning)
        pairs[code] = by_set.get(comp, code)
    pairs[alph.unknown_letter] = alph.unknown_letter
    table = {}
    for k, v in pairs.items():
        table[ord(k)] = v
        table[ord(k.lower())] = v.lower()
    return table


# --- alphabet detection ---------------------------------------------------------------------

_NUCLEIC_CORE = set("ACGTUN")
_NUCLEIC_ALL = _NUCLEIC_CORE | set(_DNA_IUPAC)
#: Fraction of A/C/G/T/U/N letters above which a sequence made only of IUPAC letters is read as
#: nucleic acid; below it, the letters could equally be a protein (D, H, K, M, R, S, V, W, Y...).
NUCLEIC_MIN_CORE_FRACTION = 0.9


def detect_alphabet(counts: dict[str, int], source: str | None = None) -> Alphabet:
    """Choose DNA, RNA or protein from upper-case letter counts (gaps and ``*`` excluded).

    DNA if A/C/G/T/N make up at least 90 % of the letters (RNA if U appears instead of T),
    whatever the other letters are: a stray non-nucleotide letter is then an invalid
    character, reported by the encoder with its record and position. Protein otherwise.
    Raises :class:`SeqexplainError` when the letters fit more than one alphabet equally well.
    """
    prefix = f"{source}: " if source else ""
    # Only letters vote: a stray '@' or digit is an encoding error, reported with its position.
    letters = {k for k, v in counts.items() if v > 0 and len(k) == 1 and "A" <= k <= "Z"}
    if not letters:
        raise SeqexplainError(f"{prefix}no sequence letters to detect the alphabet from; "
                              "pass --alphabet dna|rna|protein")
    total = sum(counts[k] for k in letters)
    core = sum(counts[k] for k in letters & _NUCLEIC_CORE) / total
    # Mostly A/C/G/T/U/N is nucleic acid even with a few other letters (no real protein comes
    # near 90 %): a stray J or E is then reported as an invalid letter, with its record and
    # position, instead of turning a DNA file into protein.
    if core >= NUCLEIC_MIN_CORE_FRACTION:
        if "T" in letters and "U" in letters:
            raise SeqexplainError(f"{prefix}the sequences contain both T and U, so they are "
                                  "neither plain DNA nor RNA; pass --alphabet dna|rna|protein")
        return RNA if "U" in letters else DNA
    if letters <= _NUCLEIC_ALL:
        raise SeqexplainError(
            f"{prefix}cannot tell whether the sequences are nucleic acid or protein (only "
            f"{core:.0%} of letters are A/C/G/T/U/N); pass --alphabet dna|rna|protein")
    return PROTEIN
