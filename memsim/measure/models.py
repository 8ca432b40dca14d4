"""Which device parameters an I-V fit varies, how, and where it starts.

A :class:`ModelSpec` names a device model, the template device that holds the parameters the
fit keeps fixed, and the free parameters. Each free parameter lives on an unbounded or
box-bounded scale for the optimizer (``u``): positive quantities are fitted as logarithms;
``r_on`` of each cycle as ``log(r_off / r_on - 1)``, which keeps ``r_on < r_off`` for any
``u``. The data of a RESET branch say nothing about switching ON, so the ON-side parameters
(VTEAM's ``k_on``, ``v_on``, ``alpha_on``) stay at the template's values; a fit file lists them
as fixed.

Per-cycle parameters: each RESET starts from the state the preceding SET left, which varies
from cycle to cycle (the measured low-resistance slope varies by about 15 %). The state is
taken as fully ON (``x0 = 1``) and the cycle's ``r_on`` is fitted: with ``x0`` and ``r_on``
both free the two would trade off exactly along ``R(x0)``. The switching threshold (VTEAM's
``v_off``, the threshold model's ``v_t``) is fitted per cycle too: the measured current peaks
between 0.75 and 0.84 V from cycle to cycle, and one shared threshold leaves cycles at 5-6 %
nRMS. The spread of the per-cycle values is the device's cycle-to-cycle variation.

VTEAM's exponent ``alpha_off`` is held at 1 (a rate rising linearly above the threshold).
Below 1 the rate ``k_off (v / v_off - 1)^alpha_off`` rises with infinite slope at the
threshold, and on the fixed RK4 grid every stage that lands just above the threshold adds a
cusp to the least-squares objective: the optimizer stalls short of the minimum and the
Jacobian intervals lose their meaning (on synthetic data with ``alpha_off = 0.5`` they
covered the truth in almost no seed). Fitted freely above 1, the measured cycles drive it to
1; fixing it there gives the same fit with one number fewer (lower AIC) in a fraction of the
time. Unbounded, the cycles would take ``alpha_off`` near 0.5 (nRMS 2.9 % instead of 3.2 %).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from memsim.devices.models import HP, VTEAM, Device, Threshold, Window
from memsim.errors import ParameterError
from memsim.measure.readers import IVSweep

__all__ = ["MODELS", "ModelSpec", "Parameter", "model_spec"]


@dataclass(frozen=True)
class Parameter:
    """A fitted quantity: ``name`` (a device field or ``r_series``), its unit, whether it is
    fitted per cycle, and the physical bounds of the search."""

    name: str
    unit: str
    lower: float
    upper: float
    per_cycle: bool = False


@dataclass(frozen=True)
class ModelSpec:
    """A device model as an I-V fit sees it.

    Attributes
    ----------
    name : str
        The model's name in ``memsim fit --model``.
    template : Device
        Holds every parameter the fit does not vary.
    free : tuple of Parameter
        The fitted device parameters (``r_on`` is per cycle); ``r_series`` is added by the fit
        when it has a fitted series element.
    starts : tuple of dict
        Alternative starting values of some shared parameters and of the switching
        ``speed`` (see :meth:`initial`): a least-squares fit of switching dynamics has local
        minima, so fits try several.
    """

    name: str
    template: Device
    free: tuple[Parameter, ...]
    starts: tuple[dict[str, float], ...]

    @property
    def shared(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.free if not p.per_cycle)

    @property
    def per_cycle(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.free if p.per_cycle)

    def with_per_cycle(self, names: Sequence[str]) -> ModelSpec:
        """The same model with ``names`` fitted per cycle and the other parameters shared.

        >>> [p.name for p in model_spec("vteam").with_per_cycle(["r_on"]).per_cycle]
        ['r_on']

        Raises
        ------
        ParameterError
            If a name is not a free parameter of the model.
        """
        free = {p.name for p in self.free}
        for n in names:
            if n not in free:
                raise ParameterError("per_cycle", f"{n!r} is not fitted by the {self.name} "
                                     f"model; choose from {', '.join(sorted(free))}")
        return dataclasses.replace(self, free=tuple(dataclasses.replace(p, per_cycle=p.name in
                                                                       names)
                                                    for p in self.free))

    def device(self, values: dict[str, float]) -> Device:
        """The template with ``values`` (device fields only) replaced, validated."""
        fields = {f.name for f in dataclasses.fields(self.template)}
        return self.template.replace(**{k: v for k, v in values.items() if k in fields})

    def initial(self, sweeps: Sequence[IVSweep], start: int, series: bool,
                time_per_point: float) -> dict[str, Any]:
        """Starting values from the data (``r_on`` per cycle, an array; SI units).

        The low-resistance slope of each cycle (below a third of its peak current, on the
        way up) gives ``r_on + r_series``; a fitted series element starts at 80 % of it.
        ``r_off`` starts at ten times the resistance just after the sweep's top. The rate
        parameter starts where a full reset takes ``20 / speed`` points of the sweep, the
        ``speed`` of start number ``start`` (of :attr:`starts`).
        """
        r_low = np.array([_low_resistance(s) for s in sweeps])
        r_high = np.array([_high_resistance(s) for s in sweeps])
        rs = 0.8 * float(np.median(r_low)) if series else 0.0
        r_on = np.maximum(r_low - rs, 0.05 * r_low)
        r_off = max(10.0 * float(np.median(r_high)), 20.0 * float(r_on.max()))
        values: dict[str, Any] = {"r_off": r_off, "r_on": r_on}
        if series:
            values["r_series"] = rs
        chosen = dict(self.starts[start % len(self.starts)])
        rate = chosen.pop("speed") / (20.0 * time_per_point)  # 1/s
        values.update(chosen)
        if isinstance(self.template, VTEAM):
            values["k_off"] = rate
        elif isinstance(self.template, Threshold):
            values["beta"] = rate * r_off / 0.1  # 0.1 V over threshold
        elif isinstance(self.template, HP):
            i_peak = float(np.median([s.current.max() for s in sweeps]))
            values["mu_v"] = rate * self.template.d**2 / (float(np.median(r_on)) * i_peak)
        if not any(p.name == "r_on" and p.per_cycle for p in self.free):
            values["r_on"] = float(np.median(r_on))
        return values


def _low_resistance(s: IVSweep) -> float:
    top = int(np.argmax(s.voltage))
    v, i = s.voltage[:top + 1], s.current[:top + 1]
    peak = int(np.argmax(i))
    sel = (v > 0) & (i < i[peak] / 3) & (np.arange(v.size) < peak)
    if sel.sum() < 2:
        sel = (v > 0) & (np.arange(v.size) <= peak)
    return float((v[sel] @ v[sel]) / (v[sel] @ i[sel]))


def _high_resistance(s: IVSweep) -> float:
    top = int(np.argmax(s.voltage))
    k = min(top + 3, s.n_points - 1)
    return float(s.voltage[k] / max(s.current[k], 1e-12))


_RON = Parameter("r_on", "ohm", 1.0, 1e8, per_cycle=True)
_ROFF = Parameter("r_off", "ohm", 10.0, 1e9)

MODELS: dict[str, ModelSpec] = {
    "vteam": ModelSpec(
        "vteam",
        VTEAM(r_on=100.0, r_off=1e5, k_on=10.0, k_off=1.0, v_on=-0.3, v_off=0.1,
              alpha_on=3.0, alpha_off=1.0, window=Window.BIOLEK, p=2.0, x0=1.0),
        (_RON, _ROFF, Parameter("k_off", "1/s", 1e-6, 1e9),
         Parameter("v_off", "V", 1e-3, 5.0, per_cycle=True)),
        ({"speed": 1.0, "v_off": 0.05}, {"speed": 10.0, "v_off": 0.2},
         {"speed": 0.1, "v_off": 0.02}),
    ),
    "threshold": ModelSpec(
        "threshold",
        Threshold(r_on=100.0, r_off=1e5, alpha=0.0, beta=1e6, v_t=0.2, x0=1.0),
        (_RON, _ROFF, Parameter("beta", "ohm/(V s)", 1.0, 1e13),
         Parameter("v_t", "V", 1e-3, 5.0, per_cycle=True)),
        ({"speed": 1.0, "v_t": 0.2}, {"speed": 10.0, "v_t": 0.1}, {"speed": 0.1, "v_t": 0.35}),
    ),
    "hp": ModelSpec(
        "hp",
        HP(r_on=100.0, r_off=1e5, mu_v=1e-14, d=10e-9, window=Window.BIOLEK, p=2.0, x0=1.0),
        (_RON, _ROFF, Parameter("mu_v", "m^2/(V s)", 1e-24, 1e-4)),
        ({"speed": 1.0}, {"speed": 0.1}, {"speed": 10.0}),
    ),
}
"""The models ``memsim fit`` knows for I-V data, by name."""


def model_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` called ``name``.

    >>> [p.name for p in model_spec("threshold").free]
    ['r_on', 'r_off', 'beta', 'v_t']

    Raises
    ------
    ParameterError
        For an unknown model name.
    """
    try:
        return MODELS[name.lower()]
    except KeyError:
        raise ParameterError("model", f"unknown I-V model {name!r}; use one of "
                             f"{', '.join(MODELS)}") from None
