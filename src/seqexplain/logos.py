"""Sequence logos of attributions and motifs, drawn with logomaker on matplotlib.

Every function returns a matplotlib Figure (or draws into the Axes it is given), so the same
calls work in notebooks, scripts and the command line.

Coordinates: the x axis is in **sequence coordinates**, 1-based — the first base of the
record as it appears in the FASTA is position 1, whatever padding or cropping the model's fixed
input length needed (``offsets`` in the attributions file map input rows to bases). Padding
rows are never drawn.

Colours: DNA/RNA A green, C blue, G orange, T/U red. Protein by side-chain chemistry (the
WebLogo "chemistry" grouping): acidic D E red; basic K R H blue; polar G S T Y C green;
amide Q N purple; hydrophobic A V L I P W F M black.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import re
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import logomaker
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from .alphabets import alphabet_for
from .attributions import Attributions
from .errors import SeqexplainError
from .fasta import genomic_interval, genomic_strand

# matplotlib reports every font fallback through logging; logos use a bundled font anyway.
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

#: Font of the letters: DejaVu Sans ships with matplotlib, so it exists on every machine.
FONT = "DejaVu Sans"

NUCLEOTIDE_COLORS = {"A": "#109648", "C": "#255C99", "G": "#F7B32B", "T": "#D62839",
                     "U": "#D62839"}
_CHEMISTRY = {"#D62839": "DE", "#255C99": "KRH", "#109648": "GSTYC", "#7B2CBF": "QN",
              "#222222": "AVLIPWFM"}
PROTEIN_COLORS = {aa: color for color, group in _CHEMISTRY.items() for aa in group}


def colors_for(letters: str) -> dict[str, str]:
    """Colour of every letter of an alphabet (nucleotide or protein scheme)."""
    scheme = NUCLEOTIDE_COLORS if set(letters) <= set(NUCLEOTIDE_COLORS) else PROTEIN_COLORS
    return {c: scheme.get(c, "#777777") for c in letters}


# -- one sequence's attributions ------------------------------------------------------------
@dataclass
class SequenceScores:
    """Everything drawn for one sequence, cut from an attributions file (see
    :func:`sequence_scores`). Arrays are (length, channels) in input-row order."""

    id: str
    letters: str
    onehot: np.ndarray
    scores: dict[str, np.ndarray]          # method → contribution of the observed base
    offset: int = 0                        # sequence coordinate (0-based) of row 0
    length: int | None = None              # bases in the record (None: all rows)
    ism: np.ndarray | None = None          # centred ISM, every substitution
    target: str = ""
    logit: float | None = None
    prediction: float | None = None
    highlights: list[tuple[int, int, str]] = field(default_factory=list)  # 0-based, half-open

    @property
    def rows(self) -> tuple[int, int]:
        """Input rows that hold bases of the record (padding excluded)."""
        n = len(self.onehot)
        if self.length is None:
            return 0, n
        return max(0, -self.offset), min(n, self.length - self.offset)

    def coordinate(self, row: int) -> int:
        """1-based sequence coordinate of input row ``row``."""
        return row + self.offset + 1

    def title(self) -> str:
        parts = [self.id]
        if self.target:
            parts.append(f"target {self.target}")
        if self.logit is not None:
            parts.append(f"logit {self.logit:.3g}")
        if self.prediction is not None:
            parts.append(f"prediction {self.prediction:.3g}")
        return " · ".join(parts)


_AUTO = re.compile(r"auto(?::(\d+))?$")
_RANGE = re.compile(r"(-?\d+)[:\-](-?\d+)$")

#: Width of the ``auto`` zoom when none is given.
AUTO_WIDTH = 40


def check_window(window: str | None) -> str:
    """The normalised window spec; an error for one that can never be valid."""
    spec = (window or "full").strip().lower()
    if spec in ("full", "all") or _AUTO.match(spec):
        if (m := _AUTO.match(spec)) and m.group(1) and int(m.group(1)) < 1:
            raise SeqexplainError(f"window {window!r}: the width must be at least 1")
        return spec
    if m := _RANGE.match(spec):
        if int(m.group(1)) > int(m.group(2)):
            raise SeqexplainError(f"window {window!r}: START must not exceed END")
        return spec
    raise SeqexplainError(f"window {window!r}: use full, START:END (1-based, inclusive), "
                          "auto or auto:WIDTH")


def window_rows(seq: SequenceScores, window: str | None, method: str | None = None
                ) -> tuple[int, int]:
    """Input rows ``[lo, hi)`` shown for ``window``: ``None``/``"full"`` — the whole record;
    ``"START:END"`` — 1-based inclusive sequence coordinates; ``"auto"`` or ``"auto:W"`` — the
    W-wide stretch (default 40) with the largest total |attribution| of ``method`` (plain
    ``"auto"`` shows sequences of up to 100 positions whole)."""
    lo, hi = seq.rows
    spec = check_window(window)
    if spec in ("full", "all"):
        return lo, hi
    if m := _AUTO.match(spec):
        if not m.group(1) and hi - lo <= 2.5 * AUTO_WIDTH:
            return lo, hi  # short enough to read whole
        width = min(int(m.group(1)) if m.group(1) else AUTO_WIDTH, hi - lo)
        key = method or next(iter(seq.scores))
        mass = np.abs(seq.scores[key][lo:hi]).sum(axis=1)
        sums = np.convolve(mass, np.ones(width), mode="valid")
        start = lo + int(np.argmax(sums))
        return start, start + width
    if m := _RANGE.match(spec):
        start, end = int(m.group(1)), int(m.group(2))
        first, last = seq.coordinate(lo), seq.coordinate(hi - 1)
        if start < first or end > last:
            raise SeqexplainError(f"{seq.id}: window {window!r} lies outside the sequence "
                                  f"({first}:{last})")
        return start - 1 - seq.offset, end - seq.offset


# -- drawing primitives ---------------------------------------------------------------------
#: Letters shorter than this fraction of a logo's value range are not drawn (under a pixel).
MIN_HEIGHT = 0.002


def draw_logo(ax, matrix: np.ndarray, letters: str, start: int = 1, colors=None,
              ylabel: str | None = None):
    """Draw ``matrix`` (positions × letters) as a logo on ``ax``; column heights are the
    values, negative ones below the axis (letters flipped). Positions are numbered from
    ``start``. Letters shorter than :data:`MIN_HEIGHT` of the value range are left out.
    Returns the logomaker Logo."""
    matrix = np.asarray(matrix, dtype=float)
    low, high = min(matrix.sum(1, where=matrix < 0).min(), 0), max(
        matrix.sum(1, where=matrix > 0).max(), 0)
    index = np.arange(start, start + len(matrix))
    # letters under MIN_HEIGHT of the axis range are invisible; skipping them saves ~1/3 of
    # the drawing time of a typical attribution map
    shown = np.where(np.abs(matrix) >= MIN_HEIGHT * (high - low), matrix, 0.0)
    df = pd.DataFrame(shown, columns=list(letters), index=index)
    with warnings.catch_warnings():  # an all-zero matrix: logomaker warns about flat ylims
        warnings.filterwarnings("ignore", message="Attempting to set identical")
        logo = logomaker.Logo(df, ax=ax, color_scheme=colors or colors_for(letters),
                              font_name=FONT, flip_below=True, baseline_width=0.5,
                              show_spines=False)
    ax.set_xlim(start - 0.5, start + len(matrix) - 0.5)
    pad = 0.05 * (high - low) or 1.0
    ax.set_ylim(low - (pad if low < 0 else 0), high + pad)
    ax.spines[["left", "bottom"]].set_visible(True)
    if ylabel:
        ax.set_ylabel(ylabel)
    _integer_ticks(ax)
    return logo


def plot_logo(array: np.ndarray, ax=None, alphabet=None, start: int = 1,
              ylabel: str | None = None):
    """Draw an array (L, C) as a logo — column heights are the values, negative ones below the
    axis — and return the Axes.

    Parameters
    ----------
    array : shape=(L, C): attributions (e.g. observed-base scores ``scores * X``), a
        contribution weight matrix, or any matrix of letter heights.
    ax : matplotlib Axes to draw on; ``None``: a new figure sized to the logo.
    alphabet : ``"dna"``, ``"rna"``, ``"protein"`` or an :class:`~seqexplain.Alphabet`;
        default DNA for 4 channels, protein for 20.
    start : number of the first position on the x axis.
    ylabel : the y axis label.

    Returns
    -------
    matplotlib.axes.Axes
    """
    array = np.asarray(array, dtype=float)
    if array.ndim != 2 or not len(array):
        raise SeqexplainError(f"logo array has shape {array.shape}; expected (L, C)")
    letters = alphabet_for(array.shape[1], alphabet).letters
    if ax is None:
        _, ax = plt.subplots(figsize=(float(np.clip(0.12 * len(array) + 1.2, 2.5, 30.0)), 1.8),
                             layout="constrained")
    draw_logo(ax, array, letters, start=start, ylabel=ylabel)
    return ax


def plot_attributions(X: np.ndarray, scores, alphabet=None, titles=None, start: int = 1,
                      width: float | None = None):
    """Observed-base logos of one-hot sequences: one row per sequence (and per method).

    Parameters
    ----------
    X : one-hot, shape=(L, C) or (n, L, C).
    scores : X's shape: hypothetical or observed scores (what ``sx.attribute`` returns); the
        letter drawn at each position is the observed base, its height ``scores * X`` summed
        over channels. Or a dict ``{label: scores}`` for one row per label under each
        sequence.
    alphabet : as :func:`plot_logo`.
    titles : one title per sequence (default ``#1``, ``#2``, …).
    start : number of the first position on the x axis.
    width : figure width in inches (default: from the length).

    Returns
    -------
    matplotlib.figure.Figure, its logo Axes labelled ``logo:<i>`` or ``logo:<i>:<label>``
    (``Axes.get_label``).
    """
    X = np.asarray(X)
    if X.ndim not in (2, 3):
        raise SeqexplainError(f"X has shape {X.shape}; expected (L, C) or (n, L, C)")
    batch = X[None] if X.ndim == 2 else X
    named = scores if isinstance(scores, dict) else {"": scores}
    maps = {}
    for label, value in named.items():
        value = np.asarray(value, dtype=float)
        if value.shape != X.shape:
            raise SeqexplainError(f"scores{f' {label!r}' if label else ''} have shape "
                                  f"{value.shape}; expected X's {X.shape}")
        maps[label] = value[None] if X.ndim == 2 else value
    letters = alphabet_for(batch.shape[2], alphabet).letters
    titles = list(titles) if titles is not None else [f"#{i + 1}" for i in range(len(batch))]
    if len(titles) != len(batch):
        raise SeqexplainError(f"{len(titles)} titles for {len(batch)} sequences")
    rows = [(i, label) for i in range(len(batch)) for label in maps]
    length = batch.shape[1]
    width = width or float(np.clip(0.1 * length + 1.5, 6.0, 30.0))
    fig, axes = plt.subplots(len(rows), 1, figsize=(width, 1.5 * len(rows) + 0.5),
                             squeeze=False, layout="constrained")
    for ax, (i, label) in zip(axes[:, 0], rows):
        draw_logo(ax, maps[label][i] * batch[i], letters, start=start, ylabel=label or None)
        ax.set_label(f"logo:{i}" + (f":{label}" if label else ""))
        if label == next(iter(maps)):
            ax.set_title(titles[i], fontsize=9, loc="left")
    axes[-1, 0].set_xlabel("position")
    return fig


def _integer_ticks(ax) -> None:
    ax.xaxis.set_major_locator(MaxNLocator(nbins=12, integer=True))


def draw_ism_heatmap(ax, ism: np.ndarray, letters: str, onehot: np.ndarray | None = None,
                     start: int = 1, label: str = "ISM Δ"):
    """Substitution × position heatmap of centred ISM scores, diverging colours centred on 0;
    the observed base is marked with a dot. Returns the image."""
    ism = np.asarray(ism, dtype=float)
    lim = float(np.abs(ism).max()) or 1.0
    image = ax.imshow(ism.T, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim,
                      interpolation="nearest", origin="upper",
                      extent=(start - 0.5, start + len(ism) - 0.5, len(letters) - 0.5, -0.5))
    ax.set_yticks(range(len(letters)), list(letters), fontsize=7 if len(letters) > 4 else 9)
    if onehot is not None:
        pos, ch = np.nonzero(np.asarray(onehot) == 1)
        ax.scatter(pos + start, ch, s=4, c="black", marker="o", linewidths=0)
    cax = ax.inset_axes([1.005, 0.0, 0.006, 1.0])
    bar = ax.figure.colorbar(image, cax=cax)
    bar.ax.tick_params(labelsize=7)
    bar.set_label(label, fontsize=8)
    _integer_ticks(ax)
    return image


def _draw_overview(ax, seq: SequenceScores, method: str, lo: int, hi: int) -> None:
    """Compact full-length track (total attribution per position) with the zoom shaded."""
    a, b = seq.rows
    x = np.arange(seq.coordinate(a), seq.coordinate(b))
    total = seq.scores[method][a:b].sum(axis=1)
    ax.fill_between(x, total, where=total >= 0, color="#444444", step="mid", lw=0)
    ax.fill_between(x, total, where=total < 0, color="#bb4444", step="mid", lw=0)
    ax.axhline(0, color="black", lw=0.4)
    ax.axvspan(seq.coordinate(lo) - 0.5, seq.coordinate(hi - 1) + 0.5, color="#ffd54f",
               alpha=0.45, lw=0)
    ax.set_xlim(x[0] - 0.5, x[-1] + 0.5)
    ax.set_yticks([])
    ax.set_ylabel(method, fontsize=7)
    ax.tick_params(labelsize=7)
    for s in ("top", "right", "left"):
        ax.spines[s].set_visible(False)


def _draw_highlights(ax, seq: SequenceScores, lo: int, hi: int, labels: bool) -> None:
    first, last = seq.coordinate(lo), seq.coordinate(hi - 1)
    for start, end, name in seq.highlights:  # 0-based half-open → 1-based inclusive
        a, b = max(start + 1, first), min(end, last)
        if a > b:
            continue
        ax.axvspan(a - 0.5, b + 0.5, color="#7fb3ff", alpha=0.25, lw=0, zorder=-1)
        if labels and name:
            ax.text((a + b) / 2, 1.0, name, transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize=7, color="#1f4e99")


# -- figures --------------------------------------------------------------------------------
def plot_attribution(seq: SequenceScores, methods=None, window: str | None = "full",
                     ism_heatmap: bool = True, width: float | None = None):
    """Figure for one sequence: one logo row per method (letter height = contribution of
    the observed base), an ISM heatmap row when centred ISM scores are present, and — when
    the window is a zoom — a compact full-length track above showing where it sits. The axes
    are labelled ``overview``, ``logo:<method>`` and ``ism-heatmap`` (``Axes.get_label``)."""
    methods = list(methods or seq.scores)
    missing = [m for m in methods if m not in seq.scores]
    if missing:
        raise SeqexplainError(f"{seq.id}: no {missing[0]!r} scores "
                              f"(methods: {', '.join(seq.scores)})")
    lo, hi = window_rows(seq, window, methods[0])
    zoomed = (lo, hi) != seq.rows
    heat = ism_heatmap and seq.ism is not None
    heights = ([0.55] if zoomed else []) + [1.5] * len(methods)
    if heat:
        heights.append(max(0.9, 0.16 * len(seq.letters)))
    n = hi - lo
    width = width or float(np.clip(0.1 * n + 1.5, 6.0, 30.0))
    fig, axes = plt.subplots(len(heights), 1, figsize=(width, sum(heights) + 0.7),
                             gridspec_kw={"height_ratios": heights}, squeeze=False,
                             layout="constrained")
    axes = list(axes[:, 0])
    if zoomed:
        ov = axes.pop(0)
        ov.set_label("overview")
        _draw_overview(ov, seq, methods[0], lo, hi)
        _draw_highlights(ov, seq, *seq.rows, labels=False)
    start = seq.coordinate(lo)
    for ax, m in zip(axes, methods):
        draw_logo(ax, seq.scores[m][lo:hi], seq.letters, start=start, ylabel=m)
        ax.set_label(f"logo:{m}")
        _draw_highlights(ax, seq, lo, hi, labels=ax is axes[0])
    if heat:
        draw_ism_heatmap(axes[len(methods)], seq.ism[lo:hi], seq.letters,
                         onehot=seq.onehot[lo:hi], start=start)
        axes[len(methods)].set_xlim(start - 0.5, start + n - 0.5)
        axes[len(methods)].set_label("ism-heatmap")
    axes[-1].set_xlabel("position in sequence")
    fig.suptitle(seq.title(), fontsize=10, x=0.01, ha="left")
    return fig


def plot_pwm(pfm: np.ndarray, letters: str, ax=None, title: str | None = None):
    """Logo of a position frequency/probability matrix in bits (information content, uniform
    background: letter height = p × (log2 C − entropy))."""
    probs = np.asarray(pfm, dtype=float)
    probs = probs / np.clip(probs.sum(axis=1, keepdims=True), 1e-12, None)
    df = pd.DataFrame(probs, columns=list(letters))
    bits = logomaker.transform_matrix(df, from_type="probability", to_type="information")
    fig, ax = _motif_axes(ax, len(probs))
    draw_logo(ax, bits.to_numpy(), letters, ylabel="bits")
    ax.set_ylim(0, np.log2(len(letters)))
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def plot_cwm(cwm: np.ndarray, letters: str, ax=None, title: str | None = None,
             ylabel: str = "contribution"):
    """Logo of a contribution weight matrix (mean contributions; signed)."""
    fig, ax = _motif_axes(ax, len(cwm))
    draw_logo(ax, cwm, letters, ylabel=ylabel)
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def _motif_axes(ax, width: int):
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=(max(2.5, 0.3 * width + 0.8), 1.8), layout="constrained")
    return fig, ax


# -- from an attributions file ---------------------------------------------------------------
def rank_by_output(attributions: Attributions) -> np.ndarray:
    """Sequence indices, highest explained-target logit first."""
    return np.argsort(-attributions.logits[:, attributions.target], kind="stable")


def select_indices(attributions: Attributions, ids=None, top: int | None = None,
                   source: str = "") -> list:
    """Indices of the requested ``ids`` (in the order given), or the ``top`` K by output."""
    all_ids = attributions.ids.tolist()
    if ids:
        where = {}
        for i, name in enumerate(all_ids):
            where.setdefault(name, i)
        unknown = [i for i in ids if i not in where]
        if unknown:
            shown = ", ".join(all_ids[:3]) + (", …" if len(all_ids) > 3 else "")
            raise SeqexplainError(f"{source or attributions.source}: no sequence with id "
                                  f"{unknown[0]!r} ({len(all_ids)} ids, e.g. {shown})")
        return [where[i] for i in ids]
    order = rank_by_output(attributions)
    return [int(i) for i in order[: (len(order) if top is None else top)]]


def sequence_scores(attributions: Attributions, index: int, methods=None,
                    highlights=None) -> SequenceScores:
    """Cut sequence ``index`` out of :class:`~seqexplain.attributions.Attributions`
    (``methods``: default every method there)."""
    methods = list(methods or attributions.methods)
    for m in methods:
        attributions.require(m, hypothetical=False)
    offsets, lengths = attributions.offsets, attributions.lengths
    sid = str(attributions.ids[index])
    target = attributions.target
    seq = SequenceScores(
        id=sid, letters=attributions.letters, onehot=np.asarray(attributions.onehot[index]),
        scores={m: np.asarray(attributions.scores(m)[index]) for m in methods},
        offset=int(offsets[index]) if offsets is not None else 0,
        length=int(lengths[index]) if lengths is not None else None,
        ism=(np.asarray(attributions.hypothetical("ism")[index])
             if "ism" in methods else None),
        target=attributions.target_name,
        logit=float(attributions.logits[index][target]),
        prediction=float(attributions.predictions[index][target]))
    if highlights is not None:
        seq.highlights = highlights.get(sid, [])
    return seq


def read_highlights(path, ids) -> dict[str, list[tuple[int, int, str]]]:
    """Intervals to highlight, from a BED or TSV file (``id start end [name]``, 0-based
    half-open). The first column is a sequence id (sequence coordinates) — or, for records
    named ``chrom:start-end``, a chromosome (genome coordinates, converted)."""
    path = Path(path)
    try:
        table = pd.read_csv(path, sep="\t", header=None, comment="#", dtype=str)
    except FileNotFoundError:
        raise SeqexplainError(f"{path}: no such file") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise SeqexplainError(f"{path}: not a BED/TSV file ({exc})") from None
    if table.shape[1] < 3:
        raise SeqexplainError(f"{path}: need at least 3 tab-separated columns "
                              "(id, start, end)")
    ids = [str(i) for i in ids]
    known = set(ids)
    genomic: dict[str, list[tuple[str, int, int]]] = {}
    for sid in ids:
        if interval := genomic_interval(sid):
            chrom, s, e = interval
            genomic.setdefault(chrom, []).append((sid, s, e))
    out: dict[str, list[tuple[int, int, str]]] = {}
    for line, row in enumerate(table.itertuples(index=False), start=1):
        name = str(row[3]) if table.shape[1] > 3 and pd.notna(row[3]) else ""
        try:
            start, end = int(row[1]), int(row[2])
        except ValueError:
            if line == 1:  # a header line
                continue
            raise SeqexplainError(f"{path}, line {line}: start/end must be integers") from None
        if end <= start:
            raise SeqexplainError(f"{path}, line {line}: end must be greater than start")
        chrom = str(row[0])
        if chrom in known:
            out.setdefault(chrom, []).append((start, end, name))
        for sid, s, e in genomic.get(chrom, []):
            if start < e and end > s:  # a minus-strand record counts from the interval's end
                out.setdefault(sid, []).append(
                    (e - end, e - start, name) if genomic_strand(sid) == "-"
                    else (start - s, end - s, name))
    return out


def safe_name(name: str, taken: set[str]) -> str:
    """File-name-safe version of a record id, unique within ``taken`` (which it updates)."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "sequence"
    base = base[:120]
    stem, k = base, 2
    while stem.lower() in taken:
        stem = f"{base}-{k}"
        k += 1
    taken.add(stem.lower())
    return stem


def save_figure(fig, path, dpi: int = 100) -> None:
    fig.savefig(path, dpi=dpi, metadata=_metadata(path))
    plt.close(fig)


def _metadata(path) -> dict | None:
    # reproducible files: no creation dates in SVG/PDF
    suffix = str(path).rsplit(".", 1)[-1].lower()
    if suffix == "svg":
        return {"Date": None}
    if suffix == "pdf":
        return {"CreationDate": None}
    return None


def _render_task(task) -> str:
    seq, methods, window, path, dpi = task
    save_figure(plot_attribution(seq, methods, window), path, dpi)
    return path


def render_logos(seqs: list[SequenceScores], out_dir, fmt: str = "png", methods=None,
                 window: str | None = "full", dpi: int = 100, jobs: int | None = None,
                 names: list[str] | None = None) -> list:
    """Write one figure per sequence into ``out_dir`` (named by sanitised id) and return the
    paths. Figures are drawn in ``jobs`` parallel processes (default: all cores); windows are
    checked for every sequence before anything is drawn."""
    out_dir = Path(out_dir)
    for seq in seqs:  # fail on a bad window before spending time drawing
        window_rows(seq, window, (methods or [None])[0])
    taken: set[str] = set()
    names = names or [safe_name(s.id, taken) for s in seqs]
    tasks = [(s, methods, window, str(out_dir / f"{n}.{fmt}"), dpi)
             for s, n in zip(seqs, names)]
    return [Path(p) for p in _parallel_map(_render_task, tasks, jobs)]


def _headless_worker() -> None:
    """A spawned drawing process draws off-screen (its own backend, not the user's)."""
    matplotlib.use("Agg")


def _parallel_map(func, tasks: list, jobs: int | None = None) -> list:
    """``[func(t) for t in tasks]`` in up to ``jobs`` processes (default: all cores); in this
    process when there are fewer than 4 tasks. Processes are spawned: safe after TensorFlow
    has started its threads (fork is not)."""
    jobs = min(jobs or os.cpu_count() or 1, len(tasks))
    if jobs <= 1 or len(tasks) < 4:
        return [func(t) for t in tasks]
    with ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn"),
                             initializer=_headless_worker) as pool:
        return list(pool.map(func, tasks, chunksize=max(1, len(tasks) // (4 * jobs))))


def logo_hypothetical(methods) -> list[str]:
    """The methods whose hypothetical scores logos draw (the ISM heatmap): what
    :meth:`Attributions.read <seqexplain.attributions.Attributions.read>` needs to read."""
    return [m for m in methods if m == "ism"]


FORMATS = ("png", "svg", "pdf")


def write_logos(attributions: Attributions, out_dir, methods=None, ids=None,
                top: int | None = 10, window: str | None = "auto", highlight=None,
                fmt: str = "png", dpi: int = 100, jobs: int | None = None,
                source: str = "") -> pd.DataFrame:
    """Draw the figures of the requested sequences (``ids``, or the ``top`` K by explained
    output) into ``out_dir`` — one ``<id>.<fmt>`` each — plus ``index.tsv`` (id, file, logit,
    prediction, shown window). Returns that table. ``source``: names the input in errors
    [``attributions.source``]."""
    if fmt not in FORMATS:
        raise SeqexplainError(f"format {fmt!r}: choose one of {', '.join(FORMATS)}")
    attributions = Attributions(attributions.arrays, source=source or attributions.source)
    methods = list(methods or attributions.methods)
    for m in methods:
        attributions.require(m, hypothetical=m in logo_hypothetical(methods))
    index = select_indices(attributions, ids=ids, top=top)
    spans = read_highlights(highlight, attributions.ids) if highlight else None
    seqs = [sequence_scores(attributions, i, methods, spans) for i in index]
    out_dir = Path(out_dir)
    taken: set[str] = set()
    names = [safe_name(s.id, taken) for s in seqs]
    paths = render_logos(seqs, out_dir, fmt, methods, window, dpi, jobs, names)
    rows = []
    for s, p in zip(seqs, paths):
        lo, hi = window_rows(s, window, methods[0])
        rows.append({"id": s.id, "file": p.name, "logit": s.logit,
                     "prediction": s.prediction,
                     "window": f"{s.coordinate(lo)}:{s.coordinate(hi - 1)}"})
    table = pd.DataFrame(rows, columns=["id", "file", "logit", "prediction", "window"])
    table.to_csv(out_dir / "index.tsv", sep="\t", index=False, float_format="%.6g")
    return table


def draw_logos(attributions, out, methods=None, *, target=None, ids=None,
               top: int | None = 10, window: str | None = "auto", highlight=None,
               fmt: str = "png", dpi: int = 100, jobs: int | None = None,
               force: bool = False) -> pd.DataFrame:
    """:func:`write_logos` from a scores file (``.npz``/``.h5``) into the new folder ``out``
    (replaced only with ``force``; nothing is left on error) — what ``seqexplain logo``
    calls. ``methods``: names or aliases of the method table (a list or a comma-separated
    string) [every method in the file]; ``target``: the target of a file of several; the
    other arguments as in :func:`write_logos`. Returns the index table."""
    from .attribution.registry import resolve_methods
    from .outputs import atomic_dir, check_writable

    check_writable(out, force, kind="folder")
    check_window(window)
    chosen = list(resolve_methods(methods) if methods else Attributions.methods_of(attributions))
    # only the members the logos draw: the chosen methods' scores, ISM's hypothetical scores
    data = Attributions.read(attributions, chosen, hypothetical=logo_hypothetical(chosen),
                             delta=False, target=target)
    with atomic_dir(out, force=force) as tmp:
        return write_logos(data, tmp, chosen, ids, top, window, highlight, fmt, dpi, jobs,
                           source=str(attributions))


def _matrix_task(task) -> str:
    kind, matrix, letters, title, path, dpi = task
    fig = plot_pwm(matrix, letters, title=title) if kind == "pwm" else plot_cwm(
        matrix, letters, title=title)
    save_figure(fig, path, dpi)
    return path


def render_matrix_logos(items, dpi: int = 100, jobs: int | None = None) -> None:
    """Draw motif logos — ``items`` of (``"pwm"``/``"cwm"``, matrix, letters, title, path) —
    in parallel processes (spawned; safe after TensorFlow started)."""
    _parallel_map(_matrix_task, [(*item, dpi) for item in items], jobs)


def plot_allele_pair(ref_map: np.ndarray, alt_map: np.ndarray, letters: str,
                     ref_span: tuple[int, int], alt_span: tuple[int, int],
                     flank: int = 30, title: str | None = None):
    """Attribution logos of a variant's two alleles, one above the other, around the variant,
    with the variant's positions shaded.

    Parameters
    ----------
    ref_map, alt_map : attribution maps (length, C) of the reference and alternative windows.
    ref_span, alt_span : ``(start, end)`` of each allele in its window (0-based, half-open).
    flank : positions shown on each side of the variant.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = plt.subplots(2, 1, figsize=(max(6.0, (2 * flank + 1) * 0.16), 4.2))
    high = max(np.abs(ref_map).max(), np.abs(alt_map).max(), 1e-12)
    for ax, matrix, (lo, hi), name in ((axes[0], ref_map, ref_span, "ref"),
                                       (axes[1], alt_map, alt_span, "alt")):
        start = max(0, lo - flank)
        stop = min(len(matrix), max(hi, lo + 1) + flank)
        draw_logo(ax, matrix[start:stop], letters, start=start + 1, ylabel=name)
        ax.axvspan(lo + 0.5, max(hi, lo + 1) + 0.5, color="gold", alpha=0.35, zorder=0)
        ax.set_ylim(-1.05 * high, 1.05 * high)
    axes[1].set_xlabel("position in the window")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_before_after(before_map: np.ndarray, after_map: np.ndarray, letters: str,
                      positions, title: str | None = None, flank: int | None = 40):
    """Attribution logos of a sequence before and after design, one above the other on one
    scale, the edited ``positions`` (0-based; an ``(start, end)`` pair for a motif written
    there) shaded.

    Parameters
    ----------
    before_map, after_map : observed-base attribution maps (length, C).
    positions : edited positions: ints, or ``(start, end)`` half-open stretches.
    flank : positions shown on each side of the edits (``None``: the whole sequence).

    Returns
    -------
    matplotlib.figure.Figure
    """
    spans = [(p, p + 1) if np.isscalar(p) else tuple(p) for p in positions]
    start, stop = 0, len(before_map)
    if flank is not None and spans:
        start = max(0, min(lo for lo, _ in spans) - flank)
        stop = min(stop, max(hi for _, hi in spans) + flank)
    fig, axes = plt.subplots(2, 1, figsize=(max(6.0, min((stop - start) * 0.12, 30.0)), 4.2))
    high = max(np.abs(before_map[start:stop]).max(), np.abs(after_map[start:stop]).max(),
               1e-12)
    for ax, matrix, name in ((axes[0], before_map, "before"), (axes[1], after_map, "after")):
        draw_logo(ax, matrix[start:stop], letters, start=start + 1, ylabel=name)
        for lo, hi in spans:
            ax.axvspan(lo + 0.5, hi + 0.5, color="gold", alpha=0.35, zorder=0)
        ax.set_ylim(-1.05 * high, 1.05 * high)
    axes[1].set_xlabel("position")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
