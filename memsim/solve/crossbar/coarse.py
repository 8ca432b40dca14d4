"""The coarse space and the Chebyshev schedule of the batched crossbar solver.

Line relaxation contracts the error by the spectral radius of ``M = A_w^-1 G A_b^-1 G``; on
stiff lines that radius is set by a few modes smooth across the whole array, whose
eigenvalues approach 1 when the lines are resistive on the array's scale (128 x 128,
100 ohm..10 kohm devices, 2 ohm lines: 0.74, then 0.38, 0.37, 0.22, ... and a dense tail
below 0.17). A coarse correction removes the smooth modes: with ``Z`` the tensor products of
``ma`` hat functions along the bit lines and ``mc`` along the word lines (on the IR drops
``x``), the Galerkin matrix ``E = Z^T S Z`` of the Schur complement ``S = A_w - G A_b^-1 G``
and the bit-voltage images ``Y = A_b^-1 G Z``, a sweep followed by ``x += Z E^-1 Z^T r``
(``b += Y E^-1 Z^T r``) contracts by the tail alone (~0.16 there). Chebyshev acceleration of
that stationary two-level iteration, whose error operator has real eigenvalues in
``[0, rho]``, then gains ~``rho / 4`` per sweep.

``Y`` factorizes: for the hat ``h_a(i) h_c(j)``, ``Y = h_c(j) q_a(i, j)`` with
``q_a = A_b^-1 (G h_a)`` along each bit line, so prolongation costs ``ma`` multiply-adds per
cell and right-hand side, restriction two.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from memsim.solve.crossbar.factors import solve_bit

__all__ = ["MA", "Coarse", "chebyshev_weights", "coarse_space", "hats", "n_hats",
           "relaxation_rate"]

MA = 4
"""Hat functions along the bit lines (the ``i`` direction): a compile-time constant, so that
the kernels' prolongation sum unrolls and the batch loop inside it vectorizes."""

MC_MAX = 8
"""Most hat functions along the word lines."""


class Coarse(NamedTuple):
    """A coarse space (see the module notes) in the arrays the kernels read.

    ``a0[i]``: first of the (at most two) i-hats covering row i, with weights ``wa[i, 0]``,
    ``wa[i, 1]`` (the second for hat ``a0 + 1``); ``c0``, ``wc`` likewise for columns.
    ``q`` (R, C, MA): bit-voltage images ``A_b^-1 (G h_a)``. ``e_inv`` (m, m): ``E^-1`` with
    coarse index ``a * mc + c``.
    """

    a0: np.ndarray
    wa: np.ndarray
    c0: np.ndarray
    wc: np.ndarray
    q: np.ndarray
    e_inv: np.ndarray


def n_hats(n: int, m: int) -> int:
    """Hats actually used on ``n`` points when ``m`` are wanted (at most one per point)."""
    return max(1, min(int(m), int(n)))


def hats(n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-linear hats on ``n`` points with nodes spread evenly from the first point to
    the last: ``(first, weights)`` with ``first[p]`` the first hat covering point p and
    ``weights[p]`` its weight and the next hat's (they sum to 1: constants are in the space).

    >>> first, w = hats(5, 3)  # nodes at 0, 2, 4
    >>> first.tolist(), w[:, 0].tolist()
    ([0, 0, 1, 1, 1], [1.0, 0.5, 1.0, 0.5, 0.0])
    """
    m = n_hats(n, m)
    if m == 1:
        return np.zeros(n, np.int64), np.column_stack([np.ones(n), np.zeros(n)])
    pos = np.arange(n) * ((m - 1) / (n - 1))
    first = np.minimum(np.floor(pos).astype(np.int64), m - 2)
    frac = pos - first
    return first, np.column_stack([1.0 - frac, frac])


def _dense(first: np.ndarray, weights: np.ndarray, m: int) -> np.ndarray:
    """The hats as a dense (n, m) matrix."""
    n = first.shape[0]
    h = np.zeros((n, max(m, 2)))
    h[np.arange(n), first] += weights[:, 0]
    h[np.arange(n), first + 1] += weights[:, 1]
    return h[:, :m]


def coarse_space(gd: np.ndarray, sw: np.ndarray, sb: np.ndarray, lb: np.ndarray,
                 ib: np.ndarray, mc: int | None = None) -> Coarse:
    """Build the coarse space of a crossbar: ``MA`` hats along the bit lines, ``mc`` along
    the word lines (default: two more than the number of word-line modes slower than the
    devices, ``cols / pi * sqrt(mean g / mean s)``, within 2..``MC_MAX``), and ``E^-1``.

    The Galerkin matrix is assembled exactly from the separable structure:
    ``E[(a,c),(a',c')] = sum_i h_a h_a' (h_c^T A_w,i h_c') - sum_j h_c h_c' sum_i h_a g q_a'``.
    """
    rows, cols = gd.shape
    if mc is None:
        slow = cols / math.pi * math.sqrt(max(gd.mean(), 0.0) / sw.mean())
        mc = min(MC_MAX, max(2, int(math.ceil(slow)) + 2))
    ma = n_hats(rows, MA)
    mc = n_hats(cols, mc)
    a0, wa = hats(rows, ma)
    c0, wc = hats(cols, mc)
    h_i = _dense(a0, wa, ma)  # (R, ma)
    h_j = _dense(c0, wc, mc)  # (C, mc)
    q = np.zeros((rows, cols, MA))
    q[:, :, :ma] = gd[:, :, None] * h_i[:, None, :]
    solve_bit(lb, ib, q)
    # first term: h_c^T A_w,i h_c' per word line i (A_w: gd + segments on the diagonal)
    right = np.zeros_like(sw)
    right[:, :-1] = sw[:, 1:]
    diag = gd + sw + right
    aw_h = diag[:, :, None] * h_j[None, :, :]
    aw_h[:, :-1, :] -= right[:, :-1, None] * h_j[None, 1:, :]
    aw_h[:, 1:, :] -= sw[:, 1:, None] * h_j[None, :-1, :]
    # (written as matrix products: einsum's loops over these operands are 4x slower)
    word = np.matmul(h_j.T, aw_h)  # (R, mc, mc): h_c^T A_w,i h_c'
    pairs_i = (h_i[:, :, None] * h_i[:, None, :]).reshape(rows, ma * ma)
    e1 = (pairs_i.T @ word.reshape(rows, mc * mc)).reshape(ma, ma, mc, mc)
    # second term: sum_j h_c h_c' F[a, a', j] with F = sum_i h_a(i) g_ij q_a'(i, j)
    f = h_i.T @ (gd[:, :, None] * q[:, :, :ma]).reshape(rows, cols * ma)  # (a, (j, a'))
    f = f.reshape(ma, cols, ma).transpose(0, 2, 1).reshape(ma * ma, cols)
    pairs_j = (h_j[:, :, None] * h_j[:, None, :]).reshape(cols, mc * mc)
    e2 = (f @ pairs_j).reshape(ma, ma, mc, mc)
    e = (e1 - e2).transpose(0, 2, 1, 3).reshape(ma * mc, ma * mc)
    e = 0.5 * (e + e.T)
    return Coarse(a0, wa, c0, wc, q, np.linalg.pinv(e, hermitian=True))


def relaxation_rate(gd: np.ndarray, sw: np.ndarray, sb: np.ndarray) -> float:
    """Estimated contraction per sweep of plain line relaxation: the eigenvalue of its
    smoothest mode for uniform lines of the mean device and segment conductances,
    ``prod over both line kinds of g / (g + s mu_1)`` with ``mu_1 = 4 sin^2(pi / (4 n + 2))``
    the smallest eigenvalue of a line of ``n`` segments grounded at one end.

    >>> g = np.full((128, 128), 4.6e-5)
    >>> round(relaxation_rate(g, np.full_like(g, 2.0), np.full_like(g, 2.0)), 3)
    0.018
    """
    rows, cols = gd.shape
    g = float(gd.mean())
    rate = 1.0
    for s, n in ((float(sw.mean()), cols), (float(sb.mean()), rows)):
        mu = 4.0 * math.sin(math.pi / (4 * n + 2)) ** 2
        rate *= g / (g + s * mu) if g > 0 else 0.0
    return rate


@njit(cache=True, nogil=True)
def chebyshev_weights(rho, omega, step):
    """Weights ``(alpha, beta, delta, omega)`` of Chebyshev step ``step`` (0: plain) for an
    iteration ``b -> F(b)`` whose error operator has eigenvalues in ``[0, rho]``:
    ``b_next = alpha F(b) + beta b + delta b_prev``.

    With ``gamma = 2 / (2 - rho)`` and ``sigma = rho / (2 - rho)``: ``omega_1 = 1``,
    ``omega_2 = 1 / (1 - sigma^2 / 2)``, ``omega_{n+1} = 1 / (1 - sigma^2 omega_n / 4)``, and
    ``b_next = omega (gamma F(b) + (1 - gamma) b) + (1 - omega) b_prev``; the error then
    shrinks by ~``sigma / (1 + sqrt(1 - sigma^2))`` per step.

    >>> chebyshev_weights(0.5, 1.0, 0)
    (1.0, 0.0, 0.0, 1.0)
    """
    if step == 0:
        return 1.0, 0.0, 0.0, 1.0
    gamma = 2.0 / (2.0 - rho)
    sigma = rho / (2.0 - rho)
    if step == 1:
        omega = 1.0
    elif step == 2:
        omega = 1.0 / (1.0 - 0.5 * sigma * sigma)
    else:
        omega = 1.0 / (1.0 - 0.25 * sigma * sigma * omega)
    return omega * gamma, omega * (1.0 - gamma), 1.0 - omega, omega
