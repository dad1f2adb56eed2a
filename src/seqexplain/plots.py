"""Figures that are not logos: training curves (more to come with the visual layer).

Every function returns the Figure; importing this module leaves matplotlib's backend as the
user set it (the command line draws off-screen: it sets ``MPLBACKEND=Agg``)."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

# history column → label of the main metric panel
_CURVE_METRIC = {"binary": ("auroc", "AUROC"), "multilabel": ("auroc", "AUROC"),
                 "multiclass": ("accuracy", "accuracy"), "regression": ("mae", "MAE")}


def plot_training_curves(history: pd.DataFrame, task: str):
    """Loss and the main metric per epoch, training vs validation; the best epoch (lowest
    validation loss) is marked. ``history`` has ``epoch``, ``loss``, ``val_loss`` and metric
    columns as Keras logs them."""
    metric, label = _CURVE_METRIC[task]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), constrained_layout=True)
    best = int(history["val_loss"].idxmin())
    for ax, key, title in ((axes[0], "loss", "loss"), (axes[1], metric, label)):
        if key in history:
            ax.plot(history["epoch"], history[key], label="training", color="#1f77b4")
        if f"val_{key}" in history:
            ax.plot(history["epoch"], history[f"val_{key}"], label="validation",
                    color="#d62728")
        ax.axvline(history["epoch"].iloc[best], color="grey", ls=":", lw=1, label="best epoch")
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].legend(frameon=False, fontsize=8)
    return fig


# -- motif maps -------------------------------------------------------------------------------
def motif_colors(names) -> dict:
    """A distinct colour per motif name (tab10, then tab20)."""
    names = list(dict.fromkeys(names))
    cmap = matplotlib.colormaps["tab10" if len(names) <= 10 else "tab20"]
    return {n: cmap(i % cmap.N) for i, n in enumerate(names)}


def plot_motif_map(track, instances: pd.DataFrame, title: str = "", start: int = 1,
                   colors: dict | None = None):
    """Per-position attribution of one sequence (``track``, in sequence order from coordinate
    ``start``) with each motif instance drawn as a coloured box labelled by motif.
    ``instances``: start, end (0-based, half-open, same coordinates as the track), strand,
    label."""
    track = np.asarray(track, dtype=float)
    x = np.arange(start, start + len(track))
    fig, ax = plt.subplots(figsize=(float(np.clip(0.06 * len(track) + 2, 6, 24)), 2.4),
                           layout="constrained")
    ax.bar(x, track, width=1.0, color=np.where(track >= 0, "#444444", "#bb4444"), lw=0)
    ax.axhline(0, color="black", lw=0.5)
    top = float(max(track.max(), 0)) or 1.0
    low = float(min(track.min(), 0))
    colors = colors or motif_colors(instances["label"]) if len(instances) else {}
    for k, row in enumerate(instances.itertuples(index=False)):
        a, b = row.start + start - 0.5, row.end + start - 0.5
        color = colors.get(row.label, "#1f77b4")
        ax.add_patch(Rectangle((a, low - 0.05 * (top - low)), b - a, 1.1 * (top - low),
                               facecolor=color, alpha=0.18, edgecolor=color, lw=1.2))
        ax.text((a + b) / 2, top * (1.12 + 0.14 * (k % 2)), f"{row.label} {row.strand}",
                ha="center", va="bottom", fontsize=7, color=color)
    ax.set_xlim(x[0] - 0.5, x[-1] + 0.5)
    ax.set_ylim(low - 0.1 * (top - low), top * 1.45)
    ax.set_xlabel("position in sequence")
    ax.set_ylabel("attribution")
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title, fontsize=9, loc="left")
    return fig


def plot_motif_positions(instances: pd.DataFrame, labels: list[str], length: int):
    """Where each motif's instances sit along the sequences: a histogram of instance centres
    per motif (one row each), in 1-based sequence coordinates."""
    n = max(len(labels), 1)
    fig, axes = plt.subplots(n, 1, figsize=(7, 0.9 * n + 0.8), sharex=True, squeeze=False,
                             layout="constrained")
    colors = motif_colors(labels)
    bins = np.linspace(0.5, length + 0.5, min(length, 50) + 1)
    for ax, label in zip(axes[:, 0], labels):
        part = instances[instances["label"] == label]
        centres = (part["start"] + part["end"]) / 2 + 0.5
        ax.hist(centres, bins=bins, color=colors[label])
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    axes[-1, 0].set_xlabel("instance centre (position in sequence)")
    return fig


def plot_cooccurrence(instances: pd.DataFrame, labels: list[str], n_sequences: int):
    """Sequences holding both motifs (counts; the diagonal: sequences holding the motif)."""
    k = len(labels)
    has = np.zeros((k, n_sequences), bool)
    index = {label: i for i, label in enumerate(labels)}
    for label, seq in zip(instances["label"], instances["seq"]):
        has[index[label], seq] = True
    counts = has.astype(int) @ has.T.astype(int)
    # a floor on the size: with one or two motifs the layout had no room for the axes
    fig, ax = plt.subplots(figsize=(max(3.0, 1.0 + 0.55 * k), max(2.4, 0.6 + 0.5 * k)),
                           layout="constrained")
    image = ax.imshow(counts, cmap="Blues")
    ax.set_xticks(range(k), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), labels, fontsize=8)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if counts[i, j] > counts.max() / 2 else "black")
    fig.colorbar(image, ax=ax, label="sequences", shrink=0.8)
    ax.set_title("motif co-occurrence", fontsize=9)
    return fig


def plot_marginal(marginal: pd.DataFrame):
    """Forest plot of :func:`seqexplain.grammar.marginal_table`: each motif and strand's mean
    effect with its 95 % CI, and its shuffled control (open marker); significant rows bold."""
    rows = marginal.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    ax.errorbar(rows["effect"], y, xerr=[rows["effect"] - rows["ci_low"],
                                         rows["ci_high"] - rows["effect"]],
                fmt="o", color="#1f4e79", capsize=3, label="motif")
    ax.plot(rows["control_effect"], y, "o", mfc="none", color="#999999",
            label="shuffled control")
    ax.axvline(0, color="#666666", lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{m} ({s})" for m, s in zip(rows["motif"], rows["strand"])])
    for label, sig in zip(ax.get_yticklabels(), rows["significant"]):
        label.set_fontweight("bold" if sig else "normal")
    ax.set_xlabel("mean change of the output (95 % CI)")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def plot_spacing(spacing: pd.DataFrame):
    """Cooperativity against signed spacing, a panel per pair, a line per orientation."""
    pairs = list(dict.fromkeys(zip(spacing["motif_a"], spacing["motif_b"])))
    fig, axes = plt.subplots(len(pairs), 1, figsize=(7, 2.6 * len(pairs)), squeeze=False)
    for ax, (a, b) in zip(axes[:, 0], pairs):
        rows = spacing[(spacing["motif_a"] == a) & (spacing["motif_b"] == b)]
        for orientation, part in rows.groupby("orientation", sort=False):
            # every spacing of the range, NaN where the motifs would overlap: the line breaks
            # there instead of joining the two sides
            part = part.set_index("spacing").sort_index()
            part = part.reindex(range(int(part.index.min()), int(part.index.max()) + 1))
            part = part.reset_index()
            ax.plot(part["spacing"], part["cooperativity"], ".-", lw=1, label=orientation)
            ax.fill_between(part["spacing"], part["ci_low"].astype(float),
                            part["ci_high"].astype(float), alpha=0.15)
        ax.axhline(0, color="#666666", lw=0.8)
        ax.set_title(f"{a} + {b}", fontsize=10)
        ax.set_ylabel("cooperativity")
        ax.legend(fontsize=8, frameon=False, ncol=4)
    axes[-1, 0].set_xlabel("spacing (start of b − start of a, bp)")
    fig.tight_layout()
    return fig


def plot_dosage(dosage: pd.DataFrame):
    """Mean effect (95 % CI) against the number of copies, a line per motif."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for motif, part in dosage.groupby("motif", sort=False):
        ax.errorbar(part["copies"], part["effect"],
                    yerr=[part["effect"] - part["ci_low"], part["ci_high"] - part["effect"]],
                    fmt="o-", capsize=3, label=motif)
    ax.set_xlabel("copies")
    ax.set_ylabel("mean change of the output")
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def plot_trajectory(trajectory: pd.DataFrame, threshold: float | None = None,
                    ylabel: str = "score", max_lines: int = 200):
    """Score against the number of edits, one line per sequence (``trajectory``: columns
    ``id``, ``edits``, ``score``, as :attr:`seqexplain.Design.trajectory`), with the median
    over the sequences still being edited and the goal's ``threshold`` when it has one."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    groups = list(trajectory.groupby("id", sort=False))
    for _, t in groups[:max_lines]:
        ax.plot(t["edits"], t["score"], color="0.6", lw=0.7, alpha=0.6)
    if len(trajectory):
        median = trajectory.groupby("edits")["score"].median()
        ax.plot(median.index, median.to_numpy(), color="C3", lw=2, label="median")
    if threshold is not None:
        ax.axhline(threshold, color="C0", ls="--", lw=1, label="threshold")
    ax.set_xlabel("edits")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{len(groups)} sequences" + (f" (lines: first {max_lines})"
                                               if len(groups) > max_lines else ""), fontsize=9)
    if len(trajectory):
        ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def plot_class_motifs(table: pd.DataFrame, title: str = "summed contribution of hits"):
    """A heat map of a classes × motifs table (rows: targets, columns: motifs), rows and
    columns ordered by average-linkage clustering (when there are 3 or more), diverging
    colours centred on 0."""
    from scipy.cluster.hierarchy import leaves_list, linkage

    data = table.to_numpy(dtype=float)
    rows, cols = np.arange(data.shape[0]), np.arange(data.shape[1])
    if data.shape[0] >= 3:
        rows = leaves_list(linkage(data, "average"))
    if data.shape[1] >= 3:
        cols = leaves_list(linkage(data.T, "average"))
    data = data[np.ix_(rows, cols)]
    top = float(np.abs(data).max()) or 1.0
    fig, ax = plt.subplots(figsize=(1.2 + 0.6 * data.shape[1], 1.2 + 0.45 * data.shape[0]))
    image = ax.imshow(data, cmap="RdBu_r", vmin=-top, vmax=top, aspect="auto")
    ax.set_xticks(range(data.shape[1]), [str(table.columns[c]) for c in cols], rotation=90)
    ax.set_yticks(range(data.shape[0]), [str(table.index[r]) for r in rows])
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, shrink=0.8)
    fig.tight_layout()
    return fig
