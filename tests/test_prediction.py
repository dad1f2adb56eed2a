"""sx.predict and the one loader: outputs checked against the models' maths in NumPy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import seqexplain as sx

keras = pytest.importorskip("keras")

ROOT = Path(__file__).resolve().parents[1]
L, C = 12, 4


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


@pytest.fixture(scope="module")
def classifier():
    """Flatten → Dense(3, sigmoid), weights set by hand: logits = X.flat @ W + b."""
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(L * C, 3)).astype(np.float32), np.float32([0.5, -1.0, 0.0])
    inp = keras.Input((L, C))
    out = keras.layers.Dense(3, activation="sigmoid")(keras.layers.Flatten()(inp))
    model = keras.Model(inp, out)
    model.layers[-1].set_weights([W, b])
    return model, W, b


@pytest.fixture(scope="module")
def two_heads():
    """A profile head Conv1D(2, kernel 1) (None, L, 2) and a counts head Dense(2)."""
    rng = np.random.default_rng(1)
    inp = keras.Input((L, C))
    profile = keras.layers.Conv1D(2, 1, name="profile")(inp)
    counts = keras.layers.Dense(2, name="counts")(keras.layers.Flatten()(inp))
    model = keras.Model(inp, [profile, counts])
    Wp, Wc = rng.normal(size=(1, C, 2)), rng.normal(size=(L * C, 2))
    model.get_layer("profile").set_weights([Wp.astype(np.float32), np.zeros(2, np.float32)])
    model.get_layer("counts").set_weights([Wc.astype(np.float32), np.zeros(2, np.float32)])
    return model, Wp[0], Wc


@pytest.fixture(scope="module")
def X():
    return np.eye(C, dtype=np.float32)[np.random.default_rng(2).integers(0, C, (5, L))]


def test_target_none_gives_every_column_and_a_target_its_column(classifier, X):
    model, W, b = classifier
    logits = X.reshape(5, -1) @ W + b
    tol = 1e-5 * np.abs(logits).max()
    out = sx.predict(model, X)
    assert out.shape == (5, 3)
    np.testing.assert_allclose(out, sigmoid(logits), atol=tol)
    np.testing.assert_allclose(sx.predict(model, X, target=2), sigmoid(logits[:, 2]), atol=tol)
    np.testing.assert_allclose(sx.predict(model, X, output="logit"), logits, atol=tol)
    np.testing.assert_allclose(sx.predict(model, X, target=1, output="logit"), logits[:, 1],
                               atol=tol)
    both = sx.predict(model, X, target=[2, 0], output="logit")
    np.testing.assert_allclose(both, logits[:, [2, 0]], atol=tol)
    assert sx.predict(model, X, target="all").shape == (5, 3)
    assert sx.predict(model, X, target=1, batch_size=2).shape == (5,)


def test_every_form_of_model_and_input_gives_the_same(classifier, X, tmp_path):
    model, _, _ = classifier
    path = tmp_path / "m.keras"
    model.save(path)
    expected = sx.predict(model, X)
    bundle = sx.load_model(model)
    assert isinstance(bundle, sx.ModelBundle) and bundle.alphabet is sx.DNA
    assert bundle.length == L and sx.load_model(bundle) is bundle
    for form in (path, str(path), sx.load_model(path), bundle):
        np.testing.assert_allclose(sx.predict(form, X), expected, atol=1e-6)
    strings = sx.decode(X)  # strings are encoded with the model's alphabet (DNA)
    np.testing.assert_allclose(sx.predict(model, strings), expected, atol=1e-6)
    np.testing.assert_allclose(sx.predict(model, strings[3]), expected[3:4], atol=1e-6)


def test_several_outputs_vector_columns_and_the_profile_scalar(two_heads, X):
    model, Wp, Wc = two_heads
    counts = X.reshape(5, -1) @ Wc
    p = X @ Wp  # (5, L, 2)
    w = np.exp(p - p.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)  # softmax over positions, per strand
    tol = 1e-5 * max(np.abs(counts).max(), np.abs(p).max() * L)
    np.testing.assert_allclose(sx.predict(model, X), counts, atol=tol)
    np.testing.assert_allclose(sx.predict(model, X, target="counts:1"), counts[:, 1], atol=tol)
    np.testing.assert_allclose(sx.predict(model, X, target="counts"), counts.sum(1), atol=tol)
    np.testing.assert_allclose(sx.predict(model, X, target="profile"),
                               (w * p).sum(axis=(1, 2)), atol=tol)
    np.testing.assert_allclose(sx.predict(model, X, target="profile[2:5]"),
                               p[:, 2:5].sum(axis=(1, 2)), atol=tol)


def test_the_model_folder_predicts_what_its_bundle_does():
    bundle = sx.load_model(ROOT / "models" / "ctcf")
    seqs = ["ACGT" * 50, "CCGCGCCCCCTGGTGG".center(200, "A")]
    X = bundle.encode(seqs).onehot
    out = sx.predict(ROOT / "models" / "ctcf", seqs)
    np.testing.assert_allclose(out, bundle.predict(X), atol=1e-6)
    np.testing.assert_array_equal(sx.predict(bundle, X, target="ctcf_peaks"), out[:, 0])


def test_one_trace_serves_every_batch_size(classifier, X):
    """Varying batches reuse one traced function (no recompilation per size), and the
    batching does not change the outputs."""
    from seqexplain.attribution.engine import model_cache

    model, W, b = classifier
    expected = sigmoid(X.reshape(5, -1) @ W + b)
    for n, batch_size in ((5, 256), (3, 256), (1, 256), (5, 2), (4, 3)):
        np.testing.assert_allclose(sx.predict(model, X[:n], batch_size=batch_size),
                                   expected[:n], atol=1e-6)
    assert model_cache(model)["sx.predict"].experimental_get_tracing_count() == 1
    assert sx.predict(model, X[:0]).shape == (0, 3)


@pytest.mark.parametrize("kwargs, message", [
    (dict(X=np.zeros((2, L + 1, C))), "the model takes (n, 12, 4)"),
    (dict(X=np.zeros((L, C))), "the model takes (n, 12, 4)"),
    (dict(X=["ACGJ"]), "invalid character 'J'"),
    (dict(X=3), "expected a one-hot array"),
    (dict(target=3), "target 3 is out of range"),
    (dict(target="nope"), "unknown target 'nope'"),
    (dict(output="odds"), "output='odds'"),
    (dict(batch_size=0), "batch_size=0"),
])
def test_bad_input_is_one_line(classifier, X, kwargs, message):
    model, _, _ = classifier
    kwargs = {"X": X, **kwargs}
    with pytest.raises(sx.SeqexplainError) as err:
        sx.predict(model, kwargs.pop("X"), **kwargs)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_loader_refuses_what_is_not_a_model(tmp_path):
    with pytest.raises(sx.SeqexplainError, match="expected a Keras model, a ModelBundle"):
        sx.load_model(42)
    with pytest.raises(sx.SeqexplainError, match="no such model folder or file"):
        sx.load_model(tmp_path / "none.keras")
    inp = keras.Input((None, 4))
    with pytest.raises(sx.SeqexplainError, match=r"expected one-hot \(None, length, channels\)"):
        sx.load_model(keras.Model(inp, keras.layers.GlobalMaxPooling1D()(inp)))
