"""Model files as they are published, made with Keras 2 (tf-keras) at tiny sizes.

Most published TensorFlow genomics models are Keras 2 ``.h5`` files or TF SavedModel folders,
not ``.keras`` archives. Each builder here writes one with tf-keras (random weights, seeded)
and returns the path; the tf-keras model itself (``keras2_model``) gives the independent
predictions and gradients the tests compare seqexplain with.

==============  =================================================================  ==============
name            after                                                              outputs
==============  =================================================================  ==============
deepstarr       DeepSTARR (de Almeida 2022): conv/BN/ReLU/max-pool blocks, dense   Dense_Dev (1),
                with BN and dropout, two regression heads                          Dense_Hk (1)
chrombpnet      ChromBPNet/BPNet as chrombpnet writes it: dilated residual convs   logits_profile_
                (valid padding, cropped), profile logits *flattened* to (None, L'),  predictions
                log-counts; compiled with a custom loss (multinomial NLL)          (L'), logcount_
                                                                                   predictions (1)
basset          Basset (Kelley 2016): conv/BN/ReLU/max-pool, multi-task sigmoid    (T,)
savedmodel      the DeepSTARR model exported as a SavedModel folder (``model.save  Dense_Dev,
                (folder)``, signature ``serving_default``)                         Dense_Hk
==============  =================================================================  ==============
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402  (a global: the Lambda below must not close over it)

#: sequence lengths of the zoo (short: each file is written once per test module)
LENGTH = {"deepstarr": 60, "chrombpnet": 100, "basset": 60, "savedmodel": 60}
#: the flat profile's length of the ChromBPNet-like model (input 100, valid convolutions)
CHROMBPNET_PROFILE = 40


def _tf_keras():
    import tf_keras

    return tf_keras


def deepstarr(length: int = LENGTH["deepstarr"], seed: int = 0):
    """DeepSTARR-like tf-keras model: two regression heads ``Dense_Dev`` and ``Dense_Hk``."""
    k = _tf_keras()
    k.utils.set_random_seed(seed)
    L = k.layers
    inp = k.Input((length, 4), name="input")
    h = inp
    for filters, width in ((8, 7), (8, 3)):
        h = L.Conv1D(filters, width, padding="same")(h)
        h = L.BatchNormalization()(h)
        h = L.Activation("relu")(h)
        h = L.MaxPooling1D(2)(h)
    h = L.Flatten()(h)
    h = L.Dense(16)(h)
    h = L.BatchNormalization()(h)
    h = L.Activation("relu")(h)
    h = L.Dropout(0.4)(h)
    dev = L.Dense(1, activation="linear", name="Dense_Dev")(h)
    hk = L.Dense(1, activation="linear", name="Dense_Hk")(h)
    model = k.Model(inp, [dev, hk])
    _randomize_batch_norm(model, seed)
    model.compile(optimizer="adam", loss=["mse", "mse"])
    return model


def multinomial_nll(true_counts, logits):
    """ChromBPNet's profile loss (a custom loss, as its files name it)."""
    import tensorflow as tf

    counts = tf.reduce_sum(true_counts, axis=-1)
    log_p = tf.nn.log_softmax(logits, axis=-1)
    return -tf.reduce_mean(tf.reduce_sum(true_counts * log_p, axis=-1)
                           + tf.math.lgamma(counts + 1.0)
                           - tf.reduce_sum(tf.math.lgamma(true_counts + 1.0), axis=-1))


def chrombpnet(length: int = LENGTH["chrombpnet"], seed: int = 0, filters: int = 8,
               name: str | None = None):
    """ChromBPNet-like tf-keras model (valid convolutions, residual dilated layers cropped to
    match), outputs ``logits_profile_predictions`` (None, L') and ``logcount_predictions``
    (None, 1), compiled with the custom ``multinomial_nll`` loss."""
    k = _tf_keras()
    k.utils.set_random_seed(seed)
    L = k.layers
    inp = k.Input((length, 4), name="sequence")
    h = L.Conv1D(filters, 11, padding="valid", activation="relu", name="bpnet_1st_conv")(inp)
    for i, d in enumerate((2, 4), start=1):
        c = L.Conv1D(filters, 3, padding="valid", activation="relu", dilation_rate=d,
                     name=f"bpnet_{i}conv")(h)
        crop = (h.shape[1] - c.shape[1]) // 2
        h = L.add([c, L.Cropping1D(crop)(h)])
    prof = L.Conv1D(1, 21, padding="valid", name="prof_out_precrop")(h)
    crop = (prof.shape[1] - CHROMBPNET_PROFILE) // 2
    prof = L.Cropping1D(crop, name="logits_profile_predictions_preflatten")(prof)
    profile = L.Flatten(name="logits_profile_predictions")(prof)
    pooled = L.GlobalAvgPool1D(name="gap")(h)
    counts = L.Dense(1, name="logcount_predictions")(pooled)
    model = k.Model(inp, [profile, counts], name=name)
    model.compile(optimizer="adam", loss=[multinomial_nll, "mse"], loss_weights=[1, 10])
    return model


def chrombpnet_full(length: int = LENGTH["chrombpnet"], seed: int = 0):
    """ChromBPNet's bias-factorised model as chrombpnet builds it: the bias model and the
    bias-free model (``model_bias``, ``model_wo_bias``, nested) on the same input, profile
    logits added (``Add``), log-counts combined by a log-sum-exp in a ``Lambda`` layer."""
    k = _tf_keras()
    bias = chrombpnet(length, seed + 1, filters=4, name="model_bias")
    wo_bias = chrombpnet(length, seed, name="model_wo_bias")
    inp = k.Input((length, 4), name="sequence")
    b, w = bias(inp), wo_bias(inp)
    profile = k.layers.Add(name="logits_profile_predictions")([w[0], b[0]])
    both = k.layers.Concatenate(axis=-1)([w[1], b[1]])
    counts = k.layers.Lambda(lambda x: tf.math.reduce_logsumexp(x, axis=-1, keepdims=True),
                             name="logcount_predictions")(both)
    model = k.Model(inp, [profile, counts])
    model.compile(optimizer="adam", loss=[multinomial_nll, "mse"])
    return model


#: a custom-objects file for ChromBPNet's full model: a layer class standing in for its
#: log-sum-exp Lambda (under the Lambda's name), with a DeepLIFT rule made of exact steps
LOGSUMEXP_PY = """
import keras
import tensorflow as tf
import seqexplain as sx


class LogSumExp(keras.layers.Layer):
    def call(self, x):
        return keras.ops.logsumexp(x, axis=-1, keepdims=True)


def logsumexp_rule(layer, args, kwargs, pairs):
    # log(sum(exp(x))): exp and log element-wise (rescale rule), the sum linear
    summed = tf.reduce_sum(pairs.rescale(args[0], tf.exp), axis=-1, keepdims=True)
    return pairs.rescale(summed, tf.math.log)


sx.register_rule(LogSumExp, logsumexp_rule)
logcount_predictions = LogSumExp
"""


def basset(length: int = LENGTH["basset"], seed: int = 0, tasks: int = 5):
    """Basset-like tf-keras model: multi-task sigmoid output (None, tasks)."""
    k = _tf_keras()
    k.utils.set_random_seed(seed)
    L = k.layers
    inp = k.Input((length, 4))
    h = inp
    for filters, width, pool in ((8, 9, 3), (8, 5, 2)):
        h = L.Conv1D(filters, width, padding="same")(h)
        h = L.BatchNormalization()(h)
        h = L.ReLU()(h)
        h = L.MaxPooling1D(pool)(h)
    h = L.Flatten()(h)
    h = L.Dense(12, activation="relu")(h)
    h = L.Dropout(0.3)(h)
    out = L.Dense(tasks, activation="sigmoid", name="tasks")(h)
    model = k.Model(inp, out)
    _randomize_batch_norm(model, seed)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=[auc_proxy, "mae"])
    return model


def auc_proxy(y_true, y_pred):
    """A custom metric, as published files name them."""
    return tf.reduce_mean(y_true * y_pred)


def _randomize_batch_norm(model, seed: int) -> None:
    """Moving statistics away from (0, 1), so that inference-mode batch norm is tested."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape).astype(np.float32),
                               rng.normal(0, 0.2, beta.shape).astype(np.float32),
                               rng.normal(0, 0.2, mean.shape).astype(np.float32),
                               rng.uniform(0.5, 1.5, var.shape).astype(np.float32)])


BUILDERS = {"deepstarr": deepstarr, "chrombpnet": chrombpnet, "basset": basset,
            "savedmodel": deepstarr}


def write(name: str, folder: str | Path, model=None):
    """``(path, tf-keras model)``: the zoo model ``name`` (or ``model``, already built)
    written to ``folder`` as published (``name.h5``; ``savedmodel``: a SavedModel folder)."""
    folder = Path(folder)
    model = BUILDERS[name]() if model is None else model
    if name == "savedmodel":
        path = folder / "deepstarr_savedmodel"
        model.save(path, save_format="tf")
    else:
        path = folder / f"{name}.h5"
        model.save(path)
    return path, model


def keras2_gradient(model, X: np.ndarray, output: int, reduce=None) -> np.ndarray:
    """Gradient (n, L, 4) of output ``output`` of a tf-keras model (summed over its columns,
    or ``reduce(y)`` → (n,)) with respect to its input, computed by TensorFlow directly."""
    import tensorflow as tf

    x = tf.constant(X, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = model(x, training=False)
        y = y[output] if isinstance(y, (list, tuple)) else y
        s = reduce(y) if reduce is not None else tf.reduce_sum(y, axis=-1)
    return tape.gradient(s, x).numpy()


def keras2_predict(model, X: np.ndarray) -> list[np.ndarray]:
    """Every output of a tf-keras model, as a list of arrays."""
    out = model(X.astype(np.float32), training=False)
    return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]


def random_onehot(n: int, length: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.eye(4, dtype=np.float32)[rng.integers(4, size=(n, length))]
