"""How devices influence each other: the transfer-current matrix and its decay with distance.

The transfer-current matrix of a resistive network is ``T = B^T L^+ B`` with ``L = B G B^T`` the
weighted Laplacian. ``T[e, f]`` is the voltage across edge ``e`` when a unit current is injected
at the plus node of ``f`` and drawn out at its minus node (the network alone, no terminals);
``G T`` gives the currents, the transfer currents of spanning-tree theory. Its diagonal is the
effective resistance between the two ends of every edge; for unit conductances
``I - T = Omega``, the cycle-space projector of the CTDV equation. In a memristor network, where
``dx_e/dt`` follows ``v_e``, ``T[e, f]`` is how strongly a change at device ``f`` is felt by
device ``e`` — the correlation between distant devices goes through it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph

from memsim.circuit.network import Network
from memsim.devices.kernels import conductances
from memsim.devices.models import Model
from memsim.errors import ParameterError

__all__ = [
    "DistanceProfile",
    "correlation_vs_distance",
    "edge_distances",
    "effective_resistances",
    "transfer_matrix",
]

MAX_EDGES = 6000
"""Largest network handled (the result is a dense E x E matrix)."""


def _conductances(net: Network, state: np.ndarray | None, unit: bool) -> np.ndarray:
    live = (net.model != Model.OPEN).astype(float)
    if unit:
        return live
    x = net.x0 if state is None else np.asarray(state, float)
    if x.shape != (net.n_edges,) or not np.isfinite(x).all() or (x < 0).any() or (x > 1).any():
        raise ParameterError("state", f"needs {net.n_edges} finite states in [0, 1]")
    return conductances(net.model, x, net.params) * live


def transfer_matrix(net: Network, state: np.ndarray | None = None, *, unit: bool = False
                    ) -> np.ndarray:
    """The transfer-current matrix ``T = B^T L^+ B`` (E x E, ohms), ``L = B diag(g) B^T``.

    Parameters
    ----------
    net : Network
    state : array (E,), optional
        Device states giving the conductances (default ``net.x0``).
    unit : bool
        Use unit conductances on every conducting edge (the purely topological matrix; then
        ``I - T`` is the cycle-space projector).

    Returns
    -------
    ndarray (E, E)
        Symmetric; rows and columns of open (pruned) edges are zero.

    Raises
    ------
    ParameterError
        If ``state`` is malformed or the network has more than :data:`MAX_EDGES` edges.

    Examples
    --------
    Two unit resistors in parallel: each sees 1/2 ohm across its ends.

    >>> import networkx as nx, memsim
    >>> g = nx.MultiGraph([(0, 1), (0, 1)])
    >>> net = memsim.from_networkx(g, inputs=[0], outputs=[1],
    ...                            device=memsim.devices.Resistor(1.0))
    >>> transfer_matrix(net).round(12).tolist()
    [[0.5, 0.5], [0.5, 0.5]]
    """
    if net.n_edges > MAX_EDGES:
        raise ParameterError("net", f"{net.n_edges} edges exceed MAX_EDGES={MAX_EDGES} "
                             "(the transfer matrix is dense)")
    g = _conductances(net, state, unit)
    b = net.incidence()
    lap = (b @ sp.diags(g) @ b.T).tocsr()
    # Ground one node per connected component (of the conducting graph): with those rows of B
    # removed, B^T L^+ B = B_r^T L_r^-1 B_r (the columns of B are orthogonal to the kernel).
    adj = sp.csr_matrix(lap != 0)
    n_comp, comp = csgraph.connected_components(adj, directed=False)
    keep = np.ones(net.n_nodes, bool)
    seen: set[int] = set()
    for node in range(net.n_nodes):
        if comp[node] not in seen:
            seen.add(comp[node])
            keep[node] = False
    lr = lap[keep][:, keep].toarray()
    br = b[keep].toarray() * (g > 0)[None, :]
    out = np.zeros((net.n_edges, net.n_edges))
    if lr.shape[0]:
        factor = sla.cho_factor(lr, lower=True, check_finite=False)
        out = br.T @ sla.cho_solve(factor, br, check_finite=False)
    return 0.5 * (out + out.T)


def effective_resistances(net: Network, state: np.ndarray | None = None, *,
                          unit: bool = False) -> np.ndarray:
    """Effective resistance between the two ends of every edge (E,), the diagonal of
    :func:`transfer_matrix`. Open edges get ``inf`` when their ends are disconnected.

    Raises
    ------
    ParameterError
        As :func:`transfer_matrix`.

    Examples
    --------
    A 4-cycle of unit resistors: 1 ohm in parallel with 3 ohm.

    >>> import networkx as nx, memsim
    >>> net = memsim.from_networkx(nx.cycle_graph(4), inputs=[0], outputs=[2],
    ...                            device=memsim.devices.Resistor(1.0))
    >>> effective_resistances(net).round(12).tolist()
    [0.75, 0.75, 0.75, 0.75]
    """
    t = transfer_matrix(net, state, unit=unit)
    diag = np.diag(t).copy()
    open_ = net.model == Model.OPEN
    if open_.any():
        # An open edge's ends: resistance through the rest of the network.
        g = _conductances(net, state, unit)
        b = net.incidence()
        lap = (b @ sp.diags(g) @ b.T).toarray()
        pinv = np.linalg.pinv(lap)
        n_comp, comp = csgraph.connected_components(sp.csr_matrix(lap != 0), directed=False)
        for k in np.flatnonzero(open_):
            a, c = net.edges[k]
            if comp[a] != comp[c]:
                diag[k] = np.inf
            else:
                diag[k] = pinv[a, a] + pinv[c, c] - 2 * pinv[a, c]
    return diag


def edge_distances(net: Network) -> np.ndarray:
    """Hop distance between edges (E x E): 0 for the same edge, 1 for edges sharing a node,
    ``k + 1`` when the nearest ends are ``k`` hops apart; ``inf`` across components.
    Open edges are ignored as paths but get distances too.

    Examples
    --------
    >>> import networkx as nx, memsim
    >>> net = memsim.from_networkx(nx.path_graph(4), inputs=[0], outputs=[3],
    ...                            device=memsim.devices.Resistor(1.0))
    >>> edge_distances(net).tolist()[0]
    [0.0, 1.0, 2.0]
    """
    live = net.model != Model.OPEN
    e = net.edges[live]
    n = net.n_nodes
    adj = sp.csr_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    hops = csgraph.shortest_path(adj, directed=False, unweighted=True)
    p, m = net.edges[:, 0], net.edges[:, 1]
    near = np.minimum(np.minimum(hops[np.ix_(p, p)], hops[np.ix_(p, m)]),
                      np.minimum(hops[np.ix_(m, p)], hops[np.ix_(m, m)]))
    dist = near + 1.0
    np.fill_diagonal(dist, 0.0)
    return dist


@dataclass(frozen=True)
class DistanceProfile:
    """Device-device correlation against edge distance (see :func:`correlation_vs_distance`).

    Attributes
    ----------
    distance : (K,) int, the distances present
    mean, std : (K,) mean and standard deviation of the correlation at each distance
    count : (K,) number of device pairs at each distance
    correlation : (M, M) the full normalized matrix over the memristors
    """

    distance: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    count: np.ndarray
    correlation: np.ndarray

    def plot(self, ax=None):  # noqa: ANN001, ANN201 - matplotlib types are optional
        """Mean correlation against distance with one-standard-deviation bars."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 3.2))
        ax.errorbar(self.distance, self.mean, yerr=self.std, marker="o", capsize=3)
        ax.set(xlabel="edge distance (hops)", ylabel="|T_ef| / sqrt(T_ee T_ff)",
               yscale="log", title="device-device correlation")
        return ax


def correlation_vs_distance(net: Network, state: np.ndarray | None = None, *,
                            unit: bool = False) -> DistanceProfile:
    """Normalized transfer correlation ``|T_ef| / sqrt(T_ee T_ff)`` between memristors,
    averaged over pairs at each edge distance (:func:`edge_distances`).

    The normalized value is the cosine between the columns ``b_e`` and ``b_f`` in the metric
    ``L^+``: 1 for devices in series or parallel, small for far-apart devices of a well
    connected network.

    Raises
    ------
    ParameterError
        As :func:`transfer_matrix`, or if the network has fewer than two memristors.

    Examples
    --------
    >>> import memsim
    >>> net = memsim.layered([2, 4, 2], device=memsim.devices.preset("caravelli2017"))
    >>> prof = correlation_vs_distance(net)
    >>> prof.distance.tolist(), bool(prof.mean[0] > prof.mean[-1])
    ([1, 2], True)
    """
    mem = np.flatnonzero(net.memristive)
    if mem.size < 2:
        raise ParameterError("net", "needs at least two memristors to correlate")
    t = transfer_matrix(net, state, unit=unit)[np.ix_(mem, mem)]
    d = np.sqrt(np.clip(np.diag(t), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.abs(t) / np.outer(d, d)
    corr[~np.isfinite(corr)] = 0.0
    dist = edge_distances(net)[np.ix_(mem, mem)]
    iu = np.triu_indices(mem.size, k=1)
    dv, cv = dist[iu], corr[iu]
    ok = np.isfinite(dv)
    dv, cv = dv[ok].astype(int), cv[ok]
    levels = np.unique(dv)
    mean = np.array([cv[dv == k].mean() for k in levels])
    std = np.array([cv[dv == k].std() for k in levels])
    count = np.array([np.sum(dv == k) for k in levels])
    return DistanceProfile(levels, mean, std, count, corr)
