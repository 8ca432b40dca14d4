"""Readers of measured device data: I-V sweeps, pulse responses, retention series, maps.

Every reader checks its file strictly and raises :class:`~memsim.errors.MeasurementError`
naming the file, the line and the fix: an empty file, a non-numeric or non-finite cell, a row
with the wrong number of cells, a single point, time that does not increase, or a header
whose units contradict what the column holds. Nothing is guessed silently.

Files are plain text: whitespace- or comma-separated numbers, one row per line; lines starting
with ``#`` are comments. The first line may be a header naming the columns, optionally with
units in parentheses or brackets (``voltage (V), current (mA)``, ``t[min] G[uS] std[uS]``).
Units given in a header are converted to SI; without a header each reader assumes the units
of the dataset it was written for (stated in its docstring).
"""

from __future__ import annotations

import glob
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from memsim.errors import MeasurementError

__all__ = [
    "ConductanceMap",
    "IVSweep",
    "LevelDistribution",
    "PulseRamp",
    "RetentionSeries",
    "UNITS",
    "natural_key",
    "read_distribution",
    "read_iv",
    "read_iv_cycles",
    "read_map",
    "read_pulse_columns",
    "read_pulse_ramps",
    "read_retention",
]

UNITS: dict[str, dict[str, float]] = {
    "voltage": {"V": 1.0, "mV": 1e-3, "uV": 1e-6, "µV": 1e-6},
    "current": {"A": 1.0, "mA": 1e-3, "uA": 1e-6, "µA": 1e-6, "nA": 1e-9, "pA": 1e-12},
    "conductance": {"S": 1.0, "mS": 1e-3, "uS": 1e-6, "µS": 1e-6, "nS": 1e-9, "pS": 1e-12},
    "time": {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "min": 60.0, "h": 3600.0},
    "dimensionless": {"1": 1.0, "a.u.": 1.0, "au": 1.0, "norm": 1.0, "normalized": 1.0},
}
"""Units a header may give, per quantity, with their factor to SI."""

# Column names that say which quantity a column holds: a header naming one quantity for a
# column that holds another contradicts the file's layout.
_NAMES = {
    "voltage": {"v", "voltage", "volt", "volts", "v_col", "vcol", "v_gate", "vgate"},
    "current": {"i", "current", "amp", "amps", "i_col", "icol"},
    "time": {"t", "time"},
    "conductance": {"g", "conductance"},
}
_HEADER_CELL = re.compile(r"^\s*([^\s(\[]*)\s*(?:[(\[]\s*([^)\]]*?)\s*[)\]])?\s*$")
_WS_HEADER_CELL = re.compile(r"([^\s,(\[]+)\s*(?:[(\[]\s*([^)\]]*?)\s*[)\]])?")


@dataclass(frozen=True)
class _Column:
    name: str
    quantity: str
    unit: str  # assumed when the header gives none


@dataclass(frozen=True)
class _Table:
    columns: tuple[np.ndarray, ...]  # SI units
    lines: tuple[np.ndarray, ...]  # 1-based file line of every value
    labels: tuple[str, ...]  # header labels (or the column names)


def _fail(path: Path, message: str, line: int | None = None) -> MeasurementError:
    return MeasurementError(path, message, line)


def _split(text: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return text.split()
    return [c.strip() for c in text.split(delimiter)]


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _unit_scale(path: Path, line: int, k: int, label: str, unit: str, col: _Column) -> float:
    """Factor to SI of a header unit, or an error if it is not a unit of the column's quantity."""
    table = UNITS[col.quantity]
    if unit in table:
        return table[unit]
    other = next((q for q, t in UNITS.items() if unit in t), None)
    allowed = ", ".join(table)
    if other is not None:
        raise _fail(path, f"column {k + 1} {label!r} is given in {unit!r}, a unit of "
                    f"{other}, but this column holds {col.quantity} ({col.name}); use "
                    f"{allowed}, or fix the column order", line)
    raise _fail(path, f"column {k + 1} {label!r}: unknown unit {unit!r}; use {allowed}", line)


def _header(path: Path, line: int, text: str, delimiter: str | None,
            columns: Sequence[_Column], repeat: bool) -> tuple[list[str], list[float]]:
    """Labels and SI factors from a header line."""
    body = text.lstrip("#").strip()
    if delimiter is None:
        cells = [(m.group(1), m.group(2)) for m in _WS_HEADER_CELL.finditer(body)]
    else:
        cells = []
        for c in _split(body, delimiter):
            m = _HEADER_CELL.match(c)
            cells.append((m.group(1), m.group(2)) if m else (c, None))
    if not repeat and len(cells) != len(columns):
        raise _fail(path, f"the header names {len(cells)} columns but the file must have "
                    f"{len(columns)} ({', '.join(c.name for c in columns)})", line)
    labels, scales = [], []
    for k, (name, unit) in enumerate(cells):
        col = columns[0] if repeat else columns[k]
        label = name + (f" ({unit})" if unit else "")
        said = next((q for q, names in _NAMES.items() if name.lower() in names), None)
        if said is not None and said != col.quantity:
            raise _fail(path, f"column {k + 1} is named {name!r} ({said}) but holds "
                        f"{col.quantity} ({col.name}); the columns must be "
                        f"{', '.join(c.name for c in columns)}", line)
        scale = UNITS[col.quantity][col.unit]
        if unit:
            scale = _unit_scale(path, line, k, label, unit, col)
        labels.append(label or col.name)
        scales.append(scale)
    return labels, scales


def _read_table(path: str | Path, columns: Sequence[_Column], *, delimiter: str | None = None,
                repeat: bool = False, padded: bool = False, min_rows: int = 2) -> _Table:
    """Parse a numeric table; ``repeat``: any number of columns, all like ``columns[0]``;
    ``padded``: columns may end early (blank cells below their last value)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _fail(p, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(p, f"cannot read the file as text ({exc})") from None
    rows: list[tuple[int, list[str]]] = []
    header: tuple[int, str] | None = None
    for k, raw in enumerate(text.splitlines(), start=1):
        s = raw.strip()
        if not s:
            continue
        if s.startswith("#"):
            body = s.lstrip("#").strip()
            # a commented first line with units is a header; other comments are skipped
            if header is None and not rows and re.search(r"[(\[]", body):
                header = (k, body)
            continue
        cells = _split(s, delimiter)
        if header is None and not rows and any(_number(c) is None for c in cells if c):
            header = (k, s)
            continue
        rows.append((k, cells))
    if not rows:
        raise _fail(p, "the file holds no data rows (empty, or only a header and comments)")
    n_cols = len(rows[0][1]) if repeat else len(columns)
    if header is not None:
        labels, scales = _header(p, header[0], header[1], delimiter, columns, repeat)
        if repeat:
            n_cols = len(labels)
    else:
        cols_k = [columns[0]] * n_cols if repeat else list(columns)
        labels = [f"{c.name}{k + 1}" if repeat else c.name for k, c in enumerate(cols_k)]
        scales = [UNITS[c.quantity][c.unit] for c in cols_k]
    values: list[list[float]] = [[] for _ in range(n_cols)]
    where: list[list[int]] = [[] for _ in range(n_cols)]
    ended = [False] * n_cols
    for line, cells in rows:
        if len(cells) != n_cols and not (padded and len(cells) <= n_cols):
            raise _fail(p, f"row has {len(cells)} cells, expected {n_cols} "
                        f"({', '.join(labels)})", line)
        for j in range(n_cols):
            cell = cells[j] if j < len(cells) else ""
            if cell == "":
                if not padded:
                    raise _fail(p, f"column {j + 1} ({labels[j]}) is empty", line)
                ended[j] = True
                continue
            if ended[j]:
                raise _fail(p, f"column {j + 1} ({labels[j]}) resumes after blank cells; "
                            "a padded column may only end with blanks", line)
            x = _number(cell)
            if x is None:
                raise _fail(p, f"column {j + 1} ({labels[j]}): cannot read {cell!r} as a "
                            "number", line)
            if not math.isfinite(x):
                raise _fail(p, f"column {j + 1} ({labels[j]}) is {cell!r}; measured values "
                            "must be finite (drop the row, or leave the cell blank where a "
                            "column ends)", line)
            values[j].append(x * scales[j])
            where[j].append(line)
    for j in range(n_cols):
        if len(values[j]) < min_rows:
            raise _fail(p, f"column {j + 1} ({labels[j]}) has {len(values[j])} value(s); at "
                        f"least {min_rows} are needed")
    return _Table(tuple(np.array(v) for v in values), tuple(np.array(w) for w in where),
                  tuple(labels))


def _delimiter(path: Path) -> str | None:
    return "," if path.suffix.lower() == ".csv" else None


# --------------------------------------------------------------------------- I-V sweeps
@dataclass(frozen=True)
class IVSweep:
    """One measured I-V sweep: the applied voltage and the current, point by point.

    Attributes
    ----------
    voltage : (n,) volts, in the order applied
    current : (n,) amperes
    source : str, the file
    label : str, e.g. the cycle's file stem
    """

    voltage: np.ndarray
    current: np.ndarray
    source: str
    label: str

    @property
    def n_points(self) -> int:
        return int(self.voltage.size)

    @property
    def current_range(self) -> float:
        """Peak-to-peak current, A: the scale of the normalized RMS error."""
        return float(np.ptp(self.current))


def read_iv(path: str | Path) -> IVSweep:
    """Read an I-V sweep: two columns, voltage (V) and current (A) unless a header says
    otherwise. The rows are the sweep's points in the order they were applied.

    Raises
    ------
    MeasurementError
        For a missing or empty file, a bad cell or row, fewer than two points, a current
        range of zero, or a header that contradicts the columns.

    Examples
    --------
    >>> import memsim.measure as mm
    >>> d = mm.dataset("adamlab_lea_1t1r_rram")
    >>> s = mm.read_iv(d.path / "data/figure_3/c/iv_positive_cycle1.txt")
    >>> s.n_points, round(float(s.voltage.max()), 3)
    (174, 1.062)
    """
    p = Path(path)
    t = _read_table(p, [_Column("voltage", "voltage", "V"), _Column("current", "current", "A")],
                    delimiter=_delimiter(p))
    sweep = IVSweep(t.columns[0], t.columns[1], str(p), p.stem)
    if sweep.current_range == 0:
        raise _fail(p, "the current is the same at every point; nothing to fit")
    return sweep


def natural_key(path: str) -> list[object]:
    """Sort key of file names in natural order (``cycle2`` before ``cycle10``)."""
    return [int(s) if s.isdigit() else s for s in re.split(r"(\d+)", Path(path).name)]


def read_iv_cycles(paths: str | Path | Sequence[str | Path]) -> tuple[IVSweep, ...]:
    """Read several I-V sweeps (cycles): a glob pattern, a folder (every ``*.txt``/``*.csv``)
    or a list of files, in natural order (``cycle2`` before ``cycle10``).

    Raises
    ------
    MeasurementError
        If nothing matches, or for any bad file (see :func:`read_iv`).
    """
    if isinstance(paths, str | Path):
        p = Path(paths)
        if p.is_dir():
            found = [str(q) for q in p.iterdir() if q.suffix.lower() in (".txt", ".csv")]
        elif any(ch in str(paths) for ch in "*?["):
            found = glob.glob(str(paths))
        else:
            found = [str(p)]
        if not found:
            raise _fail(p, "no I-V files match")
        files = sorted(found, key=natural_key)
    else:
        files = [str(q) for q in paths]
        if not files:
            raise MeasurementError("<none>", "no I-V files given")
    return tuple(read_iv(f) for f in files)


# --------------------------------------------------------------------------- pulse responses
@dataclass(frozen=True)
class PulseRamp:
    """The conductance read after each pulse of one run of identical pulses.

    Attributes
    ----------
    conductance : (n,) siemens, or dimensionless for normalized data
    direction : +1 for potentiation (SET, up), -1 for depression (RESET, down)
    normalized : bool, True when the values have no absolute scale
    source, label : str
    """

    conductance: np.ndarray
    direction: int
    normalized: bool
    source: str
    label: str

    @property
    def n_pulses(self) -> int:
        return int(self.conductance.size)


def read_pulse_ramps(path: str | Path, direction: int, *, read_voltage: float | None = 0.1
                     ) -> tuple[PulseRamp, ...]:
    """Read ramps stored one per column (CrossSim's lookup-table input): each column is the
    read current (A) after each pulse of one ramp, columns padded with blank cells below their
    last value. The conductance is the current divided by ``read_voltage`` (V); a header unit
    in siemens means the values are conductances already (then pass ``read_voltage=None``).

    Raises
    ------
    MeasurementError
        For bad cells, a column that resumes after blanks, a ramp with fewer than two pulses,
        a non-positive read current, or a header that contradicts the values.

    Examples
    --------
    >>> import memsim.measure as mm
    >>> d = mm.dataset("crosssim_v2_lookup_example_pulse")
    >>> ramps = mm.read_pulse_ramps(d.path / "set.csv", +1)
    >>> len(ramps), ramps[0].n_pulses, round(float(ramps[0].conductance[0]) * 1e3, 3)
    (39, 190, 1.606)
    """
    p = Path(path)
    if direction not in (1, -1):
        raise _fail(p, f"direction must be +1 (SET) or -1 (RESET), got {direction!r}")
    quantity = "current" if read_voltage is not None else "conductance"
    unit = "A" if read_voltage is not None else "S"
    t = _read_table(p, [_Column("ramp", quantity, unit)], delimiter=_delimiter(p), repeat=True,
                    padded=True)
    scale = 1.0 / read_voltage if read_voltage is not None else 1.0
    out = []
    for col, lines, label in zip(t.columns, t.lines, t.labels, strict=True):
        bad = np.flatnonzero(col <= 0)
        if bad.size:
            raise _fail(p, f"ramp {label!r} has a non-positive reading {col[bad[0]]:g}; a "
                        "conductance must be positive", int(lines[bad[0]]))
        out.append(PulseRamp(col * scale, direction, False, str(p), label.split(" ")[0]))
    return tuple(out)


def read_pulse_columns(path: str | Path, *, normalized: bool = True) -> tuple[PulseRamp, ...]:
    """Read one up and one down ramp stored as two columns (aihwkit's device-fitting CSV):
    column 1 the conductance after each potentiation pulse, column 2 after each depression
    pulse. ``normalized``: the values have no absolute scale (dimensionless), else siemens.

    Raises
    ------
    MeasurementError
        For bad cells or rows, or fewer than two pulses.

    Examples
    --------
    >>> import memsim.measure as mm
    >>> up, down = mm.read_pulse_columns(mm.dataset("aihwkit_gong_hfo2_pulse").path
    ...                                  / "gong_et_al.csv")
    >>> up.n_pulses, down.direction
    (1000, -1)
    """
    p = Path(path)
    q, u = ("dimensionless", "1") if normalized else ("conductance", "S")
    t = _read_table(p, [_Column("up", q, u), _Column("down", q, u)], delimiter=_delimiter(p))
    return (PulseRamp(t.columns[0], +1, normalized, str(p), t.labels[0]),
            PulseRamp(t.columns[1], -1, normalized, str(p), t.labels[1]))


# --------------------------------------------------------------------------- retention
@dataclass(frozen=True)
class RetentionSeries:
    """Repeated reads of one programmed level over time.

    Attributes
    ----------
    time : (n,) seconds since the series' first read, strictly increasing
    mean : (n,) siemens, the mean conductance of the reads at each time
    std : (n,) siemens, their standard deviation
    start : float, seconds: the file's time of the first read (series may run on in one file)
    source : str
    """

    time: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    start: float
    source: str


def read_retention(path: str | Path) -> RetentionSeries:
    """Read a retention series: time (min), mean conductance (uS), standard deviation (uS)
    (the units of the 1T1R dataset's figure 3b; a header may give others).

    Raises
    ------
    MeasurementError
        For bad cells or rows, fewer than two times, time that does not increase strictly,
        a non-positive mean or a negative standard deviation.

    Examples
    --------
    >>> import memsim.measure as mm
    >>> d = mm.dataset("adamlab_lea_1t1r_rram")
    >>> r = mm.read_retention(d.path / "data/figure_3/b/retention_grouped_state1.txt")
    >>> r.start / 60, float(r.time[-1]) / 60, round(float(r.mean[0]) * 1e6, 1)
    (120.0, 119.0, 156.3)
    """
    p = Path(path)
    t = _read_table(p, [_Column("time", "time", "min"), _Column("mean", "conductance", "uS"),
                        _Column("std", "conductance", "uS")], delimiter=_delimiter(p))
    time, mean, std = t.columns
    back = np.flatnonzero(np.diff(time) <= 0)
    if back.size:
        k = int(back[0]) + 1
        raise _fail(p, f"time must increase strictly: {time[k] / 60:g} min follows "
                    f"{time[k - 1] / 60:g} min (sort the rows, or split the series)",
                    int(t.lines[0][k]))
    for arr, label, ok in ((mean, "mean", mean > 0), (std, "std", std >= 0)):
        bad = np.flatnonzero(~ok)
        if bad.size:
            raise _fail(p, f"{label} conductance {arr[bad[0]]:g} S must be "
                        f"{'positive' if label == 'mean' else 'non-negative'}",
                        int(t.lines[0][bad[0]]))
    return RetentionSeries(time - time[0], mean, std, float(time[0]), str(p))


# --------------------------------------------------------------------------- maps and levels
@dataclass(frozen=True)
class ConductanceMap:
    """Conductances of an array of devices, S, shape (rows, cols)."""

    values: np.ndarray
    source: str


def read_map(path: str | Path, *, unit: str = "pS") -> ConductanceMap:
    """Read a conductance map: a matrix, one row of the array per line, in ``unit``
    (the 1T1R dataset's figure 3d stores pS).

    Raises
    ------
    MeasurementError
        For an unknown unit, bad cells, rows of unequal length, or negative values.

    Examples
    --------
    >>> import memsim.measure as mm
    >>> d = mm.dataset("adamlab_lea_1t1r_rram")
    >>> m = mm.read_map(d.path / "data/figure_3/d/conductance_map_multibit_k17.txt")
    >>> m.values.shape, int((m.values > 300e-6).sum())
    ((25, 25), 27)
    """
    p = Path(path)
    if unit not in UNITS["conductance"]:
        raise _fail(p, f"unknown conductance unit {unit!r}; use {', '.join(UNITS['conductance'])}")
    t = _read_table(p, [_Column("g", "conductance", unit)], delimiter=_delimiter(p),
                    repeat=True, min_rows=1)
    values = np.column_stack(t.columns)
    neg = np.argwhere(values < 0)
    if neg.size:
        r, c = neg[0]
        raise _fail(p, f"conductance {values[r, c]:g} S in column {c + 1} is negative",
                    int(t.lines[c][r]))
    return ConductanceMap(values, str(p))


@dataclass(frozen=True)
class LevelDistribution:
    """Conductances of the devices of an array programmed to one level, S (zeros kept:
    they mark devices the source could not read or program)."""

    values: np.ndarray
    source: str
    label: str


def read_distribution(path: str | Path, *, unit: str = "uS") -> LevelDistribution:
    """Read one level's conductance distribution: one value per device, in ``unit``
    (the 1T1R dataset's figure 3e stores uS).

    Raises
    ------
    MeasurementError
        For an unknown unit, bad cells, fewer than two devices, or negative values.
    """
    p = Path(path)
    if unit not in UNITS["conductance"]:
        raise _fail(p, f"unknown conductance unit {unit!r}; use {', '.join(UNITS['conductance'])}")
    t = _read_table(p, [_Column("g", "conductance", unit)], delimiter=_delimiter(p))
    values = t.columns[0]
    bad = np.flatnonzero(values < 0)
    if bad.size:
        raise _fail(p, f"conductance {values[bad[0]]:g} S is negative", int(t.lines[0][bad[0]]))
    return LevelDistribution(values, str(p), p.stem)
