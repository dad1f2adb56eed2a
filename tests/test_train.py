"""Training end to end on tiny planted datasets: every task, the model folder, restarts,
cross-validation, baselines, early stopping, reproducibility and the error cases."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import TINY_MODEL, planted_dataset

from seqexplain.cli import main
from seqexplain.errors import SeqexplainError

FAST = ["--epochs", "12", "--patience", "4", "--batch-size", "32", "--quiet"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    fa, tsv = planted_dataset(folder)
    config = folder / "tiny.yaml"
    import yaml
    config.write_text(yaml.safe_dump({"model": TINY_MODEL}))
    table = pd.read_csv(tsv, sep="\t")
    tables = {}
    for name, cols in {"binary": ["binary"], "multiclass": ["klass"],
                       "multilabel": ["m1", "m2"], "regression": ["signal"]}.items():
        path = folder / f"{name}.tsv"
        table[["id", *cols]].to_csv(path, sep="\t", index=False)
        tables[name] = path
    return {"fa": fa, "tables": tables, "config": config, "folder": folder}


def train(data, out, *args, task="binary"):
    args = ["train", str(data["fa"]), "--labels", str(data["tables"][task]), "--config",
            str(data["config"]), *FAST, "-o", str(out), *map(str, args)]
    return CliRunner().invoke(main, args)


@pytest.fixture(scope="module")
def binary_model(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("models") / "binary"
    result = train(data, out, "--restarts", "2")
    assert result.exit_code == 0, result.output
    return out, result


@pytest.mark.slow
def test_model_folder_contents(binary_model):
    out, result = binary_model
    names = {p.name for p in out.iterdir()}
    assert names == {"model.keras", "metadata.json", "metrics.json", "history.csv",
                     "training_curves.png", "splits.tsv", "test_predictions.tsv"}
    assert (out / "training_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["alphabet"] == {"name": "dna", "letters": "ACGT"}
    assert meta["input"] == {"length": 40, "channels": 4, "pad": "center", "crop": "center",
                             "unknown": "zero"}
    assert meta["task"] == "binary" and meta["output_names"] == ["binary"]
    assert meta["model_config"]["filters"] == [8] and meta["train_config"]["restarts"] == 2
    assert meta["split"]["train"] + meta["split"]["validation"] + meta["split"]["test"] == 240
    assert {"tensorflow", "keras", "seqexplain"} <= set(meta["versions"])
    # what training chose, and the validation figures it chose by
    rc, head = meta["choices"]["reverse_complement"], meta["choices"]["head"]
    assert rc["by"] == "validation" and rc["baseline"] in ("kmer4", "positional")
    # planted_dataset puts its motif on the + strand at a fixed place: strand-specific
    assert rc["value"] is False
    assert rc["validation"] > 0.9 and rc["validation_reverse_complement"] < rc["validation"]
    assert head["metric"] == "auroc" and head["validation"] > 0.9
    check = meta["choices"]["collapse_check"]
    assert check["retrained"] is False and check["validation_cnn"] > 0.9
    gain = head["validation"] - head["validation_without_position_path"]
    loss_rise = head["validation_loss_without_position_path"] / head["validation_loss"]
    # kept for a gain beyond two bootstrap standard errors, or a fit that leans on it
    beyond_noise = gain >= 0.002 and head["gain_se"] is not None and gain > 2 * head["gain_se"]
    assert head["position_path"] == ("on" if beyond_noise or loss_rise > 1.1 else "off")
    assert (f"reverse-complement augmentation: off (strand-specific task: the {rc['baseline']}"
            in result.stdout)
    assert f"validation auroc {head['validation']:.3f}" in result.stdout
    splits = pd.read_csv(out / "splits.tsv", sep="\t")
    assert splits["split"].value_counts().to_dict() == {
        "train": meta["split"]["train"], "validation": meta["split"]["validation"],
        "test": meta["split"]["test"]}


@pytest.mark.slow
def test_metrics_cnn_baselines_and_restarts(binary_model):
    out, result = binary_model
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["main_metric"] == "auroc"
    assert set(metrics["baselines"]) == {"trivial", "kmer4", "positional"}
    assert metrics["baselines"]["trivial"]["auroc"] == 0.5
    for key in ("auroc", "auprc", "accuracy", "precision", "recall", "f1", "mcc"):
        assert 0 <= metrics["cnn"][key] <= 1 or key == "mcc"
    assert metrics["cnn"]["auroc"] > 0.9  # a planted 8-mer is easy
    assert len(metrics["restarts"]) == 2
    assert metrics["restarts"][0]["seed"] != metrics["restarts"][1]["seed"]
    s = metrics["restart_summary"]["auroc"]
    aurocs = [r["metrics"]["auroc"] for r in metrics["restarts"]]
    assert s["mean"] == pytest.approx(np.mean(aurocs))
    assert s["sd"] == pytest.approx(np.std(aurocs, ddof=1))
    # the kept restart is the one with the lowest validation loss
    best = min(metrics["restarts"], key=lambda r: r["val_loss"])
    assert metrics["cnn"]["auroc"] == pytest.approx(best["metrics"]["auroc"])
    assert "CNN" in result.stdout and "kmer4" in result.stdout and "restarts (2)" in result.stdout


@pytest.mark.slow
def test_round_trip_gives_identical_predictions(binary_model, data, tmp_path):
    out, _ = binary_model
    from seqexplain.bundle import ModelBundle
    from seqexplain.fasta import read_fasta

    bundle = ModelBundle.load(out)
    saved = pd.read_csv(out / "test_predictions.tsv", sep="\t")
    records = read_fasta(data["fa"])
    pos = {rid: i for i, rid in enumerate(records.ids)}
    x = bundle.encode(records.sequences).onehot[[pos[i] for i in saved["id"]]]
    np.testing.assert_allclose(bundle.predict(x)[:, 0], saved["pred_binary"], rtol=1e-5,
                               atol=1e-6)
    # predict command agrees too
    pred = tmp_path / "p.tsv"
    r = CliRunner().invoke(main, ["predict", str(out), str(data["fa"]), "-o", str(pred), "-q"])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(pred, sep="\t").set_index("id")
    np.testing.assert_allclose(table.loc[saved["id"], "binary"], saved["pred_binary"],
                               rtol=1e-5, atol=1e-6)
    assert list(table.index) == records.ids


@pytest.mark.slow
def test_early_stopping_restores_best_epoch(binary_model, data):
    out, _ = binary_model
    from seqexplain.bundle import ModelBundle
    from seqexplain.fasta import read_fasta

    history = pd.read_csv(out / "history.csv")
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["best_epoch"] == int(history["val_loss"].idxmin()) + 1
    bundle = ModelBundle.load(out)
    splits = pd.read_csv(out / "splits.tsv", sep="\t")
    val_ids = set(splits.loc[splits["split"] == "validation", "id"])
    records = read_fasta(data["fa"])
    idx = [i for i, rid in enumerate(records.ids) if rid in val_ids]
    x = bundle.encode(records.sequences).onehot[idx]
    y = pd.read_csv(data["tables"]["binary"], sep="\t").set_index("id").loc[
        [records.ids[i] for i in idx], "binary"].to_numpy()
    p = np.clip(bundle.predict(x)[:, 0], 1e-7, 1 - 1e-7)
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    # the restored weights give the best validation loss, which includes the penalties
    # (the position path's L2 1e-2 is not negligible; the kernels' 1e-6 is)
    # — unless training then switched the positional path off, which metadata records
    head = meta["choices"]["head"]
    assert head["validation_loss"] == pytest.approx(history["val_loss"].min(), abs=2e-3)
    expected = head["validation_loss" if head["position_path"] == "on"
                    else "validation_loss_without_position_path"]
    penalty = sum(float(v) for v in bundle.model.losses)
    assert bce + penalty == pytest.approx(expected, abs=2e-3)


@pytest.mark.parametrize("task,key", [("multiclass", "macro_f1"), ("multilabel", "auroc"),
                                      ("regression", "pearson_r")])
@pytest.mark.slow
def test_each_other_task_trains_and_writes_predictions(data, tmp_path, task, key):
    out = tmp_path / task
    result = train(data, out, task=task)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    meta = json.loads((out / "metadata.json").read_text())
    assert metrics["task"] == task == meta["task"]
    assert key in metrics["cnn"]
    preds = pd.read_csv(out / "test_predictions.tsv", sep="\t")
    if task == "multiclass":
        assert meta["class_names"] == ["a", "b", "none"]
        assert {"pred_a", "pred_b", "pred_none", "true"} <= set(preds.columns)
        np.testing.assert_allclose(preds[["pred_a", "pred_b", "pred_none"]].sum(axis=1), 1,
                                   atol=1e-5)
    elif task == "multilabel":
        assert meta["output_names"] == ["m1", "m2"]
        assert metrics["cnn"]["auroc"] > 0.8
    else:
        assert metrics["cnn"]["pearson_r"] > 0.5


@pytest.mark.slow
def test_cross_validation_reports_folds(data, tmp_path):
    out = tmp_path / "cv"
    result = train(data, out, "--cv", "2", "--epochs", "4")
    assert result.exit_code == 0, result.output
    cv = json.loads((out / "metrics.json").read_text())["cv"]
    assert len(cv["folds"]) == 2
    aurocs = [f["auroc"] for f in cv["folds"]]
    assert cv["summary"]["auroc"]["mean"] == pytest.approx(np.mean(aurocs))
    assert sum(f["n"] for f in cv["folds"]) == 240  # every record tested once
    assert "cross-validation (2 folds)" in result.stdout


@pytest.mark.slow
def test_same_seed_same_metrics(data, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert train(data, out, "--epochs", "3", "--seed", "5").exit_code == 0
    ma = json.loads((a / "metrics.json").read_text())["cnn"]
    mb = json.loads((b / "metrics.json").read_text())["cnn"]
    assert ma == mb
    pa = pd.read_csv(a / "test_predictions.tsv", sep="\t")
    pb = pd.read_csv(b / "test_predictions.tsv", sep="\t")
    pd.testing.assert_frame_equal(pa, pb)


def test_split_by_keeps_groups_apart(data, tmp_path):
    table = pd.read_csv(data["tables"]["binary"], sep="\t")
    table["chrom"] = [f"chr{i % 8}" for i in range(len(table))]
    path = tmp_path / "grouped.tsv"
    table.to_csv(path, sep="\t", index=False)
    out = tmp_path / "g"
    r = CliRunner().invoke(main, ["train", str(data["fa"]), "--labels", str(path), "--config",
                                  str(data["config"]), *FAST, "--epochs", "2", "--split-by",
                                  "chrom", "-o", str(out)])
    assert r.exit_code == 0, r.output
    splits = pd.read_csv(out / "splits.tsv", sep="\t").merge(table, on="id")
    per_group = splits.groupby("chrom")["split"].nunique()
    assert (per_group == 1).all()
    assert json.loads((out / "metadata.json").read_text())["output_names"] == ["binary"]


def test_config_file_values_and_command_line_wins(data, tmp_path):
    import yaml
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"epochs": 2, "seed": 3, "model": {**TINY_MODEL,
                                                                     "filters": 4}}))
    out = tmp_path / "m"
    r = CliRunner().invoke(main, ["train", str(data["fa"]), "--labels",
                                  str(data["tables"]["binary"]), "--config", str(cfg),
                                  "--seed", "9", "--filters", "6", "-q", "-o", str(out)])
    assert r.exit_code == 0, r.output
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["train_config"]["epochs"] == 2  # from the file
    assert meta["train_config"]["seed"] == 9  # command line wins
    assert meta["model_config"]["filters"] == [6]
    assert meta["model_config"]["kernel_sizes"] == [7]  # from the file's model mapping


def test_config_file_merged_in_the_library(tmp_path):
    """TrainSettings.from_yaml / read_train_setup: overrides win over the file, the file over
    the defaults; the file's model mapping, labels and sequence keys come back too."""
    import yaml

    from seqexplain.models import ModelSettings
    from seqexplain.training.settings import TrainSettings, read_train_setup

    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"epochs": 2, "seed": 3, "labels": "l.tsv", "length": 60,
                                   "model": {"filters": 4, "kernel_sizes": 7}}))
    config = TrainSettings.from_yaml(cfg, seed=9)
    assert (config.epochs, config.seed, config.batch_size) == (2, 9, TrainSettings().batch_size)
    setup = read_train_setup(cfg, model={"filters": 6, "dense_units": None}, pad="left",
                             labels=None)
    assert setup.train.seed == 3 and setup.labels == "l.tsv"
    assert setup.sequence == {"length": 60, "pad": "left"}
    # the flag's filters over the file's; None (a flag not given) leaves the default
    assert setup.model == ModelSettings.from_dict({"filters": 6, "kernel_sizes": 7})
    assert read_train_setup(cfg, labels="other.tsv").labels == "other.tsv"
    assert read_train_setup(None).train == TrainSettings()
    with pytest.raises(SeqexplainError, match="unknown key 'epoch' \\(did you mean 'epochs'"):
        TrainSettings.from_yaml(cfg, epoch=3)


@pytest.mark.parametrize("extra,match", [
    (["--task", "binary", "--labels", "multiclass"], "binary needs 2 classes"),
    (["--task", "regression", "--labels", "multiclass"], "holds class names, not numbers"),
    (["--labels", "binary", "--split-by", "chrom"], "no such column"),
    (["--labels", "binary", "--val-fraction", "1.5"], "invalid value for '--val-fraction'"),
    (["--labels", "binary", "--filters", "x"], "expected integers"),
    (["--labels", "binary", "--activation", "banana"], "activation"),
])
def test_bad_training_input(data, tmp_path, extra, match):
    args = []
    it = iter(extra)
    for a in it:
        if a == "--labels":
            args += ["--labels", str(data["tables"][next(it)])]
        else:
            args.append(a)
    out = tmp_path / "m"
    r = CliRunner().invoke(main, ["train", str(data["fa"]), *args, "--config",
                                  str(data["config"]), *FAST, "-o", str(out)])
    assert r.exit_code != 0 and match in r.output
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_existing_model_folder_needs_force(binary_model, data):
    out, _ = binary_model
    before = (out / "model.keras").stat().st_mtime_ns
    r = train(data, out)
    assert r.exit_code == 1 and "folder exists; pass --force" in r.stderr
    assert (out / "model.keras").stat().st_mtime_ns == before


@pytest.mark.slow
def test_predict_errors(binary_model, tmp_path):
    out, _ = binary_model
    prot = tmp_path / "p.fa"
    prot.write_text(">p\nMKVLHEEWWQRSTPLLKE\n")
    r = CliRunner().invoke(main, ["predict", str(out), str(prot), "-o", str(tmp_path / "o.tsv")])
    assert r.exit_code == 1
    assert "record 'p', position 4: invalid character 'L' for dna (protein? the model takes " \
        "dna)" in r.stderr
    assert not (tmp_path / "o.tsv").exists()
    r = CliRunner().invoke(main, ["predict", str(tmp_path / "none"), str(prot), "-o",
                                  str(tmp_path / "o.tsv")])
    assert r.exit_code == 1 and "no such model folder" in r.stderr
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "metadata.json").write_text((out / "metadata.json").read_text())
    (broken / "model.keras").write_bytes(b"not a zip")
    r = CliRunner().invoke(main, ["predict", str(broken), str(prot), "-o",
                                  str(tmp_path / "o.tsv")])
    assert r.exit_code == 1 and r.stderr == (f"error: {broken / 'model.keras'}: not a valid Keras "
                                             "archive (truncated or not a zip file)\n")


def test_longer_sequences_with_crop_error(data, tmp_path):
    out = tmp_path / "m"
    assert train(data, out, "--epochs", "1", "--crop", "error").exit_code == 0
    long = tmp_path / "long.fa"
    long.write_text(">long\n" + "ACGT" * 15 + "\n")
    r = CliRunner().invoke(main, ["predict", str(out), str(long), "-o", str(tmp_path / "o.tsv")])
    assert r.exit_code == 1
    assert "record 'long': sequence is 60 long, longer than the target length 40" in r.stderr


@pytest.mark.slow
def test_evaluate_command(binary_model, data, tmp_path):
    out, _ = binary_model
    js = tmp_path / "m.json"
    r = CliRunner().invoke(main, ["evaluate", str(out), str(data["fa"]), "--labels",
                                  str(data["tables"]["binary"]), "-o", str(js)])
    assert r.exit_code == 0, r.output
    metrics = json.loads(js.read_text())
    assert metrics["n"] == 240 and metrics["auroc"] > 0.9
    r = CliRunner().invoke(main, ["evaluate", str(out), str(data["fa"]), "--labels",
                                  str(data["tables"]["multiclass"])])
    assert r.exit_code == 1 and "are not classes of the model" in r.stderr


def test_one_fasta_per_class(tmp_path):
    from helpers import TINY_MODEL as tiny
    import yaml
    fa, tsv = planted_dataset(tmp_path, n=120)
    table = pd.read_csv(tsv, sep="\t")
    text = fa.read_text().split(">")[1:]
    bound = [r for r, b in zip(text, table["binary"]) if b]
    (tmp_path / "bound.fa").write_text("".join(">" + r for r in bound))
    (tmp_path / "unbound.fa").write_text("".join(">" + r for r, b in zip(text, table["binary"])
                                                 if not b))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"model": tiny}))
    out = tmp_path / "m"
    r = CliRunner().invoke(main, ["train", str(tmp_path / "bound.fa"),
                                  str(tmp_path / "unbound.fa"), "--config", str(cfg), *FAST,
                                  "--epochs", "2", "-o", str(out)])
    assert r.exit_code == 0, r.output
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["class_names"] == ["unbound", "bound"] and meta["output_names"] == ["bound"]


@pytest.mark.slow
def test_mirrored_strategy_on_two_logical_cpus(data, tmp_path):
    code = f"""
import tensorflow as tf
cpu = tf.config.list_physical_devices('CPU')[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from seqexplain.cli import main
from seqexplain.errors import SeqexplainError
main(['train', {str(data['fa'])!r}, '--labels', {str(data['tables']['binary'])!r},
      '--config', {str(data['config'])!r}, '--epochs', '2', '--batch-size', '32', '-q',
      '--distribute', 'mirrored', '-o', {str(tmp_path / 'mirrored')!r}], standalone_mode=False)
from seqexplain.training.fitting import distribution_strategy
print('replicas', distribution_strategy('mirrored').num_replicas_in_sync)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "replicas 2" in proc.stdout
    assert (tmp_path / "mirrored" / "model.keras").exists()


@pytest.mark.slow
def test_tune_two_tiny_trials(data, tmp_path):
    import yaml
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump({"filters": [4, 8],
                                     "learning_rate": {"min": 1e-3, "max": 1e-2,
                                                       "sampling": "log"}}))
    out = tmp_path / "tuned"
    r = CliRunner().invoke(main, ["tune", str(data["fa"]), "--labels",
                                  str(data["tables"]["binary"]), "--config", str(data["config"]),
                                  "--search-space", str(space), "--max-trials", "2",
                                  "--epochs", "2", "--patience", "2", "-q", "-o", str(out)])
    assert r.exit_code == 0, r.output
    trials = pd.read_csv(out / "trials.tsv", sep="\t")
    assert len(trials) == 2 and set(trials["status"]) == {"COMPLETED"}
    assert trials["val_loss"].is_monotonic_increasing  # best first
    assert set(trials["filters"]) <= {4, 8}
    assert trials["learning_rate"].between(1e-3, 1e-2).all()
    meta = json.loads((out / "metadata.json").read_text())
    best = trials.iloc[0]
    assert meta["model_config"]["filters"][0] == best["filters"]
    assert meta["model_config"]["learning_rate"] == pytest.approx(best["learning_rate"], rel=1e-5)
    assert meta["model_config"]["kernel_sizes"] == [7]  # fixed by the config's model mapping
    assert meta["tuning"]["max_trials"] == 2
    assert (out / "model.keras").exists() and (out / "metrics.json").exists()


def test_tune_bad_search_space(data, tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text("filterz: [4, 8]\n")
    r = CliRunner().invoke(main, ["tune", str(data["fa"]), "--labels",
                                  str(data["tables"]["binary"]), "--search-space", str(space),
                                  "--max-trials", "1", "-o", str(tmp_path / "t")])
    assert r.exit_code == 1 and "unknown key 'filterz'" in r.stderr
    assert not (tmp_path / "t").exists()


def test_augmentation_reverse_complements_and_shifts():
    from seqexplain import one_hot, reverse_complement
    from seqexplain.training.fitting import augmented_dataset

    seqs = ["AACCGGTTAC", "GGGTTTAAAC", "ACGTACGTTT", "TTTTGGGGCA"]
    X = one_hot(seqs)
    y = np.arange(4, dtype=np.float32)[:, None]
    rc = reverse_complement(X)
    seen_flip = seen_plain = False
    for epoch in range(3):  # new augmentations every epoch, all derived from the seed
        for xb, yb in augmented_dataset(X, y, 4, seed=1, reverse_complement=True, shift=0,
                                         weights=None):
            for x, label in zip(xb.numpy(), yb.numpy()[:, 0].astype(int)):
                if np.array_equal(x, X[label]):
                    seen_plain = True
                else:
                    np.testing.assert_array_equal(x, rc[label])  # labels follow their record
                    seen_flip = True
    assert seen_flip and seen_plain
    for xb, yb in augmented_dataset(X, y, 4, seed=2, reverse_complement=False, shift=3,
                                     weights=None):
        for x, label in zip(xb.numpy(), yb.numpy()[:, 0].astype(int)):
            orig = X[label]
            # a shift of s ∈ [-3, 3] with zero fill: some s maps the original onto x
            assert any(np.array_equal(x[max(s, 0):10 + min(s, 0)], orig[max(-s, 0):10 - max(s, 0)])
                       and x.sum() == 10 - abs(s) for s in range(-3, 4))


def test_class_weights_balance_classes():
    from seqexplain.targets import Targets
    from seqexplain.training.fitting import class_weights

    t = Targets("binary", np.array([[0], [0], [0], [1]], np.float32), ["y"], ["0", "1"])
    w = class_weights(t)
    assert w == {0: pytest.approx(4 / 6), 1: pytest.approx(2.0)}
    # each class then carries the same total weight
    assert 3 * w[0] == pytest.approx(1 * w[1])
    assert class_weights(Targets("regression", np.zeros((3, 1)), ["y"])) is None


def _strand_specific(n: int = 400, length: int = 40, seed: int = 0):
    """A motif on the + strand at a fixed place in the positives; none in the negatives."""
    from seqexplain import one_hot
    from seqexplain.targets import make_targets

    rng = np.random.default_rng(seed)
    seqs = ["".join(rng.choice(list("ACGT"), length)) for _ in range(n)]
    y = np.arange(n) % 2
    seqs = [s[:10] + "TTGACAAT" + s[18:] if label else s for s, label in zip(seqs, y)]
    table = pd.DataFrame({"label": y}, index=[f"s{i}" for i in range(n)])
    return one_hot(seqs, "dna"), make_targets(table, "binary")


def test_reverse_complement_is_chosen_by_validation():
    """Off for a strand-specific task (the baselines fail on reversed windows), on for a
    motif planted on either strand, the user's setting kept, off for protein."""
    from seqexplain.simulate import simulate
    from seqexplain.motif_io import load_motifs
    from seqexplain import one_hot
    from seqexplain.targets import make_targets
    from seqexplain.training.choices import choose_reverse_complement
    from seqexplain.training.evaluation import fit_baseline_models
    from seqexplain.training.settings import TrainSettings
    from seqexplain.training.splits import split_indices

    config = TrainSettings(verbose=False)
    X, targets = _strand_specific()
    split = split_indices(targets, config)
    fitted = fit_baseline_models(X, targets, split, config, True)
    value, why = choose_reverse_complement(X, targets, split, config, True, fitted)
    assert value is False and why["baseline"] in ("kmer4", "positional")
    assert why["validation"] > 0.95 and why["validation_reverse_complement"] < 0.7
    assert "strand-specific" in why["reason"]
    kept, why = choose_reverse_complement(X, targets, split,
                                          TrainSettings(reverse_complement=True), True, fitted)
    assert kept is True and why["by"] == "user"
    assert choose_reverse_complement(X, targets, split, config, False, fitted)[0] is False

    # a stalled CNN (constant output) is caught on validation; a perfect one is not
    from seqexplain.training.choices import collapse_check

    class Stub:
        def __init__(self, f):
            self.predict = lambda x, batch_size=None, verbose=0: f(x)

    stalled = collapse_check(Stub(lambda x: np.full((len(x), 1), 0.5)), X, targets, split,
                             fitted)
    assert stalled["retrained"] and stalled["validation_cnn"] == 0.5
    assert stalled["validation_baseline"] > 0.95 and "below the" in stalled["reason"]
    motif = np.array([[0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 1, 0]], np.float32)  # TTG
    perfect = Stub(lambda x: (x[:, 10:13] * motif).sum(axis=(1, 2))[:, None] / 3)
    assert not collapse_check(perfect, X, targets, split, fitted)["retrained"]
    with pytest.raises(SeqexplainError, match="needs DNA or RNA"):
        choose_reverse_complement(X, targets, split, TrainSettings(reverse_complement=True),
                                  False, fitted)

    data = simulate(load_motifs(["GGATAAGGCA"]), n=400, length=40, random_state=1)
    X, targets = one_hot(data.sequences, "dna"), make_targets(data.labels.set_index("id"),
                                                              "binary")
    split = split_indices(targets, config)
    fitted = fit_baseline_models(X, targets, split, config, True)
    value, why = choose_reverse_complement(X, targets, split, config, True, fitted)
    assert value is True and "strand-symmetric" in why["reason"]
    assert abs(why["validation"] - why["validation_reverse_complement"]) < 0.05


@pytest.mark.slow
def test_default_cnn_beats_the_positional_baseline_on_a_positional_grammar():
    """Motif A at −15 and B at +5 (± 3 bp) from the landmark, positive only with both: the
    default model (convolutions + positional path) wins over the positional logistic
    regression, which a jittered, two-strand AND defeats."""
    from seqexplain import one_hot
    from seqexplain.motif_io import load_motifs
    from seqexplain.simulate import simulate
    from seqexplain.targets import make_targets
    from seqexplain.train import train
    from seqexplain.training.settings import TrainSettings

    data = simulate(load_motifs(["GGATAAGG", "CACGTGAC"]), n=600, length=60, task="and",
                    positions=[-15, 5], position_window=3, random_state=3)
    X = one_hot(data.sequences, "dna")
    targets = make_targets(data.labels.set_index("id"), "binary")
    result = train(X, targets, None, TrainSettings(
        epochs=25, patience=5, verbose=False), log=lambda m: None)
    positional = result.baselines["positional"]["auroc"]
    assert result.metrics["auroc"] >= positional + 0.05, (result.metrics["auroc"], positional)
    head = result.choices["head"]
    kernel = result.model.get_layer("position_linear").get_weights()[0].reshape(60, 4)
    # kept when it adds to validation AUROC, else switched off in the returned model: the
    # same weight for every letter of a position, a constant on one-hot input
    constant = np.allclose(kernel, kernel.mean(axis=1, keepdims=True))
    assert head["position_path"] == ("off" if constant else "on")
    gain = head["validation"] - head["validation_without_position_path"]
    kept = ((gain >= 0.002 and head["gain_se"] is not None and gain > 2 * head["gain_se"])
            or head["validation_loss_without_position_path"] > 1.1 * head["validation_loss"])
    assert kept == (head["position_path"] == "on")


def test_hint_when_a_baseline_wins():
    """The warning names the options most likely to close the gap to the winning baseline."""
    from seqexplain.training.choices import what_would_help
    from seqexplain.training.settings import TrainSettings

    rc_on = {"reverse_complement": {"value": True}, "head": {"position_path": "off"}}
    hint = what_would_help("positional", rc_on, None, TrainSettings(), nucleic=True)
    assert hint.startswith("try --no-reverse-complement")
    assert "--position-path" in hint and "--global-pool flatten" in hint
    assert hint.endswith("--restarts 3")
    rc_off = {"reverse_complement": {"value": False}, "head": {"position_path": "on"}}
    hint = what_would_help("positional", rc_off, None, TrainSettings(restarts=3), nucleic=True)
    assert hint == "try --global-pool flatten (position-resolved features)"
    assert "--conv-blocks 1" in what_would_help("kmer4", rc_off, None, TrainSettings(), True)
