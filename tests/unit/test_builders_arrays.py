"""Vectorized builders: the crossbar from index arithmetic, per-cell parameter arrays, names
made on demand, and the up-front refusal of networks that cannot fit in memory."""

import networkx as nx
import numpy as np
import pytest

import memsim
from memsim.circuit.names import GridNames, NameBlock
from memsim.circuit.network import BYTES_PER_EDGE, check_fits
from memsim.cli import main
from memsim.devices import HP, VTEAM, Model, Resistor, Threshold, device_array, device_rows
from memsim.errors import CircuitFileError, NetworkError, ParameterError


def _reference_crossbar(rows, cols, r_word, r_bit):
    """Node names, edge names and (plus, minus) name pairs of badcrossbar's convention, from
    plain loops (the order memsim numbers them in: terminals, word nodes row by row, bit
    nodes line by line; devices, word segments row by row, bit segments line by line)."""
    nodes = [f"in{i}" for i in range(rows)] + [f"out{j}" for j in range(cols)]
    w = (lambda i, j: f"w{i}_{j}") if r_word > 0 else (lambda i, j: f"in{i}")
    b = (lambda i, j: f"b{i}_{j}") if r_bit > 0 else (lambda i, j: f"out{j}")
    if r_word > 0:
        nodes += [w(i, j) for i in range(rows) for j in range(cols)]
    if r_bit > 0:
        nodes += [b(i, j) for j in range(cols) for i in range(rows)]
    edges = [(f"m{i}_{j}", w(i, j), b(i, j)) for i in range(rows) for j in range(cols)]
    if r_word > 0:
        edges += [(f"rw{i}_{j}", w(i, j - 1) if j else f"in{i}", w(i, j))
                  for i in range(rows) for j in range(cols)]
    if r_bit > 0:
        edges += [(f"rb{i}_{j}", b(i, j), b(i + 1, j) if i + 1 < rows else f"out{j}")
                  for j in range(cols) for i in range(rows)]
    return nodes, edges


@pytest.mark.parametrize("shape", [(1, 1), (3, 4), (5, 2)])
@pytest.mark.parametrize("lines", [(0.5, 0.5), (0.0, 0.5), (0.5, 0.0), (0.0, 0.0), (1.0, 2.0)])
def test_crossbar_matches_the_loop_construction(shape, lines):
    rows, cols = shape
    devs = [HP(r_on=100.0 + k, x0=k / (rows * cols)) for k in range(rows * cols)]
    net = memsim.crossbar(rows, cols, device=devs, r_line_word=lines[0], r_line_bit=lines[1])
    nodes, edges = _reference_crossbar(rows, cols, *lines)
    assert list(net.node_names) == nodes and net.node_names == tuple(nodes)
    assert list(net.edge_names) == [e[0] for e in edges]
    got = [(net.edge_names[k], net.node_names[a], net.node_names[c])
           for k, (a, c) in enumerate(net.edges)]
    assert got == edges
    assert [net.node(s) for s in nodes] == list(range(len(nodes)))
    lay = net.layout
    for i in range(rows):
        for j in range(cols):
            k = lay.device[i, j]
            assert net.edge_names[k] == f"m{i}_{j}"
            assert net.params[k, 0] == 100.0 + i * cols + j  # row-major device order
    seg = net.model != Model.HP
    assert (net.model[seg] == Model.RESISTOR).all()
    expect_r = np.concatenate([np.full(rows * cols * (r > 0), r) for r in lines])
    np.testing.assert_array_equal(net.params[seg, 0], expect_r)


def test_device_arrays_give_every_cell_its_parameters():
    rng = np.random.default_rng(0)
    r_on = rng.uniform(50.0, 150.0, (4, 6))
    states = rng.uniform(0.0, 1.0, (4, 6))
    tmpl = HP(r_on=100.0, r_off=1e4, mu_v=2e-14, d=5e-9)
    net = memsim.crossbar(4, 6, device=device_array(tmpl, (4, 6), r_on=r_on, x0=states),
                          r_line=1.0)
    dev = net.layout.device
    np.testing.assert_array_equal(net.params[dev, 0], r_on)
    np.testing.assert_array_equal(net.params[dev, 1], 1e4)
    # column 2 of an HP row is its drift coefficient mu_v R_on / D^2
    np.testing.assert_allclose(net.params[dev, 2], 2e-14 * r_on / 5e-9**2, rtol=1e-15)
    np.testing.assert_array_equal(net.x0[dev], states)
    # the same cells as device objects: the same network arrays
    objs = [tmpl.replace(r_on=float(a), x0=float(x))
            for a, x in zip(r_on.ravel(), states.ravel(), strict=True)]
    ref = memsim.crossbar(4, 6, device=objs, r_line=1.0)
    np.testing.assert_array_equal(net.params, ref.params)
    np.testing.assert_array_equal(net.x0, ref.x0)
    # and the physics sees them: R(x) = R_off - x (R_off - R_on)
    g = memsim.devices.conductances(net.model, net.x0, net.params)
    np.testing.assert_allclose(1 / g[dev], 1e4 - states * (1e4 - r_on), rtol=1e-13)


@pytest.mark.parametrize("repeat", [False, True])
def test_device_rows_packs_mixed_classes_like_their_rows(repeat):
    devs = [Resistor(5.0), HP(x0=0.3), Threshold(), VTEAM(x0=0.9), Resistor(7.0)]
    if repeat:  # the same objects on many edges, interleaved (each object's fields read once)
        t = Threshold(v_t=0.7, x0=0.2)
        devs = [devs[k % 5] for k in (0, 1, 2, 3, 4, 2, 0, 4, 4, 1)] + [t, devs[2], t]
    packed = device_rows(devs)
    for k, d in enumerate(devs):
        assert packed.model[k] == d.model
        np.testing.assert_array_equal(packed.params[k], d.row())
        assert packed.x0[k] == d.initial_state


@pytest.mark.parametrize("fields, field, match", [
    (dict(r_onn=1.0), "r_onn", "no field"),
    (dict(r_on=np.ones(3)), "r_on", "shape"),
    (dict(x0=np.array([[0.1, np.nan], [0.2, 0.3]])), "x0", "finite"),
    (dict(r_on=np.array([[100.0, 2e4], [100.0, 100.0]])), "r_on", "device 1"),
    (dict(r_on=np.array([[100.0, -1.0], [100.0, 100.0]])), "r_on", "positive"),
    (dict(x0=np.array([[0.1, 1.5], [0.2, 0.3]])), "x0", r"\[0, 1\]"),
    (dict(window=np.zeros((2, 2))), "window", "single value"),
])
def test_device_array_errors_name_the_field(fields, field, match):
    with pytest.raises(ParameterError, match=match) as info:
        device_array(HP(r_on=100.0, r_off=1e4), (2, 2), **fields)
    assert info.value.field == field


def test_device_array_of_the_wrong_size_is_refused():
    cells = device_array(Resistor(1e3), 5)
    with pytest.raises(ParameterError, match="device array of 5"):
        memsim.crossbar(2, 3, device=cells)
    with pytest.raises(ParameterError, match="device objects"):
        memsim.layered([2, 2], device=device_array(Resistor(1e3), 4))
    with pytest.raises(ParameterError, match="integer"):
        memsim.crossbar(2.0, 3, device=Resistor(1e3))


def test_grid_names_behave_as_the_tuple_of_their_names():
    names = GridNames([NameBlock("in", (3,)), NameBlock("w", (2, 3)), NameBlock("b", (2, 3), "F")])
    plain = tuple(names)
    assert len(names) == len(plain) == 15
    assert names[-1] == plain[-1] == "b1_2" and names[3:6] == plain[3:6]
    assert names == plain and names != plain[:-1] and names + ("x",) == plain + ("x",)
    assert all(names.index(s) == k for k, s in enumerate(plain))
    for bad in ("w01_2", "w1", "w2_0", "x0", "in3", "b0_3", "in-1", ""):
        assert bad not in names and names.find(bad) is None
    with pytest.raises(ValueError):
        names.index("w9_9")
    with pytest.raises(IndexError):
        names[15]
    with pytest.raises(NetworkError, match="unique"):
        GridNames([NameBlock("w", (2,)), NameBlock("w", (2, 2))])
    net = memsim.crossbar(2, 2, device=Resistor(1.0), r_line=1.0)
    with pytest.raises(NetworkError, match="unknown node 'w2_0'"):
        net.node("w2_0")


def test_derived_networks_share_the_frozen_arrays():
    net = memsim.crossbar(3, 3, device=HP(), r_line=1.0)
    other = net.replace(name="other")
    assert other.params is net.params and other.edges is net.edges
    assert not net.params.flags.writeable
    with pytest.raises(ValueError):
        net.params[0, 0] = 1.0


def test_components_count_matches_networkx():
    net = memsim.crossbar(3, 4, device=HP(), r_line=1.0)
    assert net.n_components == 1
    g = nx.Graph([(0, 1), (2, 3)])
    g.add_node(4)
    two = memsim.from_networkx(g, inputs=[0], outputs=[3], device=Resistor(1.0))
    assert two.n_components == nx.number_connected_components(g) == 3


# ------------------------------------------------------------------ refused up front
HUGE = ('[circuit]\nname = "huge"\n\n[device]\npreset = "biolek2009"\n\n[topology]\n'
        'kind = "crossbar"\nrows = 100000\ncols = 100000\nr_line = "1 ohm"\n')


def test_a_crossbar_that_cannot_fit_is_refused_with_its_size():
    with pytest.raises(ParameterError, match=r"100000x100000 crossbar needs 3\.\d+ TB") as info:
        memsim.crossbar(100000, 100000, device=Resistor(1e3), r_line=1.0)
    assert info.value.field == "rows"
    # 3e10 edges of BYTES_PER_EDGE each, plus the nodes and the layout's index grids
    assert "30,000,000,000 edges" in str(info.value) and BYTES_PER_EDGE == 112
    with pytest.raises(ParameterError, match="needs"):
        check_fits("a test network", "n", 10, 2**60)


def test_a_circuit_file_that_cannot_fit_is_refused(tmp_path, capsys):
    path = tmp_path / "huge.toml"
    path.write_text(HUGE)
    with pytest.raises(CircuitFileError, match=r"huge\.toml:9: \[topology\] rows: .* TB") as info:
        memsim.load(path)
    assert info.value.line == 9
    assert main(["info", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs 3." in err and "TB" in err
