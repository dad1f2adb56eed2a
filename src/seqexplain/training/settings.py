"""How to train: :class:`TrainSettings`, and the YAML/JSON config files merged with overrides
and defaults into a :class:`TrainSetup` (what ``seqexplain train --config`` reads)."""

from __future__ import annotations

import difflib
import os
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import yaml

from ..errors import SeqexplainError, check


DISTRIBUTE = ("none", "mirrored")


@dataclass
class TrainSettings:
    """How to train; every field is also a ``seqexplain train`` option and a config-file key.

    The defaults were chosen to be robust across seeds rather than fast on a lucky one:
    up to 50 epochs, early stopping on validation loss restoring the best epoch (patience
    from :func:`~seqexplain.training.capacity.capacity_rule`: 10 epochs, 15 under 1,000
    training sequences), and the learning rate halved after ``max(2, patience // 2 - 1)``
    epochs without improvement (see ``benchmarks/bench_train_defaults.py``).

    Attributes
    ----------
    task : "binary", "multiclass", "multilabel", "regression", or ``None`` to infer it.
    epochs, batch_size : upper bound on epochs; minibatch size.
    patience : epochs without a better validation loss before stopping; ``None`` (default)
        follows the number of training sequences
        (:func:`~seqexplain.training.capacity.capacity_rule`).
    reduce_lr : halve the learning rate after ``max(2, patience // 2 - 1)`` epochs without
        improvement.
    class_weight : weight classes inversely to their frequency (binary/multiclass).
    val_fraction, test_fraction : holdout fractions (stratified for classification).
    split_by : a label-table column (e.g. chromosome) whose groups never straddle splits;
        ``"chrom"`` for records named ``chrom:start-end`` (genome regions) splits by their
        chromosome.
    seed : seeds splits, initial weights, shuffling and augmentation.
    reverse_complement : augment training data with reverse complements (DNA/RNA); ``None``
        (default) lets :func:`~seqexplain.training.choices.choose_reverse_complement` decide
        on the validation split: on, unless the task is strand-specific (off for protein).
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
    def from_dict(cls, values: dict[str, Any]) -> "TrainSettings":
        valid = [f.name for f in fields(cls)]
        for key in values:
            if key not in valid:
                close = difflib.get_close_matches(str(key), valid, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise SeqexplainError(f"training config: unknown key {key!r}{hint}")
        return cls(**values)

    @classmethod
    def from_yaml(cls, path, **overrides) -> "TrainSettings":
        """The training settings of a YAML/JSON config file (``path``; ``None``: none),
        ``overrides`` winning over the file and defaults filling the rest — as
        ``seqexplain train --config`` merges them. The file's other keys (``model:``,
        ``labels``, sequence keys) are in :func:`read_train_setup`'s result."""
        return read_train_setup(path, **overrides).train

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_config(ok: bool, message: str) -> None:
    check(ok, message, where="training config")


# -- config files ------------------------------------------------------------------------------

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
    """A training run's settings: ``train`` (:class:`TrainSettings`), ``model``
    (:class:`~seqexplain.models.ModelSettings`), ``labels`` (a label table's path or ``None``)
    and ``sequence`` (the sequence keys given: alphabet, length, pad, crop, unknown — the
    keyword arguments of :func:`~seqexplain.train_run.train_model`)."""

    train: TrainSettings
    model: Any
    labels: str | None = None
    sequence: dict[str, Any] = field(default_factory=dict)


def read_train_setup(path=None, *, model: dict | None = None, labels: str | None = None,
                     **overrides) -> TrainSetup:
    """Merge a YAML/JSON config file (``path``; ``None``: none), overrides and defaults, as
    ``seqexplain train`` does: ``overrides`` (training keys of :class:`TrainSettings` and
    sequence keys) and ``model`` (keys of ``ModelSettings``; ``None`` values left out) win over
    the file's keys and its ``model:`` mapping; ``labels`` over the file's ``labels``; the
    defaults fill the rest. Unknown keys are errors naming the closest valid one."""
    from ..models import ModelSettings

    values = dict(read_config_file(path)) if path is not None else {}
    model_values = dict(values.pop("model", None) or {})
    model_values.update({k: v for k, v in (model or {}).items() if v is not None})
    labels = labels or values.pop("labels", None)
    values.pop("labels", None)
    sequence = {k: values.pop(k) for k in SEQUENCE_KEYS if k in values}
    for key, value in overrides.items():
        (sequence if key in SEQUENCE_KEYS else values)[key] = value
    try:
        train = TrainSettings.from_dict(values)
    except TypeError as exc:
        raise SeqexplainError(f"training config: {exc}") from None
    return TrainSetup(train, ModelSettings.from_dict(model_values), labels, sequence)
