"""The attributions file and its type: npz and h5 read back alike, partial reads, older files,
errors naming the file, subsets, the model check and the TF-MoDISco export."""

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from seqexplain.attributions import Attributions
from seqexplain.cli import main
from seqexplain.errors import SeqexplainError
from seqexplain.exports import export_modisco, write_modisco

ROOT = Path(__file__).resolve().parents[1]
WW = ROOT / "models" / "ww"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """``seqexplain explain`` of 6 WW-domain records with saliency and deepshap, as npz and h5."""
    folder = tmp_path_factory.mktemp("attributions")
    fa = folder / "ww.fa"
    fa.write_text("".join((ROOT / "examples" / "data" / "ww_test.fa").read_text()
                          .splitlines(keepends=True)[:12]))
    out = {}
    for fmt in ("npz", "h5"):
        r = CliRunner().invoke(main, ["explain", str(WW), str(fa), "-m", "saliency,deepshap",
                                      "--n-references", "3", "--logos", "0", "--format", fmt,
                                      "-q", "-o", str(folder / fmt)])
        assert r.exit_code == 0, r.output
        out[fmt] = folder / fmt / f"attributions.{fmt}"
    return out


def test_npz_and_h5_read_back_alike(files):
    from seqexplain.alphabets import PROTEIN
    from seqexplain.bundle import ModelBundle

    a, b = Attributions.read(files["npz"]), Attributions.read(files["h5"])
    assert len(a) == len(b) == 6 and a.source == str(files["npz"])
    assert set(Attributions.members(files["npz"])) == set(Attributions.members(files["h5"]))
    assert a.methods == ["saliency", "deepshap"]  # npz: the order explain wrote them
    assert sorted(b.methods) == ["deepshap", "saliency"]
    bundle = ModelBundle.load(WW)
    for d in (a, b):
        assert d.alphabet is PROTEIN and d.letters == PROTEIN.letters
        assert d.onehot.shape == (6, bundle.length, 20)
        assert d.logits.shape == d.predictions.shape == (6, 1)
        assert d.target == 0 and d.target_name == bundle.output_names[0]
        assert d.explained_output == "logit"
        assert d.settings["methods"] == ["saliency", "deepshap"]
        assert d.settings["n_references"] == 3
        assert d.fingerprint == bundle.fingerprint
        assert Path(d.model_path).resolve() == WW.resolve()
        assert d.lengths.shape == d.offsets.shape == (6,)
        assert d.delta("saliency") is None and d.delta("deepshap").shape == (6,)
        valid = d.valid()
        assert valid.shape == (6, bundle.length)
        for i in range(6):
            lo, hi = d.span(i)
            assert valid[i].sum() == hi - lo and valid[i, lo:hi].all()
    assert a.ids.tolist() == b.ids.tolist()
    for m in a.methods:
        np.testing.assert_array_equal(a.scores(m), b.scores(m))
        np.testing.assert_array_equal(a.hypothetical(m), b.hypothetical(m))
    np.testing.assert_array_equal(a.delta("deepshap"), b.delta("deepshap"))
    for name in ("onehot", "logits", "predictions", "lengths", "offsets"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.output_names == b.output_names and a.settings == b.settings


def test_require_names_the_file_and_its_methods(files):
    a = Attributions.read(files["npz"])
    a.require("deepshap")
    with pytest.raises(SeqexplainError) as err:
        a.require("ism")
    assert str(err.value) == f"{files['npz']}: no 'ism' scores (methods: saliency, deepshap)"
    with pytest.raises(SeqexplainError, match="no 'ism' scores"):
        a.scores("ism")
    # a requested method that is absent fails before anything is read
    with pytest.raises(SeqexplainError, match=r"attributions.h5: no 'ism' scores"):
        Attributions.read(files["h5"], ["ism"])
    assert Attributions.methods_of(files["npz"]) == ["saliency", "deepshap"]
    hand_built = Attributions({"ids": np.array(["a"]), "deepshap": np.zeros((1, 3, 4))})
    with pytest.raises(SeqexplainError, match="^attributions: no 'deepshap' scores "
                                              r"\(methods: deepshap\)"):
        hand_built.hypothetical("deepshap")  # its hypothetical scores are missing
    with pytest.raises(SeqexplainError, match="not an attributions file .no 'onehot' array"):
        hand_built.onehot


@pytest.mark.parametrize("fmt", ["npz", "h5"])
def test_reading_only_the_requested_members(files, fmt):
    full = Attributions.read(files[fmt])
    part = Attributions.read(files[fmt], ["saliency"], hypothetical=False, delta=False)
    assert part.methods == ["saliency"]
    assert set(part.arrays) == set(full.arrays) - {"deepshap", "deepshap_hypothetical",
                                                    "deepshap_delta", "saliency_hypothetical"}
    np.testing.assert_array_equal(part.scores("saliency"), full.scores("saliency"))
    hyp = Attributions.read(files[fmt], ["deepshap"], hypothetical=["deepshap"], delta=False)
    assert "deepshap_hypothetical" in hyp.arrays and "deepshap_delta" not in hyp.arrays
    assert "saliency" not in hyp.arrays


def test_subset_and_concatenate(files):
    a = Attributions.read(files["npz"])
    sub = a.subset([4, 1])
    assert sub.ids.tolist() == [a.ids[4], a.ids[1]] and len(sub) == 2
    np.testing.assert_array_equal(sub.scores("deepshap"), a.scores("deepshap")[[4, 1]])
    np.testing.assert_array_equal(sub.delta("deepshap"), a.delta("deepshap")[[4, 1]])
    assert sub.letters == a.letters and sub.settings == a.settings  # metadata kept whole
    assert sub.fingerprint == a.fingerprint and sub.source == a.source
    both = Attributions.concatenate([a.subset([0, 1]), a.subset([2, 3, 4, 5])])
    for name, value in a.arrays.items():
        np.testing.assert_array_equal(both.arrays[name], value)


@pytest.mark.parametrize("fmt", ["npz", "h5"])
def test_write_reads_back(files, tmp_path, fmt):
    a = Attributions.read(files["npz"])
    path = a.subset([0, 2]).write(tmp_path / f"copy.{fmt}")
    b = Attributions.read(path)
    assert b.ids.tolist() == a.ids[[0, 2]].tolist() and sorted(b.methods) == sorted(a.methods)
    np.testing.assert_array_equal(b.hypothetical("deepshap"), a.hypothetical("deepshap")[[0, 2]])
    assert b.settings == a.settings and b.fingerprint == a.fingerprint


def test_old_file_without_fingerprint_or_offsets_reads(files, tmp_path):
    """A file from before offsets, settings, the model and its fingerprint were recorded."""
    from seqexplain.bundle import ModelBundle

    new = Attributions.read(files["npz"])
    old = {k: v for k, v in new.arrays.items()
           if k not in ("offsets", "lengths", "settings", "model", "model_fingerprint")}
    np.savez(tmp_path / "old.npz", **old)
    a = Attributions.read(tmp_path / "old.npz")
    assert a.offsets is None and a.lengths is None and a.settings is None
    assert a.fingerprint == "" and a.model_path == ""
    assert a.valid().all() and a.span(0) == (0, a.length)
    a.check_model(ModelBundle.load(ROOT / "models" / "ctcf").model, "ctcf")  # unchecked
    np.testing.assert_array_equal(a.scores("deepshap"), new.scores("deepshap"))


def test_check_model_refuses_attributions_of_another_model(files):
    from seqexplain.bundle import ModelBundle

    a = Attributions.read(files["npz"])
    a.check_model(ModelBundle.load(WW).model, str(WW))
    other = a.replace(model_fingerprint=np.array("0123456789abcdef"))
    with pytest.raises(SeqexplainError) as err:
        other.check_model(ModelBundle.load(WW).model, "ww")
    message = str(err.value)
    assert message.startswith(f"{files['npz']} was computed with another model "
                              "(fingerprint 0123456789abcdef) than ww (fingerprint "
                              f"{a.fingerprint})")


def test_export_modisco_shapes(files, tmp_path):
    a = Attributions.read(files["h5"], ["deepshap"], delta=False)
    written = write_modisco(a, "deepshap", tmp_path)
    n, length, channels = a.onehot.shape
    assert (written.ohe, written.shap, written.length) == (tmp_path / "ohe.npz",
                                                           tmp_path / "shap.npz", length)
    x, hyp = np.load(written.ohe)["arr_0"], np.load(written.shap)["arr_0"]
    assert x.shape == hyp.shape == (n, channels, length)
    np.testing.assert_array_equal(x, a.onehot.transpose(0, 2, 1))
    np.testing.assert_array_equal(hyp, a.hypothetical("deepshap").transpose(0, 2, 1))
    with pytest.raises(SeqexplainError, match="no 'ism' scores"):
        write_modisco(a, "ism", tmp_path)
    # from the file, by an alias, into a new folder; an existing one is refused
    out = tmp_path / "modisco"
    again = export_modisco(files["h5"], out, "deep_shap")
    assert again.shap == out / "shap.npz"
    np.testing.assert_array_equal(np.load(again.shap)["arr_0"], hyp)
    with pytest.raises(SeqexplainError, match="folder exists"):
        export_modisco(a, out, "deepshap")


def test_errors_name_the_file(tmp_path):
    with pytest.raises(SeqexplainError, match="missing.npz: no such file"):
        Attributions.read(tmp_path / "missing.npz")
    with pytest.raises(SeqexplainError, match="a folder, not an attributions file"):
        Attributions.read(tmp_path)
    bad = tmp_path / "bad.npz"
    bad.write_text("not a zip")
    for call in (Attributions.read, Attributions.members):
        with pytest.raises(SeqexplainError, match="bad.npz: not an attributions file"):
            call(bad)
    np.savez(tmp_path / "other.npz", arr_0=np.zeros(3))
    with pytest.raises(SeqexplainError, match="other.npz: not an attributions file .no 'ids'"):
        Attributions.read(tmp_path / "other.npz")


@pytest.mark.parametrize("fmt", ["npz", "h5"])
def test_several_targets_round_trip(tmp_path, fmt):
    """A file of several targets (``M@t`` keys, ``targets``): written and read back, each
    target read alone as the one-target view every consumer takes, errors naming the file."""
    import json

    rng = np.random.default_rng(0)
    n, length = 4, 6
    onehot = np.eye(4, dtype=np.float32)[rng.integers(4, size=(n, length))]
    names = ["profile", "counts:0", "profile[1:3]"]
    arrays = {"ids": np.array([f"s{i}" for i in range(n)]), "onehot": onehot,
              "alphabet": np.array("ACGT"), "logits": rng.normal(size=(n, 3)),
              "predictions": rng.normal(size=(n, 3)), "output_names": np.array(names),
              "target": np.array(0), "targets": np.array(names),
              "settings": np.array(json.dumps({"target": "profile", "targets": names}))}
    for t in names:
        arrays[f"deepshap@{t}"] = rng.normal(size=onehot.shape).astype(np.float32)
        arrays[f"deepshap@{t}_hypothetical"] = rng.normal(size=onehot.shape).astype(np.float32)
        arrays[f"deepshap@{t}_delta"] = rng.normal(size=n).astype(np.float32)
        arrays[f"ism@{t}"] = rng.normal(size=onehot.shape).astype(np.float32)
        arrays[f"ism@{t}_hypothetical"] = rng.normal(size=onehot.shape).astype(np.float32)
    path = Attributions(arrays).write(tmp_path / f"multi.{fmt}")
    assert sorted(Attributions.methods_of(path)) == ["deepshap", "ism"]
    whole = Attributions.read(path, target="counts:0")
    only = Attributions.read(path, ["deepshap"], target="counts:0")
    view = Attributions(arrays).select_target("counts:0")
    for d in (whole, only, view):
        assert d.targets == [] and d.target == 1 and d.target_name == "counts:0"
        assert d.settings["target"] == "counts:0"
        np.testing.assert_array_equal(d.scores("deepshap"), arrays["deepshap@counts:0"])
        np.testing.assert_array_equal(d.delta("deepshap"), arrays["deepshap@counts:0_delta"])
        np.testing.assert_array_equal(d.logits, arrays["logits"])
    assert sorted(whole.methods) == ["deepshap", "ism"] and only.methods == ["deepshap"]
    assert not any("@" in k for k in whole.arrays)
    window = Attributions.read(path, ["ism"], target="2", delta=False)  # by index
    assert window.target_name == "profile[1:3]"
    np.testing.assert_array_equal(window.hypothetical("ism"),
                                  arrays["ism@profile[1:3]_hypothetical"])
    with pytest.raises(SeqexplainError, match=r"multi\.\w+: holds several targets \(profile, "
                                              r"counts:0, profile\[1:3\]\); choose one"):
        Attributions.read(path)
    with pytest.raises(SeqexplainError, match=r"no target 'counts:1' \(targets: profile, "):
        Attributions.read(path, target="counts:1")
    with pytest.raises(SeqexplainError, match="choose one"):
        Attributions(arrays).scores("deepshap")
    # export-modisco picks one target of such a file
    r = CliRunner().invoke(main, ["export-modisco", str(path), "-m", "deepshap", "--target",
                                  "counts:0", "-o", str(tmp_path / "modisco")])
    assert r.exit_code == 0, r.output
    np.testing.assert_array_equal(np.load(tmp_path / "modisco" / "shap.npz")["arr_0"],
                                  arrays["deepshap@counts:0_hypothetical"].transpose(0, 2, 1))
