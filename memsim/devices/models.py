"""Device parameter sets.

Each class is plain data with units, validated on construction, that packs into one row of
``N_PARAMS`` floats (:meth:`Device.row`) plus an integer :class:`Model` code: the form the
numba kernels in :mod:`memsim.devices.kernels` read. Column 0 is always ``R_on`` and column 1
``R_off`` (both equal to ``R`` for a plain resistor).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar

import numpy as np

from memsim.errors import ParameterError

__all__ = [
    "HP",
    "N_PARAMS",
    "VTEAM",
    "Device",
    "Linear",
    "Model",
    "Resistor",
    "Threshold",
    "Window",
    "device_from_row",
    "packed_rows",
]

N_PARAMS = 10
"""Number of floats in a packed parameter row."""


class Model(IntEnum):
    """Integer codes of the device models, as stored per edge in a network."""

    RESISTOR = 0
    HP = 1
    THRESHOLD = 2
    VTEAM = 3
    LINEAR = 4
    OPEN = 5  # a pruned (removed) device: no conductance, no state


class Window(IntEnum):
    """Window functions F(x, i) that bound the drift models to x in [0, 1]."""

    NONE = 0
    JOGLEKAR = 1
    BIOLEK = 2
    PRODROMAKIS = 3


def _window(value: Window | str | int) -> Window:
    if isinstance(value, str):
        try:
            return Window[value.upper()]
        except KeyError:
            allowed = ", ".join(w.name.lower() for w in Window)
            raise ParameterError(
                "window", f"unknown window {value!r}; use one of {allowed}"
            ) from None
    try:
        return Window(int(value))
    except (ValueError, TypeError, OverflowError):
        raise ParameterError("window", f"unknown window code {value!r}") from None


def _positive(name: str, value: float, unit: str) -> None:
    if not math.isfinite(value) or value <= 0:
        raise ParameterError(name, f"must be a positive finite number of {unit}, got {value!r}")


def _nonnegative(name: str, value: float, unit: str) -> None:
    if not math.isfinite(value) or value < 0:
        raise ParameterError(name, f"must be a non-negative finite number of {unit}, got {value!r}")


def _state(name: str, value: float) -> None:
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ParameterError(name, f"the state must lie in [0, 1], got {value!r}")


def _resistances(r_on: float, r_off: float) -> None:
    _positive("r_on", r_on, "ohms")
    _positive("r_off", r_off, "ohms")
    if r_on >= r_off:
        raise ParameterError(
            "r_on", f"R_on ({r_on:g} ohm) must be below R_off ({r_off:g} ohm); swap them?"
        )


def _window_exponent(p: float) -> None:
    if not math.isfinite(p) or p < 1:
        raise ParameterError("p", f"the window exponent must be >= 1, got {p!r}")


@dataclass(frozen=True)
class Device:
    """Base class: a device model's parameters. Subclasses define the fields."""

    model: ClassVar[Model]
    memristive: ClassVar[bool] = True

    def row(self) -> np.ndarray:
        """The packed parameter row read by the numba kernels (see :func:`packed_rows`)."""
        return packed_rows(self.model, self.values(), 1)[0]

    def values(self) -> dict[str, float]:
        """The numeric fields by name (a window as its integer code), as :func:`packed_rows`
        and :func:`memsim.devices.device_array` take them."""
        return {f.name: float(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @property
    def initial_state(self) -> float:
        """The state a fresh device starts in (0 for a resistor)."""
        return float(getattr(self, "x0", 0.0))

    def replace(self, **changes: float) -> Device:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Resistor(Device):
    """A plain linear resistor (crossbar line segments, series resistances).

    Parameters
    ----------
    r : float
        Resistance in ohms, > 0.
    """

    r: float
    model: ClassVar[Model] = Model.RESISTOR
    memristive: ClassVar[bool] = False

    def __post_init__(self) -> None:
        _positive("r", self.r, "ohms")


@dataclass(frozen=True)
class HP(Device):
    """Linear ion drift memristor (Strukov et al., Nature 453, 80, 2008).

    ``R(x) = R_on x + R_off (1 - x)`` and ``dx/dt = (mu_v R_on / D**2) i F(x, i)``.

    Parameters
    ----------
    r_on, r_off : float
        Fully ON / OFF resistance in ohms, ``0 < r_on < r_off``.
    mu_v : float
        Dopant mobility in m^2 / (V s).
    d : float
        Film thickness D in m.
    window : Window or str
        ``none``, ``joglekar`` (1 - (2x-1)^2p; sticks at the bounds), ``biolek``
        (1 - (x - stp(-i))^2p; the default, releases from a bound when the current reverses) or
        ``prodromakis`` (1 - ((x - 1/2)^2 + 3/4)^p).
    p : float
        Window exponent, >= 1.
    x0 : float
        Initial state in [0, 1].
    """

    r_on: float = 100.0
    r_off: float = 16e3
    mu_v: float = 1e-14
    d: float = 10e-9
    window: Window = Window.BIOLEK
    p: float = 2.0
    x0: float = 0.1
    model: ClassVar[Model] = Model.HP

    def __post_init__(self) -> None:
        _resistances(self.r_on, self.r_off)
        _positive("mu_v", self.mu_v, "m^2/(V s)")
        _positive("d", self.d, "m")
        object.__setattr__(self, "window", _window(self.window))
        _window_exponent(self.p)
        _state("x0", self.x0)

    @property
    def k(self) -> float:
        """Drift coefficient ``mu_v R_on / D**2`` in 1/(A s)."""
        return self.mu_v * self.r_on / self.d**2


@dataclass(frozen=True)
class Threshold(Device):
    """Voltage-threshold memristor (Pershin & Di Ventra, PRE 84, 046703, 2011; arXiv 1204.2600).

    The resistance moves at ``dR/dt = -f(v)`` with
    ``f(v) = beta v + (alpha - beta)/2 (|v + v_t| - |v - v_t|)``: at rate ``alpha`` per volt
    below threshold (``alpha = 0``: reading does not disturb the device) and ``beta`` above.
    ``R`` is held in ``[r_on, r_off]`` by hard bounds. In the shared state convention
    ``dx/dt = f(v) / (r_off - r_on)``: a positive voltage drives the device ON. (ngspice's
    XSPICE ``memristor`` element has the opposite polarity; the SPICE exporter reverses it.)

    Parameters
    ----------
    r_on, r_off : float
        Bounds of the resistance in ohms (ngspice ``rmin``, ``rmax``), ``0 < r_on < r_off``.
    alpha : float
        Sub-threshold rate in ohm / (V s), >= 0.
    beta : float
        Above-threshold rate in ohm / (V s), > 0.
    v_t : float
        Threshold voltage in V, > 0.
    x0 : float
        Initial state in [0, 1].
    """

    r_on: float = 1e3
    r_off: float = 10e3
    alpha: float = 0.0
    beta: float = 1e6
    v_t: float = 1.0
    x0: float = 0.5
    model: ClassVar[Model] = Model.THRESHOLD

    def __post_init__(self) -> None:
        _resistances(self.r_on, self.r_off)
        _nonnegative("alpha", self.alpha, "ohm/(V s)")
        _positive("beta", self.beta, "ohm/(V s)")
        _positive("v_t", self.v_t, "V")
        _state("x0", self.x0)


@dataclass(frozen=True)
class VTEAM(Device):
    """VTEAM threshold model with linear I-V (Kvatinsky et al., IEEE TCAS-II 62, 786, 2015).

    As published, a voltage below ``v_on < 0`` switches the device ON and a voltage above
    ``v_off > 0`` switches it OFF::

        dx/dt = +k_on  (v / v_on  - 1)^alpha_on  F   for v < v_on
        dx/dt = -k_off (v / v_off - 1)^alpha_off F   for v > v_off
        dx/dt = 0                                    otherwise

    Here the state is normalised (``x = 1`` ON), so the rates ``k_on``, ``k_off`` are in
    states per second and both positive.

    Parameters
    ----------
    r_on, r_off : float
        ON / OFF resistance in ohms, ``0 < r_on < r_off``.
    k_on, k_off : float
        Switching rates in 1/s, > 0.
    v_on, v_off : float
        Thresholds in V, ``v_on < 0 < v_off``.
    alpha_on, alpha_off : float
        Exponents of the voltage dependence, > 0.
    window : Window or str
        As for :class:`HP` (direction taken from the voltage).
    p : float
        Window exponent, >= 1.
    x0 : float
        Initial state in [0, 1].
    """

    r_on: float = 1e3
    r_off: float = 10e3
    k_on: float = 10.0
    k_off: float = 10.0
    v_on: float = -0.3
    v_off: float = 0.3
    alpha_on: float = 3.0
    alpha_off: float = 3.0
    window: Window = Window.BIOLEK
    p: float = 2.0
    x0: float = 0.5
    model: ClassVar[Model] = Model.VTEAM

    def __post_init__(self) -> None:
        _resistances(self.r_on, self.r_off)
        _positive("k_on", self.k_on, "1/s")
        _positive("k_off", self.k_off, "1/s")
        if not (math.isfinite(self.v_on) and self.v_on < 0):
            raise ParameterError("v_on", f"must be negative (V), got {self.v_on!r}")
        _positive("v_off", self.v_off, "V")
        _positive("alpha_on", self.alpha_on, "(dimensionless)")
        _positive("alpha_off", self.alpha_off, "(dimensionless)")
        object.__setattr__(self, "window", _window(self.window))
        _window_exponent(self.p)
        _state("x0", self.x0)


@dataclass(frozen=True)
class Linear(Device):
    """Caravelli's linear memristor, the device of the CTDV equation (PRE 95, 022140, 2017).

    In the paper's variable ``w = 1 - x`` (``w = 1`` OFF): ``R(w) = R_on (1 - w) + R_off w`` and
    ``dw/dt = alpha w - R_on i / beta``. In the shared convention this reads
    ``dx/dt = -alpha (1 - x) + R_on i / beta``: a positive current drives the device ON and
    ``alpha > 0`` makes it relax towards OFF. This sign convention is memsim's choice.

    Parameters
    ----------
    r_on, r_off : float
        ON / OFF resistance in ohms, ``0 < r_on < r_off``.
    alpha : float
        Relaxation rate in 1/s, >= 0.
    beta : float
        Time scale of the drift in V s, > 0.
    x0 : float
        Initial state in [0, 1].
    """

    r_on: float = 100.0
    r_off: float = 10e3
    alpha: float = 0.0
    beta: float = 10.0
    x0: float = 0.5
    model: ClassVar[Model] = Model.LINEAR

    def __post_init__(self) -> None:
        _resistances(self.r_on, self.r_off)
        _nonnegative("alpha", self.alpha, "1/s")
        _positive("beta", self.beta, "V s")
        _state("x0", self.x0)


def _columns(model: Model, f: Mapping[str, Any]) -> list[Any]:
    """Packed columns of ``model`` from its fields ``f`` (floats or equal-length arrays): the one
    table of what each column of a parameter row means."""
    if model == Model.RESISTOR:
        return [f["r"], f["r"]]
    if model == Model.HP:  # column 2: the drift coefficient k = mu_v R_on / D^2 (HP.k)
        return [f["r_on"], f["r_off"], f["mu_v"] * f["r_on"] / f["d"]**2, f["window"], f["p"]]
    if model == Model.THRESHOLD:
        return [f["r_on"], f["r_off"], f["alpha"], f["beta"], f["v_t"]]
    if model == Model.VTEAM:
        return [f["r_on"], f["r_off"], f["k_on"], f["k_off"], f["v_on"], f["v_off"],
                f["alpha_on"], f["alpha_off"], f["window"], f["p"]]
    if model == Model.LINEAR:
        return [f["r_on"], f["r_off"], f["alpha"], f["beta"]]
    raise ParameterError("model", f"no parameter row for model code {Model(model).name}")


def packed_rows(model: Model, fields: Mapping[str, Any], n: int) -> np.ndarray:
    """Parameter rows (n, N_PARAMS) of ``n`` devices of ``model`` from their fields.

    Each value of ``fields`` is a float (shared) or an array of ``n`` values (one per device),
    named as the fields of the model's class. Validation is the caller's (the device classes
    validate on construction, :func:`memsim.devices.device_array` validates arrays).

    >>> packed_rows(Model.RESISTOR, {"r": np.array([1.0, 2.0])}, 2)[:, :2].tolist()
    [[1.0, 1.0], [2.0, 2.0]]
    """
    out = np.zeros((n, N_PARAMS))
    for c, value in enumerate(_columns(Model(model), fields)):
        out[:, c] = value
    return out


_FIELDS: dict[Model, type[Device]] = {
    Model.RESISTOR: Resistor,
    Model.HP: HP,
    Model.THRESHOLD: Threshold,
    Model.VTEAM: VTEAM,
    Model.LINEAR: Linear,
}


def device_from_row(model: int, row: np.ndarray, x0: float = 0.0) -> Device:
    """Rebuild a device parameter set from its model code and packed row.

    >>> d = HP(r_on=100.0, r_off=10e3, x0=0.3)
    >>> device_from_row(d.model, d.row(), d.x0) == d
    True
    """
    code = Model(int(model))
    r = [float(v) for v in row]
    if code == Model.RESISTOR:
        return Resistor(r[0])
    if code == Model.HP:
        # mu_v and D enter only through k; keep D and recover mu_v from it.
        d = HP.d
        return HP(r[0], r[1], mu_v=r[2] * d**2 / r[0], d=d, window=Window(int(r[3])), p=r[4],
                  x0=x0)
    if code == Model.THRESHOLD:
        return Threshold(r[0], r[1], r[2], r[3], r[4], x0=x0)
    if code == Model.VTEAM:
        return VTEAM(r_on=r[0], r_off=r[1], k_on=r[2], k_off=r[3], v_on=r[4], v_off=r[5],
                     alpha_on=r[6], alpha_off=r[7], window=Window(int(r[8])), p=r[9], x0=x0)
    if code == Model.LINEAR:
        return Linear(r[0], r[1], r[2], r[3], x0=x0)
    raise ParameterError("model", f"no parameter set for model code {code.name}")


def model_class(model: Model) -> type[Device]:
    """The parameter-set class of a model code."""
    return _FIELDS[model]
