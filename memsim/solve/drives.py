"""Voltage drives as functions of time, in SPICE's parametrisation (DC, PULSE, SIN, PWL).

Each drive packs into a kind code and a row of floats (plus PWL breakpoints) so the transient
loop evaluates it inside numba; :meth:`Drive.__call__` evaluates it in NumPy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from memsim.errors import ParameterError

__all__ = ["DC", "PWL", "Drive", "DriveTable", "Pulse", "Sine", "drive_table"]

K_DC, K_PULSE, K_SINE, K_PWL = 0, 1, 2, 3
N_DRIVE = 8


def _finite(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise ParameterError(name, f"must be finite, got {value!r}")
    return value


@dataclass(frozen=True)
class Drive:
    """Base class of the drives."""

    kind = -1

    def row(self) -> np.ndarray:
        raise NotImplementedError

    def breakpoints(self, t_end: float) -> np.ndarray:
        """Times in [0, t_end] where the drive has a kink or jump (integrators stop there)."""
        return np.empty(0)

    def __call__(self, t: np.ndarray | float) -> np.ndarray:
        table = drive_table([self], 1)
        tt = np.atleast_1d(np.asarray(t, float))
        return np.array([_eval(table.kind, table.params, table.pwl_t, table.pwl_v,
                               table.pwl_ptr, s)[0] for s in tt]).reshape(np.shape(t))


@dataclass(frozen=True)
class DC(Drive):
    """A constant voltage ``v`` in volts.

    >>> float(DC(0.3)(1.0))
    0.3
    """

    v: float
    kind = K_DC

    def __post_init__(self) -> None:
        object.__setattr__(self, "v", _finite("v", self.v))

    def row(self) -> np.ndarray:
        r = np.zeros(N_DRIVE)
        r[0] = self.v
        return r


@dataclass(frozen=True)
class Pulse(Drive):
    """SPICE ``PULSE(v1 v2 delay rise fall width period)``; ``period = 0``: a single pulse.

    >>> p = Pulse(0.0, 1.0, delay=1e-3, rise=1e-6, fall=1e-6, width=1e-3)
    >>> [float(p(t)) for t in (0.0, 1.5e-3, 3e-3)]
    [0.0, 1.0, 0.0]
    """

    v1: float
    v2: float
    delay: float = 0.0
    rise: float = 1e-9
    fall: float = 1e-9
    width: float = 1.0
    period: float = 0.0
    kind = K_PULSE

    def __post_init__(self) -> None:
        for f in ("v1", "v2"):
            _finite(f, getattr(self, f))
        for f in ("delay", "width", "period"):
            if not (math.isfinite(getattr(self, f)) and getattr(self, f) >= 0):
                raise ParameterError(f, f"must be >= 0 seconds, got {getattr(self, f)!r}")
        for f in ("rise", "fall"):
            if not (math.isfinite(getattr(self, f)) and getattr(self, f) > 0):
                raise ParameterError(f, f"must be > 0 seconds, got {getattr(self, f)!r}")
        span = self.rise + self.width + self.fall
        if self.period and self.period < span:
            raise ParameterError("period", f"period {self.period:g} s is shorter than "
                                 f"rise + width + fall = {span:g} s")

    def row(self) -> np.ndarray:
        r = np.zeros(N_DRIVE)
        r[:7] = self.v1, self.v2, self.delay, self.rise, self.fall, self.width, self.period
        return r

    def breakpoints(self, t_end: float) -> np.ndarray:
        edges = np.cumsum([self.delay, self.rise, self.width, self.fall])
        if self.period <= 0:
            return edges[edges <= t_end]
        n = int(np.ceil((t_end - self.delay) / self.period)) + 1
        pts = (edges[None, :] + self.period * np.arange(max(n, 1))[:, None]).ravel()
        return pts[pts <= t_end]


@dataclass(frozen=True)
class Sine(Drive):
    """SPICE ``SIN(offset amplitude frequency delay 0 phase)``; ``phase`` in degrees.

    Before ``delay`` the value is ``offset + amplitude sin(phase)``, as in SPICE.

    >>> round(float(Sine(1.0, 50.0)(0.005)), 12)
    1.0
    """

    amplitude: float
    frequency: float
    offset: float = 0.0
    delay: float = 0.0
    phase: float = 0.0
    kind = K_SINE

    def __post_init__(self) -> None:
        _finite("amplitude", self.amplitude)
        _finite("offset", self.offset)
        _finite("phase", self.phase)
        if not (math.isfinite(self.frequency) and self.frequency > 0):
            raise ParameterError("frequency", f"must be > 0 Hz, got {self.frequency!r}")
        if not (math.isfinite(self.delay) and self.delay >= 0):
            raise ParameterError("delay", f"must be >= 0 s, got {self.delay!r}")

    def row(self) -> np.ndarray:
        r = np.zeros(N_DRIVE)
        r[:5] = self.offset, self.amplitude, self.frequency, self.delay, self.phase
        return r

    def breakpoints(self, t_end: float) -> np.ndarray:
        return np.array([self.delay]) if 0 < self.delay <= t_end else np.empty(0)


@dataclass(frozen=True)
class PWL(Drive):
    """Piecewise-linear ``PWL(t0 v0 t1 v1 ...)``: held constant before t0 and after the end.

    >>> float(PWL([0.0, 1.0], [0.0, 2.0])(0.25))
    0.5
    """

    times: Sequence[float]
    values: Sequence[float]
    kind = K_PWL
    _t: np.ndarray = field(init=False, repr=False, compare=False)
    _v: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        t = np.asarray(self.times, float)
        v = np.asarray(self.values, float)
        if t.ndim != 1 or t.shape != v.shape or t.size < 1:
            raise ParameterError("times", "PWL needs equally long 1-D times and values")
        if not (np.isfinite(t).all() and np.isfinite(v).all()):
            raise ParameterError("values", "PWL points must be finite")
        if (np.diff(t) <= 0).any():
            raise ParameterError("times", "PWL times must increase strictly")
        object.__setattr__(self, "times", tuple(t.tolist()))
        object.__setattr__(self, "values", tuple(v.tolist()))
        object.__setattr__(self, "_t", t)
        object.__setattr__(self, "_v", v)

    def row(self) -> np.ndarray:
        return np.zeros(N_DRIVE)

    def breakpoints(self, t_end: float) -> np.ndarray:
        return self._t[(self._t > 0) & (self._t <= t_end)]


@dataclass(frozen=True)
class DriveTable:
    """Drives of all inputs packed for numba: ``kind`` (n,), ``params`` (n, 8), PWL data in
    ``pwl_t`` / ``pwl_v`` with input k's points at ``pwl_ptr[k]:pwl_ptr[k+1]``."""

    kind: np.ndarray
    params: np.ndarray
    pwl_t: np.ndarray
    pwl_v: np.ndarray
    pwl_ptr: np.ndarray
    driven: np.ndarray

    def values(self, t: float) -> np.ndarray:
        return _eval(self.kind, self.params, self.pwl_t, self.pwl_v, self.pwl_ptr, float(t))


def drive_table(
    drives: Mapping[str | int, Drive | float] | Sequence[Drive | float | None] | Drive | float,
    n_inputs: int,
    names: Sequence[str] = (),
) -> DriveTable:
    """Pack drives into a :class:`DriveTable`.

    ``drives`` is one drive for every input, a sequence with one entry per input (``None``:
    that input floats), or a mapping from input name or index to its drive (unlisted inputs
    float). Plain numbers mean DC.

    Raises
    ------
    ParameterError
        For an unknown input name or index, or something that is not a drive.
    """
    entries: list[Drive | float | None] = [None] * n_inputs
    if isinstance(drives, Drive | int | float) and not isinstance(drives, bool):
        entries = [drives] * n_inputs
    elif isinstance(drives, Mapping):
        for key, value in drives.items():
            if isinstance(key, str):
                if key not in names:
                    raise ParameterError("drive", f"unknown input {key!r}; inputs are "
                                         f"{', '.join(names)}")
                k = list(names).index(key)
            else:
                k = int(key)
                if not 0 <= k < n_inputs:
                    raise ParameterError("drive", f"input index {k} outside 0..{n_inputs - 1}")
            entries[k] = value
    else:
        seq = list(drives)  # type: ignore[arg-type]
        if len(seq) != n_inputs:
            raise ParameterError("drive", f"need {n_inputs} drives (None floats), got {len(seq)}")
        entries = seq
    kind = np.zeros(n_inputs, np.int64)
    params = np.zeros((n_inputs, N_DRIVE))
    ptr = np.zeros(n_inputs + 1, np.int64)
    pt: list[np.ndarray] = []
    pv: list[np.ndarray] = []
    driven = np.ones(n_inputs, bool)
    for k, entry in enumerate(entries):
        d: Drive | float | None = entry
        if d is None:
            driven[k] = False
            d = DC(0.0)
        elif isinstance(d, int | float) and not isinstance(d, bool):
            d = DC(float(d))
        if not isinstance(d, Drive):
            raise ParameterError("drive", f"input {k}: expected a Drive or a number, got {d!r}")
        kind[k] = d.kind
        params[k] = d.row()
        if isinstance(d, PWL):
            pt.append(d._t)
            pv.append(d._v)
        ptr[k + 1] = ptr[k] + (len(d._t) if isinstance(d, PWL) else 0)
    pwl_t = np.concatenate(pt) if pt else np.zeros(0)
    pwl_v = np.concatenate(pv) if pv else np.zeros(0)
    return DriveTable(kind, params, pwl_t, pwl_v, ptr, driven)


def breakpoints(drives: Sequence[Drive], t_end: float) -> np.ndarray:
    """Sorted unique breakpoints of several drives in (0, t_end]."""
    pts = [d.breakpoints(t_end) for d in drives]
    allp = np.unique(np.concatenate(pts)) if pts else np.empty(0)
    return allp[(allp > 0) & (allp <= t_end)]


@njit(cache=True)
def _eval(kind, params, pwl_t, pwl_v, pwl_ptr, t):
    """Values of all drives at time ``t``."""
    n = kind.shape[0]
    out = np.empty(n)
    for k in range(n):
        p = params[k]
        if kind[k] == K_DC:
            out[k] = p[0]
        elif kind[k] == K_SINE:
            if t < p[3]:
                out[k] = p[0] + p[1] * np.sin(p[4] * np.pi / 180.0)
            else:
                out[k] = p[0] + p[1] * np.sin(2 * np.pi * p[2] * (t - p[3]) + p[4] * np.pi / 180.0)
        elif kind[k] == K_PULSE:
            v1, v2, td, tr, tf, pw, per = p[0], p[1], p[2], p[3], p[4], p[5], p[6]
            if t < td:
                out[k] = v1
                continue
            s = t - td
            if per > 0:
                s = s - per * np.floor(s / per)
            if s < tr:
                out[k] = v1 + (v2 - v1) * s / tr
            elif s < tr + pw:
                out[k] = v2
            elif s < tr + pw + tf:
                out[k] = v2 + (v1 - v2) * (s - tr - pw) / tf
            else:
                out[k] = v1
        else:
            a, b = pwl_ptr[k], pwl_ptr[k + 1]
            if t <= pwl_t[a]:
                out[k] = pwl_v[a]
            elif t >= pwl_t[b - 1]:
                out[k] = pwl_v[b - 1]
            else:
                j = a
                while pwl_t[j + 1] < t:
                    j += 1
                w = (t - pwl_t[j]) / (pwl_t[j + 1] - pwl_t[j])
                out[k] = pwl_v[j] + w * (pwl_v[j + 1] - pwl_v[j])
    return out
