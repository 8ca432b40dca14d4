"""Transient integration against closed forms and invariants."""

import networkx as nx
import numpy as np
import pytest

import memsim
from memsim import DC, PWL, ParameterError, Pulse, Sine, SolverError
from memsim.devices import HP, VTEAM, Resistor, Threshold, Window


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


@pytest.mark.parametrize(("dt", "save_every", "times"), [
    (0.35, 1, [0.0, 0.35, 0.7, 1.0]),  # dt does not divide t_end: the last step is shorter
    (0.4, 1, [0.0, 0.4, 0.8, 1.0]),
    (2.5, 1, [0.0, 1.0]),  # dt beyond t_end: one step of t_end
    (0.1, 3, [0.0, 0.3, 0.6, 0.9, 1.0]),  # the final state is saved whatever save_every
    (1 / 3, 1, [0.0, 1 / 3, 2 / 3, 1.0]),  # whole steps up to rounding: no sliver at the end
])
def test_fixed_steps_end_exactly_at_t_end(dt, save_every, times):
    net = _single(HP_NOWIN)
    res = memsim.simulate(net, Sine(1.0, 1.0), 1.0, method="rk4", dt=dt, save_every=save_every)
    np.testing.assert_allclose(res.t, times, rtol=1e-15, atol=0)
    assert res.t[-1] == 1.0 and res.n_steps == int(np.ceil(1.0 / dt - 1e-9))


def test_shortened_last_step_keeps_the_order():
    # dt = 0.035 and 0.0175 do not divide 1 s; halving dt still shrinks RK4's largest error
    # over the run ~16x (the end point alone is no test: the sine's full period cancels).
    net = _single(HP_NOWIN)
    errs = []
    for dt in (0.035, 0.0175):
        res = memsim.simulate(net, Sine(1.0, 1.0), 1.0, method="rk4", dt=dt)
        errs.append(np.abs(res.x[:, 0] - _hp_exact(res.t, 1.0, 1.0)).max())
    assert 2**3.7 < errs[0] / errs[1] < 2**4.3


def test_adaptive_method_meets_its_tolerance():
    res = memsim.simulate(_single(HP_NOWIN), Sine(1.0, 1.0), 1.0, method="rk45", rtol=1e-10,
                          atol=1e-12)
    err = np.abs(res.x[:, 0] - _hp_exact(res.t, 1.0, 1.0)).max()
    # Local tolerance 1e-10 relative on x ~ 0.3 over ~1000 steps: global error well below 1e-7.
    assert err < 1e-7
    assert res.t[-1] == 1.0 and len(res.t) == 1001


def _lobe_areas(freq, dev=HP_NOWIN, amplitude=1.0):
    """Area of the positive lobe of the I-V loop (v: 0 -> A -> 0) from memsim's transient and
    from the analytic state on the same samples; also returns the run."""
    res = memsim.simulate(_single(dev), Sine(amplitude, freq), 1 / freq, method="rk4",
                          dt=1 / freq / 4000)
    v = res.input_voltages()[:, 0]
    i = res.output_currents[:, 0]
    half = res.t <= 0.5 / freq
    x = _hp_exact(res.t, amplitude, freq, dev)
    i_exact = v / (dev.r_off - x * (dev.r_off - dev.r_on))
    area = abs(np.trapezoid(i[half], v[half]))
    return res, area, abs(np.trapezoid(i_exact[half], v[half]))


def test_pinched_hysteresis_loop():
    res, area1, exact1 = _lobe_areas(1.0)
    v, i = res.input_voltages()[:, 0], res.output_currents[:, 0]
    # the regime stays inside (0, 1): the analytic solution holds throughout (no clamping);
    # the state returns to x0 = 0.1 after the period, up to RK4's error (~1e-12, see below)
    assert 0.1 - 1e-9 <= res.x[:, 0].min() and res.x[:, 0].max() < 0.5
    zero = np.abs(v) < 1e-12  # t = 0, T/2, T
    assert zero.sum() == 3 and np.all(np.abs(i[zero]) < 1e-15)  # pinched at the origin
    # the two branches through the same voltage (t = T/8 rising, 3T/8 falling) differ:
    # the device is ON-er on the way down (x grew while the current was positive)
    assert abs(v[500] - v[1500]) < 1e-12 and i[1500] > 1.05 * i[500]
    # the lobe is the analytic one (RK4 at T/4000: state error ~1e-12, areas agree to 1e-9)
    assert area1 == pytest.approx(exact1, rel=1e-9)
    areas = [area1] + [_lobe_areas(f)[1] for f in (2.0, 4.0, 32.0, 64.0)]
    assert all(a > b for a, b in zip(areas, areas[1:], strict=False))
    # At high frequency the state swing is k * flux / R ~ 1/f, and so is the lobe's area
    # (to first order in the swing, here < 1 %): halving the period halves the area.
    assert areas[4] / areas[3] == pytest.approx(0.5, abs=0.02)
    assert areas[4] < 0.05 * areas[0]  # the device tends to a plain resistor


def _joglekar_exact(t, amplitude, freq, dev):
    """x(t) of an HP device with the Joglekar window, p = 1, under v = A sin(2 pi f t).

    F = 4 x (1 - x) and R(x) = R_off - x (R_off - R_on) give
    R(x) dx / (4 x (1 - x)) = k v dt, i.e. G(x) = R_off ln x - R_on ln(1 - x) = 4 k phi + C,
    with phi the flux. G increases on (0, 1): solved by bisection (to the last bit).
    """
    w = 2 * np.pi * freq
    phi = amplitude * (1 - np.cos(w * t)) / w

    def big_g(x):
        return dev.r_off * np.log(x) - dev.r_on * np.log1p(-x)

    target = 4 * dev.k * phi + big_g(dev.x0)
    lo, hi = np.zeros_like(t), np.ones_like(t)
    with np.errstate(divide="ignore"):
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            up = big_g(mid) < target
            lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    return 0.5 * (lo + hi)


def test_joglekar_device_comes_close_to_the_bound_without_sticking():
    """The window vanishes at the bounds, and the exact state never reaches them; the bound
    handling of the integrators must not make it stick there. Drive to within 1.5 % of ON:
    the state follows the closed form and returns to x0 with the flux (twice)."""
    dev = HP(window="joglekar", p=1.0, x0=0.5)
    for method, dt, tol in [("rk45", None, 1e-9), ("rk4", 1e-3, 1e-9), ("heun", 1e-3, 1e-5)]:
        res = memsim.simulate(_single(dev), Sine(0.88, 1.0), 2.0, method=method, dt=dt)
        x = res.x[:, 0]
        exact = _joglekar_exact(res.t, 0.88, 1.0, dev)
        assert 0.98 < exact.max() < 0.99 and x.max() < 1.0
        # global errors: rk45 (1 kHz output grid caps its step at 2 ms) and rk4 at 1 ms
        # ~1e-11, heun at 1 ms ~3e-6 (second order)
        assert np.abs(x - exact).max() <= tol, (method, np.abs(x - exact).max())
        back = np.isin(res.t, [1.0, 2.0])  # the flux is 0 again: x = x0
        np.testing.assert_allclose(x[back], 0.5, atol=tol)


def _clamped_exact(t, amplitude, freq, dev):
    """x(t) of a windowless HP device that reaches the ON bound in the first half period and
    is held there by the clamp until the current reverses at T/2; then it follows the
    closed form from x = 1 (see :func:`_hp_exact`)."""
    dr = dev.r_off - dev.r_on
    w = 2 * np.pi * freq
    phi = amplitude * (1 - np.cos(w * t)) / w
    at_one = dev.r_off - dr / 2  # R_off x - dR x^2 / 2 at x = 1
    c = dev.k * phi + dev.r_off * dev.x0 - dr * dev.x0**2 / 2
    c_after = at_one + dev.k * (phi - 2 * amplitude / w)
    c = np.where(t <= 0.5 / freq, np.minimum(c, at_one), c_after)
    return (dev.r_off - np.sqrt(dev.r_off**2 - 2 * dr * c)) / dr


@pytest.mark.parametrize(("method", "dt"), [("rk45", None), ("rk4", 1e-3), ("heun", 1e-2),
                                             ("euler", 1e-2)])
def test_clamped_windowless_device_leaves_the_bound_when_the_current_reverses(method, dt):
    """Without a window only the clamp holds x in [0, 1]. The clamp must not stick: the
    device sits at x = 1 exactly while the current pushes outward and leaves within one step
    of the reversal (t = T/2), whatever the method and step."""
    dev = HP_NOWIN.replace(x0=0.5)
    res = memsim.simulate(_single(dev), Sine(1.0, 1.0), 1.0, method=method, dt=dt)
    x = res.x[:, 0]
    assert x.min() >= 0.0 and x.max() == 1.0
    step = 2e-3 if dt is None else dt  # rk45's output spacing; its steps are no longer
    last_on = res.t[np.flatnonzero(x == 1.0)[-1]]
    assert 0.5 - step <= last_on <= 0.5 + step
    exact = _clamped_exact(res.t, 1.0, 1.0, dev)
    assert np.mean(exact == 1.0) > 0.15  # the regime really clamps, for ~0.2 s of 1 s
    if method == "rk45":
        # the adaptive method shrinks its steps at the clamp event: accurate throughout
        assert np.abs(x - exact).max() <= 1e-6
    else:
        # a fixed step through the clamp event is first order there; what matters is that
        # the state comes back down as the closed form does (to the method's accuracy)
        assert abs(x[-1] - exact[-1]) <= 0.02 and exact[-1] < 0.4


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


def _drive_np(drive, t):
    """Plain-NumPy twin of the drives, written from SPICE's definitions of the sources."""
    t = np.asarray(t, float)
    if isinstance(drive, DC):
        return np.full_like(t, drive.v)
    if isinstance(drive, Sine):
        ph = np.deg2rad(drive.phase)
        arg = np.where(t < drive.delay, ph, 2 * np.pi * drive.frequency * (t - drive.delay) + ph)
        return drive.offset + drive.amplitude * np.sin(arg)
    if isinstance(drive, PWL):
        return np.interp(t, drive.times, drive.values)
    d = drive
    s = t - d.delay
    if d.period > 0:
        s = np.mod(s, d.period)
    ramp_up = d.v1 + (d.v2 - d.v1) * s / d.rise
    ramp_down = d.v2 + (d.v1 - d.v2) * (s - d.rise - d.width) / d.fall
    out = np.select([s < d.rise, s < d.rise + d.width, s < d.rise + d.width + d.fall],
                    [ramp_up, d.v2, ramp_down], d.v1)
    return np.where(t < d.delay, d.v1, out)


DRIVES = [
    DC(-0.7),
    Sine(1.3, 50.0, offset=0.2, delay=0.013, phase=35.0),
    Sine(2.0, 7.0, phase=-90.0),
    Pulse(-0.5, 1.0, delay=2e-3, rise=1e-3, fall=2e-3, width=4e-3, period=11e-3),
    Pulse(0.3, -1.0, delay=5e-3, rise=1e-4, fall=1e-4, width=3e-3),
    PWL([2e-3, 10e-3, 20e-3, 30e-3], [0.5, -1.0, 2.0, 0.0]),
]


def test_drive_kernel_equals_the_numpy_twin():
    """The numba evaluation of the packed drives (used inside the transient loop) against
    the twin, at random times and exactly at every breakpoint; all inputs in one table."""
    rng = np.random.default_rng(8)
    edges = np.concatenate([d.breakpoints(0.04) for d in DRIVES])
    t = np.sort(np.concatenate([rng.uniform(0, 0.04, 400), edges, [0.0, 0.04]]))
    table = memsim.solve.drives.drive_table(DRIVES, len(DRIVES))
    got = np.array([table.values(s) for s in t])  # (T, inputs)
    for k, d in enumerate(DRIVES):
        want = _drive_np(d, t)
        # the same formulas; np.mod vs floor in the pulse period: a few ulp
        np.testing.assert_allclose(got[:, k], want, rtol=0, atol=1e-12, err_msg=repr(d))
        np.testing.assert_allclose(d(t), want, rtol=0, atol=1e-12, err_msg=repr(d))
    assert table.driven.all()


def test_pulse_breakpoints_are_its_corners():
    p = Pulse(0.0, 1.0, delay=1.0, rise=0.5, fall=0.25, width=2.0, period=5.0)
    np.testing.assert_allclose(p.breakpoints(9.0), [1.0, 1.5, 3.5, 3.75, 6.0, 6.5, 8.5, 8.75])
    single = Pulse(0.0, 1.0, delay=1.0, rise=0.5, fall=0.25, width=2.0)
    np.testing.assert_allclose(single.breakpoints(9.0), [1.0, 1.5, 3.5, 3.75])
    assert Sine(1.0, 1.0, delay=0.5).breakpoints(1.0).tolist() == [0.5]
    np.testing.assert_array_equal(PWL([0.0, 0.2, 2.0], [0, 1, 0]).breakpoints(1.0), [0.2])


def _rk4_np(net, drives, grounded, t_end, dt):
    """Plain-NumPy twin of the fixed-step RK4 loop as memsim documents it: at every stage the
    nodal system is solved for the stage's conductances (dense LU here) and the states are
    clipped to [0, 1]; the saved currents and power come from the step's own solve."""
    from memsim.devices.reference import conductances_np, rates_np

    inc = net.incidence().toarray()
    fixed = net.roles == memsim.Role.GROUND
    fixed[net.inputs] = True
    fixed[net.outputs[grounded]] = True
    free = ~fixed
    a, b = net.edges[:, 0], net.edges[:, 1]

    def solve(t, x):
        g = conductances_np(net.model, x, net.params)
        lap = inc @ np.diag(g) @ inc.T
        v = np.zeros(net.n_nodes)
        v[net.inputs] = [_drive_np(d, t) for d in drives]
        v[free] = np.linalg.solve(lap[np.ix_(free, free)], -lap[np.ix_(free, fixed)] @ v[fixed])
        return g, v

    def f(t, x):
        g, v = solve(t, x)
        return rates_np(net.model, x, v[a] - v[b], net.params)

    n = int(round(t_end / dt))
    x = net.x0.copy()
    xs, outs, ins, power = [], [], [], []
    for k in range(n + 1):
        t = k * dt
        g, v = solve(t, x)
        i_e = g * (v[a] - v[b])
        leave = inc @ i_e
        xs.append(x.copy())
        outs.append(np.where(grounded, -leave[net.outputs], 0.0))
        ins.append(leave[net.inputs])
        power.append(np.sum(i_e * (v[a] - v[b])))
        if k == n:
            break
        k1 = f(t, x)
        k2 = f(t + dt / 2, np.clip(x + dt / 2 * k1, 0, 1))
        k3 = f(t + dt / 2, np.clip(x + dt / 2 * k2, 0, 1))
        k4 = f(t + dt, np.clip(x + dt * k3, 0, 1))
        x = np.clip(x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4), 0, 1)
    return np.array(xs), np.array(outs), np.array(ins), np.array(power)


def test_fixed_step_loop_equals_the_numpy_twin():
    """The jitted step loop (drives, nodal solve, device rates, clipping, observation) against
    its NumPy twin on a mixed network: resistor, HP/Biolek, VTEAM and threshold devices, one
    output floating, states that reach a bound."""
    kinds = [Resistor(300.0), HP(window="biolek", x0=0.9), VTEAM(x0=0.2, k_on=30.0, k_off=30.0),
             Threshold(x0=0.6, beta=5e5, v_t=0.5)]
    net = memsim.layered([2, 3, 2], device=[kinds[k % 4] for k in range(12)])
    drives = [Sine(2.5, 3.0, phase=20.0), Pulse(-1.5, 2.0, delay=0.05, rise=0.01, fall=0.02,
                                                width=0.1, period=0.25)]
    grounded = np.array([True, False])
    res = memsim.simulate(net, drives, 0.5, method="rk4", dt=1e-3, outputs=grounded)
    xs, outs, ins, power = _rk4_np(net, drives, grounded, 0.5, 1e-3)
    assert np.ptp(res.x, axis=0).max() > 0.3 and (res.x == 1.0).any()  # it moves, and clamps
    # Same arithmetic up to the order of sums and the linear solver (Cholesky vs LU):
    # round-off ~1e-16 per step, carried through 500 steps (measured: 2e-15).
    np.testing.assert_allclose(res.x, xs, rtol=0, atol=1e-12)
    scale = np.abs(ins).max()
    np.testing.assert_allclose(res.output_currents, outs, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(res.input_currents, ins, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(res.power, power, rtol=0, atol=1e-12 * power.max())
    np.testing.assert_array_equal(res.output_currents[:, 1], 0.0)


def test_drive_table_errors():
    from memsim.solve.drives import drive_table

    with pytest.raises(ParameterError, match="unknown input 'c'"):
        drive_table({"c": 1.0}, 2, ["a", "b"])
    with pytest.raises(ParameterError, match="outside 0..1"):
        drive_table({2: 1.0}, 2, ["a", "b"])
    with pytest.raises(ParameterError, match="need 2 drives"):
        drive_table([1.0], 2)
    with pytest.raises(ParameterError, match="expected a Drive"):
        drive_table(["sine", None], 2)
    table = drive_table({"b": Sine(1.0, 1.0), 0: 0.5}, 2, ["a", "b"])
    assert table.driven.tolist() == [True, True] and table.values(0.25).tolist() == [0.5, 1.0]
    assert drive_table([None, 2.0], 2).driven.tolist() == [False, True]


def test_floating_island_carries_no_current_and_warns():
    g = nx.Graph()
    g.add_edge("a", "b")
    g.add_edge("c", "d")  # touches no terminal
    net = memsim.from_networkx(g, inputs=["a"], outputs=["b"], device=HP(x0=0.3))
    with pytest.warns(memsim.FloatingSubnetworkWarning, match="c, d") as caught:
        res = memsim.simulate(net, Sine(2.0, 1.0), 1.0, method="rk4")
    assert caught[0].filename == __file__  # the warning points at the user's call
    with pytest.warns(memsim.FloatingSubnetworkWarning) as caught:
        memsim.solve_dc(net, [1.0])
    assert caught[0].filename == __file__
    assert np.isfinite(res.x).all() and np.isfinite(res.output_currents).all()
    island = net.edge_names.index("c-d")
    np.testing.assert_array_equal(res.x[:, island], 0.3)  # no voltage, no drift
    assert np.ptp(res.x[:, net.edge_names.index("a-b")]) > 0.05


def test_transient_errors():
    net = _single(HP_NOWIN)
    with pytest.raises(ParameterError, match="state"):
        memsim.simulate(net, DC(1.0), 1.0, state=np.array([0.5, 0.5]))
    with pytest.raises(ParameterError, match="state"):
        memsim.simulate(net, DC(1.0), 1.0, state=np.array([-0.1]))
    with pytest.raises(ParameterError, match="drive"):
        memsim.simulate(net, [DC(1.0), DC(2.0)], 1.0)
    with pytest.raises(ParameterError, match="drive"):
        memsim.simulate(net, {3: DC(1.0)}, 1.0)
    with pytest.raises(ParameterError, match="expected a Drive"):
        memsim.simulate(net, ["sine"], 1.0)
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
    # tolerances no step can meet: the adaptive step collapses below 1e-14 t_end
    with pytest.raises(SolverError, match="step size underflow"):
        memsim.simulate(net, Sine(1.0, 1.0), 1.0, rtol=1e-300, atol=1e-300)


@pytest.mark.parametrize(("factory", "field"), [
    (lambda: DC(float("nan")), "v"),
    (lambda: Pulse(float("inf"), 1.0), "v1"),
    (lambda: Pulse(0.0, 1.0, rise=0.0), "rise"),
    (lambda: Pulse(0.0, 1.0, fall=-1e-9), "fall"),
    (lambda: Pulse(0.0, 1.0, delay=-1.0), "delay"),
    (lambda: Pulse(0.0, 1.0, width=-1.0), "width"),
    (lambda: Pulse(0.0, 1.0, rise=1e-3, fall=1e-3, width=1e-2, period=1e-2), "period"),
    (lambda: Sine(1.0, -1.0), "frequency"),
    (lambda: Sine(1.0, 1.0, delay=-0.5), "delay"),
    (lambda: Sine(float("nan"), 1.0), "amplitude"),
    (lambda: PWL([0.0, 0.0], [1.0, 2.0]), "times"),
    (lambda: PWL([0.0, 1.0], [1.0]), "times"),
    (lambda: PWL([], []), "times"),
    (lambda: PWL([0.0, 1.0], [1.0, float("inf")]), "values"),
])
def test_bad_drives_name_the_field(factory, field):
    with pytest.raises(ParameterError) as err:
        factory()
    assert err.value.field == field


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
