"""Tests for seqexplain.models: architecture, tasks, regularisers, logits, saving, configs."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from helpers import assert_close, batch_scale
from keras import layers
from toy_models import random_onehot

from seqexplain.errors import SeqexplainError
from seqexplain.attribution import logit_model
from seqexplain.models import ModelSettings, build_model, compile_model, optimizer_from_config

# Keras' model.save converts variables with np.array(x, copy=False), which numpy 2 flags
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

# a tiny architecture with every kind of block, so each test builds in a fraction of a second;
# SGD because tracing Adam's first training step costs seconds more on CPU
TINY = {"n_conv_blocks": 2, "filters": 4, "kernel_sizes": [5, 3], "pool_sizes": [2, 1],
        "dense_units": [8], "optimizer": "sgd"}


def tiny(**overrides) -> ModelSettings:
    return ModelSettings.from_dict({**TINY, **overrides})


def labels(task: str, n: int, n_outputs: int, seed: int = 0) -> np.ndarray:
    """Labels in the layout each compiled loss expects."""
    rng = np.random.default_rng(seed)
    if task == "binary":
        return rng.integers(2, size=(n, 1)).astype(np.float32)
    if task == "multiclass":
        return np.eye(n_outputs, dtype=np.float32)[rng.integers(n_outputs, size=n)]
    if task == "multilabel":
        return rng.integers(2, size=(n, n_outputs)).astype(np.float32)
    return rng.normal(size=(n, n_outputs)).astype(np.float32)


@pytest.fixture(autouse=True)
def seed():
    keras.utils.set_random_seed(0)


def test_default_model_for_200bp_dna():
    model = build_model(None, input_length=200, channels=4, task="binary")
    names = [layer.name for layer in model.layers]
    assert names == ["sequence",
                     "conv1", "act1", "pool1", "drop1",
                     "conv2", "act2", "drop2",
                     "global_pool", "flatten",
                     "dense1", "dense_act1", "dense_drop1", "position_flatten",
                     "cnn_logits", "position_linear",
                     "logits", "output"]  # no batch norm by default (see ModelSettings)
    assert model.get_layer("conv1").kernel.shape == (19, 4, 128)
    assert model.get_layer("conv2").output.shape == (None, 50, 64)   # 200 → 50
    assert model.get_layer("global_pool").pool_size == (50,)
    assert model.output_shape == (None, 1)
    # small enough to train quickly on two CPU cores
    assert model.count_params() < 100_000


def _bce(y, p):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def _cce(y, p):
    return -np.mean(np.sum(y * np.log(np.clip(p, 1e-7, 1)), axis=1))


@pytest.mark.parametrize("task, n_outputs, activation, loss, formula", [
    ("binary", 1, keras.activations.sigmoid, keras.losses.BinaryCrossentropy, _bce),
    ("multiclass", 3, keras.activations.softmax, keras.losses.CategoricalCrossentropy, _cce),
    ("multilabel", 4, keras.activations.sigmoid, keras.losses.BinaryCrossentropy, _bce),
    ("regression", 2, keras.activations.linear, keras.losses.MeanSquaredError,
     lambda y, p: np.mean((y - p) ** 2)),
])
def test_task_output_activation_and_loss(task, n_outputs, activation, loss, formula):
    # no regulariser, so the evaluated loss is the task loss alone
    model = build_model(tiny(regularizer="none", position_path=False), 24, 4, task, n_outputs)
    assert model.output_shape == (None, n_outputs)
    assert model.get_layer("output").activation is activation
    assert model.get_layer("logits").activation is keras.activations.linear
    assert isinstance(model.loss, loss)
    X, y = random_onehot(16, 24), labels(task, 16, n_outputs)
    scores = model.predict(X, verbose=0).astype(np.float64)
    assert scores.shape == (16, n_outputs)
    if task == "multiclass":
        np.testing.assert_allclose(scores.sum(axis=1), 1, rtol=1e-5)
    elif task != "regression":
        assert ((scores > 0) & (scores < 1)).all()
    result = model.evaluate(X, y, batch_size=16, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(formula(y, scores), rel=1e-4)


def test_regression_mae_loss():
    model = build_model(tiny(regression_loss="mae"), 24, 4, "regression", 1)
    assert isinstance(model.loss, keras.losses.MeanAbsoluteError)


def test_compile_model_separately():
    model = build_model(tiny(), 24, 4, "binary", compile=False)
    assert not model.compiled
    compile_model(model, tiny(optimizer="adam"), "binary")
    assert isinstance(model.optimizer, keras.optimizers.Adam)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("task, n_outputs, inverse", [
    ("binary", 1, _sigmoid),
    ("multilabel", 3, _sigmoid),
    ("multiclass", 3, _softmax),
    ("regression", 2, lambda z: z),
])
def test_logit_model_is_output_before_activation(task, n_outputs, inverse):
    model = build_model(tiny(), 24, 4, task, n_outputs)
    X = random_onehot(10, 24, seed=1)
    logits = logit_model(model).predict(X, verbose=0)
    assert logits.shape == (10, n_outputs)
    outputs = model.predict(X, verbose=0)
    assert_close(inverse(logits.astype(np.float64)), outputs, batch_scale(logits, outputs),
                 what="outputs from logits")


def test_logit_model_finds_the_logits_layer_by_structure():
    """The one logit_model (seqexplain.attribution) finds the output of the 'logits' layer of
    a seqexplain model from the graph, not from the layer's name."""
    model = build_model(tiny(), 24, 4, "multiclass", 3)
    by_name = keras.Model(model.inputs, model.get_layer("logits").output)
    X = random_onehot(6, 24, seed=3)
    expected = by_name.predict(X, verbose=0)
    assert_close(logit_model(model).predict(X, verbose=0), expected, batch_scale(expected),
                 rel=1e-6, what="logits")


@pytest.mark.parametrize("kind, cls, l1, l2", [
    ("l1", keras.regularizers.L1, 1e-3, 0.0),
    ("l2", keras.regularizers.L2, 0.0, 1e-2),
    ("l1_l2", keras.regularizers.L1L2, 1e-3, 1e-2),
])
def test_kernel_regularizer_on_every_conv_and_dense(kind, cls, l1, l2):
    model = build_model(tiny(regularizer=kind, l1=l1 or 5.0, l2=l2 or 5.0,
                             position_path=False), 24, 4, "binary")
    weighted = [layer for layer in model.layers if isinstance(layer, (layers.Conv1D,
                                                                       layers.Dense))]
    assert [layer.name for layer in weighted] == ["conv1", "conv2", "dense1", "logits"]
    expected = 0.0
    for layer in weighted:
        reg = layer.kernel_regularizer
        assert type(reg) is cls
        # strengths not named by the regulariser kind (set to 5.0 above) must be ignored
        assert float(getattr(reg, "l1", 0.0)) == pytest.approx(l1)
        assert float(getattr(reg, "l2", 0.0)) == pytest.approx(l2)
        w = layer.kernel.numpy().astype(np.float64)
        expected += l1 * np.abs(w).sum() + l2 * np.square(w).sum()
    assert len(model.losses) == len(weighted)
    total = sum(float(loss) for loss in model.losses)
    assert total == pytest.approx(expected, rel=1e-4)


def test_regularizer_none_adds_no_penalty():
    model = build_model(tiny(regularizer="none", position_path=False), 24, 4, "binary")
    assert all(getattr(layer, "kernel_regularizer", None) is None for layer in model.layers)
    assert model.losses == []


def test_batch_norm_and_dropout_follow_config():
    model = build_model(tiny(conv_dropout=0.3, dense_dropout=0.4, batch_norm=True), 24, 4,
                        "binary")
    rates = {layer.name: layer.rate for layer in model.layers
             if isinstance(layer, layers.Dropout)}
    assert rates == {"drop1": 0.3, "drop2": 0.3, "dense_drop1": 0.4}
    bns = [layer.name for layer in model.layers
           if isinstance(layer, layers.BatchNormalization)]
    assert bns == ["bn1", "bn2", "dense_bn1"]
    # batch norm's beta replaces the bias of the layer before it
    assert not model.get_layer("conv1").use_bias

    bare = build_model(tiny(batch_norm=False, conv_dropout=0, dense_dropout=0), 24, 4, "binary")
    assert not any(isinstance(layer, (layers.Dropout, layers.BatchNormalization))
                   for layer in bare.layers)
    assert bare.get_layer("conv1").use_bias


def test_activations_are_separate_layers():
    model = build_model(tiny(first_activation="exponential", activation="elu"), 24, 4,
                        "binary")
    assert model.get_layer("act1").activation is keras.activations.exponential
    assert model.get_layer("act2").activation is keras.activations.elu
    assert model.get_layer("dense_act1").activation is keras.activations.elu
    for layer in model.layers:
        if isinstance(layer, (layers.Conv1D, layers.Dense)):
            assert layer.activation is keras.activations.linear


@pytest.mark.parametrize("global_pool, reference", [
    ("max", layers.GlobalMaxPooling1D),
    ("average", layers.GlobalAveragePooling1D),
])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_whole_length_pooling_equals_global_pooling(global_pool, reference, padding):
    # length 23: pool1 floors 23 - 4 = 19 ('valid') or 23 ('same') to an odd-sized map
    config = tiny(global_pool=global_pool, padding=padding, pool_types="average")
    model = build_model(config, 23, 4, "binary")
    assert not any(isinstance(layer, (layers.GlobalMaxPooling1D,
                                      layers.GlobalAveragePooling1D)) for layer in model.layers)
    probe = keras.Model(model.inputs, [model.get_layer("drop2").output,
                                       model.get_layer("flatten").output])
    features, pooled = probe.predict(random_onehot(6, 23, seed=2), verbose=0)
    assert features.shape[1] == {"same": 11, "valid": 7}[padding]
    expected = keras.ops.convert_to_numpy(reference()(features))
    assert_close(pooled, expected, batch_scale(features), rel=1e-6, what="pooled")


def test_flatten_keeps_positions():
    model = build_model(tiny(global_pool="flatten"), 24, 4, "binary")
    assert "global_pool" not in [layer.name for layer in model.layers]
    assert model.get_layer("flatten").output.shape == (None, 12 * 4)


def test_too_short_inputs_are_refused():
    with pytest.raises(SeqexplainError, match="input length 6 is too short for the pooling"):
        build_model(tiny(pool_sizes=[4, 4]), 6, 4, "binary")
    with pytest.raises(SeqexplainError, match="too short for conv block 2"):
        build_model(tiny(padding="valid"), 6, 4, "binary")


@pytest.mark.parametrize("task, n_outputs, message", [
    ("binary", 2, "task 'binary' has one output"),
    ("multiclass", 1, "needs n_outputs ≥ 2"),
    ("ranking", 1, "task='ranking'"),
])
def test_build_model_checks_task(task, n_outputs, message):
    with pytest.raises(SeqexplainError, match=message):
        build_model(tiny(), 24, 4, task, n_outputs)


def test_save_load_round_trip(tmp_path):
    # the settings most likely not to serialise: exponential activation, L1L2, dilation,
    # mixed pooling, Nesterov SGD
    config = tiny(first_activation="exponential", regularizer="l1_l2", l1=1e-4, l2=1e-3,
                  dilations=[1, 2], pool_types=["average", "max"], global_pool="max",
                  nesterov=True)
    model = build_model(config, 24, 4, "multilabel", 2)
    X = random_onehot(12, 24, seed=3)
    # train, so that batch-norm statistics and optimiser state are not initial values
    history = model.fit(X, labels("multilabel", 12, 2), epochs=2, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    np.testing.assert_array_equal(logit_model(loaded).predict(X, verbose=0),
                                  logit_model(model).predict(X, verbose=0))
    assert (type(loaded.get_layer("conv1").kernel_regularizer)
            is type(model.get_layer("conv1").kernel_regularizer))
    assert loaded.get_layer("act1").activation is keras.activations.exponential
    assert type(loaded.get_layer("pool1")) is layers.AveragePooling1D
    assert type(loaded.get_layer("global_pool")) is layers.MaxPooling1D


def test_config_defaults_and_schedules():
    config = ModelSettings()
    assert config.filters == (128, 64)
    assert config.kernel_sizes == (19, 7)
    assert config.pool_sizes == (4, 1)
    assert config.pool_types == ("max", "max")
    assert config.dilations == (1, 1)
    three = ModelSettings.from_dict({"n_conv_blocks": 3, "filters": 32})
    assert three.filters == (32, 32, 32)
    assert three.kernel_sizes == (19, 7, 7)
    assert three.pool_sizes == (4, 4, 1)


def test_config_dict_round_trip():
    config = tiny(first_activation="exponential", dense_units=[16, 8], optimizer="rmsprop",
                  momentum=0.5, clipnorm=1.0)
    values = json.loads(json.dumps(config.to_dict()))
    assert values["filters"] == [4, 4]
    assert ModelSettings.from_dict(values) == config


def test_config_reads_yaml_style_values():
    # PyYAML reads 1e-3 (no decimal point) as a string; a single dense size may be an int
    config = ModelSettings.from_dict({"learning_rate": "1e-3", "dense_units": 32,
                                    "regularizer": None, "activation": "ReLU"})
    assert config.learning_rate == 0.001
    assert config.dense_units == (32,)
    assert config.regularizer == "none"
    assert config.activation == "relu"


@pytest.mark.parametrize("values, message", [
    ({"n_conv_blocks": 0}, "n_conv_blocks=0"),
    ({"filters": 0}, "filters=0"),
    ({"filters": [8, 8, 8]}, r"filters=\[8, 8, 8\] has 3 values for n_conv_blocks=2"),
    ({"kernel_sizes": 2.5}, "kernel_sizes=2.5"),
    ({"dilations": True}, "dilations=True"),
    ({"pool_types": "median"}, "pool_types='median'"),
    ({"pool_sizes": [4, 0]}, "pool_sizes=0"),
    ({"padding": "causal"}, "padding='causal'"),
    ({"activation": "swish2"}, "activation='swish2'"),
    ({"first_activation": "exp"}, "first_activation='exp'"),
    ({"batch_norm": "yes"}, "batch_norm='yes'"),
    ({"conv_dropout": 1.0}, "conv_dropout=1.0"),
    ({"dense_dropout": -0.1}, "dense_dropout=-0.1"),
    ({"regularizer": "l3"}, "regularizer='l3'"),
    ({"regularizer": "l1", "l1": 0}, "regularizer='l1' needs l1 > 0"),
    ({"l2": "strong"}, "l2='strong'"),
    ({"global_pool": "min"}, "global_pool='min'"),
    ({"dense_units": [0]}, "dense_units=0"),
    ({"dense_units": "128"}, "dense_units='128'"),
    ({"regression_loss": "huber"}, "regression_loss='huber'"),
    ({"optimizer": "lion"}, "optimizer='lion'"),
    ({"learning_rate": 0}, "learning_rate=0"),
    ({"momentum": 0.9}, "momentum applies to optimizer 'sgd' or 'rmsprop', not 'adam'"),
    ({"optimizer": "sgd", "momentum": 1.5}, "momentum=1.5"),
    ({"nesterov": True}, "nesterov applies to optimizer 'sgd' only"),
    ({"clipnorm": -1}, "clipnorm=-1"),
])
def test_config_rejects_bad_values(values, message):
    with pytest.raises(SeqexplainError, match=message):
        ModelSettings.from_dict(values)


def test_config_rejects_unknown_keys():
    with pytest.raises(SeqexplainError) as info:
        ModelSettings.from_dict({"filtres": 64})
    text = str(info.value)
    assert "unknown key 'filtres'" in text
    assert "did you mean 'filters'?" in text
    assert "valid keys: n_conv_blocks, filters, kernel_sizes" in text
    with pytest.raises(SeqexplainError, match="expected a mapping"):
        ModelSettings.from_dict([("filters", 64)])


@pytest.mark.parametrize("name, cls", [
    ("adam", keras.optimizers.Adam), ("sgd", keras.optimizers.SGD),
    ("rmsprop", keras.optimizers.RMSprop), ("adagrad", keras.optimizers.Adagrad),
    ("adadelta", keras.optimizers.Adadelta), ("adamax", keras.optimizers.Adamax),
    ("nadam", keras.optimizers.Nadam),
])
def test_optimizer_from_config(name, cls):
    optimizer = optimizer_from_config(ModelSettings(optimizer=name, learning_rate=0.01))
    assert type(optimizer) is cls
    assert float(optimizer.learning_rate.numpy()) == pytest.approx(0.01)


def test_optimizer_momentum_and_clipping():
    sgd = optimizer_from_config(ModelSettings(optimizer="sgd", nesterov=True, clipnorm=2.0))
    assert sgd.momentum == pytest.approx(0.9)
    assert sgd.nesterov
    assert sgd.clipnorm == pytest.approx(2.0)
    assert optimizer_from_config(ModelSettings(optimizer="rmsprop")).momentum == 0.0
    assert optimizer_from_config(ModelSettings(optimizer="rmsprop", momentum=0.5)).momentum == 0.5


@pytest.mark.parametrize("task, n_outputs", [("binary", 1), ("multiclass", 3)])
def test_position_path_adds_a_linear_model_of_the_positions(task, n_outputs):
    """logits = CNN logits + flattened one-hot · W, W zero at the start, L2 1e-2 on W alone."""
    model = build_model(tiny(regularizer="none"), 24, 4, task, n_outputs)
    path = model.get_layer("position_linear")
    assert path.kernel.shape == (24 * 4, n_outputs) and not path.use_bias
    assert not np.any(path.kernel.numpy())  # the CNN trains as before at first
    assert float(path.kernel_regularizer.l2) == pytest.approx(1e-2)
    assert type(model.get_layer("logits")) is layers.Add
    X = random_onehot(8, 24, seed=3)
    cnn = keras.Model(model.inputs, model.get_layer("cnn_logits").output)
    W = np.random.default_rng(1).normal(size=(96, n_outputs)).astype(np.float32)
    path.set_weights([W])
    expected = cnn.predict(X, verbose=0).astype(np.float64) + X.reshape(8, -1) @ W.astype(
        np.float64)
    got = logit_model(model).predict(X, verbose=0)
    assert_close(got, expected, batch_scale(expected), rel=1e-5, what="logits")
    # its penalty is the model's only loss term here (regularizer none elsewhere)
    assert sum(float(v) for v in model.losses) == pytest.approx(1e-2 * np.square(W).sum(),
                                                                rel=1e-4)
    assert build_model(tiny(position_l2=0), 24, 4, task, n_outputs).get_layer(
        "position_linear").kernel_regularizer is None


def test_deep_shap_is_exact_on_the_position_path():
    """The path is linear, so DeepSHAP gives each position Σ_b W · (x − mean reference) on its
    observed base, exactly: the attributions of the model minus those of the same model with
    W = 0."""
    from seqexplain.attribution import deep_shap

    model = build_model(tiny(), 24, 4, "binary", compile=False)
    X, refs = random_onehot(4, 24, seed=5), random_onehot(6, 24, seed=6)
    path = model.get_layer("position_linear")
    W = np.random.default_rng(2).normal(size=(96, 1)).astype(np.float32)
    path.set_weights([W])
    full, delta = deep_shap(model, X, references=refs, return_delta=True)
    path.set_weights([np.zeros_like(W)])
    cnn_only = deep_shap(model, X, references=refs)
    per_position = (W[:, 0].reshape(24, 4) * (X - refs.mean(axis=0))).sum(-1, keepdims=True)
    expected = per_position * X
    assert_close(full - cnn_only, expected, batch_scale(expected), rel=1e-5,
                 what="position-path attributions")
    assert np.abs(delta).max() <= 1e-4 * batch_scale(full.sum(axis=(1, 2)))
    # switched off as train does it (one weight per position, the same for every letter):
    # a constant on one-hot input, so exactly no attribution
    path.set_weights([np.repeat(W.reshape(24, 4).mean(1), 4)[:, None].astype(np.float32)])
    off = deep_shap(model, X, references=refs)
    assert_close(off, cnn_only, batch_scale(cnn_only), rel=1e-5, what="constant path")
