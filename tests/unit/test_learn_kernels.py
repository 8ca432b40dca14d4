"""Learning kernels against independent oracles: device kernels, the DC solver's floating-node
search, the lead's transient integrator, and the plain-NumPy twins."""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
from kernel_twin import kernel_and_twin

import memsim
from memsim.devices import Linear, Threshold, rates
from memsim.learn import (
    AbstractConfig,
    CircuitConfig,
    alternating_task,
    device_draw,
    fixed_task,
    random_task,
    train,
)
from memsim.learn import kernels as K
from memsim.learn.abstract import initial_weights
from memsim.learn.reference import pulse_np, train_extremal_np

PAPER = memsim.circuit_path("paper_2x4x2")


@pytest.fixture(scope="module")
def paper():
    return memsim.load(PAPER)


def _terminals(net, pattern, scale, grounded, inactive_fixed=False):
    return K._terminals(np.asarray(pattern, float), scale, inactive_fixed, net.inputs,
                        net.outputs, np.asarray(grounded, bool), np.zeros(0, np.int64),
                        net.n_nodes)


def test_exact_rate_matches_the_device_kernel_and_is_zero_below_threshold():
    rng = np.random.default_rng(0)
    n = 2000
    devs = [Threshold(alpha=0.0), Threshold(alpha=3e3), Linear()]
    model = np.array([int(devs[k % 3].model) for k in range(n)])
    params = np.stack([devs[k % 3].row() for k in range(n)])
    x = rng.uniform(0, 1, n)
    x[::13], x[::11] = 0.0, 1.0
    v = rng.uniform(-3, 3, n)
    exact = np.array([K.exact_rate(model[e], x[e], v[e], params[e]) for e in range(n)])
    # Same formula up to the rounding residue of the generic form: |diff| <= 1e-9 * beta / dR.
    np.testing.assert_allclose(exact, rates(model, x, v, params), rtol=1e-12, atol=1e-9 * 1e6 / 9e3)
    sub = (np.abs(v) <= 1.0) & (np.arange(n) % 3 == 0)
    assert (exact[sub] == 0.0).all()  # alpha = 0: exactly still, not merely small


def test_free_nodes_agree_with_the_dc_solvers_floating_search(paper):
    rng = np.random.default_rng(1)
    ptr, nbr, nbr_edge = K.adjacency(paper.n_nodes, paper.edges)
    for _ in range(200):
        cut = rng.random(paper.n_edges) < 0.4
        net = paper.pruned(cut)
        driven = rng.random(2) < 0.5
        grounded = rng.random(2) < 0.5
        if not (driven.any() or grounded.any()):
            continue
        fixed, _ = _terminals(net, driven.astype(float), 1.0, grounded)
        fi = K.free_nodes(fixed, ~cut, ptr, nbr, nbr_edge)
        # oracle: connected components of the live graph, anchored if they hold a fixed node
        live = net.edges[~cut]
        adj = sp.coo_matrix((np.ones(len(live)), (live[:, 0], live[:, 1])),
                            shape=(net.n_nodes,) * 2)
        _, comp = csgraph.connected_components(adj, directed=False)
        anchored = np.isin(comp, comp[fixed])
        assert np.array_equal(fi >= 0, anchored & ~fixed)


def _pulse_setup(paper, seed, phase):
    params, x0 = device_draw(paper, CircuitConfig(x0_spread=0.25), np.random.SeedSequence(seed))
    if phase == "inhibit":
        pattern, scale, grounded, duration, drive = [1, 0], -4.5, [False, True], 1e-3, {"in0": -4.5}
    else:
        pattern, scale, grounded, duration, drive = [1, 1], 4.5, [True, True], 2e-3, 4.5
    fixed, value = _terminals(paper, pattern, scale, grounded)
    ptr, nbr, nbr_edge = K.adjacency(paper.n_nodes, paper.edges)
    fi = K.free_nodes(fixed, np.ones(paper.n_edges, bool), ptr, nbr, nbr_edge)
    args = (paper.edges.copy(), paper.model.copy(), params, fi, value, duration)
    return params, x0, args, drive, grounded


@pytest.mark.parametrize("phase", ["inhibit", "normalize"])
def test_pulse_agrees_with_memsim_simulate(paper, phase):
    params, x0, args, drive, grounded = _pulse_setup(paper, 5, phase)
    duration = args[-1]
    x, energy, _, _ = K.pulse(x0, *args, 1, 1e-10)  # adaptive, local error <= 1e-10
    x_rk4 = K.pulse(x0, *args, 16, -1.0)[0]  # 16 fixed RK4 steps
    ref = memsim.simulate(paper.with_params(params), drive, duration, state=x0,
                          outputs=np.array(grounded), method="rk45", rtol=1e-10, atol=1e-12,
                          t_eval=np.linspace(0, duration, 4001))
    assert np.abs(x - x0).max() > 0.1  # the pulse is strong enough to matter
    # two independent DP5(4) integrators at 1e-10 local error: agree far below 1e-8
    np.testing.assert_allclose(x, ref.x[-1], atol=1e-8)
    # RK4 error at 16 steps ~1e-8 here (fourth order, see the next test): 1e-6 is safe
    np.testing.assert_allclose(x_rk4, ref.x[-1], atol=1e-6)
    # Energy vs trapezoidal integral of the sampled power (4000 intervals): rel. error ~1e-6.
    assert energy == pytest.approx(np.trapezoid(ref.power, ref.t), rel=1e-5)


@pytest.mark.parametrize("seed", [2, 5])
def test_pulse_rk4_converges_at_fourth_order_through_bound_events(paper, seed):
    # The normalization pulse drives devices to their ON bound, where the rate jumps to zero;
    # the step that reaches a bound is shortened to end there, which keeps fourth order.
    _, x0, args, _, _ = _pulse_setup(paper, seed, "normalize")
    ref = K.pulse(x0, *args, 1, 1e-12)[0]
    err = [np.abs(K.pulse(x0, *args, n, -1.0)[0] - ref).max() for n in (4, 8, 16)]
    # halving the step divides the error by ~2^4 = 16 (measured 16-17; accept > 10)
    assert err[0] / err[1] > 10 and err[1] / err[2] > 10


def test_pulse_twin_agrees(paper):
    params, x0 = device_draw(paper, CircuitConfig(), np.random.SeedSequence(3))
    net = paper.with_params(params)
    fixed, value = _terminals(net, [0, 1], -4.0, [True, False])
    ptr, nbr, nbr_edge = K.adjacency(net.n_nodes, net.edges)
    fi = K.free_nodes(fixed, np.ones(net.n_edges, bool), ptr, nbr, nbr_edge)
    for n_sub, tol in ((4, -1.0), (1, 1e-7)):
        x, e, _, _ = K.pulse(x0, net.edges.copy(), net.model.copy(), params, fi, value, 2e-3,
                          n_sub, tol)
        xn, en, _ = pulse_np(net, x0, np.array([0.0, -4.0]), np.array([False, True]),
                             np.array([True, False]), 2e-3, n_sub, tol)
        # Same steps and stages; the two linear solvers differ by rounding only.
        np.testing.assert_allclose(x, xn, rtol=0, atol=1e-12)
        assert e == pytest.approx(en, rel=1e-10)


@pytest.mark.parametrize("inactive", ["float", "ground"])
def test_thousand_reads_leave_threshold_devices_bit_identical(paper, inactive):
    # A read is a pulse at v_read < v_t: every device sees at most v_read (maximum principle),
    # so with alpha = 0 no rate is nonzero and the states must not change in any bit. A long
    # read (1 ms) would expose any drift.
    params, x0 = device_draw(paper, CircuitConfig(), np.random.SeedSequence(4))
    ptr, nbr, nbr_edge = K.adjacency(paper.n_nodes, paper.edges)
    rng = np.random.default_rng(0)
    x = x0.copy()
    for _ in range(1000):
        pattern = np.eye(2)[rng.integers(2)]
        fixed, value = _terminals(paper, pattern, 0.9, [True, True], inactive == "ground")
        fi = K.free_nodes(fixed, np.ones(paper.n_edges, bool), ptr, nbr, nbr_edge)
        x, energy, _, _ = K.pulse(x, paper.edges.copy(), paper.model.copy(), params, fi, value,
                               1e-3, 4, -1.0)
        assert energy > 0
    assert np.array_equal(x, x0)


@pytest.mark.parametrize("tol", [None, 1e-7])
def test_training_kernel_agrees_with_its_numpy_twin(paper, tol):
    config = CircuitConfig(prune_state=0.05, prune_probability=0.5, pulse_tol=tol)
    task = alternating_task(2)
    params, x0 = device_draw(paper, config, np.random.SeedSequence(11))
    out, twin = kernel_and_twin(paper, config, task, params, x0, 10, 9)
    pattern, winner, correct, era, iout, energy, power, states, era_info, x, pruned_at, _ = out
    assert (~correct).sum() >= 3  # mistakes happened, so writes were compared too
    assert np.array_equal(pattern, twin["pattern"]) and np.array_equal(winner, twin["winner"])
    assert np.array_equal(correct, twin["correct"]) and np.array_equal(era_info, twin["era_info"])
    assert np.array_equal(pruned_at, twin["pruned_at"])
    # rounding differences between the solvers, amplified by at most a few pulses: 1e-9
    np.testing.assert_allclose(states, twin["states"], atol=1e-9)
    # absolute floors far below a read (uA, nJ, uW): a fully pruned path leaves rounding dust
    np.testing.assert_allclose(iout, twin["iout"], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(energy, twin["energy"], rtol=1e-9, atol=1e-20)
    np.testing.assert_allclose(power, twin["power"], rtol=1e-9, atol=1e-18)


@pytest.mark.slow  # 1,170 final reads: 20 s without JIT, 5 s with it
def test_a_run_with_too_many_plan_slots_to_copy_each_shares_one_copy_and_agrees():
    """Above ``K.SLOT_COPIES`` plan slots times devices the block-order copy of the devices
    is one set, refilled by every pulse: each read slot's devices (with their own spread
    R_on / R_off) must still be read in its own order."""
    net = memsim.layered([12, 16, 2], device=memsim.devices.preset("pershin2011"))
    n_pat = K.SLOT_COPIES // net.n_edges  # (n_pat + 2) plan slots: over the limit
    assert (n_pat + 2) * net.n_edges > K.SLOT_COPIES
    task = random_task(12, 2, n_pat, seed=4, one_hot=False)
    config = CircuitConfig()
    params, x0 = device_draw(net, config, np.random.SeedSequence(3))
    out, twin = kernel_and_twin(net, config, task, params, x0, 12, 5)
    assert (~out.correct).sum() >= 3  # writes between the reads
    assert np.array_equal(out.winner, twin["winner"])
    # the tolerances of the twin test above
    np.testing.assert_allclose(out.states, twin["states"], atol=1e-9)
    np.testing.assert_allclose(out.iout, twin["iout"], rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("sizes, task", [
    ([2, 4, 2], alternating_task(3)),
    ([5, 6, 3, 2], random_task(5, 2, 5, seed=2)),
    ([4, 7, 3], random_task(4, 3, 9, seed=3, one_hot=False)),
    ([3, 3, 2], fixed_task([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [0, 0, 0])),
])
def test_extremal_kernel_agrees_with_its_numpy_twin(sizes, task):
    config = AbstractConfig(delta=0.3, selective=0.1)
    mats = initial_weights(sizes, np.random.default_rng(5))
    mats[0][0, :2] = 0.5  # an exact tie, broken by the generator in both
    offsets = np.cumsum([0] + [m.size for m in mats])[:-1]
    out = K.train_extremal(np.concatenate([m.ravel() for m in mats]), offsets, np.array(sizes),
                           np.array(task.patterns), task.era_targets, config.delta,
                           config.selective, True, 60, np.random.default_rng(6))
    twin = train_extremal_np(mats, task.patterns, task.era_targets, config.delta,
                             config.selective, True, 60, np.random.default_rng(6))
    pattern, winner, correct, era, era_info, w, _, _ = out
    for key, val in (("pattern", pattern), ("winner", winner), ("correct", correct),
                     ("era", era), ("era_info", era_info)):
        assert np.array_equal(val, twin[key]), key
    # identical arithmetic (w - d, clipped): the weights agree exactly
    assert np.array_equal(w, np.concatenate([m.ravel() for m in twin["weights"]]))


@pytest.mark.slow  # 90 steps of a 16-32-16 net: minutes without JIT, 2 s with it
def test_every_read_of_a_training_run_is_the_direct_solve_of_the_states_before_it():
    """Each pattern's read has its own block plan, and the reads of a 16-32-16 net eliminate
    the hidden layer, whose share of the Schur complement depends on the pattern's input
    voltages. All plans share one cache of that share, keyed by the plan's fill count. The
    fill counts once all started at 0 (numba dropped the offset stored after construction),
    so a read could reuse another pattern's share: currents 3-17 % off. Tolerance 1e-12:
    both sides are direct solves of the same system, which differ by rounding (~1e-15)."""
    from memsim.analyze.study import LayeredFactory

    config = CircuitConfig(d2d_spread=0.0)  # the network's own parameters: solve_dc sees them
    for seed in range(3):
        net = LayeredFactory((16, 32, 16))(np.random.SeedSequence(seed))
        task = random_task(16, 16, 3, seed=seed)
        rec = train(net, task, config=config, seed=seed, record_states=True,
                    max_steps=30).records
        patterns = np.asarray(task.patterns)
        for t in range(1, len(rec)):
            pattern = patterns[rec.pattern[t]]
            ref = memsim.solve_dc(net, config.v_read * pattern, state=rec.states[t - 1],
                                  floating_inputs=pattern == 0, method="direct")
            err = np.abs(rec.output_currents[t] - ref.output_currents).max()
            assert err <= 1e-12 * np.abs(ref.output_currents).max(), (seed, t)
