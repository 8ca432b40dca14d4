"""Nodal DC solve against closed forms, networkx, and the conservation laws."""

import warnings

import networkx as nx
import numpy as np
import pytest

import memsim
from memsim import FloatingSubnetworkWarning, ParameterError
from memsim.devices import HP, Resistor


def _resistor_graph(g: nx.Graph, inputs, outputs, ground=()):
    """Resistors from the edge attribute ``r``."""
    for _, _, d in g.edges(data=True):
        d["device"] = Resistor(d["r"])
    return memsim.from_networkx(g, inputs=inputs, outputs=outputs, ground=ground,
                                device=Resistor(1.0))


def test_series_and_parallel():
    rs = [10.0, 220.0, 4.7e3]
    g = nx.Graph()
    nx.add_path(g, range(4))
    for k, r in enumerate(rs):
        g.edges[k, k + 1]["r"] = r
    res = memsim.solve_dc(_resistor_graph(g, [0], [3]), [2.0])
    assert res.output_currents[0] == pytest.approx(2.0 / sum(rs), rel=1e-13)

    mg = nx.MultiGraph()
    for r in rs:
        mg.add_edge("a", "b", r=r)
    res = memsim.solve_dc(_resistor_graph(mg, ["a"], ["b"]), [1.0])
    assert res.output_currents[0] == pytest.approx(sum(1 / r for r in rs), rel=1e-13)


def test_wheatstone_bridge_closed_form():
    r1, r2, r3, r4, r5 = 100.0, 220.0, 330.0, 470.0, 1e3
    g = nx.Graph()
    g.add_edge("top", "l", r=r1)
    g.add_edge("top", "r", r=r2)
    g.add_edge("l", "bot", r=r3)
    g.add_edge("r", "bot", r=r4)
    g.add_edge("l", "r", r=r5)
    net = _resistor_graph(g, ["top"], ["bot"])
    k = net.edge_names.index("l-r")
    assert net.node_names[net.edges[k, 0]] == "l"  # plus end at l: current l -> r is positive
    res = memsim.solve_dc(net, [1.0])
    # Thevenin across the bridge: V_th = V (r3/(r1+r3) - r4/(r2+r4)), R_th = r1||r3 + r2||r4.
    v_th = r3 / (r1 + r3) - r4 / (r2 + r4)
    r_th = r1 * r3 / (r1 + r3) + r2 * r4 / (r2 + r4)
    assert res.edge_currents[k] == pytest.approx(v_th / (r_th + r5), rel=1e-12)
    # The bridge's equivalent resistance (Kennelly's closed form):
    # R = [r1 r2 (r3+r4) + r3 r4 (r1+r2) + r5 (r1+r3)(r2+r4)]
    #     / [(r1+r2)(r3+r4) + r5 (r1+r2+r3+r4)]
    r_eq = ((r1 * r2 * (r3 + r4) + r3 * r4 * (r1 + r2) + r5 * (r1 + r3) * (r2 + r4))
            / ((r1 + r2) * (r3 + r4) + r5 * (r1 + r2 + r3 + r4)))
    assert res.output_currents[0] == pytest.approx(1.0 / r_eq, rel=1e-12)
    assert res.input_currents[0] == pytest.approx(1.0 / r_eq, rel=1e-12)
    # Balanced bridge (r1 r4 = r2 r3): no current through the middle, up to the rounding of
    # the two node voltages (~0.77 V each, a few ulp) divided by r5.
    g.edges["r", "bot"]["r"] = r2 * r3 / r1
    res = memsim.solve_dc(_resistor_graph(g, ["top"], ["bot"]), [1.0])
    assert abs(res.edge_currents[k]) * r5 <= 50 * np.finfo(float).eps
    assert res.output_currents[0] == pytest.approx(1 / (r1 + r3) + 1 / (r2 + r2 * r3 / r1),
                                                   rel=1e-12)


@pytest.mark.parametrize(("n", "p", "seed"), [(12, 0.4, 0), (40, 0.15, 1), (450, 0.012, 2)])
def test_effective_resistance_matches_networkx(n, p, seed):
    rng = np.random.default_rng(seed)
    g = nx.gnp_random_graph(n, p, seed=seed)
    g = g.subgraph(max(nx.connected_components(g), key=len)).copy()
    for _, _, d in g.edges(data=True):
        d["r"] = float(rng.uniform(1.0, 1e3))
    a, b = sorted(g.nodes)[:2]
    res = memsim.solve_dc(_resistor_graph(g, [a], [b]), [1.0])
    expected = nx.resistance_distance(g, a, b, weight="r", invert_weight=True)
    assert 1.0 / res.output_currents[0] == pytest.approx(expected, rel=1e-9)


def _kcl_and_power(net, res, v_in):
    b = net.incidence()
    leave = b @ res.edge_currents
    bulk = np.ones(net.n_nodes, bool)
    bulk[net.inputs] = bulk[net.outputs] = False
    scale = np.abs(res.edge_currents).max()
    return np.abs(leave[bulk]).max() / scale, (res.input_currents @ v_in - res.power) / res.power


@pytest.mark.parametrize("size", [(5, 7), (30, 30)])
def test_kcl_and_power_balance_on_crossbars(size):
    rng = np.random.default_rng(5)
    rows, cols = size
    devs = [HP(r_on=1e3, r_off=1e5, x0=float(x)) for x in rng.uniform(0, 1, rows * cols)]
    net = memsim.crossbar(rows, cols, device=devs, r_line=0.5)
    v_in = rng.uniform(-1, 1, rows)
    res = memsim.solve_dc(net, v_in)
    kcl, power = _kcl_and_power(net, res, v_in)
    assert kcl <= 1e-12
    # Power balance sums products over lines (~2 S) and devices (~1e-5 S): rounding is
    # amplified by the conductance contrast, ~2e5 * 2.2e-16 = 4e-11.
    assert abs(power) <= 1e-10


def _mixed_random_net(n, p, seed):
    """The giant component of G(n, p): every third edge a resistor (1 ohm..1 kohm), the
    others HP devices (100 ohm..16 kohm) in random states; 3 inputs, 3 outputs, 1 ground."""
    rng = np.random.default_rng(seed)
    g = nx.gnp_random_graph(n, p, seed=seed)
    g = g.subgraph(max(nx.connected_components(g), key=len)).copy()
    for k, (_, _, d) in enumerate(g.edges(data=True)):
        d["device"] = (Resistor(float(rng.uniform(1.0, 1e3))) if k % 3 == 0
                       else HP(r_on=100.0, r_off=16e3, x0=float(rng.uniform(0, 1))))
    nodes = sorted(g.nodes)
    return memsim.from_networkx(g, inputs=nodes[:3], outputs=nodes[3:6], ground=[nodes[6]],
                                device=Resistor(1.0))


# (n, p): the first is solved by dense Cholesky, the second (> DENSE_MAX free nodes) by the
# sparse factorization; terminals all fixed, or one input and two outputs floating.
@pytest.mark.parametrize(("n", "p"), [(40, 0.15), (600, 0.01)])
@pytest.mark.parametrize("floating", [False, True])
def test_kcl_and_power_balance_of_the_direct_solver(n, p, floating):
    net = _mixed_random_net(n, p, seed=n)
    rng = np.random.default_rng(1)
    v_in = rng.uniform(-1, 1, (3, 4))
    opts = dict(outputs=np.array([True, False, False]),
                floating_inputs=np.array([False, True, False])) if floating else {}
    res = memsim.solve_dc(net, v_in, method="direct", **opts)
    terms = memsim.solve.terminals(net, **opts)
    free = net.roles == memsim.Role.BULK
    free[net.inputs[~terms.driven]] = free[net.outputs[~terms.grounded]] = True
    assert (n > memsim.solve.dc.DENSE_MAX) == (free.sum() > memsim.solve.dc.DENSE_MAX)
    leave = net.incidence() @ res.edge_currents  # (N, batch) net current out of each node
    scale = np.abs(res.edge_currents).max(axis=0)
    # issue 2: KCL at every free node (bulk and floating terminals) to 1e-12 of the largest
    # edge current; a backward-stable Cholesky solve leaves ~n eps there (measured 1e-14).
    assert (np.abs(leave[free]).max(axis=0) <= 1e-12 * scale).all()
    # floating terminals deliver nothing; the currents the solver reports are the nodes' own
    np.testing.assert_array_equal(res.input_currents[~terms.driven], 0.0)
    np.testing.assert_array_equal(res.output_currents[~terms.grounded], 0.0)
    np.testing.assert_allclose(res.input_currents[terms.driven], leave[net.inputs[terms.driven]],
                               rtol=0, atol=1e-15 * scale.max())
    # Power balance: sources deliver what the edges dissipate. Summed over all nodes,
    # sum_n v_n (B i)_n = sum_e i_e dv_e exactly; the fixed nodes other than driven inputs sit
    # at 0 V, so the imbalance is sum over free nodes of v_n * residual_n: <= 1e-12 relative.
    delivered = np.sum(res.input_currents * v_in, axis=0)
    np.testing.assert_allclose(delivered, res.power, rtol=1e-12)
    assert (res.power > 0).all()


def test_batch_equals_single_solves():
    net = memsim.layered([3, 5, 2], device=HP(x0=0.3))
    v = np.random.default_rng(1).normal(size=(3, 6))
    batch = memsim.solve_dc(net, v)
    for k in range(6):
        one = memsim.solve_dc(net, v[:, k])
        np.testing.assert_allclose(batch.output_currents[:, k], one.output_currents, rtol=1e-13)


def test_terminal_configurations():
    # Star: in0 -- c -- {out0, out1}, all 1 kohm. Floating out1 -> all current to out0.
    g = nx.Graph()
    for a, b in [("in0", "c"), ("c", "out0"), ("c", "out1"), ("in1", "c")]:
        g.add_edge(a, b, r=1e3)
    net = _resistor_graph(g, ["in0", "in1"], ["out0", "out1"])
    both = memsim.solve_dc(net, [1.0, 0.0], floating_inputs=[False, True])
    # in0 -> c (1k) then two 1k in parallel: 1 V / 1.5 kohm, split evenly
    np.testing.assert_allclose(both.output_currents, [1 / 3e3, 1 / 3e3], rtol=1e-13)
    one = memsim.solve_dc(net, [1.0, 0.0], outputs=[True, False], floating_inputs=[False, True])
    np.testing.assert_allclose(one.output_currents, [1 / 2e3, 0.0], rtol=1e-13, atol=0)
    grounded_in1 = memsim.solve_dc(net, [1.0, 0.0])  # in1 driven at 0 V sinks current too
    assert grounded_in1.output_currents[0] == pytest.approx(1 / 4e3, rel=1e-13)
    assert grounded_in1.input_currents[1] == pytest.approx(-1 / 4e3, rel=1e-13)


def test_floating_subnetwork_is_explicit():
    g = nx.Graph()
    g.add_edge("in", "out", r=1e3)
    g.add_edge("x", "y", r=1e3)  # an island touching no terminal
    net = _resistor_graph(g, ["in"], ["out"])
    with pytest.warns(FloatingSubnetworkWarning, match="x"):
        res = memsim.solve_dc(net, [1.0])
    assert np.isfinite(res.node_voltages).all()
    assert res.floating.sum() == 2
    assert res.output_currents[0] == pytest.approx(1e-3, rel=1e-13)
    # All outputs floating and the input floating: the whole net floats, still no NaN.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FloatingSubnetworkWarning)
        res = memsim.solve_dc(net, [1.0], outputs="float", floating_inputs=[True])
    assert np.all(res.edge_currents == 0.0)


def test_dc_errors():
    net = memsim.layered([2, 2], device=HP())
    with pytest.raises(ParameterError, match="inputs"):
        memsim.solve_dc(net, [1.0])
    with pytest.raises(ParameterError, match="finite"):
        memsim.solve_dc(net, [1.0, np.nan])
    with pytest.raises(ParameterError, match="state"):
        memsim.solve_dc(net, [1.0, 0.0], state=np.full(net.n_edges, 1.5))
    with pytest.raises(ParameterError, match="state"):
        memsim.solve_dc(net, [1.0, 0.0], state=np.zeros(3))
    with pytest.raises(ParameterError, match="outputs"):
        memsim.solve_dc(net, [1.0, 0.0], outputs="sideways")
    with pytest.raises(ParameterError, match="outputs"):
        memsim.solve_dc(net, [1.0, 0.0], outputs=[True])
    with pytest.raises(ParameterError, match="floating_inputs"):
        memsim.solve_dc(net, [1.0, 0.0], floating_inputs=[True])
