"""The batched crossbar kernel: two-level line relaxation with Chebyshev acceleration.

A sweep is two passes over the array, each streaming the rows once with every cell's batch
of right-hand sides as the vectorized inner loop:

* pass B, down the rows: the bit voltages of the iterate (the last sweep's ``b'`` plus the
  coarse correction, combined with the two previous iterates by the Chebyshev weights), the
  word line solved for them, ``x = A_w^-1 G (b - u)``, and its row of the bit lines'
  right-hand side ``G (u + x)`` forward-eliminated;
* pass A, up the rows: back substitution of the bit lines, ``b' = A_b^-1 G (u + x)``, with
  the word-node residual ``G (b' - b)`` of the pair ``(x, b')`` (bit-node KCL is exact), its
  maximum per right-hand side (the stopping rule, :mod:`.stopping`) and its restriction to
  the coarse space (:mod:`.coarse`).

Between the passes the coarse system (``ma * mc`` unknowns per right-hand side) is solved.
The first :data:`PLAIN` sweeps are the plain two-level iteration; the residual ratio of the
last of them, times :data:`SAFETY`, estimates the radius ``rho`` for the Chebyshev weights
(:func:`~memsim.solve.crossbar.coarse.chebyshev_weights`). Should a residual grow, the
estimate is raised and the acceleration restarts. The iteration stops when every right-hand
side meets the stopping rule; the drops ``x`` of that pair are then recomputed from its
``b`` in one last pass.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from memsim.solve.crossbar.coarse import MA, chebyshev_weights
from memsim.solve.crossbar.factors import solve_bit
from memsim.solve.crossbar.single import BUDGET, CONVERGED, SLOW, SLOW_CONTRACTION
from memsim.solve.crossbar.stopping import tolerance

__all__ = ["PLAIN", "RHO_MAX", "SAFETY", "bit_voltages", "line_relax", "solve_lines",
           "two_level_solve"]

assert MA == 4, "pass B spells out the MA = 4 prolongation terms"

PLAIN = 2
"""Plain two-level sweeps before Chebyshev acceleration starts (the second one's residual
ratio estimates the contraction rate)."""

SAFETY = 1.1
"""Factor on the estimated rate: Chebyshev weights for a slightly larger radius lose little,
for a smaller one they let the modes above it grow."""

CONTRACT = {"contract"}
"""The sweep kernels let LLVM fuse multiply-adds (one rounding instead of two: the
iteration's values change in the last bit, the stopping rule is the same)."""

RHO_MAX = 0.98
"""Largest radius the weights are built for."""


@njit(cache=True, nogil=True, fastmath=CONTRACT)
def _pass_b(gd, lw, iw, lb, q, e, v_in, t, b_cur, b_old, alpha, beta, delta, xrow, i_max,
            x_max, sw):
    """b_old <- alpha (t + Y c) + beta b_cur + delta b_old; word lines solved for it (drops
    into xrow, row by row); t <- forward-eliminated G (u + x). Accumulates i_max, x_max.

    Two loops over each row: down it (the new bit voltages and the forward recurrence of the
    word line), back up it (back substitution, the row of the bit-line elimination). Arrays
    are indexed in full, never sliced: a slice in a hot loop costs a reference count."""
    rows, cols, nb = t.shape
    i_max[:] = 0.0
    x_max[:] = 0.0
    for i in range(rows):
        for j in range(cols):
            g = gd[i, j]
            m = lw[i, j]  # 0 at j = 0
            jp = j - 1 if j > 0 else 0
            q0, q1, q2, q3 = q[i, j, 0], q[i, j, 1], q[i, j, 2], q[i, j, 3]
            for k in range(nb):
                bh = (t[i, j, k] + q0 * e[0, j, k] + q1 * e[1, j, k] + q2 * e[2, j, k]
                      + q3 * e[3, j, k])
                bn = alpha * bh + beta * b_cur[i, j, k] + delta * b_old[i, j, k]
                b_old[i, j, k] = bn
                xrow[j, k] = g * (bn - v_in[i, k]) - m * xrow[jp, k]
        im = i - 1 if i > 0 else 0
        for j in range(cols - 1, -1, -1):
            d = iw[i, j]
            mn = lw[i, j + 1] if j + 1 < cols else 0.0
            jn = j + 1 if j + 1 < cols else j
            g = gd[i, j]
            mb = lb[i, j]  # 0 at i = 0
            for k in range(nb):
                xx = xrow[j, k] * d - mn * xrow[jn, k]
                xrow[j, k] = xx
                ax = abs(xx)
                x_max[k] = ax if ax > x_max[k] else x_max[k]
                t[i, j, k] = g * (v_in[i, k] + xx) - mb * t[im, j, k]
        s0 = sw[i, 0]
        for k in range(nb):
            a = s0 * abs(xrow[0, k])
            i_max[k] = a if a > i_max[k] else i_max[k]


@njit(cache=True, nogil=True, fastmath=CONTRACT)
def _pass_a(gd, lb, ib, a0, wa, c0, wc, mc, t, b_cur, res, acc, crhs):
    """t <- A_b^-1 t (back substitution, up the rows); res[k] = max |G (t - b_cur)|, the
    word-node residual, restricted to the coarse space into crhs (acc: row scratch)."""
    rows, cols, nb = t.shape
    res[:] = 0.0
    crhs[:, :] = 0.0
    for i in range(rows - 1, -1, -1):
        acc[:, :] = 0.0
        ip = i + 1 if i + 1 < rows else i
        for j in range(cols):
            d = ib[i, j]
            m = lb[i + 1, j] if i + 1 < rows else 0.0
            g = gd[i, j]
            w0, w1 = wc[j, 0], wc[j, 1]
            c = c0[j]
            for k in range(nb):
                tt = t[i, j, k] * d - m * t[ip, j, k]
                t[i, j, k] = tt
                r = g * (tt - b_cur[i, j, k])
                ar = abs(r)
                res[k] = ar if ar > res[k] else res[k]
                acc[c, k] += w0 * r
                acc[c + 1, k] += w1 * r
        a = a0[i]
        u0, u1 = wa[i, 0], wa[i, 1]
        for c in range(mc):
            for k in range(nb):
                crhs[a * mc + c, k] += u0 * acc[c, k]
                crhs[(a + 1) * mc + c, k] += u1 * acc[c, k]


@njit(cache=True, nogil=True, fastmath=CONTRACT)
def _coarse_correction(e_inv, c0, wc, mc, crhs, e):
    """e[a, j, k] = sum_c (E^-1 crhs)[a * mc + c, k] h_c(j): the coarse correction's factor
    per bit line (Y c = sum_a q_a e_a)."""
    m = e_inv.shape[0]
    nb = crhs.shape[1]
    cc = np.zeros((m, nb))
    for p in range(m):
        for r in range(m):
            w = e_inv[p, r]
            for k in range(nb):
                cc[p, k] += w * crhs[r, k]
    ma = m // mc
    cols = c0.shape[0]
    for a in range(ma):
        for j in range(cols):
            c1 = c0[j] + 1 if c0[j] + 1 < mc else c0[j]
            w0, w1 = wc[j, 0], wc[j, 1]
            for k in range(nb):
                e[a, j, k] = w0 * cc[a * mc + c0[j], k] + w1 * cc[a * mc + c1, k]


@njit(cache=True, nogil=True)
def _word_line(gd, lw, iw, v_in, b, x, i):
    """Word line i solved for bit voltages ``b``: ``x[i] = (A_w)_i^-1 G_i (b[i] - u_i)``."""
    cols, nb = x.shape[1], x.shape[2]
    for k in range(nb):
        x[i, 0, k] = gd[i, 0] * (b[i, 0, k] - v_in[i, k])
    for j in range(1, cols):
        g = gd[i, j]
        m = lw[i, j]
        for k in range(nb):
            x[i, j, k] = g * (b[i, j, k] - v_in[i, k]) - m * x[i, j - 1, k]
    d = iw[i, cols - 1]
    for k in range(nb):
        x[i, cols - 1, k] *= d
    for j in range(cols - 2, -1, -1):
        d = iw[i, j]
        m = lw[i, j + 1]
        for k in range(nb):
            x[i, j, k] = x[i, j, k] * d - m * x[i, j + 1, k]


@njit(cache=True, nogil=True)
def _word_drops(gd, lw, iw, v_in, b, x):
    """x = A_w^-1 G (b - u): the IR drops whose bit voltages are ``b``."""
    for i in range(x.shape[0]):
        _word_line(gd, lw, iw, v_in, b, x, i)


@njit(cache=True, nogil=True)
def two_level_solve(gd, sw, lw, iw, lb, ib, a0, wa, c0, wc, q, e_inv, mc, v_in, rtol,
                    maxiter, x, bits, b_start, work):
    """IR drops ``x`` and bit voltages ``bits`` (R, C, B) of a batch by the two-level
    Chebyshev iteration of the module notes, from the bit voltages ``b_start`` (``v_in``
    along each row: the ideal-line start; ``b_start`` may be ``bits``).

    Parameters
    ----------
    gd, sw : (R, C)
        Device and word-segment conductances.
    lw, iw, lb, ib : (R, C)
        Line factors (:func:`~memsim.solve.crossbar.factors.line_factors`).
    a0, wa, c0, wc, q, e_inv
        The coarse space (:class:`~memsim.solve.crossbar.coarse.Coarse`); ``mc`` its number
        of hats along the word lines.
    v_in : (R, B)
        Input voltages.
    rtol : float
        See :mod:`memsim.solve.crossbar.stopping`.
    maxiter : int
        Sweep budget.
    x, bits : (R, C, B)
        Outputs.
    b_start : (R, C, B)
        Initial bit voltages: the first sweep solves the word lines for them.
    work : (2, R, C, B)
        Scratch (the iterate and its predecessor), overwritten: a caller that solves again
        and again passes the same one instead of paying fresh pages each time.

    Returns
    -------
    int
        Sweeps used, or -1 if the budget ran out first (``x``, ``bits`` are then unset).
    """
    rows, cols, nb = x.shape
    m = e_inv.shape[0]
    s_max = sw.max()
    b_cur = work[0]
    b_cur[:, :, :] = b_start
    b_old = work[1]
    b_old[:, :, :] = 0.0  # read (times delta = 0) by the first pass B
    t = bits
    t[:, :, :] = 0.0
    xrow = np.zeros((cols, nb))
    acc = np.zeros((mc + 1, nb))
    crhs = np.zeros((m + mc, nb))
    e = np.zeros((MA, cols, nb))
    res = np.zeros(nb)
    res_old = np.zeros(nb)
    i_max = np.zeros(nb)
    x_max = np.zeros(nb)
    alpha, beta, delta = 0.0, 1.0, 0.0  # the first pass B takes b = u as it is
    rho = 0.0
    omega = 1.0
    step = 0  # Chebyshev step; 0: plain two-level sweeps
    sweeps = 0
    while True:
        _pass_b(gd, lw, iw, lb, q, e, v_in, t, b_cur, b_old, alpha, beta, delta, xrow, i_max,
                x_max, sw)
        b_cur, b_old = b_old, b_cur
        _pass_a(gd, lb, ib, a0, wa, c0, wc, mc, t, b_cur, res, acc, crhs)
        sweeps += 1
        done = True
        grew = False
        ratio = 0.0
        for k in range(nb):
            if not res[k] <= tolerance(rtol, i_max[k], s_max, x_max[k]):
                done = False
                if res_old[k] > 0.0:
                    ratio = max(ratio, res[k] / res_old[k])
                    if step > 0 and res[k] > res_old[k]:
                        grew = True
        if done:
            _word_drops(gd, lw, iw, v_in, b_cur, x)
            return sweeps
        if sweeps >= maxiter:
            return -1
        _coarse_correction(e_inv, c0, wc, mc, crhs, e)
        if step == 0 and sweeps > PLAIN:
            rho = min(RHO_MAX, SAFETY * ratio)
            step = 1
        elif grew:  # the estimate was too small: raise it and restart the acceleration
            rho = min(RHO_MAX, max(1.5 * rho, SAFETY * ratio))
            step = 1
        elif step > 0:
            step += 1
        alpha, beta, delta, omega = chebyshev_weights(rho, omega, step)
        res_old[:] = res


@njit(cache=True)
def _residual(gd, sw, lb, ib, v_in, x, r, t):
    """True word-node residual r = f - S x; t receives the bit voltages A_b^-1 G (u + x).

    Word-node KCL in the drops x = w - u (u: the input voltage along each line):
    A_w x - G b = -G u, so r = G (b - u) - A_w x.
    """
    rows, cols, nb = x.shape
    _bits_into(gd, lb, ib, v_in, x, t)
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




@njit(cache=True, nogil=True)
def line_relax(gd, sw, lw, iw, lb, ib, v_in, x, rtol, maxiter, b, t):
    """Alternating line relaxation (block Gauss-Seidel) for a batch of right-hand sides.

    One sweep solves every word line for the current bit voltages, ``x = A_w^-1 G (b - u)``,
    then every bit line for the new word voltages, ``b' = A_b^-1 G (u + x)``. After a sweep
    bit-node KCL holds exactly and the word-node residual is ``G (b' - b)``: the stopping
    rule of :func:`schur_pcg` is checked on that true residual, without an extra pass. The
    error contracts by the spectral radius of ``A_w^-1 G A_b^-1 G`` per sweep, the operator
    whose spectrum also sets CG's rate; a sweep costs about a third of a CG iteration, so
    the plain sweep is the cheapest while that radius is small (stiff lines: ~0.02 for 128 x
    128 crossbars of 1-100 kohm devices on 0.5 ohm lines).

    Parameters
    ----------
    gd, sw, lw, iw, lb, ib, v_in, rtol
        As in :func:`two_level_solve`.
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
        :data:`SLOW` (:func:`solve_lines` then hands ``b`` over to :func:`two_level_solve`).
        On every return ``b`` holds the bit voltages of ``x``.
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
            if not res[k] <= tolerance(rtol, i_max[k], smax, xmax[k]):
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
            _word_line(gd, lw, iw, v_in, bits, x, i)
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
def solve_lines(gd, sw, lw, iw, lb, ib, a0, wa, c0, wc, q, e_inv, mc, v_in, rtol, maxiter,
                x, bits, relax, work):
    """IR drops ``x`` and bit voltages ``bits`` of a batch from the ideal-line start
    (``work``: (2, R, C, B) scratch, as in :func:`two_level_solve`).

    With ``relax`` (stiff lines, where a plain sweep already contracts fast and costs less
    than a two-level one): :func:`line_relax`, continued by :func:`two_level_solve` from its
    bit voltages if a sweep gains less than a factor
    :data:`~memsim.solve.crossbar.single.SLOW`; else :func:`two_level_solve` alone. Returns
    the sweeps, or -1 if ``maxiter`` (shared) ran out."""
    rows, cols, nb = x.shape
    if not relax:
        for i in range(rows):
            for j in range(cols):
                for k in range(nb):
                    bits[i, j, k] = v_in[i, k]  # b = u: the drops x(b) vanish (ideal lines)
        return two_level_solve(gd, sw, lw, iw, lb, ib, a0, wa, c0, wc, q, e_inv, mc, v_in,
                               rtol, maxiter, x, bits, bits, work)
    x[:, :, :] = 0.0
    t = work[0]
    sweeps, status = line_relax(gd, sw, lw, iw, lb, ib, v_in, x, rtol, maxiter, bits, t)
    if status == CONVERGED:
        return sweeps
    if status == BUDGET:
        return -1
    # continue from the relaxation's bit voltages (of its last x, in bits)
    its = two_level_solve(gd, sw, lw, iw, lb, ib, a0, wa, c0, wc, q, e_inv, mc, v_in, rtol,
                          maxiter - sweeps, x, bits, bits, work)
    return -1 if its < 0 else sweeps + its


@njit(cache=True, nogil=True)
def bit_voltages(gd, lb, ib, v_in, x):
    """Bit-line voltages (R, C, B) for IR drops ``x`` (R, C, B): ``A_b^-1 G (v_in + x)``."""
    t = np.empty_like(x)
    _bits_into(gd, lb, ib, v_in, x, t)
    return t


@njit(cache=True, nogil=True)
def _bits_into(gd, lb, ib, v_in, x, t):
    """t = A_b^-1 G (v_in + x)."""
    rows, cols, nb = x.shape
    for i in range(rows):
        for j in range(cols):
            g = gd[i, j]
            for k in range(nb):
                t[i, j, k] = g * (v_in[i, k] + x[i, j, k])
    solve_bit(lb, ib, t)
