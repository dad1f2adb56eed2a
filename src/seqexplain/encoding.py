"""One-hot encoding of sequences, decoding, reverse complement and length fitting.

All encoding is vectorised: sequences are joined into one byte buffer, checked against the
alphabet's table of accepted bytes, and turned into rows by chunked ``np.take`` calls that
write straight into the pre-allocated output. Peak memory is the float32 output plus about
three bytes per base (the joined text, its bytes and the validity mask, freed before the
output is filled).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .alphabets import Alphabet, detect_alphabet, get_alphabet
from .errors import SeqexplainError, where

PAD_MODES = ("center", "left", "right")
CROP_MODES = ("center", "left", "right", "error")


@dataclass
class OneHot:
    """Encoded sequences.

    Attributes
    ----------
    onehot : float32 array, shape (n, length, channels) — channels last (Keras Conv1D layout).
    alphabet : the :class:`Alphabet` of the channels.
    lengths : int array, shape (n,) — each sequence's length before padding/cropping.
    n_padded, n_cropped : how many sequences were shorter / longer than ``length``.
    offsets : int array, shape (n,) — the 0-based sequence coordinate of row position 0:
        negative for a padded sequence (its first base sits at row position ``-offset``),
        positive for a cropped one. Row position ``p`` is base ``p + offset`` of the sequence.
    """

    onehot: np.ndarray
    alphabet: Alphabet
    lengths: np.ndarray
    n_padded: int
    n_cropped: int
    offsets: np.ndarray | None = None

    @property
    def length(self) -> int:
        return self.onehot.shape[1]

    def summary(self) -> str:
        """One line for logs: ``500 sequences × 200 positions (dna); 3 padded, 0 cropped``."""
        n, length, _ = self.onehot.shape
        return (f"{n} sequences × {length} positions ({self.alphabet.name}); "
                f"{self.n_padded} padded, {self.n_cropped} cropped")


def letter_counts(sequences: Sequence[str]) -> dict[str, int]:
    """Upper-case letter → count over all ``sequences`` (vectorised)."""
    joined = "".join(sequences).encode("ascii", errors="replace")
    counts = np.bincount(np.frombuffer(joined, np.uint8), minlength=256)
    upper = counts[65:91] + counts[97:123]
    out = {chr(65 + i): int(c) for i, c in enumerate(upper) if c}
    for ch in "-.*":
        if counts[ord(ch)]:
            out[ch] = int(counts[ord(ch)])
    return out


def resolve_alphabet(alphabet: str | Alphabet, sequences: Sequence[str],
                     source: str | None = None) -> Alphabet:
    """``alphabet`` itself, or the one detected from ``sequences`` when it is ``"auto"``."""
    if isinstance(alphabet, str) and alphabet.lower() == "auto":
        return detect_alphabet(letter_counts(sequences), source=source)
    return get_alphabet(alphabet)


def encode(sequences: Sequence[str], alphabet: str | Alphabet = "dna", length: int | None = None,
           pad: str = "center", crop: str = "center", unknown: str = "zero",
           ids: Sequence[str] | None = None, source: str | None = None,
           fixed_by: str | None = None) -> OneHot:
    """One-hot encode sequences into a float32 array of shape (n, length, channels).

    Parameters
    ----------
    sequences : strings (any case).
    alphabet : "dna", "rna", "protein", an :class:`Alphabet`, or "auto" to detect it.
    length : target length. ``None``: the longest sequence (shorter ones are padded).
    pad : where zero rows go for shorter sequences: "center" (default; an odd extra row goes to
        the right), "left" or "right".
    crop : where positions are removed from longer sequences: "center" (default), "left",
        "right", or "error" to refuse them.
    unknown : "zero" (default) or "uniform" rows for N (nucleic) / X (protein).
    ids, source : record ids and file name, used only in error messages.
    fixed_by : what fixed the alphabet (e.g. "the model"), for error messages: an invalid
        character then says ``(protein? the model takes dna)`` instead of suggesting
        ``--alphabet``.

    Raises
    ------
    SeqexplainError
        An invalid character (message names file, record and 1-based position), an empty
        sequence, or a too-long sequence with ``crop="error"``.
    """
    if pad not in PAD_MODES:
        raise SeqexplainError(f"pad={pad!r}: choose one of {', '.join(PAD_MODES)}")
    if crop not in CROP_MODES:
        raise SeqexplainError(f"crop={crop!r}: choose one of {', '.join(CROP_MODES)}")
    if isinstance(sequences, str):
        sequences = [sequences]
    alph = resolve_alphabet(alphabet, sequences, source)
    rows, valid = alph.table(unknown)
    n = len(sequences)
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=n)

    def record(i: int) -> str:
        return ids[i] if ids is not None else f"#{i + 1}"

    if n and lengths.min() == 0:
        i = int(np.argmin(lengths))
        raise SeqexplainError(f"{where(source, record(i))}empty sequence")
    if length is None:
        length = int(lengths.max()) if n else 0
    elif length <= 0:
        raise SeqexplainError(f"length must be positive, got {length}")

    joined = "".join(sequences)
    try:
        buf = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError as exc:
        _raise_invalid(joined[exc.start], exc.start, lengths, alph, record, source, fixed_by)
    ok = valid[buf]
    if not ok.all():
        j = int(np.argmin(ok))
        _raise_invalid(joined[j], j, lengths, alph, record, source, fixed_by)
    del ok, joined

    too_long = lengths > length
    if crop == "error" and too_long.any():
        i = int(np.argmax(too_long))
        raise SeqexplainError(
            f"{where(source, record(i))}sequence is {lengths[i]} long, longer than the target "
            f"length {length}; choose a crop rule (--crop center|left|right) to crop it")

    offsets = _offsets(lengths, length, pad, crop)
    if n and (lengths == length).all():
        codes = buf.reshape(n, length)
    else:
        codes = _place(buf, lengths, length, offsets)
    del buf
    out = np.empty((n, length, alph.channels), dtype=np.float32)
    _lookup(rows, codes.reshape(-1), out.reshape(-1, alph.channels))
    return OneHot(onehot=out, alphabet=alph, lengths=lengths,
                  n_padded=int((lengths < length).sum()), n_cropped=int(too_long.sum()),
                  offsets=offsets)


#: Bases looked up per ``np.take`` call: keeps its index temporaries small and in cache.
_TAKE_CHUNK = 1 << 16


def _lookup(rows: np.ndarray, codes: np.ndarray, out: np.ndarray) -> None:
    """``out[i] = rows[codes[i]]`` chunk by chunk. ``mode="clip"`` lets numpy write straight
    into ``out`` (``"raise"`` buffers a full copy of it); every uint8 code indexes one of the
    256 rows, so nothing is ever clipped."""
    for lo in range(0, len(codes), _TAKE_CHUNK):
        np.take(rows, codes[lo:lo + _TAKE_CHUNK], axis=0, out=out[lo:lo + _TAKE_CHUNK],
                mode="clip")


def one_hot(sequences: Sequence[str], alphabet: str | Alphabet = "dna", length: int | None = None,
            pad: str = "center", crop: str = "center", unknown: str = "zero") -> np.ndarray:
    """One-hot encode ``sequences``; shape (n, length, channels), float32. See :func:`encode`."""
    return encode(sequences, alphabet, length, pad=pad, crop=crop, unknown=unknown).onehot


def _offsets(lengths: np.ndarray, length: int, pad: str, crop: str) -> np.ndarray:
    """Sequence coordinate of row position 0 for each sequence (see :class:`OneHot`)."""
    diff = length - lengths
    pad_at = {"center": diff // 2, "left": diff, "right": np.zeros_like(diff)}[pad]
    cut = -diff
    crop_at = {"center": cut // 2, "left": cut, "right": np.zeros_like(cut),
               "error": np.zeros_like(cut)}[crop]
    return np.where(diff >= 0, -pad_at, crop_at).astype(np.int64)


def _place(buf: np.ndarray, lengths: np.ndarray, length: int, offsets: np.ndarray) -> np.ndarray:
    """Byte codes (n, length), each sequence padded or cropped into its row.

    Byte 0 is never a valid letter (checked before), and its table row is all zeros, so it
    serves as the padding code. The loop is per sequence, not per character."""
    n = len(lengths)
    codes = np.zeros((n, length), dtype=np.uint8)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    for i in range(n):
        s, ln, o = int(starts[i]), int(lengths[i]), int(offsets[i])
        if ln <= length:
            codes[i, -o:-o + ln] = buf[s:s + ln]
        else:
            codes[i] = buf[s + o:s + o + length]
    return codes


def _raise_invalid(char: str, index: int, lengths: np.ndarray, alph: Alphabet, record, source,
                   fixed_by: str | None = None):
    ends = np.cumsum(lengths)
    i = int(np.searchsorted(ends, index, side="right"))
    pos = index - (int(ends[i - 1]) if i else 0) + 1
    guess = None
    up = char.upper()
    if alph.name == "dna" and up == "U":
        guess = "rna"
    elif alph.name == "rna" and up == "T":
        guess = "dna"
    elif alph.is_nucleic and up.isalpha() and up.isascii():
        guess = "protein"
    label = {"dna": "DNA", "rna": "RNA", "protein": "protein"}.get(guess)
    if fixed_by:
        hint = f" ({label + '? ' if label else ''}{fixed_by} takes {alph.name})"
    else:
        hint = f" ({label}? pass --alphabet {guess})" if guess else ""
    raise SeqexplainError(
        f"{where(source, record(i), pos)}invalid character {char!r} for {alph.name}{hint}")


def decode(onehot: np.ndarray, alphabet: str | Alphabet = "dna") -> list[str]:
    """Strings from one-hot rows, shape (n, length, channels) or (length, channels).

    Exact one-hot rows give their letter, all-zero rows the unknown letter (N or X), and
    fractional rows the ambiguity code with the same letters (else the unknown letter)."""
    alph = get_alphabet(alphabet)
    x = np.asarray(onehot)
    single = x.ndim == 2
    if single:
        x = x[None]
    if x.ndim != 3 or x.shape[-1] != alph.channels:
        raise SeqexplainError(f"one-hot array has shape {np.shape(onehot)}; expected "
                              f"(n, length, {alph.channels}) for {alph.name}")
    letters = np.frombuffer((alph.letters + alph.unknown_letter).encode(), np.uint8)
    out = letters[np.argmax(x, axis=-1)]
    exact = (x.max(axis=-1) == 1) & (x.sum(axis=-1) == 1)
    out[~exact] = ord(alph.unknown_letter)
    fractional = ~exact & (x.max(axis=-1) > 0)
    if fractional.any():
        by_set = {frozenset(v): k for k, v in alph.ambiguity.items() if len(v) > 1}
        for idx in zip(*np.nonzero(fractional)):
            present = frozenset(alph.letters[j] for j in np.nonzero(x[idx] > 0)[0])
            out[idx] = ord(by_set.get(present, alph.unknown_letter))
    strings = [row.tobytes().decode("ascii") for row in out]
    return strings[0] if single else strings


def reverse_complement(x, alphabet: str | Alphabet = "dna"):
    """Reverse complement of a string, a list of strings, or a one-hot array (…, length, 4).

    For one-hot arrays in ACGT/ACGU order the complement is the reversed channel order, so this
    is ``x[..., ::-1, ::-1]`` (a copy)."""
    alph = get_alphabet(alphabet)
    if not alph.is_nucleic:
        raise SeqexplainError(f"reverse complement is defined for DNA and RNA, not {alph.name}")
    if isinstance(x, str):
        return alph.complement_string(x)[::-1]
    if isinstance(x, (list, tuple)):
        return [alph.complement_string(s)[::-1] for s in x]
    arr = np.asarray(x)
    if arr.shape[-1] != alph.channels:
        raise SeqexplainError(f"one-hot array has {arr.shape[-1]} channels; expected "
                              f"{alph.channels} for {alph.name}")
    return arr[..., ::-1, ::-1].copy()
