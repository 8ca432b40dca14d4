"""The crossbar's exact terminal map (memsim.solve.crossbar.transfer) against dense linear
algebra on the same nodal matrix, and the reads that use it."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla

import memsim
from memsim.devices import Resistor, conductances
from memsim.errors import ParameterError
from memsim.solve.crossbar import (
    CrossbarSystem,
    map_batch,
    predicted_sweeps,
    terminal_map,
    terminal_plan,
)
from memsim.solve.crossbar.coarse import relaxation_rate
from memsim.solve.topology import terminals


def _crossbar(rows, cols, *, lo, hi, r_line, seed, dead=0.0):
    """Resistors log-uniform in [lo, hi] ohm; a fraction ``dead`` of the cells open (0 S)."""
    rng = np.random.default_rng(seed)
    res = np.exp(rng.uniform(np.log(lo), np.log(hi), rows * cols))
    net = memsim.crossbar(rows, cols, device=[Resistor(float(r)) for r in res], r_line=r_line)
    g = conductances(net.model, net.x0, net.params).copy()
    dev = np.asarray(net.layout.device).ravel()
    g[dev[rng.random(rows * cols) < dead]] = 0.0
    return net, g


def _dense_map(net, g):
    """Y = L_TT - L_TF L_FF^-1 L_FT with terminals T = inputs, then outputs (dense)."""
    b = net.incidence()
    lap = (b @ (b.T.multiply(g[:, None]))).toarray()
    t = np.concatenate([net.inputs, net.outputs])
    f = np.setdiff1d(np.arange(net.n_nodes), t)
    l_tf = lap[np.ix_(t, f)]
    return lap[np.ix_(t, t)] - l_tf @ sla.solve(lap[np.ix_(f, f)], l_tf.T, assume_a="pos")


@pytest.mark.parametrize("rows, cols, contrast", [
    (1, 1, "bench"), (1, 6, "hard"), (6, 1, "hard"), (2, 3, "bench"), (7, 4, "hard"),
    (9, 13, "bench"), (33, 20, "hard"), (40, 40, "bench"), (40, 40, "hard")])
def test_terminal_map_is_the_schur_complement_of_the_nodal_matrix(rows, cols, contrast):
    """Both sides eliminate the same SPD matrix exactly, in different orders: they agree to
    round-off amplified by its conditioning (segments up to 1e4x the devices), 1e-10 of each
    block's largest entry. 40 x 40 fronts reach the LAPACK path (separator and boundary
    >= DENSE_BELOW); 10 % open cells (0 S) are allowed and change nothing in the method."""
    lo, hi, r_line = (1e3, 1e5, 0.5) if contrast == "bench" else (1e2, 1e4, 2.0)
    net, g = _crossbar(rows, cols, lo=lo, hi=hi, r_line=r_line, seed=rows * 100 + cols,
                       dead=0.1)
    system = CrossbarSystem(net, g, terminals(net))
    y = terminal_map(system.gd, system.sw, system.sb)
    ref = _dense_map(net, g)
    for block in (np.s_[:rows, :rows], np.s_[rows:, :rows], np.s_[rows:, rows:]):
        scale = np.abs(ref[block]).max()
        assert np.abs(y[block] - ref[block]).max() <= 1e-10 * scale
    np.testing.assert_array_equal(y, y.T)  # both triangles of every front are kept equal


def test_the_plan_eliminates_every_line_node_once():
    """Every word and bit node is in exactly one separator; the root's boundary is the
    terminals, so the root's update is the (R + C)^2 terminal map."""
    rows, cols = 12, 9
    plan = terminal_plan(rows, cols)
    assert int(plan.n_sep.sum()) == 2 * rows * cols
    assert int(plan.n_loc[-1] - plan.n_sep[-1]) == rows + cols
    assert int(plan.kid_start[-1]) == len(plan.n_sep) - 1  # a tree: every front but the root
    assert plan.chain.any() and not plan.chain[-1]


def test_reads_through_the_map_agree_with_the_iteration_and_direct_solve():
    """currents() of a large batch goes through the map (no iterations); it agrees with the
    iterative kernel (stopping rule 1e-12 of the largest edge current, 1e-10 allowed as in
    test_crossbar_solver) and with the direct sparse solve."""
    net, g = _crossbar(24, 30, lo=1e2, hi=1e4, r_line=2.0, seed=3)
    v = np.random.default_rng(4).uniform(0.0, 1.0, (24, 40))
    system = CrossbarSystem(net, g, terminals(net))
    i_out, i_in = system.currents(v)
    assert map_batch(system.gd, system.sw, system.sb) < 40  # two-level contrast: ~18
    assert system.iterations == []  # the map
    it_out, it_in = CrossbarSystem(net, g, terminals(net)).currents(v, use_map=False)
    ref = memsim.solve_dc(net, v, method="direct")
    scale = max(np.abs(ref.output_currents).max(), np.abs(ref.input_currents).max())
    for got in ((i_out, i_in), (it_out, it_in)):
        assert np.abs(got[0] - ref.output_currents).max() <= 1e-10 * scale
        assert np.abs(got[1] - ref.input_currents).max() <= 1e-10 * scale
    one_out, _ = system.currents(v[:, :1])  # the map, once made, serves every batch
    assert system.iterations == []
    np.testing.assert_allclose(one_out[:, 0], i_out[:, 0], rtol=0, atol=1e-13 * scale)


@pytest.mark.parametrize("rows, cols, lo, hi, r_line", [
    (16, 16, 1e4, 1e6, 1.0), (32, 48, 1e3, 1e5, 0.5), (64, 64, 1e3, 1e5, 0.5),
    (80, 80, 1e3, 1e5, 0.5), (100, 30, 1e3, 1e5, 1.0)])
def test_predicted_sweeps_match_the_plain_iteration(rows, cols, lo, hi, r_line):
    """The choice between map and iteration rests on predicted_sweeps: for contrasts that run
    plain sweeps (relaxation rate 1e-5 to 0.05) it is log(rtol) / log(rate), the rate of the
    smoothest line mode; the kernel's sweep count is within one of it."""
    net, g = _crossbar(rows, cols, lo=lo, hi=hi, r_line=r_line, seed=rows + cols)
    system = CrossbarSystem(net, g, terminals(net))
    v = np.random.default_rng(0).uniform(0.0, 1.0, (rows, 32))
    system.currents(v, use_map=False)
    predicted = predicted_sweeps(relaxation_rate(system.gd, system.sw, system.sb))
    assert abs(system.iterations[0] - predicted) <= 1.0


def test_a_fast_iteration_keeps_a_large_batch_off_the_map():
    """64 x 64, 1 ohm lines, 10 k-1 Mohm devices: ~4 plain sweeps per vector, so the map
    (about 320 sweeps' worth) pays only from ~78 vectors; 64 are iterated."""
    net, g = _crossbar(64, 64, lo=1e4, hi=1e6, r_line=1.0, seed=5)
    system = CrossbarSystem(net, g, terminals(net))
    assert 64 < map_batch(system.gd, system.sw, system.sb) < 100
    system.currents(np.random.default_rng(1).uniform(0.0, 1.0, (64, 64)))
    assert len(system.iterations) == 2  # two chunks of 32, iterated


def test_the_map_of_nearly_ideal_lines_is_the_conductance_matrix():
    """With 1 micro-ohm segments the IR drop is below 1e-6 of any device voltage (line
    conductance 1e6 S against rows * 1e-3 S of devices), so T_out = G^T to 1e-6."""
    net, g = _crossbar(5, 8, lo=1e3, hi=1e5, r_line=1e-6, seed=1)
    system = CrossbarSystem(net, g, terminals(net))
    t_out, t_in = system.terminal_map()
    np.testing.assert_allclose(t_out, system.gd.T, rtol=1e-6)
    np.testing.assert_allclose(t_in, np.diag(system.gd.sum(axis=1)), rtol=1e-6,
                               atol=1e-6 * system.gd.max())


def test_bad_conductances_are_refused():
    one = np.ones((3, 4))
    with pytest.raises(ParameterError, match="shape"):
        terminal_map(one, one, np.ones((4, 3)))
    with pytest.raises(ParameterError, match="finite"):
        terminal_map(np.where(one > 0, np.nan, 0.0), one, one)
    with pytest.raises(ParameterError, match="segment"):
        terminal_map(one, one, 0.0 * one)
    with pytest.raises(ParameterError, match=">= 0"):
        terminal_map(-one, one, one)
