"""Tests for seqexplain.metrics against values computed by hand on tiny inputs."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn.metrics import matthews_corrcoef

from seqexplain.errors import SeqexplainError
from seqexplain.metrics import (TASKS, evaluate, main_metric, normalize_scores,
                                normalize_targets)

# y = [0, 0, 1, 1], p = [0.1, 0.4, 0.35, 0.8]; at threshold 0.5 only the last is positive:
# TP=1, TN=2, FP=0, FN=1.
BINARY_Y = [0, 0, 1, 1]
BINARY_P = [0.1, 0.4, 0.35, 0.8]
BINARY_EXPECTED = {
    "auroc": 0.75,                      # 3 of the 4 (positive, negative) pairs are ordered
    "auprc": 0.5 * 1 + 0.5 * 2 / 3,     # recall steps 0.5 at precision 1, 0.5 at 2/3
    "accuracy": 0.75,
    "precision": 1.0,
    "recall": 0.5,
    "f1": 2 / 3,
    "mcc": 2 / math.sqrt(12),           # (TP·TN − FP·FN) / √((TP+FP)(TP+FN)(TN+FP)(TN+FN))
}


def test_binary_by_hand():
    result = evaluate("binary", BINARY_Y, BINARY_P)
    assert result["task"] == "binary"
    assert result["n"] == 4
    for key, value in BINARY_EXPECTED.items():
        assert result[key] == pytest.approx(value), key


def test_binary_mcc_matches_scikit_learn():
    rng = np.random.default_rng(0)
    y, p = rng.integers(2, size=50), rng.random(50)
    assert evaluate("binary", y, p)["mcc"] == pytest.approx(
        matthews_corrcoef(y, (p >= 0.5).astype(int)))


def test_binary_accepts_column_vectors_and_a_threshold():
    column = evaluate("binary", np.array(BINARY_Y)[:, None], np.array(BINARY_P)[:, None])
    assert column == evaluate("binary", BINARY_Y, BINARY_P)
    low = evaluate("binary", BINARY_Y, BINARY_P, threshold=0.3)
    # predictions 0, 1, 1, 1: TP=2, FP=1
    assert low["precision"] == pytest.approx(2 / 3)
    assert low["recall"] == 1.0
    assert low["auroc"] == 0.75


def test_one_class_gives_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        negatives = evaluate("binary", [0, 0, 0], [0.1, 0.7, 0.2])
        positives = evaluate("binary", [1, 1, 1], [0.1, 0.7, 0.2])
        all_right = evaluate("binary", [0, 0], [0.1, 0.2])
    assert all_right["accuracy"] == 1.0
    assert all_right["mcc"] == 0.0
    assert math.isnan(negatives["auroc"])
    assert math.isnan(negatives["auprc"])
    assert negatives["accuracy"] == pytest.approx(2 / 3)
    assert math.isnan(positives["auroc"])
    assert positives["auprc"] == 1.0


def test_multiclass_by_hand():
    y = [0, 1, 2, 2]
    p = np.array([[0.7, 0.2, 0.1],
                  [0.3, 0.4, 0.3],
                  [0.2, 0.5, 0.3],
                  [0.1, 0.1, 0.8]])
    result = evaluate("multiclass", y, p, class_names=["a", "b", "c"])
    # arg-max predictions 0, 1, 1, 2
    assert result["accuracy"] == 0.75
    # F1 per class: a 1, b 2/3 (precision 1/2, recall 1), c 2/3 (precision 1, recall 1/2)
    assert result["macro_f1"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    per = result["per_class"]
    assert per["b"]["precision"] == 0.5
    assert per["c"]["recall"] == 0.5
    # one-vs-rest: a 0.7 is above 0.3, 0.2, 0.1 → 1; b 0.4 is above 0.2, 0.1 and below 0.5
    # → 2/3; c 0.3 and 0.8 against 0.1 and 0.3 → (1 + 0.5 tie + 1 + 1) / 4
    assert per["a"]["auroc"] == 1.0
    assert per["b"]["auroc"] == pytest.approx(2 / 3)
    assert per["c"]["auroc"] == pytest.approx(0.875)
    assert result["auroc"] == pytest.approx((1 + 2 / 3 + 0.875) / 3)
    # one-hot labels give the same numbers
    assert evaluate("multiclass", np.eye(3)[y], p, class_names=["a", "b", "c"]) == result


def test_multiclass_absent_class_is_nan_and_skipped_in_the_mean():
    p = np.array([[0.8, 0.1, 0.1], [0.3, 0.6, 0.1], [0.6, 0.3, 0.1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = evaluate("multiclass", [0, 1, 0], p)
    assert math.isnan(result["per_class"]["2"]["auroc"])
    assert result["per_class"]["0"]["auroc"] == 1.0
    assert result["auroc"] == 1.0


def test_multilabel_is_binary_per_label():
    y = np.array([BINARY_Y, [1, 0, 1, 0]]).T
    p = np.array([BINARY_P, [0.9, 0.2, 0.6, 0.7]]).T
    result = evaluate("multilabel", y, p, class_names=["x", "y"])
    second = evaluate("binary", y[:, 1], p[:, 1])
    assert result["per_label"]["x"] == {k: evaluate("binary", BINARY_Y, BINARY_P)[k]
                                        for k in BINARY_EXPECTED}
    assert result["per_label"]["y"]["auroc"] == second["auroc"] == 0.75
    for key in BINARY_EXPECTED:
        assert result[key] == pytest.approx((BINARY_EXPECTED[key] + second[key]) / 2), key


def test_multilabel_mean_skips_undefined_labels():
    y = np.array([[0, 0], [1, 0], [1, 0]])
    p = np.array([[0.2, 0.1], [0.9, 0.3], [0.8, 0.2]])
    result = evaluate("multilabel", y, p)
    assert math.isnan(result["per_label"]["1"]["auroc"])
    assert result["auroc"] == 1.0


def test_regression_by_hand():
    result = evaluate("regression", [1, 2, 3, 4], [1, 3, 2, 5])
    assert result["mse"] == 0.75
    assert result["mae"] == 0.75
    # Σdxdy = 5.5, Σdx² = 5, Σdy² = 8.75
    assert result["pearson_r"] == pytest.approx(5.5 / math.sqrt(5 * 8.75))
    # rank differences 0, 1, 1, 0: 1 − 6·2 / (4·15)
    assert result["spearman_rho"] == pytest.approx(0.8)
    # 1 − SSres / SStot = 1 − 3 / 5
    assert result["r2"] == pytest.approx(0.4)


def test_regression_constant_sides_give_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        constant_true = evaluate("regression", [2, 2, 2], [1, 2, 3])
        constant_pred = evaluate("regression", [1, 2, 3], [2, 2, 2])
    assert math.isnan(constant_true["pearson_r"])
    assert math.isnan(constant_true["spearman_rho"])
    assert math.isnan(constant_true["r2"])
    assert constant_true["mse"] == pytest.approx(2 / 3)
    assert math.isnan(constant_pred["pearson_r"])
    assert constant_pred["r2"] == pytest.approx(0.0)   # SSres = SStot = 2


def test_regression_several_targets():
    y = np.array([[1, 2, 3, 4], [1, 2, 3, 4]]).T
    p = np.array([[1, 3, 2, 5], [1, 2, 3, 4]]).T
    result = evaluate("regression", y, p, class_names=["first", "second"])
    single = evaluate("regression", y[:, 0], p[:, 0])
    assert result["per_target"]["first"] == {k: single[k] for k in result["per_target"]["first"]}
    assert result["per_target"]["second"]["r2"] == 1.0
    assert result["mse"] == pytest.approx(0.75 / 2)
    assert result["pearson_r"] == pytest.approx((5.5 / math.sqrt(5 * 8.75) + 1) / 2)


def test_main_metric_of_each_task_is_a_key_of_evaluate():
    assert {task: main_metric(task) for task in TASKS} == {
        "binary": "auroc", "multiclass": "auroc", "multilabel": "auroc",
        "regression": "pearson_r"}
    # the named metric is a key of evaluate's result for every task
    assert "pearson_r" in evaluate("regression", [1, 2, 3], [1, 2, 2])
    with pytest.raises(SeqexplainError, match="task='ranking': choose one of binary"):
        main_metric("ranking")


def test_normalize_targets_layouts():
    assert normalize_targets("binary", [[1], [0]]).tolist() == [1, 0]
    assert normalize_targets("binary", [True, False]).tolist() == [1, 0]
    assert normalize_targets("multiclass", np.eye(3)[[2, 0]]).tolist() == [2, 0]
    assert normalize_targets("multiclass", [2.0, 0.0]).tolist() == [2, 0]
    assert normalize_targets("regression", [[1.5], [2.5]]).tolist() == [1.5, 2.5]
    assert normalize_targets("multilabel", [[1, 0], [0, 1]]).shape == (2, 2)
    assert normalize_scores("binary", [[0.2], [0.7]]).tolist() == [0.2, 0.7]


@pytest.mark.parametrize("task, y_true, y_pred, kwargs, message", [
    ("binary", [0, 2], [0.1, 0.2], {}, "binary labels must be 0 or 1"),
    ("binary", [[0, 1], [1, 0]], [0.1, 0.2], {}, "use task 'multilabel'"),
    ("binary", [0, 1, 1], [0.1, 0.2], {}, "2 predictions for 3 labels"),
    ("binary", [0, 1], [0.1, np.nan], {}, "NaN or infinite"),
    ("multiclass", [0, 3], [[0.5, 0.5], [0.5, 0.5]], {}, "class index 3 out of range for 2"),
    ("multiclass", [0, 0.5], [[0.5, 0.5], [0.5, 0.5]], {}, "class indices"),
    ("multiclass", [[1, 1], [0, 1]], [[0.5, 0.5], [0.5, 0.5]], {}, "must be one-hot"),
    ("multiclass", [0, 1], [0.5, 0.5], {}, r"shape \(n, outputs\)"),
    ("multilabel", [0, 1], [[0.5], [0.5]], {}, r"shape \(n, labels\)"),
    ("multilabel", [[0, 1], [1, 0]], [[0.5, 0.5], [0.5, 0.5]], {"class_names": ["a"]},
     "1 names for 2 outputs"),
    ("regression", ["a", "b"], [1, 2], {}, "expected numbers"),
    ("regression", [[1, 2], [3, 4]], [1, 2], {}, "2 regression targets; expected 1"),
])
def test_bad_inputs(task, y_true, y_pred, kwargs, message):
    with pytest.raises(SeqexplainError, match=message):
        evaluate(task, y_true, y_pred, **kwargs)
