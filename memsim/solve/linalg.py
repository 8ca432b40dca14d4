"""Nodal assembly and Cholesky solves in numba, allocation-free, for the loops that re-solve
the nodal system at every stage (the transient, the learning pulses).

The free-node matrix ``L_FF`` splits into independent *blocks*: the connected components of
the free nodes (:func:`memsim.solve.topology.label_components`); a current source in one
block does not see the others, because every path between them runs through a fixed node.
Within a block the nodes of an independent set (no edge between any two of them) are
eliminated first: their part of ``L_FF`` is diagonal, so each costs one rank-1 update of the
Schur complement on the remaining nodes, which dense Cholesky then factors. In a layered
network a layer's nodes touch only the neighbouring layers: during a write pulse with all
terminals fixed every hidden node is a block of its own (a weighted mean of its neighbours'
voltages), and with floating terminals the terminals are eliminated onto the hidden layer.

:class:`BlockPlan` holds the structure (built once per terminal configuration by
:func:`plan_blocks`), :class:`NodalWork` the work arrays, :func:`solve_block` one block's
assembly, elimination, factorization and solve.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from memsim.solve.topology import label_components

__all__ = [
    "DENSE_BLOCK",
    "BlockPlan",
    "NodalWork",
    "assemble_dense",
    "block_plan",
    "block_voltages",
    "cholesky_factor",
    "cholesky_solve",
    "cholesky_substitute",
    "node_voltages_blocks",
    "node_voltages_dense",
    "nodal_work",
    "plan_blocks",
    "small_block_voltages",
    "solve_block",
    "terminal_currents",
]


# ----------------------------------------------------------------------------- dense Cholesky
@njit(cache=True, fastmath={"reassoc", "contract"})
def cholesky_factor(a, n):
    """Factor the leading ``n x n`` block of SPD ``a`` in place: ``a = L L^T`` with L in the
    lower triangle (the upper triangle is not read).

    Raises
    ------
    ValueError
        If a pivot is not positive (the matrix is not positive definite).
    """
    for j in range(n):
        d = a[j, j]
        for k in range(j):
            d -= a[j, k] * a[j, k]
        if not d > 0.0:
            raise ValueError("nodal matrix is not positive definite")
        d = np.sqrt(d)
        a[j, j] = d
        inv = 1.0 / d
        for i in range(j + 1, n):
            s = a[i, j]
            for k in range(j):
                s -= a[i, k] * a[j, k]
            a[i, j] = s * inv


@njit(cache=True, fastmath={"reassoc", "contract"})
def cholesky_substitute(low, y, n):
    """Solve ``L L^T z = y`` in place for the factor of :func:`cholesky_factor`; ``y`` is
    (n,) or (n, k)."""
    for i in range(n):
        s = y[i]
        for k in range(i):
            s = s - low[i, k] * y[k]
        y[i] = s / low[i, i]
    for i in range(n - 1, -1, -1):
        s = y[i]
        for k in range(i + 1, n):
            s = s - low[k, i] * y[k]
        y[i] = s / low[i, i]


@njit(cache=True)
def cholesky_solve(a, b):
    """Solve ``a x = b`` for SPD ``a`` (n x n) and ``b`` (n,) or (n, k) by Cholesky."""
    n = a.shape[0]
    low = a.copy()
    y = b.copy()
    cholesky_factor(low, n)
    cholesky_substitute(low, y, n)
    return y


@njit(cache=True)
def assemble_dense(edges, g, free_index, fixed_value):
    """Assemble ``L_FF`` (nf x nf) and ``rhs = -L_FD v_D`` for one set of fixed voltages.

    ``free_index[n]`` is node n's position among the free nodes or -1 if fixed;
    ``fixed_value[n]`` is the voltage of a fixed node (ignored for free ones).
    """
    nf = 0
    for n in range(free_index.shape[0]):
        if free_index[n] >= 0:
            nf += 1
    a = np.zeros((nf, nf))
    rhs = np.zeros(nf)
    for e in range(edges.shape[0]):
        ge = g[e]
        if ge == 0.0:
            continue
        p, m = edges[e, 0], edges[e, 1]
        fp, fm = free_index[p], free_index[m]
        if fp >= 0:
            a[fp, fp] += ge
            if fm >= 0:
                a[fp, fm] -= ge
            else:
                rhs[fp] += ge * fixed_value[m]
        if fm >= 0:
            a[fm, fm] += ge
            if fp >= 0:
                a[fm, fp] -= ge
            else:
                rhs[fm] += ge * fixed_value[p]
    return a, rhs


@njit(cache=True)
def node_voltages_dense(edges, g, free_index, fixed_value):
    """All node voltages for conductances ``g``: fixed nodes keep ``fixed_value``."""
    a, rhs = assemble_dense(edges, g, free_index, fixed_value)
    vf = cholesky_solve(a, rhs)
    v = fixed_value.copy()
    for n in range(free_index.shape[0]):
        if free_index[n] >= 0:
            v[n] = vf[free_index[n]]
    return v


# ----------------------------------------------------------------------------- block structure
DENSE_BLOCK = 16
"""Blocks of at most this many free nodes are factored whole (dense Cholesky): for them the
bookkeeping of the elimination costs more than it saves."""


class BlockPlan(NamedTuple):
    """The block structure of the free-node system for one terminal configuration.

    Blocks ``0 .. n_blocks - 2`` are the components of the free nodes; block ``n_blocks - 1``
    holds the live edges with no free end (their voltage is fixed). Arrays are sized for the
    worst case so that one plan is refilled in place for every pulse.
    """

    counts: np.ndarray  # (2,) n_blocks, and how many times the plan was filled
    node_ptr: np.ndarray  # (N + 2,) block b's nodes: nodes[node_ptr[b]:node_ptr[b + 1]]
    nodes: np.ndarray  # (N,) the independent set of a block first, then the kept nodes
    n_elim: np.ndarray  # (N + 1,) size of each block's eliminated independent set
    local: np.ndarray  # (N,) node -> position within its block, -1 for non-free nodes
    edge_ptr: np.ndarray  # (N + 2,) block b's edges: edges[edge_ptr[b]:edge_ptr[b + 1]]
    edges: np.ndarray  # (E,) live edges, by block; those touching no eliminated node first
    kept_edges: np.ndarray  # (N + 1,) how many of block b's edges touch no eliminated node
    labels: np.ndarray  # (N,) work: component of each free node
    order: np.ndarray  # (N,) work
    stack: np.ndarray  # (N + 1,) work


class NodalWork(NamedTuple):
    """Work arrays of :func:`solve_block` for blocks of up to ``s.shape[0]`` kept nodes.

    The eliminated nodes' share of the Schur complement (``cs``, ``rc``) is kept between
    solves of one block, with the conductances it was built from (``gc``): when none of
    them changed (their devices did not move) it is reused as it is. A pulse
    (:func:`memsim.solve.pulse.pulse_arrays`) clears ``key`` first, so the share never
    outlives the pulse: in between, other blocks' solves rewrite ``dfix`` of the eliminated
    nodes, which the reuse leaves as it was.
    """

    s: np.ndarray  # (m, m) Schur complement on the kept nodes, then its Cholesky factor
    c: np.ndarray  # (k, m) coupling of each eliminated node to the kept nodes
    cs: np.ndarray  # (m, m) the eliminated nodes' share of s (lower triangle)
    rc: np.ndarray  # (m,) their share of the kept nodes' right-hand side
    y: np.ndarray  # (m,) kept nodes' right-hand side, then their voltages
    d: np.ndarray  # (N,) diagonal of each node of the block
    rhs: np.ndarray  # (N,) right-hand side of each node (current from fixed nodes)
    dfix: np.ndarray  # (N,) by node: conductance from each free node straight to fixed nodes
    gc: np.ndarray  # (E,) conductances the cached share was built from
    key: np.ndarray  # (2,) plan fill count and block of the cached share (-1: none)


@njit(cache=True)
def block_plan(n_nodes, n_edges, first_fill=0):
    """An empty :class:`BlockPlan` for a network of this size, whose fill count starts at
    ``first_fill`` (plans that share one :class:`NodalWork` start far apart, so that its
    cache never mistakes one plan's blocks for another's)."""
    return BlockPlan(np.array([0, first_fill], np.int64), np.zeros(n_nodes + 2, np.int64),
                     np.zeros(n_nodes, np.int64), np.zeros(n_nodes + 1, np.int64),
                     np.full(n_nodes, -1, np.int64), np.zeros(n_nodes + 2, np.int64),
                     np.zeros(n_edges, np.int64), np.zeros(n_nodes + 1, np.int64),
                     np.zeros(n_nodes, np.int64), np.zeros(n_nodes, np.int64),
                     np.zeros(n_nodes + 1, np.int64))


@njit(cache=True)
def nodal_work(n_nodes, n_edges, n_keep, n_elim):
    """Work arrays for blocks of up to ``n_keep`` kept and ``n_elim`` eliminated nodes."""
    m = n_keep
    return NodalWork(np.zeros((m, m)), np.zeros((max(n_elim, 1), m)), np.zeros((m, m)),
                     np.zeros(m), np.zeros(m), np.zeros(n_nodes), np.zeros(n_nodes),
                     np.zeros(n_nodes), np.zeros(n_edges), np.full(2, -1, np.int64))


@njit(cache=True)
def plan_blocks(free_index, live, ptr, nbr, nbr_edge, edges, plan, still_first=True):
    """Fill ``plan`` for the free nodes of ``free_index`` and the ``live`` edges.

    Within each block the independent set is chosen greedily in order of increasing degree
    (a node of degree k costs k^2/2 to eliminate). With ``still_first`` (for plans that are
    solved many times over one pulse) the nodes with no fixed neighbour go first: their
    devices see only differences of free-node voltages and tend to stay still, so their share
    of the Schur complement is reused from solve to solve. A plan solved once per
    configuration (a read) takes the cheapest set instead: in a layered network with
    floating inputs that is the hidden layer (a read of a 16-32-16 net then factors 15
    kept nodes instead of 32). Returns the largest numbers of kept and of eliminated nodes of a
    block (the sizes :func:`nodal_work` needs).
    """
    n = free_index.shape[0]
    labels, order, stack = plan.labels, plan.order, plan.stack
    nodes, local, n_elim = plan.nodes, plan.local, plan.n_elim
    count = label_components(free_index >= 0, live, ptr, nbr, nbr_edge, labels, stack)
    nb = count + 1
    plan.counts[0] = nb
    plan.counts[1] += 1
    # degree of each free node towards other free nodes (local is work space here), and
    # whether it has a fixed neighbour (kept in the sign: -1 - degree)
    deg = local
    top = 0
    for a in range(n):
        deg[a] = 0
        if labels[a] < 0:
            continue
        anchored = False
        for k in range(ptr[a], ptr[a + 1]):
            if live[nbr_edge[k]]:
                if labels[nbr[k]] >= 0:
                    deg[a] += 1
                else:
                    anchored = True
        deg[a] = min(deg[a], n - 1)
        top = max(top, deg[a])
        if anchored and still_first:
            deg[a] = -1 - deg[a]
    # free nodes by degree (stable counting sort) into order
    hist = stack
    for q in range(top + 2):
        hist[q] = 0
    m = 0
    for a in range(n):
        if labels[a] >= 0:
            m += 1
            hist[(deg[a] if deg[a] >= 0 else -1 - deg[a]) + 1] += 1
    for q in range(1, top + 2):
        hist[q] += hist[q - 1]
    for a in range(n):
        if labels[a] >= 0:
            q = deg[a] if deg[a] >= 0 else -1 - deg[a]
            order[hist[q]] = a
            hist[q] += 1
    # by block, nodes without a fixed neighbour first (a stable scatter in two passes)
    ptr_n = plan.node_ptr
    ptr_n[: nb + 1] = 0
    for j in range(m):
        ptr_n[labels[order[j]] + 1] += 1
    for b in range(nb):
        ptr_n[b + 1] += ptr_n[b]
    fill = plan.edge_ptr  # work space here: the fill cursor of each block
    for b in range(nb):
        fill[b] = ptr_n[b]
    for anchored_pass in range(2):
        for j in range(m):
            a = order[j]
            if (deg[a] < 0) == (anchored_pass == 1):
                nodes[fill[labels[a]]] = a
                fill[labels[a]] += 1
    # greedy independent set per block, in that order; picked nodes move to the front
    picked = local  # -2: picked, -3: not picked
    for a in range(n):
        picked[a] = -1
    for j in range(m):
        a = nodes[j]
        ok = True
        for k in range(ptr[a], ptr[a + 1]):
            if live[nbr_edge[k]] and picked[nbr[k]] == -2:
                ok = False
                break
        picked[a] = -2 if ok else -3
    max_keep = 0
    max_elim = 0
    for b in range(count):
        lo, hi = ptr_n[b], ptr_n[b + 1]
        w = 0
        for j in range(lo, hi):
            if picked[nodes[j]] == -2:
                order[w] = nodes[j]
                w += 1
        n_elim[b] = w
        max_keep = max(max_keep, hi - lo if hi - lo <= DENSE_BLOCK else hi - lo - w)
        max_elim = max(max_elim, w)
        for j in range(lo, hi):
            if picked[nodes[j]] == -3:
                order[w] = nodes[j]
                w += 1
        for j in range(hi - lo):
            nodes[lo + j] = order[j]
    n_elim[count] = 0
    for a in range(n):
        local[a] = -1
    for b in range(count):
        for j in range(ptr_n[b], ptr_n[b + 1]):
            local[nodes[j]] = j - ptr_n[b]
    # live edges by block: the block of a free end, or the last block
    ptr_e = plan.edge_ptr
    ptr_e[: nb + 1] = 0
    for e in range(edges.shape[0]):
        if live[e]:
            p, q = edges[e, 0], edges[e, 1]
            b = labels[p] if labels[p] >= 0 else (labels[q] if labels[q] >= 0 else count)
            ptr_e[b + 1] += 1
    for b in range(nb):
        ptr_e[b + 1] += ptr_e[b]
    for b in range(nb):
        stack[b] = ptr_e[b]
    for touching in range(2):  # edges with no eliminated end first, then the others
        for e in range(edges.shape[0]):
            if live[e]:
                p, q = edges[e, 0], edges[e, 1]
                b = labels[p] if labels[p] >= 0 else (labels[q] if labels[q] >= 0 else count)
                lp, lq = local[p], local[q]
                elim = (0 <= lp < n_elim[b]) or (0 <= lq < n_elim[b])
                if elim == (touching == 1):
                    plan.edges[stack[b]] = e
                    stack[b] += 1
        if touching == 0:
            for b in range(nb):
                plan.kept_edges[b] = stack[b] - ptr_e[b]
    return max_keep, max_elim


@njit(cache=True, fastmath={"reassoc", "contract"})
def _eliminate(ne, nk, c, d, rhs, cs, rc):
    """The eliminated nodes' share of the Schur complement: ``cs -= sum_i c_i c_i^T / d_i``
    (lower triangle, added to the diagonal already there) and ``rc = -sum_i c_i rhs_i / d_i``
    (``c`` holds the negative conductances, so both add)."""
    for a in range(nk):
        rc[a] = 0.0
    for i in range(ne):
        inv = 1.0 / d[i]
        for a in range(nk):
            ca = c[i, a]
            if ca == 0.0:
                continue
            ca *= inv
            rc[a] -= ca * rhs[i]
            for bb in range(a + 1):
                cs[a, bb] -= ca * c[i, bb]


@njit(cache=True, inline="always")
def small_block_voltages(j0, j1, n0, nn, order, nodes, local, edges, g, value, v, s, y, dfix):
    """Node voltages of a block of at most ``DENSE_BLOCK`` free nodes (``nodes[n0:n0 + nn]``,
    edges ``order[j0:j1]``), assembled whole into ``s`` and ``y`` and factored by dense
    Cholesky; ``dfix`` (by node) receives their conductances straight to fixed nodes."""
    for i in range(nn):
        y[i] = 0.0
        dfix[nodes[n0 + i]] = 0.0
        for j in range(i + 1):
            s[i, j] = 0.0
    for k in range(j0, j1):
        e = order[k]
        ge = g[e]
        if ge == 0.0:
            continue
        p, q = edges[e, 0], edges[e, 1]
        lp, lq = local[p], local[q]
        if lp >= 0 and lq >= 0:
            s[lp, lp] += ge
            s[lq, lq] += ge
            if lp > lq:
                s[lp, lq] -= ge
            elif lq > lp:
                s[lq, lp] -= ge
        elif lp >= 0:
            s[lp, lp] += ge
            dfix[p] += ge
            y[lp] += ge * value[q]
        else:
            s[lq, lq] += ge
            dfix[q] += ge
            y[lq] += ge * value[p]
    cholesky_factor(s, nn)
    cholesky_substitute(s, y, nn)
    for i in range(nn):
        v[nodes[n0 + i]] = y[i]


@njit(cache=True)
def solve_block(b, plan, edges, g, value, v, work):
    """Node voltages of block ``b`` of ``plan`` for conductances ``g`` into ``v`` (the fixed
    nodes at ``value``), and ``work.dfix`` for its nodes. Allocation-free; the eliminated
    nodes' share of the Schur complement is reused when their conductances did not change.

    Raises
    ------
    ValueError
        If the block's matrix is not positive definite (cannot happen for a free block with
        positive conductances).
    """
    block_voltages(b, plan.node_ptr, plan.n_elim, plan.edge_ptr, plan.kept_edges,
                   plan.counts[1], plan.local, plan.edges, plan.nodes, edges, g, value, v,
                   work.s, work.c, work.cs, work.rc, work.y, work.d, work.rhs, work.dfix,
                   work.gc, work.key, False)


@njit(cache=True)
def block_voltages(b, node_ptr, n_elim, edge_ptr, kept_edges, epoch, local, order, nodes, edges,
                   g, value, v, s, c, cs, rc, y, d, rhs, dfix, gc, key, ordered):
    """:func:`solve_block` with the arrays of the plan and the work passed one by one, for
    loops that solve many times: taking an array out of a NamedTuple costs a reference-count
    update, as much as a small block's arithmetic. ``ordered``: the edges are numbered in
    plan order (``order[k] == k``, as in :func:`memsim.solve.pulse.integrate_pulse`), so the
    test of the cached elimination compares contiguous conductances (vector instructions)."""
    n0, n1 = node_ptr[b], node_ptr[b + 1]
    nn = n1 - n0
    ne = n_elim[b]
    nk = nn - ne
    j0, j1 = edge_ptr[b], edge_ptr[b + 1]
    if nn <= DENSE_BLOCK:
        small_block_voltages(j0, j1, n0, nn, order, nodes, local, edges, g, value, v, s, y,
                             dfix)
        return
    jk = j0 + kept_edges[b]  # order[j0:jk]: edges of kept nodes only; order[jk:j1]: the rest
    cached = key[0] == epoch and key[1] == b
    if cached and ordered:  # no early exit: a vectorized pass over all of them is faster
        for k in range(np.uint64(jk), np.uint64(j1)):
            cached &= g[k] == gc[k]
    elif cached:
        for k in range(jk, j1):
            e = order[k]
            if g[e] != gc[e]:
                cached = False
                break
    first = ne if cached else 0
    for j in range(first, nn):
        d[j] = 0.0
        rhs[j] = 0.0
        dfix[nodes[n0 + j]] = 0.0
    for i in range(nk):
        for j in range(i + 1):
            s[i, j] = 0.0
    if not cached:
        for i in range(nk):
            for j in range(i + 1):
                cs[i, j] = 0.0
        for i in range(ne):
            for j in range(nk):
                c[i, j] = 0.0
    for k in range(j0, jk if cached else j1):
        e = order[k]
        ge = g[e]
        if ge == 0.0:
            continue
        p, q = edges[e, 0], edges[e, 1]
        lp, lq = local[p], local[q]
        if 0 <= lq < ne:  # an eliminated end first, in lp
            lp, lq, p, q = lq, lp, q, p
        if 0 <= lp < ne:
            gc[e] = ge
            d[lp] += ge
            if lq >= 0:
                cs[lq - ne, lq - ne] += ge
                c[lp, lq - ne] -= ge
            else:
                dfix[p] += ge
                rhs[lp] += ge * value[q]
        elif lp >= 0 and lq >= 0:
            d[lp] += ge
            d[lq] += ge
            hi, lo = (lp, lq) if lp > lq else (lq, lp)
            s[hi - ne, lo - ne] -= ge
        elif lp >= 0:
            d[lp] += ge
            dfix[p] += ge
            rhs[lp] += ge * value[q]
        else:
            d[lq] += ge
            dfix[q] += ge
            rhs[lq] += ge * value[p]
    if not cached:
        _eliminate(ne, nk, c, d, rhs, cs, rc)
        key[0] = epoch
        key[1] = b
    for i in range(nk):
        s[i, i] += d[ne + i]
        for j in range(i + 1):
            s[i, j] += cs[i, j]
        y[i] = rhs[ne + i] + rc[i]
    cholesky_factor(s, nk)
    cholesky_substitute(s, y, nk)
    for a in range(nk):
        v[nodes[n0 + ne + a]] = y[a]
    for i in range(ne):
        acc = rhs[i]
        for a in range(nk):
            acc -= c[i, a] * y[a]
        v[nodes[n0 + i]] = acc / d[i]


@njit(cache=True)
def node_voltages_blocks(plan, edges, g, value, v, work):
    """All node voltages into ``v``: non-free nodes at ``value``, every block solved."""
    local = plan.local
    for a in range(v.shape[0]):
        if local[a] < 0:
            v[a] = value[a]
    for b in range(plan.counts[0] - 1):
        solve_block(b, plan, edges, g, value, v, work)


@njit(cache=True)
def terminal_currents(v, g, edges, out_nodes, out_grounded, in_nodes, in_driven, leave, iout,
                      iin):
    """Output currents into the ammeters of grounded outputs (``iout``), currents delivered
    by driven inputs (``iin``), both 0 where the terminal floats; returns the dissipated
    power. ``leave`` (N,) is work space."""
    for a in range(leave.shape[0]):
        leave[a] = 0.0
    power = 0.0
    for e in range(edges.shape[0]):
        ge = g[e]
        if ge == 0.0:
            continue
        dv = v[edges[e, 0]] - v[edges[e, 1]]
        i = ge * dv
        leave[edges[e, 0]] += i
        leave[edges[e, 1]] -= i
        power += i * dv
    for k in range(out_nodes.shape[0]):
        iout[k] = -leave[out_nodes[k]] if out_grounded[k] else 0.0
    for k in range(in_nodes.shape[0]):
        iin[k] = leave[in_nodes[k]] if in_driven[k] else 0.0
    return power
