"""Device-level nonidealities: statistics reproduce the parameters, seeds reproduce the draws,
kernels agree with their NumPy twins, bad parameters are refused."""

import numpy as np
import pytest

import memsim
from memsim.devices import Model
from memsim.devices.nonideal import (
    CycleNoise,
    DeviceSpread,
    Levels,
    Nonidealities,
    ReadNoise,
    RetentionDrift,
    StuckFaults,
    apply_stuck,
    cycle_update,
    drift_states,
    noisy_conductances,
    quantize_states,
    spread_devices,
    stuck_codes,
)
from memsim.devices.nonideal_reference import (
    apply_stuck_np,
    cycle_update_np,
    drift_states_np,
    noisy_conductances_np,
    quantize_states_np,
    spread_devices_np,
    stuck_codes_np,
)
from memsim.errors import ParameterError

N = 20_000  # devices drawn for the statistical checks


def _population(n=N, seed=0):
    rng = np.random.default_rng(seed)
    r_on = rng.uniform(500, 2e3, n)
    params = np.zeros((n, memsim.devices.N_PARAMS))
    params[:, 0] = r_on
    params[:, 1] = r_on * rng.uniform(5, 50, n)
    x = rng.uniform(0, 1, n)
    return params, x, np.arange(n)


def _chi2_band(sigma, n):
    """A 6-sigma band for a sample standard deviation of n normal draws (sd of s is about
    sigma / sqrt(2 n))."""
    half = 6 * sigma / np.sqrt(2 * n)
    return sigma - half, sigma + half


# ------------------------------------------------------------------ statistics reproduce
def test_spread_log_sd_and_state_sd_reproduce_the_parameters():
    params, _, mem = _population()
    x = np.full(N, 0.5)  # away from the clip at 0 and 1 (0.1 sd: 5 sd from the bounds)
    p, x2 = DeviceSpread(r_sigma=0.2, x0_sigma=0.1).draw(params, x, mem,
                                                        np.random.default_rng(1))
    f_on = np.log(p[:, 0] / params[:, 0])
    # one factor per device on both: R_off / R_on kept (to round-off)
    np.testing.assert_allclose(p[:, 0] / params[:, 0], p[:, 1] / params[:, 1], rtol=1e-14)
    lo, hi = _chi2_band(0.2, N)
    assert lo < f_on.std() < hi
    assert abs(f_on.mean()) < 6 * 0.2 / np.sqrt(N)
    lo, hi = _chi2_band(0.1, N)
    assert lo < (x2 - 0.5).std() < hi


def test_stuck_fractions_reproduce_the_probabilities():
    params, x, mem = _population()
    codes = StuckFaults(p_on=0.05, p_off=0.02).draw(N, np.random.default_rng(2))
    for code, p in ((1, 0.05), (2, 0.02)):
        k = int((codes == code).sum())
        assert abs(k - p * N) < 6 * np.sqrt(N * p * (1 - p))  # binomial, 6 sd
    model = np.full(N, int(Model.THRESHOLD))
    m2, p2 = StuckFaults(p_on=0.05, p_off=0.02, r_on=123.0).apply(model, params, codes)
    assert int((m2 == Model.RESISTOR).sum()) == int((codes > 0).sum())
    assert (p2[codes == 1, 0] == 123.0).all()  # stuck ON at the given resistance
    np.testing.assert_array_equal(p2[codes == 2, 0], params[codes == 2, 1])  # OFF at R_off
    assert (m2[codes == 0] == Model.THRESHOLD).all()


def test_cycle_noise_scales_every_change_by_the_given_spread():
    _, x_old, _ = _population()
    x_new = np.clip(x_old + 1e-3, 0, 1)  # a small change: no clipping except at x = 1
    moved = x_new != x_old
    out = CycleNoise(relative=0.3).update(x_old, x_new, np.random.default_rng(3))
    factor = (out[moved] - x_old[moved]) / (x_new[moved] - x_old[moved])
    # max(0, 1 + 0.3 N): the clip at 0 is 3.3 sd out (fraction 4e-4): mean and sd barely move
    lo, hi = _chi2_band(0.3, moved.sum())
    assert lo < factor.std() < hi and abs(factor.mean() - 1) < 6 * 0.3 / np.sqrt(moved.sum())
    unmoved = CycleNoise(relative=0.3).update(x_old, x_old, np.random.default_rng(3))
    np.testing.assert_array_equal(unmoved, x_old)  # devices that did not move stay put
    absolute = CycleNoise(absolute=1e-3).update(np.full(N, 0.5), np.full(N, 0.6),
                                                np.random.default_rng(4))
    lo, hi = _chi2_band(1e-3, N)
    assert lo < (absolute - 0.6).std() < hi


def test_read_noise_relative_and_absolute_parts():
    g = np.full(N, 1e-4)
    rel = ReadNoise(relative=0.02).read(g, np.random.default_rng(5))
    lo, hi = _chi2_band(0.02, N)
    assert lo < (rel / g - 1).std() < hi
    ab = ReadNoise(absolute=1e-6).read(g, np.random.default_rng(5))
    lo, hi = _chi2_band(1e-6, N)
    assert lo < (ab - g).std() < hi
    np.testing.assert_array_equal(ReadNoise().read(g, np.random.default_rng(5)), g)


@pytest.mark.parametrize("n", [2, 4, 16])
def test_levels_give_exactly_n_conductances_evenly_spaced(n):
    params, x, mem = _population(2000)
    params[:, 0], params[:, 1] = 1e3, 1e4  # one window, so levels coincide across devices
    q = Levels(n=n).quantize(x, params, mem)
    g = 1 / (params[:, 1] - q * (params[:, 1] - params[:, 0]))
    levels = np.unique(np.round(g, 15))
    assert levels.size == n
    np.testing.assert_allclose(np.diff(levels), (1e-3 - 1e-4) / (n - 1), rtol=1e-9)
    # nearest rounding: no conductance moves by more than half a level
    g0 = 1 / (params[:, 1] - x * (params[:, 1] - params[:, 0]))
    assert np.abs(g - g0).max() <= 0.5 * (1e-3 - 1e-4) / (n - 1) * (1 + 1e-9)


def test_stochastic_levels_are_unbiased_in_conductance():
    params, _, mem = _population(N)
    params[:, 0], params[:, 1] = 1e3, 1e4
    x = np.full(N, 0.3)
    g0 = 1 / (1e4 - 0.3 * 9e3)
    q = Levels(n=3, stochastic=True).quantize(x, params, mem, np.random.default_rng(6))
    g = 1 / (1e4 - q * 9e3)
    assert np.unique(np.round(g, 15)).size == 2  # the two neighbouring levels only
    step = (1e-3 - 1e-4) / 2
    assert abs(g.mean() - g0) < 6 * 0.5 * step / np.sqrt(N)  # Bernoulli sd <= step / 2


def test_drift_follows_the_power_law():
    params, x, mem = _population(500)
    x = np.full(500, 0.5)
    d = RetentionDrift(nu=0.05, t0=10.0)
    nu = d.exponents(500, None)
    g0 = 1 / (params[:, 1] - 0.5 * (params[:, 1] - params[:, 0]))
    for t in (100.0, 1000.0):
        x_t = d.after(x, params, mem, t, nu)
        g = 1 / (params[:, 1] - x_t * (params[:, 1] - params[:, 0]))
        np.testing.assert_allclose(g / g0, (t / 10.0) ** -0.05, rtol=1e-12)
    np.testing.assert_array_equal(d.after(x, params, mem, 5.0, nu), x)  # before t0
    spread = RetentionDrift(nu=0.05, nu_sigma=0.01).exponents(N, np.random.default_rng(7))
    lo, hi = _chi2_band(0.01, N)
    assert lo < spread.std() < hi


# ------------------------------------------------------------------ seeds
def test_same_seed_same_network_other_seed_other_network():
    net = memsim.layered([4, 8, 4], device=memsim.devices.preset("pershin2011"))
    nonideal = Nonidealities(spread=DeviceSpread(0.1, 0.1), stuck=StuckFaults(0.1, 0.05),
                             levels=Levels(n=4, stochastic=True))
    a, b, c = (nonideal.apply(net, seed=s) for s in (11, 11, 12))
    for field in ("model", "params", "x0"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.params, c.params)
    # one stream per nonideality: switching the faults off leaves the spread's draw alone
    no_faults = Nonidealities(spread=DeviceSpread(0.1, 0.1)).apply(net, seed=11)
    alive = a.model != Model.RESISTOR
    np.testing.assert_array_equal(a.params[alive, :2], no_faults.params[alive, :2])
    assert Nonidealities().ideal and not nonideal.ideal
    ideal = Nonidealities().apply(net, seed=0)
    np.testing.assert_array_equal(ideal.params, net.params)
    np.testing.assert_array_equal(ideal.x0, net.x0)


def test_spread_reproduces_the_learners_device_draw():
    """One definition of device-to-device spread: the learner's draw is an instance."""
    from memsim.learn import CircuitConfig
    from memsim.learn.circuit import device_draw

    net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    cfg = CircuitConfig()
    p_learn, x_learn = device_draw(net, cfg, np.random.SeedSequence(5))
    mem = np.flatnonzero(net.memristive)
    p, x = DeviceSpread(cfg.d2d_spread, cfg.x0_spread).draw(
        net.params, net.x0, mem, np.random.default_rng(np.random.SeedSequence(5)))
    # the same draws from the same stream; exp in numba and NumPy may differ by one ulp
    np.testing.assert_allclose(p, p_learn, rtol=4e-16, atol=0)
    np.testing.assert_array_equal(x, x_learn)


# ------------------------------------------------------------------ kernels vs twins
def test_spread_and_cycle_kernels_match_twins_on_the_same_stream():
    params, x, mem = _population(300)
    a = spread_devices(params, x, mem[::2], 0.3, 0.2, np.random.default_rng(8))
    b = spread_devices_np(params, x, mem[::2], 0.3, 0.2, np.random.default_rng(8))
    np.testing.assert_allclose(a[0], b[0], rtol=1e-14)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-14)
    x_new = np.where(np.arange(300) % 3 == 0, x, np.clip(x + 0.05, 0, 1))
    for rel, ab in ((0.5, 0.0), (0.0, 0.01), (0.8, 0.02)):
        np.testing.assert_allclose(cycle_update(x, x_new, rel, ab, np.random.default_rng(9)),
                                   cycle_update_np(x, x_new, rel, ab, np.random.default_rng(9)),
                                   rtol=1e-14)


@pytest.mark.parametrize("stochastic", [False, True])
def test_array_kernels_match_twins(stochastic):
    params, x, mem = _population(400)
    rng = np.random.default_rng(10)
    u = rng.random(400)
    np.testing.assert_array_equal(stuck_codes(u, 0.1, 0.2), stuck_codes_np(u, 0.1, 0.2))
    codes = stuck_codes(u, 0.1, 0.2)
    model = np.full(400, int(Model.VTEAM))
    for r_on, r_off in ((0.0, 0.0), (50.0, 1e6)):
        for got, want in zip(apply_stuck(model, params, codes, r_on, r_off),
                             apply_stuck_np(model, params, codes, r_on, r_off), strict=True):
            np.testing.assert_array_equal(got, want)
    g = 1 / params[:, 1]
    z = rng.standard_normal((2, 400))
    np.testing.assert_allclose(noisy_conductances(g, 0.05, 1e-6, z),
                               noisy_conductances_np(g, 0.05, 1e-6, z), rtol=1e-14)
    uq = rng.random(400) if stochastic else np.zeros(0)
    for lo, hi in ((0.0, 0.0), (2e-4, 8e-4)):
        np.testing.assert_allclose(quantize_states(x, params, mem, 5, lo, hi, uq),
                                   quantize_states_np(x, params, mem, 5, lo, hi, uq),
                                   rtol=1e-12, atol=1e-15)
    nu = rng.normal(0.02, 0.01, 400)
    np.testing.assert_allclose(drift_states(x, params, mem, 1e3, 1.0, nu),
                               drift_states_np(x, params, mem, 1e3, 1.0, nu), rtol=1e-12,
                               atol=1e-15)


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize(("cls", "kwargs", "field"), [
    (DeviceSpread, {"r_sigma": -0.1}, "r_sigma"),
    (DeviceSpread, {"x0_sigma": float("nan")}, "x0_sigma"),
    (CycleNoise, {"relative": -1.0}, "relative"),
    (StuckFaults, {"p_on": 1.5}, "p_on"),
    (StuckFaults, {"p_on": 0.6, "p_off": 0.6}, "p_off"),
    (StuckFaults, {"r_on": 0.0}, "r_on"),
    (ReadNoise, {"absolute": -1e-6}, "absolute"),
    (Levels, {"n": 1}, "n"),
    (Levels, {"n": 4, "g_low": 1e-3, "g_high": 1e-4}, "g_low"),
    (RetentionDrift, {"t0": 0.0}, "t0"),
    (RetentionDrift, {"nu": float("inf")}, "nu"),
])
def test_bad_parameters_name_their_field(cls, kwargs, field):
    with pytest.raises(ParameterError) as err:
        cls(**kwargs)
    assert err.value.field == field


def test_randomness_needs_a_generator():
    params, x, mem = _population(10)
    with pytest.raises(ParameterError, match="random generator"):
        Levels(n=4, stochastic=True).quantize(x, params, mem)
    with pytest.raises(ParameterError, match="random generator"):
        RetentionDrift(nu=0.1, nu_sigma=0.1).exponents(10, None)
