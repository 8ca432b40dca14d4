"""The nodal work a pulse leaves behind (memsim.solve.pulse.integrate_pulse): the training loop
shares one NodalWork between the plans of all its pulses, so a pulse must not trust what an
earlier pulse left in it beyond what it rebuilds."""

import numpy as np
import pytest

import memsim
from memsim.devices.kernels import conductances
from memsim.solve.linalg import DENSE_BLOCK, nodal_work, plan_blocks
from memsim.solve.pulse import EVENT_TOL, integrate_pulse, pulse_work, with_parts
from memsim.solve.topology import adjacency, free_index


def _read_setup():
    """A read of a 4-24-4 layered net (inputs 0 and 1 at 0.5 V, inputs 2 and 3 floating,
    outputs grounded): one block of 26 free nodes, solved by eliminating the hidden layer,
    whose nodes all have fixed neighbours."""
    net = memsim.layered([4, 24, 4], device=memsim.devices.preset("pershin2011"))
    fixed = np.zeros(net.n_nodes, bool)
    value = np.zeros(net.n_nodes)
    fixed[net.inputs[:2]] = True
    value[net.inputs[:2]] = 0.5
    fixed[net.outputs] = True
    live = np.ones(net.n_edges, bool)
    ptr, nbr, nbr_edge = adjacency(net.n_nodes, net.edges)
    fi = free_index(fixed, live, ptr, nbr, nbr_edge)
    work = pulse_work(net.n_nodes, net.n_edges)
    keep, elim = plan_blocks(fi, live, ptr, nbr, nbr_edge, net.edges, work.plan, False)
    work = with_parts(work, work.plan, nodal_work(net.n_nodes, net.n_edges, keep, elim))
    return net, fixed, value, fi, work


def test_a_pulse_rebuilds_the_conductances_to_fixed_nodes_another_solve_overwrote():
    net, fixed, value, fi, work = _read_setup()
    plan = work.plan
    assert plan.node_ptr[1] - plan.node_ptr[0] > DENSE_BLOCK  # the eliminating solver
    assert plan.n_elim[0] == 24
    x = np.random.default_rng(3).uniform(0.2, 0.8, net.n_edges)
    g = conductances(net.model, x, net.params)
    # conductance from each free node straight to fixed nodes, from the edge list
    want = np.zeros(net.n_nodes)
    for (a, b), ge in zip(net.edges, g, strict=True):
        if fi[a] >= 0 and fixed[b]:
            want[a] += ge
        if fi[b] >= 0 and fixed[a]:
            want[b] += ge
    free = fi >= 0
    args = (x, net.edges, net.model, net.params, value, 1e-5, 4, 0.0, EVENT_TOL, work)
    out = (np.empty(net.n_edges), np.empty(net.n_nodes), np.empty(net.n_edges))
    integrate_pulse(*args, *out)  # a read below threshold: nothing moves
    np.testing.assert_array_equal(out[0], x)
    np.testing.assert_allclose(work.nodal.dfix[free], want[free], rtol=1e-14)
    # another plan's solve writes the same entries (the training loop's small blocks do);
    # the same read again finds its eliminated share cached for the same conductances, and
    # must still rebuild what the cache does not hold
    work.nodal.dfix[:] = np.nan
    integrate_pulse(*args, *out)
    np.testing.assert_allclose(work.nodal.dfix[free], want[free], rtol=1e-14)


JIT_DISABLED = not hasattr(__import__("numba").njit(lambda: 0), "compile")


@pytest.mark.skipif(not JIT_DISABLED, reason="INHIBIT_PLANS is compiled into the kernel: "
                    "the no-JIT unit run varies it")
def test_inhibition_plans_are_kept_and_change_nothing(monkeypatch):
    """A failing run cycles among wrong winners; with several inhibition plans kept, fewer are
    built, and every state, current and energy of the run is the same in every bit."""
    from memsim.learn import kernels as K
    from memsim.learn import random_task, train

    net = memsim.layered([4, 12, 4], device=memsim.devices.preset("pershin2011"))
    task = random_task(4, 4, 3, seed=0, one_hot=True)
    built = []
    plan = K.plan_blocks

    def counting(*args):
        built.append(args[-1])  # True for a write pulse's plan
        return plan(*args)

    monkeypatch.setattr(K, "plan_blocks", counting)
    runs = {}
    for kept in (1, K.INHIBIT_PLANS):
        monkeypatch.setattr(K, "INHIBIT_PLANS", kept)
        built.clear()
        r = train(net, task, seed=0, max_steps=40)
        runs[kept] = (r, sum(built))
    (one, built_one), (many, built_many) = runs[1], runs[K.INHIBIT_PLANS]
    assert not one.learned and one.n_mistakes > 20  # a run that keeps inhibiting
    assert built_many < built_one
    for a, b in ((one.final_state, many.final_state), (one.records.energy, many.records.energy),
                 (one.records.output_currents, many.records.output_currents),
                 (one.records.winner, many.records.winner)):
        np.testing.assert_array_equal(a, b)
