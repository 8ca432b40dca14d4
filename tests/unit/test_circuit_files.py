"""Circuit files: the shipped circuits load; every malformed file gets a precise error."""

import textwrap
from pathlib import Path

import numpy as np
import pytest

import memsim
from memsim import CircuitFileError
from memsim.circuit import parse_quantity

CIRCUITS = sorted((Path(__file__).parents[2] / "circuits").glob("*.toml"))


@pytest.mark.parametrize("path", CIRCUITS, ids=lambda p: p.stem)
def test_shipped_circuits_load(path):
    net = memsim.load(path)
    assert net.name == path.stem
    assert len(net.inputs) >= 1 and len(net.outputs) >= 1


def test_paper_network_matches_the_builder():
    net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    ref = memsim.layered([2, 4, 2], device=memsim.devices.preset("pershin2011"))
    np.testing.assert_array_equal(net.edges, ref.edges)
    np.testing.assert_array_equal(net.params, ref.params)


def test_units_and_prefixes():
    assert parse_quantity("4.7 kohm", "ohm", "r") == pytest.approx(4700.0)
    assert parse_quantity("10kΩ", "ohm", "r") == pytest.approx(1e4)
    assert parse_quantity("-300 mV", "V", "v_on") == pytest.approx(-0.3)
    assert parse_quantity(12, "ohm", "r") == 12.0
    assert parse_quantity("2ms", "s", "width") == pytest.approx(2e-3)
    assert parse_quantity("0.5", "", "x0") == 0.5
    with pytest.raises(ValueError, match="unknown unit"):
        parse_quantity("10 kohms2", "ohm", "r")
    with pytest.raises(ValueError, match="r: cannot read 'ten ohm'"):
        parse_quantity("ten ohm", "ohm", "r")
    with pytest.raises(ValueError, match="x0: expected a number, got True"):
        parse_quantity(True, "", "x0")
    with pytest.raises(ValueError, match="expected no unit"):
        parse_quantity("3 V", "", "p")


GOOD_GRAPH = """
[device]
model = "hp"
[topology]
kind = "graph"
inputs = ["a"]
outputs = ["c"]
[[edge]]
from = "a"
to = "b"
[[edge]]
from = "b"
to = "c"
"""


def _write(tmp_path, text):
    p = tmp_path / "bad.toml"
    p.write_text(textwrap.dedent(text))
    return p


def test_graph_file_loads(tmp_path):
    net = memsim.load(_write(tmp_path, GOOD_GRAPH))
    assert net.n_edges == 2 and net.node_names[net.inputs[0]] == "a"


LAYERED = '[device]\nmodel = "hp"\n[topology]\nkind = "layered"\nsizes = [2, 2]\n'
CROSSBAR = '[device]\nmodel = "hp"\n[topology]\nkind = "crossbar"\nrows = 2\ncols = 2\n'


# (file text, line the error points at, what went wrong, how to fix it): every message names
# the file, the line (or field) and a fix.
BAD_FILES = [
    # unknown node (a terminal that no edge touches), also for ground
    (GOOD_GRAPH.replace('outputs = ["c"]', 'outputs = ["z"]'), 7, "names node 'z'",
     "nodes: a, b, c"),
    (GOOD_GRAPH.replace('outputs = ["c"]', 'outputs = ["c"]\nground = ["q"]'), 8,
     "ground names node 'q'", "nodes: a, b, c"),
    # edge to itself, duplicate edge
    (GOOD_GRAPH.replace('to = "c"', 'to = "b"'), 11, "to itself", "two different nodes"),
    (GOOD_GRAPH + '[[edge]]\nfrom = "b"\nto = "a"\n', 14, "duplicate [[edge]]",
     "give parallel devices distinct 'name's"),
    # missing fields
    (GOOD_GRAPH.replace('from = "a"\n', ""), 8, "missing 'from'", 'from = "<node>"'),
    (CROSSBAR.replace("cols = 2\n", ""), 3, "missing the field 'cols'",
     "add a line 'cols = <integer>'"),
    (GOOD_GRAPH.replace('inputs = ["a"]\n', ""), 4, "missing the field 'inputs'",
     "'inputs = [...]'"),
    ('[device]\nmodel = "hp"\n', None, "missing [topology] table", "kind = layered"),
    ('[topology]\nkind = "layered"\nsizes = [2, 2]\n', None, "needs a [device] table",
     "model = ... or preset = ..."),
    # unknown device model, preset, device table
    (GOOD_GRAPH.replace('model = "hp"', 'model = "hpp"'), 3, "unknown device model 'hpp'",
     "use one of resistor, hp, threshold, vteam, linear"),
    (LAYERED.replace('model = "hp"', 'preset = "nope"'), 2, "unknown preset 'nope'",
     "known: biolek2009"),
    (LAYERED.replace('model = "hp"', 'preset = "pershin2011"\nmodel = "hp"'), 1,
     "preset 'pershin2011' is a Threshold device but model is 'hp'", "drop one of the two"),
    (GOOD_GRAPH.replace('to = "c"', 'to = "c"\ndevice = "line"'), 11, "uses device 'line'",
     "no [devices.line] table"),
    # unit typos, unknown fields (typos of field names must not pass silently)
    (GOOD_GRAPH.replace('model = "hp"', 'model = "hp"\nr_on = "100 ohmm"'), 4,
     "unknown unit 'ohmm'", "expected 'ohm' with an SI prefix"),
    (CROSSBAR + 'r_line = "0.5 Ohms"\n', 7, "unknown unit 'Ohms'",
     "expected 'ohm' with an SI prefix"),
    (GOOD_GRAPH.replace('model = "hp"', 'model = "hp"\nron = 100'), 4, "unknown field 'ron'",
     "fields are d, mu_v, p, r_off, r_on, window, x0"),
    (CROSSBAR + "r_lin = 0.5\n", 7, "unknown field 'r_lin'",
     "fields are kind, rows, cols, r_line, r_line_word, r_line_bit"),
    (GOOD_GRAPH.replace('to = "c"', 'to = "c"\ndevce = "x"'), 14, "unknown field 'devce'",
     "fields are from, to, device, name"),
    ('[circuit]\nnmae = "x"\n' + LAYERED, 2, "unknown field 'nmae'",
     "fields are name, description"),
    ('[device]\nmodel = "hp"\n[topolgy]\nkind = "crossbar"\n', 3, "unknown table [topolgy]",
     "expected circuit, device, devices, edge, topology"),
    # invalid parameters: the field is named, the line is the field's
    (GOOD_GRAPH.replace('model = "hp"', 'model = "hp"\nr_on = 2e4'), 4, "R_on (20000 ohm) must",
     "swap them?"),
    (GOOD_GRAPH.replace('model = "hp"', 'model = "hp"\nr_off = "-5 kohm"'), 4,
     "r_off: must be a positive", "ohms"),
    (GOOD_GRAPH.replace('model = "hp"', 'model = "hp"\np = 0.5'), 4,
     "p: the window exponent must be >= 1", "got 0.5"),
    (GOOD_GRAPH.replace('model = "hp"', 'model = "hp"\nwindow = "hann"'), 4,
     "unknown window 'hann'", "use one of none, joglekar, biolek, prodromakis"),
    (CROSSBAR.replace("rows = 2", "rows = 2.5"), 5, "rows must be an integer", "got 2.5"),
    (CROSSBAR + "r_line = -1\n", 7, "line resistance must be >= 0", "-1"),
    (LAYERED + 'seed = "x"\n', 6, "seed must be an integer", "got 'x'"),
    (LAYERED + 'connectivity = 1.5\n', 6, "connectivity: must lie in (0, 1]", "got 1.5"),
    # wrong shapes of tables and values
    (GOOD_GRAPH.replace('kind = "graph"', 'kind = "lattice"'), 5, "kind must be one of",
     "layered, crossbar, random, graph, got 'lattice'"),
    ('device = "hp"\n[topology]\nkind = "layered"\nsizes = [2, 2]\n', 1,
     "[device] must be a table", "a [header] with key = value lines"),
    (GOOD_GRAPH.replace("[[edge]]\nfrom", "[[edge]\nfrom", 1), 8, "not valid TOML",
     "Expected ']]'"),
]


@pytest.mark.parametrize(("text", "line", "words", "fix"), BAD_FILES,
                         ids=[case[2] for case in BAD_FILES])
def test_malformed_files_name_file_line_and_fix(tmp_path, text, line, words, fix):
    path = _write(tmp_path, text)
    with pytest.raises(CircuitFileError) as err:
        memsim.load(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}:{line}: " if line else f"{path}: "), msg
    assert words in msg and fix in msg, msg
    assert err.value.line == line and err.value.path == str(path)


def test_missing_file_and_unknown_circuit(tmp_path):
    with pytest.raises(CircuitFileError, match="no such file"):
        memsim.load(tmp_path / "nothing.toml")
    with pytest.raises(CircuitFileError, match="known"):
        memsim.circuit_path("no_such_circuit")
