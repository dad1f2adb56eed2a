"""First-layer convolutional filters as motifs (the DeepBind / Basset approach).

For each filter of the model's first ``Conv1D`` layer, the subsequences (filter-wide windows)
where its activation — after any batch normalisation and activation that follow it — exceeds
half the filter's maximum over the data are aligned and counted into a PFM. Each filter's
**influence** is the change of the explained logit when the filter is switched off (its output
set to zero), averaged over the sequences; filters are reported by decreasing mean |change|.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import SeqexplainError

log = logging.getLogger("seqexplain")


@dataclass
class FilterMotif:
    index: int
    pfm: np.ndarray          # (width, C) probabilities (pseudocount 0.01 per letter)
    n_sites: int
    max_activation: float
    influence: float = 0.0   # mean change of the logit when the filter is off
    influence_abs: float = 0.0
    consensus: str = ""
    matches: list | None = None

    @property
    def id(self) -> str:
        return f"filter_{self.index}"


def first_conv(model):
    """The first Conv1D layer and the layer whose output is its activation map."""
    import keras

    layers = model.layers
    for i, layer in enumerate(layers):
        if isinstance(layer, keras.layers.Conv1D):
            out = layer
            for nxt in layers[i + 1:i + 3]:
                if isinstance(nxt, (keras.layers.BatchNormalization, keras.layers.Activation,
                                    keras.layers.ReLU)):
                    out = nxt
                    if not isinstance(nxt, keras.layers.BatchNormalization):
                        break
                else:
                    break
            return layer, out
    raise SeqexplainError(f"model {model.name!r} has no Conv1D layer")


def filter_motifs(model, X: np.ndarray, letters: str, batch_size: int = 256,
                  fraction: float = 0.5) -> list[FilterMotif]:
    """PFMs of the first-layer filters from one-hot sequences ``X`` (n, L, C)."""
    import keras

    conv, act = first_conv(model)
    if conv.padding not in ("same", "valid") or conv.dilation_rate[0] != 1:
        raise SeqexplainError(f"{conv.name}: dilated or causal first layers are not supported")
    k = conv.kernel_size[0]
    sub = keras.Model(model.inputs, act.output)
    A = np.asarray(sub.predict(X, batch_size=batch_size, verbose=0))  # (n, L', F)
    left = (k - 1) // 2 if conv.padding == "same" else 0
    padded = np.pad(X, ((0, 0), (left, k), (0, 0)))
    maxima = A.max(axis=(0, 1))
    out = []
    for f in range(A.shape[2]):
        if maxima[f] <= 0:
            out.append(FilterMotif(f, np.full((k, X.shape[2]), 1 / X.shape[2]), 0, 0.0))
            continue
        seq, pos = np.nonzero(A[:, :, f] > fraction * maxima[f])
        windows = padded[seq[:, None], pos[:, None] + np.arange(k)[None, :]]
        counts = windows.sum(axis=0) + 0.01
        out.append(FilterMotif(f, counts / counts.sum(axis=1, keepdims=True), len(seq),
                               float(maxima[f])))
    return out


def filter_influence(model, X: np.ndarray, target: int = 0, batch_size: int = 256
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Mean and mean absolute change of the explained logit when each first-layer filter is
    switched off (kernel and bias zeroed; a following batch norm shifted so the channel stays
    0)."""
    import keras

    from .attribution import explained_output

    conv, act = first_conv(model)

    def forward() -> np.ndarray:  # compiled once; sees the weights set below
        return explained_output(model, X, target, batch_size)

    base = forward()
    bn = act if isinstance(act, keras.layers.BatchNormalization) else None
    if bn is None:
        idx = model.layers.index(conv)
        nxt = model.layers[idx + 1] if idx + 1 < len(model.layers) else None
        bn = nxt if isinstance(nxt, keras.layers.BatchNormalization) else None
    weights = [w.copy() for w in conv.get_weights()]
    bn_weights = [w.copy() for w in bn.get_weights()] if bn is not None else None
    mean, mean_abs = [], []
    try:
        for f in range(weights[0].shape[-1]):
            w = [x.copy() for x in weights]
            w[0][..., f] = 0
            if len(w) > 1:
                w[1][f] = 0
            conv.set_weights(w)
            if bn is not None:
                b = [x.copy() for x in bn_weights]
                gamma, beta, mu, var = (b + [None] * 4)[:4] if bn.scale and bn.center else (
                    None, None, None, None)
                if gamma is not None:
                    beta[f] = gamma[f] * mu[f] / np.sqrt(var[f] + bn.epsilon)
                    bn.set_weights([gamma, beta, mu, var])
            off = forward()
            mean.append(float((off - base).mean()))
            mean_abs.append(float(np.abs(off - base).mean()))
    finally:
        conv.set_weights(weights)
        if bn is not None:
            bn.set_weights(bn_weights)
    return np.array(mean), np.array(mean_abs)


def write_filters(bundle, X: np.ndarray, out_dir, target: int = 0, database=None,
                  release: str | None = None, taxon: str = "vertebrates",
                  logos: int | None = None):
    """``filters.tsv`` (filter, sites, max activation, consensus, information content,
    influence, best JASPAR match), ``filters.meme``, ``logos/filter_<k>.png`` into
    ``out_dir`` (which exists); returns the table (most influential first)."""
    from pathlib import Path

    import pandas as pd

    from . import logos as lg
    from .annotate import best_match, shown_match, tomtom
    from .motif_io import Motif, write_meme
    from .motifs import consensus
    from .motifs.pipeline import load_database

    out = Path(out_dir)
    letters = bundle.alphabet.letters
    motifs = filter_motifs(bundle.model, X, letters)
    mean, mean_abs = filter_influence(bundle.model, X, target)
    for m in motifs:
        m.influence, m.influence_abs = mean[m.index], mean_abs[m.index]
        m.consensus = consensus(m.pfm, letters)
    db = load_database(database, release, taxon, letters)
    live = [m for m in motifs if m.n_sites]
    if db:
        for m, hits in zip(live, tomtom([m.pfm for m in live], db,
                                        reverse_complement=bundle.alphabet.is_nucleic)):
            m.matches = hits
    motifs.sort(key=lambda m: -m.influence_abs)
    rows = []
    for m in motifs:
        p = np.clip(m.pfm, 1e-9, 1)
        ic = float((np.log2(len(letters)) + (p * np.log2(p)).sum(axis=1)).sum())
        best = (m.matches or [{}])[0]
        rows.append({"filter": m.id, "sites": m.n_sites, "max_activation": m.max_activation,
                     "consensus": m.consensus, "information_bits": ic,
                     "influence": m.influence, "influence_abs": m.influence_abs,
                     "best_match": best.get("name", ""), "best_match_id": best.get("id", ""),
                     "best_match_family": best.get("family", ""),
                     "best_match_q": best.get("q", np.nan)})
    table = pd.DataFrame(rows, columns=["filter", "sites", "max_activation", "consensus",
                                        "information_bits", "influence", "influence_abs",
                                        "best_match", "best_match_id", "best_match_family",
                                        "best_match_q"])
    table.to_csv(out / "filters.tsv", sep="\t", index=False, float_format="%.4g")
    write_meme([Motif(id=m.id, name=m.id, pfm=m.pfm, source="filters",
                      nsites=max(m.n_sites, 1)) for m in motifs], out / "filters.meme",
               letters=letters)
    (out / "logos").mkdir()
    shown = motifs if logos is None else motifs[:logos]
    titles = [f"{m.id} · {m.n_sites} sites · influence {m.influence:+.3g}" for m in shown]
    known = [shown_match(*best_match(m.matches)) for m in shown]  # named only if q < 0.05
    lg.render_matrix_logos([
        ("pwm", m.pfm, letters, title + (f" · {name}" if name else ""),
         str(out / "logos" / f"{m.id}.png")) for m, title, name in zip(shown, titles, known)])
    return table


@dataclass
class FiltersResult:
    """What :func:`filters_files` did: the folder ``out`` (as given) and its table (the
    rows of ``filters.tsv``, most influential first)."""

    out: str
    table: Any

    def summary(self) -> str:
        """The line ``seqexplain filters`` prints: the count and the most influential filter."""
        top = self.table.iloc[0] if len(self.table) else None
        return f"{self.out}: {len(self.table)} filters" + (
            f"; most influential {top['filter']} ({top['consensus']}"
            + (f", {top['best_match']}" if top["best_match"] else "") + ")" if top is not None
            else "")


def filters_files(model, inputs=None, *, out, regions=None, genome=None, off_edge: str = "pad",
                  alphabet: str | None = None, target=None, max_sequences: int = 2000,
                  database=None, release: str | None = "JASPAR2024",
                  taxon: str = "vertebrates", logos: int | None = 20,
                  force: bool = False) -> FiltersResult:
    """What ``seqexplain filters`` does: the first ``max_sequences`` records of ``inputs`` (a
    FASTA file), or windows of ``regions`` on ``genome``, through ``model`` (a model folder
    or a Keras file; ``alphabet`` for a bare file), and :func:`write_filters` into the folder
    ``out`` atomically (replaced only with ``force``): every first-layer filter's PWM,
    its influence on ``target`` and its matches in ``database`` [JASPAR CORE ``release`` of
    ``taxon``]; PWM logos of the ``logos`` most influential filters [20; ``None``: all] —
    drawing a logo costs far more than computing a PWM, and a model's first layer can hold
    hundreds of filters.

    Raises
    ------
    OptionError : a wrong combination of inputs, found before any work.
    SeqexplainError : a bad file or record; nothing is written.
    """
    from itertools import islice
    from pathlib import Path

    from ._tf import import_tensorflow
    from .errors import OptionError
    from .genome import check_input_option
    from .outputs import atomic_dir, check_writable

    check_writable(out, force, kind="folder")
    fastas, region_files = [inputs] if inputs else [], [regions] if regions else []
    check_input_option(fastas, region_files, genome)
    if database and not Path(database).is_file():
        raise SeqexplainError(f"{database}: no such motif file")
    import_tensorflow()
    from .bundle import load_model
    from .explain import resolve_target
    from .fasta import iter_fasta
    from .genome import sequence_inputs

    bundle = load_model(model, alphabet)
    found = sequence_inputs(fastas, region_files, genome, length=bundle.length,
                            off_edge=off_edge)
    for note in found.notes:
        log.info(note)
    fasta = found.sources[0]
    records = list(islice(iter_fasta(fasta), max_sequences))
    if not records:
        raise SeqexplainError(f"{fasta}: no sequences")
    enc = bundle.encode([r[2] for r in records], ids=[r[0] for r in records], source=str(fasta))
    with atomic_dir(out, force=force) as tmp:
        table = write_filters(bundle, enc.onehot, tmp, resolve_target(bundle, target),
                              database, release, taxon, logos=logos)
    return FiltersResult(out, table)
