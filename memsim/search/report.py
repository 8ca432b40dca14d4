"""Tables and figures of a search: best so far, parameter importance, Pareto front, S(P).

* *Best so far*: the best first objective among designs ``0 .. n`` of a method, against ``n``
  (the evaluations spent), for BO and random search on one axis.
* *Parameter importance*: a random forest fitted to every successful evaluation of the
  search (design parameters -> first objective; numbers as they are, log ranges in log10,
  choices one-hot), then each parameter's columns permuted together: the mean loss of R^2 is
  its importance (permutation importance, grouped by parameter; the spread is over
  permutations). It says what the objective depends on *within the space searched*.
* *Pareto front*: the designs no other design beats in both objectives (the second objective
  of the search, or the device count for a single-objective search).
* *S(P)*: the success curve of each method's best design (from its own evaluation: chosen
  as the best of many noisy evaluations it is biased upwards; re-evaluate it on fresh seeds,
  as ``benchmarks/bench_codesign.py`` does) against the references
  (:func:`memsim.search.design.reference_points`), with Wilson 95 % intervals.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from memsim.errors import MemsimError
from memsim.search.engine import REFERENCE
from memsim.search.kinds import objective_kind
from memsim.search.space import SearchSpec
from memsim.search.store import SearchStore
from memsim.sweep.report import export_table, format_table

__all__ = ["best_so_far", "importance", "load_evaluations", "pareto_front", "search_report",
           "success_curve"]

log = logging.getLogger(__name__)


def best_so_far(rows: Sequence[Mapping[str, Any]], objective: str = "mean_capacity", *,
                kind: str = "capacity") -> np.ndarray:
    """Best value of the first objective among the first ``n`` evaluations, n = 1, 2, ...
    (NaN until one succeeds), from rows in index order; ``objective`` (of the objective
    ``kind``) says whether best is the largest or the smallest.

    >>> best_so_far([{"objectives": [1.0]}, {"objectives": None}, {"objectives": [3.0]},
    ...              {"objectives": [2.0]}]).tolist()
    [1.0, 1.0, 3.0, 3.0]
    """
    sign = objective_kind(kind).direction(objective)
    out = np.full(len(rows), np.nan)
    best = -math.inf
    for k, r in enumerate(rows):
        if r["objectives"] is not None:
            best = max(best, sign * float(r["objectives"][0]))
        if best > -math.inf:
            out[k] = sign * best
    return out


def pareto_front(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """Indices of the non-dominated rows of ``values`` (N, 2), each column maximized
    (``"max"``) or minimized (``"min"``), sorted by the first column.

    >>> pareto_front(np.array([[1.0, 5.0], [2.0, 9.0], [3.0, 9.5], [2.5, 20.0]]),
    ...              ["max", "min"]).tolist()
    [0, 1, 2]
    """
    v = np.asarray(values, float) * np.array([1.0 if d == "max" else -1.0 for d in directions])
    keep = []
    for i in range(len(v)):
        dominated = np.any(np.all(v >= v[i], axis=1) & np.any(v > v[i], axis=1))
        if not dominated and np.all(np.isfinite(v[i])):
            keep.append(i)
    return np.array(sorted(keep, key=lambda i: (values[i][0], i)), dtype=int)


def _features(spec: SearchSpec, rows: Sequence[Mapping[str, Any]]
              ) -> tuple[np.ndarray, list[str], list[list[int]]]:
    columns: list[list[float]] = []
    names: list[str] = []
    groups: list[list[int]] = []
    for p in spec.searched:
        vals = [r["config"][p.name] for r in rows]
        if p.kind == "choice":
            enc = [p.encode(c) for c in p.choices]
            idx = []
            for c in enc:
                columns.append([float(v == c) for v in vals])
                idx.append(len(columns) - 1)
            groups.append(idx)
        else:
            x = np.asarray(vals, float)
            columns.append(list(np.log10(x) if p.log else x))
            groups.append([len(columns) - 1])
        names.append(p.name)
    return np.array(columns, float).T, names, groups


def importance(spec: SearchSpec, rows: Sequence[Mapping[str, Any]], *, repeats: int = 20,
               seed: int = 0) -> list[dict[str, Any]]:
    """Grouped permutation importance of the searched parameters for the first objective
    (see the module docstring), largest first.

    Raises
    ------
    MemsimError
        If scikit-learn is missing, or fewer than 5 evaluations succeeded.
    """
    try:
        from sklearn.ensemble import RandomForestRegressor
    except ImportError:
        raise MemsimError("parameter importance needs scikit-learn; `pip install "
                          "'memsim[search]'`") from None
    ok = [r for r in rows if r["objectives"] is not None]
    if len(ok) < 5:
        raise MemsimError(f"parameter importance needs at least 5 successful evaluations, "
                          f"the store has {len(ok)}")
    x, names, groups = _features(spec, ok)
    y = np.array([float(r["objectives"][0]) for r in ok])
    model = RandomForestRegressor(n_estimators=300, min_samples_leaf=2, random_state=seed)
    model.fit(x, y)
    base = model.score(x, y)
    rng = np.random.default_rng(seed)
    out = []
    for name, cols in zip(names, groups, strict=True):
        drops = []
        for _ in range(repeats):
            xp = x.copy()
            xp[:, cols] = x[rng.permutation(len(x))][:, cols]
            drops.append(base - model.score(xp, y))
        out.append({"parameter": name, "importance": float(np.mean(drops)),
                    "spread": float(np.std(drops))})
    return sorted(out, key=lambda d: -d["importance"])


def success_curve(row: Mapping[str, Any]) -> Any:
    """The :class:`memsim.analyze.capacity.CapacityResult` of a capacity evaluation."""
    from memsim.analyze.capacity import CapacityResult

    outcomes = {int(p): np.array(o, bool) for p, o in row["metrics"]["outcomes"].items()}
    return CapacityResult.from_outcomes(outcomes, label=row["point"]["label"])


def load_evaluations(store: str | Path, search: str | None = None
                     ) -> tuple[SearchSpec, dict[str, list[dict[str, Any]]]]:
    """The spec of a stored search and its evaluations by method (in index order).

    Raises
    ------
    StoreError
        If the store holds no search.
    MemsimError
        If ``search`` is not in the store, or the store holds several and none is named.
    """
    from memsim.search.space import parse_spec_dict

    with SearchStore.open_readonly(store) as db:
        searches = db.searches()
        names = [s["name"] for s in searches]
        if search is None and len(names) > 1:
            raise MemsimError(f"{store} holds several searches ({', '.join(names)}); "
                              "choose one with --search NAME")
        name = names[0] if search is None else search
        if name not in names:
            raise MemsimError(f"{store} holds no search {name!r}; it has {', '.join(names)}")
        spec = parse_spec_dict(next(s["spec"] for s in searches if s["name"] == name))
        rows = db.evaluations(name)
    by_method: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_method.setdefault(r["method"], []).append(r)
    return spec, by_method


def _best(spec: SearchSpec, rows: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    ok = [r for r in rows if r["objectives"] is not None and r["idx"] < spec.budget]
    if not ok:
        return None
    sign = spec.direction(spec.objectives[0])
    return max(ok, key=lambda r: (sign * float(r["objectives"][0]), -r["idx"]))


def _design_text(spec: SearchSpec, row: Mapping[str, Any]) -> str:
    values = spec.values(row["config"])
    return ", ".join(f"{k}={_short(v)}" for k, v in values.items()
                     if any(p.name == k and p.searched for p in spec.params))


def _short(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def search_report(store: str | Path, out: str | Path, *, search: str | None = None
                  ) -> tuple[str, list[Path]]:
    """Write the report of a search to the folder ``out``; return its text and the files.

    Files: ``best_so_far.png``, ``pareto.png``, ``success_curves.png`` (capacity searches),
    ``importance.png`` (with enough evaluations), and ``evaluations.csv``, ``pareto.csv``,
    ``importance.csv``.

    Raises
    ------
    StoreError, MemsimError
        As :func:`load_evaluations`; MemsimError if the search has no evaluation yet.
    """
    import matplotlib

    if "matplotlib.pyplot" not in __import__("sys").modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec, by_method = load_evaluations(store, search)
    methods = [m for m in spec.methods if by_method.get(m)]
    if not methods:
        raise MemsimError(f"search {spec.name!r} has no evaluation yet; run `memsim search`")
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    first = spec.objectives[0]
    kind = spec.objective_kind
    objectives = kind.objectives
    refs = {r["config"]["reference"]: r for r in by_method.get(REFERENCE, [])}
    lines = [f"search {spec.name!r}: {kind.describe(spec)}, budget {spec.budget}"]

    # best so far
    fig, ax = plt.subplots(figsize=(6, 4))
    table = []
    for m in methods:
        rows = [r for r in by_method[m] if r["idx"] < spec.budget]
        curve = best_so_far(rows, first, kind=spec.kind)
        ax.step(np.arange(1, len(curve) + 1), curve, where="post", label=m)
        best = _best(spec, rows)
        if best is not None:
            err = best["metrics"].get(f"{first}_err")
            table.append({"method": m, "evaluations": len(rows), f"best {first}":
                          float(best["objectives"][0]), "+-": "" if err is None else
                          f"{err:.2f}", "design": f"{best['idx']}: "
                          + _design_text(spec, best)})
    for name, r in refs.items():
        if r["objectives"] is not None:
            ax.axhline(float(r["objectives"][0]), ls=":", lw=1, color="gray")
            ax.annotate(f"reference {name}", (1, float(r["objectives"][0])), fontsize=7,
                        va="bottom", color="gray")
            err = r["metrics"].get(f"{first}_err")
            table.append({"method": f"reference {name}", "evaluations": 1,
                          f"best {first}": float(r["objectives"][0]),
                          "+-": "" if err is None else f"{err:.2f}",
                          "design": r["point"]["label"]})
    ax.set(xlabel="evaluations", ylabel=f"best {first} so far",
           title=f"{spec.name}: best so far ({objectives[first][1]})")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    files.append(d / "best_so_far.png")
    fig.savefig(files[-1], dpi=120)
    plt.close(fig)
    if table:
        lines += ["", format_table(table, list(table[0]))]

    all_rows = [r for m in methods for r in by_method[m] if r["idx"] < spec.budget]
    # importance
    try:
        imp = importance(spec, all_rows)
    except MemsimError as exc:
        lines += ["", f"parameter importance: not available ({exc})"]
    else:
        files.append(export_table(imp, d / "importance.csv", "csv"))
        fig, ax = plt.subplots(figsize=(6, 0.4 * len(imp) + 1.2))
        ax.barh([i["parameter"] for i in imp][::-1], [i["importance"] for i in imp][::-1],
                xerr=[i["spread"] for i in imp][::-1], capsize=3)
        ax.set(xlabel="loss of R^2 when permuted", title=f"parameter importance for {first}")
        fig.tight_layout()
        files.append(d / "importance.png")
        fig.savefig(files[-1], dpi=120)
        plt.close(fig)
        lines += ["", "parameter importance (random forest, permutation):",
                  format_table(imp, ["parameter", "importance", "spread"])]

    # Pareto front
    second = spec.objectives[1] if len(spec.objectives) > 1 else "devices"
    seen: set[str] = set()
    ok = []
    for r in all_rows:  # a design both methods evaluated (the shared start) counts once
        if r["objectives"] is not None and r["key"] not in seen:
            seen.add(r["key"])
            ok.append(r)
    if ok and second in objectives and all(r["metrics"].get(second) is not None for r in ok):
        vals = np.array([[float(r["objectives"][0]), float(r["metrics"][second])] for r in ok])
        front = pareto_front(vals, [objectives[first][0], objectives[second][0]])
        fig, ax = plt.subplots(figsize=(6, 4))
        for m in methods:
            sel = [i for i, r in enumerate(ok) if r["method"] == m]
            ax.scatter(vals[sel, 1], vals[sel, 0], s=14, alpha=0.6, label=m)
        ax.plot(vals[front, 1], vals[front, 0], "k.-", lw=1, label="Pareto front")
        for name, r in refs.items():
            if r["objectives"] is not None and second in r["metrics"] and \
                    r["metrics"][second] is not None:
                ax.scatter([r["metrics"][second]], [r["objectives"][0]], marker="*", s=80,
                           label=f"reference {name}")
        ax.set(xlabel=second, ylabel=first, title=f"{spec.name}: {first} vs {second}")
        if second in ("devices", "energy_per_pattern"):
            ax.set_xscale("log")
        ax.legend(fontsize=7)
        fig.tight_layout()
        files.append(d / "pareto.png")
        fig.savefig(files[-1], dpi=120)
        plt.close(fig)
        pareto = [{"method": ok[i]["method"], "design": ok[i]["idx"], first: vals[i, 0],
                   second: vals[i, 1], "values": _design_text(spec, ok[i])} for i in front]
        files.append(export_table(pareto, d / "pareto.csv", "csv"))
        lines += ["", f"Pareto front ({first} {objectives[first][0]}, {second} "
                  f"{objectives[second][0]}):", format_table(pareto, list(pareto[0]))]

    # S(P) of the best designs against the references
    if spec.kind == "capacity" and first == "mean_capacity":
        fig, ax = plt.subplots(figsize=(6, 4))
        curves: list[tuple[str, Mapping[str, Any]]] = [
            (f"best {m} (design {b['idx']})", b) for m in methods
            if (b := _best(spec, by_method[m])) is not None]
        curves += [(f"reference {n}", r) for n, r in refs.items() if r["objectives"]]
        for k, (label, row) in enumerate(curves):
            c = success_curve(row)
            shift = (k - (len(curves) - 1) / 2) * 0.06
            err = np.clip([c.S - c.low, c.high - c.S], 0, None)
            ax.errorbar(c.P + shift, c.S, yerr=err, marker="o", ms=3, capsize=2, label=label)
        ax.axhline(0.5, color="gray", ls=":", lw=1)
        ax.set(xlabel="patterns P", ylabel="S(P)", ylim=(-0.03, 1.03),
               title=f"{spec.name}: S(P), Wilson 95 % (R = {spec.settings.repetitions})")
        ax.legend(fontsize=7)
        fig.tight_layout()
        files.append(d / "success_curves.png")
        fig.savefig(files[-1], dpi=120)
        plt.close(fig)

    flat = [{"method": r["method"], "idx": r["idx"], "status": r["status"],
             **{n: (r["objectives"][i] if r["objectives"] else None)
                for i, n in enumerate(spec.objectives)},
             "design": _design_text(spec, r) if r["method"] != REFERENCE else
             r["point"]["label"], "wall_time": r["wall_time"], "reused": r["reused"],
             "worker": r["worker"]} for m in by_method for r in by_method[m]]
    files.append(export_table(flat, d / "evaluations.csv", "csv"))
    log.info("wrote %d search report files to %s", len(files), d)
    return "\n".join(lines), files
