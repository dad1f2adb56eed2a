"""float32 DeepSHAP against a float64 oracle, with and without the float64 secant, in one run.

For every toy model of ``tests/toy_models.py`` (one per DeepLIFT rule, plus ``smooth_mix``:
batch norm, ELU, tanh, softplus and sigmoid in one network), the same DeepSHAP is computed

* ``float64 oracle`` — the model copied to float64 (same weights, every layer and the input in
  float64), seqexplain's engine end to end in float64;
* ``float32 secant`` — float32, with the rescale multiplier ``(f(x) - f(r)) / (x - r)`` of
  every curved activation computed in float32 from the layer's float32 outputs (the rule as
  it stood before the float64 secant);
* ``float64 secant`` — float32 as seqexplain runs it: the secant evaluated in float64 from the
  layer's float32 inputs.

It prints, per model, the largest |float32 - float64| of the hypothetical contributions as a
fraction of the largest |float64| one, and the completeness error of each (relative to the
batch's largest |output|). Target: float64 secant within 1e-5 on every model.

Then it times DeepSHAP (``--n`` sequences × ``--refs`` shared references, best of
``--repeats``) with each secant on a 200 bp CNN with curved activations (Conv 64×19 → batch
norm → ELU → MaxPool 4 → Conv 32×7 tanh → MaxPool 4 → Dense 32 softplus → Dense 1) and on the
ReLU reference CNN of ``bench_attribution.py``, whose path the change does not touch. Target:
at most 5 % slower.

Run::

    python benchmarks/bench_attribution_precision.py            # about 2 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
REFERENCE = ROOT / "tests" / "data" / "reference" / "tangermeme_maxpool.npz"


def float32_secant(engine):
    """The rescale multiplier as it was: the secant in float32 from float32 outputs."""
    import tensorflow as tf

    def multiplier(x_in, fprime, r_in, g, wide_f):
        d_in = x_in - r_in
        near = tf.abs(d_in) < engine.RESCALE_EPS
        safe = tf.where(near, tf.ones_like(d_in), d_in)
        return g * tf.where(near, fprime, (wide_f(x_in) - wide_f(r_in)) / safe)

    return tf.function(multiplier, jit_compile=engine.USE_XLA, autograph=False)


def curved_cnn(length: int = 200):
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    inp = keras.Input((length, 4))
    x = layers.Conv1D(64, 19, padding="same", use_bias=False)(inp)
    x = layers.BatchNormalization()(x)
    x = layers.ELU()(x)
    x = layers.MaxPooling1D(4)(x)
    x = layers.Conv1D(32, 7, padding="same", activation="tanh")(x)
    x = layers.MaxPooling1D(4)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(32, activation="softplus")(x)
    return keras.Model(inp, layers.Dense(1)(x), name="curved_cnn")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500, help="sequences timed (default 500)")
    parser.add_argument("--refs", type=int, default=20, help="shared references (default 20)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import tensorflow as tf
    from toy_models import (TOY_MODELS, float64_copy, random_onehot, reference_model,
                            toy_model)

    from seqexplain.attribution import deep_shap, engine, logit_model

    wide = engine._wide_rescale_multiplier
    narrow = float32_secant(engine)
    print(f"seqexplain | TensorFlow {tf.__version__} | Python {platform.python_version()} | "
          f"{platform.machine()} | {os.cpu_count()} CPU cores | XLA "
          f"{'on' if engine.USE_XLA else 'off'} | oneDNN "
          f"{os.environ.get('TF_ENABLE_ONEDNN_OPTS', 'default')}")

    X = random_onehot(8, 40, seed=1)
    refs = np.stack([random_onehot(10, 40, seed=100 + i) for i in range(len(X))])
    print("\nfloat32 vs float64 oracle, 8 x 40 bp, 10 references each "
          "(max |hyp32 - hyp64| / max |hyp64|; completeness |delta| / max |output|)")
    print(f"{'model':20s} {'float32 secant':>15s} {'float64 secant':>15s} "
          f"{'delta f32 sec.':>15s} {'delta f64 sec.':>15s} {'delta oracle':>13s}")
    worst = {"narrow": 0.0, "wide": 0.0}
    for kind in TOY_MODELS:
        target = 2 if kind == "multi_output" else 0
        oracle = float64_copy(toy_model(kind))
        h64, d64 = deep_shap(oracle, X, target=target, references=refs, hypothetical=True,
                             return_delta=True, warning_threshold=None)
        y = np.asarray(logit_model(oracle)(np.concatenate([X, refs.reshape(-1, 40, 4)])))
        scale = np.abs(y).max()
        row = {}
        for name, rule in (("narrow", narrow), ("wide", wide)):
            engine._wide_rescale_multiplier = rule
            h32, d32 = deep_shap(toy_model(kind), X, target=target, references=refs,
                                 hypothetical=True, return_delta=True, warning_threshold=None)
            err = float(np.abs(h32 - h64).max() / np.abs(h64).max())
            worst[name] = max(worst[name], err)
            row[name] = (err, float(np.abs(d32).max() / scale))
        engine._wide_rescale_multiplier = wide
        print(f"{kind:20s} {row['narrow'][0]:15.2e} {row['wide'][0]:15.2e} "
              f"{row['narrow'][1]:15.1e} {row['wide'][1]:15.1e} "
              f"{np.abs(d64).max() / scale:13.1e}")
    print(f"{'worst':20s} {worst['narrow']:15.2e} {worst['wide']:15.2e}   "
          f"(target: float64 secant <= 1e-5)")

    print(f"\nDeepSHAP throughput, {args.n} x 200 bp, {args.refs} shared references, best of "
          f"{args.repeats} after a warm-up")
    data = random_onehot(args.n, 200, seed=2)
    background = random_onehot(args.refs, 200, seed=3)
    models = [("curved CNN (BN, ELU, tanh, softplus)", curved_cnn)]
    if REFERENCE.exists():
        models.append(("ReLU reference CNN", lambda: reference_model(REFERENCE,
                                                                     global_pool_as_pool=True)))
    for label, build in models:
        rates = {}
        for name, rule in (("narrow", narrow), ("wide", wide)):
            engine._wide_rescale_multiplier = rule
            model = build()
            deep_shap(model, data[:8], references=background)  # trace
            best = np.inf
            for _ in range(args.repeats):
                start = time.perf_counter()
                deep_shap(model, data, references=background)
                best = min(best, time.perf_counter() - start)
            rates[name] = args.n / best
        engine._wide_rescale_multiplier = wide
        print(f"{label:40s} float32 secant {rates['narrow']:7.0f} seq/s | float64 secant "
              f"{rates['wide']:7.0f} seq/s | change {rates['wide'] / rates['narrow'] - 1:+.1%}")


if __name__ == "__main__":
    main()
