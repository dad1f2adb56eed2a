"""The model folder — the contract every command after ``train`` reads.

``seqexplain train … --out MODEL_DIR`` writes:

=========================  ===================================================================
``model.keras``            the trained Keras model (native format; loaded in safe mode)
``metadata.json``          alphabet, input length and pad/crop rule, task, output and class
                           names, the full training and model configs, split seed and sizes,
                           data summary, package versions
``metrics.json``           test metrics of the CNN and of the baselines, restarts, CV summary
``history.csv``            per-epoch loss and metrics (training and validation)
``training_curves.png``    loss and main metric per epoch, training vs validation
``splits.tsv``             ``id``, ``split`` (train / validation / test) of every record
``test_predictions.tsv``   ``id``, true target(s), predicted output(s) on the test split
=========================  ===================================================================
"""

from __future__ import annotations

import json
import math
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from .alphabets import Alphabet, alphabet_from_letters, detect_alphabet
from .encoding import OneHot, encode, letter_counts
from .errors import SeqexplainError

MODEL_FILE = "model.keras"
METADATA_FILE = "metadata.json"
METRICS_FILE = "metrics.json"
FORMAT_VERSION = 1


def _jsonable(value):
    """NaN/inf → None, numpy scalars/arrays → Python, recursively (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(_jsonable(data), indent=2, allow_nan=False) + "\n")


def package_versions() -> dict[str, str]:
    import keras
    import sklearn
    import tensorflow as tf

    return {"seqexplain": __version__, "python": platform.python_version(),
            "tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__,
            "pandas": pd.__version__, "scikit-learn": sklearn.__version__}


@dataclass
class ModelBundle:
    """A trained model with what is needed to feed it sequences and read its outputs."""

    model: Any
    metadata: dict
    path: Path | None = None

    # -- what the model expects --------------------------------------------------------------
    @property
    def alphabet(self) -> Alphabet:
        return alphabet_from_letters(self.metadata["alphabet"]["letters"])

    @property
    def length(self) -> int:
        return int(self.metadata["input"]["length"])

    @property
    def task(self) -> str:
        return self.metadata["task"]

    @property
    def output_names(self) -> list[str]:
        return list(self.metadata["output_names"])

    @property
    def class_names(self) -> list[str] | None:
        return self.metadata.get("class_names")

    def encode(self, sequences: list[str], ids: list[str] | None = None,
               source: str | None = None) -> OneHot:
        """One-hot encode ``sequences`` the way the model was trained (alphabet, length,
        pad/crop rule); a FASTA of another alphabet is an error naming both."""
        alph = self.alphabet
        try:
            seen = detect_alphabet(letter_counts(sequences))
        except SeqexplainError:
            seen = None  # ambiguous letters: let the encoder report any invalid character
        if seen is not None and seen is not alph:
            raise SeqexplainError(f"{source or 'input'}: the sequences look like {seen.name} but "
                                  f"the model was trained on {alph.name}")
        rule = self.metadata["input"]
        return encode(sequences, alph, self.length, pad=rule["pad"], crop=rule["crop"],
                      unknown=rule["unknown"], ids=ids, source=source)

    def check_input(self, X: np.ndarray, source: str = "input") -> None:
        expected = (self.length, self.alphabet.channels)
        if X.ndim != 3 or tuple(X.shape[1:]) != expected:
            raise SeqexplainError(f"{source}: one-hot array of shape {X.shape}; the model takes "
                                  f"(n, {expected[0]}, {expected[1]})")

    def predict(self, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Outputs (probabilities for classification), shape (n, n_outputs)."""
        self.check_input(X)
        return np.asarray(self.model.predict(X, batch_size=batch_size, verbose=0))

    # -- reading -----------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> "ModelBundle":
        """Load a model folder written by ``seqexplain train`` (Keras safe mode)."""
        path = Path(path)
        if not path.exists():
            raise SeqexplainError(f"{path}: no such model folder")
        if not path.is_dir():
            raise SeqexplainError(f"{path}: not a model folder (expected a folder written by "
                                  "seqexplain train)")
        for name in (MODEL_FILE, METADATA_FILE):
            if not (path / name).is_file():
                raise SeqexplainError(f"{path}: not a model folder: {name} is missing")
        try:
            metadata = json.loads((path / METADATA_FILE).read_text())
            metadata["alphabet"]["letters"], metadata["input"]["length"], metadata["task"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SeqexplainError(f"{path / METADATA_FILE}: corrupt metadata ({exc})") from None
        model = load_keras(path / MODEL_FILE)
        return cls(model=model, metadata=metadata, path=path)


def load_keras(path: Path):
    """``keras.models.load_model`` in safe mode, with errors as one line."""
    import keras

    try:
        return keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many types for a damaged file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SeqexplainError(f"{path}: cannot load the Keras model ({first[:200]})") from None


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
        "train_config": train_config.to_dict(),
        "model_config": model_config.to_dict(),
        "split": {"seed": train_config.seed, "train": len(result.split.train),
                  "validation": len(result.split.val), "test": len(result.split.test),
                  "split_by": train_config.split_by},
        "data": {"sources": sources, "n_records": n_records, "class_counts": counts,
                 **encoding_summary},
        "best_epoch": result.best_epoch,
        "versions": package_versions(),
    }


def save_model_folder(result, folder: Path, metadata: dict, ids: list[str]) -> None:
    """Write a :class:`~seqexplain.train.TrainResult` into ``folder`` (which exists, empty)."""
    from .metrics import main_metric
    from .plots import plot_training_curves
    from .train import summarize

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
    import matplotlib.pyplot as plt

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
