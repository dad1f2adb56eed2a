"""The shipped example models work with this code, and their attributions find the motif."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from seqexplain.bundle import ModelBundle
from seqexplain.cli import main
from seqexplain.fasta import read_fasta
from seqexplain.motif_io import load_motifs

ROOT = Path(__file__).resolve().parents[1]


def best_site_score(pfm: np.ndarray, window: np.ndarray) -> float:
    """Best relative PWM score (0 = worst, 1 = best possible) of ``pfm`` in a one-hot window,
    both strands."""
    pwm = np.log2((pfm + 0.01) / 1.01 / 0.25)
    lo, hi = pwm.min(axis=1).sum(), pwm.max(axis=1).sum()
    w = len(pwm)
    best = -np.inf
    for strand in (pwm, pwm[::-1, ::-1]):
        for i in range(window.shape[0] - w + 1):
            best = max(best, float((window[i:i + w] * strand).sum()))
    return (best - lo) / (hi - lo)


def test_ctcf_model_predicts_held_out_peaks():
    bundle = ModelBundle.load(ROOT / "models" / "ctcf")
    assert bundle.alphabet.name == "dna" and bundle.length == 200 and bundle.task == "binary"
    records = read_fasta(ROOT / "examples" / "data" / "ctcf_demo.fa")
    probs = bundle.predict(bundle.encode(records.sequences).onehot)[:, 0]
    assert (probs > 0.5).mean() >= 0.9


@pytest.mark.slow
def test_ctcf_deepshap_peaks_are_ctcf_sites(tmp_path):
    out = tmp_path / "ex"
    r = CliRunner().invoke(main, ["explain", str(ROOT / "models" / "ctcf"),
                                  str(ROOT / "examples" / "data" / "ctcf_demo.fa"), "-m",
                                  "deepshap", "--n-references", "10", "--logos", "5", "-q",
                                  "-o", str(out)])
    assert r.exit_code == 0, r.output
    d = np.load(out / "attributions.npz")
    (ctcf,) = load_motifs(["CTCF"], [ROOT / "examples" / "data" / "jaspar2024_selected.meme"])
    # the logos of the 5 best-scoring peaks zoom on a CTCF site
    index = pd.read_csv(out / "logos" / "index.tsv", sep="\t")
    assert len(index) == 5 and all((out / "logos" / f).is_file() for f in index["file"])
    row_of = {str(i): k for k, i in enumerate(d["ids"])}
    logo_scores = []
    for sid, window in zip(index["id"], index["window"]):
        start, end = map(int, window.split(":"))
        assert end - start + 1 == 40
        off = d["offsets"][row_of[sid]]
        x = d["onehot"][row_of[sid]][start - 1 - off:end - off]
        logo_scores.append(best_site_score(ctcf.pfm, x))
    # a strong CTCF match in at least 4 of the 5 logo windows, a fair one in every window
    # (4 of 5 ≥ 0.8 and the fifth 0.71 with the model trained by issue 13's defaults)
    assert sum(v >= 0.8 for v in logo_scores) >= 4 and min(logo_scores) >= 0.7, logo_scores
    rng = np.random.default_rng(0)
    top, random = [], []
    for x, s in zip(d["onehot"], d["deepshap"].sum(-1)):
        j = int(np.argmax(np.convolve(s, np.ones(25), "valid")))
        top.append(best_site_score(ctcf.pfm, x[j:j + 25]))
        k = int(rng.integers(0, 175))
        random.append(best_site_score(ctcf.pfm, x[k:k + 25]))
    # the window of highest attribution holds a strong CTCF match in most peaks, unlike a
    # random window of the same peaks (15 of the 20 demo peaks with the model trained with the
    # positional path, issue 13; 16 before)
    assert np.mean(np.array(top) >= 0.8) >= 0.75
    assert np.mean(top) > np.mean(random) + 0.1


@pytest.mark.parametrize("name,fasta,channels", [("ww", "ww_demo.fa", 20)])
def test_protein_model(name, fasta, channels):
    bundle = ModelBundle.load(ROOT / "models" / name)
    assert bundle.alphabet.name == "protein" and bundle.alphabet.channels == channels
    records = read_fasta(ROOT / "examples" / "data" / fasta)
    probs = bundle.predict(bundle.encode(records.sequences).onehot)[:, 0]
    assert (probs > 0.5).mean() >= 0.9


@pytest.mark.slow
def test_protein_example_motifs_end_to_end(tmp_path):
    """WW domains: explain --motifs finds the conserved GRxYYxNHxTxTTxW stretch, supported,
    with PWM/CWM logos (no reverse complement for protein, no JASPAR annotation)."""
    data = ROOT / "examples" / "data"
    lines = ((data / "ww_domains.fa").read_text().splitlines()[:400]
             + (data / "proteome_fragments.fa").read_text().splitlines()[:400])
    fa = tmp_path / "ww.fa"
    fa.write_text("\n".join(lines) + "\n")
    out = tmp_path / "ww"
    r = CliRunner().invoke(main, ["explain", str(ROOT / "models" / "ww"), str(fa), "-m",
                                  "deepshap", "--n-references", "5", "--logos", "2",
                                  "--motifs", "-q", "-o", str(out)])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "motifs" / "motifs.tsv", sep="\t", keep_default_na=False)
    assert len(table) >= 1 and (table["supported"] == "yes").all()
    assert any("YY" in c.upper() and "W" in c.upper() for c in table["consensus"])
    assert (table["best_match"] == "").all()
    inst = pd.read_csv(out / "motifs" / "instances.tsv", sep="\t")
    assert set(inst["strand"]) == {"+"}
    for motif in table["motif"]:
        for kind in ("pwm", "cwm"):
            assert (out / "motifs" / "logos" / f"{motif}_{kind}.png").is_file()
    with open(out / "motifs" / "motifs.meme") as fh:
        assert "ALPHABET= ACDEFGHIKLMNPQRSTVWY" in fh.read()
