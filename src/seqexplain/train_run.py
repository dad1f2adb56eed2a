"""From files to a model folder: what ``seqexplain train`` does.

:func:`load_training_data` reads and encodes FASTA file(s) or region sources with their
labels; :func:`train_model` trains (:func:`seqexplain.train.train`) and writes the
folder atomically (:func:`save_model_folder`, :func:`build_metadata`), which
:mod:`seqexplain.bundle` reads. Sits above :mod:`seqexplain.train`.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import __version__
from .alphabets import Alphabet
from .bundle import FORMAT_VERSION, METADATA_FILE, METRICS_FILE, MODEL_FILE
from .errors import OptionError, SeqexplainError
from .fasta import genomic_interval, read_encoded
from .labels import labels_for
from .metrics import main_metric, summarize
from .outputs import atomic_dir, check_writable, write_json
from .plots import plot_training_curves
from .targets import CLASSIFICATION, Targets, make_targets
from .train import TrainResult, train
from .training.settings import TrainSettings, read_train_setup

log = logging.getLogger("seqexplain")


@dataclass
class TrainingData:
    """Encoded records with their targets (and split groups), ready for :func:`train`."""

    records: Any
    encoded: Any
    targets: Targets
    groups: np.ndarray | None

    def metadata(self, result: TrainResult, train_config: TrainSettings, model_config,
                 pad: str, crop: str, unknown: str) -> dict:

        enc = self.encoded
        return build_metadata(result, enc.alphabet, enc.length, pad, crop, unknown,
                              train_config, model_config,
                              list(dict.fromkeys(self.records.sources)), len(self.records),
                              {"n_padded": enc.n_padded, "n_cropped": enc.n_cropped})


def load_training_data(fastas: list[str], labels: str | None, train_config: TrainSettings,
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


def train_model(fastas: list[str], out, labels: str | None = None,
                       train_config: TrainSettings | None = None, model_config=None,
                       alphabet: str = "auto", length: int | None = None, pad: str = "center",
                       crop: str = "center", unknown: str = "zero", force: bool = False,
                       log: Callable[[str], None] | None = None) -> TrainResult:
    """Read FASTA file(s) and labels, train, evaluate and write the model folder ``out``.

    Nothing is written unless training succeeds; an existing ``out`` is replaced only with
    ``force``. See :mod:`seqexplain.bundle` for the folder's files."""
    from .models import ModelSettings

    train_config = train_config or TrainSettings()
    model_config = model_config or ModelSettings()
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


def train_files(inputs=(), *, out, labels: str | None = None, config=None,
                model: dict | None = None, regions=(), genome=None, off_edge: str = "pad",
                label_column: int | None = None, background: str | None = None,
                force: bool = False, **overrides) -> TrainResult:
    """What ``seqexplain train`` does: merge the config file, the overrides and the defaults
    (:func:`~seqexplain.training.settings.read_train_setup`), read the inputs, train and write
    the model folder ``out`` (:func:`train_model`).

    Parameters
    ----------
    inputs : FASTA file(s); or none, with ``regions`` (BED/narrowPeak file(s), one per class)
        on ``genome`` (its genome FASTA): windows of ``length`` (an override, or the config
        file's), ``off_edge`` "pad" or "drop", labelled by ``label_column``, ``labels`` or
        ``background="gc-matched"`` (a drawn negative class, seeded by the training seed).
    out : the model folder; replaced only with ``force``.
    labels : a label table (TSV/CSV); wins over the config file's ``labels``.
    config : a YAML/JSON config file, or ``None``.
    model : :class:`~seqexplain.models.ModelSettings` keys (``None`` values left out), winning
        over the file's ``model:`` mapping.
    **overrides : :class:`~seqexplain.training.settings.TrainSettings` fields and sequence keys
        (alphabet, length, pad, crop, unknown), winning over the file.

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
    setup = read_train_setup(config, labels=labels, model=model, **overrides)
    sources = fastas
    if regions:
        from .genome import sequence_inputs

        found = sequence_inputs([], regions, genome, length=setup.sequence.get("length"),
                                off_edge=off_edge, label_column=label_column,
                                background=background, seed=setup.train.seed)
        for note in found.notes:
            log.info(note)
        sources = found.sources
    return train_model(sources, out, labels=setup.labels, train_config=setup.train,
                              model_config=setup.model, force=force, **setup.sequence)


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
