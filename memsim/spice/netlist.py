"""Export a :class:`~memsim.circuit.Network` and its drives as an ngspice netlist.

The netlist is plain text and deterministic (same network and drives, same bytes), so it is
golden-tested without a simulator. How each part is written:

* **Memristors** (HP, VTEAM, Caravelli linear) are behavioural subcircuits with ports
  ``plus minus``. The state ``x`` in [0, 1] (``x = 1`` ON) is the voltage of an internal node
  ``x`` across a 1 F capacitor, so the current a B-source pushes into ``x`` *is* ``dx/dt``; a
  1e12 ohm leak resistor gives the node a DC path (it moves ``x`` by less than 1e-12 per
  second). The port current is ``v(plus,minus) / R(x)`` with ``R(x) = roff - x (roff - ron)``
  and ``x`` clamped to [0, 1]. The state rate is memsim's kernel
  (:func:`memsim.devices.rate`) written as an ngspice expression; a rate that pushes ``x`` out
  of [0, 1] at a bound is multiplied by ``u(1 - x)`` (or ``u(x)``), as the kernel zeroes it,
  so the SPICE state stays in [0, 1] up to one time step's overshoot. Window conventions at
  the bounds: Joglekar has F = 0 at both bounds (a device that reaches a bound sticks there in
  both simulators); Biolek and Prodromakis vanish at the bound only in the pushing direction;
  with no window (and for the linear model) only the clamp stops the state. Powers of a base
  that can be negative are written as products (ngspice's ``pwr()`` keeps the sign of its
  base; ``^`` goes through ``log``).
* **Threshold devices** (Pershin-Di Ventra) use ngspice's XSPICE ``memristor`` code model,
  ``.model mthK memristor(rmin rmax rinit alpha beta vt)``, one model card per distinct
  parameter set. ngspice's element has ``dR/dt = +f(V)`` (a positive voltage drives it OFF),
  the opposite of memsim's convention, so the element is connected **reversed**:
  ``a<edge> <minus> <plus> mthK``. ngspice bounds ``R`` in [rmin, rmax] by stopping the
  integration (it may overshoot by one step); its DC analysis uses ``rinit``. The element
  gives ngspice no usable Jacobian, so it only converges where both its ends are held by
  sources; elsewhere (hidden layers) the threshold model is written as memsim's subcircuit
  ``memsim_threshold`` like the other models (see :func:`threshold_form`).
* **Line resistors** are ``R`` elements; **inputs** are voltage sources ``vin_<node>`` from
  the node to ground with DC / PULSE / SIN / PWL values (:mod:`memsim.solve.drives`);
  grounded **outputs** are 0 V ammeters ``vout_<node>``: ``i(vout_<node>)`` is the current
  flowing from the output node into its ammeter (memsim's ``output_currents``).
* A transient is ``.tran tstep tstop 0 tmax uic``: ``uic`` starts from the capacitor initial
  conditions (the states) instead of a DC operating point, which is undefined for a state
  integrator. For a DC operating point with the states frozen, export with ``op=True``: each
  subcircuit instance gets ``hold=1``, which switches its rate off and pins ``x`` to ``x0``.

* **Floating subnetworks** (parts of the network that touch no driven input, grounded output
  or ground under the given terminal configuration) have no defined potential: memsim holds
  them at 0 V, so no current flows in them (:mod:`memsim.solve.dc`). ngspice would stop on a
  singular matrix, so one node of each such part is tied to ground through ``LEAK_OHMS``
  (``rfloat_<node>``, listed in a ``*@memsim float`` line so that the reader skips it): with
  no source in the part, that fixes it at 0 V exactly as memsim does.

Comment lines starting with ``*@memsim`` carry what SPICE cannot say (node roles and order,
original names, pruned edges) so that :func:`memsim.spice.read_netlist` rebuilds the same
network. Names are lower-cased and non-alphanumeric characters replaced by ``_`` (ngspice is
case-insensitive and reads ``-`` in ``v(a-b)`` as a minus sign); renamed items are recorded.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from memsim.circuit.network import Network, Role
from memsim.devices.models import Model, Window
from memsim.errors import ParameterError
from memsim.solve.drives import DC, PWL, Drive, Pulse, Sine
from memsim.solve.topology import (
    OutputSpec,
    Terminals,
    fixed_nodes,
    floating_nodes,
    terminals,
)

__all__ = [
    "LEAK_OHMS",
    "NetlistNames",
    "floating_parts",
    "input_drives",
    "names",
    "num",
    "source_spec",
    "subcircuit",
    "subcircuit_name",
    "threshold_form",
    "to_netlist",
    "write_netlist",
]

LEAK_OHMS = 1e12
"""Leak resistance from each state node to ground (gives the node a DC path)."""

_WINDOWS = {w: w.name.lower() for w in Window}
_SAFE = re.compile(r"[^a-z0-9_]")
_ROLE_LETTER = {Role.BULK: "b", Role.INPUT: "i", Role.OUTPUT: "o", Role.GROUND: "g"}


# --------------------------------------------------------------------------- numbers and names
def num(value: float) -> str:
    """A float as the shortest text that reads back to the same float.

    >>> num(16000.0), num(1e12), num(1e-14), num(0.1), num(-0.3), num(1e-5)
    ('16000', '1e12', '1e-14', '0.1', '-0.3', '1e-5')

    Raises
    ------
    ParameterError
        For a non-finite value.
    """
    value = float(value)
    if not math.isfinite(value):
        raise ParameterError("value", f"cannot write the non-finite number {value!r} to SPICE")
    plain = repr(value)
    plain = plain[:-2] if plain.endswith(".0") else plain
    sci = plain
    for digits in range(17):
        text = f"{value:.{digits}e}"
        if float(text) == value:
            mant, exp = text.split("e")
            if "." in mant:
                mant = mant.rstrip("0").rstrip(".")
            sci = f"{mant}e{int(exp)}"
            break
    return sci if len(sci) < len(plain) and (len(plain) > 6 or "e" in plain) else plain


def _p_tag(p: float) -> str:
    return "p" + num(p).replace(".", "p")


def subcircuit_name(model: int, window: int = 0, p: float = 2.0) -> str:
    """Name of memsim's subcircuit for a model code (and window and exponent).

    >>> subcircuit_name(1, 2, 2.0), subcircuit_name(4)
    ('memsim_hp_biolek_p2', 'memsim_linear')

    Raises
    ------
    ParameterError
        For a model without a subcircuit (resistor, open).
    """
    code = Model(int(model))
    if code == Model.HP:
        return f"memsim_hp_{_WINDOWS[Window(int(window))]}_{_p_tag(p)}"
    if code == Model.VTEAM:
        return f"memsim_vteam_{_WINDOWS[Window(int(window))]}_{_p_tag(p)}"
    if code == Model.LINEAR:
        return "memsim_linear"
    if code == Model.THRESHOLD:
        return "memsim_threshold"
    raise ParameterError("model", f"{code.name} has no memsim subcircuit")


def _power(base: str, n: float) -> str:
    """``base ** n`` as ngspice text: a product for integer n (exact for any sign of base)."""
    if float(n).is_integer() and 1 <= n <= 64:
        return "*".join([f"({base})"] * int(n))
    return f"pwr(abs({base}),{num(n)})"


def _window(code: Window, p: float, direction: str) -> str:
    """Window F(x) for a drive of sign ``direction`` (``"+"`` or ``"-"``), times the clamp
    ``u(1 - x)`` (``u(x)``) that stops a state pushed through its upper (lower) bound."""
    x = "v(x)"
    stop = "u(1-v(x))" if direction == "+" else "u(v(x))"
    if code == Window.NONE:
        return stop
    if code == Window.JOGLEKAR:
        return f"(1-{_power(f'2*{x}-1', 2 * p)})*{stop}"
    if code == Window.PRODROMAKIS:
        return f"(1-{_power(f'({x}-0.5)*({x}-0.5)+0.75', p)})*{stop}"
    # Biolek: stp(-i) = 0 when driven ON (i > 0), 1 otherwise
    base = x if direction == "+" else f"{x}-1"
    return f"(1-{_power(base, 2 * p)})*{stop}"


_PORT = "v(plus,minus)"
_RES = "(roff-(roff-ron)*min(max(v(x),0),1))"
_CUR = f"({_PORT}/{_RES})"


def _rate(model: Model, window: Window, p: float) -> str:
    """dx/dt as an ngspice expression, zero when it would push x out of [0, 1].

    Every window is >= 0 on [0, 1], so the sign of the rate is the sign of the drive (HP: the
    current; VTEAM: which threshold is crossed; threshold model: the voltage) and the clamp
    goes with the window. The linear model's relaxation term needs the rate's own sign.
    """
    if model == Model.HP:
        on, off = _window(window, p, "+"), _window(window, p, "-")
        return f"kdrift*{_CUR}*({_CUR}>0 ? {on} : {off})"
    if model == Model.VTEAM:
        on = f"kon*pwr(max({_PORT}/von-1,0),aon)*{_window(window, p, '+')}"
        off = f"koff*pwr(max({_PORT}/voff-1,0),aoff)*{_window(window, p, '-')}"
        return f"{on}-{off}"
    if model == Model.THRESHOLD:
        # f(v) piecewise, as memsim's kernel: exactly alpha v below threshold
        f = (f"({_PORT}>vt ? alpha*vt+beta*({_PORT}-vt) : ({_PORT}<-vt ? "
             f"-alpha*vt+beta*({_PORT}+vt) : alpha*{_PORT}))")
        return f"{f}/(roff-ron)*({_PORT}>0 ? u(1-v(x)) : u(v(x)))"
    rate = f"(ron*{_CUR}/beta-alpha*(1-v(x)))"
    return f"({rate}>0 ? {rate}*u(1-v(x)) : {rate}*u(v(x)))"


_PARAMS = {
    Model.HP: "ron=100 roff=16000 kdrift=10000 x0=0.1 hold=0",
    Model.VTEAM: "ron=1000 roff=10000 kon=10 koff=10 von=-0.3 voff=0.3 aon=3 aoff=3 x0=0.5 "
                 "hold=0",
    Model.LINEAR: "ron=100 roff=10000 alpha=0 beta=10 x0=0.5 hold=0",
    Model.THRESHOLD: "ron=1000 roff=10000 alpha=0 beta=1e6 vt=1 x0=0.5 hold=0",
}
_RATE_DOC = {
    Model.HP: "* dx/dt = kdrift i F(x, i)   (kdrift = mu_v ron / D^2)",
    Model.VTEAM: "* dx/dt = kon (v/von - 1)^aon F(x,+) for v < von; "
                 "-koff (v/voff - 1)^aoff F(x,-) for v > voff",
    Model.LINEAR: "* dx/dt = ron i / beta - alpha (1 - x)   (Caravelli, x = 1 - w)",
    Model.THRESHOLD: "* dx/dt = f(v) / (roff - ron), f(v) = beta v + (alpha - beta)/2 "
                     "(|v + vt| - |v - vt|)",
}


def subcircuit(model: int, window: int = 0, p: float = 2.0) -> str:
    """The ``.subckt`` text of memsim's behavioural model (see the module docstring).

    >>> for line in subcircuit(4).splitlines()[:4]:
    ...     print(line)
    .subckt memsim_linear plus minus ron=100 roff=10000 alpha=0 beta=10 x0=0.5 hold=0
    * dx/dt = ron i / beta - alpha (1 - x)   (Caravelli, x = 1 - w)
    Cx x 0 1 IC={x0}
    Rleak x 0 1e12

    Raises
    ------
    ParameterError
        For a model without a subcircuit (resistor, open).
    """
    code = Model(int(model))
    name = subcircuit_name(code, window, p)
    rate = _rate(code, Window(int(window)), p)
    lines = [
        f".subckt {name} plus minus {_PARAMS[code]}",
        _RATE_DOC[code],
        "Cx x 0 1 IC={x0}",
        f"Rleak x 0 {num(LEAK_OHMS)}",
        f"Bport plus minus I={{{_CUR}}}",
        f"Bx 0 x I={{(1-hold)*({rate})-hold*(v(x)-x0)}}",
        f".ends {name}",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class NetlistNames:
    """How a network's names map to SPICE: ``nodes[n]`` is node n's SPICE name ("0" for the
    ground), ``edges[e]`` edge e's name without the element letter, ``element[e]`` its full
    element name (``r…``, ``x…``, ``a…``)."""

    nodes: tuple[str, ...]
    edges: tuple[str, ...]
    element: tuple[str, ...]

    def state_vector(self, e: int) -> str:
        """The ngspice vector holding edge ``e``'s state (a subcircuit device)."""
        return f"{self.element[e]}.x"


def _unique(names: Sequence[str], reserved: set[str]) -> list[str]:
    used = set(reserved)
    out: list[str] = []
    for s in names:
        base = _SAFE.sub("_", str(s).lower()) or "_"
        cand, k = base, 1
        while cand in used:
            cand, k = f"{base}_{k}", k + 1
        used.add(cand)
        out.append(cand)
    return out


def names(net: Network, *, xspice: bool = False) -> NetlistNames:
    """SPICE names of a network's nodes and edges (deterministic, collision-free).

    ``xspice``: threshold devices are XSPICE elements (``a…``) rather than subcircuits.

    >>> import memsim
    >>> nm = names(memsim.layered([1, 1], device=memsim.devices.preset("biolek2009")))
    >>> nm.nodes, nm.element, nm.state_vector(0)
    (('in0', 'out0'), ('xin0_out0',), 'xin0_out0.x')
    """
    ground = [k for k in range(net.n_nodes) if net.roles[k] == Role.GROUND]
    others = [k for k in range(net.n_nodes) if net.roles[k] != Role.GROUND]
    nodes = [""] * net.n_nodes
    spice_others = _unique([net.node_names[k] for k in others], {"0", "gnd"})
    for k, s in zip(others, spice_others, strict=True):
        nodes[k] = s
    if ground:
        nodes[ground[0]] = "0"
        rest = _unique([net.node_names[k] for k in ground[1:]], {"0", "gnd", *spice_others})
        for k, s in zip(ground[1:], rest, strict=True):
            nodes[k] = s
    edges = _unique(net.edge_names, set())
    letters = {int(Model.RESISTOR): "r", int(Model.OPEN): "",
               int(Model.THRESHOLD): "a" if xspice else "x"}
    element = [letters.get(int(m), "x") + s for m, s in zip(net.model, edges, strict=True)]
    return NetlistNames(tuple(nodes), tuple(edges), tuple(element))


def threshold_form(net: Network, drive: Any = None, *, outputs: OutputSpec = "ground",
                   threshold: str = "auto") -> str:
    """How threshold devices are written: ``"xspice"`` or ``"subckt"``.

    ``"auto"`` picks ngspice's XSPICE ``memristor`` when both ends of every threshold device
    are held by a source (driven input, grounded output, ground), and memsim's subcircuit
    otherwise. The XSPICE model reports no usable Jacobian (its DC analysis leaves the node
    equations singular, and in a transient its partial derivative is an integration factor,
    not a conductance), so ngspice's Newton iteration fails ("timestep too small") as soon as
    a free node hangs on threshold devices only, as in every hidden layer.

    Raises
    ------
    ParameterError
        If ``threshold`` is not "auto", "xspice" or "subckt".

    >>> import memsim
    >>> net = memsim.layered([2, 4, 2], device=memsim.devices.preset("pershin2011"))
    >>> threshold_form(net, 1.0), threshold_form(net, 1.0, threshold="xspice")
    ('subckt', 'xspice')
    """
    if threshold not in ("auto", "xspice", "subckt"):
        raise ParameterError("threshold", f"use 'auto', 'xspice' or 'subckt', got {threshold!r}")
    if threshold != "auto":
        return threshold
    held = fixed_nodes(net, _terminals(net, drive, outputs))
    ends = net.edges[net.model == Model.THRESHOLD]
    return "xspice" if held[ends].all() else "subckt"


# --------------------------------------------------------------------------- drives
def source_spec(drive: Drive) -> str:
    """The value of an ngspice voltage source for a memsim drive.

    >>> source_spec(Sine(1.0, 50.0, phase=90.0))
    'SIN(0 1 50 0 0 90)'
    >>> source_spec(Pulse(0.0, 1.0, delay=1e-3, rise=1e-6, fall=1e-6, width=1e-3))
    'PULSE(0 1 0.001 1e-6 1e-6 0.001 0)'
    """
    if isinstance(drive, DC):
        return f"DC {num(drive.v)}"
    if isinstance(drive, Pulse):
        pulse = (drive.v1, drive.v2, drive.delay, drive.rise, drive.fall, drive.width,
                 drive.period)
        return "PULSE(" + " ".join(num(v) for v in pulse) + ")"
    if isinstance(drive, Sine):
        sine = (drive.offset, drive.amplitude, drive.frequency, drive.delay, 0.0, drive.phase)
        return "SIN(" + " ".join(num(v) for v in sine) + ")"
    if isinstance(drive, PWL):
        pairs = [f"{num(t)} {num(v)}" for t, v in zip(drive.times, drive.values, strict=True)]
        chunks = [" ".join(pairs[k:k + 6]) for k in range(0, len(pairs), 6)]
        return "PWL(" + "\n+ ".join(chunks) + ")"
    raise ParameterError("drive", f"cannot write {drive!r} as a SPICE source")


def input_drives(net: Network, drive: Any) -> list[Drive | None]:
    """One drive (or None: floating) per input, from any form :func:`memsim.simulate` takes.

    Raises
    ------
    ParameterError
        For an unknown input name or index, a wrong count, or something that is not a drive.

    >>> import memsim
    >>> input_drives(memsim.crossbar(2, 1, device=memsim.devices.Resistor(1.0)), {"in1": 0.5})
    [None, DC(v=0.5)]
    """
    if drive is None:
        return [None] * len(net.inputs)
    in_names = [net.node_names[i] for i in net.inputs]
    n = len(in_names)
    if isinstance(drive, Drive):
        return [drive] * n
    if isinstance(drive, int | float) and not isinstance(drive, bool):
        return [DC(float(drive))] * n
    out: list[Drive | None] = [None] * n
    if isinstance(drive, Mapping):
        for key, d in drive.items():
            if isinstance(key, str):
                if key not in in_names:
                    raise ParameterError("drive", f"unknown input {key!r}; inputs are "
                                         f"{', '.join(in_names)}")
                k = in_names.index(key)
            else:
                k = int(key)
                if not 0 <= k < n:
                    raise ParameterError("drive", f"input index {k} outside 0..{n - 1}")
            out[k] = DC(float(d)) if isinstance(d, int | float) else d
    else:
        seq = list(drive)
        if len(seq) != n:
            raise ParameterError("drive", f"need {n} drives (None floats), got {len(seq)}")
        out = [DC(float(d)) if isinstance(d, int | float) else d for d in seq]
    for k, d in enumerate(out):
        if d is not None and not isinstance(d, Drive):
            raise ParameterError("drive", f"input {in_names[k]}: expected a Drive or a number, "
                                 f"got {d!r}")
    return out


def floating_parts(net: Network, drive: Any = None, *,
                   outputs: OutputSpec = "ground") -> list[np.ndarray]:
    """Node indices of each floating part of ``net`` under ``drive`` and ``outputs``: the
    connected parts (through devices that are not pruned) that touch no driven input, no
    grounded output and no ground node. Parts without any device are left out.

    >>> import memsim
    >>> net = memsim.layered([2, 1, 2], device=memsim.devices.Resistor(1.0))
    >>> floating_parts(net, [1.0, None]), floating_parts(net, None, outputs="float")
    ([], [array([0, 1, 2, 3, 4])])
    """
    comp, floating = floating_nodes(net, _terminals(net, drive, outputs))
    touched = np.zeros(net.n_nodes, bool)
    touched[net.edges[net.model != Model.OPEN].ravel()] = True
    return [np.flatnonzero((comp == c) & touched)
            for c in np.unique(comp[floating & touched]).tolist()]


def _terminals(net: Network, drive: Any, outputs: OutputSpec) -> Terminals:
    """The terminal configuration of an export: inputs with a drive are driven."""
    driven = np.array([d is not None for d in input_drives(net, drive)], bool)
    return Terminals(driven=driven, grounded=terminals(net, outputs=outputs).grounded)


# --------------------------------------------------------------------------- the netlist
def _wrap(head: str, items: Sequence[str], width: int = 8) -> list[str]:
    if not items:
        return []
    lines = [f"{head} " + " ".join(items[:width])]
    lines += ["+ " + " ".join(items[k:k + width]) for k in range(width, len(items), width)]
    return lines


def _meta_lines(net: Network, nm: NetlistNames) -> list[str]:
    tag = "*@memsim"
    out = [f"{tag} network {json.dumps(net.name)}"]
    roles = [f"{nm.nodes[k]}:{_ROLE_LETTER[Role(int(net.roles[k]))]}" for k in range(net.n_nodes)]
    out += [f"{tag} nodes " + " ".join(roles[k:k + 8]) for k in range(0, len(roles), 8)]
    for head, idx in (("inputs", net.inputs), ("outputs", net.outputs)):
        items = [nm.nodes[k] for k in idx]
        out += [f"{tag} {head} " + " ".join(items[k:k + 8]) for k in range(0, len(items), 8)]
    for k, s in enumerate(nm.nodes):
        if s != net.node_names[k]:
            out.append(f"{tag} rename node {s} {json.dumps(net.node_names[k])}")
    for e, s in enumerate(nm.edges):
        if s != net.edge_names[e]:
            out.append(f"{tag} rename edge {s} {json.dumps(net.edge_names[e])}")
    for e in np.flatnonzero(net.model == Model.OPEN).tolist():
        a, b = net.edges[e]
        row = " ".join(num(v) for v in net.params[e])
        out.append(f"{tag} open {e} {nm.edges[e]} {nm.nodes[a]} {nm.nodes[b]} {row} "
                   f"{num(net.x0[e])}")
    return out


def _variant(net: Network, e: int) -> tuple[int, int, float]:
    """(model, window, p) of a subcircuit device: which ``.subckt`` it instantiates."""
    code, p = int(net.model[e]), net.params[e]
    if code == Model.HP:
        return code, int(p[3]), float(p[4])
    if code == Model.VTEAM:
        return code, int(p[8]), float(p[9])
    return code, 0, 2.0


_FIELDS = {
    Model.HP: ("ron", "roff", "kdrift"),
    Model.VTEAM: ("ron", "roff", "kon", "koff", "von", "voff", "aon", "aoff"),
    Model.LINEAR: ("ron", "roff", "alpha", "beta"),
    Model.THRESHOLD: ("ron", "roff", "alpha", "beta", "vt"),
}
"""Instance parameters of each subcircuit, in the order of the packed parameter row."""


def _instance(net: Network, e: int, x0: float, hold: bool) -> str:
    """``<subckt> k=v ...`` of a subcircuit device."""
    code = Model(int(net.model[e]))
    vals = [f"{k}={num(v)}" for k, v in zip(_FIELDS[code], net.params[e], strict=False)]
    vals.append(f"x0={num(x0)}")
    if hold:
        vals.append("hold=1")
    return f"{subcircuit_name(*_variant(net, e))} " + " ".join(vals)


def _threshold_model(p: np.ndarray, x0: float) -> str:
    rinit = p[1] - x0 * (p[1] - p[0])
    return (f"memristor(rmin={num(p[0])} rmax={num(p[1])} rinit={num(rinit)} "
            f"alpha={num(p[2])} beta={num(p[3])} vt={num(p[4])})")


def to_netlist(
    net: Network,
    drive: Any = None,
    *,
    t_end: float | None = None,
    t_step: float | None = None,
    max_step: float | None = None,
    op: bool = False,
    state: np.ndarray | None = None,
    outputs: OutputSpec = "ground",
    options: Mapping[str, float | str] | None = None,
    threshold: str = "auto",
    save: bool = True,
    probe_threshold: bool = False,
    title: str | None = None,
) -> str:
    """The ngspice netlist of ``net`` under ``drive``.

    Parameters
    ----------
    net : Network
    drive : Drive, number, sequence or mapping, optional
        Input drives as for :func:`memsim.simulate` (inputs without one float: no source).
    t_end, t_step : float, optional
        Write ``.tran t_step t_end 0 max_step uic`` (``t_step`` default ``t_end / 1000``).
    max_step : float, optional
        ngspice's largest internal step (default ``t_step``).
    op : bool
        Write ``.op`` with every state frozen at its initial value (``hold=1``) instead.
    state : array (E,), optional
        Initial (or frozen) states; default ``net.x0``.
    outputs : "ground", "float" or bool mask
        Which outputs get a 0 V ammeter (the others float).
    options : mapping, optional
        ``.options`` entries, e.g. ``{"reltol": 1e-5}``.
    threshold : {"auto", "xspice", "subckt"}
        Form of threshold devices, see :func:`threshold_form`.
    save : bool
        With a transient, write ``.save`` lines for the states, terminal currents and probes
        (only those vectors are kept, which saves memory on large networks).
    probe_threshold : bool
        Put a 0 V ammeter ``vprobe_<edge>`` in series with every XSPICE threshold device, so
        its current (and hence its resistance) can be read back.
    title : str, optional
        The title line (default: "memsim netlist: <network name>").

    Returns
    -------
    str
        The netlist, ending in ``.end`` and a newline.

    Raises
    ------
    ParameterError
        For a bad drive, state, time, output mask or threshold form, or both ``op`` and a
        transient.

    Examples
    --------
    >>> import networkx as nx, memsim
    >>> from memsim.solve.drives import Sine
    >>> net = memsim.from_networkx(nx.path_graph(["a", "b"]), inputs=["a"], outputs=["b"],
    ...                            device=memsim.devices.preset("strukov2008"))
    >>> text = to_netlist(net, Sine(1.0, 1.0), t_end=1.0)
    >>> for line in text.splitlines()[-8:]:
    ...     print(line)
    vin_a a 0 SIN(0 1 1 0 0 0)
    * outputs: 0 V ammeters; i(vout_<node>) flows from the node into the ammeter
    vout_b b 0 DC 0
    * devices
    xa_b a b memsim_hp_none_p2 ron=100 roff=16000 kdrift=9999.999999999998 x0=0.1
    .tran 0.001 1 0 0.001 uic
    .save v(xa_b.x) i(vout_b) i(vin_a)
    .end
    """
    if op and t_end is not None:
        raise ParameterError("op", "write either a DC operating point (op=True) or a "
                             "transient (t_end), not both")
    x0 = np.asarray(net.x0 if state is None else state, float)
    if x0.shape != (net.n_edges,) or not np.isfinite(x0).all() or (x0 < 0).any() or (
            x0 > 1).any():
        raise ParameterError("state", f"need {net.n_edges} states in [0, 1], got shape "
                             f"{x0.shape}")
    if t_end is not None:
        if not (math.isfinite(t_end) and t_end > 0):
            raise ParameterError("t_end", f"must be a positive time, got {t_end!r}")
        t_step = t_end / 1000 if t_step is None else t_step
        if not (math.isfinite(t_step) and 0 < t_step <= t_end):
            raise ParameterError("t_step", f"must lie in (0, t_end], got {t_step!r}")
        max_step = t_step if max_step is None else max_step
        if not (math.isfinite(max_step) and max_step > 0):
            raise ParameterError("max_step", f"must be a positive time, got {max_step!r}")
    drives = input_drives(net, drive)
    terms = terminals(net, outputs=outputs)
    xspice = threshold_form(net, drive, outputs=outputs, threshold=threshold) == "xspice"
    nm = names(net, xspice=xspice)
    lines = [title or f"memsim netlist: {net.name}"]
    lines += _meta_lines(net, nm)
    taken = {e for e in nm.element if e}
    ties: list[tuple[str, str]] = []  # (element, node) grounding each floating part
    for part in floating_parts(net, drive, outputs=outputs):
        node = nm.nodes[int(part[0])]
        element, k = f"rfloat_{node}", 1
        while element in taken:
            element, k = f"rfloat_{node}_{k}", k + 1
        taken.add(element)
        ties.append((element, node))
    lines += [f"*@memsim float {element}" for element, _ in ties]

    subckt = net.memristive & ~((net.model == Model.THRESHOLD) & xspice)
    variants = list(dict.fromkeys(_variant(net, e) for e in np.flatnonzero(subckt).tolist()))
    if variants:
        lines += ["*", "* memsim memristors: state x = v(x) on a 1 F capacitor (x = 1 is ON),",
                  "* port current v(plus,minus)/R(x), R(x) = roff - x (roff - ron)"]
        lines += [subcircuit(*key) for key in variants]
    models: dict[str, str] = {}
    device_lines: list[str] = []
    probes: list[int] = []
    for e in range(net.n_edges):
        code = Model(int(net.model[e]))
        if code == Model.OPEN:
            continue
        a, b = (nm.nodes[k] for k in net.edges[e])
        if code == Model.RESISTOR:
            device_lines.append(f"{nm.element[e]} {a} {b} {num(net.params[e, 0])}")
        elif subckt[e]:
            device_lines.append(f"{nm.element[e]} {a} {b} {_instance(net, e, x0[e], op)}")
        else:
            card = _threshold_model(net.params[e], float(x0[e]))
            models.setdefault(card, f"mth{len(models)}")
            if probe_threshold:
                mid = f"{nm.edges[e]}_probe"
                device_lines.append(f"vprobe_{nm.edges[e]} {a} {mid} DC 0")
                a = mid
                probes.append(e)
            device_lines.append(f"{nm.element[e]} {b} {a} {models[card]}")
    if models:
        lines += ["*", "* threshold devices: XSPICE memristor connected minus-to-plus, since",
                  "* ngspice's dR/dt = +f(V) drives it OFF and memsim's positive v drives ON"]
        lines += [f".model {name} {card}" for card, name in models.items()]
    lines += ["*", "* inputs"]
    for k, node in enumerate(net.inputs):
        d = drives[k]
        if d is None:
            lines.append(f"* {nm.nodes[node]} floats (no drive)")
        else:
            lines.append(f"vin_{nm.nodes[node]} {nm.nodes[node]} 0 {source_spec(d)}")
    lines.append("* outputs: 0 V ammeters; i(vout_<node>) flows from the node into the ammeter")
    for k, node in enumerate(net.outputs):
        if terms.grounded[k]:
            lines.append(f"vout_{nm.nodes[node]} {nm.nodes[node]} 0 DC 0")
        else:
            lines.append(f"* {nm.nodes[node]} floats (no ammeter)")
    for k in np.flatnonzero(net.roles == Role.GROUND).tolist():
        if nm.nodes[k] != "0":
            lines.append(f"vgnd_{nm.nodes[k]} {nm.nodes[k]} 0 DC 0")
    if ties:
        lines.append("* floating parts (no driven or grounded terminal): held at 0 V, as memsim "
                     "does")
        lines += [f"{element} {node} 0 {num(LEAK_OHMS)}" for element, node in ties]
    lines.append("* devices")
    lines += device_lines
    if options:
        lines.append(".options " + " ".join(
            f"{k}={num(v) if isinstance(v, int | float) else v}" for k, v in options.items()))
    if op:
        lines.append(".op")
    elif t_end is not None:
        assert t_step is not None and max_step is not None
        lines.append(f".tran {num(t_step)} {num(t_end)} 0 {num(max_step)} uic")
        if save:
            vecs = [f"v({nm.state_vector(e)})" for e in np.flatnonzero(subckt).tolist()]
            vecs += [f"i(vout_{nm.nodes[n]})" for k, n in enumerate(net.outputs)
                     if terms.grounded[k]]
            vecs += [f"i(vin_{nm.nodes[n]})" for k, n in enumerate(net.inputs)
                     if drives[k] is not None]
            vecs += [f"i(vprobe_{nm.edges[e]})" for e in probes]
            ends = [nm.nodes[k] for e in probes for k in net.edges[e]]
            vecs += [f"v({s})" for s in dict.fromkeys(ends) if s != "0"]
            lines += _wrap(".save", vecs)
    lines.append(".end")
    return "\n".join(lines) + "\n"


def write_netlist(path: str | Path, net: Network, drive: Any = None, **kwargs: Any) -> Path:
    """Write :func:`to_netlist` ``(net, drive, **kwargs)`` to ``path``; returns the path.

    >>> import tempfile, pathlib, memsim
    >>> net = memsim.crossbar(1, 1, device=memsim.devices.Resistor(1e3))
    >>> p = write_netlist(pathlib.Path(tempfile.mkdtemp()) / "r.cir", net, 1.0)
    >>> p.read_text().splitlines()[-2]
    'rm0_0 in0 out0 1000'
    """
    p = Path(path)
    p.write_text(to_netlist(net, drive, **kwargs), encoding="utf-8")
    return p
