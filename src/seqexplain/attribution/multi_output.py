"""The Keras model of one explained target: an output picked by name or index, one channel
of it, or the scalar of a per-position (profile) output.

:func:`explained_target` is what every attribution verb calls: ``(model, target, output)`` →
``(a model whose output column is the explained scalar, that column)``. For a model with one
output of shape (None, T) and an integer target this is :func:`~.logits.explained_model` and
the target itself, as before. Otherwise the target spec is parsed
(:mod:`seqexplain.heads`) and a model sharing every layer and weight of ``model`` is built
(and cached on ``model``) with output (None, 1):

- a column of a vector output: the output's logit (a final sigmoid/softmax split off, as for
  one-output models), column ``c``;
- a whole vector output (``counts``): :class:`ChannelSum` of its logits (BPNet's total count
  over strands);
- a per-position output (None, L, S) — ``profile``: :class:`ProfileScalar`, the BPNet /
  ChromBPNet convention ``sum_{l,s} w[l,s] · logit[l,s]`` with ``w = softmax over l of
  logit[:, s]`` **held constant**: its gradient does not flow through ``w``
  (``stop_gradient``), and every method fixes ``w`` at the *explained sequence's* softmax —
  DeepLIFT/DeepSHAP at the references, integrated gradients along the path, ISM at the
  mutants. The explained scalar of a sequence ``x`` is therefore the linear function
  ``g_x(z) = sum w_x · logit(z)`` of the profile logits, so that completeness holds exactly
  for DeepSHAP and ISM is the change of ``g_x``;
- the same with the logits **mean-centred** over positions (per strand) — ChromBPNet's form,
  ``sum_{l,s} w[l,s] · (logit[l,s] - mean_l logit[:, s])``, the default on a flat profile
  output (None, L) and ``profile:centred`` on any: since the weights sum to 1 per strand it
  is the uncentred (BPNet) scalar minus the mean logit, so the two attributions differ by
  the attribution of the mean logit;
- a window ``profile[a:b]``: the logits summed over positions a..b-1 (and the strands), a
  linear readout with no weights.

Profile outputs are explained as they are (BPNet heads are logits); ``output="prob"`` only
matters for vector outputs.
"""

from __future__ import annotations

import dataclasses
import numbers
import re

import keras
import tensorflow as tf

from ..errors import SeqexplainError
from ..bundle import model_submodels
from ..heads import PROFILE_OUTPUTS_ATTRIBUTE, Output, Target, is_single, outputs_of, \
    parse_target
from .engine import is_graph_model, model_cache
from .logits import OUTPUTS, model_inputs, built_outputs, check_target, explained_model


class ChannelSum(keras.layers.Layer):
    """Sum over the last axis, keeping it: (None, S) → (None, 1). Linear."""

    def call(self, inputs):
        return tf.reduce_sum(inputs, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 1)


class ProfileScalar(keras.layers.Layer):
    """The scalar of a per-position output (None, L, S) → (None, 1).

    ``window=None``: ``sum_{l,s} stop_gradient(softmax_l(p))[l,s] · p[l,s]`` (BPNet), with
    ``p`` mean-centred over positions first when ``centred`` (ChromBPNet);
    ``window=(a, b)``: ``sum_{a<=l<b, s} p[l,s]``. ``strand``: only channel ``s`` of ``p``.
    A flat output (None, L) is read as one strand (None, L, 1).
    :meth:`reduce` takes the weights from outside: the attribution methods hold them at the
    explained sequence's softmax (see the module docstring).
    """

    def __init__(self, window: tuple[int, int] | None = None, strand: int | None = None,
                 centred: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.window = None if window is None else (int(window[0]), int(window[1]))
        self.strand = None if strand is None else int(strand)
        self.centred = bool(centred) and window is None

    @property
    def anchored(self) -> bool:
        return self.window is None

    def select(self, p):
        """The strand (all strands when ``strand`` is None) and window of ``p``."""
        if p.shape.rank == 2:  # a flat profile: one strand
            p = p[..., None]
        if self.strand is not None:
            p = p[..., self.strand:self.strand + 1]
        if self.window is not None:
            p = p[:, self.window[0]:self.window[1]]
        return p

    def weights_for(self, p):
        """Softmax over positions of selected logits ``p`` (None, L, S'), gradient stopped."""
        return tf.stop_gradient(tf.nn.softmax(p, axis=1))

    def reduce(self, p, weights=None):
        """(None, 1): the weighted sum of selected logits ``p`` (plain sum for a window)."""
        if self.centred:  # linear in p: the engine's rule stays exact
            p = p - tf.reduce_mean(p, axis=1, keepdims=True)
        if weights is not None:
            p = p * weights
        return tf.reduce_sum(p, axis=[1, 2])[:, None]

    def call(self, inputs):
        p = self.select(inputs)
        return self.reduce(p, self.weights_for(p) if self.anchored else None)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1)


def model_outputs(model: keras.Model) -> list[Output]:
    """The :class:`~seqexplain.heads.Output` list of a built Sequential/Functional model."""
    tensors = built_outputs(model)
    names = list(getattr(model, "output_names", None) or [])
    # flat outputs named profile heads when the model was loaded (--profile-output)
    return outputs_of([tuple(t.shape) for t in tensors], names,
                      getattr(model, PROFILE_OUTPUTS_ATTRIBUTE, None))


def explained_target(model: keras.Model, target=0, output: str = "logit", X=None
                     ) -> tuple[keras.Model, int]:
    """``(explained model, column)``: the model whose output column ``column`` is the scalar
    named by ``target`` (an int or a spec, see :mod:`seqexplain.heads`).

    Parameters
    ----------
    model : a Keras model, input (None, L, C).
    target : an output index, or a spec such as ``"counts:0"``, ``"profile"``,
        ``"profile[90:110]"`` (one target).
    output : ``"logit"`` or ``"prob"``.
    X : sequences, used to probe a subclassed model's output.
    """
    if output not in OUTPUTS:
        raise SeqexplainError(f"output={output!r}: choose 'logit' or 'prob'")
    if isinstance(target, Target):
        spec = target
    elif not is_graph_model(model):
        explained = explained_model(model, output)
        return explained, check_target(explained, target, X)
    else:
        outs = model_outputs(model)
        if (is_single(outs) and isinstance(target, numbers.Integral)
                and not isinstance(target, bool)):
            explained = explained_model(model, output)
            return explained, check_target(explained, target, X)
        spec = parse_target(target, outs, submodels=model_submodels(model))
    if spec.single:
        explained = explained_model(model, output)
        return explained, check_target(explained, spec.channel, X)
    return target_model(model, spec, output), (spec.channel if spec.kind == "column" else 0)


def target_model(model: keras.Model, target: Target, output: str = "logit") -> keras.Model:
    """A model sharing ``model``'s layers whose output (None, 1) is ``target``'s scalar (for a
    ``"column"`` target: the output's logits, read at column ``target.channel`` — see
    :func:`explained_target`). Cached on ``model``."""
    key = ("target_model", target.name, output)
    cache = model_cache(model)
    if key in cache:
        return cache[key]
    if target.submodel is not None:
        result = _nested_target_model(model, target, output)
        cache[key] = result
        return result
    tensor = model.outputs[target.output]
    inputs = model_inputs(model)
    safe = re.sub(r"[^A-Za-z0-9_]", "_", target.name)
    if target.kind in ("column", "sum"):
        head = keras.Model(inputs, tensor, name=f"{model.name}_{safe}_head")
        head = explained_model(head, output)
        if target.kind == "column":  # read at column target.channel
            result = head
        else:
            result = keras.Model(inputs, ChannelSum(name=f"{safe}_sum")(head.outputs[0]),
                                 name=f"{model.name}_{safe}")
    else:
        layer = ProfileScalar(target.window, target.channel, target.centred,
                              name=f"{safe}_scalar")
        result = keras.Model(inputs, layer(tensor), name=f"{model.name}_{safe}")
        if layer.anchored:
            profile = keras.Model(inputs, tensor, name=f"{model.name}_{safe}_profile")
            model_cache(result)["anchor"] = (profile, layer)
    cache[key] = result
    return result


def _nested_target_model(model: keras.Model, target: Target, output: str) -> keras.Model:
    """The target of a nested model (``target.submodel``) as a model of ``model``'s input:
    the nested model's own target model, called on that input (the same layers and
    weights); a profile target keeps its anchor."""
    inner = target_model(model.get_layer(target.submodel),
                         dataclasses.replace(target, submodel=None), output)
    inputs = model_inputs(model)
    x = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
    safe = re.sub(r"[^A-Za-z0-9_]", "_", target.name)
    result = keras.Model(x, inner(x), name=f"{model.name}_{safe}")
    anchor = anchor_of(inner)
    if anchor is not None:
        model_cache(result)["anchor"] = (keras.Model(x, anchor[0](x)), anchor[1])
    return result


def anchor_of(model: keras.Model):
    """``(profile model, ProfileScalar layer)`` when ``model`` is a profile target model whose
    weights are held at the explained sequence (see the module docstring); else None."""
    return model_cache(model).get("anchor") if is_graph_model(model) else None
