"""Tracks (bigWig/bedGraph) of a scores file: the values read back equal the scores at every
base, overlaps go to the nearest window centre (checked against a brute-force loop), and
inputs without coordinates are refused."""

from __future__ import annotations

import numpy as np
import pytest
import pyBigWig

from seqexplain.attributions import Attributions
from seqexplain.errors import SeqexplainError
from seqexplain.tracks import chrom_sizes, genome_layout, tracks_files

from helpers import write_genome

L = 40
#: windows (chrom, start, strand): overlapping pairs on both strands, one at a chromosome end
#: (padded with N beyond it: those rows have no base), one lone window
WINDOWS = [("chr1", 100, "+"), ("chr1", 125, "-"), ("chr1", 130, "+"), ("chr1", 300, "+"),
           ("chr2", 180, "-"), ("chr2", 0, "+")]
SIZES = {"chr1": 500, "chr2": 200}


def _scores(seed=0):
    rng = np.random.default_rng(seed)
    n = len(WINDOWS)
    onehot = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (n, L))]
    # chr2:180-220 runs 20 bases off the chromosome: rows 0..19 of the (-) record are N
    onehot[4, :20] = 0
    hyp = rng.normal(size=(n, L, 4)).astype(np.float32)
    ids = np.array([f"{c}:{s}-{s + L}({st})" for c, s, st in WINDOWS])
    return Attributions({"ids": ids, "onehot": onehot, "alphabet": np.array("ACGT"),
                         "deepshap": hyp * onehot, "deepshap_hypothetical": hyp,
                         "saliency": 2 * hyp * onehot, "saliency_hypothetical": hyp},
                        source="synthetic")


def _brute_force(data: Attributions, method: str) -> dict[tuple[str, int], float]:
    """Genome base → value by looping over regions: the nearest window centre wins, ties
    to the earlier region; bases beyond the chromosome left out."""
    best: dict[tuple[str, int], tuple[float, int, float]] = {}
    values = data.scores(method).sum(-1)
    for i, (c, s, st) in enumerate(WINDOWS):
        centre = s + L / 2
        for j in range(L):
            pos = s + j if st == "+" else s + L - 1 - j
            if not 0 <= pos < SIZES[c]:
                continue
            key = (abs(pos + 0.5 - centre), i)
            if (c, pos) not in best or key < best[(c, pos)][:2]:
                best[(c, pos)] = (*key, float(values[i, j]))
    return {k: v[2] for k, v in best.items()}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    d = tmp_path_factory.mktemp("tracks")
    write_genome(d / "g.fa", SIZES)
    data = _scores()
    data.write(d / "attributions.npz")
    result = tracks_files(d / "attributions.npz", d / "g.fa", d / "out")
    return d, data, result


def test_bigwig_values_equal_the_scores_at_every_base(written):
    d, data, result = written
    assert sorted(f.name for f in result.files) == ["deepshap.bw", "saliency.bw"]
    for method in ("deepshap", "saliency"):
        truth = _brute_force(data, method)
        bw = pyBigWig.open(str(d / "out" / f"{method}.bw"))
        assert bw.chroms() == SIZES
        got = {}
        for c, size in SIZES.items():
            vals = np.array(bw.values(c, 0, size))
            for pos in np.nonzero(~np.isnan(vals))[0]:
                got[(c, int(pos))] = float(vals[pos])
        bw.close()
        assert set(got) == set(truth)          # the same bases covered, no more
        assert all(got[k] == np.float32(truth[k]) for k in truth)  # float32-exact
    assert result.bases == len(truth)
    assert result.regions == len(WINDOWS)


def test_overlap_goes_to_the_nearest_centre(written):
    d, data, _ = written
    values = data.scores("deepshap").sum(-1)
    bw = pyBigWig.open(str(d / "out" / "deepshap.bw"))
    # chr1:100-140 (+, centre 120) and chr1:125-165 (-, centre 145): base 130 is nearer 120;
    # base 133 is nearer 145 and lies in region 1 at row 165 - 1 - 133 = 31 (reversed) —
    # but region 2 (chr1:130-170, centre 150) covers it too and is further: region 1 wins
    assert bw.values("chr1", 130, 131)[0] == values[0, 30]
    assert bw.values("chr1", 133, 134)[0] == values[1, 31]
    # base 147: centres 145 (region 1) and 150 (region 2) → region 1, row 165 - 1 - 147 = 17
    assert bw.values("chr1", 147, 148)[0] == values[1, 17]
    # base 148 (distance 3.5 from 145, 1.5 from 150) → region 2, row 18
    assert bw.values("chr1", 148, 149)[0] == values[2, 18]
    bw.close()


def test_a_tie_goes_to_the_region_first_in_the_file():
    # windows c:0-40 and c:5-45, centres 20 and 25: base 22 (its middle at 22.5) is 2.5 from
    # both, a tie
    data = Attributions({"ids": np.array(["c:0-40(+)", "c:5-45(+)"]),
                         "onehot": np.ones((2, 40, 1), np.float32),
                         "alphabet": np.array("A"),
                         "saliency": np.stack([np.full((40, 1), 1.0), np.full((40, 1), 2.0)]
                                              ).astype(np.float32)}, source="tie")
    layout = genome_layout(data, {"c": 100})
    rows = dict(zip(layout.positions["c"].tolist(), layout.rows["c"].tolist()))
    assert rows[22] == 22             # record 0, row 22 (first in the file)
    assert rows[23] == 40 + 18        # nearer 25: record 1, row 23 - 5
    assert rows[21] == 21
    assert layout.overlapping == 35   # bases 5..39 were covered twice


def test_bedgraph_values_equal_the_scores(written, tmp_path):
    d, data, _ = written
    result = tracks_files(d / "attributions.npz", d / "g.fa.fai", tmp_path / "bg",
                          methods="deepshap", bedgraph=True)
    assert [f.name for f in result.files] == ["deepshap.bedGraph"]
    lines = (tmp_path / "bg" / "deepshap.bedGraph").read_text().splitlines()
    assert lines[0].startswith("track type=bedGraph")
    got = {}
    for line in lines[1:]:
        c, s, e, v = line.split("\t")
        for pos in range(int(s), int(e)):
            got[(c, pos)] = np.float32(v)
    truth = _brute_force(data, "deepshap")
    assert got == {k: np.float32(v) for k, v in truth.items()}


def test_fasta_input_without_coordinates_is_refused(tmp_path):
    data = Attributions({"ids": np.array(["r0"]), "onehot": np.ones((1, 4, 4), np.float32),
                         "alphabet": np.array("ACGT"),
                         "saliency": np.ones((1, 4, 4), np.float32)}, source="fasta.npz")
    with pytest.raises(SeqexplainError, match="record 'r0' has no genome coordinates"):
        genome_layout(data, {"chr1": 10})
    with pytest.raises(SeqexplainError, match="1 chromosome"):
        genome_layout(data.replace(ids=np.array(["chrX:0-4(+)"])), {"chr1": 10})


def test_sizes_from_fai_and_fasta_agree(written):
    d, _, _ = written
    assert chrom_sizes(d / "g.fa") == chrom_sizes(d / "g.fa.fai") == SIZES


def test_explain_writes_tracks_of_regions(tmp_path):
    # the shipped CTCF model on 12 of the example peaks, saliency (quick): the track holds
    # each window's scores at its bases
    from pathlib import Path

    from click.testing import CliRunner

    from seqexplain.cli import main

    root = Path(__file__).resolve().parents[1]
    genome = root / "examples" / "data" / "genome"
    lines = (genome / "ctcf_sites.narrowPeak").read_text().splitlines()[:12]
    (tmp_path / "peaks.narrowPeak").write_text("\n".join(lines) + "\n")
    r = CliRunner().invoke(main, ["explain", str(root / "models" / "ctcf"), "--regions",
                                  str(tmp_path / "peaks.narrowPeak"), "--genome",
                                  str(genome / "genome.fa"), "-m", "saliency", "--logos", "0",
                                  "-q", "--tracks", "-o", str(tmp_path / "ex")])
    assert r.exit_code == 0, r.output
    data = Attributions.read(tmp_path / "ex" / "attributions.npz")
    layout = genome_layout(data, chrom_sizes(genome / "genome.fa"))
    values = data.scores("saliency").sum(-1).ravel()
    bw = pyBigWig.open(str(tmp_path / "ex" / "tracks" / "saliency.bw"))
    for c in layout.chroms:
        got = np.array(bw.values(c, 0, layout.sizes[c]))
        pos = layout.positions[c]
        assert (got[pos] == values[layout.rows[c]].astype(np.float32)).all()
        assert np.isnan(np.delete(got, pos)).all()
    bw.close()
