"""Crossbar tiles: reads against independent solves, writes against the transient."""

import networkx as nx
import numpy as np
import pytest

import memsim
from memsim.devices import VTEAM, Threshold, device_from_row
from memsim.errors import ParameterError
from memsim.tiles import CrossbarTile, TileConfig, WeightStore, integrate_pulses, tile_preset
from memsim.tiles.config import RRAM, VTEAM_ASYMMETRIC


def _g(states, r_on, r_off):
    """Conductances from the shared state convention, written out independently."""
    return 1.0 / (r_off - states * (r_off - r_on))


def _weights(tile):
    g = _g(tile.states, tile.config.device.r_on, tile.config.device.r_off)
    window = 1 / tile.config.device.r_on - 1 / tile.config.device.r_off
    return tile.config.w_max * (g[:, 0::2] - g[:, 1::2]) / window


def _rng_tile(shape=(6, 4), seed=0, **changes):
    rng = np.random.default_rng(seed)
    w0 = rng.uniform(-0.4, 0.4, shape)
    return CrossbarTile(w0, TileConfig(**changes), seed=seed), rng


def test_ideal_lines_read_is_the_differential_conductance_product():
    tile, rng = _rng_tile(r_line=0.0)
    assert isinstance(tile, WeightStore)
    x = rng.uniform(-1, 1, (5, 6))
    expected = x @ _weights(tile)
    # sums of 6 products: round-off ~1e-16 relative; 1e-12 is the contract
    assert np.abs(tile.read(x) - expected).max() <= 1e-12 * np.abs(expected).max()
    # the same through memsim's nodal solver on the tile's own network
    res = memsim.solve_dc(tile.network, 0.2 * x.T, state=tile.network_state(), method="direct")
    i = res.output_currents.T
    direct = (i[:, 0::2] - i[:, 1::2]) * tile.config.w_max / (0.2 * tile.g_window)
    assert np.abs(direct - expected).max() <= 1e-12 * np.abs(expected).max()


def test_resistive_lines_read_is_the_full_crossbar_solve():
    tile, rng = _rng_tile(shape=(12, 8), r_line=20.0)
    x = rng.uniform(0, 1, (30, 12))
    # reference: the sparse direct nodal solve of the same network (not the crossbar CG)
    res = memsim.solve_dc(tile.network, 0.2 * x.T, state=tile.network_state(), method="direct")
    i = res.output_currents.T
    expected = (i[:, 0::2] - i[:, 1::2]) * tile.config.w_max / (0.2 * tile.g_window)
    ideal = x @ tile.weights()
    assert np.abs(expected - ideal).max() > 1e-3 * np.abs(ideal).max()  # the IR drop matters
    # CG stops at a KCL residual of 1e-12 of the largest edge current; the M-matrix bound
    # leaves the output currents within ~1e-11 of the direct solve
    direct_path = tile.read(x[:3])  # fewer vectors than rows: solved as given
    assert tile.stats.solves == 3
    assert np.abs(direct_path - expected[:3]).max() <= 1e-10 * np.abs(expected).max()
    transfer_path = tile.read(x)  # now through the transfer matrix of 12 unit solves
    assert tile.stats.solves == 3 + 12
    assert np.abs(transfer_path - expected).max() <= 1e-10 * np.abs(expected).max()
    np.testing.assert_allclose(tile.transfer(), np.linalg.lstsq(x, expected, rcond=None)[0],
                               rtol=0, atol=1e-9 * np.abs(tile.transfer()).max())


def test_read_energy_is_the_networks_power():
    tile, rng = _rng_tile(r_line=5.0)
    x = rng.uniform(0, 1, (20, 6))
    tile.read(x)
    res = memsim.solve_dc(tile.network, 0.2 * x.T, state=tile.network_state(), method="direct")
    expected = res.power.sum() * tile.config.t_read
    assert tile.stats.read_energy == pytest.approx(expected, rel=1e-9)


def test_zero_inputs_read_zero_and_solve_nothing():
    tile, _ = _rng_tile()
    assert np.array_equal(tile.read(np.zeros((4, 6))), np.zeros((4, 4)))
    assert tile.stats.solves == 0 and tile.stats.reads == 4


def _simulate_pulses(device, x0, volts, width, n):
    """State after n constant-voltage pulses on one device, by memsim's adaptive transient."""
    net = memsim.from_networkx(nx.path_graph(2), inputs=[0], outputs=[1], device=device)
    x = np.array([x0])
    for _ in range(n):
        x = memsim.simulate(net, memsim.DC(volts), width, state=x, rtol=1e-10, atol=1e-13,
                            t_eval=np.array([width])).final_state
    return float(x[0])


@pytest.mark.parametrize("device, v_write", [(RRAM, 1.6), (VTEAM_ASYMMETRIC, 0.8)])
def test_write_moves_each_conductance_as_simulate_predicts(device, v_write):
    cfg = TileConfig(device=device, v_write=v_write, levels=64, r_line=0.0,
                     rounding="nearest", counting="nominal", d2d=0.1)
    tile = CrossbarTile(np.array([[0.3, -0.2], [0.0, 0.45]]), cfg, seed=3)
    before = tile.states.ravel()
    dw = np.array([[0.5, -0.3], [0.2, 0.6]])  # 6 to 19 pulses per device
    tile.update(dw)
    # nominal counting: |dG| / (window / levels) pulses per device, dG = dw / 2 of the window
    pulses = np.rint(np.abs(dw) / 2 * cfg.levels).repeat(2, axis=1).ravel().astype(int)
    raise_g = np.column_stack([dw[:, 0] > 0, dw[:, 0] < 0, dw[:, 1] > 0, dw[:, 1] < 0]).ravel()
    assert tile.stats.pulses == pulses.sum()
    got = tile.conductances().ravel()
    for k in range(4 * 2):
        row = tile.network.params[tile.network.layout.device.ravel()[k]]
        dev = device_from_row(int(device.model), row)
        volts = (1 if raise_g[k] else -1) * tile.set_sign * v_write
        x = _simulate_pulses(dev, before[k], volts, tile.width, pulses[k])
        # the threshold law is integrated exactly; for the windowed VTEAM, RK4 with 4 steps
        # per pulse converges at 4th order (state error 2.3e-6 after 3 pulses of 1/8 of the
        # range, 16x less per halving), so at 1/64 per pulse it is ~1e-10 per pulse; 19
        # pulses and d(ln G)/dx <= ln(10) leave < 1e-8, and rk45 runs at rtol 1e-10
        assert got[k] == pytest.approx(_g(x, row[0], row[1]), rel=1e-8)


def test_half_selected_cells_are_disturbed_as_the_device_law_says():
    # V/2 = 1.2 V exceeds the 1 V threshold: half-selected cells move; at 1.6 V they would not
    device = Threshold(r_on=100e3, r_off=1e6, beta=1.5e9, v_t=1.0)
    cfg = TileConfig(device=device, v_write=2.4, levels=16, r_line=0.0, scheme="v/2",
                     rounding="nearest", counting="nominal")
    tile = CrossbarTile(np.zeros((3, 2)), cfg, seed=0)
    before = tile.states.copy()
    dw = np.zeros((3, 2))
    dw[1, 0] = 2 * 3 / cfg.levels  # 3 pulses on each device of pair (1, 0)
    tile.update(dw)
    after = tile.states
    # threshold law: dx/dt = beta (v - v_t) / (R_off - R_on), independent of the state
    half = 1.5e9 * (1.2 - 1.0) / (1e6 - 100e3) * tile.width
    full = 1.5e9 * (2.4 - 1.0) / (1e6 - 100e3) * tile.width
    expected = before.copy()
    # raise phase (3 rounds): word line 1 at +1.2 V, bit line 0 at -1.2 V
    expected[1] += 3 * half
    expected[[0, 2], 0] += 3 * half
    expected[1, 0] += 3 * (full - half)
    # lower phase (3 rounds): word line 1 at -1.2 V, bit line 1 at +1.2 V
    expected[1] -= 3 * half
    expected[[0, 2], 1] -= 3 * half
    expected[1, 1] -= 3 * (full - half)
    np.testing.assert_allclose(after, expected, rtol=0, atol=1e-14)
    assert tile.stats.pulses == 6
    assert tile.stats.half_selected == 2 * 3 * (3 + 2)  # 3 in the row, 2 in the column


def test_same_seed_same_run_and_other_seed_differs():
    def run(seed):
        rng = np.random.default_rng(42)
        tile = CrossbarTile(rng.uniform(-0.3, 0.3, (8, 5)), tile_preset("rram64-noisy"),
                            seed=seed)
        outs = []
        for _ in range(5):
            outs.append(tile.read(rng.uniform(0, 1, (3, 8))))
            tile.update(rng.normal(0, 0.05, (8, 5)))
        return np.concatenate(outs), tile.states

    a, b, c = run(7), run(7), run(8)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize("preset", ["rram64-noisy", "rram64-v2", "vteam64"])
def test_pulse_schemes_never_leave_the_unit_interval(preset):
    cfg = tile_preset(preset).replace(c2c=0.5, levels=4, stuck_on=0.1, stuck_off=0.1)
    rng = np.random.default_rng(1)
    tile = CrossbarTile(rng.uniform(-1, 1, (5, 3)), cfg, seed=2)
    stuck_states = tile.states
    for _ in range(30):
        tile.update(rng.normal(0, 2.0, (5, 3)))  # far beyond the window: drives to bounds
        x = tile.states
        assert np.all((x >= 0) & (x <= 1))
    assert np.any(tile.states == 1.0) and np.any(tile.states == 0.0)
    stuck = (stuck_states == 1.0) | (stuck_states == 0.0)
    fixed = np.isin(np.arange(x.size), np.flatnonzero(tile._stuck))
    assert np.array_equal(x.ravel()[fixed], stuck_states.ravel()[fixed]) and stuck.any()


def test_small_updates_survive_stochastic_rounding_on_average():
    # a tenth of a pulse per device: nearest rounding writes nothing, stochastic rounding
    # writes one pulse a tenth of the time, so the mean change is right
    w0 = np.zeros((40, 25))
    dw = np.full((40, 25), 0.1 * 2 / 64)
    lost = CrossbarTile(w0, TileConfig(r_line=0.0, rounding="nearest"), seed=0)
    lost.update(dw)
    assert lost.stats.pulses == 0 and np.array_equal(lost.weights(), np.zeros_like(w0))
    kept = CrossbarTile(w0, TileConfig(r_line=0.0), seed=0)
    kept.update(dw)
    mean = kept.weights().mean()
    # 2000 devices, each one pulse with p = 0.1: relative sd of the mean ~ sqrt(0.9/200)
    assert mean == pytest.approx(dw.mean(), rel=0.25)


def test_read_noise_and_adc():
    tile = CrossbarTile(np.zeros((4, 3)), TileConfig(r_line=0.0, read_noise=0.05), seed=0)
    y = tile.read(np.ones((4000, 4)))
    assert y.std() == pytest.approx(0.05, rel=0.05)  # 12000 samples: sd error ~0.7 %
    adc = CrossbarTile(np.full((4, 3), 0.1), TileConfig(r_line=0.0, adc_bits=4,
                                                        adc_range=1.0), seed=0)
    out = adc.read(np.ones((2, 4)))
    np.testing.assert_allclose(out, np.round(0.4 * 7) / 7)  # 7 steps per sign at 4 bits


def test_integrate_pulses_closed_form_and_bounds():
    d = Threshold(r_on=1e3, r_off=1e4, beta=9e6, v_t=1.0)
    model = np.full(3, int(d.model))
    rows = np.tile(d.row(), (3, 1))
    x, e = integrate_pulses(model, rows, np.array([0.0, 0.95, 0.5]),
                            np.array([2.0, 2.0, -0.5]), np.full(3, 1e-3), 4)
    # rate = beta (v - v_t) / (R_off - R_on) = 1000 /s: +1 in 1 ms, clipped at the bound;
    # -0.5 V is below threshold
    np.testing.assert_allclose(x, [1.0, 1.0, 0.5], atol=1e-12)
    # below threshold the device does not move but still dissipates v^2 g t
    assert e[2] == pytest.approx(0.25 / 5.5e3 * 1e-3, rel=1e-12) and e[0] > 0


def test_bad_tiles_raise():
    with pytest.raises(ParameterError, match="v_read"):
        CrossbarTile(np.zeros((2, 2)), TileConfig(device=memsim.devices.preset("biolek2009")),
                     seed=0)
    with pytest.raises(ParameterError, match="v_write"):
        CrossbarTile(np.zeros((2, 2)), TileConfig(v_write=0.9), seed=0)
    with pytest.raises(ParameterError, match="w0"):
        CrossbarTile(np.zeros(3), seed=0)
    with pytest.raises(ParameterError, match="cells"):
        CrossbarTile(np.zeros((2, 2)), seed=0, cells=np.zeros((2, 2, 10)))
    tile = CrossbarTile(np.zeros((2, 2)), seed=0)
    with pytest.raises(ParameterError, match="dw"):
        tile.update(np.zeros((2, 3)))
    with pytest.raises(ParameterError, match="x"):
        tile.read(np.zeros((1, 3)))


@pytest.mark.parametrize("field, value", [("levels", 1), ("scheme", "v/3"), ("r_line", -1.0),
                                          ("stuck_on", 1.5), ("adc_bits", 1.5),
                                          ("device", memsim.devices.Resistor(1.0))])
def test_bad_configs_raise(field, value):
    with pytest.raises(ParameterError, match=field):
        TileConfig(**{field: value})


def test_unknown_preset_lists_the_known():
    with pytest.raises(ParameterError, match="rram64"):
        tile_preset("nope")


def test_cells_hook_takes_measured_rows():
    rows = np.tile(RRAM.row(), (2, 4, 1))
    rows[0, 0, :2] *= 2.0  # one device twice as resistive
    tile = CrossbarTile(np.zeros((2, 2)), TileConfig(r_line=0.0), seed=0, cells=rows)
    g = tile.conductances()
    # write-verify programs the reference conductance wherever the device can hold it
    assert g[0, 0] == pytest.approx(tile.g_ref, rel=1e-12) and g[1, 3] == pytest.approx(
        tile.g_ref, rel=1e-12)
    assert tile.states[0, 0] != tile.states[1, 3]
    assert VTEAM(r_on=1e3, r_off=1e4).memristive


@pytest.mark.parametrize("device", [RRAM, VTEAM_ASYMMETRIC], ids=["threshold", "vteam"])
def test_pulse_train_kernel_agrees_with_its_numpy_twin(device):
    from memsim.tiles.pulses import pulse_train, pulse_train_np

    rng = np.random.default_rng(4)
    e = 50
    model = np.full(e, int(device.model))
    params = np.tile(device.row(), (e, 1)) * np.exp(rng.normal(0, 0.1, (e, 1)))
    params[:, 2:] = device.row()[2:]  # spread R_on / R_off only
    x = rng.uniform(0, 1, e)
    x[:3] = [0.0, 1.0, 0.999]  # at and near the bounds
    v = rng.choice([-1.0, 1.0], e) * 1.6 * (1.0 if device is RRAM else 0.5)
    counts = rng.integers(0, 6, e)
    widths = rng.uniform(0, 5e-5, counts.sum())
    a = pulse_train(model, params, x, v, counts, widths, 4)
    b = pulse_train_np(model, params, x, v, counts, widths, 4)
    # same arithmetic in another order: round-off only
    np.testing.assert_allclose(a[0], b[0], rtol=0, atol=1e-13)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-12, atol=0)
    assert np.all((a[0] >= 0) & (a[0] <= 1))


def test_initial_weights_over_the_whole_range_are_programmed_exactly():
    w0 = np.array([[-1.0, -0.7, -0.2, 0.0, 0.3, 0.9, 1.0]])
    tile = CrossbarTile(w0, TileConfig(r_line=0.0), seed=0)
    # write-verify: the pair difference is the weight (round-off of 1/G inversions only)
    np.testing.assert_allclose(_weights(tile), w0, rtol=0, atol=1e-12)
    g = tile.conductances()
    assert g.min() >= 1 / RRAM.r_off * (1 - 1e-12) and g.max() <= 1 / RRAM.r_on * (1 + 1e-12)
