import numpy as np
import pandas as pd
import pytest

from seqexplain import SeqexplainError
from seqexplain.targets import infer_task, make_targets


def frame(**cols):
    return pd.DataFrame(cols, index=pd.Index([f"r{i}" for i in range(len(next(iter(cols.values()))))], name="id"))


@pytest.mark.parametrize("labels,task", [
    (frame(y=[0.0, 1.0, 1.0, 0.0]), "binary"),
    (frame(y=[0.5, 1.0, 2.0, 0.0]), "regression"),
    (frame(y=["pos", "neg", "pos", "neg"]), "binary"),
    (frame(y=["a", "b", "c", "a"]), "multiclass"),
    (frame(a=[0.0, 1.0, 1.0, 0.0], b=[1.0, 1.0, 0.0, 0.0]), "multilabel"),
    (frame(a=[0.1, 1.0, 1.0, 0.0], b=[1.0, 1.0, 0.0, 3.0]), "regression"),
])
def test_infer_task(labels, task):
    assert infer_task(labels) == task
    assert make_targets(labels).task == task


def test_mixed_columns_need_task():
    with pytest.raises(SeqexplainError, match="mixed types"):
        infer_task(frame(a=[0.0, 1.0], b=["x", "y"]))


def test_binary_layouts_and_positive_class():
    t = make_targets(frame(label=[0.0, 1.0, 1.0]))
    assert t.y.shape == (3, 1) and t.y[:, 0].tolist() == [0, 1, 1]
    assert t.output_names == ["label"] and t.class_names == ["0", "1"]
    t = make_targets(frame(label=["neg", "pos", "pos"]))
    assert t.class_names == ["neg", "pos"] and t.y[:, 0].tolist() == [0, 1, 1]
    t = make_targets(frame(label=["neg", "pos", "pos"]), positive_class="neg")
    assert t.class_names == ["pos", "neg"] and t.y[:, 0].tolist() == [1, 0, 0]
    # one FASTA per class: the first file is the positive class
    t = make_targets(frame(label=["bound", "unbound"]), class_order=["bound", "unbound"])
    assert t.class_names == ["unbound", "bound"] and t.y[:, 0].tolist() == [1, 0]
    with pytest.raises(SeqexplainError, match="positive class 'x' is not one of"):
        make_targets(frame(label=["a", "b"]), positive_class="x")


def test_multiclass_layout():
    t = make_targets(frame(label=["b", "a", "c", "a"]))
    assert t.task == "multiclass" and t.class_names == ["a", "b", "c"]
    assert t.y.tolist() == [1, 0, 2, 0] and t.n_outputs == 3


def test_multilabel_and_regression_layouts():
    t = make_targets(frame(a=[0.0, 1.0], b=[1.0, 1.0]))
    assert t.y.shape == (2, 2) and t.output_names == ["a", "b"]
    t = make_targets(frame(signal=[0.5, 2.0, 1.0]))
    assert t.task == "regression" and t.y[:, 0].tolist() == [0.5, 2.0, 1.0]


@pytest.mark.parametrize("labels,task,match", [
    (frame(y=["a", "b", "c"]), "binary", r"binary needs 2 classes, the labels have 3"),
    (frame(y=["a", "a", "a"]), None, "a classifier needs at least two classes"),
    (frame(y=["a", "b", "c"]), "regression", "holds class names, not numbers"),
    (frame(y=[0.0, 2.0, 1.0]), "multilabel", "values other than 0 and 1"),
    (frame(y=[1.0, 1.0, 1.0]), "regression", "same value for every record"),
    (frame(a=[0.0, 1.0], b=[1.0, 0.0]), "binary", "takes one label column"),
    (frame(a=[0.0, 1.0]), "ranking", "unknown task 'ranking'"),
])
def test_labels_that_do_not_fit_the_task(labels, task, match):
    with pytest.raises(SeqexplainError, match=match):
        make_targets(labels, task)


def test_stratify_key():
    t = make_targets(frame(a=[0.0, 1.0, 1.0], b=[1.0, 1.0, 0.0]))
    assert t.stratify_key().tolist() == ["01", "11", "10"]
    assert make_targets(frame(y=[0.5, 2.0])).stratify_key() is None
    np.testing.assert_array_equal(make_targets(frame(y=["a", "b"])).stratify_key(), [0, 1])
