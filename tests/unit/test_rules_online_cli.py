"""``memsim rule eprop`` and ``memsim rule hybrid`` on small settings, and their bad inputs."""

import re

import pytest

from memsim.cli import main

pytest.importorskip("jax")

LAST = re.compile(r"^test accuracy (0\.\d{4}|1\.0000)$")


def last_line(capsys):
    return capsys.readouterr().out.strip().splitlines()[-1]


@pytest.mark.parametrize("argv", [
    ["rule", "eprop", "--hidden", "12", "--epochs", "1", "--train", "96"],
    ["rule", "eprop", "--method", "rtrl", "--hidden", "4", "--epochs", "1", "--train", "32"],
    ["rule", "hybrid", "--hidden", "16", "--epochs", "1", "--train", "128"],
    ["rule", "hybrid", "--task", "faults", "--hidden", "16", "--epochs", "1", "--train", "128",
     "--train-faults", "0.1"],
    # enough digits that every task fills a batch: one compiled shape
    ["rule", "hybrid", "--task", "continual", "--hidden", "16", "--epochs", "1", "--train",
     "700"],
])
def test_rules_run_and_report_the_test_accuracy_last(argv, capsys):
    assert main([*argv, "--no-progress"]) == 0
    assert LAST.match(last_line(capsys))


@pytest.mark.parametrize("argv, field", [
    (["rule", "eprop", "--hidden", "0"], "n_hidden"),
    (["rule", "eprop", "--lr", "-1"], "lr"),
    (["rule", "eprop", "--epochs", "0"], "epochs"),
    (["rule", "hybrid", "--task", "faults", "--fault-fraction", "2"], "fault-fraction"),
    (["rule", "hybrid", "--steps", "0"], "steps"),
    (["rule", "hybrid", "--train-faults", "1"], "train_faults"),
])
def test_bad_values_exit_with_one_line(argv, field, capsys):
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"memsim: error: {field}:")


def test_unknown_choice_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["rule", "eprop", "--method", "bptt"])
    assert exit_.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_help_shows_examples(capsys):
    for rule in ("eprop", "hybrid"):
        with pytest.raises(SystemExit):
            main(["rule", rule, "--help"])
        assert f"memsim rule {rule}" in capsys.readouterr().out
