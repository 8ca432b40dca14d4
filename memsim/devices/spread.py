"""Device-to-device spread: one definition of the lognormal draw that every caller uses.

Fabricated memristors of one design differ in their resistance range. memsim models the
spread as one lognormal factor per memristor that multiplies its R_on and R_off together: the
device scales as a whole, so R_on < R_off and the ratio R_off / R_on are kept. Both
:meth:`memsim.Network.with_spread` (a fixed sample, e.g. for a sweep point) and the per-run
draw of training (:func:`memsim.learn.device_draw`, ``CircuitConfig.d2d_spread``) call
:func:`d2d_factors`, so the same sigma and generator state give the same devices.
"""

from __future__ import annotations

import math

import numpy as np

from memsim.errors import ParameterError

__all__ = ["d2d_factors", "spread_resistances"]


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
