import gzip

import numpy as np
import pytest
from helpers import data_file, random_dna

from seqexplain import (PROTEIN, SeqexplainError, decode, iter_encoded, iter_fasta,
                        iter_fasta_batches, read_encoded, read_fasta)
from seqexplain.fasta import scan_fasta


def write(tmp_path, name, text, gz=False):
    path = tmp_path / name
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def test_reads_ids_descriptions_and_wrapped_sequences(tmp_path):
    path = write(tmp_path, "a.fa", ">s1 label=1 some text\nACGT\nacgt\n\n>s2\r\nGG\r\n")
    recs = read_fasta(path)
    assert recs.ids == ["s1", "s2"]
    assert recs.descriptions == ["label=1 some text", ""]
    assert recs.sequences == ["ACGTacgt", "GG"]
    assert recs.sources == [str(path)] * 2


def test_gzip_is_detected_by_content(tmp_path):
    text = ">a\nACGT\n>b\nTTTT\n"
    plain = read_fasta(write(tmp_path, "x.fa", text))
    gz = read_fasta(write(tmp_path, "x.fa.gz", text, gz=True))
    assert gz.ids == plain.ids and gz.sequences == plain.sequences
    # a gzip file without the .gz suffix still reads
    assert read_fasta(write(tmp_path, "y.fa", text, gz=True)).sequences == plain.sequences


def test_comment_lines_before_first_header_are_skipped(tmp_path):
    path = write(tmp_path, "c.fa", "# made by pfam\n\n; old comment\n>a\nMKV\n")
    assert read_fasta(path).sequences == ["MKV"]


@pytest.mark.parametrize("text,binary,match", [
    ("", False, "empty file"),
    ("\n\n  \n", False, "empty file"),
    ("ACGTACGT\n", False, "line 1: expected a FASTA header"),
    ("@read1\nACGT\n+\nIIII\n", False, "line 1: expected a FASTA header"),
    (">a\nACGT\n>b\n>c\nAC\n", False, "record 'b': empty sequence"),
    (">a\nACGT\n>a\nAC\n", False, "record 'a': duplicate id"),
    (">\nACGT\n", False, "has no id"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", True, "not a text FASTA file"),
    (b">a\nAC\xff\xfeGT\n", True, "not a text FASTA file"),
])
def test_bad_files_give_one_line_errors_naming_file(tmp_path, text, binary, match):
    path = tmp_path / "bad.fa"
    path.write_bytes(text if binary else text.encode())
    with pytest.raises(SeqexplainError, match=match) as err:
        read_fasta(path)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(SeqexplainError, match="no such file"):
        read_fasta(tmp_path / "nope.fa")
    with pytest.raises(SeqexplainError, match="is a directory"):
        read_fasta(tmp_path)


def test_truncated_gzip_is_an_error(tmp_path):
    path = write(tmp_path, "t.fa.gz", ">a\n" + "ACGT" * 5000 + "\n", gz=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SeqexplainError, match="cannot read file"):
        read_fasta(path)


def test_duplicate_ids_across_files(tmp_path):
    a = write(tmp_path, "a.fa", ">x\nACGT\n")
    b = write(tmp_path, "b.fa", ">x\nACGT\n")
    with pytest.raises(SeqexplainError, match=r"record 'x': duplicate id \(also in"):
        read_fasta([a, b])


def test_read_encoded_real_ctcf_peaks():
    recs, enc = read_encoded(data_file("dna", "ctcf_gm12878_top500_200bp.fa"))
    assert len(recs) == 500 and enc.onehot.shape == (500, 200, 4)
    assert enc.alphabet.name == "dna"
    assert recs.ids[0] == "chr11:190037-190237"
    # soft-masked lower case is read like upper case
    assert decode(enc.onehot[0]) == recs.sequences[0].upper()
    np.testing.assert_allclose(enc.onehot.sum(-1), 1.0)  # no N in these peaks


def test_real_protein_files():
    recs, enc = read_encoded(data_file("protein", "ww_domains_pfam_PF00397_rp15.fa"))
    assert enc.alphabet is PROTEIN and enc.onehot.shape == (4025, 44, 20)
    assert "." in recs.sequences[0]  # Pfam alignment gaps
    gaps = np.array([c in "-." for c in recs.sequences[0]])
    assert (enc.onehot[0][gaps].sum(-1) == 0).all() and (enc.onehot[0][~gaps].sum(-1) > 0).all()
    recs, enc = read_encoded(data_file("protein", "bacterial_proteome_938293_first300.faa"),
                             length=300)
    assert enc.alphabet is PROTEIN and enc.onehot.shape == (300, 300, 20)
    lengths = np.array([len(s) for s in recs.sequences])
    assert enc.n_cropped == (lengths > 300).sum() > 0
    assert enc.n_padded == (lengths < 300).sum() > 0


def test_gzip_genome_scan():
    # the first 280,000 bp of the E. coli 536 genome, 4,000 lines of 70 bases
    scan = scan_fasta(data_file("genomes", "ecoli536_NC_008253_first280kb.fna.gz"))
    assert scan.n == 1 and scan.min_length == scan.max_length == 280_000
    assert scan.alphabet.name == "dna"


def test_streaming_equals_whole_file(tmp_path, rng):
    seqs = [s[: rng.integers(30, 80)] for s in random_dna(rng, 95, 80)]
    text = "".join(f">r{i}\n{s}\n" for i, s in enumerate(seqs))
    path = write(tmp_path, "s.fa.gz", text, gz=True)
    _, whole = read_encoded(path, length=60)
    batches = list(iter_encoded(path, alphabet="auto", length=60, batch_size=10))
    assert [len(ids) for ids, _ in batches] == [10] * 9 + [5]
    np.testing.assert_array_equal(np.concatenate([b.onehot for _, b in batches]), whole.onehot)
    assert sum(b.n_cropped for _, b in batches) == whole.n_cropped
    assert [i for ids, _ in batches for i in ids] == [f"r{i}" for i in range(95)]
    # without a length, the first pass finds the longest sequence so every batch has one shape
    shapes = {b.onehot.shape[1] for _, b in iter_encoded(path, batch_size=7)}
    assert shapes == {max(map(len, seqs))}


def test_streaming_reads_lazily(tmp_path):
    # An error late in the file surfaces only when that batch is reached: proof of streaming.
    text = "".join(f">r{i}\nACGT\n" for i in range(50)) + ">bad\nAC!T\n"
    path = write(tmp_path, "l.fa", text)
    it = iter_encoded(path, alphabet="dna", length=4, batch_size=10)
    first = next(it)
    assert first[0][0] == "r0"
    with pytest.raises(SeqexplainError, match="record 'bad', position 3: invalid character '!'"):
        list(it)
    assert sum(len(b.ids) for b in iter_fasta_batches(write(tmp_path, "m.fa", text), 20)) == 51


def test_iter_fasta_yields_tuples(tmp_path):
    path = write(tmp_path, "i.fa", ">a desc here\nAC\n")
    assert list(iter_fasta(path)) == [("a", "desc here", "AC")]
