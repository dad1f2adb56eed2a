"""The attributions file (``attributions.npz`` or ``.h5``) and the :class:`Attributions` type.

One class owns the file format: what ``seqexplain explain`` writes (:class:`AttributionsWriter`,
chunk by chunk with bounded memory) and what logos, motifs and the report read
(:meth:`Attributions.read`); exports to other tools' formats are :mod:`seqexplain.exports`.
Members (N sequences, L input rows, C channels, T outputs):

==============================  ============  ===============================================
``ids``                         (N,)          record ids
``onehot``                      (N, L, C)     the encoded sequences (float32)
``alphabet``                    ()            the channel letters ("ACGT")
``logits``, ``predictions``     (N, T)        model outputs before / after the activation
``M``                           (N, L, C)     method M's contribution of the observed base
``M_hypothetical``              (N, L, C)     a score for every base at every position
``M_delta``                     (N,)          completeness error (methods that have one)
``target``, ``output_names``    (), (T,)      which output was explained
``explained_output``            ()            "logit" or "prob"
``settings``                    ()            the explain settings, as JSON
``lengths``, ``offsets``        (N,)          record length; sequence coordinate of row 0
``model``, ``model_fingerprint``  ()          the model's path and fingerprint
``models``                      (F,)          scores averaged over F models (folds; explain
                                              with MODEL as PATH,PATH,…): their paths
``targets``                     (K,)          several explained targets (``--target all`` or
                                              ``a,b``): their names
``M@t``, ``M@t_hypothetical``,  as above      method M's arrays for target ``t`` (files with
``M@t_delta``                                 ``targets``, instead of ``M``…)
==============================  ============  ===============================================

For a model with several outputs (e.g. BPNet's profile and counts heads), ``logits`` and
``predictions`` hold the explained scalar of each target, (N, K), and ``output_names`` the
target names. :meth:`Attributions.select_target` (or ``read(..., target=t)``) turns a file of
several targets into the one-target view every consumer reads (``M``, ``target``).

Files written before ``offsets``, ``settings`` or ``model_fingerprint`` were recorded still
read: those members are then ``None`` (or ``""``).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np

from .alphabets import Alphabet, alphabet_from_letters
from .attribution.registry import METHOD_NAMES
from .errors import SeqexplainError
from .npz import NpzWriter
from .outputs import forget_unfinished, recorded_path, track_unfinished

#: Members that describe the whole file (every other member has one row per sequence).
METADATA = ("alphabet", "target", "output_names", "explained_output", "settings", "model",
            "model_fingerprint", "targets", "models")
#: Per-sequence members other than the methods' scores.
SEQUENCE_MEMBERS = ("ids", "onehot", "logits", "predictions", "lengths", "offsets")
#: Suffixes of a method's other arrays (``M_hypothetical``, ``M_delta``).
HYPOTHETICAL, DELTA = "_hypothetical", "_delta"

_NOT_ATTRIBUTIONS = "not an attributions file (.npz or .h5 written by seqexplain explain)"
#: separates a method from its target in the keys of a file of several targets
TARGET_SEPARATOR = "@"


def target_key(key: str, target: str) -> str:
    """The key of a method's array ``key`` (``M``, ``M_hypothetical``, ``M_delta``) for
    ``target`` in a file of several targets: ``M@target``, ``M@target_hypothetical``…"""
    for suffix in (HYPOTHETICAL, DELTA):
        if key.endswith(suffix) and key[:-len(suffix)] in METHOD_NAMES:
            return f"{key[:-len(suffix)]}{TARGET_SEPARATOR}{target}{suffix}"
    return f"{key}{TARGET_SEPARATOR}{target}"


def _untarget(key: str, target: str) -> str | None:
    """``key`` without ``@target`` when it is one of that target's method arrays; None for
    another target's; ``key`` itself for every other member."""
    method, sep, rest = key.partition(TARGET_SEPARATOR)
    if not sep or method not in METHOD_NAMES:
        return key
    for suffix in ("", HYPOTHETICAL, DELTA):
        if rest == target + suffix:
            return method + suffix
    return None


def valid_rows(n: int, length: int, offsets=None, lengths=None) -> np.ndarray:
    """(n, length) bool: the input rows holding bases of each record (not padding); every row
    when ``offsets`` or ``lengths`` is None."""
    if offsets is None or lengths is None:
        return np.ones((n, length), bool)
    pos = np.arange(length)[None, :] + np.asarray(offsets)[:, None]
    return (pos >= 0) & (pos < np.asarray(lengths)[:, None])


class Attributions:
    """Attribution scores of N sequences with everything needed to interpret them.

    Build one with :meth:`read` (a file) or from arrays; ``len(a)`` is N.

    Parameters
    ----------
    arrays : mapping of member name → array (see the module docstring); members may be
        missing (older files, partial reads, hand-built test data): optional ones then read
        as ``None``, required ones raise :class:`SeqexplainError` when used.
    source : the file read (or a description), used in error messages.
    """

    def __init__(self, arrays: Mapping[str, np.ndarray], source: str | Path = "attributions"):
        self._arrays = {str(k): v for k, v in arrays.items()}
        self.source = str(source)

    # -- files ------------------------------------------------------------------------------
    @classmethod
    def read(cls, path, methods: Iterable[str] | None = None, *,
             hypothetical: bool | Collection[str] = True,
             delta: bool = True, target: str | None = None) -> "Attributions":
        """Read an ``.npz`` or ``.h5`` attributions file.

        Parameters
        ----------
        path : the file.
        methods : read only these methods' arrays (plus every non-method member); each must
            be in the file (else the :meth:`require` error, before anything is read).
            Default: every member.
        hypothetical : with ``methods``, whether to read ``M_hypothetical`` too: True (every
            listed method), False, or the methods whose hypothetical scores are needed.
        delta : with ``methods``, whether to read ``M_delta`` too.
        target : in a file of several targets, the one to read (required there; see
            :meth:`select_target`); in a one-target file, checked against its target.

        Raises
        ------
        SeqexplainError
            One line naming the file: missing, a folder, not an attributions file, a
            requested method or target absent.
        """
        path = Path(path)
        keys = None
        if path.is_dir():
            raise SeqexplainError(f"{path}: a folder, not an attributions file")
        all_members = cls.members(path)
        rename = {k: k for k in all_members}
        if "targets" in all_members:
            names = [str(t) for t in np.atleast_1d(_read_members(path, {"targets"})["targets"])]
            chosen = _choose_target(target, names, path)
            rename = {k: new for k in all_members
                      if (new := _untarget(k, chosen)) is not None}
        elif target is not None:
            small = _read_members(path, {"target", "output_names"})
            have = cls(small, source=path)
            if str(target) not in (have.target_name, str(have.target)):
                raise SeqexplainError(f"{path}: explains target {have.target_name!r} only, not "
                                      f"{target!r} (re-run seqexplain explain --target "
                                      f"{target})")
        if methods is not None:
            methods = list(methods)
            members = list(rename.values())
            have = cls(dict.fromkeys(members), source=path)
            for m in methods:
                have.require(m, hypothetical=hypothetical is True or m in (hypothetical or ()))
            keys = {k for k in members if k not in METHOD_NAMES and not _method_of(k)}
            for m in methods:
                keys.add(m)
                if hypothetical is True or (hypothetical and m in hypothetical):
                    keys.add(m + HYPOTHETICAL)
                if delta:
                    keys.add(m + DELTA)
        back = {new: old for old, new in rename.items()}
        wanted = set(back) if keys is None else keys
        arrays = _read_members(path, {back[k] for k in wanted if k in back})
        arrays = {rename[k]: v for k, v in arrays.items()}
        for key in ("ids", "onehot", "alphabet"):
            if key not in arrays:
                raise SeqexplainError(f"{path}: not an attributions file (no {key!r} array)")
        data = cls(arrays, source=path)
        if "targets" in all_members:
            data = data._selected(chosen)
        return data

    @staticmethod
    def members(path) -> list[str]:
        """Names of the arrays in an attributions file (file order), without reading them."""
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
            raise SeqexplainError(f"{path}: {_NOT_ATTRIBUTIONS}") from None

    @classmethod
    def methods_of(cls, path) -> list[str]:
        """Methods with scores in an attributions file (file order), without reading them;
        in a file of several targets, the methods computed for them."""
        members = cls.members(path)
        plain = cls(dict.fromkeys(members), source=path).methods
        if plain or "targets" not in members:
            return plain
        found = [k.partition(TARGET_SEPARATOR)[0] for k in members if TARGET_SEPARATOR in k]
        return list(dict.fromkeys(m for m in found if m in METHOD_NAMES))

    @classmethod
    def targets_of(cls, path) -> list[str]:
        """The targets of a file of several targets ([] for a one-target file), reading that
        member only."""
        if "targets" not in cls.members(path):
            return []
        return [str(t) for t in np.atleast_1d(_read_members(Path(path), {"targets"})["targets"])]

    def write(self, path) -> Path:
        """Write these arrays to ``path`` (``.npz`` or ``.h5``, as ``seqexplain explain``
        writes them); returns the path."""
        path = Path(path)
        whole = ("ids", *METADATA)  # written whole, as explain writes them
        with AttributionsWriter(path, len(self)) as writer:
            writer.append({k: v for k, v in self._arrays.items() if k not in whole})
            writer.finish({k: v for k, v in self._arrays.items() if k in whole})
        return path

    def replace(self, **members: np.ndarray) -> "Attributions":
        """A copy with ``members`` replaced (or added); the arrays are shared, not copied."""
        return Attributions({**self._arrays, **members}, source=self.source)

    # -- members ----------------------------------------------------------------------------
    @property
    def arrays(self) -> Mapping[str, np.ndarray]:
        """Every member, read-only (name → array), in file order."""
        return MappingProxyType(self._arrays)

    def _get(self, key: str) -> np.ndarray:
        value = self._arrays.get(key)
        if value is None:
            raise SeqexplainError(f"{self.source}: not an attributions file (no {key!r} array)")
        return np.asarray(value)

    def _optional(self, key: str):
        value = self._arrays.get(key)
        return None if value is None else np.asarray(value)

    def __len__(self) -> int:
        return len(self._get("ids"))

    def __repr__(self) -> str:
        return (f"Attributions({self.source!r}: {len(self)} sequences, methods "
                f"{', '.join(self.methods) or 'none'})")

    @property
    def ids(self) -> np.ndarray:
        """(N,) str: record ids."""
        return self._get("ids").astype(str)

    @property
    def onehot(self) -> np.ndarray:
        """(N, L, C): the encoded sequences."""
        return self._get("onehot")

    @property
    def length(self) -> int:
        """L: the model's input length (rows of ``onehot``)."""
        return int(self.onehot.shape[1])

    @property
    def letters(self) -> str:
        """The channel letters ("ACGT")."""
        return str(self._get("alphabet"))

    @property
    def alphabet(self) -> Alphabet:
        """The :class:`~seqexplain.alphabets.Alphabet` whose channel order is :attr:`letters`."""
        return alphabet_from_letters(self.letters)

    @property
    def logits(self) -> np.ndarray:
        """(N, T): model outputs before the final activation."""
        return self._get("logits")

    @property
    def predictions(self) -> np.ndarray:
        """(N, T): model outputs."""
        return self._get("predictions")

    @property
    def target(self) -> int:
        """Index of the explained output (0 when not recorded)."""
        value = self._optional("target")
        return 0 if value is None else int(value)

    @property
    def output_names(self) -> list[str]:
        """(T,) names of the model's outputs ([] when not recorded)."""
        value = self._optional("output_names")
        return [] if value is None else [str(v) for v in np.atleast_1d(value)]

    @property
    def target_name(self) -> str:
        """The explained output's name (its index when unnamed)."""
        names, target = self.output_names, self.target
        return names[target] if target < len(names) else str(target)

    @property
    def targets(self) -> list[str]:
        """Names of the targets of a file of several targets ([] for one target)."""
        value = self._optional("targets")
        return [] if value is None else [str(v) for v in np.atleast_1d(value)]

    def select_target(self, name: str) -> "Attributions":
        """The one-target view of target ``name`` of a file of several targets: its method
        arrays under their plain names (``M``, ``M_hypothetical``, ``M_delta``), ``target``
        pointing at its column of ``logits`` and the settings' ``target`` set to it — what
        logos, motifs and the report read. A one-target file returns itself when ``name`` is
        its target."""
        names = self.targets
        if not names:
            if str(name) in (self.target_name, str(self.target)):
                return self
            raise SeqexplainError(f"{self.source}: explains target {self.target_name!r} only, "
                                  f"not {name!r}")
        chosen = _choose_target(name, names, self.source)
        arrays = {new: v for k, v in self._arrays.items()
                  if (new := _untarget(k, chosen)) is not None}
        return Attributions(arrays, source=self.source)._selected(chosen)

    def _selected(self, chosen: str) -> "Attributions":
        """Metadata of the one-target view of ``chosen`` (method arrays already renamed)."""
        arrays = {k: v for k, v in self._arrays.items() if k != "targets"}
        output_names = self.output_names
        if chosen in output_names:
            arrays["target"] = np.array(output_names.index(chosen))
        settings = self.settings
        if settings is not None:
            specs = settings.get("targets") or []
            names = self.targets
            if chosen in names and len(specs) == len(names):
                settings["target"] = specs[names.index(chosen)]
            arrays["settings"] = np.array(json.dumps(settings))
        return Attributions(arrays, source=self.source)

    @property
    def explained_output(self) -> str | None:
        """"logit" or "prob" (None when not recorded)."""
        value = self._optional("explained_output")
        return None if value is None else str(value)

    @property
    def lengths(self) -> np.ndarray | None:
        """(N,) each record's length (None in files that do not record it)."""
        return self._optional("lengths")

    @property
    def offsets(self) -> np.ndarray | None:
        """(N,) the sequence coordinate of input row 0 of each record (None when absent)."""
        return self._optional("offsets")

    @property
    def settings(self) -> dict | None:
        """The explain settings recorded by ``seqexplain explain`` (None for older files)."""
        value = self._optional("settings")
        return None if value is None else json.loads(str(value))

    @property
    def model_path(self) -> str:
        """Where the model that computed the scores is now expected ("" when not recorded):
        the file records it relative to its own folder (see
        :func:`~seqexplain.outputs.portable_path`), so an output folder moved together with
        its model still finds it; a moved model is given with ``--model``."""
        value = self._optional("model")
        if value is None or not str(value):
            return ""
        return str(recorded_path(str(value), self.source))

    @property
    def model_paths(self) -> list[str]:
        """Where the models are now expected: the one model of :attr:`model_path`, or the
        several whose mean the scores are (``models``, see :attr:`mean_over_models`); []
        when none is recorded."""
        value = self._optional("models")
        if value is None:
            return [self.model_path] if self.model_path else []
        return [str(recorded_path(str(v), self.source)) if str(v) else ""
                for v in np.atleast_1d(value)]

    @property
    def mean_over_models(self) -> int:
        """How many models the scores, logits and predictions are a mean over (1: one)."""
        value = self._optional("models")
        return 1 if value is None else len(np.atleast_1d(value))

    @property
    def fingerprint(self) -> str:
        """The fingerprint of the model that computed the scores ("" in older files)."""
        value = self._optional("model_fingerprint")
        return "" if value is None else str(value)

    # -- the methods' scores ---------------------------------------------------------------
    @property
    def methods(self) -> list[str]:
        """Methods with scores here, in file order (an h5 file lists its members
        alphabetically)."""
        return [k for k in self._arrays if k in METHOD_NAMES]

    def scores(self, method: str) -> np.ndarray:
        """(N, L, C): ``method``'s contribution of the observed base (see :meth:`require`)."""
        self.require(method, hypothetical=False)
        return np.asarray(self._arrays[method])

    def hypothetical(self, method: str) -> np.ndarray:
        """(N, L, C): ``method``'s score for every base at every position."""
        self.require(method)
        return np.asarray(self._arrays[method + HYPOTHETICAL])

    def delta(self, method: str) -> np.ndarray | None:
        """(N,): ``method``'s completeness error; None for methods without one."""
        return self._optional(method + DELTA)

    def require(self, method: str, hypothetical: bool = True) -> None:
        """Raise unless ``method``'s scores (and, with ``hypothetical``, its hypothetical
        scores) are here.

        Raises
        ------
        SeqexplainError
            ``"<source>: no 'M' scores (methods: a, b)"``.
        """
        if method not in self._arrays or (hypothetical
                                          and method + HYPOTHETICAL not in self._arrays):
            if self.targets:
                raise SeqexplainError(f"{self.source}: holds several targets "
                                      f"({', '.join(self.targets)}); choose one (--target)")
            raise SeqexplainError(f"{self.source}: no {method!r} scores (methods: "
                                  f"{', '.join(self.methods) or 'none'})")

    # -- rows ---------------------------------------------------------------------------------
    def valid(self) -> np.ndarray:
        """(N, L) bool: the input rows holding bases (not padding) of every sequence."""
        onehot = self.onehot
        return valid_rows(len(onehot), onehot.shape[1], self.offsets, self.lengths)

    def span(self, i: int) -> tuple[int, int]:
        """Input rows ``lo:hi`` holding the bases of sequence ``i`` (not padding)."""
        offsets, lengths, length = self.offsets, self.lengths, self.length
        off = 0 if offsets is None else int(offsets[i])
        n = length if lengths is None else int(lengths[i])
        return max(0, -off), min(length, n - off)

    def subset(self, indices) -> "Attributions":
        """The sequences ``indices`` (in that order; an index array or a bool mask), every
        per-sequence member cut alike."""
        indices = np.asarray(indices)
        return Attributions({k: (v if k in METADATA else np.asarray(v)[indices])
                             for k, v in self._arrays.items()}, source=self.source)

    @classmethod
    def concatenate(cls, parts: Iterable["Attributions"]) -> "Attributions":
        """The sequences of ``parts`` one after the other (metadata from the first)."""
        parts = list(parts)
        first = parts[0]
        return cls({k: (v if k in METADATA else
                        np.concatenate([np.asarray(p._arrays[k]) for p in parts]))
                    for k, v in first._arrays.items()}, source=first.source)

    # -- the model ----------------------------------------------------------------------------
    def check_model(self, model, model_source: str, letters: str | None = None) -> None:
        """Refuse to combine these scores with a model other than the one that computed them
        (``model``: a Keras model, or the list of models whose mean they are):
        the recorded fingerprint must equal ``model``'s (over ``letters``, default
        :attr:`letters`). Files written before fingerprints were recorded pass unchecked.

        Raises
        ------
        SeqexplainError
            Naming both sources and both fingerprints.
        """
        from .bundle import ensemble_fingerprint, model_fingerprint

        recorded = self.fingerprint
        if not recorded:
            return
        letters = self.letters if letters is None else letters
        # several models (a list): the scores must be the mean of exactly these, in order
        actual = ensemble_fingerprint(model_fingerprint(m, letters) for m in model) \
            if isinstance(model, (list, tuple)) else model_fingerprint(model, letters)
        if recorded != actual:
            raise SeqexplainError(
                f"{self.source} was computed with another model (fingerprint {recorded}) "
                f"than {model_source} (fingerprint {actual}); explain the sequences with this "
                f"model, or give the model that computed them")


def _choose_target(target, names: list[str], source) -> str:
    """``target`` among the ``names`` of a file of several targets (an error listing them)."""
    if target is None:
        raise SeqexplainError(f"{source}: holds several targets ({', '.join(names)}); choose "
                              f"one (--target)")
    if str(target) in names:
        return str(target)
    if str(target).isdigit() and int(target) < len(names):
        return names[int(target)]
    raise SeqexplainError(f"{source}: no target {target!r} (targets: {', '.join(names)})")


def _method_of(key: str) -> str | None:
    """The method whose array ``key`` is (``M``, ``M_hypothetical``, ``M_delta``), or None."""
    for suffix in ("", HYPOTHETICAL, DELTA):
        if key.endswith(suffix) and key[:len(key) - len(suffix)] in METHOD_NAMES:
            return key[:len(key) - len(suffix)]
    return None


def _read_members(path: Path, keys: Collection[str] | None) -> dict[str, np.ndarray]:
    """The members ``keys`` (default all) of an npz/h5 file; strings as ``str`` arrays."""
    if not path.exists():
        raise SeqexplainError(f"{path}: no such file")
    if path.is_dir():
        raise SeqexplainError(f"{path}: a folder, not an attributions file")
    try:
        if path.suffix == ".h5":
            import h5py

            with h5py.File(path, "r") as h5:
                return {key: _decode(h5[key][()]) for key in h5
                        if keys is None or key in keys}
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files if keys is None or k in keys}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        raise SeqexplainError(f"{path}: {_NOT_ATTRIBUTIONS}") from None


def _decode(value):
    if isinstance(value, np.ndarray) and value.dtype.kind == "O":
        return np.array([v.decode() if isinstance(v, bytes) else v for v in value])
    if isinstance(value, bytes):
        return np.array(value.decode())
    return value


# -- writing ------------------------------------------------------------------------------------
class AttributionsWriter:
    """Write an attributions file (``.npz`` or ``.h5`` by suffix) chunk by chunk, with memory
    bounded by one chunk.

    >>> with AttributionsWriter(path, n) as out:              # doctest: +SKIP
    ...     for chunk in chunks:
    ...         out.append({"onehot": X, "ids": ids, "deepshap": scores, ...})
    ...     out.finish({"alphabet": np.array("ACGT"), ...})

    ``append`` takes per-sequence arrays (rows of the N sequences, in order, each member with
    one dtype); ``finish`` the members written whole: :data:`METADATA` and ``ids`` (strings
    whose width is known only at the end).
    """

    def __init__(self, path, n: int):
        self.path, self.n = Path(path), int(n)
        self._out = _H5Writer(self.path) if self.path.suffix == ".h5" else _NpzWriter(self.path)

    def __enter__(self) -> "AttributionsWriter":
        return self

    def append(self, arrays: Mapping[str, np.ndarray]) -> None:
        for key, value in arrays.items():
            self._out.append(key, np.asarray(value), self.n)

    def finish(self, metadata: Mapping[str, np.ndarray]) -> None:
        self._out.finish(**{k: np.asarray(v) for k, v in metadata.items()})

    def __exit__(self, *exc) -> bool:
        self._out.close()
        return False


class _NpzWriter:
    """Appends chunked arrays to raw files beside the output, then streams them into one
    ``.npz`` — an ordinary npz, written with bounded memory (plain file writes rather than
    memory maps, whose resident pages would grow with the output)."""

    def __init__(self, path: Path):
        self.path = path
        self.tmp = Path(tempfile.mkdtemp(prefix=".explain.", dir=path.parent))
        track_unfinished(self.tmp)
        self.files: dict[str, tuple] = {}  # key → (file, shape, dtype)

    def append(self, key: str, value: np.ndarray, n: int) -> None:
        if key not in self.files:
            self.files[key] = (open(self.tmp / key, "wb"), (n, *value.shape[1:]), value.dtype)
        fh, _, dtype = self.files[key]
        fh.write(np.ascontiguousarray(value, dtype=dtype).tobytes())

    def finish(self, **small) -> None:
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

    def close(self) -> None:
        for fh, _, _ in self.files.values():
            fh.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        forget_unfinished(self.tmp)


class _H5Writer:
    """Chunked HDF5 datasets, written as the chunks arrive."""

    def __init__(self, path: Path):
        import h5py

        self.h5 = h5py.File(path, "w")
        self.rows: dict[str, int] = {}

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

    def close(self) -> None:
        self.h5.close()
