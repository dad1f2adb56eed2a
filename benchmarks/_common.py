"""What several benchmark scripts share: best-of-N timing and the reference CNN in PyTorch.

The scripts run as ``python benchmarks/bench_*.py``, so this folder is first on ``sys.path``
and ``from _common import …`` finds this file.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def best_time(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """(the fastest wall-clock seconds of ``repeats`` calls of ``fn``, the last call's result).

    Callers warm up (trace, compile) before timing: the first call is timed like the others.
    """
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


#: Source of the ``tangermeme_maxpool`` reference CNN in PyTorch, for the scripts that the
#: benchmarks run with ``.venv-bench``'s python (torch + tangermeme). It needs ``torch`` and
#: ``W(name, part)`` (a weight of the reference file as a tensor, Keras layout) defined
#: before it, and defines ``Net`` (weights converted to PyTorch's layout).
TORCH_REFERENCE_CNN = r"""
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c0 = torch.nn.Conv1d(4, 32, 12); self.r0 = torch.nn.ReLU()
        self.p1 = torch.nn.MaxPool1d(4)
        self.c2 = torch.nn.Conv1d(32, 32, 6); self.r2 = torch.nn.ReLU()
        self.p3 = torch.nn.MaxPool1d(42)
        self.d4 = torch.nn.Linear(32, 1)
        with torch.no_grad():
            for layer, name in ((self.c0, "l0_conv"), (self.c2, "l2_conv")):
                layer.weight.copy_(W(name, "kernel").permute(2, 1, 0))
                layer.bias.copy_(W(name, "bias"))
            self.d4.weight.copy_(W("l4_dense", "kernel").T)
            self.d4.bias.copy_(W("l4_dense", "bias"))
    def forward(self, x):
        x = self.p1(self.r0(self.c0(x)))
        x = self.p3(self.r2(self.c2(x)))
        return self.d4(x.flatten(1))
"""
