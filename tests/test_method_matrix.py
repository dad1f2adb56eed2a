"""Every attribution method of the method table on every toy model, each checked by the
property that defines it (not against itself):

- saliency / grad_input: the gradient equals central finite differences of the float64 copy
  of the model along random directions; saliency is it corrected, grad_input it × input;
- integrated_gradients: completeness within the midpoint rule's error at 50 steps;
- deeplift / deepshap: completeness to float32 rounding of the batch scale;
- ism: every substitution re-predicted one by one;
- shap (shap's DeepExplainer): complete, or it says it is not (a RuntimeWarning) or refuses
  the model with a one-line SeqexplainError — never silently wrong values or a traceback.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import REL, assert_close, batch_scale, contribution_scale
from toy_models import TOY_MODELS, float64_copy, random_onehot, toy_model

from seqexplain.attribution import logit_model
from seqexplain.attribution.registry import METHODS, MethodSettings, compute
from seqexplain.errors import SeqexplainError

LENGTH = 40
X = random_onehot(4, LENGTH, seed=31)
REFS = np.stack([random_onehot(3, LENGTH, seed=40 + i) for i in range(len(X))])


def target_of(kind: str) -> int:
    return 2 if kind == "multi_output" else 0


@pytest.fixture(scope="module", params=TOY_MODELS)
def toy(request):
    model = toy_model(request.param)
    return request.param, model, logit_model(model)


def outputs(logits, *arrays, target=0) -> np.ndarray:
    """The explained output of every row of ``arrays`` (float64)."""
    return np.concatenate([np.asarray(logits(a.reshape(-1, LENGTH, 4)), np.float64)[:, target]
                           for a in arrays])


def test_the_matrix_covers_every_method():
    tested = {"saliency", "grad_input", "integrated_gradients", "deeplift", "deepshap", "ism",
              "shap"}
    assert set(METHODS) == tested


def test_gradients_equal_finite_differences(toy):
    kind, model, logits = toy
    target = target_of(kind)
    options = MethodSettings(target=target, correct=False)
    raw = compute(model, X, "saliency", options).hypothetical
    # directional derivatives of the float64 model along random directions, central
    # differences with a step far below any kink's distance on these inputs
    f64 = logit_model(float64_copy(model))
    rng = np.random.default_rng(5)
    v = rng.normal(size=X.shape)
    h = 1e-5
    plus = np.asarray(f64(X + h * v), np.float64)[:, target]
    minus = np.asarray(f64(X - h * v), np.float64)[:, target]
    numeric = (plus - minus) / (2 * h)
    analytic = (raw.astype(np.float64) * v).sum(axis=(1, 2))
    scale = batch_scale(np.abs(raw).sum(axis=(1, 2)) * np.abs(v).max())
    assert_close(analytic, numeric, scale, rel=1e-4, what=f"{kind} gradient · v")
    saliency = compute(model, X, "saliency", MethodSettings(target=target))
    assert_close(saliency.hypothetical, raw - raw.mean(-1, keepdims=True), batch_scale(raw),
                 rel=1e-6, what="correction")
    gi = compute(model, X, "grad_input", MethodSettings(target=target))
    assert_close(gi.observed, raw * X, batch_scale(raw), rel=1e-6, what="gradient × input")


def test_integrated_gradients_completeness(toy):
    """delta is what the sum misses, and it vanishes as the path integral is refined (the
    midpoint rule's error, about 1/steps where ReLU/max-pool kinks lie on the path)."""
    kind, model, logits = toy
    target = target_of(kind)
    difference = outputs(logits, X, target=target) - outputs(logits, np.zeros_like(X),
                                                             target=target)
    errors = []
    for steps in (50, 256):
        scores = compute(model, X, "integrated_gradients", MethodSettings(target=target,
                                                                   ig_steps=steps))
        assert_close(scores.observed.sum(axis=(1, 2)) + scores.delta, difference,
                     batch_scale(difference, contribution_scale(scores.observed)),
                     what="delta")
        errors.append(np.abs(scores.delta).sum() / np.abs(difference).sum())
    assert errors[0] <= 0.05 and errors[1] <= 0.01, (kind, errors)
    assert errors[1] <= errors[0] or errors[1] <= 1e-4, (kind, errors)


@pytest.mark.parametrize("method", ["deeplift", "deepshap"])
def test_deeplift_and_deepshap_completeness(toy, method):
    kind, model, logits = toy
    target = target_of(kind)
    options = MethodSettings(target=target, references=REFS, deeplift_reference="uniform")
    scores = compute(model, X, method, options)
    if method == "deepshap":
        refs = REFS
    else:
        refs = np.full((len(X), 1, LENGTH, 4), 0.25, np.float32)
    y_x = outputs(logits, X, target=target)
    y_r = outputs(logits, refs, target=target).reshape(len(X), -1)
    difference = y_x - y_r.mean(axis=1)
    scale = batch_scale(y_x, y_r, contribution_scale(scores.observed))
    assert_close(scores.delta, 0, scale, what=f"{method} delta")
    assert_close(scores.observed.sum(axis=(1, 2)), difference, scale, what=f"{method} sum")
    np.testing.assert_array_equal(scores.observed, scores.hypothetical * X)


def test_ism_is_every_substitution_repredicted(toy):
    kind, model, logits = toy
    target = target_of(kind)
    x = X[:2]
    scores = compute(model, x, "ism", MethodSettings(target=target))
    wild = outputs(logits, x, target=target)
    expected = np.zeros(x.shape)
    for i in range(len(x)):
        mutants = np.repeat(x[i:i + 1], LENGTH * 4, axis=0).reshape(LENGTH, 4, LENGTH, 4)
        for p in range(LENGTH):
            mutants[p, :, p] = np.eye(4)
        expected[i] = (outputs(logits, mutants, target=target).reshape(LENGTH, 4) - wild[i])
    expected -= expected.mean(axis=-1, keepdims=True)  # the table's ISM is centred
    assert_close(scores.hypothetical, expected, batch_scale(wild), what=f"{kind} ISM")


def test_shap_is_complete_or_says_it_is_not(toy):
    kind, model, logits = toy
    target = target_of(kind)
    options = MethodSettings(target=target, references=REFS[:2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            scores = compute(model, X[:2], "shap", options)
        except SeqexplainError as err:  # neither shap explainer handles the model
            assert "shap cannot explain model" in str(err) and "\n" not in str(err)
            return
    said = any(issubclass(w.category, RuntimeWarning) for w in caught)
    y_x = outputs(logits, X[:2], target=target)
    y_r = outputs(logits, REFS[:2], target=target).reshape(2, -1)
    scale = batch_scale(y_x, y_r, contribution_scale(scores.observed))
    complete = np.abs(scores.delta).max() <= REL * scale
    assert complete or said, f"{kind}: shap values off by {np.abs(scores.delta).max():.3g}"
