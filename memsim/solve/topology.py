"""Terminal configurations and the node roles they imply: fixed, free and floating nodes.

A terminal configuration (:class:`Terminals`) says which inputs are driven and which outputs
are grounded; with the ground node these are the *fixed* nodes. Every other node is *free*
(KCL solves for it) if a path of conducting edges joins it to a fixed node, else *floating*:
its potential is undefined, so memsim holds it at 0 V and no current flows through it.

One graph search, :func:`label_components`, does all of this, and it is a numba kernel so the
training loop calls the same search as :func:`memsim.solve_dc`: components of the non-fixed
nodes through live edges; a component is anchored (free) when one of its nodes has a live edge
to a fixed node. The same labels are the independent blocks of the nodal system (two free
nodes of different components never share an equation), and with every node passable they are
the connected components of the network.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numba import njit

from memsim.circuit.network import Network, Role
from memsim.devices.models import Model
from memsim.errors import FloatingSubnetworkWarning, ParameterError

__all__ = [
    "OutputSpec",
    "Terminals",
    "adjacency",
    "check_state",
    "fixed_nodes",
    "floating_nodes",
    "free_index",
    "free_index_into",
    "free_nodes",
    "label_components",
    "terminals",
]

OutputSpec = Literal["ground", "float"] | np.ndarray


@dataclass(frozen=True)
class Terminals:
    """A terminal configuration: which inputs are driven, which outputs are grounded.

    Undriven inputs and ungrounded outputs float (they obey KCL like bulk nodes).

    Examples
    --------
    >>> import numpy as np
    >>> Terminals(np.array([True, False]), np.array([True, True])).driven.sum()
    np.int64(1)
    """

    driven: np.ndarray
    grounded: np.ndarray

    def key(self) -> tuple[bytes, bytes]:
        return self.driven.tobytes(), self.grounded.tobytes()


def terminals(
    net: Network, *, outputs: OutputSpec = "ground", floating_inputs: np.ndarray | None = None
) -> Terminals:
    """Build a :class:`Terminals` from the user-facing options of :func:`memsim.solve_dc`.

    Raises
    ------
    ParameterError
        If ``outputs`` is not "ground", "float" or a boolean mask of the right length, or
        ``floating_inputs`` has the wrong length.

    Examples
    --------
    >>> import memsim
    >>> net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    >>> terminals(net, outputs="float").grounded.tolist()
    [False, False]
    """
    n_in, n_out = len(net.inputs), len(net.outputs)
    if isinstance(outputs, str):
        if outputs not in ("ground", "float"):
            raise ParameterError("outputs", f"use 'ground', 'float' or a mask, got {outputs!r}")
        grounded = np.full(n_out, outputs == "ground")
    else:
        grounded = np.asarray(outputs, bool)
        if grounded.shape != (n_out,):
            raise ParameterError("outputs", f"mask needs {n_out} entries, got {grounded.shape}")
    if floating_inputs is None:
        driven = np.ones(n_in, bool)
    else:
        fl = np.asarray(floating_inputs, bool)
        if fl.shape != (n_in,):
            raise ParameterError("floating_inputs", f"mask needs {n_in} entries, got {fl.shape}")
        driven = ~fl
    return Terminals(driven=driven, grounded=grounded)


def check_state(net: Network, state: np.ndarray | None) -> np.ndarray:
    """Device states (E,) to solve with: ``net.x0`` if ``state`` is None, else ``state``
    checked.

    Raises
    ------
    ParameterError
        If ``state`` has the wrong shape, or entries that are not finite or outside [0, 1].

    Examples
    --------
    >>> import memsim
    >>> net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    >>> check_state(net, None).shape
    (16,)
    """
    if state is None:
        return np.asarray(net.x0, float)
    x = np.asarray(state, float)
    if x.shape != (net.n_edges,):
        raise ParameterError("state", f"needs one entry per edge ({net.n_edges}), got {x.shape}")
    if not np.isfinite(x).all() or (x < 0).any() or (x > 1).any():
        raise ParameterError("state", "states must be finite and lie in [0, 1]")
    return x


# ----------------------------------------------------------------------------- numba kernels
@njit(cache=True)
def adjacency(n_nodes, edges):
    """CSR adjacency of the undirected multigraph: ``ptr`` (N+1,), neighbour node, edge index.

    Node ``a``'s incident edges are ``edge[ptr[a]:ptr[a + 1]]``, in edge order, and
    ``node[k]`` is the other end of ``edge[k]``.
    """
    deg = np.zeros(n_nodes + 1, np.int64)
    for e in range(edges.shape[0]):
        deg[edges[e, 0] + 1] += 1
        deg[edges[e, 1] + 1] += 1
    ptr = np.cumsum(deg)
    fill = ptr[:-1].copy()
    node = np.empty(2 * edges.shape[0], np.int64)
    edge = np.empty(2 * edges.shape[0], np.int64)
    for e in range(edges.shape[0]):
        a, b = edges[e, 0], edges[e, 1]
        node[fill[a]] = b
        edge[fill[a]] = e
        fill[a] += 1
        node[fill[b]] = a
        edge[fill[b]] = e
        fill[b] += 1
    return ptr, node, edge


@njit(cache=True)
def label_components(passable, live, ptr, nbr, nbr_edge, labels, stack):
    """Label the connected components of the passable nodes through live edges.

    Fills ``labels`` (N,) with 0, 1, ... in order of each component's lowest node, -1 for
    nodes that are not passable; ``stack`` (N,) is work space. Returns the number of
    components. Depth-first, allocation-free: the training loop calls it for every pulse.
    """
    n = passable.shape[0]
    for i in range(n):
        labels[i] = -1
    count = 0
    for s in range(n):
        if not passable[s] or labels[s] >= 0:
            continue
        labels[s] = count
        stack[0] = s
        top = 1
        while top > 0:
            top -= 1
            a = stack[top]
            for k in range(ptr[a], ptr[a + 1]):
                if live[nbr_edge[k]]:
                    b = nbr[k]
                    if passable[b] and labels[b] < 0:
                        labels[b] = count
                        stack[top] = b
                        top += 1
        count += 1
    return count


@njit(cache=True)
def free_index_into(fixed, live, ptr, nbr, nbr_edge, labels, stack, anchored, out):
    """:func:`free_index` into ``out`` (N,), with work arrays ``labels``, ``stack`` and
    ``anchored`` (N,) of the caller: allocation-free, for the training loop. Returns the
    number of free nodes."""
    n = fixed.shape[0]
    count = label_components(~fixed, live, ptr, nbr, nbr_edge, labels, stack)
    for c in range(count):
        anchored[c] = False
    for a in range(n):
        if fixed[a]:
            for k in range(ptr[a], ptr[a + 1]):
                b = nbr[k]
                if live[nbr_edge[k]] and labels[b] >= 0:
                    anchored[labels[b]] = True
    nf = 0
    for a in range(n):
        out[a] = -1
        if labels[a] >= 0 and anchored[labels[a]]:
            out[a] = nf
            nf += 1
    return nf


@njit(cache=True)
def free_index(fixed, live, ptr, nbr, nbr_edge):
    """``free_index`` (N,) for the nodal solvers: the position of each free node among the
    free nodes (0, 1, ... in node order), -1 for fixed and floating nodes.

    A non-fixed node is free when its component (of non-fixed nodes, through live edges)
    has a live edge to a fixed node; floating nodes keep their fixed value (0 V) and carry no
    current, because all their live edges stay inside the floating component.
    """
    n = fixed.shape[0]
    out = np.empty(n, np.int64)
    free_index_into(fixed, live, ptr, nbr, nbr_edge, np.empty(n, np.int64),
                    np.empty(n, np.int64), np.empty(n, np.bool_), out)
    return out


# ----------------------------------------------------------------------------- Python API
def fixed_nodes(net: Network, terms: Terminals) -> np.ndarray:
    """Nodes (N,) bool held by a source under ``terms``: ground, driven inputs, grounded
    outputs.

    Examples
    --------
    >>> import memsim
    >>> net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    >>> int(fixed_nodes(net, terminals(net)).sum())
    4
    """
    fixed = net.roles == Role.GROUND
    fixed[net.inputs[terms.driven]] = True
    fixed[net.outputs[terms.grounded]] = True
    return fixed


def _search(net: Network) -> tuple[np.ndarray, ...]:
    ptr, nbr, nbr_edge = adjacency(net.n_nodes, np.ascontiguousarray(net.edges, np.int64))
    return ptr, nbr, nbr_edge, np.ascontiguousarray(net.model != Model.OPEN)


def floating_nodes(net: Network, terms: Terminals) -> tuple[np.ndarray, np.ndarray]:
    """Connected component of every node through the edges that conduct (pruned edges do
    not), and which nodes float: those whose component touches no fixed node.

    Examples
    --------
    >>> import memsim
    >>> net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    >>> comp, floating = floating_nodes(net, terminals(net))
    >>> int(comp.max()), bool(floating.any())
    (0, False)
    """
    ptr, nbr, nbr_edge, live = _search(net)
    labels = np.empty(net.n_nodes, np.int64)
    label_components(np.ones(net.n_nodes, np.bool_), live, ptr, nbr, nbr_edge, labels,
                     np.empty(net.n_nodes, np.int64))
    anchored = np.zeros(labels.max() + 1 if net.n_nodes else 0, bool)
    anchored[labels[fixed_nodes(net, terms)]] = True
    return labels, ~anchored[labels]


def free_nodes(net: Network, terms: Terminals, *, warn: bool = True,
               stacklevel: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the nodes KCL solves for (bulk and floating terminals that some source
    reaches), and the floating mask (N,) of the rest that no source reaches (held at 0 V).

    Warns with :class:`~memsim.errors.FloatingSubnetworkWarning` when some part floats;
    ``stacklevel`` 2 points at the caller.

    Examples
    --------
    >>> import memsim
    >>> net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    >>> free, floating = free_nodes(net, terminals(net))
    >>> len(free), int(floating.sum())
    (4, 0)
    """
    fixed = fixed_nodes(net, terms)
    ptr, nbr, nbr_edge, live = _search(net)
    index = free_index(fixed, live, ptr, nbr, nbr_edge)
    floating = ~fixed & (index < 0)
    if warn and floating.any():
        names = [net.node_names[k] for k in np.flatnonzero(floating)[:8]]
        warnings.warn(
            f"{int(floating.sum())} node(s) of {net.name!r} touch no driven or grounded "
            f"terminal ({', '.join(names)}{', ...' if floating.sum() > 8 else ''}); "
            "they are held at 0 V and carry no current",
            FloatingSubnetworkWarning,
            stacklevel=stacklevel,
        )
    return np.flatnonzero(index >= 0), floating
