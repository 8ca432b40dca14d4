"""Every documented Raises of memsim.measure, memsim.devices.pulsed and .measured: bad input
is refused before any simulation, with the field named."""

import numpy as np
import pytest

import memsim.measure as mm
from memsim.devices import preset
from memsim.devices.measured import device_from_table, fit_path, load_fit
from memsim.devices.pulsed import PulseDevice, program
from memsim.errors import ParameterError
from memsim.measure.cells import cells
from memsim.measure.iv import simulate_sweeps
from memsim.measure.pulse import fit_pulses, noise_by_conductance
from memsim.measure.readers import IVSweep, PulseRamp, RetentionSeries
from memsim.measure.statistics import (
    cycle_noise_from_iv,
    level_spread,
    read_noise,
    retention_drift,
)

SWEEP = IVSweep(np.array([0.0, 0.5, 1.0, 0.5, 0.0]), np.array([0, 1, 2, 1, 0]) * 1e-4, "s", "s")


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"model": "yakopcic"}, "model"),
    ({"n_starts": 0}, "n_starts"),
    ({"bootstrap": -1}, "bootstrap"),
    ({"time_per_point": 0.0}, "time_per_point"),
    ({"substeps": 1.5}, "substeps"),
    ({"per_cycle": ["k_on"]}, "per_cycle"),
    ({"series": -5.0}, "series"),
])
def test_fit_iv_refuses_bad_options(kwargs, field):
    with pytest.raises(ParameterError) as err:
        mm.fit_iv([SWEEP], **{"model": "vteam", **kwargs})
    assert err.value.field == field


def test_fit_iv_and_simulation_refuse_no_data_and_bad_grids():
    with pytest.raises(ParameterError, match="at least one"):
        mm.fit_iv([])
    dev = preset("vteam2015")
    with pytest.raises(ParameterError, match="time_per_point"):
        simulate_sweeps([dev], None, [SWEEP], time_per_point=-1.0)
    with pytest.raises(ParameterError, match="substeps"):
        simulate_sweeps([dev], None, [SWEEP], substeps=0)
    with pytest.raises(ParameterError, match="at least one device"):
        cells([], None)
    with pytest.raises(ParameterError, match="not a memristor"):
        cells([memsim_resistor()], None)
    with pytest.raises(ParameterError, match="positive resistance"):
        cells([dev], -1.0)
    with pytest.raises(ParameterError, match="need 2 values"):
        cells([dev, dev], [1.0])
    with pytest.raises(ParameterError, match="unknown I-V model"):
        mm.model_spec("nope")


def memsim_resistor():
    from memsim.devices import Resistor

    return Resistor(10.0)


def _ramps():
    up = PulseRamp(np.linspace(1e-4, 2e-4, 30), +1, False, "s", "u")
    down = PulseRamp(np.linspace(2e-4, 1e-4, 30), -1, False, "s", "d")
    return [up, down]


def test_pulse_fit_refusals():
    up, down = _ramps()
    with pytest.raises(ParameterError, match="unknown pulse model"):
        fit_pulses([up, down], "vteam")
    with pytest.raises(ParameterError, match="at least one ramp"):
        fit_pulses([], "window")
    with pytest.raises(ParameterError, match="both up and down"):
        fit_pulses([up], "window")
    norm = PulseRamp(np.linspace(-1, 1, 30), -1, True, "s", "n")
    with pytest.raises(ParameterError, match="mixed normalized"):
        fit_pulses([up, norm], "window")
    with pytest.raises(ParameterError, match="means nothing"):
        fit_pulses([up, down], "window", bootstrap=10)
    dev = PulseDevice(g_min=1e-4, g_max=2e-4, k_up=0.03, k_down=0.03)
    with pytest.raises(ParameterError, match="at least 2 bins"):
        noise_by_conductance(dev, [up, down], bins=1)
    with pytest.raises(ParameterError, match="too few"):
        noise_by_conductance(dev, [up, down], bins=20)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"g_min": 2e-4, "g_max": 1e-4}, "g_min"),
    ({"g_min": -1e-4, "g_max": 1e-4}, "g_min"),
    ({"k_up": -0.1}, "k_up"),
    ({"gamma_up": 0.0}, "gamma_up"),
    ({"p": 0.1}, "p"),
    ({"mapping": "log"}, "mapping"),
    ({"law": "vteam"}, "law"),
    ({"read_noise": float("nan")}, "read_noise"),
])
def test_pulse_device_validation(kwargs, field):
    base = {"g_min": 1e-4, "g_max": 1e-3, "k_up": 0.01, "k_down": 0.01}
    with pytest.raises(ParameterError) as err:
        PulseDevice(**{**base, **kwargs})
    assert err.value.field == field


def test_program_refusals():
    dev = PulseDevice(g_min=1e-4, g_max=1e-3, k_up=0.01, k_down=0.01)
    for kwargs, field in (({"direction": 0}, "direction"), ({"n": -1}, "n"),
                          ({"x0": 1.5}, "x0")):
        args = {"x0": 0.5, "direction": 1, "n": 5, **kwargs}
        with pytest.raises(ParameterError) as err:
            program(dev, args["x0"], args["direction"], args["n"])
        assert err.value.field == field


def test_stored_fit_lookup_refusals(tmp_path):
    for ds in ("a", "b"):
        (tmp_path / ds / "fits").mkdir(parents=True)
        (tmp_path / ds / "fits" / "twin.toml").write_text("[fit]\n")
    with pytest.raises(ParameterError, match="several datasets"):
        fit_path("twin", tmp_path)
    (tmp_path / "a" / "fits" / "bad.toml").write_text("[fit\n")
    with pytest.raises(ParameterError, match="cannot read"):
        load_fit("bad", tmp_path)
    with pytest.raises(ParameterError, match="unknown model"):
        device_from_table({"model": "yakopcic"})
    with pytest.raises(ParameterError, match="not a field of Threshold"):
        device_from_table({"model": "threshold", "k_on": 1.0})


def test_statistics_refusals():
    lv = mm.LevelDistribution(np.array([0.0, 0.0, 1e-4]), "f", "l")
    with pytest.raises(ParameterError, match="fewer than two"):
        level_spread([lv])
    r = RetentionSeries(np.arange(3.0), np.full(3, 1e-4), np.full(3, 1e-6), 0.0, "f")
    with pytest.raises(ParameterError, match="at least two levels"):
        read_noise([r])
    with pytest.raises(ParameterError, match="at least one"):
        retention_drift([])
    fit = mm.load_iv_fit("lea_1t1r_hp")
    with pytest.raises(ParameterError, match="no per-cycle threshold"):
        cycle_noise_from_iv(fit)
