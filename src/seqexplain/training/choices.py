"""The choices training makes on the validation split, each returned with a JSON-ready
record (``choices`` and ``quality`` in metadata.json): reverse-complement augmentation, the
collapse check, the quality check, the positional path; the bootstrap that tells a difference
from validation noise; and the lines that describe the choices."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import SeqexplainError
from ..metrics import (evaluate, headline_value, main_metric, metric_names, scores_for_metrics,
                       true_for_metrics)
from ..targets import Targets
from .fitting import keras_targets, predict_outputs
from .settings import TrainSettings
from .splits import Split


#: reverse-complement augmentation goes off when the best baseline loses more than this
#: fraction of its validation skill (main metric above chance) on reverse-complemented
#: validation sequences: the task is then strand-specific. Measured: CTCF peaks (motif on
#: either strand) lose 9 % (k-mer 0.921 → 0.882 on 150 validation records), E. coli start
#: windows 55 % (positional 0.930 → 0.692)
RC_SKILL_LOSS = 0.25
#: ... and the baseline must have at least this much skill for its verdict to count
RC_MIN_SKILL = 0.05


def choose_reverse_complement(X: np.ndarray, targets: Targets, split: Split,
                              config: TrainSettings, nucleic: bool,
                              fitted: dict[str, Any]) -> tuple[bool, dict]:
    """Whether to augment with reverse complements, and why (a JSON-ready record).

    A user's setting (``config.reverse_complement`` not ``None``) is kept. Otherwise, for
    DNA/RNA, the baselines fitted on the training split (``fitted``, from
    :func:`~seqexplain.training.evaluation.fit_baseline_models`) score the validation
    sequences and their reverse complements: a strand-symmetric task (a motif bound on
    either strand) scores the same on both, while a strand-specific one (translation starts,
    splice sites, promoters aligned on the transcription start) loses its signal.
    Augmentation is on unless the best baseline loses more than :data:`RC_SKILL_LOSS` of its
    skill above chance, and more than :data:`NOISE_Z` paired bootstrap standard errors
    (:func:`bootstrap_se`) — reversed windows of a strand-specific task are examples of a
    rule that does not hold, but on a few dozen validation records a strand-symmetric task
    can lose that much by chance (a CTCF-and-REST task, 30 validation records: 0.733 → 0.653
    and 0.853 → 0.751 on two seeds; both CNNs then failed without the augmentation).
    Protein: always off.
    """
    if not nucleic:
        if config.reverse_complement:
            raise SeqexplainError("reverse-complement augmentation needs DNA or RNA sequences")
        return False, {"value": False, "by": "alphabet",
                       "reason": "protein sequences have no reverse complement"}
    if config.reverse_complement is not None:
        return bool(config.reverse_complement), {
            "value": bool(config.reverse_complement), "by": "user",
            "reason": "set by --reverse-complement/--no-reverse-complement"}
    key = main_metric(targets.task)
    chance = 0.0 if targets.task == "regression" else 0.5
    val_t = targets.subset(split.val)
    X_val = X[split.val]
    X_rc = X_val[:, ::-1, ::-1]  # complement = reversed channel order (ACGT, ACGU)
    outputs, scores = {}, {}
    for name, model in fitted.items():
        if name == "trivial":
            continue
        outputs[name] = tuple(model.predict_scores(x) for x in (X_val, X_rc))
        scores[name] = tuple(
            headline_value(evaluate(targets.task, true_for_metrics(val_t), out,
                                    metric_names(targets)), key) for out in outputs[name])
    name = max(scores, key=lambda n: scores[n][0])
    forward, reverse = scores[name]
    skill = forward - chance
    loss = forward - reverse
    se = bootstrap_se(val_t, *outputs[name]) if loss > 0 else math.inf
    record = {"by": "validation", "baseline": name, "metric": key,
              "validation": round(forward, 4), "validation_reverse_complement": round(reverse, 4),
              "loss_se": round(se, 4) if math.isfinite(se) else None}
    if skill < RC_MIN_SKILL:
        return True, {"value": True, **record,
                      "reason": f"no baseline has skill on validation ({name} {key} "
                                f"{forward:.3f}); default on"}
    if loss > RC_SKILL_LOSS * skill and loss > NOISE_Z * se:
        return False, {"value": False, **record,
                       "reason": f"strand-specific task: the {name} baseline scores validation "
                                 f"{key} {forward:.3f}, but {reverse:.3f} on the reverse "
                                 f"complements (bootstrap SE of the loss {se:.3f})"}
    noise = (f"; the loss is within validation noise, bootstrap SE {se:.3f}"
             if loss > RC_SKILL_LOSS * skill else "")
    return True, {"value": True, **record,
                  "reason": f"strand-symmetric task: the {name} baseline scores validation "
                            f"{key} {forward:.3f}, and {reverse:.3f} on the reverse "
                            f"complements{noise}"}


def choose_pooling(X: np.ndarray, targets: Targets, split: Split,
                   fitted: dict[str, Any]) -> tuple[bool, dict]:
    """Whether position matters: the positional baseline (one weight per position and
    letter) beats the best k-mer baseline (counts, position-blind) on the validation split
    by the main metric, by more than :data:`NOISE_Z` paired bootstrap standard errors
    (:func:`bootstrap_se`). Windows aligned on a landmark (translation starts, splice sites)
    do; a motif anywhere in a peak does not. When it does, the capacity rule flattens the
    last conv block's map instead of max-pooling it over the length
    (:func:`~seqexplain.training.capacity.capacity_rule` ``position_matters``), as the
    position-aware heads of published splice-site CNNs do. Returns ``(position matters,
    JSON-ready record)``."""
    key = main_metric(targets.task)
    val_t = targets.subset(split.val)
    X_val = X[split.val]
    scores = {name: model.predict_scores(X_val) for name, model in fitted.items()
              if name != "trivial"}
    if "positional" not in scores or len(scores) < 2:
        return False, {"value": "max", "by": "validation",
                       "reason": "no positional and k-mer baselines to compare"}
    values = {name: headline_value(evaluate(targets.task, true_for_metrics(val_t), v,
                                            metric_names(targets)), key)
              for name, v in scores.items()}
    positional = values["positional"]
    kmer_name = max((n for n in values if n != "positional"), key=values.get)
    kmer = values[kmer_name]
    gain = positional - kmer
    se = bootstrap_se(val_t, scores["positional"], scores[kmer_name]) if gain > 0 else math.inf
    record = {"by": "validation", "metric": key, "positional": round(positional, 4),
              kmer_name: round(kmer, 4),
              "gain_se": round(se, 4) if math.isfinite(se) else None}
    matters = gain > NOISE_Z * se
    verdict = ("position matters" if matters else
               "position-blind features do as well" if gain <= 0 else
               f"no clear gain from position (bootstrap SE {se:.3f})")
    return matters, {"value": "flatten" if matters else "max", **record,
                     "reason": f"{verdict}: the positional baseline scores validation {key} "
                               f"{positional:.3f}, the {kmer_name} baseline {kmer:.3f}"}


#: a trained CNN this far below the best baseline on the validation main metric has stalled;
#: it is trained again with less capacity (:func:`capacity_rule` ``step_down``)
COLLAPSE_MARGIN = 0.01
#: a difference counts as beyond validation noise when it exceeds this many bootstrap
#: standard errors (:func:`bootstrap_se`)
NOISE_Z = 2.0
#: resamples of the validation set for :func:`bootstrap_se`
BOOTSTRAP_SAMPLES = 200


def _chance(task: str) -> float:
    return 0.0 if task == "regression" else 0.5


def bootstrap_se(targets: Targets, scores_a: np.ndarray, scores_b: np.ndarray | None = None,
                 samples: int = BOOTSTRAP_SAMPLES, seed: int = 0) -> float:
    """Bootstrap standard error of the main metric of ``scores_a`` (n, …) on ``targets`` —
    or, given ``scores_b``, of the paired difference metric(a) − metric(b), both scored on
    the same resampled records. Resamples where the metric is undefined (one class only)
    are skipped. Seeded: the same inputs give the same value."""
    y = np.asarray(true_for_metrics(targets))
    rng = np.random.default_rng(seed)
    n = len(y)
    values = []
    for _ in range(samples):
        idx = rng.integers(0, n, n)
        a = fast_main_metric(targets.task, y[idx], np.asarray(scores_a)[idx])
        b = 0.0 if scores_b is None else fast_main_metric(targets.task, y[idx],
                                                            np.asarray(scores_b)[idx])
        if math.isfinite(a) and math.isfinite(b):
            values.append(a - b)
    return float(np.std(values, ddof=1)) if len(values) > 1 else math.inf


def fast_main_metric(task: str, y: np.ndarray, scores: np.ndarray) -> float:
    """The main metric (:func:`~seqexplain.metrics.main_metric`) without
    :func:`~seqexplain.metrics.evaluate`'s other metrics and checks, for the bootstrap:
    AUROC from ranks (Mann–Whitney; macro mean over labels or one-vs-rest classes), or the
    macro-mean Pearson r. NaN where undefined (one class only, a constant)."""
    from scipy.stats import rankdata

    def auroc(truth, score):
        truth = truth.astype(bool)
        pos, neg = int(truth.sum()), int((~truth).sum())
        if pos == 0 or neg == 0:
            return math.nan
        ranks = rankdata(score)
        return (ranks[truth].sum() - pos * (pos + 1) / 2) / (pos * neg)

    if task == "binary":
        return auroc(y.reshape(-1), scores.reshape(-1))
    if task == "multiclass":
        columns = [auroc(y == k, scores[:, k]) for k in range(scores.shape[1])]
    elif task == "multilabel":
        columns = [auroc(y[:, j], scores[:, j]) for j in range(y.shape[1])]
    else:
        y2, s2 = y.reshape(len(y), -1), scores.reshape(len(scores), -1)
        columns = [np.corrcoef(y2[:, j], s2[:, j])[0, 1] if y2[:, j].std() > 0
                   and s2[:, j].std() > 0 else math.nan for j in range(y2.shape[1])]
    columns = [c for c in columns if math.isfinite(c)]
    return float(np.mean(columns)) if columns else math.nan


def _validation_scores(model, X: np.ndarray, targets: Targets, split: Split,
                       fitted: dict[str, Any]) -> dict:
    """Main-metric inputs on the validation split: the CNN's scores, the best non-trivial
    baseline's, and their metrics."""
    key = main_metric(targets.task)
    val_t = targets.subset(split.val)
    X_val = X[split.val]

    def score(outputs) -> float:
        return headline_value(evaluate(targets.task, true_for_metrics(val_t), outputs,
                                  metric_names(targets)), key)

    cnn_scores = scores_for_metrics(targets.task, predict_outputs(model, X_val))
    base_scores = {name: m.predict_scores(X_val) for name, m in fitted.items()
                   if name != "trivial"}
    base = {name: score(v) for name, v in base_scores.items()}
    name = max(base, key=base.get)
    return {"key": key, "targets": val_t, "cnn_scores": cnn_scores, "cnn": score(cnn_scores),
            "baseline": name, "baseline_scores": base_scores[name], "base": base[name]}


def collapse_check(model, X: np.ndarray, targets: Targets, split: Split,
                   fitted: dict[str, Any]) -> dict:
    """Validation main metric of the CNN and of the best non-trivial baseline, and whether
    the CNN fell more than :data:`COLLAPSE_MARGIN` below it, or shows no skill above chance
    beyond validation noise (``retrained``)."""
    v = _validation_scores(model, X, targets, split, fitted)
    key, cnn, name, base = v["key"], v["cnn"], v["baseline"], v["base"]
    chance = _chance(targets.task)
    below = cnn < base - COLLAPSE_MARGIN
    no_skill = cnn - chance <= NOISE_Z * bootstrap_se(v["targets"], v["cnn_scores"])
    if below:
        reason = f"the CNN scores validation {key} {cnn:.3f}, below the {name} baseline's " \
                 f"{base:.3f}"
    elif no_skill:
        reason = f"the CNN scores validation {key} {cnn:.3f}, no better than chance " \
                 f"({chance:g}) beyond validation noise"
    else:
        reason = "no stall"
    return {"metric": key, "validation_cnn": round(cnn, 4), "baseline": name,
            "validation_baseline": round(base, 4), "retrained": bool(below or no_skill),
            "reason": reason}


def quality_check(model, X: np.ndarray, targets: Targets, split: Split,
                  fitted: dict[str, Any]) -> dict:
    """Did training fail? The kept CNN on the validation split against the best non-trivial
    baseline and chance; a JSON-ready record (``quality`` in metadata.json).

    ``below_baseline``: the CNN is more than :data:`COLLAPSE_MARGIN` below the baseline and
    the gap is beyond validation noise (:data:`NOISE_Z` paired bootstrap standard errors);
    ``no_skill``: the CNN is within :data:`NOISE_Z` bootstrap standard errors of chance.
    ``failed`` is either; ``message`` is then the one-line warning that ``train`` prints and
    that loading the model folder repeats (:meth:`seqexplain.bundle.ModelBundle.load`)."""
    v = _validation_scores(model, X, targets, split, fitted)
    key, cnn, name, base = v["key"], v["cnn"], v["baseline"], v["base"]
    chance = _chance(targets.task)
    se_gap = bootstrap_se(v["targets"], v["baseline_scores"], v["cnn_scores"])
    se_cnn = bootstrap_se(v["targets"], v["cnn_scores"])
    below = base - cnn > max(COLLAPSE_MARGIN, NOISE_Z * se_gap)
    no_skill = cnn - chance <= NOISE_Z * se_cnn
    record = {"metric": key, "split": "validation", "n": int(len(split.val)),
              "cnn": round(cnn, 4), "baseline": name, "baseline_value": round(base, 4),
              "chance": chance, "se_gap": round(se_gap, 4), "se_cnn": round(se_cnn, 4),
              "below_baseline": bool(below), "no_skill": bool(no_skill),
              "failed": bool(below or no_skill)}
    if below:
        record["message"] = (f"the CNN failed: validation {key} {cnn:.3f}, clearly below the "
                             f"{name} baseline's {base:.3f}; its explanations, motifs and "
                             f"variant scores are not to be trusted (metadata.json: quality)")
    elif no_skill:
        record["message"] = (f"the CNN failed: validation {key} {cnn:.3f} is no better than "
                             f"chance ({chance:g}; best baseline {name} {base:.3f}); its "
                             f"explanations, motifs and variant scores are not to be trusted "
                             f"(metadata.json: quality)")
    return record


#: the positional path is kept when it adds at least this much to the validation main metric
#: and more than :data:`NOISE_Z` paired bootstrap standard errors of that gain
POSITION_PATH_MIN_GAIN = 0.002
#: ... or when switching it off raises the validation loss by more than this factor
POSITION_PATH_MAX_LOSS_RISE = 1.1


def choose_position_path(model, X_val: np.ndarray, val_targets: Targets) -> dict:
    """Keep or switch off the trained model's positional path, by the validation split.

    The main metric is measured with the path and without it (each position's weights set
    to their mean over the letters: a constant on one-hot input). When the path adds less
    than :data:`POSITION_PATH_MIN_GAIN`, or a gain within validation noise (less than
    :data:`NOISE_Z` paired bootstrap standard errors, :func:`bootstrap_se`), and switching
    it off raises the validation loss by less than 10 % (:data:`POSITION_PATH_MAX_LOSS_RISE`),
    it stays switched off that way in ``model`` (changed in place): position carries nothing
    the convolutions do not, and the path would only add small position-by-position terms
    to every attribution map. Returns a JSON-ready record of the head and the figures."""
    key = main_metric(val_targets.task)
    names = [layer.name for layer in model.layers]
    pool = "global max pooling" if "global_pool" in names else "flatten"
    if "position_linear" not in names:
        return {"architecture": f"convolutions + {pool}", "position_path": "absent",
                "reason": "position_path is off in the model config"}
    layer = model.get_layer("position_linear")
    saved = layer.get_weights()

    def score() -> tuple[float, float, np.ndarray]:
        outputs = scores_for_metrics(val_targets.task, predict_outputs(model, X_val))
        loss = model.evaluate(X_val, keras_targets(val_targets), batch_size=256, verbose=0,
                              return_dict=True)["loss"]
        return headline_value(evaluate(val_targets.task, true_for_metrics(val_targets), outputs,
                                  metric_names(val_targets)), key), float(loss), outputs

    (with_path, loss_with, scores_with) = score()
    # "without": each position's weights replaced by their mean over the letters. On one-hot
    # input that is a constant (the offset the path had learnt, so calibration is kept) and
    # carries no information; its DeepLIFT/DeepSHAP attributions are exactly zero.
    kernel = saved[0]
    length, channels = model.input_shape[1], model.input_shape[2]
    per_position = kernel.reshape(length, channels, -1).mean(axis=1, keepdims=True)
    layer.set_weights([np.broadcast_to(per_position, (length, channels, kernel.shape[-1]))
                       .reshape(kernel.shape).astype(kernel.dtype)])
    without, loss_without, scores_without = score()
    gain = with_path - without
    se = bootstrap_se(val_targets, scores_with, scores_without) if gain > 0 else math.inf
    record = {"metric": key, "validation": round(with_path, 4),
              "validation_without_position_path": round(without, 4),
              "gain_se": round(se, 4) if math.isfinite(se) else None,
              "validation_loss": round(loss_with, 4),
              "validation_loss_without_position_path": round(loss_without, 4)}
    if gain >= POSITION_PATH_MIN_GAIN and gain > NOISE_Z * se:
        layer.set_weights(saved)
        return {"architecture": f"convolutions + {pool}, plus a positional linear path",
                "position_path": "on", **record,
                "reason": f"position matters: the positional path adds {gain:+.3f} "
                          f"validation {key} (bootstrap SE {se:.3f})"}
    if loss_without > POSITION_PATH_MAX_LOSS_RISE * loss_with:
        # the metric is saturated or blind to it, but the model's fit leans on the path
        layer.set_weights(saved)
        return {"architecture": f"convolutions + {pool}, plus a positional linear path",
                "position_path": "on", **record,
                "reason": f"the model's fit leans on it: validation loss {loss_with:.3f} "
                          f"with the positional path, {loss_without:.3f} without"}
    noise = (f"within validation noise (bootstrap SE {se:.3f})"
             if gain >= POSITION_PATH_MIN_GAIN else f"< {POSITION_PATH_MIN_GAIN}")
    return {"architecture": f"convolutions + {pool} (positional path switched off: a "
                            "constant)", "position_path": "off", **record,
            "reason": f"position carries nothing here: the positional path adds "
                      f"{gain:+.3f} validation {key} ({noise})"}


def what_would_help(baseline: str, choices: dict, model_config, config: TrainSettings,
                    nucleic: bool) -> str:
    """A hint naming the options most likely to close the gap to ``baseline``."""
    hints = []
    if baseline == "positional":
        if nucleic and choices.get("reverse_complement", {}).get("value"):
            hints.append("--no-reverse-complement (windows aligned on a strand-specific "
                         "landmark)")
        if choices.get("head", {}).get("position_path") != "on":
            hints.append("the positional path (--position-path; it was off)")
        if choices.get("pooling", {}).get("value") != "flatten":
            hints.append("--global-pool flatten (position-resolved features)")
    elif baseline.startswith("kmer"):
        hints.append("--conv-blocks 1 or --filters 32 (less capacity: few records)")
    else:
        hints.append("more data")
    if config.restarts == 1:
        hints.append("--restarts 3")
    return "try " + ", or ".join(hints)


def describe_choices(choices: dict) -> list[str]:
    """Lines saying which head and augmentation training chose, and why."""
    lines = []
    head = choices.get("head")
    if head:
        text = f"head: {head['architecture']}"
        if head.get("position_path") in ("on", "off"):
            text += (f"; validation {head['metric']} {head['validation']:.3f} with the "
                     f"positional path, {head['validation_without_position_path']:.3f} "
                     f"without ({head['reason']})")
        lines.append(text)
    capacity = choices.get("capacity")
    if capacity:
        lines.append(f"capacity: {capacity['summary']}")
    check = choices.get("collapse_check")
    if check and check.get("retrained"):
        retry = check.get("retry", {})
        how = (f"the {retry['tier']} configuration" if retry.get("changed")
               else "another seed")
        lines.append(f"retrained once with {how} ({check['reason']}); kept the "
                     f"{'retry' if check.get('kept') == 'retry' else 'first run'} "
                     f"(validation {check['metric']} {check['validation_cnn']:.3f} first, "
                     f"{check['validation_retry']:.3f} retry)")
    pooling = choices.get("pooling")
    if pooling:
        lines.append(f"pooling: {pooling['value']} ({pooling['reason']})")
    rc = choices.get("reverse_complement")
    if rc:
        lines.append(f"reverse-complement augmentation: {'on' if rc['value'] else 'off'} "
                     f"({rc['reason']})")
    return lines
