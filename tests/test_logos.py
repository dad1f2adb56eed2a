"""Logos and attribution figures: what is drawn matches the numbers, windows, files, errors."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.colors import to_hex
from matplotlib.patches import PathPatch

from seqexplain import logos
from seqexplain.cli import main
from seqexplain.errors import SeqexplainError


def glyphs(ax):
    """(x centre, bottom, top, colour) of every letter drawn on ``ax``."""
    out = []
    for p in ax.patches:
        if isinstance(p, PathPatch):
            ext = p.get_path().get_extents()
            out.append(((ext.x0 + ext.x1) / 2, ext.y0, ext.y1, to_hex(p.get_facecolor())))
    return sorted(out)


def make_seq(length=60, rows=None, offset=0, seed=0, letters="ACGT", ism=True):
    rng = np.random.default_rng(seed)
    rows = rows or length
    onehot = np.eye(len(letters), dtype=np.float32)[rng.integers(0, len(letters), rows)]
    first = max(0, -offset)
    onehot[:first] = 0
    onehot[first + length:] = 0
    contrib = onehot * rng.normal(size=(rows, 1)).astype(np.float32)
    hyp = rng.normal(size=(rows, len(letters))).astype(np.float32)
    return logos.SequenceScores(
        id="seq 1", letters=letters, onehot=onehot,
        scores={"deepshap": contrib, "saliency": contrib * 2},
        offset=offset, length=length, ism=hyp - hyp.mean(1, keepdims=True) if ism else None,
        target="bound", logit=2.5, prediction=0.92)


def test_letter_heights_equal_scores():
    seq = make_seq(30, ism=False)
    fig = logos.plot_attribution(seq, ["deepshap"], window="full")
    ax = fig.axes[0]
    drawn = glyphs(ax)
    score = seq.scores["deepshap"].sum(1)
    base = seq.onehot.argmax(1)
    span = max(score.max(), 0) - min(score.min(), 0)
    nonzero = np.nonzero(np.abs(score) >= logos.MIN_HEIGHT * span)[0]
    assert len(nonzero) >= 25
    assert len(drawn) == len(nonzero)
    colors = logos.colors_for("ACGT")
    for (x, bottom, top, color), i in zip(drawn, nonzero):
        assert x == pytest.approx(i + 1, abs=1e-6)  # 1-based sequence coordinate
        assert top - bottom == pytest.approx(abs(score[i]), rel=1e-6)
        # positive letters stand on the axis, negative ones hang below it
        assert (bottom if score[i] > 0 else top) == pytest.approx(0, abs=1e-6)
        assert color == colors["ACGT"[base[i]]].lower()
    assert "seq 1" in fig._suptitle.get_text() and "0.92" in fig._suptitle.get_text()


def test_colour_schemes():
    dna = logos.colors_for("ACGT")
    assert dna == {"A": "#109648", "C": "#255C99", "G": "#F7B32B", "T": "#D62839"}
    assert logos.colors_for("ACGU")["U"] == dna["T"]
    protein = logos.colors_for("ACDEFGHIKLMNPQRSTVWY")
    assert len(protein) == 20 and "#777777" not in protein.values()
    assert protein["D"] == protein["E"] != protein["K"] == protein["R"]


@pytest.mark.parametrize("window,expected", [("full", (1, 60)), ("11:30", (11, 30)),
                                             ("auto", (1, 60)), ("auto:12", None)])
def test_axis_range_equals_window(window, expected):
    seq = make_seq(60)
    seq.scores["deepshap"][40:52] *= 50  # the stretch auto must find
    fig = logos.plot_attribution(seq, ["deepshap", "saliency"], window=window)
    logo_axes = [a for a in fig.axes if a.get_label().startswith("logo:")]
    assert len(logo_axes) == 2
    if expected is None:
        expected = (41, 52)
        assert len(fig.axes) >= 4  # overview track above the zoom
        overview = fig.axes[0]
        assert overview.get_label() == "overview"
        assert overview.get_xlim() == pytest.approx((0.5, 60.5))
    for ax in logo_axes:
        assert ax.get_xlim() == pytest.approx((expected[0] - 0.5, expected[1] + 0.5))
        xs = [g[0] for g in glyphs(ax)]
        assert min(xs) >= expected[0] and max(xs) <= expected[1]


def test_padding_is_not_drawn_and_coordinates_follow_offsets():
    # 50 bases centred in 60 input rows: rows 5..54 hold bases 1..50
    seq = make_seq(50, rows=60, offset=-5)
    assert seq.rows == (5, 55)
    fig = logos.plot_attribution(seq, ["deepshap"], window="full")
    assert fig.axes[0].get_xlim() == pytest.approx((0.5, 50.5))
    assert logos.window_rows(seq, "1:10") == (5, 15)
    # a cropped record: row 0 is base 8 (0-based) → coordinate 9
    cropped = make_seq(100, rows=60, offset=8)
    assert logos.window_rows(cropped, "full") == (0, 60)
    assert cropped.coordinate(0) == 9
    assert logos.window_rows(cropped, "9:68") == (0, 60)


@pytest.mark.parametrize("window,message", [
    ("30:10", "START must not exceed END"), ("0:10", "outside the sequence"),
    ("50:70", "outside the sequence"), ("middle", "use full, START:END"),
    ("auto:0", "at least 1"),
])
def test_bad_window(window, message):
    with pytest.raises(SeqexplainError, match=message):
        logos.window_rows(make_seq(60), window)


def test_ism_heatmap_is_centred_and_matches_scores():
    seq = make_seq(20)
    fig = logos.plot_attribution(seq, ["deepshap"], window="full")
    images = [im for ax in fig.axes for im in ax.images]
    assert len(images) == 1
    image = images[0]
    np.testing.assert_allclose(image.get_array(), seq.ism.T, rtol=1e-6)
    vmin, vmax = image.get_clim()
    assert vmin == pytest.approx(-vmax) and vmax == pytest.approx(np.abs(seq.ism).max())
    assert fig.axes[1].get_label() == "ism-heatmap"
    assert fig.axes[1].get_xlim() == pytest.approx((0.5, 20.5))


def test_pwm_logo_in_bits():
    pfm = np.array([[1, 0, 0, 0], [0.25, 0.25, 0.25, 0.25], [0.5, 0.5, 0, 0]])
    fig = logos.plot_pwm(pfm, "ACGT")
    ax = fig.axes[0]
    heights = {}
    for x, bottom, top, _ in glyphs(ax):
        heights[round(x)] = heights.get(round(x), 0) + top - bottom
    assert heights[1] == pytest.approx(2.0, rel=1e-3)       # one base: 2 bits
    assert heights.get(2, 0) == pytest.approx(0, abs=1e-6)  # uniform: 0 bits
    assert heights[3] == pytest.approx(1.0, rel=1e-3)       # two bases: 1 bit
    assert ax.get_ylim() == pytest.approx((0, 2))
    cwm = logos.plot_cwm(np.array([[0.5, 0, 0, 0], [0, -0.2, 0, 0]]), "ACGT").axes[0]
    assert [g[2] - g[1] for g in glyphs(cwm)] == pytest.approx([0.5, 0.2])


def test_read_highlights(tmp_path):
    bed = tmp_path / "sites.bed"
    bed.write_text("seq1\t10\t20\tmotifA\n"
                   "chr2\t1005\t1012\tmotifB\n"
                   "chr9\t5\t8\n")
    spans = logos.read_highlights(bed, ["seq1", "chr2:1000-1200", "other"])
    assert spans == {"seq1": [(10, 20, "motifA")], "chr2:1000-1200": [(5, 12, "motifB")]}
    bed.write_text("seq1\t1\t5\nseq1\t10\tx\n")
    with pytest.raises(SeqexplainError, match="line 2: start/end must be integers"):
        logos.read_highlights(bed, ["seq1"])
    bed.write_text("id\tstart\tend\nseq1\t30\t10\n")
    with pytest.raises(SeqexplainError, match="line 2: end must be greater than start"):
        logos.read_highlights(bed, ["seq1"])
    bed.write_text("seq1\t10\n")
    with pytest.raises(SeqexplainError, match="at least 3"):
        logos.read_highlights(bed, ["seq1"])


def test_highlight_is_shaded():
    seq = make_seq(40)
    seq.highlights = [(9, 19, "site")]
    ax = logos.plot_attribution(seq, ["deepshap"], window="full").axes[0]
    spans = [p for p in ax.patches if not isinstance(p, PathPatch)]
    (span,) = [p for p in spans if p.get_extents().width > 0 and p.get_alpha() == 0.25]
    x0, x1 = span.get_x(), span.get_x() + span.get_width()
    assert (x0, x1) == pytest.approx((9.5, 19.5))  # bases 10..19 (1-based)
    assert "site" in [t.get_text() for t in ax.texts]


def test_safe_names_are_unique():
    taken: set[str] = set()
    names = [logos.safe_name(i, taken) for i in ["chr1:10-20", "chr1:10-20", "a/b", "..", "A/B"]]
    assert names == ["chr1_10-20", "chr1_10-20-2", "a_b", "sequence", "A_B-2"]


# -- the command ------------------------------------------------------------------------------
def write_attributions(path, n=6, length=50, rows=56, methods=("deepshap", "ism")):
    rng = np.random.default_rng(1)
    onehot = np.zeros((n, rows, 4), np.float32)
    onehot[:, 3:3 + length] = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (n, length))]
    arrays = {"ids": np.array([f"chr1:{100 * i}-{100 * i + length}" for i in range(n)]),
              "onehot": onehot, "alphabet": np.array("ACGT"), "target": np.array(0),
              "output_names": np.array(["bound"]),
              "logits": rng.normal(size=(n, 1)).astype(np.float32),
              "offsets": np.full(n, -3), "lengths": np.full(n, length)}
    arrays["predictions"] = 1 / (1 + np.exp(-arrays["logits"]))
    for m in methods:
        hyp = rng.normal(size=onehot.shape).astype(np.float32)
        arrays[m] = hyp * onehot
        arrays[f"{m}_hypothetical"] = hyp
    np.savez(path, **arrays)
    return arrays


MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-", "svg": b"<?xml"}


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_logo_command_writes_one_file_per_id(tmp_path, fmt):
    npz = tmp_path / "attributions.npz"
    arrays = write_attributions(npz)
    ids = [str(arrays["ids"][4]), str(arrays["ids"][1])]
    out = tmp_path / "logos"
    r = CliRunner().invoke(main, ["logo", str(npz), "--ids", ",".join(ids), "--window",
                                  "full", "--format", fmt, "-o", str(out)])
    assert r.exit_code == 0, r.output
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted([logos.safe_name(i, set()) + f".{fmt}" for i in ids] + ["index.tsv"])
    for name in files:
        if name != "index.tsv":
            assert (out / name).read_bytes().startswith(MAGIC[fmt])
    index = (out / "index.tsv").read_text().splitlines()
    assert index[0] == "id\tfile\tlogit\tprediction\twindow"
    assert [line.split("\t")[0] for line in index[1:]] == ids
    assert all(line.endswith("\t1:50") for line in index[1:])


def test_logo_command_top_k_by_output(tmp_path):
    npz = tmp_path / "attributions.npz"
    arrays = write_attributions(npz, n=8)
    out = tmp_path / "logos"
    r = CliRunner().invoke(main, ["logo", str(npz), "--top", "5", "-m", "deepshap",
                                  "--window", "auto:10", "-j", "2", "-o", str(out)])
    assert r.exit_code == 0, r.output
    order = np.argsort(-arrays["logits"][:, 0])[:5]
    rows = [line.split("\t") for line in (out / "index.tsv").read_text().splitlines()[1:]]
    assert [row[0] for row in rows] == [str(arrays["ids"][i]) for i in order]
    for row in rows:
        start, end = map(int, row[4].split(":"))
        assert end - start + 1 == 10
        assert (out / row[1]).read_bytes().startswith(MAGIC["png"])


def test_logo_command_takes_the_method_aliases_explain_takes(tmp_path):
    """``-m deep_shap,gradient`` is read from the method table as ``explain`` reads it: the
    canonical names' scores are drawn (an unknown name is the table's one-line error)."""
    npz = tmp_path / "attributions.npz"
    write_attributions(npz, methods=("deepshap", "saliency"))
    r = CliRunner().invoke(main, ["logo", str(npz), "-m", "deep_shap,gradient", "--top", "2",
                                  "-o", str(tmp_path / "logos")])
    assert r.exit_code == 0, r.output
    assert len((tmp_path / "logos" / "index.tsv").read_text().splitlines()) == 3
    r = CliRunner().invoke(main, ["logo", str(npz), "-m", "deepsharp", "-o",
                                  str(tmp_path / "x")])
    assert r.exit_code == 1 and "unknown method 'deepsharp' (did you mean 'deepshap'?)" \
        in r.output and not (tmp_path / "x").exists()


@pytest.mark.parametrize("args,message,code", [
    (["--ids", "chr9:1-2"], "no sequence with id 'chr9:1-2'", 1),
    (["-m", "saliency"], "no 'saliency' scores (methods: deepshap, ism)", 1),
    (["--window", "40:20"], "START must not exceed END", 2),  # never valid: a usage error
    (["--window", "1:51"], "lies outside the sequence (1:50)", 1),
    (["--window", "wide"], "use full, START:END", 2),
])
def test_logo_command_errors(tmp_path, args, message, code):
    npz = tmp_path / "attributions.npz"
    write_attributions(npz)
    out = tmp_path / "logos"
    r = CliRunner().invoke(main, ["logo", str(npz), *args, "-o", str(out)])
    assert r.exit_code == code
    assert r.output.strip().startswith("error:") and message in r.output
    assert len(r.output.strip().splitlines()) == (2 if code == 2 else 1)  # usage: + "try …"
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [npz.name]


def test_logo_command_refuses_other_files(tmp_path):
    bad = tmp_path / "table.tsv"
    bad.write_text("id\tx\n")
    r = CliRunner().invoke(main, ["logo", str(bad), "-o", str(tmp_path / "o")])
    assert r.exit_code == 1 and "not an attributions file" in r.output
    npz = tmp_path / "a.npz"
    write_attributions(npz)
    (tmp_path / "o").mkdir()
    r = CliRunner().invoke(main, ["logo", str(npz), "-o", str(tmp_path / "o")])
    assert r.exit_code == 1 and "pass --force" in r.output


def test_logo_command_highlight_in_genome_coordinates(tmp_path):
    npz = tmp_path / "attributions.npz"
    arrays = write_attributions(npz, n=3)
    bed = tmp_path / "sites.bed"
    bed.write_text("chr1\t110\t118\tsiteA\n")  # record chr1:100-150, bases 11..18
    out = tmp_path / "logos"
    r = CliRunner().invoke(main, ["logo", str(npz), "--ids", str(arrays["ids"][1]), "--window",
                                  "full", "--highlight", str(bed), "-o", str(out)])
    assert r.exit_code == 0, r.output
    spans = logos.read_highlights(bed, arrays["ids"])
    assert spans == {"chr1:100-150": [(10, 18, "siteA")]}
    r = CliRunner().invoke(main, ["logo", str(npz), "--highlight", str(tmp_path / "no.bed"),
                                  "-o", str(tmp_path / "o2")])
    assert r.exit_code == 1 and "no.bed: no such file" in r.output


# -- pictures from arrays (sx.plot_logo, sx.plot_attributions) --------------------------------
def test_plot_logo_draws_each_value_as_its_letter():
    import matplotlib.pyplot as plt

    import seqexplain as sx

    array = np.array([[1.0, 0, 0, 0], [0, -2.0, 0, 0], [0, 0, 0.5, 0.25]])
    ax = sx.plot_logo(array)
    green, blue, orange, red = (logos.NUCLEOTIDE_COLORS[c] for c in "ACGT")
    expected = [(1, 0.0, 1.0, green), (2, -2.0, 0.0, blue), (3, 0.0, 0.25, red.lower()),
                (3, 0.25, 0.75, orange.lower())]  # the larger letter on top
    got = glyphs(ax)
    assert len(got) == 4
    for (x, lo, hi, colour), (ex, elo, ehi, ecolour) in zip(got, sorted(expected)):
        assert round(x) == ex and colour == ecolour.lower()
        assert lo == pytest.approx(elo, abs=1e-6) and hi == pytest.approx(ehi, abs=1e-6)
    fig, own = plt.subplots()
    assert sx.plot_logo(array, ax=own, start=11) is own
    assert [round(g[0]) for g in glyphs(own)] == [11, 12, 13, 13]
    protein = sx.plot_logo(np.eye(20)[:2] * 3)  # 20 channels: protein colours
    assert [g[3] for g in glyphs(protein)] == [logos.PROTEIN_COLORS[c].lower() for c in "AC"]
    plt.close("all")


def test_plot_attributions_draws_the_observed_base_scaled_by_its_score():
    import matplotlib.pyplot as plt

    import seqexplain as sx

    X = sx.one_hot(["ACGTA", "TTGCA"])
    hyp = np.arange(40, dtype=float).reshape(2, 5, 4) / 10 - 1.5  # a score for every base
    fig = sx.plot_attributions(X, {"deepshap": hyp, "half": hyp / 2}, titles=["a", "b"])
    labels = [ax.get_label() for ax in fig.axes]
    assert labels == ["logo:0:deepshap", "logo:0:half", "logo:1:deepshap", "logo:1:half"]
    ax = fig.axes[2]  # sequence 1, deepshap: one letter per position, height hyp at its base
    observed = (hyp[1] * X[1]).sum(axis=1)
    got = glyphs(ax)
    assert [g[3] for g in got] == [logos.NUCLEOTIDE_COLORS[c].lower() for c in "TTGCA"]
    heights = [hi if hi > 0 else lo for _, lo, hi, _ in got]
    np.testing.assert_allclose(heights, observed, atol=1e-6)
    one = sx.plot_attributions(X[0], hyp[0])
    assert [a.get_label() for a in one.axes] == ["logo:0"]
    with pytest.raises(SeqexplainError, match="expected X's"):
        sx.plot_attributions(X, hyp[:1])
    with pytest.raises(SeqexplainError, match=r"expected \(L, C\)"):
        sx.plot_logo(np.zeros(4))
    plt.close("all")
