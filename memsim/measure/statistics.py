"""Device-level nonidealities estimated from measured maps, distributions, retention series
and fitted cycles, with their uncertainty.

Each estimate says which numbers the data support and how well:

* **stuck devices** (:func:`stuck_fraction`): the fraction of a map above a stuck-ON threshold
  (Wilson 95 % interval, :func:`memsim.learn.wilson_interval`); stuck-OFF devices the map
  does not show are bounded by the rule of three (``3 / n``).
* **device-to-device spread** (:func:`level_spread`): per programmed level, the log-standard
  deviation of the devices' conductances (zeros, devices the source could not read, are
  counted but excluded).
* **read noise** (:func:`read_noise`): the standard deviation of repeated reads, modelled as
  ``a + b G`` across the levels (absolute and relative parts).
* **retention drift** (:func:`retention_drift`): the exponent ``nu`` of ``G ~ t^-nu`` per level,
  from the log-log slope with its standard error.
* **levels** (:func:`levels_of`): the number and conductances of the programmed levels.
* **cycle-to-cycle variation of switching** (:func:`cycle_noise_from_iv`): the spread over
  cycles of the fitted switching rate at a common device voltage.

:func:`measured_nonidealities` bundles them as a :class:`~memsim.devices.nonideal.Nonidealities`
for the fitted device (in relative terms: see its docstring for why).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from memsim.devices.models import VTEAM, Threshold
from memsim.devices.nonideal import (
    CycleNoise,
    DeviceSpread,
    Levels,
    Nonidealities,
    ReadNoise,
    RetentionDrift,
    StuckFaults,
)
from memsim.errors import ParameterError
from memsim.learn import wilson_interval
from memsim.measure.iv import IVFit
from memsim.measure.readers import ConductanceMap, LevelDistribution, RetentionSeries
from memsim.measure.store import StoredFit

__all__ = [
    "DriftEstimate",
    "LevelSpread",
    "ReadNoiseEstimate",
    "StuckEstimate",
    "cycle_noise_from_iv",
    "level_spread",
    "levels_of",
    "measured_nonidealities",
    "read_noise",
    "retention_drift",
    "stuck_fraction",
]

STUCK_ON_SIEMENS = 300e-6
"""Cell conductance above which a device of the 1T1R map is stuck ON (the source's own
threshold: its figure clamps there and calls the devices above it stuck)."""
FIRST_READ = 60.0
"""Time from programming to the first retention read, s: not in the data; taken as one
sampling interval (the series are read once a minute)."""


@dataclass(frozen=True)
class StuckEstimate:
    """Stuck devices of a map: counts, fractions and 95 % intervals."""

    n: int
    n_on: int
    n_off: int
    p_on: float
    p_on_interval: tuple[float, float]
    p_off: float
    p_off_upper: float
    g_stuck_on: float  # mean conductance of the stuck-ON devices, S


def stuck_fraction(cmap: ConductanceMap, *, on_above: float = STUCK_ON_SIEMENS,
                   off_below: float = 0.0) -> StuckEstimate:
    """Fractions of stuck-ON (``G > on_above``, S) and stuck-OFF (``G <= off_below``) devices.

    >>> import memsim.measure as mm
    >>> s = stuck_fraction(mm.dataset("adamlab_lea_1t1r_rram").conductance_map())
    >>> s.n_on, s.n, round(s.p_on, 4), s.n_off
    (27, 625, 0.0432, 0)
    """
    g = cmap.values.ravel()
    n = g.size
    on = g > on_above
    off = g <= off_below
    p_off = float(off.mean())
    return StuckEstimate(n, int(on.sum()), int(off.sum()), float(on.mean()),
                         wilson_interval(int(on.sum()), n), p_off,
                         wilson_interval(int(off.sum()), n)[1] if off.any() else 3.0 / n,
                         float(g[on].mean()) if on.any() else math.nan)


@dataclass(frozen=True)
class LevelSpread:
    """One level's device-to-device distribution (zeros excluded from the statistics)."""

    label: str
    n: int
    n_zero: int
    mean: float
    std: float
    log_std: float
    low: float
    high: float


def level_spread(levels: Sequence[LevelDistribution]) -> tuple[LevelSpread, ...]:
    """Spread of each level's conductances.

    >>> import memsim.measure as mm
    >>> s = level_spread(mm.dataset("adamlab_lea_1t1r_rram").levels())
    >>> [x.n for x in s], [round(x.log_std, 3) for x in s]
    ([132, 167, 172, 154], [0.066, 0.048, 0.04, 0.046])

    Raises
    ------
    ParameterError
        If a level has fewer than two non-zero values.
    """
    out = []
    for lv in levels:
        v = lv.values[lv.values > 0]
        if v.size < 2:
            raise ParameterError("levels", f"{lv.source}: fewer than two non-zero values")
        out.append(LevelSpread(lv.label, int(lv.values.size), int((lv.values == 0).sum()),
                               float(v.mean()), float(v.std(ddof=1)),
                               float(np.log(v).std(ddof=1)), float(v.min()), float(v.max())))
    return tuple(out)


@dataclass(frozen=True)
class ReadNoiseEstimate:
    """Read noise ``sd = absolute + relative G`` fitted across levels, with the per-level
    medians it was fitted to."""

    absolute: float
    relative: float
    level_g: tuple[float, ...]
    level_sd: tuple[float, ...]


def read_noise(series: Sequence[RetentionSeries]) -> ReadNoiseEstimate:
    """Read noise from the standard deviation of repeated reads at each level: the median
    sd of each series, fitted by ``a + b G`` (least squares; a negative part is set to 0 and
    the other refitted).

    >>> import memsim.measure as mm
    >>> r = read_noise(mm.dataset("adamlab_lea_1t1r_rram").retention())
    >>> round(r.absolute * 1e6, 2), round(r.relative, 4)
    (1.63, 0.0018)

    Raises
    ------
    ParameterError
        For fewer than two series.
    """
    if len(series) < 2:
        raise ParameterError("series", "need the series of at least two levels")
    g = np.array([float(np.median(s.mean)) for s in series])
    sd = np.array([float(np.median(s.std)) for s in series])
    a, b = np.linalg.lstsq(np.vstack([np.ones_like(g), g]).T, sd, rcond=None)[0]
    if a < 0:
        a, b = 0.0, float(g @ sd / (g @ g))
    elif b < 0:
        a, b = float(sd.mean()), 0.0
    return ReadNoiseEstimate(float(a), float(b), tuple(g), tuple(sd))


@dataclass(frozen=True)
class DriftEstimate:
    """Drift exponents per level (``G ~ t^-nu``) with standard errors, and their summary."""

    nu: tuple[float, ...]
    nu_se: tuple[float, ...]
    nu_mean: float
    nu_sd: float
    span: float  # s, the longest series


def retention_drift(series: Sequence[RetentionSeries], *, first_read: float = FIRST_READ
                    ) -> DriftEstimate:
    """The drift exponent of each series from the slope of ``log G`` against ``log t``, with
    ``t`` counted from programming (the first read ``first_read`` seconds after it).

    >>> import memsim.measure as mm
    >>> d = retention_drift(mm.dataset("adamlab_lea_1t1r_rram").retention())
    >>> [round(v, 4) for v in d.nu]
    [-0.0003, 0.0014, -0.0007, -0.0007]
    """
    if not series:
        raise ParameterError("series", "need at least one retention series")
    nu, se = [], []
    for s in series:
        lt = np.log(s.time + first_read)
        lg = np.log(s.mean)
        a = np.vstack([np.ones_like(lt), lt]).T
        coef, res, *_ = np.linalg.lstsq(a, lg, rcond=None)
        dof = max(lt.size - 2, 1)
        s2 = float(res[0]) / dof if res.size else 0.0
        cov = s2 * np.linalg.inv(a.T @ a)
        nu.append(-float(coef[1]))
        se.append(math.sqrt(float(cov[1, 1])))
    arr = np.array(nu)
    return DriftEstimate(tuple(nu), tuple(se), float(arr.mean()),
                         float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
                         float(max(s.time[-1] for s in series) + first_read))


def levels_of(series: Sequence[RetentionSeries]) -> tuple[float, ...]:
    """The programmed levels: the median conductance of each series, S, ascending."""
    return tuple(sorted(float(np.median(s.mean)) for s in series))


def cycle_noise_from_iv(fit: IVFit | StoredFit) -> float:
    """Cycle-to-cycle variation of switching from an I-V fit with a per-cycle threshold: the
    standard deviation over cycles of the log of the fitted switching rate, each cycle's rate
    taken at the same device voltage (twice the largest fitted threshold, where every cycle
    switches). memsim's definition; it is the ``relative`` of a :class:`CycleNoise` (the
    spread of the state change of one write). It depends on the model's rate law: on the
    1T1R cycles 0.09 with the threshold model and 0.26 with VTEAM.

    >>> import memsim.measure as mm
    >>> round(cycle_noise_from_iv(mm.load_iv_fit("lea_1t1r_threshold")), 3)
    0.089

    Raises
    ------
    ParameterError
        If the fit has no per-cycle threshold (VTEAM ``v_off`` or threshold ``v_t``).
    """
    dev = fit.device()
    if isinstance(dev, VTEAM) and "v_off" in fit.per_cycle:
        vt = np.asarray(fit.per_cycle["v_off"])
        rate = np.log(2.0 * float(vt.max()) / vt - 1.0) * dev.alpha_off
    elif isinstance(dev, Threshold) and "v_t" in fit.per_cycle:
        vt = np.asarray(fit.per_cycle["v_t"])
        rate = np.log(2.0 * float(vt.max()) - vt)
    else:
        raise ParameterError("fit", f"the {type(dev).__name__} fit has no per-cycle threshold")
    return float(np.std(rate, ddof=1)) if rate.size > 1 else 0.0


def measured_nonidealities(cmap: ConductanceMap, levels: Sequence[LevelDistribution],
                           series: Sequence[RetentionSeries],
                           fit: IVFit | StoredFit | None = None, *,
                           source: str = "") -> Nonidealities:
    """The nonidealities of a measured device, for networks of its memristor.

    The map, the distributions and the retention series give cell conductances read under
    other conditions than the I-V sweeps: the map's stuck-ON cells (mean 718 uS) conduct more
    than the fitted series resistor of the sweeps alone allows (1/1.4-2 kohm), so the cell
    conductances cannot be turned into the memristor's own by taking off that resistor.
    The nonidealities are therefore carried over in relative terms, onto the fitted device's
    window:

    * spread: the median log-sd of the levels, on R_on and R_off;
    * stuck: the map's stuck-ON fraction, at the device's R_on (its most conductive state;
      the stuck cells conduct 3x more than the highest level); stuck-OFF: none;
    * read noise: relative, the fitted sd at the middle level over that level;
    * levels: as many as the retention series, evenly spaced in conductance over the device's
      window (the measured targets are evenly spaced);
    * drift: the mean exponent over the levels and its spread;
    * cycle-to-cycle: from the fit's per-cycle thresholds (:func:`cycle_noise_from_iv`),
      none without a fit.

    >>> import memsim.measure as mm
    >>> d = mm.dataset("adamlab_lea_1t1r_rram")
    >>> n = measured_nonidealities(d.conductance_map(), d.levels(), d.retention())
    >>> n.levels.n, round(n.stuck.p_on, 4), round(n.read.relative, 4)
    (4, 0.0432, 0.0098)
    """
    stuck = stuck_fraction(cmap)
    spread = level_spread(levels)
    rn = read_noise(series)
    drift = retention_drift(series)
    lv = levels_of(series)
    mid = lv[len(lv) // 2]
    return Nonidealities(
        spread=DeviceSpread(r_sigma=float(np.median([s.log_std for s in spread]))),
        cycle=CycleNoise(relative=cycle_noise_from_iv(fit) if fit is not None else 0.0),
        stuck=StuckFaults(p_on=stuck.p_on),
        read=ReadNoise(relative=(rn.absolute + rn.relative * mid) / mid),
        levels=Levels(n=len(lv)),
        drift=RetentionDrift(nu=drift.nu_mean, nu_sigma=drift.nu_sd, t0=FIRST_READ),
        source=source,
    )
