"""The one table of attribution methods, read by the library, the FASTA pipeline and the CLI.

Each :class:`Method` entry names a method (the name stored in attribution files), its
aliases, the verb that computes it, and how its three outputs are formed from the verb's
result — :class:`Scores`:

- ``observed`` (n, length, C): the score of the observed base, zero at the other channels;
- ``hypothetical`` (n, length, C): a score for every base at every position;
- ``delta`` (n,) or ``None``: the completeness error, for methods that have one.

Adding a method means writing its verb and adding one line to :data:`METHODS`; its options
are fields of :class:`~.options.MethodSettings` (the one declaration the CLI and the files read).
This module does not import TensorFlow: names can be checked and files read without it; a method's verb is imported when
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
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import SeqexplainError
from .options import N_REFERENCES, REFERENCE_KINDS, MethodSettings

__all__ = ["METHODS", "METHOD_NAMES", "Method", "N_REFERENCES", "MethodSettings", "REFERENCE_KINDS",
           "Scores", "attribute", "compute", "resolve_method", "resolve_methods"]


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


#: how a method's observed scores come from its hypothetical ones (n, length, C) and X
OBSERVED = {
    "times_input": lambda hyp, X: hyp * X,
    "same": lambda hyp, X: hyp,
    # shap's raw values: their channel sum at each position, put on the observed base
    "channel_sum": lambda hyp, X: hyp.sum(axis=-1, keepdims=True) * X,
}


@dataclass(frozen=True)
class Method:
    """An attribution method: one verb of :mod:`.methods` (by name), which both
    :func:`attribute` (``method(model, X, **options)``) and the file pipeline
    (:meth:`scores`) call.

    ``hypothetical``: the verb options that make its result the hypothetical scores the file
    stores (``hypothetical=True``, ``project=False``, ``center=True``...); ``observed``: how
    the observed scores follow from them (a key of :data:`OBSERVED`); ``has_delta``: the
    verb takes ``return_delta``; ``several_targets``: a verb computing the hypothetical
    scores of several targets from the same forward passes (ISM), called as
    ``f(model, X, targets, **options)`` and returning one array per target."""

    name: str
    verb: str
    summary: str
    aliases: tuple[str, ...] = ()
    hypothetical: dict = field(default_factory=dict)
    observed: str = "times_input"
    has_delta: bool = False
    uses_references: bool = False
    several_targets: str | None = None

    @property
    def function(self) -> Callable:
        """The verb, e.g. :func:`~seqexplain.attribution.methods.deep_shap`."""
        return getattr(_methods(), self.verb)

    @property
    def parameters(self) -> list[str]:
        """The verb's options (its parameters after ``model`` and ``X``)."""
        return [p for p in inspect.signature(self.function).parameters
                if p not in ("model", "X") and not p.startswith("_")]

    def __call__(self, model, X, **options):
        """The verb on ``X`` (n, length, C) with its own ``options``; what it returns."""
        allowed = self.parameters
        for name in options:
            if name not in allowed:
                raise SeqexplainError(f"method {self.name!r} has no option {name!r}; its "
                                      f"options are {', '.join(allowed)}")
        return self.function(model, X, **options)

    def _kwargs(self, options: MethodSettings, parameters) -> dict:
        kwargs = options.for_verb(parameters)
        kwargs.update({k: v for k, v in self.hypothetical.items() if k in parameters})
        if self.has_delta:
            kwargs["return_delta"] = True
        return kwargs

    def _form(self, result, X) -> Scores:
        hyp, delta = result if self.has_delta else (result, None)
        return Scores(OBSERVED[self.observed](hyp, X), hyp, delta)

    def scores(self, model, X: np.ndarray, options: MethodSettings = MethodSettings()) -> Scores:
        """Observed, hypothetical and delta arrays on ``X`` (n, length, C): the verb called
        once with ``options`` (those it takes) and :attr:`hypothetical`."""
        return self._form(self(model, X, **self._kwargs(options, self.parameters)), X)

    def scores_of_targets(self, model, X: np.ndarray, targets: list,
                          options: MethodSettings = MethodSettings()) -> list[Scores]:
        """:meth:`scores` of each of ``targets`` (``options.target`` ignored): from the same
        forward passes where the method has a :attr:`several_targets` verb."""
        if self.several_targets is None or len(targets) == 1:
            return [self.scores(model, X, replace(options, target=t)) for t in targets]
        several = getattr(_methods(), self.several_targets)
        parameters = inspect.signature(several).parameters
        kwargs = self._kwargs(options, parameters)
        kwargs.pop("target", None)
        return [self._form(result, X) for result in several(model, X, list(targets), **kwargs)]


def _methods():
    """:mod:`.methods` (imports TensorFlow on first use)."""
    return importlib.import_module(".methods", __package__)


#: the method table: one line per method
METHODS: dict[str, Method] = {method.name: method for method in (
    Method("saliency", "saliency", "gradient (corrected by default)", aliases=("gradient",)),
    Method("grad_input", "grad_input", "raw gradient × input", aliases=("gradient_x_input",),
           hypothetical=dict(hypothetical=True, correct=False)),
    Method("integrated_gradients", "integrated_gradients",
           "path-integrated gradient from a baseline", aliases=("ig",), observed="same",
           has_delta=True),
    Method("deeplift", "deeplift", "DeepLIFT (rescale rule), one reference",
           hypothetical=dict(hypothetical=True), has_delta=True),
    Method("deepshap", "deep_shap", "DeepSHAP: DeepLIFT over many references",
           aliases=("deep_shap",), hypothetical=dict(hypothetical=True), has_delta=True,
           uses_references=True),
    Method("ism", "ism", "in-silico saturation mutagenesis (centred)",
           hypothetical=dict(center=True), several_targets="ism_targets"),
    Method("shap", "shap_explainer", "shap's own DeepExplainer (slow; for checks)",
           aliases=("shap_deep",), hypothetical=dict(project=False), observed="channel_sum",
           has_delta=True, uses_references=True),
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


def compute(model, X: np.ndarray, method: str, options: MethodSettings = MethodSettings()) -> Scores:
    """``method``'s observed, hypothetical and delta arrays on ``X`` (n, length, C)."""
    return resolve_method(method).scores(model, X, options)


def attribute(model, X: np.ndarray, method: str = "deepshap", **options):
    """Run the attribution method named ``method`` (a name or alias of :data:`METHODS`)
    with its verb's own options.

    Parameters
    ----------
    model : a Keras model (input (None, length, C)), a ``.keras``/``.h5`` file, a model
        folder or a ModelBundle (:func:`~seqexplain.bundle.load_model`, the one loader); or a
        list of them (folds, same input and targets, :func:`~seqexplain.bundle.load_models`):
        the mean of their scores (and deltas) per sequence.
    X : one-hot sequences, shape=(n, length, C); or a string or a list of strings, encoded
        with the model's alphabet as :func:`~seqexplain.prediction.predict` encodes them.
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
    verb = resolve_method(method)  # an unknown method is refused before a model loads
    if isinstance(model, (list, tuple)):
        from ..bundle import load_models

        bundles = load_models(model)
        X = bundles[0].onehot_input(X)
        # the same options (seed included) for every model: the same references for all
        results = [verb(b.model, X, **options) for b in bundles]
        def mean(parts):
            return np.mean(parts, axis=0, dtype=np.float64).astype(parts[0].dtype)

        if isinstance(results[0], tuple):  # (scores, delta): completeness is linear
            return tuple(mean([r[k] for r in results]) for k in range(len(results[0])))
        return mean(results)
    keras = sys.modules.get("keras")
    if keras is None or not isinstance(model, keras.Model) or isinstance(X, (str, list, tuple)):
        from ..bundle import load_model

        bundle = load_model(model)
        model, X = bundle.model, bundle.onehot_input(X)
    return verb(model, X, **options)
