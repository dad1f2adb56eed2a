"""Figures that are not logos: training curves (more to come with the visual layer).

Everything draws with matplotlib's Agg backend (headless) and returns the Figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

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
