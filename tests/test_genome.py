"""Regions of a genome as records: windows, strands, ids, off-edge and duplicate handling, the
genome formats, labels, the GC-matched background and the --regions/--genome options."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import DATA, TINY_MODEL, write_genome

from seqexplain import read_encoded, read_fasta, reverse_complement
from seqexplain.cli import main
from seqexplain.errors import SeqexplainError
from seqexplain.fasta import genomic_interval, genomic_strand, to_genome
from seqexplain.genome import (Genome, RegionSource, gc_matched_background, read_bed,
                               sequence_inputs)
from seqexplain.labels import labels_for

ROOT = Path(__file__).resolve().parents[1]
CTCF = ROOT / "models" / "ctcf"


@pytest.fixture(scope="module")
def genome(tmp_path_factory):
    d = tmp_path_factory.mktemp("genome")
    seqs = write_genome(d / "g.fa", {"chr1": 6000, "chr2": 3000, "chr3": 2500}, seed=1)
    return d, seqs


def bed(path, lines) -> Path:
    Path(path).write_text("".join("\t".join(map(str, line)) + "\n" for line in lines))
    return Path(path)


def test_windows_centred_resized_and_stranded(genome, tmp_path):
    d, seqs = genome
    peaks = bed(tmp_path / "p.narrowPeak", [
        ("chr1", 1000, 1400, "a", 0, ".", 1, 1, 1, 50),   # summit 1050
        ("chr1", 2000, 2101, "b", 0, ".", 1, 1, 1, -1)])  # no summit: centre 2050
    src = RegionSource(peaks, d / "g.fa", length=100)
    assert src.ids == ["chr1:1000-1100(+)", "chr1:2000-2100(+)"]
    plain = bed(tmp_path / "p.bed", [("chr2", 500, 700, "x", 0, "-"), ("chr2", 800, 900)])
    src2 = RegionSource(plain, d / "g.fa", length=50)
    records = read_fasta(src2)
    assert records.ids == ["chr2:575-625(-)", "chr2:825-875(+)"]
    assert records.sequences[0] == reverse_complement(seqs["chr2"][575:625])
    assert records.sequences[1] == seqs["chr2"][825:875]
    assert records.sources == [str(plain)] * 2
    # ids carry genome coordinates, strand-aware
    assert genomic_interval("chr2:575-625(-)") == ("chr2", 575, 625)
    assert genomic_strand("chr2:575-625(-)") == "-" and genomic_strand("chr2:1-5") == "+"
    assert to_genome("chr2:575-625(-)", 0, 10) == ("chr2", 615, 625)
    assert to_genome("chr2:825-875(+)", 0, 10) == ("chr2", 825, 835)
    # the encoded rows are the model's length
    _, enc = read_encoded([src2], alphabet="dna")
    assert enc.onehot.shape == (2, 50, 4)


def test_off_edge_duplicates_and_equal_widths(genome, tmp_path):
    d, seqs = genome
    regions = bed(tmp_path / "r.bed", [("chr3", 0, 40), ("chr3", 2480, 2500),
                                       ("chr3", 1000, 1040), ("chr3", 1000, 1040)])
    src = RegionSource(regions, d / "g.fa", length=100)
    assert len(src) == 3 and src.report.off_edge == 2 and src.report.duplicates == 1
    seqs_read = read_fasta(src).sequences
    assert seqs_read[0] == "N" * 30 + seqs["chr3"][:70]
    assert seqs_read[1] == seqs["chr3"][2440:2500] + "N" * 40
    line = src.summary()
    assert "3 regions" in line and "2 running off a chromosome end (padded with N)" in line \
        and "1 duplicate(s)" in line
    dropped = RegionSource(regions, d / "g.fa", length=100, off_edge="drop")
    assert dropped.ids == ["chr3:970-1070(+)"] and "(dropped)" in dropped.summary()
    with pytest.raises(SeqexplainError, match="different widths.*pass --length"):
        RegionSource(bed(tmp_path / "w.bed", [("chr1", 0, 50), ("chr1", 100, 200)]),
                     d / "g.fa")
    assert RegionSource(bed(tmp_path / "s.bed", [("chr1", 0, 50), ("chr1", 100, 150)]),
                        d / "g.fa").length == 50


def test_genome_formats(genome, tmp_path):
    from Bio import bgzf

    d, seqs = genome
    text = (d / "g.fa").read_bytes()
    with bgzf.BgzfWriter(str(tmp_path / "g.fa.gz"), "wb") as fh:
        fh.write(text)
    g = Genome(tmp_path / "g.fa.gz")
    assert g.lengths == {"chr1": 6000, "chr2": 3000, "chr3": 2500}
    assert g.fetch("chr2", 100, 130) == seqs["chr2"][100:130]
    assert g.fetch("chr2", -3, 2) == "NNN" + seqs["chr2"][:2]
    (tmp_path / "plain.fa.gz").write_bytes(gzip.compress(text))
    with pytest.raises(SeqexplainError, match=r"plain.fa.gz: compressed with plain gzip.*"
                                              r"bgzip.*samtools faidx"):
        Genome(tmp_path / "plain.fa.gz")
    with pytest.raises(SeqexplainError, match="no such genome file"):
        Genome(tmp_path / "absent.fa")


def test_missing_chromosomes_suggest_the_prefix(genome, tmp_path):
    d, _ = genome
    with pytest.raises(SeqexplainError, match=r"n.bed: 2 chromosome\(s\) not in the genome .*"
                                              r"'1', '2'.*with a 'chr' prefix: add it"):
        RegionSource(bed(tmp_path / "n.bed", [("1", 0, 50), ("2", 0, 50)]), d / "g.fa")
    (tmp_path / "nochr.fa").write_text(">1\nACGTACGTAC\n")
    with pytest.raises(SeqexplainError, match="without the 'chr' prefix: remove it"):
        RegionSource(bed(tmp_path / "c.bed", [("chr1", 0, 5)]), tmp_path / "nochr.fa")


@pytest.mark.parametrize("lines, match", [
    (["chr1\t10\n"], "line 1: expected at least 3 columns"),
    (["track name=x\n", "chr1\tten\t20\n"], "line 2: start and end must be integers"),
    (["chr1\t30\t20\n"], "line 1: need 0 ≤ start < end"),
    (["# only a comment\n"], "no regions"),
])
def test_bad_bed_files(tmp_path, lines, match):
    path = tmp_path / "bad.bed"
    path.write_text("".join(lines))
    with pytest.raises(SeqexplainError, match=match):
        read_bed(path)


def test_labels_three_ways_and_split_by_chrom(genome, tmp_path):
    from seqexplain.train_run import load_training_data
    from seqexplain.training.settings import TrainSettings

    d, _ = genome
    pos = bed(tmp_path / "bound.bed", [("chr1", s, s + 40, "p", 0, "+") for s in
                                       range(100, 5000, 700)] + [("chr2", 100, 140)])
    neg = bed(tmp_path / "unbound.bed", [("chr2", s, s + 40) for s in range(300, 2900, 600)]
              + [("chr3", 100, 140)])
    sources = sequence_inputs([], [pos, neg], d / "g.fa", length=40).sources
    records = read_fasta(sources)
    table = labels_for(records)  # one class per BED file, named after it
    assert table.attrs["class_order"] == ["bound", "unbound"]
    assert (table["label"] == ["bound"] * 8 + ["unbound"] * 6).all()
    scored = bed(tmp_path / "scored.bed", [("chr1", s, s + 40, f"n{s}", s % 3) for s in
                                           range(100, 3000, 400)])
    by_column = read_fasta(RegionSource(scored, d / "g.fa", label_column=5))
    assert list(labels_for(by_column)["label"]) == [s % 3 for s in range(100, 3000, 400)]
    tsv = tmp_path / "labels.tsv"
    tsv.write_text("id\ty\n" + "".join(f"{rid}\t{i}\n" for i, rid in enumerate(by_column.ids)))
    assert list(labels_for(by_column, tsv)["y"]) == list(range(len(by_column)))
    data = load_training_data(sources, None, TrainSettings(split_by="chrom"), length=40)
    assert list(data.groups) == ["chr1"] * 7 + ["chr2"] * 6 + ["chr3"]


def test_gc_matched_background(tmp_path):
    seqs = write_genome(tmp_path / "g.fa", {"chrA": 40_000, "chrB": 30_000}, seed=3,
                        gc_blocks=True)
    rng = np.random.default_rng(0)
    # positives: the GC-richest 500 bp blocks' centres
    blocks = [(c, s) for c in seqs for s in range(0, len(seqs[c]) - 500, 500)]
    gc = np.array([(seqs[c][s:s + 500].count("G") + seqs[c][s:s + 500].count("C")) / 500
                   for c, s in blocks])
    top = [blocks[i] for i in np.argsort(-gc)[:40]]
    pos = RegionSource(bed(tmp_path / "pos.bed", [(c, s + 200, s + 300) for c, s in top]),
                       tmp_path / "g.fa", length=100)
    back = gc_matched_background(pos, seed=7)
    again = gc_matched_background(pos, seed=7)
    assert back.ids == again.ids and len(back) == len(pos)
    assert back.ids != gc_matched_background(pos, seed=8).ids
    spans = {(w.chrom, w.start, w.end) for w in pos.windows}
    for w in back.windows:  # no overlap with a positive or with each other
        assert not any(c == w.chrom and s < w.end and e > w.start for c, s, e in spans)
        spans.add((w.chrom, w.start, w.end))

    def gcs(source):
        return np.array([(s.count("G") + s.count("C")) / len(s)
                         for _, _, s in source.records()])

    p, b = gcs(pos), gcs(back)
    random_windows = [seqs["chrA"][s:s + 100] for s in rng.integers(0, 39_900, 200)]
    r = np.array([(s.count("G") + s.count("C")) / 100 for s in random_windows])
    assert abs(p.mean() - b.mean()) < 0.02 < abs(p.mean() - r.mean()) - 0.03
    assert abs(np.median(p) - np.median(b)) <= 0.05


@pytest.mark.slow
def test_predict_explain_and_filters_take_regions(genome, tmp_path):
    d, seqs = genome
    regions = bed(tmp_path / "r.bed", [("chr1", 300, 500, "a", 0, "-"), ("chr2", 1000, 1200),
                                       ("chr1", 5900, 6000)])
    fa = tmp_path / "same.fa"
    src = RegionSource(regions, d / "g.fa", length=200)
    fa.write_text("".join(f">{i}\n{s}\n" for i, _, s in src.records()))
    runner = CliRunner()
    r = runner.invoke(main, ["predict", str(CTCF), "--regions", str(regions), "--genome",
                             str(d / "g.fa"), "-o", str(tmp_path / "a.tsv"), "-q"])
    assert r.exit_code == 0, r.output
    assert "1 running off a chromosome end (padded with N)" in r.output
    r = runner.invoke(main, ["predict", str(CTCF), str(fa), "-o", str(tmp_path / "b.tsv"),
                             "-q"])
    assert r.exit_code == 0, r.output
    a, b = (pd.read_csv(tmp_path / f"{x}.tsv", sep="\t") for x in "ab")
    assert list(a["id"]) == ["chr1:300-500(-)", "chr2:1000-1200(+)", "chr1:5850-6050(+)"]
    assert np.array_equal(a.to_numpy(), b.to_numpy())
    r = runner.invoke(main, ["explain", str(CTCF), "--regions", str(regions), "--genome",
                             str(d / "g.fa"), "-m", "saliency", "--logos", "0", "-q", "-o",
                             str(tmp_path / "ex")])
    assert r.exit_code == 0, r.output
    with np.load(tmp_path / "ex" / "attributions.npz") as npz:
        assert list(npz["ids"]) == list(a["id"])
        assert npz["onehot"][0, :, :].sum() == 200
    r = runner.invoke(main, ["filters", str(CTCF), "--regions", str(regions), "--genome",
                             str(d / "g.fa"), "--database",
                             str(ROOT / "examples" / "data" / "jaspar2024_selected.meme"),
                             "--logos", "0", "-o", str(tmp_path / "filters")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "filters" / "filters.tsv").is_file()


@pytest.mark.slow
def test_train_on_peaks_with_gc_matched_background(tmp_path):
    import yaml

    data = ROOT / "examples" / "data" / "genome"
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump({"model": TINY_MODEL}))
    r = CliRunner().invoke(main, [
        "train", "--regions", str(data / "ctcf_sites.narrowPeak"), "--genome",
        str(data / "genome.fa"), "--background", "gc-matched", "--length", "100",
        "--split-by", "chrom", "--config", str(cfg), "--epochs", "1", "-q", "-o",
        str(tmp_path / "m")])
    assert r.exit_code == 0, r.output
    assert "background: 300 GC-matched windows (seed 0)" in r.output
    splits = pd.read_csv(tmp_path / "m" / "splits.tsv", sep="\t")
    chrom = splits["id"].str.split(":").str[0]
    assert splits.groupby(chrom)["split"].nunique().max() == 1  # no chromosome straddles
    meta = yaml.safe_load((tmp_path / "m" / "metadata.json").read_text())
    assert meta["class_names"] == ["background", "ctcf_sites"]


@pytest.mark.slow
def test_tune_on_peaks_with_gc_matched_background(tmp_path):
    import json

    import yaml

    data = ROOT / "examples" / "data" / "genome"
    cfg, space = tmp_path / "tiny.yaml", tmp_path / "space.yaml"
    cfg.write_text(yaml.safe_dump({"model": TINY_MODEL}))
    space.write_text(yaml.safe_dump({"filters": [4, 6]}))
    args = ["tune", "--regions", str(data / "ctcf_sites.narrowPeak"), "--genome",
            str(data / "genome.fa"), "--background", "gc-matched", "--length", "60",
            "--config", str(cfg), "--search-space", str(space), "--max-trials", "1",
            "--epochs", "1", "-q", "-o", str(tmp_path / "t")]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert "background: 300 GC-matched windows (seed 0)" in r.output
    meta = json.loads((tmp_path / "t" / "metadata.json").read_text())
    assert meta["class_names"] == ["background", "ctcf_sites"]
    assert meta["input"]["length"] == 60 and meta["model_config"]["filters"][0] in (4, 6)
    splits = pd.read_csv(tmp_path / "t" / "splits.tsv", sep="\t")
    assert len(splits) == 600 and splits["id"].str.match(r"chr[A-C]:\d+-\d+\([+-]\)").all()
    r = CliRunner().invoke(main, ["tune", "--genome", str(data / "genome.fa"), "-o",
                                  str(tmp_path / "u")])
    assert r.exit_code == 2 and "no sequences" in r.output


def test_evaluate_takes_regions(tmp_path):
    """evaluate on held-out peaks: against a GC-matched background (labelled with the model's
    own classes), or labelled by a BED column; the same numbers as the same windows as a
    labelled FASTA file; wrong combinations are one-line usage errors."""
    import json

    data = ROOT / "examples" / "data" / "genome"
    runner = CliRunner()
    r = runner.invoke(main, ["evaluate", str(CTCF), "--regions",
                             str(data / "ctcf_sites.narrowPeak"), "--genome",
                             str(data / "genome.fa"), "--background", "gc-matched", "-o",
                             str(tmp_path / "m.json")])
    assert r.exit_code == 0, r.output
    assert "windows as 'ctcf_peaks', background as 'human_background'" in r.output
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["n"] == 600 and metrics["auroc"] > 0.95  # planted CTCF sites
    # a label column of the model's class names, on both strands: as a labelled FASTA
    peaks = read_bed(data / "ctcf_sites.narrowPeak")[:40]
    rows = [(iv.chrom, iv.start, iv.end, f"p{i}", 0, "+-"[i % 2],
             ["ctcf_peaks", "human_background"][i % 3 == 0]) for i, iv in enumerate(peaks)]
    regions = bed(tmp_path / "held_out.bed", rows)
    args = ["--regions", str(regions), "--genome", str(data / "genome.fa"),
            "--label-column", "7"]
    r = runner.invoke(main, ["evaluate", str(CTCF), *args, "-o", str(tmp_path / "a.json")])
    assert r.exit_code == 0, r.output
    src = RegionSource(regions, data / "genome.fa", length=200, label_column=7)
    (tmp_path / "same.fa").write_text("".join(f">{i} {d}\n{s}\n" for i, d, s in src.records()))
    r = runner.invoke(main, ["evaluate", str(CTCF), str(tmp_path / "same.fa"), "-o",
                             str(tmp_path / "b.json")])
    assert r.exit_code == 0, r.output
    a, b = (json.loads((tmp_path / f"{x}.json").read_text()) for x in "ab")
    assert a == b and a["n"] == 40
    for bad, message in [
            (["--background", "gc-matched", "--labels", str(tmp_path / "l.tsv")],
             "not with --labels"),
            ([str(tmp_path / "same.fa")], "not both")]:
        r = runner.invoke(main, ["evaluate", str(CTCF), *args[:4], *bad])
        assert r.exit_code == 2 and message in r.output, r.output


def test_motif_instances_of_minus_strand_regions_in_genome_coordinates():
    from types import SimpleNamespace

    from seqexplain.motifs.pipeline import instance_table

    inst = pd.DataFrame({"seq": [0, 1], "start": [10, 10], "end": [20, 20],
                         "strand": ["+", "+"], "motif": ["pos_1", "pos_1"],
                         "score": [1.0, 1.0], "similarity": [0.9, 0.9]})
    result = SimpleNamespace(instances=inst, motifs=[SimpleNamespace(id="pos_1",
                                                                     label="pos_1 (CTCF)")])
    scores = _Scores(np.array(["chr1:100-300(+)", "chr1:500-700(-)"]))
    table = instance_table(result, scores)
    assert list(table["chrom"]) == ["chr1", "chr1"]
    # + strand: start + offset; - strand: counted back from the window's end
    assert list(table["genome_start"]) == [110, 680]
    assert list(table["genome_end"]) == [120, 690]


class _Scores:
    """The two members of an Attributions that instance_table reads."""

    def __init__(self, ids):
        self.ids, self.offsets = ids, None

    def __len__(self) -> int:
        return len(self.ids)


def test_shipped_genome_example_is_rebuilt_exactly(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_genome_example",
                                                  ROOT / "examples" / "make_genome_example.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(DATA, tmp_path)
    shipped = ROOT / "examples" / "data" / "genome"
    for name in ("genome.fa", "genome.fa.fai", "ctcf_sites.narrowPeak", "variants.vcf"):
        assert (tmp_path / name).read_bytes() == (shipped / name).read_bytes(), name


def test_overlap_index_against_brute_force():
    from seqexplain.genome import _Occupied

    rng = np.random.default_rng(4)
    index, intervals = _Occupied(), []
    for _ in range(300):
        s = int(rng.integers(0, 5000))
        e = s + int(rng.integers(1, 120))
        index.add("c", s, e)
        intervals.append((s, e))
    for _ in range(500):
        s = int(rng.integers(-100, 5100))
        e = s + int(rng.integers(1, 60))
        assert index.overlaps("c", s, e) == any(a < e and b > s for a, b in intervals)
    assert not index.overlaps("other", 0, 10)
