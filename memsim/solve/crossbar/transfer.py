"""A crossbar's exact terminal map, by nested dissection of its cell grid.

A linear crossbar with resistive lines is, seen from its terminals, one matrix: the currents
into its ``R`` inputs and ``C`` outputs are ``Y @ V`` for terminal voltages ``V``, where ``Y``
(R + C square) is the Schur complement of the nodal matrix onto the terminals (the
Dirichlet-to-Neumann map). With every output grounded, a read of input voltages ``v`` is two
matrix products::

    i_out = -Y[R:, :R] @ v        i_in = Y[:R, :R] @ v

:func:`terminal_map` computes ``Y`` exactly (a direct elimination, no iteration), so a batch
of reads costs one elimination plus a product, and every later read of the same conductances
a product only.

The elimination is multifrontal over a nested dissection of the cell grid. A rectangle of
cells is split by one column of word nodes (they carry every word line across the cut) or
one row of bit nodes; the cut column's bit nodes (or the cut row's word nodes) form a chain
that touches only the separator and the rectangle's boundary, so it is a third child. Each
front eliminates its separator from a dense matrix over separator and boundary and hands the
Schur complement of its boundary to its parent; the root's boundary is the terminals, and its
Schur complement is ``Y``. On an ``n x n`` array the work grows as ``n^3`` (about 1e8 flops
at 128 x 128) against ``n^2`` per sweep and right-hand side for the iterative kernels: the map
pays when a batch is large or the same conductances are read many times.

The nodal matrix is symmetric positive definite (every line node reaches a terminal through
conducting segments), so the elimination needs no pivoting; it is an M-matrix, so the
off-diagonal entries of every Schur complement, the output block of ``Y`` included, are sums
of terms of one sign, free of cancellation.
"""

from __future__ import annotations

import ctypes
import functools
import threading
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numba import njit
from numba.extending import get_cython_function_address
from threadpoolctl import ThreadpoolController

from memsim.errors import ParameterError, SolverError

__all__ = ["LEAF_CELLS", "TerminalPlan", "terminal_map", "terminal_plan"]

LEAF_CELLS = 4
"""Rectangles of at most this many cells are eliminated whole (all their nodes in one front)."""

DENSE_BELOW = 16
"""Fronts whose separator or boundary is smaller than this are eliminated by plain loops; larger
ones by LAPACK's Cholesky and BLAS (``dpotrf``, ``dtrsm``, ``dsyrk`` from scipy's Cython
bindings), whose call overhead they repay."""


class TerminalPlan(NamedTuple):
    """The symbolic elimination of one crossbar shape (the conductances enter only
    :func:`terminal_map`). Fronts are listed in postorder; the root is the last.

    Node numbers: word node (i, j) ``i * C + j``, bit node ``R C + i * C + j``, input i
    ``2 R C + i``, output j ``2 R C + R + j``. Edge numbers index the conductance vector
    ``concat(gd, sw, sb)`` of :func:`terminal_map` (devices, word segments, bit segments,
    each ``i * C + j``).
    """

    rows: int
    cols: int
    n_sep: np.ndarray
    """(F,) separator size of each front (its first ``n_sep`` local nodes)."""
    n_loc: np.ndarray
    """(F,) separator plus boundary size of each front."""
    chain: np.ndarray
    """(F,) True for a chain front (a path of nodes, each boundary node joined to one)."""
    ent_start: np.ndarray
    """(F + 1,) each front's slice of ``ent``."""
    ent: np.ndarray
    """(n_ent, 3) original matrix entries ``(a, b, edge)`` in local numbering: ``a == b`` adds
    the edge's conductance to the diagonal, otherwise subtracts it at (a, b) and (b, a)."""
    kid_start: np.ndarray
    """(F + 1,) each front's slice of ``kids``."""
    kids: np.ndarray
    """Each front's children in the order their updates were pushed (the top of the stack)."""
    map_start: np.ndarray
    """(F + 1,) each front's slice of ``maps``."""
    maps: np.ndarray
    """Each front's boundary nodes, as local indices of its parent's front."""
    work: int
    """Largest front, squared (the dense work array)."""
    stack: int
    """Largest total size of the updates waiting on the stack."""


@functools.lru_cache(maxsize=16)
def terminal_plan(rows: int, cols: int) -> TerminalPlan:
    """The nested-dissection plan of an ``rows x cols`` crossbar (cached per shape).

    Examples
    --------
    >>> plan = terminal_plan(2, 2)
    >>> int(plan.n_loc[-1] - plan.n_sep[-1])  # the root's boundary: 2 inputs, 2 outputs
    4
    """
    R, C = int(rows), int(cols)
    rc = R * C

    def word(i: int, j: int) -> int:
        return i * C + j

    def bit(i: int, j: int) -> int:
        return rc + i * C + j

    def left_of(i: int, j: int) -> int:  # the node left of word node (i, j)
        return word(i, j - 1) if j > 0 else 2 * rc + i

    def below(i: int, j: int) -> int:  # the node below bit node (i, j)
        return bit(i + 1, j) if i + 1 < R else 2 * rc + R + j

    fronts: list[tuple[list[int], list[int], list[int]]] = []  # (sep, boundary, children)
    chains: list[bool] = []

    def add(sep: list[int], bnd: list[int], children: list[int], chain: bool = False) -> int:
        fronts.append((sep, bnd, children))
        chains.append(chain)
        return len(fronts) - 1

    def bit_chain(i0: int, i1: int, j: int) -> int:
        bnd = [word(i, j) for i in range(i0, i1)] + [below(i1 - 1, j)]
        if i0 > 0:
            bnd.append(bit(i0 - 1, j))
        return add([bit(i, j) for i in range(i0, i1)], bnd, [], chain=True)

    def word_chain(i: int, j0: int, j1: int) -> int:
        bnd = [bit(i, j) for j in range(j0, j1)] + [left_of(i, j0)]
        if j1 < C:
            bnd.append(word(i, j1))
        return add([word(i, j) for j in range(j0, j1)], bnd, [], chain=True)

    def domain(i0: int, i1: int, j0: int, j1: int) -> int:
        bnd = [left_of(i, j0) for i in range(i0, i1)]
        if j1 < C:
            bnd += [word(i, j1) for i in range(i0, i1)]
        if i0 > 0:
            bnd += [bit(i0 - 1, j) for j in range(j0, j1)]
        bnd += [below(i1 - 1, j) for j in range(j0, j1)]
        h, w = i1 - i0, j1 - j0
        children: list[int] = []
        if h * w <= LEAF_CELLS:
            sep = ([word(i, j) for i in range(i0, i1) for j in range(j0, j1)]
                   + [bit(i, j) for i in range(i0, i1) for j in range(j0, j1)])
        elif w >= h:
            jm = (j0 + j1) // 2
            if jm > j0:
                children.append(domain(i0, i1, j0, jm))
            if jm + 1 < j1:
                children.append(domain(i0, i1, jm + 1, j1))
            children.append(bit_chain(i0, i1, jm))
            sep = [word(i, jm) for i in range(i0, i1)]
        else:
            im = (i0 + i1) // 2
            if im > i0:
                children.append(domain(i0, im, j0, j1))
            if im + 1 < i1:
                children.append(domain(im + 1, i1, j0, j1))
            children.append(word_chain(im, j0, j1))
            sep = [bit(im, j) for j in range(j0, j1)]
        return add(sep, bnd, children)

    domain(0, R, 0, C)
    n_front = len(fronts)
    n_nodes = 2 * rc + R + C
    owner = np.full(n_nodes, n_front, np.int64)  # terminals: past the root
    for f, (sep, _, _) in enumerate(fronts):
        owner[sep] = f
    # Edges as (node, node) in the numbering of the conductance vector.
    ii, jj = np.divmod(np.arange(rc), C)
    a_dev, b_dev = ii * C + jj, rc + ii * C + jj
    a_sw = a_dev
    b_sw = np.where(jj > 0, a_dev - 1, 2 * rc + ii)
    a_sb = b_dev
    b_sb = np.where(ii + 1 < R, b_dev + C, 2 * rc + R + jj)
    ea = np.concatenate([a_dev, a_sw, a_sb])
    eb = np.concatenate([b_dev, b_sw, b_sb])
    first = np.minimum(owner[ea], owner[eb])
    # Local numbering: node v of front f is at lookup(f, v) in f's list ``sep + bnd``.
    lists = [sep + bnd for sep, bnd, _ in fronts]
    sizes_loc = np.array([len(x) for x in lists], np.int64)
    loc_front = np.repeat(np.arange(n_front), sizes_loc)
    loc_node = np.fromiter((v for x in lists for v in x), np.int64, int(sizes_loc.sum()))
    loc_pos = np.arange(loc_node.size) - np.repeat(np.cumsum(sizes_loc) - sizes_loc, sizes_loc)
    keys = loc_front * n_nodes + loc_node
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]

    def lookup(front: np.ndarray, node: np.ndarray) -> np.ndarray:
        want = front * n_nodes + node
        at = np.searchsorted(sorted_keys, want)
        assert np.array_equal(sorted_keys[at], want), "a node missing from its front"
        return loc_pos[order[at]]

    # Per edge, in this order: the off-diagonal at the front that eliminates an end first,
    # each end's diagonal at its own front (terminals' at the root).
    e_all = np.arange(3 * rc)
    home_a = np.minimum(owner[ea], n_front - 1)
    home_b = np.minimum(owner[eb], n_front - 1)
    rec_front = np.stack([first, home_a, home_b], axis=1).ravel()
    rec_p = np.stack([lookup(first, ea), lookup(home_a, ea), lookup(home_b, eb)], axis=1)
    rec_q = np.stack([lookup(first, eb), rec_p[:, 1], rec_p[:, 2]], axis=1)
    by_front = np.argsort(rec_front, kind="stable")
    ent = np.stack([rec_p.ravel(), rec_q.ravel(), np.repeat(e_all, 3)], axis=1)[by_front]
    ent_start = np.concatenate([[0], np.cumsum(np.bincount(rec_front, minlength=n_front))])
    parent = np.full(n_front, -1, np.int64)
    for f, (_, _, children) in enumerate(fronts):
        parent[children] = f
    is_bnd = loc_pos >= np.repeat([len(sep) for sep, _, _ in fronts], sizes_loc)
    is_bnd &= parent[loc_front] >= 0
    maps = lookup(parent[loc_front[is_bnd]], loc_node[is_bnd])
    map_start = np.concatenate([[0], np.cumsum(np.bincount(loc_front[is_bnd],
                                                           minlength=n_front))])
    n_sep = np.array([len(s) for s, _, _ in fronts], np.int64)
    n_loc = np.array([len(s) + len(b) for s, b, _ in fronts], np.int64)
    sizes = (n_loc - n_sep) ** 2
    stack: list[int] = []
    peak = 0
    for f, (_, _, children) in enumerate(fronts):
        del stack[len(stack) - len(children):]
        stack.append(int(sizes[f]))
        peak = max(peak, sum(stack))
    return TerminalPlan(R, C, n_sep, n_loc, np.array(chains), ent_start.astype(np.int64),
                        np.ascontiguousarray(ent, np.int64),
                        np.cumsum([0] + [len(c) for _, _, c in fronts]).astype(np.int64),
                        np.array([k for _, _, c in fronts for k in c], np.int64),
                        map_start.astype(np.int64), maps.astype(np.int64),
                        int(n_loc.max()) ** 2, peak)


def _lapack(module: str, name: str, n_args: int) -> Callable[..., None]:
    """A BLAS or LAPACK routine of scipy's Cython bindings, callable from numba (every
    Fortran argument a pointer). Passed to the kernel as an argument, so it caches."""
    address = get_cython_function_address(f"scipy.linalg.cython_{module}", name)
    return ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * n_args)(address)


_BUFFERS = threading.local()
KEEP_FRONT_BYTES = 64 * 2**20
"""Largest pair of work and stack arrays kept per thread between maps (a 128 x 128 map needs
2.6 MB, a 512 x 512 one some 40 MB)."""

_DPOTRF = _lapack("lapack", "dpotrf", 5)
_DTRSM = _lapack("blas", "dtrsm", 11)
_DSYRK = _lapack("blas", "dsyrk", 10)


@njit(cache=True, nogil=True)
def _chain(a, s, n, out, scratch, node):
    """Eliminate a chain front: separator ``0..s-1`` a path (``a`` tridiagonal there), each
    boundary node joined to one chain node. ``out = -A_bs T^-1 A_sb``, O(s (n - s)) work by
    solving T for the chain node of each boundary node. False if a pivot is not positive."""
    m = n - s
    piv = scratch[0]
    mult = scratch[1]
    x = scratch[2]
    coef = scratch[3]
    mult[0] = 0.0
    for k in range(s):  # T = L D L^T, L unit lower bidiagonal
        d = a[k, k]
        if k > 0:
            mult[k] = a[k, k - 1] / piv[k - 1]
            d -= mult[k] * a[k, k - 1]
        if not d > 0.0:
            return False
        piv[k] = d
    for b in range(m):
        node[b] = 0
        coef[b] = 0.0
        for k in range(s):
            if a[k, s + b] != 0.0:
                node[b] = k
                coef[b] = a[k, s + b]
    for b in range(m):  # x = T^-1 e_node[b]
        x[:s] = 0.0
        x[node[b]] = 1.0
        for k in range(node[b] + 1, s):
            x[k] = -mult[k] * x[k - 1]
        for k in range(s):
            x[k] /= piv[k]
        for k in range(s - 2, -1, -1):
            x[k] -= mult[k + 1] * x[k + 1]
        for c in range(m):
            out[b, c] = a[s + b, s + c] - coef[b] * coef[c] * x[node[c]]
    return True


@njit(cache=True, nogil=True, inline="always")
def _symmetric_update(a, s, m, out):
    """``out`` (m, m) = the boundary block ``a[s:, s:]`` from its upper triangle (the one both
    elimination kernels update), mirrored."""
    for i in range(m):
        for j in range(i, m):
            out[i, j] = a[s + i, s + j]
            out[j, i] = a[s + i, s + j]


@njit(cache=True, nogil=True, fastmath={"contract"})
def _loops(a, s, n, out):
    """Eliminate the first ``s`` nodes of the dense front ``a`` by Gaussian elimination on its
    upper triangle (zero multipliers skipped: leaves are sparse). False on a bad pivot."""
    for k in range(s):
        d = a[k, k]
        if not d > 0.0:
            return False
        inv = 1.0 / d
        for i in range(k + 1, n):
            f_ik = a[k, i] * inv
            if f_ik != 0.0:
                for j in range(i, n):
                    a[i, j] -= f_ik * a[k, j]
    _symmetric_update(a, s, n - s, out)
    return True


@njit(cache=True, nogil=True)
def _blas(a, s, n, out, dpotrf, dtrsm, dsyrk):
    """Eliminate the first ``s`` nodes of the dense front ``a`` (symmetric, so its C order
    is its Fortran order): Cholesky of the separator block, W = L^-1 A_sb, out = A_bb - W^T W.
    False on a bad pivot."""
    m = n - s
    flat = a.reshape(n * n)
    ch = np.empty(3, np.uint8)
    ch[0], ch[1], ch[2] = ord("L"), ord("N"), ord("T")
    ints = np.empty(4, np.int32)
    ints[0], ints[1], ints[2], ints[3] = s, n, m, 0
    one = np.ones(2)
    one[1] = -1.0
    dpotrf(ch[0:1].ctypes, ints[0:1].ctypes, flat.ctypes, ints[1:2].ctypes, ints[3:4].ctypes)
    if ints[3] != 0:
        return False
    w = flat[s * n:]
    dtrsm(ch[0:1].ctypes, ch[0:1].ctypes, ch[1:2].ctypes, ch[1:2].ctypes, ints[0:1].ctypes,
          ints[2:3].ctypes, one[0:1].ctypes, flat.ctypes, ints[1:2].ctypes, w.ctypes,
          ints[1:2].ctypes)
    c = flat[s * n + s:]
    dsyrk(ch[0:1].ctypes, ch[2:3].ctypes, ints[2:3].ctypes, ints[0:1].ctypes, one[1:2].ctypes,
          w.ctypes, ints[1:2].ctypes, one[0:1].ctypes, c.ctypes, ints[1:2].ctypes)
    # Fortran's lower triangle of the (m, m) block is its upper triangle in C order.
    _symmetric_update(a, s, m, out)
    return True


@njit(cache=True, nogil=True)
def _eliminate(n_sep, n_loc, chain, ent_start, ent, kid_start, kids, map_start, maps, g, work,
               stack, dpotrf, dtrsm, dsyrk):
    """Every front in postorder; returns the root's Schur complement (the terminal map) as a
    flat array, or an empty one if a pivot was not positive (a non-conducting line)."""
    n_front = n_sep.shape[0]
    offs = np.zeros(n_front + 1, np.int64)  # stack entry k starts at offs[k]
    width = int(np.sqrt(work.shape[0])) + 1
    scratch = np.empty((4, width))  # the chain kernel's vectors
    node = np.empty(width, np.int64)
    sp = 0
    for f in range(n_front):
        s = n_sep[f]
        n = n_loc[f]
        m = n - s
        a = work[:n * n].reshape((n, n))
        a[:, :] = 0.0
        for t in range(ent_start[f], ent_start[f + 1]):
            p, q, e = ent[t, 0], ent[t, 1], ent[t, 2]
            if p == q:
                a[p, p] += g[e]
            else:
                a[p, q] -= g[e]
                a[q, p] -= g[e]
        nc = kid_start[f + 1] - kid_start[f]
        for c in range(nc):
            child = kids[kid_start[f] + c]
            k = sp - nc + c  # its update's stack entry
            mc = n_loc[child] - n_sep[child]
            u = stack[offs[k]:offs[k] + mc * mc]
            mp = maps[map_start[child]:map_start[child] + mc]
            for p in range(mc):
                row = mp[p]
                for q in range(mc):
                    a[row, mp[q]] += u[p * mc + q]
        sp -= nc
        out = stack[offs[sp]:offs[sp] + m * m].reshape((m, m))
        if chain[f]:
            ok = _chain(a, s, n, out, scratch, node)
        elif s < DENSE_BELOW or m < DENSE_BELOW:
            ok = _loops(a, s, n, out)
        else:
            ok = _blas(a, s, n, out, dpotrf, dtrsm, dsyrk)
        if not ok:
            return np.empty(0)
        offs[sp + 1] = offs[sp] + m * m
        sp += 1
    m = n_loc[n_front - 1] - n_sep[n_front - 1]
    return stack[:m * m].copy()


@functools.cache
def _blas_pool() -> ThreadpoolController:
    """The BLAS libraries of this process, for running the elimination on one BLAS thread.

    Its fronts are small (at most a few hundred nodes): a second OpenBLAS thread halves the
    wall time of the map alone but doubles its CPU time, and its threads' spinning then slows
    what follows on a 2-core machine (an eRBP epoch on ``rram64`` tiles 3x slower, while
    reads were on the map). One thread also keeps every bit independent of the thread count.
    Built once: a limit on a built controller costs ~15 us, a fresh one a library scan."""
    return ThreadpoolController()


def _buffers(plan: TerminalPlan) -> tuple[np.ndarray, np.ndarray]:
    """This thread's work and stack arrays for ``plan`` (written before they are read), kept
    between calls: a tile re-solves after every write, and fresh MB cost their page faults."""
    cache = getattr(_BUFFERS, "arrays", None)
    if cache is None or cache[0].shape[0] < plan.work or cache[1].shape[0] < plan.stack:
        if 8 * (plan.work + plan.stack) > KEEP_FRONT_BYTES:
            return np.empty(plan.work), np.empty(plan.stack)
        cache = _BUFFERS.arrays = (np.empty(plan.work), np.empty(plan.stack))
    return cache


def terminal_map(gd: np.ndarray, sw: np.ndarray, sb: np.ndarray) -> np.ndarray:
    """The terminal conductance matrix ``Y`` (R + C, R + C) of a crossbar: inputs first, then
    outputs; currents into the network at the terminals are ``Y @ V``.

    Parameters
    ----------
    gd, sw, sb : (R, C) arrays
        Device conductances and the word and bit segments, as in
        :func:`~memsim.solve.crossbar.factors.line_factors` (siemens; segments > 0).

    Raises
    ------
    ParameterError
        If the three arrays differ in shape, are not finite, a device conductance is negative
        or a segment's is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> one = np.ones((1, 1))
    >>> y = terminal_map(one, one, one)  # input -1 S- w -1 S- b -1 S- output: 1/3 S
    >>> np.round(y * 3, 12).tolist()
    [[1.0, -1.0], [-1.0, 1.0]]
    """
    gd, sw, sb = (np.asarray(a, float) for a in (gd, sw, sb))
    if gd.ndim != 2 or gd.size == 0 or sw.shape != gd.shape or sb.shape != gd.shape:
        raise ParameterError("gd", "device and segment conductances need one common (rows, "
                             f"cols) shape, got {gd.shape}, {sw.shape}, {sb.shape}")
    if not (np.isfinite(gd).all() and np.isfinite(sw).all() and np.isfinite(sb).all()):
        raise ParameterError("gd", "conductances must be finite")
    if gd.min() < 0 or sw.min() <= 0 or sb.min() <= 0:
        raise ParameterError("sw", "devices need conductances >= 0 and every line segment "
                             "one > 0 (a line cut off from its terminal has no DC solution)")
    rows, cols = gd.shape
    plan = terminal_plan(rows, cols)
    g = np.concatenate([gd.ravel(), sw.ravel(), sb.ravel()])
    work, stack = _buffers(plan)
    with _blas_pool().limit(limits=1, user_api="blas"):
        y = _eliminate(plan.n_sep, plan.n_loc, plan.chain, plan.ent_start, plan.ent,
                       plan.kid_start, plan.kids, plan.map_start, plan.maps, g, work, stack,
                       _DPOTRF, _DTRSM, _DSYRK)
    if y.size == 0:  # not reachable with conducting segments: the matrix is then SPD
        raise SolverError("the terminal map lost positive definiteness (a pivot <= 0)")
    n = rows + cols
    return y.reshape(n, n)
