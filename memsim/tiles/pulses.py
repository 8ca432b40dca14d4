"""Programming pulses integrated through the device rate law, one device at a time.

During a pulse every device of a tile sees a known constant voltage (the write model keeps the
lines ideal: the drivers hold the programming voltages), so each state obeys its own ODE
``dx/dt = rate(model, x, v, params)`` of :func:`memsim.devices.kernels.rates` — the same
device law the transient integrates. Classical RK4 over ``substeps`` steps per pulse; stage
states are held just inside (0, 1) so that a step reaching a bound midway integrates the
rate up to the bound instead of dropping the stages beyond it, and the result is clipped to
[0, 1]: no pulse ever leaves a state outside the unit interval.
"""

from __future__ import annotations

import numpy as np

from memsim.devices.kernels import conductances, rates

__all__ = ["integrate_pulses"]

INSIDE = 1e-12
"""Margin that keeps RK stage states off the bounds (where the rate law returns 0 for a
drive pushing outward)."""


def integrate_pulses(model: np.ndarray, params: np.ndarray, x: np.ndarray, v: np.ndarray,
                     width: np.ndarray, substeps: int) -> tuple[np.ndarray, np.ndarray]:
    """States after one constant-voltage pulse per device, and the energy each dissipated.

    Parameters
    ----------
    model : int64 (E,)
        Model codes.
    params : float64 (E, N_PARAMS)
        Packed device rows.
    x : (E,)
        States before the pulse, in [0, 1].
    v : (E,)
        Voltage across each device during the pulse (plus to minus).
    width : (E,)
        Duration of each device's pulse in seconds (>= 0; per device, so cycle-to-cycle
        jitter of the pulse width enters here).
    substeps : int
        RK4 steps per pulse.

    Returns
    -------
    x_new : (E,) states in [0, 1]
    energy : (E,) joules, ``v^2 g(x)`` integrated by the trapezoid rule over the steps

    Examples
    --------
    A threshold device moves at a constant rate above threshold, so RK4 is exact:

    >>> import numpy as np
    >>> from memsim.devices import Threshold
    >>> d = Threshold(r_on=1e3, r_off=1e4, beta=9e6, v_t=1.0)
    >>> x, e = integrate_pulses(np.array([int(d.model)]), d.row()[None], np.array([0.2]),
    ...                         np.array([1.5]), np.array([1e-4]), 4)
    >>> round(float(x[0]), 12)  # 0.2 + beta (v - v_t) t / (R_off - R_on)
    0.25
    """
    x = np.array(x, dtype=float)
    v = np.ascontiguousarray(v, dtype=float)
    h = np.asarray(width, dtype=float) / substeps
    energy = np.zeros_like(x)
    g = conductances(model, x, params)
    for _ in range(substeps):
        k1 = _rate(model, x, v, params)
        k2 = _rate(model, x + 0.5 * h * k1, v, params)
        k3 = _rate(model, x + 0.5 * h * k2, v, params)
        k4 = _rate(model, x + h * k3, v, params)
        x = np.clip(x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4), 0.0, 1.0)
        g_new = conductances(model, x, params)
        energy += 0.5 * h * v * v * (g + g_new)
        g = g_new
    return x, energy


def _rate(model: np.ndarray, x: np.ndarray, v: np.ndarray, params: np.ndarray) -> np.ndarray:
    """The device law at stage states held inside (0, 1) (see the module notes)."""
    return rates(model, np.clip(x, INSIDE, 1.0 - INSIDE), v, params)
