"""A structure-exploiting DC solver for crossbars with resistive lines.

Unknowns are the word-line nodes ``w[i, j]`` and the bit-line nodes ``b[i, j]`` of cell
(i, j). With device conductances ``G`` (diagonal: the device of cell (i, j) joins ``w[i, j]``
to ``b[i, j]``) the nodal matrix is::

    [[ A_w, -G ],
     [ -G , A_b]]

where ``A_w`` is block-diagonal with one tridiagonal block per word line (its segments, plus
the device conductances on the diagonal) and ``A_b`` likewise per bit line. Eliminating the
bit nodes leaves the Schur system ``S = A_w - G A_b^-1 G`` on the word nodes, symmetric
positive definite, which is solved by conjugate gradients preconditioned with ``A_w``. Line
segments (~1 S) are far stiffer than devices (1e-5..1e-2 S), so ``A_w^-1 S`` is close to
the identity and a handful of iterations reach round-off; each iteration costs one
tridiagonal solve per word line and one per bit line, O(rows * cols).

Line relaxation comes first (:func:`line_relax`, block Gauss-Seidel between the two line
families): solve every word line for the current bit voltages, then every bit line for the new
word voltages. It needs a third of a CG iteration's work per sweep and no extra pass for its
true residual, and on stiff lines it contracts the error by ~0.02 per sweep (128 x 128, devices
1-100 kohm, 0.5 ohm lines: 7 sweeps to round-off, against 5 CG iterations + 2 residual passes).
Where it contracts slowly (lines nearly as resistive as the devices) :func:`solve_lines` hands
its iterate over to CG, whose rate is about the square root of relaxation's.

The unknowns are carried as deviations from the ideal-line solution: ``x = w - v_in`` (the
IR drop along the word lines) and the bit voltages ``b`` themselves. In these variables the
right-hand side and the residual are currents of the size of device currents, free of the
cancellation between the input voltage and the large line currents, so the iteration gets
down to round-off. The start ``x = 0`` is the ideal-line solution.

Stopping rule (per right-hand side): the true KCL residual at every word node, recomputed
from ``x``, is at most ``rtol`` times the largest input current (an edge current, so this is
also ``rtol`` relative to the largest edge current), or at most the round-off floor
``FLOOR_ULPS * eps * max(word segment g) * max|x|`` when that is larger. Bit-node KCL holds
to round-off because the bit nodes are eliminated exactly. The nodal matrix ``L`` is an
M-matrix, so ``L^-1 >= 0`` entrywise and the voltage error is at most ``||L^-1 1||_inf``
times the largest residual; the tests check that bound against a direct solve.

The kernels are module-level ``@njit(cache=True)`` functions; :func:`crossbar_voltages` may
be called from other jitted code (the transient loop), warm-started from the previous step.
Arrays of right-hand sides carry the batch axis last (contiguous), so the inner loops
vectorize over the batch; a single right-hand side has its own 2-D kernels (``*1``).
Plain NumPy/scipy twins (:func:`schur_pcg_np`, :func:`line_matrices_np`) serve the tests.
"""

from __future__ import annotations

import os
import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from memsim.circuit.network import Network, Role
from memsim.errors import ParameterError, SolverError
from memsim.solve.topology import Terminals

__all__ = [
    "CrossbarSystem",
    "bit_voltages",
    "bit_voltages1",
    "crossbar_applicable",
    "crossbar_node_voltages",
    "crossbar_segments",
    "crossbar_voltages",
    "line_factors",
    "line_matrices_np",
    "line_relax",
    "line_relax1",
    "line_relax_np",
    "schur_pcg",
    "schur_pcg1",
    "schur_pcg_np",
    "solve_lines",
    "solve_lines1",
]

RTOL = 1e-12
"""Default stopping tolerance: word-node KCL residual relative to the largest input current."""

RTOL_TRANSIENT = 1e-10
"""A suggested tolerance inside time-stepping loops (the integrator's error is far larger)."""

EPS = float(np.finfo(np.float64).eps)
FLOOR_ULPS = 8.0
"""Residuals below ``FLOOR_ULPS * eps * max(segment g) * max|w - v_in|`` count as converged:
the word voltages cannot be represented more finely, so no solver can do better."""

GROUP = 8
"""Word lines whose tridiagonal solves are interleaved in the single right-hand-side kernels."""

SLOW = 0.5
"""Per-sweep residual contraction above which line relaxation hands over to CG: a sweep costs
about a third of a CG iteration, and CG's rate is about a quarter of relaxation's for small
radii, so relaxation is the cheaper of the two while its rate is below ~0.5."""

CONVERGED, BUDGET, SLOW_CONTRACTION = 0, 1, 2
"""Status codes of :func:`line_relax`."""

MAXITER_PER_LINE = 10
"""Default CG budget of :class:`CrossbarSystem`: this many iterations per word and bit line."""

CHUNK = 32
"""Right-hand sides processed together by :meth:`CrossbarSystem.solve`: the batch axis is the
vectorized inner loop, and 3 arrays of 128 x 128 x 32 doubles still sit in a large cache
(128 x 128 x 64 inputs, CPU time per solve: 34 ms at 8, 26 at 16, 21 at 32, 24 at 64)."""

THREADS = max(1, int(os.environ.get("MEMSIM_THREADS", "1") or 1))
"""Default number of threads that solve chunks of a batch (environment variable
``MEMSIM_THREADS``, default 1). More threads help only on otherwise idle cores: on a loaded
2-core machine two threads were slower than one, and Dask sweeps already fill the cores."""


# --------------------------------------------------------------------------- numba kernels
@njit(cache=True, nogil=True)
def line_factors(gd, sw, sb):
    """LDL^T factors of the word-line and bit-line tridiagonal blocks.

    Parameters
    ----------
    gd : (R, C) device conductances (S).
    sw : (R, C) word-line segments: ``sw[i, j]`` joins ``w[i, j]`` to its left neighbour
        (``j = 0``: to the input of word line i).
    sb : (R, C) bit-line segments: ``sb[i, j]`` joins ``b[i, j]`` to the node below
        (``i = R - 1``: to the output of bit line j).

    Returns
    -------
    lw, iw, lb, ib : (R, C) arrays
        ``A_w`` factors along each word line (``lw[i, j]``: multiplier between j - 1 and j,
        ``iw``: inverse pivots) and ``A_b`` factors along each bit line (``lb[i, j]``
        between i - 1 and i).
    """
    rows, cols = gd.shape
    lw = np.zeros((rows, cols))
    iw = np.empty((rows, cols))
    lb = np.zeros((rows, cols))
    ib = np.empty((rows, cols))
    for j in range(cols):  # all word lines advance together: independent recurrences
        for i in range(rows):
            d = gd[i, j] + sw[i, j]
            if j + 1 < cols:
                d += sw[i, j + 1]
            if j > 0:
                lw[i, j] = -sw[i, j] * iw[i, j - 1]
                d += lw[i, j] * sw[i, j]
            iw[i, j] = 1.0 / d
    for i in range(rows):  # all bit lines advance together, contiguous in j
        for j in range(cols):
            d = gd[i, j] + sb[i, j]
            if i > 0:
                d += sb[i - 1, j]
                lb[i, j] = -sb[i - 1, j] * ib[i - 1, j]
                d += lb[i, j] * sb[i - 1, j]
            ib[i, j] = 1.0 / d
    return lw, iw, lb, ib


@njit(cache=True)
def _solve_bit(lb, ib, t):
    """t = A_b^-1 t in place for t (R, C, B)."""
    rows, cols, nb = t.shape
    for i in range(1, rows):
        for j in range(cols):
            m = lb[i, j]
            for k in range(nb):
                t[i, j, k] -= m * t[i - 1, j, k]
    for j in range(cols):
        d = ib[rows - 1, j]
        for k in range(nb):
            t[rows - 1, j, k] *= d
    for i in range(rows - 2, -1, -1):
        for j in range(cols):
            d = ib[i, j]
            m = lb[i + 1, j]
            for k in range(nb):
                t[i, j, k] = t[i, j, k] * d - m * t[i + 1, j, k]


@njit(cache=True)
def _sweep_schur(gd, sw, lb, ib, p, t, q, pq):
    """Finish t = A_b^-1 G p (backward substitution; t arrives forward-eliminated) and, row
    by row as t becomes final, q = S p = A_w p - G t and pq[k] = <p, q>."""
    rows, cols, nb = p.shape
    pq[:] = 0.0
    for i in range(rows - 1, -1, -1):
        for j in range(cols):
            d = ib[i, j]
            if i + 1 < rows:
                m = lb[i + 1, j]
                for k in range(nb):
                    t[i, j, k] = t[i, j, k] * d - m * t[i + 1, j, k]
            else:
                for k in range(nb):
                    t[i, j, k] *= d
        for j in range(cols):
            g = gd[i, j]
            dg = g + sw[i, j]
            if j + 1 < cols:
                dg += sw[i, j + 1]
            sl = sw[i, j] if j > 0 else 0.0
            sr = sw[i, j + 1] if j + 1 < cols else 0.0
            jl = j - 1 if j > 0 else 0
            jr = j + 1 if j + 1 < cols else j
            for k in range(nb):
                qq = dg * p[i, j, k] - sl * p[i, jl, k] - sr * p[i, jr, k] - g * t[i, j, k]
                q[i, j, k] = qq
                pq[k] += p[i, j, k] * qq


@njit(cache=True)
def _sweep_update(lw, iw, alpha, p, q, x, r, z, res, rz):
    """x += alpha p, r -= alpha q (res[k] = max|r|), then z = A_w^-1 r and rz[k] = <r, z>,
    one word line at a time."""
    rows, cols, nb = x.shape
    res[:] = 0.0
    rz[:] = 0.0
    for i in range(rows):
        for j in range(cols):
            for k in range(nb):
                a = alpha[k]
                x[i, j, k] += a * p[i, j, k]
                rr = r[i, j, k] - a * q[i, j, k]
                r[i, j, k] = rr
                res[k] = max(res[k], abs(rr))
        _word_line(lw, iw, r, z, rz, i)


@njit(cache=True)
def _word_line(lw, iw, r, z, rz, i):
    """z[i] = (block i of A_w)^-1 r[i]; rz[k] += <r[i], z[i]>."""
    cols, nb = r.shape[1], r.shape[2]
    for k in range(nb):
        z[i, 0, k] = r[i, 0, k]
    for j in range(1, cols):
        m = lw[i, j]
        for k in range(nb):
            z[i, j, k] = r[i, j, k] - m * z[i, j - 1, k]
    d = iw[i, cols - 1]
    for k in range(nb):
        zz = z[i, cols - 1, k] * d
        z[i, cols - 1, k] = zz
        rz[k] += r[i, cols - 1, k] * zz
    for j in range(cols - 2, -1, -1):
        d = iw[i, j]
        m = lw[i, j + 1]
        for k in range(nb):
            zz = z[i, j, k] * d - m * z[i, j + 1, k]
            z[i, j, k] = zz
            rz[k] += r[i, j, k] * zz


@njit(cache=True)
def _sweep_direction(gd, lb, beta, z, p, t):
    """p = z + beta p, t = G p forward-eliminated along the bit lines (L_b^-1 G p)."""
    rows, cols, nb = p.shape
    for i in range(rows):
        for j in range(cols):
            g = gd[i, j]
            for k in range(nb):
                pp = z[i, j, k] + beta[k] * p[i, j, k]
                p[i, j, k] = pp
                t[i, j, k] = g * pp
            if i > 0:
                m = lb[i, j]
                for k in range(nb):
                    t[i, j, k] -= m * t[i - 1, j, k]


@njit(cache=True)
def _residual(gd, sw, lb, ib, v_in, x, r, t):
    """True word-node residual r = f - S x; t receives the bit voltages A_b^-1 G (u + x).

    Word-node KCL in the drops x = w - u (u: the input voltage along each line):
    A_w x - G b = -G u, so r = G (b - u) - A_w x.
    """
    rows, cols, nb = x.shape
    for i in range(rows):
        for j in range(cols):
            g = gd[i, j]
            for k in range(nb):
                t[i, j, k] = g * (v_in[i, k] + x[i, j, k])
    _solve_bit(lb, ib, t)
    for i in range(rows):
        for j in range(cols):
            g = gd[i, j]
            d = g + sw[i, j]
            if j + 1 < cols:
                d += sw[i, j + 1]
            sl = sw[i, j] if j > 0 else 0.0
            sr = sw[i, j + 1] if j + 1 < cols else 0.0
            jl = j - 1 if j > 0 else 0
            jr = j + 1 if j + 1 < cols else j
            for k in range(nb):
                aw = d * x[i, j, k] - sl * x[i, jl, k] - sr * x[i, jr, k]
                r[i, j, k] = g * (t[i, j, k] - v_in[i, k]) - aw


@njit(cache=True)
def _max_abs(r, out):
    rows, cols, nb = r.shape
    out[:] = 0.0
    for i in range(rows):
        for j in range(cols):
            for k in range(nb):
                a = abs(r[i, j, k])
                if a > out[k]:
                    out[k] = a


@njit(cache=True)
def _floors(gd, sw, v_in, x, floor):
    """Round-off floor of the word-node residual per right-hand side, or -1 where no device
    current can flow (every row has zero input voltage or zero device conductance; then the
    ideal-line solution x = 0 is exact).

    A word voltage known to one ulp of |x| moves the current of a segment of conductance s by
    s * eps * |x|; residuals below FLOOR_ULPS times that are round-off, for any solver.
    """
    rows, cols, nb = x.shape
    smax = sw.max()
    xmax = np.zeros(nb)
    _max_abs(x, xmax)
    for k in range(nb):
        drive = 0.0
        for i in range(rows):
            gsum = 0.0
            for j in range(cols):
                gsum += gd[i, j]
            drive = max(drive, gsum * abs(v_in[i, k]))
        floor[k] = FLOOR_ULPS * EPS * smax * xmax[k] if drive > 0.0 else -1.0


@njit(cache=True)
def _tolerances(sw, x, rtol, floor, tol):
    """tol[k] = max(rtol * largest input current, floor[k]); the input current of word line
    i is ``sw[i, 0] * (v_in[i] - w[i, 0]) = -sw[i, 0] * x[i, 0]``."""
    rows, nb = x.shape[0], x.shape[2]
    for k in range(nb):
        i_max = 0.0
        for i in range(rows):
            i_max = max(i_max, sw[i, 0] * abs(x[i, 0, k]))
        tol[k] = max(rtol * i_max, floor[k])


@njit(cache=True, nogil=True)
def schur_pcg(gd, sw, sb, lw, iw, lb, ib, v_in, x, rtol, maxiter, work):
    """Solve the Schur system for the word-line drops ``x`` (in place) by preconditioned CG.

    Parameters
    ----------
    gd, sw, sb : (R, C)
        Device and segment conductances (see :func:`line_factors`).
    lw, iw, lb, ib : (R, C)
        Their factors from :func:`line_factors`.
    v_in : (R, B)
        Input voltages of the word lines.
    x : (R, C, B)
        On entry the initial guess of ``w - v_in`` (zeros: ideal lines); on exit the solution.
    rtol : float
        Stop when every word-node KCL residual (recomputed from ``x``, not the recurrence) is
        below ``rtol`` times the largest input current, or below the round-off floor
        ``FLOOR_ULPS * eps * max(sw) * max|x|`` when that is larger. The input currents are
        edge currents, so the residual is then at most ``rtol`` times the largest edge
        current; bit-node KCL holds to round-off (those nodes are eliminated exactly).
    maxiter : int
        Iteration budget (summed over restarts).
    work : (5, R, C, B)
        Scratch space. On return ``work[4]`` holds the bit-line voltages of the returned ``x``
        (the last true-residual evaluation computes them), so :func:`bit_voltages` is needed
        only when ``x`` is changed afterwards.

    Returns
    -------
    int
        Iterations used, or -1 if the budget ran out before the tolerance was met.
    """
    rows, cols, nb = x.shape
    tol = np.empty(nb)
    floor = np.empty(nb)
    r, z, p, q, t = work[0], work[1], work[2], work[3], work[4]
    res = np.empty(nb)
    rz = np.empty(nb)
    rz_old = np.empty(nb)
    pq = np.empty(nb)
    alpha = np.zeros(nb)
    beta = np.zeros(nb)
    active = np.zeros(nb, np.bool_)
    it = 0
    while True:
        # (re)start from the true residual
        _floors(gd, sw, v_in, x, floor)
        for k in range(nb):
            if floor[k] < 0.0:
                x[:, :, k] = 0.0
        _tolerances(sw, x, rtol, floor, tol)
        _residual(gd, sw, lb, ib, v_in, x, r, t)
        _max_abs(r, res)
        n_active = 0
        for k in range(nb):
            active[k] = floor[k] >= 0.0 and res[k] > tol[k]
            if active[k]:
                n_active += 1
        if n_active == 0:
            return it
        if it >= maxiter:
            return -1
        rz[:] = 0.0
        for i in range(rows):
            _word_line(lw, iw, r, z, rz, i)
        p[:] = 0.0
        beta[:] = 0.0
        _sweep_direction(gd, lb, beta, z, p, t)
        while it < maxiter:
            it += 1
            _sweep_schur(gd, sw, lb, ib, p, t, q, pq)
            for k in range(nb):
                alpha[k] = rz[k] / pq[k] if active[k] and pq[k] > 0.0 else 0.0
            rz_old[:] = rz
            _sweep_update(lw, iw, alpha, p, q, x, r, z, res, rz)
            _tolerances(sw, x, rtol, floor, tol)
            n_active = 0
            for k in range(nb):
                if active[k] and (res[k] <= tol[k] or alpha[k] == 0.0):
                    active[k] = False
                if active[k]:
                    n_active += 1
            if n_active == 0:
                break
            for k in range(nb):
                beta[k] = rz[k] / rz_old[k] if active[k] and rz_old[k] > 0.0 else 0.0
            _sweep_direction(gd, lb, beta, z, p, t)
        # loop back: the true residual decides (restart if the recurrence drifted)


@njit(cache=True)
def bit_voltages(gd, lb, ib, v_in, x):
    """Bit-line voltages (R, C, B) for word-line drops ``x``: ``A_b^-1 G (v_in + x)``."""
    rows, cols, nb = x.shape
    t = np.empty_like(x)
    for i in range(rows):
        for j in range(cols):
            g = gd[i, j]
            for k in range(nb):
                t[i, j, k] = g * (v_in[i, k] + x[i, j, k])
    _solve_bit(lb, ib, t)
    return t


# ----------------------------------------------------------------- one right-hand side, 2-D
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
def _tolerance1(gd, sw, v_in, x, rtol):
    """(tolerance, floor) for one right-hand side; floor -1: no device current can flow."""
    rows, cols = x.shape
    smax = 0.0
    xmax = 0.0
    drive = 0.0
    i_max = 0.0
    for i in range(rows):
        gsum = 0.0
        for j in range(cols):
            smax = max(smax, sw[i, j])
            xmax = max(xmax, abs(x[i, j]))
            gsum += gd[i, j]
        drive = max(drive, gsum * abs(v_in[i]))
        i_max = max(i_max, sw[i, 0] * abs(x[i, 0]))
    if drive == 0.0:
        return 0.0, -1.0
    floor = FLOOR_ULPS * EPS * smax * xmax
    return max(rtol * i_max, floor), floor


@njit(cache=True, nogil=True)
def schur_pcg1(gd, sw, lw, iw, lb, ib, v_in, x, rtol, maxiter, work):
    """:func:`schur_pcg` for one right-hand side: ``v_in`` (R,), ``x`` (R, C) in place,
    ``work`` (5, R, C); on return ``work[4]`` holds the bit voltages of ``x``. Same stopping
    rule; returns the iterations used or -1."""
    rows, cols = x.shape
    r, z, p, q, t = work[0], work[1], work[2], work[3], work[4]
    it = 0
    while True:
        tol, floor = _tolerance1(gd, sw, v_in, x, rtol)
        if floor < 0.0:  # no device current can flow
            x[:, :] = 0.0
            t[:, :] = 0.0
            return it
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
            if res <= max(rtol * i_max, floor) or not rz_old > 0.0:
                break
            _sweep_direction1(gd, lb, rz / rz_old, z, p, t)


@njit(cache=True)
def bit_voltages1(gd, lb, ib, v_in, x):
    """:func:`bit_voltages` for one right-hand side: v_in (R,), x (R, C)."""
    rows, cols = x.shape
    t = np.empty_like(x)
    for i in range(rows):
        for j in range(cols):
            t[i, j] = gd[i, j] * (v_in[i] + x[i, j])
    _solve_bit1(lb, ib, t)
    return t


# ------------------------------------------------- block Gauss-Seidel (line relaxation)
@njit(cache=True, nogil=True)
def line_relax(gd, sw, lw, iw, lb, ib, v_in, x, rtol, maxiter, b, t):
    """Alternating line relaxation (block Gauss-Seidel) for a batch of right-hand sides.

    One sweep solves every word line for the current bit voltages, ``x = A_w^-1 G (b - u)``,
    then every bit line for the new word voltages, ``b' = A_b^-1 G (u + x)``. After a sweep
    bit-node KCL holds exactly and the word-node residual is ``G (b' - b)``: the stopping
    rule of :func:`schur_pcg` is checked on that true residual, without an extra pass. The
    error contracts by the spectral radius of ``A_w^-1 G A_b^-1 G`` per sweep, the operator
    whose spectrum also sets CG's rate; a sweep costs about a third of a CG iteration, so
    relaxation wins while that radius is below ~0.5 (stiff lines: ~0.02 for 128 x 128
    crossbars of 1-100 kohm devices on 0.5 ohm lines).

    Parameters
    ----------
    gd, sw, lw, iw, lb, ib, v_in, rtol
        As in :func:`schur_pcg`.
    x : (R, C, B)
        Word-line drops ``w - v_in``: the initial guess on entry, the solution on exit.
    maxiter : int
        Sweep budget.
    b, t : (R, C, B)
        Scratch; on return ``b`` holds the bit voltages of ``x``.

    Returns
    -------
    sweeps : int
    status : int
        :data:`CONVERGED`; :data:`BUDGET` if the budget ran out; :data:`SLOW_CONTRACTION` if a
        sweep shrank the residual of an unconverged right-hand side by less than a factor
        :data:`SLOW` (:func:`solve_lines` then hands ``x`` over to CG; ``b`` is not set).
    """
    rows, cols, nb = x.shape
    smax = sw.max()
    res = np.zeros(nb)
    res_old = np.full(nb, np.inf)
    i_max = np.zeros(nb)
    xmax = np.zeros(nb)
    # b = A_b^-1 G (u + x) for the guess, and the guess's own word residual (into t)
    _residual(gd, sw, lb, ib, v_in, x, t, b)
    _max_abs(t, res)
    _max_abs(x, xmax)
    for k in range(nb):
        for i in range(rows):
            i_max[k] = max(i_max[k], sw[i, 0] * abs(x[i, 0, k]))
    it = 0
    status = CONVERGED
    bits = b
    swapped = False
    while True:
        done = True
        slow = False
        for k in range(nb):
            tol = max(rtol * i_max[k], FLOOR_ULPS * EPS * smax * xmax[k])
            if not res[k] <= tol:
                done = False
                if res[k] > SLOW * res_old[k]:
                    slow = True
        if done:
            break
        if it >= maxiter:
            status = BUDGET
            break
        if slow:
            status = SLOW_CONTRACTION
            break
        it += 1
        res_old[:] = res
        i_max[:] = 0.0
        xmax[:] = 0.0
        # pass 1, down the rows: word line i solved for the bits, then its row of the bit
        # right-hand side G (u + x) forward-eliminated along the bit lines
        for i in range(rows):
            for k in range(nb):
                x[i, 0, k] = gd[i, 0] * (bits[i, 0, k] - v_in[i, k])
            for j in range(1, cols):
                g = gd[i, j]
                m = lw[i, j]
                for k in range(nb):
                    x[i, j, k] = g * (bits[i, j, k] - v_in[i, k]) - m * x[i, j - 1, k]
            d = iw[i, cols - 1]
            for k in range(nb):
                x[i, cols - 1, k] *= d
            for j in range(cols - 2, -1, -1):
                d = iw[i, j]
                m = lw[i, j + 1]
                for k in range(nb):
                    x[i, j, k] = x[i, j, k] * d - m * x[i, j + 1, k]
            s0 = sw[i, 0]
            for k in range(nb):
                i_max[k] = max(i_max[k], s0 * abs(x[i, 0, k]))
            for j in range(cols):
                g = gd[i, j]
                m = lb[i, j]
                for k in range(nb):
                    xv = x[i, j, k]
                    xmax[k] = max(xmax[k], abs(xv))
                    tt = g * (v_in[i, k] + xv)
                    if i > 0:
                        tt -= m * t[i - 1, j, k]
                    t[i, j, k] = tt
        # pass 2, up the rows: back substitution of the bits, residual G (b' - b)
        res[:] = 0.0
        for i in range(rows - 1, -1, -1):
            for j in range(cols):
                d = ib[i, j]
                g = gd[i, j]
                if i + 1 < rows:
                    m = lb[i + 1, j]
                    for k in range(nb):
                        tt = t[i, j, k] * d - m * t[i + 1, j, k]
                        t[i, j, k] = tt
                        res[k] = max(res[k], abs(g * (tt - bits[i, j, k])))
                else:
                    for k in range(nb):
                        tt = t[i, j, k] * d
                        t[i, j, k] = tt
                        res[k] = max(res[k], abs(g * (tt - bits[i, j, k])))
        bits, t = t, bits
        swapped = not swapped
    if swapped:
        b[:] = bits
    return it, status


@njit(cache=True, nogil=True)
def line_relax1(gd, sw, lw, iw, lb, ib, v_in, x, rtol, maxiter, b, t):
    """:func:`line_relax` for one right-hand side: ``v_in`` (R,), ``x``, ``b``, ``t`` (R, C).

    The word-line recurrences run ``GROUP`` lines at a time, interleaved, so that their
    latency chains overlap; the bit lines advance together."""
    rows, cols = x.shape
    smax = sw.max()
    _residual1(gd, sw, lb, ib, v_in, x, t, b)  # bits of the guess into b, residual into t
    res = 0.0
    xmax = 0.0
    i_max = 0.0
    for i in range(rows):
        for j in range(cols):
            res = max(res, abs(t[i, j]))
            xmax = max(xmax, abs(x[i, j]))
        i_max = max(i_max, sw[i, 0] * abs(x[i, 0]))
    res_old = np.inf
    it = 0
    status = CONVERGED
    bits = b
    swapped = False
    while True:
        if res <= max(rtol * i_max, FLOOR_ULPS * EPS * smax * xmax):
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
def solve_lines(gd, sw, sb, lw, iw, lb, ib, v_in, x, rtol, maxiter, b, t):
    """Word-line drops ``x`` (in place, from the guess in ``x``) and bit voltages ``b`` of a
    batch: :func:`line_relax`, continued by :func:`schur_pcg` from its iterate when the
    relaxation contracts slowly (resistive lines). Returns sweeps plus CG iterations, or -1
    if ``maxiter`` (shared by both) ran out."""
    sweeps, status = line_relax(gd, sw, lw, iw, lb, ib, v_in, x, rtol, maxiter, b, t)
    if status == CONVERGED:
        return sweeps
    if status == BUDGET:
        return -1
    rows, cols, nb = x.shape
    work = np.empty((5, rows, cols, nb))
    its = schur_pcg(gd, sw, sb, lw, iw, lb, ib, v_in, x, rtol, maxiter - sweeps, work)
    b[:] = work[4]
    return -1 if its < 0 else sweeps + its


@njit(cache=True, nogil=True)
def solve_lines1(gd, sw, lw, iw, lb, ib, v_in, x, rtol, maxiter, b, t):
    """:func:`solve_lines` for one right-hand side (2-D arrays)."""
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


@njit(cache=True)
def crossbar_voltages(dev, seg_word, seg_bit, g, v_in, v_word_guess, rtol, maxiter):
    """Word- and bit-line voltages of a crossbar, callable from other jitted code.

    All inputs driven, all outputs at 0 V, every line segment of positive conductance.

    Parameters
    ----------
    dev, seg_word, seg_bit : int64 (R, C)
        Edge indices of the cell devices and of the segments ``sw[i, j]`` / ``sb[i, j]``
        (see :func:`line_factors` and :func:`crossbar_segments`).
    g : float64 (E,)
        Conductances of all edges.
    v_in : float64 (R,)
        Input voltage of each word line.
    v_word_guess : float64 (R, C)
        Initial guess of the word-line voltages, e.g. the previous time step's solution
        (``v_in`` broadcast along the lines is the ideal-line guess).
    rtol : float
        Stopping tolerance, see :func:`schur_pcg`.
    maxiter : int
        Iteration budget.

    Returns
    -------
    v_word, v_bit : (R, C)
        Node voltages; the device of cell (i, j) sees ``v_word[i, j] - v_bit[i, j]``.
    iterations : int
        CG iterations used, -1 if the budget ran out (the caller decides what to do).

    Examples
    --------
    >>> import numpy as np, memsim
    >>> from memsim.solve.crossbar import crossbar_segments, crossbar_voltages
    >>> net = memsim.crossbar(4, 6, device=memsim.devices.Resistor(1e4), r_line=1.0)
    >>> seg_word, seg_bit = crossbar_segments(net)
    >>> g = memsim.devices.conductances(net.model, net.x0, net.params)
    >>> v_in = np.full(4, 0.5)
    >>> v_word, v_bit, its = crossbar_voltages(net.layout.device, seg_word, seg_bit, g, v_in,
    ...                                         np.full((4, 6), 0.5), 1e-12, 100)
    >>> bool(its > 0 and np.all(v_word <= 0.5) and np.all(v_bit >= 0))
    True
    >>> _, _, again = crossbar_voltages(net.layout.device, seg_word, seg_bit, g, v_in,
    ...                                 v_word, 1e-12, 100)  # warm start at the solution
    >>> again
    0
    """
    rows, cols = dev.shape
    gd = np.empty((rows, cols))
    sw = np.empty((rows, cols))
    sb = np.empty((rows, cols))
    for i in range(rows):
        for j in range(cols):
            gd[i, j] = g[dev[i, j]]
            sw[i, j] = g[seg_word[i, j]]
            sb[i, j] = g[seg_bit[i, j]]
    lw, iw, lb, ib = line_factors(gd, sw, sb)
    x = np.empty((rows, cols))
    for i in range(rows):
        for j in range(cols):
            x[i, j] = v_word_guess[i, j] - v_in[i]
    v_bit = np.empty((rows, cols))
    iterations = solve_lines1(gd, sw, lw, iw, lb, ib, v_in, x, rtol, maxiter, v_bit,
                              np.empty((rows, cols)))
    for i in range(rows):
        for j in range(cols):
            x[i, j] += v_in[i]
    return x, v_bit, iterations


@njit(cache=True)
def crossbar_node_voltages(word, bit, dev, seg_word, seg_bit, in_nodes, g, fixed, v_guess,
                           rtol, maxiter):
    """:func:`crossbar_voltages` on whole node vectors, for a transient loop's solver slot.

    Parameters
    ----------
    word, bit, dev, seg_word, seg_bit : int64 (R, C)
        Node indices of the line nodes (``layout.word`` / ``layout.bit``), edge indices of the
        devices (``layout.device``) and of the segments (:func:`crossbar_segments`).
    in_nodes : int64 (R,)
        Input node of each word line (``net.inputs``).
    g : (E,)
        Edge conductances.
    fixed : (N,)
        Voltages of the fixed nodes (inputs: their drive; outputs: 0); other entries ignored.
    v_guess : (N,)
        Previous node voltages (warm start); only the word-line entries are read.
    rtol, maxiter
        As in :func:`crossbar_voltages`.

    Returns
    -------
    v : (N,)
        All node voltages (terminals copied from ``fixed``).
    iterations : int
        CG iterations, -1 if the budget ran out.
    """
    rows, cols = word.shape
    v_in = np.empty(rows)
    guess = np.empty((rows, cols))
    for i in range(rows):
        v_in[i] = fixed[in_nodes[i]]
        for j in range(cols):
            guess[i, j] = v_guess[word[i, j]]
    v_word, v_bit, iterations = crossbar_voltages(dev, seg_word, seg_bit, g, v_in, guess,
                                                  rtol, maxiter)
    v = fixed.copy()
    for i in range(rows):
        for j in range(cols):
            v[word[i, j]] = v_word[i, j]
            v[bit[i, j]] = v_bit[i, j]
    return v, iterations


@njit(cache=True, nogil=True)
def _scatter(word, bit, v_in, x, bits, v, start):
    """Word and bit voltages of a chunk of right-hand sides into the node array v (N, B).

    Written in node order (:func:`memsim.crossbar` numbers word nodes row by row and bit nodes
    line by line): twice as fast as one (i, j) loop for both."""
    rows, cols, nb = x.shape
    for i in range(rows):
        for j in range(cols):
            a = word[i, j]
            for k in range(nb):
                v[a, start + k] = v_in[i, k] + x[i, j, k]
    for j in range(cols):
        for i in range(rows):
            b = bit[i, j]
            for k in range(nb):
                v[b, start + k] = bits[i, j, k]


# --------------------------------------------------------------------------- Python layer
_SEGMENT_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _find_edges(net: Network, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """Edge index joining a[k] and b[k] (either orientation) for every k, or None."""
    n = np.int64(net.n_nodes)
    e = net.edges
    keys = np.minimum(e[:, 0], e[:, 1]) * n + np.maximum(e[:, 0], e[:, 1])
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    if np.any(sk[1:] == sk[:-1]):
        return None  # parallel edges: not the plain crossbar structure
    want = np.minimum(a, b) * n + np.maximum(a, b)
    pos = np.searchsorted(sk, want.ravel())
    pos = np.minimum(pos, len(sk) - 1)
    if not np.array_equal(sk[pos], want.ravel()):
        return None
    return order[pos].reshape(want.shape)


def crossbar_segments(net: Network) -> tuple[np.ndarray, np.ndarray] | None:
    """Edge indices ``(seg_word, seg_bit)`` (R, C) of a crossbar's line segments.

    ``seg_word[i, j]`` joins word node (i, j) to its left neighbour (``j = 0``: to input
    ``net.inputs[i]``); ``seg_bit[i, j]`` joins bit node (i, j) to the node below
    (``i = R - 1``: to output ``net.outputs[j]``). Returns None unless ``net`` has exactly the
    structure of :func:`memsim.crossbar` with resistive word and bit lines (no extra edges or
    nodes, no ground nodes). The result is cached per network.

    Examples
    --------
    >>> import memsim
    >>> from memsim.solve.crossbar import crossbar_segments
    >>> net = memsim.crossbar(2, 3, device=memsim.devices.Resistor(1e3), r_line=0.5)
    >>> seg_word, seg_bit = crossbar_segments(net)
    >>> [net.edge_names[k] for k in seg_word[1]]
    ['rw1_0', 'rw1_1', 'rw1_2']
    """
    if net in _SEGMENT_CACHE:
        return _SEGMENT_CACHE[net]
    found = _segments(net)
    _SEGMENT_CACHE[net] = found
    return found


def _segments(net: Network) -> tuple[np.ndarray, np.ndarray] | None:
    lay = net.layout
    if lay is None or not (lay.r_word > 0 and lay.r_bit > 0):
        return None
    rows, cols = lay.rows, lay.cols
    if (len(net.inputs) != rows or len(net.outputs) != cols or net.n_edges != 3 * rows * cols
            or net.n_nodes != rows + cols + 2 * rows * cols
            or np.any(net.roles == Role.GROUND)):
        return None
    word, bit = np.asarray(lay.word), np.asarray(lay.bit)
    nodes = np.concatenate([word.ravel(), bit.ravel(), net.inputs, net.outputs])
    if not np.all(np.bincount(nodes, minlength=net.n_nodes) == 1):
        return None
    dev = np.asarray(lay.device)
    if not (np.array_equal(np.minimum(net.edges[dev, 0], net.edges[dev, 1]),
                           np.minimum(word, bit))
            and np.array_equal(np.maximum(net.edges[dev, 0], net.edges[dev, 1]),
                               np.maximum(word, bit))):
        return None
    left = np.concatenate([net.inputs[:, None], word[:, :-1]], axis=1)
    below = np.concatenate([bit[1:], net.outputs[None, :]], axis=0)
    seg_word = _find_edges(net, left, word)
    seg_bit = _find_edges(net, bit, below)
    if seg_word is None or seg_bit is None:
        return None
    used = np.concatenate([dev.ravel(), seg_word.ravel(), seg_bit.ravel()])
    if not np.all(np.bincount(used, minlength=net.n_edges) == 1):
        return None
    return seg_word.astype(np.int64), seg_bit.astype(np.int64)


def crossbar_applicable(net: Network, g: np.ndarray, driven: np.ndarray,
                        grounded: np.ndarray) -> bool:
    """Whether :class:`CrossbarSystem` can solve ``net`` with conductances ``g``.

    Needs the plain crossbar structure with resistive lines (see :func:`crossbar_segments`),
    every input driven, every output grounded and every line segment conducting.
    """
    if not (np.all(driven) and np.all(grounded)):
        return False
    segs = crossbar_segments(net)
    if segs is None or net.layout is None:
        return False
    g = np.asarray(g, float)
    if g.shape != (net.n_edges,) or not np.isfinite(g).all():
        return False
    return bool(np.all(g[segs[0]] > 0) and np.all(g[segs[1]] > 0)
                and np.all(g[np.asarray(net.layout.device)] >= 0))


class CrossbarSystem:
    """The crossbar's nodal system, solved by Schur-complement CG (see the module notes).

    Same contract as :class:`~memsim.solve.dc.NodalSystem`: build once for a set of
    conductances, then :meth:`solve` any number of input vectors.

    Parameters
    ----------
    net : Network
        A crossbar from :func:`memsim.crossbar` with ``r_line > 0`` on both line kinds.
    g : ndarray (E,)
        Edge conductances in siemens.
    terms : Terminals
        Must drive every input and ground every output.
    rtol : float
        Word-node KCL residual allowed, relative to the largest input current (so also to the
        largest edge current); see :func:`schur_pcg`. The default 1e-12 gives output currents
        within ~1e-12 relative of a direct solve.
    maxiter : int, optional
        CG iteration budget per chunk of right-hand sides (default
        ``MAXITER_PER_LINE * (rows + cols)``; typical runs need 4-8, lines as resistive as the
        devices a few dozen). :func:`~memsim.solve_dc` with ``method="auto"`` falls back to
        the direct solver if the budget runs out.
    threads : int, optional
        Threads that solve chunks of ``CHUNK`` right-hand sides concurrently (default
        :data:`THREADS`); one chunk always runs on the calling thread.

    Attributes
    ----------
    iterations : list of int
        CG iterations of each chunk of right-hand sides in the last :meth:`solve`.

    Raises
    ------
    ParameterError
        If the network, conductances or terminals do not fit (use ``NodalSystem`` then), ``g``
        has the wrong length, or ``rtol`` is not positive.

    Examples
    --------
    >>> import numpy as np, memsim
    >>> from memsim.solve.crossbar import CrossbarSystem
    >>> from memsim.solve.dc import terminals
    >>> net = memsim.crossbar(3, 4, device=memsim.devices.Resistor(1e4), r_line=0.5)
    >>> g = memsim.devices.conductances(net.model, net.x0, net.params)
    >>> v = CrossbarSystem(net, g, terminals(net)).solve(np.ones((3, 2)))
    >>> v.shape  # 3 inputs + 4 outputs + 2 * 12 line nodes, 2 input vectors
    (31, 2)
    >>> direct = memsim.solve.NodalSystem(net, g, terminals(net)).solve(np.ones((3, 2)))
    >>> bool(np.abs(v - direct).max() < 1e-12)
    True
    """

    def __init__(self, net: Network, g: np.ndarray, terms: Terminals, *, rtol: float = RTOL,
                 maxiter: int | None = None, threads: int | None = None):
        self.net, self.g, self.terms = net, np.asarray(g, float), terms
        if self.g.shape != (net.n_edges,):
            raise ParameterError("g", f"needs one conductance per edge ({net.n_edges})")
        if not crossbar_applicable(net, self.g, terms.driven, terms.grounded):
            raise ParameterError(
                "method", f"{net.name!r} is not a crossbar with resistive lines, all inputs "
                "driven and all outputs grounded; use the direct solver (method='direct')")
        if not (np.isfinite(rtol) and rtol > 0):
            raise ParameterError("rtol", f"must be a positive tolerance, got {rtol!r}")
        lay = net.layout
        assert lay is not None
        self.rows, self.cols = lay.rows, lay.cols
        self.rtol = float(rtol)
        self.maxiter = (int(maxiter) if maxiter is not None
                        else MAXITER_PER_LINE * (self.rows + self.cols))
        self.seg_word, self.seg_bit = crossbar_segments(net)  # type: ignore[misc]
        self.dev = np.ascontiguousarray(lay.device, dtype=np.int64)
        self.word = np.asarray(lay.word)
        self.bit = np.asarray(lay.bit)
        self.gd = np.ascontiguousarray(self.g[self.dev])
        self.sw = np.ascontiguousarray(self.g[self.seg_word])
        self.sb = np.ascontiguousarray(self.g[self.seg_bit])
        self.factors = line_factors(self.gd, self.sw, self.sb)
        self.floating = np.zeros(net.n_nodes, bool)
        self.iterations: list[int] = []
        self.threads = THREADS if threads is None else max(1, int(threads))

    def solve(self, v_in: np.ndarray) -> np.ndarray:
        """Node voltages (N, B) for input voltages ``v_in`` (n_inputs, B).

        Raises
        ------
        ParameterError
            If ``v_in`` is not (n_inputs, B).
        SolverError
            If CG misses the tolerance within ``maxiter`` iterations.
        """
        net = self.net
        v_in = np.asarray(v_in, float)
        if v_in.ndim != 2 or v_in.shape[0] != self.rows:
            raise ParameterError("inputs", f"need ({self.rows}, batch) input voltages, got "
                                 f"shape {v_in.shape}")
        batch = v_in.shape[1]
        v = np.empty((net.n_nodes, batch))
        v[net.inputs] = v_in
        v[net.outputs] = 0.0
        starts = range(0, batch, CHUNK)
        threads = min(self.threads, len(starts))
        if threads > 1:  # chunks are independent; the kernels release the GIL
            with ThreadPoolExecutor(threads) as pool:
                its = list(pool.map(lambda s: self._chunk(v_in, v, s), starts))
        else:
            its = [self._chunk(v_in, v, s) for s in starts]
        self.iterations = its
        if min(its) < 0:
            raise SolverError(
                f"crossbar CG on {net.name!r} missed rtol={self.rtol:g} in "
                f"{self.maxiter} iterations; use method='direct'")
        return v

    def _chunk(self, v_in: np.ndarray, v: np.ndarray, start: int) -> int:
        """Solve right-hand sides ``start:start + CHUNK`` into the columns of ``v``."""
        lw, iw, lb, ib = self.factors
        vin = np.ascontiguousarray(v_in[:, start:start + CHUNK])
        width = vin.shape[1]
        if width == 1:  # the 2-D kernels avoid a length-1 inner loop
            x1 = np.zeros((self.rows, self.cols))
            b1 = np.empty((self.rows, self.cols))
            its = solve_lines1(self.gd, self.sw, lw, iw, lb, ib, vin[:, 0], x1, self.rtol,
                               self.maxiter, b1, np.empty_like(b1))
            x, bits = x1[..., None], b1[..., None]
        else:
            x = np.zeros((self.rows, self.cols, width))
            bits = np.empty_like(x)
            its = solve_lines(self.gd, self.sw, self.sb, lw, iw, lb, ib, vin, x, self.rtol,
                              self.maxiter, bits, np.empty_like(x))
        if its >= 0:
            _scatter(self.word, self.bit, vin, x, bits, v, start)
        return int(its)


# --------------------------------------------------------------------------- NumPy twins
def line_matrices_np(gd: np.ndarray, sw: np.ndarray, sb: np.ndarray):
    """The blocks ``A_w``, ``A_b`` (sparse, cell (i, j) at index ``i * C + j``) and ``G``.

    Plain scipy twin of what :func:`line_factors` factorizes; used by the tests.
    """
    import scipy.sparse as sp

    rows, cols = gd.shape
    n = rows * cols
    right = np.zeros((rows, cols))  # segment to the right of word node (i, j)
    right[:, :-1] = sw[:, 1:]
    above = np.zeros((rows, cols))  # segment above bit node (i, j)
    above[1:, :] = sb[:-1, :]
    a_w = sp.diags([(gd + sw + right).ravel(), -right.ravel()[:-1], -right.ravel()[:-1]],
                   [0, 1, -1], shape=(n, n), format="csc")
    below = sb.copy()
    below[-1, :] = 0.0  # the last segment goes to the (grounded) output
    a_b = sp.diags([(gd + sb + above).ravel(), -below.ravel()[:-cols],
                    -below.ravel()[:-cols]], [0, cols, -cols], shape=(n, n), format="csc")
    return a_w, a_b, gd.ravel().copy()


def _twin_setup(gd: np.ndarray, sw: np.ndarray, sb: np.ndarray, v_in: np.ndarray,
                x0: np.ndarray | None):
    """What both twins start from: ``A_w``, ``G``, the splu factors of ``A_w`` and ``A_b``, the
    initial drops (R, C, B) and room for the bit voltages."""
    import scipy.sparse.linalg as spla

    a_w, a_b, g = line_matrices_np(gd, sw, sb)
    shape = gd.shape + (v_in.shape[1],)
    xs = np.zeros(shape) if x0 is None else np.array(x0, float)
    return a_w, g, spla.splu(a_w), spla.splu(a_b), xs, np.zeros(shape)


def schur_pcg_np(gd: np.ndarray, sw: np.ndarray, sb: np.ndarray, v_in: np.ndarray,
                 x0: np.ndarray | None = None, rtol: float = RTOL,
                 maxiter: int = 1000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plain NumPy/scipy twin of :func:`schur_pcg` + :func:`bit_voltages` (tests only).

    Same algorithm and stopping rule, one right-hand side at a time, with ``A_w`` and ``A_b``
    assembled by :func:`line_matrices_np` and factorized by ``scipy.sparse.linalg.splu``.

    Returns
    -------
    x, bits : (R, C, B)
        Word-line drops ``w - v_in`` and bit-line voltages.
    iterations : (B,) int, -1 where the budget ran out.
    """
    rows, cols = gd.shape
    batch = v_in.shape[1]
    a_w, g, lu_w, lu_b, xs, bits = _twin_setup(gd, sw, sb, v_in, x0)
    its = np.zeros(batch, np.int64)
    smax = sw.max()
    for k in range(batch):
        u = np.repeat(v_in[:, k], cols)
        x = xs[:, :, k].ravel().copy()
        drive = np.max(gd.sum(axis=1) * np.abs(v_in[:, k]))
        it = 0
        while drive > 0:
            floor = FLOOR_ULPS * EPS * smax * np.max(np.abs(x))
            r = g * (lu_b.solve(g * (u + x)) - u) - a_w @ x
            if np.max(np.abs(r)) <= max(rtol * np.max(sw[:, 0] * np.abs(x[::cols])), floor):
                break
            if it >= maxiter:
                it = -1
                break
            z = lu_w.solve(r)
            p, rz = z.copy(), r @ z
            while it < maxiter:
                it += 1
                q = a_w @ p - g * lu_b.solve(g * p)
                pq = p @ q
                if not pq > 0:
                    break
                alpha = rz / pq
                x += alpha * p
                r -= alpha * q
                tol = max(rtol * np.max(sw[:, 0] * np.abs(x[::cols])), floor)
                if np.max(np.abs(r)) <= tol:
                    break
                z = lu_w.solve(r)
                rz_new = r @ z
                p = z + (rz_new / rz) * p
                rz = rz_new
        if drive == 0:
            x[:] = 0.0
        xs[:, :, k] = x.reshape(rows, cols)
        bits[:, :, k] = lu_b.solve(g * (u + x)).reshape(rows, cols)
        its[k] = it
    return xs, bits, its


def line_relax_np(gd: np.ndarray, sw: np.ndarray, sb: np.ndarray, v_in: np.ndarray,
                  x0: np.ndarray | None = None, rtol: float = RTOL,
                  maxiter: int = 1000) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Plain NumPy/scipy twin of :func:`line_relax` (tests only), one right-hand side at a time.

    Returns
    -------
    x, bits : (R, C, B)
        Word-line drops and bit-line voltages.
    sweeps, status : (B,) int
        Sweeps used and the :func:`line_relax` status of each right-hand side.
    """
    rows, cols = gd.shape
    batch = v_in.shape[1]
    a_w, g, lu_w, lu_b, xs, bits = _twin_setup(gd, sw, sb, v_in, x0)
    sweeps = np.zeros(batch, np.int64)
    status = np.full(batch, CONVERGED, np.int64)
    smax = sw.max()
    for k in range(batch):
        u = np.repeat(v_in[:, k], cols)
        x = xs[:, :, k].ravel().copy()
        b = lu_b.solve(g * (u + x))
        res, res_old = np.max(np.abs(g * (b - u) - a_w @ x)), np.inf
        while True:
            tol = max(rtol * np.max(sw[:, 0] * np.abs(x[::cols])),
                      FLOOR_ULPS * EPS * smax * np.max(np.abs(x)))
            if res <= tol:
                break
            if sweeps[k] >= maxiter:
                status[k] = BUDGET
                break
            if res > SLOW * res_old:
                status[k] = SLOW_CONTRACTION
                break
            sweeps[k] += 1
            res_old = res
            x = lu_w.solve(g * (b - u))
            b_new = lu_b.solve(g * (u + x))
            res = np.max(np.abs(g * (b_new - b)))
            b = b_new
        xs[:, :, k] = x.reshape(rows, cols)
        bits[:, :, k] = b.reshape(rows, cols)
    return xs, bits, sweeps, status
