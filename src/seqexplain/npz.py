"""Write ``.npz`` files whose big arrays arrive in chunks, so memory does not grow with them.

The result is an ordinary uncompressed ``.npz`` that ``numpy.load`` reads (with ``mmap`` of
members impossible, as for any npz, but no need to hold the whole array while writing)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np


class NpzWriter:
    """Append named arrays to an ``.npz`` file, whole or chunk by chunk.

    >>> with NpzWriter(path) as npz:                          # doctest: +SKIP
    ...     with npz.stream("onehot", (n, 200, 4), np.float32) as put:
    ...         for batch in batches:
    ...             put(batch)
    ...     npz.write("ids", np.array(ids))
    """

    def __init__(self, path: str | Path):
        self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True)

    def write(self, name: str, array) -> None:
        with self._zip.open(f"{name}.npy", "w", force_zip64=True) as fh:
            np.lib.format.write_array(fh, np.asanyarray(array), allow_pickle=False)

    def stream(self, name: str, shape: tuple[int, ...], dtype) -> "_ChunkStream":
        """Context manager returning a callable that appends chunks along axis 0."""
        return _ChunkStream(self._zip, name, tuple(int(s) for s in shape), np.dtype(dtype))

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> "NpzWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _ChunkStream:
    def __init__(self, zf: zipfile.ZipFile, name: str, shape: tuple[int, ...], dtype: np.dtype):
        self._zf, self._name, self._shape, self._dtype = zf, name, shape, dtype
        self._rows = 0

    def __enter__(self):
        self._fh = self._zf.open(f"{self._name}.npy", "w", force_zip64=True)
        header = {"descr": np.lib.format.dtype_to_descr(self._dtype), "fortran_order": False,
                  "shape": self._shape}
        np.lib.format.write_array_header_2_0(self._fh, header)
        return self._put

    def _put(self, chunk: np.ndarray) -> None:
        chunk = np.ascontiguousarray(chunk, dtype=self._dtype)
        if chunk.shape[1:] != self._shape[1:] or self._rows + len(chunk) > self._shape[0]:
            raise ValueError(f"chunk of shape {chunk.shape} does not fit array {self._shape} "
                             f"after {self._rows} rows")
        self._fh.write(chunk.tobytes())
        self._rows += len(chunk)

    def __exit__(self, exc_type, *exc) -> None:
        self._fh.close()
        if exc_type is None and self._rows != self._shape[0]:
            raise ValueError(f"{self._name}: wrote {self._rows} rows of {self._shape[0]}")


def encode_to_npz(fasta, path, alphabet="auto", length: int | None = None, pad: str = "center",
                  crop: str = "center", unknown: str = "zero", batch_size: int = 10_000,
                  force: bool = False):
    """Stream a FASTA file into an ``.npz`` (``onehot``, ``ids``, ``lengths``, ``alphabet``).

    Two bounded-memory passes: one to count records, find the longest and detect the alphabet,
    one to encode batch by batch. Returns the :class:`~seqexplain.fasta.FastaScan` of the file
    with ``n_padded``/``n_cropped`` added. ``path`` is written atomically (complete or not at
    all); an existing ``path`` is replaced only with ``force``."""
    from .alphabets import get_alphabet
    from .fasta import iter_encoded, scan_fasta
    from .outputs import atomic_file, check_writable

    check_writable(path, force, kind="file")
    auto = isinstance(alphabet, str) and alphabet.lower() == "auto"
    scan = scan_fasta(fasta, detect=auto)
    alph = scan.alphabet if auto else get_alphabet(alphabet)
    length = length or scan.max_length
    ids, lengths = [], []
    scan.n_padded = scan.n_cropped = 0
    with atomic_file(path, force=force, suffix=".npz") as tmp, NpzWriter(tmp) as npz:
        with npz.stream("onehot", (scan.n, length, alph.channels), np.float32) as put:
            for batch_ids, enc in iter_encoded(fasta, alph, length, batch_size, pad=pad,
                                               crop=crop, unknown=unknown):
                put(enc.onehot)
                ids += batch_ids
                lengths.append(enc.lengths)
                scan.n_padded += enc.n_padded
                scan.n_cropped += enc.n_cropped
        npz.write("ids", np.array(ids))
        npz.write("lengths", np.concatenate(lengths))
        npz.write("alphabet", np.array(alph.letters))
    scan.alphabet, scan.length = alph, length
    return scan
