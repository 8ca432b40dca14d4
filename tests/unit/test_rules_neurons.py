"""LIF layer and eRBP error dendrites: kernels against their NumPy twins and closed forms."""

import math

import numpy as np
import pytest

from memsim.rules.erbp import ERBPConfig, error_dendrites, error_dendrites_np
from memsim.rules.neurons import lif_layer, lif_layer_np, lif_params

P = lif_params(dt=1e-3, tau_syn=4e-3, c_mem=1e-12, g_leak=1e-9, threshold=0.1,
               refractory=3.9e-3)


@pytest.mark.parametrize("scale", [0.05, 0.3, 1.0])
def test_lif_kernel_agrees_with_twin(scale):
    rng = np.random.default_rng(1)
    a = rng.normal(0, scale, (3, 60, 7)) * (rng.random((3, 60, 7)) < 0.3)
    s1, i1 = lif_layer(a, P)
    s2, i2 = lif_layer_np(a, P)
    assert np.array_equal(s1, s2)
    np.testing.assert_allclose(i1, i2, rtol=1e-14, atol=1e-15)


def test_lif_constant_current_fires_at_the_closed_form_rate():
    # a constant synaptic current I: V_n = (1 - a^n) I / g; first spike at the smallest n
    # with V_n >= threshold, then 4 refractory steps and the climb again from 0
    i_nA = 0.15
    a = np.zeros((1, 200, 1))
    a[0, 0, 0] = i_nA  # one jump; hold the current by cancelling the synaptic decay
    a[0, 1:, 0] = i_nA * (1 - P.decay_syn)
    spikes, current = lif_layer(a, P)
    np.testing.assert_allclose(current[0, :, 0], i_nA, rtol=1e-12)
    v_inf = i_nA * 1e-9 / 1e-9  # volts: I / g_V
    climb = math.ceil(math.log(1 - P.threshold / v_inf) / math.log(P.decay_mem))
    times = np.flatnonzero(spikes[0, :, 0])
    assert times[0] == climb - 1
    assert np.all(np.diff(times) == climb + P.refractory)


def test_error_dendrites_agree_with_twin_and_carry_label_minus_prediction():
    cfg = ERBPConfig()
    rng = np.random.default_rng(2)
    out = (rng.random((120, 4)) < 0.1).astype(float)
    lab = np.zeros((120, 4))
    lab[:, 2] = rng.random(120) < 0.2
    fb = rng.uniform(-1, 1, (6, 4))
    args = (out, lab, fb, 0.5, 1.0, *cfg.dendrite())
    u_out, u_hid = error_dendrites(*args)
    u_out2, u_hid2 = error_dendrites_np(*args)
    np.testing.assert_allclose(u_out, u_out2, rtol=1e-13, atol=1e-18)
    np.testing.assert_allclose(u_hid, u_hid2, rtol=1e-13, atol=1e-18)
    # the labelled output fires less than its label: its U is positive on average; the
    # others only fire: negative
    mean = u_out.mean(axis=0)
    assert mean[2] > 0 and np.all(mean[[0, 1, 3]] < 0)
    # hidden dendrites filter the same error spikes through the feedback weights (outputs:
    # one to one with weight 0.5): linear and time-invariant, so the sums map exactly
    np.testing.assert_allclose(u_hid, u_out @ fb.T / 0.5, rtol=1e-10, atol=1e-20)
