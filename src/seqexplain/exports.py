"""Exports of a scores file to other tools' formats, apart from the
:class:`~seqexplain.attributions.Attributions` type that reads it.

- TF-MoDISco (modisco-lite) inputs: :func:`write_modisco` (into a folder being written),
  :func:`export_modisco` (a scores file or an ``Attributions`` → a new folder, written
  atomically; what ``seqexplain export-modisco`` calls).

Tracks (bigWig) and BED files of instances belong here too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .attribution.registry import resolve_method
from .attributions import Attributions
from .outputs import atomic_dir, check_writable


@dataclass(frozen=True)
class ModiscoInputs:
    """The two files TF-MoDISco reads: ``ohe`` (the one-hot sequences) and ``shap`` (the
    hypothetical scores), each (N, C, L) as key ``arr_0``; ``length`` L."""

    ohe: Path
    shap: Path
    length: int


def write_modisco(attributions: Attributions, method: str, folder) -> ModiscoInputs:
    """Write the one-hot sequences and ``method``'s hypothetical scores channels-first,
    (N, C, L) as key ``arr_0`` of ``folder/ohe.npz`` and ``folder/shap.npz`` (``folder``
    exists) — what ``modisco motifs -s ohe.npz -a shap.npz`` reads."""
    hyp = attributions.hypothetical(method)
    folder = Path(folder)
    ohe, shap = folder / "ohe.npz", folder / "shap.npz"
    np.savez(ohe, np.ascontiguousarray(attributions.onehot.transpose(0, 2, 1)))
    np.savez(shap, np.ascontiguousarray(hyp.transpose(0, 2, 1)))
    return ModiscoInputs(ohe, shap, attributions.length)


def export_modisco(attributions, out, method: str = "deepshap", *, target=None,
                   force: bool = False) -> ModiscoInputs:
    """TF-MoDISco's inputs from ``method``'s hypothetical scores (a name or alias) in
    ``attributions`` (a scores file, or an :class:`~seqexplain.attributions.Attributions`),
    written to the new folder ``out`` (replaced only with ``force``; nothing is left on
    error). ``target``: the target of a file of several. Returns the files' paths."""
    check_writable(out, force, kind="folder")
    method = resolve_method(method).name
    if isinstance(attributions, Attributions):
        data = attributions.select_target(target) if target is not None else attributions
    else:
        data = Attributions.read(attributions, [method], delta=False, target=target)
    with atomic_dir(out, force=force) as tmp:
        written = write_modisco(data, method, tmp)
    out = Path(os.fspath(out))
    return ModiscoInputs(out / written.ohe.name, out / written.shap.name, written.length)
