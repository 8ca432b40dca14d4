"""Read a SPICE netlist into a :class:`~memsim.circuit.Network` (and its drives).

memsim reads the subset it writes (:func:`memsim.spice.to_netlist`) plus the same elements
written by hand:

* ``R<name> n1 n2 <value>``: a resistor edge (plus at ``n1``);
* ``X<name> n1 n2 memsim_<model>… k=v …``: an instance of one of memsim's subcircuits
  (``memsim_hp_<window>_p<p>``, ``memsim_vteam_<window>_p<p>``, ``memsim_linear``,
  ``memsim_threshold``); parameters left out take the subcircuit's defaults;
* ``A<name> n1 n2 <model>`` with ``.model <model> memristor(rmin rmax rinit alpha beta vt)``:
  ngspice's XSPICE threshold memristor. Its polarity is opposite to memsim's, so the edge runs
  from ``n2`` (plus) to ``n1`` (minus), and ``x0 = (rmax - rinit) / (rmax - rmin)``;
* ``V<name> n 0 <source>``: an input driven by ``DC``, ``PULSE``, ``SIN`` or ``PWL``; a
  plain 0 V source (no waveform) is an output's ammeter; a 0 V source between two other
  nodes is a probe and joins them;
* ``.subckt`` blocks of memsim's own subcircuits (they must match memsim's text), ``.model``
  cards of type ``memristor``, ``.tran``, ``.op``, ``.options``, ``.save``, ``.print``,
  ``.plot``, ``.title``, ``.control`` … ``.endc`` (skipped) and ``.end``.

Anything else raises :class:`~memsim.errors.CircuitFileError` naming the line and what is
supported. Node ``0`` (or ``gnd``) is the ground. The first line is the title, as in every
SPICE deck. Comment lines ``*@memsim …`` written by memsim restore node order, roles,
original names and pruned edges; without them, nodes are numbered in order of appearance and
element names become edge names.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import NoReturn

import numpy as np

from memsim.circuit.network import Network, Role
from memsim.devices.models import N_PARAMS, Model, Window, device_from_row
from memsim.errors import CircuitFileError, MemsimError
from memsim.solve.drives import DC, PWL, Drive, Pulse, Sine
from memsim.spice.netlist import _FIELDS, _PARAMS, subcircuit

__all__ = ["ParsedNetlist", "parse_netlist", "parse_netlist_file", "parse_number", "read_netlist"]

SUPPORTED = ("memsim reads R, V, X (instances of memsim's subcircuits) and A (XSPICE memristor) "
             "elements and the dot-commands .subckt/.ends (memsim's own), .model (memristor), "
             ".tran, .op, .options, .save, .print, .plot, .title, .control/.endc and .end")

_SCALE = {"t": 12, "g": 9, "meg": 6, "k": 3, "": 0, "m": -3, "u": -6, "n": -9, "p": -12,
          "f": -15}  # powers of ten
_NUMBER = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)(meg|mil|[tgkmunpf])?[a-z]*$")
_SUBCKT = re.compile(r"^memsim_(?:(hp|vteam)_(none|joglekar|biolek|prodromakis)_p([0-9pe\-]+)"
                     r"|(linear)|(threshold))$")
_ROLES = {"b": Role.BULK, "i": Role.INPUT, "o": Role.OUTPUT, "g": Role.GROUND}
_GROUND = ("0", "gnd")


def parse_number(text: str) -> float:
    """A SPICE number: ``1k``, ``10meg``, ``2.5u``, ``1e-3``, ``{0.5}``, ``100ohm``.

    >>> parse_number("10meg"), parse_number("2.5u"), parse_number("1kohm")
    (10000000.0, 2.5e-06, 1000.0)

    Raises
    ------
    ValueError
        If the text is not a number (expressions are not evaluated).
    """
    s = text.strip().lower()
    if s.startswith("{") and s.endswith("}"):
        s = s[1:-1].strip()
    m = _NUMBER.match(s)
    if not m:
        raise ValueError(f"{text!r} is not a number (memsim does not evaluate expressions)")
    if m.group(2) == "mil":
        return float(m.group(1)) * 25.4e-6
    # scale in decimal, so that '2.5u' is the double nearest 2.5e-6, as '2.5e-6' would be
    return float(Decimal(m.group(1)).scaleb(_SCALE[m.group(2) or ""]))


@dataclass(frozen=True)
class ParsedNetlist:
    """What :func:`parse_netlist` read.

    Attributes
    ----------
    network : Network
    drives : dict of str to Drive
        The drive of each driven input, by the input's node name.
    t_step, t_end : float or None
        From a ``.tran`` line.
    title : str
    """

    network: Network
    drives: dict[str, Drive] = field(default_factory=dict)
    t_step: float | None = None
    t_end: float | None = None
    title: str = ""


@dataclass
class _Line:
    number: int
    text: str


@dataclass
class _Edge:
    name: str
    a: str
    b: str
    model: int
    row: np.ndarray
    x0: float
    line: int
    element: str = ""


class _Parser:
    def __init__(self, text: str, source: str):
        self.source = source
        self.raw = text.splitlines()
        self.meta: dict[str, list[list[str]]] = {}
        self.edges: list[_Edge] = []
        self.sources: list[tuple[str, str, str, str, int]] = []  # name, n+, n-, spec, line
        self.models: dict[str, tuple[dict[str, float], int]] = {}
        self.pending_a: list[tuple[str, str, str, str, int]] = []
        self.order: list[str] = []
        self.t_step: float | None = None
        self.t_end: float | None = None
        self.elements: set[str] = set()

    def fail(self, message: str, line: int | None) -> NoReturn:
        raise CircuitFileError(self.source, message, line)

    # ------------------------------------------------------------------ lines
    def logical_lines(self) -> list[_Line]:
        out: list[_Line] = []
        for k, raw in enumerate(self.raw[1:], start=2):
            s = raw.rstrip()
            if s.startswith("*@memsim"):
                self.meta_line(s, k)
                continue
            stripped = s.lstrip()
            if not stripped or stripped.startswith("*"):
                continue
            s = re.split(r";|\s\$\s|\s\$$", stripped)[0].rstrip()
            if not s:
                continue
            if s.startswith("+"):
                if not out:
                    self.fail("a continuation line '+' must follow another line", k)
                out[-1].text += " " + s[1:].strip()
                continue
            out.append(_Line(k, s))
        return out

    def meta_line(self, s: str, line: int) -> None:
        parts = s.split(None, 2)
        if len(parts) < 2:
            self.fail("empty *@memsim line", line)
        kind, rest = parts[1], parts[2] if len(parts) > 2 else ""
        try:
            self.meta_entry(kind, rest, line)
        except ValueError as exc:  # also json.JSONDecodeError
            self.fail(f"cannot read this *@memsim {kind} line ({exc})", line)

    def meta_entry(self, kind: str, rest: str, line: int) -> None:
        if kind == "network":
            self.meta.setdefault(kind, []).append([json.loads(rest)])
        elif kind in ("nodes", "inputs", "outputs"):
            self.meta.setdefault(kind, []).append(rest.lower().split())
        elif kind == "rename":
            what, spice, original = rest.split(None, 2)
            self.meta.setdefault(f"rename {what}", []).append([spice.lower(),
                                                               json.loads(original)])
        elif kind == "open":
            self.meta.setdefault(kind, []).append(rest.lower().split() + [str(line)])
        elif kind == "float":
            self.meta.setdefault(kind, []).append(rest.lower().split())
        else:
            self.fail(f"unknown *@memsim line kind {kind!r}", line)

    # ------------------------------------------------------------------ parsing
    def parse(self) -> ParsedNetlist:
        lines = self.logical_lines()
        k = 0
        while k < len(lines):
            ln = lines[k]
            low = ln.text.lower()
            word = low.split()[0]
            if word == ".subckt":
                k = self.subckt(lines, k)
                continue
            if word == ".control":
                while k < len(lines) and lines[k].text.lower().split()[0] != ".endc":
                    k += 1
                if k == len(lines):
                    self.fail(".control without .endc", ln.number)
            elif word.startswith("."):
                self.dot(word, low, ln.number)
                if word == ".end":
                    break
            else:
                self.element(low, ln.number)
            k += 1
        for name, n1, n2, model, line in self.pending_a:
            self.xspice(name, n1, n2, model, line)
        return self.build()

    def subckt(self, lines: list[_Line], k: int) -> int:
        head = lines[k]
        name = head.text.lower().split()[1] if len(head.text.split()) > 1 else ""
        m = _SUBCKT.match(name)
        body = [head.text]
        j = k + 1
        while j < len(lines) and lines[j].text.lower().split()[0] != ".ends":
            body.append(lines[j].text)
            j += 1
        if j == len(lines):
            self.fail(f".subckt {name} has no .ends", head.number)
        body.append(lines[j].text)
        if m is None:
            self.fail(f"subcircuit {name!r} is not one of memsim's (memsim_hp_<window>_p<p>, "
                      "memsim_vteam_<window>_p<p>, memsim_linear, memsim_threshold); "
                      + SUPPORTED, head.number)
        model, window, p = self.variant(name, head.number)
        expected = [s for s in subcircuit(model, window, p).splitlines()
                    if not s.startswith("*")]

        def norm(s: str) -> str:
            s = " ".join(s.lower().split())
            return "" if s.startswith("*") else s

        got = [norm(s) for s in body if norm(s)]
        if got[:-1] != [norm(s) for s in expected][:-1] or got[-1].split()[0] != ".ends":
            self.fail(f"subcircuit {name!r} differs from memsim's definition; memsim reads "
                      "instances of its own subcircuits only (re-export it with "
                      "memsim.spice.to_netlist, or delete the .subckt block)", head.number)
        return j + 1

    def variant(self, name: str, line: int) -> tuple[int, int, float]:
        m = _SUBCKT.match(name)
        if m is None:
            self.fail(f"{name!r} is not a memsim subcircuit (memsim_hp_<window>_p<p>, "
                      "memsim_vteam_<window>_p<p>, memsim_linear, memsim_threshold)", line)
        if m.group(4):
            return int(Model.LINEAR), 0, 2.0
        if m.group(5):
            return int(Model.THRESHOLD), 0, 2.0
        model = Model.HP if m.group(1) == "hp" else Model.VTEAM
        try:
            p = float(m.group(3).replace("p", "."))
        except ValueError:
            self.fail(f"cannot read the window exponent in {name!r}", line)
        return int(model), int(Window[m.group(2).upper()]), p

    def dot(self, word: str, low: str, line: int) -> None:
        if word in (".op", ".options", ".option", ".opt", ".save", ".print", ".plot",
                    ".title", ".end", ".ends", ".endc"):
            return
        if word == ".tran":
            toks = [t for t in low.split()[1:] if t != "uic"]
            try:
                vals = [parse_number(t) for t in toks]
            except ValueError as exc:
                self.fail(f".tran: {exc}", line)
            if len(vals) < 2:
                self.fail(".tran needs at least tstep and tstop", line)
            self.t_step, self.t_end = vals[0], vals[1]
            return
        if word == ".model":
            self.model_card(low, line)
            return
        self.fail(f"unsupported command {word!r}; {SUPPORTED}", line)

    def model_card(self, low: str, line: int) -> None:
        m = re.match(r"^\.model\s+(\S+)\s+(\w+)\s*\(?(.*?)\)?\s*$", low)
        if m is None:
            self.fail("cannot read this .model line", line)
        name, kind, body = m.group(1), m.group(2), m.group(3)
        if kind != "memristor":
            self.fail(f".model {name} has type {kind!r}; memsim reads only 'memristor' "
                      "(ngspice's XSPICE threshold model)", line)
        params: dict[str, float] = {}
        for key, value in re.findall(r"(\w+)\s*=\s*(\S+)", body):
            try:
                params[key] = parse_number(value)
            except ValueError as exc:
                self.fail(f".model {name}: {key}: {exc}", line)
        missing = [k for k in ("rmin", "rmax", "rinit", "alpha", "beta", "vt") if k not in params]
        if missing:
            self.fail(f".model {name} lacks {', '.join(missing)}; give all of rmin rmax rinit "
                      "alpha beta vt", line)
        self.models[name] = (params, line)

    def note(self, *nodes: str) -> None:
        for n in nodes:
            if n not in self.order:
                self.order.append(n)

    def element(self, low: str, line: int) -> None:
        toks = low.split()
        name = toks[0]
        if name in self.elements:
            self.fail(f"element {name!r} is defined twice", line)
        self.elements.add(name)
        if any(name in chunk for chunk in self.meta.get("float", [])):
            return  # memsim's ground tie of a floating part: not a device of the network
        letter = name[0]
        if letter == "r":
            if len(toks) < 4:
                self.fail(f"resistor {name!r} needs two nodes and a value", line)
            try:
                r = parse_number(toks[3].removeprefix("r="))
            except ValueError as exc:
                self.fail(f"resistor {name!r}: {exc}", line)
            row = np.zeros(N_PARAMS)
            row[0] = row[1] = r
            self.add_edge(name, toks[1], toks[2], int(Model.RESISTOR), row, 0.0, line)
        elif letter == "x":
            self.instance(name, toks, line)
        elif letter == "a":
            if len(toks) != 4:
                self.fail(f"XSPICE element {name!r} must read 'A<name> n1 n2 <model>'", line)
            self.note(toks[1], toks[2])
            self.pending_a.append((name, toks[1], toks[2], toks[3], line))
            self.edges.append(_Edge(name, "", "", -1, np.zeros(N_PARAMS), 0.0, line, name))
        elif letter == "v":
            if len(toks) < 3:
                self.fail(f"voltage source {name!r} needs two nodes", line)
            self.note(toks[1], toks[2])
            self.sources.append((name, toks[1], toks[2], " ".join(toks[3:]), line))
        else:
            self.fail(f"unsupported element {toks[0]!r}; {SUPPORTED}", line)

    def add_edge(self, name: str, a: str, b: str, model: int, row: np.ndarray, x0: float,
                 line: int) -> None:
        self.note(a, b)
        if a == b:
            self.fail(f"element {name!r} connects node {a!r} to itself", line)
        self.edges.append(_Edge(name, a, b, model, row, x0, line, name))

    def instance(self, name: str, toks: list[str], line: int) -> None:
        if len(toks) < 4:
            self.fail(f"subcircuit instance {name!r} needs two nodes and a subcircuit name", line)
        model, window, p = self.variant(toks[3], line)
        code = Model(model)
        defaults = dict(kv.split("=") for kv in _PARAMS[code].split())
        given: dict[str, str] = {}
        for tok in " ".join(toks[4:]).replace(" = ", "=").split():
            if "=" not in tok:
                self.fail(f"instance {name!r}: expected key=value, got {tok!r}", line)
            key, value = tok.split("=", 1)
            if key not in defaults:
                self.fail(f"instance {name!r}: unknown parameter {key!r} of {toks[3]}; it "
                          f"takes {', '.join(defaults)}", line)
            given[key] = value
        vals: dict[str, float] = {}
        for key, default in defaults.items():
            try:
                vals[key] = parse_number(given.get(key, default))
            except ValueError as exc:
                self.fail(f"instance {name!r}: {key}: {exc}", line)
        if vals["hold"] not in (0.0, 1.0):
            self.fail(f"instance {name!r}: hold must be 0 or 1 (1 freezes the state for .op)",
                      line)
        row = np.zeros(N_PARAMS)
        fields = [vals[k] for k in _FIELDS[code]]
        row[:len(fields)] = fields
        if code == Model.HP:
            row[3], row[4] = window, p
        elif code == Model.VTEAM:
            row[8], row[9] = window, p
        self.add_edge(name, toks[1], toks[2], model, row, vals["x0"], line)

    def xspice(self, name: str, n1: str, n2: str, model: str, line: int) -> None:
        if model not in self.models:
            self.fail(f"XSPICE element {name!r} uses model {model!r}, which no '.model "
                      f"{model} memristor(...)' line defines", line)
        prm, _ = self.models[model]
        row = np.zeros(N_PARAMS)
        row[:5] = prm["rmin"], prm["rmax"], prm["alpha"], prm["beta"], prm["vt"]
        span = prm["rmax"] - prm["rmin"]
        x0 = (prm["rmax"] - prm["rinit"]) / span if span > 0 else 0.0
        if not -1e-12 <= x0 <= 1 + 1e-12:
            self.fail(f"model {model!r}: rinit must lie in [rmin, rmax]", line)
        for edge in self.edges:
            if edge.element == name:
                # ngspice's element drives R up for V(n1, n2) > 0: memsim's edge is n2 -> n1
                edge.a, edge.b, edge.model = n2, n1, int(Model.THRESHOLD)
                edge.row, edge.x0 = row, float(min(max(x0, 0.0), 1.0))

    # ------------------------------------------------------------------ assembly
    def build(self) -> ParsedNetlist:
        has_meta = "nodes" in self.meta
        alias: dict[str, str] = {}
        drives: dict[str, Drive] = {}
        ammeters: list[str] = []
        driven: list[str] = []
        ties: list[str] = []
        for name, plus, minus, spec, line in self.sources:
            drive = self.read_source(name, spec, line)
            if plus in _GROUND and minus in _GROUND:
                self.fail(f"voltage source {name!r} connects ground to ground", line)
            if plus not in _GROUND and minus not in _GROUND:
                if isinstance(drive, DC) and drive.v == 0 and spec_is_plain(spec):
                    alias[minus] = plus  # a 0 V probe: the two nodes are one
                    continue
                self.fail(f"voltage source {name!r} sits between two nodes ({plus}, {minus}); "
                          "memsim drives inputs against ground only (0 V probes excepted)",
                          line)
            node, sign = (plus, 1.0) if minus in _GROUND else (minus, -1.0)
            plain_zero = isinstance(drive, DC) and drive.v == 0 and spec_is_plain(spec)
            if has_meta:
                role = next((r for r in "iog" if node in self.meta_roles(r)), "b")
            else:
                role = "g" if name.startswith("vgnd_") else ("o" if plain_zero else "i")
            if role == "g" and plain_zero:
                ties.append(node)
            elif role == "o" and plain_zero:
                ammeters.append(node)
            elif role == "i":
                drives[node] = drive if sign > 0 else _negate(drive)
                driven.append(node)
            else:
                self.fail(f"voltage source {name!r} holds node {node!r}, which the *@memsim "
                          "lines do not list as an input (outputs and ground ties take a plain "
                          "0 V source)", line)

        if not self.edges:
            self.fail("no circuit elements (R, X or A lines) after the title line: not a "
                      "netlist memsim can simulate", None)

        def resolve(n: str) -> str:
            while n in alias:
                n = alias[n]
            return "0" if n in _GROUND else n

        for e in self.edges:
            e.a, e.b = resolve(e.a), resolve(e.b)
            if e.a == e.b:
                self.fail(f"element {e.name!r} connects node {e.a!r} to itself", e.line)
        if has_meta:
            return self.build_meta(drives)
        used = [resolve(n) for n in self.order]
        nodes = [n for n in dict.fromkeys(used) if any(n in (e.a, e.b) for e in self.edges)
                 or n in driven or n in ammeters or n in ties]
        roles = []
        for n in nodes:
            if n == "0" or n in ties:
                roles.append(Role.GROUND)
            elif n in driven:
                roles.append(Role.INPUT)
            elif n in ammeters:
                roles.append(Role.OUTPUT)
            else:
                roles.append(Role.BULK)
        index = {n: k for k, n in enumerate(nodes)}
        edges = list(self.edges)
        net = self.network(nodes, roles, [index[n] for n in driven if n in index],
                           [index[n] for n in ammeters if n in index], edges, index,
                           [e.name for e in edges], self.raw[0].strip() if self.raw else "")
        return ParsedNetlist(net, drives, self.t_step, self.t_end,
                             self.raw[0].strip() if self.raw else "")

    def meta_roles(self, letter: str) -> set[str]:
        out = set()
        for chunk in self.meta.get("nodes", []):
            for item in chunk:
                node, _, role = item.rpartition(":")
                if role == letter:
                    out.add(node)
        return out

    def build_meta(self, drives: dict[str, Drive]) -> ParsedNetlist:
        nodes: list[str] = []
        roles: list[Role] = []
        for chunk in self.meta["nodes"]:
            for item in chunk:
                node, _, role = item.rpartition(":")
                if role not in _ROLES or not node:
                    self.fail(f"*@memsim nodes: cannot read {item!r}", None)
                nodes.append(node)
                roles.append(_ROLES[role])
        index = {n: k for k, n in enumerate(nodes)}
        for e in self.edges:
            for n in (e.a, e.b):
                if n not in index:
                    self.fail(f"element {e.name!r} touches node {n!r}, which the *@memsim "
                              "nodes lines do not list", e.line)
        terminals = {}
        for kind in ("inputs", "outputs"):
            names = [n for chunk in self.meta.get(kind, []) for n in chunk]
            unknown = [n for n in names if n not in index]
            if unknown:
                self.fail(f"*@memsim {kind} names {unknown[0]!r}, which the *@memsim nodes "
                          "lines do not list", None)
            terminals[kind] = [index[n] for n in names]
        # edge names: element names without their letter; pruned edges at their indices
        edges: list[_Edge] = list(self.edges)
        for e in edges:
            e.name = e.element[1:]
        opened = [self.open_edge(rec, index) for rec in self.meta.get("open", [])]
        for pos, edge in sorted(opened, key=lambda item: item[0]):
            edges.insert(pos, edge)
        inputs, outputs = terminals["inputs"], terminals["outputs"]
        node_names = list(nodes)
        for spice, original in self.meta.get("rename node", []):
            if spice in index:
                node_names[index[spice]] = original
        edge_rename = dict(self.meta.get("rename edge", []))
        edge_names = [edge_rename.get(e.name, e.name) for e in edges]
        title = self.meta["network"][0][0] if "network" in self.meta else self.raw[0].strip()
        net = self.network(node_names, roles, inputs, outputs, edges, index, edge_names, title)
        named = {node_names[index[n]]: d for n, d in drives.items() if n in index}
        return ParsedNetlist(net, named, self.t_step, self.t_end, self.raw[0].strip())

    def open_edge(self, rec: list[str], index: dict[str, int]) -> tuple[int, _Edge]:
        """A pruned edge of an ``*@memsim open POS NAME A B PARAMS... X0`` line (the line
        number appended), and its position among the edges."""
        line = int(rec[-1])
        try:
            pos, pruned, a, b = int(rec[0]), rec[1], rec[2], rec[3]
            vals = [float(v) for v in rec[4:-1]]
        except (ValueError, IndexError):
            vals, pos, a, b = [], 0, "", ""
        if a not in index or b not in index or len(vals) != N_PARAMS + 1 or pos < 0:
            self.fail("*@memsim open: cannot read this pruned edge (expected POSITION NAME "
                      f"NODE NODE, {N_PARAMS} parameters and the state)", line)
        return pos, _Edge(pruned, a, b, int(Model.OPEN), np.array(vals[:N_PARAMS]),
                          vals[N_PARAMS], line)

    def network(self, node_names: list[str], roles: list[Role], inputs: list[int],
                outputs: list[int], edges: list[_Edge], index: dict[str, int],
                edge_names: list[str], name: str) -> Network:
        for e in edges:
            if e.model != int(Model.OPEN):
                try:
                    device_from_row(e.model, e.row, e.x0)
                except MemsimError as exc:
                    self.fail(f"element {e.element or e.name!r}: {exc}", e.line)
        try:
            return Network(
                node_names=tuple(node_names),
                roles=np.array([int(r) for r in roles], np.int8),
                inputs=np.array(inputs, np.int64),
                outputs=np.array(outputs, np.int64),
                edges=np.array([[index[e.a], index[e.b]] for e in edges], np.int64).reshape(-1, 2),
                model=np.array([e.model for e in edges], np.int64),
                params=np.array([e.row for e in edges]).reshape(-1, N_PARAMS),
                x0=np.array([e.x0 for e in edges]),
                edge_names=tuple(edge_names),
                name=name or "netlist",
            )
        except MemsimError as exc:
            self.fail(f"the netlist does not make a valid network: {exc}", None)

    def read_source(self, name: str, spec: str, line: int) -> Drive:
        s = re.sub(r"\s*\(\s*", "(", spec.strip())
        m = re.search(r"\b(pulse|sin|pwl|exp|sffm|am|trnoise|trrandom)\(([^)]*)\)", s)
        if m is None:
            toks = s.replace("dc ", "").split()
            if len(toks) > 1 and toks[0] != "ac":
                self.fail(f"voltage source {name!r}: cannot read {spec!r}", line)
            try:
                return DC(parse_number(toks[0]) if toks and toks[0] != "ac" else 0.0)
            except ValueError as exc:
                self.fail(f"voltage source {name!r}: {exc}", line)
        kind = m.group(1)
        try:
            args = [parse_number(t) for t in m.group(2).replace(",", " ").split()]
        except ValueError as exc:
            self.fail(f"voltage source {name!r}: {exc}", line)
        try:
            if kind == "pulse":
                return self.pulse(name, args, line)
            if kind == "sin":
                return self.sine(name, args, line)
            if kind == "pwl":
                if len(args) < 2 or len(args) % 2:
                    self.fail(f"{name!r}: PWL needs time-value pairs", line)
                return PWL(args[0::2], args[1::2])
        except MemsimError as exc:
            self.fail(f"voltage source {name!r}: {exc}", line)
        self.fail(f"voltage source {name!r}: {kind.upper()} sources are not supported; use "
                  "DC, PULSE, SIN or PWL", line)

    def pulse(self, name: str, a: list[float], line: int) -> Drive:
        if len(a) < 2:
            self.fail(f"{name!r}: PULSE needs at least v1 and v2", line)
        if len(a) < 6 and (self.t_step is None or self.t_end is None):
            self.fail(f"{name!r}: give the PULSE values v1 v2 td tr tf pw (per), or put a "
                      ".tran line before this source for ngspice's defaults", line)
        ts, te = self.t_step or 0.0, self.t_end or 0.0
        full = (a + [0.0, ts, ts, te][max(len(a) - 2, 0):])[:6]
        # ngspice's default period is tstop: the second pulse would start after the run ends
        period = a[6] if len(a) > 6 else 0.0
        return Pulse(full[0], full[1], delay=full[2], rise=full[3], fall=full[4], width=full[5],
                     period=period)

    def sine(self, name: str, a: list[float], line: int) -> Drive:
        if len(a) < 2:
            self.fail(f"{name!r}: SIN needs at least vo and va", line)
        full = a + [0.0] * (6 - len(a))
        if len(a) < 3:
            if not self.t_end:
                self.fail(f"{name!r}: give the SIN frequency", line)
            full[2] = 1.0 / self.t_end  # type: ignore[operator]
        if full[4] != 0:
            self.fail(f"{name!r}: damped sines (theta != 0) are not supported", line)
        return Sine(full[1], full[2], offset=full[0], delay=full[3], phase=full[5])


def spec_is_plain(spec: str) -> bool:
    """True for a source value without a waveform (``0``, ``DC 0``)."""
    return re.search(r"\b(pulse|sin|pwl|exp|sffm|am)\s*\(", spec) is None


def _negate(drive: Drive) -> Drive:
    if isinstance(drive, DC):
        return DC(-drive.v)
    if isinstance(drive, Pulse):
        return Pulse(-drive.v1, -drive.v2, drive.delay, drive.rise, drive.fall, drive.width,
                     drive.period)
    if isinstance(drive, Sine):
        return Sine(-drive.amplitude, drive.frequency, -drive.offset, drive.delay, drive.phase)
    assert isinstance(drive, PWL)
    return PWL(drive.times, [-v for v in drive.values])


def parse_netlist(text: str, *, source: str = "<string>") -> ParsedNetlist:
    """Read a netlist (see the module docstring for the subset) from ``text``.

    Parameters
    ----------
    text : str
        The netlist; its first line is the title.
    source : str
        Named in error messages (a file name).

    Returns
    -------
    ParsedNetlist

    Raises
    ------
    CircuitFileError
        For any line memsim cannot read, with the line number and what is supported.

    Examples
    --------
    >>> p = parse_netlist('''divider
    ... V1 in 0 DC 1
    ... R1 in mid 1k
    ... R2 mid 0 1k
    ... .op
    ... .end''')
    >>> p.network.node_names, p.network.n_edges, p.drives["in"]
    (('in', '0', 'mid'), 2, DC(v=1.0))
    """
    return _Parser(text, source).parse()


def parse_netlist_file(path: str | Path) -> ParsedNetlist:
    """:func:`parse_netlist` of the file ``path``.

    Raises
    ------
    CircuitFileError
        If the file cannot be read as text, or holds something memsim cannot read.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise CircuitFileError(p, f"cannot read the file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise CircuitFileError(p, "not a text file (a SPICE netlist is plain text)") from None
    return _Parser(text, str(p)).parse()


def read_netlist(path: str | Path) -> Network:
    """The network of the SPICE netlist file ``path`` (drives: :func:`parse_netlist`).

    Raises
    ------
    CircuitFileError
        If the file cannot be read or holds something memsim cannot read.

    Examples
    --------
    >>> import tempfile, pathlib, memsim
    >>> from memsim.spice import write_netlist
    >>> net = memsim.crossbar(2, 2, device=memsim.devices.preset("biolek2009"), r_line=1.0)
    >>> p = write_netlist(pathlib.Path(tempfile.mkdtemp()) / "x.cir", net, 1.0)
    >>> back = read_netlist(p)
    >>> back.node_names == net.node_names and bool((back.params == net.params).all())
    True
    """
    return parse_netlist_file(path).network
