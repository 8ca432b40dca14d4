"""Circuit files in TOML: ``memsim.load(path)``.

A circuit file has a ``[circuit]`` table (name, description), one or more device tables and a
``[topology]`` table. Values with units may be plain numbers in SI base units or strings such
as ``"10 kohm"``, ``"1.5 V"``, ``"2 ms"``. Example (``circuits/paper_2x4x2.toml``)::

    [circuit]
    name = "paper_2x4x2"

    [device]                  # the default device of every memristor edge
    preset = "pershin2011"    # optional starting point; fields below override it
                              # ("measured:NAME": a device fitted to data in measurements/)
    r_on = "1 kohm"

    [topology]
    kind = "layered"          # layered | crossbar | random | graph
    sizes = [2, 4, 2]

A ``graph`` topology lists its nodes' terminals and its edges explicitly::

    [topology]
    kind = "graph"
    inputs = ["a"]
    outputs = ["c"]

    [[edge]]
    from = "a"
    to = "b"
    device = "line"           # a table [devices.line]; default: [device]
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import networkx as nx

from memsim.circuit.builders import crossbar, from_networkx, layered, random_network
from memsim.circuit.network import Network
from memsim.devices.models import HP, VTEAM, Device, Linear, Resistor, Threshold
from memsim.devices.presets import preset
from memsim.errors import CircuitFileError, MemsimError, ParameterError
from memsim.resources import data_path

__all__ = ["load", "parse_quantity"]

_MODELS: dict[str, type[Device]] = {
    "resistor": Resistor, "hp": HP, "threshold": Threshold, "vteam": VTEAM, "linear": Linear,
}
_UNITS: dict[str, str] = {
    "r": "ohm", "r_on": "ohm", "r_off": "ohm", "mu_v": "m^2/(V s)", "d": "m", "alpha": "",
    "beta": "", "v_t": "V", "k_on": "1/s", "k_off": "1/s", "v_on": "V", "v_off": "V",
    "r_line": "ohm", "r_line_word": "ohm", "r_line_bit": "ohm",
}
_TOPOLOGY_KEYS: dict[str, tuple[str, ...]] = {
    "layered": ("kind", "sizes", "connectivity", "seed"),
    "crossbar": ("kind", "rows", "cols", "r_line", "r_line_word", "r_line_bit"),
    "random": ("kind", "n_nodes", "edge_prob", "n_inputs", "n_outputs", "seed"),
    "graph": ("kind", "inputs", "outputs", "ground"),
}
_EDGE_KEYS = ("from", "to", "device", "name")
_CIRCUIT_KEYS = ("name", "description")
_EXAMPLE = {int: "<integer>", float: "<number>", list: "[...]"}
_PREFIX = {"f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "µ": 1e-6, "m": 1e-3, "": 1.0,
           "k": 1e3, "M": 1e6, "G": 1e9}
_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\s\d].*)?$")


def parse_quantity(text: str | float | int, unit: str, field: str) -> float:
    """A number from ``text``, which may carry an SI prefix and ``unit``.

    >>> parse_quantity("10 kohm", "ohm", "r_on"), parse_quantity("2ms", "s", "width")
    (10000.0, 0.002)

    Raises
    ------
    ValueError
        If the unit is not ``unit`` with an SI prefix (the message suggests the fix).
    """
    if isinstance(text, bool):
        raise ValueError(f"{field}: expected a number, got {text!r}")
    if isinstance(text, int | float):
        return float(text)
    m = _QUANTITY.match(str(text))
    if not m:
        raise ValueError(f"{field}: cannot read {text!r} as a quantity like '10 kohm'")
    value, suffix = float(m.group(1)), (m.group(2) or "").strip()
    if not suffix:
        return value
    for prefix, scale in _PREFIX.items():
        if unit and suffix == prefix + unit:
            return value * scale
        if unit == "ohm" and suffix in (prefix + "Ω", prefix + "Ohm", prefix + "ohms"):
            return value * scale
    expect = f"'{unit}' with an SI prefix (e.g. 'k{unit}')" if unit else "no unit"
    raise ValueError(f"{field}: unknown unit {suffix!r} in {text!r}; expected {expect}")


class _Reader:
    """Reads one circuit file, turning every problem into a CircuitFileError."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CircuitFileError(path, f"cannot read the file ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise CircuitFileError(path, "not a text file (a circuit file is TOML text in "
                                   "UTF-8)") from None
        try:
            self.doc = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            line = re.search(r"line (\d+)", str(exc))
            raise CircuitFileError(path, f"not valid TOML: {exc}",
                                   int(line.group(1)) if line else None) from None
        self.lines = self.text.splitlines()

    def fail(self, message: str, key: str | None = None, line: int | None = None) -> NoReturn:
        if line is None and key is not None:
            line = self.line_of(key)
        raise CircuitFileError(self.path, message, line)

    def key_line(self, header: str, key: str, index: int = 0) -> int | None:
        """Line of ``key`` inside the ``index``-th table ``header`` (else the header's line)."""
        start = self.table_line(header, index)
        if start is None:
            return self.line_of(key)
        stop = next((k for k in range(start, len(self.lines))
                     if self.lines[k].lstrip().startswith("[")), len(self.lines))
        pat = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        hit = next((k + 1 for k in range(start, stop) if pat.match(self.lines[k])), None)
        return hit or start

    def table(self, value: Any, what: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(f"{what} must be a table (a [header] with key = value lines), got "
                      f"{value!r}", key=what.strip("[]").split(".")[0])
        return value

    def known_keys(self, table: Mapping[str, Any], allowed: tuple[str, ...], header: str,
                   what: str, index: int = 0) -> None:
        for key in table:
            if key not in allowed:
                self.fail(f"{what}: unknown field {key!r}; the fields are {', '.join(allowed)}",
                          line=self.key_line(header, key, index))

    def line_of(self, key: str, start: int = 0) -> int | None:
        pat = re.compile(rf"^\s*(\[+\s*)?{re.escape(key)}\b")
        for k in range(start, len(self.lines)):
            if pat.match(self.lines[k]):
                return k + 1
        return None

    def table_line(self, header: str, index: int = 0) -> int | None:
        hits = [k + 1 for k, s in enumerate(self.lines) if s.strip().startswith(header)]
        return hits[index] if index < len(hits) else None

    def device(self, table: Mapping[str, Any], where: str) -> Device:
        table = dict(self.table(table, f"[{where}]"))
        base: Device | None = None
        line = self.table_line(f"[{where}]")
        if "preset" in table:
            name = table.pop("preset")
            try:
                base = preset(str(name))
            except ParameterError as exc:
                self.fail(f"[{where}] {exc}", line=self.line_of("preset", (line or 1) - 1))
        model = table.pop("model", None)
        if model is None and base is None:
            self.fail(f"[{where}] needs 'model' ({', '.join(_MODELS)}) or 'preset'", line=line)
        if model is not None:
            if str(model).lower() not in _MODELS:
                self.fail(f"[{where}] unknown device model {model!r}; use one of "
                          f"{', '.join(_MODELS)}", line=self.line_of("model", (line or 1) - 1))
            cls = _MODELS[str(model).lower()]
            if base is not None and not isinstance(base, cls):
                self.fail(f"[{where}] preset {name!r} is a {type(base).__name__} device but "
                          f"model is {model!r}; drop one of the two", line=line)
        else:
            assert base is not None
            cls = type(base)
        known = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in table.items():
            if key not in known:
                self.fail(f"[{where}] unknown field {key!r} for model {cls.__name__}; fields "
                          f"are {', '.join(sorted(known))}",
                          line=self.line_of(key, (line or 1) - 1))
            if key == "window":
                values[key] = raw
                continue
            try:
                values[key] = parse_quantity(raw, _UNITS.get(key, ""), key)
            except ValueError as exc:
                self.fail(f"[{where}] {exc}", line=self.line_of(key, (line or 1) - 1))
        required = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING
                    and f.default_factory is dataclasses.MISSING and f.init]
        missing = [k for k in required if k not in values and base is None]
        if missing:
            self.fail(f"[{where}] a {cls.__name__} device needs the field {missing[0]!r}; add a "
                      f"line '{missing[0]} = ...'", line=line)
        try:
            return base.replace(**values) if base is not None else cls(**values)
        except ParameterError as exc:
            # point at the offending field where the file sets it, else at the table
            at = self.line_of(exc.field, (line or 1) - 1) if exc.field in table else None
            self.fail(f"[{where}] {exc}", line=at or line)
        except MemsimError as exc:
            self.fail(f"[{where}] {exc}", line=line)

    def need(self, table: Mapping[str, Any], key: str, where: str, kind: type) -> Any:
        if key not in table:
            self.fail(f"[{where}] is missing the field {key!r}; add a line "
                      f"'{key} = {_EXAMPLE.get(kind, '...')}'",
                      line=self.table_line(f"[{where}]"))
        value = table[key]
        line = self.key_line(f"[{where}]", key)
        if kind is float:
            try:
                return parse_quantity(value, _UNITS.get(key, ""), key)
            except ValueError as exc:
                self.fail(f"[{where}] {exc}", line=line)
        if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
            what = {int: "an integer", list: "a list"}.get(kind, kind.__name__)
            self.fail(f"[{where}] {key} must be {what}, got {value!r}", line=line)
        return value

    def network(self) -> Network:
        doc = self.doc
        known = {"circuit", "device", "devices", "topology", "edge"}
        for key in doc:
            if key not in known:
                self.fail(f"unknown table [{key}]; expected {', '.join(sorted(known))}", key=key)
        meta = self.table(doc.get("circuit", {}), "[circuit]")
        self.known_keys(meta, _CIRCUIT_KEYS, "[circuit]", "[circuit]")
        name = str(meta.get("name", self.path.stem))
        devices = {k: self.device(v, f"devices.{k}")
                   for k, v in self.table(doc.get("devices", {}), "[devices]").items()}
        default = self.device(doc["device"], "device") if "device" in doc else None
        if "topology" not in doc:
            self.fail("missing [topology] table (kind = layered | crossbar | random | graph)")
        topo = self.table(doc["topology"], "[topology]")
        kind = topo.get("kind")
        where = "topology"
        kinds = tuple(_TOPOLOGY_KEYS)
        if kind not in kinds:
            self.fail(f"[topology] kind must be one of {', '.join(kinds)}, got {kind!r}",
                      line=self.key_line("[topology]", "kind"))
        self.known_keys(topo, _TOPOLOGY_KEYS[kind], "[topology]", f"[topology] of kind {kind!r}")
        if kind != "graph" and default is None:
            self.fail(f"a {kind} topology needs a [device] table (model = ... or preset = ...)")
        try:
            if kind == "graph":
                return self._finish(self.graph(topo, default, devices, name), meta)
            assert default is not None
            if kind == "layered":
                sizes = self.need(topo, "sizes", where, list)
                if not all(isinstance(w, int) and not isinstance(w, bool) for w in sizes):
                    self.fail(f"[{where}] sizes must be a list of layer widths (integers), got "
                              f"{sizes!r}", line=self.key_line(f"[{where}]", "sizes"))
                connectivity = (self.need(topo, "connectivity", where, float)
                                if "connectivity" in topo else 1.0)
                seed = self.need(topo, "seed", where, int) if "seed" in topo else None
                net = layered(sizes, device=default, connectivity=connectivity, seed=seed,
                              name=name)
            elif kind == "crossbar":
                lines = {k: self.need(topo, k, where, float) if k in topo else None
                         for k in ("r_line", "r_line_word", "r_line_bit")}
                net = crossbar(
                    self.need(topo, "rows", where, int), self.need(topo, "cols", where, int),
                    device=default, r_line=lines["r_line"] or 0.0,
                    r_line_word=lines["r_line_word"], r_line_bit=lines["r_line_bit"], name=name)
            else:
                net = random_network(
                    self.need(topo, "n_nodes", where, int),
                    edge_prob=float(self.need(topo, "edge_prob", where, float)),
                    n_inputs=self.need(topo, "n_inputs", where, int),
                    n_outputs=self.need(topo, "n_outputs", where, int),
                    device=default, seed=self.need(topo, "seed", where, int), name=name)
        except CircuitFileError:
            raise
        except (MemsimError, ValueError, TypeError) as exc:
            field = str(getattr(exc, "field", ""))
            if field not in topo and field.startswith("r_line"):
                field = "r_line"  # r_line sets both line kinds
            line = self.key_line("[topology]", field) if field in topo else None
            self.fail(f"[topology] {exc}", line=line or self.table_line("[topology]"))
        return self._finish(net, meta)

    def _finish(self, net: Network, meta: Mapping[str, Any]) -> Network:
        return net.replace(meta={**net.meta, "source": str(self.path),
                                 "description": str(meta.get("description", ""))})

    def graph(self, topo: Mapping[str, Any], default: Device | None,
              devices: Mapping[str, Device], name: str) -> Network:
        edges = self.doc.get("edge", [])
        if not edges or not isinstance(edges, list):
            self.fail("a graph topology needs [[edge]] tables with 'from' and 'to'")
        inputs = self.need(topo, "inputs", "topology", list)
        outputs = self.need(topo, "outputs", "topology", list)
        ground = self.need(topo, "ground", "topology", list) if "ground" in topo else []
        g = nx.MultiDiGraph()
        seen: set[frozenset[str]] = set()
        for k, e in enumerate(edges):
            line = self.table_line("[[edge]]", k)
            e = self.table(e, f"[[edge]] number {k + 1}")
            self.known_keys(e, _EDGE_KEYS, "[[edge]]", f"[[edge]] number {k + 1}", k)
            for key in ("from", "to"):
                if key not in e:
                    self.fail(f"[[edge]] number {k + 1} is missing {key!r}; every edge needs "
                              "from = \"<node>\" and to = \"<node>\"", line=line)
            a, b = str(e["from"]), str(e["to"])
            if a == b:
                self.fail(f"[[edge]] connects {a!r} to itself; an edge needs two different "
                          "nodes", line=line)
            pair = frozenset((a, b))
            if pair in seen and "name" not in e:
                self.fail(f"duplicate [[edge]] between {a!r} and {b!r}; remove it, or give "
                          "parallel devices distinct 'name's", line=line)
            seen.add(pair)
            dev_name = e.get("device")
            if dev_name is None:
                if default is None:
                    self.fail("[[edge]] has no 'device' and there is no default [device] table",
                              line=line)
                dev = default
            elif dev_name not in devices:
                self.fail(f"[[edge]] uses device {dev_name!r}, but there is no "
                          f"[devices.{dev_name}] table (have: {', '.join(devices) or 'none'})",
                          line=line)
            else:
                dev = devices[dev_name]
            g.add_edge(a, b, device=dev, name=str(e.get("name", f"{a}-{b}")))
        nodes = set(g.nodes)
        for label, terms in (("inputs", inputs), ("outputs", outputs), ("ground", ground)):
            for t in terms:
                if str(t) not in nodes:
                    self.fail(f"[topology] {label} names node {t!r}, which no [[edge]] touches "
                              f"(nodes: {', '.join(sorted(nodes))})",
                              line=self.key_line("[topology]", label))
        return from_networkx(g, inputs=[str(t) for t in inputs],
                             outputs=[str(t) for t in outputs], ground=[str(t) for t in ground],
                             device=default or next(iter(devices.values())), name=name)


def load(path: str | Path) -> Network:
    """Load a circuit file (TOML, see the module docstring; or a SPICE netlist ``.cir``/``.sp``).

    Raises
    ------
    CircuitFileError
        Naming the file, the line or field, and how to fix it: unknown node, edge to itself,
        duplicate edge, missing field, unknown device model, unit typo, invalid TOML.

    Examples
    --------
    >>> import memsim
    >>> net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    >>> net.name, net.n_edges
    ('paper_2x4x2', 16)
    """
    p = Path(path)
    if p.suffix.lower() in (".cir", ".sp", ".spice", ".net"):
        from memsim.spice import read_netlist  # type: ignore[attr-defined]

        return read_netlist(p)  # type: ignore[no-any-return]
    if not p.exists():
        raise CircuitFileError(p, "no such file (circuits ship in the circuits/ folder; "
                               "memsim.circuit_path(name) finds them)")
    return _Reader(p).network()


def circuit_path(name: str) -> Path:
    """Path of a named circuit shipped in ``circuits/`` (e.g. ``"paper_2x4x2"``), from a source
    checkout or an installed wheel alike (:func:`memsim.data_path`).

    Raises
    ------
    CircuitFileError
        If no circuit of that name ships (the message lists the known ones).

    Examples
    --------
    >>> import memsim
    >>> memsim.circuit_path("wheatstone").name
    'wheatstone.toml'
    """
    return data_path("circuits", name)
