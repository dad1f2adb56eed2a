"""Task types, label/score layouts and evaluation metrics (scikit-learn, scipy).

Layouts shared by models, baselines and metrics (``n`` sequences):

=============  ====================================  =========================================
task           labels ``y``                          scores (model/baseline predictions)
=============  ====================================  =========================================
binary         0/1, shape (n,) or (n, 1)             P(positive), shape (n,) or (n, 1)
multiclass     class index (n,) or one-hot (n, k)    class probabilities, shape (n, k)
multilabel     0/1, shape (n, L)                     P(label), shape (n, L)
regression     values, shape (n,) or (n, t)          predicted values, same shape
=============  ====================================  =========================================

Undefined metrics are NaN, never an error: AUROC when ``y_true`` holds one class only, AUPRC
without positives, correlations and R² when a side is constant.
"""

from __future__ import annotations

from collections.abc import Sequence
import math
from typing import Any

import numpy as np
from scipy import stats
from sklearn import metrics as skm

from .errors import SeqexplainError

TASKS = ("binary", "multiclass", "multilabel", "regression")

# the metric deciding "is the CNN better than the baseline"; higher is better for each
_MAIN_METRIC = {"binary": "auroc", "multiclass": "auroc", "multilabel": "auroc",
                "regression": "pearson_r"}


def check_task(task: str) -> str:
    """Return ``task`` if it is one of :data:`TASKS`, else raise :class:`SeqexplainError`."""
    if task not in TASKS:
        raise SeqexplainError(f"task={task!r}: choose one of {', '.join(TASKS)}")
    return task


def main_metric(task: str) -> str:
    """Name of the key of :func:`evaluate`'s result that ranks models for ``task``.

    "auroc" for binary, multilabel (macro mean over labels) and multiclass (macro mean of
    one-vs-rest AUROCs) — threshold-free, and 0.5 for a constant predictor; "pearson_r" for
    regression (macro mean over targets). Higher is better for all of them.
    """
    return _MAIN_METRIC[check_task(task)]


def normalize_targets(task: str, y: Any, n_outputs: int | None = None,
                      name: str = "y") -> np.ndarray:
    """Labels of ``task`` in one canonical layout, checked.

    Parameters
    ----------
    task : one of :data:`TASKS`.
    y : labels in any layout of the module table.
    n_outputs : the number of classes (multiclass), labels (multilabel) or targets; checked
        when given.
    name : what to call ``y`` in error messages.

    Returns
    -------
    numpy.ndarray
        binary: int (n,) of 0/1; multiclass: int (n,) class indices; multilabel: int (n, L)
        of 0/1; regression: float (n,) for one target, (n, t) for several.
    """
    check_task(task)
    y = np.asarray(y)
    if y.ndim == 0 or y.shape[0] == 0:
        raise SeqexplainError(f"{name}: expected one label per sequence, got shape {y.shape}")
    if task == "regression":
        y = _squeeze_column(y, name, task)
        y = _as_float(y, name)
        if n_outputs is not None and _width(y) != n_outputs:
            raise SeqexplainError(f"{name}: {_width(y)} regression targets; expected "
                                  f"{n_outputs}")
        return y
    if task == "multiclass":
        if y.ndim == 2 and y.shape[1] > 1:
            if not (_is_binary(y) and (y.sum(axis=1) == 1).all()):
                raise SeqexplainError(f"{name}: a 2-D multiclass label array must be one-hot "
                                      f"(one 1 per row)")
            k = y.shape[1]
            y = y.argmax(axis=1)
        else:
            y = _squeeze_column(y, name, task)
            if not np.issubdtype(y.dtype, np.number) or (y != np.round(y)).any() or (y < 0).any():
                raise SeqexplainError(f"{name}: multiclass labels must be class indices 0, 1, "
                                      f"… or one-hot rows")
            k = None
        y = y.astype(np.int64)
        k = n_outputs if k is None else k
        if n_outputs is not None and k != n_outputs:
            raise SeqexplainError(f"{name}: one-hot labels have {k} classes; expected "
                                  f"{n_outputs}")
        if k is not None and y.max() >= k:
            raise SeqexplainError(f"{name}: class index {int(y.max())} out of range for "
                                  f"{k} classes")
        return y
    if task == "binary":
        y = _squeeze_column(y, name, task)
        if y.ndim != 1:
            raise SeqexplainError(f"{name}: binary labels must have shape (n,) or (n, 1), "
                                  f"got {y.shape}; use task 'multilabel' for several labels")
    elif y.ndim != 2:
        raise SeqexplainError(f"{name}: multilabel labels must have shape (n, labels), got "
                              f"{y.shape}")
    elif n_outputs is not None and y.shape[1] != n_outputs:
        raise SeqexplainError(f"{name}: {y.shape[1]} labels; expected {n_outputs}")
    if not _is_binary(y):
        raise SeqexplainError(f"{name}: {task} labels must be 0 or 1")
    return y.astype(np.int64)


def normalize_scores(task: str, scores: Any, n: int | None = None,
                     name: str = "y_pred") -> np.ndarray:
    """Predictions in the canonical layout of :func:`normalize_targets`: binary (n,),
    multiclass (n, k), multilabel (n, L), regression (n,) or (n, t); float64, finite."""
    check_task(task)
    s = _as_float(np.asarray(scores), name)
    if task in ("binary", "regression"):
        s = _squeeze_column(s, name, task)
        if task == "binary" and s.ndim != 1:
            raise SeqexplainError(f"{name}: binary scores must have shape (n,) or (n, 1), got "
                                  f"{s.shape}")
    elif s.ndim != 2:
        raise SeqexplainError(f"{name}: {task} scores must have shape (n, outputs), got "
                              f"{s.shape}")
    if n is not None and s.shape[0] != n:
        raise SeqexplainError(f"{name}: {s.shape[0]} predictions for {n} labels")
    if not np.isfinite(s).all():
        raise SeqexplainError(f"{name}: predictions contain NaN or infinite values "
                              f"(did training diverge?)")
    return s


def evaluate(task: str, y_true: Any, y_pred: Any, class_names: Sequence[str] | None = None,
             threshold: float = 0.5) -> dict[str, Any]:
    """Metrics of predictions ``y_pred`` against labels ``y_true`` (layouts: module table).

    Parameters
    ----------
    task : one of :data:`TASKS`.
    y_true : labels, shape (n,), (n, 1), (n, k) one-hot (multiclass) or (n, L)/(n, t).
    y_pred : probabilities (classification) or values (regression), shape as in the table.
    class_names : names of the classes/labels/targets, for the per-class entries; default
        "0", "1", …. Not used for binary.
    threshold : probability at or above which a binary/multilabel prediction counts as
        positive, for accuracy, precision, recall, F1 and MCC.

    Returns
    -------
    dict
        Always ``task`` and ``n``. Scalars are Python floats (NaN where undefined).

        - binary: ``auroc``, ``auprc`` (average precision), ``accuracy``, ``precision``,
          ``recall``, ``f1``, ``mcc``.
        - multilabel: the same keys as macro means over labels (NaNs skipped), plus
          ``per_label``: name → the binary metrics of that label.
        - multiclass: ``accuracy``, ``macro_f1``, ``auroc`` (macro mean of one-vs-rest
          AUROCs), plus ``per_class``: name → ``auroc``, ``precision``, ``recall``, ``f1``.
        - regression: ``mse``, ``mae``, ``pearson_r``, ``spearman_rho``, ``r2``; with several
          targets these are macro means, plus ``per_target``: name → those metrics.
    """
    check_task(task)
    yp = normalize_scores(task, y_pred)
    n_outputs = None if task == "binary" else _width(yp)
    yt = normalize_targets(task, y_true, n_outputs=n_outputs, name="y_true")
    if yt.shape[0] != yp.shape[0]:
        raise SeqexplainError(f"y_pred: {yp.shape[0]} predictions for {yt.shape[0]} labels")
    result: dict[str, Any] = {"task": task, "n": int(yt.shape[0])}
    if task == "binary":
        result.update(_binary(yt, yp, threshold))
        return result
    names = _names(class_names, n_outputs)
    if task == "multiclass":
        result.update(_multiclass(yt, yp, names))
        return result
    if task == "multilabel":
        per = {nm: _binary(yt[:, j], yp[:, j], threshold) for j, nm in enumerate(names)}
        key = "per_label"
    else:
        if yt.ndim == 1:
            result.update(_regression(yt, yp))
            return result
        per = {nm: _regression(yt[:, j], yp[:, j]) for j, nm in enumerate(names)}
        key = "per_target"
    first = next(iter(per.values()))
    result.update({m: _nanmean([v[m] for v in per.values()]) for m in first})
    result[key] = per
    return result


def _binary(yt: np.ndarray, yp: np.ndarray, threshold: float) -> dict[str, float]:
    both = np.unique(yt).size == 2
    hard = (yp >= threshold).astype(np.int64)
    return {
        "auroc": float(skm.roc_auc_score(yt, yp)) if both else np.nan,
        # with no positives precision is undefined; all positives gives a (true) AP of 1
        "auprc": float(skm.average_precision_score(yt, yp)) if yt.any() else np.nan,
        "accuracy": float(skm.accuracy_score(yt, hard)),
        "precision": float(skm.precision_score(yt, hard, zero_division=0)),
        "recall": float(skm.recall_score(yt, hard, zero_division=0)),
        "f1": float(skm.f1_score(yt, hard, zero_division=0)),
        "mcc": _mcc(yt, hard),
    }


def _mcc(yt: np.ndarray, hard: np.ndarray) -> float:
    """Matthews correlation; 0 when a margin of the confusion matrix is empty (as
    scikit-learn), computed here because scikit-learn warns when one class is present."""
    (tn, fp), (fn, tp) = skm.confusion_matrix(yt, hard, labels=[0, 1]).astype(np.float64)
    denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return float((tp * tn - fp * fn) / denominator) if denominator > 0 else 0.0


def _multiclass(yt: np.ndarray, yp: np.ndarray, names: list[str]) -> dict[str, Any]:
    k = yp.shape[1]
    hard = yp.argmax(axis=1)
    labels = np.arange(k)
    precision, recall, f1, _ = skm.precision_recall_fscore_support(
        yt, hard, labels=labels, zero_division=0)
    per = {}
    for c, nm in enumerate(names):
        is_c = yt == c
        # one-vs-rest AUROC is undefined when class c is absent (or is every sequence)
        auroc = float(skm.roc_auc_score(is_c, yp[:, c])) if 0 < is_c.sum() < len(yt) else np.nan
        per[nm] = {"auroc": auroc, "precision": float(precision[c]),
                   "recall": float(recall[c]), "f1": float(f1[c])}
    return {"accuracy": float(skm.accuracy_score(yt, hard)),
            "macro_f1": float(np.mean(f1)),
            "auroc": _nanmean([v["auroc"] for v in per.values()]),
            "per_class": per}


def _regression(yt: np.ndarray, yp: np.ndarray) -> dict[str, float]:
    constant_true = np.ptp(yt) == 0
    # correlations are undefined (scipy warns) when either side is constant
    correlated = len(yt) > 1 and not constant_true and np.ptp(yp) > 0
    return {
        "mse": float(skm.mean_squared_error(yt, yp)),
        "mae": float(skm.mean_absolute_error(yt, yp)),
        "pearson_r": float(stats.pearsonr(yt, yp)[0]) if correlated else np.nan,
        "spearman_rho": float(stats.spearmanr(yt, yp)[0]) if correlated else np.nan,
        "r2": np.nan if constant_true else float(skm.r2_score(yt, yp)),
    }


def _nanmean(values: list[float]) -> float:
    arr = np.asarray(values, dtype=np.float64)
    ok = ~np.isnan(arr)
    return float(arr[ok].mean()) if ok.any() else np.nan


def _names(class_names: Sequence[str] | None, k: int) -> list[str]:
    if class_names is None:
        return [str(i) for i in range(k)]
    names = [str(c) for c in class_names]
    if len(names) != k:
        raise SeqexplainError(f"class_names: {len(names)} names for {k} outputs")
    return names


def _squeeze_column(y: np.ndarray, name: str, task: str) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim not in (1, 2):
        raise SeqexplainError(f"{name}: {task} arrays must be 1-D or 2-D, got shape {y.shape}")
    return y


def _as_float(y: np.ndarray, name: str) -> np.ndarray:
    try:
        return y.astype(np.float64)
    except (TypeError, ValueError):
        raise SeqexplainError(f"{name}: expected numbers, got {y.dtype} values") from None


def _is_binary(y: np.ndarray) -> bool:
    return y.dtype == bool or (np.issubdtype(y.dtype, np.number) and np.isin(y, (0, 1)).all())


def _width(y: np.ndarray) -> int:
    return 1 if y.ndim == 1 else y.shape[1]


__all__ = ["TASKS", "check_task", "main_metric", "normalize_targets", "normalize_scores",
           "evaluate"]


def summarize(runs: list[dict]) -> dict[str, dict[str, float]]:
    """Mean and sd (n − 1) of every scalar metric over runs."""
    keys = [k for k, v in runs[0].items() if isinstance(v, (int, float))]
    out = {}
    for k in keys:
        values = np.array([run[k] for run in runs], dtype=float)
        out[k] = {"mean": float(np.nanmean(values)),
                  "sd": float(np.nanstd(values, ddof=1)) if len(values) > 1 else 0.0,
                  "n": int(np.isfinite(values).sum())}
    return out


# -- training targets and outputs as metrics take them ------------------------------------

def scores_for_metrics(task: str, outputs: np.ndarray) -> np.ndarray:
    """Binary models have one sigmoid output: metrics take it as (n,)."""
    return outputs[:, 0] if task == "binary" else outputs


def true_for_metrics(targets) -> np.ndarray:
    """The labels of a :class:`~seqexplain.targets.Targets` as :func:`evaluate` takes them."""
    return targets.y[:, 0] if targets.task == "binary" else targets.y


def metric_names(targets) -> list[str]:
    """Names for per-class/label/target metric entries."""
    return targets.class_names or targets.output_names


def headline_value(metrics: dict, key: str) -> float:
    """The value of ``key`` in an :func:`evaluate` result as one comparable number: the
    macro mean of per-class values; ``-inf`` when missing or NaN (ranks last)."""
    value = metrics.get(key, math.nan)
    if isinstance(value, dict):  # per-class values: use the macro mean
        value = float(np.nanmean(list(value.values())))
    return -math.inf if value is None or (isinstance(value, float) and math.isnan(value)) \
        else float(value)
