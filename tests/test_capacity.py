"""Training defaults that follow the data (issue 28): the capacity rule and what overrides it,
a few hundred sequences trained with the defaults, and a failed model that says so."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import planted_dataset

from seqexplain.cli import main
from seqexplain.models import SIZED_FIELDS, ModelSettings
from seqexplain.training.capacity import (CAPACITY_TIERS, REDUCED_TIER, apply_capacity_rule,
                                         capacity_rule)
from seqexplain.training.settings import TrainSettings

DATA = Path(__file__).resolve().parents[1] / "examples" / "data"


@pytest.mark.parametrize("n_train, length, tier, blocks, filters, dense, l2, patience", [
    (420, 200, "small", 1, (32,), (), 1e-5, 15),
    (999, 200, "small", 1, (32,), (), 1e-5, 15),
    (1000, 200, "medium", 2, (64, 32), (64,), 1e-6, 10),
    (4999, 100, "medium", 2, (64, 32), (64,), 1e-6, 10),
    (5000, 200, "large", 2, (128, 64), (128,), 1e-6, 10),
    (20000, 31, "large", 1, (128,), (128,), 1e-6, 10),  # too short for a second block
])
def test_the_rule_by_size_and_length(n_train, length, tier, blocks, filters, dense, l2,
                                     patience):
    rule = capacity_rule(n_train, length)
    assert rule["tier"] == tier and rule["n_train"] == n_train and rule["length"] == length
    config, train_config, record = apply_capacity_rule(rule, ModelSettings(), TrainSettings())
    assert config.n_conv_blocks == blocks and config.filters == filters
    assert config.dense_units == dense and config.l2 == l2
    assert train_config.patience == patience
    assert config.learning_rate == 3e-3 and config.conv_dropout == 0.2
    assert config.global_pool == "max"
    assert record["given"] == {} and set(record["from_rule"]) == {*SIZED_FIELDS, "patience"}
    assert record["summary"].startswith(f"{tier} ({n_train} training sequences of {length})")


def test_large_tier_is_the_class_default():
    """Above 5,000 sequences the rule gives exactly ModelSettings's defaults, so a model built
    without data (build_model(None, …)) is the large one."""
    large = ModelSettings().sized(capacity_rule(10_000, 200)["settings"])
    assert large == ModelSettings()
    assert [name for name, _, _ in CAPACITY_TIERS] == ["small", "medium", "large"]


def test_step_down_for_the_retry():
    assert capacity_rule(20_000, 200, step_down=True)["tier"] == "medium"
    assert capacity_rule(2_000, 200, step_down=True)["tier"] == "small"
    reduced = capacity_rule(300, 200, step_down=True)
    assert reduced["tier"] == "reduced"
    assert reduced["settings"] == {**REDUCED_TIER[2], "global_pool": "max"}


def test_position_matters_flattens_unless_the_user_chose():
    rule = capacity_rule(300, 100, position_matters=True)
    config, _, record = apply_capacity_rule(rule, ModelSettings(), TrainSettings())
    assert config.global_pool == "flatten" and record["from_rule"]["global_pool"] == "flatten"
    for step_down in (False, True):
        assert capacity_rule(2_000, 100, step_down, True)["settings"]["global_pool"] == "flatten"
    user = ModelSettings(global_pool="average")
    config, _, record = apply_capacity_rule(rule, user, TrainSettings())
    assert config.global_pool == "average" and record["given"] == {"global_pool": "average"}


def _fitted_baselines(X, y):
    from seqexplain.targets import Targets
    from seqexplain.training.evaluation import fit_baseline_models
    from seqexplain.training.splits import Split

    targets = Targets("binary", y[:, None].astype(np.float32), ["label"])
    idx = np.arange(len(y))
    split = Split(idx[:160], idx[160:], idx[160:])
    return targets, split, fit_baseline_models(X, targets, split, TrainSettings(kmer=2), True)


@pytest.mark.parametrize("fixed", [True, False])
def test_choose_pooling_by_the_baselines(fixed):
    """A label read off one fixed position (position matters: the positional baseline wins)
    against the same letter pair anywhere (the k-mer baseline wins)."""
    from seqexplain.training.choices import choose_pooling

    rng = np.random.default_rng(0)
    n, length = 240, 16
    X = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (n, length))]
    y = rng.integers(0, 2, n)
    for i in np.flatnonzero(y):
        start = 10 if fixed else rng.integers(0, length - 1)
        X[i, start:start + 2] = np.eye(4, dtype=np.float32)[[2, 3]]  # "GT"
    targets, split, fitted = _fitted_baselines(X, y)
    matters, record = choose_pooling(X, targets, split, fitted)
    assert matters is fixed and record["value"] == ("flatten" if fixed else "max")
    assert (record["positional"] > record["kmer2"]) is fixed
    assert record["metric"] == "auroc" and f"{record['positional']:.3f}" in record["reason"]


def test_explicit_settings_win():
    """Keywords, from_dict keys (YAML, CLI flags) and an explicit patience are kept; only the
    rest follow the data."""
    rule = capacity_rule(300, 200)
    user = ModelSettings.from_dict({"filters": 64, "l2": 1e-3, "first_activation": "exponential"})
    config, train_config, record = apply_capacity_rule(rule, user, TrainSettings(patience=3))
    assert config.filters == (64,) and config.l2 == 1e-3  # user's
    assert config.n_conv_blocks == 1 and config.dense_units == ()  # rule's
    assert config.first_activation == "exponential" and train_config.patience == 3
    assert record["given"] == {"filters": 64, "l2": 1e-3, "patience": 3}
    assert "filters" not in record["from_rule"] and record["from_rule"]["n_conv_blocks"] == 1
    # a per-block list fixes the number of blocks; the rule's filters follow that number
    two = ModelSettings(kernel_sizes=[9, 5]).sized(rule["settings"])
    assert two.n_conv_blocks == 2 and two.kernel_sizes == (9, 5) and two.filters == (32, 16)
    # the same value as a class default still counts as set
    kept = ModelSettings(n_conv_blocks=2, dense_units=[128]).sized(rule["settings"])
    assert kept.n_conv_blocks == 2 and kept.dense_units == (128,) and kept.filters == (32, 16)
    # the sized config remembers what was given, so a retry can size it again
    assert kept.given == {"n_conv_blocks": 2, "dense_units": [128]}


def test_defaults_beat_the_kmer_baseline_on_a_few_hundred_windows():
    """400 human genome windows (examples/data/human_background.fa), half with a CTCF site
    sampled from its PWM: the default CNN (small tier) beats the k-mer baseline on test.
    The large configuration used to memorise such a training set within two epochs."""
    from seqexplain import one_hot
    from seqexplain.motif_io import load_motifs
    from seqexplain.simulate import simulate
    from seqexplain.targets import make_targets
    from seqexplain.train import train

    data = simulate(load_motifs(["CTCF"], [DATA / "jaspar2024_selected.meme"]), n=400,
                    length=200, background=DATA / "human_background.fa", random_state=5)
    X = one_hot(data.sequences, "dna")
    targets = make_targets(data.labels.set_index("id"), "binary")
    result = train(X, targets, None, TrainSettings(verbose=False), log=lambda m: None)
    capacity = result.choices["capacity"]
    assert capacity["tier"] == "small" and capacity["n_train"] == len(result.split.train)
    check = result.choices["collapse_check"]
    kept = capacity_rule(len(result.split.train), 200,
                         step_down=check.get("kept") == "retry")["settings"]
    assert result.model_config.n_conv_blocks == 1
    assert result.model_config.filters == (kept["filters"],)
    kmer = result.baselines["kmer4"]["auroc"]
    assert result.metrics["auroc"] > kmer, (result.metrics["auroc"], kmer, check)
    assert result.quality["failed"] is False


@pytest.fixture(scope="module")
def failed_model(tmp_path_factory):
    """A model trained on shuffled labels: nothing to learn."""
    folder = tmp_path_factory.mktemp("failed")
    fa, tsv = planted_dataset(folder, n=200)
    table = pd.read_csv(tsv, sep="\t")[["id", "binary"]]
    table["binary"] = np.random.default_rng(0).permutation(table["binary"].to_numpy())
    labels = folder / "shuffled.tsv"
    table.to_csv(labels, sep="\t", index=False)
    out = folder / "model"
    result = CliRunner().invoke(main, ["train", str(fa), "--labels", str(labels), "--epochs",
                                       "8", "--filters", "8", "--quiet", "-o", str(out)])
    return fa, out, result


def test_failed_training_warns_once_and_flags_the_folder(failed_model):
    fa, out, result = failed_model
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(lines) == 1, result.stderr
    meta = json.loads((out / "metadata.json").read_text())
    quality = meta["quality"]
    assert quality["failed"] is True and quality["metric"] == "auroc"
    assert quality["split"] == "validation" and quality["n"] == meta["split"]["validation"]
    # both numbers in the line, as recorded
    assert f"validation auroc {quality['cnn']:.3f}" in lines[0]
    assert f"{quality['baseline']} {quality['baseline_value']:.3f}" in lines[0] or \
        f"{quality['baseline']} baseline's {quality['baseline_value']:.3f}" in lines[0]
    assert "metadata.json: quality" in lines[0]
    # the rule: --filters was given, the rest followed the 140 training sequences
    capacity = meta["choices"]["capacity"]
    assert capacity["given"] == {"filters": 8} and meta["model_config"]["filters"] == [8]
    assert capacity["tier"] == "small" and meta["model_config"]["n_conv_blocks"] == 1
    assert meta["train_config"]["patience"] == 15
    # the collapse check retrained with less capacity where it could (filters stay the user's)
    check = meta["choices"]["collapse_check"]
    assert check["retrained"] is True and check["retry"]["tier"] == "reduced"
    assert "filters" not in check["retry"]["changed"]
    assert check["retry"]["changed"]["l2"] == 1e-4


def test_commands_on_a_failed_model_repeat_the_warning(failed_model, tmp_path):
    fa, out, _ = failed_model
    result = CliRunner().invoke(main, ["explain", str(out), str(fa), "-m", "saliency",
                                       "--logos", "0", "-q", "-o", str(tmp_path / "ex")])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if "warning" in line.lower()]
    assert lines == [f"warning: {out}: " + json.loads(
        (out / "metadata.json").read_text())["quality"]["message"]]
    assert (tmp_path / "ex" / "attributions.npz").is_file()


def test_bootstrap_metric_matches_sklearn_and_its_se_the_hanley_mcneil_formula():
    """The rank AUROC used by the bootstrap against sklearn's (an independent
    implementation), and the bootstrap SE of a chance-level AUROC against Hanley & McNeil's
    closed form (within the bootstrap's own spread)."""
    from sklearn.metrics import roc_auc_score

    from seqexplain.targets import make_targets
    from seqexplain.training.choices import bootstrap_se, fast_main_metric

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    scores = rng.random(300) + 0.5 * y
    scores[:40] = 0.5  # ties
    assert fast_main_metric("binary", y, scores) == pytest.approx(roc_auc_score(y, scores))
    classes = rng.integers(0, 3, 300)
    probs = rng.dirichlet(np.ones(3), 300)
    assert fast_main_metric("multiclass", classes, probs) == pytest.approx(
        roc_auc_score(classes, probs, multi_class="ovr", average="macro"))
    assert np.isnan(fast_main_metric("binary", np.ones(5), np.arange(5.0)))

    targets = make_targets(pd.DataFrame({"y": y}, index=[f"r{i}" for i in range(300)]),
                           "binary")
    noise = rng.random(300)
    n1, n0 = int(y.sum()), int(300 - y.sum())
    auc = roc_auc_score(y, noise)
    q1, q2 = auc / (2 - auc), 2 * auc ** 2 / (1 + auc)
    hanley = np.sqrt((auc * (1 - auc) + (n1 - 1) * (q1 - auc ** 2)
                      + (n0 - 1) * (q2 - auc ** 2)) / (n1 * n0))
    se = bootstrap_se(targets, noise)
    assert abs(se - hanley) < 0.2 * hanley, (se, hanley)
    # a paired difference of a score with itself has no spread; perfect scores neither
    assert bootstrap_se(targets, noise, noise) == 0
    assert bootstrap_se(targets, y.astype(float)) == 0


class _ScoresBaseline:
    """A fitted baseline stand-in: given scores on the validation sequences, other scores on
    anything else (their reverse complements)."""

    def __init__(self, X_val, forward, reverse):
        self.X_val, self.forward, self.reverse = X_val, forward, reverse

    def predict_scores(self, X):
        return self.forward if np.array_equal(X, self.X_val) else self.reverse


@pytest.mark.parametrize("copies, expected", [(1, True), (40, False)])
def test_reverse_complement_stays_on_when_the_loss_is_within_noise(copies, expected):
    """The same loss of skill on reverse complements (AUROC 0.78 -> 0.65) turns augmentation
    off only when the validation split is large enough to tell it from chance: not on 30
    records, but on 1,200."""
    from seqexplain.metrics import evaluate
    from seqexplain.targets import Targets
    from seqexplain.training.choices import choose_reverse_complement
    from seqexplain.training.splits import Split

    rng = np.random.default_rng(3)
    y = np.tile(np.arange(30) % 2, copies)
    forward = np.tile(rng.normal(size=30), copies) + y * 1.1
    reverse = np.tile(rng.normal(size=30), copies) + y * 0.5
    X = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (len(y), 12))]
    targets = Targets("binary", y[:, None].astype(np.float32), ["label"])
    split = Split(np.array([], dtype=int), np.arange(len(y)), np.array([], dtype=int))
    fitted = {"kmer4": _ScoresBaseline(X, forward[:, None], reverse[:, None])}
    value, record = choose_reverse_complement(X, targets, split, TrainSettings(), True, fitted)
    auroc = [evaluate("binary", y, s[:, None], ["auroc"])["auroc"] for s in (forward, reverse)]
    assert record["validation"] == pytest.approx(auroc[0], abs=1e-4)
    assert record["validation_reverse_complement"] == pytest.approx(auroc[1], abs=1e-4)
    loss = auroc[0] - auroc[1]
    assert loss > 0.25 * (auroc[0] - 0.5)  # the old rule alone would turn it off
    assert value is expected and (loss > 2 * record["loss_se"]) is not expected
    assert ("within validation noise" in record["reason"]) is expected
