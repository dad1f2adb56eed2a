import numpy as np
import pytest
from helpers import random_dna

from seqexplain import (DNA, PROTEIN, RNA, SeqexplainError, decode, detect_alphabet, encode,
                        one_hot, reverse_complement)
from seqexplain.encoding import letter_counts


def test_dna_rows_are_one_hot_in_acgt_order():
    x = one_hot(["ACGT"])
    assert x.dtype == np.float32 and x.shape == (1, 4, 4)
    np.testing.assert_array_equal(x[0], np.eye(4, dtype=np.float32))


def test_lower_case_equals_upper_case():
    np.testing.assert_array_equal(one_hot(["acgtnrykm"]), one_hot(["ACGTNRYKM"]))


@pytest.mark.parametrize("code,expected", [
    ("R", [0.5, 0, 0.5, 0]), ("Y", [0, 0.5, 0, 0.5]), ("S", [0, 0.5, 0.5, 0]),
    ("W", [0.5, 0, 0, 0.5]), ("K", [0, 0, 0.5, 0.5]), ("M", [0.5, 0.5, 0, 0]),
    ("B", [0, 1 / 3, 1 / 3, 1 / 3]), ("D", [1 / 3, 0, 1 / 3, 1 / 3]),
    ("H", [1 / 3, 1 / 3, 0, 1 / 3]), ("V", [1 / 3, 1 / 3, 1 / 3, 0]),
])
def test_iupac_codes_are_fractional_rows_summing_to_one(code, expected):
    row = one_hot([code])[0, 0]
    np.testing.assert_allclose(row, expected, rtol=1e-6)
    assert row.sum() == pytest.approx(1.0)


def test_n_is_zero_by_default_and_uniform_on_request():
    np.testing.assert_array_equal(one_hot(["N"])[0, 0], np.zeros(4))
    np.testing.assert_array_equal(one_hot(["N"], unknown="uniform")[0, 0], np.full(4, 0.25))


@pytest.mark.parametrize("gap", ["-", "."])
@pytest.mark.parametrize("alphabet", ["dna", "rna", "protein"])
def test_gaps_are_zero_rows(gap, alphabet):
    letter = "A"
    x = one_hot([letter + gap + letter], alphabet=alphabet)
    assert x[0, 1].sum() == 0 and x[0, 0].sum() == 1


def test_rna_uses_u_channel():
    assert RNA.letters == "ACGU"
    np.testing.assert_array_equal(one_hot(["U"], alphabet="rna")[0, 0], [0, 0, 0, 1])
    with pytest.raises(SeqexplainError, match=r"position 1: invalid character 'T' for rna"):
        one_hot(["T"], alphabet="rna")


def test_protein_order_and_special_letters():
    assert PROTEIN.letters == "ACDEFGHIKLMNPQRSTVWY" and PROTEIN.channels == 20
    x = one_hot(["ACDEFGHIKLMNPQRSTVWY"], alphabet="protein")
    np.testing.assert_array_equal(x[0], np.eye(20))
    idx = PROTEIN.letters.index

    def row(letter, **kw):
        return one_hot([letter], alphabet="protein", **kw)[0, 0]

    for code, pair in {"B": "DN", "Z": "EQ", "J": "IL"}.items():
        expected = np.zeros(20)
        expected[[idx(pair[0]), idx(pair[1])]] = 0.5
        np.testing.assert_array_equal(row(code), expected)
    np.testing.assert_array_equal(row("U"), row("C"))  # selenocysteine read as cysteine
    np.testing.assert_array_equal(row("O"), row("K"))  # pyrrolysine read as lysine
    np.testing.assert_array_equal(row("X"), np.zeros(20))
    np.testing.assert_allclose(row("X", unknown="uniform"), np.full(20, 0.05))
    np.testing.assert_array_equal(row("*"), np.zeros(20))


@pytest.mark.parametrize("seq,alphabet,pos,char", [
    ("ACGT@A", "dna", 5, "@"),
    ("ACGTAE", "dna", 6, "E"),
    ("ACGU", "dna", 4, "U"),
    ("AC1T", "dna", 3, "1"),
    ("MKV#L", "protein", 4, "#"),
    ("ACGé", "dna", 4, "é"),
])
def test_invalid_character_names_record_and_one_based_position(seq, alphabet, pos, char):
    with pytest.raises(SeqexplainError) as err:
        encode(["ACGT", seq], alphabet=alphabet, ids=["ok", "bad"], source="in.fa")
    msg = str(err.value)
    assert msg.startswith(f"in.fa: record 'bad', position {pos}: invalid character {char!r}")
    assert "\n" not in msg


def test_invalid_character_hints_at_the_right_alphabet():
    with pytest.raises(SeqexplainError, match="pass --alphabet rna"):
        one_hot(["ACGU"], alphabet="dna")
    with pytest.raises(SeqexplainError, match="pass --alphabet protein"):
        one_hot(["MKLE"], alphabet="dna")


def test_empty_sequence_is_an_error():
    with pytest.raises(SeqexplainError, match="record 'b': empty sequence"):
        encode(["ACG", ""], ids=["a", "b"])


@pytest.mark.parametrize("counts,expected", [
    ({"A": 10, "C": 10, "G": 10, "T": 10}, DNA),
    ({"A": 10, "C": 10, "G": 10, "T": 10, "N": 5, "R": 1}, DNA),
    ({"A": 10, "C": 10, "G": 10}, DNA),
    ({"A": 10, "C": 10, "G": 10, "U": 10}, RNA),
    ({"M": 3, "K": 5, "L": 4, "E": 2, "A": 1}, PROTEIN),
    ({"A": 300, "C": 200, "G": 250, "T": 249, "J": 1}, DNA),  # a stray letter: still DNA
    ({"A": 300, "C": 200, "G": 250, "U": 240, "E": 10}, RNA),
    # a protein rich in A, G, T, N, C is still far below 90 % of them
    ({"A": 20, "G": 20, "T": 15, "N": 10, "C": 5, "L": 10, "S": 10, "E": 10}, PROTEIN),
])
def test_detect_alphabet(counts, expected):
    assert detect_alphabet(counts) is expected


@pytest.mark.parametrize("counts,match", [
    ({"A": 10, "C": 10, "G": 10, "T": 5, "U": 5}, "both T and U"),
    ({"D": 5, "H": 5, "K": 5, "M": 5, "R": 5, "S": 5, "A": 1}, "nucleic acid or protein"),
    ({"-": 4}, "no sequence letters"),
])
def test_detect_alphabet_ambiguous_asks_for_alphabet(counts, match):
    with pytest.raises(SeqexplainError, match=match) as err:
        detect_alphabet(counts, source="x.fa")
    assert "--alphabet" in str(err.value) and str(err.value).startswith("x.fa: ")


def test_auto_detects_from_sequences_and_ignores_stray_symbols():
    assert encode(["acgtn", "ACGGT"], alphabet="auto").alphabet is DNA
    assert encode(["MKVLAEW"], alphabet="auto").alphabet is PROTEIN
    # A stray symbol does not turn DNA into protein; it is reported as invalid DNA.
    with pytest.raises(SeqexplainError, match="invalid character '@' for dna"):
        encode(["ACGT@"], alphabet="auto")
    # nor does a stray letter: it is named with its record and position
    with pytest.raises(SeqexplainError, match=r"record 'b', position 7: invalid character 'J'"):
        encode(["ACGTACGTACGTACGTACGT", "ACGTACJTACGTACGTACGT"], ids=["a", "b"],
               alphabet="auto")
    assert letter_counts(["ac-", "G*"]) == {"A": 1, "C": 1, "G": 1, "-": 1, "*": 1}


@pytest.mark.parametrize("pad,expected", [
    ("center", "NACGNN"), ("left", "NNNACG"), ("right", "ACGNNN"),
])
def test_padding_places_sequence(pad, expected):
    enc = encode(["ACG", "ACGTAC"], length=6, pad=pad)
    assert decode(enc.onehot[0]) == expected
    assert enc.n_padded == 1 and enc.n_cropped == 0
    assert enc.onehot[0].sum() == 3  # padding rows are all-zero
    np.testing.assert_array_equal(enc.lengths, [3, 6])
    # offsets map row positions back to sequence coordinates
    assert enc.offsets[0] == -expected.index("A") and enc.offsets[1] == 0


@pytest.mark.parametrize("pad,crop", [("center", "center"), ("left", "left"),
                                      ("right", "right")])
def test_offsets_map_rows_to_sequence_coordinates(pad, crop):
    seqs = ["ACGTTGCA", "GAT", "CCGGAATTCA", "ACGTAC"]
    enc = encode(seqs, length=6, pad=pad, crop=crop)
    for seq, row, off in zip(seqs, enc.onehot, enc.offsets):
        text = decode(row)
        for p in range(6):
            j = p + off
            assert text[p] == (seq[j] if 0 <= j < len(seq) else "N")


@pytest.mark.parametrize("crop,expected", [
    ("center", "CGTA"), ("left", "GTAC"), ("right", "ACGT"),
])
def test_cropping_keeps_expected_window(crop, expected):
    enc = encode(["ACGTAC", "AC"], length=4, crop=crop)
    assert decode(enc.onehot[0]) == expected
    assert enc.n_cropped == 1 and enc.n_padded == 1


def test_crop_error_refuses_long_sequence():
    with pytest.raises(SeqexplainError, match=r"in.fa: record 'long': sequence is 6 long, "
                                              r"longer than the target length 4"):
        encode(["ACG", "ACGTAC"], length=4, crop="error", ids=["short", "long"], source="in.fa")


def test_default_length_is_the_longest():
    enc = encode(["A", "ACGTA", "AC"])
    assert enc.onehot.shape == (3, 5, 4) and enc.n_padded == 2
    assert "3 sequences × 5 positions (dna); 2 padded, 0 cropped" == enc.summary()


def test_bad_pad_crop_unknown_values():
    for kwargs in ({"pad": "middle"}, {"crop": "centre"}, {"unknown": "random"}):
        with pytest.raises(SeqexplainError):
            encode(["ACGT"], **kwargs)


def test_decode_round_trip_with_ambiguity_codes(rng):
    seqs = random_dna(rng, 20, 50) + ["ACGTNRYSWKMBDHV"]
    assert decode(one_hot(seqs, length=50, pad="right"))[:20] == seqs[:20]
    assert decode(one_hot(["ACGTNRYSWKMBDHV"]))[0] == "ACGTNRYSWKMBDHV"
    prot = "ACDEFGHIKLMNPQRSTVWYXBZJ"
    assert decode(one_hot([prot], alphabet="protein"), "protein")[0] == prot


def test_reverse_complement_strings_and_onehot(rng):
    assert reverse_complement("AACGTN") == "NACGTT"
    assert reverse_complement("acgRYKM") == "KMRYcgt"
    assert reverse_complement("ACGU", alphabet="rna") == "ACGU"
    assert reverse_complement("AACU", alphabet="rna") == "AGUU"
    seqs = random_dna(rng, 5, 30)
    x = one_hot(seqs)
    np.testing.assert_array_equal(reverse_complement(x), one_hot(reverse_complement(seqs)))
    np.testing.assert_array_equal(reverse_complement(reverse_complement(x)), x)
    with pytest.raises(SeqexplainError, match="not protein"):
        reverse_complement("MKV", alphabet="protein")


def test_encoding_is_vectorised_on_large_input(rng):
    # Not a speed test (that is benchmarks/bench_encoding.py): checks the batch path agrees with
    # a per-character reference on many sequences of mixed lengths.
    seqs = [s[: rng.integers(1, 60)] for s in random_dna(rng, 300, 60)]
    x = one_hot(seqs, length=40, pad="left", crop="right")
    ref = np.zeros_like(x)
    for i, s in enumerate(seqs):
        s = s[:40]
        off = 40 - len(s)
        for j, ch in enumerate(s):
            ref[i, off + j, "ACGT".index(ch)] = 1
    np.testing.assert_array_equal(x, ref)
