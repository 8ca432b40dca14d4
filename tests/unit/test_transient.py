"""Transient integration against closed forms and invariants."""

import networkx as nx
import numpy as np
import pytest

import memsim
from memsim import DC, PWL, ParameterError, Pulse, Sine, SolverError
from memsim.devices import HP, Threshold, Window


def _single(device):
    return memsim.from_networkx(nx.path_graph(2), inputs=[0], outputs=[1], device=device)


HP_NOWIN = HP(r_on=100.0, r_off=16e3, mu_v=1e-14, d=10e-9, window=Window.NONE, x0=0.1)


def _hp_exact(t, amplitude, freq, dev=HP_NOWIN):
    """x(t) of a windowless HP device driven by v = A sin(2 pi f t).

    R(x) dx/dt = k v integrates to R_off x - dR x^2 / 2 = k phi(t) + C, phi the flux.
    """
    dr = dev.r_off - dev.r_on
    w = 2 * np.pi * freq
    phi = amplitude * (1 - np.cos(w * t)) / w
    c = dev.k * phi + dev.r_off * dev.x0 - dr * dev.x0**2 / 2
    return (dev.r_off - np.sqrt(dev.r_off**2 - 2 * dr * c)) / dr


@pytest.mark.parametrize(("method", "order", "dts"), [
    ("rk4", 4, [1 / 25, 1 / 50, 1 / 100]),
    ("heun", 2, [1 / 100, 1 / 200, 1 / 400]),
    ("euler", 1, [1 / 400, 1 / 800, 1 / 1600]),
])
def test_fixed_step_error_shrinks_at_the_method_order(method, order, dts):
    net = _single(HP_NOWIN)
    errs = []
    for dt in dts:
        res = memsim.simulate(net, Sine(1.0, 1.0), 1.0, method=method, dt=dt)
        errs.append(np.abs(res.x[:, 0] - _hp_exact(res.t, 1.0, 1.0)).max())
    rates = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    # The observed order approaches the nominal one as dt -> 0; allow +-0.3.
    assert np.all(np.abs(rates - order) < 0.3), (errs, rates)


def test_adaptive_method_meets_its_tolerance():
    res = memsim.simulate(_single(HP_NOWIN), Sine(1.0, 1.0), 1.0, method="rk45", rtol=1e-10,
                          atol=1e-12)
    err = np.abs(res.x[:, 0] - _hp_exact(res.t, 1.0, 1.0)).max()
    # Local tolerance 1e-10 relative on x ~ 0.3 over ~1000 steps: global error well below 1e-7.
    assert err < 1e-7
    assert res.t[-1] == 1.0 and len(res.t) == 1001


def _loop_area(freq):
    res = memsim.simulate(_single(HP_NOWIN.replace(x0=0.5)), Sine(1.0, freq), 1 / freq,
                          method="rk4", dt=1 / freq / 4000)
    v = res.input_voltages()[:, 0]
    i = res.output_currents[:, 0]
    half = res.t <= 0.5 / freq  # the positive lobe: v goes 0 -> A -> 0
    return res, v, i, abs(np.trapezoid(i[half], v[half]))


def test_pinched_hysteresis_loop():
    res, v, i, area1 = _loop_area(1.0)
    zero = np.abs(v) < 1e-12
    assert zero.sum() >= 2 and np.all(np.abs(i[zero]) < 1e-15)  # pinched at the origin
    # the two branches through the same voltage (t = T/8 rising, 3T/8 falling) differ
    assert abs(v[500] - v[1500]) < 1e-12 and abs(i[500] - i[1500]) > 0.05 * abs(i[500])
    areas = [area1] + [_loop_area(f)[3] for f in (2.0, 4.0, 64.0)]
    assert areas[0] > areas[1] > areas[2] > areas[3]
    assert areas[3] < 0.05 * areas[0]  # at high frequency the device is a plain resistor


def test_threshold_device_ramps_linearly_above_threshold_and_not_below():
    dev = Threshold(r_on=1e3, r_off=10e3, alpha=0.0, beta=1e6, v_t=1.0, x0=0.2)
    net = _single(dev)
    below = memsim.simulate(net, DC(0.9), 1e-2, method="rk4", dt=1e-4)
    assert np.all(below.x[:, 0] == 0.2)
    above = memsim.simulate(net, DC(1.5), 1e-2, method="rk4", dt=1e-4)
    expected = 0.2 + dev.beta * 0.5 * above.t / (dev.r_off - dev.r_on)
    np.testing.assert_allclose(above.x[:, 0], np.minimum(expected, 1.0), rtol=1e-12, atol=1e-12)


def test_states_stay_in_bounds_and_leave_them_when_the_drive_reverses():
    net = _single(HP(window=Window.BIOLEK, x0=0.5))
    res = memsim.simulate(net, Sine(5.0, 1.0), 2.0, method="rk45")
    x = res.x[:, 0]
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert x.max() == 1.0  # it reached the ON bound ...
    top = np.argmax(x > 0.999)
    assert x[top:].min() < 0.5  # ... and left the upper one again


def test_pulse_breakpoints_are_hit_exactly():
    dev = Threshold(x0=0.0, beta=1e6, v_t=1.0)
    pulse = Pulse(0.0, 2.0, delay=1e-3, rise=1e-9, fall=1e-9, width=2e-3)
    res = memsim.simulate(_single(dev), pulse, 5e-3, t_eval=np.linspace(0, 5e-3, 11))
    # Above threshold for 2 ms (plus half of each 1 ns edge above 1 V): dx = beta * 1 V * t / dR
    expected = dev.beta * 1.0 * (2e-3 + 0.5e-9) / (dev.r_off - dev.r_on)
    assert res.x[-1, 0] == pytest.approx(expected, rel=1e-6)


def test_floating_inputs_and_pwl_drive():
    net = memsim.layered([2, 2, 1], device=HP(x0=0.4))
    res = memsim.simulate(net, {"in0": PWL([0, 0.5, 1.0], [0, 1.0, 0])}, 1.0, method="rk4")
    assert np.all(res.input_currents[:, 1] == 0.0)  # in1 floats
    assert res.output_currents[:, 0].max() > 0


def test_transient_errors():
    net = _single(HP_NOWIN)
    with pytest.raises(ParameterError, match="t_end"):
        memsim.simulate(net, DC(1.0), 0.0)
    with pytest.raises(ParameterError, match="method"):
        memsim.simulate(net, DC(1.0), 1.0, method="leapfrog")
    with pytest.raises(ParameterError, match="dt"):
        memsim.simulate(net, DC(1.0), 1.0, method="rk4", dt=-1.0)
    with pytest.raises(ParameterError, match="drive"):
        memsim.simulate(net, {"nope": DC(1.0)}, 1.0)
    with pytest.raises(ParameterError, match="t_eval"):
        memsim.simulate(net, DC(1.0), 1.0, t_eval=[0.0, 2.0])
    with pytest.raises(ParameterError, match="save_every"):
        memsim.simulate(net, DC(1.0), 1.0, save_every=0)
    with pytest.raises(ParameterError, match="rtol"):
        memsim.simulate(net, DC(1.0), 1.0, rtol=0.0)
    with pytest.raises(SolverError, match="max_steps"):
        memsim.simulate(net, Sine(1.0, 100.0), 1.0, max_steps=10)
    with pytest.raises(SolverError, match="max_steps"):
        memsim.simulate(net, DC(1.0), 1.0, method="rk4", dt=1e-6, max_steps=10)
    with pytest.raises(ParameterError):
        Pulse(0.0, 1.0, rise=0.0)
    with pytest.raises(ParameterError):
        Sine(1.0, -1.0)
    with pytest.raises(ParameterError):
        PWL([0.0, 0.0], [1.0, 2.0])


def test_solver_paths_agree():
    """Crossbar (structured CG), envelope and dense Cholesky give the same transient."""
    from memsim.solve import transient as tr

    rng = np.random.default_rng(2)
    devs = [HP(r_on=1e3, r_off=1e5, x0=float(x)) for x in rng.uniform(0.2, 0.8, 36)]
    net = memsim.crossbar(6, 6, device=devs, r_line=1.0)  # 72 free nodes
    drives = [Sine(float(a), 1.0) for a in rng.uniform(2, 4, 6)]
    kinds = {tr._plan(net, memsim.solve.terminals(net)).solver[0],
             tr._plan(net.replace(layout=None), memsim.solve.terminals(net)).solver[0]}
    assert kinds == {tr.CROSSBAR, tr.ENVELOPE}
    xbar = memsim.simulate(net, drives, 0.5, method="rk4", dt=5e-3)
    env = memsim.simulate(net.replace(layout=None), drives, 0.5, method="rk4", dt=5e-3)
    old = tr.DENSE_MAX_FREE
    try:
        tr.DENSE_MAX_FREE = 10_000
        dense = memsim.simulate(net.replace(layout=None), drives, 0.5, method="rk4", dt=5e-3)
    finally:
        tr.DENSE_MAX_FREE = old
    assert xbar.x[-1].max() - xbar.x[0].max() > 0.01  # the states did move
    # Direct solves agree to rounding; the CG stops at a KCL residual of 1e-11 of the largest
    # input current, and 100 RK4 steps accumulate that into the states: agreement to 1e-9.
    np.testing.assert_allclose(env.x, dense.x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(xbar.x, dense.x, rtol=0, atol=1e-9)
