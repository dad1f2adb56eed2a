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
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .alphabets import Alphabet
from .attribution.registry import REFERENCE_KINDS, Options, compute
from .attributions import Attributions, AttributionsWriter
from .bundle import ModelBundle
from .encoding import encode
from .errors import SeqexplainError
from .fasta import iter_fasta_batches, read_fasta, scan_fasta
from .outputs import portable_path
from .shuffle import dinucleotide_shuffle

#: Reference shuffles are drawn per block of this many sequences, seeded by (seed, block
#: index); chunks are whole blocks, so the chunk size does not change any result.
REFERENCE_BLOCK = 32


def resolve_target(bundle: ModelBundle, target: str | int | None) -> int:
    """Output index from an index or an output/class name; default 0 (binary: the positive
    class's logit)."""
    names = bundle.output_names
    if bundle.task == "multiclass" and bundle.class_names:
        names = bundle.class_names
    if target is None:
        return 0
    text = str(target)
    if text in names:
        return names.index(text)
    try:
        index = int(text)
    except ValueError:
        raise SeqexplainError(f"unknown target {text!r}: the model's outputs are "
                              f"{', '.join(names)}") from None
    if not 0 <= index < len(names):
        raise SeqexplainError(f"target {index} is out of range: the model has {len(names)} "
                              f"output(s) ({', '.join(names)})")
    return index


@dataclass
class ExplainSettings:
    methods: tuple[str, ...] = ("deepshap",)
    target: int = 0
    output: str = "logit"
    references: str = "shuffle"  # shuffle | zero | uniform | a FASTA path
    n_references: int = 20
    correct: bool = True
    ig_steps: int = 50
    batch_size: int = 256
    chunk_size: int = 1000
    seed: int = 0


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


def attribute_chunk(model, X: np.ndarray, settings: ExplainSettings, references,
                    offset: int = 0) -> dict[str, np.ndarray]:
    """All requested methods on one chunk of sequences ``offset …`` (a multiple of
    :data:`REFERENCE_BLOCK`): ``{M: observed, M_hypothetical: …, M_delta: …}`` as the method
    table (:mod:`seqexplain.attribution.registry`) forms them. ``references``: a kind
    (``"shuffle"``: seeded per block, so chunking changes nothing) or a (r, length, C) array."""
    shuffled = isinstance(references, str) and references == "shuffle"
    options = Options(target=settings.target, output=settings.output,
                      batch_size=settings.batch_size, seed=settings.seed,
                      correct=settings.correct, ig_steps=settings.ig_steps,
                      references=shuffled_references(X, offset, settings.n_references,
                                                     settings.seed) if shuffled else references,
                      n_references=settings.n_references,
                      deeplift_reference=deeplift_reference(references))
    out: dict[str, np.ndarray] = {}
    for method in settings.methods:
        scores = compute(model, X, method, options)
        out[method] = scores.observed
        out[f"{method}_hypothetical"] = scores.hypothetical
        if scores.delta is not None:
            out[f"{method}_delta"] = scores.delta
    return out


def explain_records(bundle: ModelBundle, ids: list[str], sequences: list[str],
                    settings: ExplainSettings, references, offset: int = 0,
                    source: str = "") -> dict[str, np.ndarray]:
    """One chunk of records ``offset …`` (a multiple of :data:`REFERENCE_BLOCK`) → every
    per-sequence member of the scores file (``ids``, ``onehot``, ``lengths``, ``offsets``,
    ``logits``, ``predictions`` and the methods' arrays). What a single process does chunk by
    chunk, and what each Dask task does (:mod:`seqexplain.distributed`)."""
    from .attribution import explained_model  # TensorFlow: imported when a model runs

    model = bundle.model
    enc = bundle.encode(sequences, ids=ids, source=source)
    X = enc.onehot
    logit = explained_model(model, "logit")
    arrays = {"ids": np.array(ids), "onehot": X, "lengths": enc.lengths,
              "offsets": enc.offsets,
              "logits": np.asarray(logit.predict(X, batch_size=settings.batch_size,
                                                 verbose=0)).reshape(len(X), -1),
              "predictions": np.asarray(model.predict(X, batch_size=settings.batch_size,
                                                      verbose=0)).reshape(len(X), -1)}
    arrays.update(attribute_chunk(model, X, settings, references, offset=offset))
    return arrays


def chunk_records(settings: ExplainSettings) -> int:
    """Records per chunk: ``settings.chunk_size`` rounded up to whole reference blocks."""
    return -(-settings.chunk_size // REFERENCE_BLOCK) * REFERENCE_BLOCK


def explain_fasta(bundle: ModelBundle, fasta, out_path, settings: ExplainSettings,
                  references=None, progress: bool = True, keep_top: int = 0) -> dict:
    """Explain every record of ``fasta`` and write ``out_path`` (``.npz`` or ``.h5``).

    Chunks of ``settings.chunk_size`` sequences are encoded, explained and written; arrays go
    to disk as they are made, so memory stays bounded by one chunk. Returns a summary dict
    (``n``, ``seconds``, max |delta| per method) and, with ``keep_top`` K, ``top``: the K
    sequences with the highest explained logit, as :class:`~seqexplain.attributions.Attributions`
    (for logos)."""
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


def write_explained(bundle: ModelBundle, chunks, n: int, out_path, settings: ExplainSettings,
                    progress: bool = True, keep_top: int = 0) -> dict:
    """Write the chunks of :func:`explain_records` (in record order, ``n`` records in all) to
    ``out_path`` with the run's metadata; the summary of :func:`explain_fasta`."""
    out_path = Path(out_path)
    L, C = bundle.length, bundle.alphabet.channels
    ids: list[str] = []
    deltas: dict[str, list] = {}
    top: Attributions | None = None
    t0 = time.perf_counter()
    # disable=None: no bar when stderr is not a terminal (a log file keeps clean error lines)
    with AttributionsWriter(out_path, n) as writer, \
            tqdm(total=n, desc="explain", unit=" seq", delay=1, leave=False,
                 disable=None if progress else True) as bar:
        for arrays in chunks:
            chunk_ids = [str(i) for i in arrays["ids"]]
            arrays = {k: v for k, v in arrays.items() if k != "ids"}
            writer.append(arrays)
            scores = Attributions(dict(arrays, ids=np.array(chunk_ids)))
            for method in scores.methods:
                if (delta := scores.delta(method)) is not None:
                    deltas.setdefault(method, []).append(np.abs(delta))
            if keep_top:
                top = _keep_top(top, scores, keep_top, settings.target)
            ids += chunk_ids
            bar.update(len(chunk_ids))
        recorded = dict(asdict(settings), methods=list(settings.methods))
        if settings.references not in REFERENCE_KINDS:  # a FASTA, recorded portably
            recorded["references"] = portable_path(settings.references, out_path)
        small = dict(alphabet=np.array(bundle.alphabet.letters),
                     target=np.array(settings.target),
                     output_names=np.array(bundle.output_names),
                     explained_output=np.array(settings.output),
                     settings=np.array(json.dumps(recorded)),
                     model=np.array(portable_path(bundle.path, out_path) if bundle.path else ""),
                     model_fingerprint=np.array(bundle.fingerprint))
        writer.finish(dict(ids=np.array(ids), **small))
    seconds = time.perf_counter() - t0
    summary = {"n": len(ids), "length": L, "channels": C, "seconds": seconds,
               "max_abs_delta": {m: float(np.concatenate(v).max()) for m, v in deltas.items()}}
    if keep_top:
        summary["top"] = Attributions(dict(top.arrays if top is not None else {}, **small),
                                      source=out_path)
    return summary


def _keep_top(top: Attributions | None, chunk: Attributions, k: int,
              target: int) -> Attributions:
    """The ``k`` sequences with the highest target logit among ``top`` and ``chunk`` (earlier
    rows win ties), every per-sequence array cut alike."""
    both = chunk if top is None else Attributions.concatenate([top, chunk])
    return both.subset(np.argsort(-both.logits[:, target], kind="stable")[:k])
