"""Volatile memristors: the stored conductance relaxes towards a rest value while the device
is left alone.

Diffusive (volatile) memristors lose their programmed state spontaneously: the conducting
filament dissolves and the conductance returns towards a rest value. memsim models the loss
as a first-order relaxation of the conductance with one time constant ``tau``::

    G(t + s) = G_rest + (G(t) - G_rest) exp(-s / tau)

It is memoryless (the step from ``t`` to ``t + s`` needs only ``G(t)``, so a time-stepped
simulation advances it step by step, and two half steps make one whole step exactly) and
linear in ``G``: the difference of a differential pair relaxing to the same rest value shrinks
by exactly ``exp(-s / tau)``, which is what makes a volatile tile's retention loss an
exponential forgetting of its weights. (The measured 1T1R retention of
:class:`~memsim.devices.nonideal.RetentionDrift` is a power law in time since programming,
the slow drift of a non-volatile device, and is not memoryless; it is not used here.)
"""

from __future__ import annotations

import math

import numpy as np

from memsim.errors import ParameterError

__all__ = ["check_tau", "relax_conductances", "retention_factor"]


def check_tau(tau: float | None, name: str = "retention_tau") -> None:
    """Validate a retention time constant in seconds (None: a non-volatile device).

    >>> check_tau(None); check_tau(0.1)

    Raises
    ------
    ParameterError
        If ``tau`` is not a positive finite number of seconds (nor None).
    """
    if tau is None:
        return
    if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not (
            math.isfinite(tau) and tau > 0):
        raise ParameterError(name, f"a retention time constant is a positive finite number of "
                             f"seconds (None: non-volatile), got {tau!r}")


def retention_factor(seconds: float, tau: float | None) -> float:
    """The share ``exp(-seconds / tau)`` of a conductance's distance from rest that survives
    ``seconds`` (1 for a non-volatile device, ``tau`` None).

    >>> round(retention_factor(1e-3, 0.1), 6)
    0.99005

    Raises
    ------
    ParameterError
        If ``seconds`` is negative or not finite, or ``tau`` is invalid.
    """
    check_tau(tau)
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ParameterError("seconds", f"a time step is a finite number >= 0 of seconds, got "
                             f"{seconds!r}")
    return 1.0 if tau is None else math.exp(-seconds / tau)


def relax_conductances(g: np.ndarray, g_rest: np.ndarray | float, seconds: float,
                       tau: float | None) -> np.ndarray:
    """Conductances ``g`` after ``seconds`` of relaxation towards ``g_rest`` (a new array).

    >>> relax_conductances(np.array([3.0, 1.0]), 1.0, 0.1, 0.1 / np.log(2)).tolist()
    [2.0, 1.0]
    """
    f = retention_factor(seconds, tau)
    g = np.array(g, dtype=float)
    return g if f == 1.0 else g_rest + (g - g_rest) * f
