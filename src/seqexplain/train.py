"""Training: honest splits, early stopping, augmentation, restarts, cross-validation and
baselines, written to a model folder (see :mod:`seqexplain.bundle`).

The flow is one way: encoded sequences + :class:`~seqexplain.targets.Targets` →
:func:`split_indices` → :func:`fit_cnn` (per restart / fold) → test metrics beside the
baselines → :func:`train` returns a :class:`TrainResult` that :mod:`seqexplain.bundle` saves.
"""

from __future__ import annotations

import contextlib
import difflib
import math
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import yaml

from . import __version__
from .alphabets import Alphabet
from .baselines import KmerBaseline, PositionalBaseline, TrivialBaseline
from .bundle import FORMAT_VERSION, METADATA_FILE, METRICS_FILE, MODEL_FILE
from .errors import SeqexplainError, check
from .fasta import genomic_interval, read_encoded
from .labels import labels_for
from .metrics import evaluate, main_metric, summarize
from .outputs import atomic_dir, check_writable, write_json
from .plots import plot_training_curves
from .targets import CLASSIFICATION, Targets, make_targets

DISTRIBUTE = ("none", "mirrored")


@dataclass
class TrainConfig:
    """How to train; every field is also a ``seqexplain train`` option and a config-file key.

    The defaults were chosen to be robust across seeds rather than fast on a lucky one:
    up to 50 epochs, early stopping on validation loss restoring the best epoch (patience
    from :func:`capacity_rule`: 10 epochs, 15 under 1,000 training sequences), and the
    learning rate halved after ``max(2, patience // 2 - 1)`` epochs without improvement (see
    ``benchmarks/bench_train_defaults.py``).

    Attributes
    ----------
    task : "binary", "multiclass", "multilabel", "regression", or ``None`` to infer it.
    epochs, batch_size : upper bound on epochs; minibatch size.
    patience : epochs without a better validation loss before stopping; ``None`` (default)
        follows the number of training sequences (:func:`capacity_rule`).
    reduce_lr : halve the learning rate after ``max(2, patience // 2 - 1)`` epochs without
        improvement.
    class_weight : weight classes inversely to their frequency (binary/multiclass).
    val_fraction, test_fraction : holdout fractions (stratified for classification).
    split_by : a label-table column (e.g. chromosome) whose groups never straddle splits;
        ``"chrom"`` for records named ``chrom:start-end`` (genome regions) splits by their
        chromosome.
    seed : seeds splits, initial weights, shuffling and augmentation.
    reverse_complement : augment training data with reverse complements (DNA/RNA); ``None``
        (default) lets :func:`choose_reverse_complement` decide on the validation split: on,
        unless the task is strand-specific (off for protein).
    shift : augment with random shifts of up to this many positions (zero-filled).
    restarts : models trained from different seeds; the best validation loss is kept and the
        spread of test metrics reported.
    cv, cv_repeats : K-fold cross-validation (K ≥ 2), repeated with reshuffling.
    kmer : k of the k-mer baseline; ``None`` for 4 (nucleic) or 2 (protein).
    positive_class : binary tasks with class names: the positive class.
    distribute : "none" or "mirrored" (``tf.distribute.MirroredStrategy``; with ``TF_CONFIG``
        set, ``MultiWorkerMirroredStrategy``).
    verbose : print a progress line per epoch.
    """

    task: str | None = None
    epochs: int = 50
    batch_size: int = 64
    patience: int | None = None
    reduce_lr: bool = True
    class_weight: bool = False
    val_fraction: float = 0.1
    test_fraction: float = 0.2
    split_by: str | None = None
    seed: int = 0
    reverse_complement: bool | None = None
    shift: int = 0
    restarts: int = 1
    cv: int = 0
    cv_repeats: int = 1
    kmer: int | None = None
    positive_class: str | None = None
    distribute: str = "none"
    verbose: bool = True

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "patience", "restarts", "cv_repeats"):
            if name == "patience" and self.patience is None:
                continue  # follows the data (capacity_rule)
            _check_config(isinstance(getattr(self, name), int) and getattr(self, name) >= 1,
                   f"{name} must be an integer ≥ 1, got {getattr(self, name)!r}")
        _check_config(isinstance(self.shift, int) and self.shift >= 0,
               f"shift must be an integer ≥ 0, got {self.shift!r}")
        _check_config(isinstance(self.cv, int) and (self.cv == 0 or self.cv >= 2),
               f"cv must be 0 (off) or ≥ 2 folds, got {self.cv!r}")
        for name in ("val_fraction", "test_fraction"):
            value = getattr(self, name)
            _check_config(isinstance(value, (int, float)) and 0 < value < 1,
                   f"{name} must be between 0 and 1, got {value!r}")
        _check_config(self.val_fraction + self.test_fraction < 0.9,
               "val_fraction + test_fraction leave less than 10 % for training")
        _check_config(self.distribute in DISTRIBUTE,
               f"distribute must be one of {', '.join(DISTRIBUTE)}, got {self.distribute!r}")
        _check_config(self.kmer is None or (isinstance(self.kmer, int) and 1 <= self.kmer <= 8),
               f"kmer must be between 1 and 8, got {self.kmer!r}")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        valid = [f.name for f in fields(cls)]
        for key in values:
            if key not in valid:
                close = difflib.get_close_matches(str(key), valid, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise SeqexplainError(f"training config: unknown key {key!r}{hint}")
        return cls(**values)

    @classmethod
    def from_yaml(cls, path, **overrides) -> "TrainConfig":
        """The training settings of a YAML/JSON config file (``path``; ``None``: none),
        ``overrides`` winning over the file and defaults filling the rest — as
        ``seqexplain train --config`` merges them. The file's other keys (``model:``,
        ``labels``, sequence keys) are in :func:`read_train_setup`'s result."""
        return read_train_setup(path, **overrides).train

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_config(ok: bool, message: str) -> None:
    check(ok, message, where="training config")


# -- splits ------------------------------------------------------------------------------------

@dataclass
class Split:
    """Index arrays of the training, validation and test records."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def names(self, n: int) -> np.ndarray:
        out = np.empty(n, dtype=object)
        out[self.train], out[self.val], out[self.test] = "train", "validation", "test"
        return out


def split_indices(targets: Targets, config: TrainConfig, groups: np.ndarray | None = None,
                  seed: int | None = None) -> Split:
    """Holdout split: stratified by class for classification, or by ``groups`` (no group in
    two splits). Fractions are of the records (approximately, for groups)."""
    from sklearn.model_selection import GroupShuffleSplit, train_test_split

    seed = config.seed if seed is None else seed
    n = len(targets.y)
    idx = np.arange(n)
    if groups is not None:
        n_groups = len(np.unique(groups))
        if n_groups < 3:
            raise SeqexplainError(f"--split-by {config.split_by}: {n_groups} group(s); "
                                  "need at least 3 to make training, validation and test sets")
        outer = GroupShuffleSplit(n_splits=1, test_size=config.test_fraction, random_state=seed)
        rest, test = next(outer.split(idx, groups=groups))
        inner = GroupShuffleSplit(n_splits=1, random_state=seed + 1,
                                  test_size=config.val_fraction / (1 - config.test_fraction))
        tr, va = next(inner.split(rest, groups=groups[rest]))
        return Split(rest[tr], rest[va], test)
    strat = _stratify(targets.stratify_key(), n, config.val_fraction)
    rest, test = train_test_split(idx, test_size=config.test_fraction, random_state=seed,
                                  stratify=strat)
    strat_rest = None if strat is None else strat[rest]
    train_idx, val_idx = train_test_split(
        rest, test_size=config.val_fraction / (1 - config.test_fraction), random_state=seed + 1,
        stratify=strat_rest)
    if len(val_idx) < 2 or len(test) < 2:
        raise SeqexplainError(f"{n} records are too few to hold out validation and test sets")
    return Split(np.sort(train_idx), np.sort(val_idx), np.sort(test))


def _stratify(key: np.ndarray | None, n: int, smallest_fraction: float) -> np.ndarray | None:
    """Stratify on ``key`` when every class is big enough to appear in every split."""
    if key is None:
        return None
    _, counts = np.unique(key, return_counts=True)
    return key if counts.min() * smallest_fraction >= 1 and counts.min() >= 3 else None


# -- fitting one CNN ---------------------------------------------------------------------------

def keras_targets(targets: Targets) -> np.ndarray:
    if targets.task == "multiclass":
        return np.eye(targets.n_outputs, dtype=np.float32)[targets.y]
    return targets.y.astype(np.float32)


def _class_weights(targets: Targets) -> dict[int, float] | None:
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
            model_config, config: TrainConfig, seed: int, nucleic: bool, prefix: str = ""):
    """Train one CNN; returns ``(model, history DataFrame, best epoch (1-based))``.

    Early stopping restores the weights of the epoch with the lowest validation loss."""
    import keras
    import tensorflow as tf

    from .models import build_model

    keras.utils.set_random_seed(seed)
    strategy = _strategy(config.distribute)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = build_model(model_config, X_train.shape[1], X_train.shape[2], t_train.task,
                            t_train.n_outputs)
    y_train, y_val = keras_targets(t_train), keras_targets(t_val)
    weights = None
    cw = _class_weights(t_train) if config.class_weight else None
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


def _strategy(name: str):
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


def scores_for_metrics(task: str, outputs: np.ndarray) -> np.ndarray:
    """Binary models have one sigmoid output: metrics take it as (n,)."""
    return outputs[:, 0] if task == "binary" else outputs


def true_for_metrics(targets: Targets) -> np.ndarray:
    return targets.y[:, 0] if targets.task == "binary" else targets.y


# -- the whole run -----------------------------------------------------------------------------

@dataclass
class TrainResult:
    """Everything :func:`train` produced; :func:`save_model_folder` writes it."""

    model: Any
    targets: Targets
    split: Split
    history: pd.DataFrame
    best_epoch: int
    metrics: dict
    baselines: dict
    restarts: list = field(default_factory=list)
    cv: dict | None = None
    test_outputs: np.ndarray | None = None
    warnings: list = field(default_factory=list)
    choices: dict = field(default_factory=dict)
    model_config: Any = None
    train_config: Any = None
    quality: dict = field(default_factory=dict)

    def best_baseline(self) -> tuple[str, float]:
        """Name and main-metric value of the best baseline."""

        key = main_metric(self.targets.task)
        name = max(self.baselines, key=lambda b: _headline(self.baselines[b], key))
        return name, _headline(self.baselines[name], key)

    @property
    def cnn_beats_baselines(self) -> bool:

        cnn = _headline(self.metrics, main_metric(self.targets.task))
        return bool(cnn > self.best_baseline()[1])

    def report(self) -> str:
        """The text report ``seqexplain train`` prints (:func:`format_report`)."""
        return format_report(self)


def _headline(metrics: dict, key: str) -> float:
    value = metrics.get(key, math.nan)
    if isinstance(value, dict):  # per-class values: use the macro mean
        value = float(np.nanmean(list(value.values())))
    return -math.inf if value is None or (isinstance(value, float) and math.isnan(value)) \
        else float(value)


def train(X: np.ndarray, targets: Targets, model_config=None, config: TrainConfig | None = None,
          groups: np.ndarray | None = None, nucleic: bool = True,
          log: Callable[[str], None] | None = None) -> TrainResult:
    """Train a CNN on one-hot ``X`` (n, length, channels) for ``targets`` and evaluate it.

    Runs ``config.restarts`` seeds on one holdout split and keeps the model with the best
    validation loss; metrics of the kept model on the test split are reported beside the
    baselines (trivial, k-mer, positional), each fitted on the training split. With
    ``config.cv`` ≥ 2 it also reports K-fold cross-validated metrics (mean ± sd).
    """

    from .models import ModelConfig

    config = config or TrainConfig()
    model_config = model_config if model_config is not None else ModelConfig()
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    say = log if config.verbose else (lambda msg: None)
    split = split_indices(targets, config, groups)
    say(f"split: {len(split.train)} training, {len(split.val)} validation, "
        f"{len(split.test)} test records")
    # baselines first: they are reported beside the CNN and tell whether the task is
    # strand-specific (reverse-complement augmentation would then teach the CNN a wrong rule)
    fitted = fit_baseline_models(X, targets, split, config, nucleic)
    rc, rc_choice = choose_reverse_complement(X, targets, split, config, nucleic, fitted)
    choices = {"reverse_complement": rc_choice}
    say(f"reverse-complement augmentation {'on' if rc else 'off'}: {rc_choice['reason']}")
    # capacity and regularisation follow the number of training sequences and their length;
    # what the user set is kept
    rule = capacity_rule(len(split.train), X.shape[1])
    sized_model, run_config, choices["capacity"] = apply_capacity_rule(
        rule, model_config, replace(config, reverse_complement=rc))
    say(f"capacity: {choices['capacity']['summary']}")

    def fit_and_test(seed, mc, tc, prefix):
        model, history, best = fit_cnn(X[split.train], targets.subset(split.train),
                                       X[split.val], targets.subset(split.val), mc, tc, seed,
                                       nucleic, prefix)
        outputs = predict_outputs(model, X[split.test])
        metrics = evaluate(targets.task, true_for_metrics(targets.subset(split.test)),
                           scores_for_metrics(targets.task, outputs), _names_of(targets))
        return {"seed": seed, "val_loss": float(history["val_loss"].min()),
                "best_epoch": best, "epochs": len(history), "metrics": metrics,
                "model": model, "history": history, "outputs": outputs,
                "model_config": mc, "train_config": tc}

    runs = []
    for r in range(config.restarts):
        prefix = f"[restart {r + 1}/{config.restarts}] " if config.restarts > 1 else ""
        runs.append(fit_and_test(config.seed + 1000 * r, sized_model, run_config, prefix))
    best_run = min(runs, key=lambda run: run["val_loss"])
    # a run that stalled or memorised (clearly below the best baseline on validation, or no
    # better than chance) is trained again with less capacity and more regularisation: a
    # new seed alone repeats what failed
    check = collapse_check(best_run["model"], X, targets, split, fitted)
    if check["retrained"]:
        seed = config.seed + 1000 * config.restarts
        smaller = capacity_rule(len(split.train), X.shape[1], step_down=True)
        retry_model, retry_config, retry_choice = apply_capacity_rule(smaller, model_config,
                                                                      run_config)
        changed = {k: v for k, v in retry_choice["from_rule"].items()
                   if choices["capacity"]["from_rule"].get(k) != v}
        check["retry"] = {"tier": smaller["tier"], "seed": seed, "changed": changed}
        what = (f"the {smaller['tier']} configuration ("
                + ", ".join(f"{k} {_show(v)}" for k, v in changed.items()) + ")"
                if changed else "the same settings (all were set by the user)")
        say(f"retraining with {what} and seed {seed}: {check['reason']}")
        retry = fit_and_test(seed, retry_model, retry_config, "[retry] ")
        retry["retry"] = True
        runs.append(retry)
        again = collapse_check(retry["model"], X, targets, split, fitted)
        check["validation_retry"] = again["validation_cnn"]
        if again["validation_cnn"] > check["validation_cnn"]:
            best_run = retry
            check["kept"] = "retry"
        else:
            check["kept"] = "first"
    choices["collapse_check"] = check
    baselines = baseline_test_metrics(fitted, X, targets, split)
    choices["head"] = choose_position_path(best_run["model"], X[split.val],
                                           targets.subset(split.val))
    if choices["head"].get("position_path") == "off":  # the kept model changed: re-test it
        best_run["outputs"] = predict_outputs(best_run["model"], X[split.test])
        best_run["metrics"] = evaluate(
            targets.task, true_for_metrics(targets.subset(split.test)),
            scores_for_metrics(targets.task, best_run["outputs"]), _names_of(targets))
    result = TrainResult(
        model=best_run["model"], targets=targets, split=split, history=best_run["history"],
        best_epoch=best_run["best_epoch"], metrics=best_run["metrics"], baselines=baselines,
        restarts=[{k: v for k, v in run.items()
                   if k not in ("model", "history", "outputs", "model_config", "train_config")}
                  for run in runs],
        test_outputs=best_run["outputs"], choices=choices,
        model_config=best_run["model_config"], train_config=best_run["train_config"])
    if config.cv:
        result.cv = cross_validate(X, targets, result.model_config, result.train_config,
                                   groups, nucleic, say)
    result.quality = quality_check(best_run["model"], X, targets, split, fitted)
    if result.quality["failed"]:
        result.warnings.append(result.quality["message"])
    elif not result.cnn_beats_baselines:
        key = main_metric(targets.task)
        name, value = result.best_baseline()
        result.warnings.append(
            f"the CNN does not beat the best baseline on the test set ({key}: CNN "
            f"{_headline(result.metrics, key):.4f}, {name} {value:.4f}); "
            + what_would_help(name, result.choices, result.model_config, config, nucleic))
    return result


def _show(value) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


# -- capacity and regularisation that follow the data ------------------------------------------

#: the capacity rule's tiers, by the number of training sequences: (name, fewer than this
#: many, settings). Measured (issue 28): 600 genome windows of 200 bp with a planted 10-mer
#: (420 training sequences) — the large tier memorised the training set in two epochs
#: (test AUROC 0.60, k-mer baseline 0.96), the small tier reached 1.000.
CAPACITY_TIERS = (
    ("small", 1_000, {"n_conv_blocks": 1, "filters": 32, "dense_units": [32],
                      "conv_dropout": 0.2, "dense_dropout": 0.5, "l2": 1e-5,
                      "learning_rate": 3e-3, "patience": 15}),
    ("medium", 5_000, {"n_conv_blocks": 2, "filters": 64, "dense_units": [64],
                       "conv_dropout": 0.2, "dense_dropout": 0.5, "l2": 1e-6,
                       "learning_rate": 3e-3, "patience": 10}),
    ("large", math.inf, {"n_conv_blocks": 2, "filters": 128, "dense_units": [128],
                         "conv_dropout": 0.2, "dense_dropout": 0.5, "l2": 1e-6,
                         "learning_rate": 3e-3, "patience": 10}),
)
#: the retry below the small tier (collapse check): less capacity, more regularisation
REDUCED_TIER = ("reduced", 0, {"n_conv_blocks": 1, "filters": 16, "dense_units": [16],
                               "conv_dropout": 0.3, "dense_dropout": 0.5, "l2": 1e-4,
                               "learning_rate": 1e-3, "patience": 20})
#: a second conv block needs the first block's pooled map (length // 4) to hold its kernel
#: (7) a few times over: below this length the rule uses one block
MIN_LENGTH_TWO_BLOCKS = 32


def capacity_rule(n_train: int, length: int, step_down: bool = False) -> dict:
    """The data-sized settings for ``n_train`` training sequences of ``length`` positions.

    Tiers (:data:`CAPACITY_TIERS`): under 1,000 training sequences *small* (one conv block
    of 32 filters, 32 dense units, L2 1e-5, patience 15); under 5,000 *medium* (64 and 32
    filters, 64 dense units); from 5,000 *large* (128 and 64 filters, 128 dense units; the
    :class:`~seqexplain.models.ModelConfig` class defaults). Sequences shorter than
    :data:`MIN_LENGTH_TWO_BLOCKS` get one conv block. ``step_down`` gives the next tier down
    (from *small*: :data:`REDUCED_TIER`), which the collapse check retrains with.

    Returns ``{"tier", "n_train", "length", "settings"}``; ``settings`` holds
    :data:`~seqexplain.models.SIZED_FIELDS` values and ``patience``.
    """
    tiers = list(CAPACITY_TIERS)
    index = next(i for i, (_, below, _) in enumerate(tiers) if n_train < below)
    name, _, settings = (tiers[index - 1] if index > 0 else REDUCED_TIER) if step_down \
        else tiers[index]
    settings = dict(settings)
    if length < MIN_LENGTH_TWO_BLOCKS:
        settings["n_conv_blocks"] = 1
    return {"tier": name, "n_train": int(n_train), "length": int(length),
            "settings": settings}


def apply_capacity_rule(rule: dict, model_config, config: TrainConfig):
    """``(model config, training config, record)``: the rule's settings for every field the
    user did not set (:attr:`ModelConfig.given <seqexplain.models.ModelConfig.given>`;
    ``config.patience`` not ``None``). The record (``choices["capacity"]`` in metadata.json)
    names the tier, the values taken from the rule and the settings the user gave."""
    from .models import SIZED_FIELDS

    settings = rule["settings"]
    sized = model_config.sized(settings)
    given = {k: model_config.given[k] for k in SIZED_FIELDS if k in model_config.given}
    from_rule = {k: settings[k] for k in SIZED_FIELDS if k not in given}
    if config.patience is None:
        from_rule["patience"] = settings["patience"]
        config = replace(config, patience=settings["patience"])
    else:
        given["patience"] = config.patience
    summary = (f"{rule['tier']} ({rule['n_train']} training sequences of {rule['length']}): "
               + (", ".join(f"{k} {_show(v)}" for k, v in from_rule.items()) or "nothing")
               + (f"; set by the user: " + ", ".join(f"{k} {_show(v)}" for k, v in
                                                     given.items()) if given else ""))
    record = {"tier": rule["tier"], "n_train": rule["n_train"], "length": rule["length"],
              "from_rule": from_rule, "given": given, "summary": summary}
    return sized, config, record


#: reverse-complement augmentation goes off when the best baseline loses more than this
#: fraction of its validation skill (main metric above chance) on reverse-complemented
#: validation sequences: the task is then strand-specific. Measured: CTCF peaks (motif on
#: either strand) lose 9 % (k-mer 0.921 → 0.882 on 150 validation records), E. coli start
#: windows 55 % (positional 0.930 → 0.692)
RC_SKILL_LOSS = 0.25
#: ... and the baseline must have at least this much skill for its verdict to count
RC_MIN_SKILL = 0.05


def choose_reverse_complement(X: np.ndarray, targets: Targets, split: Split,
                              config: TrainConfig, nucleic: bool,
                              fitted: dict[str, Any]) -> tuple[bool, dict]:
    """Whether to augment with reverse complements, and why (a JSON-ready record).

    A user's setting (``config.reverse_complement`` not ``None``) is kept. Otherwise, for
    DNA/RNA, the baselines fitted on the training split (``fitted``, from
    :func:`fit_baseline_models`) score the validation sequences and their reverse
    complements: a strand-symmetric task (a motif bound on either strand) scores the same on
    both, while a strand-specific one (translation starts, splice sites, promoters aligned on
    the transcription start) loses its signal. Augmentation is on unless the best baseline
    loses more than :data:`RC_SKILL_LOSS` of its skill above chance — reversed windows of a
    strand-specific task are examples of a rule that does not hold. Protein: always off.
    """
    if not nucleic:
        if config.reverse_complement:
            raise SeqexplainError("reverse-complement augmentation needs DNA or RNA sequences")
        return False, {"value": False, "by": "alphabet",
                       "reason": "protein sequences have no reverse complement"}
    if config.reverse_complement is not None:
        return bool(config.reverse_complement), {
            "value": bool(config.reverse_complement), "by": "user",
            "reason": "set by --reverse-complement/--no-reverse-complement"}
    key = main_metric(targets.task)
    chance = 0.0 if targets.task == "regression" else 0.5
    val_t = targets.subset(split.val)
    X_val = X[split.val]
    X_rc = X_val[:, ::-1, ::-1]  # complement = reversed channel order (ACGT, ACGU)
    scores = {}
    for name, model in fitted.items():
        if name == "trivial":
            continue
        scores[name] = tuple(
            _headline(evaluate(targets.task, true_for_metrics(val_t), model.predict_scores(x),
                               _names_of(targets)), key) for x in (X_val, X_rc))
    name = max(scores, key=lambda n: scores[n][0])
    forward, reverse = scores[name]
    skill = forward - chance
    record = {"by": "validation", "baseline": name, "metric": key,
              "validation": round(forward, 4), "validation_reverse_complement": round(reverse, 4)}
    if skill < RC_MIN_SKILL:
        return True, {"value": True, **record,
                      "reason": f"no baseline has skill on validation ({name} {key} "
                                f"{forward:.3f}); default on"}
    if forward - reverse > RC_SKILL_LOSS * skill:
        return False, {"value": False, **record,
                       "reason": f"strand-specific task: the {name} baseline scores validation "
                                 f"{key} {forward:.3f}, but {reverse:.3f} on the reverse "
                                 f"complements"}
    return True, {"value": True, **record,
                  "reason": f"strand-symmetric task: the {name} baseline scores validation "
                            f"{key} {forward:.3f}, and {reverse:.3f} on the reverse complements"}


#: a trained CNN this far below the best baseline on the validation main metric has stalled;
#: it is trained again with less capacity (:func:`capacity_rule` ``step_down``)
COLLAPSE_MARGIN = 0.01
#: a difference counts as beyond validation noise when it exceeds this many bootstrap
#: standard errors (:func:`bootstrap_se`)
NOISE_Z = 2.0
#: resamples of the validation set for :func:`bootstrap_se`
BOOTSTRAP_SAMPLES = 200


def _chance(task: str) -> float:
    return 0.0 if task == "regression" else 0.5


def bootstrap_se(targets: Targets, scores_a: np.ndarray, scores_b: np.ndarray | None = None,
                 samples: int = BOOTSTRAP_SAMPLES, seed: int = 0) -> float:
    """Bootstrap standard error of the main metric of ``scores_a`` (n, …) on ``targets`` —
    or, given ``scores_b``, of the paired difference metric(a) − metric(b), both scored on
    the same resampled records. Resamples where the metric is undefined (one class only)
    are skipped. Seeded: the same inputs give the same value."""
    y = np.asarray(true_for_metrics(targets))
    rng = np.random.default_rng(seed)
    n = len(y)
    values = []
    for _ in range(samples):
        idx = rng.integers(0, n, n)
        a = _fast_main_metric(targets.task, y[idx], np.asarray(scores_a)[idx])
        b = 0.0 if scores_b is None else _fast_main_metric(targets.task, y[idx],
                                                            np.asarray(scores_b)[idx])
        if math.isfinite(a) and math.isfinite(b):
            values.append(a - b)
    return float(np.std(values, ddof=1)) if len(values) > 1 else math.inf


def _fast_main_metric(task: str, y: np.ndarray, scores: np.ndarray) -> float:
    """The main metric (:func:`~seqexplain.metrics.main_metric`) without
    :func:`~seqexplain.metrics.evaluate`'s other metrics and checks, for the bootstrap:
    AUROC from ranks (Mann–Whitney; macro mean over labels or one-vs-rest classes), or the
    macro-mean Pearson r. NaN where undefined (one class only, a constant)."""
    from scipy.stats import rankdata

    def auroc(truth, score):
        truth = truth.astype(bool)
        pos, neg = int(truth.sum()), int((~truth).sum())
        if pos == 0 or neg == 0:
            return math.nan
        ranks = rankdata(score)
        return (ranks[truth].sum() - pos * (pos + 1) / 2) / (pos * neg)

    if task == "binary":
        return auroc(y.reshape(-1), scores.reshape(-1))
    if task == "multiclass":
        columns = [auroc(y == k, scores[:, k]) for k in range(scores.shape[1])]
    elif task == "multilabel":
        columns = [auroc(y[:, j], scores[:, j]) for j in range(y.shape[1])]
    else:
        y2, s2 = y.reshape(len(y), -1), scores.reshape(len(scores), -1)
        columns = [np.corrcoef(y2[:, j], s2[:, j])[0, 1] if y2[:, j].std() > 0
                   and s2[:, j].std() > 0 else math.nan for j in range(y2.shape[1])]
    columns = [c for c in columns if math.isfinite(c)]
    return float(np.mean(columns)) if columns else math.nan


def _validation_scores(model, X: np.ndarray, targets: Targets, split: Split,
                       fitted: dict[str, Any]) -> dict:
    """Main-metric inputs on the validation split: the CNN's scores, the best non-trivial
    baseline's, and their metrics."""
    key = main_metric(targets.task)
    val_t = targets.subset(split.val)
    X_val = X[split.val]

    def score(outputs) -> float:
        return _headline(evaluate(targets.task, true_for_metrics(val_t), outputs,
                                  _names_of(targets)), key)

    cnn_scores = scores_for_metrics(targets.task, predict_outputs(model, X_val))
    base_scores = {name: m.predict_scores(X_val) for name, m in fitted.items()
                   if name != "trivial"}
    base = {name: score(v) for name, v in base_scores.items()}
    name = max(base, key=base.get)
    return {"key": key, "targets": val_t, "cnn_scores": cnn_scores, "cnn": score(cnn_scores),
            "baseline": name, "baseline_scores": base_scores[name], "base": base[name]}


def collapse_check(model, X: np.ndarray, targets: Targets, split: Split,
                   fitted: dict[str, Any]) -> dict:
    """Validation main metric of the CNN and of the best non-trivial baseline, and whether
    the CNN fell more than :data:`COLLAPSE_MARGIN` below it, or shows no skill above chance
    beyond validation noise (``retrained``)."""
    v = _validation_scores(model, X, targets, split, fitted)
    key, cnn, name, base = v["key"], v["cnn"], v["baseline"], v["base"]
    chance = _chance(targets.task)
    below = cnn < base - COLLAPSE_MARGIN
    no_skill = cnn - chance <= NOISE_Z * bootstrap_se(v["targets"], v["cnn_scores"])
    if below:
        reason = f"the CNN scores validation {key} {cnn:.3f}, below the {name} baseline's " \
                 f"{base:.3f}"
    elif no_skill:
        reason = f"the CNN scores validation {key} {cnn:.3f}, no better than chance " \
                 f"({chance:g}) beyond validation noise"
    else:
        reason = "no stall"
    return {"metric": key, "validation_cnn": round(cnn, 4), "baseline": name,
            "validation_baseline": round(base, 4), "retrained": bool(below or no_skill),
            "reason": reason}


def quality_check(model, X: np.ndarray, targets: Targets, split: Split,
                  fitted: dict[str, Any]) -> dict:
    """Did training fail? The kept CNN on the validation split against the best non-trivial
    baseline and chance; a JSON-ready record (``quality`` in metadata.json).

    ``below_baseline``: the CNN is more than :data:`COLLAPSE_MARGIN` below the baseline and
    the gap is beyond validation noise (:data:`NOISE_Z` paired bootstrap standard errors);
    ``no_skill``: the CNN is within :data:`NOISE_Z` bootstrap standard errors of chance.
    ``failed`` is either; ``message`` is then the one-line warning that ``train`` prints and
    that loading the model folder repeats (:meth:`seqexplain.bundle.ModelBundle.load`)."""
    v = _validation_scores(model, X, targets, split, fitted)
    key, cnn, name, base = v["key"], v["cnn"], v["baseline"], v["base"]
    chance = _chance(targets.task)
    se_gap = bootstrap_se(v["targets"], v["baseline_scores"], v["cnn_scores"])
    se_cnn = bootstrap_se(v["targets"], v["cnn_scores"])
    below = base - cnn > max(COLLAPSE_MARGIN, NOISE_Z * se_gap)
    no_skill = cnn - chance <= NOISE_Z * se_cnn
    record = {"metric": key, "split": "validation", "n": int(len(split.val)),
              "cnn": round(cnn, 4), "baseline": name, "baseline_value": round(base, 4),
              "chance": chance, "se_gap": round(se_gap, 4), "se_cnn": round(se_cnn, 4),
              "below_baseline": bool(below), "no_skill": bool(no_skill),
              "failed": bool(below or no_skill)}
    if below:
        record["message"] = (f"the CNN failed: validation {key} {cnn:.3f}, clearly below the "
                             f"{name} baseline's {base:.3f}; its explanations, motifs and "
                             f"variant scores are not to be trusted (metadata.json: quality)")
    elif no_skill:
        record["message"] = (f"the CNN failed: validation {key} {cnn:.3f} is no better than "
                             f"chance ({chance:g}; best baseline {name} {base:.3f}); its "
                             f"explanations, motifs and variant scores are not to be trusted "
                             f"(metadata.json: quality)")
    return record


#: the positional path is kept when it adds at least this much to the validation main metric
#: and more than :data:`NOISE_Z` paired bootstrap standard errors of that gain
POSITION_PATH_MIN_GAIN = 0.002
#: ... or when switching it off raises the validation loss by more than this factor
POSITION_PATH_MAX_LOSS_RISE = 1.1


def choose_position_path(model, X_val: np.ndarray, val_targets: Targets) -> dict:
    """Keep or switch off the trained model's positional path, by the validation split.

    The main metric is measured with the path and without it (each position's weights set
    to their mean over the letters: a constant on one-hot input). When the path adds less
    than :data:`POSITION_PATH_MIN_GAIN`, or a gain within validation noise (less than
    :data:`NOISE_Z` paired bootstrap standard errors, :func:`bootstrap_se`), and switching
    it off raises the validation loss by less than 10 % (:data:`POSITION_PATH_MAX_LOSS_RISE`),
    it stays switched off that way in ``model`` (changed in place): position carries nothing
    the convolutions do not, and the path would only add small position-by-position terms
    to every attribution map. Returns a JSON-ready record of the head and the figures."""
    key = main_metric(val_targets.task)
    names = [layer.name for layer in model.layers]
    pool = "global max pooling" if "global_pool" in names else "flatten"
    if "position_linear" not in names:
        return {"architecture": f"convolutions + {pool}", "position_path": "absent",
                "reason": "position_path is off in the model config"}
    layer = model.get_layer("position_linear")
    saved = layer.get_weights()

    def score() -> tuple[float, float, np.ndarray]:
        outputs = scores_for_metrics(val_targets.task, predict_outputs(model, X_val))
        loss = model.evaluate(X_val, keras_targets(val_targets), batch_size=256, verbose=0,
                              return_dict=True)["loss"]
        return _headline(evaluate(val_targets.task, true_for_metrics(val_targets), outputs,
                                  _names_of(val_targets)), key), float(loss), outputs

    (with_path, loss_with, scores_with) = score()
    # "without": each position's weights replaced by their mean over the letters. On one-hot
    # input that is a constant (the offset the path had learnt, so calibration is kept) and
    # carries no information; its DeepLIFT/DeepSHAP attributions are exactly zero.
    kernel = saved[0]
    length, channels = model.input_shape[1], model.input_shape[2]
    per_position = kernel.reshape(length, channels, -1).mean(axis=1, keepdims=True)
    layer.set_weights([np.broadcast_to(per_position, (length, channels, kernel.shape[-1]))
                       .reshape(kernel.shape).astype(kernel.dtype)])
    without, loss_without, scores_without = score()
    gain = with_path - without
    se = bootstrap_se(val_targets, scores_with, scores_without) if gain > 0 else math.inf
    record = {"metric": key, "validation": round(with_path, 4),
              "validation_without_position_path": round(without, 4),
              "gain_se": round(se, 4) if math.isfinite(se) else None,
              "validation_loss": round(loss_with, 4),
              "validation_loss_without_position_path": round(loss_without, 4)}
    if gain >= POSITION_PATH_MIN_GAIN and gain > NOISE_Z * se:
        layer.set_weights(saved)
        return {"architecture": f"convolutions + {pool}, plus a positional linear path",
                "position_path": "on", **record,
                "reason": f"position matters: the positional path adds {gain:+.3f} "
                          f"validation {key} (bootstrap SE {se:.3f})"}
    if loss_without > POSITION_PATH_MAX_LOSS_RISE * loss_with:
        # the metric is saturated or blind to it, but the model's fit leans on the path
        layer.set_weights(saved)
        return {"architecture": f"convolutions + {pool}, plus a positional linear path",
                "position_path": "on", **record,
                "reason": f"the model's fit leans on it: validation loss {loss_with:.3f} "
                          f"with the positional path, {loss_without:.3f} without"}
    noise = (f"within validation noise (bootstrap SE {se:.3f})"
             if gain >= POSITION_PATH_MIN_GAIN else f"< {POSITION_PATH_MIN_GAIN}")
    return {"architecture": f"convolutions + {pool} (positional path switched off: a "
                            "constant)", "position_path": "off", **record,
            "reason": f"position carries nothing here: the positional path adds "
                      f"{gain:+.3f} validation {key} ({noise})"}


def what_would_help(baseline: str, choices: dict, model_config, config: TrainConfig,
                    nucleic: bool) -> str:
    """A hint naming the options most likely to close the gap to ``baseline``."""
    hints = []
    if baseline == "positional":
        if nucleic and choices.get("reverse_complement", {}).get("value"):
            hints.append("--no-reverse-complement (windows aligned on a strand-specific "
                         "landmark)")
        if choices.get("head", {}).get("position_path") != "on":
            hints.append("the positional path (--position-path; it was off)")
        hints.append("--global-pool flatten (position-resolved features)")
    elif baseline.startswith("kmer"):
        hints.append("--conv-blocks 1 or --filters 32 (less capacity: few records)")
    else:
        hints.append("more data")
    if config.restarts == 1:
        hints.append("--restarts 3")
    return "try " + ", or ".join(hints)


def fit_baseline_models(X: np.ndarray, targets: Targets, split: Split, config: TrainConfig,
                        nucleic: bool) -> dict[str, Any]:
    """The baselines (trivial, k-mer, positional), each fitted on the training split."""
    k = config.kmer or (4 if nucleic else 2)
    out = {}
    for name, model in (("trivial", TrivialBaseline()), (f"kmer{k}", KmerBaseline(k=k)),
                        ("positional", PositionalBaseline())):
        model.fit(X[split.train], _baseline_targets(targets.subset(split.train)), targets.task)
        out[name] = model
    return out


def baseline_test_metrics(fitted: dict[str, Any], X: np.ndarray, targets: Targets,
                          split: Split) -> dict[str, dict]:
    """Test metrics of each fitted baseline."""
    test_t = targets.subset(split.test)
    return {name: evaluate(targets.task, true_for_metrics(test_t),
                           model.predict_scores(X[split.test]), _names_of(targets))
            for name, model in fitted.items()}


def fit_baselines(X: np.ndarray, targets: Targets, split: Split, config: TrainConfig,
                  nucleic: bool) -> dict[str, dict]:
    """Test metrics of each baseline, fitted on the training split."""
    return baseline_test_metrics(fit_baseline_models(X, targets, split, config, nucleic), X,
                                 targets, split)


def _baseline_targets(targets: Targets) -> np.ndarray:
    return targets.y[:, 0] if targets.task == "binary" else targets.y


def cross_validate(X: np.ndarray, targets: Targets, model_config, config: TrainConfig,
                   groups: np.ndarray | None, nucleic: bool, say=print) -> dict:
    """K-fold (repeated) cross-validation; returns per-fold metrics and their mean and sd."""
    from sklearn.model_selection import (GroupKFold, RepeatedKFold, RepeatedStratifiedKFold,
                                         train_test_split)


    n = len(targets.y)
    key = targets.stratify_key()
    if groups is not None:
        if config.cv_repeats > 1:
            raise SeqexplainError("--cv-repeats with --split-by: grouped folds are fixed; "
                                  "use one repeat")
        folds = list(GroupKFold(n_splits=config.cv).split(np.arange(n), groups=groups))
    elif _stratify(key, n, 1 / config.cv) is not None:
        folds = list(RepeatedStratifiedKFold(n_splits=config.cv, n_repeats=config.cv_repeats,
                                             random_state=config.seed).split(np.arange(n), key))
    else:
        folds = list(RepeatedKFold(n_splits=config.cv, n_repeats=config.cv_repeats,
                                   random_state=config.seed).split(np.arange(n)))
    per_fold = []
    for f, (rest, test) in enumerate(folds):
        strat = _stratify(None if key is None else key[rest], len(rest), config.val_fraction)
        tr, va = train_test_split(rest, test_size=config.val_fraction,
                                  random_state=config.seed + f, stratify=strat)
        model, _, _ = fit_cnn(X[tr], targets.subset(tr), X[va], targets.subset(va),
                              model_config, config, config.seed + 7919 * (f + 1), nucleic,
                              prefix=f"[fold {f + 1}/{len(folds)}] ")
        test_t = targets.subset(test)
        outputs = predict_outputs(model, X[test])
        per_fold.append(evaluate(targets.task, true_for_metrics(test_t),
                                 scores_for_metrics(targets.task, outputs),
                                 _names_of(targets)))
        say(f"fold {f + 1}/{len(folds)}: " + _short(per_fold[-1]))
    return {"folds": per_fold, "summary": summarize(per_fold)}


def _short(metrics: dict) -> str:
    return " ".join(f"{k} {v:.3f}" for k, v in metrics.items() if isinstance(v, (int, float)))


def _names_of(targets: Targets) -> list[str]:
    """Names for per-class/label/target metric entries."""
    return targets.class_names or targets.output_names


# -- from files to a model folder --------------------------------------------------------------

SEQUENCE_KEYS = ("alphabet", "length", "pad", "crop", "unknown")


def read_config_file(path) -> dict:
    """A YAML or JSON config: training keys, sequence keys and a ``model:`` mapping."""

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise SeqexplainError(f"{path}: no such config file")
    try:
        with open(path) as fh:
            data = yaml.safe_load(fh)  # JSON is YAML
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0]
        raise SeqexplainError(f"{path}: cannot parse config ({first})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SeqexplainError(f"{path}: a config file must be a mapping of settings")
    return data


@dataclass(frozen=True)
class TrainSetup:
    """A training run's settings: ``train`` (:class:`TrainConfig`), ``model``
    (:class:`~seqexplain.models.ModelConfig`), ``labels`` (a label table's path or ``None``)
    and ``sequence`` (the sequence keys given: alphabet, length, pad, crop, unknown — the
    keyword arguments of :func:`train_model_folder`)."""

    train: TrainConfig
    model: Any
    labels: str | None = None
    sequence: dict[str, Any] = field(default_factory=dict)


def read_train_setup(path=None, *, model: dict | None = None, labels: str | None = None,
                     **overrides) -> TrainSetup:
    """Merge a YAML/JSON config file (``path``; ``None``: none), overrides and defaults, as
    ``seqexplain train`` does: ``overrides`` (training keys of :class:`TrainConfig` and
    sequence keys) and ``model`` (keys of ``ModelConfig``; ``None`` values left out) win over
    the file's keys and its ``model:`` mapping; ``labels`` over the file's ``labels``; the
    defaults fill the rest. Unknown keys are errors naming the closest valid one."""
    from .models import ModelConfig

    values = dict(read_config_file(path)) if path is not None else {}
    model_values = dict(values.pop("model", None) or {})
    model_values.update({k: v for k, v in (model or {}).items() if v is not None})
    labels = labels or values.pop("labels", None)
    values.pop("labels", None)
    sequence = {k: values.pop(k) for k in SEQUENCE_KEYS if k in values}
    for key, value in overrides.items():
        (sequence if key in SEQUENCE_KEYS else values)[key] = value
    try:
        train = TrainConfig.from_dict(values)
    except TypeError as exc:
        raise SeqexplainError(f"training config: {exc}") from None
    return TrainSetup(train, ModelConfig.from_dict(model_values), labels, sequence)


@dataclass
class TrainingData:
    """Encoded records with their targets (and split groups), ready for :func:`train`."""

    records: Any
    encoded: Any
    targets: Targets
    groups: np.ndarray | None

    def metadata(self, result: TrainResult, train_config: TrainConfig, model_config,
                 pad: str, crop: str, unknown: str) -> dict:

        enc = self.encoded
        return build_metadata(result, enc.alphabet, enc.length, pad, crop, unknown,
                              train_config, model_config,
                              list(dict.fromkeys(self.records.sources)), len(self.records),
                              {"n_padded": enc.n_padded, "n_cropped": enc.n_cropped})


def load_training_data(fastas: list[str], labels: str | None, train_config: TrainConfig,
                       alphabet: str = "auto", length: int | None = None, pad: str = "center",
                       crop: str = "center", unknown: str = "zero",
                       say: Callable[[str], None] = lambda msg: None) -> TrainingData:
    """Read and encode FASTA file(s), join their labels, take the ``split_by`` column out as
    groups and build the targets of ``train_config.task`` (inferred when ``None``)."""

    records, enc = read_encoded(fastas, alphabet=alphabet, length=length, pad=pad, crop=crop,
                                unknown=unknown)
    table = labels_for(records, labels)
    groups = None
    chroms = [genomic_interval(rid) for rid in records.ids]
    if train_config.split_by == "chrom" and all(chroms) and (
            table is None or "chrom" not in table.columns):
        # records from genome coordinates (``chrom:start-end``): split by chromosome
        groups = np.array([c[0] for c in chroms])
    elif train_config.split_by is not None:
        if labels is None or table is None or train_config.split_by not in table.columns:
            have = ", ".join(table.columns) if table is not None else "none"
            raise SeqexplainError(f"--split-by {train_config.split_by!r}: no such column in the "
                                  f"labels table (columns: {have})")
        groups = table[train_config.split_by].astype(str).to_numpy()
        table = table.drop(columns=[train_config.split_by])
    label_source = labels or ", ".join(dict.fromkeys(records.sources))
    targets = make_targets(table, train_config.task, train_config.positive_class,
                           class_order=None if table is None else table.attrs.get("class_order"),
                           source=os.fspath(label_source))
    if targets.task in CLASSIFICATION and targets.task != "multilabel":
        say(f"task {targets.task}: classes {', '.join(targets.class_names)}"
            + (f" (positive: {targets.class_names[1]})" if targets.task == "binary" else ""))
    else:
        say(f"task {targets.task}: outputs {', '.join(targets.output_names)}")
    say(f"encoded {enc.summary()}")
    return TrainingData(records, enc, targets, groups)


def train_model_folder(fastas: list[str], out, labels: str | None = None,
                       train_config: TrainConfig | None = None, model_config=None,
                       alphabet: str = "auto", length: int | None = None, pad: str = "center",
                       crop: str = "center", unknown: str = "zero", force: bool = False,
                       log: Callable[[str], None] | None = None) -> TrainResult:
    """Read FASTA file(s) and labels, train, evaluate and write the model folder ``out``.

    Nothing is written unless training succeeds; an existing ``out`` is replaced only with
    ``force``. See :mod:`seqexplain.bundle` for the folder's files."""
    from .models import ModelConfig

    train_config = train_config or TrainConfig()
    model_config = model_config or ModelConfig()
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    check_writable(out, force)  # fail before the expensive part
    data = load_training_data(fastas, labels, train_config, alphabet, length, pad, crop,
                              unknown, say=log if train_config.verbose else (lambda msg: None))
    result = train(data.encoded.onehot, data.targets, model_config, train_config, data.groups,
                   nucleic=data.encoded.alphabet.is_nucleic, log=log)
    meta = data.metadata(result, train_config, model_config, pad, crop, unknown)
    with atomic_dir(out, force=force) as tmp:
        save_model_folder(result, tmp, meta, data.records.ids)
    return result


def format_report(result: TrainResult) -> str:
    """The metrics table printed after training: the CNN beside each baseline."""

    key = main_metric(result.targets.task)
    rows = {"CNN": result.metrics, **result.baselines}
    cols = [c for c in ("auroc", "auprc", "accuracy", "f1", "mcc", "macro_f1", "mse", "mae",
                        "pearson_r", "spearman_rho", "r2") if c in result.metrics]
    lines = [f"{'model':<12}" + "".join(f"{c:>14}" for c in cols)]
    for name, m in rows.items():
        lines.append(f"{name:<12}" + "".join(f"{_fmt(m.get(c)):>14}" for c in cols))
    if len(result.restarts) > 1:
        s = summarize([r["metrics"] for r in result.restarts])
        lines.append(f"restarts ({len(result.restarts)}): {key} "
                     f"{s[key]['mean']:.3f} ± {s[key]['sd']:.3f}")
    if result.cv:
        s = result.cv["summary"]
        lines.append(f"cross-validation ({len(result.cv['folds'])} folds): {key} "
                     f"{s[key]['mean']:.3f} ± {s[key]['sd']:.3f}")
    lines += describe_choices(result.choices)
    return "\n".join(lines)


def describe_choices(choices: dict) -> list[str]:
    """Lines saying which head and augmentation training chose, and why."""
    lines = []
    head = choices.get("head")
    if head:
        text = f"head: {head['architecture']}"
        if head.get("position_path") in ("on", "off"):
            text += (f"; validation {head['metric']} {head['validation']:.3f} with the "
                     f"positional path, {head['validation_without_position_path']:.3f} "
                     f"without ({head['reason']})")
        lines.append(text)
    capacity = choices.get("capacity")
    if capacity:
        lines.append(f"capacity: {capacity['summary']}")
    check = choices.get("collapse_check")
    if check and check.get("retrained"):
        retry = check.get("retry", {})
        how = (f"the {retry['tier']} configuration" if retry.get("changed")
               else "another seed")
        lines.append(f"retrained once with {how} ({check['reason']}); kept the "
                     f"{'retry' if check.get('kept') == 'retry' else 'first run'} "
                     f"(validation {check['metric']} {check['validation_cnn']:.3f} first, "
                     f"{check['validation_retry']:.3f} retry)")
    rc = choices.get("reverse_complement")
    if rc:
        lines.append(f"reverse-complement augmentation: {'on' if rc['value'] else 'off'} "
                     f"({rc['reason']})")
    return lines


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.4f}"


# -- writing the model folder (read by seqexplain.bundle) ----------------------------------

def package_versions() -> dict[str, str]:
    import keras
    import sklearn
    import tensorflow as tf

    return {"seqexplain": __version__, "python": platform.python_version(),
            "tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__,
            "pandas": pd.__version__, "scikit-learn": sklearn.__version__}


def build_metadata(result, alphabet: Alphabet, length: int, pad: str, crop: str, unknown: str,
                   train_config, model_config, sources: list[str], n_records: int,
                   encoding_summary: dict) -> dict:
    t = result.targets
    counts = None
    if t.task in ("binary", "multiclass"):
        labels = t.y[:, 0].astype(int) if t.task == "binary" else t.y
        counts = {t.class_names[i]: int(c) for i, c in
                  enumerate(np.bincount(labels, minlength=len(t.class_names)))}
    elif t.task == "multilabel":
        counts = {n: int(c) for n, c in zip(t.output_names, t.y.sum(axis=0))}
    return {
        "format_version": FORMAT_VERSION,
        "alphabet": {"name": alphabet.name, "letters": alphabet.letters},
        "input": {"length": int(length), "channels": alphabet.channels, "pad": pad,
                  "crop": crop, "unknown": unknown},
        "task": t.task,
        "output_names": t.output_names,
        "class_names": t.class_names,
        "logit_layer": "logits",
        "train_config": {**train_config.to_dict(), **_resolved_patience(result)},
        "model_config": (getattr(result, "model_config", None) or model_config).to_dict(),
        "split": {"seed": train_config.seed, "train": len(result.split.train),
                  "validation": len(result.split.val), "test": len(result.split.test),
                  "split_by": train_config.split_by},
        "data": {"sources": sources, "n_records": n_records, "class_counts": counts,
                 **encoding_summary},
        "best_epoch": result.best_epoch,
        "choices": getattr(result, "choices", {}),
        "quality": getattr(result, "quality", None) or {},
        "versions": package_versions(),
    }


def _resolved_patience(result) -> dict:
    """The patience training used (``None`` in the user's config means the rule's)."""
    used = getattr(result, "train_config", None)
    return {} if used is None else {"patience": used.patience}


def save_model_folder(result, folder: Path, metadata: dict, ids: list[str]) -> None:
    """Write a :class:`~seqexplain.train.TrainResult` into ``folder`` (which exists, empty)."""

    t = result.targets
    result.model.save(folder / MODEL_FILE)
    write_json(folder / METADATA_FILE, metadata)
    metrics = {
        "task": t.task, "main_metric": main_metric(t.task), "cnn": result.metrics,
        "baselines": result.baselines, "cnn_beats_baselines": result.cnn_beats_baselines,
        "restarts": result.restarts,
        "restart_summary": summarize([r["metrics"] for r in result.restarts]),
        "cv": result.cv, "warnings": result.warnings,
    }
    write_json(folder / METRICS_FILE, metrics)
    result.history.to_csv(folder / "history.csv", index=False)
    fig = plot_training_curves(result.history, t.task)
    fig.savefig(folder / "training_curves.png", dpi=110)

    plt.close(fig)
    ids = np.asarray(ids)
    pd.DataFrame({"id": ids, "split": result.split.names(len(ids))}).to_csv(
        folder / "splits.tsv", sep="\t", index=False)
    test_ids = ids[result.split.test]
    table = {"id": test_ids}
    truth = t.subset(result.split.test)
    if t.task == "multiclass":
        table["true"] = [t.class_names[i] for i in truth.y]
    else:
        for j, name in enumerate(t.output_names):
            table[f"true_{name}"] = truth.y[:, j]
    for j, name in enumerate(t.output_names):
        table[f"pred_{name}"] = result.test_outputs[:, j]
    pd.DataFrame(table).to_csv(folder / "test_predictions.tsv", sep="\t", index=False,
                               float_format="%.6g")
