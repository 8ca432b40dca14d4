"""Plain NumPy/scipy twins of the crossbar kernels, for the tests.

Each twin runs the same algorithm with the same stopping rule
(:func:`~memsim.solve.crossbar.stopping.tolerance`) one right-hand side at a time, with
``A_w`` and ``A_b`` assembled as sparse matrices (:func:`line_matrices_np`) and factorized by
``scipy.sparse.linalg.splu`` instead of the kernels' line recurrences.
"""

from __future__ import annotations

import numpy as np

from memsim.solve.crossbar.batched import PLAIN, RHO_MAX, SAFETY
from memsim.solve.crossbar.coarse import MA, Coarse, chebyshev_weights, n_hats
from memsim.solve.crossbar.single import BUDGET, CONVERGED, SLOW, SLOW_CONTRACTION
from memsim.solve.crossbar.stopping import RTOL, tolerance

__all__ = ["line_matrices_np", "line_relax_np", "schur_pcg_np", "two_level_np"]


def line_matrices_np(gd: np.ndarray, sw: np.ndarray, sb: np.ndarray):
    """The blocks ``A_w``, ``A_b`` (sparse, cell (i, j) at index ``i * C + j``) and ``G``.

    Plain scipy twin of what :func:`~memsim.solve.crossbar.factors.line_factors`
    factorizes.
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
    """Twin of :func:`~memsim.solve.crossbar.single.schur_pcg1` and
    :func:`~memsim.solve.crossbar.single.bit_voltages1`, for each column of ``v_in``.

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
            x_max = np.max(np.abs(x))
            r = g * (lu_b.solve(g * (u + x)) - u) - a_w @ x
            if np.max(np.abs(r)) <= tolerance(rtol, _i_max(sw, x, cols), smax, x_max):
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
                if np.max(np.abs(r)) <= tolerance(rtol, _i_max(sw, x, cols), smax, x_max):
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
    """Twin of :func:`~memsim.solve.crossbar.single.line_relax1`, for each column of
    ``v_in``.

    Returns
    -------
    x, bits : (R, C, B)
        Word-line drops and bit-line voltages.
    sweeps, status : (B,) int
        Sweeps used and the ``line_relax1`` status of each right-hand side.
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
            if res <= tolerance(rtol, _i_max(sw, x, cols), smax, np.max(np.abs(x))):
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


def _i_max(sw: np.ndarray, x: np.ndarray, cols: int) -> float:
    """Largest input current of raveled drops ``x``: ``max_i sw[i, 0] |x[i, 0]|``."""
    return float(np.max(sw[:, 0] * np.abs(x[::cols])))


def two_level_np(gd: np.ndarray, sw: np.ndarray, sb: np.ndarray, coarse: Coarse,
                 v_in: np.ndarray, rtol: float = RTOL, maxiter: int = 1000,
                 b_start: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Twin of :func:`~memsim.solve.crossbar.batched.two_level_solve`, the batch as columns.

    The same iteration written with whole-field sparse operations: the sweep
    ``x = A_w^-1 G (b - u)``, ``b' = A_b^-1 G (u + x)``, the residual ``G (b' - b)``, the
    coarse correction ``b' + Y E^-1 Z^T r`` with ``Z``, ``Y`` built densely from the hats,
    and the Chebyshev weights of the same schedule, from the bit voltages ``b_start``
    (R, C, B; default the ideal-line start ``v_in`` along each row).

    Returns
    -------
    x, bits : (R, C, B)
    sweeps : int (-1 if the budget ran out)
    """
    import scipy.sparse.linalg as spla

    rows, cols = gd.shape
    batch = v_in.shape[1]
    a_w, a_b, g = line_matrices_np(gd, sw, sb)
    lu_w, lu_b = spla.splu(a_w), spla.splu(a_b)
    m = coarse.e_inv.shape[0]
    mc = m // n_hats(rows, MA)
    h_i = np.zeros((rows, m // mc + 1))
    h_i[np.arange(rows), coarse.a0] += coarse.wa[:, 0]
    h_i[np.arange(rows), coarse.a0 + 1] += coarse.wa[:, 1]
    h_j = np.zeros((cols, mc + 1))
    h_j[np.arange(cols), coarse.c0] += coarse.wc[:, 0]
    h_j[np.arange(cols), coarse.c0 + 1] += coarse.wc[:, 1]
    z = np.kron(h_i[:, :m // mc], h_j[:, :mc])  # (R C, m), coarse index a * mc + c
    y = lu_b.solve(g[:, None] * z)
    u = np.repeat(v_in, cols, axis=0)
    s_max = sw.max()
    gc = g[:, None]
    b = u.copy() if b_start is None else b_start.reshape(rows * cols, batch).copy()
    b_prev = b.copy()
    bh = np.zeros_like(b)
    res_old = np.zeros(batch)
    rho, omega, step, sweeps = 0.0, 1.0, 0, 0
    alpha, beta, delta = 0.0, 1.0, 0.0
    while True:
        b, b_prev = alpha * bh + beta * b + delta * b_prev, b
        x = lu_w.solve(gc * (b - u))
        bp = lu_b.solve(gc * (u + x))
        r = gc * (bp - b)
        sweeps += 1
        res = np.abs(r).max(axis=0)
        xr = x.reshape(rows, cols, batch)
        tol = np.array([tolerance(rtol, float(np.max(sw[:, 0] * np.abs(xr[:, 0, k]))), s_max,
                                  float(np.abs(xr[:, :, k]).max())) for k in range(batch)])
        open_ = ~(res <= tol)
        if not open_.any():
            return xr, bp.reshape(rows, cols, batch), sweeps
        if sweeps >= maxiter:
            return xr, bp.reshape(rows, cols, batch), -1
        seen = open_ & (res_old > 0)
        ratio = float(np.max(res[seen] / res_old[seen])) if seen.any() else 0.0
        grew = step > 0 and bool(np.any(res[seen] > res_old[seen]))
        bh = bp + y @ (coarse.e_inv @ (z.T @ r))
        if step == 0 and sweeps > PLAIN:
            rho, step = min(RHO_MAX, SAFETY * ratio), 1
        elif grew:
            rho, step = min(RHO_MAX, max(1.5 * rho, SAFETY * ratio)), 1
        elif step > 0:
            step += 1
        alpha, beta, delta, omega = chebyshev_weights(rho, omega, step)
        res_old = res
