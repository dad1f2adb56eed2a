"""TF SavedModel folders (``saved_model.pb``) as Keras models — Basenji/Enformer-style exports
and Keras 2 ``model.save(folder)``.

:func:`load_saved_model` reads the folder with ``tf.saved_model.load`` and wraps one of its
signatures (default ``serving_default``) in :class:`SavedModelSignature`, a Keras layer
(``keras.layers.TFSMLayer``, which tracks the folder's variables) called with the signature's
one input by name. The Keras model returned has that input, shape (None, L, C) as the
signature declares it, and one output per signature output, named as there (sorted by name,
so the order does not depend on how the folder was written).

Gradients flow through the signature's function, so saliency, grad × input, integrated
gradients and ISM work as on any Keras model. The DeepLIFT/DeepSHAP engine cannot see the
layers inside the function (it is one opaque graph), so it refuses such a model in one line
that names the methods that work (the rule table's ``SavedModelSignature`` entry).
"""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf
from keras.src.export.tfsm_layer import TFSMLayer

from .errors import SeqexplainError

#: the signature read unless another is named
DEFAULT_SIGNATURE = "serving_default"


class SavedModelSignature(TFSMLayer):
    """A SavedModel signature as a layer: one input tensor → the list of its outputs
    (``output_keys`` order). Not serialisable (the folder is the model file)."""

    def __init__(self, filepath, call_endpoint: str, input_key: str, output_keys, **kwargs):
        super().__init__(filepath, call_endpoint=call_endpoint, **kwargs)
        self.input_key = input_key
        self.output_keys = list(output_keys)

    def call(self, inputs, training=False):
        # signature functions take their inputs by keyword only
        out = self.call_endpoint_fn(**{self.input_key: inputs})
        return [out[key] for key in self.output_keys]


def is_saved_model(path: Path) -> bool:
    """Whether ``path`` is a SavedModel folder."""
    return path.is_dir() and (path / "saved_model.pb").is_file()


def load_saved_model(path: str | Path, signature: str = DEFAULT_SIGNATURE) -> keras.Model:
    """The SavedModel folder ``path`` as a Keras model (see the module docstring).

    Raises
    ------
    SeqexplainError
        A folder TensorFlow cannot read, a missing signature, a signature with several or
        no inputs, or an input that is not (None, L, C).
    """
    path = Path(path)
    try:
        loaded = tf.saved_model.load(str(path))
    except Exception as exc:  # TensorFlow raises many types for a damaged folder
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SeqexplainError(f"{path}: cannot read the SavedModel ({first[:200]})") from None
    signatures = dict(loaded.signatures)
    if signature not in signatures:
        raise SeqexplainError(f"{path}: the SavedModel has no signature {signature!r} "
                              f"(it has {', '.join(sorted(signatures)) or 'none'})")
    function = signatures[signature]
    args, kwargs = function.structured_input_signature
    if args or len(kwargs) != 1:
        names = ", ".join(sorted(kwargs)) or "none"
        raise SeqexplainError(f"{path}: signature {signature!r} takes {len(args) + len(kwargs)} "
                              f"inputs ({names}); seqexplain explains one one-hot input")
    (input_key, spec), = kwargs.items()
    if spec.shape.rank != 3 or None in spec.shape[1:]:
        raise SeqexplainError(f"{path}: signature {signature!r} input {input_key!r} has shape "
                              f"{tuple(spec.shape)}; expected one-hot (None, length, channels)")
    outputs = function.structured_outputs
    if not isinstance(outputs, dict) or not outputs:
        raise SeqexplainError(f"{path}: signature {signature!r} has no named outputs")
    keys = sorted(outputs)
    inp = keras.Input(tuple(int(d) for d in spec.shape[1:]), name=input_key,
                      dtype=spec.dtype.name)
    layer = SavedModelSignature(str(path), signature, input_key, keys, name="saved_model")
    tensors = layer(inp)
    # an Identity per output carries the signature's output name into output_names
    named = [keras.layers.Identity(name=_layer_name(key))(t) for key, t in zip(keys, tensors)]
    return keras.Model(inp, named if len(named) > 1 else named[0], name=path.name or "model")


def _layer_name(key: str) -> str:
    return key if key not in ("saved_model",) else f"{key}_output"
