"""Slower checks: the paper_2x4x2 capacity curve at the issue's R = 200, and CTDV against the
nodal transient on a larger network."""

import math

import numpy as np
import pytest

import memsim
from memsim.analyze import capacity_curve
from memsim.devices import Linear
from memsim.solve.ctdv import simulate_ctdv
from memsim.solve.drives import DC, Pulse, Sine


@pytest.mark.slow
def test_paper_capacity_curve_is_consistent_across_independent_seeds():
    net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    a = capacity_curve(net, repetitions=200, seed=10, one_hot=False)
    b = capacity_curve(net, repetitions=200, seed=11, one_hot=False)
    assert a.P.tolist() == b.P.tolist() == [1, 2, 3]
    # Two independent binomial samples of the same S(P): the pooled two-proportion z statistic
    # stays below 3.29 (99.9 %) for every load.
    for sa, sb, n in zip(a.successes, b.successes, a.trials, strict=True):
        p = (sa + sb) / (2 * n)
        if 0 < p < 1:
            z = abs(sa - sb) / n / math.sqrt(2 * p * (1 - p) / n)
            assert z < 3.29
    # The curve falls with the load (S(1) is well above S(3) for this network).
    assert a.S[0] - a.S[-1] > 0.1


@pytest.mark.slow
def test_ctdv_matches_nodal_transient_on_a_4x8x4_net_with_floating_terminals():
    rng = np.random.default_rng(2)
    net = memsim.layered([4, 8, 4], device=Linear(r_on=100.0, r_off=1e4, alpha=0.3,
                                                  beta=0.05))
    net = net.replace(x0=rng.uniform(0.3, 0.7, net.n_edges))
    drive = [Sine(0.7, 4.0), None, Pulse(0.0, -0.6, delay=0.05, rise=0.01, fall=0.01,
                                          width=0.05), DC(0.2)]
    outputs = np.array([True, False, True, True])
    t = np.linspace(0.0, 0.3, 31)
    nodal = memsim.simulate(net, drive, 0.3, method="rk45", rtol=1e-11, atol=1e-13, t_eval=t,
                            outputs=outputs)
    ctdv = simulate_ctdv(net, drive, 0.3, rtol=1e-12, atol=1e-13, t_eval=t, outputs=outputs)
    assert np.abs(nodal.x - nodal.x[0]).max() > 0.02
    assert (nodal.x > 0).all() and (nodal.x < 1).all()
    # relative state error with tight tolerances on both sides
    assert np.abs(ctdv.x - nodal.x).max() / np.abs(nodal.x).max() <= 1e-6
