"""``predict`` and ``explain`` past one machine: chunks of the input as tasks on Dask.

``--cluster local[:N]`` starts a :class:`distributed.LocalCluster` of N worker processes (one
thread each) on this machine; ``--cluster tcp://HOST:8786`` connects to a running Dask
scheduler (started by hand, by ``dask-jobqueue`` on SLURM/PBS, by Kubernetes, ...). The client
reads the FASTA file and submits one task per chunk of records (a bounded number in flight, so
its memory does not grow with the input). Each worker process loads the model once (a cached
loader, :func:`worker_model`) and writes its chunk as one *shard* file::

    OUT.shards/
        manifest.json          what the shards were made from: input, model, settings, chunks
        explain-000000.npz     chunk 0: every per-sequence member of the scores file
        explain-000001.npz     ...  (predict: predict-000000.tsv, rows without header)

Shards are written under a temporary name and renamed, so a shard that exists is complete.
When every chunk is done the client assembles the shards, in record order, into the usual
output (``OUT/attributions.npz`` or the predictions TSV, written atomically as without Dask)
and removes ``OUT.shards``. After a crash, the same command with ``--resume`` checks the
manifest and submits only the missing chunks.

Results do not depend on where or in which chunks sequences are computed: the shuffled
references of sequence i are drawn from a seed of (seed, i // 32) (:mod:`seqexplain.explain`),
so a run on any number of workers writes the same numbers as one process with the same seed.
A worker that dies mid-task is replaced by its nanny and Dask runs the task again elsewhere
(up to ``distributed.scheduler.allowed-failures`` times).

The model, the FASTA file and ``OUT`` must be on a file system that the workers see at the
same paths (any shared file system of a cluster).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .errors import ModelQualityWarning, OptionError, SeqexplainError
from .progress import Progress

#: bumped when the shard layout changes (a resumed run refuses shards of another version)
SHARD_VERSION = 1
#: tasks in flight per worker (bounds the client's memory; keeps every worker busy)
IN_FLIGHT_PER_WORKER = 2

_MODELS: dict[tuple, object] = {}
_MODELS_LOCK = threading.Lock()
#: models loaded by this process (a worker loads each model once)
MODEL_LOADS = {"count": 0}


def check_cluster_options(cluster, *, resume: bool, regions, model, loading: bool) -> None:
    """The options a Dask run (``cluster``) rules out, checked before any work:
    :class:`~seqexplain.errors.OptionError` for ``resume`` without a cluster, or a cluster
    with ``regions``, a loaded (not a path) ``model``, or model-loading options (``loading``:
    custom objects, input layout or profile outputs given)."""
    if resume and not cluster:
        raise OptionError("--resume needs --cluster (shards exist only in Dask runs)")
    if not cluster:
        return
    if regions:
        raise OptionError("--cluster reads a FASTA file; --regions runs in one process "
                          "(leave out --cluster)")
    if not isinstance(model, (str, os.PathLike)):
        raise OptionError("cluster: the workers load the model from its path; give a model "
                          "folder or file, not a loaded model")
    if loading:
        raise OptionError("--cluster: Dask workers load the model file as it is (leave out "
                          "--custom-objects, --input-layout and --profile-output)")


def parse_cluster(spec: str) -> tuple[str, int | str]:
    """``("local", n_workers)`` for ``local`` / ``local:N``, ``("address", spec)`` for a
    scheduler address such as ``tcp://10.0.0.5:8786``."""
    text = str(spec).strip()
    if text == "local" or text.startswith("local:"):
        count = text[len("local:"):] if ":" in text else str(os.cpu_count() or 1)
        if not count.isdigit() or int(count) < 1:
            raise SeqexplainError(f"--cluster {spec}: the number of local workers must be a "
                                  f"positive integer (local:N)")
        return "local", int(count)
    if "://" in text and text.split("://", 1)[1]:
        return "address", text
    raise SeqexplainError(f"--cluster {spec}: expected local, local:N or a Dask scheduler "
                          f"address such as tcp://HOST:8786")


@contextlib.contextmanager
def connect(spec: str) -> Iterator:
    """A :class:`distributed.Client` for ``spec`` (see :func:`parse_cluster`); a local cluster
    is started and shut down with it."""
    kind, value = parse_cluster(spec)
    from distributed import Client, LocalCluster

    if kind == "local":
        # the workers share this machine's cores: TensorFlow in each uses its share of them
        share = str(max(1, (os.cpu_count() or 1) // value))
        env = {"TF_NUM_INTRAOP_THREADS": share, "TF_NUM_INTEROP_THREADS": "1",
               "OMP_NUM_THREADS": share, "TF_CPP_MIN_LOG_LEVEL": "2"}
        with LocalCluster(n_workers=value, threads_per_worker=1, processes=True,
                          dashboard_address=":0", silence_logs=logging.CRITICAL,
                          env=env) as cluster, \
                Client(cluster) as client:
            yield client
        return
    try:
        client = Client(value, timeout="20s")
    except (OSError, TimeoutError) as err:
        raise SeqexplainError(f"--cluster {value}: cannot reach the Dask scheduler "
                              f"({type(err).__name__}: {err})") from None
    with client:
        yield client


def worker_model(path: str, alphabet: str | None = None):
    """The :class:`~seqexplain.bundle.ModelBundle` at ``path``, loaded once per process."""
    key = (os.path.abspath(path), alphabet)
    with _MODELS_LOCK:
        if key not in _MODELS:
            from ._tf import import_tensorflow
            from .bundle import load_model

            import_tensorflow()
            with warnings.catch_warnings():  # the client loaded it too and said so once
                warnings.simplefilter("ignore", ModelQualityWarning)
                _MODELS[key] = load_model(path, alphabet)
            MODEL_LOADS["count"] += 1
        return _MODELS[key]


class ShardStore:
    """The folder of shards of one run (``OUT.shards``) and its manifest."""

    def __init__(self, path, kind: str, manifest: dict):
        self.path, self.kind = Path(path), kind
        self.manifest = dict(manifest, kind=kind, version=SHARD_VERSION)

    @classmethod
    def beside(cls, out, kind: str, manifest: dict) -> "ShardStore":
        return cls(Path(os.fspath(out) + ".shards"), kind, manifest)

    def shard(self, index: int) -> Path:
        suffix = "npz" if self.kind == "explain" else "tsv"
        return self.path / f"{self.kind}-{index:06d}.{suffix}"

    def open(self, resume: bool, force: bool) -> set[int]:
        """Create the folder (or reuse it with ``resume``); the chunks already done."""
        manifest_path = self.path / "manifest.json"
        if self.path.exists() and not resume:
            if not force:
                raise SeqexplainError(f"{self.path} exists: shards of an unfinished run; pass "
                                      f"--resume to finish it or --force to start again")
            shutil.rmtree(self.path)
        if self.path.exists():
            try:
                found = json.loads(manifest_path.read_text())
            except (OSError, ValueError):
                found = None
            if found != self.manifest:
                differ = sorted(k for k in set(self.manifest) | set(found or {})
                                if (found or {}).get(k) != self.manifest.get(k))
                raise SeqexplainError(
                    f"{self.path}: cannot resume: its shards were made from other inputs or "
                    f"settings ({', '.join(differ) or 'no manifest'} differ); pass --force to "
                    f"start again")
            return {i for i in range(self.manifest["chunks"]) if self.shard(i).exists()}
        self.path.mkdir(parents=True)
        tmp = manifest_path.with_name(".manifest.json.tmp")
        tmp.write_text(json.dumps(self.manifest, indent=1, sort_keys=True))
        os.replace(tmp, manifest_path)
        return set()

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    write(tmp)
    os.replace(tmp, path)


def _task_info(index: int, n: int) -> dict:
    return {"chunk": index, "n": n, "worker": f"{os.uname().nodename}:{os.getpid()}",
            "loads": MODEL_LOADS["count"]}


def _explain_task(index, offset, ids, sequences, model, alphabet, settings, references,
                  source, shard, before_chunk):
    """One chunk on a worker: explain it and write its shard."""
    from .explain import explain_records

    if before_chunk is not None:
        before_chunk(index)
    bundle = worker_model(model, alphabet)
    arrays = explain_records(bundle, ids, sequences, settings, references, offset=offset,
                             source=source)
    _write_atomic(Path(shard), lambda tmp: np.savez(tmp, **arrays))
    return _task_info(index, len(ids))


def _predict_task(index, ids, sequences, model, alphabet, source, shard, before_chunk):
    from .prediction import predict_records

    if before_chunk is not None:
        before_chunk(index)
    bundle = worker_model(model, alphabet)
    text = predict_records(bundle, ids, sequences, source)
    _write_atomic(Path(shard), lambda tmp: tmp.write_text(text))
    return _task_info(index, len(ids))


def _fasta_identity(fasta) -> dict:
    stat = os.stat(fasta)
    return {"path": os.path.abspath(fasta), "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _run(client, store: ShardStore, batches, done: set[int], submit: Callable,
         progress: bool, total: int) -> list[dict]:
    """Submit every chunk not in ``done`` (a bounded number in flight), wait for all. A bad
    record removes the shard folder; any other failure (a lost worker, Ctrl-C) leaves it for
    ``--resume``."""
    try:
        return _run_all(client, store, batches, done, submit, progress, total)
    except SeqexplainError:
        # bad input (a record the model cannot take): no run can finish with these shards
        store.remove()
        raise


def _run_all(client, store, batches, done, submit, progress, total) -> list[dict]:
    from distributed import as_completed
    workers = max(1, len(client.nthreads()))
    limit = IN_FLIGHT_PER_WORKER * workers + 1
    infos: list[dict] = []
    pending = as_completed()
    with Progress(total, store.kind, enabled=progress) as bar:
        def collect(future):
            info = future.result()  # re-raises a task's error (a bad record: SeqexplainError)
            infos.append(info)
            bar.update(info["n"])

        for index, lo, batch in batches:
            if index in done:
                bar.update(len(batch.ids))
                continue
            pending.add(submit(index, lo, batch))
            while pending.count() >= limit:
                collect(next(pending))
        for future in pending:
            collect(future)
    return infos


def _batches(fasta, size: int):
    from .fasta import iter_fasta_batches

    lo = 0
    for index, batch in enumerate(iter_fasta_batches(fasta, size)):
        yield index, lo, batch
        lo += len(batch.ids)


def _summary(infos: list[dict], done: set[int], seconds: float, workers: int) -> dict:
    loads: dict[str, int] = {}
    for info in infos:
        loads[info["worker"]] = max(loads.get(info["worker"], 0), info["loads"])
    return {"computed": len(infos), "resumed": len(done), "seconds": seconds,
            "workers": workers, "model_loads": loads}


def explain_fasta_dask(bundle, model: str, alphabet: str | None, fasta, out_path, settings,
                       cluster: str, references=None, resume: bool = False,
                       force: bool = False, shards=None, progress: bool = True,
                       keep_top: int = 0, before_chunk: Callable[[int], None] | None = None
                       ) -> dict:
    """:func:`~seqexplain.explain.explain_fasta` with chunks run as tasks on Dask.

    Parameters
    ----------
    bundle : the model, loaded by the client (metadata of the output, logos).
    model, alphabet : how workers load it (:func:`~seqexplain.bundle.load_model`); ``model``
        must be a path the workers see.
    fasta, out_path, settings, references, progress, keep_top : as in
        :func:`~seqexplain.explain.explain_fasta`.
    cluster : ``local``, ``local:N`` or a scheduler address.
    resume : reuse the finished shards of an earlier run with the same inputs and settings.
    force : remove an earlier run's shards and start again.
    shards : the shard folder [``OUT.shards`` beside ``out_path``].
    before_chunk : called on the worker with the chunk index before each chunk (fault
        injection in tests).

    Returns
    -------
    dict
        The summary of :func:`~seqexplain.explain.explain_fasta`, plus ``dask``: chunks
        computed and resumed, workers, and model loads per worker process. The shard folder is
        left in place; remove it (``ShardStore.remove``) once the output is where it belongs.
    """
    from .explain import chunk_records, write_explained
    from .fasta import scan_fasta

    refs = settings.references if references is None else references
    n = scan_fasta(fasta, detect=False).n
    size = chunk_records(settings)
    recorded = dict(asdict(settings), methods=list(settings.methods))
    manifest = {"input": _fasta_identity(fasta), "model": bundle.fingerprint,
                "settings": recorded, "records": n, "chunk_records": size,
                "chunks": -(-n // size)}
    store = ShardStore(shards, "explain", manifest) if shards else \
        ShardStore.beside(out_path, "explain", manifest)
    done = store.open(resume, force)
    t0 = time.perf_counter()
    with connect(cluster) as client:
        shared = refs if isinstance(refs, str) else client.scatter(np.asarray(refs),
                                                                   broadcast=True)
        model_path = os.path.abspath(model)

        def submit(index, lo, batch):
            return client.submit(_explain_task, index, lo, batch.ids, batch.sequences,
                                 model_path, alphabet, settings, shared, os.fspath(fasta),
                                 str(store.shard(index)), before_chunk,
                                 key=f"seqexplain-explain-{index}-{os.getpid()}-{id(store)}")

        infos = _run(client, store, _batches(fasta, size), done, submit, progress, n)
        workers = len(client.nthreads())
    seconds = time.perf_counter() - t0

    def chunks():
        for index in range(manifest["chunks"]):
            with np.load(store.shard(index)) as data:
                yield {key: data[key] for key in data.files}

    summary = write_explained(bundle, chunks(), n, out_path, settings, progress=False,
                              keep_top=keep_top)
    summary["seconds"] = time.perf_counter() - t0
    summary["dask"] = _summary(infos, done, seconds, workers)
    summary["shards"] = store
    return summary


def predict_fasta_dask(bundle, model: str, alphabet: str | None, fasta, out_path,
                       cluster: str, batch_size: int = 4096, resume: bool = False,
                       force: bool = False, shards=None, progress: bool = True,
                       before_chunk: Callable[[int], None] | None = None) -> dict:
    """:func:`~seqexplain.prediction.predict_fasta` with batches of ``batch_size`` records run as
    tasks on Dask; arguments as in :func:`explain_fasta_dask`. Returns ``{"n": records,
    "dask": …, "shards": ShardStore}``."""
    from .fasta import scan_fasta
    from .prediction import output_columns

    n = scan_fasta(fasta, detect=False).n
    if n == 0:
        raise SeqexplainError(f"{fasta}: no records")
    manifest = {"input": _fasta_identity(fasta), "model": bundle.fingerprint,
                "records": n, "chunk_records": int(batch_size),
                "chunks": -(-n // int(batch_size))}
    store = ShardStore(shards, "predict", manifest) if shards else \
        ShardStore.beside(out_path, "predict", manifest)
    done = store.open(resume, force)
    t0 = time.perf_counter()
    with connect(cluster) as client:
        model_path = os.path.abspath(model)

        def submit(index, lo, batch):
            return client.submit(_predict_task, index, batch.ids, batch.sequences, model_path,
                                 alphabet, os.fspath(fasta), str(store.shard(index)),
                                 before_chunk,
                                 key=f"seqexplain-predict-{index}-{os.getpid()}-{id(store)}")

        infos = _run(client, store, _batches(fasta, int(batch_size)), done, submit, progress, n)
        workers = len(client.nthreads())
    seconds = time.perf_counter() - t0
    with open(out_path, "w") as fh:
        fh.write("\t".join(["id", *output_columns(bundle)]) + "\n")
        for index in range(manifest["chunks"]):
            with open(store.shard(index)) as shard:
                shutil.copyfileobj(shard, fh)
    return {"n": n, "seconds": time.perf_counter() - t0,
            "dask": _summary(infos, done, seconds, workers), "shards": store}
