"""Which output of a model is explained: target specs parsed against the model's outputs.

A model may have one output tensor — shape (None, T) (T classes or tasks) or (None,) — or
several (a list or dict of outputs, e.g. BPNet's profile head (None, L, S) and counts head
(None, S)). A *target* is one scalar per sequence that the attribution methods explain:

==========================  ===================================================================
spec                        scalar explained
==========================  ===================================================================
``3`` / ``CTCF``            single-output model: column 3 / the column named CTCF
``counts``                  a vector output (None, S): the sum of its S columns (the column
                            itself when S = 1)
``counts:0``                column 0 of the output ``counts``
``profile``                 a per-position output (None, L, S): the BPNet scalar
                            ``sum_l,s w[l,s] · logit[l,s]`` with ``w`` the softmax of the
                            logits over positions (per strand), held constant; a flat
                            profile output (None, L) (ChromBPNet's): the ChromBPNet scalar
                            ``sum_l w[l] · (logit[l] - mean logit)``
``profile:1``               the same on strand (channel) 1 only
``profile:centred``         the mean-centred (ChromBPNet) form on any profile output;
``profile:uncentred``       the uncentred (BPNet) form (``profile:1:centred`` …)
``profile[90:110]``         the sum of the logits over positions 90..109 (all strands)
``profile:1[90:110]``       the same on strand 1 only
``1``                       several outputs: output 1 (as its name)
``profile`` / ``counts``     aliases, when no output has that name: the model's one profile
(``logcount``)              output; its one vector output whose name has "count" in it
``model_wo_bias.profile``    a target of a nested model that takes the model's input (ChromBPNet's
                            bias-free model inside its bias-factorised one): any spec after
                            the nested model's name and ``.``
``all``                     every column of a vector output and every per-position output
``a,b`` or a list           several targets
==========================  ===================================================================

A per-position output is an output of shape (None, L, S), or a flat output (None, L) whose
name contains ``profile`` (ChromBPNet's ``logits_profile_predictions``) or that is named in
``profile_outputs`` (``--profile-output``): one strand.

This module does not import TensorFlow: specs are checked against the output names and
shapes (:class:`Output`) before any model runs. :mod:`seqexplain.attribution.multi_output`
builds the Keras model of a target.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import SeqexplainError

#: the kinds of :class:`Target`
KINDS = ("column", "sum", "profile", "window")
#: the two forms of the profile scalar: BPNet's sum of softmax-weighted logits, and
#: ChromBPNet's, of softmax-weighted *mean-centred* logits
FORMS = ("uncentred", "centred")
#: aliases of the counts head (a vector output with "count" in its name)
COUNT_ALIASES = ("counts", "count", "logcount", "logcounts")

_SPEC = re.compile(r"^(?P<out>[^:\[\]]+?)(?::(?P<ch>\d+))?(?::(?P<form>centred|uncentred))?"
                   r"(?:\[(?P<a>-?\d*):(?P<b>-?\d*)\])?$")
_PROFILE_NAME = re.compile("profile", re.IGNORECASE)
#: the attribute of a loaded Keras model naming its flat outputs read as profiles
#: (``load_model(profile_outputs=…)``), read where targets are parsed against the model
PROFILE_OUTPUTS_ATTRIBUTE = "_seqexplain_profile_outputs"


@dataclass(frozen=True)
class Output:
    """One output tensor of a model: its name and shape without the batch axis."""

    name: str
    shape: tuple
    #: a flat per-position output, shape (L,): one strand (ChromBPNet's profile logits)
    flat: bool = False

    @property
    def is_profile(self) -> bool:
        """Whether the output has one row per position: shape (L, S), or a flat (L,)."""
        return len(self.shape) == 2 or self.flat

    @property
    def channels(self) -> int:
        """S: columns of a vector output, strands of a profile output (1 for shape () and
        for a flat profile)."""
        return 1 if not self.shape or self.flat else int(self.shape[-1])

    def describe(self) -> str:
        if self.flat:
            return (f"{self.name} (flat profile, {self.shape[0]} positions: {self.name}, "
                    f"{self.name}[a:b])")
        if self.is_profile:
            return (f"{self.name} (per position, {self.shape[0]} × {self.channels}: "
                    f"{self.name}, {self.name}:S, {self.name}[a:b])")
        if self.channels == 1:
            return self.name
        return (f"{self.name} ({self.channels} columns: {self.name}, "
                f"{self.name}:0..{self.channels - 1})")


@dataclass(frozen=True)
class Target:
    """One explained scalar: output ``output`` (index into the model's outputs), reduced by
    ``kind`` (see :data:`KINDS`), on channel ``channel`` (None: every channel) and, for
    ``"window"``, over positions ``window = (start, stop)``. ``name`` is a spec that parses
    back to this target; ``single`` tells that the model has one output tensor (the target
    is then one of its columns, explained as before: no extra layer)."""

    name: str
    output: int
    kind: str
    channel: int | None = None
    window: tuple[int, int] | None = None
    single: bool = False
    #: ``"profile"`` targets: the mean-centred (ChromBPNet) form of the scalar
    centred: bool = False
    #: the nested model (by name) whose output ``output`` is read, None: the model's own
    submodel: str | None = None

    @property
    def anchored(self) -> bool:
        """Whether the scalar's weights are held at the explained sequence (BPNet profile
        convention): such targets need the sequence's own weights in IG, ISM, DeepLIFT."""
        return self.kind == "profile"


def outputs_of(shapes, names: Sequence[str] | None = None,
               profile_outputs: Sequence[str] | None = None) -> list[Output]:
    """:class:`Output` list from a Keras ``model.output_shape`` (a tuple, or a list/dict of
    tuples) and ``model.output_names``. A flat output (None, L) is a profile when its name
    contains "profile" or is in ``profile_outputs`` (an error names one that is not a flat
    or per-position output)."""
    if isinstance(shapes, dict):
        names = list(shapes)
        shapes = list(shapes.values())
    elif isinstance(shapes, tuple) and (not shapes or not isinstance(shapes[0], (tuple, list))):
        shapes = [shapes]
    shapes = [tuple(s) for s in shapes]
    names = list(names or [])
    if len(names) != len(shapes):
        names = [f"output_{i}" for i in range(len(shapes))] if len(shapes) > 1 else ["output"]
    out = []
    for name, shape in zip(names, shapes):
        rest = tuple(None if d is None else int(d) for d in shape[1:])
        if len(rest) > 2:
            raise SeqexplainError(f"model output {name!r} has shape {shape}; seqexplain "
                                  f"explains outputs of shape (None,), (None, T) or "
                                  f"(None, L, S)")
        # a flat output of one position is a column, whatever its name
        flat = len(rest) == 1 and rest[0] != 1 and (
            str(name) in (profile_outputs or ()) or bool(_PROFILE_NAME.search(str(name))))
        out.append(Output(str(name), rest, flat))
    for name in profile_outputs or ():
        found = [o for o in out if o.name == name]
        if not found:
            raise SeqexplainError(f"profile output {name!r}: the model has no such output "
                                  f"({', '.join(o.name for o in out)})")
        if not found[0].is_profile:
            raise SeqexplainError(f"profile output {name!r} has shape (None, "
                                  f"{', '.join(map(str, found[0].shape))}); a profile is "
                                  f"(None, L) or (None, L, S)")
    return out


def is_single(outputs: Sequence[Output]) -> bool:
    """Whether targets are columns of one vector output (the classic classifier)."""
    return len(outputs) == 1 and not outputs[0].is_profile


def column_names(outputs: Sequence[Output]) -> list[str]:
    """Names of the scalar columns of the vector outputs (what ``predict`` writes to its
    TSV): ``counts:0``, ``counts:1`` … (``counts`` for one column); for a one-output model,
    ``0`` … ``T-1``."""
    if is_single(outputs):
        return [str(i) for i in range(outputs[0].channels)]
    names = []
    for out in outputs:
        if not out.is_profile:
            names += ([out.name] if out.channels == 1
                      else [f"{out.name}:{c}" for c in range(out.channels)])
    return names


def _describe(outputs: Sequence[Output], columns: Sequence[str] | None) -> str:
    if is_single(outputs):
        names = list(columns or column_names(outputs))
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        return f"the model's outputs are {shown} (or an index 0..{len(names) - 1}, or all)"
    return ("the model's outputs are " + "; ".join(o.describe() for o in outputs)
            + " (or an output index, or all)")


def parse_targets(spec, outputs: Sequence[Output], columns: Sequence[str] | None = None,
                  submodels: dict | None = None) -> list[Target]:
    """The targets named by ``spec`` (None: the default target).

    Parameters
    ----------
    spec : None, an int, a spec string (see the module table; comma-separated for several),
        ``"all"``, or a list of those.
    outputs : the model's outputs (:func:`outputs_of`).
    columns : for a one-output model, its column names (class or task names); default
        ``0 … T-1``.
    submodels : ``{name: outputs}`` of the nested models taking the model's input, whose
        targets are named ``name.spec``.

    Returns
    -------
    list of :class:`Target`, without repeats, in the order given.

    Raises
    ------
    SeqexplainError
        One line naming the spec and listing the valid names.
    """
    if not outputs:
        raise SeqexplainError("the model has no outputs")
    if spec is None:
        return [_default(outputs, columns)]
    if isinstance(spec, str):
        items = [s.strip() for s in spec.split(",") if s.strip()]
    elif isinstance(spec, (list, tuple)):
        items = list(spec)
    else:
        items = [spec]
    if not items:
        raise SeqexplainError(f"target {spec!r}: empty; {_describe(outputs, columns)}")
    found: dict[str, Target] = {}
    for item in items:
        try:
            targets = _nested(item, submodels) or _parse_one(item, outputs, columns)
        except SeqexplainError as exc:
            if not submodels or str(exc).startswith("target "):
                raise
            raise SeqexplainError(f"{exc}; nested models: "
                                  f"{', '.join(f'{n}.TARGET' for n in submodels)}") from None
        for target in targets:
            found.setdefault(target.name, target)
    return list(found.values())


def _nested(item, submodels) -> list[Target] | None:
    """The targets of ``name.spec`` when ``name`` is a nested model of ``submodels`` (a
    dot: target names become file members and folder names, where a slash cannot go)."""
    if not submodels or not isinstance(item, str):
        return None
    name = next((n for n in sorted(submodels, key=len, reverse=True)
                 if item.startswith(f"{n}.")), None)
    if name is None:
        return None
    rest = item[len(name) + 1:]
    found = []
    try:
        inner = parse_targets(rest.strip(), submodels[name])
    except SeqexplainError as exc:
        raise SeqexplainError(f"target {item!r}: in nested model {name!r}: {exc}") from None
    for t in inner:
        kind, channel = (("column", t.channel) if t.single else (t.kind, t.channel))
        found.append(Target(f"{name}.{t.name}", t.output, kind, channel, t.window,
                            centred=t.centred, submodel=name))
    return found


def parse_target(spec, outputs: Sequence[Output], columns: Sequence[str] | None = None,
                 submodels: dict | None = None) -> Target:
    """The one target named by ``spec`` (an error when it names several)."""
    targets = parse_targets(spec, outputs, columns, submodels)
    if len(targets) != 1:
        raise SeqexplainError(f"target {spec!r} names {len(targets)} targets "
                              f"({', '.join(t.name for t in targets[:6])}); give one")
    return targets[0]


def _default(outputs, columns) -> Target:
    if is_single(outputs):
        names = list(columns or column_names(outputs))
        return Target(names[0], 0, "column", 0, single=True)
    return _whole(outputs, 0)


def _whole(outputs, index: int) -> Target:
    out = outputs[index]
    if out.is_profile:
        # each family's own convention: ChromBPNet's flat head its centred form
        return Target(out.name, index, "profile", centred=out.flat)
    if out.channels == 1:
        return Target(out.name, index, "column", 0)
    return Target(out.name, index, "sum")


def _all(outputs, columns) -> list[Target]:
    if is_single(outputs):
        names = list(columns or column_names(outputs))
        return [Target(n, 0, "column", i, single=True) for i, n in enumerate(names)]
    out = []
    for i, o in enumerate(outputs):
        if o.is_profile or o.channels == 1:
            out.append(_whole(outputs, i))
        else:
            out += [Target(f"{o.name}:{c}", i, "column", c) for c in range(o.channels)]
    return out


def _parse_one(item, outputs, columns) -> list[Target]:
    bad = SeqexplainError(f"unknown target {item!r}: {_describe(outputs, columns)}")
    if isinstance(item, bool):
        raise bad
    if isinstance(item, Target):
        return [item]
    text = str(item).strip() if not isinstance(item, numbers.Integral) else str(int(item))
    if text.lower() == "all":
        return _all(outputs, columns)
    if is_single(outputs):
        names = list(columns or column_names(outputs))
        if text in names:
            return [Target(text, 0, "column", names.index(text), single=True)]
        if re.fullmatch(r"-?\d+", text):
            index = int(text)
            if not 0 <= index < len(names):
                raise SeqexplainError(f"target {index} is out of range: the model has "
                                      f"{len(names)} output(s) ({', '.join(names[:12])})")
            return [Target(names[index], 0, "column", index, single=True)]
        raise bad
    match = _SPEC.match(text)
    if not match:
        raise bad
    names = [o.name for o in outputs]
    key = match["out"]
    if key in names:
        index = names.index(key)
    elif re.fullmatch(r"\d+", key) and int(key) < len(outputs):
        index = int(key)
    elif _alias(key, outputs) is not None:
        index = _alias(key, outputs)
    else:
        raise bad
    out = outputs[index]
    form = match["form"]
    if form is not None and (not out.is_profile or match["a"] is not None):
        raise SeqexplainError(f"target {text!r}: :{form} is a form of the profile scalar "
                              f"(a per-position output without a window)")
    channel = None if match["ch"] is None else int(match["ch"])
    if channel is not None and channel >= out.channels:
        raise SeqexplainError(f"target {text!r}: output {out.name!r} has {out.channels} "
                              f"channel(s) (0..{out.channels - 1})")
    strand = "" if channel is None else f":{channel}"
    if match["a"] is not None:  # a window was given
        if not out.is_profile:
            raise SeqexplainError(f"target {text!r}: a window [a:b] needs a per-position "
                                  f"output; {out.name!r} has shape (None, {out.channels})")
        length = out.shape[0]
        start, stop = _window(match["a"], match["b"], length, text)
        return [Target(f"{out.name}{strand}[{start}:{stop}]", index, "window", channel,
                       (start, stop))]
    if out.is_profile:
        centred = out.flat if form is None else form == "centred"
        suffix = "" if form is None else f":{form}"
        return [Target(f"{out.name}{strand}{suffix}", index, "profile", channel,
                       centred=centred)]
    if channel is None:
        return [_whole(outputs, index)]
    if out.channels == 1:
        return [Target(out.name, index, "column", 0)]
    return [Target(f"{out.name}{strand}", index, "column", channel)]


def _alias(key: str, outputs) -> int | None:
    """``profile``: the one per-position output; ``counts``/``logcount``: the one vector
    output whose name has "count" in it (None when there is not exactly one)."""
    if key.lower() == "profile":
        found = [i for i, o in enumerate(outputs) if o.is_profile]
    elif key.lower() in COUNT_ALIASES:
        found = [i for i, o in enumerate(outputs)
                 if not o.is_profile and "count" in o.name.lower()]
    else:
        return None
    return found[0] if len(found) == 1 else None


def _window(a: str, b: str, length: int | None, text: str) -> tuple[int, int]:
    if length is None and (not a or not b or a.startswith("-") or b.startswith("-")):
        raise SeqexplainError(f"target {text!r}: the output's length is not fixed; give both "
                              f"window ends as positive numbers")
    start = int(a) if a else 0
    stop = int(b) if b else length
    if length is not None:
        start = start + length if start < 0 else start
        stop = stop + length if stop < 0 else stop
    if not (0 <= start < stop and (length is None or stop <= length)):
        raise SeqexplainError(f"target {text!r}: window [{a}:{b}] is empty or outside the "
                              f"output's {length} positions")
    return start, stop
