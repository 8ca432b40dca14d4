"""SPICE netlists without a simulator: golden text, expression semantics, round trips, errors.

The golden files in tests/data/spice/ come from tests/data/spice/make_golden.py and were read
line by line; the tests below also assert their key lines from hand-derived values, so a
format change must be justified twice.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import memsim
from memsim.devices import HP, VTEAM, Linear, Model, Resistor, Threshold, Window
from memsim.devices.reference import conductances_np, rates_np
from memsim.errors import CircuitFileError, ParameterError
from memsim.solve.drives import DC, PWL, Pulse, Sine
from memsim.spice import parse_netlist, read_netlist, subcircuit, to_netlist, write_netlist
from memsim.spice.netlist import (
    floating_parts,
    num,
    source_spec,
    subcircuit_name,
    threshold_form,
)
from memsim.spice.ngspice import NgspiceError, library_path, ngspice_executable
from memsim.spice.parse import parse_number

DATA = Path(__file__).resolve().parents[1] / "data" / "spice"


def _golden(name: str) -> list[str]:
    return (DATA / name).read_text(encoding="utf-8").splitlines()


def _make_golden():
    """The script that wrote the golden files (its functions rebuild each netlist)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_golden", DATA / "make_golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------- golden text
def test_golden_single_biolek_device():
    make_golden = _make_golden()
    text = make_golden.single_biolek()
    assert text.splitlines() == _golden("single_biolek.cir")
    lines = text.splitlines()
    assert lines[0] == "memsim netlist: single_biolek"
    # memsim's Sine(1.5 V, 2 Hz, phase 90 deg) is SPICE SIN(VO VA FREQ TD THETA PHASE)
    assert "vin_a a 0 SIN(0 1.5 2 0 0 90)" in lines
    # the output is a 0 V ammeter from the node to ground
    assert "vout_b b 0 DC 0" in lines
    inst = next(s for s in lines if s.startswith("xa_b "))
    tokens = inst.split()
    assert tokens[1:4] == ["a", "b", "memsim_hp_biolek_p2"]
    values = dict(t.split("=") for t in tokens[4:])
    # kdrift = mu_v R_on / D^2 = 1e-14 * 100 / (10e-9)^2 = 1e4 per (A s)
    assert float(values["kdrift"]) == pytest.approx(1e4, rel=1e-15)
    assert (float(values["ron"]), float(values["roff"]), float(values["x0"])) == (100, 16e3,
                                                                                  0.25)
    assert "hold" not in values  # transient: the state integrates
    # Biolek window with p = 2: x^4 and (x - 1)^4 as products (pwr() would keep the sign)
    bx = next(s for s in lines if s.startswith("Bx "))
    assert "(1-(v(x))*(v(x))*(v(x))*(v(x)))*u(1-v(x))" in bx
    assert "(1-(v(x)-1)*(v(x)-1)*(v(x)-1)*(v(x)-1))*u(v(x))" in bx
    assert "pwr(" not in bx and "^" not in bx
    # state node on a 1 F capacitor, started from x0 by uic
    assert "Cx x 0 1 IC={x0}" in lines
    assert ".tran 0.001 1 0 0.001 uic" in lines
    assert ".save v(xa_b.x) i(vout_b) i(vin_a)" in lines
    assert lines[-1] == ".end"


def test_golden_threshold_crossbar_uses_reversed_xspice_elements():
    make_golden = _make_golden()
    lines = make_golden.crossbar_threshold().splitlines()
    assert lines == _golden("crossbar_threshold.cir")
    # rinit = R(x0) = R_off - x0 (R_off - R_on): 10k - 0.5 * 9k and 10k - 0.25 * 9k
    assert ".model mth0 memristor(rmin=1000 rmax=10000 rinit=5500 alpha=0 beta=1e6 vt=1)" in lines
    assert ".model mth1 memristor(rmin=1000 rmax=10000 rinit=7750 alpha=0 beta=1e6 vt=1)" in lines
    # device m0_0 runs from in0 (plus) to out0 (minus); the XSPICE element gets minus first,
    # its plus side through the 0 V probe
    assert "vprobe_m0_0 in0 m0_0_probe DC 0" in lines
    assert "am0_0 out0 m0_0_probe mth0" in lines
    assert "am0_1 out1 m0_1_probe mth1" in lines
    assert "vin_in0 in0 0 PULSE(0 2 0.001 1e-5 1e-5 0.002 0.005)" in lines
    assert not any(s.startswith(".subckt") for s in lines)


def test_golden_mixed_op_netlist_names_pruning_and_hold():
    make_golden = _make_golden()
    lines = make_golden.mixed_op().splitlines()
    assert lines == _golden("mixed_op.cir")
    # the ground node 'gnd' becomes SPICE's 0; a bulk node named '0' must not
    assert '*@memsim rename node 0 "gnd"' in lines
    assert '*@memsim rename node 0_1 "0"' in lines
    assert "*@memsim nodes in_a:i in_b:i out:o 0:g 0_1:b" in lines
    # the pruned edge 4 is metadata only, with its parameters and state
    open_line = next(s for s in lines if s.startswith("*@memsim open"))
    assert open_line.split()[2:6] == ["4", "out_in_b", "out", "in_b"]
    assert not any(s.startswith("xout_in_b") for s in lines)
    # the undriven input floats: no source
    assert "* in_b floats (no drive)" in lines
    assert not any(s.startswith("vin_in_b") for s in lines)
    # .op freezes the states: hold=1 and x0 from the given state
    assert any(s.startswith("xin_a_0 in_a 0_1 memsim_vteam_prodromakis_p1p5 ") and
               s.endswith(" x0=0.6 hold=1") for s in lines)
    assert any(s.startswith("x0_gnd 0_1 0 memsim_linear ") and "alpha=0.5" in s and
               s.endswith(" x0=0.7 hold=1") for s in lines)
    # Prodromakis with p = 1.5 is not an integer power: pwr of a positive base
    assert "pwr(abs((v(x)-0.5)*(v(x)-0.5)+0.75),1.5)" in "\n".join(lines)
    assert "vin_in_a in_a 0 PWL(0 0.5 1 -0.5)" in lines
    assert ".options reltol=1e-9" in lines and ".op" in lines
    assert not any(s.startswith(".tran") for s in lines)


# ----------------------------------------------------------------------------- expressions
class _Expr:
    """A small evaluator of the ngspice expression subset memsim writes (tests only).

    Precedence, lowest first: ``?:``, comparisons, ``+ -``, ``* /``, unary minus, primary.
    """

    TOKEN = re.compile(r"\s*(\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?|[a-z_]\w*|[()?:,]"
                       r"|[<>]=?|[-+*/])")

    def __init__(self, text: str, env: dict[str, float]):
        self.toks = [m.group(1) for m in self.TOKEN.finditer(text.lower())]
        assert "".join(self.toks) == text.lower().replace(" ", ""), "untokenizable expression"
        self.env, self.k = env, 0

    def peek(self) -> str | None:
        return self.toks[self.k] if self.k < len(self.toks) else None

    def take(self, want: str | None = None) -> str:
        tok = self.toks[self.k]
        assert want is None or tok == want, (tok, want)
        self.k += 1
        return tok

    def value(self) -> float:
        out = self.ternary()
        assert self.peek() is None
        return out

    def ternary(self) -> float:
        cond = self.compare()
        if self.peek() != "?":
            return cond
        self.take("?")
        a = self.ternary()
        self.take(":")
        b = self.ternary()
        return a if cond else b

    def compare(self) -> float:
        a = self.additive()
        while self.peek() in ("<", ">", "<=", ">="):
            op, b = self.take(), self.additive()
            a = float({"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op])
        return a

    def additive(self) -> float:
        a = self.term()
        while self.peek() in ("+", "-"):
            op, b = self.take(), self.term()
            a = a + b if op == "+" else a - b
        return a

    def term(self) -> float:
        a = self.unary()
        while self.peek() in ("*", "/"):
            op, b = self.take(), self.unary()
            a = a * b if op == "*" else a / b
        return a

    def unary(self) -> float:
        if self.peek() == "-":
            self.take()
            return -self.unary()
        return self.primary()

    def primary(self) -> float:
        tok = self.take()
        if tok == "(":
            out = self.ternary()
            self.take(")")
            return out
        if tok[0].isdigit() or tok[0] == ".":
            return float(tok)
        if self.peek() == "(":
            self.take("(")
            if tok == "v":
                nodes = [self.take()]
                while self.peek() == ",":
                    self.take(",")
                    nodes.append(self.take())
                self.take(")")
                return self.env["v(" + ",".join(nodes) + ")"]
            args = [self.ternary()]
            while self.peek() == ",":
                self.take(",")
                args.append(self.ternary())
            self.take(")")
            funcs = {"min": min, "max": max, "abs": abs,
                     "u": lambda a: 1.0 if a > 0 else 0.0,
                     "pwr": lambda a, b: math.copysign(abs(a) ** b, a)}
            return float(funcs[tok](*args))
        return self.env[tok]


def _subckt_exprs(model: int, window: int = 0, p: float = 2.0) -> tuple[str, str, dict]:
    lines = subcircuit(model, window, p).splitlines()
    defaults = dict(kv.split("=") for kv in lines[0].split()[4:])
    port = next(s for s in lines if s.startswith("Bport")).split("I=", 1)[1][1:-1]
    rate = next(s for s in lines if s.startswith("Bx")).split("I=", 1)[1][1:-1]
    return port, rate, {k: float(v) for k, v in defaults.items()}


_NAMES = {Model.HP: ("ron", "roff", "kdrift"),
          Model.VTEAM: ("ron", "roff", "kon", "koff", "von", "voff", "aon", "aoff"),
          Model.LINEAR: ("ron", "roff", "alpha", "beta"),
          Model.THRESHOLD: ("ron", "roff", "alpha", "beta", "vt")}

DEVICES = [
    HP(window="none"), HP(window="joglekar", p=2), HP(window="biolek", p=2),
    HP(window="biolek", p=1), HP(window="prodromakis", p=3), HP(window="joglekar", p=1.5),
    VTEAM(window="biolek", p=2), VTEAM(window="none"), VTEAM(window="joglekar", p=1,
                                                            alpha_on=2.5, alpha_off=1.5),
    Linear(alpha=0.7, beta=3.0), Linear(),
    Threshold(alpha=2e4, beta=1e6, v_t=0.8), Threshold(),
]


@pytest.mark.parametrize("dev", DEVICES, ids=lambda d: f"{type(d).__name__}-"
                         f"{getattr(d, 'window', '')}-{getattr(d, 'p', '')}")
def test_subcircuit_expressions_equal_memsim_kernels(dev):
    """Port current and state rate of the SPICE subcircuit, evaluated independently of
    ngspice, equal the reference kernels on a grid of states and voltages (incl. the bounds,
    where a rate pushing outward must vanish)."""
    code = int(dev.model)
    row = dev.row()
    window, p = (int(row[3]), row[4]) if code == Model.HP else (
        (int(row[8]), row[9]) if code == Model.VTEAM else (0, 2.0))
    port, rate, env = _subckt_exprs(code, window, p)
    env.update(dict(zip(_NAMES[Model(code)], row, strict=False)))
    for x in (0.0, 1e-3, 0.2, 0.5, 0.77, 0.999, 1.0):
        for v in (-2.5, -1.0, -0.31, -0.05, 0.0, 0.05, 0.29, 0.9, 1.2, 3.0):
            scope = dict(env, **{"v(plus,minus)": v, "v(x)": x, "hold": 0.0})
            m, xs, vs, ps = np.array([code]), np.array([x]), np.array([v]), row[None, :]
            want_i = v * conductances_np(m, xs, ps)[0]
            want_r = rates_np(m, xs, vs, ps)[0]
            # both sides evaluate the same formula in double precision: agreement to a few ulp
            assert _Expr(port, scope).value() == pytest.approx(want_i, rel=1e-12, abs=1e-300)
            got = _Expr(rate, scope).value()
            assert got == pytest.approx(want_r, rel=1e-9, abs=1e-12 * max(1.0, abs(want_r)))
            # hold=1 (.op): no drift, the state is pinned to x0
            held = _Expr(rate, dict(scope, hold=1.0)).value()
            assert held == pytest.approx(-(x - env["x0"]), abs=1e-15)


def test_integer_powers_are_products_and_only_fractional_ones_use_pwr():
    # ngspice's pwr(x, y) = sign(x) |x|^y: right for odd, wrong for even powers of a negative
    # base; a product is exact for both
    for window in (Window.JOGLEKAR, Window.BIOLEK):
        assert "pwr(" not in subcircuit(Model.HP, window, 2.0)
    assert "(1-(2*v(x)-1)*(2*v(x)-1)*(2*v(x)-1))" in subcircuit(Model.HP, Window.JOGLEKAR, 1.5)
    # a fractional power of a positive base (Prodromakis) may use pwr
    assert "pwr(abs((v(x)-0.5)*(v(x)-0.5)+0.75),2.5)" in subcircuit(Model.HP, Window.PRODROMAKIS,
                                                                     2.5)


def test_subcircuit_names_encode_model_window_and_exponent():
    assert subcircuit_name(Model.HP, Window.PRODROMAKIS, 2.5) == "memsim_hp_prodromakis_p2p5"
    assert subcircuit_name(Model.VTEAM, Window.NONE, 2.0) == "memsim_vteam_none_p2"
    assert subcircuit_name(Model.THRESHOLD) == "memsim_threshold"
    with pytest.raises(ParameterError, match="model"):
        subcircuit_name(Model.RESISTOR)
    with pytest.raises(ParameterError, match="RESISTOR has no memsim subcircuit"):
        subcircuit(Model.RESISTOR)
    with pytest.raises(ParameterError, match="OPEN has no memsim subcircuit"):
        subcircuit(Model.OPEN)


# ----------------------------------------------------------------------------- sources
@pytest.mark.parametrize(("drive", "text"), [
    (DC(-0.25), "DC -0.25"),
    (Sine(2.0, 50.0, offset=0.1, delay=0.002, phase=-30.0), "SIN(0.1 2 50 0.002 0 -30)"),
    (Pulse(-1.0, 1.0, delay=0.0, rise=1e-6, fall=2e-6, width=1e-3, period=4e-3),
     "PULSE(-1 1 0 1e-6 2e-6 0.001 0.004)"),
    (PWL([0.0, 1e-3, 2e-3], [0.0, 1.0, 0.0]), "PWL(0 0 0.001 1 0.002 0)"),
])
def test_source_specs_follow_spice_argument_order(drive, text):
    assert source_spec(drive) == text


def test_long_pwl_is_wrapped_with_continuation_lines_and_reads_back():
    t = np.linspace(0, 1e-2, 20)
    drive = PWL(t, np.sin(t * 300))
    net = memsim.crossbar(1, 1, device=Resistor(1e3))
    text = to_netlist(net, drive, t_end=1e-2)
    assert any(s.startswith("+ ") for s in text.splitlines())
    back = parse_netlist(text).drives["in0"]
    assert back == drive


@pytest.mark.parametrize(("value", "text"), [
    (16000.0, "16000"), (1e12, "1e12"), (1e-14, "1e-14"), (0.1, "0.1"), (-0.3, "-0.3"),
    (1e6, "1e6"), (100000.0, "100000"), (9999.999999999998, "9999.999999999998"),
])
def test_numbers_are_written_short_and_exact(value, text):
    assert num(value) == text
    assert float(text) == value


def test_non_finite_numbers_cannot_be_written():
    with pytest.raises(ParameterError, match="non-finite"):
        num(float("nan"))


@pytest.mark.parametrize(("text", "value"), [
    ("1k", 1e3), ("10meg", 1e7), ("10M", 1e-2), ("2.5u", 2.5e-6), ("3n", 3e-9), ("1e-3", 1e-3),
    ("{0.5}", 0.5), ("100ohm", 100.0), ("4.7kOhm", 4.7e3), ("1mil", 25.4e-6), (".5", 0.5),
])
def test_spice_numbers_with_scale_suffixes(text, value):
    assert parse_number(text) == pytest.approx(value, rel=1e-15)


def test_expressions_are_not_numbers():
    with pytest.raises(ValueError, match="not a number"):
        parse_number("{2*x}")


# ----------------------------------------------------------------------------- round trips
def _assert_same_network(a: memsim.Network, b: memsim.Network) -> None:
    assert a.name == b.name
    assert a.node_names == b.node_names
    assert a.edge_names == b.edge_names
    for f in ("roles", "inputs", "outputs", "edges", "model"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    # parameters are written with repr precision: they read back bit for bit
    np.testing.assert_array_equal(a.params, b.params)
    # a threshold device's x0 travels as rinit = R_off - x0 (R_off - R_on): one rounding
    np.testing.assert_allclose(a.x0, b.x0, rtol=0, atol=1e-15)


def _mixed_layered() -> memsim.Network:
    kinds = [memsim.devices.preset(k) for k in sorted(memsim.devices.PRESETS)]
    kinds += [HP(window="joglekar", p=3), VTEAM(window="prodromakis", p=1.5), Resistor(50.0)]
    net = memsim.layered([2, 3, 2], device=[kinds[k % len(kinds)] for k in range(12)])
    net = net.with_spread(0.2, seed=3)
    x0 = np.random.default_rng(4).uniform(0, 1, net.n_edges)
    return net.replace(x0=np.where(net.memristive, x0, 0.0)).pruned(np.arange(12) % 5 == 0)


@pytest.mark.parametrize("threshold", ["xspice", "subckt"])
def test_round_trip_of_a_mixed_network_keeps_topology_devices_and_parameters(threshold):
    net = _mixed_layered()
    drives = [Sine(1.0, 3.0, phase=10.0), Pulse(0.0, 1.0, rise=1e-6, fall=1e-6, width=0.1,
                                                period=0.25)]
    text = to_netlist(net, drives, t_end=1.0, t_step=1e-3, threshold=threshold,
                      probe_threshold=True)
    parsed = parse_netlist(text)
    _assert_same_network(net, parsed.network)
    assert parsed.drives == {"in0": drives[0], "in1": drives[1]}
    assert (parsed.t_step, parsed.t_end) == (1e-3, 1.0)


def test_round_trip_of_a_crossbar_with_line_resistance_and_odd_names():
    net = memsim.crossbar(3, 2, device=memsim.devices.preset("vteam2015"), r_line=2.0)
    _assert_same_network(net, parse_netlist(to_netlist(net, 0.5)).network)
    g = nx.Graph()
    g.add_edge("A", "0")
    g.add_edge("0", "GND")
    g.add_edge("A", "x y")
    g.add_edge("a", "x y")  # 'A' and 'a' are one node to ngspice: must be renamed apart
    odd = memsim.from_networkx(g, inputs=["A", "a"], outputs=["x y"], ground=["GND"],
                               device=memsim.devices.preset("caravelli2017"))
    text = to_netlist(odd, {"a": DC(1.0)})
    _assert_same_network(odd, parse_netlist(text).network)


CIRCUITS = sorted((Path(__file__).resolve().parents[2] / "circuits").glob("*.toml"))


@pytest.mark.parametrize("path", CIRCUITS, ids=lambda p: p.stem)
def test_round_trip_of_every_shipped_circuit(path):
    """Every circuit memsim ships, with random states and per-device spread, survives
    export and import; so do its drives and the transient settings."""
    net = memsim.load(path).with_spread(0.3, seed=1)
    rng = np.random.default_rng(2)
    net = net.replace(x0=np.where(net.memristive, rng.uniform(0, 1, net.n_edges), 0.0))
    drives = [Sine(float(a), 7.0, phase=float(ph)) for a, ph in
              zip(rng.uniform(0.5, 2, len(net.inputs)), rng.uniform(0, 360, len(net.inputs)),
                  strict=True)]
    parsed = parse_netlist(to_netlist(net, drives, t_end=0.5, t_step=1e-3))
    _assert_same_network(net, parsed.network)
    names = [net.node_names[k] for k in net.inputs]
    assert parsed.drives == dict(zip(names, drives, strict=True))
    assert (parsed.t_step, parsed.t_end) == (1e-3, 0.5)


def test_round_trip_of_a_random_network_with_floating_terminals_and_op():
    net = memsim.random_network(15, edge_prob=0.3, n_inputs=3, n_outputs=2,
                                device=memsim.devices.preset("vteam2015"), seed=5)
    state = np.random.default_rng(0).uniform(0, 1, net.n_edges)
    text = to_netlist(net, [1.0, None, -0.5], op=True, state=state,
                      outputs=np.array([True, False]))
    parsed = parse_netlist(text)
    # .op instances carry the frozen state as x0 (and hold=1)
    _assert_same_network(net.replace(x0=state), parsed.network)
    names = [net.node_names[k] for k in net.inputs]
    assert parsed.drives == {names[0]: DC(1.0), names[2]: DC(-0.5)}
    assert parsed.t_end is None


def test_floating_parts_are_tied_to_ground_and_skipped_on_reading():
    g = nx.Graph()
    g.add_edge("a", "b")
    g.add_edge("c", "d")  # an island
    g.add_edge("d", "e")
    g.add_edge("b", "o")
    net = memsim.from_networkx(g, inputs=["a"], outputs=["o"], device=HP(x0=0.3))
    assert [p.tolist() for p in floating_parts(net, 1.0)] == [[3, 4, 5]]  # c, d, e
    text = to_netlist(net, Sine(1.0, 1.0), t_end=1.0)
    lines = text.splitlines()
    # one tie per floating part, on its first node, named in a *@memsim float line
    assert "*@memsim float rfloat_c" in lines and "rfloat_c c 0 1e12" in lines
    assert sum(s.startswith("rfloat_") for s in lines) == 1
    _assert_same_network(net, parse_netlist(text).network)
    # terminals decide what floats: with the output disconnected and the input undriven,
    # everything does (two parts); a fully held network has no tie at all
    parts = floating_parts(net, [None], outputs="float")
    assert sorted(p.tolist() for p in parts) == [[0, 1, 2], [3, 4, 5]]
    assert "rfloat_" not in to_netlist(memsim.crossbar(2, 2, device=HP()), 1.0)
    # pruning b-o cuts a-b off the output; the output o keeps no device: nothing to tie there
    pruned = net.pruned(np.array(net.edge_names) == "b-o")
    assert [p.tolist() for p in floating_parts(pruned, 1.0)] == [[3, 4, 5]]
    assert [p.tolist() for p in floating_parts(pruned, [None])] == [[0, 2], [3, 4, 5]]
    text = to_netlist(pruned, [None], op=True)
    assert "rfloat_a a 0 1e12" in text and "rfloat_c c 0 1e12" in text
    _assert_same_network(pruned, parse_netlist(text).network)
    # the tie does not shadow an element of the same name
    g.edges["c", "d"].update(name="float_c", device=Resistor(5.0))
    odd = memsim.from_networkx(g, inputs=["a"], outputs=["o"], device=HP(x0=0.3))
    text = to_netlist(odd, 1.0)
    assert "rfloat_c c d 5" in text and "rfloat_c_1 c 0 1e12" in text
    _assert_same_network(odd, parse_netlist(text).network)


def test_write_and_read_a_netlist_file(tmp_path):
    net = memsim.layered([2, 4, 2], device=memsim.devices.preset("pershin2011"))
    path = write_netlist(tmp_path / "paper.cir", net, 1.0)
    _assert_same_network(net, read_netlist(path))
    # memsim.load reads .cir files through the same reader
    _assert_same_network(net, memsim.load(path))


def test_reading_a_missing_file_names_it(tmp_path):
    with pytest.raises(CircuitFileError, match="nope.cir"):
        read_netlist(tmp_path / "nope.cir")


# ----------------------------------------------------------------------------- hand-written
HAND = """my hand-written circuit
* an input, an inverted pulse input, an ammeter, a probe and three device kinds
V1 a 0 SIN(0 1.5 10)
V2 0 b PULSE(0 1 1m 1u 1u 2m 5m)
Vout c 0 0
Vp m q 0
R1 a m 1k ; a line resistor
X1 q c memsim_hp_biolek_p2 ron=100 roff=16k kdrift=1e4
+ x0=0.2
X2 b c memsim_linear x0=0.3
A1 c b thr
.model thr memristor(rmin=1k rmax=10k rinit=5k alpha=0 beta=1e6 vt=1)
.control
run
.endc
.tran 10u 10m uic
.end
"""


def test_hand_written_netlist_reads_by_spice_rules():
    parsed = parse_netlist(HAND)
    net = parsed.network
    # nodes in order of appearance; the probe Vp joins q into m
    assert net.node_names == ("a", "b", "c", "m")
    assert [net.node_names[k] for k in net.inputs] == ["a", "b"]
    assert [net.node_names[k] for k in net.outputs] == ["c"]
    assert net.edge_names == ("r1", "x1", "x2", "a1")
    pairs = [(net.node_names[p], net.node_names[q]) for p, q in net.edges]
    # A1 c b: ngspice's element drives OFF for V(c, b) > 0, so memsim's edge runs b -> c
    assert pairs == [("a", "m"), ("m", "c"), ("b", "c"), ("b", "c")]
    assert list(net.model) == [Model.RESISTOR, Model.HP, Model.LINEAR, Model.THRESHOLD]
    assert net.params[0, 0] == 1e3
    assert net.params[1, :5].tolist() == [100.0, 16e3, 1e4, float(Window.BIOLEK), 2.0]
    # X2 gave only x0: the rest are memsim_linear's defaults
    assert net.params[2, :4].tolist() == [100.0, 1e4, 0.0, 10.0]
    # rinit 5k on 1k..10k: x0 = (10k - 5k) / 9k
    np.testing.assert_allclose(net.x0, [0.0, 0.2, 0.3, 5 / 9], rtol=1e-15)
    assert parsed.drives["a"] == Sine(1.5, 10.0)
    # V2 0 b: the node sits at minus the source value
    assert parsed.drives["b"] == Pulse(-0.0, -1.0, delay=1e-3, rise=1e-6, fall=1e-6,
                                       width=2e-3, period=5e-3)
    assert (parsed.t_step, parsed.t_end) == pytest.approx((1e-5, 1e-2))


def test_pulse_defaults_follow_ngspice_when_a_tran_line_precedes():
    text = "t\n.tran 1u 5m\nV1 a 0 PULSE(0 1 1m)\nR1 a 0 1k\n.end\n"
    # tr = tf = tstep, pw = tstop, period = tstop: a single pulse within the run
    assert parse_netlist(text).drives["a"] == Pulse(0.0, 1.0, delay=1e-3, rise=1e-6,
                                                    fall=1e-6, width=5e-3, period=0.0)


BAD = [
    ("C1 a 0 1u", "unsupported element 'c1'"),
    (".param x=1", "unsupported command '.param'"),
    ("X1 a b mysub", "not a memsim subcircuit"),
    ("X1 a 0 memsim_linear foo=1", "unknown parameter 'foo'"),
    ("X1 a 0 memsim_linear x0=0.5 hold=2", "hold must be 0 or 1"),
    ("V1 a b 1", "between two nodes"),
    ("R1 a 0 1x?", "not a number"),
    ("A1 a 0 nomodel", "no '.model nomodel memristor"),
    (".model m diode(is=1)", "type 'diode'"),
    (".model m memristor(rmin=1k rmax=10k)", "lacks rinit, alpha, beta, vt"),
    ("V1 a 0 EXP(0 1)", "EXP sources are not supported"),
    ("V1 a 0 SIN(0 1 50 0 5)", "damped sines"),
    ("V1 a 0 PULSE(0 1)", "PULSE values"),
    ("R1 a a 1", "connects node 'a' to itself"),
    ("R1 a b", "needs two nodes and a value"),
    ("R1 a 0 1\nR1 a 0 2", "defined twice"),
    ("X1 a 0 memsim_hp_biolek_p2 ron=20k roff=10k", "R_on .* must be below R_off"),
    (".subckt memsim_linear plus minus\nR1 plus minus 1\n.ends", "differs from memsim's"),
    (".subckt other a b\n.ends", "is not one of memsim's"),
    (".subckt memsim_linear plus minus", "has no .ends"),
    (".control\nrun", ".control without .endc"),
    ("*@memsim bogus 1", "unknown \\*@memsim line"),
    ("*@memsim rename node a", "cannot read this \\*@memsim rename line"),
    ("*@memsim network {oops", "cannot read this \\*@memsim network line"),
]


@pytest.mark.parametrize(("line", "message"), BAD, ids=[m for _, m in BAD])
def test_unsupported_or_malformed_lines_name_their_line_number(line, message):
    text = "title\nV9 z 0 1\n" + line + "\n.end\n"
    with pytest.raises(CircuitFileError, match=message) as info:
        parse_netlist(text, source="x.cir")
    # the offending line is line 3 (title, V9, then the line) -- or the one that repeats
    assert info.value.line in (3, 4)
    assert str(info.value).startswith(f"x.cir:{info.value.line}: ")
    if message.startswith("unsupported"):  # ... and what is supported
        assert "memsim reads R, V, X" in str(info.value) and ".tran, .op" in str(info.value)


def test_a_continuation_line_needs_a_line_to_continue():
    with pytest.raises(CircuitFileError, match="continuation") as info:
        parse_netlist("title\n+ 1\n.end\n")
    assert info.value.line == 2


def test_metadata_that_contradicts_the_elements_is_an_error():
    net = memsim.crossbar(1, 1, device=Resistor(1e3))
    text = to_netlist(net, 1.0)
    with pytest.raises(CircuitFileError, match="does not make a valid network"):
        parse_netlist(text.replace("*@memsim inputs in0\n", ""))
    with pytest.raises(CircuitFileError, match="do not list as an input"):
        parse_netlist(text.replace("in0:i", "in0:b"))


def test_a_device_touching_a_node_the_metadata_does_not_list_is_an_error():
    net = memsim.crossbar(1, 1, device=Resistor(1e3))
    text = to_netlist(net, 1.0).replace(".end", "R9 in0 extra 5\n.end")
    with pytest.raises(CircuitFileError, match="'extra'"):
        parse_netlist(text)


# ----------------------------------------------------------------------------- export errors
def test_export_rejects_conflicting_or_bad_arguments():
    net = memsim.crossbar(1, 1, device=memsim.devices.preset("biolek2009"))
    with pytest.raises(ParameterError, match="op"):
        to_netlist(net, 1.0, op=True, t_end=1.0)
    with pytest.raises(ParameterError, match="state"):
        to_netlist(net, 1.0, state=np.array([1.5]))
    with pytest.raises(ParameterError, match="t_end"):
        to_netlist(net, 1.0, t_end=-1.0)
    with pytest.raises(ParameterError, match="t_step"):
        to_netlist(net, 1.0, t_end=1.0, t_step=2.0)
    with pytest.raises(ParameterError, match="max_step"):
        to_netlist(net, 1.0, t_end=1.0, max_step=0.0)
    with pytest.raises(ParameterError, match="threshold"):
        to_netlist(net, 1.0, threshold="builtin")
    with pytest.raises(ParameterError, match="unknown input"):
        to_netlist(net, {"nope": 1.0})
    with pytest.raises(ParameterError, match="need 1 drives"):
        to_netlist(net, [1.0, 2.0])
    with pytest.raises(ParameterError, match="outside"):
        to_netlist(net, {3: 1.0})
    with pytest.raises(ParameterError, match="expected a Drive"):
        to_netlist(net, ["sine"])


def test_threshold_form_auto_uses_xspice_only_where_every_end_is_held():
    dev = memsim.devices.preset("pershin2011")
    bar = memsim.crossbar(2, 2, device=dev)  # ideal lines: every device between terminals
    assert threshold_form(bar, 1.0) == "xspice"
    # a floating input leaves a device end free
    assert threshold_form(bar, [1.0, None]) == "subckt"
    assert threshold_form(bar, 1.0, outputs="float") == "subckt"
    hidden = memsim.layered([2, 4, 2], device=dev)
    assert threshold_form(hidden, 1.0) == "subckt"
    with pytest.raises(ParameterError, match="threshold"):
        threshold_form(hidden, 1.0, threshold="other")


# ----------------------------------------------------------------------------- ngspice lookup
def test_missing_ngspice_library_names_the_debian_packages(monkeypatch):
    import memsim.spice.ngspice as ng

    monkeypatch.delenv("NGSPICE_LIBRARY_PATH", raising=False)
    monkeypatch.setattr(ng.ctypes.util, "find_library", lambda name: None)
    monkeypatch.setattr(ng, "_CANDIDATES", ("/nonexistent/libngspice.so.0",))
    with pytest.raises(NgspiceError, match="ngspice libngspice0 libngspice0-dev"):
        library_path()


def test_library_path_prefers_the_users_setting(monkeypatch):
    monkeypatch.setenv("NGSPICE_LIBRARY_PATH", "/opt/ngspice/libngspice.so")
    assert library_path() == "/opt/ngspice/libngspice.so"


def test_missing_ngspice_program_names_the_debian_packages(monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(NgspiceError, match="ngspice libngspice0 libngspice0-dev"):
        ngspice_executable()


def test_raw_files_that_are_not_raw_files_are_rejected(tmp_path):
    from memsim.spice.ngspice import read_raw

    cases = {
        "empty.raw": "",
        "text.raw": "hello\n",
        "headless.raw": "Title: t\nValues:\n 0\t0\n",
        "short.raw": "Title: t\nNo. Variables: 3\nNo. Points: 1\nVariables:\n\t0\ttime\ttime\n"
                     "Values:\n 0\t0\n",
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(NgspiceError, match=name):
            read_raw(tmp_path / name)
