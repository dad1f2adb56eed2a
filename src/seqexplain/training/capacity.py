"""Capacity and regularisation that follow the data: tiers by the number of training
sequences, with the settings the user gave kept."""

from __future__ import annotations

import math
from dataclasses import replace

from .settings import TrainSettings


#: the capacity rule's tiers, by the number of training sequences: (name, fewer than this
#: many, settings). Measured (issue 28): 600 genome windows of 200 bp with a planted 10-mer
#: (420 training sequences) — the large tier memorised the training set in two epochs
#: (test AUROC 0.60, k-mer baseline 0.96), the small tier reached 1.000. The small tier has
#: no hidden dense layer: on a two-motif AND (CTCF and REST, 300 × 200 bp, 210 training
#: sequences) a dense layer of 32 units memorised the training set within 15 epochs (test
#: AUROC 0.70 and 0.70, seeds 0 and 1; k-mer baseline 0.73 and 0.81), while the pooled
#: filters straight into the logits kept improving on validation for 50 epochs (0.81, 0.90).
CAPACITY_TIERS = (
    ("small", 1_000, {"n_conv_blocks": 1, "filters": 32, "dense_units": [],
                      "conv_dropout": 0.2, "dense_dropout": 0.5, "l2": 1e-5,
                      "learning_rate": 3e-3, "patience": 15}),
    ("medium", 5_000, {"n_conv_blocks": 2, "filters": 64, "dense_units": [64],
                       "conv_dropout": 0.2, "dense_dropout": 0.5, "l2": 1e-6,
                       "learning_rate": 3e-3, "patience": 10}),
    ("large", math.inf, {"n_conv_blocks": 2, "filters": 128, "dense_units": [128],
                         "conv_dropout": 0.2, "dense_dropout": 0.5, "l2": 1e-6,
                         "learning_rate": 3e-3, "patience": 10}),
)
#: the retry below the small tier (collapse check): less capacity, more regularisation
REDUCED_TIER = ("reduced", 0, {"n_conv_blocks": 1, "filters": 16, "dense_units": [],
                               "conv_dropout": 0.3, "dense_dropout": 0.5, "l2": 1e-4,
                               "learning_rate": 1e-3, "patience": 20})
#: a second conv block needs the first block's pooled map (length // 4) to hold its kernel
#: (7) a few times over: below this length the rule uses one block
MIN_LENGTH_TWO_BLOCKS = 32
#: settings of the rule that go to :class:`~seqexplain.training.settings.TrainSettings`
#: (the rest go to the model config)
TRAIN_FIELDS = ("patience",)


def capacity_rule(n_train: int, length: int, step_down: bool = False,
                  position_matters: bool = False) -> dict:
    """The data-sized settings for ``n_train`` training sequences of ``length`` positions.

    Tiers (:data:`CAPACITY_TIERS`): under 1,000 training sequences *small* (one conv block
    of 32 filters straight into the output, no hidden dense layer, L2 1e-5, patience 15);
    under 5,000 *medium* (64 and 32 filters, 64 dense units); from 5,000
    *large* (128 and 64 filters, 128 dense units; the
    :class:`~seqexplain.models.ModelSettings` class defaults). Sequences shorter than
    :data:`MIN_LENGTH_TWO_BLOCKS` get one conv block. ``step_down`` gives the next tier down
    (from *small*: :data:`REDUCED_TIER`), which the collapse check retrains with.
    ``position_matters`` (the positional baseline beats the k-mer baseline on validation:
    :func:`~seqexplain.training.choices.choose_pooling`) replaces global max pooling by
    ``flatten``, which keeps where each filter matched.

    Returns ``{"tier", "n_train", "length", "settings"}``; ``settings`` holds
    :data:`~seqexplain.models.SIZED_FIELDS` values and ``patience``.
    """
    tiers = list(CAPACITY_TIERS)
    index = next(i for i, (_, below, _) in enumerate(tiers) if n_train < below)
    name, _, settings = (tiers[index - 1] if index > 0 else REDUCED_TIER) if step_down \
        else tiers[index]
    settings = dict(settings)
    if length < MIN_LENGTH_TWO_BLOCKS:
        settings["n_conv_blocks"] = 1
    settings["global_pool"] = "flatten" if position_matters else "max"
    return {"tier": name, "n_train": int(n_train), "length": int(length),
            "settings": settings}


def apply_capacity_rule(rule: dict, model_config, config: TrainSettings):
    """``(model config, training config, record)``: the rule's settings for every field the
    user did not set (:attr:`ModelSettings.given <seqexplain.models.ModelSettings.given>`;
    ``config.patience`` not ``None``). The record (``choices["capacity"]`` in metadata.json)
    names the tier, the values taken from the rule and the settings the user gave."""
    from ..models import SIZED_FIELDS

    settings = rule["settings"]
    sized = model_config.sized(settings)
    given = {k: model_config.given[k] for k in SIZED_FIELDS if k in model_config.given}
    from_rule = {k: settings[k] for k in SIZED_FIELDS if k not in given}
    for key in TRAIN_FIELDS:
        if getattr(config, key) is None:
            from_rule[key] = settings[key]
            config = replace(config, **{key: settings[key]})
        else:
            given[key] = getattr(config, key)
    summary = (f"{rule['tier']} ({rule['n_train']} training sequences of {rule['length']}): "
               + (", ".join(f"{k} {format_setting(v)}" for k, v in from_rule.items()) or "nothing")
               + (f"; set by the user: " + ", ".join(f"{k} {format_setting(v)}" for k, v in
                                                     given.items()) if given else ""))
    record = {"tier": rule["tier"], "n_train": rule["n_train"], "length": rule["length"],
              "from_rule": from_rule, "given": given, "summary": summary}
    return sized, config, record


def format_setting(value) -> str:
    """A setting's value as the capacity summary shows it: ``64,32``, ``1e-05``, ``2``."""
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)
