"""`explain` with several models (folds, MODEL as PATH,PATH): every array of the scores file is
the per-sequence mean of the single-model files, DeepSHAP stays complete against the mean
logit, and models that do not fit together are refused before any work."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import REL, assert_close, batch_scale, contribution_scale
from toy_models import random_onehot, toy_model

import seqexplain as sx
from seqexplain.attributions import Attributions
from seqexplain.errors import OptionError, SeqexplainError
from seqexplain.explain_run import explain_files

L, N, REFS = 30, 8, 3
FLOAT_MEMBERS = ("logits", "predictions", "deepshap", "deepshap_hypothetical",
                 "deepshap_delta")


@pytest.fixture(scope="module")
def folds(tmp_path_factory):
    """Two random models of the same input, their single-model files and their mean's file
    (with motifs: the null and support rerun the mean). The command line's PATH,PATH is
    split by the same library call (tests/test_cli_errors.py's explain-folds rows)."""
    d = tmp_path_factory.mktemp("folds")
    paths = []
    for seed in (1, 2):
        toy_model("global_max", length=L, seed=seed).save(d / f"fold{seed}.keras")
        paths.append(d / f"fold{seed}.keras")
    X = random_onehot(N, L, seed=4)
    fasta = d / "x.fa"
    fasta.write_text("".join(f">r{i}\n{''.join('ACGT'[c] for c in x.argmax(-1))}\n"
                             for i, x in enumerate(X)))
    # the same loaded models for every run: their traced functions are reused (fast)
    bundles = [sx.load_model(p) for p in paths]
    options = dict(methods="deepshap", n_references=REFS, logos=0, progress=False)
    single = [explain_files(b, fasta, out=d / p.stem, **options)
              for b, p in zip(bundles, paths)]
    mean = explain_files(bundles, fasta, out=d / "mean", motifs=True, **options)
    return dict(paths=paths, models=[b.model for b in bundles], X=X, fasta=fasta, summary=mean.summary(), out=d / "mean",
                single=[np.load(s.path) for s in single],
                mean=np.load(d / "mean" / "attributions.npz"),
                mean_path=d / "mean" / "attributions.npz")


def test_mean_file_is_the_mean_of_the_single_model_files(folds):
    a, b = folds["single"]
    mean = folds["mean"]
    for key in ("ids", "onehot", "lengths", "offsets"):
        np.testing.assert_array_equal(mean[key], a[key])
    for key in FLOAT_MEMBERS:
        expected = (a[key].astype(np.float64) + b[key]) / 2
        assert mean[key].shape == a[key].shape and mean[key].dtype == a[key].dtype, key
        # float32 rounding of one average, relative to the member's own scale
        assert_close(mean[key], expected, batch_scale(a[key], b[key]), what=key)
    # the two folds disagree: a file of one model alone would fail the check above
    assert np.abs(a["deepshap"] - b["deepshap"]).max() > 100 * REL * batch_scale(a["deepshap"])
    assert "mean over 2 models" in folds["summary"][0]
    # the motif step ran on the mean, its null from the same folds (their fingerprint checked)
    assert (folds["out"] / "motifs" / "seqlets.tsv").is_file()


def test_file_records_every_model(folds):
    data = Attributions.read(folds["mean_path"])
    assert data.mean_over_models == 2
    assert [Path(p).resolve() for p in data.model_paths] == [p.resolve()
                                                            for p in folds["paths"]]
    assert data.settings["mean_over_models"] == 2
    singles = [str(s["model_fingerprint"]) for s in folds["single"]]
    assert data.settings["model_fingerprints"] == singles
    # the fingerprint check takes the list of models whose mean the scores are, in order
    models = folds["models"]
    data.check_model(models, "the folds")
    with pytest.raises(SeqexplainError, match="another model"):
        data.check_model(models[:1], "one fold")


def test_deepshap_of_the_mean_is_complete_against_the_mean_logit(folds):
    """Completeness is linear: sum of mean scores = mean logit − mean over models of the
    mean reference logit, the references being the same seeded shuffles for every model."""
    from seqexplain.attribution import explained_output
    from seqexplain.explain import shuffled_references

    mean = folds["mean"]
    X = mean["onehot"]
    refs = shuffled_references(X, 0, REFS, seed=0).reshape(-1, L, 4)
    ref_logit = np.mean([explained_output(m, refs, 0).reshape(N, REFS).mean(1)
                         for m in folds["models"]], axis=0)
    sums = mean["deepshap"].sum(axis=(1, 2), dtype=np.float64)
    scale = batch_scale(mean["logits"], ref_logit, contribution_scale(mean["deepshap"]))
    assert_close(sums, mean["logits"][:, 0] - ref_logit, scale, what="completeness")
    assert_close(mean["deepshap_delta"], 0, scale, what="delta")


def test_attribute_takes_a_list_of_models(folds):
    models = folds["models"]
    X = folds["X"]
    each = [sx.attribute(m, X, "saliency") for m in models]
    both = sx.attribute(models, X, "saliency")
    assert both.shape == X.shape
    assert_close(both, (each[0].astype(np.float64) + each[1]) / 2, batch_scale(*each),
                 what="saliency mean")


def test_models_that_differ_are_refused_before_any_work(folds, tmp_path):
    other = tmp_path / "three_outputs.keras"
    toy_model("multi_output", length=L, seed=3).save(other)
    with pytest.raises(SeqexplainError, match=r"three_outputs\.keras: targets .* same targets"):
        explain_files(f"{folds['paths'][0]},{other}", folds["fasta"], out=tmp_path / "o",
                      progress=False)
    with pytest.raises(OptionError, match="--cluster runs one model"):
        explain_files(folds["paths"], folds["fasta"], out=tmp_path / "o", cluster="local")
    assert not (tmp_path / "o").exists()
