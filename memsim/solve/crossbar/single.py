"""Kernels for one right-hand side: 2-D arrays (R, C), no batch axis.

For a single input vector these run 3-3.6x faster than the batched kernels with a batch of
one (``benchmarks/results_crossbar.md``): the bit lines advance together, contiguous in j,
and the word-line recurrences run ``GROUP`` lines at a time, interleaved, so their latency
chains overlap. The algorithm is line relaxation (block Gauss-Seidel between word and bit
lines), handed over to conjugate gradients on the word-node Schur complement
``S = A_w - G A_b^-1 G`` (preconditioned by ``A_w``) when it contracts slowly; see
:mod:`memsim.solve.crossbar` for the notation and the stopping rule
(:mod:`memsim.solve.crossbar.stopping`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from memsim.solve.crossbar.stopping import drop_scales, tolerance

__all__ = ["BUDGET", "CONVERGED", "GROUP", "SLOW", "SLOW_CONTRACTION", "bit_voltages1",
           "line_relax1", "schur_pcg1", "solve_lines1"]

GROUP = 8
"""Word lines whose tridiagonal solves are interleaved."""

SLOW = 0.5
"""Per-sweep residual contraction above which line relaxation hands over to CG: a sweep costs
about a third of a CG iteration, and CG's rate is about a quarter of relaxation's for small
radii, so relaxation is the cheaper of the two while its rate is below ~0.5."""

CONVERGED, BUDGET, SLOW_CONTRACTION = 0, 1, 2
"""Status codes of :func:`line_relax1`."""


@njit(cache=True)
def _solve_bit1(lb, ib, t):
    """t = A_b^-1 t in place for t (R, C); all bit lines advance together."""
    rows, cols = t.shape
    for i in range(1, rows):
        for j in range(cols):
            t[i, j] -= lb[i, j] * t[i - 1, j]
    for j in range(cols):
        t[rows - 1, j] *= ib[rows - 1, j]
    for i in range(rows - 2, -1, -1):
        for j in range(cols):
            t[i, j] = t[i, j] * ib[i, j] - lb[i + 1, j] * t[i + 1, j]


@njit(cache=True)
def _apply_word_row(gd, sw, p, i, out):
    """out[i] = (row block i of A_w) p[i], with the line ends peeled off the inner loop."""
    cols = p.shape[1]
    if cols == 1:
        out[i, 0] = (gd[i, 0] + sw[i, 0]) * p[i, 0]
        return
    out[i, 0] = (gd[i, 0] + sw[i, 0]) * p[i, 0] + sw[i, 1] * (p[i, 0] - p[i, 1])
    for j in range(1, cols - 1):
        out[i, j] = ((gd[i, j] + sw[i, j]) * p[i, j] - sw[i, j] * p[i, j - 1]
                     + sw[i, j + 1] * (p[i, j] - p[i, j + 1]))
    j = cols - 1
    out[i, j] = (gd[i, j] + sw[i, j]) * p[i, j] - sw[i, j] * p[i, j - 1]


@njit(cache=True)
def _residual1(gd, sw, lb, ib, v_in, x, r, t):
    """:func:`_residual` for one right-hand side: v_in (R,), x, r, t (R, C)."""
    rows, cols = x.shape
    for i in range(rows):
        for j in range(cols):
            t[i, j] = gd[i, j] * (v_in[i] + x[i, j])
    _solve_bit1(lb, ib, t)
    for i in range(rows):
        _apply_word_row(gd, sw, x, i, r)
        for j in range(cols):
            r[i, j] = gd[i, j] * (t[i, j] - v_in[i]) - r[i, j]


@njit(cache=True)
def _sweep_schur1(gd, sw, lb, ib, p, t, q):
    """:func:`_sweep_schur` for one right-hand side; returns <p, q>."""
    rows, cols = p.shape
    pq = 0.0
    for i in range(rows - 1, -1, -1):
        if i + 1 < rows:
            for j in range(cols):
                t[i, j] = t[i, j] * ib[i, j] - lb[i + 1, j] * t[i + 1, j]
        else:
            for j in range(cols):
                t[i, j] *= ib[i, j]
        _apply_word_row(gd, sw, p, i, q)
        for j in range(cols):
            qq = q[i, j] - gd[i, j] * t[i, j]
            q[i, j] = qq
            pq += p[i, j] * qq
    return pq


@njit(cache=True)
def _solve_word_group(lw, iw, z, i0, i1):
    """z[i] = (block i of A_w)^-1 z[i] in place for word lines i0 <= i < i1 (2-D z), the
    lines' recurrences interleaved so that their latency chains overlap."""
    cols = z.shape[1]
    for j in range(1, cols):
        for i in range(i0, i1):
            z[i, j] -= lw[i, j] * z[i, j - 1]
    for i in range(i0, i1):
        z[i, cols - 1] *= iw[i, cols - 1]
    for j in range(cols - 2, -1, -1):
        for i in range(i0, i1):
            z[i, j] = z[i, j] * iw[i, j] - lw[i, j + 1] * z[i, j + 1]


@njit(cache=True)
def _sweep_update1(lw, iw, alpha, p, q, x, r, z):
    """:func:`_sweep_update` for one right-hand side; returns (max|r|, <r, z>).

    The word-line recurrences run ``GROUP`` lines at a time, interleaved, so that their
    latency chains overlap."""
    rows, cols = x.shape
    res = 0.0
    rz = 0.0
    for i0 in range(0, rows, GROUP):
        i1 = min(i0 + GROUP, rows)
        for i in range(i0, i1):
            for j in range(cols):
                x[i, j] += alpha * p[i, j]
                rr = r[i, j] - alpha * q[i, j]
                r[i, j] = rr
                res = max(res, abs(rr))
                z[i, j] = rr
        _solve_word_group(lw, iw, z, i0, i1)
        for i in range(i0, i1):
            for j in range(cols):
                rz += r[i, j] * z[i, j]
    return res, rz


@njit(cache=True)
def _sweep_direction1(gd, lb, beta, z, p, t):
    """:func:`_sweep_direction` for one right-hand side."""
    rows, cols = p.shape
    for j in range(cols):
        pp = z[0, j] + beta * p[0, j]
        p[0, j] = pp
        t[0, j] = gd[0, j] * pp
    for i in range(1, rows):
        for j in range(cols):
            pp = z[i, j] + beta * p[i, j]
            p[i, j] = pp
            t[i, j] = gd[i, j] * pp - lb[i, j] * t[i - 1, j]


@njit(cache=True)
def _drive(gd, v_in):
    """Whether any device current can flow (some row with input voltage and a device)."""
    rows, cols = gd.shape
    for i in range(rows):
        if v_in[i] != 0.0:
            for j in range(cols):
                if gd[i, j] > 0.0:
                    return True
    return False


@njit(cache=True, nogil=True)
def schur_pcg1(gd, sw, lw, iw, lb, ib, v_in, x, rtol, maxiter, work):
    """Solve the Schur system for the IR drops ``x`` (R, C, in place) by CG preconditioned
    with ``A_w``, for input voltages ``v_in`` (R,).

    Restarts from the true residual (recomputed from ``x``) whenever the recurrence says it
    has converged, so the stopping rule is checked on true residuals. ``work`` is (5, R, C)
    scratch; on return ``work[4]`` holds the bit voltages of ``x``. Returns the iterations
    used, or -1 if ``maxiter`` ran out first.
    """
    rows, cols = x.shape
    r, z, p, q, t = work[0], work[1], work[2], work[3], work[4]
    s_max = sw.max()
    it = 0
    if not _drive(gd, v_in):  # no device current can flow: the ideal-line solution is exact
        x[:, :] = 0.0
        t[:, :] = 0.0
        return it
    while True:
        i_max, x_max = drop_scales(sw, x)
        tol = tolerance(rtol, i_max, s_max, x_max)
        _residual1(gd, sw, lb, ib, v_in, x, r, t)
        res = 0.0
        for i in range(rows):
            for j in range(cols):
                res = max(res, abs(r[i, j]))
        if res <= tol:
            return it
        if it >= maxiter:
            return -1
        p[:, :] = 0.0
        q[:, :] = 0.0
        _, rz = _sweep_update1(lw, iw, 0.0, p, q, x, r, z)  # z = A_w^-1 r
        _sweep_direction1(gd, lb, 0.0, z, p, t)
        while it < maxiter:
            it += 1
            pq = _sweep_schur1(gd, sw, lb, ib, p, t, q)
            if not pq > 0.0:
                break
            alpha = rz / pq
            rz_old = rz
            res, rz = _sweep_update1(lw, iw, alpha, p, q, x, r, z)
            i_max = 0.0
            for i in range(rows):
                i_max = max(i_max, sw[i, 0] * abs(x[i, 0]))
            # the floor's x_max is the restart's: recomputing it would cost a pass
            if res <= tolerance(rtol, i_max, s_max, x_max) or not rz_old > 0.0:
                break
            _sweep_direction1(gd, lb, rz / rz_old, z, p, t)


@njit(cache=True)
def bit_voltages1(gd, lb, ib, v_in, x):
    """Bit-line voltages (R, C) for IR drops ``x`` (R, C): ``A_b^-1 G (v_in + x)``."""
    rows, cols = x.shape
    t = np.empty_like(x)
    for i in range(rows):
        for j in range(cols):
            t[i, j] = gd[i, j] * (v_in[i] + x[i, j])
    _solve_bit1(lb, ib, t)
    return t


@njit(cache=True, nogil=True)
def line_relax1(gd, sw, lw, iw, lb, ib, v_in, x, rtol, maxiter, b, t):
    """Alternating line relaxation (block Gauss-Seidel) for one right-hand side.

    One sweep solves every word line for the current bit voltages, ``x = A_w^-1 G (b - u)``,
    then every bit line for the new word voltages, ``b' = A_b^-1 G (u + x)``. After a sweep
    bit-node KCL holds exactly and the word-node residual is ``G (b' - b)``: the stopping
    rule is checked on that true residual, without an extra pass. The error contracts by the
    spectral radius of ``A_w^-1 G A_b^-1 G`` per sweep.

    Parameters
    ----------
    gd, sw : (R, C)
        Device and word-segment conductances.
    lw, iw, lb, ib : (R, C)
        Their factors from :func:`~memsim.solve.crossbar.factors.line_factors`.
    v_in : (R,)
        Input voltages.
    x : (R, C)
        IR drops ``w - v_in``: the initial guess on entry, the solution on exit.
    rtol : float
        See :mod:`memsim.solve.crossbar.stopping`.
    maxiter : int
        Sweep budget.
    b, t : (R, C)
        Scratch; on return ``b`` holds the bit voltages of ``x``.

    Returns
    -------
    sweeps : int
    status : int
        :data:`CONVERGED`; :data:`BUDGET` if the budget ran out; :data:`SLOW_CONTRACTION` if a
        sweep shrank the residual by less than a factor :data:`SLOW` (:func:`solve_lines1`
        then hands ``x`` over to CG). On every return ``b`` holds the bit voltages of ``x``.
    """
    rows, cols = x.shape
    smax = sw.max()
    _residual1(gd, sw, lb, ib, v_in, x, t, b)  # bits of the guess into b, residual into t
    res = 0.0
    for i in range(rows):
        for j in range(cols):
            res = max(res, abs(t[i, j]))
    i_max, xmax = drop_scales(sw, x)
    res_old = np.inf
    it = 0
    status = CONVERGED
    bits = b
    swapped = False
    while True:
        if res <= tolerance(rtol, i_max, smax, xmax):
            break
        if it >= maxiter:
            status = BUDGET
            break
        if res > SLOW * res_old:
            status = SLOW_CONTRACTION
            break
        it += 1
        res_old = res
        i_max = 0.0
        xmax = 0.0
        for i0 in range(0, rows, GROUP):
            i1 = min(i0 + GROUP, rows)
            for i in range(i0, i1):
                for j in range(cols):
                    x[i, j] = gd[i, j] * (bits[i, j] - v_in[i])
            _solve_word_group(lw, iw, x, i0, i1)
            for i in range(i0, i1):
                i_max = max(i_max, sw[i, 0] * abs(x[i, 0]))
                if i == 0:
                    for j in range(cols):
                        xmax = max(xmax, abs(x[0, j]))
                        t[0, j] = gd[0, j] * (v_in[0] + x[0, j])
                else:
                    for j in range(cols):
                        xmax = max(xmax, abs(x[i, j]))
                        t[i, j] = gd[i, j] * (v_in[i] + x[i, j]) - lb[i, j] * t[i - 1, j]
        res = 0.0
        for j in range(cols):
            tt = t[rows - 1, j] * ib[rows - 1, j]
            t[rows - 1, j] = tt
            res = max(res, abs(gd[rows - 1, j] * (tt - bits[rows - 1, j])))
        for i in range(rows - 2, -1, -1):
            for j in range(cols):
                tt = t[i, j] * ib[i, j] - lb[i + 1, j] * t[i + 1, j]
                t[i, j] = tt
                res = max(res, abs(gd[i, j] * (tt - bits[i, j])))
        bits, t = t, bits
        swapped = not swapped
    if swapped:
        b[:, :] = bits
    return it, status


@njit(cache=True, nogil=True)
def solve_lines1(gd, sw, lw, iw, lb, ib, v_in, x, rtol, maxiter, b, t):
    """IR drops ``x`` (in place, from the guess in ``x``) and bit voltages ``b`` for one
    right-hand side: :func:`line_relax1`, continued by :func:`schur_pcg1` from its iterate
    when the relaxation contracts slowly (resistive lines). Returns sweeps plus CG iterations,
    or -1 if ``maxiter`` (shared by both) ran out."""
    sweeps, status = line_relax1(gd, sw, lw, iw, lb, ib, v_in, x, rtol, maxiter, b, t)
    if status == CONVERGED:
        return sweeps
    if status == BUDGET:
        return -1
    rows, cols = x.shape
    work = np.empty((5, rows, cols))
    its = schur_pcg1(gd, sw, lw, iw, lb, ib, v_in, x, rtol, maxiter - sweeps, work)
    b[:, :] = work[4]
    return -1 if its < 0 else sweeps + its


