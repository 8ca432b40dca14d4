"""Device parameter sets, presets and kernels (numba against the plain-NumPy twins)."""

import numpy as np
import pytest

from memsim.devices import (
    HP,
    PRESETS,
    VTEAM,
    Linear,
    Model,
    Resistor,
    Threshold,
    Window,
    conductances,
    device_from_row,
    preset,
    rates,
)
from memsim.devices.reference import conductances_np, rates_np
from memsim.errors import MemsimError, ParameterError


def _population(rng, n=400):
    """Random devices of every model and window, with random states and voltages."""
    devices = []
    for k in range(n):
        kind = k % 5
        r_on = rng.uniform(50, 2e3)
        r_off = r_on * rng.uniform(2, 200)
        w = Window(int(rng.integers(4)))
        if kind == 0:
            devices.append(Resistor(rng.uniform(1, 1e5)))
        elif kind == 1:
            devices.append(HP(r_on, r_off, mu_v=1e-14, d=1e-8, window=w, p=rng.integers(1, 5)))
        elif kind == 2:
            devices.append(Threshold(r_on, r_off, alpha=rng.uniform(0, 1e3), beta=1e6,
                                     v_t=rng.uniform(0.2, 2)))
        elif kind == 3:
            devices.append(VTEAM(r_on, r_off, window=w, p=rng.integers(1, 5)))
        else:
            devices.append(Linear(r_on, r_off, alpha=rng.uniform(0, 2), beta=rng.uniform(1, 20)))
    model = np.array([int(d.model) for d in devices])
    params = np.stack([d.row() for d in devices])
    x = rng.uniform(0, 1, n)
    x[::17] = 0.0  # include the bounds, where the outward rate must vanish
    x[::19] = 1.0
    v = rng.uniform(-3, 3, n)
    return model, params, x, v


def test_kernels_agree_with_numpy_twins():
    model, params, x, v = _population(np.random.default_rng(0))
    # Same formulas evaluated in a different order: agreement to a few ulp (rtol 1e-12).
    np.testing.assert_allclose(conductances(model, x, params), conductances_np(model, x, params),
                               rtol=1e-12)
    np.testing.assert_allclose(rates(model, x, v, params), rates_np(model, x, v, params),
                               rtol=1e-12, atol=1e-300)


def test_rates_vanish_outward_at_bounds_and_release_inward():
    hp = HP(window=Window.BIOLEK)
    row = hp.row()[None, :]
    m = np.array([Model.HP])
    assert rates(m, np.array([1.0]), np.array([1.0]), row)[0] == 0.0  # pushing past ON
    assert rates(m, np.array([1.0]), np.array([-1.0]), row)[0] < 0.0  # released by reversal
    assert rates(m, np.array([0.0]), np.array([1.0]), row)[0] > 0.0


def test_threshold_model_is_still_below_threshold():
    d = Threshold(alpha=0.0, v_t=1.0)
    v = np.linspace(-0.999, 0.999, 101)
    r = rates(np.full(101, int(Model.THRESHOLD)), np.full(101, 0.5), v, np.tile(d.row(), (101, 1)))
    assert np.all(r == 0.0)
    above = rates(np.array([2]), np.array([0.5]), np.array([1.5]), d.row()[None])[0]
    # dx/dt = beta (v - v_t) / (R_off - R_on) above threshold
    assert above == pytest.approx(d.beta * 0.5 / (d.r_off - d.r_on), rel=1e-12)


def test_linear_model_sign_convention():
    d = Linear(alpha=0.0, beta=10.0)
    g = 1.0 / (d.r_off - 0.5 * (d.r_off - d.r_on))
    r = rates(np.array([4]), np.array([0.5]), np.array([1.0]), d.row()[None])[0]
    assert r == pytest.approx(d.r_on * g / d.beta, rel=1e-12)  # positive current -> ON


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_cite_a_source_and_round_trip(name):
    dev, cite = PRESETS[name]
    assert any(ch.isdigit() for ch in cite) and len(cite) > 30
    back = device_from_row(dev.model, dev.row(), dev.initial_state)
    np.testing.assert_allclose(back.row(), dev.row(), rtol=1e-12)


@pytest.mark.parametrize(
    ("factory", "field"),
    [
        (lambda: Resistor(-1.0), "r"),
        (lambda: HP(r_on=-5.0), "r_on"),
        (lambda: HP(r_on=2e4, r_off=1e4), "r_on"),
        (lambda: HP(p=0.5), "p"),
        (lambda: HP(window="hann"), "window"),
        (lambda: HP(x0=1.5), "x0"),
        (lambda: HP(d=0.0), "d"),
        (lambda: Threshold(v_t=0.0), "v_t"),
        (lambda: Threshold(alpha=-1.0), "alpha"),
        (lambda: VTEAM(v_on=0.2), "v_on"),
        (lambda: VTEAM(k_off=0.0), "k_off"),
        (lambda: Linear(beta=0.0), "beta"),
        (lambda: Linear(r_on=float("nan")), "r_on"),
        (lambda: preset("nope"), "preset"),
    ],
)
def test_bad_parameters_name_the_field(factory, field):
    with pytest.raises(ParameterError) as err:
        factory()
    assert err.value.field == field
    assert isinstance(err.value, MemsimError)


# (device, drive that pushes ON, drive that pushes OFF), the drives beyond any threshold
BOUND_CASES = [
    (HP(window="none"), 1.0, -1.0),
    (HP(window="biolek", p=2), 1.0, -1.0),
    (VTEAM(window="none"), -0.6, 0.6),
    (VTEAM(window="biolek", p=2), -0.6, 0.6),
    (Threshold(), 1.5, -1.5),
    (Linear(alpha=0.5, beta=0.02), 2.0, -2.0),
]


@pytest.mark.parametrize(("dev", "v_on", "v_off"), BOUND_CASES,
                         ids=["hp-none", "hp-biolek", "vteam-none", "vteam-biolek", "threshold",
                              "linear"])
def test_at_a_bound_the_outward_rate_vanishes_and_the_inward_one_does_not(dev, v_on, v_off):
    """The bound handling shared by all models (x held in [0, 1] without sticking): at x = 1
    a drive towards ON does nothing and a drive towards OFF moves the device at once; the
    mirror image at x = 0. Both the kernel and its twin."""
    m, row = np.array([int(dev.model)] * 4), np.tile(dev.row(), (4, 1))
    x = np.array([1.0, 1.0, 0.0, 0.0])
    v = np.array([v_on, v_off, v_off, v_on])
    for r in (rates(m, x, v, row), rates_np(m, x, v, row)):
        assert r[0] == 0.0 and r[2] == 0.0
        assert r[1] < 0.0 and r[3] > 0.0


@pytest.mark.parametrize("window", ["joglekar", "prodromakis"])
def test_joglekar_and_prodromakis_windows_vanish_at_both_bounds(window):
    """F(0) = F(1) = 0 by definition of these windows: a device that sits exactly at a bound
    does not move either way (documented on HP; memsim defaults to Biolek for this reason).
    Inside, the window is positive and symmetric about x = 1/2."""
    dev = HP(window=window, p=1.0)
    m, row = np.array([int(Model.HP)] * 4), np.tile(dev.row(), (4, 1))
    r = rates(m, np.array([1.0, 1.0, 0.0, 0.0]), np.array([1.0, -1.0, 1.0, -1.0]), row)
    np.testing.assert_array_equal(r, 0.0)
    xs = np.array([0.1, 0.9])
    g = conductances(m[:2], xs, row[:2])
    r = rates(m[:2], xs, 1.0 / g, row[:2])  # 1 A through both: rate = k F(x)
    assert r[0] > 0 and r[0] == pytest.approx(r[1], rel=1e-12)
