"""Devices programmed by identical pulses, in pulse units.

When only the conductance after each pulse is known (no pulse amplitude or width), a device is
a map from one pulse to the next: the state ``x`` in [0, 1] moves by a rate law per pulse,

``soft bounds``  ``dx = +k_up (1 - x)^gamma_up`` (up) ``dx = -k_down x^gamma_down`` (down),
``window``       ``dx = +k_up (1 - x^(2p))`` (up) ``dx = -k_down (1 - (1 - x)^(2p))`` (down),

the second being VTEAM's with a Biolek window for a fixed pulse (a constant step that slows
only near the bounds). The conductance is memsim's ``G(x) = 1 / (R_off - x (R_off - R_on))``
(``mapping = "resistive"``, ``R_on = 1 / g_max``, ``R_off = 1 / g_min``: the state is linear
in resistance, so constant steps in ``x`` give steps in ``G`` that grow with ``G``), or
``G = g_min + x (g_max - g_min)`` (``"linear"``, for normalized data without a scale).

Noise: each pulse adds a write (cycle-to-cycle) noise ``N(0, s(x)^2)`` to the state with
``s(x) = max(0, write_noise + write_noise_slope * x)``, and each read adds
``N(0, read_noise^2)`` to the conductance (it does not change the state).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numba import njit

from memsim.errors import ParameterError

__all__ = ["Law", "PulseDevice", "program", "pulse_conductance", "pulse_response", "pulse_step"]


class Law(IntEnum):
    """Rate laws per pulse."""

    SOFT_BOUNDS = 0
    WINDOW = 1


RESISTIVE, LINEAR_MAP = 0, 1
_MAPPINGS = {"resistive": RESISTIVE, "linear": LINEAR_MAP}


@dataclass(frozen=True)
class PulseDevice:
    """A pulse-programmed device (see the module docstring).

    Parameters
    ----------
    g_min, g_max : float
        Conductance at ``x = 0`` and ``x = 1``: siemens (``resistive``, ``0 < g_min <
        g_max``) or the data's normalized units (``linear``, ``g_min < g_max``).
    k_up, k_down : float
        Rate of an up (potentiation, SET) and a down (depression, RESET) pulse, states per
        pulse, >= 0.
    law : {"soft_bounds", "window"}
    gamma_up, gamma_down : float
        Soft-bounds exponents, > 0 (1: the classic soft bounds).
    p : float
        Window exponent, >= 0.5.
    mapping : {"resistive", "linear"}
    write_noise, write_noise_slope : float
        Write noise per pulse ``s(x) = max(0, write_noise + write_noise_slope x)``, states.
    read_noise : float
        Read noise, the conductance's units, >= 0.

    Examples
    --------
    >>> d = PulseDevice(g_min=1e-4, g_max=1e-3, k_up=0.01, k_down=0.02)
    >>> round(d.conductance(0.5) * 1e3, 4)
    0.1818
    """

    g_min: float
    g_max: float
    k_up: float
    k_down: float
    law: str = "soft_bounds"
    gamma_up: float = 1.0
    gamma_down: float = 1.0
    p: float = 1.0
    mapping: str = "resistive"
    write_noise: float = 0.0
    write_noise_slope: float = 0.0
    read_noise: float = 0.0

    def __post_init__(self) -> None:
        for name in ("g_min", "g_max", "k_up", "k_down", "gamma_up", "gamma_down", "p",
                     "write_noise", "write_noise_slope", "read_noise"):
            v = getattr(self, name)
            if not isinstance(v, int | float) or not math.isfinite(v):
                raise ParameterError(name, f"must be a finite number, got {v!r}")
        if self.mapping not in _MAPPINGS:
            raise ParameterError("mapping", f"use 'resistive' or 'linear', got {self.mapping!r}")
        if self.law.upper() not in Law.__members__:
            raise ParameterError("law", f"use 'soft_bounds' or 'window', got {self.law!r}")
        if self.g_min >= self.g_max:
            raise ParameterError("g_min", f"g_min ({self.g_min:g}) must be below g_max "
                                 f"({self.g_max:g})")
        if self.mapping == "resistive" and self.g_min <= 0:
            raise ParameterError("g_min", "a resistive mapping needs a positive conductance "
                                 f"(siemens), got {self.g_min!r}")
        for name in ("k_up", "k_down", "write_noise", "read_noise"):
            if getattr(self, name) < 0:
                raise ParameterError(name, f"must be >= 0, got {getattr(self, name)!r}")
        for name in ("gamma_up", "gamma_down"):
            if getattr(self, name) <= 0:
                raise ParameterError(name, f"must be > 0, got {getattr(self, name)!r}")
        if self.p < 0.5:
            raise ParameterError("p", f"the window exponent must be >= 0.5, got {self.p!r}")

    def row(self) -> np.ndarray:
        """The packed parameters :func:`pulse_step` reads."""
        return np.array([float(Law[self.law.upper()]), self.k_up, self.k_down, self.gamma_up,
                         self.gamma_down, self.p, float(_MAPPINGS[self.mapping]), self.g_min,
                         self.g_max, self.write_noise, self.write_noise_slope, self.read_noise])

    def conductance(self, x: float | np.ndarray) -> float | np.ndarray:
        """Conductance at state ``x``."""
        out = pulse_conductance(np.atleast_1d(np.asarray(x, float)), self.row())
        return float(out[0]) if np.ndim(x) == 0 else out

    def state(self, g: float | np.ndarray) -> np.ndarray:
        """The state whose conductance is ``g`` (not clipped to [0, 1])."""
        g = np.asarray(g, float)
        if self.mapping == "linear":
            return (g - self.g_min) / (self.g_max - self.g_min)
        r_on, r_off = 1.0 / self.g_max, 1.0 / self.g_min
        return (r_off - 1.0 / g) / (r_off - r_on)


# Packed row layout (one table: PulseDevice.row and the kernels read it).
P_LAW, P_KUP, P_KDOWN, P_GUP, P_GDOWN, P_P, P_MAP, P_GMIN, P_GMAX, P_WN, P_WNS, P_RN = range(12)


@njit(cache=True)
def pulse_step(x, direction, p):
    """Deterministic state change of one pulse (``direction`` +1 up, -1 down), clipped so
    that ``x + dx`` stays in [0, 1]."""
    y = 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)
    if p[P_LAW] == 0:  # soft bounds
        if direction > 0:
            d = p[P_KUP] * (1.0 - y) ** p[P_GUP]
        else:
            d = -p[P_KDOWN] * y ** p[P_GDOWN]
    else:
        e = 2.0 * p[P_P]
        if direction > 0:
            d = p[P_KUP] * (1.0 - y ** e)
        else:
            d = -p[P_KDOWN] * (1.0 - (1.0 - y) ** e)
    z = y + d
    if z > 1.0:
        z = 1.0
    elif z < 0.0:
        z = 0.0
    return z - y


@njit(cache=True)
def pulse_conductance(x, p):
    """Conductances of states ``x`` (array)."""
    out = np.empty(x.shape[0])
    for k in range(x.shape[0]):
        if p[P_MAP] == 0:
            r_on, r_off = 1.0 / p[P_GMAX], 1.0 / p[P_GMIN]
            out[k] = 1.0 / (r_off - x[k] * (r_off - r_on))
        else:
            out[k] = p[P_GMIN] + x[k] * (p[P_GMAX] - p[P_GMIN])
    return out


@njit(cache=True)
def pulse_response(x0, direction, n, p, noise):
    """States after each of ``n`` identical pulses from ``x0``.

    ``noise`` (n,) holds standard normal draws for the write noise (zeros: the deterministic
    response), so the caller owns the random stream.
    """
    out = np.empty(n)
    x = x0
    for k in range(n):
        x = x + pulse_step(x, direction, p)
        s = p[P_WN] + p[P_WNS] * x
        if s > 0.0:
            x = x + s * noise[k]
            x = 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)
        out[k] = x
    return out


def program(device: PulseDevice, x0: float, direction: int, n: int,
            seed: int | np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Apply ``n`` identical pulses from state ``x0``: the states after each pulse (with
    write noise) and the conductances read after each (with read noise).

    >>> d = PulseDevice(g_min=1e-4, g_max=1e-3, k_up=0.01, k_down=0.02, write_noise=0.002,
    ...                 read_noise=1e-6)
    >>> x, g = program(d, 0.2, +1, 50, seed=0)
    >>> bool(x[-1] > 0.2), g.shape
    (True, (50,))

    Raises
    ------
    ParameterError
        For a direction other than +1 / -1, a negative count or a state outside [0, 1].
    """
    if direction not in (1, -1):
        raise ParameterError("direction", f"use +1 (up) or -1 (down), got {direction!r}")
    if int(n) != n or n < 0:
        raise ParameterError("n", f"must be a count >= 0, got {n!r}")
    if not 0.0 <= x0 <= 1.0:
        raise ParameterError("x0", f"the state must lie in [0, 1], got {x0!r}")
    rng = np.random.default_rng(seed)
    row = device.row()
    x = pulse_response(float(x0), int(direction), int(n), row, rng.standard_normal(int(n)))
    g = pulse_conductance(x, row) + device.read_noise * rng.standard_normal(int(n))
    return x, g
