"""Jupyter views: HTML summaries of networks and results, and Network.draw."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402

import memsim  # noqa: E402
from memsim.circuit.display import ROLE_COLORS, network_positions  # noqa: E402
from memsim.errors import ParameterError  # noqa: E402
from memsim.reprs import (  # noqa: E402
    dc_result_html,
    register_ipython,
    train_result_html,
    transient_result_html,
)

PAPER = memsim.circuit_path("paper_2x4x2")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_network_html_names_terminals_and_escapes():
    net = memsim.from_networkx(nx.path_graph(["<a>", "b", "c"]), inputs=["<a>"], outputs=["c"],
                               device=memsim.devices.HP(), name="x<y")
    text = net._repr_html_()
    assert "x&lt;y" in text and "&lt;a&gt;" in text and "<a>" not in text
    assert "3 (1 bulk, 0 ground)" in text and "2 hp" in text


def test_layered_positions_put_each_layer_in_one_column():
    net = memsim.load(PAPER)
    pos = network_positions(net)
    assert pos[net.inputs, 0].tolist() == [0.0, 0.0]
    assert pos[net.outputs, 0].tolist() == [2.0, 2.0]
    assert set(pos[:, 0]) == {0.0, 1.0, 2.0}


def test_crossbar_positions_inputs_left_outputs_below():
    net = memsim.crossbar(3, 4, device=memsim.devices.HP(), r_line=1.0)
    pos = network_positions(net)
    assert (pos[net.inputs, 0] == -1).all() and (pos[net.outputs, 1] == -3).all()
    assert np.isfinite(pos).all() and len({tuple(p) for p in pos}) == net.n_nodes


def test_draw_widths_follow_conductance_and_colours_follow_roles():
    net = memsim.load(PAPER)
    state = np.full(net.n_edges, 0.2)
    state[5] = 1.0  # the one ON device: the widest edge
    ax = net.draw(state=state)
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    widths = lines[0].get_linewidths()
    assert len(widths) == net.n_edges and np.argmax(widths) == 5
    assert widths[5] > 3 * np.delete(widths, 5).max()
    points = [c for c in ax.collections if not isinstance(c, LineCollection)][0]
    colours = points.get_facecolors()
    expected = matplotlib.colors.to_rgba_array([ROLE_COLORS[int(r)] for r in net.roles])
    np.testing.assert_allclose(colours, expected)


def test_draw_leaves_out_pruned_devices_and_works_for_graphs():
    net = memsim.load(memsim.circuit_path("random_12"))
    pruned = net.pruned(np.arange(net.n_edges) < 3)
    ax = pruned.draw(labels=False)
    lines = [c for c in ax.collections if isinstance(c, LineCollection)][0]
    assert len(lines.get_segments()) == net.n_edges - 3


def test_draw_rejects_bad_shapes():
    net = memsim.load(PAPER)
    with pytest.raises(ParameterError, match="state"):
        net.draw(state=np.zeros(3))
    with pytest.raises(ParameterError, match="pos"):
        net.draw(pos=np.zeros((2, 2)))


def test_result_summaries():
    net = memsim.load(PAPER)
    dc = dc_result_html(memsim.solve_dc(net, [1.0, 0.0]))
    assert "DC operating point" in dc and "<td>0</td>" in dc  # one row per output
    run = memsim.simulate(net, memsim.Sine(3.0, 50.0), 0.01, method="heun", dt=1e-4)
    text = transient_result_html(run)
    assert "heun: 100 steps, 0 rejected" in text and "paper_2x4x2" in text
    from memsim.learn import alternating_task, train

    res = train(net, alternating_task(2), seed=3)
    text = train_result_html(res)
    assert f"<td>{res.eras[1].n_steps}</td>" in text and "training run" in text


def test_capacity_result_html_lists_the_success_curve():
    from memsim.analyze import capacity_curve

    res = capacity_curve("abstract", abstract_sizes=[2, 4, 2], repetitions=4, seed=0,
                         progress=False)
    text = res._repr_html_()
    lo, hi = res.capacity_interval
    assert f">{res.capacity} (interval {lo}..{hi})<" in text
    assert text.count("<tr><td>") == len(res.P)


def test_ipython_shows_the_results_as_html():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        assert register_ipython()
        dc = memsim.solve_dc(memsim.load(PAPER), [1.0, 0.0])
        data, _ = shell.display_formatter.format(dc)
        assert data["text/html"] == dc_result_html(dc)
        data, _ = shell.display_formatter.format(memsim.load(PAPER))
        assert "Network &#x27;paper_2x4x2&#x27;" in data["text/html"]
    finally:
        InteractiveShell.clear_instance()
