"""Which output of a model the attribution methods explain: the logit (default) or the
probability, and which column of it (``target``).

Attributions of probabilities are squashed where the sigmoid/softmax saturates, so methods
explain the pre-activation logit by default. :func:`logit_model` finds it without relying on
layer names: it is the input of a final sigmoid/softmax ``Activation`` layer, or the
pre-activation of a final ``Dense``/``Conv`` layer with a built-in sigmoid/softmax.
"""

from __future__ import annotations

import numbers

import keras

from ..errors import SeqexplainError
from .engine import LinearPart, activation_name, is_graph_model, layer_kind, model_cache

#: final activations that :func:`logit_model` strips
SQUASHING_ACTIVATIONS = ("sigmoid", "softmax")
OUTPUTS = ("logit", "prob")


class PreActivation(keras.layers.Layer):
    """A Dense/Conv layer's output before its built-in activation, sharing its weights (so
    that the logit model follows further training of the original model)."""

    def __init__(self, layer: keras.layers.Layer, **kwargs):
        # computes in the wrapped layer's dtype (a float64 model stays float64)
        super().__init__(name=f"{layer.name}_logits", dtype=layer.dtype_policy, **kwargs)
        self.layer = layer

    def call(self, inputs):
        with LinearPart(self.layer):
            return self.layer(inputs)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)


def logit_model(model: keras.Model) -> keras.Model:
    """A model sharing ``model``'s layers whose output is the logit before the final
    sigmoid/softmax.

    - final ``Activation("sigmoid" | "softmax")`` layer (seqexplain's ``logits`` →
      ``output`` layout): a model ending at that layer's input, sharing every weight;
    - final ``Dense``/``Conv`` layer with a built-in ``activation="sigmoid" | "softmax"``: that
      layer called without its activation (:class:`PreActivation`, same weights);
    - any other final layer (linear, regression): ``model`` itself.

    Parameters
    ----------
    model : a built Sequential or Functional Keras model with one output.

    Returns
    -------
    keras.Model
        Input as ``model``, output shape (None, n_outputs): the logits.

    Raises
    ------
    SeqexplainError
        The model has several outputs, is not built, or ends in a nested model whose last
        layer is a sigmoid/softmax (flatten it or pass ``output="prob"``).
    """
    cache = model_cache(model)
    if "logit_model" in cache:
        return cache["logit_model"]
    layer, inbound = _final_layer(model)
    kind = layer_kind(layer)
    name = _squashing(layer)
    result = model
    if name is not None:
        if kind in ("Activation", "Softmax"):
            result = keras.Model(model_inputs(model), inbound, name=f"{model.name}_logits")
        elif hasattr(layer, "activation"):
            result = keras.Model(model_inputs(model), PreActivation(layer)(inbound),
                                 name=f"{model.name}_logits")
        else:
            raise SeqexplainError(f"cannot find the logit of model {model.name!r}: its final "
                                  f"layer {layer.name!r} ({kind}) applies {name}; pass "
                                  f"output='prob' to explain the probability")
    elif isinstance(layer, keras.Model):
        inner, _ = _final_layer(layer)
        inner_name = _squashing(inner)
        if inner_name is not None:
            raise SeqexplainError(
                f"cannot find the logit of model {model.name!r}: it ends in the nested model "
                f"{layer.name!r}, whose last layer applies {inner_name}; flatten the model or "
                f"pass output='prob'")
    cache["logit_model"] = result
    return result


def final_squashing(model: keras.Model) -> str | None:
    """The activation :func:`logit_model` strips from ``model``'s output: ``"sigmoid"``,
    ``"softmax"``, or ``None`` (a linear output, or a model it cannot look into)."""
    if not is_graph_model(model) or len(getattr(model, "outputs", None) or []) != 1:
        return None
    try:
        layer, _ = _final_layer(model)
    except SeqexplainError:
        return None
    return _squashing(layer)


def _squashing(layer) -> str | None:
    """``"sigmoid"``/``"softmax"`` when ``layer`` applies one (a ``Softmax`` layer, an
    ``Activation`` or a built-in ``activation=``), else ``None``."""
    if layer_kind(layer) == "Softmax":
        return "softmax"
    name = activation_name(getattr(layer, "activation", None))
    return name if name in SQUASHING_ACTIVATIONS else None


def explained_model(model: keras.Model, output: str = "logit") -> keras.Model:
    """The model whose output the attribution methods explain.

    Parameters
    ----------
    model : a Keras model with one output of shape (None, n_outputs) or (None,).
    output : ``"logit"`` (default; see :func:`logit_model`) or ``"prob"`` (the model as is).

    Returns
    -------
    keras.Model
    """
    if output not in OUTPUTS:
        raise SeqexplainError(f"output={output!r}: choose 'logit' or 'prob'")
    if not is_graph_model(model):
        if output == "logit":
            raise SeqexplainError(
                f"model {model.name!r} is a subclassed Keras model, so seqexplain cannot find "
                f"the logit inside it; pass output='prob' to explain its output as it is")
        return model
    _check_single_output(model)
    return logit_model(model) if output == "logit" else model


def n_outputs(model: keras.Model, X=None) -> int:
    """Number of output columns: shape (None, T) → T, shape (None,) → 1. Subclassed models
    are probed with ``X[:1]``."""
    if is_graph_model(model):
        shape = _check_single_output(model)
    else:
        if X is None:
            raise SeqexplainError(f"model {model.name!r}: cannot tell its outputs without input")
        out = model(X[:1])
        if isinstance(out, (list, tuple, dict)):
            raise SeqexplainError(f"model {model.name!r} has several outputs; attribution "
                                  f"methods explain a model with one output tensor")
        shape = tuple(out.shape)
        if len(shape) not in (1, 2):
            raise SeqexplainError(f"model {model.name!r} has output shape {shape}; "
                                  f"attribution methods need (batch, n_outputs) or (batch,)")
    return 1 if len(shape) == 1 else int(shape[-1])


def check_target(model: keras.Model, target: int, X=None) -> int:
    """``target`` as an int, checked against the model's output columns."""
    t = n_outputs(model, X)
    if isinstance(target, bool) or not isinstance(target, numbers.Integral):
        raise SeqexplainError(f"target={target!r}: expected an output index (integer)")
    target = int(target)
    if not 0 <= target < t:
        raise SeqexplainError(f"target={target} is out of range: model {model.name!r} has {t} "
                              f"output{'s' if t != 1 else ''} (targets 0..{t - 1})")
    return target


def built_outputs(model: keras.Model) -> list:
    """The output tensors of a built Sequential/Functional model; one error line if it is
    not built."""
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        outputs = None
    if not outputs:
        raise SeqexplainError(f"model {model.name!r} is not built: build it (e.g. give "
                              f"keras.Input a shape) before explaining it")
    return outputs


def _check_single_output(model: keras.Model) -> tuple:
    outputs = built_outputs(model)
    if len(outputs) != 1:
        raise SeqexplainError(f"model {model.name!r} has {len(outputs)} outputs; attribution "
                              f"methods explain a model with one output tensor")
    shape = tuple(outputs[0].shape)
    if len(shape) not in (1, 2):
        raise SeqexplainError(f"model {model.name!r} has output shape {shape}; attribution "
                              f"methods need (batch, n_outputs) or (batch,)")
    return shape


def model_inputs(model: keras.Model):
    """``model``'s input tensor (or list of them): a new model built on it takes input in the
    same structure as ``model`` (Keras warns when a one-input model gets a bare tensor
    while it was built on a list)."""
    inputs = model.inputs
    return inputs[0] if len(inputs) == 1 else inputs


def _final_layer(model: keras.Model):
    """``(layer, its input tensor)`` of the layer producing ``model``'s single output."""
    _check_single_output(model)
    history = getattr(model.outputs[0], "_keras_history", None)
    if history is None:
        raise SeqexplainError(f"cannot trace the output of model {model.name!r} back to a layer")
    layer, node_index = history[0], history[1]
    node = layer._inbound_nodes[node_index]
    inputs = node.input_tensors
    return layer, (inputs[0] if len(inputs) == 1 else inputs)
