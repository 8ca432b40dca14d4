"""Device-level nonidealities: spread, cycle-to-cycle noise, stuck devices, read noise, a
finite number of conductance levels and retention drift.

Each is a frozen, validated parameter set with units (:class:`DeviceSpread`,
:class:`CycleNoise`, :class:`StuckFaults`, :class:`ReadNoise`, :class:`Levels`,
:class:`RetentionDrift`), bundled by :class:`Nonidealities`. The work is done by jitted
kernels over plain arrays (packed parameter rows, states, a ``np.random.Generator`` or
pre-drawn normals), so the transient and the learning loops can call them inside numba (the
learner's write loop calls :func:`cycle_update_into`, :func:`quantize_into` and
:func:`read_params_into`); the device-to-device spread, drawn once per sample, is the NumPy
:func:`memsim.devices.spread.spread_devices`, the one lognormal draw. Each kernel has a NumPy
twin in :mod:`memsim.devices.nonideal_reference` that the tests compare
with. Network-level application (spread and stuck devices are properties of a sample of
devices, drawn once) is :meth:`Nonidealities.apply`, which returns a new network.

Seeds: every random function takes a ``np.random.Generator``; :meth:`Nonidealities.apply`
takes a seed and spawns one child stream per nonideality (``SeedSequence.spawn``), so adding
one nonideality does not change the draws of another.

Defaults are the ideal device (no spread, no noise, no faults, continuous levels, no drift).
The values measured on the 1T1R device are in ``measurements/`` and
:func:`memsim.measure.statistics.measured_nonidealities`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numba import njit

from memsim.devices.kernels import clip_unit
from memsim.devices.models import Model
from memsim.devices.spread import spread_devices
from memsim.errors import ParameterError

__all__ = [
    "NOT_STUCK",
    "STUCK_OFF",
    "STUCK_ON",
    "CycleNoise",
    "DeviceSpread",
    "Levels",
    "Nonidealities",
    "ReadNoise",
    "RetentionDrift",
    "StuckFaults",
    "apply_stuck",
    "cycle_update",
    "cycle_update_into",
    "drift_states",
    "level_state",
    "noisy_conductances",
    "quantize_into",
    "quantize_states",
    "read_params_into",
    "spread_devices",
    "stuck_codes",
]

NOT_STUCK, STUCK_ON, STUCK_OFF = 0, 1, 2
RESISTOR = int(Model.RESISTOR)


def _nonneg(name: str, value: float, unit: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or value < 0:
        raise ParameterError(name, f"must be a finite number >= 0 {unit}, got {value!r}")


def _prob(name: str, value: float) -> None:
    _nonneg(name, value, "")
    if value > 1:
        raise ParameterError(name, f"must be a probability in [0, 1], got {value!r}")


def _positive_or_none(name: str, value: float | None, unit: str) -> None:
    if value is not None:
        _nonneg(name, value, unit)
        if value == 0:
            raise ParameterError(name, f"must be positive ({unit}) or None, got 0")


# ============================================================================ kernels
@njit(cache=True)
def cycle_update_into(x_old, x_new, relative, absolute, rng):
    """Cycle-to-cycle noise of one write, in place on ``x_new``: each device's change
    ``x_new - x_old`` is scaled by ``max(0, 1 + relative N(0, 1))``, then ``absolute N(0, 1)``
    is added; devices that did not move stay put; the result is clipped to [0, 1]. Per moving
    device, in edge order, one normal for the relative part, then one for the absolute part
    (none for a zero sigma). The learner calls this after every write pulse
    (``CircuitConfig.c2c_noise``, ``c2c_absolute``)."""
    if relative <= 0.0 and absolute <= 0.0:
        return
    for e in range(x_old.shape[0]):
        d = x_new[e] - x_old[e]
        if d != 0.0:
            if relative > 0.0:
                f = 1.0 + relative * rng.standard_normal()
                if f < 0.0:
                    f = 0.0
                d *= f
            if absolute > 0.0:
                d += absolute * rng.standard_normal()
            x_new[e] = clip_unit(x_old[e] + d)


@njit(cache=True)
def cycle_update(x_old, x_new, relative, absolute, rng):
    """:func:`cycle_update_into` on a copy of ``x_new`` (returned)."""
    if relative <= 0.0 and absolute <= 0.0:
        return x_new
    out = x_new.copy()
    cycle_update_into(x_old, out, relative, absolute, rng)
    return out


@njit(cache=True)
def stuck_codes(uniforms, p_on, p_off):
    """Stuck code of each device from uniform draws: ON if ``u < p_on``, OFF if
    ``p_on <= u < p_on + p_off``, else not stuck."""
    out = np.zeros(uniforms.shape[0], np.int64)
    for k in range(uniforms.shape[0]):
        if uniforms[k] < p_on:
            out[k] = STUCK_ON
        elif uniforms[k] < p_on + p_off:
            out[k] = STUCK_OFF
    return out


@njit(cache=True)
def apply_stuck(model, params, codes, r_on, r_off):
    """Stuck devices become plain resistors: stuck ON at ``r_on`` (if > 0, else the device's
    own R_on), stuck OFF at ``r_off`` (else its R_off). Returns new ``model`` and ``params``."""
    m = model.copy()
    p = params.copy()
    for e in range(model.shape[0]):
        if codes[e] == NOT_STUCK:
            continue
        if codes[e] == STUCK_ON:
            r = r_on if r_on > 0.0 else params[e, 0]
        else:
            r = r_off if r_off > 0.0 else params[e, 1]
        m[e] = RESISTOR
        for c in range(p.shape[1]):
            p[e, c] = 0.0
        p[e, 0] = r
        p[e, 1] = r
    return m, p


@njit(cache=True)
def noisy_conductances(g, relative, absolute, normals):
    """Read noise: ``g (1 + relative z1) + absolute z2`` with ``normals`` (2, E) standard
    normal draws, held >= 0 (a read never gives a negative conductance)."""
    out = np.empty(g.shape[0])
    for e in range(g.shape[0]):
        y = g[e] * (1.0 + relative * normals[0, e]) + absolute * normals[1, e]
        out[e] = y if y > 0.0 else 0.0
    return out


@njit(cache=True)
def _g_of_x(x, r_on, r_off):
    return 1.0 / (r_off - x * (r_off - r_on))


@njit(cache=True)
def _x_of_g(g, r_on, r_off):
    return (r_off - 1.0 / g) / (r_off - r_on)


@njit(cache=True)
def level_state(x, r_on, r_off, n, g_low, g_high, u, stochastic):
    """The state of one device (window ``r_on``, ``r_off``) moved onto the nearest of ``n``
    conductance levels from ``g_low`` to ``g_high`` (S; <= 0: the device's own 1/R_off,
    1/R_on), or rounded stochastically with the uniform draw ``u``; clipped to [0, 1]."""
    lo = g_low if g_low > 0.0 else 1.0 / r_off
    hi = g_high if g_high > 0.0 else 1.0 / r_on
    g = _g_of_x(x, r_on, r_off)
    if n <= 1:
        level_g = lo
    else:
        step = (hi - lo) / (n - 1)
        t = (g - lo) / step
        if t <= 0.0:
            j = 0.0
        elif t >= n - 1:
            j = float(n - 1)
        else:
            j = math.floor(t)
            frac = t - j
            if stochastic:
                if u < frac:
                    j += 1.0
            elif frac >= 0.5:
                j += 1.0
        level_g = lo + j * step
    return clip_unit(_x_of_g(level_g, r_on, r_off))


@njit(cache=True)
def quantize_states(x, params, memristors, n, g_low, g_high, uniforms):
    """States moved to the nearest of ``n`` conductance levels evenly spaced from ``g_low``
    to ``g_high`` (S; a value <= 0 means the device's own 1/R_off, 1/R_on).

    With ``uniforms`` of the memristors' length, rounding is stochastic (up with the
    probability of the distance to the lower level: unbiased in conductance); with an empty
    array, to the nearest level. Levels are clipped to the device's window."""
    out = x.copy()
    stochastic = uniforms.shape[0] == memristors.shape[0] and memristors.shape[0] > 0
    for k in range(memristors.shape[0]):
        e = memristors[k]
        u = uniforms[k] if stochastic else 0.0
        out[e] = level_state(x[e], params[e, 0], params[e, 1], n, g_low, g_high, u, stochastic)
    return out


@njit(cache=True)
def quantize_into(x, params, memristors, n, g_low, g_high, stochastic, rng):
    """:func:`quantize_states` in place on ``x``, drawing the uniforms of stochastic rounding
    from ``rng`` (one per memristor, in order; none for nearest rounding or ``n == 0``). The
    learner calls this after every write (``CircuitConfig.levels``)."""
    if n == 0:
        return
    for k in range(memristors.shape[0]):
        e = memristors[k]
        u = rng.random() if stochastic else 0.0
        x[e] = level_state(x[e], params[e, 0], params[e, 1], n, g_low, g_high, u, stochastic)


@njit(cache=True)
def read_params_into(params, x, memristors, relative, absolute, rng, out):
    """Read noise as the parameters of one read: ``out`` (a copy of ``params`` the caller
    keeps) gets the R_on and R_off of each memristor divided by ``G' / G``, where ``G`` is its
    conductance in state ``x`` and ``G'`` the noisy read of :func:`noisy_conductances`; a
    device that conducts like ``R(x)`` then conducts ``G'`` without its state being touched.
    Draws ``2 * len(memristors)`` normals, as ``rng.standard_normal((2, n))`` would (the
    relative parts, then the absolute ones). A read of 0 S (the noise floor at zero) is held
    at 1e-12 of ``G`` (effectively open), so the resistances stay finite."""
    n = memristors.shape[0]
    g = np.empty(n)
    for k in range(n):
        e = memristors[k]
        g[k] = _g_of_x(x[e], params[e, 0], params[e, 1])
    normals = np.empty((2, n))
    for i in range(2):
        for k in range(n):
            normals[i, k] = rng.standard_normal()
    noisy = noisy_conductances(g, relative, absolute, normals)
    for k in range(n):
        e = memristors[k]
        f = noisy[k] / g[k]
        if f < 1e-12:
            f = 1e-12
        out[e, 0] = params[e, 0] / f
        out[e, 1] = params[e, 1] / f


@njit(cache=True)
def drift_states(x, params, memristors, t, t0, nu):
    """Retention drift after time ``t`` (s) since programming: the conductance of memristor
    ``memristors[k]`` becomes ``G (t / t0)^(-nu[k])`` for ``t > t0`` (unchanged before),
    clipped to the device's window; returns the new states."""
    out = x.copy()
    if t <= t0:
        return out
    for k in range(memristors.shape[0]):
        e = memristors[k]
        r_on, r_off = params[e, 0], params[e, 1]
        g = _g_of_x(x[e], r_on, r_off) * (t / t0) ** (-nu[k])
        y = _x_of_g(g, r_on, r_off)
        out[e] = 0.0 if y < 0.0 else (1.0 if y > 1.0 else y)
    return out


# ============================================================================ parameter sets
@dataclass(frozen=True)
class DeviceSpread:
    """Device-to-device spread (drawn once per sample of devices).

    Parameters
    ----------
    r_sigma : float
        Log-standard deviation (dimensionless) of one lognormal factor per device on R_on and
        R_off together (the ratio stays, so R_on < R_off holds).
    x0_sigma : float
        Standard deviation of the initial states (states, additive, clipped to [0, 1]).
    """

    r_sigma: float = 0.0
    x0_sigma: float = 0.0

    def __post_init__(self) -> None:
        _nonneg("r_sigma", self.r_sigma, "(log-sd)")
        _nonneg("x0_sigma", self.x0_sigma, "(states)")

    def draw(self, params: np.ndarray, x0: np.ndarray, memristors: np.ndarray,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Spread copies of ``params`` and ``x0`` (see :func:`spread_devices`)."""
        return spread_devices(np.asarray(params, float), np.asarray(x0, float),
                              np.asarray(memristors, np.int64), float(self.r_sigma),
                              float(self.x0_sigma), rng)


@dataclass(frozen=True)
class CycleNoise:
    """Cycle-to-cycle noise of every write (see :func:`cycle_update`).

    Parameters
    ----------
    relative : float
        Standard deviation (dimensionless) of the factor on each state change.
    absolute : float
        Standard deviation (states) added to each state change.
    """

    relative: float = 0.0
    absolute: float = 0.0

    def __post_init__(self) -> None:
        _nonneg("relative", self.relative, "(dimensionless)")
        _nonneg("absolute", self.absolute, "(states)")

    def update(self, x_old: np.ndarray, x_new: np.ndarray, rng: np.random.Generator
               ) -> np.ndarray:
        return cycle_update(np.asarray(x_old, float), np.asarray(x_new, float),
                            float(self.relative), float(self.absolute), rng)


@dataclass(frozen=True)
class StuckFaults:
    """Devices stuck at ON or OFF for good (drawn once per sample of devices).

    Parameters
    ----------
    p_on, p_off : float
        Probabilities that a memristor is stuck ON / OFF (``p_on + p_off <= 1``).
    r_on, r_off : float or None
        Resistance of a stuck-ON / stuck-OFF device, ohm; None: the device's own R_on / R_off
        (measured stuck-ON devices can conduct more than any programmed state).
    """

    p_on: float = 0.0
    p_off: float = 0.0
    r_on: float | None = None
    r_off: float | None = None

    def __post_init__(self) -> None:
        _prob("p_on", self.p_on)
        _prob("p_off", self.p_off)
        if self.p_on + self.p_off > 1:
            raise ParameterError("p_off", f"p_on + p_off must be <= 1, got "
                                 f"{self.p_on + self.p_off!r}")
        _positive_or_none("r_on", self.r_on, "ohm")
        _positive_or_none("r_off", self.r_off, "ohm")

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Stuck codes (0 none, 1 ON, 2 OFF) of ``n`` devices (one uniform draw each)."""
        return stuck_codes(rng.random(int(n)), float(self.p_on), float(self.p_off))

    def apply(self, model: np.ndarray, params: np.ndarray, codes: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
        return apply_stuck(np.asarray(model, np.int64), np.asarray(params, float),
                           np.asarray(codes, np.int64), float(self.r_on or 0.0),
                           float(self.r_off or 0.0))


@dataclass(frozen=True)
class ReadNoise:
    """Noise of each read of a conductance (see :func:`noisy_conductances`).

    Parameters
    ----------
    relative : float
        Standard deviation relative to the conductance (dimensionless).
    absolute : float
        Standard deviation in siemens.
    """

    relative: float = 0.0
    absolute: float = 0.0

    def __post_init__(self) -> None:
        _nonneg("relative", self.relative, "(dimensionless)")
        _nonneg("absolute", self.absolute, "S")

    def read(self, g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        g = np.asarray(g, float)
        if self.relative == 0 and self.absolute == 0:
            return g.copy()
        return noisy_conductances(g, float(self.relative), float(self.absolute),
                                  rng.standard_normal((2, g.size)))


@dataclass(frozen=True)
class Levels:
    """A finite number of programmable conductance levels (see :func:`quantize_states`).

    Parameters
    ----------
    n : int
        Number of levels, >= 2; 0: continuous (no quantization).
    g_low, g_high : float or None
        Lowest and highest level, S; None: the device's 1/R_off and 1/R_on.
    stochastic : bool
        Round stochastically (unbiased) instead of to the nearest level.
    """

    n: int = 0
    g_low: float | None = None
    g_high: float | None = None
    stochastic: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, int | np.integer) or \
                self.n < 0 or self.n == 1:
            raise ParameterError("n", f"the level count must be 0 (continuous) or >= 2, got "
                                 f"{self.n!r}")
        _positive_or_none("g_low", self.g_low, "S")
        _positive_or_none("g_high", self.g_high, "S")
        if self.g_low is not None and self.g_high is not None and self.g_low >= self.g_high:
            raise ParameterError("g_low", f"g_low ({self.g_low:g} S) must be below g_high "
                                 f"({self.g_high:g} S)")

    def quantize(self, x: np.ndarray, params: np.ndarray, memristors: np.ndarray,
                 rng: np.random.Generator | None = None) -> np.ndarray:
        """States on the levels (``rng`` needed for stochastic rounding)."""
        x = np.asarray(x, float)
        if self.n == 0:
            return x.copy()
        mem = np.asarray(memristors, np.int64)
        if self.stochastic:
            if rng is None:
                raise ParameterError("rng", "stochastic rounding needs a random generator")
            u = rng.random(mem.size)
        else:
            u = np.zeros(0)
        return quantize_states(x, np.asarray(params, float), mem, int(self.n),
                               float(self.g_low or 0.0), float(self.g_high or 0.0), u)


@dataclass(frozen=True)
class RetentionDrift:
    """Power-law drift of the programmed conductance (see :func:`drift_states`).

    Parameters
    ----------
    nu : float
        Drift exponent (dimensionless): ``G(t) = G(t0) (t / t0)^(-nu)``; negative values
        drift up.
    nu_sigma : float
        Device-to-device standard deviation of the exponent.
    t0 : float
        Time after programming at which the conductance is as programmed, s.
    """

    nu: float = 0.0
    nu_sigma: float = 0.0
    t0: float = 1.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.nu):
            raise ParameterError("nu", f"must be finite, got {self.nu!r}")
        _nonneg("nu_sigma", self.nu_sigma, "")
        _nonneg("t0", self.t0, "s")
        if self.t0 == 0:
            raise ParameterError("t0", "the reference time must be positive, s")

    def exponents(self, n: int, rng: np.random.Generator | None) -> np.ndarray:
        """One exponent per device."""
        if self.nu_sigma == 0:
            return np.full(int(n), float(self.nu))
        if rng is None:
            raise ParameterError("rng", "a spread of exponents needs a random generator")
        return self.nu + self.nu_sigma * rng.standard_normal(int(n))

    def after(self, x: np.ndarray, params: np.ndarray, memristors: np.ndarray, t: float,
              nu: np.ndarray) -> np.ndarray:
        """States ``t`` seconds after programming, with per-device exponents ``nu``."""
        return drift_states(np.asarray(x, float), np.asarray(params, float),
                            np.asarray(memristors, np.int64), float(t), float(self.t0),
                            np.asarray(nu, float))


class _NetworkLike(Protocol):
    model: np.ndarray
    params: np.ndarray
    x0: np.ndarray

    @property
    def memristive(self) -> np.ndarray: ...

    def replace(self, **changes: Any) -> Any: ...


@dataclass(frozen=True)
class Nonidealities:
    """All device-level nonidealities of a technology.

    Examples
    --------
    >>> import memsim
    >>> from memsim.devices.nonideal import Nonidealities, StuckFaults
    >>> net = memsim.layered([4, 8, 4], device=memsim.devices.preset("pershin2011"))
    >>> faulty = Nonidealities(stuck=StuckFaults(p_on=0.25)).apply(net, seed=1)
    >>> int((faulty.model == memsim.devices.Model.RESISTOR).sum())  # of 64 devices
    20
    """

    spread: DeviceSpread = field(default_factory=DeviceSpread)
    cycle: CycleNoise = field(default_factory=CycleNoise)
    stuck: StuckFaults = field(default_factory=StuckFaults)
    read: ReadNoise = field(default_factory=ReadNoise)
    levels: Levels = field(default_factory=Levels)
    drift: RetentionDrift = field(default_factory=RetentionDrift)
    source: str = ""

    @property
    def ideal(self) -> bool:
        return self == Nonidealities(source=self.source)

    def apply(self, net: _NetworkLike, seed: int | np.random.SeedSequence | None) -> Any:
        """A new network whose devices carry the drawn spread and stuck faults, with their
        initial states on the levels (if any).

        One child stream of ``seed`` each for the spread, the faults and the rounding.
        """
        ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        r_spread, r_stuck, r_levels = (np.random.default_rng(s) for s in ss.spawn(3))
        mem = np.flatnonzero(net.memristive)
        params, x0 = self.spread.draw(net.params, net.x0, mem, r_spread)
        codes = np.zeros(len(net.model), np.int64)
        codes[mem] = self.stuck.draw(mem.size, r_stuck)
        x0 = self.levels.quantize(x0, params, mem, r_levels)
        model, params = self.stuck.apply(net.model, params, codes)
        x0 = np.where(codes != NOT_STUCK, 0.0, x0)
        return net.replace(model=model, params=params, x0=x0)
