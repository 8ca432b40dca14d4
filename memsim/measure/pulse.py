"""Fitting rate laws in pulse units to pulse-number responses, and their noise.

Each ramp (a run of identical pulses) is the deterministic response of a
:class:`~memsim.devices.pulsed.PulseDevice` from its own initial state; the rate law's
parameters are shared by all ramps. The deterministic part is fitted by least squares on the
conductance (open loop: the model is iterated from the ramp's start, it never sees the
measured values in between, so read noise does not bias the rates). Then the noise is taken
apart in bins of conductance from the one-step residuals ``e_k`` (measured state change minus
the model's change from the measured state): write (cycle-to-cycle) noise accumulates in the
state, read noise does not, so

``Var(e) = s_w^2 + 2 s_r^2`` and ``Cov(e_k, e_k+1) = -s_r^2``

give the write noise ``s_w`` and the read noise ``s_r`` per bin (a negative estimate is
reported as 0). Write noise accumulates, so the open-loop residuals of a ramp are strongly
correlated: the Jacobian covariance is inflated by ``(1 + rho) / (1 - rho)`` for their lag-1
autocorrelation ``rho``, as for I-V fits. ``s_w / |mean step|`` is the relative
cycle-to-cycle noise of a pulse, the
quantity :class:`~memsim.devices.nonideal.CycleNoise` ``relative`` models.

Models: ``softbounds`` (gamma = 1), ``powerbounds`` (soft bounds with fitted exponents),
``window`` (constant steps slowed near the bounds, VTEAM-like, fitted exponent).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.optimize import least_squares
from scipy.sparse import lil_matrix

from memsim.devices.pulsed import PulseDevice, pulse_conductance, pulse_response
from memsim.errors import ParameterError
from memsim.measure.iv import Z95, Interval
from memsim.measure.readers import PulseRamp

__all__ = ["PULSE_MODELS", "NoiseBin", "PulseFit", "fit_pulses", "noise_by_conductance"]

PULSE_MODELS = ("softbounds", "powerbounds", "window")
"""The rate laws ``memsim fit`` knows for pulse data."""


@dataclass(frozen=True)
class NoiseBin:
    """Noise of the pulses starting in one conductance bin.

    Attributes
    ----------
    g_low, g_high : float, the bin (data units)
    n : int, one-step residuals in it
    step : float, mean absolute model step (states per pulse)
    write : float, write noise per pulse (states)
    read : float, read noise (data units of conductance)
    relative : float, write / step
    """

    g_low: float
    g_high: float
    n: int
    step: float
    write: float
    read: float
    relative: float


@dataclass(frozen=True)
class PulseFit:
    """The outcome of :func:`fit_pulses`.

    Attributes
    ----------
    model : str
    device : PulseDevice, with the fitted rates and the fitted noise
    ramps : tuple of PulseRamp
    x0 : (R,) fitted initial state of each ramp
    fitted : tuple of arrays, the model's conductance after each pulse of each ramp
    values : dict, the shared parameters; jacobian : dict of Interval (95 %)
    bootstrap : dict of Interval or None (over ramps)
    nrms : float, RMS residual / conductance range of all ramps; nrms_ramp : (R,)
    noise : tuple of NoiseBin
    ssr, n_points, n_params, aic, bic, wall_time
    """

    model: str
    device: PulseDevice
    ramps: tuple[PulseRamp, ...]
    x0: np.ndarray
    fitted: tuple[np.ndarray, ...]
    values: dict[str, float]
    jacobian: dict[str, Interval]
    bootstrap: dict[str, Interval] | None
    nrms: float
    nrms_ramp: np.ndarray
    noise: tuple[NoiseBin, ...]
    ssr: float
    n_points: int
    n_params: int
    aic: float
    bic: float
    wall_time: float

    def table(self) -> str:
        """Parameters with intervals, goodness of fit and the noise by conductance, as text."""
        unit = "1" if self.device.mapping == "linear" else "S"
        lines = [f"pulse model {self.model} ({self.device.mapping} mapping): "
                 f"{len(self.ramps)} ramps, {self.n_points} pulses, {self.n_params} fitted "
                 f"numbers, {self.wall_time:.1f} s",
                 f"  {'parameter':<11}{'value':>11}  {'95% (Jacobian)':>24}  "
                 f"{'95% (bootstrap)':>24}"]
        for n, v in self.values.items():
            j, b = self.jacobian[n], (self.bootstrap or {}).get(n)
            bt = f"[{b.low:.4g}, {b.high:.4g}]" if b else "-"
            lines.append(f"  {n:<11}{v:>11.4g}  {f'[{j.low:.4g}, {j.high:.4g}]':>24}  {bt:>24}")
        lines.append(f"  nRMS {self.nrms:.4f} of the conductance range (ramps: median "
                     f"{np.median(self.nrms_ramp):.4f}, max {self.nrms_ramp.max():.4f}); "
                     f"AIC {self.aic:.1f}, BIC {self.bic:.1f}")
        lines.append(f"  noise by conductance ({unit}): bin, pulses, mean step, write noise "
                     "(states/pulse), read noise, write/step")
        for nb in self.noise:
            lines.append(f"    {nb.g_low:10.4g}..{nb.g_high:<10.4g} {nb.n:6d}  {nb.step:9.3g}  "
                         f"{nb.write:9.3g}  {nb.read:9.3g}  {nb.relative:7.3g}")
        return "\n".join(lines)

    def plot(self, path: str | None = None) -> Any:
        """Measured and fitted conductance against pulse number (every ramp), and the noise."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
        start = 0
        for r, f in zip(self.ramps, self.fitted, strict=True):
            k = np.arange(start, start + r.n_pulses)
            color = "tab:blue" if r.direction > 0 else "tab:red"
            axes[0].plot(k, r.conductance, ".", ms=1.5, color=color, alpha=0.5)
            axes[0].plot(k, f, "-", lw=0.8, color="k")
            start += r.n_pulses
        unit = "" if self.device.mapping == "linear" else " (S)"
        axes[0].set(xlabel="pulse number", ylabel=f"conductance{unit}",
                    title=f"{self.model}: measured (dots: up blue, down red), fitted (lines)")
        mid = [0.5 * (b.g_low + b.g_high) for b in self.noise]
        axes[1].plot(mid, [b.write for b in self.noise], "o-", label="write noise (states)")
        axes[1].plot(mid, [b.step for b in self.noise], "s-", label="mean step (states)")
        axes[1].set(xlabel=f"conductance{unit}", ylabel="per pulse",
                    title="cycle-to-cycle noise by conductance", yscale="log")
        axes[1].legend(fontsize=8)
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=120)
            plt.close(fig)
        return fig


class _PulseProblem:
    def __init__(self, ramps: Sequence[PulseRamp], model: str, mapping: str):
        self.ramps = list(ramps)
        self.model = model
        self.mapping = mapping
        self.names = ["g_min", "g_span", "k_up", "k_down"]
        if model == "powerbounds":
            self.names += ["gamma_up", "gamma_down"]
        elif model == "window":
            self.names += ["p"]
        self.ns = len(self.names)
        allg = np.concatenate([r.conductance for r in self.ramps])
        self.g_lo, self.g_hi = float(allg.min()), float(allg.max())
        self.range = self.g_hi - self.g_lo
        self.measured = allg
        self.n_u = self.ns + len(self.ramps)

    def device(self, u: np.ndarray) -> PulseDevice:
        v = self.shared(u)
        law = "window" if self.model == "window" else "soft_bounds"
        return PulseDevice(g_min=v["g_min"], g_max=v["g_min"] + v["g_span"], k_up=v["k_up"],
                           k_down=v["k_down"], law=law, gamma_up=v.get("gamma_up", 1.0),
                           gamma_down=v.get("gamma_down", 1.0), p=v.get("p", 1.0),
                           mapping=self.mapping)

    def shared(self, u: np.ndarray) -> dict[str, float]:
        out = {}
        for k, n in enumerate(self.names):
            out[n] = float(u[k]) if (n == "g_min" and self.mapping == "linear") else \
                math.exp(min(float(u[k]), 700.0))  # the optimizer may probe far out
        return out

    def start(self) -> np.ndarray:
        span = self.range
        g_min = self.g_lo - 0.1 * span
        if self.mapping == "resistive":
            g_min = max(g_min, 0.5 * self.g_lo)
        u = [g_min if self.mapping == "linear" else math.log(g_min), math.log(1.2 * span)]
        n_mean = np.mean([r.n_pulses for r in self.ramps])
        u += [math.log(1.0 / n_mean), math.log(1.0 / n_mean)]
        u += [0.0, 0.0] if self.model == "powerbounds" else ([0.0] if self.model == "window"
                                                              else [])
        dev = self.device(np.array(u + [0.0] * len(self.ramps)))
        x_first = [float(np.clip(dev.state(r.conductance[0]), 0.02, 0.98)) for r in self.ramps]
        return np.array(u + [math.log(x / (1 - x)) for x in x_first])

    def trajectories(self, u: np.ndarray) -> list[np.ndarray]:
        row = self.device(u).row()
        out = []
        for j, r in enumerate(self.ramps):
            x0 = 1.0 / (1.0 + math.exp(-u[self.ns + j]))
            x = pulse_response(x0, r.direction, r.n_pulses, row, np.zeros(r.n_pulses))
            out.append(pulse_conductance(x, row))
        return out

    def residuals(self, u: np.ndarray) -> np.ndarray:
        try:
            g = np.concatenate(self.trajectories(u))
        except ParameterError:
            return np.full(self.measured.size, 10.0)
        return (g - self.measured) / self.range

    def sparsity(self) -> Any:
        m = lil_matrix((self.measured.size, self.n_u), dtype=int)
        m[:, :self.ns] = 1
        start = 0
        for j, r in enumerate(self.ramps):
            m[start:start + r.n_pulses, self.ns + j] = 1
            start += r.n_pulses
        return m

    def solve(self, u0: np.ndarray) -> Any:
        return least_squares(self.residuals, u0, jac_sparsity=self.sparsity(), method="trf",
                             x_scale="jac", xtol=1e-10, ftol=1e-10, max_nfev=400)


def noise_by_conductance(device: PulseDevice, ramps: Sequence[PulseRamp], bins: int = 6
                         ) -> tuple[NoiseBin, ...]:
    """Write and read noise in ``bins`` conductance bins of equal count (module docstring).

    Raises
    ------
    ParameterError
        For fewer than 2 bins, or fewer than 4 one-step residuals per bin.
    """
    if bins < 2:
        raise ParameterError("bins", f"need at least 2 bins, got {bins!r}")
    row = device.row()
    g0, e, e_next, step = [], [], [], []
    for r in ramps:
        x = device.state(r.conductance)
        model = np.array([x[k] + _step(x[k], r.direction, row) for k in range(x.size - 1)])
        res = x[1:] - model
        g0.append(r.conductance[:-2])
        e.append(res[:-1])
        e_next.append(res[1:])
        step.append(np.abs(model[:-1] - x[:-2]))
    g = np.concatenate(g0)
    e_all, en, st = np.concatenate(e), np.concatenate(e_next), np.concatenate(step)
    if g.size < 4 * bins:
        raise ParameterError("bins", f"{g.size} residuals are too few for {bins} bins")
    edges = np.quantile(g, np.linspace(0, 1, bins + 1))
    out = []
    for k in range(bins):
        sel = (g >= edges[k]) & ((g < edges[k + 1]) if k < bins - 1 else (g <= edges[k + 1]))
        a, b = e_all[sel] - e_all[sel].mean(), en[sel] - en[sel].mean()
        cov1 = float(np.mean(a * b))
        read2 = max(0.0, -cov1)
        write2 = max(0.0, float(np.mean(a * a)) - 2.0 * read2)
        read_g = _read_in_conductance(device, float(np.median(g[sel])), math.sqrt(read2))
        mean_step = float(st[sel].mean())
        out.append(NoiseBin(float(edges[k]), float(edges[k + 1]), int(sel.sum()), mean_step,
                            math.sqrt(write2), read_g,
                            math.sqrt(write2) / mean_step if mean_step > 0 else math.inf))
    return tuple(out)


def _step(x: float, direction: int, row: np.ndarray) -> float:
    from memsim.devices.pulsed import pulse_step

    return float(pulse_step(float(min(max(x, 0.0), 1.0)), direction, row))


def _read_in_conductance(device: PulseDevice, g: float, sd_state: float) -> float:
    """A state noise ``sd_state`` at conductance ``g`` in conductance units (dG/dx at g)."""
    x = float(device.state(g))
    h = 1e-6
    dg = (float(device.conductance(min(x + h, 1.0))) - float(device.conductance(max(x - h, 0.0))))
    return abs(dg) / (min(x + h, 1.0) - max(x - h, 0.0)) * sd_state


def fit_pulses(ramps: Sequence[PulseRamp], model: str = "window", *, bins: int = 6,
               bootstrap: int = 0, seed: int | None = 0) -> PulseFit:
    """Fit a rate law in pulse units to ``ramps`` and measure its noise by conductance.

    Parameters
    ----------
    ramps : sequence of PulseRamp
        Ramps of one device, in any order (each has its own fitted start).
    model : {"softbounds", "powerbounds", "window"}
    bins : int
        Conductance bins of the noise analysis.
    bootstrap : int
        Resamples of the ramps for bootstrap intervals (needs >= 5 ramps; 0: none).
    seed : int
        Seeds the bootstrap.

    Returns
    -------
    PulseFit

    Raises
    ------
    ParameterError
        For an unknown model, no ramps, ramps of one direction only, mixed normalized and
        absolute data, or a bootstrap over fewer than 5 ramps.

    Examples
    --------
    >>> import memsim.measure as mm
    >>> ramps = mm.dataset("aihwkit_gong_hfo2_pulse").pulse_ramps()
    >>> f = fit_pulses(ramps, "softbounds")
    >>> f.device.mapping, bool(f.nrms < 0.1)
    ('linear', True)
    """
    if model not in PULSE_MODELS:
        raise ParameterError("model", f"unknown pulse model {model!r}; use one of "
                             f"{', '.join(PULSE_MODELS)}")
    if not ramps:
        raise ParameterError("ramps", "need at least one ramp")
    if {r.direction for r in ramps} != {1, -1}:
        raise ParameterError("ramps", "need both up and down ramps to fit both rates")
    norm = {r.normalized for r in ramps}
    if len(norm) != 1:
        raise ParameterError("ramps", "mixed normalized and absolute conductances")
    if bootstrap and len(ramps) < 5:
        raise ParameterError("bootstrap", f"a bootstrap over {len(ramps)} ramps means nothing; "
                             "use 0")
    t0 = time.perf_counter()
    problem = _PulseProblem(ramps, model, "linear" if norm.pop() else "resistive")
    sol = problem.solve(problem.start())
    u = sol.x
    res = sol.fun
    n, k = res.size, u.size
    ssr = float(res @ res)
    jac = sol.jac.toarray() if hasattr(sol.jac, "toarray") else np.asarray(sol.jac)
    split = np.cumsum([r.n_pulses for r in ramps])[:-1]
    rho = _lag1(np.split(res, split))
    inflation = (1 + rho) / (1 - rho) if rho > 0 else 1.0
    cov = inflation * ssr / max(n - k, 1) * np.linalg.pinv(jac.T @ jac)
    values = _public(problem.shared(u), problem.mapping)
    jac_iv = _intervals(problem, u, cov)
    boot = _bootstrap(problem, ramps, model, u, bootstrap, seed) if bootstrap else None
    device = problem.device(u)
    noise = noise_by_conductance(device, ramps, bins)
    device = _with_noise(device, noise)
    traj = problem.trajectories(u)
    per = np.array([math.sqrt(float(np.mean(r * r))) for r in np.split(res, split)])
    x0 = 1.0 / (1.0 + np.exp(-u[problem.ns:]))
    return PulseFit(model, device, tuple(ramps), x0, tuple(traj), values, jac_iv, boot,
                    math.sqrt(ssr / n), per, noise, ssr, n, k, n * math.log(ssr / n) + 2 * k,
                    n * math.log(ssr / n) + k * math.log(n), time.perf_counter() - t0)


def _lag1(parts: Sequence[np.ndarray]) -> float:
    """Pooled lag-1 autocorrelation of the residuals within each ramp."""
    num = den = 0.0
    for r in parts:
        r = r - r.mean()
        num += float(r[1:] @ r[:-1])
        den += float(r @ r)
    return num / den if den > 0 else 0.0


def _public(v: dict[str, float], mapping: str) -> dict[str, float]:
    out = dict(v)
    out["g_max"] = out["g_min"] + out.pop("g_span")
    return out


def _intervals(problem: _PulseProblem, u: np.ndarray, cov: np.ndarray) -> dict[str, Interval]:
    out = {}
    for k, n in enumerate(problem.names):
        sd = math.sqrt(max(float(cov[k, k]), 0.0))
        if n == "g_min" and problem.mapping == "linear":
            out[n] = Interval(float(u[k]), float(u[k] - Z95 * sd), float(u[k] + Z95 * sd))
        else:
            with np.errstate(over="ignore"):
                out[n] = Interval(float(np.exp(u[k])), float(np.exp(u[k] - Z95 * sd)),
                                  float(np.exp(u[k] + Z95 * sd)))
    # g_max = g_min + g_span: by the delta method
    i0, i1 = problem.names.index("g_min"), problem.names.index("g_span")
    gmin = u[i0] if problem.mapping == "linear" else math.exp(u[i0])
    grad = np.zeros(u.size)
    grad[i0] = 1.0 if problem.mapping == "linear" else gmin
    grad[i1] = math.exp(u[i1])
    sd = math.sqrt(max(float(grad @ cov @ grad), 0.0))
    g_max = gmin + math.exp(u[i1])
    out["g_max"] = Interval(g_max, g_max - Z95 * sd, g_max + Z95 * sd)
    del out["g_span"]
    return out


def _bootstrap(problem: _PulseProblem, ramps: Sequence[PulseRamp], model: str, u: np.ndarray,
               b: int, seed: int | None) -> dict[str, Interval]:
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(b):
        pick = rng.integers(0, len(ramps), len(ramps))
        sub = [ramps[i] for i in pick]
        if {r.direction for r in sub} != {1, -1}:
            continue
        p = _PulseProblem(sub, model, problem.mapping)
        sol = p.solve(np.concatenate([u[:problem.ns], u[problem.ns:][pick]]))
        draws.append(_public(p.shared(sol.x), problem.mapping))
    values = _public(problem.shared(u), problem.mapping)
    out = {}
    for n in values:
        lo, hi = np.percentile([d[n] for d in draws], [2.5, 97.5])
        out[n] = Interval(values[n], float(lo), float(hi))
    return out


def _with_noise(device: PulseDevice, noise: Sequence[NoiseBin]) -> PulseDevice:
    """The device with its write noise as a line in the state, fitted to the bins (weighted
    by their counts), and its read noise the counts-weighted mean of the bins'."""
    x = np.array([float(device.state(0.5 * (b.g_low + b.g_high))) for b in noise])
    w = np.array([b.n for b in noise], float)
    s = np.array([b.write for b in noise])
    a = np.vstack([np.ones_like(x), x]).T * np.sqrt(w)[:, None]
    coef = np.linalg.lstsq(a, s * np.sqrt(w), rcond=None)[0]
    read = float(np.average([b.read for b in noise], weights=w))
    return replace(device, write_noise=max(float(coef[0]), 0.0),
                   write_noise_slope=float(coef[1]), read_noise=read)
