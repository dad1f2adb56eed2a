"""Tests for seqexplain.attribution.

Correctness is checked against values computed independently:

- tangermeme 1.6.0 (PyTorch) on the two reference CNNs of ``tests/data/reference`` — logits,
  gradient, DeepSHAP with shared and per-sequence references (observed and hypothetical), ISM;
- shap's own DeepExplainer on the same model and references;
- brute-force re-prediction for ISM;
- completeness (attributions sum to the output difference) on a toy model per rule (and every
  method on every toy model in test_method_matrix.py).
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
from helpers import REL, assert_close, batch_scale, contribution_scale, data_file
from keras import layers
from toy_models import (TOY_MODELS, float64_copy, load_reference, random_onehot, reference_model,
                        toy_model)

import seqexplain.attribution as attribution
from seqexplain.attribution import (attribute, correct_gradient, deep_shap, deeplift,
                                    explained_model, grad_input, integrated_gradients, ism,
                                    logit_model, saliency, shap_explainer)
from seqexplain.attribution import engine
from seqexplain.errors import SeqexplainError


def output_difference(model, X, refs, target=0, output="logit"):
    """``(f(x) - mean f(r), outputs)`` for per-sequence references (n, r, L, C) or shared
    (r, L, C); ``outputs`` holds every f(x) and f(r), whose largest magnitude is the scale
    float32 rounding acts on."""
    m = explained_model(model, output)
    y = np.asarray(m(X))[:, target].astype(np.float64)
    if refs.ndim == 3:
        yr = np.asarray(m(refs))[:, target].astype(np.float64)
        return y - yr.mean(), np.concatenate([y, yr])
    yr = np.asarray(m(refs.reshape(-1, *X.shape[1:])))[:, target].reshape(refs.shape[:2])
    yr = yr.astype(np.float64)
    return y - yr.mean(axis=1), np.concatenate([y, yr.ravel()])


def assert_complete(delta, attributions, outputs, what=""):
    """Completeness to float32 rounding: |delta| ≤ REL × the batch scale (largest |output|
    and largest per-sequence sum of |contributions|)."""
    scale = batch_scale(outputs, contribution_scale(attributions))
    assert_close(delta, 0.0, scale, what=f"completeness {what}".strip())


# -- tangermeme reference values -------------------------------------------------------------

@pytest.fixture(scope="module", params=["maxpool", "avgpool"])
def reference(request):
    path = data_file("reference", f"tangermeme_{request.param}.npz")
    arch, data = load_reference(path)
    return reference_model(path), data, arch["target"]


def logit_scale(data) -> float:
    """The output scale of a reference batch: what float32 rounding acts on."""
    return batch_scale(data["logits"])


def test_reference_model_reproduces_logits(reference):
    model, data, _ = reference
    assert_close(np.asarray(model(data["onehot"])), data["logits"], logit_scale(data),
                 what="logits")


def test_reference_gradient(reference):
    model, data, target = reference
    scale = logit_scale(data)  # the input is one-hot: gradients are in output units
    raw = saliency(model, data["onehot"], target=target, correct=False)
    assert_close(raw, data["gradient"], scale, what="gradient")
    corrected = saliency(model, data["onehot"], target=target)
    expected = data["gradient"] - data["gradient"].mean(axis=-1, keepdims=True)
    assert_close(corrected, expected, scale, what="corrected gradient")


@pytest.mark.parametrize("kind", ["shared", "perseq"])
def test_reference_deepshap(reference, kind):
    model, data, target = reference
    X, refs = data["onehot"], data[f"references_{kind}"]
    observed, delta = deep_shap(model, X, target=target, references=refs, return_delta=True)
    hypothetical = deep_shap(model, X, target=target, references=refs, hypothetical=True)
    difference, outputs = output_difference(model, X, refs, target)
    scale = batch_scale(outputs, contribution_scale(observed))
    assert_close(observed, data[f"deepshap_{kind}"], scale, what="observed")
    assert_close(hypothetical, data[f"deepshap_{kind}_hypothetical"], scale, what="hypothetical")
    np.testing.assert_array_equal(observed, hypothetical * X)
    assert_complete(delta, observed, outputs)
    assert_close(observed.sum(axis=(1, 2)), difference, scale, what="sum")


def test_reference_ism(reference):
    model, data, target = reference
    X = data["onehot"]
    scale = logit_scale(data)  # ISM values are differences of logits
    centred = ism(model, X, target=target, center=True)
    assert_close(centred, data["ism"], scale, what="centred ISM")
    raw = ism(model, X, target=target)
    assert np.all(raw[X == 1] == 0)  # the observed base is no substitution
    assert_close(raw - raw.mean(axis=-1, keepdims=True), centred, scale, rel=1e-6,
                 what="centring")


# -- shap's DeepExplainer --------------------------------------------------------------------

@pytest.mark.parametrize("name", ["maxpool", "avgpool"])
def test_native_deepshap_equals_shap_deep_explainer(name):
    path = data_file("reference", f"tangermeme_{name}.npz")
    _, data = load_reference(path)
    # shap has no max-pool rule for GlobalMaxPooling1D's reduce_max: same model, pooling form
    model = reference_model(path, global_pool_as_pool=True)
    X = data["onehot"][:6]
    shared = data["references_shared"]
    scale = logit_scale(data)
    ours = deep_shap(model, X, references=shared)
    raw, delta = shap_explainer(model, X, references=shared, project=False, return_delta=True)
    assert_close(delta, 0.0, scale, what="shap's completeness")
    theirs = raw.sum(axis=-1, keepdims=True) * X  # what project=True (the default) returns
    assert_close(ours, theirs, scale, what="shared references")
    # per-sequence references
    perseq = data["references_perseq"][:3]
    assert_close(deep_shap(model, X[:3], references=perseq),
                 shap_explainer(model, X[:3], references=perseq), scale, what="per-sequence")


def test_shap_deep_falls_back_to_gradient_explainer():
    model = toy_model("global_max")  # GlobalMaxPooling1D: DeepExplainer raises
    X = random_onehot(2, 40, seed=3)
    with pytest.warns(RuntimeWarning, match="GradientExplainer"):
        values = shap_explainer(model, X, references="zero", warning_threshold=None)
    assert values.shape == X.shape and np.isfinite(values).all()


# -- ISM -------------------------------------------------------------------------------------

def test_ism_equals_brute_force_prediction():
    model = toy_model("add_concat")
    X = random_onehot(3, 40, seed=5)
    X[1, 7] = 0.0  # an N row: every channel is a substitution
    logits = logit_model(model)
    # every substitution written out one by one, then re-predicted
    mutants, where = [], []
    for i in range(len(X)):
        for p in range(X.shape[1]):
            for c in range(X.shape[2]):
                if X[i, p, c] != 1:
                    mutant = X[i].copy()
                    mutant[p] = 0
                    mutant[p, c] = 1
                    mutants.append(mutant)
                    where.append((i, p, c))
    y = np.asarray(logits(np.stack(mutants)))[:, 0]
    wild = np.asarray(logits(X))[:, 0]
    expected = np.zeros_like(X)
    for (i, p, c), value in zip(where, y):
        expected[i, p, c] = value - wild[i]
    scale = batch_scale(y, wild)
    for batch_size in (1024, 7):
        assert_close(ism(model, X, batch_size=batch_size), expected, scale,
                     what=f"batch_size={batch_size}")
    assert np.all(ism(model, X)[1, 7] != 0)


def test_ism_prob_output():
    model = toy_model("relu")
    X = random_onehot(2, 40, seed=6)
    scores = ism(model, X, output="prob")
    p = np.asarray(model(X))[:, 0]
    i, pos, c = 1, 12, int(np.argmin(X[1, 12]))
    mutant = X[i:i + 1].copy()
    mutant[0, pos] = 0
    mutant[0, pos, c] = 1
    assert_close(scores[i, pos, c], float(model(mutant)[0, 0]) - p[i], batch_scale(p))


# -- completeness on toy models ----------------------------------------------------------------

@pytest.mark.parametrize("kind", TOY_MODELS)
def test_deepshap_float32_matches_float64_oracle(kind):
    """Per position, not only in sum: float32 DeepSHAP is within 1e-5 of the largest
    attribution of the same DeepSHAP computed end to end in float64 (same weights, float64
    inputs, every layer in float64). Secants of saturating activations computed in float32
    were 1.6e-4 away (sigmoid) before they were evaluated in float64."""
    model = toy_model(kind)
    oracle = float64_copy(model)
    target = 2 if kind == "multi_output" else 0
    X = random_onehot(8, 40, seed=1)
    refs = np.stack([random_onehot(10, 40, seed=100 + i) for i in range(len(X))])
    hyp32 = deep_shap(model, X, target=target, references=refs, hypothetical=True)
    hyp64, delta64 = deep_shap(oracle, X, target=target, references=refs, hypothetical=True,
                               return_delta=True)
    assert hyp32.dtype == np.float32 and hyp64.dtype == np.float64
    outputs = output_difference(oracle, X, refs, target)[1]
    assert_complete(delta64, hyp64 * X, outputs)
    assert np.abs(delta64).max() <= 1e-12 * batch_scale(outputs)  # truly float64 end to end
    assert_close(hyp32, hyp64, batch_scale(hyp64), what="float32 vs float64 hypothetical")


@pytest.mark.parametrize("kind", ["tanh", "exponential"])
def test_completeness_check_catches_a_rule_error(kind, monkeypatch):
    """The batch-scaled tolerance still sees a wrong rule: the plain gradient f'(x) in place of
    the rescale multiplier breaks completeness by far more than REL × the batch scale."""
    monkeypatch.setattr(engine, "_rescale_multiplier",
                        lambda x_in, x_out, fprime, r_in, r_out, g: g * fprime)
    monkeypatch.setattr(engine, "_wide_rescale_multiplier",
                        lambda x_in, fprime, r_in, g, wide_f: g * fprime)
    model = toy_model(kind)
    X = random_onehot(5, 40, seed=1)
    refs = np.stack([random_onehot(3, 40, seed=10 + i) for i in range(len(X))])
    with pytest.warns(RuntimeWarning):
        observed, delta = deep_shap(model, X, references=refs, return_delta=True)
    outputs = output_difference(model, X, refs)[1]
    with pytest.raises(AssertionError, match="completeness"):
        assert_complete(delta, observed, outputs)
    assert np.abs(delta).max() > 10 * REL * batch_scale(outputs, contribution_scale(observed))


@pytest.mark.parametrize("kind", ["sigmoid", "batchnorm_dilated", "add_concat"])
def test_deeplift_completeness_logit_and_prob(kind):
    model = toy_model(kind)
    X = random_onehot(4, 40, seed=2)
    for output in ("logit", "prob"):
        attr, delta = deeplift(model, X, output=output, return_delta=True)
        uniform = np.full((1, 40, 4), 0.25, np.float32)
        difference, outputs = output_difference(model, X, uniform, output=output)
        assert_complete(delta, attr, outputs, output)
        assert_complete(attr.sum(axis=(1, 2)) - difference, attr, outputs, f"{output} sum")


def test_deeplift_is_deepshap_with_one_reference():
    model = toy_model("maxpool")
    X = random_onehot(4, 40, seed=3)
    ref = random_onehot(1, 40, seed=4)[0]
    one = deeplift(model, X, reference=ref)
    scale = batch_scale(contribution_scale(one))
    assert_close(one, deep_shap(model, X, references=ref[None]), scale, rel=1e-6)
    per_seq = random_onehot(4, 40, seed=5)
    assert_close(deeplift(model, X, reference=per_seq, hypothetical=True),
                 deep_shap(model, X, references=per_seq[:, None], hypothetical=True), scale,
                 rel=1e-6)


@pytest.mark.parametrize("kind", ["maxpool", "global_max"])
def test_fast_maxpool_rule_equals_routed_rule(kind, monkeypatch):
    """The fused kernel for tiling windows gives what routing through the pooling op's own
    gradient (the general path) gives."""
    X = random_onehot(4, 40, seed=7)
    refs = np.stack([random_onehot(3, 40, seed=20 + i) for i in range(len(X))])
    refs[:, 0, :20] = X[:, :20]  # equal inputs exercise the |x - r| < 1e-7 branch
    fast = deep_shap(toy_model(kind), X, references=refs, hypothetical=True)
    monkeypatch.setattr(engine, "_tiling_window", lambda layer, shape: None)
    routed = deep_shap(toy_model(kind), X, references=refs, hypothetical=True)
    assert_close(fast, routed, batch_scale(contribution_scale(fast)))


@pytest.mark.parametrize("length, window", [(23, 4), (24, 4), (23, 23)])
def test_maxpool_multiplier_forms_agree_bit_for_bit(length, window):
    """The fused form (XLA), the form for running without XLA and routing through the pooling
    op's gradient give the same multipliers, bit for bit: with ties inside windows (the first
    maximum takes the gradient, as the pooling op's own gradient does), inputs equal to their
    reference's (the |x - r| < 1e-7 branch), a tail past the last whole window, and global
    pooling (window = length)."""
    import tensorflow as tf

    rng = np.random.default_rng(3)
    b, n_refs, n_f = 3, 5, 6
    # ReLU-like activations on a coarse grid: many exact ties and zeros
    x_in = np.maximum(rng.integers(-2, 4, (b, 1, length, n_f)), 0).astype(np.float32)
    r_in = np.maximum(rng.integers(-2, 4, (b, n_refs, length, n_f)), 0).astype(np.float32)
    r_in[:, 0] = x_in[:, 0]  # one reference equal to its sequence everywhere
    r_in += (rng.random(r_in.shape) < 0.3) * 0.25  # and the rest partly off the grid
    n_win = length // window

    def pool(a):
        rows = tf.reshape(a, (-1, length, n_f))
        return tf.reshape(tf.nn.max_pool1d(rows, window, window, "VALID"),
                          (a.shape[0], a.shape[1], n_win, n_f))

    x_out, r_out = pool(x_in), pool(r_in)
    g = tf.constant(rng.normal(size=(b, n_refs, n_win, n_f)), tf.float32)
    args = (tf.constant(x_in), tf.constant(r_in), x_out, r_out, g)
    fused = engine._tiled_maxpool_multiplier(*args, window).numpy()
    pooled = engine._pooled_maxpool_multiplier(*args, window).numpy()
    routed = engine._routed_maxpool_multiplier(
        *args, lambda t: tf.nn.max_pool1d(t, window, window, "VALID")).numpy()
    assert fused.shape == (b, n_refs, length, n_f)
    assert np.array_equal(fused, pooled) and np.array_equal(fused, routed)
    assert np.count_nonzero(fused[:, :, n_win * window:]) == 0  # the tail gets no gradient
    # a window's multipliers sum to its share of the secant: g · (x_out - r_out) where x ≠ r
    windows = (fused * (x_in - r_in))[:, :, :n_win * window].reshape(b, n_refs, n_win, window, n_f)
    differ = np.abs(x_out.numpy() - r_out.numpy()) > 0
    np.testing.assert_allclose(windows.sum(3)[differ],
                               (g.numpy() * (x_out.numpy() - r_out.numpy()))[differ],
                               rtol=1e-6, atol=1e-6 * np.abs(g.numpy()).max())


def test_nested_sequential_in_functional():
    inner = keras.Sequential([keras.Input((36, 6)), layers.Conv1D(4, 3, activation="elu"),
                              layers.MaxPooling1D(2)], name="block")
    inp = keras.Input((40, 4))
    x = layers.Conv1D(6, 5, name="conv0")(inp)
    x = layers.Activation("relu")(x)
    x = inner(x)
    x = layers.Flatten()(x)
    model = keras.Model(inp, layers.Dense(1, name="logits")(x))
    X = random_onehot(3, 40, seed=8)
    refs = random_onehot(4, 40, seed=9)
    attr, delta = deep_shap(model, X, references=refs, return_delta=True)
    assert_complete(delta, attr, output_difference(model, X, refs)[1])
    assert np.abs(attr).max() > 0


def test_seqexplain_built_model():
    from seqexplain import models
    config = models.ModelSettings.from_dict({
        "n_conv_blocks": 2, "filters": 6, "kernel_sizes": [7, 3], "pool_sizes": [2, 1],
        "dense_units": [8], "first_activation": "exponential"})
    model = models.build_model(config, 40, 4, "binary", compile=False)
    X = random_onehot(4, 40, seed=10)
    attr, delta = deep_shap(model, X, n_references=5, random_state=0, return_delta=True)
    assert_complete(delta, attr, np.asarray(model(X)))
    assert attr.shape == X.shape


def test_integrated_gradients_completeness():
    """Within 1 % at 50 steps: per sequence for smooth models; for ReLU/max-pool models, whose
    gradient jumps along the path, over the whole set (sum |delta| / sum |f(x) - f(0)|)."""
    X = random_onehot(20, 40, seed=11)
    zero = np.zeros((1, 40, 4), np.float32)
    for kind in ("softplus", "sigmoid", "gelu", "relu", "maxpool", "add_concat"):
        model = toy_model(kind)
        attr, delta = integrated_gradients(model, X, return_delta=True)
        difference, outputs = output_difference(model, X, zero)
        assert_complete(attr.sum(axis=(1, 2)) + delta - difference, attr, outputs, kind)
        if kind in ("softplus", "sigmoid"):  # per sequence, against the batch scale
            assert np.abs(delta).max() <= 0.01 * batch_scale(difference), kind
        assert np.abs(delta).sum() <= 0.01 * np.abs(difference).sum(), kind
    # baselines: uniform, one array for all, one per sequence
    model = toy_model("tanh")
    X = X[:4]
    for baseline in ("uniform", np.full((40, 4), 0.25, np.float32),
                     np.full((4, 40, 4), 0.25, np.float32)):
        attr, delta = integrated_gradients(model, X, baseline=baseline, return_delta=True)
        difference, _ = output_difference(model, X, np.full((1, 40, 4), 0.25, np.float32))
        assert np.abs(delta).sum() <= 0.01 * np.abs(difference).sum()
    with pytest.raises(SeqexplainError, match="baseline"):
        integrated_gradients(model, X, baseline=np.zeros((3, 40, 4)))


def test_completeness_warning_names_sequences():
    model = toy_model("relu")
    X = random_onehot(3, 40, seed=12)
    with pytest.warns(RuntimeWarning, match=r"integrated_gradients: .*sequences? [0-9]"):
        integrated_gradients(model, X, steps=1, warning_threshold=1e-9)
    with pytest.warns(RuntimeWarning, match=r"2 sequences .* sequences 1, 2"):
        attribution.methods._warn_deltas("deep_shap", np.array([0.0, 0.5, -1.0]),
                                         (np.ones(3), np.zeros(3)), 1e-3)
    # the threshold scales with the batch's largest output, not one sequence's difference
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        attribution.methods._warn_deltas("deep_shap", np.array([0.05, 0.0]),
                                         (np.array([0.01, 100.0]), np.zeros(2)), 1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        deep_shap(model, X, n_references=3, random_state=0)  # no warning when complete


# -- gradients, logits, targets ------------------------------------------------------------------

def test_gradient_correction_is_a_subtraction():
    model = toy_model("elu")
    X = random_onehot(3, 40, seed=13)
    raw = saliency(model, X, correct=False)
    corrected = saliency(model, X)
    scale = batch_scale(raw)
    assert_close(corrected, raw - raw.mean(axis=-1, keepdims=True), scale, rel=1e-6)
    assert_close(corrected.sum(axis=-1), 0, scale, rel=1e-6)
    g = np.random.default_rng(0).normal(size=(2, 5, 4)).astype(np.float32)
    np.testing.assert_allclose(correct_gradient(g), g - g.mean(-1, keepdims=True))
    assert_close(grad_input(model, X), raw * X, scale, rel=1e-6)
    assert_close(grad_input(model, X, correct=True), corrected * X, scale, rel=1e-6)


def test_logit_model_finds_the_pre_activation():
    model = toy_model("relu")  # ... Dense "logits" → Activation("sigmoid") "output"
    X = random_onehot(3, 40, seed=14)
    logits = keras.Model(model.inputs[0], model.get_layer("logits").output)
    assert_close(np.asarray(logit_model(model)(X)), np.asarray(logits(X)),
                 batch_scale(logits(X)), what="logits")
    assert logit_model(model) is logit_model(model)  # cached
    # prob = sigmoid(logit): the gradients differ by sigmoid'
    z = np.asarray(logits(X))[:, 0]
    s = 1 / (1 + np.exp(-z))
    by_chain_rule = saliency(model, X, correct=False) * (s * (1 - s))[:, None, None]
    assert_close(saliency(model, X, output="prob", correct=False), by_chain_rule,
                 batch_scale(by_chain_rule), what="d prob / d x")
    # a built-in softmax of the final Dense layer
    soft = toy_model("dense_activations")
    dense = soft.get_layer("dense_out")
    features = keras.Model(soft.inputs[0], dense.input)(X)
    kernel, bias = dense.get_weights()
    expected = np.asarray(features) @ kernel + bias
    assert_close(np.asarray(logit_model(soft)(X)), expected, batch_scale(expected))
    dense.set_weights([2 * kernel, bias])  # the logit model shares the weights
    expected = np.asarray(features) @ (2 * kernel) + bias
    assert_close(np.asarray(logit_model(soft)(X)), expected, batch_scale(expected))
    # a linear output is already the logit
    linear = keras.Sequential([keras.Input((40, 4)), layers.Flatten(), layers.Dense(2)])
    assert logit_model(linear) is linear
    with pytest.raises(SeqexplainError, match="output"):
        explained_model(model, output="probability")


def test_softmax_output_needs_logit_for_deeplift():
    model = toy_model("dense_activations")
    X = random_onehot(2, 40, seed=15)
    attr, delta = deep_shap(model, X, target=1, n_references=3, random_state=0,
                            return_delta=True)
    assert_complete(delta, attr, np.asarray(logit_model(model)(X)))
    with pytest.raises(SeqexplainError, match=r"dense_out.*softmax.*output='logit'"):
        deep_shap(model, X, output="prob", n_references=3)
    assert saliency(model, X, output="prob").shape == X.shape  # gradients are fine


def test_each_target_explains_its_own_output_and_bad_targets_are_refused():
    model = toy_model("multi_output")
    X = random_onehot(3, 40, seed=16)
    a0 = deep_shap(model, X, target=0, n_references=3, random_state=0)
    a2 = deep_shap(model, X, target=2, n_references=3, random_state=0)
    assert not np.allclose(a0, a2)
    g = saliency(model, X, target=2, correct=False)
    logits = logit_model(model)
    x = keras.ops.convert_to_tensor(X)
    import tensorflow as tf
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = logits(x)[:, 2]
    assert_close(g, tape.gradient(y, x).numpy(), batch_scale(y), what="gradient")
    for bad in (3, -1, "a", 1.0, True):
        with pytest.raises(SeqexplainError, match="target"):
            saliency(model, X, target=bad)


# -- unsupported layers ---------------------------------------------------------------------------

def _model_with(layer_fn, name):
    inp = keras.Input((40, 4))
    x = layers.Conv1D(4, 5, name="conv")(inp)
    x = layer_fn(x)
    x = layers.Flatten()(x)
    return keras.Model(inp, layers.Dense(1)(x), name=name)


@pytest.mark.parametrize("make, layer_name", [
    (lambda x: layers.GroupNormalization(groups=2, name="norm")(x), "norm"),
    (lambda x: layers.Lambda(lambda t: t * t, name="square")(x), "square"),
    (lambda x: layers.Activation("log_softmax", name="attention")(x), "attention"),
    (lambda x: layers.Conv1D(4, 3, activation="softmax", name="softconv")(x), "softconv"),
    (lambda x: layers.Activation(lambda t: t * t, name="custom")(x), "custom"),
])
def test_unsupported_layer_is_a_clear_error(make, layer_name):
    model = _model_with(make, "unsupported")
    X = random_onehot(2, 40)
    with pytest.raises(SeqexplainError, match=rf"layer '{layer_name}'"):
        deep_shap(model, X, n_references=2)
    with pytest.raises(SeqexplainError, match=rf"layer '{layer_name}'"):
        deeplift(model, X)
    assert saliency(model, X).shape == X.shape  # gradient methods still work


def test_subclassed_model_is_a_clear_error():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv = layers.Conv1D(2, 3)
            self.out = layers.Dense(1)

        def call(self, x):
            return self.out(layers.Flatten()(self.conv(x)))

    model = Net()
    X = random_onehot(2, 40)
    model(X)
    with pytest.raises(SeqexplainError, match="subclassed.*output='prob'"):
        saliency(model, X)  # its logit cannot be found
    assert saliency(model, X, output="prob").shape == X.shape
    assert ism(model, X, output="prob").shape == X.shape
    with pytest.raises(SeqexplainError, match="subclassed"):
        deep_shap(model, X, output="prob", n_references=2)


def test_explained_models_can_be_freed():
    """Compiled functions are cached on the model, not in a global table."""
    import gc
    import weakref

    model = toy_model("relu")
    X = random_onehot(2, 40)
    deep_shap(model, X, n_references=2, random_state=0)
    saliency(model, X)
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


# -- references, seeds, dispatcher, input checks --------------------------------------------------

def test_deepshap_references_follow_the_seed_not_the_batches():
    model = toy_model("relu")
    X = random_onehot(5, 40, seed=17)
    a = deep_shap(model, X, random_state=1, n_references=4)
    scale = batch_scale(contribution_scale(a))
    # the same references whatever the batches (float sums may differ in the last bit)
    assert_close(a, deep_shap(model, X, random_state=1, n_references=4, batch_size=5), scale,
                 rel=1e-6)
    from_generator = deep_shap(model, X, random_state=np.random.default_rng(1), n_references=4)
    assert from_generator.shape == X.shape  # a Generator seeds the shuffles too
    assert not np.allclose(a, deep_shap(model, X, random_state=2, n_references=4))
    zero = deep_shap(model, X, references="zero")
    assert_close(zero, deeplift(model, X, reference="zero"), scale, rel=1e-6)
    assert_close(deep_shap(model, X, references="uniform"), deeplift(model, X), scale, rel=1e-6)

    def shuffled(x, n, random_state):
        rng = np.random.default_rng(random_state)
        return np.stack([[xi[rng.permutation(len(xi))] for _ in range(n)] for xi in x])

    attr, delta = deep_shap(model, X, references=shuffled, n_references=3, random_state=0,
                            return_delta=True)
    assert_complete(delta, attr, np.asarray(logit_model(model)(X)))
    for bad, match in [("zeros", "references"), (np.zeros((4, 2, 40, 4)), "references"),
                       (np.zeros((2, 39, 4)), "references")]:
        with pytest.raises(SeqexplainError, match=match):
            deep_shap(model, X, references=bad)
    with pytest.raises(SeqexplainError, match="n_references"):
        deep_shap(model, X, n_references=0)
    with pytest.raises(SeqexplainError, match="random_state"):
        deep_shap(model, X, random_state="seed")


def test_n_rows_are_accepted():
    model = toy_model("maxpool")
    X = random_onehot(2, 40, seed=18)
    X[0, 5:8] = 0.0
    attr, delta = deep_shap(model, X, n_references=3, random_state=0, return_delta=True)
    assert_complete(delta, attr, np.asarray(logit_model(model)(X)))
    assert np.all(attr[0, 5:8] == 0)  # hypothetical × X: nothing observed at N
    hyp = deep_shap(model, X, n_references=3, random_state=0, hypothetical=True)
    assert np.any(hyp[0, 5:8] != 0)


def test_attribute_dispatches_by_name():
    model = toy_model("relu")
    X = random_onehot(3, 40, seed=19)
    np.testing.assert_array_equal(attribute(model, X, random_state=0, n_references=3),
                                  deep_shap(model, X, random_state=0, n_references=3))
    np.testing.assert_array_equal(attribute(model, X, "gradient"), saliency(model, X))
    np.testing.assert_array_equal(attribute(model, X, method="ISM", center=True),
                                  ism(model, X, center=True))
    assert tuple(attribution.METHODS) == ("saliency", "grad_input", "integrated_gradients",
                                          "deeplift", "deepshap", "ism", "shap")
    for alias, name in [("deep_shap", "deepshap"), ("shap_deep", "shap"), ("ig",
                        "integrated_gradients"), ("gradient_x_input", "grad_input")]:
        assert attribution.resolve_method(alias).name == name
    with pytest.raises(SeqexplainError, match="did you mean 'deepshap'"):
        attribute(model, X, method="deepshp")
    with pytest.raises(SeqexplainError, match="no option 'steps'"):
        attribute(model, X, method="saliency", steps=3)


def test_registry_scores_follow_the_definitions():
    """The table's observed/hypothetical arrays are what each method means: saliency the
    corrected gradient, gradient × input the raw gradient times the input, ISM centred."""
    from seqexplain.attribution.registry import MethodSettings, compute

    model = toy_model("elu")
    X = random_onehot(3, 40, seed=21)
    raw = saliency(model, X, correct=False)
    scale = batch_scale(raw)
    sal = compute(model, X, "saliency")
    assert_close(sal.hypothetical, raw - raw.mean(-1, keepdims=True), scale, rel=1e-6)
    assert_close(sal.observed, sal.hypothetical * X, scale, rel=1e-6)
    gi = compute(model, X, "grad_input")
    assert_close(gi.observed, grad_input(model, X), scale, rel=1e-6)
    assert_close(gi.observed, raw * X, scale, rel=1e-6)
    assert np.abs(gi.observed - sal.observed).max() > 1e-3 * scale  # the two differ
    assert_close(compute(model, X, "saliency", MethodSettings(correct=False)).hypothetical, raw, scale,
                 rel=1e-6)
    centred = ism(model, X, center=True)
    np.testing.assert_array_equal(compute(model, X, "ism").hypothetical, centred)
    deep = compute(model, X, "deepshap", MethodSettings(n_references=3, seed=0))
    assert deep.delta.shape == (3,)
    assert_close(deep.observed, deep_shap(model, X, n_references=3, random_state=0),
                 batch_scale(contribution_scale(deep.observed)), rel=1e-6)
    assert compute(model, X, "saliency").delta is None


@pytest.mark.parametrize("bad, match", [
    (np.zeros((40, 4)), "shape"),
    (np.zeros((0, 40, 4)), "no sequences"),
    (np.full((1, 40, 4), np.nan), "NaN"),
    (np.full((1, 40, 4), 2.0), "one-hot"),
    (np.full((1, 40, 4), 0.5), "one-hot"),
    (np.zeros((1, 39, 4)), r"takes \(n, 40, 4\)"),
    (np.zeros((1, 40, 5)), r"takes \(n, 40, 4\)"),
    ("ACJT", "invalid character 'J'"),  # strings are encoded (a wrong letter is refused)
])
def test_input_validation(bad, match):
    model = toy_model("relu")
    for method in ("saliency", "deepshap", "ism"):
        with pytest.raises(SeqexplainError, match=match):
            attribute(model, bad, method=method)


def test_batch_size_validation():
    model = toy_model("relu")
    with pytest.raises(SeqexplainError, match="batch_size"):
        saliency(model, random_onehot(1, 40), batch_size=0)
