"""The public API: ``import seqexplain as sx`` and the verbs it offers."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import numpy as np

import seqexplain as sx

ROOT = Path(__file__).resolve().parents[1]


def test_import_is_light():
    code = ("import sys, seqexplain as sx; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'matplotlib', 'sklearn') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_every_public_name_resolves_and_no_name_is_also_a_module():
    modules = {m.name for m in pkgutil.iter_modules(sx.__path__)}
    assert not modules & set(sx.__all__), "a public name shadows (or is shadowed by) a module"
    values = {name: getattr(sx, name) for name in sx.__all__}
    for module in sorted(modules - {"__main__"}):
        importlib.import_module(f"seqexplain.{module}")  # importing a module renames nothing
    assert all(getattr(sx, name) is value for name, value in values.items())
    assert set(dir(sx)) >= set(sx.__all__)


def test_verbs_from_a_model_folder_to_scores():
    bundle = sx.load_model(ROOT / "models" / "ctcf")
    assert isinstance(bundle, sx.ModelBundle) and bundle.alphabet is sx.DNA
    X = bundle.encode(["ACGT" * 50, "GGCC" * 50]).onehot
    scores = sx.attribute(bundle.model, X, method="saliency")
    assert scores.shape == X.shape == (2, 200, 4)
    gradient = sx.attribute(bundle.model, X, method="saliency", correct=False)
    np.testing.assert_allclose(scores, gradient - gradient.mean(-1, keepdims=True), atol=1e-6
                               * np.abs(gradient).max())
    assert "deepshap" in sx.METHODS


def test_attribute_takes_any_model_the_loader_takes_and_strings():
    bundle = sx.load_model(ROOT / "models" / "ctcf")
    seqs = ["ACGT" * 50, "GGCC" * 50]
    X = bundle.encode(seqs).onehot
    expected = sx.attribute(bundle.model, X, method="saliency")
    for model in (ROOT / "models" / "ctcf", str(ROOT / "models" / "ctcf"), bundle):
        np.testing.assert_array_equal(sx.attribute(model, X, method="saliency"), expected)
    np.testing.assert_array_equal(sx.attribute(bundle, seqs, method="saliency"), expected)


def test_file_verbs_check_their_options_before_any_work(tmp_path):
    """predict_files, evaluate_files, train_files and filters_files (what the commands call)
    refuse a wrong combination with an OptionError naming it, and write nothing."""
    import pytest

    from seqexplain.errors import OptionError
    from seqexplain.filters import filters_files
    from seqexplain.predict_run import evaluate_files, predict_files
    from seqexplain.train_run import train_files

    fa = tmp_path / "x.fa"
    fa.write_text(">a\nACGT\n")
    out = tmp_path / "out.tsv"
    with pytest.raises(OptionError, match="--resume needs --cluster"):
        predict_files(ROOT / "models" / "ctcf", fa, out=out, resume=True)
    with pytest.raises(OptionError, match="workers load the model from its path"):
        predict_files(object(), fa, out=out, cluster="local:1")
    with pytest.raises(OptionError, match="--genome is used with --regions"):
        evaluate_files(ROOT / "models" / "ctcf", [fa], genome=fa)
    with pytest.raises(OptionError, match="give FASTA file"):
        train_files([fa], out=tmp_path / "m", regions=[fa], genome=fa)
    with pytest.raises(OptionError, match="no sequences"):
        filters_files(ROOT / "models" / "ctcf", None, out=tmp_path / "f")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.fa"]
