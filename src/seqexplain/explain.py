"""``explain``: a model and a FASTA file → ``attributions.npz`` (or ``.h5``).

For every requested method ``M`` the output holds ``M`` (contribution of the observed base,
zero at the other channels) and ``M_hypothetical`` (a score for every base at every
position), plus ``M_delta`` (completeness error) for methods that have one. Sequences are
processed in chunks and written to disk chunk by chunk, so peak memory does not grow with
the number of sequences. The file format (writers, reader, TF-MoDISco export) is
:mod:`seqexplain.attributions`.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .alphabets import Alphabet
from .attribution.registry import REFERENCE_KINDS, MethodSettings, resolve_method
from .attributions import DELTA, Attributions, AttributionsWriter, target_key
from .bundle import ModelBundle
from .encoding import encode
from .errors import SeqexplainError
from .fasta import iter_fasta_batches, read_fasta, scan_fasta
from .heads import Target
from .outputs import portable_path
from .progress import Progress
from .shuffle import dinucleotide_shuffle

#: Reference shuffles are drawn per block of this many sequences, seeded by (seed, block
#: index); chunks are whole blocks, so the chunk size does not change any result.
REFERENCE_BLOCK = 32


def resolve_target(bundle: ModelBundle, target: str | int | None) -> int | str:
    """One explained target: for a one-output model its column index (from an index or an
    output/class name; default 0, binary: the positive class's logit); for a model with
    several outputs the target's spec (``"counts:0"``, ``"profile"``, see
    :mod:`seqexplain.heads`)."""
    targets = bundle.targets(target)
    if len(targets) != 1:
        raise SeqexplainError(f"target {target!r} names {len(targets)} targets "
                              f"({', '.join(t.name for t in targets[:6])}); give one")
    return target_spec(targets[0])


def target_spec(target: Target) -> int | str:
    """What the attribution verbs take as ``target``: the column index of a one-output
    model's target, else the target's name (a spec)."""
    return target.channel if target.single else target.name


@dataclass(frozen=True)
class ExplainSettings(MethodSettings):
    """The methods run and their :class:`~seqexplain.attribution.options.MethodSettings` (declared
    there once; ``seqexplain explain`` generates its flags from them). ``target`` may name
    several targets (``"all"``, ``"a,b"``; see :mod:`seqexplain.heads`); ``references`` is a
    kind or a FASTA path."""

    methods: tuple[str, ...] = ("deepshap",)

    def recorded(self) -> dict:
        """What a file's ``settings`` keeps: the methods, then the recorded options."""
        return dict(methods=list(self.methods), **super().recorded())


def read_references(path, alphabet: Alphabet, length: int, unknown: str = "zero"
                    ) -> np.ndarray:
    """A FASTA of reference sequences → (r, length, C), one background set for all; every
    record must have the model's length."""
    records = read_fasta(path)
    enc = encode(records.sequences, alphabet, length, unknown=unknown, ids=records.ids,
                 source=os.fspath(path), fixed_by="the model")
    if (enc.lengths != length).any():
        i = int(np.argmax(enc.lengths != length))
        raise SeqexplainError(f"{path}: record {records.ids[i]!r}: reference is "
                              f"{enc.lengths[i]} long; the model takes {length} "
                              f"({alphabet.name})")
    return enc.onehot


def shuffled_references(X: np.ndarray, offset: int, n: int, seed: int) -> np.ndarray:
    """Dinucleotide shuffles of sequences ``offset …`` (``offset`` a multiple of
    :data:`REFERENCE_BLOCK`), shape (len(X), n, length, C): block ``k`` is always drawn with
    seed (seed, k), whatever chunks the sequences arrive in."""
    out = np.empty((len(X), n, *X.shape[1:]), np.float32)
    first = offset // REFERENCE_BLOCK
    for b, lo in enumerate(range(0, len(X), REFERENCE_BLOCK)):
        rng = np.random.default_rng([seed, first + b])
        out[lo:lo + REFERENCE_BLOCK] = dinucleotide_shuffle(X[lo:lo + REFERENCE_BLOCK], n=n,
                                                            random_state=rng)
    return out


def deeplift_reference(references):
    """DeepLIFT's single reference: uniform by default, zero/uniform when asked, or the first
    sequence of a user's reference FASTA, shape (length, C)."""
    if isinstance(references, str):
        return "uniform" if references == "shuffle" else references
    return np.asarray(references)[0]


def chunk_options(X: np.ndarray, settings: ExplainSettings, references, offset: int = 0
                  ) -> MethodSettings:
    """The options the methods get on the chunk of sequences ``offset …`` (a multiple of
    :data:`REFERENCE_BLOCK`): ``settings`` with the chunk's shuffled references drawn
    (seeded per block, so chunking changes nothing) and DeepLIFT's one reference.
    ``references``: a kind or a (r, length, C) array."""
    shuffled = isinstance(references, str) and references == "shuffle"
    return replace(settings, references=shuffled_references(
        X, offset, settings.n_references, settings.seed) if shuffled else references,
        deeplift_reference=deeplift_reference(references))


def attribute_chunk(model, X: np.ndarray, settings: ExplainSettings, references,
                    offset: int = 0, targets: list | None = None) -> dict[str, np.ndarray]:
    """All requested methods on one chunk of sequences ``offset …`` (a multiple of
    :data:`REFERENCE_BLOCK`): ``{M: observed, M_hypothetical: …, M_delta: …}`` as the method
    table (:mod:`seqexplain.attribution.registry`) forms them. ``references``: a kind
    (``"shuffle"``: seeded per block, so chunking changes nothing) or a (r, length, C) array.
    ``targets``: several targets as ``(spec, name)`` pairs, each method's arrays then under
    ``M@name`` keys; default: ``settings.target`` alone, under plain keys. ``model``: one
    Keras model, or a list of them (folds), whose arrays are averaged (:func:`mean_arrays`)."""
    if isinstance(model, (list, tuple)):
        return mean_arrays(attribute_chunk(m, X, settings, references, offset, targets)
                           for m in model)
    options = chunk_options(X, settings, references, offset)
    out: dict[str, np.ndarray] = {}
    for method in settings.methods:
        entry = resolve_method(method)
        specs = [settings.target] if targets is None else [spec for spec, _ in targets]
        for i, scores in enumerate(entry.scores_of_targets(model, X, specs, options)):
            keys = {method: scores.observed, f"{method}_hypothetical": scores.hypothetical}
            if scores.delta is not None:
                keys[f"{method}_delta"] = scores.delta
            if targets is not None:
                keys = {target_key(k, targets[i][1]): v for k, v in keys.items()}
            out.update(keys)
    return out


#: per-sequence members that are the same under every model (not averaged over models)
SHARED_MEMBERS = ("ids", "onehot", "lengths", "offsets")


def mean_arrays(parts) -> dict[str, np.ndarray]:
    """The member-wise mean of several models' arrays of the same sequences (an iterable of
    dicts with the same keys): every score, hypothetical score, delta, logit and prediction
    averaged in float64 and stored in its first dtype; :data:`SHARED_MEMBERS` taken from the
    first. The mean's delta is the mean of the deltas: completeness is linear in the scores
    and the outputs."""
    total: dict[str, np.ndarray] = {}
    dtypes: dict[str, np.dtype] = {}
    n = 0
    for arrays in parts:
        n += 1
        for key, value in arrays.items():
            if key in SHARED_MEMBERS:
                total.setdefault(key, value)
            elif key in total:
                total[key] += value
            else:
                dtypes[key] = np.asarray(value).dtype
                total[key] = np.array(value, np.float64)
    return {k: (v / n).astype(dtypes[k]) if k in dtypes else v for k, v in total.items()}


def _target_plan(bundle: ModelBundle, settings: ExplainSettings):
    """The run's targets: ``(targets, specs, several, single, output_names, columns)`` —
    ``columns`` the index of each target's column in the ``logits`` member."""
    targets = bundle.targets(settings.target)
    specs = [target_spec(t) for t in targets]
    single = bundle.single_output
    output_names = bundle.output_names if single else [t.name for t in targets]
    columns = [t.channel for t in targets] if single else list(range(len(targets)))
    return targets, specs, len(targets) > 1, single, output_names, columns


def explain_records(bundle: ModelBundle | list[ModelBundle], ids: list[str], sequences: list[str],
                    settings: ExplainSettings, references, offset: int = 0,
                    source: str = "") -> dict[str, np.ndarray]:
    """One chunk of records ``offset …`` (a multiple of :data:`REFERENCE_BLOCK`) → every
    per-sequence member of the scores file (``ids``, ``onehot``, ``lengths``, ``offsets``,
    ``logits``, ``predictions`` and the methods' arrays, under ``M@t`` keys when
    ``settings.target`` names several targets). What a single process does chunk by chunk,
    and what each Dask task does (:mod:`seqexplain.distributed`). ``bundle``: one model, or a
    list of them (folds, checked alike by :func:`~seqexplain.bundle.load_models`), each run
    on the chunk in turn and their arrays averaged (:func:`mean_arrays`)."""
    if isinstance(bundle, (list, tuple)):
        return mean_arrays(explain_records(b, ids, sequences, settings, references, offset,
                                           source) for b in bundle)
    from .attribution import explained_model, explained_output  # TensorFlow: when a model runs

    model = bundle.model
    targets, specs, several, single, _, _ = _target_plan(bundle, settings)
    enc = bundle.encode(sequences, ids=ids, source=source)
    X = enc.onehot
    arrays = {"ids": np.array(ids), "onehot": X, "lengths": enc.lengths,
              "offsets": enc.offsets}
    if single:
        logit = explained_model(model, "logit")
        arrays["logits"] = np.asarray(logit.predict(
            X, batch_size=settings.batch_size, verbose=0)).reshape(len(X), -1)
        arrays["predictions"] = np.asarray(model.predict(
            X, batch_size=settings.batch_size, verbose=0)).reshape(len(X), -1)
    else:  # the explained scalar of each target
        values = np.stack([explained_output(model, X, spec, settings.batch_size)
                           for spec in specs], axis=1).astype(np.float32)
        arrays["logits"] = arrays["predictions"] = values
    arrays.update(attribute_chunk(model, X, replace(settings, target=specs[0]), references,
                                  offset=offset,
                                  targets=[(spec, t.name) for spec, t in zip(specs, targets)]
                                  if several else None))
    return arrays


def chunk_records(settings: ExplainSettings) -> int:
    """Records per chunk: ``settings.chunk_size`` rounded up to whole reference blocks."""
    return -(-settings.chunk_size // REFERENCE_BLOCK) * REFERENCE_BLOCK


def explain_fasta(bundle: ModelBundle | list[ModelBundle], fasta, out_path,
                  settings: ExplainSettings,
                  references=None, progress: bool = True, keep_top: int = 0) -> dict:
    """Explain every record of ``fasta`` and write ``out_path`` (``.npz`` or ``.h5``).

    Chunks of ``settings.chunk_size`` sequences are encoded, explained and written; arrays go
    to disk as they are made, so memory stays bounded by one chunk. Returns a summary dict
    (``n``, ``seconds``, max |delta| per method, ``targets``) and, with ``keep_top`` K,
    ``top``: the K sequences with the highest explained logit (of the first target), as
    :class:`~seqexplain.attributions.Attributions` (for logos).

    ``settings.target`` may name several targets (``"all"``, ``"a,b"``): each method's
    arrays of target ``t`` are then stored as ``M@t``, ``M@t_hypothetical``, ``M@t_delta``
    and the file lists ``targets`` (see :mod:`seqexplain.attributions`).

    ``bundle`` may be a list of models (folds, checked by
    :func:`~seqexplain.bundle.load_models`): each chunk is explained under each, and the file
    holds their per-sequence mean (see :func:`write_explained`)."""
    refs = settings.references if references is None else references
    chunks = (explain_records(bundle, batch.ids, batch.sequences, settings, refs,
                              offset=lo, source=os.fspath(fasta))
              for lo, batch in _offsets(iter_fasta_batches(fasta, chunk_records(settings))))
    return write_explained(bundle, chunks, scan_fasta(fasta, detect=False).n, out_path,
                           settings, progress=progress, keep_top=keep_top)


def _offsets(batches):
    lo = 0
    for batch in batches:
        yield lo, batch
        lo += len(batch.ids)


def write_explained(bundle: ModelBundle | list[ModelBundle], chunks, n: int, out_path,
                    settings: ExplainSettings,
                    progress: bool = True, keep_top: int = 0) -> dict:
    """Write the chunks of :func:`explain_records` (in record order, ``n`` records in all) to
    ``out_path`` with the run's metadata; the summary of :func:`explain_fasta`. ``bundle``:
    one model, or the list of models whose mean the chunks are: the file then records them
    all (``models``: their paths; ``settings``: ``mean_over_models`` N and
    ``model_fingerprints``) and ``model_fingerprint`` is their
    :func:`~seqexplain.bundle.ensemble_fingerprint`."""
    from .bundle import ensemble_fingerprint

    bundles = list(bundle) if isinstance(bundle, (list, tuple)) else [bundle]
    bundle = bundles[0]
    out_path = Path(out_path)
    L, C = bundle.length, bundle.alphabet.channels
    targets, specs, several, _, output_names, columns = _target_plan(bundle, settings)
    ids: list[str] = []
    deltas: dict[str, list] = {}
    top: Attributions | None = None
    t0 = time.perf_counter()
    # the methods' batch loops report inner progress: one step per method and target
    with AttributionsWriter(out_path, n) as writer, \
            Progress(n, "explain", enabled=progress,
                     passes=len(settings.methods) * len(targets) * len(bundles)) as bar:
        for arrays in chunks:
            chunk_ids = [str(i) for i in arrays["ids"]]
            arrays = {k: v for k, v in arrays.items() if k != "ids"}
            writer.append(arrays)
            for key, value in arrays.items():
                if key.endswith(DELTA):
                    deltas.setdefault(key[:-len(DELTA)], []).append(np.abs(value))
            if keep_top:
                view = Attributions(dict(arrays, ids=np.array(chunk_ids),
                                         targets=np.array([t.name for t in targets]),
                                         output_names=np.array(output_names)))
                if several:
                    view = view.select_target(targets[0].name)
                top = _keep_top(top, view, keep_top, columns[0])
            ids += chunk_ids
            bar.update(len(chunk_ids))
        recorded = dict(settings.recorded(), target=specs[0], targets=specs)
        if settings.references not in REFERENCE_KINDS:  # a FASTA, recorded portably
            recorded["references"] = portable_path(settings.references, out_path)
        paths = [portable_path(b.path, out_path) if b.path else "" for b in bundles]
        fingerprints = [b.fingerprint for b in bundles]
        if len(bundles) > 1:
            recorded.update(mean_over_models=len(bundles), model_fingerprints=fingerprints)
        small = dict(alphabet=np.array(bundle.alphabet.letters),
                     target=np.array(columns[0]),
                     output_names=np.array(output_names),
                     explained_output=np.array(settings.output),
                     settings=np.array(json.dumps(recorded)),
                     model=np.array(paths[0] if len(bundles) == 1 else ""),
                     model_fingerprint=np.array(ensemble_fingerprint(fingerprints)))
        if len(bundles) > 1:
            small["models"] = np.array(paths)
        if several:
            small["targets"] = np.array([t.name for t in targets])
        writer.finish(dict(ids=np.array(ids), **small))
    seconds = time.perf_counter() - t0
    summary = {"n": len(ids), "length": L, "channels": C, "seconds": seconds,
               "targets": [t.name for t in targets],
               "max_abs_delta": {m: float(np.concatenate(v).max()) for m, v in deltas.items()}}
    if keep_top:
        first = dict(small, target=np.array(columns[0]))
        if several:
            first.pop("targets")
            first["settings"] = np.array(json.dumps(dict(recorded, target=specs[0])))
        summary["top"] = Attributions(dict(top.arrays if top is not None else {}, **first),
                                      source=out_path)
    return summary


def _keep_top(top: Attributions | None, chunk: Attributions, k: int,
              target: int) -> Attributions:
    """The ``k`` sequences with the highest target logit among ``top`` and ``chunk`` (earlier
    rows win ties), every per-sequence array cut alike."""
    both = chunk if top is None else Attributions.concatenate([top, chunk])
    return both.subset(np.argsort(-both.logits[:, target], kind="stable")[:k])
