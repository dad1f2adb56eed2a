"""The CNN's yardsticks: the baselines (trivial, k-mer, positional) fitted on the training
split and their test metrics, and K-fold cross-validation of the CNN."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..baselines import KmerBaseline, PositionalBaseline, TrivialBaseline
from ..errors import SeqexplainError
from ..metrics import evaluate, metric_names, scores_for_metrics, summarize, true_for_metrics
from ..targets import Targets
from .fitting import fit_cnn, predict_outputs
from .settings import TrainSettings
from .splits import Split, stratify


def fit_baseline_models(X: np.ndarray, targets: Targets, split: Split, config: TrainSettings,
                        nucleic: bool) -> dict[str, Any]:
    """The baselines (trivial, k-mer, positional), each fitted on the training split."""
    k = config.kmer or (4 if nucleic else 2)
    out = {}
    for name, model in (("trivial", TrivialBaseline()), (f"kmer{k}", KmerBaseline(k=k)),
                        ("positional", PositionalBaseline())):
        model.fit(X[split.train], true_for_metrics(targets.subset(split.train)), targets.task)
        out[name] = model
    return out


def baseline_test_metrics(fitted: dict[str, Any], X: np.ndarray, targets: Targets,
                          split: Split) -> dict[str, dict]:
    """Test metrics of each fitted baseline."""
    test_t = targets.subset(split.test)
    return {name: evaluate(targets.task, true_for_metrics(test_t),
                           model.predict_scores(X[split.test]), metric_names(targets))
            for name, model in fitted.items()}


def cross_validate(X: np.ndarray, targets: Targets, model_config, config: TrainSettings,
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
    elif stratify(key, n, 1 / config.cv) is not None:
        folds = list(RepeatedStratifiedKFold(n_splits=config.cv, n_repeats=config.cv_repeats,
                                             random_state=config.seed).split(np.arange(n), key))
    else:
        folds = list(RepeatedKFold(n_splits=config.cv, n_repeats=config.cv_repeats,
                                   random_state=config.seed).split(np.arange(n)))
    per_fold = []
    for f, (rest, test) in enumerate(folds):
        strat = stratify(None if key is None else key[rest], len(rest), config.val_fraction)
        tr, va = train_test_split(rest, test_size=config.val_fraction,
                                  random_state=config.seed + f, stratify=strat)
        model, _, _ = fit_cnn(X[tr], targets.subset(tr), X[va], targets.subset(va),
                              model_config, config, config.seed + 7919 * (f + 1), nucleic,
                              prefix=f"[fold {f + 1}/{len(folds)}] ")
        test_t = targets.subset(test)
        outputs = predict_outputs(model, X[test])
        per_fold.append(evaluate(targets.task, true_for_metrics(test_t),
                                 scores_for_metrics(targets.task, outputs),
                                 metric_names(targets)))
        say(f"fold {f + 1}/{len(folds)}: " + _short(per_fold[-1]))
    return {"folds": per_fold, "summary": summarize(per_fold)}


def _short(metrics: dict) -> str:
    return " ".join(f"{k} {v:.3f}" for k, v in metrics.items() if isinstance(v, (int, float)))
