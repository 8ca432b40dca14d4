"""Fitted devices stored in measurements/: presets in Python and circuit files, the fit-file
writer, and the one function that says where measurements/ is."""

import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

import memsim
import memsim.measure as mm
from memsim.devices.measured import ENVIRONMENT, measured_device, measurements_path
from memsim.errors import CircuitFileError, ParameterError
from memsim.measure.store import check_name, dataset_of, to_toml, write_fit


def test_measured_preset_is_the_stored_device():
    dev = memsim.devices.preset("measured:lea_1t1r_vteam")
    fit = mm.load_iv_fit("lea_1t1r_vteam")
    assert dev == fit.device()
    doc = tomllib.loads(fit.path.read_text())
    assert dev.r_off == doc["device"]["r_off"] and dev.x0 == 1.0
    # the stored preset holds the per-cycle medians
    assert dev.r_on == pytest.approx(float(np.median(fit.per_cycle["r_on"])), rel=1e-12)
    assert fit.device(3).r_on == pytest.approx(fit.per_cycle["r_on"][3], rel=1e-12)
    assert fit.r_series == doc["series"]["r"] and doc["series"]["fitted"] is True
    assert doc["fit"]["command"].startswith("memsim fit")  # how to reproduce it
    cell = fit.cell()
    assert cell.n_edges == 2 and cell.device(0).r == fit.r_series


def test_measured_preset_in_a_circuit_file(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[device]\npreset = "measured:lea_1t1r_threshold"\n\n'
                 '[topology]\nkind = "layered"\nsizes = [2, 3, 2]\n')
    net = memsim.load(f)
    assert net.device(0) == memsim.devices.preset("measured:lea_1t1r_threshold")
    f.write_text('[device]\npreset = "measured:nope"\n\n[topology]\nkind = "layered"\n'
                 'sizes = [2, 2]\n')
    with pytest.raises(CircuitFileError) as err:
        memsim.load(f)
    assert err.value.line == 2 and "no measured fit 'nope'" in str(err.value)
    assert "lea_1t1r_vteam" in str(err.value)  # the known fits are listed


def test_pulse_fits_are_not_time_domain_presets():
    with pytest.raises(ParameterError, match="pulse units"):
        memsim.devices.preset("measured:crosssim_pulse_window")
    with pytest.raises(ParameterError, match="not an I-V fit"):
        mm.load_iv_fit("crosssim_pulse_window")
    dev, meta = mm.load_pulse_fit("crosssim_pulse_window")
    assert meta["kind"] == "pulse" and dev.mapping == "resistive"
    with pytest.raises(ParameterError, match="not a pulse-response fit"):
        mm.load_pulse_fit("lea_1t1r_vteam")


def test_environment_redirects_measurements(tmp_path, monkeypatch):
    assert measurements_path().name == "measurements"
    monkeypatch.setenv(ENVIRONMENT, str(tmp_path))
    assert measurements_path() == tmp_path
    assert mm.measured_names() == []
    with pytest.raises(ParameterError, match="no measured fit"):
        measured_device("lea_1t1r_vteam")
    # a copy of a fit file under the redirected folder is found there
    shipped = Path(memsim.__file__).parents[1] / "measurements"
    src = shipped / "adamlab_lea_1t1r_rram" / "fits" / "lea_1t1r_vteam.toml"
    (tmp_path / "x" / "fits").mkdir(parents=True)
    shutil.copy(src, tmp_path / "x" / "fits" / "mine.toml")
    assert mm.measured_names() == ["mine"]
    assert memsim.devices.preset("measured:mine").model.name == "VTEAM"


def test_write_fit_is_atomic_named_and_unique(tmp_path):
    doc = {"fit": {"name": "a", "kind": "iv"}, "device": {"model": "threshold", "r_on": 1e3,
                                                          "r_off": 1e4}}
    path = write_fit(doc, {}, "a_1", dataset="ds", root=tmp_path)
    assert path == tmp_path / "ds" / "fits" / "a_1.toml"
    assert tomllib.loads(path.read_text()) == doc
    assert not list(tmp_path.rglob("*.tmp"))
    with pytest.raises(ParameterError, match="taken by"):
        write_fit(doc, {}, "a_1", dataset="other", root=tmp_path)
    for bad in ("A", "1x", "a-b", "", "a b"):
        with pytest.raises(ParameterError):
            check_name(bad)


def test_toml_writer_round_trips_values():
    doc = {"t": {"f": 0.1, "big": 1.2345678901234567e-300, "i": 3, "s": 'a "q" \\ é',
                 "b": True, "l": [1.5, 2.5], "inf": float("inf")}}
    back = tomllib.loads(to_toml(doc, {"t": "a comment"}))
    assert back["t"]["f"] == 0.1 and back["t"]["big"] == 1.2345678901234567e-300
    assert back["t"]["s"] == 'a "q" \\ é' and back["t"]["l"] == [1.5, 2.5]
    assert back["t"]["inf"] == "inf"  # TOML floats may not be inf in every reader: a string


def test_dataset_of_paths():
    root = measurements_path()
    files = [str(root / "adamlab_lea_1t1r_rram" / "data" / "figure_3" / "c" / "x.txt")]
    assert dataset_of(files) == ("adamlab_lea_1t1r_rram", ["data/figure_3/c/x.txt"])
    assert dataset_of(["/tmp/elsewhere/x.txt"])[0] == "local"
