"""The memsim command line, run in-process."""

import csv

import numpy as np
import pytest

import memsim
from memsim.cli import main

PAPER = str(memsim.circuit_path("paper_2x4x2"))


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "info" in out and "simulate" in out and "spice-check" in out
    # the examples a newcomer copies work from any folder: shipped circuits go by name
    assert "memsim info paper_2x4x2" in out and "memsim simulate paper_2x4x2" in out


@pytest.mark.parametrize("command", ["info", "simulate", "spice-check"])
def test_command_help_explains_circuit_and_options(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "or the name of a shipped circuit" in out
    if command != "info":  # the drive forms are spelled out
        assert "sine:AMP:FREQ[:PHASE_DEG]" in out and "--drive NAME=SPEC" in out


def test_info(capsys):
    assert main(["info", PAPER]) == 0
    out = capsys.readouterr().out
    assert "8 nodes, 16 edges" in out and "independent cycles 9" in out
    # a shipped circuit by name, from any working directory
    assert main(["info", "paper_2x4x2"]) == 0
    assert capsys.readouterr().out == out


def test_circuit_argument_resolution(tmp_path, monkeypatch):
    from memsim.cli import circuit_file

    monkeypatch.chdir(tmp_path)
    assert circuit_file("wheatstone") == memsim.circuit_path("wheatstone")
    assert circuit_file("wheatstone.toml") == memsim.circuit_path("wheatstone")
    (tmp_path / "wheatstone.toml").write_text("")  # a local file wins over the shipped one
    assert str(circuit_file("wheatstone.toml")) == "wheatstone.toml"
    with pytest.raises(memsim.CircuitFileError, match="nor a circuit shipped.*paper_2x4x2"):
        circuit_file("nothing")


def test_simulate_writes_csv_and_plot(tmp_path, capsys):
    code = main(["simulate", PAPER, "--all", "sine:3:50", "--drive", "in1=float",
                 "--t-end", "0.02", "--points", "101", "--out", str(tmp_path)])
    assert code == 0
    rows = list(csv.reader(open(tmp_path / "paper_2x4x2_transient.csv")))
    assert len(rows) == 102 and rows[0][0] == "t"
    assert (tmp_path / "paper_2x4x2_transient.png").stat().st_size > 10_000
    first, last = rows[1], rows[-1]
    assert first[1:17] != last[1:17]  # 3 V over threshold moved the devices


def test_simulate_a_single_memristor_netlist_plots_its_pinched_loop(tmp_path, capsys):
    """One input, one output: the third panel is the I-V loop; the CSV holds what the API
    returns."""
    import networkx as nx

    from memsim.spice import write_netlist

    net = memsim.from_networkx(nx.path_graph(["a", "b"]), inputs=["a"], outputs=["b"],
                               device=memsim.devices.HP(window="none", x0=0.1), name="one")
    cir = write_netlist(tmp_path / "one.cir", net, 0.0)
    assert main(["simulate", str(cir), "--all", "sine:1:1", "--t-end", "1", "--method", "rk4",
                 "--dt", "1e-3", "--out", str(tmp_path)]) == 0
    assert "simulated one: 1000 steps (rk4)" in capsys.readouterr().out
    table = np.loadtxt(tmp_path / "one_transient.csv", delimiter=",", skiprows=1)
    res = memsim.simulate(net, memsim.Sine(1.0, 1.0), 1.0, method="rk4", dt=1e-3)
    np.testing.assert_allclose(table[:, 1], res.x[:, 0], rtol=1e-12)
    np.testing.assert_allclose(table[:, 2], res.output_currents[:, 0], rtol=1e-12)
    assert (tmp_path / "one_transient.png").stat().st_size > 10_000


@pytest.mark.parametrize("argv", [
    ["info", "nonexistent.toml"],
    ["info", "nonexistent"],
    ["simulate", PAPER, "--drive", "in0=sine:1"],
    ["simulate", PAPER, "--method", "euler", "--dt", "-1"],
    ["simulate", PAPER, "--drive", "in9=dc:1"],
    ["simulate", PAPER, "--drive", "in0=square:1"],
    ["simulate", PAPER, "--drive", "in0"],
])
def test_errors_are_one_line_and_exit_nonzero(argv, capsys):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("memsim: error:") and err.count("\n") == 1
