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
:func:`shap_deep`          shap's DeepExplainer, for cross-checks
=========================  =========================================================

:func:`explain` dispatches by name. Methods explain the logit before a final sigmoid/softmax by
default (:func:`logit_model`); ``output="prob"`` explains the probability.

TensorFlow is imported with this sub-package, not with ``seqexplain`` itself.
"""

from __future__ import annotations

from .engine import check_supported
from .logits import explained_model, logit_model
from .methods import (METHODS, correct_gradient, deep_shap, deeplift, explain, grad_input,
                      integrated_gradients, ism, saliency, shap_deep, validate_input)

__all__ = [
    "METHODS", "check_supported", "correct_gradient", "deep_shap", "deeplift", "explain",
    "explained_model", "grad_input", "integrated_gradients", "ism", "logit_model", "saliency",
    "shap_deep", "validate_input",
]
