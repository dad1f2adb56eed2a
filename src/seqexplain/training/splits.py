"""Honest splits: training, validation and test indices, stratified or grouped."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SeqexplainError
from ..targets import Targets
from .settings import TrainSettings


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


def split_indices(targets: Targets, config: TrainSettings, groups: np.ndarray | None = None,
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
    strat = stratify(targets.stratify_key(), n, config.val_fraction)
    rest, test = train_test_split(idx, test_size=config.test_fraction, random_state=seed,
                                  stratify=strat)
    strat_rest = None if strat is None else strat[rest]
    train_idx, val_idx = train_test_split(
        rest, test_size=config.val_fraction / (1 - config.test_fraction), random_state=seed + 1,
        stratify=strat_rest)
    if len(val_idx) < 2 or len(test) < 2:
        raise SeqexplainError(f"{n} records are too few to hold out validation and test sets")
    return Split(np.sort(train_idx), np.sort(val_idx), np.sort(test))


def stratify(key: np.ndarray | None, n: int, smallest_fraction: float) -> np.ndarray | None:
    """Stratify on ``key`` when every class is big enough to appear in every split."""
    if key is None:
        return None
    _, counts = np.unique(key, return_counts=True)
    return key if counts.min() * smallest_fraction >= 1 and counts.min() >= 3 else None
