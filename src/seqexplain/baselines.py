"""Baselines evaluated beside the CNN: does the CNN learn more than simple models do?

All baselines share one interface::

    baseline = KmerBaseline(k=5).fit(X_train, y_train, task)
    scores = baseline.predict_scores(X_test)      # the layout of model.predict(X_test)

- :class:`TrivialBaseline` — class frequencies (classification) or the mean (regression) of
  the training labels, whatever the sequence: AUROC 0.5, the floor any model must beat.
- :class:`KmerBaseline` — counts of every k-mer (position-free "bag of words") → logistic
  regression (classification) or ridge regression (regression).
- :class:`PositionalBaseline` — the flattened one-hot matrix (one weight per position and
  letter, a PWM-like linear model) → logistic or ridge regression.

The linear models standardise their features and choose their regularisation strength by
k-fold cross-validation on the training set (log-loss for classification; efficient
leave-one-out for ridge). Scores match the CNN's predictions: shape (n, n_outputs), with
probabilities for classification (n_outputs = 1 for binary) and values for regression.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .errors import SeqexplainError
from .metrics import check_task, normalize_targets

# inverse regularisation strengths tried for logistic regression (standardised features)
LOGISTIC_CS = tuple(np.logspace(-4, 1, 6))
# ridge penalties tried (standardised features)
RIDGE_ALPHAS = tuple(np.logspace(-1, 5, 7))
# k-mer features allowed by default: 4^7 for DNA/RNA, 20^3 for protein; the dense
# (n, features) float32 matrix costs 4 bytes per sequence and feature
MAX_KMER_FEATURES = 2 ** 14
# the default k gives at most this many features: k=5 for DNA/RNA, k=2 for protein
_DEFAULT_KMER_FEATURES = 1024


def kmer_counts(X: np.ndarray, k: int) -> np.ndarray:
    """Counts of every k-mer in each one-hot sequence.

    Parameters
    ----------
    X : one-hot sequences, shape (n, length, channels).
    k : k-mer length, 1 ≤ k ≤ length.

    Returns
    -------
    numpy.ndarray
        float32, shape (n, channels ** k). Column ``sum(c_j * channels ** (k - 1 - j))`` counts
        the k-mer whose j-th letter is channel ``c_j`` (lexicographic in the alphabet's channel
        order: for DNA column 0 is AA…A, column 1 AA…C). k-mers overlapping a position that is
        not exactly one-hot (N, padding, ambiguity codes) are not counted.
    """
    X = _check_onehot(X)
    n, length, channels = X.shape
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= length:
        raise SeqexplainError(f"k={k!r}: expected an integer from 1 to the sequence length "
                              f"{length}")
    n_kmers = channels ** k
    exact = (X.max(axis=-1) == 1) & (X.sum(axis=-1) == 1)
    codes = X.argmax(axis=-1).astype(np.int64)
    width = length - k + 1
    index = np.zeros((n, width), dtype=np.int64)
    valid = np.ones((n, width), dtype=bool)
    for j in range(k):  # k is small; each step is vectorised over all sequences and positions
        index = index * channels + codes[:, j:j + width]
        valid &= exact[:, j:j + width]
    out = np.empty((n, n_kmers), dtype=np.float32)
    # one bincount per chunk of rows; the chunk bounds bincount's int64 buffer to ~32 MB
    rows = max(1, 2 ** 22 // n_kmers)
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        offset = (np.arange(stop - start, dtype=np.int64) * n_kmers)[:, None]
        flat = (index[start:stop] + offset)[valid[start:stop]]
        out[start:stop] = np.bincount(flat, minlength=(stop - start) * n_kmers).reshape(
            stop - start, n_kmers)
    return out


class Baseline:
    """Interface shared by the baselines: ``fit(X, y, task)`` then ``predict_scores(X)``.

    Attributes set by :meth:`fit`: ``task``, ``n_outputs``, ``channels``.
    """

    name = "baseline"

    def fit(self, X: np.ndarray, y: Any, task: str, n_outputs: int | None = None) -> Baseline:
        """Fit on one-hot sequences and their labels; returns ``self``.

        Parameters
        ----------
        X : one-hot sequences, shape (n, length, channels).
        y : labels of ``task`` in any layout of :mod:`seqexplain.metrics`: binary (n,) or
            (n, 1); multiclass class indices (n,) or one-hot (n, k); multilabel (n, L);
            regression (n,) or (n, t).
        task : "binary", "multiclass", "multilabel" or "regression".
        n_outputs : number of classes, labels or targets. Needed only for multiclass class
            indices when some class may be missing from ``y``; otherwise taken from ``y``
            (and checked against it when given).
        """
        check_task(task)
        X = _check_onehot(X)
        y_arr = np.asarray(y)
        if task == "multiclass" and n_outputs is None and y_arr.ndim == 2 and y_arr.shape[1] > 1:
            n_outputs = y_arr.shape[1]
        targets = normalize_targets(task, y_arr, n_outputs=None if task == "binary"
                                    else n_outputs)
        if targets.shape[0] != X.shape[0]:
            raise SeqexplainError(f"{targets.shape[0]} labels for {X.shape[0]} sequences")
        if task == "multiclass":
            n_outputs = int(targets.max()) + 1 if n_outputs is None else n_outputs
        elif task == "binary":
            n_outputs = 1
        else:
            n_outputs = 1 if targets.ndim == 1 else targets.shape[1]
        self.task, self.n_outputs, self.channels = task, n_outputs, X.shape[2]
        self._fit(X, targets)
        return self

    def predict_scores(self, X: np.ndarray) -> np.ndarray:
        """Scores for one-hot sequences ``X`` (n, length, channels): float64, shape
        (n, n_outputs); probabilities for classification, values for regression."""
        if not hasattr(self, "task"):
            raise SeqexplainError(f"{self.name} baseline: call fit before predict_scores")
        X = _check_onehot(X)
        if X.shape[2] != self.channels:
            raise SeqexplainError(f"{self.name} baseline: sequences have {X.shape[2]} channels; "
                                  f"it was fitted on {self.channels}")
        return self._predict(X)

    def summary(self) -> str:
        """One line for reports, e.g. ``k-mer counts (k=5) + logistic regression (C=0.1)``."""
        return self.name

    def _fit(self, X: np.ndarray, targets: np.ndarray) -> None:
        raise NotImplementedError

    def _predict(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class TrivialBaseline(Baseline):
    """The training labels' class frequencies (binary, multiclass, multilabel) or mean
    (regression) for every sequence; the arg-max is the majority class."""

    name = "trivial"

    def _fit(self, X: np.ndarray, targets: np.ndarray) -> None:
        if self.task == "multiclass":
            counts = np.bincount(targets, minlength=self.n_outputs)
            self.constant_ = counts / counts.sum()
        else:
            self.constant_ = np.atleast_1d(targets.mean(axis=0).astype(np.float64))

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return np.tile(self.constant_, (X.shape[0], 1))

    def summary(self) -> str:
        what = "mean" if self.task == "regression" else "class frequencies"
        return f"trivial (training {what})"


class _LinearBaseline(Baseline):
    """Features from one-hot sequences → standardisation → logistic or ridge regression.

    Parameters
    ----------
    cv : folds for choosing the logistic regression's C (stratified). Classes with fewer
        than ``cv`` training sequences make it fall back to C=1.
    Cs : inverse regularisation strengths tried for logistic regression.
    alphas : penalties tried for ridge regression (leave-one-out, closed form).
    max_iter : iterations of the logistic regression solver.
    """

    def __init__(self, cv: int = 3, Cs: tuple[float, ...] = LOGISTIC_CS,
                 alphas: tuple[float, ...] = RIDGE_ALPHAS, max_iter: int = 500):
        self.cv, self.Cs, self.alphas, self.max_iter = cv, tuple(Cs), tuple(alphas), max_iter

    def _features(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _fit(self, X: np.ndarray, targets: np.ndarray) -> None:
        F = self._features(X)
        if self.task == "regression":
            self.model_ = make_pipeline(StandardScaler(), RidgeCV(alphas=self.alphas)).fit(
                F, targets)
        elif self.task == "multilabel":
            # one classifier per label; a label that never varies gets its constant frequency
            self.models_ = [self._classifier(F, targets[:, j]) for j in range(self.n_outputs)]
        else:
            self.model_ = self._classifier(F, targets)

    def _classifier(self, F: np.ndarray, y: np.ndarray):
        classes, counts = np.unique(y, return_counts=True)
        if classes.size < 2:
            return float(classes[0])
        base = make_pipeline(StandardScaler(), LogisticRegression(max_iter=self.max_iter))
        if counts.min() < self.cv:
            return base.fit(F, y)
        search = GridSearchCV(base, {"logisticregression__C": list(self.Cs)}, cv=self.cv,
                              scoring="neg_log_loss")
        return search.fit(F, y).best_estimator_

    def _predict(self, X: np.ndarray) -> np.ndarray:
        F = self._features(X)
        n = F.shape[0]
        if self.task == "regression":
            return self.model_.predict(F).reshape(n, self.n_outputs)
        if self.task == "multilabel":
            return np.column_stack([_positive_probability(m, F) for m in self.models_])
        if self.task == "binary":
            return _positive_probability(self.model_, F)[:, None]
        out = np.zeros((n, self.n_outputs))
        if isinstance(self.model_, float):
            out[:, int(self.model_)] = 1.0
        else:
            # classes absent from the training labels keep probability 0
            out[:, self.model_.classes_.astype(int)] = self.model_.predict_proba(F)
        return out

    def _model_summary(self) -> str:
        """The fitted model with its chosen strength, e.g. ``logistic regression (C=0.1)``."""
        if self.task == "regression":
            return f"ridge regression (alpha={self.model_[-1].alpha_:g})"
        models = self.models_ if self.task == "multilabel" else [self.model_]
        strengths = ", ".join("constant" if isinstance(m, float) else f"{m[-1].C:g}"
                              for m in models)
        per_label = " per label" if self.task == "multilabel" else ""
        return f"logistic regression{per_label} (C={strengths})"


class KmerBaseline(_LinearBaseline):
    """k-mer counts (:func:`kmer_counts`) → logistic regression / ridge regression.

    Parameters
    ----------
    k : k-mer length. ``None``: the largest k with at most 1024 k-mers — 5 for DNA/RNA,
        2 for protein.
    max_features : refuse ``channels ** k`` above this (default 16384: k ≤ 7 for DNA/RNA,
        k ≤ 3 for protein), since the feature matrix is dense.
    cv, Cs, alphas, max_iter : as for :class:`PositionalBaseline`.
    """

    name = "kmer"

    def __init__(self, k: int | None = None, max_features: int = MAX_KMER_FEATURES, **kwargs):
        super().__init__(**kwargs)
        self.k, self.max_features = k, max_features

    def _fit(self, X: np.ndarray, targets: np.ndarray) -> None:
        channels = X.shape[2]
        k = self.k
        if k is None:
            k = 1
            while channels ** (k + 1) <= _DEFAULT_KMER_FEATURES and k < X.shape[1]:
                k += 1
        if channels ** k > self.max_features:
            raise SeqexplainError(
                f"k-mer baseline: k={k} with {channels} letters gives {channels ** k} k-mer "
                f"features, more than max_features={self.max_features}; use a smaller k")
        self.k_ = k
        super()._fit(X, targets)

    def _features(self, X: np.ndarray) -> np.ndarray:
        return kmer_counts(X, self.k_)

    def summary(self) -> str:
        return f"k-mer counts (k={self.k_}) + {self._model_summary()}"


class PositionalBaseline(_LinearBaseline):
    """Flattened one-hot sequences (one feature per position and letter) → logistic
    regression / ridge regression. Sequences must have the training length.

    Parameters
    ----------
    cv : folds for choosing the logistic regression's C (default 3).
    Cs : inverse regularisation strengths tried (default 1e-4 … 10).
    alphas : ridge penalties tried (default 0.1 … 1e5).
    max_iter : logistic regression solver iterations (default 500).
    """

    name = "positional"

    def _fit(self, X: np.ndarray, targets: np.ndarray) -> None:
        self.length_ = X.shape[1]
        super()._fit(X, targets)

    def _features(self, X: np.ndarray) -> np.ndarray:
        if X.shape[1] != self.length_:
            raise SeqexplainError(f"positional baseline: sequences have length {X.shape[1]}; "
                                  f"it was fitted on length {self.length_}")
        return X.reshape(X.shape[0], -1)

    def summary(self) -> str:
        return f"positional one-hot + {self._model_summary()}"


BASELINES: dict[str, type[Baseline]] = {
    "trivial": TrivialBaseline,
    "kmer": KmerBaseline,
    "positional": PositionalBaseline,
}


def get_baseline(name: str, **options: Any) -> Baseline:
    """A new, unfitted baseline by name ("trivial", "kmer", "positional") with ``options``
    passed to its constructor (e.g. ``get_baseline("kmer", k=4)``)."""
    if name not in BASELINES:
        raise SeqexplainError(f"baseline {name!r}: choose one of {', '.join(BASELINES)}")
    try:
        return BASELINES[name](**options)
    except TypeError as exc:
        raise SeqexplainError(f"baseline {name!r}: {exc}") from None


def _positive_probability(model, F: np.ndarray) -> np.ndarray:
    if isinstance(model, float):
        return np.full(F.shape[0], model)
    return model.predict_proba(F)[:, 1]


def _check_onehot(X: Any) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 3 or X.shape[0] == 0:
        raise SeqexplainError(f"one-hot sequences have shape {X.shape}; expected "
                              f"(n, length, channels) with n ≥ 1")
    return X


__all__ = ["Baseline", "TrivialBaseline", "KmerBaseline", "PositionalBaseline", "BASELINES",
           "get_baseline", "kmer_counts"]
