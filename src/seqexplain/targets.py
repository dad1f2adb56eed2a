"""From a labels table to a learning task and a target array.

Tasks and target layouts (what the model is trained on):

- ``binary``: one output; ``y`` (n, 1) float 0/1.
- ``multiclass``: one output per class; ``y`` (n,) int class index.
- ``multilabel``: one 0/1 output per label column; ``y`` (n, k) float.
- ``regression``: one output per numeric column; ``y`` (n, k) float.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import SeqexplainError

TASKS = ("binary", "multiclass", "multilabel", "regression")
CLASSIFICATION = ("binary", "multiclass", "multilabel")


@dataclass
class Targets:
    """A learning task over aligned records.

    Attributes
    ----------
    task : one of :data:`TASKS`.
    y : the target array (layout in the module docstring).
    output_names : one name per model output (binary: the positive class or the label column).
    class_names : binary: ``[negative, positive]``; multiclass: the classes in output order;
        otherwise ``None``.
    """

    task: str
    y: np.ndarray
    output_names: list[str]
    class_names: list[str] | None = None

    @property
    def n_outputs(self) -> int:
        return len(self.output_names)

    def stratify_key(self) -> np.ndarray | None:
        """Labels to stratify splits on (classification), else ``None``."""
        if self.task == "binary":
            return self.y[:, 0].astype(int)
        if self.task == "multiclass":
            return self.y
        if self.task == "multilabel":
            # the label combination, so every split sees each combination in proportion
            return np.array(["".join(map(str, row)) for row in self.y.astype(int)])
        return None

    def subset(self, idx: np.ndarray) -> "Targets":
        return Targets(self.task, self.y[idx], self.output_names, self.class_names)


def _is_binary_numeric(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col) and set(np.unique(col)) <= {0.0, 1.0}


def infer_task(labels: pd.DataFrame) -> str:
    """The task a labels table implies, or an error saying what to pass as ``--task``."""
    numeric = [pd.api.types.is_numeric_dtype(labels[c]) for c in labels.columns]
    if labels.shape[1] == 1:
        col = labels.iloc[:, 0]
        if numeric[0]:
            return "binary" if _is_binary_numeric(col) else "regression"
        n_classes = col.nunique()
        return "binary" if n_classes == 2 else "multiclass"
    if all(numeric):
        if all(_is_binary_numeric(labels[c]) for c in labels.columns):
            return "multilabel"
        return "regression"
    raise SeqexplainError(
        f"cannot infer the task from {labels.shape[1]} label columns of mixed types "
        f"({', '.join(labels.columns)}); class-name columns are used one at a time — pass a "
        "table with one column, or --task")


def make_targets(labels: pd.DataFrame, task: str | None = None,
                 positive_class: str | None = None, class_order: list[str] | None = None,
                 source: str = "labels") -> Targets:
    """Build :class:`Targets` from an aligned labels table.

    Parameters
    ----------
    labels : DataFrame, one row per record, one column per target.
    task : one of :data:`TASKS`, or ``None`` to infer it.
    positive_class : binary tasks with class-name labels: the positive class. Default: the
        first of ``class_order`` when given (one FASTA file per class: the first file), else
        the second class in sorted order.
    class_order : the order of class names (e.g. the FASTA files' order).
    source : name used in error messages.
    """
    if labels is None or labels.shape[1] == 0:
        raise SeqexplainError("no labels: pass --labels TABLE, label= tokens in the FASTA "
                              "headers, or one FASTA file per class")
    if task is None:
        task = infer_task(labels)
    if task not in TASKS:
        raise SeqexplainError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")
    cols = list(labels.columns)
    if task in ("binary", "multiclass"):
        if len(cols) != 1:
            raise SeqexplainError(f"{source}: a {task} task takes one label column, got "
                                  f"{len(cols)} ({', '.join(cols)}); use multilabel or pick one")
        return _categorical(labels[cols[0]], task, positive_class, class_order, source)
    not_numeric = [c for c in cols if not pd.api.types.is_numeric_dtype(labels[c])]
    if not_numeric:
        raise SeqexplainError(f"{source}: column {not_numeric[0]!r} holds class names, not "
                              f"numbers; a {task} task needs numeric labels")
    y = labels.to_numpy(dtype=np.float32)
    if task == "multilabel":
        bad = [c for c in cols if not _is_binary_numeric(labels[c])]
        if bad:
            raise SeqexplainError(f"{source}: column {bad[0]!r} has values other than 0 and 1; "
                                  "multilabel targets must be 0/1")
    elif labels.shape[0] > 1 and np.any(np.std(y, axis=0) == 0):
        const = cols[int(np.argmax(np.std(y, axis=0) == 0))]
        raise SeqexplainError(f"{source}: column {const!r} has the same value for every record;"
                              " nothing to learn")
    return Targets(task, y, [str(c) for c in cols])


def _categorical(col: pd.Series, task: str, positive_class, class_order, source) -> Targets:
    values = col.map(lambda v: _class_name(v)).to_numpy()
    present = sorted(set(values), key=_natural)
    if class_order is not None:
        order = [c for c in class_order if c in set(values)]
    else:
        order = present
    if len(order) < 2:
        raise SeqexplainError(f"{source}: all labels are {order[0]!r}; a classifier needs at "
                              "least two classes")
    if task == "binary":
        if len(order) != 2:
            raise SeqexplainError(f"{source}: binary needs 2 classes, the labels have "
                                  f"{len(order)} ({', '.join(order[:5])}); use --task multiclass")
        if positive_class is None:
            positive = order[0] if class_order is not None else order[1]
        else:
            positive = _class_name(positive_class)
            if positive not in order:
                raise SeqexplainError(f"{source}: positive class {positive!r} is not one of "
                                      f"the labels ({', '.join(order)})")
        negative = next(c for c in order if c != positive)
        y = (values == positive).astype(np.float32)[:, None]
        name = positive if not _is_zero_one(order) else str(col.name)
        return Targets("binary", y, [name], [negative, positive])
    index = {c: i for i, c in enumerate(order)}
    y = np.array([index[v] for v in values], dtype=np.int64)
    return Targets("multiclass", y, list(order), list(order))


def _class_name(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _natural(name: str):
    try:
        return (0, float(name), name)
    except ValueError:
        return (1, 0.0, name)


def _is_zero_one(order: list[str]) -> bool:
    return set(order) == {"0", "1"}
