"""`memsim fit`: help with examples, and bad inputs fail with one clear line and write nothing
(the fits themselves run in tests/test_measure_fits.py)."""

import pytest

from memsim.cli import main
from memsim.devices.measured import ENVIRONMENT, measurements_path


def test_fit_help_has_examples(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["fit", "--help"])
    assert exit_.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "memsim fit adamlab_lea_1t1r_rram --model vteam" in out
    assert "--compare" in out and "--write NAME" in out and "measured:NAME" in out


@pytest.mark.parametrize(("args", "words"), [
    (["adamlab_lea_1t1r_rram"], "give --model MODEL, or --compare"),
    (["adamlab_lea_1t1r_rram", "--model", "yakopcic"], "unknown iv model 'yakopcic'"),
    (["crosssim_v2_lookup_example_pulse", "--model", "vteam"], "unknown pulse model 'vteam'"),
    (["adamlab_lea_1t1r_rram", "--model", "vteam", "--write", "Bad-Name"],
     "a fit name is lower-case"),
    (["adamlab_lea_1t1r_rram", "--model", "vteam", "--cycles", "0"], "cycles: must be >= 1"),
    (["/nonexistent/iv_*.txt", "--model", "vteam"], "no I-V files match"),
    (["a.csv", "b.csv", "c.csv", "--kind", "pulse", "--model", "window"],
     "pulse data is one file"),
])
def test_bad_inputs_fail_with_one_line(args, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["fit", *args]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("memsim: error:") and words in err


def test_bad_data_writes_nothing(tmp_path, monkeypatch, capsys, folder_digests):
    """A bad file and --write: an error naming file and line; measurements/ unchanged."""
    store = tmp_path / "store"
    (store / "mine").mkdir(parents=True)
    monkeypatch.setenv(ENVIRONMENT, str(store))
    bad = store / "mine" / "iv_cycle1.txt"
    bad.write_text("0 0\n0.5 1e-4\n1.0 x\n0.5 5e-5\n")
    before = folder_digests(store / "mine")
    assert measurements_path() == store
    assert main(["fit", str(bad), "--model", "threshold", "--write", "mine_fit",
                 "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:3:" in err and "cannot read 'x'" in err
    assert folder_digests(store / "mine") == before
    assert not list(store.rglob("*.toml")) and not (tmp_path / "out").exists()
