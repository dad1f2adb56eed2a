"""The one table of attribution methods, read by the library, the FASTA pipeline and the CLI.

Each :class:`Method` entry names a method (the name stored in attribution files), its
aliases, the verb that computes it, and how its three outputs are formed from the verb's
result — :class:`Scores`:

- ``observed`` (n, length, C): the score of the observed base, zero at the other channels;
- ``hypothetical`` (n, length, C): a score for every base at every position;
- ``delta`` (n,) or ``None``: the completeness error, for methods that have one.

Adding a method means adding one entry (and its verb). This module does not import
TensorFlow: names can be checked and files read without it; a method's verb is imported when
it runs.

====================  ==========================================================  ======
name                  hypothetical / observed                                       delta
====================  ==========================================================  ======
saliency              gradient, corrected (channel mean subtracted) unless           –
                      ``correct=False``; observed = that × X
grad_input            raw gradient; observed = raw gradient × X (Shrikumar et al.)   –
integrated_gradients  (x − baseline) × mean path gradient, both                      yes
deeplift              DeepLIFT hypothetical contributions (one reference); × X        yes
deepshap              DeepSHAP hypothetical contributions (references); × X           yes
ism                   substitution effects centred on the position's mean; × X        –
shap                  shap DeepExplainer's raw values; observed = their channel       yes
                      sum put on the observed base
====================  ==========================================================  ======
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import SeqexplainError

#: references per sequence for DeepSHAP (tangermeme's default)
N_REFERENCES = 20
#: named reference sets of DeepSHAP/DeepLIFT (besides arrays and FASTA files)
REFERENCE_KINDS = ("shuffle", "zero", "uniform")


@dataclass(frozen=True)
class Options:
    """What the pipeline passes to every method; each method reads what it needs.

    ``references`` (deepshap, shap): a kind (``"shuffle"``, ``"zero"``, ``"uniform"``) or an
    array; ``deeplift_reference`` (deeplift): a kind or one (length, C) array; ``seed`` seeds
    the shuffles."""

    target: int = 0
    output: str = "logit"
    batch_size: int = 256
    seed: int | None = 0
    correct: bool = True
    ig_steps: int = 50
    references: object = "shuffle"
    n_references: int = N_REFERENCES
    deeplift_reference: object = "uniform"


@dataclass
class Scores:
    """One method's result on a batch: observed and hypothetical scores (float32, shape
    (n, length, C)) and the completeness error per sequence (float32, (n,)) or ``None``."""

    observed: np.ndarray
    hypothetical: np.ndarray
    delta: np.ndarray | None = None

    def __post_init__(self):
        self.observed = np.asarray(self.observed, np.float32)
        self.hypothetical = np.asarray(self.hypothetical, np.float32)
        if self.delta is not None:
            self.delta = np.asarray(self.delta, np.float32)


@dataclass(frozen=True)
class Method:
    """An attribution method: its verb (a function of :mod:`.methods`, by name) and
    ``compute(model, X, options) -> Scores``, which forms the three outputs from it."""

    name: str
    verb: str
    compute: Callable[..., Scores]
    summary: str
    aliases: tuple[str, ...] = ()
    has_delta: bool = False
    uses_references: bool = False

    @property
    def function(self) -> Callable:
        """The verb, e.g. :func:`~seqexplain.attribution.methods.deep_shap`."""
        return getattr(_methods(), self.verb)


def _methods():
    """:mod:`.methods` (imports TensorFlow on first use)."""
    return importlib.import_module(".methods", __package__)


def _common(o: Options) -> dict:
    return dict(target=o.target, output=o.output, batch_size=o.batch_size)


def _references(o: Options) -> dict:
    """The reference options of the methods that average over references."""
    return dict(references=o.references, n_references=o.n_references, random_state=o.seed)


def _saliency(model, X, o: Options) -> Scores:
    m = _methods()
    hyp = m.saliency(model, X, correct=o.correct, **_common(o))
    return Scores(hyp * X, hyp)


def _grad_input(model, X, o: Options) -> Scores:
    m = _methods()
    raw = m.saliency(model, X, correct=False, **_common(o))
    return Scores(raw * X, raw)


def _integrated_gradients(model, X, o: Options) -> Scores:
    m = _methods()
    attr, delta = m.integrated_gradients(model, X, steps=o.ig_steps, return_delta=True,
                                         **_common(o))
    return Scores(attr, attr, delta)


def _deeplift(model, X, o: Options) -> Scores:
    m = _methods()
    hyp, delta = m.deeplift(model, X, reference=o.deeplift_reference, hypothetical=True,
                            return_delta=True, random_state=o.seed, **_common(o))
    return Scores(hyp * X, hyp, delta)


def _deepshap(model, X, o: Options) -> Scores:
    m = _methods()
    hyp, delta = m.deep_shap(model, X, hypothetical=True, return_delta=True, **_references(o),
                             **_common(o))
    return Scores(hyp * X, hyp, delta)


def _ism(model, X, o: Options) -> Scores:
    m = _methods()
    hyp = m.ism(model, X, center=True, **_common(o))
    return Scores(hyp * X, hyp)


def _shap(model, X, o: Options) -> Scores:
    m = _methods()
    raw, delta = m.shap_explainer(model, X, project=False, return_delta=True, **_references(o),
                             **_common(o))
    return Scores(raw.sum(axis=-1, keepdims=True) * X, raw, delta)


METHODS: dict[str, Method] = {method.name: method for method in (
    Method("saliency", "saliency", _saliency, "gradient (corrected by default)",
           aliases=("gradient",)),
    Method("grad_input", "grad_input", _grad_input, "raw gradient × input",
           aliases=("gradient_x_input",)),
    Method("integrated_gradients", "integrated_gradients", _integrated_gradients,
           "path-integrated gradient from a baseline", aliases=("ig",), has_delta=True),
    Method("deeplift", "deeplift", _deeplift, "DeepLIFT (rescale rule), one reference",
           has_delta=True),
    Method("deepshap", "deep_shap", _deepshap, "DeepSHAP: DeepLIFT over many references",
           aliases=("deep_shap",), has_delta=True, uses_references=True),
    Method("ism", "ism", _ism, "in-silico saturation mutagenesis (centred)"),
    Method("shap", "shap_explainer", _shap, "shap's own DeepExplainer (slow; for checks)",
           aliases=("shap_deep",), has_delta=True, uses_references=True),
)}
_ALIASES = {alias: method.name for method in METHODS.values() for alias in method.aliases}
#: every name a user may give: canonical names and aliases
METHOD_NAMES = tuple(METHODS)


def resolve_method(name: str) -> Method:
    """The :class:`Method` called ``name`` or one of its aliases (any case)."""
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in METHODS:
        close = difflib.get_close_matches(key, list(METHODS) + list(_ALIASES), n=1)
        hint = f" (did you mean {_ALIASES.get(close[0], close[0])!r}?)" if close else ""
        raise SeqexplainError(f"unknown method {name!r}{hint}; choose from "
                              f"{', '.join(METHODS)}")
    return METHODS[key]


def resolve_methods(names) -> tuple[str, ...]:
    """Canonical names of ``names`` (an iterable or a comma-separated string), in order,
    without repeats."""
    if isinstance(names, str):
        names = names.split(",")
    out: list[str] = []
    for name in names:
        if str(name).strip():
            method = resolve_method(name).name
            if method not in out:
                out.append(method)
    if not out:
        raise SeqexplainError("no attribution method given")
    return tuple(out)


def compute(model, X: np.ndarray, method: str, options: Options = Options()) -> Scores:
    """``method``'s observed, hypothetical and delta arrays on ``X`` (n, length, C)."""
    return resolve_method(method).compute(model, X, options)


def attribute(model, X: np.ndarray, method: str = "deepshap", **options):
    """Run the attribution verb named ``method`` (a name or alias of :data:`METHODS`) with its
    own options.

    Parameters
    ----------
    model : Keras model, input (None, length, C).
    X : one-hot sequences, shape=(n, length, C).
    method : "deepshap" (default), "deeplift", "saliency", "grad_input",
        "integrated_gradients", "ism" or "shap" (aliases: "deep_shap", "gradient",
        "gradient_x_input", "ig", "shap_deep").
    **options : the verb's own options (``target``, ``batch_size``, ``random_state``,
        ``output``, ...).

    Returns
    -------
    What the verb returns: scores of shape=(n, length, C), or ``(scores, delta)`` where
    ``return_delta=True``.
    """
    entry = resolve_method(method)
    allowed = [p for p in inspect.signature(entry.function).parameters
               if p not in ("model", "X") and not p.startswith("_")]
    for name in options:
        if name not in allowed:
            raise SeqexplainError(f"method {entry.name!r} has no option {name!r}; its options "
                                  f"are {', '.join(allowed)}")
    return entry.function(model, X, **options)
