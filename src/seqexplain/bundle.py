"""The model folder — the contract every command after ``train`` reads.

``seqexplain train … --out MODEL_DIR`` writes:

=========================  ===================================================================
``model.keras``            the trained Keras model (native format; loaded in safe mode)
``metadata.json``          alphabet, input length and pad/crop rule, task, output and class
                           names, the full training and model configs, split seed and sizes,
                           data summary, package versions, what training chose (``choices``)
                           and whether it failed (``quality``: ``failed`` true when the CNN was
                           clearly below the best baseline or at chance on validation; loading
                           such a folder issues a :class:`~seqexplain.errors.ModelQualityWarning`)
``metrics.json``           test metrics of the CNN and of the baselines, restarts, CV summary
``history.csv``            per-epoch loss and metrics (training and validation)
``training_curves.png``    loss and main metric per epoch, training vs validation
``splits.tsv``             ``id``, ``split`` (train / validation / test) of every record
``test_predictions.tsv``   ``id``, true target(s), predicted output(s) on the test split
=========================  ===================================================================
"""

from __future__ import annotations

import json
import logging
import os
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .alphabets import Alphabet, alphabet_from_letters, detect_alphabet, get_alphabet
from .encoding import OneHot, encode, letter_counts
from .errors import ModelQualityWarning, SeqexplainError

#: notes for the user (the command line prints them on stderr)
log = logging.getLogger("seqexplain")

MODEL_FILE = "model.keras"
METADATA_FILE = "metadata.json"
METRICS_FILE = "metrics.json"
FORMAT_VERSION = 1


@dataclass
class ModelBundle:
    """A trained model with what is needed to feed it sequences and read its outputs."""

    model: Any
    metadata: dict
    path: Path | None = None
    _default_target_told: bool = field(default=False, init=False, repr=False, compare=False)

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

    @property
    def outputs(self) -> list:
        """The model's output tensors (:class:`~seqexplain.heads.Output`: name and shape), from
        the metadata; a model folder (one output) reads as one vector output."""
        from .heads import Output

        recorded = self.metadata.get("outputs")
        if recorded:
            return [Output(o["name"], tuple(o["shape"]), bool(o.get("flat"))) for o in recorded]
        return [Output("output", (len(self.output_names),))]

    @property
    def single_output(self) -> bool:
        """Whether the model has one vector output (targets are its columns)."""
        from .heads import is_single

        return is_single(self.outputs)

    def targets(self, spec=None) -> list:
        """The :class:`~seqexplain.heads.Target` list named by ``spec`` (None: the default;
        see :mod:`seqexplain.heads`); a one-output model's columns are named by its output or
        class names."""
        from .heads import Output, parse_targets

        names = self.output_names
        if self.task == "multiclass" and self.class_names:
            names = self.class_names
        columns = names if self.single_output else None
        submodels = {name: [Output(o["name"], tuple(o["shape"]), bool(o.get("flat")))
                            for o in outs]
                     for name, outs in (self.metadata.get("submodels") or {}).items()}
        targets = parse_targets(spec, self.outputs, columns, submodels)
        if spec is None:
            self.tell_default_target(targets[0].name, _explained_as(targets[0]))
        return targets

    def tell_default_target(self, chosen: str, what: str = "") -> None:
        """Note (once, on the ``seqexplain`` logger) that no target was given and ``chosen``
        is used (``what``: how it is read, e.g. the profile scalar's form), when the model
        has several targets to choose from."""
        from .heads import parse_targets

        if self._default_target_told:
            return
        names = self.class_names if self.task == "multiclass" and self.class_names \
            else self.output_names
        choices = [t.name for t in parse_targets(
            "all", self.outputs, names if self.single_output else None)]
        if len(choices) > 1:
            self._default_target_told = True
            shown = ", ".join(choices[:8]) + (", ..." if len(choices) > 8 else "")
            log.info(f"note: no target given: using {chosen!r}{what}, the first of "
                     f"{len(choices)} "
                     f"({shown}); choose with --target NAME (target= in Python), or "
                     "--target all")

    def onehot_input(self, X, source: str = "X") -> np.ndarray:
        """``X`` as the model's input: a one-hot array (n, length, C) checked against the
        model, or strings (one, or a list) encoded the way the model was trained."""
        if isinstance(X, str):
            X = [X]
        if isinstance(X, (list, tuple)) and all(isinstance(s, str) for s in X):
            return self.encode(list(X), source=source).onehot
        if not isinstance(X, np.ndarray):
            raise SeqexplainError(f"{source}: expected a one-hot array (n, length, C), a "
                                  f"string or a list of strings, got {type(X).__name__}")
        self.check_input(X, source)
        return X

    def encode(self, sequences: list[str], ids: list[str] | None = None,
               source: str | None = None) -> OneHot:
        """One-hot encode ``sequences`` the way the model was trained (alphabet, length,
        pad/crop rule). The model's alphabet is the one read: a character it does not accept
        is an error naming the file, record, 1-based position and character. Nucleic-acid
        sequences given to a protein model (every letter is a valid amino acid) are an error
        naming both alphabets."""
        alph = self.alphabet
        rule = self.metadata["input"]
        # a bare Keras file's alphabet came from --alphabet (or the channel count): the usual
        # "pass --alphabet" hint applies; a model folder's alphabet is fixed by its training
        fixed_by = None if self.task == "unknown" else "the model"
        enc = encode(sequences, alph, self.length, pad=rule["pad"], crop=rule["crop"],
                     unknown=rule["unknown"], ids=ids, source=source, fixed_by=fixed_by)
        if not alph.is_nucleic:
            try:
                seen = detect_alphabet(letter_counts(sequences))
            except SeqexplainError:
                seen = None
            if seen is not None and seen is not alph:
                raise SeqexplainError(f"{source or 'input'}: the sequences look like "
                                      f"{seen.name} but the model was trained on {alph.name}")
        return enc

    @property
    def fingerprint(self) -> str:
        """:func:`model_fingerprint` of this model and alphabet."""
        return model_fingerprint(self.model, self.alphabet.letters)

    def check_input(self, X: np.ndarray, source: str = "input") -> None:
        expected = (self.length, self.alphabet.channels)
        if X.ndim != 3 or tuple(X.shape[1:]) != expected:
            raise SeqexplainError(f"{source}: one-hot array of shape {X.shape}; the model takes "
                                  f"(n, {expected[0]}, {expected[1]})")

    def predict(self, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Outputs (probabilities for classification), shape (n, n_outputs): the columns of
        :attr:`output_names` (for a model with several outputs, its vector outputs side by
        side; :meth:`predict_all` also gives the per-position ones)."""
        self.check_input(X)
        if self.single_output:
            return np.asarray(self.model.predict(X, batch_size=batch_size, verbose=0))
        vectors, _ = self.predict_all(X, batch_size)
        return vectors

    def predict_all(self, X: np.ndarray, batch_size: int = 256
                    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(vectors, profiles)``: the vector outputs side by side, shape (n, len(
        :attr:`output_names`)), and each per-position output by name, shape (n, L, S)."""
        self.check_input(X)
        return self.split_outputs(self.model.predict(X, batch_size=batch_size, verbose=0),
                                  len(X))

    def split_outputs(self, out, n: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The model's raw outputs on ``n`` sequences (an array, or a list or dict of them) as
        :meth:`predict_all` gives them: ``(vectors, profiles)``."""
        if isinstance(out, dict):
            out = [out[o.name] for o in self.outputs]
        elif not isinstance(out, (list, tuple)):
            out = [out]
        vectors, profiles = [], {}
        for spec, value in zip(self.outputs, out):
            value = np.asarray(value)
            if spec.is_profile:
                profiles[spec.name] = value
            else:
                vectors.append(value.reshape(n, int(np.prod(value.shape[1:]))))
        return (np.concatenate(vectors, axis=1) if vectors else np.zeros((n, 0)), profiles)

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
        quality = metadata.get("quality") or {}
        if quality.get("failed"):
            # the one place every command (explain, motifs, variants, …) passes through
            warnings.warn(f"{path}: {quality.get('message', 'training failed')}",
                          ModelQualityWarning, stacklevel=2)
        return cls(model=model, metadata=metadata, path=path)


def _explained_as(target) -> str:
    """How a default target is read, for the note naming it (profile scalars only)."""
    if target.kind != "profile":
        return ""
    if target.centred:
        return (" (its profile scalar, ChromBPNet's: softmax-weighted mean-centred logits; "
                "'profile:uncentred' for BPNet's)")
    return " (its profile scalar, BPNet's: softmax-weighted logits)"


def load_model(model, alphabet: str | None = None, *, custom_objects=None,
               input_layout: str | None = None, profile_outputs=None) -> ModelBundle:
    """Any model seqexplain can run, as a :class:`ModelBundle` — the one loader every verb
    goes through.

    Parameters
    ----------
    model : a seqexplain model folder; a Keras model file (``.keras``, or a Keras 2 ``.h5``);
        a TF SavedModel folder (``saved_model.pb``: its ``serving_default`` signature, see
        :mod:`seqexplain.savedmodel`); a Keras model in memory; or a :class:`ModelBundle`
        (returned as it is). A bare model must take one one-hot input (None, length,
        channels) — or (None, channels, length), see ``input_layout``; its alphabet comes
        from ``alphabet`` (default: DNA for 4 channels, protein for 20) and sequences of
        another length are centre padded/cropped.
    alphabet : ``"dna"``, ``"rna"`` or ``"protein"``; for a model folder or a bundle it must
        be the one the model was trained on.
    custom_objects : the user's layer classes (and functions) a model file names: a dict
        ``{name: class}``, or the path of a Python file whose classes and functions are
        taken. Keras's safe mode stays on: no code stored in the model file runs.
    input_layout : ``"channels_last"`` (None, L, C) or ``"channels_first"`` (None, C, L, as
        PyTorch ports use; a transposing layer is put in front, so sequences are given
        channels last as always); None: detected from the channels (4 or 20, or those of
        ``alphabet``).
    profile_outputs : names of flat outputs (None, L) to read as per-position (profile)
        outputs, besides those whose name contains "profile" (see :mod:`seqexplain.heads`).

    Raises
    ------
    SeqexplainError
        A missing or damaged file, a folder that is not a model folder, a layer the loader
        rejects (named), an input that is not one-hot, an alphabet that does not fit the
        channels.
    """
    extras = dict(input_layout=input_layout, profile_outputs=_names(profile_outputs))
    if isinstance(model, ModelBundle):
        if alphabet and get_alphabet(alphabet) is not model.alphabet:
            raise SeqexplainError(f"{model.path or 'model'}: the model takes "
                                  f"{model.alphabet.name}, not {alphabet}")
        return model
    if not isinstance(model, (str, os.PathLike)):
        keras = sys.modules.get("keras")  # a Keras model object means Keras is imported
        if keras is None or not isinstance(model, keras.Model):
            raise SeqexplainError(f"model: expected a Keras model, a ModelBundle, a model "
                                  f"folder or a .keras/.h5 file, got {type(model).__name__}")
        return _keras_bundle(model, alphabet, f"model {model.name!r}", None, **extras)
    path = Path(model)
    if path.is_dir() and (path / "saved_model.pb").is_file():
        from .savedmodel import load_saved_model

        return _keras_bundle(load_saved_model(path), alphabet, str(path), path, **extras)
    if path.is_dir():
        bundle = ModelBundle.load(path)
        if alphabet and get_alphabet(alphabet) is not bundle.alphabet:
            raise SeqexplainError(f"{path}: the model was trained on {bundle.alphabet.name}, "
                                  f"not {alphabet}")
        return bundle
    if not path.exists():
        raise SeqexplainError(f"{path}: no such model folder or file")
    if path.suffix.lower() not in (".keras", ".h5", ".hdf5"):
        raise SeqexplainError(f"{path}: expected a seqexplain model folder, a Keras model "
                              "file (.keras or .h5) or a SavedModel folder")
    return _keras_bundle(load_keras(path, custom_objects), alphabet, str(path), path,
                         **extras)


def split_models(model) -> list:
    """The models of ``model``: a list or tuple as it is; a string of paths separated by
    commas (``"fold0,fold1,fold2"``, the command lines' MODEL of several models) split at the
    commas, unless the whole string is an existing path; anything else as one model."""
    if isinstance(model, (list, tuple)):
        return list(model)
    if isinstance(model, str) and "," in model and not Path(model).exists():
        return [m for m in model.split(",") if m.strip()]
    return [model]


def load_models(model, alphabet: str | None = None, **options) -> list[ModelBundle]:
    """Several models (folds, an ensemble) as bundles: ``model`` is anything
    :func:`split_models` splits, each part loaded by :func:`load_model` (``options``: its
    keyword arguments). Several models must take the same input (length and alphabet) and
    have the same targets, so their outputs and scores can be averaged sequence by sequence.

    Raises
    ------
    SeqexplainError
        No model, or one that differs from the first (named, with what differs).
    """
    models = split_models(model)
    if not models:
        raise SeqexplainError("no model given")
    bundles = [load_model(m, alphabet, **options) for m in models]
    first = bundles[0]

    def shown(b, m):
        return str(b.path) if b.path else (f"model {m.name!r}" if hasattr(m, "name") else
                                           str(m))

    for b, m in zip(bundles[1:], models[1:]):
        if (b.length, b.alphabet.letters) != (first.length, first.alphabet.letters):
            raise SeqexplainError(
                f"{shown(b, m)}: takes {b.length} × {b.alphabet.letters}, but "
                f"{shown(first, models[0])} takes {first.length} × {first.alphabet.letters}; "
                "several models must take the same input")
        names = [t.name for t in b.targets("all")]
        first_names = [t.name for t in first.targets("all")]
        if names != first_names:
            raise SeqexplainError(
                f"{shown(b, m)}: targets {', '.join(names[:6])}, but "
                f"{shown(first, models[0])} has {', '.join(first_names[:6])}; several models "
                "must have the same targets")
    return bundles


def ensemble_fingerprint(fingerprints) -> str:
    """The fingerprint of the mean of several models: a hash of theirs in order (16 hex
    digits); one model's own fingerprint when there is one."""
    import hashlib

    fingerprints = list(fingerprints)
    if len(fingerprints) == 1:
        return fingerprints[0]
    return hashlib.sha256(("mean:" + ",".join(fingerprints)).encode()).hexdigest()[:16]


#: the input layouts a bare model may have
INPUT_LAYOUTS = ("channels_last", "channels_first")


def _names(value) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [n.strip() for n in value.split(",") if n.strip()]
    return [str(n) for n in value]


def _keras_bundle(model, alphabet: str | None, where: str, path: Path | None,
                  input_layout: str | None = None, profile_outputs=None) -> ModelBundle:
    """A bare Keras model with the metadata a model folder would give it."""
    try:
        shape = model.input_shape
    except (AttributeError, ValueError):
        raise SeqexplainError(f"{where}: the model is not built (give keras.Input a shape, or "
                              "call it once on a batch)") from None
    if isinstance(shape, list) or len(shape) != 3 or shape[1] is None or shape[2] is None:
        raise SeqexplainError(f"{where}: the model's input has shape {shape}; expected one-hot "
                              "(None, length, channels)")
    layout = _input_layout(tuple(shape), input_layout, alphabet, where)
    if layout == "channels_first":
        model = _channels_last(model)
        shape = model.input_shape
    length, channels = int(shape[1]), int(shape[2])
    alph = _alphabet_for_channels(channels, alphabet, where)
    from .heads import PROFILE_OUTPUTS_ATTRIBUTE, column_names, outputs_of

    # one output (None, T) or several (a list/dict: e.g. BPNet's profile and counts heads)
    try:
        outputs = outputs_of([tuple(t.shape) for t in model.outputs],
                             list(getattr(model, "output_names", None) or []),
                             profile_outputs)
    except SeqexplainError as exc:
        raise SeqexplainError(f"{where}: {exc}") from None
    if profile_outputs:  # read again wherever a target is parsed against the model
        object.__setattr__(model, PROFILE_OUTPUTS_ATTRIBUTE, list(profile_outputs))
    submodels = {name: [{"name": o.name, "shape": list(o.shape), "flat": o.flat}
                        for o in outs]
                 for name, outs in model_submodels(model).items()}
    metadata = {"alphabet": {"name": alph.name, "letters": alph.letters},
                "input": {"length": length, "channels": channels, "pad": "center",
                          "crop": "center", "unknown": "zero", "layout": layout},
                "task": "unknown", "output_names": column_names(outputs), "class_names": None,
                "outputs": [{"name": o.name, "shape": list(o.shape), "flat": o.flat}
                            for o in outputs]}
    if submodels:
        metadata["submodels"] = submodels
    return ModelBundle(model=model, metadata=metadata, path=path)


def _input_layout(shape: tuple, given: str | None, alphabet: str | None, where) -> str:
    """``"channels_last"`` or ``"channels_first"`` for an input (None, a, b): as given, or
    the axis holding the alphabet's channels (4 or 20 when none is given)."""
    if given is not None:
        layout = given.replace("-", "_").lower()
        if layout not in INPUT_LAYOUTS:
            raise SeqexplainError(f"input layout {given!r}: choose channels_last or "
                                  "channels_first")
        return layout
    wanted = {get_alphabet(alphabet).channels} if alphabet else {4, 20}
    if shape[2] in wanted:
        return "channels_last"
    if shape[1] in wanted:
        log.info(f"note: {where}: input (None, {shape[1]}, {shape[2]}) read as channels "
                 f"first ({shape[1]} channels × {shape[2]} positions); sequences are given "
                 "channels last as always (--input-layout to say otherwise)")
        return "channels_first"
    return "channels_last"  # _alphabet_for_channels names the channels it cannot read


def _channels_last(model):
    """``model`` (input (None, C, L)) behind a transpose: input (None, L, C), same outputs
    and names. The transpose is linear, so every method sees through it."""
    import keras

    inner_shape = model.input_shape
    inp = keras.Input((int(inner_shape[2]), int(inner_shape[1])), name="sequence")
    out = model(keras.layers.Permute((2, 1), name="channels_first")(inp))
    names = list(getattr(model, "output_names", None) or [])
    if isinstance(out, (list, tuple)):
        if len(names) == len(out):  # keep the heads' names
            out = [keras.layers.Identity(name=n)(t) for n, t in zip(names, out)]
        out = list(out)
    elif isinstance(out, dict):
        out = [keras.layers.Identity(name=n)(t) for n, t in out.items()]
    return keras.Model(inp, out, name=f"{model.name}_channels_last")


def model_submodels(model) -> dict:
    """``{name: outputs}`` (:class:`~seqexplain.heads.Output` lists) of the nested models of
    a Keras ``model`` called once on its own input (ChromBPNet's bias and bias-free models
    inside its bias-factorised one): the targets ``name.spec`` read them."""
    import keras

    from .heads import outputs_of

    functional = keras.src.models.functional.Functional
    found = {}
    if not isinstance(model, (keras.Sequential, functional)) or len(model.inputs) != 1:
        return found
    shape = tuple(model.inputs[0].shape[1:])
    for layer in model.layers:
        if not isinstance(layer, (keras.Sequential, functional)) or len(layer.inputs) != 1 \
                or tuple(layer.inputs[0].shape[1:]) != shape \
                or len(outer_nodes(model, layer)) != 1:
            continue
        found[layer.name] = outputs_of([tuple(t.shape) for t in layer.outputs],
                                       list(getattr(layer, "output_names", None) or []))
    return found


def outer_nodes(model, layer) -> list:
    """The calls of the nested model ``layer`` on ``model``'s input (its own construction
    node left out)."""
    return [node for node in layer._inbound_nodes
            if any(t is i for t in node.input_tensors for i in model.inputs)]


def _alphabet_for_channels(channels: int, alphabet: str | None, path) -> Alphabet:
    if alphabet:
        alph = get_alphabet(alphabet)
        if alph.channels != channels:
            raise SeqexplainError(f"{path}: the model takes {channels} channels but "
                                  f"{alph.name} has {alph.channels}")
        return alph
    if channels == 4:
        return get_alphabet("dna")
    if channels == 20:
        return get_alphabet("protein")
    raise SeqexplainError(f"{path}: the model takes {channels} channels; pass --alphabet")


def load_keras(path: str | Path, custom_objects=None):
    """``keras.models.load_model`` in safe mode, with errors as one line — the one place models
    are read. A missing, empty, truncated or non-Keras file is named with what is wrong with
    it (Keras itself says "File not found" for a file that exists but is not a zip archive);
    a layer the loader rejects (a class it does not know, a ``Lambda`` holding Python code)
    is named. ``custom_objects``: a dict, or the path of a Python file (see
    :func:`load_model`). A Keras 2 ``.h5`` file's custom loss or metrics are not needed to
    explain the model: one note says they were ignored."""
    import zipfile
    import zlib

    path = Path(path)
    if not path.exists():
        raise SeqexplainError(f"{path}: no such model file")
    if path.is_dir():
        raise SeqexplainError(f"{path}: is a folder, not a Keras model file")
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise SeqexplainError(f"{path}: cannot read the model file "
                              f"({exc.strerror or type(exc).__name__})") from None
    if size == 0:
        raise SeqexplainError(f"{path}: empty file, not a Keras model")
    if suffix == ".keras":
        if not zipfile.is_zipfile(path):
            raise SeqexplainError(f"{path}: not a valid Keras archive (truncated or not a zip "
                                  "file)")
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                bad = archive.testzip()
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
            raise SeqexplainError(f"{path}: not a valid Keras archive "
                                  f"({str(exc).splitlines()[0] if str(exc) else 'damaged'})"
                                  ) from None
        if bad is not None:
            raise SeqexplainError(f"{path}: not a valid Keras archive (member {bad} is "
                                  "damaged)")
        missing = [n for n in ("config.json", "model.weights.h5") if n not in names]
        if missing:
            raise SeqexplainError(f"{path}: not a valid Keras archive ({missing[0]} is "
                                  "missing)")
    elif suffix in (".h5", ".hdf5") and not _is_hdf5(path):
        raise SeqexplainError(f"{path}: not a valid HDF5 Keras model (truncated or not an "
                              "HDF5 file)")
    import keras

    objects = custom_objects_from(custom_objects)
    try:
        replaced = _keras2_config(path, objects) if suffix != ".keras" else None
        if replaced is not None:
            model = _load_h5_with_config(path, replaced, objects)
        else:
            model = keras.models.load_model(path, safe_mode=True, compile=False,
                                            custom_objects=objects)
    except SeqexplainError:
        raise
    except Exception as exc:  # Keras raises many types for a damaged file
        rejected = _rejected_layer(path, objects)
        if rejected:
            raise SeqexplainError(f"{path}: {rejected}") from None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SeqexplainError(f"{path}: cannot load the Keras model ({first[:200]})") from None
    ignored = _custom_training_objects(path) if suffix != ".keras" else []
    if ignored:
        log.info(f"note: {path}: {' and '.join(ignored)} ignored (not needed to explain the "
                 "model: it is loaded for inference, not compiled)")
    return model


def custom_objects_from(spec) -> dict | None:
    """The ``custom_objects`` dict Keras takes: ``spec`` itself (a dict), or the classes and
    functions defined in the Python file ``spec`` (imported once; a module that registers
    its layers with ``keras.saving.register_keras_serializable`` works too)."""
    if spec is None or isinstance(spec, dict):
        return spec
    import importlib.util

    path = Path(spec)
    if not path.is_file() or path.suffix != ".py":
        raise SeqexplainError(f"{path}: custom objects must be a Python file (.py) defining "
                              "the model's layer classes")
    name = f"seqexplain_custom_objects_{abs(hash(str(path.resolve())))}"
    module = sys.modules.get(name)
    if module is None:
        loader_spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(loader_spec)
        try:
            loader_spec.loader.exec_module(module)
        except Exception as exc:  # the user's code: any error, as one line
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise SeqexplainError(f"{path}: cannot import the custom objects "
                                  f"({type(exc).__name__}: {first[:160]})") from None
        sys.modules[name] = module
    return {key: value for key, value in vars(module).items()
            if callable(value) and getattr(value, "__module__", None) == name}


def _keras2_config(path: Path, objects: dict | None) -> dict | None:
    """The model config of an ``.h5`` file as Keras 3 can build it, or None when Keras's own
    loader reads the file as it is:

    - each ``Lambda`` layer whose *name* is a key of ``objects`` is replaced by that layer
      class (built with the Lambda's name; no code of the file runs). ChromBPNet's full
      model sums its two count heads in a ``Lambda`` (a log-sum-exp): a layer class
      computing the same, given under the Lambda's name, stands in for it;
    - a nested model called in the graph (ChromBPNet's bias and bias-free models) is
      referred to by Keras 2 as its node 1 (node 0 is its own construction); Keras 3's
      legacy loader looks for node 1 among the calls only and fails, so the index is
      shifted down.
    """
    config = _model_config(path)
    if not config:
        return None
    found = _shift_nested_nodes(config)
    for _, kind, layer in _layers_of(config):
        if not objects:
            break
        inner = layer.get("config") or {}
        name = inner.get("name")
        if kind == "Lambda" and name in objects:
            cls = objects[name]
            if not isinstance(cls, type):
                raise SeqexplainError(f"{path}: custom object {name!r} replaces the Lambda "
                                      f"layer of that name: give a layer class, not "
                                      f"{type(cls).__name__}")
            layer["class_name"] = cls.__name__
            layer["config"] = {k: inner[k] for k in ("name", "trainable", "dtype")
                               if k in inner}
            found = True
    return config if found else None


_MODEL_CLASSES = ("Functional", "Model", "Sequential")


def _shift_nested_nodes(config: dict) -> bool:
    """Shift Keras 2's node indices of nested models down by one (see
    :func:`_keras2_config`), at every level; whether any was shifted."""
    inner = config.get("config") or {}
    layers = inner.get("layers") or []
    nested = {(layer.get("config") or {}).get("name") for layer in layers
              if isinstance(layer, dict) and layer.get("class_name") in _MODEL_CLASSES}
    shifted = False
    for layer in layers:
        if not isinstance(layer, dict):
            continue
        for node in layer.get("inbound_nodes") or []:
            for ref in node if isinstance(node, list) else []:
                if isinstance(ref, list) and len(ref) >= 3 and ref[0] in nested \
                        and isinstance(ref[1], int) and ref[1] > 0:
                    ref[1] -= 1
                    shifted = True
        if layer.get("class_name") in _MODEL_CLASSES:
            shifted = _shift_nested_nodes(layer) or shifted
    return shifted


def _load_h5_with_config(path: Path, config: dict, objects: dict):
    """Keras's legacy ``.h5`` loader (safe mode) on ``path``'s weights with ``config`` as the
    architecture: an in-memory copy of the file with its ``model_config`` replaced."""
    import h5py
    from keras.src.legacy.saving.legacy_h5_format import load_model_from_hdf5

    objects = dict(objects or {})
    objects.update({cls.__name__: cls for cls in objects.values() if isinstance(cls, type)})
    with h5py.File(path, "r") as source, \
            h5py.File(f"in-memory-{id(config)}.h5", "w", driver="core",
                      backing_store=False) as copy:
        for key, value in source.attrs.items():
            copy.attrs[key] = value
        copy.attrs["model_config"] = json.dumps(config)
        source.copy(source["model_weights"], copy, "model_weights")
        return load_model_from_hdf5(copy, custom_objects=objects, compile=False,
                                    safe_mode=True)


def _model_config(path: Path) -> dict | None:
    """The architecture stored in a ``.keras`` or ``.h5`` file (None when unreadable)."""
    import zipfile

    try:
        if path.suffix.lower() == ".keras":
            with zipfile.ZipFile(path) as archive:
                return json.loads(archive.read("config.json"))
        import h5py

        with h5py.File(path, "r") as fh:
            text = fh.attrs.get("model_config")
        text = text.decode() if isinstance(text, bytes) else text
        return json.loads(text) if text else None
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


def _layers_of(config: dict, prefix: str = ""):
    """(path, class name, config) of every layer of a model config, nested models too."""
    for layer in (config.get("config") or {}).get("layers") or []:
        if not isinstance(layer, dict):
            continue
        inner = layer.get("config") or {}
        where = f"{prefix}{inner.get('name', '?')}"
        yield where, str(layer.get("class_name")), layer
        if isinstance(inner, dict) and "layers" in inner:
            yield from _layers_of(layer, prefix=f"{where}/")


def _rejected_layer(path: Path, objects: dict | None) -> str | None:
    """The first layer of the file Keras cannot build in safe mode, as a sentence."""
    import keras

    config = _model_config(path)
    if not config:
        return None
    known = set(objects or {})
    for where, kind, layer in _layers_of(config):
        if kind == "Lambda" and path.suffix.lower() == ".keras":
            return (f"layer {where!r} (Lambda) stores Python code, which is not run (Keras "
                    "safe mode); save the model with a layer class in its place and pass "
                    "the class with --custom-objects FILE.py (custom_objects= in Python)")
        if kind == "Lambda":
            return (f"layer {where!r} (Lambda) stores Python code, which is not run (Keras "
                    "safe mode); give a layer class computing the same under the layer's "
                    "name with --custom-objects FILE.py (custom_objects= in Python)")
        if kind in ("TFOpLambda", "SlicingOpLambda"):
            return (f"layer {where!r} ({kind}) is a TensorFlow operation Keras 2 recorded "
                    "in the graph, which Keras 3 cannot rebuild (a layer class in its "
                    "place, or the model saved as a SavedModel folder, can be explained)")
        registered = layer.get("registered_name") or kind
        if (kind in known or registered in known or hasattr(keras.layers, kind)
                or kind in ("Functional", "Sequential", "Model")
                or keras.saving.get_registered_object(registered) is not None):
            continue
        return (f"layer {where!r} ({kind}) is not a Keras layer; pass its class with "
                "--custom-objects FILE.py (custom_objects= in Python)")
    return None


def _custom_training_objects(path: Path) -> list[str]:
    """Descriptions of the custom loss and metrics named by a Keras 2 ``.h5`` file's
    training configuration (those Keras does not know), e.g. ``["custom loss
    'multinomial_nll'"]``."""
    import h5py
    import keras

    try:
        with h5py.File(path, "r") as fh:
            text = fh.attrs.get("training_config")
        text = text.decode() if isinstance(text, bytes) else text
        config = json.loads(text) if text else {}
    except (OSError, ValueError):
        return []

    def names(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            if "class_name" in value:
                config = value.get("config") or {}
                # a function wrapped by Keras 2 (MeanMetricWrapper, LossFunctionWrapper):
                # the function's name tells whether it is Keras's own
                wrapped = config.get("fn") if isinstance(config, dict) else None
                yield wrapped or value["class_name"]
            else:
                for item in value.values():
                    yield from names(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                yield from names(item)

    def known(name, getter):
        try:
            getter(name)
            return True
        except Exception:  # Keras raises ValueError or TypeError for an unknown name
            return False

    found = []
    for key, getter, what in (("loss", keras.losses.get, "loss"),
                              ("metrics", keras.metrics.get, "metric"),
                              ("weighted_metrics", keras.metrics.get, "metric")):
        custom = sorted({n for n in names(config.get(key)) if not known(n, getter)})
        if custom:
            plural = "es" if what == "loss" and len(custom) > 1 else (
                "s" if len(custom) > 1 else "")
            found.append(f"custom {what}{plural} {', '.join(map(repr, custom))}")
    return found


def _is_hdf5(path: Path) -> bool:
    import h5py

    try:
        return bool(h5py.is_hdf5(path))
    except OSError:
        return False


def model_fingerprint(model, letters: str) -> str:
    """A short hash identifying a model: its input shape, the alphabet's letters, and the shape,
    dtype and bytes of every weight (in order). The same weights loaded from a model folder
    or its bare ``model.keras`` give the same fingerprint; any retraining changes it.

    Returns
    -------
    str
        16 hexadecimal digits.
    """
    import hashlib

    digest = hashlib.sha256()
    digest.update(repr((tuple(model.inputs[0].shape[1:]), str(letters))).encode())
    for weight in model.weights:
        value = np.ascontiguousarray(np.asarray(weight.numpy()))
        digest.update(repr((value.shape, value.dtype.str)).encode())
        digest.update(value.tobytes())
    return digest.hexdigest()[:16]
