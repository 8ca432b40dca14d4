"""Fitting device models to measured I-V sweeps through memsim's transient.

The measured voltage of every point drives the cell (:mod:`memsim.measure.cells`) through a
piecewise-linear source, :func:`memsim.simulate` integrates the device state with fixed-step
RK4 (``substeps`` steps per measured point: smooth in the parameters, as a finite-difference
Jacobian needs), and :func:`scipy.optimize.least_squares` minimizes the current residuals.
All cycles are fitted at once: the device parameters are shared, each cycle has its own
``r_on`` (:mod:`memsim.measure.models`). Residuals are normalized by each cycle's current
range, so the RMS of a cycle's residuals is its nRMS.

Uncertainties:

* **Jacobian**: ``cov = s^2 (J^T J)^-1`` at the optimum with ``s^2`` the residual variance,
  inflated by ``(1 + rho) / (1 - rho)`` for the lag-1 autocorrelation ``rho > 0`` of the
  residuals within a cycle (the points of a sweep are not independent when the model misses
  a systematic feature; without inflation the intervals would be far too narrow). Intervals
  are 95 %, symmetric in the logarithm of each positive quantity (delta method).
* **Bootstrap over cycles**: the cycles are resampled with replacement and the fit repeated
  (from the full fit's optimum); percentile 95 % intervals of the shared parameters. This
  interval includes the cycle-to-cycle variation of the device.

Model comparison: Gaussian AIC ``n ln(SSR/n) + 2k`` and BIC ``n ln(SSR/n) + k ln n``, with
``k`` counting every fitted number (the per-cycle ``r_on`` too).

The sweep's timing is not in the data: every point is taken to last ``time_per_point``
seconds (1 ms by default), so fitted rates are in units of that assumption (a sweep twice as
fast doubles them).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from memsim.circuit.network import Network
from memsim.devices.models import Device
from memsim.errors import MemsimError, ParameterError
from memsim.measure.cells import cells
from memsim.measure.models import ModelSpec, model_spec
from memsim.measure.readers import IVSweep
from memsim.solve.drives import PWL
from memsim.solve.transient import simulate

__all__ = ["IVFit", "Interval", "fit_iv", "simulate_sweeps"]

log = logging.getLogger(__name__)

Z95 = 1.959963984540054
"""Two-sided 95 % quantile of the standard normal."""
TIME_PER_POINT = 1e-3
"""Assumed duration of one measured point, s (the sources give no sweep rate)."""
SUBSTEPS = 4
"""RK4 steps per measured point; the tests show the currents move by < 1e-4 of their range
when it is doubled."""
FD_STEP = 1e-6
"""Relative step of the finite-difference Jacobian in the fitted (log) parameters."""
RESTARTS = 4
"""Least-squares runs per start at most (see :meth:`_Problem.solve`)."""
UNIDENTIFIED = 1e3
"""A parameter whose 95 % interval spans more than this factor is reported as not identified."""
PENALTY = 10.0
"""Residual (in units of the current range) returned where the device cannot be simulated."""


@dataclass(frozen=True)
class Interval:
    """A 95 % interval ``[low, high]`` around ``value``."""

    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.4g} [{self.low:.4g}, {self.high:.4g}]"


def _series_values(series: bool | float | None) -> tuple[bool, float | None]:
    """(fitted?, fixed value) from the ``series`` option."""
    if series is True:
        return True, None
    if series is None or series is False or series == 0:
        return False, None
    r = float(series)
    if not math.isfinite(r) or r <= 0:
        raise ParameterError("series", f"a series resistance must be positive, got {series!r}")
    return False, r


def _drives(sweeps: Sequence[IVSweep], copies: int, tpp: float) -> dict[str | int, Any]:
    out: dict[str | int, Any] = {}
    for k in range(copies):
        for c, s in enumerate(sweeps):
            out[f"in{k * len(sweeps) + c}"] = PWL(list(np.arange(s.n_points) * tpp),
                                                  list(s.voltage))
    return out


def simulate_sweeps(devices: Sequence[Device], r_series: float | None | list[float | None],
                    sweeps: Sequence[IVSweep], *, time_per_point: float = TIME_PER_POINT,
                    substeps: int = SUBSTEPS) -> list[np.ndarray]:
    """The current of each device (behind ``r_series``) under its sweep's measured voltage.

    ``devices[k]`` is driven by ``sweeps[k % len(sweeps)]``; one :func:`memsim.simulate` call
    runs them all. Returns one current array (A) per device, one value per measured point.

    Raises
    ------
    ParameterError
        For a bad ``time_per_point`` or ``substeps``.
    SolverError
        If the states become non-finite.

    Examples
    --------
    >>> import memsim.measure as mm
    >>> sweeps = mm.dataset("adamlab_lea_1t1r_rram").reset_cycles()[:1]
    >>> fit = mm.load_iv_fit("lea_1t1r_vteam")
    >>> i = simulate_sweeps([fit.device(0)], fit.r_series, sweeps)[0]
    >>> bool(abs(i - sweeps[0].current).std() < 0.05 * sweeps[0].current_range)
    True
    """
    if not (math.isfinite(time_per_point) and time_per_point > 0):
        raise ParameterError("time_per_point", f"must be a positive time, got {time_per_point!r}")
    if int(substeps) != substeps or substeps < 1:
        raise ParameterError("substeps", f"must be an integer >= 1, got {substeps!r}")
    copies = math.ceil(len(devices) / len(sweeps))
    net = cells(list(devices), r_series if isinstance(r_series, list) else
                [r_series] * len(devices))
    n_max = max(s.n_points for s in sweeps)
    drive = {k: v for k, v in _drives(sweeps, copies, time_per_point).items()
             if int(str(k)[2:]) < len(devices)}
    res = simulate(net, drive, (n_max - 1) * time_per_point, method="rk4",
                   dt=time_per_point / substeps, save_every=int(substeps))
    return [res.output_currents[:sweeps[k % len(sweeps)].n_points, k]
            for k in range(len(devices))]


class _Problem:
    """The least-squares problem: parameter vector ``u`` <-> devices, residuals, Jacobian.

    ``u`` holds the shared parameters, then one block of ``C`` values per per-cycle
    parameter. Every parameter is fitted as its logarithm except ``r_on``, fitted as
    ``log(r_off / r_on - 1)`` so that ``r_on < r_off`` whatever ``u`` is.
    """

    def __init__(self, spec: ModelSpec, sweeps: Sequence[IVSweep], series: bool | float | None,
                 time_per_point: float, substeps: int):
        self.spec = spec
        self.sweeps = list(sweeps)
        self.fit_series, self.r_fixed = _series_values(series)
        self.tpp = time_per_point
        self.substeps = substeps
        self.shared = [p.name for p in spec.shared] + (["r_series"] if self.fit_series else [])
        self.per_cycle = [p.name for p in spec.per_cycle]
        bounds = {p.name: (p.lower, p.upper) for p in spec.free} | {"r_series": (1.0, 1e8)}
        c = len(self.sweeps)
        lo, hi = [], []
        for name in self.shared + [n for n in self.per_cycle for _ in range(c)]:
            if name == "r_on":  # r_off / r_on between 1 + 2e-9 and 1 + 1e13
                lo.append(-20.0)
                hi.append(30.0)
            else:
                lo.append(math.log(bounds[name][0]))
                hi.append(math.log(bounds[name][1]))
        self.bounds = (np.array(lo), np.array(hi))
        self.n_u = len(lo)
        self.scale = np.concatenate([np.full(s.n_points, 1.0 / s.current_range)
                                     for s in self.sweeps])
        self.measured = np.concatenate([s.current for s in self.sweeps])
        self.n_evaluations = 0
        self.fd_step = FD_STEP
        self._nets: dict[int, tuple[Network, dict[str | int, Any], np.ndarray]] = {}

    # ---------------------------------------------------------------- parametrization
    def encode(self, values: dict[str, Any]) -> np.ndarray:
        """``u`` from physical values (per-cycle ones may be scalars: every cycle alike)."""
        c = len(self.sweeps)
        r_off = float(values["r_off"])
        u: list[float] = []
        for name in self.shared:
            v = float(values[name])
            u.append(math.log(r_off / v - 1.0) if name == "r_on" else math.log(v))
        for name in self.per_cycle:
            arr = np.broadcast_to(np.asarray(values[name], float), (c,))
            u += list(np.log(r_off / arr - 1.0) if name == "r_on" else np.log(arr))
        return np.clip(np.array(u), self.bounds[0], self.bounds[1])

    def decode(self, u: np.ndarray) -> tuple[dict[str, float], dict[str, np.ndarray]]:
        """Shared values and per-cycle arrays (SI units) of ``u``."""
        ns, c = len(self.shared), len(self.sweeps)
        raw = {n: float(np.exp(u[k])) for k, n in enumerate(self.shared)}
        blocks = {n: u[ns + j * c:ns + (j + 1) * c] for j, n in enumerate(self.per_cycle)}
        r_off = raw["r_off"]
        if "r_on" in raw:
            raw["r_on"] = r_off / (1.0 + raw["r_on"])  # raw held exp(u)
        per = {n: (r_off / (1.0 + np.exp(b)) if n == "r_on" else np.exp(b))
               for n, b in blocks.items()}
        return raw, per

    def quantities(self, u: np.ndarray) -> np.ndarray:
        """Logs of every reported quantity: shared parameters, then the per-cycle blocks."""
        shared, per = self.decode(u)
        parts = [np.array([shared[n] for n in self.shared])] + [per[n] for n in self.per_cycle]
        return np.log(np.concatenate(parts))

    def devices(self, u: np.ndarray) -> tuple[list[Device], float | None]:
        shared, per = self.decode(u)
        devs = [self.spec.device({**shared, **{n: float(a[c]) for n, a in per.items()}})
                for c in range(len(self.sweeps))]
        rs = shared["r_series"] if self.fit_series else self.r_fixed
        return devs, rs

    # ---------------------------------------------------------------- simulation
    def _template(self, copies: int) -> tuple[Network, dict[str | int, Any], np.ndarray]:
        if copies not in self._nets:
            n = copies * len(self.sweeps)
            has_rs = self.fit_series or self.r_fixed is not None
            net = cells([self.spec.template] * n, 1.0 if has_rs else None)
            dev_edges = np.arange(n) * 2 + 1 if has_rs else np.arange(n)
            self._nets[copies] = (net, _drives(self.sweeps, copies, self.tpp), dev_edges)
        return self._nets[copies]

    def currents(self, us: Sequence[np.ndarray]) -> list[np.ndarray | None]:
        """Simulated currents (concatenated over cycles) for each parameter vector; None
        where the parameters give no valid device or simulation."""
        net, drive, dev_edges = self._template(len(us))
        params = np.array(net.params)
        ok = []
        c = len(self.sweeps)
        for k, u in enumerate(us):
            try:
                devs, rs = self.devices(u)
                rows = np.stack([d.row() for d in devs])
                ok.append(True)
            except MemsimError:  # e.g. r_on rounded up to r_off: simulate the template
                rows = np.tile(self.spec.template.row(), (c, 1))
                rs = self.r_fixed or (1.0 if self.fit_series else None)
                ok.append(False)
            params[dev_edges[k * c:(k + 1) * c]] = rows
            if rs is not None:
                params[dev_edges[k * c:(k + 1) * c] - 1, :2] = rs
        n_max = max(s.n_points for s in self.sweeps)
        self.n_evaluations += len(us)
        try:
            res = simulate(net.with_params(params), drive, (n_max - 1) * self.tpp,
                           method="rk4", dt=self.tpp / self.substeps,
                           save_every=self.substeps)
        except (MemsimError, ArithmeticError) as exc:  # e.g. a resistance rounded to 0
            log.debug("simulation failed: %s", exc)
            return [None] * len(us)
        out: list[np.ndarray | None] = []
        for k in range(len(us)):
            cur = np.concatenate([res.output_currents[:s.n_points, k * c + j]
                                  for j, s in enumerate(self.sweeps)])
            out.append(cur if ok[k] and np.isfinite(cur).all() else None)
        return out

    def residual_of(self, current: np.ndarray | None) -> np.ndarray:
        if current is None:
            return np.full(self.measured.size, PENALTY)
        return (current - self.measured) * self.scale

    def residuals(self, u: np.ndarray) -> np.ndarray:
        return self.residual_of(self.currents([u])[0])

    def jacobian(self, u: np.ndarray) -> np.ndarray:
        """Forward differences. Each cycle's residuals depend only on its own per-cycle
        values, so one perturbed copy per per-cycle parameter gives all its columns."""
        ns, c = len(self.shared), len(self.sweeps)
        h = self.fd_step * np.maximum(1.0, np.abs(u))
        batch = [u]
        for j in range(ns):
            d = u.copy()
            d[j] += h[j]
            batch.append(d)
        for j in range(len(self.per_cycle)):
            d = u.copy()
            d[ns + j * c:ns + (j + 1) * c] += h[ns + j * c:ns + (j + 1) * c]
            batch.append(d)
        cur = self.currents(batch)
        base = self.residual_of(cur[0])
        jac = np.zeros((base.size, self.n_u))
        for j in range(ns):
            jac[:, j] = (self.residual_of(cur[1 + j]) - base) / h[j]
        for j in range(len(self.per_cycle)):
            diff = self.residual_of(cur[1 + ns + j]) - base
            start = 0
            for k, s in enumerate(self.sweeps):
                col = ns + j * c + k
                jac[start:start + s.n_points, col] = diff[start:start + s.n_points] / h[col]
                start += s.n_points
        return jac

    def solve(self, u0: np.ndarray, max_nfev: int) -> Any:
        """Trust-region least squares, restarted from where it stopped while that still
        lowers the cost: at a threshold's kink the trust region can collapse (xtol) far from
        the minimum, and a fresh region gets past it."""
        sol = None
        for _ in range(RESTARTS):
            new = least_squares(self.residuals, u0 if sol is None else sol.x, jac=self.jacobian,
                                bounds=self.bounds, method="trf", x_scale="jac",
                                max_nfev=max_nfev, xtol=1e-8, ftol=1e-8, gtol=1e-8)
            done = sol is not None and new.cost > sol.cost * (1 - 1e-6)
            if sol is None or new.cost < sol.cost:
                sol = new
            if done or new.status != 3:
                break
        return sol


@dataclass(frozen=True)
class IVFit:
    """The outcome of :func:`fit_iv`.

    Attributes
    ----------
    model : str
    spec : ModelSpec
    sweeps : tuple of IVSweep, the fitted cycles
    values : dict, the shared parameters (SI units; ``r_series`` if fitted)
    per_cycle : dict of (C,) arrays, the per-cycle parameters (SI units)
    r_series : float or None, ohm (fitted or fixed)
    series_fitted : bool
    jacobian : dict of Interval, 95 % Jacobian intervals of ``values``
    per_cycle_jacobian : dict of tuples of Interval, per cycle
    bootstrap : dict of Interval or None, 95 % intervals over resampled cycles
    n_bootstrap : int
    nrms : (C,) per-cycle RMS residual / current range
    currents : tuple of arrays, the fitted current of each cycle (A)
    ssr, n_points, n_params, aic, bic : the goodness of fit (normalized residuals)
    inflation : float, the factor applied to the Jacobian covariance for correlated residuals
    time_per_point, substeps : the simulation grid
    wall_time : float, s; n_evaluations : int, simulated parameter vectors
    """

    model: str
    spec: ModelSpec
    sweeps: tuple[IVSweep, ...]
    values: dict[str, float]
    per_cycle: dict[str, np.ndarray]
    r_series: float | None
    series_fitted: bool
    jacobian: dict[str, Interval]
    per_cycle_jacobian: dict[str, tuple[Interval, ...]]
    nrms: np.ndarray
    currents: tuple[np.ndarray, ...]
    ssr: float
    n_points: int
    n_params: int
    aic: float
    bic: float
    inflation: float
    time_per_point: float
    substeps: int
    wall_time: float
    n_evaluations: int
    bootstrap: dict[str, Interval] | None = None
    n_bootstrap: int = 0
    u: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    def parameters(self, cycle: int | None = None) -> dict[str, float]:
        """All fitted device values: of one cycle, or (default) the per-cycle medians."""
        pick = {n: float(np.median(a) if cycle is None else a[cycle])
                for n, a in self.per_cycle.items()}
        return {**self.values, **pick}

    def device(self, cycle: int | None = None) -> Device:
        """The fitted device: of one cycle, or (default) with the per-cycle medians."""
        return self.spec.device(self.parameters(cycle))

    def cell(self, cycle: int | None = None) -> Network:
        """The fitted device behind its series resistor, as a one-cell network."""
        return cells([self.device(cycle)], self.r_series, name=f"{self.model}_cell")

    @property
    def identified(self) -> tuple[str, ...]:
        """The shared parameters whose 95 % Jacobian interval spans less than a factor
        :data:`UNIDENTIFIED`."""
        return tuple(n for n, iv in self.jacobian.items()
                     if iv.low > 0 and iv.high / iv.low < UNIDENTIFIED)

    @property
    def residuals(self) -> tuple[np.ndarray, ...]:
        """Measured minus fitted current of each cycle, A."""
        return tuple(s.current - c for s, c in zip(self.sweeps, self.currents, strict=True))

    def table(self) -> str:
        """The parameters with their intervals, and the goodness of fit, as text."""
        units = {p.name: p.unit for p in self.spec.free} | {"r_series": "ohm"}
        head = f"95% (bootstrap, B={self.n_bootstrap})"
        lines = [f"model {self.model}: {len(self.sweeps)} cycles, {self.n_points} points, "
                 f"{self.n_params} fitted numbers, {self.wall_time:.1f} s",
                 f"  {'parameter':<13}{'value':>11}  {'95% (Jacobian)':>24}  {head:>26}  unit"]
        for n, v in self.values.items():
            jac, boot = self.jacobian[n], (self.bootstrap or {}).get(n)
            b = f"[{boot.low:.4g}, {boot.high:.4g}]" if boot else "-"
            j = f"[{jac.low:.4g}, {jac.high:.4g}]" if n in self.identified else "not identified"
            lines.append(f"  {n:<13}{v:>11.4g}  {j:>24}  {b:>26}  {units.get(n, '')}")
        for n, a in self.per_cycle.items():
            ivs = self.per_cycle_jacobian[n]
            mid = int(np.argsort(a)[len(a) // 2])
            lines.append(f"  {n + ' (cycle)':<13}{float(np.median(a)):>11.4g}  "
                         f"{f'[{ivs[mid].low:.4g}, {ivs[mid].high:.4g}]':>24}  "
                         f"{f'cycles {a.min():.4g}..{a.max():.4g}':>26}  {units.get(n, '')}")
        if any(n not in self.identified for n in self.values):
            lines.append(f"  not identified: the 95 % Jacobian interval spans more than a "
                         f"factor {UNIDENTIFIED:g} (the data fix a combination, not the value; "
                         "bootstrap refits then stay near the optimum and mean little)")
        fixed = [f"{k}={v:g}" for k, v in _fixed(self.spec).items()]
        if fixed:
            lines.append("  fixed (not identifiable from a RESET branch): " + ", ".join(fixed))
        if self.r_series is not None and not self.series_fitted:
            lines.append(f"  series resistor fixed at {self.r_series:g} ohm")
        lines.append(f"  nRMS per cycle: median {np.median(self.nrms):.4f}, max "
                     f"{self.nrms.max():.4f}; AIC {self.aic:.1f}, BIC {self.bic:.1f}")
        lines.append(f"  Jacobian covariance x{self.inflation:.2f} for correlated residuals; "
                     f"time per point {self.time_per_point:g} s (assumed: rates scale with "
                     "the true sweep rate)")
        return "\n".join(lines)

    def plot(self, path: str | None = None) -> Any:
        """Measured (points) and fitted (lines) I-V of every cycle, and the residuals."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
        cmap = plt.get_cmap("viridis")
        n = len(self.sweeps)
        for c, (s, cur) in enumerate(zip(self.sweeps, self.currents, strict=True)):
            color = cmap(c / max(1, n - 1))
            axes[0].plot(s.voltage, s.current * 1e3, ".", ms=2.5, color=color)
            axes[0].plot(s.voltage, cur * 1e3, "-", lw=0.9, color=color)
            axes[1].plot(np.arange(s.n_points), (s.current - cur) / s.current_range * 100,
                         lw=0.7, color=color)
        axes[0].set(xlabel="applied voltage (V)", ylabel="current (mA)",
                    title=f"{self.model}: measured (dots) and fitted (lines), {n} cycles")
        axes[1].set(xlabel="point of the sweep", ylabel="measured - fitted (% of range)",
                    title=f"residuals; nRMS median {np.median(self.nrms) * 100:.2f} %, "
                    f"max {self.nrms.max() * 100:.2f} %")
        axes[1].axhline(0, color="k", lw=0.5)
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=120)
            plt.close(fig)
        return fig


def _fixed(spec: ModelSpec) -> dict[str, float]:
    """Numeric template fields the fit does not vary (besides x0)."""
    free = {p.name for p in spec.free}
    out = {}
    for f in dataclasses.fields(spec.template):
        v = getattr(spec.template, f.name)
        if f.name not in free and f.name != "x0" and isinstance(v, int | float):
            out[f.name] = float(v)
    return out


def _intervals(problem: _Problem, u: np.ndarray, cov: np.ndarray
               ) -> tuple[dict[str, Interval], dict[str, tuple[Interval, ...]]]:
    """95 % intervals of every reported quantity, symmetric in its logarithm (delta method)."""
    q0 = problem.quantities(u)
    grad = np.zeros((q0.size, u.size))
    for j in range(u.size):
        h = 1e-6 * max(1.0, abs(u[j]))
        d = u.copy()
        d[j] += h
        grad[:, j] = (problem.quantities(d) - q0) / h
    sd = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", grad, cov, grad), 0.0))
    with np.errstate(over="ignore"):  # an unidentified parameter: an interval to infinity
        ivals = [Interval(float(np.exp(q)), float(np.exp(q - Z95 * s)),
                          float(np.exp(q + Z95 * s))) for q, s in zip(q0, sd, strict=True)]
    ns, c = len(problem.shared), len(problem.sweeps)
    shared = dict(zip(problem.shared, ivals[:ns], strict=True))
    per = {n: tuple(ivals[ns + j * c:ns + (j + 1) * c]) for j, n in enumerate(problem.per_cycle)}
    return shared, per


def _lag1(residuals: np.ndarray, sweeps: Sequence[IVSweep]) -> float:
    num = den = 0.0
    start = 0
    for s in sweeps:
        r = residuals[start:start + s.n_points]
        r = r - r.mean()
        num += float(r[1:] @ r[:-1])
        den += float(r @ r)
        start += s.n_points
    return num / den if den > 0 else 0.0


def fit_iv(
    sweeps: Sequence[IVSweep],
    model: str | ModelSpec = "vteam",
    *,
    series: bool | float | None = True,
    per_cycle: Sequence[str] | None = None,
    time_per_point: float = TIME_PER_POINT,
    substeps: int = SUBSTEPS,
    n_starts: int = 3,
    bootstrap: int = 0,
    seed: int | np.random.SeedSequence | None = 0,
    max_nfev: int = 200,
    progress: bool = False,
) -> IVFit:
    """Fit ``model`` to the I-V ``sweeps`` (cycles of one device) by least squares on the
    current of memsim's transient.

    Parameters
    ----------
    sweeps : sequence of IVSweep
        The cycles, each driven from the device's fresh ON state (``x0 = 1``).
    model : str or ModelSpec
        ``"vteam"``, ``"threshold"`` or ``"hp"`` (:data:`memsim.measure.models.MODELS`).
    series : bool or float or None
        True: a fitted series resistor (1T1R: the access transistor); a number: a fixed one
        (ohm); None or False: the bare device.
    per_cycle : sequence of str, optional
        The parameters fitted per cycle (default: the model's, ``r_on`` and the threshold);
        the others are shared by all cycles.
    time_per_point : float
        Assumed duration of each measured point, s.
    substeps : int
        RK4 steps per point.
    n_starts : int
        Starting points tried (the model's :attr:`~ModelSpec.starts`); the best fit is kept.
    bootstrap : int
        Resamples of the cycles for bootstrap intervals (0: none).
    seed : int or SeedSequence
        Seeds the bootstrap resampling.
    max_nfev : int
        Iterations allowed per least-squares run.
    progress : bool
        Show a progress bar over the starts and resamples.

    Returns
    -------
    IVFit

    Raises
    ------
    ParameterError
        For no sweeps, an unknown model or per-cycle parameter, bad options, or when no start
        gives a valid fit.

    Examples
    --------
    >>> import memsim.measure as mm
    >>> sweeps = mm.dataset("adamlab_lea_1t1r_rram").reset_cycles()[:2]
    >>> fit = fit_iv(sweeps, "threshold", n_starts=1)
    >>> bool(fit.nrms.max() < 0.05), fit.series_fitted
    (True, True)
    """
    if not sweeps:
        raise ParameterError("sweeps", "need at least one I-V sweep")
    if int(n_starts) != n_starts or n_starts < 1:
        raise ParameterError("n_starts", f"must be an integer >= 1, got {n_starts!r}")
    if int(bootstrap) != bootstrap or bootstrap < 0:
        raise ParameterError("bootstrap", f"must be an integer >= 0, got {bootstrap!r}")
    spec = model_spec(model) if isinstance(model, str) else model
    if per_cycle is not None:
        spec = spec.with_per_cycle(per_cycle)
    if not (math.isfinite(time_per_point) and time_per_point > 0):
        raise ParameterError("time_per_point", f"must be a positive time, got {time_per_point!r}")
    if int(substeps) != substeps or substeps < 1:
        raise ParameterError("substeps", f"must be an integer >= 1, got {substeps!r}")
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):  # small SVDs: threads only contend
        return _fit(spec, sweeps, series, time_per_point, int(substeps), n_starts, bootstrap,
                    seed, max_nfev, progress)


def _fit(spec: ModelSpec, sweeps: Sequence[IVSweep], series: bool | float | None,
         time_per_point: float, substeps: int, n_starts: int, bootstrap: int,
         seed: int | np.random.SeedSequence | None, max_nfev: int, progress: bool) -> IVFit:
    problem = _Problem(spec, sweeps, series, time_per_point, int(substeps))
    start_time = time.perf_counter()
    bar = _progress(progress, n_starts + bootstrap, f"fit {spec.name}")
    # Two stages per start: first with only r_on per cycle (the other per-cycle parameters
    # shared: fewer, better-conditioned unknowns), then everything from there. On synthetic
    # data a one-stage fit missed the optimum from all three starts in one seed of six; the
    # two-stage fit reached it from at least one start in every seed.
    staged = [p.name for p in spec.per_cycle if p.name != "r_on"]
    first = _Problem(spec.with_per_cycle([p.name for p in spec.per_cycle if p.name == "r_on"]),
                     sweeps, series, time_per_point, int(substeps)) if staged else None
    best = None
    for k in range(n_starts):  # every start to convergence: a brief screen misranks them
        values0 = spec.initial(sweeps, k, problem.fit_series, time_per_point)
        if first is not None:
            shared0, per0 = first.decode(first.solve(first.encode(values0), max_nfev).x)
            values0 = {**shared0, **per0}
            problem.n_evaluations += first.n_evaluations
            first.n_evaluations = 0
        sol = problem.solve(problem.encode(values0), max_nfev)
        if best is None or sol.cost < best.cost:
            best = sol
        bar.update()
    assert best is not None
    if not np.isfinite(best.cost) or np.all(best.fun == PENALTY):
        raise ParameterError("model", f"no start gave a valid {spec.name} fit")
    u = best.x
    jac = problem.jacobian(u)
    res = problem.residuals(u)
    n, k_par = res.size, u.size
    ssr = float(res @ res)
    rho = _lag1(res, sweeps)
    inflation = (1 + rho) / (1 - rho) if rho > 0 else 1.0
    cov = inflation * ssr / max(n - k_par, 1) * np.linalg.pinv(jac.T @ jac)
    jac_iv, per_iv = _intervals(problem, u, cov)
    shared, per = problem.decode(u)
    current = problem.measured + res / problem.scale
    split = np.cumsum([s.n_points for s in sweeps])[:-1]
    nrms = np.array([math.sqrt(float(np.mean(r * r))) for r in np.split(res, split)])
    boot = _bootstrap(problem, spec, sweeps, u, series, time_per_point, substeps, bootstrap,
                      seed, max_nfev, bar) if bootstrap else None
    bar.close()
    return IVFit(
        model=spec.name, spec=spec, sweeps=tuple(sweeps), values=shared, per_cycle=per,
        r_series=shared.get("r_series", problem.r_fixed), series_fitted=problem.fit_series,
        jacobian=jac_iv, per_cycle_jacobian=per_iv, nrms=nrms,
        currents=tuple(np.split(current, split)), ssr=ssr, n_points=n, n_params=k_par,
        aic=n * math.log(ssr / n) + 2 * k_par, bic=n * math.log(ssr / n) + k_par * math.log(n),
        inflation=inflation, time_per_point=time_per_point, substeps=int(substeps),
        wall_time=time.perf_counter() - start_time, n_evaluations=problem.n_evaluations,
        bootstrap=boot, n_bootstrap=int(bootstrap), u=u,
    )


def _bootstrap(problem: _Problem, spec: ModelSpec, sweeps: Sequence[IVSweep], u: np.ndarray,
               series: bool | float | None, tpp: float, substeps: int, b: int,
               seed: int | np.random.SeedSequence | None, max_nfev: int, bar: Any
               ) -> dict[str, Interval]:
    """Percentile intervals of the shared parameters over cycles resampled with replacement
    (each refit starts from the full fit's optimum)."""
    rng = np.random.default_rng(seed)
    ns, c = len(problem.shared), len(sweeps)
    draws = []
    for _ in range(b):
        pick = rng.integers(0, c, c)
        sub = _Problem(spec, [sweeps[i] for i in pick], series, tpp, substeps)
        blocks = [u[ns + j * c:ns + (j + 1) * c][pick] for j in range(len(problem.per_cycle))]
        sol = sub.solve(np.concatenate([u[:ns], *blocks]), max_nfev)
        draws.append(sub.decode(sol.x)[0])
        bar.update()
    shared, _ = problem.decode(u)
    out = {}
    for name in problem.shared:
        lo, hi = np.percentile([d[name] for d in draws], [2.5, 97.5])
        out[name] = Interval(shared[name], float(lo), float(hi))
    return out


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(show: bool, total: int, desc: str) -> Any:
    if not show:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="fit")
