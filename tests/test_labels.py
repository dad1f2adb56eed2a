import pandas as pd
import pytest

from seqexplain import SeqexplainError, read_fasta
from seqexplain.labels import file_class, labels_for, read_label_table


def fasta(tmp_path, name, records):
    path = tmp_path / name
    path.write_text("".join(f">{rid}{' ' + d if d else ''}\n{s}\n" for rid, d, s in records))
    return path


def test_table_join_follows_fasta_order_and_types_columns(tmp_path):
    fa = fasta(tmp_path, "x.fa", [("b", "", "ACGT"), ("a", "", "GGGG")])
    tsv = tmp_path / "labels.tsv"
    tsv.write_text("id\tbound\tsignal\tcell\na\t1\t2.5\tHeLa\nb\t0\t-1\tK562\n")
    labels = labels_for(read_fasta(fa), tsv)
    assert list(labels.index) == ["b", "a"]
    assert labels["bound"].tolist() == [0.0, 1.0] and labels["bound"].dtype == float
    assert labels["signal"].tolist() == [-1.0, 2.5]
    assert labels["cell"].tolist() == ["K562", "HeLa"]


def test_csv_by_suffix_and_ids_kept_as_strings(tmp_path):
    fa = fasta(tmp_path, "x.fa", [("007", "", "ACGT")])
    csv = tmp_path / "l.csv"
    csv.write_text("name,y\n007,3\n")
    assert labels_for(read_fasta(fa), csv)["y"].loc["007"] == 3.0


@pytest.mark.parametrize("table,match", [
    ("id\ty\na\t1\n", r"1 record id\(s\) of .* have no label \(first: 'b'\)"),
    ("id\ty\na\t1\nb\t0\nc\t1\nd\t0\ne\t1\nf\t0\n",
     r"4 labelled id\(s\) are not in .* \(first: 'c', 'd', 'e', …\)"),
    ("id\ty\na\t1\na\t0\nb\t1\n", r"1 duplicate id\(s\) .*\(first: 'a'\)"),
    ("id\ty\na\t1\nb\t\n", r"column 'y': 1 missing \(NaN/empty\) label\(s\) \(first: 'b'\)"),
    ("id\ty\na\tNaN\nb\t1\n", r"column 'y': 1 missing"),
    ("id\na\nb\n", "needs an id column and at least one target column"),
    ("id,y\na,1\nb,0\n", r"is it comma-separated\? name it .csv"),
    ("", "empty labels file"),
    ("id\ty\n", "header but no rows"),
])
def test_table_errors(tmp_path, table, match):
    fa = fasta(tmp_path, "x.fa", [("a", "", "ACGT"), ("b", "", "ACGT")])
    tsv = tmp_path / "labels.tsv"
    tsv.write_text(table)
    with pytest.raises(SeqexplainError, match=match) as err:
        labels_for(read_fasta(fa), tsv)
    assert str(err.value).startswith(str(tsv)) and "\n" not in str(err.value)


def test_missing_table_file(tmp_path):
    fa = fasta(tmp_path, "x.fa", [("a", "", "ACGT")])
    with pytest.raises(SeqexplainError, match="no such file"):
        labels_for(read_fasta(fa), tmp_path / "none.tsv")


def test_header_label_tokens(tmp_path):
    fa = fasta(tmp_path, "x.fa", [("a", "label=1 from peaks", "ACGT"), ("b", "x label=0", "AC")])
    labels = labels_for(read_fasta(fa))
    assert labels["label"].tolist() == [1.0, 0.0]
    fa2 = fasta(tmp_path, "y.fa", [("a", "label=up", "ACGT"), ("b", "note", "AC")])
    with pytest.raises(SeqexplainError, match=r"1 record\(s\) have no label= token .*'b'"):
        labels_for(read_fasta(fa2))
    assert labels_for(read_fasta(fasta(tmp_path, "z.fa", [("a", "", "AC")]))) is None


def test_one_class_per_file(tmp_path):
    pos = fasta(tmp_path, "bound.fa", [("p1", "", "ACGT"), ("p2", "", "ACGA")])
    neg = fasta(tmp_path, "unbound.fasta", [("n1", "", "TTTT")])
    labels = labels_for(read_fasta([pos, neg]))
    assert labels["label"].tolist() == ["bound", "bound", "unbound"]
    assert list(labels.index) == ["p1", "p2", "n1"]
    assert file_class("dir/ctcf.fa.gz") == "ctcf" and file_class("x.faa") == "x"


def test_same_class_name_twice_is_an_error(tmp_path):
    (tmp_path / "d1").mkdir()
    (tmp_path / "d2").mkdir()
    a = fasta(tmp_path / "d1", "pos.fa", [("a", "", "AC")])
    b = fasta(tmp_path / "d2", "pos.fa", [("b", "", "AC")])
    with pytest.raises(SeqexplainError, match="same class name twice"):
        labels_for(read_fasta([a, b]))


def test_read_label_table_index(tmp_path):
    tsv = tmp_path / "l.tsv"
    tsv.write_text("seq\tscore\n x \t1e-3\n")
    table = read_label_table(tsv)
    assert isinstance(table, pd.DataFrame) and table.index.tolist() == ["x"]
    assert table.index.name == "id" and table["score"].iloc[0] == pytest.approx(1e-3)
