"""Model files beyond the plain channels-last Keras model: channels-first inputs (PyTorch
ports), users' layer classes (``custom_objects=`` / ``--custom-objects FILE.py``, safe mode
on, DeepSHAP through ``register_rule``), and the layers the loader rejects, named in one
line."""

from __future__ import annotations

import importlib.util
import logging
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner
from keras import layers

from seqexplain.attribution import methods as M
from seqexplain.bundle import load_model
from seqexplain.cli import main
from seqexplain.errors import SeqexplainError

LENGTH = 30

#: a user's module: a layer class, and its DeepLIFT rule registered when it is imported
LAYERS_PY = '''
import keras
import seqexplain as sx


class ScaledTanh(keras.layers.Layer):
    """scale · tanh(x), element-wise."""

    def __init__(self, scale=2.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, x):
        return self.scale * keras.ops.tanh(x)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


sx.register_rule(ScaledTanh, "elementwise")
'''


def _onehot(n, seed=0):
    rng = np.random.default_rng(seed)
    return np.eye(4, dtype=np.float32)[rng.integers(4, size=(n, LENGTH))]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("formats")
    keras.utils.set_random_seed(0)
    # channels first, as a PyTorch port takes its input: (None, 4, L)
    inp = keras.Input((4, LENGTH))
    h = layers.Conv1D(4, 5, activation="relu")(layers.Permute((2, 1))(inp))
    out = layers.Dense(2, name="tasks")(layers.GlobalAveragePooling1D()(h))
    keras.Model(inp, out).save(d / "first.keras")
    # a user's layer class, from a module file
    (d / "zoo_layers.py").write_text(LAYERS_PY)
    spec = importlib.util.spec_from_file_location("zoo_layers", d / "zoo_layers.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["zoo_layers"] = module
    spec.loader.exec_module(module)
    inp = keras.Input((LENGTH, 4))
    h = module.ScaledTanh(name="scaled_tanh")(layers.Conv1D(4, 5)(inp))
    keras.Model(inp, layers.Dense(1)(layers.Flatten()(h))).save(d / "custom.keras")
    # a Lambda holding Python code (safe mode does not run it)
    inp = keras.Input((LENGTH, 4))
    h = layers.Lambda(lambda t: t * 2.0, name="doubling")(layers.Conv1D(2, 3)(inp))
    keras.Model(inp, layers.Dense(1)(layers.Flatten()(h))).save(d / "lambda.keras")
    rng = np.random.default_rng(0)
    (d / "x.fa").write_text("".join(f">s{i}\n{''.join(rng.choice(list('ACGT'), LENGTH))}\n"
                                    for i in range(3)))
    return d


def test_channels_first_input_is_detected_and_explained(files, caplog):
    with caplog.at_level(logging.INFO, logger="seqexplain"):
        bundle = load_model(files / "first.keras")
    assert any("read as channels first" in r.getMessage() for r in caplog.records)
    assert (bundle.length, bundle.alphabet.channels) == (LENGTH, 4)
    X = _onehot(3)
    inner = keras.models.load_model(files / "first.keras")
    transposed = np.transpose(X, (0, 2, 1))
    expected = np.asarray(inner(transposed))
    assert np.abs(bundle.predict(X) - expected).max() <= 1e-6 * np.abs(expected).max()
    x = tf.constant(transposed)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = inner(x)[:, 1]
    gradient = np.transpose(tape.gradient(y, x).numpy(), (0, 2, 1))
    got = M.saliency(bundle.model, X, target=1, correct=False)
    assert np.abs(got - gradient).max() <= 1e-5 * np.abs(gradient).max()
    # DeepSHAP sees through the transpose: complete
    attr, delta = M.deep_shap(bundle.model, X, target=1, n_references=2, random_state=0,
                              return_delta=True)
    assert np.abs(delta).max() <= 1e-5 * np.abs(expected).max()
    # said explicitly, the same; the other way round, the channels do not fit
    assert load_model(files / "first.keras", input_layout="channels_first").length == LENGTH
    with pytest.raises(SeqexplainError, match=f"takes {LENGTH} channels"):
        load_model(files / "first.keras", input_layout="channels_last")


def test_custom_layer_loads_from_a_file_and_deepshap_uses_its_rule(files):
    with pytest.raises(SeqexplainError) as err:
        load_model(files / "custom.keras")
    message = str(err.value)
    assert "\n" not in message
    assert "layer 'scaled_tanh' (ScaledTanh) is not a Keras layer" in message
    assert "--custom-objects" in message
    bundle = load_model(files / "custom.keras", custom_objects=files / "zoo_layers.py")
    X = _onehot(3)
    expected = np.asarray(keras.models.load_model(
        files / "custom.keras", custom_objects={"ScaledTanh": sys.modules["zoo_layers"]
                                                .ScaledTanh})(X))
    assert np.abs(bundle.predict(X) - expected).max() <= 1e-6 * np.abs(expected).max()
    # the file registered the rule for its class: DeepSHAP is complete
    attr, delta = M.deep_shap(bundle.model, X, n_references=2, random_state=0,
                              return_delta=True)
    assert np.abs(delta).max() <= 1e-5 * max(np.abs(expected).max(), 1e-3)
    assert np.abs(attr).max() > 0


def test_lambda_layer_is_named(files):
    with pytest.raises(SeqexplainError) as err:
        load_model(files / "lambda.keras")
    message = str(err.value)
    assert "\n" not in message
    assert "layer 'doubling' (Lambda) stores Python code, which is not run" in message
    assert "save the model with a layer class in its place" in message  # a .keras file


def test_cli_custom_objects_and_input_layout(files, tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["explain", str(files / "custom.keras"), str(files / "x.fa"),
                                  "-m", "deepshap,ism", "--n-references", "2", "--logos", "0",
                                  "-q", "--custom-objects", str(files / "zoo_layers.py"),
                                  "-o", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "a" / "attributions.npz").is_file()
    result = runner.invoke(main, ["predict", str(files / "first.keras"), str(files / "x.fa"),
                                  "--input-layout", "channels_first", "-q",
                                  "-o", str(tmp_path / "p.tsv")])
    assert result.exit_code == 0, result.output
    assert len((tmp_path / "p.tsv").read_text().splitlines()) == 4
