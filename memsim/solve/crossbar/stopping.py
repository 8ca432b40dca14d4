"""The stopping rule of every crossbar kernel, in one place.

A solve stops when the word-node KCL residual of the returned voltages (bit-node KCL holds
to round-off: those nodes are solved exactly for the word voltages) is at most ``rtol`` times
the largest input current, or at most the round-off floor when that is larger. The input
current of word line i is ``sw[i, 0] * |x[i, 0]|`` (its first segment carries it; ``x`` is
the IR drop ``w - v_in``), an edge current, so the residual is then also at most ``rtol``
times the largest edge current. The floor: a word voltage known to one ulp of ``|x|`` moves
the current of a segment of conductance ``s`` by ``s * eps * |x|``; residuals below
:data:`FLOOR_ULPS` times that for the stiffest segment are round-off, for any solver.

The kernels accumulate ``i_max`` and ``x_max`` (:func:`drop_scales` for a whole 2-D field) as
they pass over the data and call :func:`tolerance`; the NumPy twins call the same function.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["EPS", "FLOOR_ULPS", "RTOL", "RTOL_TRANSIENT", "drop_scales", "tolerance"]

RTOL = 1e-12
"""Default stopping tolerance: word-node KCL residual relative to the largest input current."""

RTOL_TRANSIENT = 1e-10
"""A suggested tolerance inside time-stepping loops (the integrator's error is far larger)."""

EPS = float(np.finfo(np.float64).eps)

FLOOR_ULPS = 8.0
"""Residuals below ``FLOOR_ULPS * eps * max(segment g) * max|w - v_in|`` count as converged:
the word voltages cannot be represented more finely, so no solver can do better."""


@njit(cache=True, nogil=True)
def tolerance(rtol, i_max, s_max, x_max):
    """Largest word-node residual allowed: ``max(rtol * i_max, FLOOR_ULPS * eps * s_max *
    x_max)`` for the largest input current ``i_max``, the stiffest word segment ``s_max`` and
    the largest IR drop ``x_max``.

    >>> tolerance(1e-12, 2e-3, 2.0, 0.1) == 2e-15
    True
    """
    return max(rtol * i_max, FLOOR_ULPS * EPS * s_max * x_max)


@njit(cache=True, nogil=True)
def drop_scales(sw, x):
    """``(i_max, x_max)`` of IR drops ``x`` (R, C): the largest input current
    ``max_i sw[i, 0] |x[i, 0]|`` and the largest drop ``max |x|``."""
    rows, cols = x.shape
    i_max = 0.0
    x_max = 0.0
    for i in range(rows):
        i_max = max(i_max, sw[i, 0] * abs(x[i, 0]))
        for j in range(cols):
            x_max = max(x_max, abs(x[i, j]))
    return i_max, x_max
