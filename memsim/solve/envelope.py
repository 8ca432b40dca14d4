"""Envelope (profile) Cholesky with a fixed symbolic structure, for the transient loop.

The ordering (reverse Cuthill-McKee) and the envelope of ``L_FF`` depend only on the topology
and the terminal configuration, so they are computed once per run (:func:`structure`); every
step then assembles the values into the envelope, factors in place and solves, all in numba.
Fill stays inside the envelope, so the cost is ``sum_i (i - first_i)^2``, far below dense
Cholesky for networks whose RCM bandwidth is small compared with their size.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba import njit
from scipy.sparse.csgraph import reverse_cuthill_mckee

__all__ = ["node_voltages_envelope", "structure"]


def structure(edges: np.ndarray, free_index: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                    np.ndarray]:
    """Ordering and envelope of the free-node matrix.

    Returns ``position`` (nf,), the RCM position of free node k; ``first`` (nf,), the first
    column of each row of the permuted matrix; ``ptr`` (nf + 1,), row offsets into the value
    array (row i holds columns ``first[i]..i``).
    """
    nf = int((free_index >= 0).sum())
    fp, fm = free_index[edges[:, 0]], free_index[edges[:, 1]]
    both = (fp >= 0) & (fm >= 0)
    adj = sp.coo_matrix((np.ones(both.sum()), (fp[both], fm[both])), shape=(nf, nf)).tocsr()
    adj = adj + adj.T + sp.identity(nf, format="csr")
    order = reverse_cuthill_mckee(adj.tocsr(), symmetric_mode=True).astype(np.int64)
    position = np.empty(nf, np.int64)
    position[order] = np.arange(nf)
    first = np.arange(nf, dtype=np.int64)
    a, b = position[fp[both]], position[fm[both]]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    np.minimum.at(first, hi, lo)
    ptr = np.zeros(nf + 1, np.int64)
    ptr[1:] = np.cumsum(np.arange(nf) - first + 1)
    return position, first, ptr


@njit(cache=True)
def _assemble(edges, g, free_index, position, first, ptr, fixed_value):
    nf = first.shape[0]
    vals = np.zeros(ptr[nf])
    rhs = np.zeros(nf)
    for e in range(edges.shape[0]):
        ge = g[e]
        if ge == 0.0:
            continue
        p, m = edges[e, 0], edges[e, 1]
        fp, fm = free_index[p], free_index[m]
        if fp >= 0:
            i = position[fp]
            vals[ptr[i] + i - first[i]] += ge
        if fm >= 0:
            j = position[fm]
            vals[ptr[j] + j - first[j]] += ge
        if fp >= 0 and fm >= 0:
            i, j = position[fp], position[fm]
            hi, lo = (i, j) if i > j else (j, i)
            vals[ptr[hi] + lo - first[hi]] -= ge
        elif fp >= 0:
            rhs[position[fp]] += ge * fixed_value[m]
        elif fm >= 0:
            rhs[position[fm]] += ge * fixed_value[p]
    return vals, rhs


@njit(cache=True)
def _factor(vals, first, ptr):
    """In-place Cholesky of an SPD envelope matrix (lower triangle, row storage)."""
    n = first.shape[0]
    for i in range(n):
        fi = first[i]
        for j in range(fi, i):
            fj = first[j]
            s = vals[ptr[i] + j - fi]
            for k in range(max(fi, fj), j):
                s -= vals[ptr[i] + k - fi] * vals[ptr[j] + k - fj]
            vals[ptr[i] + j - fi] = s / vals[ptr[j + 1] - 1]
        d = vals[ptr[i + 1] - 1]
        for k in range(fi, i):
            d -= vals[ptr[i] + k - fi] ** 2
        if d <= 0.0:
            raise ValueError("nodal matrix is not positive definite")
        vals[ptr[i + 1] - 1] = np.sqrt(d)


@njit(cache=True)
def _solve(vals, first, ptr, b):
    n = first.shape[0]
    y = b.copy()
    for i in range(n):
        s = y[i]
        for k in range(first[i], i):
            s -= vals[ptr[i] + k - first[i]] * y[k]
        y[i] = s / vals[ptr[i + 1] - 1]
    for i in range(n - 1, -1, -1):
        y[i] /= vals[ptr[i + 1] - 1]
        for k in range(first[i], i):
            y[k] -= vals[ptr[i] + k - first[i]] * y[i]
    return y


@njit(cache=True)
def node_voltages_envelope(edges, g, free_index, position, first, ptr, fixed_value):
    """All node voltages for conductances ``g`` (the envelope twin of
    :func:`memsim.solve.linalg.node_voltages_dense`)."""
    vals, rhs = _assemble(edges, g, free_index, position, first, ptr, fixed_value)
    _factor(vals, first, ptr)
    y = _solve(vals, first, ptr, rhs)
    v = fixed_value.copy()
    for n in range(free_index.shape[0]):
        if free_index[n] >= 0:
            v[n] = y[position[free_index[n]]]
    return v
