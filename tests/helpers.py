"""Helpers shared by the tests (fixtures live in ``tests/conftest.py``; the model zoos in
``tests/toy_models.py`` and ``tests/architectures.py``, which the benchmarks also use).

- :func:`data_file`: a file of ``tests/data/`` (sources and licences in ``tests/data/SOURCES.md``).
- :func:`random_dna`, :func:`planted_dataset`, :func:`write_genome`, :data:`TINY_MODEL`: small
  inputs and a model that trains in seconds.
- :data:`REL`, :func:`batch_scale`, :func:`contribution_scale`, :func:`assert_close`: float
  tolerances scaled to what rounding acts on.

float32 rounding differs between CPUs (vector width, FMA contraction, XLA fusion, oneDNN), by
a few units of 1e-7 of the magnitudes the arithmetic handles: the model outputs of the batch
and the contributions being summed. Tolerances are therefore ``REL ×`` that batch scale, never
relative to one difference that may be close to zero; a rule error (≥ 1e-4 of the scale)
still fails by an order of magnitude.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: the tests' data files
DATA = Path(__file__).resolve().parent / "data"


def data_file(*parts: str) -> Path:
    """``data_file("motifs", "jaspar2024_selected.meme")`` → that file of ``tests/data/``;
    a missing file fails the test (every file ships with the repository)."""
    path = DATA.joinpath(*parts)
    assert path.is_file(), f"{path} is missing: tests/data/ ships with the repository"
    return path


def random_dna(rng: np.random.Generator, n: int, length: int) -> list[str]:
    """``n`` uniform random A/C/G/T strings of ``length``."""
    letters = np.frombuffer(b"ACGT", np.uint8)
    return [rng.choice(letters, length).tobytes().decode() for _ in range(n)]


#: A model small enough to train in a second or two on 2 CPU cores.
TINY_MODEL = {"n_conv_blocks": 1, "filters": 8, "kernel_sizes": 7, "pool_sizes": 1,
              "dense_units": [8], "batch_norm": False, "conv_dropout": 0.1,
              "dense_dropout": 0.1, "learning_rate": 0.01}


def planted_dataset(folder, n: int = 240, length: int = 40, seed: int = 0,
                    motifs=("GGATAAGG", "CACGTGAC")):
    """Random DNA with motifs planted; writes ``data.fa`` and ``labels.tsv`` under ``folder``
    with columns: ``binary`` (first motif present), ``klass`` (which motif: a/b/none),
    ``m1``, ``m2`` (each motif present) and ``signal`` (count of motifs + noise).
    Returns (fasta path, labels path)."""
    rng = np.random.default_rng(seed)
    rows, lines = [], []
    for i in range(n):
        seq = list(rng.choice(list("ACGT"), length))
        has = [rng.random() < 0.5, rng.random() < 0.5]
        klass = "a" if has[0] and not has[1] else "b" if has[1] and not has[0] else "none"
        starts = [2, length // 2 + 2]
        for k, motif in enumerate(motifs):
            if has[k]:
                seq[starts[k]:starts[k] + len(motif)] = motif
        lines.append(f">r{i}\n{''.join(seq)}\n")
        rows.append((f"r{i}", int(has[0]), klass, int(has[0]), int(has[1]),
                     sum(has) + rng.normal(0, 0.1)))
    folder.mkdir(parents=True, exist_ok=True)
    fa, tsv = folder / "data.fa", folder / "labels.tsv"
    fa.write_text("".join(lines))
    tsv.write_text("id\tbinary\tklass\tm1\tm2\tsignal\n"
                   + "".join("\t".join(map(str, r)) + "\n" for r in rows))
    return fa, tsv


def write_genome(path, sizes: dict[str, int], seed: int = 0, gc_blocks: bool = False) -> dict:
    """A random genome FASTA (60 bases a line) at ``path``; returns ``{chrom: sequence}``.
    With ``gc_blocks`` the GC content changes every 500 bp (0.3 to 0.7), so GC matching has
    something to match."""
    rng = np.random.default_rng(seed)
    seqs = {}
    for chrom, size in sizes.items():
        if gc_blocks:
            parts = []
            for start in range(0, size, 500):
                gc = rng.uniform(0.3, 0.7)
                p = [(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2]
                parts.append("".join(rng.choice(list("ACGT"), min(500, size - start), p=p)))
            seqs[chrom] = "".join(parts)
        else:
            seqs[chrom] = "".join(rng.choice(list("ACGT"), size))
    Path(path).write_text("".join(
        f">{c}\n" + "".join(s[i:i + 60] + "\n" for i in range(0, len(s), 60))
        for c, s in seqs.items()))
    return seqs


# -- float tolerances ------------------------------------------------------------------------

#: float32 agreement, relative to the batch scale (observed differences are ~1e-7)
REL = 1e-5


def batch_scale(*arrays) -> float:
    """The largest |value| among ``arrays``: outputs of the sequences and references, and
    per-sequence sums of |contributions| (what float32 rounding acts on in the batch)."""
    scale = max(float(np.max(np.abs(np.asarray(a, np.float64)))) for a in arrays)
    assert scale > 0, "a batch whose every output is 0 says nothing about rounding"
    return scale


def contribution_scale(attributions) -> np.ndarray:
    """Per-sequence sum of |contributions|, shape (n,)."""
    a = np.abs(np.asarray(attributions, np.float64))
    return a.reshape(len(a), -1).sum(axis=1)


def assert_close(actual, expected, scale: float, rel: float = REL, what: str = "") -> None:
    """``max |actual - expected| <= rel × scale``."""
    err = float(np.max(np.abs(np.asarray(actual, np.float64) - np.asarray(expected, np.float64))))
    assert err <= rel * scale, (f"{what}: max error {err:.3g} exceeds {rel:g} × scale "
                                f"{scale:.3g}")
