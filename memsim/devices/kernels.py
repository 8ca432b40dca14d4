"""numba kernels of the device models: conductance g(x) and state rate dx/dt.

The scalar kernels dispatch on the integer model code (a jitted function passed as an argument
would defeat the on-disk cache), and :func:`conductances` / :func:`rates` map them over all
edges. :mod:`memsim.devices.reference` holds plain-NumPy twins that the tests compare with.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["conductance", "conductances", "power", "rate", "rates", "states_for_conductances",
           "window"]

# Model codes (mirrors memsim.devices.models.Model; numba reads plain ints).
RESISTOR, HP, THRESHOLD, VTEAM, LINEAR, OPEN = 0, 1, 2, 3, 4, 5
W_NONE, W_JOGLEKAR, W_BIOLEK, W_PRODROMAKIS = 0, 1, 2, 3


@njit(cache=True)
def power(a, e):
    """``a ** e``, by repeated squaring when ``e`` is a whole number in [0, 64].

    Window and VTEAM exponents are whole numbers in practice (p = 1, 2, 10), and ``pow`` costs
    as much as the rest of a device's rate: multiplying is several times faster, exact for
    e <= 2 and within a few ulps above.
    """
    n = int(e)
    if n == e and 0 <= n <= 64:
        out = 1.0
        while n > 0:
            if n & 1:
                out *= a
            a *= a
            n >>= 1
        return out
    return a**e


@njit(cache=True)
def window(code, x, direction, p):
    """Window F(x) of a drift model; ``direction`` is the sign of the drive (i or v)."""
    if code == W_NONE:
        return 1.0
    if code == W_JOGLEKAR:
        return 1.0 - power(2.0 * x - 1.0, 2.0 * p)
    if code == W_BIOLEK:
        stp = 1.0 if direction <= 0.0 else 0.0
        return 1.0 - power(x - stp, 2.0 * p)
    # Prodromakis
    return 1.0 - power((x - 0.5) * (x - 0.5) + 0.75, p)


@njit(cache=True)
def _conductance(model, x, p0, p1):
    """Conductance from the first two packed parameters (R or R_on, R_off)."""
    if model == RESISTOR:
        return 1.0 / p0
    if model == OPEN:
        return 0.0
    return 1.0 / (p1 - x * (p1 - p0))


@njit(cache=True)
def conductance(model, x, p):
    """Conductance in siemens of one device with packed parameters ``p`` in state ``x``."""
    return _conductance(model, x, p[0], p[1])


@njit(cache=True)
def rate(model, x, v, p):
    """State rate dx/dt in 1/s of one device at state ``x`` under voltage ``v``.

    Bounds are enforced here: a rate that would push ``x`` out of [0, 1] at a bound is zero,
    so a device at a bound is released as soon as the drive reverses (no sticking), unless
    its own window vanishes there: the Joglekar and Prodromakis windows have F(0) = F(1) = 0
    by definition (exact solutions approach the bounds but never reach them).
    """
    if model == RESISTOR or model == OPEN:
        return 0.0
    i = v * conductance(model, x, p)
    if model == HP:
        r = p[2] * i * window(int(p[3]), x, i, p[4])
    elif model == THRESHOLD:
        # f(v) = beta v + (alpha - beta)/2 (|v + v_t| - |v - v_t|), written piecewise so that
        # it is exactly alpha v below threshold (no rounding residue: reads stay bit-identical).
        vt = p[4]
        if v > vt:
            f = p[2] * vt + p[3] * (v - vt)
        elif v < -vt:
            f = -p[2] * vt + p[3] * (v + vt)
        else:
            f = p[2] * v
        r = f / (p[1] - p[0])
    elif model == VTEAM:
        if v < p[4]:
            r = p[2] * power(v / p[4] - 1.0, p[6]) * window(int(p[8]), x, 1.0, p[9])
        elif v > p[5]:
            r = -p[3] * power(v / p[5] - 1.0, p[7]) * window(int(p[8]), x, -1.0, p[9])
        else:
            r = 0.0
    else:  # LINEAR (Caravelli), x = 1 - w
        r = -p[2] * (1.0 - x) + p[0] * i / p[3]
    if (x >= 1.0 and r > 0.0) or (x <= 0.0 and r < 0.0):
        return 0.0
    return r


@njit(cache=True)
def conductances(model, x, params):
    """Conductances of all edges: ``model`` (E,), ``x`` (E,), ``params`` (E, N_PARAMS)."""
    out = np.empty(model.shape[0])
    for e in range(model.shape[0]):  # no row views: they cost as much as the arithmetic
        out[e] = _conductance(model[e], x[e], params[e, 0], params[e, 1])
    return out


@njit(cache=True)
def rates(model, x, v, params):
    """State rates of all edges under edge voltages ``v`` (E,)."""
    out = np.empty(model.shape[0])
    for e in range(model.shape[0]):
        m = model[e]  # resistors and open edges skip the call (and its row view)
        out[e] = 0.0 if m == RESISTOR or m == OPEN else rate(m, x[e], v[e], params[e])
    return out


def states_for_conductances(params: np.ndarray, g: np.ndarray) -> np.ndarray:
    """The states ``x`` at which memristors with packed rows ``params`` (..., N_PARAMS) have
    conductances ``g`` (...): the inverse of :func:`conductance`, clipped to [0, 1].

    Every memristor model shares ``R(x) = R_off - x (R_off - R_on)``, so
    ``x = (R_off - 1/g) / (R_off - R_on)``; conductances outside ``[1/R_off, 1/R_on]`` map to
    the nearer bound. Used where a target conductance is programmed (write-verify).

    >>> import numpy as np
    >>> row = np.array([[1e3, 1e4] + [0.0] * 8])
    >>> states_for_conductances(row, np.array([1 / 5.5e3])).round(12).tolist()
    [0.5]
    """
    r_on, r_off = params[..., 0], params[..., 1]
    with np.errstate(divide="ignore"):
        x = (r_off - 1.0 / np.asarray(g, float)) / (r_off - r_on)
    return np.clip(x, 0.0, 1.0)
