"""Regularized 1-D CNNs for one-hot sequences, built from a :class:`ModelSettings`.

Architecture (layer names in brackets; ``i`` counts conv blocks, ``j`` dense blocks, from 1)::

    sequence (length, channels)
    conv block i:  Conv1D [conv{i}] → BatchNormalization [bn{i}] → Activation [act{i}]
                   → MaxPooling1D | AveragePooling1D [pool{i}] → Dropout [drop{i}]
    global pooling: MaxPooling1D | AveragePooling1D over the whole length [global_pool]
                   → Flatten [flatten]        (or only Flatten for global_pool="flatten")
    dense block j: Dense [dense{j}] → BatchNormalization [dense_bn{j}] → Activation
                   [dense_act{j}] → Dropout [dense_drop{j}]
    Dense [cnn_logits] (linear)
    position path: sequence → Flatten [position_flatten] → Dense [position_linear]
                   (zero-initialised, no bias, L2 ``position_l2``)
    Add [logits] (cnn_logits + position_linear) → Activation [output]
                   (sigmoid | softmax | linear)

Without the position path (``position_path=False``) the ``logits`` layer is the Dense layer
itself. The position path is a logistic regression on the one-hot positions inside the model:
global max pooling keeps *whether* a pattern occurs and throws away *where*, so on windows
aligned on a landmark (splice sites, translation starts, promoters aligned on the TSS) the
CNN alone loses to a positional linear model. The path starts at zero, so the CNN trains as
before; its strong L2 keeps it from memorising positions when they carry nothing. Both paths
are linear before the sum, so DeepLIFT/DeepSHAP stay exact (Flatten, Dense and Add are
linear layers for :mod:`seqexplain.attribution.engine`).

Layers that a config switches off (batch norm, zero dropout, pool size 1) are left out, not
made identity layers. Choices made for attribution methods (DeepLIFT/DeepSHAP, gradients):

- Nonlinearities are separate ``Activation`` layers, never ``activation=`` inside
  ``Conv1D``/``Dense``, so a DeepLIFT engine sees each one as a layer.
- Global max/average pooling is ``MaxPooling1D(pool_size=<length>) + Flatten`` (or the
  average form) rather than ``GlobalMaxPooling1D``: the same numbers, but shap's
  DeepExplainer handles the pooling op and not the global-pooling reduction.
- The pre-activation ``logits`` layer is kept apart from the ``output`` activation, so that
  attributions explain logits (:func:`seqexplain.attribution.logit_model`) rather than
  saturated probabilities.
- Convolutions use ``padding="same"`` by default: every block keeps its input length, so a
  position in a feature map lines up with the same position of the input, and the length
  schedule is simply ``length // pool_size`` per block. ``padding="valid"`` is available.

Only built-in Keras layers are used (no ``Lambda``), so models save with
``model.save("m.keras")`` and load with ``keras.models.load_model(path, safe_mode=True)``.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from .errors import SeqexplainError, check_choice, check_int, check_number

if TYPE_CHECKING:  # Keras loads where a model is built or compiled, not with the settings
    import keras

ACTIVATIONS = ("relu", "elu", "gelu", "silu", "softplus", "sigmoid", "tanh", "exponential",
               "linear")
POOL_TYPES = ("max", "average")
GLOBAL_POOLS = ("max", "average", "flatten")
REGULARIZERS = ("l1", "l2", "l1_l2", "none")
OPTIMIZERS = ("adam", "sgd", "rmsprop", "adagrad", "adadelta", "adamax", "nadam")
PADDINGS = ("same", "valid")
REGRESSION_LOSSES = ("mse", "mae")

# Keras' default 0.99 makes the moving statistics trail the weights by ~100 steps; with the
# few steps per epoch of a typical genomics dataset (1,400 records / batch 64 = 22 steps) the
# inference-mode model then lags training by several epochs, so validation loss rises while
# validation AUROC improves and early stopping keeps a poor early epoch (measured: test
# AUROC 0.74 with 0.99, 1.00 with 0.9 on a planted-motif task).
BN_MOMENTUM = 0.9

# per-block fields: a single value applies to every block, a list gives one value per block
_PER_BLOCK = ("filters", "kernel_sizes", "dilations", "pool_types", "pool_sizes")

# output activation of each task; the logits layer before it is always linear
_OUTPUT_ACTIVATION = {"binary": "sigmoid", "multiclass": "softmax", "multilabel": "sigmoid",
                      "regression": "linear"}


def _setting(value: Any, flag: str, help: str, *, values: str | None = None, **click: Any):
    """A field of :class:`ModelSettings` whose default is ``value``, with its ``seqexplain
    train`` flag (the command generates it from here) and the flag's ``help``. ``values``:
    ``"ints"`` or ``"words"`` for a per-block setting given as a comma-separated list;
    ``click``: the flag's other click arguments (``type`` given as a function of the ``click``
    module, so that this module needs no click import)."""
    return field(default=value, metadata=dict(flag=flag, help=help, values=values,
                                              click=click))


@dataclass
class ModelSettings:
    """Architecture and optimiser settings of a CNN; see the module docstring for the layout.

    Per-block settings (``filters``, ``kernel_sizes``, ``dilations``, ``pool_types``,
    ``pool_sizes``) take one value for every block or a list with one value per block;
    ``None`` means the default schedule. After construction they are always tuples of length
    ``n_conv_blocks``, so ``ModelSettings.from_dict(c.to_dict()) == c``.

    The defaults make a small CNN for ~200 bp DNA (77k parameters for 4 channels) that trains
    in a few seconds per epoch of 3,200 sequences on two CPU cores: 128 filters of width 19 (wide
    enough for most transcription-factor motifs) with max pooling by 4, then 64 filters of
    width 7 (receptive field 43 bp), global max pooling and one dense layer of 128 units;
    dropout 0.2 / 0.5 and L2 1e-6 on every kernel; Adam at 3e-3; no batch normalisation. On a
    planted-motif task (4,000 sequences) this reached validation AUROC 0.96 in 4 epochs, where
    a third conv block, or Adam at 1e-3, still stood at 0.6-0.8 after 6.

    These class defaults are the *large* tier of :func:`seqexplain.training.capacity.capacity_rule`:
    :func:`seqexplain.train.train` replaces the fields of :data:`SIZED_FIELDS` that were not
    given (see :attr:`given`) by the values for the size of the training set — one block of
    32 filters under 1,000 training sequences, 64 and 32 under 5,000.

    Batch normalisation is off by default: with dropout between conv blocks it suffers the
    dropout/batch-norm variance shift (Li et al., CVPR 2019) — the statistics learned with
    dropout active do not hold at inference, so the inference-mode model is badly calibrated,
    validation loss rises while validation AUROC improves, and early stopping keeps an early,
    weak epoch. Measured on a two-motif AND task (2,000 × 200 bp, CTCF and REST): test AUROC
    0.86 with batch norm, 0.99 without.

    Attributes
    ----------
    n_conv_blocks : number of convolution blocks (≥ 1); default 2.
    filters : filters per block. Default schedule: 128 in the first block, 64 after.
    kernel_sizes : kernel widths per block. Default schedule: 19 in the first block, 7 after.
    dilations : dilation rate per block. Default: 1.
    pool_types : "max" or "average" per block. Default: "max".
    pool_sizes : pooling window (and stride) per block; 1 means no pooling layer. Default
        schedule: 4 after every block but the last, whose output goes to the global pooling.
    padding : "same" (default; lengths kept, positions aligned with the input) or "valid".
    activation : activation of every layer but the output ("relu" default); one of
        :data:`ACTIVATIONS`.
    first_activation : activation of the first conv layer only; ``None`` means
        ``activation``. "exponential" tends to give cleaner, more motif-like first-layer
        filters (Koo & Ploenzke, Nat. Mach. Intell. 2021).
    batch_norm : batch normalisation between each conv/dense layer and its activation
        (default off; see above).
    conv_dropout : dropout rate after each conv block (default 0.2).
    dense_dropout : dropout rate after each hidden dense layer, i.e. before the next dense
        layer (default 0.5).
    regularizer : kernel regulariser on every Conv1D and Dense layer: "l1", "l2" (default),
        "l1_l2" or "none".
    l1, l2 : regularisation strengths; only the one(s) named by ``regularizer`` are used and
        those must be > 0.
    global_pool : "max" (default) or "average" over the whole remaining length, or "flatten"
        to keep positional features.
    dense_units : units of each hidden dense layer; empty for none. Default ``(128,)``.
    regression_loss : "mse" (default) or "mae", for the regression task.
    optimizer : one of :data:`OPTIMIZERS`; "adam" default.
    learning_rate : default 3e-3.
    momentum : momentum for "sgd" (default 0.9) or "rmsprop" (default 0.0); ``None`` means
        that default. An error for other optimisers.
    nesterov : Nesterov momentum; "sgd" only.
    clipnorm : clip each gradient to this norm; ``None`` (default) for no clipping. Useful
        with an exponential first activation, whose gradients can be large early on.
    position_path : add the position-keeping linear path (see the module docstring) to the
        logits; default on. It costs ``length × channels × n_outputs`` weights (800 for
        200 bp DNA, binary).
    position_l2 : L2 strength on the position path's weights (default 1e-2, whatever
        ``regularizer`` says: the path needs strong shrinkage to stay out of the way on
        position-invariant tasks). Measured on a positional AND grammar (benchmarks/
        bench_train_panel.py, ``promoter``, seed 2): test AUROC 0.88 with 1e-3 — the path
        takes the linear part of the signal first and the convolutions learn the second
        motif slowly — 0.99 with 1e-2; E. coli translation starts 0.931 with either.
    """

    n_conv_blocks: int = _setting(
        2, "--conv-blocks", "Number of conv blocks [by data size: 1 under 1,000 training "
        "sequences, else 2].", type=lambda click: click.IntRange(min=1))
    filters: int | tuple[int, ...] | None = _setting(
        None, "--filters", "Filters per block [by data size: 32; 64,32; 128,64].",
        values="ints")
    kernel_sizes: int | tuple[int, ...] | None = _setting(
        None, "--kernel-sizes", "Kernel widths per block [19,7].", values="ints")
    dilations: int | tuple[int, ...] | None = _setting(
        None, "--dilations", "Dilation per block.", values="ints")
    pool_types: str | tuple[str, ...] | None = _setting(
        None, "--pool-types", "max or average, per block.", values="words")
    pool_sizes: int | tuple[int, ...] | None = _setting(
        None, "--pool-sizes", "Pooling size per block, 1 = none [4,1].", values="ints")
    padding: str = "same"
    activation: str = _setting("relu", "--activation", "Activation of hidden layers [relu].",
                               type=lambda click: str)
    first_activation: str | None = _setting(
        None, "--first-activation", "Activation of the first conv layer (e.g. exponential).",
        type=lambda click: str)
    batch_norm: bool = _setting(False, "--batch-norm/--no-batch-norm",
                                "Batch normalisation [off].")
    conv_dropout: float = _setting(
        0.2, "--conv-dropout", "Dropout after conv blocks [0.2].",
        type=lambda click: click.FloatRange(0, 1, max_open=True))
    dense_dropout: float = _setting(
        0.5, "--dense-dropout", "Dropout before dense layers [0.5].",
        type=lambda click: click.FloatRange(0, 1, max_open=True))
    regularizer: str = _setting("l2", "--regularizer", "Kernel regulariser [l2].",
                                type=lambda click: click.Choice(REGULARIZERS))
    l1: float = _setting(1e-6, "--l1", "L1 strength [1e-6].",
                         type=lambda click: click.FloatRange(min=0))
    l2: float = _setting(1e-6, "--l2", "L2 strength [1e-5 under 1,000 training sequences, "
                         "else 1e-6].", type=lambda click: click.FloatRange(min=0))
    global_pool: str = _setting("max", "--global-pool",
                                "Global pooling before the dense head [max].",
                                type=lambda click: click.Choice(GLOBAL_POOLS))
    dense_units: tuple[int, ...] = _setting(
        (128,), "--dense-units", "Hidden dense layer sizes, e.g. 128 [by data size: 32, 64, "
        "128].", values="ints")
    regression_loss: str = _setting("mse", "--regression-loss", "Regression loss [mse].",
                                    type=lambda click: click.Choice(REGRESSION_LOSSES))
    optimizer: str = _setting("adam", "--optimizer", "Optimiser [adam].",
                              type=lambda click: click.Choice(OPTIMIZERS))
    learning_rate: float = _setting(
        3e-3, "--learning-rate", "Learning rate [3e-3].",
        type=lambda click: click.FloatRange(min=0, min_open=True))
    momentum: float | None = _setting(
        None, "--momentum", "Momentum (sgd, rmsprop).",
        type=lambda click: click.FloatRange(0, 1, max_open=True))
    nesterov: bool = _setting(False, "--nesterov", "Nesterov momentum (sgd).", is_flag=True)
    clipnorm: float | None = None
    position_path: bool = _setting(
        True, "--position-path/--no-position-path", "Positional linear path (a logistic "
        "regression on the one-hot positions) added to the logits [on].")
    position_l2: float = _setting(
        1e-2, "--position-l2", "L2 strength on the positional linear path [1e-2].",
        type=lambda click: click.FloatRange(min=0))

    def __post_init__(self) -> None:
        self.n_conv_blocks = _int("n_conv_blocks", self.n_conv_blocks, minimum=1)
        n = self.n_conv_blocks
        defaults = {
            "filters": [128] + [64] * (n - 1),
            "kernel_sizes": [19] + [7] * (n - 1),
            "dilations": [1] * n,
            "pool_types": ["max"] * n,
            "pool_sizes": [4] * (n - 1) + [1],
        }
        for name in _PER_BLOCK:
            values = _per_block(name, getattr(self, name), n, defaults[name])
            if name == "pool_types":
                values = tuple(_choice(name, v, POOL_TYPES) for v in values)
            else:
                values = tuple(_int(name, v, minimum=1) for v in values)
            setattr(self, name, values)
        self.padding = _choice("padding", self.padding, PADDINGS)
        self.activation = _choice("activation", self.activation, ACTIVATIONS)
        if self.first_activation is not None:
            self.first_activation = _choice("first_activation", self.first_activation,
                                            ACTIVATIONS)
        self.batch_norm = _bool("batch_norm", self.batch_norm)
        self.conv_dropout = _rate("conv_dropout", self.conv_dropout)
        self.dense_dropout = _rate("dense_dropout", self.dense_dropout)
        self.regularizer = _choice("regularizer", "none" if self.regularizer is None
                                   else self.regularizer, REGULARIZERS)
        self.l1 = _float("l1", self.l1, minimum=0.0)
        self.l2 = _float("l2", self.l2, minimum=0.0)
        for kind in ("l1", "l2"):
            if kind in self.regularizer.split("_") and getattr(self, kind) == 0:
                raise SeqexplainError(f"model config: regularizer={self.regularizer!r} needs "
                                      f"{kind} > 0, got {kind}=0")
        self.global_pool = _choice("global_pool", self.global_pool, GLOBAL_POOLS)
        units = self.dense_units
        if isinstance(units, int) and not isinstance(units, bool):
            units = (units,)
        if not isinstance(units, (list, tuple)):
            raise SeqexplainError(f"model config: dense_units={units!r}: expected a list of "
                                  f"positive integers (or [] for no hidden dense layer)")
        self.dense_units = tuple(_int("dense_units", u, minimum=1) for u in units)
        self.regression_loss = _choice("regression_loss", self.regression_loss,
                                       REGRESSION_LOSSES)
        self.optimizer = _choice("optimizer", self.optimizer, OPTIMIZERS)
        self.learning_rate = _float("learning_rate", self.learning_rate, minimum=0.0,
                                    strict=True)
        if self.momentum is not None:
            if self.optimizer not in ("sgd", "rmsprop"):
                raise SeqexplainError(f"model config: momentum applies to optimizer 'sgd' or "
                                      f"'rmsprop', not {self.optimizer!r}")
            self.momentum = _float("momentum", self.momentum, minimum=0.0)
            if self.momentum >= 1:
                raise SeqexplainError(f"model config: momentum={self.momentum!r}: must be in "
                                      f"[0, 1)")
        self.nesterov = _bool("nesterov", self.nesterov)
        if self.nesterov and self.optimizer != "sgd":
            raise SeqexplainError(f"model config: nesterov applies to optimizer 'sgd' only, "
                                  f"not {self.optimizer!r}")
        if self.clipnorm is not None:
            self.clipnorm = _float("clipnorm", self.clipnorm, minimum=0.0, strict=True)
        self.position_path = _bool("position_path", self.position_path)
        self.position_l2 = _float("position_l2", self.position_l2, minimum=0.0)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ModelSettings:
        """A config from a mapping (e.g. parsed YAML/JSON); missing keys take defaults.

        Raises
        ------
        SeqexplainError
            An unknown key (the message lists the valid keys) or an invalid value (the
            message names the key and the value).
        """
        if not isinstance(values, dict):
            raise SeqexplainError(f"model config: expected a mapping of settings, got "
                                  f"{type(values).__name__}")
        valid = [f.name for f in fields(cls)]
        unknown = [k for k in values if k not in valid]
        if unknown:
            key = unknown[0]
            close = difflib.get_close_matches(str(key), valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise SeqexplainError(f"model config: unknown key {key!r}{hint}; valid keys: "
                                  f"{', '.join(valid)}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/YAML-ready values (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @property
    def given(self) -> dict[str, Any]:
        """The settings passed when this config was made (keywords, ``from_dict`` keys; a
        per-block list also fixes ``n_conv_blocks``), as passed. :func:`seqexplain.train.train`
        keeps them and lets the rest of :data:`SIZED_FIELDS` follow the data."""
        return dict(self._given)

    def sized(self, values: dict[str, Any]) -> ModelSettings:
        """This config with ``values`` (e.g. from :func:`seqexplain.training.capacity.capacity_rule`)
        for the :data:`SIZED_FIELDS` that were not given; given settings are kept as given.
        ``values["filters"]`` is the first block's count, later blocks get half of it (the
        default schedule's shape). The result remembers the same given settings."""
        given = self._given
        out = {k: v for k, v in values.items() if k in SIZED_FIELDS and k not in given}
        if "filters" in out:
            blocks = given.get("n_conv_blocks", out.get("n_conv_blocks", self.n_conv_blocks))
            first = int(out["filters"])
            out["filters"] = [first] + [max(1, first // 2)] * (int(blocks) - 1)
        per_block_defaults = {k: None for k in _PER_BLOCK if k not in given}
        config = ModelSettings.from_dict({**self.to_dict(), **per_block_defaults, **out,
                                        **given})
        config._given = dict(given)
        return config


def _record_given(init):
    """Wrap the dataclass ``__init__`` so that a config remembers which settings were passed
    (what a user set wins over the data-sized defaults; see :meth:`ModelSettings.sized`)."""
    names = [f.name for f in fields(ModelSettings)]

    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        given = {**dict(zip(names, args)), **kwargs}
        if "n_conv_blocks" not in given and any(isinstance(given.get(k), (list, tuple))
                                                for k in _PER_BLOCK):
            given["n_conv_blocks"] = self.n_conv_blocks  # a per-block list names the blocks
        self._given = given

    __init__.__doc__ = init.__doc__
    return __init__


ModelSettings.__init__ = _record_given(ModelSettings.__init__)

#: settings that follow the size of the training data unless given (see
#: :func:`seqexplain.training.capacity.capacity_rule`); every other field keeps its default
SIZED_FIELDS = ("n_conv_blocks", "filters", "dense_units", "conv_dropout", "dense_dropout",
                "l2", "learning_rate", "global_pool")


def build_model(config: ModelSettings | None, input_length: int, channels: int, task: str,
                n_outputs: int = 1, compile: bool = True) -> keras.Model:
    """Build (and by default compile) the CNN described by ``config``.

    Parameters
    ----------
    config : the architecture; ``None`` for the defaults.
    input_length : sequence length; inputs have shape (n, input_length, channels).
    channels : one-hot channels (4 for DNA/RNA, 20 for protein).
    task : "binary", "multiclass", "multilabel" or "regression".
    n_outputs : 1 for binary; number of classes (≥ 2) for multiclass; number of labels for
        multilabel; number of targets for regression.
    compile : compile with :func:`compile_model` (default) or return the model uncompiled.

    Returns
    -------
    keras.Model
        Input ``sequence`` of shape (None, input_length, channels); output ``output`` of shape
        (None, n_outputs): probabilities (sigmoid for binary/multilabel, softmax for
        multiclass) or linear values (regression). The ``logits`` layer holds the
        pre-activation values; see :func:`seqexplain.attribution.logit_model`.

    Raises
    ------
    SeqexplainError
        A bad task/n_outputs combination, or an input too short for the pooling schedule.
    """
    import keras  # here, where a model is built: ModelSettings alone needs no TensorFlow
    from keras import layers

    from .metrics import check_task

    config = ModelSettings() if config is None else config
    check_task(task)
    n_outputs = _check_outputs(task, n_outputs)
    input_length = _int("input_length", input_length, minimum=1, where="build_model")
    channels = _int("channels", channels, minimum=1, where="build_model")

    regularizer = _kernel_regularizer(config)
    inputs = keras.Input(shape=(input_length, channels), name="sequence")
    x = inputs
    length = input_length
    for i in range(config.n_conv_blocks):
        b = i + 1
        kernel, dilation = config.kernel_sizes[i], config.dilations[i]
        if config.padding == "valid":
            length -= (kernel - 1) * dilation
            if length < 1:
                raise SeqexplainError(
                    f"input length {input_length} is too short for conv block {b}: "
                    f"kernel {kernel} (dilation {dilation}) with padding 'valid' leaves no "
                    f"positions; use padding 'same', smaller kernels or fewer blocks")
        # the bias is redundant when batch norm follows (its beta is the bias)
        x = layers.Conv1D(config.filters[i], kernel, dilation_rate=dilation,
                          padding=config.padding, use_bias=not config.batch_norm,
                          kernel_regularizer=regularizer, name=f"conv{b}")(x)
        if config.batch_norm:
            x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"bn{b}")(x)
        activation = config.activation
        if i == 0 and config.first_activation is not None:
            activation = config.first_activation
        x = layers.Activation(activation, name=f"act{b}")(x)
        size = config.pool_sizes[i]
        if size > 1:
            if length // size < 1:
                raise SeqexplainError(
                    f"input length {input_length} is too short for the pooling: block {b} "
                    f"pools length {length} by {size}; use smaller pool_sizes or fewer blocks")
            x = _pool(config.pool_types[i], size, f"pool{b}")(x)
            length //= size
        if config.conv_dropout > 0:
            x = layers.Dropout(config.conv_dropout, name=f"drop{b}")(x)

    if config.global_pool != "flatten":
        # the whole-length pooling form of GlobalMax/AveragePooling1D; see module docstring
        x = _pool(config.global_pool, length, "global_pool")(x)
    x = layers.Flatten(name="flatten")(x)

    for j, units in enumerate(config.dense_units, start=1):
        x = layers.Dense(units, use_bias=not config.batch_norm, kernel_regularizer=regularizer,
                         name=f"dense{j}")(x)
        if config.batch_norm:
            x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"dense_bn{j}")(x)
        x = layers.Activation(config.activation, name=f"dense_act{j}")(x)
        if config.dense_dropout > 0:
            x = layers.Dropout(config.dense_dropout, name=f"dense_drop{j}")(x)

    if config.position_path:
        logits = layers.Dense(n_outputs, kernel_regularizer=regularizer, name="cnn_logits")(x)
        flat = layers.Flatten(name="position_flatten")(inputs)
        positional = layers.Dense(
            n_outputs, use_bias=False, kernel_initializer="zeros",
            kernel_regularizer=(keras.regularizers.L2(config.position_l2)
                                if config.position_l2 > 0 else None),
            name="position_linear")(flat)
        logits = layers.Add(name="logits")([logits, positional])
    else:
        logits = layers.Dense(n_outputs, kernel_regularizer=regularizer, name="logits")(x)
    outputs = layers.Activation(_OUTPUT_ACTIVATION[task], name="output")(logits)
    model = keras.Model(inputs, outputs, name="seqexplain_cnn")
    if compile:
        compile_model(model, config, task)
    return model


def compile_model(model: keras.Model, config: ModelSettings | None, task: str) -> keras.Model:
    """Compile ``model`` in place with the loss and metrics of ``task``; returns it.

    Losses act on the ``output`` probabilities (Keras recovers the logits of a sigmoid/softmax
    output for a numerically stable cross-entropy):

    - binary, multilabel: binary cross-entropy; labels 0/1 of shape (n, n_outputs).
    - multiclass: categorical cross-entropy; labels one-hot of shape (n, n_classes).
    - regression: mean squared error, or mean absolute error with
      ``regression_loss="mae"``; targets of shape (n, n_outputs).

    Metrics logged during training: ``auroc``/``auprc`` (binary, multilabel), ``accuracy``
    (classification), ``mse``/``mae`` (regression).
    """
    import keras

    from .metrics import check_task

    config = ModelSettings() if config is None else config
    check_task(task)
    n_outputs = model.output_shape[-1]
    if task in ("binary", "multilabel"):
        loss = keras.losses.BinaryCrossentropy()
        multi = task == "multilabel"
        metrics = [
            keras.metrics.AUC(name="auroc", multi_label=multi,
                              num_labels=n_outputs if multi else None),
            keras.metrics.AUC(curve="PR", name="auprc", multi_label=multi,
                              num_labels=n_outputs if multi else None),
            keras.metrics.BinaryAccuracy(name="accuracy"),
        ]
    elif task == "multiclass":
        loss = keras.losses.CategoricalCrossentropy()
        metrics = [keras.metrics.CategoricalAccuracy(name="accuracy")]
    else:
        loss = (keras.losses.MeanSquaredError() if config.regression_loss == "mse"
                else keras.losses.MeanAbsoluteError())
        metrics = [keras.metrics.MeanSquaredError(name="mse"),
                   keras.metrics.MeanAbsoluteError(name="mae")]
    model.compile(optimizer=optimizer_from_config(config), loss=loss, metrics=metrics)
    return model


def optimizer_from_config(config: ModelSettings | None) -> keras.optimizers.Optimizer:
    """A fresh Keras optimiser from ``config.optimizer``, ``learning_rate``, ``momentum``,
    ``nesterov`` and ``clipnorm``."""
    import keras

    config = ModelSettings() if config is None else config
    common: dict[str, Any] = {"learning_rate": config.learning_rate}
    if config.clipnorm is not None:
        common["clipnorm"] = config.clipnorm
    name = config.optimizer
    if name == "sgd":
        momentum = 0.9 if config.momentum is None else config.momentum
        return keras.optimizers.SGD(momentum=momentum, nesterov=config.nesterov, **common)
    if name == "rmsprop":
        momentum = 0.0 if config.momentum is None else config.momentum
        return keras.optimizers.RMSprop(momentum=momentum, **common)
    cls = {"adam": keras.optimizers.Adam, "adagrad": keras.optimizers.Adagrad,
           "adadelta": keras.optimizers.Adadelta, "adamax": keras.optimizers.Adamax,
           "nadam": keras.optimizers.Nadam}[name]
    return cls(**common)


def _pool(kind: str, size: int, name: str) -> keras.layers.Layer:
    from keras import layers

    cls = layers.MaxPooling1D if kind == "max" else layers.AveragePooling1D
    return cls(pool_size=size, name=name)


def _kernel_regularizer(config: ModelSettings) -> keras.regularizers.Regularizer | None:
    import keras

    if config.regularizer == "l1":
        return keras.regularizers.L1(config.l1)
    if config.regularizer == "l2":
        return keras.regularizers.L2(config.l2)
    if config.regularizer == "l1_l2":
        return keras.regularizers.L1L2(l1=config.l1, l2=config.l2)
    return None


def _check_outputs(task: str, n_outputs: int) -> int:
    n_outputs = _int("n_outputs", n_outputs, minimum=1, where="build_model")
    if task == "binary" and n_outputs != 1:
        raise SeqexplainError(f"build_model: task 'binary' has one output, got "
                              f"n_outputs={n_outputs}; use 'multilabel' for several labels")
    if task == "multiclass" and n_outputs < 2:
        raise SeqexplainError(f"build_model: task 'multiclass' needs n_outputs ≥ 2 classes, "
                              f"got {n_outputs}")
    return n_outputs


# -- value checks; each names the key and the bad value --------------------------------------

def _per_block(name: str, value: Any, n: int, default: list) -> list:
    if value is None:
        return default
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise SeqexplainError(f"model config: {name}={list(value)!r} has {len(value)} "
                                  f"values for n_conv_blocks={n}; give one value or {n}")
        return list(value)
    return [value] * n


def _int(name: str, value: Any, minimum: int, where: str = "model config") -> int:
    return check_int(name, value, minimum, where)


def _float(name: str, value: Any, minimum: float, strict: bool = False) -> float:
    return check_number(name, value, minimum, strict, where="model config")


def _rate(name: str, value: Any) -> float:
    rate = _float(name, value, minimum=0.0)
    if rate >= 1:
        raise SeqexplainError(f"model config: {name}={value!r}: expected a rate in [0, 1)")
    return rate


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SeqexplainError(f"model config: {name}={value!r}: expected true or false")
    return value


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    return check_choice(name, value, choices, where="model config")


__all__ = ["ModelSettings", "SIZED_FIELDS", "build_model", "compile_model", "optimizer_from_config",
           "ACTIVATIONS", "POOL_TYPES", "GLOBAL_POOLS", "REGULARIZERS",
           "OPTIMIZERS", "PADDINGS", "REGRESSION_LOSSES"]
