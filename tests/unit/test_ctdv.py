"""The CTDV governing equation: projector algebra, agreement with the nodal transient, and the
Lyapunov function."""

from types import SimpleNamespace

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

import memsim
from memsim import ParameterError
from memsim.devices import HP, Linear, Resistor
from memsim.errors import SolverError
from memsim.solve.ctdv import ctdv_system, cycle_projector, simulate_ctdv
from memsim.solve.drives import DC, Pulse, Sine


def _multigraph_incidence(seed):
    """A random multigraph with parallel edges, a self-loop and two components."""
    rng = np.random.default_rng(seed)
    g = nx.MultiGraph()
    g.add_nodes_from(range(11))
    for _ in range(14):
        a, b = rng.choice(7, 2, replace=False)
        g.add_edge(int(a), int(b))
    g.add_edge(1, 1)  # self-loop: a one-edge cycle
    nx.add_path(g, [7, 8, 9, 7, 10])  # second component: a triangle with a tail
    nodes = list(g.nodes)
    edges = list(g.edges(keys=True))
    b = np.zeros((len(nodes), len(edges)))
    for k, (u, v, _) in enumerate(edges):
        if u != v:
            b[nodes.index(u), k] += 1.0
            b[nodes.index(v), k] -= 1.0
    n_comp = nx.number_connected_components(g)
    return b, len(edges) - len(nodes) + n_comp


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_omega_is_the_cycle_space_projector(seed):
    b, n_cycles = _multigraph_incidence(seed)
    omega = cycle_projector(sp.csr_matrix(b))
    # Exact algebra up to rounding of O(E) operations on O(1) entries.
    tol = 1e-12
    assert np.abs(omega @ omega - omega).max() < tol
    assert np.abs(omega - omega.T).max() < tol
    assert np.linalg.matrix_rank(omega, tol=1e-8) == n_cycles
    assert np.trace(omega) == pytest.approx(n_cycles, abs=1e-10)
    # Independent formula with the Moore-Penrose pseudo-inverse, and B Omega = 0 (KCL).
    ref = np.eye(b.shape[1]) - b.T @ np.linalg.pinv(b @ b.T) @ b
    assert np.abs(omega - ref).max() < 1e-10
    assert np.abs(b @ omega).max() < tol
    # The block-sparse form is the same matrix.
    sparse = cycle_projector(sp.csr_matrix(b), sparse=True)
    assert sp.issparse(sparse)
    assert np.abs(sparse.toarray() - omega).max() < 1e-12


def test_sparse_projector_is_sparse_on_a_chain_of_cycles():
    g = nx.Graph()
    for k in range(20):  # 20 squares joined by bridges: Omega has 20 dense 4x4 blocks
        nx.add_cycle(g, [4 * k + j for j in range(4)])
        if k:
            g.add_edge(4 * k - 1, 4 * k)
    b = nx.incidence_matrix(g, oriented=True)
    omega = cycle_projector(b, sparse=True)
    assert omega.nnz == 20 * 16
    assert np.abs(omega.toarray() - cycle_projector(b)).max() < 1e-12


def test_cycle_projector_rejects_a_non_incidence_matrix():
    with pytest.raises(ParameterError, match="incidence"):
        cycle_projector(np.array([[1.0, 1.0], [1.0, 0.0]]))


def _linear_net(sizes=(2, 3, 2), seed=0, alpha=0.5, beta=0.05):
    rng = np.random.default_rng(seed)
    net = memsim.layered(list(sizes), device=Linear(r_on=100.0, r_off=1e4, alpha=alpha,
                                                   beta=beta))
    return net.replace(x0=rng.uniform(0.3, 0.7, net.n_edges))


def _relative_state_error(net, drive, t_end, **kw):
    t = np.linspace(0.0, t_end, 41)
    # Tight tolerances on both sides: rk45 at 1e-11 and DOP853 at 1e-12 (states are O(1)).
    nodal = memsim.simulate(net, drive, t_end, method="rk45", rtol=1e-11, atol=1e-13,
                            t_eval=t, **kw)
    ctdv = simulate_ctdv(net, drive, t_end, rtol=1e-12, atol=1e-13, t_eval=t, **kw)
    mem = net.memristive
    moved = np.abs(nodal.x[:, mem] - nodal.x[0, mem]).max()
    inside = (nodal.x[:, mem] > 0).all() and (nodal.x[:, mem] < 1).all()
    return np.abs(ctdv.x[:, mem] - nodal.x[:, mem]).max() / np.abs(nodal.x[:, mem]).max(), moved, \
        inside


def test_ctdv_agrees_with_nodal_transient_on_a_layered_net():
    net = _linear_net()
    err, moved, inside = _relative_state_error(net, [Sine(0.6, 3.0), DC(-0.3)], 0.3)
    assert moved > 0.05 and inside  # the comparison is not trivial and stays off the bounds
    assert err <= 1e-6


def test_ctdv_agrees_with_nodal_transient_with_floating_terminals_and_resistors():
    # Crossbar with line resistances (resistor edges), a floating input and a floating output,
    # and a pulse (drive breakpoints).
    rng = np.random.default_rng(3)
    net = memsim.crossbar(3, 2, device=Linear(r_on=100.0, r_off=1e4, alpha=0.2, beta=0.05),
                          r_line=20.0)
    x0 = np.where(net.memristive, rng.uniform(0.3, 0.7, net.n_edges), 0.0)
    net = net.replace(x0=x0, layout=net.layout)
    drive = [Pulse(0.0, 0.8, delay=0.02, rise=0.01, fall=0.01, width=0.1), None, DC(-0.4)]
    err, moved, inside = _relative_state_error(net, drive, 0.25,
                                               outputs=np.array([True, False]))
    assert moved > 0.02 and inside
    assert err <= 1e-6


def test_series_source_sign_for_a_single_device():
    # One device from input (plus) to grounded output: S = +V, i = V / R, and memsim's rate
    # dx/dt = -alpha (1 - x) + R_on i / beta.
    dev = Linear(r_on=100.0, r_off=1e4, alpha=0.3, beta=2.0, x0=0.4)
    net = memsim.from_networkx(nx.path_graph(2), inputs=[0], outputs=[1], device=dev)
    s = ctdv_system(net)
    w = np.array([0.6])
    src = s.sources([1.5])
    assert src.tolist() == [1.5]
    r = 100.0 * 0.4 + 1e4 * 0.6
    assert s.currents(w, src)[0] == pytest.approx(1.5 / r, rel=1e-13)
    dxdt = -0.3 * 0.6 + 100.0 * (1.5 / r) / 2.0
    assert -s.rhs(w, src)[0] == pytest.approx(dxdt, rel=1e-13)


def test_lyapunov_function_never_increases_along_a_trajectory():
    net = _linear_net(sizes=(2, 4, 2), seed=5, alpha=0.5, beta=0.05)
    res = simulate_ctdv(net, [DC(0.5), DC(-0.2)], 0.3, rtol=1e-11, atol=1e-13,
                        t_eval=np.linspace(0, 0.3, 301))
    assert (res.w[:, net.memristive] < 1).all()  # no device held at the w = 1 bound
    lyap = res.lyapunov()
    steps = np.diff(lyap)
    # Integration error on L is ~rtol * |L|; the function must fall noticeably overall.
    assert steps.max() <= 1e-9 * np.abs(lyap).max()
    assert lyap[-1] < lyap[0] - 1e-3 * np.abs(lyap).max()
    # The closed-form rate is <= 0 and matches the chain rule on the saved trajectory.
    sys_, src = res.system, res.sources()[0]
    rates = np.array([sys_.lyapunov_rate(w, src) for w in res.w])
    assert rates.max() <= 0.0
    fd = np.gradient(lyap, res.t)
    inner = slice(5, -5)
    assert np.abs(fd[inner] - rates[inner]).max() <= 1e-3 * np.abs(rates).max()


def test_lyapunov_rate_is_nonpositive_at_random_states():
    net = _linear_net(sizes=(3, 5, 2), seed=7, alpha=1.0)
    s = ctdv_system(net)
    rng = np.random.default_rng(0)
    for _ in range(50):
        w = rng.uniform(0, 1, net.n_edges)
        src = s.sources(rng.uniform(-2, 2, 3))
        assert s.lyapunov_rate(w, src) <= 1e-15


def test_lyapunov_needs_identical_memristors_without_resistors():
    net = memsim.crossbar(2, 2, device=Linear(), r_line=1.0)
    s = ctdv_system(net)
    with pytest.raises(ParameterError, match="resistors"):
        s.lyapunov(np.full(net.n_edges, 0.5), s.sources([1.0, 0.0]))
    mixed = memsim.layered([1, 2], device=[Linear(r_on=100.0), Linear(r_on=120.0)])
    s = ctdv_system(mixed)
    with pytest.raises(ParameterError, match="identical"):
        s.lyapunov(np.full(2, 0.5), s.sources([1.0]))


def test_ctdv_rejects_other_devices_and_bad_arguments():
    net = memsim.layered([1, 2], device=HP())
    with pytest.raises(ParameterError, match="Linear"):
        ctdv_system(net)
    with pytest.raises(ParameterError, match="at least one"):
        ctdv_system(memsim.layered([1, 2], device=Resistor(1.0)))
    lin = _linear_net()
    with pytest.raises(ParameterError, match="t_end"):
        simulate_ctdv(lin, 1.0, -1.0)
    with pytest.raises(ParameterError, match="rtol"):
        simulate_ctdv(lin, 1.0, 1.0, rtol=0.0)
    with pytest.raises(ParameterError, match="t_eval"):
        simulate_ctdv(lin, 1.0, 1.0, t_eval=np.array([0.5, 0.2]))
    with pytest.raises(ParameterError, match="t_eval"):
        simulate_ctdv(lin, 1.0, 1.0, t_eval=np.array([0.5, 2.0]))
    with pytest.raises(ParameterError, match="state"):
        simulate_ctdv(lin, 1.0, 1.0, state=np.full(lin.n_edges, 2.0))
    with pytest.raises(ParameterError, match="method"):
        simulate_ctdv(lin, 1.0, 1.0, method="rk4")


def test_a_failed_integration_raises_solver_error(monkeypatch):
    # solve_ivp reports failure (e.g. "Required step size is less than spacing between
    # numbers") through ``success``; simulate_ctdv must turn that into a SolverError.
    import scipy.integrate

    def failing(fun, t_span, y0, **kw):
        return SimpleNamespace(success=False, t=np.array([t_span[0]]), message="step too small")

    monkeypatch.setattr(scipy.integrate, "solve_ivp", failing)
    with pytest.raises(SolverError, match="step too small"):
        simulate_ctdv(_linear_net(), 1.0, 1.0)


def test_pruned_edges_carry_no_current_and_keep_their_state():
    net = _linear_net(sizes=(2, 3, 2), seed=1)
    mask = np.zeros(net.n_edges, bool)
    mask[[0, 7]] = True
    pruned = net.pruned(mask)
    res = simulate_ctdv(pruned, [0.5, -0.5], 0.1, rtol=1e-10, atol=1e-12)
    assert np.all(res.edge_currents[:, mask] == 0.0)
    ref = memsim.simulate(pruned, [0.5, -0.5], 0.1, method="rk45", rtol=1e-10, atol=1e-12,
                          t_eval=res.t)
    live = pruned.memristive
    assert np.abs(res.x[:, live] - ref.x[:, live]).max() <= 1e-6


def test_sparse_projector_path_gives_the_same_trajectory():
    net = _linear_net(sizes=(2, 3, 2), seed=2)
    drive = [Sine(0.5, 2.0), DC(-0.2)]
    dense = simulate_ctdv(net, drive, 0.2, rtol=1e-11, atol=1e-13, sparse=False)
    sparse = simulate_ctdv(net, drive, 0.2, rtol=1e-11, atol=1e-13, sparse=True)
    assert sp.issparse(sparse.system.omega) and not sp.issparse(dense.system.omega)
    # same equation, different linear algebra: agreement at the integration tolerance
    assert np.abs(dense.x - sparse.x).max() <= 1e-9


def test_ctdv_system_rejects_bad_terminal_options():
    net = _linear_net()
    with pytest.raises(ParameterError, match="outputs"):
        ctdv_system(net, outputs="floating")
    with pytest.raises(ParameterError, match="floating_inputs"):
        ctdv_system(net, floating_inputs=np.ones(5, bool))
