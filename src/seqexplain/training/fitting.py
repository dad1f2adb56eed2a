"""Fitting one CNN: the augmented tf.data pipeline, class weights, early stopping and
learning-rate callbacks, the distribution strategy, and the fitted model's outputs."""

from __future__ import annotations

import contextlib
import os
import sys
import time

import numpy as np
import pandas as pd

from ..errors import SeqexplainError
from ..targets import Targets
from .capacity import capacity_rule
from .settings import TrainSettings


def keras_targets(targets: Targets) -> np.ndarray:
    if targets.task == "multiclass":
        return np.eye(targets.n_outputs, dtype=np.float32)[targets.y]
    return targets.y.astype(np.float32)


def class_weights(targets: Targets) -> dict[int, float] | None:
    if targets.task == "binary":
        labels = targets.y[:, 0].astype(int)
    elif targets.task == "multiclass":
        labels = targets.y
    else:
        return None
    counts = np.bincount(labels, minlength=max(2, targets.n_outputs))
    counts = np.maximum(counts, 1)
    return {i: float(len(labels) / (len(counts) * c)) for i, c in enumerate(counts)}


def augmented_dataset(X: np.ndarray, y: np.ndarray, batch_size: int, seed: int,
                       reverse_complement: bool, shift: int, weights: np.ndarray | None):
    """A shuffled tf.data pipeline; random flips/shifts paired with records after shuffling,
    so each epoch draws new augmentations, all determined by ``seed``."""
    import tensorflow as tf

    parts = (X, y) if weights is None else (X, y, weights)
    ds = tf.data.Dataset.from_tensor_slices(parts).shuffle(
        len(X), seed=seed, reshuffle_each_iteration=True)
    if reverse_complement or shift:
        rand = tf.data.Dataset.random(seed=seed).batch(2)
        length = X.shape[1]

        def augment(item, r):
            x = item[0]
            if reverse_complement:
                # complement = reversed channel order for ACGT/ACGU
                x = tf.cond(r[0] % 2 == 0, lambda: x, lambda: tf.reverse(x, axis=[0, 1]))
            if shift:
                s = tf.cast(r[1] % (2 * shift + 1), tf.int32) - shift
                rolled = tf.roll(x, s, axis=0)
                pos = tf.range(length)
                keep = tf.logical_and(pos - s >= 0, pos - s < length)
                x = rolled * tf.cast(keep, x.dtype)[:, None]
            return (x,) + tuple(item[1:])

        ds = tf.data.Dataset.zip((ds, rand)).map(augment, num_parallel_calls=1)
    return ds.batch(batch_size).prefetch(2)


def _epoch_line(prefix: str, epochs: int):
    """A Keras callback printing one progress line per epoch to stderr (built here so that
    importing this module does not import Keras)."""
    import keras

    class EpochLine(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self._t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            shown = " ".join(f"{k} {v:.4g}" for k, v in logs.items()
                             if k in ("loss", "val_loss") or k.startswith("val_")
                             and k != "val_loss" and not k.startswith("val_mse"))
            lr = logs.get("learning_rate")
            lr_text = f" lr {float(lr):.2g}" if lr is not None else ""
            print(f"{prefix}epoch {epoch + 1}/{epochs} {shown}{lr_text} "
                  f"({time.perf_counter() - self._t:.1f} s)", file=sys.stderr, flush=True)

    return EpochLine()


def fit_cnn(X_train: np.ndarray, t_train: Targets, X_val: np.ndarray, t_val: Targets,
            model_config, config: TrainSettings, seed: int, nucleic: bool, prefix: str = ""):
    """Train one CNN; returns ``(model, history DataFrame, best epoch (1-based))``.

    Early stopping restores the weights of the epoch with the lowest validation loss."""
    import keras
    import tensorflow as tf

    from ..models import build_model

    keras.utils.set_random_seed(seed)
    strategy = distribution_strategy(config.distribute)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = build_model(model_config, X_train.shape[1], X_train.shape[2], t_train.task,
                            t_train.n_outputs)
    y_train, y_val = keras_targets(t_train), keras_targets(t_val)
    weights = None
    cw = class_weights(t_train) if config.class_weight else None
    if cw is not None:
        labels = t_train.y[:, 0].astype(int) if t_train.task == "binary" else t_train.y
        weights = np.array([cw[c] for c in labels], dtype=np.float32)
    rc = nucleic if config.reverse_complement is None else config.reverse_complement
    if rc and not nucleic:
        raise SeqexplainError("reverse-complement augmentation needs DNA or RNA sequences")
    train_ds = augmented_dataset(X_train, y_train, config.batch_size, seed, rc, config.shift,
                                  weights)
    val_ds = tf.data.Dataset.from_tensor_slices((X_val, y_val)).batch(config.batch_size)
    patience = config.patience
    if patience is None:  # called without train(): the rule for these data
        patience = capacity_rule(len(X_train), X_train.shape[1])["settings"]["patience"]
    callbacks = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                               restore_best_weights=True)]
    if config.reduce_lr:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=0.5, patience=max(2, patience // 2 - 1),
            min_lr=1e-6))
    if config.verbose:
        callbacks.append(_epoch_line(prefix, config.epochs))
    hist = model.fit(train_ds, validation_data=val_ds, epochs=config.epochs, verbose=0,
                     callbacks=callbacks, shuffle=False)  # the dataset shuffles itself
    history = pd.DataFrame(hist.history)
    history.insert(0, "epoch", np.arange(1, len(history) + 1))
    best_epoch = int(history["val_loss"].idxmin()) + 1
    return model, history, best_epoch


def distribution_strategy(name: str):
    """The ``tf.distribute`` strategy of ``TrainSettings.distribute`` (``None`` for "none")."""
    if name == "none":
        return None
    import tensorflow as tf

    if os.environ.get("TF_CONFIG"):
        return tf.distribute.MultiWorkerMirroredStrategy()
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy(devices=[d.name for d in devices])


def predict_outputs(model, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Model outputs (probabilities for classification), shape (n, n_outputs)."""
    return np.asarray(model.predict(X, batch_size=batch_size, verbose=0))
