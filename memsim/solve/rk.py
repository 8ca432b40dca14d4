"""Runge-Kutta tableaus and the step-size controller, shared by every integrator in memsim.

Dormand-Prince 5(4) (Dormand & Prince 1980; the pair of MATLAB's ode45 and SciPy's RK45): the
fifth-order solution advances, the embedded fourth-order one estimates the local error, and
the last stage is evaluated at the new state (FSAL), so it is the next step's first.

>>> # consistent weights (sum 1), error weights summing to 0, to rounding of the fractions
>>> round(float(DP_B5.sum()), 12), round(float(DP_E.sum()), 12)
(1.0, 0.0)
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["DP_A", "DP_B4", "DP_B5", "DP_C", "DP_E", "accept_factor", "reject_factor"]

DP_C = np.array([0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0])
DP_A = np.array([
    [0, 0, 0, 0, 0, 0],
    [1 / 5, 0, 0, 0, 0, 0],
    [3 / 40, 9 / 40, 0, 0, 0, 0],
    [44 / 45, -56 / 15, 32 / 9, 0, 0, 0],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729, 0, 0],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656, 0],
    [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
])
DP_B5 = np.array([35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0])
DP_B4 = np.array([5179 / 57600, 0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100,
                  1 / 40])
DP_E = DP_B5 - DP_B4
"""Error weights: ``h * sum_q DP_E[q] k_q`` estimates the local error of a step."""


@njit(cache=True)
def accept_factor(err):
    """Step growth after an accepted step with scaled error ``err <= 1`` (safety 0.9, growth
    between 0.2 and 5; order-5 exponent)."""
    if err == 0.0:
        return 5.0
    return min(5.0, max(0.2, 0.9 * err ** -0.2))


@njit(cache=True)
def reject_factor(err):
    """Step shrink after a rejected step with scaled error ``err > 1`` (order-4 exponent,
    at most tenfold)."""
    return max(0.1, 0.9 * err ** -0.25)
