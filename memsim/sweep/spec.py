"""Sweep files: a grid of capacity experiments declared in TOML, expanded into keyed tasks.

A sweep file has one ``[sweep]`` table and one or more ``[[grid]]`` tables::

    [sweep]
    name = "demo"           # a label for the store and the summary
    seed = 2026             # master seed: every task's randomness derives from it
    repetitions = 40        # R: independent tasks x device draws per (grid point, P)
    block = 20              # repetitions per Dask task (default: all R in one task)

    [[grid]]
    label = "fully connected"
    model = "circuit"                  # "circuit" (memristor network) or "abstract" (Chialvo-Bak)
    topology = "layered"               # "layered", "random" or "crossbar"
    sizes = [[2, 4, 2], [2, 8, 2]]     # layered: layer widths, one list per grid value
    connectivity = [1.0, 0.6]          # layered: probability an edge is kept
    device = "pershin2011"             # circuit: a preset of memsim.devices
    device_params = { r_off = 2e4 }    # circuit: fields of the preset to change
    spread = 0.0                       # circuit: Network.with_spread sigma (replaces d2d_spread)
    learning = { x0_spread = 0.0 }     # fields of CircuitConfig / AbstractConfig
    P = { from = 1, to = 4 }           # pattern counts: a list, or a range ("inputs": n_inputs)
    one_hot = true                     # one-hot patterns (P <= n_inputs) or binary vectors

Every value of a grid table may be a list: the table expands into the Cartesian product of its
lists (``sizes`` is a list of lists; one plain list of ints is one value). Each expanded
combination is a *grid point*; each grid point x P value x block of repetitions is one *task*,
keyed by a hash of its canonical parameters and seed, so a task is recognized across runs
whatever the order of the file.

Pattern counts ``P``: a list is used as given (each P must be possible: at most ``n_inputs``
one-hot patterns, or ``2**n_inputs - 1`` binary ones); a range ``{ from, to, step }`` stops
at the largest possible P of each grid point, so one range serves a grid of sizes. The
default is ``{ from = 1, to = "inputs" }``.

Seeds: trial ``r`` at load ``P`` uses ``memsim.analyze.capacity.trial_seed(seed, P, r)`` at
every grid point, so grid points are compared on the same random tasks and device draws where
their shapes agree (common random numbers), and no result depends on the block size, the order
or the worker.

Device-to-device spread: a circuit point's ``spread`` > 0 is the one spread of its trials,
drawn into each trial's network (:meth:`memsim.Network.with_spread`); its ``learning``
then has ``d2d_spread = 0``, so training draws no second spread (setting both is an error).
With ``spread = 0`` the per-run draw of ``learning.d2d_spread`` (default 0.1) is the spread.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memsim.errors import MemsimError, ParameterError
from memsim.resources import data_path
from memsim.sweep.work import spread_once

__all__ = [
    "MODELS",
    "TOPOLOGIES",
    "FileChecks",
    "GridPoint",
    "SweepFileError",
    "SweepSpec",
    "SweepTask",
    "canonical_json",
    "load_sweep",
    "parse_sweep",
    "sweep_path",
]

MODELS = ("abstract", "circuit")
TOPOLOGIES = ("crossbar", "layered", "random")

_SWEEP_KEYS = ("block", "name", "repetitions", "seed")
_COMMON_KEYS = ("label", "learning", "model", "one_hot", "P", "repetitions", "topology")
_CIRCUIT_KEYS = ("device", "device_params", "spread")
_TOPOLOGY_KEYS = {
    "layered": ("connectivity", "sizes"),
    "random": ("edge_prob", "n_inputs", "n_nodes", "n_outputs"),
    "crossbar": ("cols", "r_line", "rows"),
}
_REQUIRED = {
    "layered": ("sizes",),
    "random": ("edge_prob", "n_inputs", "n_nodes", "n_outputs"),
    "crossbar": ("cols", "rows"),
}
SIZE_KEYS = {"layered": ("sizes",), "random": ("n_nodes", "n_inputs", "n_outputs"),
             "crossbar": ("rows", "cols")}
"""Keys of a grid point that set the network's size (the x axis of capacity vs size)."""


class SweepFileError(MemsimError, ValueError):
    """A sweep file cannot be used; the one-line message names the file, the key and the fix."""

    def __init__(self, path: object, key: str, message: str):
        self.path = str(path)
        self.key = key
        where = f"{self.path}: {key}" if key else self.path
        super().__init__(f"{where}: {message}")


def canonical_json(obj: Any) -> str:
    """The canonical JSON text of ``obj``: sorted keys, no spaces (what task keys hash).

    >>> canonical_json({"b": [1, 2.5], "a": None})
    '{"a":null,"b":[1,2.5]}'
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _digest(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class GridPoint:
    """One combination of the grid: a topology, its device and learning parameters.

    Attributes
    ----------
    params : dict
        Canonical parameters (defaults filled in, numbers typed), as stored with each result.
    patterns : tuple of int
        The P values of this point.
    repetitions : int
        R, the number of independent trials per P.
    """

    params: dict[str, Any]
    patterns: tuple[int, ...]
    repetitions: int

    @property
    def label(self) -> str:
        return str(self.params["label"])

    @property
    def n_inputs(self) -> int:
        return _terminals(self.params)[0]

    @property
    def n_outputs(self) -> int:
        return _terminals(self.params)[1]

    @property
    def key(self) -> str:
        """Hash of the canonical parameters."""
        return _digest(self.params)


@dataclass(frozen=True)
class SweepTask:
    """The unit of work: one grid point, one P, one block of repetitions.

    Attributes
    ----------
    key : str
        Deterministic hash of the point's parameters, P, the block and the master seed.
    point : dict
        The grid point's canonical parameters.
    n_patterns : int
        P.
    block : int
        Index of the block of repetitions.
    rep_start, n_reps : int
        The block covers repetitions ``rep_start .. rep_start + n_reps - 1``.
    seed : int
        The sweep's master seed.
    """

    key: str
    point: dict[str, Any]
    n_patterns: int
    block: int
    rep_start: int
    n_reps: int
    seed: int

    @classmethod
    def make(cls, point: dict[str, Any], n_patterns: int, block: int, rep_start: int,
             n_reps: int, seed: int) -> SweepTask:
        """The task of these parameters, with its key (a hash of all of them)."""
        key = _digest({"point": point, "P": n_patterns, "block": block,
                       "rep_start": rep_start, "n_reps": n_reps, "seed": seed})
        return cls(key, point, n_patterns, block, rep_start, n_reps, seed)

    @property
    def seed_record(self) -> dict[str, Any]:
        """The task's seeds (stored with each result): trial ``r`` of ``trials`` uses
        ``memsim.analyze.capacity.trial_seed(master, P, r)``."""
        return {"master": self.seed, "P": self.n_patterns,
                "trials": [self.rep_start, self.rep_start + self.n_reps]}

    def payload(self) -> dict[str, Any]:
        """Plain data for a worker (what :func:`memsim.sweep.work.run_task` reads)."""
        return {"key": self.key, "point": self.point, "P": self.n_patterns,
                "block": self.block, "rep_start": self.rep_start, "n_reps": self.n_reps,
                "seed": self.seed}


@dataclass(frozen=True)
class SweepSpec:
    """A parsed, validated sweep file.

    Attributes
    ----------
    name : str
    seed : int
        Master seed.
    block : int or None
        Repetitions per task (None: all repetitions of a (point, P) in one task).
    points : tuple of GridPoint
    source : str
        The file it was read from ("<string>" for :func:`parse_sweep` on text).
    """

    name: str
    seed: int
    block: int | None
    points: tuple[GridPoint, ...]
    source: str = "<string>"

    def tasks(self) -> list[SweepTask]:
        """Every task of the sweep, in file order (points, then P, then blocks)."""
        return list(self._iter_tasks())

    def _iter_tasks(self) -> Iterator[SweepTask]:
        for point in self.points:
            size = point.repetitions if self.block is None else min(self.block,
                                                                    point.repetitions)
            for p in point.patterns:
                for b, start in enumerate(range(0, point.repetitions, size)):
                    n = min(size, point.repetitions - start)
                    yield SweepTask.make(point.params, p, b, start, n, self.seed)

    def to_dict(self) -> dict[str, Any]:
        """Plain data of the expanded sweep (stored with the results)."""
        return {"name": self.name, "seed": self.seed, "block": self.block,
                "points": [{"params": p.params, "P": list(p.patterns),
                            "repetitions": p.repetitions} for p in self.points]}


def sweep_path(name: str) -> Path:
    """Path of a sweep file shipped in ``sweeps/`` (e.g. ``"demo"``), from a source checkout or
    an installed wheel alike (:func:`memsim.data_path`).

    Raises
    ------
    CircuitFileError
        If no sweep of that name ships (the message lists the known ones).

    Examples
    --------
    >>> sweep_path("demo").name
    'demo.toml'
    """
    return data_path("sweeps", name)


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file.

    Raises
    ------
    SweepFileError
        If the file is missing, is not TOML, or a key is unknown, missing or out of range
        (the message names the key and the allowed values).

    Examples
    --------
    >>> spec = load_sweep(sweep_path("demo"))
    >>> spec.name
    'demo'
    """
    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise SweepFileError(p, "", "no such sweep file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SweepFileError(p, "", f"cannot read: {exc}") from None
    return parse_sweep(text, source=str(p))


def parse_sweep(text: str, *, source: str = "<string>") -> SweepSpec:
    """Parse and validate the TOML text of a sweep.

    Raises
    ------
    SweepFileError
        If the text is not TOML or a key is unknown, missing or out of range.

    Examples
    --------
    >>> spec = parse_sweep('''
    ... [sweep]
    ... name = "tiny"
    ... seed = 1
    ... repetitions = 4
    ... block = 2
    ... [[grid]]
    ... model = "abstract"
    ... topology = "layered"
    ... sizes = [[2, 4, 2], [3, 6, 3]]
    ... P = [1, 2]
    ... ''')
    >>> len(spec.points), len(spec.tasks())
    (2, 8)
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SweepFileError(source, "", f"not valid TOML: {exc}") from None
    return _Parser(source).sweep(doc)


class FileChecks:
    """Checks of TOML values shared by the sweep and search file parsers; a subclass says in
    :meth:`fail` how an error names its place (file and key; file, line and key)."""

    def fail(self, key: str, message: str) -> MemsimError:
        raise NotImplementedError

    def known(self, where: str, table: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
        for k in table:
            if k not in allowed:
                raise self.fail(f"{where}{k}", f"unknown key; allowed here: "
                                f"{', '.join(sorted(allowed))}")

    def integer(self, key: str, value: Any, low: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.fail(key, f"must be an integer >= {low}, got {value!r}")
        return int(value)

    def load_range(self, key: str, spec: Mapping[str, Any], n_in: int) -> tuple[int, int, int]:
        """``start, stop, step`` of a pattern-count table ``{ from, step, to }`` (``to`` an
        integer or ``"inputs"``: the network's ``n_in``)."""
        self.known(f"{key}.", spec, ("from", "step", "to"))
        start = self.integer(f"{key}.from", spec.get("from", 1), 1)
        step = self.integer(f"{key}.step", spec.get("step", 1), 1)
        to = spec.get("to", "inputs")
        if isinstance(to, str) and to != "inputs":
            raise self.fail(f"{key}.to", f"must be an integer or \"inputs\", got {to!r}")
        stop = n_in if to == "inputs" else self.integer(f"{key}.to", to, start)
        return start, stop, step

    def number(self, key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
                value):
            raise self.fail(key, f"must be a finite number, got {value!r}")
        return float(value)

    def choice(self, key: str, value: Any, allowed: tuple[str, ...]) -> str:
        if value not in allowed:
            raise self.fail(key, f"unknown value {value!r}; allowed: {', '.join(allowed)}")
        return str(value)


class _Parser(FileChecks):
    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, message: str) -> SweepFileError:
        return SweepFileError(self.source, key, message)

    def sweep(self, doc: dict[str, Any]) -> SweepSpec:
        self.known("", doc, ("grid", "sweep"))
        head = doc.get("sweep")
        if not isinstance(head, dict):
            raise self.fail("[sweep]", "missing table; it needs name, seed and repetitions")
        self.known("sweep.", head, _SWEEP_KEYS)
        for k in ("name", "seed", "repetitions"):
            if k not in head:
                raise self.fail(f"sweep.{k}", "missing (name, seed and repetitions are "
                                "required)")
        name = head["name"]
        if not isinstance(name, str) or not name.strip():
            raise self.fail("sweep.name", f"must be a non-empty string, got {name!r}")
        seed = self.integer("sweep.seed", head["seed"], 0)
        reps = self.integer("sweep.repetitions", head["repetitions"], 1)
        block = self.integer("sweep.block", head["block"], 1) if "block" in head else None
        grid = doc.get("grid")
        if not isinstance(grid, list) or not grid:
            raise self.fail("[[grid]]", "missing; add at least one [[grid]] table")
        points: list[GridPoint] = []
        for i, table in enumerate(grid):
            points.extend(self.grid(f"grid[{i}].", table, reps))
        seen: set[str] = set()
        for pt in points:
            if pt.key in seen:
                raise self.fail("[[grid]]", f"grid point {canonical_json(pt.params)} appears "
                                "twice; give the tables different labels or values")
            seen.add(pt.key)
        return SweepSpec(name.strip(), seed, block, tuple(points), self.source)

    def grid(self, where: str, table: Any, default_reps: int) -> list[GridPoint]:
        if not isinstance(table, dict):
            raise self.fail(where.rstrip("."), "must be a table")
        model = self.choice(f"{where}model", table.get("model", "circuit"), MODELS)
        topology = self.choice(f"{where}topology", table.get("topology", "layered"),
                               TOPOLOGIES)
        allowed = _COMMON_KEYS + _TOPOLOGY_KEYS[topology]
        if model == "circuit":
            allowed += _CIRCUIT_KEYS
        elif topology != "layered":
            raise self.fail(f"{where}topology", f"the abstract model runs on layered nets "
                            f"only, got {topology!r}; allowed: layered")
        self.known(where, table, allowed)
        if model == "abstract" and "connectivity" in table:
            raise self.fail(f"{where}connectivity", "the abstract model is fully connected; "
                            "remove the key or use model = \"circuit\"")
        for k in _REQUIRED[topology]:
            if k not in table:
                raise self.fail(f"{where}{k}", f"missing (a {topology} grid needs "
                                f"{', '.join(_REQUIRED[topology])})")
        label = table.get("label", f"{model} {topology}")
        if not isinstance(label, str) or not label.strip():
            raise self.fail(f"{where}label", f"must be a non-empty string, got {label!r}")
        one_hot = table.get("one_hot", True)
        if not isinstance(one_hot, bool):
            raise self.fail(f"{where}one_hot", f"must be true or false, got {one_hot!r}")
        reps = self.integer(f"{where}repetitions", table.get("repetitions", default_reps), 1)

        axes: dict[str, list[Any]] = {}
        for k in _TOPOLOGY_KEYS[topology]:
            if k in table:
                axes[k] = self.values(where, k, table[k])
        if model == "circuit":
            axes["device"] = [self.choice(f"{where}device", d, _preset_names())
                              for d in self.values(where, "device",
                                                   table.get("device", "pershin2011"))]
            axes["spread"] = [self.nonneg(f"{where}spread", v)
                              for v in self.values(where, "spread", table.get("spread", 0.0))]
        sub_axes: dict[str, dict[str, list[Any]]] = {}
        for sub in ("device_params", "learning"):
            if sub in table:
                if not isinstance(table[sub], dict):
                    raise self.fail(f"{where}{sub}", "must be a table, e.g. { field = value }")
                sub_axes[sub] = {f: self.values(f"{where}{sub}.", f, v)
                                 for f, v in table[sub].items()}

        names = list(axes) + [f"{s}.{f}" for s, fs in sub_axes.items() for f in fs]
        value_lists = list(axes.values()) + [v for fs in sub_axes.values() for v in fs.values()]
        points = []
        for combo in itertools.product(*value_lists):
            raw = dict(zip(names, combo, strict=True))
            params = self.point(where, model, topology, label.strip(), one_hot, raw)
            patterns = self.patterns(where, table.get("P", {"from": 1, "to": "inputs"}),
                                     params)
            points.append(GridPoint(params, patterns, reps))
        return points

    def values(self, where: str, key: str, value: Any) -> list[Any]:
        if key == "sizes":
            if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
                return [value]
            if not isinstance(value, list) or not value or not all(
                    isinstance(v, list) for v in value):
                raise self.fail(f"{where}sizes", "must be a list of layer widths such as "
                                "[2, 4, 2], or a list of such lists")
            return list(value)
        if isinstance(value, list):
            if not value:
                raise self.fail(f"{where}{key}", "an empty list gives no grid points")
            return list(value)
        return [value]

    def nonneg(self, key: str, value: Any) -> float:
        v = self.number(key, value)
        if v < 0:
            raise self.fail(key, f"must be >= 0, got {value!r}")
        return v

    def point(self, where: str, model: str, topology: str, label: str, one_hot: bool,
              raw: dict[str, Any]) -> dict[str, Any]:
        p: dict[str, Any] = {"label": label, "model": model, "topology": topology,
                             "one_hot": one_hot}
        if topology == "layered":
            sizes = raw["sizes"]
            if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1
                       for v in sizes) or len(sizes) < (3 if model == "abstract" else 2):
                need = "3 (inputs, hidden..., outputs)" if model == "abstract" else "2"
                raise self.fail(f"{where}sizes", f"{sizes!r}: need >= {need} layer widths, "
                                "each an integer >= 1")
            p["sizes"] = [int(v) for v in sizes]
            if model == "circuit":
                c = self.number(f"{where}connectivity", raw.get("connectivity", 1.0))
                if not 0 < c <= 1:
                    raise self.fail(f"{where}connectivity", f"must lie in (0, 1], got {c!r}")
                p["connectivity"] = c
        elif topology == "random":
            for k in ("n_nodes", "n_inputs", "n_outputs"):
                p[k] = self.integer(f"{where}{k}", raw[k], 1)
            e = self.number(f"{where}edge_prob", raw["edge_prob"])
            if not 0 < e <= 1:
                raise self.fail(f"{where}edge_prob", f"must lie in (0, 1], got {e!r}")
            p["edge_prob"] = e
            if p["n_inputs"] + p["n_outputs"] > p["n_nodes"]:
                raise self.fail(f"{where}n_nodes", f"{p['n_nodes']} nodes cannot hold "
                                f"{p['n_inputs']} inputs and {p['n_outputs']} outputs")
        else:
            p["rows"] = self.integer(f"{where}rows", raw["rows"], 1)
            p["cols"] = self.integer(f"{where}cols", raw["cols"], 1)
            p["r_line"] = self.nonneg(f"{where}r_line", raw.get("r_line", 0.0))
        if model == "circuit":
            p["device"] = raw["device"]
            p["device_params"] = self.device(where, raw["device"], {
                k.split(".", 1)[1]: v for k, v in raw.items() if k.startswith("device_params.")})
            p["spread"] = raw["spread"]
        p["learning"] = self.learning(where, model, {
            k.split(".", 1)[1]: v for k, v in raw.items() if k.startswith("learning.")})
        if model == "circuit" and p["spread"] > 0:
            if raw.get("learning.d2d_spread", 0) != 0:
                raise self.fail(f"{where}spread", "set the device-to-device spread once: "
                                "either spread (the network's) or learning.d2d_spread "
                                "(drawn per run), not both")
            p["learning"] = spread_once(p["learning"], p["spread"])
        return p

    def device(self, where: str, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        from memsim.devices import preset

        base = preset(name)
        fields = [f.name for f in dataclasses.fields(base)]
        for k, v in changes.items():
            if k not in fields:
                raise self.fail(f"{where}device_params.{k}", f"not a field of {name!r} "
                                f"({type(base).__name__}); allowed: {', '.join(fields)}")
            if k != "window":
                changes[k] = self.number(f"{where}device_params.{k}", v)
        try:
            dev = base.replace(**changes)
        except (ParameterError, ValueError, TypeError) as exc:
            raise self.fail(f"{where}device_params", str(exc)) from None
        return {k: _plain(v) for k, v in dataclasses.asdict(dev).items()}

    def learning(self, where: str, model: str, changes: dict[str, Any]) -> dict[str, Any]:
        from memsim.learn import AbstractConfig, CircuitConfig

        cls = CircuitConfig if model == "circuit" else AbstractConfig
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for k, v in changes.items():
            if k not in fields:
                raise self.fail(f"{where}learning.{k}", f"not a field of {cls.__name__}; "
                                f"allowed: {', '.join(fields)}")
            if isinstance(v, int) and not isinstance(v, bool) and isinstance(
                    getattr(cls(), k), float):
                changes[k] = float(v)
        try:
            config = cls(**changes)
        except ParameterError as exc:
            raise self.fail(f"{where}learning.{exc.field}", str(exc).split(": ", 1)[-1]) \
                from None
        except (TypeError, ValueError) as exc:
            raise self.fail(f"{where}learning", str(exc)) from None
        return {k: _plain(v) for k, v in dataclasses.asdict(config).items()}

    def patterns(self, where: str, spec: Any, params: dict[str, Any]) -> tuple[int, ...]:
        n_in, _ = _terminals(params)
        key = f"{where}P"
        limit = n_in if params["one_hot"] else 2**n_in - 1

        def too_many(at: str, p: int) -> SweepFileError:
            what = (f"{p} one-hot patterns need >= {p} inputs" if params["one_hot"]
                    else f"only {limit} binary patterns exist")
            return self.fail(at, f"{what}, but the network has {n_in} inputs "
                             "(lower P, or set one_hot = false)")

        if isinstance(spec, int) and not isinstance(spec, bool):
            values = [spec]
        elif isinstance(spec, list):
            values = [self.integer(key, v, 1) for v in spec]
        elif isinstance(spec, dict):
            start, stop, step = self.load_range(key, spec, n_in)
            if start > limit:
                raise too_many(f"{key}.from", start)
            # a range ends at the largest P the network allows (a list is taken literally)
            values = list(range(start, min(stop, limit) + 1, step))
        else:
            raise self.fail(key, f"must be a list of pattern counts or a table "
                            f"{{ from = 1, to = \"inputs\" }}, got {spec!r}")
        if not values or len(set(values)) != len(values) or min(values) < 1:
            raise self.fail(key, f"need distinct pattern counts >= 1, got {values!r}")
        if max(values) > limit:
            raise too_many(key, max(values))
        return tuple(sorted(values))


def _terminals(params: Mapping[str, Any]) -> tuple[int, int]:
    if params["topology"] == "layered":
        return int(params["sizes"][0]), int(params["sizes"][-1])
    if params["topology"] == "random":
        return int(params["n_inputs"]), int(params["n_outputs"])
    return int(params["rows"]), int(params["cols"])


def _plain(value: Any) -> Any:
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def _preset_names() -> tuple[str, ...]:
    from memsim.devices.presets import PRESETS

    return tuple(sorted(PRESETS))
