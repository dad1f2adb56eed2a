"""Hyperparameter search with KerasTuner over the CNN's architecture and optimiser.

The search space maps :class:`~seqexplain.models.ModelSettings` keys to either a list of
choices or a range ``{min: …, max: …, sampling: log|linear}`` (floats; integers when both
ends are integers). The default space searches filters, first kernel width, number of
blocks, dropout, L2 strength and learning rate. Trials are scored by validation loss on the
training run's validation split; the test split is not looked at until the best
configuration is retrained by :func:`seqexplain.train.train`.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from dataclasses import dataclass

import pandas as pd

from .errors import OptionError, SeqexplainError
from .outputs import atomic_dir, check_writable
from .train import TrainResult, train
from .train_run import load_training_data, save_model_folder
from .training.settings import TrainSettings, read_config_file
from .training.splits import split_indices

TUNERS = ("random", "hyperband", "bayesian")

log = logging.getLogger("seqexplain")

DEFAULT_SPACE: dict = {
    "filters": [32, 64, 128],
    "kernel_sizes": [9, 15, 19],
    "n_conv_blocks": [1, 2, 3],
    "conv_dropout": [0.1, 0.2, 0.3],
    "l2": {"min": 1e-7, "max": 1e-4, "sampling": "log"},
    "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
}

# searched on the first block only; the other blocks keep the default schedule
_FIRST_BLOCK_KEYS = ("filters", "kernel_sizes")


def read_search_space(path) -> dict:
    """A search space from a YAML/JSON file (see :data:`DEFAULT_SPACE` for the form)."""
    space = read_config_file(path)
    if not space:
        raise SeqexplainError(f"{path}: empty search space")
    return space


def _hp_value(hp, key: str, spec):
    if isinstance(spec, list):
        if not spec:
            raise SeqexplainError(f"search space: {key!r} has no choices")
        return hp.Choice(key, spec)
    if isinstance(spec, dict) and {"min", "max"} <= set(spec):
        lo, hi = spec["min"], spec["max"]
        sampling = spec.get("sampling", "linear")
        if sampling not in ("linear", "log"):
            raise SeqexplainError(f"search space: {key!r}: sampling must be linear or log")
        if isinstance(lo, int) and isinstance(hi, int):
            return hp.Int(key, lo, hi, sampling=sampling)
        return hp.Float(key, float(lo), float(hi), sampling=sampling)
    raise SeqexplainError(f"search space: {key!r}: expected a list of choices or "
                          "{min:, max:, sampling:}")


def config_from_hp(hp, space: dict, base: dict):
    """The ModelSettings a trial's hyperparameters describe."""
    from .models import ModelSettings

    values = dict(base)
    for key, spec in space.items():
        values[key] = _hp_value(hp, key, spec)
    n = values.get("n_conv_blocks", ModelSettings().n_conv_blocks)
    default = ModelSettings(n_conv_blocks=n)
    for key in _FIRST_BLOCK_KEYS:
        if key in space:
            rest = list(getattr(default, key))[1:]
            values[key] = [values[key], *rest]
    if "n_conv_blocks" in space and "pool_sizes" not in values:
        values["pool_sizes"] = list(default.pool_sizes)
    return ModelSettings.from_dict(values)


def tune(X, targets, split, train_config, space: dict | None = None, base: dict | None = None,
         max_trials: int = 10, tuner: str = "random", nucleic: bool = True):
    """Search ``space``; returns ``(best ModelSettings, trials DataFrame)``.

    Each trial trains on ``split.train`` with early stopping on ``split.val`` (same epochs,
    patience, augmentation and seed as ``train_config``)."""
    import keras
    import keras_tuner as kt

    from .models import build_model
    from .training.fitting import augmented_dataset, keras_targets

    if tuner not in TUNERS:
        raise SeqexplainError(f"unknown tuner {tuner!r}: choose one of {', '.join(TUNERS)}")
    space = DEFAULT_SPACE if space is None else space
    base = base or {}
    config_from_hp(kt.HyperParameters(), space, base)  # validate keys before any training
    t_train, t_val = targets.subset(split.train), targets.subset(split.val)
    rc = nucleic if train_config.reverse_complement is None else train_config.reverse_complement

    def build(hp):
        cfg = config_from_hp(hp, space, base)
        return build_model(cfg, X.shape[1], X.shape[2], targets.task, targets.n_outputs)

    keras.utils.set_random_seed(train_config.seed)
    common = dict(objective="val_loss", overwrite=True, project_name="search",
                  seed=train_config.seed)
    with tempfile.TemporaryDirectory(prefix="seqexplain-tune-") as workdir:
        if tuner == "random":
            search = kt.RandomSearch(build, max_trials=max_trials, directory=workdir, **common)
        elif tuner == "bayesian":
            search = kt.BayesianOptimization(build, max_trials=max_trials, directory=workdir,
                                             **common)
        else:
            search = kt.Hyperband(build, max_epochs=train_config.epochs, directory=workdir,
                                  max_consecutive_failed_trials=3, **common)
        train_ds = augmented_dataset(X[split.train], keras_targets(t_train),
                                      train_config.batch_size, train_config.seed, rc,
                                      train_config.shift, None)
        val = (X[split.val], keras_targets(t_val))
        stop = keras.callbacks.EarlyStopping(monitor="val_loss",
                                             patience=train_config.patience or 10,
                                             restore_best_weights=True)
        search.search(train_ds, validation_data=val, epochs=train_config.epochs,
                      callbacks=[stop], verbose=0, shuffle=False)
        rows = []
        for trial in search.oracle.trials.values():
            row = {"trial": trial.trial_id, "status": str(trial.status),
                   "val_loss": trial.score}
            row.update(trial.hyperparameters.values)
            rows.append(row)
        best_hp = search.get_best_hyperparameters(1)[0]
    trials = pd.DataFrame(rows).sort_values("val_loss", na_position="last")
    return config_from_hp(best_hp, space, base), trials


def tune_model_folder(fastas, out, labels=None, train_config=None, space=None, base=None,
                      max_trials: int = 10, tuner: str = "random", alphabet="auto",
                      length=None, pad="center", crop="center", unknown="zero",
                      force: bool = False, log=None):
    """Search, retrain the best configuration and write a model folder with ``trials.tsv``."""
    train_config = train_config or TrainSettings()
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    check_writable(out, force)
    data = load_training_data(fastas, labels, train_config, alphabet, length, pad, crop,
                              unknown)
    X, nucleic = data.encoded.onehot, data.encoded.alphabet.is_nucleic
    split = split_indices(data.targets, train_config, data.groups)
    best, trials = tune(X, data.targets, split, train_config, space, base, max_trials, tuner,
                        nucleic=nucleic)
    log(f"best of {len(trials)} trials: val_loss {trials['val_loss'].iloc[0]:.4g}")
    result = train(X, data.targets, best, train_config, data.groups, nucleic=nucleic, log=log)
    meta = data.metadata(result, train_config, best, pad, crop, unknown)
    meta["tuning"] = {"tuner": tuner, "max_trials": max_trials, "space": space or DEFAULT_SPACE}
    with atomic_dir(out, force=force) as tmp:
        save_model_folder(result, tmp, meta, data.records.ids)
        trials.to_csv(tmp / "trials.tsv", sep="\t", index=False, float_format="%.6g")
    return result, trials


@dataclass
class TuneResult:
    """What :func:`tune_files` did: ``result``, the best configuration retrained
    (:class:`~seqexplain.train.TrainResult`), and ``trials``, one row per trial, best first."""

    result: TrainResult
    trials: pd.DataFrame

    def summary(self) -> str:
        """What ``seqexplain tune`` prints: the trials (20 at most), then the training report."""
        return self.trials.to_string(index=False, max_rows=20) + "\n" + self.result.report()


def tune_files(inputs=(), *, out, labels: str | None = None, config=None, search_space=None,
               max_trials: int = 10, tuner: str = "random", regions=(), genome=None,
               off_edge: str = "pad", label_column: int | None = None,
               background: str | None = None, alphabet: str = "auto", length: int | None = None,
               pad: str = "center", crop: str = "center", unknown: str = "zero",
               force: bool = False, **overrides) -> TuneResult:
    """What ``seqexplain tune`` does: the training settings of the config file ``config``
    (its ``model:`` mapping fixes what is not searched) with ``overrides``
    (:class:`~seqexplain.training.settings.TrainSettings` fields) winning, the search space of
    the file ``search_space`` [:data:`DEFAULT_SPACE`], the inputs (FASTA file(s), or
    ``regions`` windows of ``genome`` labelled as for :func:`seqexplain.train_run.train_files`)
    and :func:`tune_model_folder` into the folder ``out``.

    Raises
    ------
    OptionError : a wrong combination of inputs, found before any work.
    SeqexplainError : a bad file, record or setting; nothing is written.
    """
    from ._tf import import_tensorflow
    from .genome import check_input_option

    check_writable(out, force, kind="folder")
    fastas, regions = list(inputs or ()), list(regions or ())
    check_input_option(fastas, regions, genome, label_column=label_column,
                       background=background)
    import_tensorflow()
    values = read_config_file(config) if config else {}
    base = dict(values.pop("model", None) or {})
    values.update(overrides)
    train_config = TrainSettings.from_dict(values)
    space = read_search_space(search_space) if search_space else None
    sources = fastas
    if regions:
        from .genome import sequence_inputs

        found = sequence_inputs([], regions, genome, length=length, off_edge=off_edge,
                                label_column=label_column, background=background,
                                seed=train_config.seed)
        for note in found.notes:
            log.info(note)
        sources = found.sources
    result, trials = tune_model_folder(sources, out, labels, train_config, space, base,
                                       max_trials, tuner, alphabet=alphabet, length=length,
                                       pad=pad, crop=crop, unknown=unknown, force=force)
    return TuneResult(result, trials)
