"""The options of the attribution methods, declared once: :class:`MethodSettings`.

The library reads them (:meth:`~.registry.Method.scores` hands each method the ones its verb
takes), the command line generates its flags from them (``seqexplain explain``), and an
attributions file records them as its ``settings``. This module imports neither TensorFlow
nor the methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

#: references per sequence for DeepSHAP (tangermeme's default)
N_REFERENCES = 20
#: named reference sets of DeepSHAP/DeepLIFT (besides arrays and FASTA files)
REFERENCE_KINDS = ("shuffle", "zero", "uniform")


def _option(value: Any, help: str, *, verb: str | None = None, flag: str | None = None,
            recorded: bool = True, **click: Any):
    """A field of :class:`MethodSettings` whose default is ``value``. ``verb``: the verbs' name for
    it (when it differs); ``flag``: the command-line flag (``None``: no flag); ``recorded``:
    kept in a file's ``settings``; ``click``: the flag's other click arguments (``type`` given
    as a function of the ``click`` module, so that this module needs no click import)."""
    return field(default=value, metadata=dict(help=help, verb=verb, flag=flag,
                                                recorded=recorded, click=click))


@dataclass(frozen=True)
class MethodSettings:
    """What the pipeline passes to every method; each method reads what its verb takes.

    ``references`` (deepshap, shap): a kind (``"shuffle"``, ``"zero"``, ``"uniform"``) or an
    array; ``deeplift_reference`` (deeplift): a kind or one (length, C) array; ``seed`` seeds
    the shuffles. The order of the fields is the order of a file's ``settings``."""

    target: int | str = _option(
        0, "Output(s) explained: index or output/class name [0; binary: the positive class]; "
        "for several outputs NAME, NAME:CHANNEL, PROFILE[A:B]; 'all' or A,B for several "
        "targets.", flag="--target", default=None, show_default=False)
    output: str = _option(
        "logit", "Explain the pre-activation logit or the probability.", flag="--output",
        type=lambda click: click.Choice(["logit", "prob"]))
    references: Any = _option(
        "shuffle", "deepshap/shap references: shuffle (dinucleotide shuffles of each "
        "sequence), zero, uniform, or a FASTA file used for every sequence.",
        flag="--references")
    n_references: int = _option(
        N_REFERENCES, "Shuffles per sequence for --references shuffle.",
        flag="--n-references", type=lambda click: click.IntRange(min=1))
    correct: bool = _option(
        True, "Raw gradients for saliency (default: gradient correction, channel mean "
        "subtracted).", flag="--no-correct", flag_value=False, show_default=False)
    ig_steps: int = _option(50, "", verb="steps", flag="--ig-steps",
                            type=lambda click: click.IntRange(min=1))
    batch_size: int = _option(256, "", flag="--batch-size",
                              type=lambda click: click.IntRange(min=1))
    chunk_size: int = _option(
        1000, "Sequences read, explained and written at a time (bounds memory; rounded up "
        "to a multiple of 32, the blocks that seed the shuffled references, so results do "
        "not depend on it).", flag="--chunk-size", type=lambda click: click.IntRange(min=1))
    seed: int | None = _option(0, "", verb="random_state", flag="--seed",
                              type=lambda click: int)
    deeplift_reference: Any = _option(
        "uniform", "deeplift's one reference: a kind or a (length, C) array (the pipeline "
        "derives it from references).", verb="reference", recorded=False)

    def for_verb(self, parameters) -> dict[str, Any]:
        """The options a verb taking ``parameters`` (names) reads, under its names."""
        out = {}
        for f in fields(MethodSettings):
            name = f.metadata["verb"] or f.name
            if name in parameters:
                out[name] = getattr(self, f.name)
        return out

    def recorded(self) -> dict[str, Any]:
        """The options a file's ``settings`` keeps, in order."""
        return {f.name: getattr(self, f.name) for f in fields(MethodSettings)
                if f.metadata["recorded"]}


def option_fields() -> list:
    """The fields of :class:`MethodSettings` that have a command-line flag, in order."""
    return [f for f in fields(MethodSettings) if f.metadata["flag"]]
