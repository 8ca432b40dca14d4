"""Circuit files in TOML: ``memsim.load(path)``.

A circuit file has a ``[circuit]`` table (name, description), one or more device tables and a
``[topology]`` table. Values with units may be plain numbers in SI base units or strings such
as ``"10 kohm"``, ``"1.5 V"``, ``"2 ms"``. Example (``circuits/paper_2x4x2.toml``)::

    [circuit]
    name = "paper_2x4x2"

    [device]                  # the default device of every memristor edge
    preset = "pershin2011"    # optional starting point; fields below override it
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
from typing import Any

import networkx as nx

from memsim.circuit.builders import crossbar, from_networkx, layered, random_network
from memsim.circuit.network import Network
from memsim.devices.models import HP, VTEAM, Device, Linear, Resistor, Threshold
from memsim.devices.presets import PRESETS
from memsim.errors import CircuitFileError, MemsimError

__all__ = ["load", "parse_quantity"]

_MODELS: dict[str, type[Device]] = {
    "resistor": Resistor, "hp": HP, "threshold": Threshold, "vteam": VTEAM, "linear": Linear,
}
_UNITS: dict[str, str] = {
    "r": "ohm", "r_on": "ohm", "r_off": "ohm", "mu_v": "m^2/(V s)", "d": "m", "alpha": "",
    "beta": "", "v_t": "V", "k_on": "1/s", "k_off": "1/s", "v_on": "V", "v_off": "V",
    "r_line": "ohm", "r_line_word": "ohm", "r_line_bit": "ohm",
}
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
        try:
            self.doc = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            line = re.search(r"line (\d+)", str(exc))
            raise CircuitFileError(path, f"not valid TOML: {exc}",
                                   int(line.group(1)) if line else None) from None
        self.lines = self.text.splitlines()

    def fail(self, message: str, key: str | None = None, line: int | None = None) -> None:
        if line is None and key is not None:
            line = self.line_of(key)
        raise CircuitFileError(self.path, message, line)

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
        table = dict(table)
        base: Device | None = None
        line = self.table_line(f"[{where}]")
        if "preset" in table:
            name = table.pop("preset")
            if name not in PRESETS:
                self.fail(f"[{where}] unknown preset {name!r}; known: {', '.join(sorted(PRESETS))}",
                          line=self.line_of("preset", (line or 1) - 1))
            base = PRESETS[name][0]
        model = table.pop("model", None)
        if model is None and base is None:
            self.fail(f"[{where}] needs 'model' ({', '.join(_MODELS)}) or 'preset'", line=line)
        if model is not None:
            if str(model).lower() not in _MODELS:
                self.fail(f"[{where}] unknown device model {model!r}; use one of "
                          f"{', '.join(_MODELS)}", line=self.line_of("model", (line or 1) - 1))
            cls = _MODELS[str(model).lower()]
            if base is not None and not isinstance(base, cls):
                self.fail(f"[{where}] preset and model disagree", line=line)
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
        try:
            return base.replace(**values) if base is not None else cls(**values)
        except MemsimError as exc:
            self.fail(f"[{where}] {exc}", line=line)
        raise AssertionError  # unreachable

    def need(self, table: Mapping[str, Any], key: str, where: str, kind: type) -> Any:
        if key not in table:
            self.fail(f"[{where}] is missing the field {key!r}", line=self.table_line(f"[{where}]"))
        value = table[key]
        if kind is float:
            try:
                return parse_quantity(value, _UNITS.get(key, ""), key)
            except ValueError as exc:
                self.fail(f"[{where}] {exc}", key=key)
        if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
            self.fail(f"[{where}] {key} must be a {kind.__name__}, got {value!r}", key=key)
        return value

    def network(self) -> Network:
        doc = self.doc
        known = {"circuit", "device", "devices", "topology", "edge"}
        for key in doc:
            if key not in known:
                self.fail(f"unknown table [{key}]; expected {', '.join(sorted(known))}", key=key)
        meta = doc.get("circuit", {})
        name = str(meta.get("name", self.path.stem))
        devices = {k: self.device(v, f"devices.{k}") for k, v in doc.get("devices", {}).items()}
        default = self.device(doc["device"], "device") if "device" in doc else None
        if "topology" not in doc:
            self.fail("missing [topology] table (kind = layered | crossbar | random | graph)")
        topo = doc["topology"]
        kind = topo.get("kind")
        where = "topology"
        kinds = ("layered", "crossbar", "random", "graph")
        if kind not in kinds:
            self.fail(f"[topology] kind must be one of {', '.join(kinds)}, got {kind!r}",
                      key="kind")
        if kind != "graph" and default is None:
            self.fail(f"a {kind} topology needs a [device] table")
        try:
            if kind == "graph":
                return self._finish(self.graph(topo, default, devices, name), meta)
            assert default is not None
            if kind == "layered":
                sizes = self.need(topo, "sizes", where, list)
                net = layered(sizes, device=default, connectivity=float(topo.get(
                    "connectivity", 1.0)), seed=topo.get("seed"), name=name)
            elif kind == "crossbar":
                net = crossbar(
                    self.need(topo, "rows", where, int), self.need(topo, "cols", where, int),
                    device=default,
                    r_line=parse_quantity(topo.get("r_line", 0.0), "ohm", "r_line"),
                    r_line_word=_opt(topo, "r_line_word"), r_line_bit=_opt(topo, "r_line_bit"),
                    name=name)
            else:
                net = random_network(
                    self.need(topo, "n_nodes", where, int),
                    edge_prob=float(self.need(topo, "edge_prob", where, float)),
                    n_inputs=self.need(topo, "n_inputs", where, int),
                    n_outputs=self.need(topo, "n_outputs", where, int),
                    device=default, seed=self.need(topo, "seed", where, int), name=name)
        except CircuitFileError:
            raise
        except (MemsimError, ValueError) as exc:
            self.fail(f"[topology] {exc}", line=self.table_line("[topology]"))
        return self._finish(net, meta)

    def _finish(self, net: Network, meta: Mapping[str, Any]) -> Network:
        return net.replace(meta={**net.meta, "source": str(self.path),
                                 "description": str(meta.get("description", ""))})

    def graph(self, topo: Mapping[str, Any], default: Device | None,
              devices: Mapping[str, Device], name: str) -> Network:
        edges = self.doc.get("edge", [])
        if not edges:
            self.fail("a graph topology needs [[edge]] tables with 'from' and 'to'")
        inputs = self.need(topo, "inputs", "topology", list)
        outputs = self.need(topo, "outputs", "topology", list)
        ground = topo.get("ground", [])
        g = nx.MultiDiGraph()
        seen: set[frozenset[str]] = set()
        nodes = {str(n) for e in edges for n in (e.get("from"), e.get("to")) if n is not None}
        for k, e in enumerate(edges):
            line = self.table_line("[[edge]]", k)
            for key in ("from", "to"):
                if key not in e:
                    self.fail(f"[[edge]] number {k + 1} is missing {key!r}", line=line)
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
        g.add_nodes_from(sorted(nodes - set(g.nodes)))
        for label, terms in (("inputs", inputs), ("outputs", outputs), ("ground", ground)):
            for t in terms:
                if str(t) not in nodes:
                    self.fail(f"[topology] {label} names node {t!r}, which no [[edge]] touches "
                              f"(nodes: {', '.join(sorted(nodes))})", key=label)
        return from_networkx(g, inputs=[str(t) for t in inputs],
                             outputs=[str(t) for t in outputs], ground=[str(t) for t in ground],
                             device=default or next(iter(devices.values())), name=name)


def _opt(table: Mapping[str, Any], key: str) -> float | None:
    return None if key not in table else parse_quantity(table[key], "ohm", key)


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
    """Path of a named circuit shipped in ``circuits/`` (e.g. ``"paper_2x4x2"``)."""
    root = Path(__file__).resolve().parents[2] / "circuits"
    p = root / (name if name.endswith(".toml") else f"{name}.toml")
    if not p.exists():
        known = sorted(q.stem for q in root.glob("*.toml"))
        raise CircuitFileError(p, f"no circuit named {name!r}; known: {', '.join(known)}")
    return p
