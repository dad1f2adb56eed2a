"""Training: honest splits, early stopping, augmentation, restarts, cross-validation and
baselines, with the capacity and the choices that follow the data.

The flow is one way: encoded sequences + :class:`~seqexplain.targets.Targets` →
:func:`~seqexplain.training.splits.split_indices` → the baselines
(:mod:`seqexplain.training.evaluation`) → the capacity (:mod:`seqexplain.training.capacity`)
→ :func:`~seqexplain.training.fitting.fit_cnn` (per restart, and a retry when the collapse
check fails) → the choices on the validation split (:mod:`seqexplain.training.choices`) →
test metrics beside the baselines → :func:`train` returns a :class:`TrainResult`, which
:mod:`seqexplain.train_run` writes as a model folder.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np
import pandas as pd

from .metrics import (evaluate, headline_value, main_metric, metric_names, scores_for_metrics,
                      summarize, true_for_metrics)
from .targets import Targets
from .training.capacity import apply_capacity_rule, capacity_rule, format_setting
from .training.choices import (choose_pooling, choose_position_path, choose_reverse_complement,
                               collapse_check, describe_choices, quality_check,
                               what_would_help)
from .training.evaluation import baseline_test_metrics, cross_validate, fit_baseline_models
from .training.fitting import fit_cnn, predict_outputs
from .training.settings import TrainSettings
from .training.splits import Split, split_indices


@dataclass
class TrainResult:
    """Everything :func:`train` produced;
    :func:`seqexplain.train_run.save_model_folder` writes it."""

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
        name = max(self.baselines, key=lambda b: headline_value(self.baselines[b], key))
        return name, headline_value(self.baselines[name], key)

    @property
    def cnn_beats_baselines(self) -> bool:

        cnn = headline_value(self.metrics, main_metric(self.targets.task))
        return bool(cnn > self.best_baseline()[1])

    def report(self) -> str:
        """The text report ``seqexplain train`` prints (:func:`format_report`)."""
        return format_report(self)


def train(X: np.ndarray, targets: Targets, model_config=None, config: TrainSettings | None = None,
          groups: np.ndarray | None = None, nucleic: bool = True,
          log: Callable[[str], None] | None = None) -> TrainResult:
    """Train a CNN on one-hot ``X`` (n, length, channels) for ``targets`` and evaluate it.

    Runs ``config.restarts`` seeds on one holdout split and keeps the model with the best
    validation loss; metrics of the kept model on the test split are reported beside the
    baselines (trivial, k-mer, positional), each fitted on the training split. With
    ``config.cv`` ≥ 2 it also reports K-fold cross-validated metrics (mean ± sd).
    """

    from .models import ModelSettings

    config = config or TrainSettings()
    model_config = model_config if model_config is not None else ModelSettings()
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
    # windows aligned on a landmark keep where each filter matched (flatten, not max pooling)
    position_matters, choices["pooling"] = choose_pooling(X, targets, split, fitted)
    if "global_pool" in model_config.given:
        choices["pooling"] = {"value": model_config.global_pool, "by": "user",
                              "reason": "set by --global-pool"}
    say(f"pooling: {choices['pooling']['value']} ({choices['pooling']['reason']})")
    # capacity and regularisation follow the number of training sequences and their length;
    # what the user set is kept
    rule = capacity_rule(len(split.train), X.shape[1], position_matters=position_matters)
    sized_model, run_config, choices["capacity"] = apply_capacity_rule(
        rule, model_config, replace(config, reverse_complement=rc))
    say(f"capacity: {choices['capacity']['summary']}")

    def fit_and_test(seed, mc, tc, prefix):
        model, history, best = fit_cnn(X[split.train], targets.subset(split.train),
                                       X[split.val], targets.subset(split.val), mc, tc, seed,
                                       nucleic, prefix)
        outputs = predict_outputs(model, X[split.test])
        metrics = evaluate(targets.task, true_for_metrics(targets.subset(split.test)),
                           scores_for_metrics(targets.task, outputs), metric_names(targets))
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
        smaller = capacity_rule(len(split.train), X.shape[1], step_down=True,
                                position_matters=position_matters)
        retry_model, retry_config, retry_choice = apply_capacity_rule(smaller, model_config,
                                                                      run_config)
        changed = {k: v for k, v in retry_choice["from_rule"].items()
                   if choices["capacity"]["from_rule"].get(k) != v}
        check["retry"] = {"tier": smaller["tier"], "seed": seed, "changed": changed}
        what = (f"the {smaller['tier']} configuration ("
                + ", ".join(f"{k} {format_setting(v)}" for k, v in changed.items()) + ")"
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
            scores_for_metrics(targets.task, best_run["outputs"]), metric_names(targets))
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
            f"{headline_value(result.metrics, key):.4f}, {name} {value:.4f}); "
            + what_would_help(name, result.choices, result.model_config, config, nucleic))
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


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.4f}"
