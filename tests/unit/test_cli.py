"""The memsim command line, run in-process."""

import csv
import re

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
    with pytest.raises(memsim.CircuitFileError, match="nor one of the circuits.*paper_2x4x2"):
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


def test_simulate_takes_a_netlists_own_sources_and_tran(tmp_path, capsys):
    import networkx as nx

    from memsim.spice import write_netlist

    net = memsim.from_networkx(nx.path_graph(["a", "b"]), inputs=["a"], outputs=["b"],
                               device=memsim.devices.Linear(x0=0.3), name="lin")
    cir = write_netlist(tmp_path / "lin.cir", net, memsim.Sine(0.8, 5.0), t_end=0.4)
    assert main(["simulate", str(cir), "--out", str(tmp_path), "--points", "41"]) == 0
    table = np.loadtxt(tmp_path / "lin_transient.csv", delimiter=",", skiprows=1)
    res = memsim.simulate(net, memsim.Sine(0.8, 5.0), 0.4, t_eval=np.linspace(0, 0.4, 41))
    np.testing.assert_allclose(table[:, 0], res.t, rtol=1e-15)
    np.testing.assert_allclose(table[:, 1], res.x[:, 0], rtol=1e-12)
    # drives on the command line replace the netlist's
    assert main(["simulate", str(cir), "--out", str(tmp_path), "--all", "dc:0"]) == 0
    table = np.loadtxt(tmp_path / "lin_transient.csv", delimiter=",", skiprows=1)
    assert table[-1, 0] == 0.4 and np.all(table[:, 1] == 0.3)
    capsys.readouterr()


# TransientResult.plot asks for a legend of the (empty) state panel: a harmless matplotlib
# warning, reported to the owner of memsim/solve/transient.py
@pytest.mark.filterwarnings("ignore:No artists with labels found:UserWarning")
def test_simulate_a_circuit_without_memristors(tmp_path, capsys):
    toml = tmp_path / "rr.toml"
    toml.write_text('[device]\nmodel = "resistor"\nr = "1 kohm"\n'
                    '[topology]\nkind = "layered"\nsizes = [1, 2, 1]\n')
    assert main(["simulate", str(toml), "--all", "dc:1", "--t-end", "0.1",
                 "--out", str(tmp_path)]) == 0
    assert "no memristors; peak power 0.001 W" in capsys.readouterr().out  # 1 V over 1 kohm


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


def test_help_imports_no_command_module_and_no_numba():
    """`memsim --help` must answer at once: it reads the command table from the sources."""
    import subprocess
    import sys

    code = ("import sys\nfrom memsim.cli import main\ntry:\n    main(['--help'])\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m in ('numba', 'numpy') or "
            "m.endswith('.cli') and m != 'memsim.cli'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
    assert "spice-check" in out and "controllability" in out


def test_command_table_matches_what_each_module_registers():
    import argparse

    from memsim.cli import COMMAND_MODULES, build_parser, command_table

    full = build_parser()
    sub = next(a for a in full._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in sub._choices_actions}
    for module in COMMAND_MODULES:
        table = command_table(module)
        assert table, f"{module}: add_parser calls need literal names and help"
        assert {k: helps[k] for k in table} == table


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out == f"memsim {memsim.__version__}\n"


@pytest.mark.parametrize("content", [b"hello world\nthis is not a netlist\n", b"",
                                     b"* a title only\n.end\n", bytes(range(256)) * 3])
def test_a_cir_file_that_is_no_netlist_is_one_error(content, tmp_path, capsys):
    path = tmp_path / "bad.cir"
    path.write_bytes(content)
    for command in ("info", "simulate"):
        assert main([command, str(path), "--out", str(tmp_path)] if command == "simulate"
                    else [command, str(path)]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"memsim: error: {path}") and err.count("\n") == 1


def test_outputs_are_named_after_the_file_not_the_netlist_title(tmp_path, capsys):
    import networkx as nx

    from memsim.spice import write_netlist

    net = memsim.from_networkx(nx.path_graph(["a", "b"]), inputs=["a"], outputs=["b"],
                               device=memsim.devices.Linear(x0=0.3), name="resistor divider")
    cir = write_netlist(tmp_path / "divider.cir", net, memsim.Sine(0.8, 5.0), t_end=0.1)
    assert main(["simulate", str(cir), "--out", str(tmp_path), "--points", "11"]) == 0
    assert "simulated divider:" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.glob("*_transient.*")) == [
        "divider_transient.csv", "divider_transient.png"]


@pytest.mark.skipif(not hasattr(__import__("numba").njit(lambda: 0), "compile"),
                    reason="NUMBA_DISABLE_JIT: nothing compiles")
def test_compiling_is_announced_with_its_duration(capsys):
    import numba

    from memsim.cli import _CompileWatch

    watch = _CompileWatch().start()
    numba.njit(lambda v: v + 1)(1)  # a new function: compiled now, never cached
    numba.njit(lambda v: v * 2)(2)
    watch.stop()
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[0].startswith("memsim: compiling numba kernels")
    assert re.fullmatch(r"memsim: compiling took \d+\.\d s \(later runs load the kernels from "
                        r"the cache\)", err[1])
