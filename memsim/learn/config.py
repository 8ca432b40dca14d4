"""Training protocols as plain data: every voltage, duration and probability is a field."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

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


@dataclass(frozen=True)
class CircuitConfig:
    """The learning-from-mistakes protocol on a memristor circuit (seed paper, DESIGN §4).

    Per step one pattern is *read*; a wrong answer triggers an *inhibition* pulse and then a
    *normalization* pulse; devices driven near R_off are pruned. The defaults are chosen for
    ``paper_2x4x2`` (2-4-2 layered net of ``pershin2011`` threshold devices: R 1-10 kohm,
    threshold 1 V, beta 1e6 ohm/(V s), so a full 9 kohm swing takes 9 ms at 1 V over
    threshold). Reasons are given per field.

    Parameters
    ----------
    v_read : float
        Read voltage on the active inputs, V. 0.5 V: every node voltage of a resistive
        network lies between the extreme terminal voltages (maximum principle), so no device
        sees more than 0.5 V < 1 V threshold and a read never moves a threshold device; large
        enough for currents of tens of microamps.
    t_read : float
        Read duration, s (enters the read energy, and the state change of drift devices whose
        reads do disturb). 10 us.
    v_inhibit : float
        Bias of the active inputs during inhibition, V; must be negative (drives the devices on
        the paths to the wrong output towards OFF). -4.5 V: a path is two devices in series, so
        each sees about 2.25 V, 1.25 V over threshold; the more resistive device of a path
        takes the larger share and is depressed fastest.
    t_inhibit : float
        Inhibition pulse, s. 0.7 ms: 1.25 V over threshold moves R by about 0.9 kohm, a tenth
        of the range, per mistake (the weak link of a path more).
    v_normalize : float
        Bias of all inputs during normalization (all outputs grounded), V; must be positive.
        4.5 V for 2 ms: an input-layer device in series with the two output-layer devices of
        its hidden node (in parallel) takes about 2/3 of the bias, 2 V over threshold, and
        recovers by about 0.4 of its range. It has to: every mistake of an input depresses
        all of that input's devices (they carry its whole inhibition current), while an
        output-layer device is depressed only by mistakes towards its output. With a weaker
        normalization (2.6 V for 0.5 ms) an input often "dies" (all its devices pinned at
        R_off, because the other input holds the hidden nodes up during normalization): eras
        1, 2, 3 are then learned in 74 %, 25 % and 6 % of the runs, and the read power falls
        during training, as in the seed paper. With these defaults it rises instead (the
        devices end up mostly ON) while the energy per step falls as mistakes stop.
    t_normalize : float
        Normalization pulse, s. 2 ms.
    inactive_inputs : {"float", "ground"}
        What the inputs not active in the pattern do during reads and inhibition. "float":
        disconnected, as an unbiased electrode.
    substeps : int
        Classical RK4 steps per write pulse (the nodal system is re-solved at every stage); a
        step that would carry a device past R_on or R_off is shortened to end where it gets
        there (its rate then drops to zero, a jump no Runge-Kutta step resolves). 4: on
        states sampled from training runs the error of a default pulse against a converged
        solution is below 3e-4 (median 1e-6), far below the cycle-to-cycle noise, and the
        error falls 16-fold per halving of the step (see the tests).
    pulse_tol : float or None
        If set, integrate each pulse with adaptive Dormand-Prince 5(4) instead, accepting a
        step when every state's local error estimate is below ``pulse_tol`` (first step
        ``duration / substeps``). Slower (the threshold kinks force small steps) but with
        error control; None (default) uses RK4.
    prune_state : float or None
        A device whose state is at or below this value after a write pulse (R within
        ``prune_state * (R_off - R_on)`` of R_off) is removed for good. 0.01. None: no pruning.
    prune_probability : float
        Probability that a device found below ``prune_state`` is removed at that check
        (1: deterministic pruning; below 1: stochastic pruning, checked after every pulse).
    c2c_noise : float
        Cycle-to-cycle noise: each device's state change in a write pulse is multiplied by
        ``max(0, 1 + c2c_noise * N(0, 1))``. Devices that do not move stay put. 0.8: the
        noise is the search: on ``paper_2x4x2`` the per-era success of the alternating task
        falls from about 98 % to about 80 % when it is lowered to 0.3, and without any noise
        normalization drives every device to R_on and learning stalls.
    d2d_spread : float
        Device-to-device spread: R_on and R_off of every memristor multiplied by one lognormal
        factor of log-standard-deviation ``d2d_spread`` per device (drawn per run). 0.1.
    x0_spread : float
        Standard deviation of the initial states around the network's ``x0`` (clipped to
        [0, 1]), drawn per run. 0.1. Spread breaks the symmetry of identical devices: without
        it the two outputs of a symmetric network draw the same current.
    min_current : float
        An output wins only if its current exceeds this, A; if none does (every path cut)
        the answer is "none" (winner -1, a mistake without inhibition). 0.
    max_steps : int
        Step budget per era (presentations of one pattern). 400.
    shuffle : bool
        Present the patterns of each pass in a fresh random order (else in task order; a
        fixed order can lock the protocol into a cycle of mistakes).
    stop_when_dead : bool
        End the run early once no era left can be learned any more: for every remaining era
        some pattern's target output has no path of live (non-pruned) devices to any of the
        pattern's active inputs (typically an input whose devices were all driven to R_off
        and pruned). Such an output carries exactly no read current, so it can never win,
        and pruning is permanent. Checked at the start of each era and after every step that
        pruned. The outcomes are those of the full budget: the learned flag of every era and
        every record up to the stop are identical; only fewer steps are taken (the stopped
        era's ``n_steps`` and ``n_mistakes`` count the steps taken, later eras take none) and
        ``final_accuracy`` is that of the network at the stop. Each era affected says why in
        :attr:`~memsim.learn.EraResult.stopped`. While a later era can still be learned the
        current one runs its whole budget (the later era must meet the same devices). True.

    With these defaults, on ``paper_2x4x2`` with the three-era alternating task and 400 steps
    per era, 99 %, 99 % and 97.5 % of 200 seeds (1000-1199) learned eras 1, 2 and 3 (96 % all
    three; median 38, 47 and 64 steps). The numbers come from searching voltages, durations,
    noise and pruning on other seeds; the trade-off against falling read power is shown in
    ``notebooks/01_learning_from_mistakes.ipynb``.

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
        ``v_read`` stays below their threshold is the caller's choice (the default does for
        ``paper_2x4x2``).
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
    prune_state: float | None = 0.01
    prune_probability: float = 1.0
    c2c_noise: float = 0.8
    d2d_spread: float = 0.1
    x0_spread: float = 0.1
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
        if self.prune_state is not None:
            _finite("prune_state", self.prune_state)
            if not 0.0 <= self.prune_state < 1.0:
                raise ParameterError("prune_state", f"must lie in [0, 1) or be None, got "
                                     f"{self.prune_state!r}")
        _prob("prune_probability", self.prune_probability)
        _nonneg("c2c_noise", self.c2c_noise, "")
        _nonneg("d2d_spread", self.d2d_spread, "")
        _nonneg("x0_spread", self.x0_spread, "")
        _nonneg("min_current", self.min_current, "A")
        _count("max_steps", self.max_steps)

    def replace(self, **changes: Any) -> CircuitConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def packed(self, max_steps: int, record_states: bool) -> tuple[np.ndarray, np.ndarray]:
        """The float and int arrays :func:`memsim.learn.kernels.train_circuit` reads."""
        cfg = np.zeros(K.N_CFG)
        cfg[K.C_V_READ] = self.v_read
        cfg[K.C_T_READ] = self.t_read
        cfg[K.C_V_INH] = self.v_inhibit
        cfg[K.C_T_INH] = self.t_inhibit
        cfg[K.C_V_NORM] = self.v_normalize
        cfg[K.C_T_NORM] = self.t_normalize
        cfg[K.C_PRUNE_STATE] = -1.0 if self.prune_state is None else self.prune_state
        cfg[K.C_PRUNE_PROB] = self.prune_probability
        cfg[K.C_C2C] = self.c2c_noise
        cfg[K.C_MIN_CURRENT] = self.min_current
        cfg[K.C_TOL] = -1.0 if self.pulse_tol is None else self.pulse_tol
        flags = np.zeros(K.N_FLAGS, np.int64)
        flags[K.F_SUBSTEPS] = self.substeps
        flags[K.F_GROUND_INACTIVE] = int(self.inactive_inputs == "ground")
        flags[K.F_SHUFFLE] = int(self.shuffle)
        flags[K.F_RECORD] = int(record_states)
        flags[K.F_MAX_STEPS] = max_steps
        flags[K.F_STOP_DEAD] = int(self.stop_when_dead)
        return cfg, flags


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
