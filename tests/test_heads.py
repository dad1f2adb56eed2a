"""Target specs against a model's outputs (seqexplain.heads): no TensorFlow needed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from seqexplain.errors import SeqexplainError
from seqexplain.heads import Output, column_names, outputs_of, parse_target, parse_targets

BPNET = outputs_of([(None, 1000, 2), (None, 2)], ["profile", "counts"])
CLASSIFIER = outputs_of((None, 3))


def names(spec, outputs=BPNET, columns=None):
    return [t.name for t in parse_targets(spec, outputs, columns)]


def test_outputs_of_shapes_and_dicts():
    assert BPNET == [Output("profile", (1000, 2)), Output("counts", (2,))]
    assert outputs_of({"a": (None, 5, 1), "b": (None,)}) == [Output("a", (5, 1)),
                                                            Output("b", ())]
    assert CLASSIFIER == [Output("output", (3,))]
    assert column_names(BPNET) == ["counts:0", "counts:1"]
    assert column_names(CLASSIFIER) == ["0", "1", "2"]
    with pytest.raises(SeqexplainError, match=r"output 'x' has shape \(None, 2, 3, 4\)"):
        outputs_of([(None, 2, 3, 4)], ["x"])


@pytest.mark.parametrize("spec, kind, channel, window, name", [
    (None, "profile", None, None, "profile"),
    ("profile", "profile", None, None, "profile"),
    ("profile:1", "profile", 1, None, "profile"),
    ("profile[90:110]", "window", None, (90, 110), "profile[90:110]"),
    ("profile:0[-10:]", "window", 0, (990, 1000), "profile:0[990:1000]"),
    ("counts", "sum", None, None, "counts"),
    ("counts:1", "column", 1, None, "counts:1"),
    (1, "sum", None, None, "counts"),
    ("0", "profile", None, None, "profile"),
])
def test_one_target(spec, kind, channel, window, name):
    t = parse_target(spec, BPNET)
    assert (t.kind, t.channel, t.window) == (kind, channel, window)
    expected = name if name != "profile" or channel is None else f"profile:{channel}"
    assert t.name == expected
    assert parse_target(t.name, BPNET) == t  # a name parses back to its target


def test_several_targets_and_all():
    assert names("all") == ["profile", "counts:0", "counts:1"]
    assert names("counts:0, profile[1:3],counts:0") == ["counts:0", "profile[1:3]"]
    assert names(["profile", 1]) == ["profile", "counts"]
    assert names("all", CLASSIFIER, ["a", "b", "c"]) == ["a", "b", "c"]
    t = parse_target("b", CLASSIFIER, ["a", "b", "c"])
    assert t.single and t.channel == 1
    assert parse_target(2, CLASSIFIER).channel == 2


@pytest.mark.parametrize("spec, outputs, message", [
    ("foo", BPNET, "unknown target 'foo': the model's outputs are profile (per position, "
                   "1000 × 2: profile, profile:S, profile[a:b]); counts (2 columns: counts, "
                   "counts:0..1) (or an output index, or all)"),
    ("counts:2", BPNET, "target 'counts:2': output 'counts' has 2 channel(s) (0..1)"),
    ("counts[0:1]", BPNET, "a window [a:b] needs a per-position output"),
    ("profile[5:5]", BPNET, "window [5:5] is empty or outside the output's 1000 positions"),
    ("profile[0:2000]", BPNET, "window [0:2000] is empty"),
    ("5", BPNET, "unknown target '5'"),
    ("3", CLASSIFIER, "target 3 is out of range: the model has 3 output(s) (0, 1, 2)"),
    ("d", CLASSIFIER, "unknown target 'd': the model's outputs are 0, 1, 2"),
    (True, CLASSIFIER, "unknown target True"),
    ("", BPNET, "target '': empty"),
])
def test_bad_specs_are_one_line(spec, outputs, message):
    with pytest.raises(SeqexplainError) as err:
        parse_targets(spec, outputs)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_parse_target_wants_one():
    with pytest.raises(SeqexplainError, match="names 3 targets"):
        parse_target("all", BPNET)


def test_heads_does_not_import_tensorflow():
    code = ("import sys, seqexplain.heads as h; h.parse_targets('all', h.outputs_of("
            "[(None, 5, 2), (None, 2)], ['p', 'c'])); print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_unbuilt_model_is_one_line():
    """Both model readers (one output, several outputs) share the same check and message."""
    import keras

    from seqexplain.attribution.logits import explained_model
    from seqexplain.attribution.multi_output import model_outputs

    model = keras.Sequential([keras.layers.Dense(2)], name="unbuilt")
    for read in (model_outputs, lambda m: explained_model(m, "logit")):
        with pytest.raises(SeqexplainError, match="model 'unbuilt' is not built: build it"):
            read(model)



CHROMBPNET = outputs_of([(None, 1000), (None, 1)],
                        ["logits_profile_predictions", "logcount_predictions"])


def test_flat_profile_outputs_by_name_or_flag():
    profile, counts = CHROMBPNET
    assert profile == Output("logits_profile_predictions", (1000,), flat=True)
    assert (profile.is_profile, profile.channels, counts.is_profile) == (True, 1, False)
    # a flat output of another name is a vector, unless named a profile
    assert not outputs_of([(None, 40)], ["track"])[0].is_profile
    assert outputs_of([(None, 40)], ["track"], ["track"])[0].flat
    # one position is a column, whatever the name
    assert not outputs_of([(None, 1)], ["profile_total"])[0].is_profile
    with pytest.raises(SeqexplainError, match=r"profile output 'nope': the model has no such "
                                              r"output \(track\)"):
        outputs_of([(None, 40)], ["track"], ["nope"])
    assert column_names(CHROMBPNET) == ["logcount_predictions"]


def test_profile_and_counts_aliases_and_the_two_forms():
    profile = parse_target("profile", CHROMBPNET)
    # ChromBPNet's flat head: its own (mean-centred) form by default
    assert (profile.name, profile.kind, profile.centred) == (
        "logits_profile_predictions", "profile", True)
    assert parse_target(None, CHROMBPNET) == profile
    assert names("counts,logcount", CHROMBPNET) == ["logcount_predictions"]
    plain = parse_target("profile:uncentred", CHROMBPNET)
    assert (plain.name, plain.centred) == ("logits_profile_predictions:uncentred", False)
    assert parse_target(plain.name, CHROMBPNET) == plain  # names parse back
    window = parse_target("profile[10:20]", CHROMBPNET)
    assert (window.kind, window.window, window.centred) == ("window", (10, 20), False)
    # BPNet's (L, S) head: uncentred by default, centred on request
    assert not parse_target("profile", BPNET).centred
    assert parse_target("profile:1:centred", BPNET) == parse_target(
        "profile:1:centred", BPNET)
    assert parse_target("profile:1:centred", BPNET).centred
    for bad, message in (("counts:centred", "is a form of the profile scalar"),
                         ("profile:centred[0:5]", "is a form of the profile scalar")):
        with pytest.raises(SeqexplainError, match=message):
            parse_target(bad, CHROMBPNET)
    # an alias that names two outputs names none
    two = outputs_of([(None, 50), (None, 1), (None, 1)], ["profile", "count_a", "count_b"])
    with pytest.raises(SeqexplainError, match="unknown target 'counts'"):
        parse_target("counts", two)
