"""In-silico experiments (seqexplain.experiments) against by-hand computations: a linear model
whose every answer is a sum of weights (float64 NumPy), and ``func`` on the edited arrays."""

from __future__ import annotations

import numpy as np
import pytest

import seqexplain as sx
from seqexplain.errors import SeqexplainError
from seqexplain.experiments import (ablate, arrangement_starts, dosage, dosage_starts,
                                    marginalize, shuffled_backgrounds, space)

L = 30


@pytest.fixture(scope="module")
def linear():
    """(model, W): output = sum_{l,c} W[l, c] · x[l, c] + 0.5, W float64 (L, 4)."""
    import keras

    W = np.random.default_rng(5).normal(size=(L, 4))
    model = keras.Sequential([keras.Input((L, 4)), keras.layers.Flatten(),
                              keras.layers.Dense(1)])
    model.layers[-1].set_weights([W.reshape(-1, 1).astype(np.float32), np.array([0.5], "f4")])
    return model, W


@pytest.fixture(scope="module")
def backgrounds():
    rng = np.random.default_rng(1)
    return sx.one_hot(["".join(rng.choice(list("ACGT"), L)) for _ in range(12)])


def by_hand(W, X):
    return np.einsum("nlc,lc->n", X.astype(np.float64), W) + 0.5


def scale(values):
    return max(1.0, float(np.abs(values).max()))


def test_marginalize_is_the_sum_of_the_motif_weights_minus_what_it_replaced(linear,
                                                                             backgrounds):
    model, W = linear
    motif, start = "GATTACA", 4
    result = marginalize(model, backgrounds, motif, start=start)
    m = sx.one_hot(motif)[0].astype(np.float64)
    expected = (np.einsum("lc,lc->", m, W[start:start + 7])
                - np.einsum("nlc,lc->n", backgrounds[:, start:start + 7], W[start:start + 7]))
    assert result.before.shape == result.after.shape == (12, 1)
    np.testing.assert_allclose(result.difference[:, 0], expected,
                               atol=1e-5 * scale(result.after))
    np.testing.assert_allclose(result.before[:, 0], by_hand(W, backgrounds),
                               atol=1e-5 * scale(result.before))


def test_batching_is_invisible(linear, backgrounds):
    model, _ = linear
    small = space(model, backgrounds, ["ACG", "TTA"], [4, -5, 9], batch_size=2)
    large = space(model, backgrounds, ["ACG", "TTA"], [4, -5, 9], batch_size=512)
    np.testing.assert_allclose(small.after, large.after, atol=1e-6 * scale(large.after))
    np.testing.assert_allclose(small.before, large.before, atol=1e-6 * scale(large.before))


def test_space_puts_each_motif_at_its_offset_and_strand(linear, backgrounds):
    model, W = linear
    spacings = [6, -8]
    result = space(model, backgrounds, ["AACG", "GGAT"], spacings, orientations="+-")
    assert result.after.shape == (2, 12, 1)
    for k, offset in enumerate(spacings):
        a, b = arrangement_starts([4, 4], [offset], L)
        assert b - a == offset
        x = backgrounds.copy()
        x[:, a:a + 4] = sx.one_hot("AACG")[0]
        x[:, b:b + 4] = sx.one_hot("ATCC")[0]  # reverse complement of GGAT
        np.testing.assert_allclose(result.after[k, :, 0], by_hand(W, x),
                                   atol=1e-5 * scale(result.after))


def test_arrangements_are_centred_and_must_fit():
    # offsets 0 and 10 from motif 1: span 0..14 (15 positions) centred in 30 → first at 7
    assert arrangement_starts([5, 5, 5], [5, 5], 30) == [7, 12, 17]
    assert arrangement_starts([4, 4], [-6], 30) == [16, 10]  # span 10 centred at 10
    with pytest.raises(SeqexplainError, match="span 34 positions"):
        arrangement_starts([4, 4], [30], 30)


def test_dosage_spreads_copies_that_do_not_overlap(linear, backgrounds):
    model, W = linear
    result = dosage(model, backgrounds, "CAGT", copies=(0, 1, 2, 3))
    assert result.starts[0] == () and len(result.starts[3]) == 3
    for starts in result.starts[1:]:
        assert all(b - a >= 4 for a, b in zip(starts, starts[1:]))
    np.testing.assert_allclose(result.difference[0], 0, atol=1e-5 * scale(result.after))
    x = backgrounds.copy()
    for s in result.starts[2]:
        x[:, s:s + 4] = sx.one_hot("CAGT")[0]
    np.testing.assert_allclose(result.after[2, :, 0], by_hand(W, x),
                               atol=1e-5 * scale(result.after))
    assert dosage_starts(4, 3, 30) == (3, 13, 23)
    with pytest.raises(SeqexplainError, match="do not fit"):
        dosage_starts(10, 4, 30)


def test_ablating_a_stretch_the_model_ignores_changes_nothing(backgrounds):
    import keras

    # weights zero on [10, 20): shuffling that stretch cannot change the output; weights
    # depending only on the channel: a dinucleotide shuffle keeps base counts, and the output
    W = np.random.default_rng(2).normal(size=(L, 4))
    W[10:20] = 0
    model = keras.Sequential([keras.Input((L, 4)), keras.layers.Flatten(),
                              keras.layers.Dense(1)])
    model.layers[-1].set_weights([W.reshape(-1, 1).astype("f4"), np.zeros(1, "f4")])
    result = ablate(model, backgrounds, 10, 20, n=3)
    assert result.after.shape == (12, 3, 1) and result.difference.shape == (12, 3, 1)
    np.testing.assert_allclose(result.difference, 0, atol=1e-5 * scale(result.after))
    moved = ablate(model, backgrounds, 0, 10, n=3)
    assert np.abs(moved.difference).max() > 1e-2  # a stretch it reads does change


def test_func_can_be_an_attribution_verb(linear, backgrounds):
    model, W = linear
    result = marginalize(model, backgrounds, "TTT", start=0, func=sx.attribute,
                         method="saliency", correct=False)
    # a linear model's gradient is W wherever the motif went
    assert result.after.shape == (12, L, 4)
    np.testing.assert_allclose(result.after, np.broadcast_to(W, (12, L, 4)),
                               atol=1e-5 * np.abs(W).max())


def test_shuffled_backgrounds_keep_each_sources_dinucleotides(backgrounds):
    out = shuffled_backgrounds(backgrounds, 30, random_state=3)
    assert out.shape == (30, L, 4)

    def pairs(x):
        idx = x.argmax(-1)
        return np.bincount(idx[:-1] * 4 + idx[1:], minlength=16)

    for i in range(30):
        assert (pairs(out[i]) == pairs(backgrounds[i % 12])).all()
    assert not np.array_equal(out[:12], backgrounds)
    again = shuffled_backgrounds(backgrounds, 30, random_state=3)
    assert np.array_equal(out, again)  # seeded


def test_mistakes_are_one_line(linear, backgrounds):
    model, _ = linear
    with pytest.raises(SeqexplainError, match="two or more motifs"):
        space(model, backgrounds, ["ACG"], [3])
    with pytest.raises(SeqexplainError, match="one strand"):
        space(model, backgrounds, ["ACG", "TTT"], [3], orientations="+")
    with pytest.raises(SeqexplainError, match="give 1 integer"):
        space(model, backgrounds, ["ACG", "TTT"], [(3, 4)])
