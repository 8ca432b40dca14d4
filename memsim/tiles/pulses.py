"""Programming pulses integrated through the device rate law, one device at a time.

During a pulse every device of a tile sees a known constant voltage (the write model keeps the
lines ideal: the drivers hold the programming voltages), so each state obeys its own ODE
``dx/dt = rate(model, x, v, params)`` of :func:`memsim.devices.kernels.rate` — the same
device law the transient integrates. Classical RK4 over ``substeps`` steps per pulse; stage
states are held just inside (0, 1) so that a step reaching a bound midway integrates the
rate up to the bound instead of dropping the stages beyond it, and the result is clipped to
[0, 1]: no pulse ever leaves a state outside the unit interval. Energy is ``v^2 g(x)``
integrated by the trapezoid rule over the steps.

:func:`pulse_train` is the numba kernel (a train of pulses per device); :func:`pulse_train_np`
its NumPy twin over :func:`memsim.devices.kernels.rates`, used by the tests.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from memsim.devices.kernels import conductance, conductances, rate, rates

__all__ = ["INSIDE", "integrate_pulses", "pulse_train", "pulse_train_np"]

INSIDE = 1e-12
"""Margin that keeps RK stage states off the bounds (where the rate law returns 0 for a
drive pushing outward)."""


@njit(cache=True)
def _stage(model, x, v, p):
    return rate(model, min(max(x, INSIDE), 1.0 - INSIDE), v, p)


@njit(cache=True)
def pulse_train(model, params, x, v, counts, widths, substeps):
    """States after a train of constant-voltage pulses per device, and the energy spent.

    Parameters
    ----------
    model : int64 (E,)
    params : float64 (E, N_PARAMS)
    x : float64 (E,), states in [0, 1] before the train
    v : float64 (E,), voltage of device k's pulses (plus to minus)
    counts : int64 (E,), pulses of device k
    widths : float64 (sum(counts),), pulse durations in s, device by device in order
        (device 0's pulses first), so per-pulse jitter is drawn outside the kernel
    substeps : int, RK4 steps per pulse

    Returns
    -------
    x_new : (E,) in [0, 1]; energy : (E,) joules
    """
    n = x.shape[0]
    x_new = np.empty(n)
    energy = np.zeros(n)
    at = 0
    for k in range(n):
        m, vk, p = model[k], v[k], params[k]
        xk = x[k]
        g = conductance(m, xk, p)
        for _ in range(counts[k]):
            h = widths[at] / substeps
            at += 1
            for _ in range(substeps):
                k1 = _stage(m, xk, vk, p)
                k2 = _stage(m, xk + 0.5 * h * k1, vk, p)
                k3 = _stage(m, xk + 0.5 * h * k2, vk, p)
                k4 = _stage(m, xk + h * k3, vk, p)
                xk = min(max(xk + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4), 0.0), 1.0)
                g_new = conductance(m, xk, p)
                energy[k] += 0.5 * h * vk * vk * (g + g_new)
                g = g_new
        x_new[k] = xk
    return x_new, energy


def pulse_train_np(model: np.ndarray, params: np.ndarray, x: np.ndarray, v: np.ndarray,
                   counts: np.ndarray, widths: np.ndarray, substeps: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """NumPy twin of :func:`pulse_train`: pulse round by pulse round over all devices."""
    x = np.array(x, dtype=float)
    energy = np.zeros_like(x)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    for r in range(int(counts.max(initial=0))):
        idx = np.flatnonzero(counts > r)
        m, p, vk = model[idx], params[idx], v[idx]
        xk = x[idx]
        h = widths[start[idx] + r] / substeps
        g = conductances(m, xk, p)
        for _ in range(substeps):
            k1 = _stages_np(m, xk, vk, p)
            k2 = _stages_np(m, xk + 0.5 * h * k1, vk, p)
            k3 = _stages_np(m, xk + 0.5 * h * k2, vk, p)
            k4 = _stages_np(m, xk + h * k3, vk, p)
            xk = np.clip(xk + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4), 0.0, 1.0)
            g_new = conductances(m, xk, p)
            energy[idx] += 0.5 * h * vk * vk * (g + g_new)
            g = g_new
        x[idx] = xk
    return x, energy


def _stages_np(model: np.ndarray, x: np.ndarray, v: np.ndarray, params: np.ndarray
               ) -> np.ndarray:
    return rates(model, np.clip(x, INSIDE, 1.0 - INSIDE), v, params)


def integrate_pulses(model: np.ndarray, params: np.ndarray, x: np.ndarray, v: np.ndarray,
                     width: np.ndarray, substeps: int) -> tuple[np.ndarray, np.ndarray]:
    """States after one constant-voltage pulse per device, and the energy each dissipated.

    Parameters
    ----------
    model : int64 (E,), params : (E, N_PARAMS), x : (E,) states, v : (E,) volts
    width : (E,) pulse durations in s (>= 0)
    substeps : int, RK4 steps per pulse

    Returns
    -------
    x_new : (E,) states in [0, 1]; energy : (E,) joules

    Examples
    --------
    A threshold device moves at a constant rate above threshold, so RK4 is exact:

    >>> from memsim.devices import Threshold
    >>> d = Threshold(r_on=1e3, r_off=1e4, beta=9e6, v_t=1.0)
    >>> x, e = integrate_pulses(np.array([int(d.model)]), d.row()[None], np.array([0.2]),
    ...                         np.array([1.5]), np.array([1e-4]), 4)
    >>> round(float(x[0]), 12)  # 0.2 + beta (v - v_t) t / (R_off - R_on)
    0.25
    """
    x = np.ascontiguousarray(x, dtype=float)
    return pulse_train(np.ascontiguousarray(model, dtype=np.int64),
                       np.ascontiguousarray(params, dtype=float), x,
                       np.ascontiguousarray(np.broadcast_to(v, x.shape), dtype=float),
                       np.ones(x.shape, np.int64),
                       np.ascontiguousarray(np.broadcast_to(width, x.shape), dtype=float),
                       int(substeps))
