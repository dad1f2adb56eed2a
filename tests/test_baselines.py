"""Tests for seqexplain.baselines: k-mer counting, layouts, and learning simple tasks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from seqexplain.baselines import (BASELINES, KmerBaseline, PositionalBaseline,
                                  TrivialBaseline, get_baseline, kmer_counts)
from seqexplain.encoding import one_hot
from seqexplain.errors import SeqexplainError
from seqexplain.metrics import evaluate

DNA = "ACGT"


def random_codes(n: int, length: int, seed: int, letters: int = 4) -> np.ndarray:
    return np.random.default_rng(seed).integers(letters, size=(n, length))


def to_onehot(codes: np.ndarray, letters: int = 4) -> np.ndarray:
    return np.eye(letters, dtype=np.float32)[codes]


def motif_task(n: int, seed: int, length: int = 60, motif: str = "CACGTG"):
    """Half the sequences carry ``motif`` at a random position (label 1), half do not."""
    rng = np.random.default_rng(seed)
    codes = random_codes(n, length, seed)
    y = np.arange(n) % 2
    motif_codes = [DNA.index(c) for c in motif]
    for i in np.nonzero(y)[0]:
        start = rng.integers(length - len(motif) + 1)
        codes[i, start:start + len(motif)] = motif_codes
    return to_onehot(codes), y


def position_task(n: int, seed: int, length: int = 30, position: int = 10):
    """Label 1 when ``position`` holds G; the other sequences hold A, C or T there."""
    codes = random_codes(n, length, seed)
    y = np.arange(n) % 2
    codes[:, position] = np.where(y == 1, 2, np.random.default_rng(seed).choice([0, 1, 3], n))
    return to_onehot(codes), y


def naive_kmer_counts(sequence: str, k: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for i in range(len(sequence) - k + 1):
        kmer = sequence[i:i + k]
        if set(kmer) <= set(DNA):
            counts[kmer] = counts.get(kmer, 0) + 1
    return counts


def test_kmer_counts_by_hand():
    counts = kmer_counts(one_hot(["ACGTA", "AANCC"]), k=2)
    assert counts.shape == (2, 16)
    assert counts.dtype == np.float32
    column = {"".join(p): i for i, p in enumerate(itertools.product(DNA, repeat=2))}
    expected = np.zeros((2, 16))
    for kmer in ("AC", "CG", "GT", "TA"):
        expected[0, column[kmer]] = 1
    # AN and NC contain N and are skipped
    expected[1, column["AA"]] = expected[1, column["CC"]] = 1
    np.testing.assert_array_equal(counts, expected)


def test_kmer_counts_match_naive_counting():
    rng = np.random.default_rng(0)
    sequences = ["".join(rng.choice(list("ACGTN"), p=[0.24] * 4 + [0.04], size=40))
                 for _ in range(20)]
    for k in (1, 3):
        counts = kmer_counts(one_hot(sequences), k)
        columns = ["".join(p) for p in itertools.product(DNA, repeat=k)]
        for row, sequence in zip(counts, sequences):
            naive = naive_kmer_counts(sequence, k)
            assert {c: int(v) for c, v in zip(columns, row) if v} == naive


def test_kmer_counts_skip_ambiguity_codes_and_padding():
    # R (A/G) is a fractional row; padding rows are all zero
    counts = kmer_counts(one_hot(["ACRGT", "AC"], length=5), k=1)
    np.testing.assert_array_equal(counts, [[1, 1, 1, 1], [1, 1, 0, 0]])


def test_kmer_counts_reject_bad_k():
    with pytest.raises(SeqexplainError, match="k=6: expected an integer from 1"):
        kmer_counts(one_hot(["ACGTA"]), 6)
    with pytest.raises(SeqexplainError, match="expected \\(n, length, channels\\)"):
        kmer_counts(np.zeros((5, 4)), 2)


def test_kmer_baseline_learns_a_motif_and_positional_does_not():
    X, y = motif_task(400, seed=1)
    X_test, y_test = motif_task(200, seed=2)
    kmer = KmerBaseline(k=4).fit(X, y, "binary")
    scores = kmer.predict_scores(X_test)
    assert scores.shape == (200, 1)
    kmer_auroc = evaluate("binary", y_test, scores)["auroc"]
    positional = PositionalBaseline().fit(X, y, "binary").predict_scores(X_test)
    assert kmer_auroc > 0.9
    # a motif at a random position gives a position-wise model little to hold on to
    assert evaluate("binary", y_test, positional)["auroc"] < kmer_auroc - 0.15


def test_positional_baseline_learns_a_fixed_position():
    X, y = position_task(300, seed=3)
    X_test, y_test = position_task(200, seed=4)
    scores = PositionalBaseline().fit(X, y, "binary").predict_scores(X_test)
    assert evaluate("binary", y_test, scores)["auroc"] > 0.9


def test_trivial_baseline_is_chance():
    X, y = position_task(100, seed=5)
    y = np.r_[np.ones(30), np.zeros(70)]
    trivial = TrivialBaseline().fit(X, y, "binary")
    scores = trivial.predict_scores(X)
    np.testing.assert_allclose(scores, 0.3)
    assert evaluate("binary", y, scores)["auroc"] == 0.5
    assert trivial.summary() == "trivial (training class frequencies)"


def test_trivial_baseline_other_tasks():
    X = to_onehot(random_codes(6, 8, seed=6))
    multiclass = TrivialBaseline().fit(X, [0, 0, 0, 1, 2, 2], "multiclass", n_outputs=4)
    np.testing.assert_allclose(multiclass.predict_scores(X[:2]), [[0.5, 1 / 6, 1 / 3, 0]] * 2)
    regression = TrivialBaseline().fit(X, np.c_[np.arange(6.0), np.ones(6)], "regression")
    np.testing.assert_allclose(regression.predict_scores(X[:1]), [[2.5, 1.0]])
    multilabel = TrivialBaseline().fit(X, np.c_[np.ones(6), np.r_[np.ones(3), np.zeros(3)]],
                                       "multilabel")
    np.testing.assert_allclose(multilabel.predict_scores(X[:1]), [[1.0, 0.5]])


def test_positional_multiclass():
    # the class is the letter at position 5
    codes = random_codes(300, 12, seed=7)
    baseline = PositionalBaseline().fit(to_onehot(codes), codes[:, 5], "multiclass")
    test = random_codes(100, 12, seed=8)
    scores = baseline.predict_scores(to_onehot(test))
    assert scores.shape == (100, 4)
    np.testing.assert_allclose(scores.sum(axis=1), 1, rtol=1e-6)
    assert evaluate("multiclass", test[:, 5], scores)["accuracy"] > 0.9


def test_multiclass_with_a_class_missing_from_training():
    codes = random_codes(60, 10, seed=9) % 3   # letters A, C, G only → classes 0, 1, 2
    one_hot_labels = np.eye(4)[codes[:, 0]]    # one-hot with 4 columns; class 3 never seen
    baseline = PositionalBaseline(Cs=(1.0,), cv=2)
    baseline.fit(to_onehot(codes), one_hot_labels, "multiclass")
    scores = baseline.predict_scores(to_onehot(codes))
    assert scores.shape == (60, 4)
    np.testing.assert_array_equal(scores[:, 3], 0)


def test_positional_multilabel_with_a_constant_label():
    codes = random_codes(300, 10, seed=10)
    y = np.c_[codes[:, 2] == 0, codes[:, 7] == 1, np.zeros(300)].astype(int)
    baseline = PositionalBaseline().fit(to_onehot(codes), y, "multilabel")
    test = random_codes(100, 10, seed=11)
    y_test = np.c_[test[:, 2] == 0, test[:, 7] == 1].astype(int)
    scores = baseline.predict_scores(to_onehot(test))
    assert scores.shape == (100, 3)
    np.testing.assert_array_equal(scores[:, 2], 0)
    assert baseline.summary().startswith("positional one-hot + logistic regression per label (C=")
    assert baseline.summary().endswith(", constant)")
    assert evaluate("multilabel", y_test, scores[:, :2])["auroc"] > 0.9


def test_regression_baselines():
    rng = np.random.default_rng(12)
    codes = random_codes(300, 20, seed=12)
    X = to_onehot(codes)
    # value by position: A at 5 and T at 9; value by k-mer: number of GC dinucleotides
    by_position = 2.0 * (codes[:, 5] == 0) - (codes[:, 9] == 3) + rng.normal(0, 0.1, 300)
    gc = ((codes[:, :-1] == 2) & (codes[:, 1:] == 1)).sum(axis=1).astype(float)
    train, test = slice(0, 200), slice(200, 300)
    positional = PositionalBaseline().fit(X[train], by_position[train], "regression")
    scores = positional.predict_scores(X[test])
    assert scores.shape == (100, 1)
    assert evaluate("regression", by_position[test], scores)["pearson_r"] > 0.9
    kmer = KmerBaseline(k=2).fit(X[train], gc[train], "regression")
    assert evaluate("regression", gc[test], kmer.predict_scores(X[test]))["pearson_r"] > 0.9
    alpha = kmer.model_[-1].alpha_
    assert alpha in kmer.alphas
    assert kmer.summary() == f"k-mer counts (k=2) + ridge regression (alpha={alpha:g})"


def test_kmer_default_k_and_protein_size_cap():
    dna = to_onehot(random_codes(40, 30, seed=13))
    y = np.arange(40) % 2
    fast = {"Cs": (1.0,), "cv": 2}   # this test is about k, not about tuning
    assert KmerBaseline(**fast).fit(dna, y, "binary").k_ == 5
    protein = to_onehot(random_codes(40, 30, seed=14, letters=20), letters=20)
    baseline = KmerBaseline(**fast).fit(protein, y, "binary")
    assert baseline.k_ == 2
    assert baseline.predict_scores(protein).shape == (40, 1)
    with pytest.raises(SeqexplainError, match="k=4 with 20 letters gives 160000 k-mer features"):
        KmerBaseline(k=4).fit(protein, y, "binary")


def test_constant_binary_labels_give_constant_scores():
    X = to_onehot(random_codes(20, 10, seed=15))
    for baseline in (KmerBaseline(k=2), PositionalBaseline()):
        baseline.fit(X, np.ones(20), "binary")
        np.testing.assert_array_equal(baseline.predict_scores(X), 1.0)


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_every_baseline_checks_its_inputs(name):
    X = to_onehot(random_codes(30, 10, seed=16))
    y = np.arange(30) % 2
    baseline = get_baseline(name)
    with pytest.raises(SeqexplainError, match="call fit before predict_scores"):
        baseline.predict_scores(X)
    with pytest.raises(SeqexplainError, match="task='ranking'"):
        baseline.fit(X, y, "ranking")
    with pytest.raises(SeqexplainError, match="20 labels for 30 sequences"):
        baseline.fit(X, y[:20], "binary")
    with pytest.raises(SeqexplainError, match="binary labels must be 0 or 1"):
        baseline.fit(X, y + 1, "binary")
    baseline.fit(X, y, "binary")
    with pytest.raises(SeqexplainError, match="sequences have 20 channels; it was fitted on 4"):
        baseline.predict_scores(np.zeros((2, 10, 20), np.float32))


def test_positional_baseline_needs_the_training_length():
    X = to_onehot(random_codes(30, 10, seed=17))
    baseline = PositionalBaseline().fit(X, np.arange(30) % 2, "binary")
    with pytest.raises(SeqexplainError, match="length 12; it was fitted on length 10"):
        baseline.predict_scores(np.zeros((2, 12, 4), np.float32))


def test_get_baseline_by_name_refuses_unknown_names_and_arguments():
    assert isinstance(get_baseline("kmer", k=3), KmerBaseline)
    with pytest.raises(SeqexplainError, match="baseline 'svm': choose one of trivial, kmer"):
        get_baseline("svm")
    with pytest.raises(SeqexplainError, match="baseline 'trivial'"):
        get_baseline("trivial", k=3)
