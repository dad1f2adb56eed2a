"""k-mer-preserving shuffles: exact counts, ends, uniformity, shapes, seeds, and a batch the
size of a DeepSHAP reference set."""

from collections import Counter

import numpy as np
import pytest
from helpers import data_file
from scipy.stats import chisquare

from seqexplain import SeqexplainError, decode, one_hot, read_fasta
from seqexplain.shuffle import dinucleotide_shuffle, shuffle


def kmer_counts(seq, k=2):
    return Counter(seq[i:i + k] for i in range(len(seq) - k + 1))


def row_kmer_counts(onehot, k=2):
    """k-mer counts of a one-hot array (length, C), each row taken as a symbol."""
    return Counter(onehot[i:i + k].tobytes() for i in range(len(onehot) - k + 1))


def all_arrangements(seq):
    """Every sequence with the same dinucleotide counts and first letter (depth-first search)."""
    edges = Counter(zip(seq, seq[1:]))
    found = []

    def extend(path):
        if len(path) == len(seq):
            found.append("".join(path))
            return
        for (a, b), count in edges.items():
            if a == path[-1] and count:
                edges[a, b] -= 1
                extend(path + [b])
                edges[a, b] += 1

    extend([seq[0]])
    return sorted(set(found))


@pytest.mark.parametrize("k", [2, 3, 4])
def test_kmer_counts_and_ends_are_kept_exactly(rng, k):
    letters = np.array(list("ACGTN"))
    for length in (5, 17, 60, 301):
        seq = "".join(rng.choice(letters, length, p=[0.3, 0.2, 0.2, 0.25, 0.05]))
        shuffled = dinucleotide_shuffle(seq, n=10, k=k, random_state=length)
        assert len(shuffled) == 10
        for out in shuffled:
            assert kmer_counts(out, k) == kmer_counts(seq, k)
            assert out[:k - 1] == seq[:k - 1] and out[len(out) - k + 1:] == seq[len(seq) - k + 1:]


def test_real_ctcf_peaks_one_hot():
    records = read_fasta(data_file("dna", "ctcf_gm12878_top500_200bp.fa"))
    x = one_hot(records.sequences)
    out = dinucleotide_shuffle(x, n=3, random_state=0)
    assert out.shape == (500, 3, 200, 4) and out.dtype == x.dtype
    originals = decode(x)
    for original, shuffles in zip(originals, out):
        for seq in decode(shuffles):
            assert kmer_counts(seq) == kmer_counts(original)
            assert seq[0] == original[0] and seq[-1] == original[-1]
            assert seq != original


def test_zero_and_fractional_rows_are_their_own_symbols():
    # N (all-zero), R (fractional) and centred padding (all-zero) rows.
    x = one_hot(["ACGTNNACGRTAGCTAGCAT", "TTGCAANACG"], length=24)
    out = dinucleotide_shuffle(x, n=8, random_state=1)
    for original, shuffles in zip(x, out):
        for shuffled in shuffles:
            assert row_kmer_counts(shuffled) == row_kmer_counts(original)
            assert np.array_equal(shuffled[[0, -1]], original[[0, -1]])
            assert (shuffled.sum(axis=1) == 0).sum() == (original.sum(axis=1) == 0).sum()
    assert any(not np.array_equal(s, x[0]) for s in out[0])


def test_every_arrangement_equally_likely():
    seq = "GATTACACATGCAT"
    arrangements = all_arrangements(seq)
    assert len(arrangements) == 72
    counts = Counter(dinucleotide_shuffle(seq, n=100 * len(arrangements), random_state=7))
    assert set(counts) == set(arrangements)
    assert chisquare([counts[a] for a in arrangements]).pvalue > 0.01


def test_seeds_reproduce_and_differ(rng):
    x = one_hot(["".join(rng.choice(list("ACGT"), 100)) for _ in range(5)])
    first = dinucleotide_shuffle(x, n=4, random_state=42)
    np.testing.assert_array_equal(first, dinucleotide_shuffle(x, n=4, random_state=42))
    np.testing.assert_array_equal(
        first, dinucleotide_shuffle(x, n=4, random_state=np.random.default_rng(42)))
    assert not np.array_equal(first, dinucleotide_shuffle(x, n=4, random_state=43))
    # The n shuffles of one sequence differ from each other too.
    assert len({s.tobytes() for s in first[0]}) == 4


def test_shapes_and_types():
    x = one_hot(["ACGTTGCAACGGTA"])[0]
    assert dinucleotide_shuffle(x, n=3, random_state=0).shape == (3, 14, 4)
    assert dinucleotide_shuffle(x[None], random_state=0).shape == (1, 1, 14, 4)
    out = dinucleotide_shuffle(["ACGTTGCA", "acgtacgtTTAA", "MKVLAAGIVGLLA"], n=2,
                               random_state=0)
    assert [len(s) for s in out] == [2, 2, 2]
    assert [len(s) for s in out[1]] == [12, 12]
    assert kmer_counts(out[2][0]) == kmer_counts("MKVLAAGIVGLLA")  # any alphabet
    assert dinucleotide_shuffle("ACGT", random_state=0) == ["ACGT"]  # the only arrangement


def test_sequences_too_short_to_shuffle_come_back_unchanged():
    assert dinucleotide_shuffle(["", "A", "AC"], n=2) == [["", ""], ["A", "A"], ["AC", "AC"]]
    assert dinucleotide_shuffle("ACG", k=3, n=2) == ["ACG", "ACG"]
    assert dinucleotide_shuffle(np.zeros((0, 10, 4)), n=3).shape == (0, 3, 10, 4)


def test_mononucleotide_shuffle_keeps_letters(rng):
    seq = "".join(rng.choice(list("ACGT"), 80))
    for out in shuffle(seq, n=5, random_state=0):
        assert sorted(out) == sorted(seq) and out != seq
    x = one_hot([seq, seq[::-1]])
    out = shuffle(x, n=3, random_state=0)
    assert out.shape == (2, 3, 80, 4)
    np.testing.assert_array_equal(out.sum(axis=2), np.repeat(x.sum(axis=1)[:, None], 3, 1))
    # k=1 is the plain shuffle.
    np.testing.assert_array_equal(dinucleotide_shuffle(x, n=3, k=1, random_state=0), out)


@pytest.mark.parametrize("call, message", [
    (lambda: dinucleotide_shuffle("ACGT", n=0), "n (shuffles per sequence)"),
    (lambda: dinucleotide_shuffle("ACGT", k=0), "k (k-mer length)"),
    (lambda: dinucleotide_shuffle(np.zeros((2, 3, 4, 4))), "expected (length, C)"),
    (lambda: dinucleotide_shuffle([1, 2, 3]), "cannot shuffle a list"),
    (lambda: shuffle(42), "cannot shuffle a int"),
])
def test_bad_arguments(call, message):
    with pytest.raises(SeqexplainError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_reference_set_for_a_typical_batch_in_one_call(rng):
    # 1000 × 200 bp, 20 shuffles each: the reference set for DeepSHAP on a typical batch, in
    # one vectorised call (about 0.4 s of CPU on 2 cores; not asserted: load breaks timings).
    x = one_hot(["".join(rng.choice(list("ACGT"), 200)) for _ in range(1000)])
    out = dinucleotide_shuffle(x, n=20, random_state=0)
    assert out.shape == (1000, 20, 200, 4) and out.dtype == x.dtype
    for i in (0, 499, 999):
        for shuffled in out[i]:
            assert row_kmer_counts(shuffled) == row_kmer_counts(x[i])
        assert len({s.tobytes() for s in out[i]}) == 20  # 20 different shuffles
