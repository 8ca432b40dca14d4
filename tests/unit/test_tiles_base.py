"""The weight-store contract and its ideal float implementation."""

import numpy as np
import pytest

from memsim.errors import ParameterError
from memsim.tiles import FloatWeights, WeightStore


def test_float_weights_read_is_the_matrix_product_and_updates_clip():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(5, 3))
    s = FloatWeights(w, w_min=-0.5, w_max=0.5)
    assert isinstance(s, WeightStore)
    x = rng.normal(size=(4, 5))
    np.testing.assert_allclose(s.read(x), x @ np.clip(w, -0.5, 0.5), rtol=1e-15)
    s.update(np.full((5, 3), 0.25))
    np.testing.assert_array_equal(s.weights(), np.clip(np.clip(w, -0.5, 0.5) + 0.25, -0.5, 0.5))
    assert s.stats.reads == 4 and s.stats.updates == 1 and s.stats.pulses == 0
    assert s.shape == (5, 3)


def test_weights_returns_a_copy():
    s = FloatWeights(np.zeros((2, 2)))
    s.weights()[0, 0] = 7.0
    assert s.weights()[0, 0] == 0.0


@pytest.mark.parametrize("bad", [np.zeros(3), np.full((2, 2), np.nan)])
def test_bad_initial_weights(bad):
    with pytest.raises(ParameterError, match="w:"):
        FloatWeights(bad)


def test_bad_bounds_update_and_input():
    with pytest.raises(ParameterError, match="w_min"):
        FloatWeights(np.zeros((2, 2)), w_min=1.0, w_max=0.0)
    s = FloatWeights(np.zeros((2, 2)))
    with pytest.raises(ParameterError, match="dw"):
        s.update(np.zeros((3, 2)))
    with pytest.raises(ParameterError, match="x"):
        s.read(np.zeros((1, 3)))
