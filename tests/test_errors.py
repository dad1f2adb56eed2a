"""The one argument-checking helper (errors.check*) and the messages it gives, one row per
mistake, through the public functions that use it."""

import pytest
from toy_models import random_onehot, toy_model

from seqexplain.errors import SeqexplainError, check, check_choice, check_int, check_number


@pytest.mark.parametrize("call, message", [
    (lambda: check(False, "bad thing", where="here"), "^here: bad thing$"),
    (lambda: check_int("n", 0), r"^n=0: expected an integer ≥ 1$"),
    (lambda: check_int("n", True), r"^n=True: expected an integer ≥ 1$"),
    (lambda: check_int("n", 2.0, where="cfg"), r"^cfg: n=2.0: expected an integer ≥ 1$"),
    (lambda: check_number("lr", "abc", 0.0, strict=True), r"^lr='abc': expected a number > 0.0$"),
    (lambda: check_number("l2", float("nan"), 0.0), r"^l2=nan: expected a number ≥ 0.0$"),
    (lambda: check_choice("pool", "mean", ("max", "average")),
     r"^pool='mean': choose one of max, average$"),
])
def test_check_helpers_name_the_value_and_what_was_expected(call, message):
    with pytest.raises(SeqexplainError, match=message):
        call()


def test_checks_pass_values_through():
    assert check_int("n", 3) == 3 and check_number("x", "1e-3", 0.0) == 1e-3
    assert check_choice("pool", "MAX", ("max",)) == "max"


@pytest.mark.parametrize("call, message", [
    (lambda m, X: __import__("seqexplain").attribute(m, X, "saliency", batch_size=0),
     r"batch_size=0: expected an integer ≥ 1"),
    (lambda m, X: __import__("seqexplain").attribute(m, X, "integrated_gradients", steps=-1),
     r"steps=-1: expected an integer ≥ 1"),
    (lambda m, X: __import__("seqexplain").ModelSettings.from_dict({"filters": 0}),
     r"model config: filters=0: expected an integer ≥ 1"),
    (lambda m, X: __import__("seqexplain").ModelSettings.from_dict({"padding": "full"}),
     r"model config: padding='full': choose one of"),
    (lambda m, X: __import__("seqexplain").TrainSettings.from_dict({"epochs": 0}),
     r"training config: "),
])
def test_public_functions_use_the_one_helper(call, message):
    with pytest.raises(SeqexplainError, match=message):
        call(toy_model("relu"), random_onehot(2, 40))
