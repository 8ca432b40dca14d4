"""Volatile tiles: the devices' retention loss (memsim.devices.retention, CrossbarTile.relax)
and the hybrid model's local trace held on such a tile (RetentionDecay, ``p_store``)."""

import math

import numpy as np
import pytest

from memsim.cli import main
from memsim.errors import ParameterError
from memsim.rules.online import HybridConfig, HybridNet, RetentionDecay
from memsim.rules.online.run import HybridRun
from memsim.tiles import CrossbarTile, FloatWeights, TileConfig, tile_preset

TAU = 0.1


def volatile(w0, **changes):
    return CrossbarTile(w0, TileConfig(r_line=0.0, retention_tau=TAU).replace(**changes),
                        seed=3)


def test_relaxation_follows_the_analytic_exponential():
    rng = np.random.default_rng(0)
    tile = volatile(rng.uniform(-0.9, 0.9, (5, 4)))
    g0, w0 = tile.conductances(), tile.weights()
    t = 0.037
    tile.relax(t)
    f = math.exp(-t / TAU)                      # the analytic relaxation, written here
    # Tolerance: the state <-> conductance round trip is a few float64 roundings of numbers
    # of order 1e-5 S (1e-6 of the window's weights in rule units is far above it).
    np.testing.assert_allclose(tile.conductances(), tile.g_ref + (g0 - tile.g_ref) * f,
                               rtol=0, atol=1e-12 * tile.g_window)
    np.testing.assert_allclose(tile.weights(), f * w0, rtol=0, atol=1e-10)
    assert tile.stats.pulses == 0               # retention is not written by pulses


def test_relaxation_is_memoryless_and_reaches_rest():
    a, b = volatile(np.full((2, 3), 0.7)), volatile(np.full((2, 3), 0.7))
    for _ in range(4):
        a.relax(0.025)
    b.relax(0.1)
    np.testing.assert_allclose(a.weights(), b.weights(), rtol=0, atol=1e-10)
    a.relax(50 * TAU)                           # e^-50: at rest, weight 0
    np.testing.assert_allclose(a.conductances(), a.g_ref, rtol=1e-12)
    np.testing.assert_allclose(a.weights(), 0.0, atol=1e-12)


def test_non_volatile_tile_and_stuck_devices_do_not_decay():
    still = CrossbarTile(np.full((2, 2), 0.5), TileConfig(r_line=0.0), seed=0)
    before = still.states
    still.relax(10.0)
    np.testing.assert_array_equal(still.states, before)
    stuck = volatile(np.full((8, 8), 0.5), stuck_on=0.3)
    x0 = stuck.states
    stuck.relax(TAU)
    pinned = stuck.states == x0
    assert pinned.sum() >= 0.15 * x0.size                # the stuck devices held their state
    assert not pinned.all()                              # the others moved


@pytest.mark.parametrize("tau", [0.0, -1.0, float("nan"), float("inf"), "1s", True])
def test_bad_retention_tau_is_a_parameter_error(tau):
    with pytest.raises(ParameterError, match="retention_tau"):
        TileConfig(retention_tau=tau)


def test_bad_relax_time_and_decay_store():
    with pytest.raises(ParameterError, match="seconds"):
        volatile(np.zeros((1, 1))).relax(-1.0)
    with pytest.raises(ParameterError, match="p_dt"):
        RetentionDecay(0.0)
    with pytest.raises(ParameterError, match="p_store"):
        RetentionDecay(1e-3).apply(FloatWeights(np.zeros((1, 1))))
    with pytest.raises(ParameterError, match="p_store"):
        HybridRun(p_store="nosuch")
    with pytest.raises(ParameterError, match="p_store"):
        HybridRun(p_store="volatile64", task="continual")


def _net(seed):
    rng = np.random.default_rng(1)
    n_in, n_h = 6, 5
    p = CrossbarTile(np.zeros((n_in, n_h)), tile_preset("volatile64").replace(w_max=4.0),
                     seed=seed)
    decay = RetentionDecay(1e-3)
    net = HybridNet(rng.normal(0, 0.5, (n_in, n_h)), rng.normal(0, 0.5, (n_h, 3)),
                    np.full(n_h, 0.2), np.ones(n_in), np.zeros(n_h), p=p, decay=decay,
                    config=HybridConfig(decay=decay.factor(0.1)))
    return net, rng.uniform(0, 1, (4, 6, n_in))


def test_hybrid_on_a_volatile_trace_is_deterministic_and_its_trace_decays():
    net, xs = _net(seed=5)
    logits, p = net.run(xs)
    again, xs2 = _net(seed=5)
    logits2, p2 = again.run(xs2)
    np.testing.assert_array_equal(logits, logits2)
    np.testing.assert_array_equal(p, p2)
    assert np.abs(p).max() > 0.1 and net.p.stats.pulses > 0  # the trace was written
    # No input, no Hebbian increment (x = 0), no pulses: between updates only retention acts,
    # so after T steps P is exp(-T dt / tau) of itself, the factor training assumed.
    n_t = 7
    pulses = net.p.stats.pulses
    _, p_end = net.run(np.zeros((2, n_t, 6)))
    assert net.p.stats.pulses == pulses
    np.testing.assert_allclose(p_end, net.config.decay ** n_t * p, rtol=0, atol=1e-10)
    assert net.config.decay == pytest.approx(math.exp(-1e-3 / 0.1), rel=1e-15)


def test_cli_runs_the_hybrid_model_with_its_trace_on_a_volatile_tile(capsys):
    pytest.importorskip("jax")
    pytest.importorskip("sklearn")
    argv = ["rule", "hybrid", "--small", "--epochs", "1", "--set", "n_hidden=16", "--set",
            "p_store=volatile64", "--no-progress"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "0.9900 of the trace kept per 0.001 s step" in out
    assert any(line.startswith("p: ") and not line.startswith("p: 0 pulses")
               for line in out.splitlines())


@pytest.mark.parametrize("setting, field", [("p_store=nosuch", "p_store"), ("p_dt=-1", "p_dt")])
def test_cli_bad_trace_store_exits_with_one_line(setting, field, capsys):
    assert main(["rule", "hybrid", "--small", "--set", setting, "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"memsim: error: {field}:")
