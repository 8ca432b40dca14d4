"""Readers of measured data: the shipped datasets read with their units; bad data gives an
error naming the file and the line."""

import numpy as np
import pytest

import memsim.measure as mm
from memsim.errors import MeasurementError

LEA = mm.dataset("adamlab_lea_1t1r_rram")


def test_shipped_datasets_read_in_si_units():
    cycles = LEA.reset_cycles()
    assert len(cycles) == 19 and cycles[1].label == "iv_positive_cycle2"  # natural order
    assert sum(c.n_points for c in cycles) == 3236  # PROVENANCE: 3,236 RESET rows
    assert 0.36e-3 < max(c.current.max() for c in cycles) < 0.41e-3  # amperes
    assert sum(c.n_points for c in LEA.set_cycles()) == 3717
    cmap = LEA.conductance_map()
    # raw pS; the source treats > 300 uS as stuck ON and plots in uS
    assert cmap.values.shape == (25, 25) and 70e-6 < cmap.values.min() < 75e-6
    ret = LEA.retention()
    assert [r.start / 60 for r in ret] == [0, 120, 240, 360]  # minutes run on across states
    assert all(r.time[0] == 0 and r.time[-1] == 119 * 60 for r in ret)
    assert 120e-6 < ret[0].mean[0] < 123e-6 and 1e-6 < ret[0].std[0] < 3e-6
    assert [lv.values.size for lv in LEA.levels()] == [132, 167, 172, 154]
    ramps = mm.dataset("crosssim_v2_lookup_example_pulse").pulse_ramps()
    assert len(ramps) == 79 and [r.direction for r in ramps[:4]] == [1, -1, 1, -1]
    # consecutive ramps join end to start (PROVENANCE): SET 1 ends where RESET 1 begins
    assert abs(ramps[0].conductance[-1] - ramps[1].conductance[0]) < 1e-6
    assert 1.6e-3 < ramps[0].conductance[0] < 1.61e-3  # 0.1606 mA at 0.1 V
    up, down = mm.dataset("aihwkit_gong_hfo2_pulse").pulse_ramps()
    assert up.normalized and up.n_pulses == down.n_pulses == 1000


def test_header_units_are_converted(tmp_path):
    f = tmp_path / "iv.csv"
    f.write_text("voltage (mV), current (uA)\n0, 0\n500, 10\n1000, 25\n")
    s = mm.read_iv(f)
    np.testing.assert_allclose(s.voltage, [0, 0.5, 1.0])
    np.testing.assert_allclose(s.current, [0, 10e-6, 25e-6])
    f2 = tmp_path / "ret.txt"
    f2.write_text("# t[s] G[mS] std[mS]\n0 1.0 0.01\n10 1.1 0.01\n")
    r = mm.read_retention(f2)
    np.testing.assert_allclose(r.time, [0, 10])
    np.testing.assert_allclose(r.mean, [1e-3, 1.1e-3])


BAD = [
    # (reader, file name, text, line, words in the message)
    ("iv", "cell.txt", "0 0\n0.1 1e-5\n0.2 abc\n", 3, "cannot read 'abc'"),
    ("iv", "nan.txt", "0 0\n0.1 nan\n0.2 2e-5\n", 2, "must be finite"),
    ("iv", "one.txt", "0.1 1e-5\n", None, "at least 2"),
    ("iv", "empty.txt", "", None, "no data rows"),
    ("iv", "comments.txt", "# nothing here\n\n", None, "no data rows"),
    ("iv", "cols.txt", "0 0\n0.1 1e-5 7\n", 2, "3 cells, expected 2"),
    ("iv", "swap.csv", "current (A), voltage (V)\n0, 0\n1e-5, 0.1\n", 1,
     "named 'current' (current) but holds voltage"),
    ("iv", "unit.csv", "voltage (A), current (A)\n0, 0\n0.1, 1e-5\n", 1,
     "a unit of current, but this column holds voltage"),
    ("iv", "typo.csv", "voltage (Vv), current (A)\n0, 0\n0.1, 1e-5\n", 1, "unknown unit 'Vv'"),
    ("iv", "ncols.csv", "voltage (V)\n0, 0\n0.1, 1e-5\n", 1, "names 1 columns"),
    ("iv", "flat.txt", "0 1e-5\n0.1 1e-5\n", None, "same at every point"),
    ("retention", "order.txt", "0 120 2\n2 121 2\n1 122 2\n", 3, "increase strictly"),
    ("retention", "neg.txt", "0 120 2\n1 121 -2\n", 2, "must be non-negative"),
    ("ramps", "gap.csv", "rmp1,rmp2\n1e-4,1e-4\n,1e-4\n1e-4,1e-4\n", 4, "resumes after blank"),
    ("ramps", "zero.csv", "rmp1\n1e-4\n0\n", 3, "non-positive reading"),
    ("map", "ragged.txt", "1 2 3\n1 2\n", 2, "2 cells, expected 3"),
]


@pytest.mark.parametrize(("reader", "name", "text", "line", "words"), BAD,
                         ids=[b[1] for b in BAD])
def test_bad_data_names_file_and_line(tmp_path, reader, name, text, line, words):
    f = tmp_path / name
    f.write_text(text)
    read = {"iv": mm.read_iv, "retention": mm.read_retention, "map": mm.read_map,
            "ramps": lambda p: mm.read_pulse_ramps(p, +1)}[reader]
    with pytest.raises(MeasurementError) as err:
        read(f)
    assert err.value.path == str(f) and err.value.line == line
    assert words in str(err.value)
    assert str(err.value).startswith(f"{f}:{line}:" if line else f"{f}:")


def test_missing_files_and_patterns():
    with pytest.raises(MeasurementError, match="no such file"):
        mm.read_iv("/nonexistent/iv.txt")
    with pytest.raises(MeasurementError, match="no I-V files match"):
        mm.read_iv_cycles("/nonexistent/iv_*.txt")
    with pytest.raises(MeasurementError, match="no I-V files given"):
        mm.read_iv_cycles([])
    with pytest.raises(MeasurementError, match="direction must be"):
        mm.read_pulse_ramps("x.csv", 0)
    with pytest.raises(MeasurementError, match="unknown conductance unit"):
        mm.read_map("x.txt", unit="ohm")
    with pytest.raises(MeasurementError, match="unknown conductance unit"):
        mm.read_distribution("x.txt", unit="Ohm")


def test_distribution_and_columns_readers_refuse_negative_and_short(tmp_path):
    f = tmp_path / "d.txt"
    f.write_text("100\n-5\n")
    with pytest.raises(MeasurementError) as err:
        mm.read_distribution(f)
    assert err.value.line == 2
    g = tmp_path / "p.csv"
    g.write_text("0.1,0.2\n")
    with pytest.raises(MeasurementError, match="at least 2"):
        mm.read_pulse_columns(g)


def test_unknown_dataset_and_part():
    from memsim.errors import ParameterError

    with pytest.raises(ParameterError, match="unknown dataset"):
        mm.dataset("nope")
    with pytest.raises(ParameterError, match="has no 'reset' data"):
        mm.dataset("aihwkit_gong_hfo2_pulse").reset_cycles()
