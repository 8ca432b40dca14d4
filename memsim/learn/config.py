"""Training protocols as plain data: every voltage, duration and probability is a field."""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from memsim.devices.nonideal import (
    CycleNoise,
    DeviceSpread,
    Levels,
    Nonidealities,
    ReadNoise,
    StuckFaults,
)
from memsim.errors import ParameterError
from memsim.learn import kernels as K

__all__ = ["AbstractConfig", "CircuitConfig"]


def _finite(name: str, value: float) -> None:
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ParameterError(name, f"must be a finite number, got {value!r}")


def _nonneg(name: str, value: float, unit: str) -> None:
    _finite(name, value)
    if value < 0:
        raise ParameterError(name, f"must be >= 0 {unit}, got {value!r}")


def _prob(name: str, value: float) -> None:
    _finite(name, value)
    if not 0.0 <= value <= 1.0:
        raise ParameterError(name, f"must be a probability in [0, 1], got {value!r}")


def _count(name: str, value: int, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ParameterError(name, f"must be an integer >= {low}, got {value!r}")


# each group of device-level fields and the nonideality that validates it
_DEVICE_FIELDS: dict[str, Any] = {
    "c2c_absolute": lambda c: CycleNoise(c.c2c_noise, c.c2c_absolute),
    "stuck_on": lambda c: StuckFaults(p_on=c.stuck_on),
    "stuck_off": lambda c: StuckFaults(c.stuck_on, c.stuck_off),
    "levels": lambda c: Levels(c.levels),
    "read_noise": lambda c: ReadNoise(relative=c.read_noise),
    "read_noise_absolute": lambda c: ReadNoise(c.read_noise, c.read_noise_absolute),
}


@dataclass(frozen=True)
class CircuitConfig:
    """The learning-from-mistakes protocol on a memristor circuit (Barrows et al. 2025).

    Per step one pattern is *read*; a wrong answer triggers an *inhibition* pulse and then a
    *normalization* pulse; devices driven near R_off are pruned. The defaults suit
    ``paper_2x4x2`` (``pershin2011`` threshold devices: 1-10 kohm, 1 V threshold); how they
    were chosen and what they give is measured in ``benchmarks/results_learn.md``.

    Parameters
    ----------
    v_read : float
        Read voltage on the active inputs, V. 0.5: below the 1 V device threshold everywhere
        (no node lies outside the terminal voltages), so a read never moves a device.
    t_read : float
        Read duration, s. 10 us: it only sets the read energy (and the disturbance of drift
        devices, whose reads do move them).
    v_inhibit : float
        Bias of the active inputs during inhibition, V; negative, to drive the paths to the
        wrong output towards OFF. -4.5: about 1.25 V over threshold per device of a path.
    t_inhibit : float
        Inhibition pulse, s. 0.7 ms: about a tenth of the resistance range per mistake.
    v_normalize : float
        Bias of all inputs during normalization (all outputs grounded), V; >= 0. 4.5: strong
        enough that an input's devices recover from the inhibitions it takes.
    t_normalize : float
        Normalization pulse, s. 2 ms: weaker normalizations let inputs die (all devices at
        R_off).
    inactive_inputs : {"float", "ground"}
        What the inputs not active in the pattern do during reads and inhibition. "float":
        disconnected, as an unbiased electrode.
    substeps : int
        Classical RK4 steps per pulse. 4: a pulse then agrees with a converged solution to
        far below the cycle-to-cycle noise.
    pulse_tol : float or None
        If set, integrate each pulse with adaptive Dormand-Prince 5(4) instead, with this
        absolute local error per step (first step ``duration / substeps``). None: RK4, the
        faster choice at the default accuracy.
    event_tol : float
        RK4 only: largest estimated local state error of a step from devices reaching R_on
        or R_off inside it; such steps are shortened until the estimate is below it (see
        :mod:`memsim.solve.pulse`). 1e-5: a pulse stays within 1e-4 of a converged solution
        (at most 3.9e-5 on states from training runs of 8- to 64-wide nets; 1e-6 costs 18 %
        more steps at 16-32-16 for 1.7e-5 -> 9.6e-6 there).
    prune_state : float or None
        A device whose state is at or below this value after a write pulse is removed for
        good. 0.01: within 1 % of the range from R_off. None: no pruning.
    prune_probability : float
        Probability that a device found below ``prune_state`` is removed at that check.
        1: deterministic pruning (below 1: stochastic, checked after every pulse).
    c2c_noise : float
        Cycle-to-cycle noise (dimensionless; ``CycleNoise.relative``): each device's state
        change in a write pulse is multiplied by ``max(0, 1 + c2c_noise * N(0, 1))``; devices
        that do not move stay put. 0.8: the noise is the search that finds a working set of
        paths.
    c2c_absolute : float
        Cycle-to-cycle noise added to each moving device's state change, in states
        (``CycleNoise.absolute``). 0: the measured devices give a relative spread only.
    d2d_spread : float
        Device-to-device spread drawn per run (``DeviceSpread.r_sigma``, log-sd): R_on and
        R_off of every memristor times one lognormal factor of log-standard-deviation
        ``d2d_spread`` (:func:`memsim.devices.spread.d2d_factors`). 0.1: breaks the symmetry
        of identical devices.
    x0_spread : float
        Standard deviation of the initial states around the network's ``x0`` (clipped to
        [0, 1]), drawn per run (``DeviceSpread.x0_sigma``, states). 0.1: without spread the
        two outputs of a symmetric network draw the same current.
    stuck_on, stuck_off : float
        Probabilities that a memristor is stuck ON / OFF for the run (``StuckFaults``), drawn
        per run: it becomes a plain resistor at its own (spread) R_on / R_off, is never
        written and never pruned. 0: the idealized devices have no faults.
    levels : int
        Programmable conductance levels (``Levels.n``): the initial states and the state after
        every write are put on ``levels`` levels evenly spaced in conductance over each
        device's window. 0: continuous states.
    levels_stochastic : bool
        Round onto the levels stochastically (unbiased in conductance) instead of to the
        nearest level. False: nearest, as a program-and-verify write gives.
    read_noise : float
        Relative read noise (``ReadNoise.relative``, dimensionless): every read sees each
        memristor's conductance times ``1 + read_noise * N(0, 1)``, drawn per read; the
        states are not touched. 0: noiseless reads.
    read_noise_absolute : float
        Absolute read noise (``ReadNoise.absolute``), S. 0.
    min_current : float
        An output wins only if its current exceeds this, A; if none does the answer is "none"
        (winner -1, a mistake without inhibition). 0: any current wins.
    max_steps : int
        Step budget per era (presentations of one pattern). 400: enough for the alternating
        task on ``paper_2x4x2``.
    shuffle : bool
        Present the patterns of each pass in a fresh random order. True: a fixed order can
        lock the protocol into a cycle of mistakes.
    stop_when_dead : bool
        End the run early once no era left can be learned: for every remaining era some
        pattern's target output has no path of live devices to its active inputs, so it
        carries no read current and can never win (pruning is permanent). Checked at the
        start of each era and after every step that pruned. True: the outcomes (learned
        flags, records up to the stop) are those of the full budget, only fewer steps are
        taken; each affected era says why in :attr:`~memsim.learn.EraResult.stopped`.

    Examples
    --------
    >>> c = CircuitConfig(v_inhibit=-5.0)
    >>> c.v_inhibit, c.replace(t_inhibit=1e-3).t_inhibit
    (-5.0, 0.001)

    Raises
    ------
    ParameterError
        If a voltage is not finite or has the wrong sign (``v_read`` must be positive,
        ``v_inhibit`` negative, ``v_normalize`` >= 0), or a duration, count, tolerance or
        probability is out of range. The config does not know the devices: whether
        ``v_read`` stays below their threshold is the caller's choice.
    """

    v_read: float = 0.5
    t_read: float = 10e-6
    v_inhibit: float = -4.5
    t_inhibit: float = 0.7e-3
    v_normalize: float = 4.5
    t_normalize: float = 2e-3
    inactive_inputs: Literal["float", "ground"] = "float"
    substeps: int = 4
    pulse_tol: float | None = None
    event_tol: float = 1e-5
    prune_state: float | None = 0.01
    prune_probability: float = 1.0
    c2c_noise: float = 0.8
    c2c_absolute: float = 0.0
    d2d_spread: float = 0.1
    x0_spread: float = 0.1
    stuck_on: float = 0.0
    stuck_off: float = 0.0
    levels: int = 0
    levels_stochastic: bool = False
    read_noise: float = 0.0
    read_noise_absolute: float = 0.0
    min_current: float = 0.0
    max_steps: int = 400
    shuffle: bool = True
    stop_when_dead: bool = True

    def __post_init__(self) -> None:
        _nonneg("v_read", self.v_read, "V")
        if self.v_read == 0:
            raise ParameterError("v_read", "a read needs a nonzero voltage (e.g. 0.5 V)")
        _nonneg("t_read", self.t_read, "s")
        _finite("v_inhibit", self.v_inhibit)
        if self.v_inhibit >= 0:
            raise ParameterError("v_inhibit", f"inhibition needs a negative bias, got "
                                 f"{self.v_inhibit!r} V (try -4.0)")
        _nonneg("t_inhibit", self.t_inhibit, "s")
        _finite("v_normalize", self.v_normalize)
        if self.v_normalize < 0:
            raise ParameterError("v_normalize", f"normalization needs a positive bias, got "
                                 f"{self.v_normalize!r} V (0 disables it)")
        _nonneg("t_normalize", self.t_normalize, "s")
        if self.inactive_inputs not in ("float", "ground"):
            raise ParameterError("inactive_inputs",
                                 f"use 'float' or 'ground', got {self.inactive_inputs!r}")
        _count("substeps", self.substeps)
        if self.pulse_tol is not None:
            _finite("pulse_tol", self.pulse_tol)
            if not 0.0 < self.pulse_tol < 1.0:
                raise ParameterError("pulse_tol", f"must lie in (0, 1) or be None, got "
                                     f"{self.pulse_tol!r}")
        _finite("event_tol", self.event_tol)
        if not 0.0 <= self.event_tol < 1.0:
            raise ParameterError("event_tol", f"must lie in [0, 1) (0: no control), got "
                                 f"{self.event_tol!r}")
        if self.prune_state is not None:
            _finite("prune_state", self.prune_state)
            if not 0.0 <= self.prune_state < 1.0:
                raise ParameterError("prune_state", f"must lie in [0, 1) or be None, got "
                                     f"{self.prune_state!r}")
        _prob("prune_probability", self.prune_probability)
        _nonneg("c2c_noise", self.c2c_noise, "")
        _nonneg("d2d_spread", self.d2d_spread, "")
        _nonneg("x0_spread", self.x0_spread, "")
        if not isinstance(self.levels_stochastic, bool):
            raise ParameterError("levels_stochastic", f"must be True or False, got "
                                 f"{self.levels_stochastic!r}")
        for name, make in _DEVICE_FIELDS.items():
            try:
                make(self)
            except ParameterError as exc:
                raise ParameterError(name, str(exc).split(": ", 1)[-1]) from None
        _nonneg("min_current", self.min_current, "A")
        _count("max_steps", self.max_steps)

    def replace(self, **changes: Any) -> CircuitConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @functools.cached_property
    def nonidealities(self) -> Nonidealities:
        """The device-level nonidealities this protocol trains with, as the instances of
        :mod:`memsim.devices.nonideal` that implement them (no retention drift: a training
        run lasts milliseconds of pulses).

        >>> CircuitConfig().nonidealities.spread
        DeviceSpread(r_sigma=0.1, x0_sigma=0.1)
        """
        return Nonidealities(spread=DeviceSpread(self.d2d_spread, self.x0_spread),
                             cycle=CycleNoise(self.c2c_noise, self.c2c_absolute),
                             stuck=StuckFaults(self.stuck_on, self.stuck_off),
                             read=ReadNoise(self.read_noise, self.read_noise_absolute),
                             levels=Levels(self.levels, stochastic=self.levels_stochastic))

    def with_nonidealities(self, nonideal: Nonidealities, *, x0_spread: float | None = None
                           ) -> CircuitConfig:
        """This protocol with the device-level nonidealities of ``nonideal`` (e.g. those
        measured, :func:`memsim.measure.statistics.measured_nonidealities`).

        Spread, cycle-to-cycle noise, stuck faults, read noise and levels replace this
        config's; ``x0_spread`` keeps this config's value unless given (measurements give the
        spread of programmed states, not of a network's initial ones), and retention drift is
        not used (a training run lasts milliseconds).

        Raises
        ------
        ParameterError
            For what the learner cannot carry: stuck devices at given resistances
            (``StuckFaults.r_on`` / ``r_off``) or levels at given conductances
            (``Levels.g_low`` / ``g_high``); their defaults, the device's own window, work.

        Examples
        --------
        >>> from memsim.devices.nonideal import Nonidealities, StuckFaults
        >>> c = CircuitConfig().with_nonidealities(Nonidealities(stuck=StuckFaults(p_on=0.04)))
        >>> c.stuck_on, c.c2c_noise, c.x0_spread
        (0.04, 0.0, 0.1)
        """
        n = nonideal
        if n.stuck.r_on is not None or n.stuck.r_off is not None:
            raise ParameterError("stuck", "the learner sticks devices at their own R_on / "
                                 "R_off; leave StuckFaults.r_on and r_off at None")
        if n.levels.g_low is not None or n.levels.g_high is not None:
            raise ParameterError("levels", "the learner spaces levels over each device's "
                                 "window; leave Levels.g_low and g_high at None")
        return self.replace(
            d2d_spread=n.spread.r_sigma,
            x0_spread=self.x0_spread if x0_spread is None else x0_spread,
            c2c_noise=n.cycle.relative, c2c_absolute=n.cycle.absolute,
            stuck_on=n.stuck.p_on, stuck_off=n.stuck.p_off,
            read_noise=n.read.relative, read_noise_absolute=n.read.absolute,
            levels=int(n.levels.n), levels_stochastic=bool(n.levels.stochastic))

    def packed(self, max_steps: int, record_states: bool) -> tuple[K.Protocol, K.RunOptions]:
        """What :func:`memsim.learn.kernels.train_circuit` reads: the protocol and the run
        options (all eras trained)."""
        opts = K.RunOptions(max_steps=int(max_steps), record_states=bool(record_states),
                            stop_when_dead=bool(self.stop_when_dead), run_eras=0)
        return self._protocol, opts

    @functools.cached_property
    def _protocol(self) -> K.Protocol:
        """The protocol of :meth:`packed`, built once per config (a config is frozen)."""
        return K.Protocol(
            v_read=float(self.v_read), t_read=float(self.t_read),
            v_inhibit=float(self.v_inhibit), t_inhibit=float(self.t_inhibit),
            v_normalize=float(self.v_normalize), t_normalize=float(self.t_normalize),
            prune_state=-1.0 if self.prune_state is None else float(self.prune_state),
            prune_probability=float(self.prune_probability), c2c_noise=float(self.c2c_noise),
            c2c_absolute=float(self.c2c_absolute), levels=int(self.levels),
            levels_stochastic=bool(self.levels_stochastic),
            read_relative=float(self.read_noise), read_absolute=float(self.read_noise_absolute),
            min_current=float(self.min_current),
            pulse_tol=-1.0 if self.pulse_tol is None else float(self.pulse_tol),
            event_tol=float(self.event_tol), substeps=int(self.substeps),
            ground_inactive=self.inactive_inputs == "ground", shuffle=bool(self.shuffle))


@dataclass(frozen=True)
class AbstractConfig:
    """The Chialvo-Bak model (weights only; Chialvo & Bak 1999, Bak & Chialvo 2001).

    Parameters
    ----------
    delta : float
        Depression of an active synapse after a mistake, in weight units (weights start
        uniform in [0, 1] and are held >= 0). 0.1.
    selective : float
        Selective punishment: synapses that were ever active in a correct answer are
        depressed by ``delta * selective`` instead (1: no selectivity). 0.01, "much less".
    max_steps : int
        Step budget per era. 10000.
    shuffle : bool
        Present the patterns of each pass in a fresh random order.

    Examples
    --------
    >>> AbstractConfig().selective
    0.01

    Raises
    ------
    ParameterError
        If ``delta`` is not positive, ``selective`` is outside [0, 1] or ``max_steps < 1``.
    """

    delta: float = 0.1
    selective: float = 0.01
    max_steps: int = 10_000
    shuffle: bool = True

    def __post_init__(self) -> None:
        _finite("delta", self.delta)
        if self.delta <= 0:
            raise ParameterError("delta", f"the depression must be positive, got {self.delta!r}")
        _prob("selective", self.selective)
        _count("max_steps", self.max_steps)

    def replace(self, **changes: Any) -> AbstractConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)
