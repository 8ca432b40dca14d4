"""The immutable memristor network: nodes with roles, edges with their devices."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np
import scipy.sparse as sp

from memsim.circuit.names import GridNames, NameBlock
from memsim.devices.models import N_PARAMS, Device, Model, device_from_row
from memsim.devices.spread import spread_resistances
from memsim.errors import NetworkError, ParameterError

__all__ = ["BYTES_PER_EDGE", "CrossbarLayout", "Network", "Role", "check_fits", "memory_available"]

BYTES_PER_EDGE = 8 * (2 + 1 + N_PARAMS + 1)
"""Memory of one edge in a :class:`Network`: its two node indices, model code, packed
parameter row and initial state (8 bytes each)."""


class Role(IntEnum):
    """What a node is to the outside world."""

    BULK = 0  #: internal node, obeys KCL
    INPUT = 1  #: driven by a voltage source, or floating, per phase
    OUTPUT = 2  #: held at 0 V through an ammeter, or floating, per phase
    GROUND = 3  #: tied to 0 V for good


@dataclass(frozen=True)
class CrossbarLayout:
    """Where a crossbar's parts sit in its network (set by :func:`memsim.crossbar`).

    ``word[i, j]`` / ``bit[i, j]`` are the node indices at cell (i, j) on word line i and bit
    line j; ``device[i, j]`` is the edge index of the cell's device. ``r_word`` / ``r_bit``
    are the line-segment resistances (0: ideal lines, nodes merged with the terminals).
    """

    rows: int
    cols: int
    word: np.ndarray
    bit: np.ndarray
    device: np.ndarray
    r_word: float
    r_bit: float


def _frozen(a: Any, dtype: Any) -> np.ndarray:
    """A read-only copy of ``a``; an array that is already read-only, owns its data and has
    the dtype is shared instead (another network's field: ``replace`` copies nothing)."""
    if (isinstance(a, np.ndarray) and a.dtype == dtype and not a.flags.writeable
            and a.flags.owndata and a.flags.c_contiguous):
        return a
    out = np.array(a, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


def _names(names: Sequence[str] | GridNames) -> tuple[str, ...] | GridNames:
    return names if isinstance(names, GridNames) else tuple(str(s) for s in names)


def memory_available() -> int:
    """Bytes of memory this process can still take: ``MemAvailable`` of ``/proc/meminfo``
    where there is one, else the machine's physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover (non-POSIX)
        return 1 << 62


def _size(n: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n / 1e3:.3g} kB"


def check_fits(what: str, field: str, n_nodes: int, n_edges: int,
               extra_bytes: int = 0) -> None:
    """Refuse up front a network that cannot fit in memory, saying the size it would need.

    Raises
    ------
    ParameterError
        On ``field`` if ``n_edges * BYTES_PER_EDGE`` plus a byte per node and
        ``extra_bytes`` exceeds :func:`memory_available`.

    Examples
    --------
    >>> check_fits("a 2x2 crossbar", "rows", 12, 12)  # fits: returns None
    """
    need = int(n_edges) * BYTES_PER_EDGE + int(n_nodes) + int(extra_bytes)
    have = memory_available()
    if need > have:
        raise ParameterError(field, f"{what} needs {_size(need)} of memory for its network "
                             f"arrays ({n_edges:,} edges x {BYTES_PER_EDGE} bytes, plus nodes and "
                             f"layout), more than "
                             f"the {_size(have)} available; build a smaller one")


@dataclass(frozen=True, eq=False)
class Network:
    """A memristor network. Build it with :func:`memsim.crossbar`, :func:`memsim.layered`,
    :func:`memsim.from_networkx`, :func:`memsim.random_network` or :func:`memsim.load`.

    Attributes
    ----------
    node_names : tuple of str or GridNames
        One name per node; index ``n`` in every array is node ``node_names[n]``. Builders of
        large regular networks pass a :class:`~memsim.circuit.names.GridNames`, which makes
        each name when asked for it.
    roles : ndarray of int8, (N,)
        :class:`Role` of each node.
    inputs, outputs : ndarray of int64
        Node indices of the input and output terminals, in terminal order.
    edges : ndarray of int64, (E, 2)
        ``(plus, minus)`` node indices of each device; voltages and currents are measured from
        plus to minus.
    model : ndarray of int64, (E,)
        :class:`~memsim.devices.Model` code of each edge.
    params : ndarray of float64, (E, N_PARAMS)
        Packed device parameters, one row per edge (every device may differ).
    x0 : ndarray of float64, (E,)
        Initial state of each device.
    edge_names : tuple of str or GridNames
        One name per edge.
    layout : CrossbarLayout or None
        Set for crossbars; lets solvers exploit their structure.
    name : str
        A label for reports.

    Examples
    --------
    >>> import memsim
    >>> net = memsim.layered([2, 4, 2], device=memsim.devices.preset("pershin2011"))
    >>> net.n_nodes, net.n_edges, len(net.inputs), len(net.outputs)
    (8, 16, 2, 2)
    """

    node_names: tuple[str, ...] | GridNames
    roles: np.ndarray
    inputs: np.ndarray
    outputs: np.ndarray
    edges: np.ndarray
    model: np.ndarray
    params: np.ndarray
    x0: np.ndarray
    edge_names: tuple[str, ...] | GridNames = ()
    layout: CrossbarLayout | None = None
    name: str = "network"
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.node_names)
        put = object.__setattr__
        put(self, "node_names", _names(self.node_names))
        if not isinstance(self.node_names, GridNames) and len(set(self.node_names)) != n:
            raise NetworkError("node names must be unique")  # GridNames: unique by design
        put(self, "roles", _frozen(self.roles, np.int8))
        put(self, "inputs", _frozen(self.inputs, np.int64))
        put(self, "outputs", _frozen(self.outputs, np.int64))
        edges = self.edges
        if not (isinstance(edges, np.ndarray) and edges.ndim == 2 and edges.shape[1] == 2):
            edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        put(self, "edges", _frozen(edges, np.int64))
        e = edges.shape[0]
        put(self, "model", _frozen(self.model, np.int64))
        params = self.params
        if not (isinstance(params, np.ndarray) and params.shape == (e, N_PARAMS)):
            params = np.asarray(params, float).reshape(e, N_PARAMS)
        put(self, "params", _frozen(params, float))
        put(self, "x0", _frozen(self.x0, float))
        if not len(self.edge_names):
            put(self, "edge_names", GridNames([NameBlock("e", (e,))]))
        else:
            put(self, "edge_names", _names(self.edge_names))
        self._validate()

    def _validate(self) -> None:
        n, e = self.n_nodes, self.n_edges
        if self.roles.shape != (n,):
            raise NetworkError(f"roles has shape {self.roles.shape}, expected ({n},)")
        if e and (self.edges.min() < 0 or self.edges.max() >= n):
            raise NetworkError(f"edge refers to a node index outside 0..{n - 1}")
        loops = np.flatnonzero(self.edges[:, 0] == self.edges[:, 1])
        if loops.size:
            k = int(loops[0])
            raise NetworkError(
                f"edge {self.edge_names[k]!r} connects node "
                f"{self.node_names[self.edges[k, 0]]!r} to itself"
            )
        for arr, label in ((self.model, "model"), (self.x0, "x0"), (self.edge_names, "edge_names")):
            if len(arr) != e:
                raise NetworkError(f"{label} has {len(arr)} entries for {e} edges")
        if e and (self.model.min() < min(Model) or self.model.max() > max(Model)):  # codes 0..n-1
            raise NetworkError("unknown device model code")
        if not np.isfinite(self.params).all():
            raise ParameterError("params", "device parameters must be finite")
        mem = self.memristive
        r_on, r_off = self.params[:, 0], self.params[:, 1]
        if (r_on[self.model != int(Model.OPEN)] <= 0).any():
            raise ParameterError("r_on", "resistances must be positive")
        if (r_on[mem] >= r_off[mem]).any():
            raise ParameterError("r_on", "R_on must be below R_off for every memristor")
        if ((self.x0 < 0) | (self.x0 > 1) | ~np.isfinite(self.x0)).any():
            raise ParameterError("x0", "initial states must lie in [0, 1]")
        if not isinstance(self.edge_names, GridNames) and len(set(self.edge_names)) != e:
            raise NetworkError("edge names must be unique")
        for idx, role in ((self.inputs, Role.INPUT), (self.outputs, Role.OUTPUT)):
            if idx.size and (idx.min() < 0 or idx.max() >= n):
                raise NetworkError(f"{role.name.lower()} terminal index out of range")
            if (self.roles[idx] != int(role)).any():
                raise NetworkError(f"{role.name.lower()} terminals must have role {role.name}")
        if np.sum(self.roles == int(Role.INPUT)) != self.inputs.size:
            raise NetworkError("every INPUT node must be listed in inputs")
        if np.sum(self.roles == int(Role.OUTPUT)) != self.outputs.size:
            raise NetworkError("every OUTPUT node must be listed in outputs")
        if len(set(self.inputs.tolist())) != self.inputs.size:
            raise NetworkError("an input terminal is listed twice")
        if len(set(self.outputs.tolist())) != self.outputs.size:
            raise NetworkError("an output terminal is listed twice")

    # ----------------------------------------------------------------- sizes and views
    @property
    def n_nodes(self) -> int:
        return len(self.node_names)

    @property
    def n_edges(self) -> int:
        return int(self.edges.shape[0])

    @property
    def memristive(self) -> np.ndarray:
        """Boolean mask of the edges that carry a state (memristors)."""
        # plain integers: numpy probes an IntEnum operand for array attributes, each probe a
        # slow enum attribute lookup (training calls this once per run)
        return (self.model != int(Model.RESISTOR)) & (self.model != int(Model.OPEN))

    @property
    def n_memristors(self) -> int:
        return int(self.memristive.sum())

    @property
    def n_components(self) -> int:
        """Number of connected parts of the graph, every edge counted (pruned ones too, as in
        :meth:`to_networkx`); computed from the edge arrays, so it is quick for large nets."""
        from scipy.sparse.csgraph import connected_components

        n = self.n_nodes
        adj = sp.coo_matrix((np.ones(self.n_edges, np.int8), (self.edges[:, 0], self.edges[:, 1])),
                            shape=(n, n))
        return int(connected_components(adj, directed=False)[0])

    def node(self, name: str) -> int:
        """Index of the node called ``name``.

        Raises
        ------
        NetworkError
            If there is no such node.
        """
        names = self.node_names
        k = names.find(name) if isinstance(names, GridNames) else self._node_index.get(name)
        if k is None:
            raise NetworkError(f"unknown node {name!r} in network {self.name!r}")
        return k

    @property
    def _node_index(self) -> dict[str, int]:
        cache = self.__dict__.get("_node_index_cache")
        if cache is None:
            cache = {s: k for k, s in enumerate(self.node_names)}
            object.__setattr__(self, "_node_index_cache", cache)
        return cache

    def device(self, edge: int) -> Device:
        """The parameter set of edge ``edge``."""
        return device_from_row(int(self.model[edge]), self.params[edge], float(self.x0[edge]))

    def incidence(self) -> sp.csr_matrix:
        """Signed node-edge incidence matrix B (N x E): +1 at plus, -1 at minus."""
        e = self.n_edges
        rows = np.concatenate([self.edges[:, 0], self.edges[:, 1]])
        cols = np.concatenate([np.arange(e), np.arange(e)])
        vals = np.concatenate([np.ones(e), -np.ones(e)])
        return sp.csr_matrix((vals, (rows, cols)), shape=(self.n_nodes, e))

    def to_networkx(self):  # -> nx.MultiDiGraph
        """The network as a networkx MultiDiGraph with roles and device parameters."""
        import networkx as nx

        g = nx.MultiDiGraph(name=self.name)
        for k, s in enumerate(self.node_names):
            g.add_node(s, role=Role(int(self.roles[k])).name.lower())
        for k, (a, b) in enumerate(self.edges):
            g.add_edge(self.node_names[a], self.node_names[b], key=self.edge_names[k],
                       device=self.device(k))
        return g

    # ----------------------------------------------------------------- derived networks
    def replace(self, **changes: Any) -> Network:
        """A new network with some fields replaced (validated again)."""
        fields = {k: getattr(self, k) for k in self.__dataclass_fields__}
        fields.update(changes)
        return Network(**fields)

    def with_params(self, params: np.ndarray) -> Network:
        """The same topology with new per-edge parameter rows (E, N_PARAMS)."""
        return self.replace(params=np.asarray(params, float), layout=self.layout)

    def pruned(self, mask: np.ndarray) -> Network:
        """The network with the edges in ``mask`` removed (open circuits; indices kept)."""
        mask = np.asarray(mask, bool)
        if mask.shape != (self.n_edges,):
            raise NetworkError(f"prune mask has shape {mask.shape}, expected ({self.n_edges},)")
        model = np.where(mask, int(Model.OPEN), self.model)
        return self.replace(model=model)

    def with_spread(
        self, sigma: float, *, seed: int | np.random.Generator | None, fields: Sequence[str] = (
            "r_on", "r_off")
    ) -> Network:
        """Device-to-device spread: every memristor's ``fields`` multiplied by a lognormal
        factor of log-standard-deviation ``sigma`` (the draw of
        :func:`memsim.devices.spread.d2d_factors`, one normal per memristor in edge order, the
        same as training's ``CircuitConfig.d2d_spread``).

        One factor is drawn per device and shared by its ``fields``: spreading both R_on and
        R_off scales the device as a whole and keeps its R_off / R_on ratio (so R_on < R_off
        holds). Spreading one of them alone can cross them at large ``sigma``, which the
        network's validation rejects with a :class:`~memsim.errors.ParameterError`.

        Raises
        ------
        ParameterError
            For a negative or non-finite ``sigma``, a field other than r_on / r_off, or a
            spread that leaves some R_on >= R_off.
        """
        if not np.isfinite(sigma) or sigma < 0:
            raise ParameterError("sigma", f"spread must be >= 0, got {sigma!r}")
        cols = {"r_on": 0, "r_off": 1}
        for f in fields:
            if f not in cols:
                raise ParameterError("fields", f"cannot spread {f!r}; use r_on and/or r_off")
        params = spread_resistances(self.params, self.memristive, float(sigma),
                                    np.random.default_rng(seed),
                                    tuple(cols[f] for f in dict.fromkeys(fields)))
        return self.with_params(params)

    def summary(self) -> str:
        """A short human-readable description of the topology."""
        counts = {m.name.lower(): int(np.sum(self.model == m)) for m in Model}
        devices = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
        lines = [
            f"network {self.name!r}: {self.n_nodes} nodes, {self.n_edges} edges ({devices})",
            f"  inputs  ({len(self.inputs)}): "
            + " ".join(self.node_names[i] for i in self.inputs[:12])
            + (" ..." if len(self.inputs) > 12 else ""),
            f"  outputs ({len(self.outputs)}): "
            + " ".join(self.node_names[i] for i in self.outputs[:12])
            + (" ..." if len(self.outputs) > 12 else ""),
        ]
        if self.layout is not None:
            lines.append(
                f"  crossbar {self.layout.rows}x{self.layout.cols}, word-line segment "
                f"{self.layout.r_word:g} ohm, bit-line segment {self.layout.r_bit:g} ohm"
            )
        return "\n".join(lines)

    def draw(self, ax: Any = None, **options: Any) -> Any:
        """Draw the network: roles coloured, device conductances as edge widths; returns the
        matplotlib axes (options: :func:`memsim.circuit.display.draw_network`)."""
        from memsim.circuit.display import draw_network

        return draw_network(self, ax, **options)

    def _repr_html_(self) -> str:
        from memsim.circuit.display import network_html

        return network_html(self)

    def __repr__(self) -> str:
        return (f"Network({self.name!r}, nodes={self.n_nodes}, edges={self.n_edges}, "
                f"inputs={len(self.inputs)}, outputs={len(self.outputs)})")
