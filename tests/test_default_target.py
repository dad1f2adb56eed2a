"""A model with several targets and no --target: one note names the target used and how to
choose another."""

from __future__ import annotations

from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _two_output_model(path):
    import keras

    x = keras.Input((40, 4))
    h = keras.layers.GlobalAveragePooling1D()(keras.layers.Conv1D(4, 5)(x))
    keras.Model(x, [keras.layers.Dense(3, name="signal")(h),
                    keras.layers.Dense(1, name="counts")(h)]).save(path)
    return path


def test_the_default_target_of_a_model_with_several_is_named_once(tmp_path):
    from click.testing import CliRunner

    from seqexplain.cli import main

    model = _two_output_model(tmp_path / "two.keras")
    rng = np.random.default_rng(0)
    fa = tmp_path / "x.fa"
    fa.write_text("".join(f">s{i}\n{''.join(rng.choice(list('ACGT'), 40))}\n" for i in range(4)))
    args = ["explain", str(model), str(fa), "-m", "saliency", "--logos", "0", "-q"]
    result = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert notes == ["note: no target given: using 'signal', the first of 4 (signal:0, "
                     "signal:1, signal:2, counts); choose with --target NAME (target= in "
                     "Python), or --target all"]
    chosen = CliRunner().invoke(main, [*args, "--target", "counts", "-o", str(tmp_path / "b")])
    assert chosen.exit_code == 0, chosen.output
    assert "note:" not in chosen.stderr
    # a one-column model has nothing to choose
    one = CliRunner().invoke(main, ["explain", str(ROOT / "models" / "ctcf"),
                                    str(ROOT / "examples" / "data" / "ctcf_test.fa"), "-m",
                                    "saliency", "--logos", "0", "-q", "-o", str(tmp_path / "c")])
    assert one.exit_code == 0 and "note:" not in one.stderr, one.output
