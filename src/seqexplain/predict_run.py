"""What ``seqexplain predict`` and ``seqexplain evaluate`` do: a model and input files (FASTA,
or regions of a genome) → a predictions table, or metrics.

Sits above :mod:`seqexplain.prediction` (the predictions of arrays, records and FASTA files)
and :mod:`seqexplain.distributed` (the same as Dask tasks), which imports
:mod:`seqexplain.prediction`: these functions choose between the two.
"""

from __future__ import annotations

import logging
import os
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from .errors import OptionError, SeqexplainError
from .outputs import atomic_file, check_writable, write_json

log = logging.getLogger("seqexplain")


@dataclass
class PredictResult:
    """What :func:`predict_files` did: ``n`` predictions written to ``out`` (as given);
    ``profiles``: the ``.npz`` of per-position outputs, or ``None``; ``dask``: workers and
    chunks computed/resumed (``None`` without a cluster)."""

    out: str
    n: int
    profiles: Path | None = None
    dask: dict | None = None

    def summary(self) -> str:
        """The line ``seqexplain predict`` prints."""
        if self.dask is not None:
            return (f"{self.out}: {self.n} predictions ({self.dask['workers']} Dask workers, "
                    f"{self.dask['computed']} chunks computed, {self.dask['resumed']} resumed)")
        return f"{self.out}: {self.n} predictions" + (
            f"; per-position outputs in {self.profiles}" if self.profiles else "")


def predict_files(model, inputs=None, *, out, regions=None, genome=None, off_edge: str = "pad",
                  alphabet: str | None = None, batch_size: int = 4096,
                  cluster: str | None = None, resume: bool = False, force: bool = False,
                  progress: bool = True, custom_objects=None, input_layout: str | None = None,
                  profile_outputs=None) -> PredictResult:
    """Predict every record of ``inputs`` (a FASTA file), or every ``regions`` window of
    ``genome``, with ``model`` (a model folder, a Keras ``.keras``/``.h5`` file or a TF
    SavedModel folder; ``alphabet`` the channels of a bare file; ``custom_objects``,
    ``input_layout``, ``profile_outputs`` as :func:`~seqexplain.bundle.load_model` takes them)
    and write ``out``: a TSV of ``id`` + one column per output
    (probabilities for classification), atomically; per-position outputs (profile heads) go
    to :func:`~seqexplain.prediction.profiles_path` of ``out``. ``batch_size`` records are
    read and predicted at a time. With ``cluster`` (``"local[:N]"`` or a scheduler address)
    chunks run as Dask tasks, their shards in ``OUT.shards/`` (``resume`` keeps an
    interrupted run's).

    Raises
    ------
    OptionError : a wrong option or combination, found before any work.
    SeqexplainError : a bad file or record; nothing is written.
    """
    from ._tf import import_tensorflow
    from .distributed import check_cluster_options
    from .genome import check_input_option

    loading = dict(custom_objects=custom_objects, input_layout=input_layout,
                   profile_outputs=profile_outputs)
    check_cluster_options(cluster, resume=resume, regions=regions, model=model,
                          loading=any(loading.values()))
    check_writable(out, force, kind="file")
    fastas, region_files = [inputs] if inputs else [], [regions] if regions else []
    check_input_option(fastas, region_files, genome)
    import_tensorflow()
    from .bundle import load_model
    from .genome import sequence_inputs
    from .prediction import predict_fasta, profiles_path

    bundle = load_model(model, alphabet, **loading)
    profiles = profiles_path(out) if any(o.is_profile for o in bundle.outputs) else None
    if cluster:
        if profiles:
            raise OptionError("--cluster: a model with per-position outputs is predicted "
                              "in one process (leave out --cluster)")
        from .distributed import predict_fasta_dask

        with atomic_file(out, force=force) as tmp:
            done = predict_fasta_dask(bundle, os.fspath(model), alphabet, inputs, tmp, cluster,
                                      batch_size=batch_size, resume=resume, force=force,
                                      shards=f"{out}.shards", progress=progress)
        done["shards"].remove()
        return PredictResult(out, done["n"], dask=done["dask"])
    found = sequence_inputs(fastas, region_files, genome, length=bundle.length,
                            off_edge=off_edge)
    for note in found.notes:
        log.info(note)
    with atomic_file(out, force=force) as tmp, \
            (atomic_file(profiles, force=force, suffix=".npz") if profiles
             else nullcontext()) as tmp_profiles:
        n = predict_fasta(bundle, found.sources[0], tmp, batch_size=batch_size,
                          progress=progress, profiles_out=tmp_profiles)
    return PredictResult(out, n, profiles)


@dataclass
class EvaluateResult:
    """What :func:`evaluate_files` did: ``metrics`` (as
    :func:`~seqexplain.prediction.evaluate_fasta` returns them) and ``out``, the JSON file
    they were written to, or ``None``."""

    metrics: dict = field(default_factory=dict)
    out: str | None = None

    def summary(self) -> list[str]:
        """The lines ``seqexplain evaluate`` prints: one per scalar metric."""
        lines = []
        for key, value in self.metrics.items():
            if isinstance(value, float):
                lines.append(f"{key:<14}{value:.4f}")
            elif not isinstance(value, dict):
                lines.append(f"{key:<14}{value}")
        return lines


def evaluate_files(model, inputs=(), *, labels=None, regions=(), genome=None,
                   off_edge: str = "pad", label_column: int | None = None,
                   background: str | None = None, out=None,
                   force: bool = False) -> EvaluateResult:
    """Metrics of the model folder ``model`` on labelled data: FASTA file(s) ``inputs``
    labelled as for training (one file per class, ``labels``, or ``label=`` header tokens),
    or ``regions`` windows of ``genome`` (one regions file per class, ``label_column``,
    ``labels``, or one file of positives with ``background="gc-matched"``, which labels the
    regions as the positive class of a binary model and the drawn windows as its negative
    class). ``out``: also write the metrics as JSON (replaced only with ``force``).

    Raises
    ------
    OptionError : a wrong option or combination, found before any work.
    SeqexplainError : a bad file or record; nothing is written.
    """
    from ._tf import import_tensorflow
    from .genome import check_input_option

    if out:
        check_writable(out, force, kind="file")
    fastas, regions = list(inputs or ()), list(regions or ())
    check_input_option(fastas, regions, genome, label_column=label_column,
                       background=background)
    import_tensorflow()
    from .bundle import ModelBundle
    from .genome import sequence_inputs
    from .prediction import evaluate_fasta

    bundle = ModelBundle.load(model)
    source_classes = None
    if background is not None:  # held-out positives against drawn background
        if bundle.task != "binary" or labels:
            raise OptionError("--background labels the regions as the positive class of a "
                              "binary model and the drawn windows as its negative class"
                              + (" (not with --labels)" if labels else
                                 f"; {model} is a {bundle.task} model"))
        source_classes = [bundle.class_names[-1], bundle.class_names[0]]
        log.info(f"labels: {regions[0]} windows as {source_classes[0]!r}, background as "
                 f"{source_classes[1]!r}")
    found = sequence_inputs(fastas, regions, genome, length=bundle.length, off_edge=off_edge,
                            label_column=label_column, background=background)
    for note in found.notes:
        log.info(note)
    metrics = evaluate_fasta(bundle, found.sources, labels, source_classes)
    if out:
        with atomic_file(out, force=force) as tmp:
            write_json(tmp, metrics)
    return EvaluateResult(metrics, out)
