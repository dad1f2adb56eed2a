"""`seqexplain explain`: the attributions file, its arrays' meaning, and the error cases.
(The numbers of each method are checked against independent implementations in
test_attribution.py; here the pipeline around them.)"""

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from helpers import TINY_MODEL, assert_close, batch_scale, contribution_scale, planted_dataset

from seqexplain.cli import main


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explain")
    fa, tsv = planted_dataset(folder, n=160)
    labels = folder / "bin.tsv"
    labels.write_text("".join("\t".join(line.split("\t")[:2]) + "\n"
                              for line in tsv.read_text().splitlines()))
    cfg = folder / "tiny.yaml"
    cfg.write_text(yaml.safe_dump({"model": TINY_MODEL}))
    out = folder / "model"
    r = CliRunner().invoke(main, ["train", str(fa), "--labels", str(labels), "--config",
                                  str(cfg), "--epochs", "3", "-q", "-o", str(out)])
    assert r.exit_code == 0, r.output
    small = folder / "small.fa"
    small.write_text("".join(fa.read_text().splitlines(keepends=True)[:24]))  # 12 records
    return out, small


def run_explain(model, fasta, out, *args):
    args = list(map(str, args))
    if "--logos" not in args:
        args += ["--logos", "0"]
    return CliRunner().invoke(main, ["explain", str(model), str(fasta), "-o", str(out), "-q",
                                     *args])


def test_attributions_file(model_dir, tmp_path):
    model, fa = model_dir
    out = tmp_path / "ex"
    r = run_explain(model, fa, out, "-m", "saliency,deepshap,ism,deeplift,integrated_gradients",
                "--n-references", 5, "--chunk-size", 5)
    assert r.exit_code == 0, r.output
    d = np.load(out / "attributions.npz")
    n = 12
    assert d["ids"].tolist() == [f"r{i}" for i in range(n)]
    assert d["onehot"].shape == (n, 40, 4) and d["onehot"].dtype == np.float32
    assert str(d["alphabet"]) == "ACGT" and d["logits"].shape == d["predictions"].shape == (n, 1)
    np.testing.assert_allclose(d["predictions"], 1 / (1 + np.exp(-d["logits"])), rtol=1e-5)
    x = d["onehot"]
    for m in ("saliency", "deepshap", "ism", "deeplift", "integrated_gradients"):
        assert d[m].shape == d[f"{m}_hypothetical"].shape == (n, 40, 4)
        # observed contribution: zero at the channels of bases not present
        assert np.all(d[m][x == 0] == 0)
    for m in ("saliency", "deepshap", "ism", "deeplift"):
        np.testing.assert_allclose(d[m], d[f"{m}_hypothetical"] * x, atol=1e-7)
    # gradient correction on by default; ISM centred on the mean of the 4 bases
    for m in ("saliency", "ism"):
        hyp = d[f"{m}_hypothetical"]
        assert_close(hyp.mean(-1), 0, batch_scale(hyp), rel=1e-6, what=m)
    # completeness: deepshap sums to logit − mean reference logit (delta ≈ 0), to float32
    # rounding of the batch's outputs and contributions
    for m in ("deepshap", "deeplift"):
        assert d[f"{m}_delta"].shape == (n,)
        scale = batch_scale(d["logits"], contribution_scale(d[m]))
        assert_close(d[f"{m}_delta"], 0, scale, what=f"{m} completeness")
    assert np.abs(d["integrated_gradients_delta"]).max() < 0.05 * batch_scale(d["logits"])
    assert not any(p.name.startswith(".") for p in out.iterdir())  # no temporary files left
    assert sorted(p.name for p in out.iterdir()) == ["attributions.npz"]  # --logos 0


@pytest.mark.slow
def test_logos_of_top_sequences(model_dir, tmp_path):
    model, fa = model_dir
    out = tmp_path / "ex"
    r = run_explain(model, fa, out, "-m", "deepshap,ism", "--n-references", 3, "--logos", 4,
                "--logo-window", "full")
    assert r.exit_code == 0, r.output
    d = np.load(out / "attributions.npz")
    best = [str(d["ids"][i]) for i in np.argsort(-d["logits"][:, 0], kind="stable")[:4]]
    rows = [line.split("\t") for line in (out / "logos" / "index.tsv").read_text()
            .splitlines()[1:]]
    assert [row[0] for row in rows] == best
    assert sorted(p.name for p in (out / "logos").iterdir()) == sorted(
        [f"{i}.png" for i in best] + ["index.tsv"])
    assert all(row[4] == "1:40" for row in rows)
    r = run_explain(model, fa, tmp_path / "bad", "--logos", 2, "--logo-window", "9:3")
    assert r.exit_code == 2 and "START must not exceed END" in r.output
    assert not (tmp_path / "bad").exists()


def test_keep_top_across_chunks():
    from seqexplain.attributions import Attributions
    from seqexplain.explain import _keep_top

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 2))
    top = None
    for lo in range(0, 50, 7):
        chunk = Attributions({"logits": logits[lo:lo + 7],
                              "ids": np.arange(lo, min(lo + 7, 50))})
        top = _keep_top(top, chunk, 5, target=1)
    index = top.ids.astype(int)
    np.testing.assert_array_equal(index, np.argsort(-logits[:, 1])[:5])
    np.testing.assert_array_equal(top.logits, logits[index])


def test_offsets_of_padded_records(model_dir, tmp_path):
    model, _ = model_dir
    fa = tmp_path / "short.fa"
    fa.write_text(">a\n" + "ACGT" * 5 + "\n>b\n" + "GATC" * 10 + "\n>c\n" + "T" * 44 + "\n")
    r = run_explain(model, fa, tmp_path / "ex", "-m", "saliency")
    assert r.exit_code == 0, r.output
    d = np.load(tmp_path / "ex" / "attributions.npz")
    assert d["lengths"].tolist() == [20, 40, 44] and d["offsets"].tolist() == [-10, 0, 2]


def test_chunking_does_not_change_results(model_dir, tmp_path):
    model, _ = model_dir
    fa = model.parent / "data.fa"  # 160 records: several chunks
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_explain(model, fa, a, "-m", "deepshap", "--n-references", 4,
                   "--chunk-size", 1000).exit_code == 0
    assert run_explain(model, fa, b, "-m", "deepshap", "--n-references", 4,
                   "--chunk-size", 40, "--format", "h5").exit_code == 0
    from seqexplain.attributions import Attributions

    da, db = Attributions.read(a / "attributions.npz"), Attributions.read(b / "attributions.h5")
    assert da.ids.tolist() == db.ids.tolist()
    assert_close(da.scores("deepshap"), db.scores("deepshap"),
                 batch_scale(contribution_scale(da.scores("deepshap"))), rel=1e-6)


def test_saliency_and_gradient_times_input_mean_what_the_library_means(model_dir, tmp_path):
    """saliency: the corrected gradient; grad_input: the raw gradient × input — in the file
    as in the library (one method table for both)."""
    from seqexplain.attribution import grad_input, saliency
    from seqexplain.bundle import ModelBundle

    model, fa = model_dir
    out = tmp_path / "ex"
    assert run_explain(model, fa, out, "-m", "saliency,grad_input").exit_code == 0
    d = np.load(out / "attributions.npz")
    keras_model, x = ModelBundle.load(model).model, d["onehot"]
    scale = batch_scale(d["saliency_hypothetical"])
    assert_close(d["grad_input"], grad_input(keras_model, x), scale, rel=1e-6)
    assert_close(d["saliency_hypothetical"], saliency(keras_model, x), scale, rel=1e-6)
    assert_close(d["grad_input_hypothetical"], saliency(keras_model, x, correct=False), scale,
                 rel=1e-6)
    assert np.abs(d["grad_input"] - d["saliency"]).max() > 1e-3 * scale


def test_raw_gradient_and_prob_output(model_dir, tmp_path):
    model, fa = model_dir
    out = tmp_path / "ex"
    assert run_explain(model, fa, out, "-m", "saliency", "--no-correct", "--output",
                   "prob").exit_code == 0
    d = np.load(out / "attributions.npz")
    assert np.abs(d["saliency_hypothetical"].mean(-1)).max() > 1e-6
    assert str(d["explained_output"]) == "prob"


def test_modisco_export(model_dir, tmp_path):
    model, fa = model_dir
    out = tmp_path / "ex"
    assert run_explain(model, fa, out, "-m", "deepshap", "--n-references", 3, "--modisco",
                   "deepshap").exit_code == 0
    ohe = np.load(out / "modisco" / "ohe.npz")["arr_0"]
    hyp = np.load(out / "modisco" / "shap.npz")["arr_0"]
    d = np.load(out / "attributions.npz")
    assert ohe.shape == hyp.shape == (12, 4, 40)
    np.testing.assert_array_equal(ohe, d["onehot"].transpose(0, 2, 1))
    np.testing.assert_array_equal(hyp, d["deepshap_hypothetical"].transpose(0, 2, 1))
    r = CliRunner().invoke(main, ["export-modisco", str(out / "attributions.npz"), "-m",
                                  "deepshap", "-o", str(tmp_path / "mod")])
    assert r.exit_code == 0 and "-w 40" in r.stdout
    assert (tmp_path / "mod" / "shap.npz").exists()


def test_explain_files_is_what_the_command_runs(model_dir, tmp_path):
    """sx.explain_files writes the folder the command writes (same arrays), returns a typed
    result whose summary is the command's first line, and refuses wrong options before any
    work, as OptionError (the command's usage errors)."""
    import seqexplain as sx
    from seqexplain.errors import OptionError

    model, fa = model_dir
    args = ["-m", "deepshap,gradient", "--n-references", 3, "--modisco", "deep_shap"]
    r = run_explain(model, fa, tmp_path / "cli", *args)
    assert r.exit_code == 0, r.output
    result = sx.explain_files(model, fa, out=tmp_path / "py", methods="deepshap,gradient",
                              n_references=3, modisco="deep_shap", logos=0, progress=False)
    assert isinstance(result, sx.ExplainResult)
    assert (result.n, result.length, result.methods) == (12, 40, ("deepshap", "saliency"))
    assert result.path == tmp_path / "py" / "attributions.npz" and result.dask is None
    cli, py = np.load(tmp_path / "cli" / "attributions.npz"), np.load(result.path)
    assert sorted(cli.files) == sorted(py.files)
    for key in cli.files:
        if key != "model":  # the model's path, relative to each output
            np.testing.assert_array_equal(cli[key], py[key], err_msg=key)
    np.testing.assert_array_equal(np.load(tmp_path / "py" / "modisco" / "shap.npz")["arr_0"],
                                  py["deepshap_hypothetical"].transpose(0, 2, 1))
    line = r.stderr.strip().splitlines()[-1]
    assert result.summary()[0].split(" (")[0] == line.split(" (")[0].replace(
        str(tmp_path / "cli"), str(tmp_path / "py"))
    for kwargs, match in [(dict(motifs=True, motif_method="ism"), "--motif-method ism: that "
                           "method is not in --method"),
                          (dict(modisco="ism"), "--modisco ism: that method is not in"),
                          (dict(resume=True), "--resume needs --cluster"),
                          (dict(references="nofile.fa"), "not shuffle, zero, uniform"),
                          (dict(steps=3), "has no option 'steps'")]:
        with pytest.raises(OptionError, match=match):
            sx.explain_files(model, fa, out=tmp_path / "bad", methods="deepshap", **kwargs)
        assert not (tmp_path / "bad").exists()


def test_bare_keras_model_file(model_dir, tmp_path):
    model, fa = model_dir
    out = tmp_path / "ex"
    r = run_explain(model / "model.keras", fa, out, "-m", "saliency")
    assert r.exit_code == 0, r.output
    d = np.load(out / "attributions.npz")
    ref = np.load(run_explain(model, fa, tmp_path / "ref", "-m", "saliency") and
                  tmp_path / "ref" / "attributions.npz")
    assert_close(d["saliency"], ref["saliency"], batch_scale(ref["saliency"]), rel=1e-6)
    r = run_explain(model / "model.keras", fa, tmp_path / "x", "--alphabet", "protein")
    assert r.exit_code == 1 and "takes 4 channels but protein has 20" in r.stderr


@pytest.mark.parametrize("args,match", [
    (["-m", "deepsharp"], "unknown method 'deepsharp' (did you mean 'deepshap'?)"),
    (["--target", "banana"], "unknown target 'banana'"),
    (["--target", "3"], "target 3 is out of range"),
    (["--references", "nofile.fa"], "not shuffle, zero, uniform or an existing FASTA"),
])
def test_bad_options(model_dir, tmp_path, args, match):
    model, fa = model_dir
    out = tmp_path / "ex"
    r = run_explain(model, fa, out, *args)
    assert r.exit_code != 0 and match in r.output
    assert not out.exists()


def test_bad_inputs(model_dir, tmp_path):
    model, fa = model_dir
    refs = tmp_path / "refs.fa"
    refs.write_text(">r\nACGTACGT\n")
    r = run_explain(model, fa, tmp_path / "a", "--references", refs)
    assert r.exit_code == 1 and "record 'r': reference is 8 long; the model takes 40" in r.stderr
    empty = tmp_path / "empty.fa"
    empty.write_text("")
    r = run_explain(model, empty, tmp_path / "b")
    assert r.exit_code == 1 and "empty file" in r.stderr
    prot = tmp_path / "p.fa"
    prot.write_text(">p\nMKVLHEEWWQRSTPLLKE\n")
    r = run_explain(model, prot, tmp_path / "c")
    assert r.exit_code == 1 and "record 'p', position 4: invalid character 'L' for dna " \
        "(protein? the model takes dna)" in r.stderr
    assert not any((tmp_path / x).exists() for x in "abc")
    r = run_explain(tmp_path / "nomodel", fa, tmp_path / "d")
    assert r.exit_code == 1 and "no such model folder or file" in r.stderr


def test_model_fingerprint_refuses_mismatched_files(tmp_path):
    """An attributions file records its model's fingerprint; report and motifs refuse a model
    other than the one that computed it, naming both, and accept the same weights loaded
    from the folder or from its bare model.keras."""
    from pathlib import Path

    import seqexplain as sx
    from seqexplain.bundle import ModelBundle, load_model, model_fingerprint

    root = Path(__file__).resolve().parents[1]
    ww, ctcf = root / "models" / "ww", root / "models" / "ctcf"
    fa = tmp_path / "ww.fa"
    fa.write_text("".join((root / "examples" / "data" / "ww_test.fa").read_text()
                          .splitlines(keepends=True)[:12]))
    assert run_explain(ww, fa, tmp_path / "ex", "-m", "saliency").exit_code == 0
    attributions = tmp_path / "ex" / "attributions.npz"
    recorded = str(np.load(attributions)["model_fingerprint"])
    bundle = ModelBundle.load(ww)
    assert recorded == bundle.fingerprint == model_fingerprint(
        load_model(ww / "model.keras").model, bundle.alphabet.letters)
    assert recorded != ModelBundle.load(ctcf).fingerprint

    report = CliRunner().invoke(main, ["report", str(ctcf), "--attributions",
                                       str(attributions), "-o", str(tmp_path / "r.html")])
    motifs = CliRunner().invoke(main, ["motifs", str(attributions), "-m", "saliency",
                                       "--model", str(ww / "model.keras"), "-o",
                                       str(tmp_path / "m")])
    motifs_ctcf = CliRunner().invoke(main, ["motifs", str(attributions), "-m", "saliency",
                                            "--model", str(ctcf), "-o", str(tmp_path / "m2")])
    for r in (report, motifs_ctcf):
        assert r.exit_code == 1, r.output
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ")
        assert str(attributions) in lines[0] and "another model" in lines[0]
        assert recorded in lines[0]
    assert "ctcf" in report.stderr and "ctcf" in motifs_ctcf.stderr
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "m2").exists()
    assert motifs.exit_code == 0, motifs.output  # the same weights from model.keras: accepted
    # the Python API's support tests rerun the model too: the same check
    scores = sx.Attributions.read(attributions)
    with pytest.raises(sx.SeqexplainError, match=f"{recorded}.*another model|another model"):
        sx.discover_motifs(scores, sx.MotifSettings(method="saliency"),
                           model=ModelBundle.load(ctcf).model)
