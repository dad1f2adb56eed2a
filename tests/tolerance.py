"""Float tolerances scaled to what rounding acts on.

float32 rounding differs between CPUs (vector width, FMA contraction, XLA fusion, oneDNN), by
a few units of 1e-7 of the magnitudes the arithmetic handles: the model outputs of the batch
and the contributions being summed. Tolerances are therefore ``REL ×`` that batch scale, never
relative to one difference that may be close to zero; a rule error (≥ 1e-4 of the scale)
still fails by an order of magnitude.
"""

from __future__ import annotations

import numpy as np

#: float32 agreement, relative to the batch scale (observed differences are ~1e-7)
REL = 1e-5


def batch_scale(*arrays) -> float:
    """The largest |value| among ``arrays``: outputs of the sequences and references, and
    per-sequence sums of |contributions| (what float32 rounding acts on in the batch)."""
    scale = max(float(np.max(np.abs(np.asarray(a, np.float64)))) for a in arrays)
    assert scale > 0, "a batch whose every output is 0 says nothing about rounding"
    return scale


def contribution_scale(attributions) -> np.ndarray:
    """Per-sequence sum of |contributions|, shape (n,)."""
    a = np.abs(np.asarray(attributions, np.float64))
    return a.reshape(len(a), -1).sum(axis=1)


def assert_close(actual, expected, scale: float, rel: float = REL, what: str = "") -> None:
    """``max |actual - expected| <= rel × scale``."""
    err = float(np.max(np.abs(np.asarray(actual, np.float64) - np.asarray(expected, np.float64))))
    assert err <= rel * scale, (f"{what}: max error {err:.3g} exceeds {rel:g} × scale "
                                f"{scale:.3g}")
