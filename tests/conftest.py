"""Shared fixtures: the reference data in ../shared and small random one-hot inputs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"


def shared_path(*parts: str) -> Path:
    """A file under ../shared; skip when it is absent outside CI, fail when absent in CI."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{path} is missing: CI needs ../shared beside the clone")
        pytest.skip(f"{path} not available")
    return path


@pytest.fixture
def shared():
    """``shared("data", "dna", "x.fa")`` → path under ../shared (see :func:`shared_path`)."""
    return shared_path


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def random_dna(rng: np.random.Generator, n: int, length: int) -> list[str]:
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
