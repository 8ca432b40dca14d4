"""The co-design study of ``notebooks/03_codesign.ipynb``: three experiments on searches.

(a) :func:`compare_designs` — the best design a search found (per method) against the fully
    connected default, the calibrated protocol and the abstract model, all re-evaluated on
    the same fresh seeds with many trials (:mod:`memsim.search.fresh`);
(b) :func:`capacity_vs_size` and :func:`fit_scaling` — mean capacity of ``[w/2, w, w/2]``
    nets against the hidden width ``w``, as a fraction of the most one-hot patterns they can
    hold (``w/2``), with exponential and power-law fits and their intervals: does the seed
    paper's "performance decreases exponentially as the network size increases" hold?
(c) :func:`power_front` — the Pareto front of the power search (era 1 of the alternating task
    learned vs read power falling) on ``paper_2x4x2``, its designs re-evaluated on fresh
    seeds with Wilson intervals.

Settings: :data:`SETTINGS` holds ``"small"`` (what CI runs: tiny searches, seconds to
minutes) and ``"full"`` (the shipped search files at their budgets, and re-evaluations with
R = 200). The searches run through :func:`memsim.search.run_search`, so an interrupted study
resumes from its stores.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from memsim.errors import ParameterError
from memsim.resources import data_path
from memsim.search.design import reference_points
from memsim.search.engine import REFERENCE, SearchSummary, run_search
from memsim.search.fresh import reevaluate
from memsim.search.space import SearchSpec, load_search

__all__ = ["SETTINGS", "CodesignSettings", "best_rows", "capacity_vs_size", "compare_designs",
           "fit_scaling", "power_front", "run_searches", "scaled_point"]

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class CodesignSettings:
    """Sizes of the study.

    Attributes
    ----------
    searches : search files of (a) (names in ``searches/``)
    power : search file of (c)
    budget, repetitions : override the files' budget and R (None: as in the files)
    fresh : trials per load of the re-evaluations
    widths : hidden widths of (b)
    width_repetitions : trials per load in (b)
    workers : local Dask workers
    seed : root of the fresh seeds
    """

    searches: tuple[str, ...]
    power: str
    budget: int | None
    repetitions: int | None
    fresh: int
    widths: tuple[int, ...]
    width_repetitions: int
    workers: int = 2
    seed: int = 2027


SETTINGS: dict[str, CodesignSettings] = {
    "small": CodesignSettings(searches=("codesign_small",), power="power_2x4x2", budget=3,
                              repetitions=4, fresh=10, widths=(4, 6, 8),
                              width_repetitions=8),
    "full": CodesignSettings(searches=("codesign_8x8", "codesign_16x16"), power="power_2x4x2",
                             budget=None, repetitions=None, fresh=200,
                             widths=(4, 8, 12, 16, 24, 32), width_repetitions=100),
}


def _spec(name: str, settings: CodesignSettings) -> SearchSpec:
    spec = load_search(data_path("searches", name))
    if settings.budget is not None:
        spec = spec.with_budget(settings.budget)
    if settings.repetitions is not None and spec.objectives[0] == "mean_capacity":
        spec = spec.with_settings(repetitions=settings.repetitions)
    return spec


def run_searches(settings: CodesignSettings, store_dir: str | Path, *, client: Any = None,
                 progress: bool = False) -> dict[str, tuple[SearchSpec, Path, SearchSummary]]:
    """Run (or resume) the study's searches, one store each in ``store_dir``.

    With ``client`` the searches use that cluster's scheduler; otherwise a local cluster
    of ``settings.workers`` each.
    """
    out = {}
    for name in (*settings.searches, settings.power):
        spec = _spec(name, settings)
        if settings.budget is not None and name == settings.power:
            spec = spec.with_settings(repetitions=min(spec.settings.repetitions, 20))
        store = Path(store_dir) / f"{spec.name}.sqlite"
        scheduler = None if client is None else client.scheduler.address
        summary = run_search(spec, store, scheduler=scheduler,
                             workers=None if client is not None else settings.workers,
                             progress=progress)
        out[name] = (spec, store, summary)
    return out


def best_rows(store: str | Path, spec: SearchSpec) -> dict[str, dict[str, Any]]:
    """Each method's best evaluation (first objective) within the spec's budget."""
    from memsim.search.report import load_evaluations

    _, by_method = load_evaluations(store, spec.name)
    out = {}
    for m in spec.methods:
        ok = [r for r in by_method.get(m, []) if r["objectives"] is not None
              and r["idx"] < spec.budget]
        if ok:
            out[m] = max(ok, key=lambda r: (float(r["objectives"][0]), -r["idx"]))
    return out


def compare_designs(spec: SearchSpec, store: str | Path, *, repetitions: int, seed: int,
                    client: Any = None) -> dict[str, dict[str, Any]]:
    """(a): the best BO and random-search designs and the references, re-evaluated with
    ``repetitions`` trials per load on one fresh seed. Label -> evaluation result."""
    points = {f"best {m}": r["point"] for m, r in best_rows(store, spec).items()}
    points.update(reference_points(spec))
    return reevaluate(spec, points, repetitions=repetitions, seed=seed, client=client)


def scaled_point(spec: SearchSpec, point: Mapping[str, Any], width: int) -> dict[str, Any]:
    """``point`` on a ``[w/2, w, w/2]`` net (the terminals and hidden widths scaled, every
    other design value kept): how a design found at one size does at others."""
    p = dict(point)
    n = width // 2
    depth = len(p["sizes"]) - 2
    p["sizes"] = [n] + [int(width)] * depth + [n]
    return p


def capacity_vs_size(spec: SearchSpec, points: Mapping[str, Mapping[str, Any]],
                     widths: Sequence[int], *, repetitions: int, seed: int,
                     client: Any = None) -> dict[str, dict[int, dict[str, Any]]]:
    """(b): mean capacity of each design of ``points`` (label -> point at any size) scaled to
    ``[w/2, w, w/2]`` for every width (loads 1 .. w/2). Label -> width -> metrics."""
    out: dict[str, dict[int, dict[str, Any]]] = {label: {} for label in points}
    for w in widths:
        if w < 2 or w % 2:
            raise ParameterError("widths", f"widths must be even and >= 2, got {w}")
        sized = spec.with_settings(inputs=w // 2, outputs=w // 2,
                                   loads=tuple(range(1, w // 2 + 1)))
        scaled = {label: scaled_point(sized, p, w) for label, p in points.items()}
        res = reevaluate(sized, scaled, repetitions=repetitions, seed=seed, client=client)
        for label, r in res.items():
            out[label][w] = r["metrics"]
    return out


def fit_scaling(x: Sequence[float], y: Sequence[float], err: Sequence[float], *,
                floor: float | Sequence[float] = 0.0) -> dict[str, dict[str, float]]:
    """Weighted fits of a performance ``y`` (with 95 % half-widths ``err``) against size
    ``x``: exponential ``y = A exp(-x / scale)`` and power law ``y = A x^(-alpha)``, both as
    straight lines in ``log y`` (weights from ``err / y``; points with ``y <= 0`` are left
    out). Returns per model: the parameters, their 95 % intervals (Student t, the
    covariance scaled by the reduced chi^2 when it exceeds 1), chi^2 and degrees of freedom.
    ``floor``: errors below it are raised to it (a success rate of exactly 0 or 1 has no
    binomial spread, yet it is known only to its resolution).

    Raises
    ------
    ParameterError
        With fewer than three usable points.

    Examples
    --------
    >>> x = np.array([4.0, 8, 16, 32])
    >>> fits = fit_scaling(x, 0.9 * np.exp(-x / 10), np.full(4, 0.01))
    >>> round(fits["exponential"]["scale"], 6), fits["exponential"]["chi2"] < 1e-12
    (10.0, True)
    """
    from scipy import stats

    xa, ya, ea = (np.asarray(v, float) for v in (x, y, err))
    ea = np.maximum(ea, np.broadcast_to(np.asarray(floor, float), ea.shape))
    use = (ya > 0) & np.isfinite(ya) & (ea > 0)
    if use.sum() < 3:
        raise ParameterError("y", f"need >= 3 sizes with a positive value to fit, got "
                             f"{int(use.sum())}")
    xs, ly, sl = xa[use], np.log(ya[use]), (ea[use] / 1.96) / ya[use]
    out = {}
    for model, feature in (("exponential", xs), ("power_law", np.log(xs))):
        a = np.column_stack([np.ones_like(feature), feature])
        w = 1.0 / sl**2
        cov = np.linalg.inv(a.T @ (a * w[:, None]))
        beta = cov @ (a.T @ (w * ly))
        resid = ly - a @ beta
        chi2 = float(np.sum(w * resid**2))
        dof = len(ly) - 2
        scale = max(1.0, chi2 / dof) if dof > 0 else 1.0
        t = float(stats.t.ppf(0.975, max(dof, 1)))
        se = np.sqrt(np.diag(cov) * scale)
        lo, hi = beta - t * se, beta + t * se
        res = {"A": float(np.exp(beta[0])), "A_low": float(np.exp(lo[0])),
               "A_high": float(np.exp(hi[0])), "chi2": chi2, "dof": float(dof)}
        if model == "exponential":
            slope = -beta[1]  # 1 / scale
            res.update(scale=float(1 / slope) if slope > 0 else math.inf,
                       rate=float(slope), rate_low=float(-hi[1]), rate_high=float(-lo[1]))
        else:
            res.update(alpha=float(-beta[1]), alpha_low=float(-hi[1]),
                       alpha_high=float(-lo[1]))
        out[model] = res
    return out


def power_front(spec: SearchSpec, store: str | Path, *, repetitions: int, seed: int,
                client: Any = None) -> list[dict[str, Any]]:
    """(c): the designs on the Pareto front of the power search (both fractions maximized),
    plus the references, re-evaluated on fresh seeds; each with the two fractions, their
    Wilson 95 % intervals and whether it meets the seed paper's claim (era 1 in >= 90 % of
    runs and read power falling in more than half)."""
    from memsim.learn import wilson_interval
    from memsim.search.report import load_evaluations, pareto_front

    _, by_method = load_evaluations(store, spec.name)
    rows, seen = [], set()
    for m in spec.methods:
        for r in by_method.get(m, []):
            if r["objectives"] is not None and r["key"] not in seen and r["idx"] < spec.budget:
                seen.add(r["key"])
                rows.append(r)
    if not rows:
        return []
    vals = np.array([[float(r["objectives"][0]), float(r["objectives"][1])] for r in rows])
    front = pareto_front(vals, ["max", "max"])
    points = {f"{rows[i]['method']} {rows[i]['idx']}": rows[i]["point"] for i in front}
    points.update({f"{REFERENCE} {k}": p for k, p in reference_points(spec).items()})
    res = reevaluate(spec, points, repetitions=repetitions, seed=seed, client=client)
    out = []
    for label, r in res.items():
        m = r["metrics"]
        n = len(m["era1_outcomes"])
        e_lo, e_hi = wilson_interval(sum(m["era1_outcomes"]), n)
        p_lo, p_hi = wilson_interval(sum(m["power_outcomes"]), n)
        out.append({"design": label, "era1": m["era1"], "era1_low": e_lo, "era1_high": e_hi,
                    "power_falls": m["power_falls"], "power_low": p_lo, "power_high": p_hi,
                    "power_ratio_median": m["power_ratio_median"],
                    "claim": bool(m["era1"] >= 0.9 and m["power_falls"] > 0.5),
                    "learning": m["learning"]})
    return out
