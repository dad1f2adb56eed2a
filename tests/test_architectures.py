"""Every method on every architecture users bring (tests/architectures.py: DeepBind, Basset,
DeepSEA, DanQ, BPNet with profile and counts heads, gated convolution, self-attention):
each works with its defining property — DeepSHAP completeness within 1e-5 of the output
scale, ISM equal to a brute-force forward pass of every mutant, integrated gradients'
completeness, saliency equal to the gradient of the explained scalar computed here
independently — or gives one line naming the methods that work."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from architectures import ARCHITECTURES, NO_DEEPLIFT, architecture
from seqexplain.attribution import methods as M
from seqexplain.cli import main
from seqexplain.errors import SeqexplainError
from seqexplain.shuffle import dinucleotide_shuffle
from toy_models import float64_copy, random_onehot

LENGTH = 60
N_REFS = 4
#: targets explained on each architecture
TARGETS = {"deepbind": [0], "basset": [11], "deepsea": [2], "danq": [1],
           "bpnet": ["profile", "profile:1[20:40]", "counts", "counts:0"], "gated": [0],
           "attention": [0]}
CASES = [(name, t) for name in ARCHITECTURES for t in TARGETS[name]]


@pytest.fixture(scope="module")
def models():
    return {name: architecture(name, LENGTH, seed=i) for i, name in enumerate(ARCHITECTURES)}


@pytest.fixture(scope="module")
def X():
    return random_onehot(3, LENGTH, seed=5)


@pytest.fixture(scope="module")
def refs(X):
    return dinucleotide_shuffle(X, n=N_REFS, random_state=np.random.default_rng(1))


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


def scalar(model, target, Z: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """The explained scalar of the rows ``Z`` computed here from the model's plain outputs
    (float64): a column's logit (inverting a final sigmoid), BPNet's heads reduced by hand,
    the profile weighted by the softmax of the rows ``anchor`` it is explained for."""
    out = model.predict(Z, batch_size=1024, verbose=0)
    if isinstance(out, list):  # bpnet: [profile (n, L, 2), counts (n, 2)]
        profile, counts = (np.asarray(o, np.float64) for o in out)
        if target == "counts":
            return counts.sum(axis=1)
        if target == "counts:0":
            return counts[:, 0]
        if target == "profile[20:40]" or target == "profile:1[20:40]":
            strands = slice(1, 2) if ":1" in target else slice(None)
            return profile[:, 20:40, strands].sum(axis=(1, 2))
        assert target == "profile"
        p0 = np.asarray(model.predict(anchor, batch_size=1024, verbose=0)[0], np.float64)
        w = np.exp(p0 - p0.max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)  # softmax over positions, per strand
        return (w * profile).sum(axis=(1, 2))
    out = np.asarray(out, np.float64)
    last = model.layers[-1]
    if getattr(last.activation, "__name__", "") == "sigmoid":
        out = _logit(out)
    return out[:, target]


def test_deepshap_completeness_or_one_line(models, X, refs):
    for name, target in CASES:
        model = models[name]
        if name in NO_DEEPLIFT:
            with pytest.raises(SeqexplainError) as err:
                M.deep_shap(model, X, target=target, references=refs)
            message = str(err.value)
            assert "\n" not in message and "no DeepLIFT/DeepSHAP rule" in message
            assert "saliency" in message and "integrated_gradients" in message and "ism" in message
            continue
        attr = M.deep_shap(model, X, target=target, references=refs)
        y = scalar(model, target, X, X)
        y_refs = np.stack([scalar(model, target, refs[:, j], X) for j in range(N_REFS)], 1)
        expected = y - y_refs.mean(axis=1)
        scale = max(np.abs(y).max(), np.abs(y_refs).max())
        err = np.abs(attr.sum(axis=(1, 2), dtype=np.float64) - expected).max()
        assert err <= 1e-5 * scale, (name, target, err, scale)
        assert np.abs(attr).max() > 1e-3 * scale  # not trivially zero


def test_ism_equals_brute_force(models, X):
    n, length, channels = X.shape
    seq, pos, chan = np.nonzero(X == 0)  # every substitution
    mutants = X[seq].copy()
    mutants[np.arange(len(seq)), pos] = np.eye(channels, dtype=np.float32)[chan]
    for name, target in CASES:
        model = models[name]
        ism = M.ism(model, X, target=target)
        wild = scalar(model, target, X, X)
        expected = np.zeros(X.shape)
        expected[seq, pos, chan] = scalar(model, target, mutants, X[seq]) - wild[seq]
        scale = np.abs(wild).max()
        assert np.abs(ism - expected).max() <= 1e-5 * scale + 1e-6, (name, target)
        assert np.abs(ism).max() > 1e-3 * scale
    # several targets from the same forward passes: the same maps
    bpnet = models["bpnet"]
    maps = M.ism_targets(bpnet, X, TARGETS["bpnet"])
    for target, got in zip(TARGETS["bpnet"], maps):
        np.testing.assert_allclose(got, M.ism(bpnet, X, target=target), rtol=0, atol=1e-6)


def test_integrated_gradients_completeness(models, X):
    for name, target in CASES:
        model = models[name]
        attr = M.integrated_gradients(model, X, target=target, steps=64)
        y = scalar(model, target, X, X)
        y0 = scalar(model, target, np.zeros_like(X), X)
        scale = max(np.abs(y).max(), np.abs(y0).max())
        err = np.abs(attr.sum(axis=(1, 2), dtype=np.float64) - (y - y0)).max()
        assert err <= 0.02 * scale, (name, target, err, scale)


def test_saliency_is_the_gradient_of_the_scalar(models, X):
    for name, target in CASES:
        model = models[name]
        grad = M.saliency(model, X, target=target, correct=False)
        x = tf.constant(X)
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = model(x, training=False)
            if isinstance(out, list):
                profile, counts = out
                if target == "counts":
                    y = tf.reduce_sum(counts, axis=1)
                elif target == "counts:0":
                    y = counts[:, 0]
                elif target == "profile:1[20:40]":
                    y = tf.reduce_sum(profile[:, 20:40, 1], axis=1)
                else:
                    w = tf.constant(np.exp(profile.numpy())
                                    / np.exp(profile.numpy()).sum(axis=1, keepdims=True))
                    y = tf.reduce_sum(w * profile, axis=(1, 2))
            else:  # the logit: the input of the final sigmoid (its derivative divided out)
                y = out[:, target]
        g = tape.gradient(y, x).numpy()
        if not isinstance(out, list) and model.layers[-1].activation.__name__ == "sigmoid":
            p = out.numpy()[:, target]
            g = g / (p * (1 - p))[:, None, None]
        assert np.abs(grad - g).max() <= 1e-4 * np.abs(g).max(), (name, target)


def test_product_rules_match_float64_and_shap(models, X, refs):
    """The Shapley rule for products (gating) and its bilinear form (attention's einsums,
    with the softmax as exp · 1/sum): float32 within 1e-5 of the same computation in
    float64; and gating equal to shap's DeepExplainer (its Mul handler for two varying
    inputs; shap has no Einsum handler)."""
    for name in ("gated", "attention"):
        model = models[name]
        attr = M.deep_shap(model, X, references=refs, hypothetical=True)
        oracle = M.deep_shap(float64_copy(model), X.astype(np.float64), references=refs,
                             hypothetical=True)
        assert np.abs(attr - oracle).max() <= 1e-5 * np.abs(oracle).max(), name
    model = models["gated"]
    observed = M.deep_shap(model, X, references=refs)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no fallback to GradientExplainer
        theirs = M.shap_explainer(model, X[:2], references=refs[:2])
    assert np.abs(theirs - observed[:2]).max() <= 1e-4 * np.abs(observed).max()


def test_profile_weights_held_at_the_explained_sequence(models, X, refs):
    """DeepSHAP of the profile scalar with a reference equal to the sequence itself is zero,
    and the reference rows use the sequence's softmax: completeness holds against the
    anchored scalar, not against the references' own weighted sums."""
    model = models["bpnet"]
    attr = M.deep_shap(model, X, target="profile", references=X[:, None])
    assert np.abs(attr).max() == 0
    own = np.stack([scalar(model, "profile", refs[:, j], refs[:, j]) for j in range(N_REFS)], 1)
    anchored = np.stack([scalar(model, "profile", refs[:, j], X) for j in range(N_REFS)], 1)
    assert np.abs(own - anchored).max() > 1e-3  # the two conventions differ on these models


def test_cli_explains_saved_models(models, tmp_path):
    """Saved .keras files through the CLI: several targets in one run, logos by target,
    predict's per-position file, and one error line for a recurrent model."""
    for name in ("bpnet", "danq"):
        models[name].save(tmp_path / f"{name}.keras")
    rng = np.random.default_rng(0)
    fasta = tmp_path / "x.fa"
    fasta.write_text("".join(f">s{i}\n{''.join(rng.choice(list('ACGT'), LENGTH))}\n"
                             for i in range(3)))
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(main, ["explain", str(tmp_path / "bpnet.keras"), str(fasta), "-m",
                                  "deepshap,ism", "--target", "all", "--n-references", "3",
                                  "--logos", "0", "-q", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = np.load(out / "attributions.npz")
    assert list(data["targets"]) == ["profile", "counts:0", "counts:1"]
    assert data["logits"].shape == (3, 3)
    for t in data["targets"]:
        assert data[f"deepshap@{t}"].shape == (3, LENGTH, 4)
        y = data["logits"][:, list(data["targets"]).index(t)]
        assert np.abs(data[f"deepshap@{t}_delta"]).max() <= 1e-5 * np.abs(y).max() * 10
    from seqexplain.attributions import Attributions

    counts = Attributions.read(out / "attributions.npz", ["ism"], target="counts:1")
    assert counts.target_name == "counts:1" and counts.scores("ism").shape == (3, LENGTH, 4)
    assert counts.settings["target"] == "counts:1"
    # --motifs and --modisco: one folder per target, each from that target's scores
    db = tmp_path / "db.meme"
    from seqexplain.motif_io import Motif, write_meme

    write_meme([Motif("X1", "x", np.full((6, 4), 0.25), "test")], db)
    out2 = tmp_path / "out2"
    result = runner.invoke(main, ["explain", str(tmp_path / "bpnet.keras"), str(fasta), "-m",
                                  "deepshap", "--target", "profile,counts:1", "--n-references",
                                  "3", "--logos", "0", "--modisco", "deepshap", "--motifs",
                                  "--database", str(db), "-q", "-o", str(out2)])
    assert result.exit_code == 0, result.output
    data2 = np.load(out2 / "attributions.npz")
    for t, folder in (("profile", "profile"), ("counts:1", "counts_1")):
        hyp = np.load(out2 / "modisco" / folder / "shap.npz")["arr_0"]
        assert np.array_equal(hyp, data2[f"deepshap@{t}_hypothetical"].transpose(0, 2, 1))
        assert (out2 / "motifs" / folder / "motifs.tsv").is_file()
        assert f"{out2}/motifs/{folder}:" in result.output
    result = runner.invoke(main, ["logo", str(out / "attributions.npz"), "--target", "profile",
                                  "-m", "deepshap", "--top", "1", "-j", "1", "-o",
                                  str(tmp_path / "logos")])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "logos").glob("*.png"))) == 1
    result = runner.invoke(main, ["report", str(tmp_path / "bpnet.keras"), "-a",
                                  str(out / "attributions.npz"), "--target", "counts:1",
                                  "--top", "1", "-o", str(tmp_path / "report.html")])
    assert result.exit_code == 0, result.output
    assert "<h2>Top sequences</h2>" in (tmp_path / "report.html").read_text()
    result = runner.invoke(main, ["logo", str(out / "attributions.npz"), "-o",
                                  str(tmp_path / "logos2")])
    assert result.exit_code == 1 and "choose one (--target)" in result.output
    result = runner.invoke(main, ["predict", str(tmp_path / "bpnet.keras"), str(fasta), "-q",
                                  "-o", str(tmp_path / "pred.tsv")])
    assert result.exit_code == 0, result.output
    header = (tmp_path / "pred.tsv").read_text().splitlines()[0].split("\t")
    assert header == ["id", "counts:0", "counts:1"]
    profiles = np.load(tmp_path / "pred.profiles.npz")
    assert profiles["profile"].shape == (3, LENGTH, 2) and list(profiles["ids"]) == [
        "s0", "s1", "s2"]
    result = runner.invoke(main, ["explain", str(tmp_path / "danq.keras"), str(fasta), "-m",
                                  "deepshap", "-q", "-o", str(tmp_path / "danq_out")])
    assert result.exit_code == 1
    # besides the error, only the note naming the default of the model's 3 columns
    lines = [line for line in result.output.strip().splitlines()
             if not line.startswith("note: no target given:")]
    # Keras numbers layer names per process (bidirectional_1, ... after other tests)
    assert len(lines) == 1 and lines[0].startswith("error: layer 'bidirectional") \
        and "' (Bidirectional) has no DeepLIFT/DeepSHAP rule" in lines[0]
    assert not (tmp_path / "danq_out").exists()


def test_ops_in_functional_graphs(X, refs):
    """``keras.ops.multiply``/``einsum`` of two input-dependent tensors and a constant factor
    in a Functional graph get the product rules (completeness); an operation without a rule
    (``keras.ops.square``) is one line naming it."""
    import keras
    from keras import layers, ops

    keras.utils.set_random_seed(3)
    inp = keras.Input((LENGTH, 4))
    a = layers.Conv1D(4, 5, padding="same", activation="tanh")(inp)
    b = layers.Conv1D(4, 5, padding="same", activation="sigmoid")(inp)
    pairwise = ops.einsum("blc,bmc->blm", a, b)
    h = ops.sum(pairwise, axis=-1) + ops.sum(ops.multiply(a, b) * 2.0, axis=-1)
    model = keras.Model(inp, layers.Dense(1)(h))
    attr = M.deep_shap(model, X, references=refs)
    y = scalar(model, 0, X, X)
    y_refs = np.stack([scalar(model, 0, refs[:, j], X) for j in range(N_REFS)], 1)
    scale = max(np.abs(y).max(), np.abs(y_refs).max())
    err = np.abs(attr.sum(axis=(1, 2), dtype=np.float64) - (y - y_refs.mean(axis=1))).max()
    assert err <= 1e-5 * scale
    square = keras.Model(inp, layers.Dense(1)(layers.Flatten()(ops.square(inp))))
    with pytest.raises(SeqexplainError, match=r"operation 'square' \(Square\) .* no "
                                              r"DeepLIFT/DeepSHAP rule.*ism for this model"):
        M.deep_shap(square, X, references=refs)


def test_shap_failure_is_one_error_without_a_warning(models):
    """When neither of shap's explainers handles a model, the error comes alone: the
    GradientExplainer fallback's warning is given only when the fallback works."""
    X = random_onehot(2, LENGTH, seed=4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(SeqexplainError, match=r"shap cannot explain model .*use method "
                                                  r"'deepshap'$"):
            M.shap_explainer(models["bpnet"], X, target="counts:0", n_references=2,
                             random_state=0)
    assert not [w for w in caught if "falling back" in str(w.message)]


@pytest.mark.parametrize("kind", ["LayerNormalization", "RMSNormalization"])
def test_normalization_rule_against_numpy(kind):
    """DeepLIFT through a normalisation layer equals the rule computed by hand in float64
    numpy: centring (LayerNormalization only) and means are linear, the square and the
    scaling are products (each factor's multiplier is the mean of the other factor at input
    and reference), 1/sqrt(var + eps) takes the secant slope, the learned scale is affine."""
    import keras

    length, channels, width = 3, 4, 5
    keras.utils.set_random_seed(1)
    norm = (keras.layers.LayerNormalization(epsilon=1e-3) if kind == "LayerNormalization"
            else keras.layers.RMSNormalization(epsilon=1e-3))
    model = keras.Sequential([keras.Input((length, channels)), keras.layers.Flatten(),
                              keras.layers.Dense(width), norm, keras.layers.Dense(1)])
    rng = np.random.default_rng(2)
    for w in norm.weights:  # a learned scale and offset that are not 1 and 0
        w.assign(rng.uniform(0.5, 1.5, w.shape).astype(np.float32))
    X, R = random_onehot(6, length, seed=3), random_onehot(6, length, seed=4)
    got = M.deeplift(model, X, reference=R)

    W1, b1 = (np.asarray(v, np.float64) for v in model.layers[1].get_weights())
    W2 = np.asarray(model.layers[3].get_weights()[0], np.float64)[:, 0]
    params = [np.asarray(w, np.float64) for w in norm.get_weights()]
    gamma, beta = params[0], params[1] if len(params) > 1 else 0.0

    def forward(x):
        h = x.reshape(len(x), -1).astype(np.float64) @ W1 + b1
        a = h - h.mean(1, keepdims=True) if kind == "LayerNormalization" else h
        v = (a * a).mean(1, keepdims=True)
        return h, a, v, 1 / np.sqrt(v + 1e-3)

    h, a, v, s = forward(X)
    h_r, a_r, v_r, s_r = forward(R)
    g_y = gamma * W2                                  # d out / d (a · s), per feature
    m_a = g_y * (s + s_r) / 2                         # product rule: a's factor
    m_s = (g_y * (a + a_r) / 2).sum(1, keepdims=True)  # … and s's (broadcast over features)
    m_v = m_s * (s - s_r) / (v - v_r)                 # secant of 1/sqrt(v + eps)
    m_a = m_a + m_v / width * (a + a_r)               # v = mean(a · a): both factors
    m_h = m_a - m_a.mean(1, keepdims=True) if kind == "LayerNormalization" else m_a
    m_x = (m_h @ W1.T).reshape(X.shape)
    # seqexplain reports a position's contribution at its observed base
    expected = ((X - R) * m_x).sum(-1, keepdims=True) * X
    scale = np.abs(expected).sum((1, 2)).max()
    assert np.abs(got - expected).max() <= 1e-5 * scale
    y = np.asarray(model(X), np.float64)[:, 0] - np.asarray(model(R), np.float64)[:, 0]
    assert np.allclose(expected.sum((1, 2)), y, atol=1e-5 * np.abs(y).max())  # complete
