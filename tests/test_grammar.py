"""seqexplain.grammar and `seqexplain grammar` on models whose answer is known: an AND
detector of a motif pair at one spacing and orientation (plus half a unit for each motif
alone), and an additive model (no cooperativity anywhere)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import seqexplain as sx
from seqexplain.cli import main
from seqexplain.grammar import helical_share, pair_spacings, run_grammar

A, B, SPACING, L = "GATTAC", "CCTGAA", 12, 60


def detector(motif_rows: dict[int, str], width: int):
    """Conv1D kernel (width, 4, 1) and bias: output 1 where every given letter matches, ≤ 0
    anywhere else (one-hot letters summed, minus all but one)."""
    kernel = np.zeros((width, 4, 1), np.float32)
    letters = 0
    for offset, motif in motif_rows.items():
        kernel[offset:offset + len(motif), :, 0] = sx.one_hot(motif)[0]
        letters += len(motif)
    return kernel, np.array([1.0 - letters], np.float32)


@pytest.fixture(scope="module")
def pair_model():
    import keras

    x = keras.Input((L, 4))
    pooled = []
    for rows, width in [({0: A, SPACING: B}, SPACING + len(B)), ({0: A}, len(A)),
                        ({0: B}, len(B))]:
        conv = keras.layers.Conv1D(1, width, activation="relu")
        pooled.append(keras.layers.GlobalMaxPooling1D()(conv(x)))
        conv.set_weights(list(detector(rows, width)))
    out = keras.layers.Dense(1)
    model = keras.Model(x, out(keras.layers.Concatenate()(pooled)))
    out.set_weights([np.array([[1.0], [0.5], [0.5]], np.float32), np.zeros(1, np.float32)])
    return model


@pytest.fixture(scope="module")
def backgrounds():
    """Random DNA holding neither motif on either strand."""
    rng = np.random.default_rng(0)
    banned = [A, B, sx.reverse_complement(A), sx.reverse_complement(B)]
    seqs = []
    while len(seqs) < 16:
        s = "".join(rng.choice(list("ACGT"), L))
        if not any(b in s for b in banned):
            seqs.append(s)
    return sx.one_hot(seqs)


def pfm(motif: str) -> np.ndarray:
    return sx.one_hot(motif)[0].astype(np.float64)


def test_the_planted_pair_is_found_at_its_spacing_and_orientation(pair_model, backgrounds):
    result = run_grammar(pair_model, backgrounds, {"A": pfm(A), "B": pfm(B)}, top=2,
                         max_spacing=20, copies=(1, 2))
    m = result.marginal.set_index(["motif", "strand"])
    # each motif alone: +0.5 on its own strand in every background, nothing reversed
    assert m.loc[("A", "+"), "effect"] == pytest.approx(0.5, abs=1e-5)
    assert m.loc[("A", "-"), "effect"] == pytest.approx(0.0, abs=1e-5)
    assert m.loc[("A", "+"), "control_effect"] == pytest.approx(0.0, abs=1e-5)
    assert list(m["significant"]) == [True, False, True, False]
    s = result.spacing
    assert set(s["orientation"]) == {"++", "+-", "-+", "--"}
    planted = s[(s["orientation"] == "++") & (s["spacing"] == SPACING)]
    assert planted["cooperativity"].item() == pytest.approx(1.0, abs=1e-5)
    assert planted["effect_pair"].item() == pytest.approx(2.0, abs=1e-5)
    elsewhere = s.drop(planted.index)
    assert np.abs(elsewhere["cooperativity"]).max() < 1e-5
    g = result.grammar.iloc[0]
    assert (g["orientation"], g["spacing"]) == ("++", SPACING)
    assert g["ci_low"] == pytest.approx(1.0, abs=1e-5)  # every background says 1
    d = result.dosage.set_index(["motif", "copies"])["effect"]
    assert d[("A", 1)] == pytest.approx(0.5, abs=1e-5)
    assert d[("A", 2)] == pytest.approx(0.5, abs=1e-5)  # max pooling: a second copy adds 0


def test_an_additive_model_has_no_cooperativity(backgrounds):
    import keras

    W = np.random.default_rng(4).normal(size=(L, 4))
    model = keras.Sequential([keras.Input((L, 4)), keras.layers.Flatten(),
                              keras.layers.Dense(1)])
    model.layers[-1].set_weights([W.reshape(-1, 1).astype("f4"), np.zeros(1, "f4")])
    result = run_grammar(model, backgrounds, {"A": pfm(A), "B": pfm(B)}, top=2,
                         max_spacing=15, min_effect=0.0, copies=(1,))
    assert len(result.spacing) > 0
    scale = np.abs(result.spacing[["effect_pair", "effect_a", "effect_b"]].to_numpy()).max()
    assert np.abs(result.spacing["cooperativity"]).max() < 1e-5 * max(1.0, scale)


def test_spacings_never_overlap_and_fit():
    got = pair_spacings(6, 4, 8, 30)
    assert got == [-8, -7, -6, -5, -4, 6, 7, 8]
    assert pair_spacings(6, 4, 30, 12) == [-6, -5, -4, 6, 7, 8]  # span ≤ 12


def test_helical_periodicity_is_found_in_a_10_5_bp_curve_and_not_in_noise():
    s = np.arange(1, 61)
    share, p = helical_share(s, np.cos(2 * np.pi * s / 10.5), rng=np.random.default_rng(1))
    assert share > 0.3 and p < 0.01
    noise = np.random.default_rng(2).normal(size=60)
    share_noise, p_noise = helical_share(s, noise, rng=np.random.default_rng(3))
    assert share_noise < share and p_noise > 0.05


def test_the_command_writes_every_table_and_figure(tmp_path, pair_model, backgrounds):
    model = tmp_path / "pair.keras"
    pair_model.save(model)
    fa = tmp_path / "bg.fa"
    fa.write_text("".join(f">b{i}\n{s}\n" for i, s in enumerate(sx.decode(backgrounds))))
    meme = tmp_path / "m.meme"
    from seqexplain.motif_io import Motif, write_meme

    write_meme([Motif("A1", "A", pfm(A), "test"), Motif("B1", "B", pfm(B), "test")], meme)
    out = tmp_path / "g"
    result = CliRunner().invoke(main, ["grammar", str(model), str(fa), "--motifs", str(meme),
                                       "--backgrounds", "8", "--max-spacing", "14", "-o",
                                       str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "dosage.png", "dosage.tsv", "grammar.tsv", "marginal.png", "marginal.tsv",
        "spacing.png", "spacing.tsv"]
    grammar = pd.read_csv(out / "grammar.tsv", sep="\t")
    assert list(grammar[["motif_a", "motif_b", "orientation", "spacing"]].iloc[0]) == \
        ["A", "B", "++", SPACING]
    marginal = pd.read_csv(out / "marginal.tsv", sep="\t")
    assert list(marginal.columns[:2]) == ["motif", "strand"]
    assert {"effect", "ci_low", "ci_high", "control_effect", "z", "q",
            "significant"} <= set(marginal.columns)
    assert "most cooperative pair A+B ++ at 12 bp" in result.stderr
    # the report's section
    r = CliRunner().invoke(main, ["report", str(model), "--grammar", str(out), "-o",
                                  str(tmp_path / "r.html")])
    assert r.exit_code == 0, r.output
    html = (tmp_path / "r.html").read_text()
    section = html[html.index("<h2>What the motifs do</h2>"):]
    assert section.count("<tr") == 1 + len(marginal) + 1 + len(grammar)  # headers + rows
    assert '>A + B</td><td class="">++</td><td class="n">12</td>' in section
    assert section.count('src="data:image/png') == 3

    bad = CliRunner().invoke(main, ["grammar", str(model), str(fa), "--motifs", "NOSUCH1",
                                    "-o", str(tmp_path / "h")])
    assert bad.exit_code == 1
    assert bad.stderr.strip().splitlines() == [
        "error: --motifs 'NOSUCH1': no such file or folder, and no JASPAR CORE motif of "
        "that id or name"]
    assert not (tmp_path / "h").exists()


def test_low_scoring_backgrounds_are_the_lowest_predictions(pair_model, backgrounds):
    """The k sequences of lowest logit, lowest first (brute force: sort sx.predict), at most
    half of the inputs."""
    from seqexplain.experiments import low_scoring_backgrounds

    X = sx.edit.substitute(backgrounds, A, 5)  # half hold A: score 0.5 higher
    X = np.concatenate([X[:8], backgrounds[8:]])
    logits = sx.predict(pair_model, X, target=0, output="logit")
    got = low_scoring_backgrounds(pair_model, X, 5)
    np.testing.assert_array_equal(got, X[np.argsort(logits, kind="stable")[:5]])
    assert len(low_scoring_backgrounds(pair_model, X, 100)) == len(X) // 2
    assert not any(A in s for s in sx.decode(low_scoring_backgrounds(pair_model, X, 8)))


def test_backgrounds_from_genome_regions(tmp_path):
    """--regions/--genome inputs: GC-matched genome windows and the model's own low scorers
    as backgrounds; CTCF still raises the output of the CTCF model on both."""
    from pathlib import Path

    ROOT = Path(__file__).resolve().parents[1]
    genome = ROOT / "examples" / "data" / "genome"
    common = ["grammar", str(ROOT / "models" / "ctcf"), "--regions",
              str(genome / "ctcf_sites.narrowPeak"), "--genome", str(genome / "genome.fa"),
              "--motifs", "CTCF", "--top", "0", "--backgrounds", "12"]
    for background in ("gc-matched", "low-scoring"):
        out = tmp_path / background
        r = CliRunner().invoke(main, [*common, "--background", background, "-o", str(out)])
        assert r.exit_code == 0, r.output
        marginal = pd.read_csv(out / "marginal.tsv", sep="\t")
        assert (marginal["n"] == 12).all() and (marginal["effect"] > 5).all(), marginal
    r = CliRunner().invoke(main, ["grammar", str(ROOT / "models" / "ctcf"),
                                  str(ROOT / "examples" / "data" / "ctcf_demo.fa"), "--motifs",
                                  "CTCF", "--background", "gc-matched", "-o",
                                  str(tmp_path / "x")])
    assert r.exit_code == 1 and r.stderr.strip().splitlines() == [
        "error: gc-matched backgrounds are genome windows like the inputs: give --regions "
        "and --genome"]
    assert not (tmp_path / "x").exists()
