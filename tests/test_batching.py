"""Batches padded to bucket sizes: few compiled shapes, and no result changed by the padding."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_close
from toy_models import random_onehot, toy_model

import seqexplain.batching as batching
from seqexplain.attribution import engine
from seqexplain.attribution.registry import attribute


def test_bucket_sizes_are_few_and_cover_every_batch():
    sizes = {size for n in range(1, 300) for _, _, size in batching.batches(n, 64)}
    assert sizes == {8, 16, 32, 64}
    for n in range(1, 300):
        parts = batching.batches(n, 64)
        assert [lo for lo, _, _ in parts] == list(range(0, n, 64))
        assert parts[-1].hi == n
        assert all(hi - lo <= size for lo, hi, size in parts)
    assert batching.bucket(25, 25) == 25 and batching.bucket(9, 25) == 16


def test_padding_repeats_the_last_row():
    a = np.arange(6).reshape(3, 2)
    assert batching.padded(a, 5).tolist() == [[0, 1], [2, 3], [4, 5], [4, 5], [4, 5]]
    assert batching.padded(a, 3) is a


def test_padding_off_runs_exact_sizes(monkeypatch):
    assert [size for _, _, size in batching.batches(70, 32, pad=False)] == [32, 32, 6]
    monkeypatch.setattr(batching, "PAD_BATCHES", False)
    assert [size for _, _, size in batching.batches(70, 32)] == [32, 32, 6]


MODEL = toy_model("maxpool", length=24)
X = random_onehot(33, 24, seed=5)
#: small batches, so that 33 sequences run as full batches and a padded remainder, and 1
#: and 7 as one padded batch
OPTIONS = {"deeplift": dict(batch_size=16, random_state=0),
           "deepshap": dict(batch_size=64, n_references=4, random_state=0)}


@pytest.fixture
def step_sizes(monkeypatch):
    """The batch sizes the DeepLIFT step runs at; padding on (as with XLA) in both XLA
    modes."""
    monkeypatch.setattr(engine, "USE_XLA", True)
    sizes = []
    make = engine.deeplift_step

    def spy(*args):
        step = make(*args)

        def run(x, r):
            sizes.append(len(x))
            return step(x, r)
        return run

    monkeypatch.setattr(engine, "deeplift_step", spy)
    return sizes


@pytest.mark.parametrize("method", sorted(OPTIONS))
@pytest.mark.parametrize("n", [1, 7, 33])
def test_padding_changes_no_score(monkeypatch, step_sizes, method, n):
    attribute(MODEL, X[:1], method=method, **OPTIONS[method])  # the step and its buckets
    step_sizes.clear()
    padded, padded_delta = attribute(MODEL, X[:n], method=method, return_delta=True,
                                     **OPTIONS[method])
    per_batch = 16 if method == "deeplift" else 64 // 4
    assert set(step_sizes) <= {8, 16} and sum(step_sizes) >= n   # buckets only
    assert len(set(step_sizes)) == 1 or n > per_batch
    monkeypatch.setattr(batching, "PAD_BATCHES", False)
    step_sizes.clear()
    exact, exact_delta = attribute(MODEL, X[:n], method=method, return_delta=True,
                                   **OPTIONS[method])
    assert sum(step_sizes) == n   # no padding
    assert padded.shape == exact.shape == (n, 24, 4)
    scale = float(np.abs(exact).sum(axis=(1, 2)).max())
    assert_close(padded, exact, scale, what=method)
    assert_close(padded_delta, exact_delta, scale, what=f"{method} delta")


def test_any_number_of_sequences_runs_at_a_few_bucket_sizes(step_sizes):
    """Whatever the numbers of sequences, the step only ever sees the bucket sizes (so XLA
    compiles it at most that many times)."""
    model = toy_model("maxpool", length=24)
    for n in (1, 3, 7, 9, 13, 16, 17, 20):
        attribute(model, X[:n], method="deepshap", **OPTIONS["deepshap"])
    assert sorted(set(step_sizes)) == batching.bucket_sizes(16) == [8, 16]
    step_sizes.clear()
    attribute(model, X[:20], method="deepshap", **OPTIONS["deepshap"])
    assert step_sizes == [16, 8]
