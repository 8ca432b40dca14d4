"""LDL^T factors of a crossbar's line blocks, and the line solves every kernel shares.

``A_w`` is block-diagonal with one tridiagonal block per word line (its segments plus the
device conductances on the diagonal), ``A_b`` likewise per bit line. Arrays are (R, C) with
cell (i, j) at ``[i, j]``; batches of right-hand sides carry their batch axis last.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["line_factors", "solve_bit"]


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

    Examples
    --------
    >>> import numpy as np
    >>> one = np.ones((1, 1))
    >>> [float(f[0, 0]) for f in line_factors(one, one, one)]  # 1x1: pivots 1 + 1
    [0.0, 0.5, 0.0, 0.5]
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


@njit(cache=True, nogil=True)
def solve_bit(lb, ib, t):
    """``t = A_b^-1 t`` in place for ``t`` (R, C, B): every bit line, every right-hand side."""
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
