"""numba kernels of the device models: conductance g(x) and state rate dx/dt.

The scalar kernels dispatch on the integer :class:`~memsim.devices.models.Model` code (a jitted
function passed as an argument would defeat the on-disk cache), and :func:`conductances` /
:func:`rates` map them over all edges. Every rate is the device law :func:`drift` followed
by the bound rule :func:`bounded`; integrators that let a device saturate at a bound inside a
step use the two parts separately. The ``*_at`` forms read row ``e`` of the parameter matrix
without taking a row view, and the per-edge kernels are inlined into their callers: a call
that passes an array costs reference counting that is dearer than the arithmetic.
:mod:`memsim.devices.reference` holds plain-NumPy twins that the tests compare with.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from memsim.devices.models import Model, Window

__all__ = [
    "bounded",
    "clip_unit",
    "conductance",
    "conductance_at",
    "conductances",
    "drift",
    "drift_slope",
    "power",
    "rate",
    "rate_at",
    "rates",
    "states_for_conductances",
    "threshold_drift",
    "window",
    "window_conductance",
]


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
    if code == Window.NONE:
        return 1.0
    if code == Window.JOGLEKAR:
        return 1.0 - power(2.0 * x - 1.0, 2.0 * p)
    if code == Window.BIOLEK:
        stp = 1.0 if direction <= 0.0 else 0.0
        return 1.0 - power(x - stp, 2.0 * p)
    return 1.0 - power((x - 0.5) * (x - 0.5) + 0.75, p)  # Prodromakis


@njit(cache=True, inline="always")
def clip_unit(y):
    """``y`` clipped to the state range [0, 1]: the one place states are held in range."""
    return 0.0 if y < 0.0 else (1.0 if y > 1.0 else y)


@njit(cache=True, inline="always")
def bounded(x, r):
    """The bound rule: a rate that would push ``x`` out of [0, 1] at a bound is zero, so a
    device at a bound is released as soon as the drive reverses (no sticking)."""
    if (x >= 1.0 and r > 0.0) or (x <= 0.0 and r < 0.0):
        return 0.0
    return r


@njit(cache=True, inline="always")
def window_conductance(r_on, r_off, x):
    """``1 / R(x)`` with ``R(x) = R_off - x (R_off - R_on)``: the conductance every memristor
    model shares."""
    return 1.0 / (r_off - x * (r_off - r_on))


@njit(cache=True, inline="always")
def threshold_drift(alpha, beta, v_t, span, v):
    """The threshold model's dx/dt under voltage ``v`` (``span = R_off - R_on``), before the
    bound rule: ``f(v) = beta v + (alpha - beta)/2 (|v + v_t| - |v - v_t|)`` written piecewise,
    exactly ``alpha v`` below threshold (no rounding residue: reads stay bit-identical)."""
    if v > v_t:
        f = alpha * v_t + beta * (v - v_t)
    elif v < -v_t:
        f = -alpha * v_t + beta * (v + v_t)
    else:
        f = alpha * v
    return f / span


@njit(cache=True, inline="always")
def conductance_at(model, x, params, e):
    """Conductance in siemens of edge ``e`` (parameter row ``params[e]``) in state ``x``."""
    if model == Model.RESISTOR:
        return 1.0 / params[e, 0]
    if model == Model.OPEN:
        return 0.0
    return window_conductance(params[e, 0], params[e, 1], x)


@njit(cache=True)
def conductance(model, x, p):
    """Conductance in siemens of one device with packed parameters ``p`` in state ``x``."""
    return conductance_at(model, x, p.reshape((1, p.shape[0])), 0)


@njit(cache=True, inline="always")
def drift(model, x, v, params, e):
    """The device law dx/dt of edge ``e`` under voltage ``v``, before the bound rule.

    Windows are part of the law: the Joglekar and Prodromakis windows have F(0) = F(1) = 0 by
    definition (exact solutions approach the bounds but never reach them). The threshold
    model is :func:`threshold_drift`.
    """
    if model == Model.RESISTOR or model == Model.OPEN:
        return 0.0
    if model == Model.THRESHOLD:
        return threshold_drift(params[e, 2], params[e, 3], params[e, 4],
                               params[e, 1] - params[e, 0], v)
    i = v * conductance_at(model, x, params, e)
    if model == Model.HP:
        return params[e, 2] * i * window(int(params[e, 3]), x, i, params[e, 4])
    if model == Model.VTEAM:
        if v < params[e, 4]:
            return params[e, 2] * power(v / params[e, 4] - 1.0, params[e, 6]) * window(
                int(params[e, 8]), x, 1.0, params[e, 9])
        if v > params[e, 5]:
            return -params[e, 3] * power(v / params[e, 5] - 1.0, params[e, 7]) * window(
                int(params[e, 8]), x, -1.0, params[e, 9])
        return 0.0
    return -params[e, 2] * (1.0 - x) + params[e, 0] * i / params[e, 3]  # LINEAR, x = 1 - w


@njit(cache=True, inline="always")
def drift_slope(model, x, v, params, e):
    """|d drift / dv| of edge ``e`` at voltage ``v``: how fast its rate follows a change of
    its voltage (the coupling through which one device's bound reaches its neighbours)."""
    if model == Model.RESISTOR or model == Model.OPEN:
        return 0.0
    if model == Model.THRESHOLD:
        slope = params[e, 3] if abs(v) > params[e, 4] else params[e, 2]
        return abs(slope / (params[e, 1] - params[e, 0]))
    dv = 1e-6 * max(1.0, abs(v))  # the other laws are smooth between their kinks
    return abs(drift(model, x, v + dv, params, e) - drift(model, x, v - dv, params, e)) / (2 * dv)


@njit(cache=True, inline="always")
def rate_at(model, x, v, params, e):
    """State rate dx/dt in 1/s of edge ``e`` at state ``x`` under voltage ``v``: the device
    law with the bound rule (:func:`bounded`)."""
    return bounded(x, drift(model, x, v, params, e))


@njit(cache=True)
def rate(model, x, v, p):
    """State rate dx/dt in 1/s of one device with packed parameters ``p``."""
    return rate_at(model, x, v, p.reshape((1, p.shape[0])), 0)


@njit(cache=True)
def conductances(model, x, params):
    """Conductances of all edges: ``model`` (E,), ``x`` (E,), ``params`` (E, N_PARAMS)."""
    out = np.empty(model.shape[0])
    for e in range(model.shape[0]):
        out[e] = conductance_at(model[e], x[e], params, e)
    return out


@njit(cache=True)
def rates(model, x, v, params):
    """State rates of all edges under edge voltages ``v`` (E,)."""
    out = np.empty(model.shape[0])
    for e in range(model.shape[0]):
        out[e] = rate_at(model[e], x[e], v[e], params, e)
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
