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
    with pytest.raises(ValueError, match="unknown unit"):
        parse_quantity("10 kohms2", "ohm", "r")


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


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (GOOD_GRAPH.replace('outputs = ["c"]', 'outputs = ["z"]'), 7, "no [[edge]] touches"),
        (GOOD_GRAPH.replace('to = "c"', 'to = "b"'), 11, "to itself"),
        (GOOD_GRAPH + '[[edge]]\nfrom = "b"\nto = "a"\n', 14, "duplicate"),
        (GOOD_GRAPH.replace('from = "a"\n', ""), 8, "missing 'from'"),
        (GOOD_GRAPH.replace('model = "hp"', 'model = "hpp"'), 3, "unknown device model"),
        (GOOD_GRAPH.replace('model = "hp"', 'model = "hp"\nr_on = "100 ohmm"'), 4,
         "unknown unit"),
        (GOOD_GRAPH.replace('model = "hp"', 'model = "hp"\nron = 100'), 4, "unknown field"),
        (GOOD_GRAPH.replace('model = "hp"', 'model = "hp"\nr_on = 2e4'), 2, "R_on"),
        (GOOD_GRAPH.replace('kind = "graph"', 'kind = "lattice"'), 5, "kind must be"),
        (GOOD_GRAPH.replace("[[edge]]\nfrom", "[[edge]\nfrom", 1), 8, "not valid TOML"),
        ('[device]\npreset = "nope"\n[topology]\nkind="layered"\nsizes=[2,2]\n', 2,
         "unknown preset"),
        ('[device]\nmodel = "hp"\n[topology]\nkind = "crossbar"\nrows = 2\n', 3,
         "missing the field 'cols'"),
        ('[device]\nmodel = "hp"\n[topolgy]\nkind = "crossbar"\n', 3, "unknown table"),
    ],
)
def test_malformed_files_name_file_line_and_fix(tmp_path, text, line, words):
    path = _write(tmp_path, text)
    with pytest.raises(CircuitFileError) as err:
        memsim.load(path)
    msg = str(err.value)
    assert str(path) in msg and words in msg
    assert err.value.line == line, msg


def test_missing_file_and_unknown_circuit(tmp_path):
    with pytest.raises(CircuitFileError, match="no such file"):
        memsim.load(tmp_path / "nothing.toml")
    with pytest.raises(CircuitFileError, match="known"):
        memsim.circuit_path("no_such_circuit")
