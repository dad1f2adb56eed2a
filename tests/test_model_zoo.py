"""Models as they are published (``tests/model_zoo.py``: Keras 2 ``.h5`` files and a SavedModel
folder written by tf-keras), loaded by seqexplain and checked against tf-keras's own
predictions and gradients: saliency equals the gradient TensorFlow computes on the tf-keras
model, ISM equals a brute-force forward pass of every mutant through the tf-keras model,
DeepSHAP and integrated gradients are complete, and the notes and errors are one line.
ChromBPNet's bias-factorised model (nested models, a Lambda layer) is checked the same way."""

from __future__ import annotations

import logging

import numpy as np
import pytest

pytest.importorskip("tf_keras")
# tf-keras calls .h5 "legacy" when it writes one: that is the format tested here
pytestmark = pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")

import model_zoo as zoo  # noqa: E402
import tensorflow as tf  # noqa: E402

from seqexplain.attribution import methods as M  # noqa: E402
from seqexplain.bundle import load_model  # noqa: E402
from seqexplain.errors import SeqexplainError  # noqa: E402

FILES = {"deepstarr": "deepstarr.h5", "chrombpnet": "chrombpnet.h5", "basset": "basset.h5",
         "savedmodel": "deepstarr_savedmodel"}
#: (zoo model, target spec) explained, each checked against tf-keras
CASES = [("deepstarr", "Dense_Hk"), ("chrombpnet", "profile"), ("chrombpnet", "counts"),
         ("basset", 2), ("savedmodel", "Dense_Dev")]


@pytest.fixture(scope="module")
def zoo_files(tmp_path_factory):
    """Each zoo file written once: ``{name: (path, tf-keras model)}``."""
    folder = tmp_path_factory.mktemp("zoo")
    files = {name: zoo.write(name, folder) for name in FILES if name != "savedmodel"}
    # the DeepSTARR model once more, as a SavedModel folder
    files["savedmodel"] = zoo.write("savedmodel", folder, files["deepstarr"][1])
    return files


@pytest.fixture(scope="module")
def bundles(zoo_files):
    return {name: load_model(path) for name, (path, _) in zoo_files.items()}


def _X(name, n=3, seed=0):
    return zoo.random_onehot(n, zoo.LENGTH[name], seed)


def keras2_scalar(model, name, target, x, anchor=None):
    """The explained scalar (n,) computed on the tf-keras model with TensorFlow alone:
    ``anchor`` (default ``x``) gives the profile's softmax weights, held constant."""
    out = model(x, training=False)
    if name == "basset":  # the logit: the final Dense on the penultimate activations
        last = model.layers[-1]
        inner = type(model)(model.input, last.input)(x, training=False)
        kernel, bias = last.get_weights()
        return (tf.matmul(inner, kernel) + bias)[:, target]
    if name in ("deepstarr", "savedmodel"):
        return out[0 if target == "Dense_Dev" else 1][:, 0]
    profile, counts = out
    if target == "counts":
        return counts[:, 0]
    reference = profile if anchor is None else model(anchor, training=False)[0]
    w = tf.stop_gradient(tf.nn.softmax(reference, axis=1))
    if target == "profile":  # ChromBPNet's: mean-centred logits
        profile = profile - tf.reduce_mean(profile, axis=1, keepdims=True)
    return tf.reduce_sum(w * profile, axis=1)


def test_predictions_equal_tf_keras(zoo_files, bundles):
    for name, (_, model) in zoo_files.items():
        X = _X(name)
        expected = zoo.keras2_predict(model, X)
        vectors, profiles = bundles[name].predict_all(X)
        flat = np.concatenate([e for e in expected if e.shape[1] <= 5], axis=1)
        scale = np.abs(flat).max()
        assert np.abs(vectors - flat).max() <= 1e-6 * scale, name
        if name == "chrombpnet":
            profile = profiles["logits_profile_predictions"]
            assert profile.shape == (3, zoo.CHROMBPNET_PROFILE)
            assert np.abs(profile - expected[0]).max() <= 1e-6 * np.abs(expected[0]).max()


def test_outputs_and_targets_as_published(bundles):
    chrombpnet = bundles["chrombpnet"]
    profile, counts = chrombpnet.outputs
    assert (profile.name, profile.flat, profile.is_profile) == (
        "logits_profile_predictions", True, True)
    assert not counts.is_profile
    assert [t.name for t in chrombpnet.targets("profile,counts,logcount")] == [
        "logits_profile_predictions", "logcount_predictions"]
    assert chrombpnet.targets("profile")[0].centred
    assert not chrombpnet.targets("profile:uncentred")[0].centred
    assert [o.name for o in bundles["savedmodel"].outputs] == ["Dense_Dev", "Dense_Hk"]
    assert bundles["savedmodel"].length == zoo.LENGTH["savedmodel"]


def test_saliency_is_the_tf_keras_gradient(zoo_files, bundles):
    for name, target in CASES:
        model = zoo_files[name][1]
        X = _X(name)
        x = tf.constant(X)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = keras2_scalar(model, name, target, x)
        expected = tape.gradient(y, x).numpy()
        got = M.saliency(bundles[name].model, X, target=target, correct=False)
        scale = np.abs(expected).max()
        assert scale > 0
        assert np.abs(got - expected).max() <= 1e-5 * scale, (name, target)


def test_ism_equals_brute_force_through_tf_keras(zoo_files, bundles):
    for name, target in CASES:
        model = zoo_files[name][1]
        X = _X(name, n=1)
        seq, pos, chan = np.nonzero(X == 0)
        mutants = X[seq].copy()
        mutants[np.arange(len(seq)), pos] = np.eye(4, dtype=np.float32)[chan]
        wild = keras2_scalar(model, name, target, X).numpy()
        expected = np.zeros(X.shape)
        expected[seq, pos, chan] = keras2_scalar(model, name, target, mutants,
                                                 anchor=X[seq]).numpy() - wild[seq]
        got = M.ism(bundles[name].model, X, target=target)
        scale = np.abs(wild).max()
        assert np.abs(got - expected).max() <= 1e-5 * scale + 1e-6, (name, target)
        assert np.abs(got).max() > 1e-3 * scale


def test_deepshap_is_complete_on_h5_files_and_refused_on_a_savedmodel(zoo_files, bundles):
    rng = np.random.default_rng(1)
    # ChromBPNet's counts head: in the full model's test below
    for name, target in [c for c in CASES if c != ("chrombpnet", "counts")]:
        X = _X(name, n=2)
        model = bundles[name].model
        if name == "savedmodel":
            with pytest.raises(SeqexplainError) as err:
                M.deep_shap(model, X, target=target, n_references=2)
            message = str(err.value)
            assert "\n" not in message and "SavedModel" in message
            assert all(m in message for m in ("saliency", "integrated_gradients", "ism"))
            continue
        refs = np.eye(4, dtype=np.float32)[rng.integers(4, size=(2, 2, X.shape[1]))]
        attr = M.deep_shap(model, X, target=target, references=refs)
        y = keras2_scalar(zoo_files[name][1], name, target, X).numpy()
        y_refs = np.stack([keras2_scalar(zoo_files[name][1], name, target, refs[:, j],
                                         anchor=X).numpy() for j in range(2)], 1)
        scale = max(np.abs(y).max(), np.abs(y_refs).max())
        err = np.abs(attr.sum(axis=(1, 2), dtype=np.float64) - (y - y_refs.mean(1))).max()
        assert err <= 1e-5 * scale, (name, target, err)


def test_integrated_gradients_through_a_savedmodel(zoo_files, bundles):
    X = _X("savedmodel")
    model = zoo_files["savedmodel"][1]
    attr = M.integrated_gradients(bundles["savedmodel"].model, X, target="Dense_Hk", steps=64)
    y = keras2_scalar(model, "savedmodel", "Dense_Hk", X).numpy()
    y0 = keras2_scalar(model, "savedmodel", "Dense_Hk", np.zeros_like(X)).numpy()
    scale = max(np.abs(y).max(), np.abs(y0).max())
    assert np.abs(attr.sum(axis=(1, 2)) - (y - y0)).max() <= 0.02 * scale


def test_centred_and_uncentred_profile_differ_by_the_mean_logit(zoo_files, bundles):
    """ChromBPNet's scalar is BPNet's minus the mean logit (the weights sum to 1)."""
    model, X = bundles["chrombpnet"].model, _X("chrombpnet")
    centred = M.saliency(model, X, target="profile", correct=False)
    plain = M.saliency(model, X, target="profile:uncentred", correct=False)
    x = tf.constant(X)
    with tf.GradientTape() as tape:
        tape.watch(x)
        mean = tf.reduce_mean(zoo_files["chrombpnet"][1](x, training=False)[0], axis=1)
    expected = tape.gradient(mean, x).numpy()
    scale = np.abs(plain).max()
    assert np.abs((plain - centred) - expected).max() <= 1e-5 * scale
    assert np.abs(expected).max() > 1e-3 * scale  # the two really differ


def test_custom_loss_and_default_target_are_one_note_each(zoo_files, caplog):
    with caplog.at_level(logging.INFO, logger="seqexplain"):
        chrombpnet = load_model(zoo_files["chrombpnet"][0])
        load_model(zoo_files["deepstarr"][0])  # Keras's own loss: no note
        load_model(zoo_files["basset"][0])
        chrombpnet.targets(None)
        chrombpnet.targets(None)
    notes = [r.getMessage() for r in caplog.records]
    assert notes == [f"note: {zoo_files['chrombpnet'][0]}: custom loss 'multinomial_nll' "
                     "ignored (not needed to explain the model: it is loaded for inference, "
                     "not compiled)",
                     f"note: {zoo_files['basset'][0]}: custom metric 'auc_proxy' ignored (not "
                     "needed to explain the model: it is loaded for inference, not compiled)",
                     "note: no target given: using 'logits_profile_predictions' (its profile "
                     "scalar, ChromBPNet's: softmax-weighted mean-centred logits; "
                     "'profile:uncentred' for BPNet's), the first of 2 "
                     "(logits_profile_predictions, logcount_predictions); choose with "
                     "--target NAME (target= in Python), or --target all"]


@pytest.mark.slow  # two models written and read, DeepSHAP and a file run: about 10 s
def test_chrombpnet_full_model_with_its_lambda_replaced(tmp_path):
    """The bias-factorised model: refused in one line naming its Lambda; with a layer class
    standing in for it (custom objects), explained as tf-keras computes it."""
    model = zoo.chrombpnet_full()
    path = tmp_path / "chrombpnet_full.h5"
    model.save(path)
    with pytest.raises(SeqexplainError) as err:
        load_model(path)
    assert "layer 'logcount_predictions' (Lambda) stores Python code" in str(err.value)
    (tmp_path / "logsumexp.py").write_text(zoo.LOGSUMEXP_PY)
    bundle = load_model(path, custom_objects=tmp_path / "logsumexp.py")
    X = _X("chrombpnet", n=2)
    expected = zoo.keras2_predict(model, X)
    vectors, profiles = bundle.predict_all(X)
    assert np.abs(vectors - expected[1]).max() <= 1e-6 * np.abs(expected[1]).max()
    assert np.abs(profiles["logits_profile_predictions"] - expected[0]).max() \
        <= 1e-6 * np.abs(expected[0]).max()
    x = tf.constant(X)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = model(x, training=False)[1][:, 0]
    gradient = tape.gradient(y, x).numpy()
    got = M.saliency(bundle.model, X, target="counts", correct=False)
    assert np.abs(got - gradient).max() <= 1e-5 * np.abs(gradient).max()
    # DeepSHAP through the nested models and the log-sum-exp's rule: complete
    _, delta = M.deep_shap(bundle.model, X, target="counts", n_references=2, random_state=0,
                           return_delta=True)
    assert np.abs(delta).max() <= 1e-5 * np.abs(expected[1]).max()
    # the bias-free part, exposed as the nested model model_wo_bias: its own targets
    assert [t.name for t in bundle.targets("model_wo_bias.profile,model_wo_bias.counts")] \
        == ["model_wo_bias.logits_profile_predictions", "model_wo_bias.logcount_predictions"]
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = keras2_scalar(model.get_layer("model_wo_bias"), "chrombpnet", "profile", x)
    gradient = tape.gradient(y, x).numpy()
    got = M.saliency(bundle.model, X, target="model_wo_bias.profile", correct=False)
    assert np.abs(got - gradient).max() <= 1e-5 * np.abs(gradient).max()
    full = M.saliency(bundle.model, X, target="profile", correct=False)
    assert np.abs(full - got).max() > 1e-3 * np.abs(full).max()  # the bias is left out
    # through the file pipeline: the target's name is a member of the scores file
    from seqexplain.attributions import Attributions
    from seqexplain.explain_run import explain_files

    (tmp_path / "x.fa").write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(
        ["".join("ACGT"[j] for j in row.argmax(1)) for row in X])))
    explain_files(path, tmp_path / "x.fa", out=tmp_path / "out", methods="saliency",
                  target="model_wo_bias.profile,counts", logos=0, progress=False,
                  custom_objects=tmp_path / "logsumexp.py")
    read = Attributions.read(tmp_path / "out" / "attributions.npz", ["saliency"],
                             target="model_wo_bias.logits_profile_predictions")
    assert read.scores("saliency").shape == X.shape
    with pytest.raises(SeqexplainError, match="target 'model_bias.nope': in nested model "
                                              "'model_bias': unknown target 'nope'"):
        bundle.targets("model_bias.nope")
    with pytest.raises(SeqexplainError, match="nested models: model_wo_bias.TARGET, "
                                              "model_bias.TARGET"):
        bundle.targets("nope")


def test_a_tensorflow_operation_in_a_keras2_graph_is_named(tmp_path):
    import tf_keras

    inp = tf_keras.Input((20, 4))
    h = tf.math.square(tf_keras.layers.Conv1D(2, 3)(inp))
    model = tf_keras.Model(inp, tf_keras.layers.Dense(1)(tf_keras.layers.Flatten()(h)))
    model.save(tmp_path / "op.h5")
    with pytest.raises(SeqexplainError) as err:
        load_model(tmp_path / "op.h5")
    message = str(err.value)
    assert "\n" not in message
    assert "layer 'tf.math.square' (TFOpLambda) is a TensorFlow operation Keras 2 recorded " \
           "in the graph, which Keras 3 cannot rebuild" in message
