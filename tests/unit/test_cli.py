"""The memsim command line, run in-process."""

import csv

import pytest

import memsim
from memsim.cli import main

PAPER = str(memsim.circuit_path("paper_2x4x2"))


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "info" in out and "simulate" in out


def test_info(capsys):
    assert main(["info", PAPER]) == 0
    out = capsys.readouterr().out
    assert "8 nodes, 16 edges" in out and "independent cycles 9" in out


def test_simulate_writes_csv_and_plot(tmp_path, capsys):
    code = main(["simulate", PAPER, "--all", "sine:3:50", "--drive", "in1=float",
                 "--t-end", "0.02", "--points", "101", "--out", str(tmp_path)])
    assert code == 0
    rows = list(csv.reader(open(tmp_path / "paper_2x4x2_transient.csv")))
    assert len(rows) == 102 and rows[0][0] == "t"
    assert (tmp_path / "paper_2x4x2_transient.png").stat().st_size > 10_000
    first, last = rows[1], rows[-1]
    assert first[1:17] != last[1:17]  # 3 V over threshold moved the devices


@pytest.mark.parametrize("argv", [
    ["info", "nonexistent.toml"],
    ["simulate", PAPER, "--drive", "in9=dc:1"],
    ["simulate", PAPER, "--drive", "in0=square:1"],
    ["simulate", PAPER, "--drive", "in0"],
])
def test_errors_are_one_line_and_exit_nonzero(argv, capsys):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("memsim: error:") and err.count("\n") == 1
