"""Batches padded to bucket sizes: few compiled shapes, and no result changed by the padding."""

from __future__ import annotations

import numpy as np
import pytest
from tolerance import assert_close
from toy_models import random_onehot, toy_model

import seqexplain.batching as batching
from seqexplain.attribution.methods import explained_output, ism
from seqexplain.attribution.registry import METHODS, attribute


def test_bucket_sizes_are_few_and_cover_every_batch():
    sizes = {size for n in range(1, 300) for _, _, size in batching.batches(n, 64)}
    assert sizes == {8, 16, 32, 64}
    for n in range(1, 300):
        parts = batching.batches(n, 64)
        assert [lo for lo, _, _ in parts] == list(range(0, n, 64))
        assert parts[-1].hi == n
        assert all(hi - lo <= size for lo, hi, size in parts)
    assert batching.bucket(25, 25) == 25 and batching.bucket(9, 25) == 16


def test_padding_repeats_the_last_row_and_pieces_are_even():
    a = np.arange(6).reshape(3, 2)
    assert batching.padded(a, 5).tolist() == [[0, 1], [2, 3], [4, 5], [4, 5], [4, 5]]
    assert batching.padded(a, 3) is a
    cut = list(batching.pieces(21, 8))
    assert [(lo, hi) for lo, hi, _ in cut] == [(0, 7), (7, 14), (14, 21)]
    assert all(size == 8 for _, _, size in cut)


def test_padding_off_runs_exact_sizes(monkeypatch):
    monkeypatch.setattr(batching, "PAD_BATCHES", False)
    assert [size for _, _, size in batching.batches(70, 32)] == [32, 32, 6]


MODEL = toy_model("maxpool", length=24)
X = random_onehot(33, 24, seed=5)
#: each method's options: small batches, so 33 sequences run as full batches and a padded
#: remainder, and 1 and 7 as one padded batch
OPTIONS = {
    "saliency": dict(batch_size=16),
    "grad_input": dict(batch_size=16),
    "integrated_gradients": dict(batch_size=160, steps=10),
    "deeplift": dict(batch_size=16, random_state=0),
    "deepshap": dict(batch_size=64, n_references=4, random_state=0),
    "ism": dict(batch_size=64),
    "shap": dict(n_references=2, random_state=0),
}


def _both(monkeypatch, run):
    """``run()`` with batches padded to buckets, then at their exact sizes."""
    padded = run()
    monkeypatch.setattr(batching, "PAD_BATCHES", False)
    exact = run()
    monkeypatch.setattr(batching, "PAD_BATCHES", True)
    return padded, exact


@pytest.mark.parametrize("method", sorted(set(METHODS) - {"shap"}))
@pytest.mark.parametrize("n", [1, 7, 33])
def test_padding_changes_no_score(monkeypatch, method, n):
    padded, exact = _both(monkeypatch, lambda: attribute(MODEL, X[:n], method=method,
                                                         **OPTIONS[method]))
    assert padded.shape == exact.shape == (n, 24, 4)
    assert_close(padded, exact, max(float(np.abs(exact).max()), 1e-12), what=method)


@pytest.mark.parametrize("n", [1, 7, 33])
def test_padding_changes_no_output_or_naive_ism(monkeypatch, n):
    padded, exact = _both(monkeypatch, lambda: explained_output(MODEL, X[:n], batch_size=16))
    assert padded.shape == (n,)
    assert_close(padded, exact, float(np.abs(exact).max()), what="explained output")
    padded, exact = _both(monkeypatch, lambda: ism(MODEL, X[:n], batch_size=16, fast=False))
    assert_close(padded, exact, float(np.abs(exact).max()), what="naive ism")


def test_padding_changes_no_shap_value(monkeypatch):
    pytest.importorskip("shap")
    padded, exact = _both(monkeypatch, lambda: attribute(MODEL, X[:7], method="shap",
                                                         **OPTIONS["shap"]))
    assert_close(padded, exact, float(np.abs(exact).max()), what="shap")
