"""Small dense linear algebra in numba: nodal assembly and Cholesky solves.

Used by the DC solver for small networks and inside the transient loop, where a step's
assembly, factorization and solve must run without Python.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["assemble_dense", "cholesky_solve", "node_voltages_dense"]


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
def cholesky_solve(a, b):
    """Solve ``a x = b`` for SPD ``a`` (n x n) and ``b`` (n,) or (n, k) by Cholesky."""
    n = a.shape[0]
    if n == 0:
        return b.copy()
    low = np.linalg.cholesky(a)
    y = b.copy()
    # forward substitution L y = b
    for i in range(n):
        s = y[i]
        for k in range(i):
            s = s - low[i, k] * y[k]
        y[i] = s / low[i, i]
    # back substitution L^T x = y
    for i in range(n - 1, -1, -1):
        s = y[i]
        for k in range(i + 1, n):
            s = s - low[k, i] * y[k]
        y[i] = s / low[i, i]
    return y


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
