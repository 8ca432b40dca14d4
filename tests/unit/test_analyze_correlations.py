"""Transfer-current matrix: effective resistances against networkx, the projector identity,
and the decay of device-device correlation with distance."""

import networkx as nx
import numpy as np
import pytest

import memsim
from memsim import ParameterError
from memsim.analyze import correlations
from memsim.analyze.correlations import (
    correlation_vs_distance,
    edge_distances,
    effective_resistances,
    transfer_matrix,
)
from memsim.devices import HP, Resistor
from memsim.solve.ctdv import cycle_projector


def _graph(seed):
    g = nx.connected_watts_strogatz_graph(14, 4, 0.3, seed=seed)
    return memsim.from_networkx(g, inputs=[0], outputs=[7], device=HP(r_on=100.0, r_off=1e4))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_diagonal_is_effective_resistance_for_unit_conductances(seed):
    net = _graph(seed)
    g = nx.Graph()
    g.add_edges_from((net.node_names[a], net.node_names[b]) for a, b in net.edges)
    diag = np.diag(transfer_matrix(net, unit=True))
    want = [nx.resistance_distance(g, net.node_names[a], net.node_names[b]) for a, b in net.edges]
    # Both are exact linear algebra on O(10) nodes: agreement to rounding.
    assert np.allclose(diag, want, rtol=1e-10, atol=0)


def test_diagonal_is_effective_resistance_with_device_conductances():
    net = _graph(3)
    rng = np.random.default_rng(0)
    state = rng.uniform(0, 1, net.n_edges)
    r = 1.0 / memsim.devices.conductances(net.model, state, net.params)
    g = nx.Graph()
    for (a, b), rk in zip(net.edges, r, strict=True):
        g.add_edge(net.node_names[a], net.node_names[b], r=rk)
    want = [nx.resistance_distance(g, net.node_names[a], net.node_names[b], weight="r",
                                   invert_weight=True) for a, b in net.edges]
    assert np.allclose(effective_resistances(net, state), want, rtol=1e-10, atol=0)


def test_unit_transfer_matrix_is_the_complement_of_the_cycle_projector():
    net = _graph(4)
    t = transfer_matrix(net, unit=True)
    omega = cycle_projector(net.incidence())
    assert np.abs(np.eye(net.n_edges) - t - omega).max() < 1e-12
    assert np.abs(t - t.T).max() == 0.0


def test_open_edges_drop_out_and_keep_an_effective_resistance():
    net = memsim.from_networkx(nx.cycle_graph(5), inputs=[0], outputs=[2],
                               device=Resistor(1.0))
    mask = np.zeros(5, bool)
    mask[0] = True
    pruned = net.pruned(mask)
    t = transfer_matrix(pruned)
    assert np.all(t[0] == 0) and np.all(t[:, 0] == 0)
    # the rest is a path of 4 unit resistors: each edge is a bridge, R_eff = 1; the open edge
    # sees the 4 ohm path
    assert np.allclose(np.diag(t)[1:], 1.0, rtol=1e-12)
    assert effective_resistances(pruned)[0] == pytest.approx(4.0, rel=1e-12)
    islands = memsim.from_networkx(nx.path_graph(3), inputs=[0], outputs=[2],
                                   device=Resistor(1.0))
    cut = islands.pruned(np.array([True, False]))
    assert effective_resistances(cut)[0] == np.inf


def test_correlation_decays_with_distance_on_a_grid():
    g = nx.grid_2d_graph(6, 6)
    net = memsim.from_networkx(g, inputs=[(0, 0)], outputs=[(5, 5)],
                               device=memsim.devices.preset("caravelli2017"))
    prof = correlation_vs_distance(net, unit=True)
    assert prof.distance[0] == 1
    # in 2-D the transfer current falls off with distance (dipole field)
    assert prof.mean[0] > prof.mean[2] > prof.mean[4] > prof.mean[6]
    assert prof.count.sum() == net.n_edges * (net.n_edges - 1) // 2
    assert np.allclose(np.diag(prof.correlation), 1.0)
    ax = prof.plot()
    assert ax.get_yscale() == "log"


def test_edge_distances_on_a_path():
    net = memsim.from_networkx(nx.path_graph(5), inputs=[0], outputs=[4], device=Resistor(1.0))
    d = edge_distances(net)
    assert d.tolist() == [[abs(i - j) for j in range(4)] for i in range(4)]


def test_errors(monkeypatch):
    net = _graph(0)
    with pytest.raises(ParameterError, match="state"):
        transfer_matrix(net, np.full(net.n_edges, 2.0))
    with pytest.raises(ParameterError, match="state"):
        effective_resistances(net, np.zeros(3))
    with pytest.raises(ParameterError, match="two memristors"):
        correlation_vs_distance(memsim.layered([1, 1], device=HP()))
    monkeypatch.setattr(correlations, "MAX_EDGES", 5)
    with pytest.raises(ParameterError, match="MAX_EDGES"):
        transfer_matrix(net)
