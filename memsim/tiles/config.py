"""What a crossbar tile is made of: devices, lines, periphery and write scheme, and presets.

A :class:`TileConfig` is plain data, validated on construction, like a device parameter set.
The presets in :data:`TILE_PRESETS` are instances that say which numbers are whose: the
device models are memsim's (:mod:`memsim.devices`), the numbers chosen here are memsim's
illustrative choices unless a citation says otherwise.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Literal

from memsim.devices.models import VTEAM, Device, Threshold, Window
from memsim.devices.retention import check_tau
from memsim.errors import ParameterError

__all__ = ["RRAM", "TILE_PRESETS", "VTEAM_ASYMMETRIC", "TileConfig", "tile_preset"]

Scheme = Literal["device", "v/2"]
Rounding = Literal["stochastic", "nearest"]
Counting = Literal["state", "nominal"]

RRAM = Threshold(r_on=100e3, r_off=1e6, alpha=0.0, beta=1.5e9, v_t=1.0, x0=0.5)
"""A symmetric voltage-threshold device, 0.1-1 Mohm (1-10 uS: the low-conductance analog
window that keeps a 64 x 200 array's word-line IR drop to a few per cent with 1 ohm
segments), 1 V threshold; beta = 1.5e9 ohm/(V s) swings it fully in 1 ms at 1.6 V.
The Pershin-Di Ventra model has R linear in time under a constant pulse, so conductance steps
grow towards ON: the nonlinearity of the tile's writes comes from the device law itself."""

VTEAM_ASYMMETRIC = VTEAM(r_on=100e3, r_off=1e6, k_on=2e4, k_off=4e4, v_on=-0.5, v_off=0.5,
                         alpha_on=3.0, alpha_off=3.0, window=Window.BIOLEK, p=1.0, x0=0.5)
"""A VTEAM device with RESET twice as fast as SET and a Biolek window (p = 1): state steps
shrink as a device approaches the bound it is driven to (soft bounds), and up and down steps
differ (asymmetry). Numbers are memsim's illustrative choice."""


@dataclass(frozen=True)
class TileConfig:
    """A crossbar tile's devices, lines, periphery and write scheme.

    Parameters
    ----------
    device : Device
        Nominal device of every cell (a memristor with a switching threshold: reads must not
        write). Per-cell parameters (device-to-device spread, a measured fit) are given to
        :class:`~memsim.tiles.CrossbarTile` as ``cells``.
    levels : int
        State steps of one full swing: the write pulse width is chosen so that one SET pulse
        at the reference state moves the state by ``1 / levels`` (default 64, the precision
        the learning rules are known to tolerate).
    w_max : float
        Rule-unit weight of a full differential swing, ``G+ - G- = 1/R_on - 1/R_off``.
    r_line : float
        Line segment resistance in ohms for word and bit lines (0: ideal lines); default 1
        ohm, a copper line over ~100 nm-pitch cells.
    v_read : float
        Read voltage in volts for an input of ``x_max`` (the DAC's full scale); default 0.2 V,
        far below the thresholds of the presets.
    x_max : float
        Input magnitude mapped to ``v_read``; larger inputs are clipped.
    t_read : float
        Duration of one read in seconds, for the read energy (default 100 ns).
    v_write : float
        Magnitude of the voltage across a selected device during a programming pulse.
    scheme : {"device", "v/2"}
        "device": each device is written on its own (as with an access transistor): no other
        device sees a voltage. "v/2": a passive crossbar is written row by row; the selected
        word line is held at +-v_write/2, the selected bit lines at -+v_write/2, all other lines
        at 0 V, so the unselected cells of the row and of the selected columns see v_write/2
        and are disturbed wherever their device law moves at that voltage.
    rounding : {"stochastic", "nearest"}
        How a fractional pulse count becomes whole pulses: "stochastic" adds one pulse with
        probability equal to the fraction (unbiased; single pulses for small updates),
        "nearest" rounds (updates under half a pulse are lost).
    counting : {"state", "nominal"}
        How many pulses a desired conductance change gets: "state" reads the device's state
        and divides the state change to the target conductance by the state step of one
        nominal pulse from there (model-based programming); "nominal" divides the conductance
        change by the mean step ``(1/R_on - 1/R_off) / levels`` (open loop).
    dac_bits, adc_bits : int or None
        Resolution of the input DAC (signed, over ``[-x_max, x_max]``) and of the output ADC
        (signed, over ``[-adc_range, adc_range]``); None: ideal.
    adc_range : float
        ADC full scale in rule units (outputs beyond it clip).
    read_noise : float
        Standard deviation of additive output noise, in units of ``w_max * x_max`` (the
        signal of one fully programmed pair at full input). A tile-level noise of the
        periphery, not the per-device ``ReadNoise`` of :mod:`memsim.devices.nonideal`.
    c2c : float
        Cycle-to-cycle noise: each pulse's effective width is scaled by ``1 + c2c * N(0, 1)``
        (floored at 0), so the spread passes through the device law and its bounds (a noise
        on the pulse, where the learner's ``CycleNoise`` acts on the state change).
    d2d : float
        Device-to-device spread: lognormal sigma of each device's R_on and R_off (one factor
        per device, so its on/off ratio is kept): ``DeviceSpread.r_sigma``, drawn by
        :func:`memsim.devices.spread.d2d_factors` as everywhere.
    stuck_on, stuck_off : float
        Fractions of devices stuck at ON / OFF (never move): ``StuckFaults.p_on`` /
        ``p_off``, drawn by :meth:`memsim.devices.nonideal.StuckFaults.draw`.
    substeps : int
        Classical RK4 steps per programming pulse (exact for the threshold model, whose rate
        does not depend on the state; 4 keeps windowed models within ~1e-7 of the adaptive
        transient).
    retention_tau : float or None
        Retention time constant in seconds of volatile devices: left alone, every device's
        conductance relaxes towards the reference conductance ``1/sqrt(R_on R_off)`` as
        ``exp(-t / tau)`` (:mod:`memsim.devices.retention`; advanced by
        :meth:`~memsim.tiles.CrossbarTile.relax`). Default None: non-volatile devices, which
        keep their state between writes.

    Raises
    ------
    ParameterError
        For values out of range, naming the field.

    Examples
    --------
    >>> cfg = TileConfig(levels=16, r_line=0.0)
    >>> cfg.replace(adc_bits=8).adc_bits
    8
    """

    device: Device = RRAM
    levels: int = 64
    w_max: float = 1.0
    r_line: float = 1.0
    v_read: float = 0.2
    x_max: float = 1.0
    t_read: float = 100e-9
    v_write: float = 1.6
    scheme: Scheme = "device"
    rounding: Rounding = "stochastic"
    counting: Counting = "state"
    dac_bits: int | None = None
    adc_bits: int | None = None
    adc_range: float = 16.0
    read_noise: float = 0.0
    c2c: float = 0.0
    d2d: float = 0.0
    stuck_on: float = 0.0
    stuck_off: float = 0.0
    substeps: int = 4
    retention_tau: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.device, Device) or not self.device.memristive:
            raise ParameterError("device", f"need a memristor parameter set, got {self.device!r}")
        _whole("levels", self.levels, 2)
        _whole("substeps", self.substeps, 1)
        for name in ("w_max", "v_read", "x_max", "t_read", "v_write", "adc_range"):
            _positive(name, getattr(self, name))
        for name in ("r_line", "read_noise", "c2c", "d2d"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ParameterError(name, f"must be a finite number >= 0, got {value!r}")
        for name in ("stuck_on", "stuck_off"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ParameterError(name, f"a fraction of devices in [0, 1], got {value!r}")
        if self.stuck_on + self.stuck_off > 1:
            raise ParameterError("stuck_on", "stuck_on + stuck_off must not exceed 1")
        for name, allowed in (("scheme", ("device", "v/2")),
                              ("rounding", ("stochastic", "nearest")),
                              ("counting", ("state", "nominal"))):
            if getattr(self, name) not in allowed:
                raise ParameterError(name, f"use one of {', '.join(allowed)}; got "
                                     f"{getattr(self, name)!r}")
        for name in ("dac_bits", "adc_bits"):
            value = getattr(self, name)
            if value is not None:
                _whole(name, value, 2)
        check_tau(self.retention_tau)

    def replace(self, **changes: object) -> TileConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def _whole(name: str, value: object, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ParameterError(name, f"must be a whole number >= {low}, got {value!r}")


def _positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ParameterError(name, f"must be a positive finite number, got {value!r}")


TILE_PRESETS: dict[str, tuple[TileConfig, str]] = {
    "rram64": (
        TileConfig(),
        "RRAM threshold devices (0.1-1 Mohm), 64 levels, 1 ohm lines, per-device writes "
        "with stochastic rounding, ideal periphery.",
    ),
    "rram64-noisy": (
        TileConfig(dac_bits=8, adc_bits=8, read_noise=0.01, c2c=0.1, d2d=0.05),
        "rram64 with 8-bit DAC and ADC, 1 % read noise, 10 % cycle-to-cycle pulse noise and "
        "5 % device-to-device spread.",
    ),
    "rram16": (TileConfig(levels=16), "rram64 with 16 levels."),
    "rram256": (TileConfig(levels=256), "rram64 with 256 levels."),
    "rram64-v2": (
        TileConfig(scheme="v/2"),
        "rram64 written as a passive crossbar with the V/2 scheme (0.8 V on half-selected "
        "cells, below the 1 V threshold).",
    ),
    "vteam64": (
        TileConfig(device=VTEAM_ASYMMETRIC, v_write=0.8, scheme="v/2"),
        "asymmetric, soft-bounded VTEAM devices (RESET twice as fast as SET), 64 levels, V/2 "
        "writes at 0.8 V (0.4 V half-select, below the 0.5 V thresholds).",
    ),
    "volatile64": (
        TileConfig(r_line=0.0, retention_tau=0.1),
        "rram64 with volatile devices (conductance relaxing to the reference with tau = 100 "
        "ms: 0.990 of a weight survives a 1 ms step, the hybrid trace's decay per step) and "
        "ideal lines, for the hybrid model's local trace P.",
    ),
}
"""Named tile configurations: (config, description)."""


def tile_preset(name: str) -> TileConfig:
    """The tile configuration called ``name``.

    >>> tile_preset("rram16").levels
    16

    Raises
    ------
    ParameterError
        If there is no preset of that name (the message lists them).
    """
    try:
        return TILE_PRESETS[name][0]
    except KeyError:
        raise ParameterError("hardware", f"unknown tile preset {name!r}; known: "
                             f"{', '.join(TILE_PRESETS)}") from None
