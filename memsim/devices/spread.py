"""Device-to-device spread: one definition of the lognormal draw that every caller uses.

Fabricated memristors of one design differ in their resistance range. memsim models the
spread as one lognormal factor per memristor that multiplies its R_on and R_off together: the
device scales as a whole, so R_on < R_off and the ratio R_off / R_on are kept. Both
:meth:`memsim.Network.with_spread` (a fixed sample, e.g. for a sweep point) and the per-run
draw of training (:func:`memsim.learn.device_sample`, ``CircuitConfig.d2d_spread``) call
:func:`d2d_factors`, so the same sigma and generator state give the same devices;
:func:`spread_devices` (which :class:`memsim.devices.nonideal.DeviceSpread` and the learner
use) adds the spread of the initial states. The draw runs once per sample of devices, so it is
vectorized NumPy, not a numba kernel (``np.exp`` and a scalar ``exp`` may differ by one ulp,
and one implementation keeps the learner's draws bit-identical across callers); its loop twin
is :func:`memsim.devices.nonideal_reference.spread_devices_np`.
"""

from __future__ import annotations

import math

import numpy as np

from memsim.errors import ParameterError

__all__ = ["d2d_factors", "spread_devices", "spread_resistances"]


def d2d_factors(sigma: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` lognormal factors ``exp(sigma * N(0, 1))``, drawn in order from ``rng``.

    Raises
    ------
    ParameterError
        If ``sigma`` is negative or not finite.

    Examples
    --------
    >>> f = d2d_factors(0.1, 10_000, np.random.default_rng(0))
    >>> round(float(np.log(f).std()), 2)
    0.1
    """
    if not isinstance(sigma, int | float | np.floating) or not math.isfinite(sigma) \
            or sigma < 0:
        raise ParameterError("sigma", f"spread must be a finite number >= 0, got {sigma!r}")
    return np.exp(sigma * rng.standard_normal(int(n)))


def spread_resistances(params: np.ndarray, memristive: np.ndarray, sigma: float,
                       rng: np.random.Generator, columns: tuple[int, ...] = (0, 1)
                       ) -> np.ndarray:
    """A copy of the parameter rows ``params`` (E, N_PARAMS) with the ``columns`` (R_on = 0,
    R_off = 1) of every memristive edge times one :func:`d2d_factors` factor per device.

    Draws one normal per memristive edge, in edge order, and none when ``sigma`` is 0 (the
    generator is left untouched).

    Examples
    --------
    >>> p = np.array([[1e3, 1e4], [5.0, 5.0]])
    >>> q = spread_resistances(p, np.array([True, False]), 0.2, np.random.default_rng(1))
    >>> bool(q[0, 1] / q[0, 0] == 10.0), q[1].tolist()
    (True, [5.0, 5.0])
    """
    out = np.array(params, dtype=float)
    mem = np.flatnonzero(memristive)
    if sigma == 0:
        return out
    factor = d2d_factors(sigma, mem.size, rng)
    for c in columns:
        out[mem, c] *= factor
    return out


def spread_devices(params: np.ndarray, x0: np.ndarray, memristors: np.ndarray, r_sigma: float,
                   x0_sigma: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Device-to-device spread of a sample of devices: copies of ``params`` (E, N_PARAMS) and
    ``x0`` (E,).

    The R_on and R_off of each memristor (indices ``memristors``) are multiplied by one
    :func:`d2d_factors` factor (the ratio R_off / R_on is kept); then each initial state gets
    ``x0_sigma N(0, 1)`` added and is clipped to [0, 1]. All factors are drawn first, then the
    states; nothing is drawn for a zero sigma.

    Examples
    --------
    >>> p = np.array([[1e3, 1e4], [2e3, 2e4]])
    >>> q, x = spread_devices(p, np.array([0.5, 0.5]), np.array([0, 1]), 0.1, 0.0,
    ...                       np.random.default_rng(0))
    >>> bool(np.allclose(q[:, 1] / q[:, 0], 10.0)), x.tolist()
    (True, [0.5, 0.5])
    """
    mem = np.asarray(memristors, np.int64)
    out = np.array(params, dtype=float)
    x = np.array(x0, dtype=float)
    if r_sigma:
        factor = d2d_factors(r_sigma, mem.size, rng)
        out[mem, 0] *= factor
        out[mem, 1] *= factor
    if x0_sigma:
        x[mem] = np.clip(x[mem] + x0_sigma * rng.standard_normal(mem.size), 0.0, 1.0)
    return out, x
