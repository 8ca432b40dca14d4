"""A protocol that scales with the topology: write voltages chosen from DC solves of the net.

The default :class:`~memsim.learn.CircuitConfig` is tuned for ``paper_2x4x2``, where a path
from an input to an output is two devices in series. On a deeper net, or one with skip or
lateral links, the same bias divides differently, so the devices see a different drive over
their threshold. :func:`calibrated_config` instead states the drive and solves for the
voltages, with the terminal configurations the protocol itself uses:

* **inhibition** — one input active at ``v_inhibit`` (the other inputs floating or grounded as
  ``base.inactive_inputs`` says), only the wrong winner grounded, the other outputs floating;
  pooled over every (input, wrong output) pair;
* **normalization** — every input at ``v_normalize``, every output grounded;
* **read** — one input at ``v_read``, every output grounded.

*Drive* of a phase at a bias: the current-weighted mean over the memristors of
``|v_e| - v_t,e`` (volts over the device's threshold), pooled over the phase's
configurations: ``sum |i_e| (|v_e| - v_t,e) / sum |i_e|``. Weighting by current makes it the
drive of the devices *on the active paths* (a device no current flows through gets no
weight, and the measure does not jump when a symmetry is broken slightly); it is linear in the
bias at a fixed state, so one DC solve per configuration fixes the voltage. On a layered net
every layer carries the whole current, so the drive is ``|V| / (depth + 1) - v_t``: the rule
"keep the voltage per device" of the depth study, generalised to any topology.

Reads use the maximum principle instead: no node of a resistive network lies outside the
range of the terminal voltages, so no device sees more than ``v_read`` in *any* state; with
``v_read = (1 - read_margin) * min v_t`` no read ever moves a threshold device.

Thresholds: ``v_t`` of :class:`~memsim.devices.Threshold` devices; for
:class:`~memsim.devices.VTEAM`, ``|v_on|`` where the device voltage is negative and ``v_off``
where it is positive. Other models have no threshold and cannot be calibrated.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np

from memsim.circuit.network import Network
from memsim.devices.models import VTEAM, Model, Threshold
from memsim.errors import FloatingSubnetworkWarning, NetworkError, ParameterError
from memsim.learn.config import CircuitConfig
from memsim.solve.dc import solve_dc

__all__ = ["Calibration", "calibrate", "calibrated_config", "phase_drive", "read_peak"]

Phase = Literal["inhibit", "normalize"]


def _thresholds(net: Network) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Memristive edge indices and their thresholds for negative and positive voltages."""
    mem = np.flatnonzero(net.memristive)
    if mem.size == 0:
        raise NetworkError(f"network {net.name!r} has no memristors to calibrate for")
    neg = np.empty(mem.size)
    pos = np.empty(mem.size)
    for k, e in enumerate(mem):
        if net.model[e] == Model.THRESHOLD:
            d = net.device(int(e))
            assert isinstance(d, Threshold)
            neg[k] = pos[k] = d.v_t
        elif net.model[e] == Model.VTEAM:
            v = net.device(int(e))
            assert isinstance(v, VTEAM)
            neg[k], pos[k] = -v.v_on, v.v_off
        else:
            raise ParameterError(
                "net", f"edge {net.edge_names[e]!r} is a {Model(int(net.model[e])).name} device, "
                "which has no voltage threshold; calibration needs threshold devices "
                "(Threshold or VTEAM presets such as pershin2011)")
    return mem, neg, pos


def _configurations(net: Network, phase: Phase, inactive: str):
    """(input voltages per volt, outputs mask, floating-inputs mask) of each configuration."""
    n_in, n_out = len(net.inputs), len(net.outputs)
    if phase == "normalize":
        yield np.ones(n_in), np.ones(n_out, bool), None
        return
    for k in range(n_in):
        v = np.zeros(n_in)
        v[k] = 1.0
        floating = None if inactive == "ground" else np.arange(n_in) != k
        for o in range(n_out):
            yield v, np.arange(n_out) == o, floating


def _solve(net: Network, v: np.ndarray, outputs: np.ndarray, floating: np.ndarray | None,
           state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with warnings.catch_warnings():
        # pruned or floating parts of a configuration carry no current: expected here
        warnings.simplefilter("ignore", FloatingSubnetworkWarning)
        res = solve_dc(net, v, state=state, outputs=outputs, floating_inputs=floating)
    return res.edge_voltages, res.edge_currents


def _sums(net: Network, phase: Phase, sign: float, state: np.ndarray,
          inactive: str) -> tuple[float, float, float]:
    """Per volt of bias: sum |i||v|, sum |i| v_t, sum |i| over all configurations."""
    mem, neg, pos = _thresholds(net)
    iv = it = ii = 0.0
    for v, outputs, floating in _configurations(net, phase, inactive):
        ve, ie = _solve(net, sign * v, outputs, floating, state)
        ve, ie = ve[mem], np.abs(ie[mem])
        vt = np.where(ve < 0, neg, pos)
        iv += float(ie @ np.abs(ve))
        it += float(ie @ vt)
        ii += float(ie.sum())
    if ii <= 0:
        raise NetworkError(f"no memristor of {net.name!r} carries current in the {phase} "
                           "configurations: the inputs do not reach the outputs")
    return iv, it, ii


def _state(net: Network, state: np.ndarray | None) -> np.ndarray:
    return np.asarray(net.x0 if state is None else state, float)


def phase_drive(net: Network, phase: Phase, voltage: float, *,
                state: np.ndarray | None = None,
                inactive_inputs: Literal["float", "ground"] = "float") -> float:
    """The drive (volts over threshold, current-weighted) of ``phase`` at bias ``voltage``.

    Parameters
    ----------
    net : Network
    phase : {"inhibit", "normalize"}
    voltage : float
        Bias of the active inputs (inhibition: negative).
    state : array (E,), optional
        Device states (default ``net.x0``).
    inactive_inputs : {"float", "ground"}
        What the inputs not active in an inhibition do.

    Raises
    ------
    ParameterError
        For an unknown phase, a zero bias or devices without a threshold.
    NetworkError
        If no memristor carries current.

    Examples
    --------
    On ``paper_2x4x2`` each path is two equal devices, so each sees half the bias:

    >>> import memsim
    >>> net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    >>> round(phase_drive(net, "inhibit", -4.5), 9)  # 2.25 V on 1 V thresholds
    1.25
    """
    if phase not in ("inhibit", "normalize"):
        raise ParameterError("phase", f"use 'inhibit' or 'normalize', got {phase!r}")
    if not np.isfinite(voltage) or voltage == 0:
        raise ParameterError("voltage", f"need a nonzero finite bias, got {voltage!r}")
    sign = float(np.sign(voltage))
    iv, it, ii = _sums(net, phase, sign, _state(net, state), inactive_inputs)
    return abs(voltage) * iv / ii - it / ii


def read_peak(net: Network, v_read: float, *, state: np.ndarray | None = None,
              inactive_inputs: Literal["float", "ground"] = "float") -> float:
    """The largest device voltage of any one-input read at ``v_read`` (a DC solve per input).

    >>> import memsim
    >>> net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    >>> read_peak(net, 0.5) <= 0.5  # never above the read voltage (maximum principle)
    True
    """
    x = _state(net, state)
    mem = np.flatnonzero(net.memristive)
    n_in = len(net.inputs)
    peak = 0.0
    for k in range(n_in):
        v = np.zeros(n_in)
        v[k] = v_read
        floating = None if inactive_inputs == "ground" else np.arange(n_in) != k
        ve, _ = _solve(net, v, np.ones(len(net.outputs), bool), floating, x)
        peak = max(peak, float(np.abs(ve[mem]).max(initial=0.0)))
    return peak


@dataclass(frozen=True)
class Calibration:
    """A calibrated protocol and what the DC solves say about it.

    Attributes
    ----------
    config : CircuitConfig
        ``base`` with ``v_read``, ``v_inhibit`` and ``v_normalize`` replaced.
    inhibit_drive, normalize_drive : float
        The drives (V over threshold) the voltages give: the stated ones.
    read_peak : float
        Largest device voltage of a read at the network's state, V (at most ``v_read``).
    threshold : float
        Smallest threshold of the network's devices, V (what the read margin refers to).
    """

    config: CircuitConfig
    inhibit_drive: float
    normalize_drive: float
    read_peak: float
    threshold: float


def _check_drive(name: str, value: float) -> float:
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        raise ParameterError(name, f"must be a positive number of volts over threshold, got "
                             f"{value!r}")
    return v


def calibrate(
    net: Network,
    *,
    drive_over_threshold: float = 1.25,
    normalize_over_threshold: float | None = None,
    read_margin: float = 0.5,
    state: np.ndarray | None = None,
    base: CircuitConfig | None = None,
) -> Calibration:
    """Choose the protocol's voltages for ``net`` (see the module docstring).

    Parameters
    ----------
    net : Network
        Threshold devices (Threshold or VTEAM).
    drive_over_threshold : float
        Drive of the inhibition, V over threshold. 1.25 V: what the default protocol gives on
        ``paper_2x4x2`` (-4.5 V over two devices in series, 1 V thresholds).
    normalize_over_threshold : float, optional
        Drive of the normalization (default: ``drive_over_threshold``; 1.25 V also reproduces
        the default 4.5 V on ``paper_2x4x2``).
    read_margin : float
        Reads at ``(1 - read_margin)`` times the smallest threshold, in (0, 1). 0.5: the
        default 0.5 V on 1 V thresholds.
    state : array (E,), optional
        Device states to calibrate at (default ``net.x0``).
    base : CircuitConfig, optional
        Every other field of the protocol (default ``CircuitConfig()``).

    Returns
    -------
    Calibration

    Raises
    ------
    ParameterError
        A drive that is not positive, a margin outside (0, 1), or devices without threshold.
    NetworkError
        If no memristor carries current (inputs cut off from the outputs).

    Examples
    --------
    >>> import memsim
    >>> net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    >>> c = calibrate(net).config
    >>> round(c.v_read, 9), round(c.v_inhibit, 9), round(c.v_normalize, 9)
    (0.5, -4.5, 4.5)
    >>> deep = memsim.layered([2, 4, 4, 2], device=memsim.devices.preset("pershin2011"))
    >>> round(calibrate(deep).config.v_inhibit, 9)  # three devices per path
    -6.75
    """
    base = CircuitConfig() if base is None else base
    if not isinstance(base, CircuitConfig):
        raise ParameterError("base", f"expected a CircuitConfig, got {type(base).__name__}")
    d_inh = _check_drive("drive_over_threshold", drive_over_threshold)
    d_norm = d_inh if normalize_over_threshold is None else _check_drive(
        "normalize_over_threshold", normalize_over_threshold)
    if not 0 < read_margin < 1:
        raise ParameterError("read_margin", f"must lie in (0, 1), got {read_margin!r}")
    x = _state(net, state)
    _, neg, pos = _thresholds(net)
    threshold = float(min(neg.min(), pos.min()))
    volts = {}
    for phase, sign, drive in (("inhibit", -1.0, d_inh), ("normalize", 1.0, d_norm)):
        iv, it, ii = _sums(net, phase, sign, x, base.inactive_inputs)  # type: ignore[arg-type]
        # drive(V) = |V| iv/ii - it/ii is linear in |V| at a fixed state
        volts[phase] = sign * (drive + it / ii) / (iv / ii)
    v_read = (1.0 - read_margin) * threshold
    config = base.replace(v_read=v_read, v_inhibit=volts["inhibit"],
                          v_normalize=volts["normalize"])
    peak = read_peak(net, v_read, state=x, inactive_inputs=base.inactive_inputs)
    return Calibration(config, d_inh, d_norm, peak, threshold)


def calibrated_config(
    net: Network,
    *,
    drive_over_threshold: float = 1.25,
    normalize_over_threshold: float | None = None,
    read_margin: float = 0.5,
    state: np.ndarray | None = None,
    base: CircuitConfig | None = None,
) -> CircuitConfig:
    """The calibrated protocol of ``net``: :func:`calibrate` ``(...).config``.

    Raises
    ------
    ParameterError, NetworkError
        As :func:`calibrate`.

    Examples
    --------
    >>> import memsim
    >>> from memsim.circuit.motifs import skip_layered
    >>> net = skip_layered([2, 4, 2], device=memsim.devices.preset("pershin2011"), skip=1.0)
    >>> c = calibrated_config(net)
    >>> -4.5 < c.v_inhibit < -2.25  # part of the current takes the one-device skip links
    True
    """
    return calibrate(net, drive_over_threshold=drive_over_threshold,
                     normalize_over_threshold=normalize_over_threshold,
                     read_margin=read_margin, state=state, base=base).config
