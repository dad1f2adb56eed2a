"""``explain``: a model and a FASTA file → ``attributions.npz`` (or ``.h5``).

For every requested method ``M`` the output holds ``M`` (contribution of the observed base,
zero at the other channels) and ``M_hypothetical`` (a score for every base at every
position), plus ``M_delta`` (completeness error) for methods that have one. Sequences are
processed in chunks and written to disk chunk by chunk, so peak memory does not grow with
the number of sequences.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .alphabets import Alphabet, get_alphabet
from .attribution.registry import Options, compute
from .bundle import ModelBundle, load_keras
from .errors import SeqexplainError

#: Reference shuffles are drawn per block of this many sequences, seeded by (seed, block
#: index); chunks are whole blocks, so the chunk size does not change any result.
REFERENCE_BLOCK = 32


def load_model_for_explain(path, alphabet: str | None = None) -> ModelBundle:
    """A seqexplain model folder, or any Keras model file (``.keras``/``.h5``) whose input is
    one-hot (length, channels). For a bare file the alphabet comes from ``alphabet`` (default:
    DNA for 4 channels, protein for 20) and sequences of another length are centre
    padded/cropped."""
    path = Path(path)
    if path.is_dir():
        bundle = ModelBundle.load(path)
        if alphabet and get_alphabet(alphabet) is not bundle.alphabet:
            raise SeqexplainError(f"{path}: the model was trained on {bundle.alphabet.name}, "
                                  f"not {alphabet}")
        return bundle
    if not path.exists():
        raise SeqexplainError(f"{path}: no such model folder or file")
    if path.suffix.lower() not in (".keras", ".h5", ".hdf5"):
        raise SeqexplainError(f"{path}: expected a seqexplain model folder or a Keras model "
                              "file (.keras or .h5)")
    model = load_keras(path)
    shape = model.input_shape
    if isinstance(shape, list) or len(shape) != 3 or shape[1] is None or shape[2] is None:
        raise SeqexplainError(f"{path}: the model's input has shape {shape}; expected one-hot "
                              "(None, length, channels)")
    length, channels = int(shape[1]), int(shape[2])
    alph = _alphabet_for_channels(channels, alphabet, path)
    out_shape = model.output_shape
    n_out = 1 if len(out_shape) == 1 else int(out_shape[-1])
    names = [str(i) for i in range(n_out)]
    metadata = {"alphabet": {"name": alph.name, "letters": alph.letters},
                "input": {"length": length, "channels": channels, "pad": "center",
                          "crop": "center", "unknown": "zero"},
                "task": "unknown", "output_names": names, "class_names": None}
    return ModelBundle(model=model, metadata=metadata, path=path)


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


def read_references(path, bundle: ModelBundle) -> np.ndarray:
    """A FASTA of reference sequences → (r, length, C), one background set for all."""
    from .fasta import read_fasta

    records = read_fasta(path)
    alph = bundle.alphabet
    enc = bundle.encode(records.sequences, ids=records.ids, source=os.fspath(path))
    if (enc.lengths != bundle.length).any():
        i = int(np.argmax(enc.lengths != bundle.length))
        raise SeqexplainError(f"{path}: record {records.ids[i]!r}: reference is "
                              f"{enc.lengths[i]} long; the model takes {bundle.length} "
                              f"({alph.name})")
    return enc.onehot


def shuffled_references(X: np.ndarray, offset: int, n: int, seed: int) -> np.ndarray:
    """Dinucleotide shuffles of sequences ``offset …`` (``offset`` a multiple of
    :data:`REFERENCE_BLOCK`), shape (len(X), n, length, C): block ``k`` is always drawn with
    seed (seed, k), whatever chunks the sequences arrive in."""
    from .shuffle import dinucleotide_shuffle

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


def attribute_chunk(model, X: np.ndarray, settings: ExplainSettings,
                    references, deeplift_ref="uniform") -> dict[str, np.ndarray]:
    """All requested methods on one chunk: ``{M: observed, M_hypothetical: …, M_delta: …}``
    as the method table (:mod:`seqexplain.attribution.registry`) forms them.
    ``references``: deepshap/shap references (a kind or an array); ``deeplift_ref``: see
    :func:`deeplift_reference`."""
    options = Options(target=settings.target, output=settings.output,
                      batch_size=settings.batch_size, seed=settings.seed,
                      correct=settings.correct, ig_steps=settings.ig_steps,
                      references=references, n_references=settings.n_references,
                      deeplift_reference=deeplift_ref)
    out: dict[str, np.ndarray] = {}
    for method in settings.methods:
        scores = compute(model, X, method, options)
        out[method] = scores.observed
        out[f"{method}_hypothetical"] = scores.hypothetical
        if scores.delta is not None:
            out[f"{method}_delta"] = scores.delta
    return out


def explain_fasta(bundle: ModelBundle, fasta, out_path, settings: ExplainSettings,
                  references=None, progress: bool = True, keep_top: int = 0) -> dict:
    """Explain every record of ``fasta`` and write ``out_path`` (``.npz`` or ``.h5``).

    Chunks of ``settings.chunk_size`` sequences are encoded, explained and written; arrays go
    to disk as they are made, so memory stays bounded by one chunk. Returns a summary dict
    (``n``, ``seconds``, max |delta| per method) and, with ``keep_top`` K, ``top``: the K
    sequences with the highest explained logit, as an attributions mapping (for logos)."""
    import time

    from tqdm.auto import tqdm

    from .fasta import iter_fasta_batches, scan_fasta
    from .attribution import explained_model

    out_path = Path(out_path)
    n = scan_fasta(fasta, detect=False).n
    L, C = bundle.length, bundle.alphabet.channels
    model = bundle.model
    logit = explained_model(model, "logit")
    refs = settings.references if references is None else references
    writer = _H5Writer(out_path) if out_path.suffix == ".h5" else _NpzWriterFromDisk(out_path)
    ids: list[str] = []
    deltas: dict[str, list] = {}
    top: dict | None = None
    t0 = time.perf_counter()
    chunk = -(-settings.chunk_size // REFERENCE_BLOCK) * REFERENCE_BLOCK
    # disable=None: no bar when stderr is not a terminal (a log file keeps clean error lines)
    with writer, tqdm(total=n, desc="explain", unit=" seq", delay=1, leave=False,
                      disable=None if progress else True) as bar:
        for batch in iter_fasta_batches(fasta, chunk):
            enc = bundle.encode(batch.sequences, ids=batch.ids, source=os.fspath(fasta))
            X = enc.onehot
            if isinstance(refs, str) and refs == "shuffle":
                chunk_refs = shuffled_references(X, len(ids), settings.n_references,
                                                 settings.seed)
            else:
                chunk_refs = refs
            arrays = {"onehot": X, "lengths": enc.lengths, "offsets": enc.offsets,
                      "logits": np.asarray(logit.predict(X, batch_size=settings.batch_size,
                                                         verbose=0)).reshape(len(X), -1),
                      "predictions": np.asarray(model.predict(X, batch_size=settings.batch_size,
                                                              verbose=0)).reshape(len(X), -1)}
            arrays.update(attribute_chunk(model, X, settings, chunk_refs,
                                          deeplift_reference(refs)))
            for key, value in arrays.items():
                writer.append(key, value, n)
                if key.endswith("_delta"):
                    deltas.setdefault(key[:-6], []).append(np.abs(value))
            if keep_top:
                top = _keep_top(top, dict(arrays, ids=np.array(batch.ids)), keep_top,
                                settings.target)
            ids += batch.ids
            bar.update(len(X))
        import json
        from dataclasses import asdict

        recorded = dict(asdict(settings), methods=list(settings.methods))
        small = dict(alphabet=np.array(bundle.alphabet.letters),
                     target=np.array(settings.target),
                     output_names=np.array(bundle.output_names),
                     explained_output=np.array(settings.output),
                     settings=np.array(json.dumps(recorded)),
                     model=np.array(str(Path(bundle.path).resolve()) if bundle.path else ""),
                     model_fingerprint=np.array(bundle.fingerprint))
        writer.finish(ids=np.array(ids), **small)
    seconds = time.perf_counter() - t0
    summary = {"n": len(ids), "length": L, "channels": C, "seconds": seconds,
               "max_abs_delta": {m: float(np.concatenate(v).max()) for m, v in deltas.items()}}
    if keep_top:
        summary["top"] = dict(top or {}, **small)
    return summary


def _keep_top(top: dict | None, chunk: dict, k: int, target: int) -> dict:
    """The ``k`` rows with the highest target logit among ``top`` and ``chunk`` (earlier rows
    win ties), every per-sequence array cut alike."""
    both = chunk if top is None else {key: np.concatenate([top[key], chunk[key]])
                                      for key in chunk}
    order = np.argsort(-both["logits"][:, target], kind="stable")[:k]
    return {key: value[order] for key, value in both.items()}


class _NpzWriterFromDisk:
    """Appends chunked arrays to raw files beside the output, then streams them into one
    ``.npz`` — an ordinary npz, written with bounded memory (plain file writes rather than
    memory maps, whose resident pages would grow with the output)."""

    def __init__(self, path: Path):
        self.path = path
        self.tmp = Path(tempfile.mkdtemp(prefix=".explain.", dir=path.parent))
        self.files: dict[str, tuple] = {}  # key → (file, shape, dtype)

    def __enter__(self):
        return self

    def append(self, key: str, value: np.ndarray, n: int) -> None:
        if key not in self.files:
            self.files[key] = (open(self.tmp / key, "wb"), (n, *value.shape[1:]), value.dtype)
        fh, _, dtype = self.files[key]
        fh.write(np.ascontiguousarray(value, dtype=dtype).tobytes())

    def finish(self, **small) -> None:
        from .npz import NpzWriter

        with NpzWriter(self.path) as npz:
            for key, value in small.items():
                npz.write(key, value)
            for key, (fh, shape, dtype) in self.files.items():
                fh.close()
                row = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
                rows = max(1, (16 << 20) // max(row, 1))  # ~16 MB at a time
                with open(self.tmp / key, "rb") as src, \
                        npz.stream(key, shape, dtype) as put:
                    while block := src.read(rows * row):
                        put(np.frombuffer(block, dtype).reshape(-1, *shape[1:]))

    def __exit__(self, *exc):
        import shutil

        for fh, _, _ in self.files.values():
            fh.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False


class _H5Writer:
    """Chunked HDF5 datasets, written as the chunks arrive."""

    def __init__(self, path: Path):
        import h5py

        self.h5 = h5py.File(path, "w")
        self.rows: dict[str, int] = {}

    def __enter__(self):
        return self

    def append(self, key: str, value: np.ndarray, n: int) -> None:
        if key not in self.h5:
            chunk = (min(max(1, len(value)), 256), *value.shape[1:])
            self.h5.create_dataset(key, shape=(n, *value.shape[1:]), dtype=value.dtype,
                                   chunks=chunk, compression="gzip", compression_opts=1)
            self.rows[key] = 0
        r = self.rows[key]
        self.h5[key][r:r + len(value)] = value
        self.rows[key] = r + len(value)

    def finish(self, **small) -> None:
        import h5py

        for key, value in small.items():
            if value.dtype.kind == "U":
                self.h5.create_dataset(key, data=value.astype(object),
                                       dtype=h5py.string_dtype())
            else:
                self.h5.create_dataset(key, data=value)

    def __exit__(self, *exc):
        self.h5.close()
        return False


def load_attributions(path, keys=None) -> dict[str, np.ndarray]:
    """Read ``attributions.npz`` or ``.h5`` into a dict of arrays (strings as ``str``);
    ``keys``: read only these members (those present)."""
    path = Path(path)
    if not path.exists():
        raise SeqexplainError(f"{path}: no such file")
    if path.is_dir():
        raise SeqexplainError(f"{path}: a folder, not an attributions file")
    if path.suffix == ".h5":
        import h5py

        with h5py.File(path, "r") as h5:
            out = {}
            for key in h5:
                if keys is not None and key not in keys:
                    continue
                value = h5[key][()]
                if isinstance(value, np.ndarray) and value.dtype.kind == "O":
                    value = np.array([v.decode() if isinstance(v, bytes) else v for v in value])
                elif isinstance(value, bytes):
                    value = np.array(value.decode())
                out[key] = value
            return out
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files if keys is None or k in keys}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        raise SeqexplainError(f"{path}: not an attributions file (.npz or .h5 written by "
                              "seqexplain explain)") from None


def attribution_members(path) -> list[str]:
    """Names of the arrays in an attributions file, without reading them."""
    path = Path(path)
    if not path.is_file():
        raise SeqexplainError(f"{path}: no such file")
    try:
        if path.suffix == ".h5":
            import h5py

            with h5py.File(path, "r") as h5:
                return list(h5)
        with np.load(path, allow_pickle=False) as data:
            return list(data.files)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, AttributeError):
        raise SeqexplainError(f"{path}: not an attributions file (.npz or .h5 written by "
                              "seqexplain explain)") from None


def export_modisco(attributions: dict, method: str, out_dir) -> tuple[Path, Path]:
    """Write the one-hot sequences and ``method``'s hypothetical scores channels-first
    ((n, C, length), key ``arr_0``) — what ``modisco motifs -s ohe.npz -a shap.npz`` reads."""
    key = f"{method}_hypothetical"
    if key not in attributions:
        have = sorted(k[:-13] for k in attributions if k.endswith("_hypothetical"))
        raise SeqexplainError(f"no {method!r} scores in the attributions (methods: "
                              f"{', '.join(have) or 'none'})")
    out_dir = Path(out_dir)
    ohe, hyp = out_dir / "ohe.npz", out_dir / "shap.npz"
    np.savez(ohe, np.ascontiguousarray(attributions["onehot"].transpose(0, 2, 1)))
    np.savez(hyp, np.ascontiguousarray(attributions[key].transpose(0, 2, 1)))
    return ohe, hyp
