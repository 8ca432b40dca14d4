"""Tables and figures from a result store: S(P) per grid point, capacity vs size per topology.

The trials of all blocks of a (grid point, P) are pooled into one
:class:`memsim.analyze.capacity.CapacityResult`: S(P) with Wilson 95 % intervals and the
capacity (largest P with S >= 0.5) with its interval, exactly as the capacity analyzer
defines them. The *mean capacity* is the area under S(P) over the loads tried, as in
:func:`memsim.analyze.study.mean_capacity` (it does not jump in steps of one, so it shows
differences the capacity hides; compare it only between points tried on the same loads).
Grid points are grouped into *series* (the x axis of "capacity vs size" is the network size;
everything else is the series): the grid table's ``label``, plus every non-size parameter
that varies among the points of that label.

Size of a network (the x axis): the number of nodes, i.e. the sum of the layer widths of a
layered net, ``n_nodes`` of a random network, ``rows + cols`` terminals of a crossbar.
"""

from __future__ import annotations

import csv
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from memsim.errors import MemsimError
from memsim.sweep.spec import SIZE_KEYS

if TYPE_CHECKING:
    from memsim.analyze.capacity import CapacityResult

__all__ = [
    "PointSummary",
    "export_table",
    "format_table",
    "make_report",
    "summarize",
    "summary_rows",
    "task_rows",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class PointSummary:
    """The pooled results of one grid point.

    Attributes
    ----------
    point : dict
        Canonical parameters of the grid point.
    series : str
        Label of the curve the point belongs to.
    size : int
        Nodes of the network (x axis of capacity vs size).
    size_label : str
        e.g. ``2-8-2`` (layered), ``n=12`` (random), ``4x4`` (crossbar).
    curve : memsim.analyze.capacity.CapacityResult
        S(P) with Wilson intervals and the capacity, from all stored trials of the point.
    """

    point: dict[str, Any]
    series: str
    size: int
    size_label: str
    curve: CapacityResult

    @property
    def P(self) -> np.ndarray:
        return self.curve.P

    @property
    def successes(self) -> np.ndarray:
        return self.curve.successes

    @property
    def trials(self) -> np.ndarray:
        return self.curve.trials

    @property
    def S(self) -> np.ndarray:
        return self.curve.S

    @property
    def low(self) -> np.ndarray:
        return self.curve.low

    @property
    def high(self) -> np.ndarray:
        return self.curve.high

    @property
    def capacity(self) -> int:
        return self.curve.capacity

    @property
    def capacity_low(self) -> int:
        return self.curve.capacity_interval[0]

    @property
    def capacity_high(self) -> int:
        return self.curve.capacity_interval[1]

    @property
    def mean_capacity(self) -> tuple[float, float]:
        """Area under S(P) over the loads tried, and its 95 % half-width
        (:func:`memsim.analyze.study.mean_capacity`)."""
        from memsim.analyze.study import mean_capacity

        return mean_capacity(self.curve)


def _size(point: Mapping[str, Any]) -> tuple[int, str]:
    if point["topology"] == "layered":
        return int(sum(point["sizes"])), "-".join(map(str, point["sizes"]))
    if point["topology"] == "random":
        return int(point["n_nodes"]), (f"n={point['n_nodes']} ({point['n_inputs']} in, "
                                       f"{point['n_outputs']} out)")
    return int(point["rows"] + point["cols"]), f"{point['rows']}x{point['cols']}"


def _flat(point: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in point.items():
        if isinstance(v, dict):
            out.update({f"{k}.{f}": w for f, w in v.items()})
        elif isinstance(v, list):
            out[k] = tuple(v)
        else:
            out[k] = v
    return out


def _series_names(points: Sequence[Mapping[str, Any]]) -> list[str]:
    by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
    flats = [_flat(p) for p in points]
    for f in flats:
        by_label[f["label"]].append(f)
    varying: dict[str, list[str]] = {}
    for label, group in by_label.items():
        keys = sorted({k for f in group for k in f})
        skip = {"label"} | set(SIZE_KEYS.get(group[0]["topology"], ()))
        varying[label] = [k for k in keys if k not in skip
                          and len({repr(f.get(k)) for f in group}) > 1]
    names = []
    for f in flats:
        extra = ", ".join(f"{k.split('.')[-1]}={f.get(k)}" for k in varying[f["label"]])
        names.append(f"{f['label']} ({extra})" if extra else str(f["label"]))
    return names


def summarize(rows: Iterable[Mapping[str, Any]]) -> list[PointSummary]:
    """Pool stored task rows by grid point and P.

    Parameters
    ----------
    rows : iterable of dict
        As :meth:`memsim.sweep.Store.rows` returns them.

    Returns
    -------
    list of PointSummary
        Sorted by series, then size.

    Examples
    --------
    >>> point = {"label": "a", "model": "abstract", "topology": "layered", "sizes": [2, 4, 2]}
    >>> rows = [{"point": point, "P": p, "seed": {"master": 1}, "rep_start": r,
    ...          "metrics": {"outcomes": o}}
    ...         for p, r, o in [(1, 0, [1, 1]), (2, 2, [0, 0]), (2, 0, [1, 0])]]
    >>> [s] = summarize(rows)
    >>> s.P.tolist(), s.successes.tolist(), s.trials.tolist(), s.capacity
    ([1, 2], [2, 1], [2, 4], 1)
    >>> s.curve.outcomes[2].tolist()  # in trial order
    [True, False, False, False]
    """
    from memsim.analyze.capacity import CapacityResult
    from memsim.sweep.spec import canonical_json

    # trial (master seed, r) of a (point, P) counts once, even if two sweeps with different
    # block sizes both ran it (same seeds, same outcome)
    trials: dict[str, dict[int, dict[tuple[int, int], int]]] = defaultdict(
        lambda: defaultdict(dict))
    points: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = canonical_json(row["point"])
        points[key] = row["point"]
        cell = trials[key][int(row["P"])]
        master, start = int(row["seed"]["master"]), int(row["rep_start"])
        for i, outcome in enumerate(row["metrics"]["outcomes"]):
            cell[(master, start + i)] = int(outcome)
    keys = list(points)
    names = _series_names([points[k] for k in keys])
    out = []
    for key, series in zip(keys, names, strict=True):
        outcomes = {p: np.array([cell[t] for t in sorted(cell)], bool)
                    for p, cell in trials[key].items()}
        size, size_label = _size(points[key])
        curve = CapacityResult.from_outcomes(outcomes, label=series)
        out.append(PointSummary(points[key], series, size, size_label, curve))
    out.sort(key=lambda s: (s.series, s.size, s.size_label))
    return out


def summary_rows(summaries: Sequence[PointSummary]) -> list[dict[str, Any]]:
    """One flat row per (grid point, P): series, size, P, successes, trials, S, interval,
    the point's capacity, and its parameters (JSON)."""
    from memsim.sweep.spec import canonical_json

    out = []
    for s in summaries:
        for i, p in enumerate(s.P):
            out.append({
                "series": s.series, "size": s.size, "network": s.size_label, "P": int(p),
                "successes": int(s.successes[i]), "trials": int(s.trials[i]),
                "S": float(s.S[i]), "S_low": float(s.low[i]), "S_high": float(s.high[i]),
                "capacity": s.capacity, "capacity_low": s.capacity_low,
                "capacity_high": s.capacity_high, "params": canonical_json(s.point),
            })
    return out


def task_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Stored task rows flattened for printing or export (JSON fields as text)."""
    from memsim.sweep.spec import canonical_json

    out = []
    for r in rows:
        flat = dict(r)
        flat["network"] = _size(r["point"])[1]
        flat["label"] = r["point"]["label"]
        for k in ("point", "seed", "metrics"):
            flat[k] = canonical_json(r[k])
        out.append(flat)
    return out


def format_table(records: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A plain-text table of ``records`` (floats with 3 significant digits).

    >>> print(format_table([{"a": 1, "b": 0.12345}, {"a": 22, "b": 1.0}], ["a", "b"]))
    a   b
    --  -----
    1   0.123
    22  1
    """
    def cell(v: Any) -> str:
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    text = [[cell(r[c]) for c in columns] for r in records]
    widths = [max([len(c)] + [len(t[i]) for t in text]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(t.ljust(w) for t, w in zip(row, widths, strict=True)) for row in text]
    return "\n".join(line.rstrip() for line in lines)


def export_table(records: Sequence[Mapping[str, Any]], path: str | Path, fmt: str) -> Path:
    """Write ``records`` to ``path`` as ``csv`` or ``parquet`` (parquet needs pyarrow).

    Raises
    ------
    MemsimError
        If ``fmt`` is not csv or parquet, or parquet is asked for without pyarrow installed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = export_table([{"P": 1, "S": 0.5}], pathlib.Path(tempfile.mkdtemp()) / "t.csv",
    ...                    "csv")
    >>> out.read_text().splitlines()
    ['P,S', '1,0.5']
    """
    p = Path(path)
    if fmt == "csv":
        p.parent.mkdir(parents=True, exist_ok=True)
        columns = list(records[0]) if records else []
        with open(p, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(records)
        return p
    if fmt == "parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise MemsimError("parquet export needs pyarrow, which is not installed; "
                              "`pip install 'memsim[parquet]'` (or pyarrow) or use --export "
                              "csv") from None
        p.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(list(records)), p)
        return p
    raise MemsimError(f"unknown export format {fmt!r}; use csv or parquet")


def make_report(summaries: Sequence[PointSummary], out: str | Path) -> list[Path]:
    """Write the report figures and tables to the folder ``out``.

    Files: ``capacity_vs_size.png`` (capacity and mean capacity per series vs network size,
    with intervals),
    ``success_curves.png`` (S(P) with Wilson intervals, one panel per series),
    ``capacity.csv`` and ``success.csv`` (the numbers behind them).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    MemsimError
        If there is nothing to report.
    """
    import matplotlib

    if "matplotlib.pyplot" not in __import__("sys").modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if not summaries:
        raise MemsimError("the store holds no results yet; run `memsim sweep` first")
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    series = sorted({s.series for s in summaries})
    files = []

    fig, (ax, ax_mean) = plt.subplots(1, 2, figsize=(12, 4.6))
    sizes = sorted({s.size for s in summaries})
    span = 0.015 * max(sizes[-1] - sizes[0], 4) / max(len(series) - 1, 1)
    ticks = ["\n".join(sorted({t.size_label for t in summaries if t.size == z}))
             + f"\n({z})" for z in sizes]
    for k, name in enumerate(series):
        pts = sorted((s for s in summaries if s.series == name), key=lambda s: s.size)
        x = np.array([s.size for s in pts], dtype=float)
        y = np.array([s.capacity for s in pts], dtype=float)
        err = np.array([[s.capacity - s.capacity_low for s in pts],
                        [s.capacity_high - s.capacity for s in pts]], dtype=float)
        shift = (k - (len(series) - 1) / 2) * span  # keep overlapping error bars apart
        ax.errorbar(x + shift, y, yerr=err, marker="o", capsize=3, label=name)
        means = np.array([s.mean_capacity for s in pts])
        ax_mean.errorbar(x + shift, means[:, 0], yerr=means[:, 1], marker="o", capsize=3,
                         label=name)
    ax.set(xlabel="network (nodes)", ylabel="capacity (largest P with S >= 0.5)",
           title="Capacity (bars: from the 95 % Wilson bounds of S)")
    ax_mean.set(xlabel="network (nodes)", ylabel="mean capacity: sum of S(P) over P",
                title="Mean capacity (bars: 95 %)")
    for a in (ax, ax_mean):
        a.set_ylim(bottom=-0.2)
        a.grid(alpha=0.3)
        a.set_xticks(sizes, ticks, fontsize=8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    files.append(d / "capacity_vs_size.png")
    fig.savefig(files[-1], dpi=120)
    plt.close(fig)

    ncols = min(3, len(series))
    nrows = -(-len(series) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.6 * nrows), squeeze=False,
                             sharey=True)
    for ax, name in zip(axes.ravel(), series, strict=False):
        for s in sorted((s for s in summaries if s.series == name), key=lambda s: s.size):
            # Wilson bounds at S = 0 or 1 can sit a rounding error on the wrong side of S
            err = np.clip([s.S - s.low, s.high - s.S], 0.0, None)
            ax.errorbar(s.P, s.S, yerr=err, marker="o", ms=3, capsize=2, label=s.size_label)
        ax.axhline(0.5, color="gray", ls=":", lw=1)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(title=name, xlabel="patterns P", ylim=(-0.03, 1.03))
        ax.legend(fontsize=7, title="network", title_fontsize=7)
    for ax in axes[:, 0]:
        ax.set_ylabel("S(P): fraction learned")
    for ax in axes.ravel()[len(series):]:
        ax.set_visible(False)
    fig.suptitle("Success rate S(P) with Wilson 95 % intervals")
    fig.tight_layout()
    files.append(d / "success_curves.png")
    fig.savefig(files[-1], dpi=120)
    plt.close(fig)

    cap = [{"series": s.series, "network": s.size_label, "size": s.size,
            "capacity": s.capacity, "capacity_low": s.capacity_low,
            "capacity_high": s.capacity_high, "mean_capacity": s.mean_capacity[0],
            "mean_capacity_pm": s.mean_capacity[1], "P_tried": " ".join(map(str, s.P)),
            "trials_per_P": int(s.trials.min())}
           for s in summaries]
    files.append(export_table(cap, d / "capacity.csv", "csv"))
    files.append(export_table(summary_rows(summaries), d / "success.csv", "csv"))
    log.info("wrote %d report files to %s", len(files), d)
    return files
