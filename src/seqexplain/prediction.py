"""Predictions of a model: on arrays (:func:`predict`), and on FASTA files with evaluation
against labels (:func:`predict_fasta`, :func:`evaluate_fasta`)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .bundle import ModelBundle, load_model
from .errors import SeqexplainError, check_int
from .progress import Progress


#: what :func:`predict` returns for a classifier: its probabilities, or the logits before them
PREDICT_OUTPUTS = ("prob", "logit")


def predict(model, X, *, target=None, output: str = "prob", batch_size: int = 256,
            alphabet: str | None = None) -> np.ndarray:
    """The model's outputs on a batch of sequences.

    Parameters
    ----------
    model : a Keras model, a ``.keras``/``.h5`` file, a model folder or a
        :class:`~seqexplain.bundle.ModelBundle` (see :func:`~seqexplain.bundle.load_model`).
    X : one-hot sequences, shape=(n, length, C) with the model's length and channels; or a
        string or a list of strings, encoded with the model's alphabet (DNA for a bare
        4-channel Keras model) and centre padded/cropped to its length.
    target : ``None``: every column of the model's vector outputs, shape=(n, T) — the columns
        ``seqexplain predict`` writes (``ModelBundle.output_names``; a model with several
        outputs gives its vector outputs side by side). Otherwise a target spec as
        ``sx.attribute`` takes it (:mod:`seqexplain.heads`: an index, an output or class
        name, ``"counts:0"``, ``"profile"``, ``"profile[90:110]"``): the scalar of that
        target, shape=(n,); several targets (a list, ``"a,b"`` or ``"all"``) give
        shape=(n, k), in order. ``predict(model, X, target=t, output="logit")`` is the
        quantity ``sx.attribute(model, X, target=t)`` explains (attribution, which needs one
        scalar, takes the first column or the first output when given no target).
    output : ``"prob"`` (default): the outputs as the model gives them (probabilities for a
        classifier); ``"logit"``: before a final sigmoid/softmax. Per-position outputs are
        read as they are.
    batch_size : sequences per model call.
    alphabet : the alphabet of a bare Keras model (see :func:`~seqexplain.bundle.load_model`).

    Returns
    -------
    float array, shape=(n, T) for ``target=None``, (n,) for one target, (n, k) for k.

    Raises
    ------
    SeqexplainError
        An array of the wrong shape, a letter the model's alphabet does not have, an unknown
        target (the message lists the valid ones).
    """
    if output not in PREDICT_OUTPUTS:
        raise SeqexplainError(f"output={output!r}: choose one of {', '.join(PREDICT_OUTPUTS)}")
    check_int("batch_size", batch_size, 1)
    bundle = load_model(model, alphabet)
    X = bundle.onehot_input(X)
    if target is None:
        return _columns(bundle, X, output, batch_size)
    targets = bundle.targets(target)
    from .attribution.multi_output import explained_target

    values = []
    columns = None
    for t in targets:
        if t.single:  # a column of the one output: every column comes from one model call
            if columns is None:
                columns = _columns(bundle, X, output, batch_size)
            values.append(columns[:, t.channel])
            continue
        explained, column = explained_target(bundle.model, t, output, X)
        values.append(_as_columns(forward(explained, X, batch_size))[:, column])
    if len(values) == 1 and not _names_several(target):
        return values[0]
    return np.stack(values, axis=1)


def _names_several(target) -> bool:
    """Whether a target spec asks for a list of targets (a list, ``"a,b"`` or ``"all"``)."""
    if isinstance(target, (list, tuple)):
        return True
    return isinstance(target, str) and ("," in target or target.strip().lower() == "all")


def forward(model, X: np.ndarray, batch_size: int = 256):
    """``model``'s outputs on ``X`` (n, L, C), batch by batch — NumPy arrays in the
    structure the model returns (an array, or a list or dict of them).

    The model runs in one ``tf.function`` traced once for any batch size and kept on the
    model (Keras' ``model.predict`` costs about half a second per call on a small model,
    whatever the batch), so a notebook calling :func:`predict` on varying batches pays only
    for the compute after the first call."""
    import tensorflow as tf

    from .attribution.engine import model_cache

    cache = model_cache(model)
    function = cache.get("sx.predict")
    if function is None:
        spec = tf.TensorSpec((None, *model.inputs[0].shape[1:]), model.inputs[0].dtype)
        function = tf.function(lambda x: model(x, training=False), input_signature=[spec])
        cache["sx.predict"] = function
    dtype = model.inputs[0].dtype
    dtype = dtype if isinstance(dtype, str) else dtype.name
    parts = [function(np.asarray(X[lo:lo + batch_size], dtype=dtype))
             for lo in range(0, len(X), batch_size)]
    if not parts:  # no sequences: the shapes from one empty call
        parts = [function(np.zeros((0, *X.shape[1:]), dtype=dtype))]
    return tf.nest.map_structure(lambda *p: np.concatenate([np.asarray(a) for a in p]),
                                 *parts)


def _as_columns(y: np.ndarray) -> np.ndarray:
    """(n,) or (n, T) outputs as (n, T), also for n = 0."""
    return y.reshape(len(y), int(np.prod(y.shape[1:])))


def _columns(bundle: ModelBundle, X: np.ndarray, output: str, batch_size: int) -> np.ndarray:
    """Every column of the vector outputs, shape (n, T): as the model gives them, or logits."""
    if output == "prob":
        return bundle.split_outputs(forward(bundle.model, X, batch_size), len(X))[0]
    from .attribution.logits import explained_model
    from .attribution.multi_output import target_model
    from .heads import Target

    if bundle.single_output:
        models = [explained_model(bundle.model, "logit")]
    else:  # each vector output's logits: the head of its first column holds all its columns
        models = [target_model(bundle.model, Target(o.name, i, "column", 0), "logit")
                  for i, o in enumerate(bundle.outputs) if not o.is_profile]
    parts = [_as_columns(forward(m, X, batch_size)) for m in models]
    return np.concatenate(parts, axis=1) if parts else np.zeros((len(X), 0))


def output_columns(bundle: ModelBundle) -> list[str]:
    """The columns of a predictions table after ``id``: the vector outputs (``counts:0``, …
    for a model with several outputs), or the classes."""
    return list(bundle.output_names if bundle.task != "multiclass" else bundle.class_names)


def predict_records(bundle: ModelBundle, ids: list[str], sequences: list[str],
                    source: str = "", profiles=None) -> str:
    """One batch of records → its rows of the predictions TSV (no header): ``id`` + one
    ``%.6g`` column per output (probabilities for classification). A model's per-position
    outputs go to ``profiles`` (an :class:`~seqexplain.attributions.AttributionsWriter`),
    required when the model has some."""
    enc = bundle.encode(sequences, ids=ids, source=source)
    if profiles is not None:
        outputs, per_position = bundle.predict_all(enc.onehot)
        profiles.append(per_position)
    else:
        outputs = bundle.predict(enc.onehot)
    frame = pd.DataFrame(outputs, columns=output_columns(bundle))
    frame.insert(0, "id", ids)
    return frame.to_csv(sep="\t", header=False, index=False, float_format="%.6g")


def profiles_path(out_path) -> Path:
    """Where ``predict`` writes the per-position outputs beside the TSV ``out_path``:
    ``NAME.profiles.npz`` for ``NAME.tsv``."""
    out_path = Path(out_path)
    stem = out_path.name[:-len(out_path.suffix)] if out_path.suffix else out_path.name
    return out_path.with_name(f"{stem}.profiles.npz")


def predict_fasta(bundle: ModelBundle, fasta, out_path, batch_size: int = 4096,
                  progress: bool = True, profiles_out=None) -> int:
    """Stream ``fasta`` through the model, writing ``id`` + one column per output (probabilities
    for classification) as TSV to ``out_path``. Memory is bounded by one batch. Returns the
    number of records.

    A model with per-position outputs (shape (None, L, S), e.g. BPNet's profile head) also
    writes them to ``profiles_out`` (an ``.npz``; required then): ``ids`` (N,) and one array
    (N, L, S) per such output, by its name; the TSV holds the vector outputs' columns
    (``counts:0``, ``counts:1``, …)."""
    from .attributions import AttributionsWriter
    from .fasta import iter_fasta_batches, scan_fasta

    has_profiles = any(o.is_profile for o in bundle.outputs)
    if has_profiles and profiles_out is None:
        raise SeqexplainError("the model has per-position outputs: give profiles_out")
    stack = contextlib.ExitStack()
    writer = None
    if has_profiles:  # closed (its temporary files removed) whatever happens
        writer = stack.enter_context(AttributionsWriter(profiles_out,
                                                        scan_fasta(fasta, detect=False).n))
    ids: list[str] = []
    n = 0
    with stack, open(out_path, "w") as fh, Progress(None, "predict", enabled=progress) as bar:
        fh.write("\t".join(["id", *output_columns(bundle)]) + "\n")
        for batch in iter_fasta_batches(fasta, batch_size):
            fh.write(predict_records(bundle, batch.ids, batch.sequences, os.fspath(fasta),
                                     profiles=writer))
            if writer is not None:
                ids += batch.ids
            n += len(batch.ids)
            bar.update(len(batch.ids))
        if n == 0:
            raise SeqexplainError(f"{fasta}: no records")
        if writer is not None:
            writer.finish({"ids": np.array(ids)})
    return n


def evaluate_fasta(bundle: ModelBundle, fastas, labels=None,
                   source_classes: Sequence[str] | None = None) -> dict:
    """Metrics of the model on labelled FASTA file(s) or region sources, with the model's
    classes.

    ``source_classes``: the class of every record of each source, in order (e.g. held-out
    peaks as the model's positive class and a drawn background as its negative class), in
    place of labels from ``labels`` or the file names."""
    from .fasta import read_fasta
    from .labels import labels_for, labels_from_sources
    from .metrics import evaluate, scores_for_metrics, true_for_metrics
    from .targets import make_targets

    records = read_fasta(fastas)
    table = (labels_for(records, labels) if source_classes is None
             else labels_from_sources(records, source_classes))
    task, classes = bundle.task, bundle.class_names
    if table is None:
        raise SeqexplainError("no labels: pass --labels TABLE (or label= header tokens)")
    if task in ("binary", "multiclass"):
        seen = set(table.iloc[:, 0].map(lambda v: str(int(v)) if isinstance(v, float)
                                        and float(v).is_integer() else str(v)))
        unknown = sorted(seen - set(classes))
        if unknown:
            raise SeqexplainError(f"{labels or fastas[0]}: label(s) {', '.join(unknown[:3])} "
                                  f"are not classes of the model ({', '.join(classes)})")
        targets = make_targets(table, task, positive_class=classes[-1] if task == "binary"
                               else None, class_order=classes if task == "multiclass"
                               else None, source=os.fspath(labels or fastas[0]))
        if task == "multiclass" and targets.class_names != classes:
            # a class absent from these labels: keep the model's output order
            index = {c: i for i, c in enumerate(classes)}
            targets.y = np.array([index[targets.class_names[i]] for i in targets.y])
            targets.class_names = targets.output_names = list(classes)
    else:
        missing = [c for c in bundle.output_names if c not in table.columns]
        if missing:
            raise SeqexplainError(f"{labels}: no column {missing[0]!r} (the model's outputs: "
                                  f"{', '.join(bundle.output_names)})")
        targets = make_targets(table[bundle.output_names], task, source=os.fspath(labels))
    # file by file, so that an invalid character is reported in the file that holds it
    sources = np.asarray(records.sources)
    X = np.concatenate([
        bundle.encode([records.sequences[i] for i in idx], ids=[records.ids[i] for i in idx],
                      source=source).onehot
        for source in dict.fromkeys(records.sources)
        for idx in [np.flatnonzero(sources == source)]])
    outputs = bundle.predict(X)
    return evaluate(task, true_for_metrics(targets), scores_for_metrics(task, outputs),
                    targets.class_names or targets.output_names)
