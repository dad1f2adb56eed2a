"""Edits of one-hot sequences (seqexplain.edit): properties checked by brute force on strings."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import seqexplain as sx
from seqexplain.edit import insert, sample_pwm, shuffle_region, substitute


def random_dna(n: int, length: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list("ACGT"), length)) for _ in range(n)]


def dinucleotides(seq: str) -> Counter:
    return Counter(seq[i:i + 2] for i in range(len(seq) - 1))


@pytest.fixture
def seqs():
    return random_dna(6, 30, seed=1)


@pytest.mark.parametrize("start", [0, 7, 23, None])
def test_substitute_writes_exactly_the_motif_and_keeps_the_rest(seqs, start):
    X = sx.one_hot(seqs)
    before = X.copy()
    out = substitute(X, "GATTACA", start)
    at = (30 - 7) // 2 if start is None else start
    assert out.shape == X.shape and out.dtype == X.dtype
    np.testing.assert_array_equal(X, before)  # never in place
    for seq, edited in zip(seqs, sx.decode(out)):
        assert edited[at:at + 7] == "GATTACA"
        assert edited[:at] == seq[:at] and edited[at + 7:] == seq[at + 7:]
    # one sequence (L, C), a string and a list of strings give the same
    np.testing.assert_array_equal(substitute(X[2], "GATTACA", start), out[2])
    assert substitute(seqs[2], "GATTACA", start) == sx.decode(out[2])
    assert substitute(seqs, "GATTACA", start) == sx.decode(out)


def test_substitute_takes_a_one_hot_motif_as_it_is(seqs):
    X = sx.one_hot(seqs)
    motif = sx.one_hot(["ACNNT"])[0]  # N: all-zero rows, kept
    out = substitute(X, motif, 3, random_state=0)
    np.testing.assert_array_equal(out[:, 3:8], np.broadcast_to(motif, (6, 5, 4)))
    np.testing.assert_array_equal(np.delete(out, range(3, 8), axis=1),
                                  np.delete(X, range(3, 8), axis=1))


def test_pwm_draws_converge_to_the_pwm():
    pwm = np.array([[0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25], [0.0, 0.0, 0.05, 0.95],
                    [0.5, 0.5, 0.0, 0.0]])
    n = 10_000
    X = np.zeros((n, 12, 4), np.float32)
    X[:, :, 0] = 1
    out = substitute(X, pwm, 4, random_state=3)
    freq = out[:, 4:8].mean(axis=0)
    # binomial standard error at 10k draws is at most 0.005: 5 standard errors
    assert np.abs(freq - pwm).max() < 0.025
    assert (freq[pwm == 0] == 0).all()  # impossible bases never drawn
    assert (out[:, 4:8].sum(axis=2) == 1).all()
    np.testing.assert_array_equal(np.delete(out, range(4, 8), axis=1)[..., 0], 1)
    # each sequence its own draw; the same seed the same draws
    assert len({row.tobytes() for row in out[:50, 4:8]}) > 10
    np.testing.assert_array_equal(out, substitute(X, pwm, 4, random_state=3))
    np.testing.assert_array_equal(sample_pwm(pwm, 5, random_state=1),
                                  sample_pwm(pwm, 5, random_state=np.random.default_rng(1)))


def test_pwm_into_strings_is_drawn_and_decoded():
    pwm = np.array([[1.0, 0, 0, 0], [0, 0, 0.5, 0.5]])
    out = substitute(["CCCCC"] * 200, pwm, 1, random_state=0)
    assert {s[:2] + s[3:] for s in out} == {"CACC"}
    assert Counter(s[2] for s in out).keys() == {"G", "T"}


@pytest.mark.parametrize("start", [0, 5, 23, None])
def test_insert_shifts_the_right_part_and_trims_its_end(seqs, start):
    X = sx.one_hot(seqs)
    out = insert(X, "GATTACA", start)
    at = (30 - 7) // 2 if start is None else start
    for seq, edited in zip(seqs, sx.decode(out)):
        expected = (seq[:at] + "GATTACA" + seq[at:])[:30]  # by hand: insert, cut the end
        assert edited == expected
    assert insert(seqs, "GATTACA", start) == sx.decode(out)
    np.testing.assert_array_equal(insert(X[0], "GATTACA", start), out[0])


def test_insert_into_strings_takes_any_letters():
    assert insert("aaaabbbbb", "X", 4) == "aaaaXbbbb"
    assert insert("aaaabbbbb", "XYZ", None) == "aaaXYZabb"


@pytest.mark.parametrize("n", [None, 3])
def test_dinucleotide_shuffle_region_keeps_the_region_counts_and_the_outside(n):
    seqs = random_dna(5, 60, seed=4)
    X = sx.one_hot(seqs)
    out = shuffle_region(X, 12, 47, n=n, random_state=0)
    assert out.shape == (X.shape if n is None else (5, n, 60, 4))
    shuffles = out[:, None] if n is None else out
    changed = 0
    for seq, group in zip(seqs, shuffles):
        for edited in sx.decode(group):
            assert edited[:12] == seq[:12] and edited[47:] == seq[47:]
            assert dinucleotides(edited[12:47]) == dinucleotides(seq[12:47])
            assert dinucleotides(edited) == dinucleotides(seq)  # the ends are kept too
            changed += edited != seq
    assert changed >= 0.8 * len(seqs) * (n or 1)
    np.testing.assert_array_equal(out, shuffle_region(X, 12, 47, n=n, random_state=0))


def test_mononucleotide_shuffle_region_is_a_permutation_of_the_stretch():
    X = sx.one_hot(random_dna(3, 40, seed=5))
    out = shuffle_region(X, 10, 25, kind="mononucleotide", random_state=7)
    rng = np.random.default_rng(7)  # one permutation per sequence, in order
    for i in range(3):
        expected = X[i].copy()
        expected[10:25] = X[i, 10:25][rng.permutation(15)]
        np.testing.assert_array_equal(out[i], expected)
    one = shuffle_region(X[1], 0, 40, kind="mononucleotide", n=4, random_state=2)
    assert one.shape == (4, 40, 4)
    np.testing.assert_array_equal(one.sum(axis=1), np.broadcast_to(X[1].sum(axis=0), (4, 4)))


def test_public_dinucleotide_shuffle_works_on_arrays():
    seqs = random_dna(4, 50, seed=6)
    out = sx.dinucleotide_shuffle(sx.one_hot(seqs), n=2, random_state=0)
    assert out.shape == (4, 2, 50, 4)
    for seq, group in zip(seqs, out):
        for shuffled in sx.decode(group):
            assert dinucleotides(shuffled) == dinucleotides(seq)


X8 = np.eye(4, dtype=np.float32)[np.arange(8) % 4][None]  # ACGTACGT


@pytest.mark.parametrize("call, message", [
    (lambda: substitute(X8, "ACGTACGTA", 0), "longer than the sequence"),
    (lambda: insert(X8, "ACGTACGTA"), "longer than the sequence"),
    (lambda: substitute(X8, "ACG", 6), "start=6 is out of range"),
    (lambda: substitute(X8, "ACG", -1), "start=-1 is out of range"),
    (lambda: substitute(X8, "ACG", 1.5), "expected an integer position"),
    (lambda: substitute(X8, "ACJ", 0), "position 3: 'J' is not a dna letter"),
    (lambda: substitute(X8, "", 0), "motif is empty"),
    (lambda: substitute(X8, np.ones((2, 3)), 0), "expected (L_m, 4)"),
    (lambda: substitute(X8, np.full((2, 4), 0.3), 0), "row 0 sums to 1.2"),
    (lambda: substitute(X8, np.full((2, 4), -0.25), 0), "finite and ≥ 0"),
    (lambda: substitute(np.zeros((2, 3, 4, 5)), "A", 0), "expected (length, C)"),
    (lambda: substitute(np.zeros((8, 7)), "A", 0), "give the alphabet"),
    (lambda: substitute([1, 2], "A", 0), "list of strings"),
    (lambda: shuffle_region(X8, 5, 3), "start=5 is after end=3"),
    (lambda: shuffle_region(X8, 0, 9), "end=9 is outside the sequence (0..8)"),
    (lambda: shuffle_region(X8, 0, 4, kind="trinucleotide"), "choose one of dinucleotide"),
    (lambda: shuffle_region(X8, 0, 4, n=0), "n=0"),
    (lambda: shuffle_region("ACGT", 0, 4), "expected a one-hot array"),
    (lambda: sample_pwm(np.full((2, 4), 0.25), -1), "n=-1"),
])
def test_bad_input_is_one_line(call, message):
    with pytest.raises(sx.SeqexplainError) as err:
        call()
    assert message in str(err.value) and "\n" not in str(err.value)
