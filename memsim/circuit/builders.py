"""Topology builders: crossbars, layered nets, networkx graphs, random graphs."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

import networkx as nx
import numpy as np

from memsim.circuit.names import GridNames, NameBlock
from memsim.circuit.network import CrossbarLayout, Network, Role, check_fits
from memsim.devices.arrays import DeviceArray, device_rows
from memsim.devices.models import Device, Model, Resistor
from memsim.errors import NetworkError, ParameterError

__all__ = ["crossbar", "from_networkx", "layered", "random_network"]

DeviceSpec = Device | Sequence[Device] | DeviceArray


class _Builder:
    """Accumulates nodes and edges, then freezes them into a Network."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.roles: list[int] = []
        self.index: dict[str, int] = {}
        self.edges: list[tuple[int, int]] = []
        self.devices: list[Device] = []
        self.edge_names: list[str] = []

    def node(self, name: str, role: Role = Role.BULK) -> int:
        if name in self.index:
            return self.index[name]
        self.index[name] = len(self.names)
        self.names.append(name)
        self.roles.append(int(role))
        return self.index[name]

    def edge(self, a: int, b: int, device: Device, name: str) -> int:
        self.edges.append((a, b))
        self.devices.append(device)
        self.edge_names.append(name)
        return len(self.edges) - 1

    def build(self, name: str) -> Network:
        roles = np.array(self.roles, dtype=np.int8)
        rows = device_rows(self.devices)
        return Network(
            node_names=tuple(self.names),
            roles=roles,
            inputs=np.flatnonzero(roles == Role.INPUT),
            outputs=np.flatnonzero(roles == Role.OUTPUT),
            edges=np.array(self.edges, dtype=np.int64).reshape(-1, 2),
            model=rows.model,
            params=rows.params,
            x0=rows.x0,
            edge_names=tuple(self.edge_names),
            name=name,
        )


def _devices(device: DeviceSpec, count: int, what: str) -> list[Device]:
    """One device object per edge (the builders that name every edge themselves)."""
    if isinstance(device, DeviceArray):
        raise ParameterError("device", f"{what} takes device objects; device arrays go to "
                             "memsim.crossbar")
    if isinstance(device, Device):
        return [device] * count
    devices = list(device)
    if len(devices) != count:
        raise ParameterError("device", f"{what} needs {count} devices, got {len(devices)}")
    for d in devices:
        if not isinstance(d, Device):
            raise ParameterError("device", f"expected a device parameter set, got {d!r}")
    return devices


def _device_array(device: DeviceSpec, count: int, what: str) -> DeviceArray:
    """Packed rows of ``count`` devices from a sequence or a DeviceArray, or of one device
    shared by all (a DeviceArray of size 1, broadcast by the caller)."""
    if isinstance(device, DeviceArray):
        if device.size != count:
            raise ParameterError("device", f"{what} needs {count} devices, got a device array "
                                 f"of {device.size}")
        return device
    if isinstance(device, Device):
        return device_rows([device])
    if isinstance(device, str) or not isinstance(device, Sequence):
        raise ParameterError("device", f"expected a device, a sequence of devices or a "
                             f"DeviceArray, got {device!r}")
    if len(device) != count:
        raise ParameterError("device", f"{what} needs {count} devices, got {len(device)}")
    return device_rows(device)


def _resistance(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ParameterError(name, f"line resistance must be >= 0 ohm, got {value!r}")
    return value


def crossbar(
    rows: int,
    cols: int,
    *,
    device: DeviceSpec,
    r_line: float = 0.0,
    r_line_word: float | None = None,
    r_line_bit: float | None = None,
    name: str | None = None,
) -> Network:
    """A rows x cols crossbar, in badcrossbar's convention.

    Word line ``i`` is driven at its left end by input ``in{i}``; bit line ``j`` is sensed at
    its bottom end by output ``out{j}`` (a 0 V ammeter). Each line has a segment of resistance
    ``r_line_word`` (``r_line_bit``) between the terminal and the first cell and between
    neighbouring cells. The device of cell (i, j) runs from word line i (plus) to bit line j.

    The network is assembled from index arithmetic, its names made on demand
    (:class:`~memsim.circuit.names.GridNames`), so the build costs a few array operations
    per edge; per-cell parameters come as arrays (:func:`memsim.devices.device_array`).

    Parameters
    ----------
    rows, cols : int
        Numbers of word lines (inputs) and bit lines (outputs).
    device : Device, sequence of Device, or DeviceArray
        One device for every cell, ``rows * cols`` devices in row-major order, or their
        packed arrays from :func:`memsim.devices.device_array` (the fast way to give every
        cell its own R_on, R_off or state).
    r_line : float
        Segment resistance of both line kinds in ohms (0: ideal lines).
    r_line_word, r_line_bit : float, optional
        Override ``r_line`` for word or bit lines.
    name : str, optional
        Label of the network (default ``crossbar_{rows}x{cols}``).

    Raises
    ------
    ParameterError
        For sizes below 1, a negative line resistance, the wrong number of devices, or a
        crossbar whose arrays cannot fit in this machine's memory (the message gives the size
        it would need).

    Examples
    --------
    >>> import memsim
    >>> net = memsim.crossbar(2, 3, device=memsim.devices.Resistor(1e3), r_line=0.5)
    >>> net.n_edges  # 6 devices + 2*3 word segments + 3*2 bit segments
    18
    >>> net.node_names[net.layout.bit[1, 2]], net.edge_names[net.layout.device[1, 2]]
    ('b1_2', 'm1_2')
    """
    rows, cols = _count("rows", rows), _count("cols", cols)
    if rows < 1 or cols < 1:
        raise ParameterError("rows", f"a crossbar needs rows, cols >= 1, got {rows}x{cols}")
    r_word = _resistance("r_line_word", r_line if r_line_word is None else r_line_word)
    r_bit = _resistance("r_line_bit", r_line if r_line_bit is None else r_line_bit)
    cells = rows * cols
    n_word = cells if r_word > 0 else 0
    n_bit = cells if r_bit > 0 else 0
    n_nodes = rows + cols + n_word + n_bit
    n_edges = cells + n_word + n_bit
    check_fits(f"a {rows}x{cols} crossbar", "rows", n_nodes, n_edges,
               extra_bytes=3 * 8 * cells)  # the layout's index grids
    devices = _device_array(device, cells, f"a {rows}x{cols} crossbar")

    ins = np.arange(rows, dtype=np.int64)
    outs = rows + np.arange(cols, dtype=np.int64)
    base = rows + cols
    # word nodes numbered row by row, bit nodes line by line (column-major)
    word = (base + np.arange(cells, dtype=np.int64).reshape(rows, cols) if r_word > 0
            else np.repeat(ins[:, None], cols, axis=1))
    bit_nodes = base + n_word + np.arange(cells, dtype=np.int64).reshape(cols, rows).T
    bit = (np.ascontiguousarray(bit_nodes) if r_bit > 0
           else np.repeat(outs[None, :], rows, axis=0))
    edges = np.empty((n_edges, 2), np.int64)
    edges[:cells, 0] = word.ravel()
    edges[:cells, 1] = bit.ravel()
    k = cells
    if r_word > 0:  # rw{i}_{j} from the left neighbour (the input for j = 0), row by row
        left = np.concatenate([ins[:, None], word[:, :-1]], axis=1)
        edges[k:k + cells, 0] = left.ravel()
        edges[k:k + cells, 1] = word.ravel()
        k += cells
    if r_bit > 0:  # rb{i}_{j} to the node below (the output for i = rows - 1), line by line
        below = np.concatenate([bit[1:], outs[None, :]], axis=0)
        edges[k:k + cells, 0] = bit.T.ravel()
        edges[k:k + cells, 1] = below.T.ravel()
    dev = np.arange(cells, dtype=np.int64).reshape(rows, cols)

    model = np.empty(n_edges, np.int64)
    params = np.empty((n_edges, devices.params.shape[1]))
    x0 = np.zeros(n_edges)
    model[:cells], params[:cells], x0[:cells] = devices.model, devices.params, devices.x0
    for start, count, r in ((cells, n_word, r_word), (cells + n_word, n_bit, r_bit)):
        if count:
            model[start:start + count] = int(Model.RESISTOR)
            params[start:start + count] = Resistor(r).row()
    roles = np.zeros(n_nodes, np.int8)
    roles[ins], roles[outs] = Role.INPUT, Role.OUTPUT

    node_blocks = [NameBlock("in", (rows,)), NameBlock("out", (cols,))]
    edge_blocks = [NameBlock("m", (rows, cols))]
    if r_word > 0:
        node_blocks.append(NameBlock("w", (rows, cols)))
        edge_blocks.append(NameBlock("rw", (rows, cols)))
    if r_bit > 0:
        node_blocks.append(NameBlock("b", (rows, cols), "F"))
        edge_blocks.append(NameBlock("rb", (rows, cols), "F"))
    for a in (edges, model, params, x0, roles, word, bit, dev):
        a.setflags(write=False)  # fresh arrays: the network shares them instead of copying
    return Network(
        node_names=GridNames(node_blocks),
        roles=roles,
        inputs=ins,
        outputs=outs,
        edges=edges,
        model=model,
        params=params,
        x0=x0,
        edge_names=GridNames(edge_blocks),
        layout=CrossbarLayout(rows, cols, word, bit, dev, r_word, r_bit),
        name=name or f"crossbar_{rows}x{cols}",
    )


def _count(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ParameterError(field, f"must be an integer, got {value!r}")
    return int(value)


def layered(
    sizes: Sequence[int],
    *,
    device: DeviceSpec,
    connectivity: float = 1.0,
    seed: int | np.random.Generator | None = None,
    name: str | None = None,
) -> Network:
    """A feed-forward layered network, e.g. ``[2, 4, 2]``: inputs, hidden layers, outputs.

    Every node of layer l is joined to every node of layer l + 1 by a device oriented
    forward (plus on the earlier layer). With ``connectivity < 1`` each edge is kept with that
    probability (seeded); a pruned layout may leave nodes floating, which the solvers handle.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, at least two (inputs and outputs); all >= 1.
    device : Device or sequence of Device
        One device for all edges, or one per edge of the fully connected net (before pruning).
    connectivity : float
        Probability in (0, 1] that an edge is kept.
    seed : int or Generator, optional
        Seeds the pruning.

    Examples
    --------
    >>> import memsim
    >>> net = memsim.layered([2, 4, 2], device=memsim.devices.preset("pershin2011"))
    >>> [net.node_names[i] for i in net.inputs], net.n_edges
    (['in0', 'in1'], 16)
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ParameterError("sizes", f"need >= 2 layers of width >= 1, got {sizes}")
    if not 0 < connectivity <= 1:
        raise ParameterError("connectivity", f"must lie in (0, 1], got {connectivity!r}")
    full = sum(a * c for a, c in zip(sizes[:-1], sizes[1:], strict=True))
    devices = _devices(device, full, f"layered {sizes}")
    rng = np.random.default_rng(seed)
    keep = rng.random(full) < connectivity if connectivity < 1 else np.ones(full, bool)
    b = _Builder()
    layers: list[list[int]] = []
    for li, width in enumerate(sizes):
        if li == 0:
            layers.append([b.node(f"in{k}", Role.INPUT) for k in range(width)])
        elif li == len(sizes) - 1:
            layers.append([b.node(f"out{k}", Role.OUTPUT) for k in range(width)])
        else:
            layers.append([b.node(f"h{li}_{k}") for k in range(width)])
    k = 0
    for li in range(len(sizes) - 1):
        for a in layers[li]:
            for c in layers[li + 1]:
                if keep[k]:
                    b.edge(a, c, devices[k], f"{b.names[a]}-{b.names[c]}")
                k += 1
    label = name or "layered_" + "x".join(map(str, sizes))
    net = b.build(label)
    return net.replace(meta={"sizes": tuple(sizes), "connectivity": connectivity})


def from_networkx(
    graph: nx.Graph,
    *,
    inputs: Sequence[Hashable],
    outputs: Sequence[Hashable],
    device: DeviceSpec,
    ground: Iterable[Hashable] = (),
    name: str | None = None,
) -> Network:
    """A network from any networkx graph: every edge becomes a device.

    An edge attribute ``device`` (a :class:`~memsim.devices.Device`) overrides ``device`` for
    that edge. Edges are oriented as networkx lists them, ``(u, v)`` with plus at ``u``.

    Raises
    ------
    NetworkError
        If a terminal is not a node of the graph, or a node is both input and output.

    Examples
    --------
    >>> import networkx as nx, memsim
    >>> g = nx.path_graph(3)
    >>> net = memsim.from_networkx(g, inputs=[0], outputs=[2], device=memsim.devices.Resistor(1.0))
    >>> net.node_names, net.n_edges  # terminals first, in the order given
    (('0', '2', '1'), 2)
    """
    ground = list(ground)
    for label, terms in (("input", inputs), ("output", outputs), ("ground", ground)):
        for t in terms:
            if t not in graph:
                raise NetworkError(f"{label} terminal {t!r} is not a node of the graph")
    overlap = set(inputs) & set(outputs) | set(inputs) & set(ground) | set(outputs) & set(ground)
    if overlap:
        raise NetworkError(f"nodes {sorted(map(str, overlap))} have more than one terminal role")
    edges = list(graph.edges(data=True))
    default = _devices(device, len(edges), "this graph") if not isinstance(device, Device) else None
    b = _Builder()
    role = {**{t: Role.INPUT for t in inputs}, **{t: Role.OUTPUT for t in outputs},
            **{t: Role.GROUND for t in ground}}
    # Terminals first, in the order given, so terminal k is inputs[k].
    for t in list(inputs) + list(outputs) + ground:
        b.node(str(t), role[t])
    for n in graph.nodes:
        b.node(str(n), role.get(n, Role.BULK))
    if len(b.names) != graph.number_of_nodes():
        raise NetworkError("node labels must stay distinct when converted to strings")
    taken: set[str] = set()
    for k, (u, v, data) in enumerate(edges):
        d = data.get("device", default[k] if default is not None else device)
        if not isinstance(d, Device):
            raise ParameterError("device", f"edge ({u}, {v}) has device {d!r}")
        label = str(data.get("name", f"{u}-{v}"))
        while label in taken:  # parallel edges of a multigraph
            label += "'"
        taken.add(label)
        b.edge(b.index[str(u)], b.index[str(v)], d, label)
    net = b.build(name or graph.name or "graph")
    order_in = np.array([net.node(str(t)) for t in inputs], dtype=np.int64)
    order_out = np.array([net.node(str(t)) for t in outputs], dtype=np.int64)
    return net.replace(inputs=order_in, outputs=order_out)


def random_network(
    n_nodes: int,
    *,
    edge_prob: float,
    n_inputs: int,
    n_outputs: int,
    device: DeviceSpec,
    seed: int | np.random.Generator | None,
    name: str | None = None,
) -> Network:
    """A connected Erdos-Renyi random graph with randomly designated terminals.

    Draws G(n, p) graphs until one is connected (at most 1000 tries), then picks ``n_inputs``
    input and ``n_outputs`` output nodes at random. Same seed, same network.

    Examples
    --------
    >>> import memsim
    >>> a = memsim.random_network(10, edge_prob=0.4, n_inputs=2, n_outputs=2,
    ...                           device=memsim.devices.Resistor(1.0), seed=1)
    >>> b = memsim.random_network(10, edge_prob=0.4, n_inputs=2, n_outputs=2,
    ...                           device=memsim.devices.Resistor(1.0), seed=1)
    >>> bool((a.edges == b.edges).all())
    True
    """
    if n_nodes < 2:
        raise ParameterError("n_nodes", f"need >= 2 nodes, got {n_nodes}")
    if not 0 < edge_prob <= 1:
        raise ParameterError("edge_prob", f"must lie in (0, 1], got {edge_prob!r}")
    if n_inputs < 1 or n_outputs < 1 or n_inputs + n_outputs > n_nodes:
        raise ParameterError(
            "n_inputs", f"need 1 <= inputs, outputs and inputs + outputs <= {n_nodes}"
        )
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        g = nx.gnp_random_graph(n_nodes, edge_prob, seed=int(rng.integers(2**31)))
        if nx.is_connected(g):
            break
    else:
        raise ParameterError("edge_prob", f"no connected G({n_nodes}, {edge_prob}) in 1000 draws")
    terms = rng.permutation(n_nodes)[: n_inputs + n_outputs]
    g = nx.relabel_nodes(g, {k: f"n{k}" for k in g.nodes})
    ins = [f"n{k}" for k in terms[:n_inputs]]
    outs = [f"n{k}" for k in terms[n_inputs:]]
    return from_networkx(g, inputs=ins, outputs=outs, device=device,
                         name=name or f"random_{n_nodes}_{edge_prob:g}")
