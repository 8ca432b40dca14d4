"""Networks and builders."""

import networkx as nx
import numpy as np
import pytest

import memsim
from memsim import Network, NetworkError, ParameterError, Role
from memsim.devices import HP, Model, Resistor

R = Resistor(1e3)


def test_crossbar_structure_counts_and_orientation():
    net = memsim.crossbar(3, 4, device=HP(), r_line=0.5)
    lay = net.layout
    assert net.n_memristors == 12
    assert net.n_edges == 12 + 3 * 4 + 4 * 3
    e = lay.device[1, 2]
    assert net.edges[e, 0] == lay.word[1, 2] and net.edges[e, 1] == lay.bit[1, 2]
    ideal = memsim.crossbar(3, 4, device=HP())
    assert ideal.n_edges == 12 and ideal.n_nodes == 7


def test_crossbar_per_device_parameters():
    devs = [HP(r_on=100.0 + k) for k in range(6)]
    net = memsim.crossbar(2, 3, device=devs)
    assert net.params[net.layout.device[1, 0], 0] == 103.0
    with pytest.raises(ParameterError):
        memsim.crossbar(2, 3, device=devs[:5])


def test_layered_connectivity_is_seeded():
    a = memsim.layered([4, 8, 4], device=R, connectivity=0.6, seed=3)
    b = memsim.layered([4, 8, 4], device=R, connectivity=0.6, seed=3)
    c = memsim.layered([4, 8, 4], device=R, connectivity=0.6, seed=4)
    assert a.edge_names == b.edge_names
    assert a.edge_names != c.edge_names
    assert a.n_edges < 64


def test_from_networkx_keeps_terminal_order_and_edge_devices():
    g = nx.Graph()
    g.add_edge("a", "b", device=Resistor(5.0))
    g.add_edge("b", "c")
    net = memsim.from_networkx(g, inputs=["c"], outputs=["a"], device=R)
    assert net.node_names[net.inputs[0]] == "c"
    assert sorted(net.params[:, 0].tolist()) == [5.0, 1e3]


def test_random_network_is_connected_and_reproducible():
    a = memsim.random_network(15, edge_prob=0.3, n_inputs=2, n_outputs=3, device=R, seed=11)
    assert nx.is_connected(a.to_networkx().to_undirected())
    assert len(a.inputs) == 2 and len(a.outputs) == 3


def test_pruning_keeps_indices_and_spread_is_seeded():
    net = memsim.layered([2, 3, 2], device=HP())
    p = net.pruned(np.arange(net.n_edges) < 2)
    assert p.n_edges == net.n_edges and (p.model[:2] == Model.OPEN).all()
    s1 = net.with_spread(0.2, seed=1)
    s2 = net.with_spread(0.2, seed=1)
    s3 = net.with_spread(0.2, seed=2)
    np.testing.assert_array_equal(s1.params, s2.params)
    assert not np.array_equal(s1.params, s3.params)
    assert (s1.params[:, 0] < s1.params[:, 1]).all()
    # one factor per device, shared by R_on and R_off: the ratio is kept, the spread is
    # lognormal with the requested log-standard-deviation
    np.testing.assert_allclose(s1.params[:, 1] / s1.params[:, 0], 16e3 / 100.0, rtol=1e-12)
    wide = memsim.layered([20, 20], device=HP()).with_spread(0.2, seed=5)
    assert np.std(np.log(wide.params[:, 0] / 100.0)) == pytest.approx(0.2, rel=0.15)


def _raw(**kw):
    base = dict(node_names=("a", "b"), roles=[Role.INPUT, Role.OUTPUT], inputs=[0], outputs=[1],
                edges=[[0, 1]], model=[0], params=[R.row()], x0=[0.0])
    base.update(kw)
    return base


@pytest.mark.parametrize(
    ("changes", "exc"),
    [
        (dict(edges=[[0, 0]]), NetworkError),
        (dict(edges=[[0, 5]]), NetworkError),
        (dict(node_names=("a", "a")), NetworkError),
        (dict(roles=[Role.BULK, Role.OUTPUT]), NetworkError),
        (dict(model=[9]), NetworkError),
        (dict(x0=[2.0]), ParameterError),
        (dict(params=[-R.row()]), ParameterError),
        (dict(params=[HP(r_on=100.0).row()[[1, 0, 2, 3, 4, 5, 6, 7, 8, 9]]], model=[1]),
         ParameterError),
    ],
)
def test_malformed_networks_are_rejected(changes, exc):
    with pytest.raises(exc):
        Network(**_raw(**changes))


def test_builder_errors():
    with pytest.raises(ParameterError):
        memsim.crossbar(0, 3, device=R)
    with pytest.raises(ParameterError):
        memsim.crossbar(2, 2, device=R, r_line=-1.0)
    with pytest.raises(ParameterError):
        memsim.layered([2], device=R)
    with pytest.raises(ParameterError):
        memsim.layered([2, 2], device=R, connectivity=0.0)
    with pytest.raises(NetworkError):
        memsim.from_networkx(nx.path_graph(3), inputs=[7], outputs=[2], device=R)
    with pytest.raises(NetworkError):
        memsim.from_networkx(nx.path_graph(3), inputs=[0], outputs=[0], device=R)
    with pytest.raises(ParameterError):
        memsim.random_network(5, edge_prob=0.5, n_inputs=3, n_outputs=3, device=R, seed=0)
    with pytest.raises(NetworkError, match="unknown node 'nope'"):
        memsim.layered([2, 2], device=R).node("nope")
    with pytest.raises(ParameterError, match="needs 4 devices, got 2"):
        memsim.layered([2, 2], device=[R, R])
    with pytest.raises(ParameterError, match="device parameter set"):
        memsim.crossbar(1, 2, device=[R, "hp"])
    with pytest.raises(ParameterError, match="edge_prob"):
        memsim.random_network(5, edge_prob=0.0, n_inputs=1, n_outputs=1, device=R, seed=0)
    with pytest.raises(ParameterError, match="n_nodes"):
        memsim.random_network(1, edge_prob=0.5, n_inputs=1, n_outputs=1, device=R, seed=0)
    with pytest.raises(NetworkError, match="more than one terminal role"):
        memsim.from_networkx(nx.path_graph(3), inputs=[0], outputs=[2], ground=[0], device=R)
    with pytest.raises(ParameterError, match="device"):
        g = nx.path_graph(3)
        g.edges[0, 1]["device"] = 5.0
        memsim.from_networkx(g, inputs=[0], outputs=[2], device=R)


def test_derived_network_errors():
    net = memsim.layered([2, 3, 2], device=HP())
    with pytest.raises(NetworkError, match="prune mask"):
        net.pruned(np.ones(3, bool))
    with pytest.raises(ParameterError, match="sigma"):
        net.with_spread(-0.1, seed=0)
    with pytest.raises(ParameterError, match="cannot spread 'beta'"):
        net.with_spread(0.1, seed=0, fields=("beta",))
    with pytest.raises(ParameterError, match="R_on must be below R_off"):
        memsim.layered([2, 3, 2], device=HP(r_on=1e3, r_off=1.1e3)).with_spread(
            1.0, seed=0, fields=("r_on",))
    with pytest.raises(ParameterError, match="initial states"):
        net.replace(x0=np.full(net.n_edges, 1.5))
