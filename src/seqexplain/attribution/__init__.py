"""Attribution scores for one-hot sequence models: which bases drive a prediction.

Every method shares one signature, ``method(model, X, target=0, batch_size=...,
random_state=None, *, output="logit", ...)``, takes one-hot sequences ``X`` of shape
(n, length, C) and returns float32 scores of the same shape:

=========================  =========================================================
:func:`saliency`           gradient (gradient-corrected by default)
:func:`grad_input`         gradient × input
:func:`integrated_gradients`  path-integrated gradient from a baseline
:func:`deeplift`           DeepLIFT (rescale rule) against one reference
:func:`deep_shap`          DeepSHAP: DeepLIFT averaged over references (native engine)
:func:`ism`                in-silico saturation mutagenesis
:func:`shap_explainer`     shap's DeepExplainer, for cross-checks
=========================  =========================================================

:func:`attribute` dispatches by name; :mod:`.registry` is the one table of methods (names,
aliases, how observed/hypothetical/delta scores are formed) that the FASTA pipeline and the CLI
read too. Methods explain the logit before a final sigmoid/softmax by
default (:func:`logit_model`); ``output="prob"`` explains the probability.

Names are loaded lazily (PEP 562): importing this sub-package, or its method table
:mod:`.registry`, does not import TensorFlow; the first verb used does.
"""

from __future__ import annotations

import importlib

#: public name → the module defining it
_EXPORTS = {
    "check_supported": "engine", "register_rule": "engine",
    "explained_model": "logits", "logit_model": "logits",
    "correct_gradient": "methods", "deep_shap": "methods", "deeplift": "methods",
    "explained_output": "methods",
    "grad_input": "methods", "integrated_gradients": "methods", "ism": "methods",
    "saliency": "methods", "shap_explainer": "methods", "validate_input": "methods",
    "METHODS": "registry", "MethodSettings": "registry", "Scores": "registry",
    "attribute": "registry", "compute": "registry", "resolve_method": "registry",
    "resolve_methods": "registry",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
