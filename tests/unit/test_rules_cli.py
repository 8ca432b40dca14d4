"""``memsim rule``: help, bad inputs, and the last line."""

import pytest

from memsim.cli import main


def test_rule_help_has_examples(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["rule", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "memsim rule erbp --hardware rram64" in out and "rram16" in out


@pytest.mark.parametrize("argv, message", [
    (["rule", "erbp", "--hardware", "nope"], "unknown tile preset 'nope'"),
    (["rule", "erbp", "--set", "hidden=many"], "hidden: expected a int"),
    (["rule", "mushroom", "--set", "colour=red"], "expected FIELD=VALUE"),
    (["rule", "erbp", "--epochs", "0"], "epochs"),
    (["rule", "erbp", "--tile", "levels=8"], "--hardware TILE_PRESET"),
    (["rule", "erbp", "--hardware", "rram64", "--tile", "levels=1"], "levels"),
])
def test_bad_inputs_exit_nonzero_with_one_line(argv, message, capsys):
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_last_line_reports_the_test_accuracy(capsys):
    assert main(["rule", "mushroom", "--small", "--epochs", "1", "--no-progress"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("test accuracy: ") and 0 <= float(last.split()[-1]) <= 1
