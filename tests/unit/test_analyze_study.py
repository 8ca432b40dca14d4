"""The topology-study functions and the analysis commands, on tiny settings."""

import json

import numpy as np
import pytest

import memsim
from memsim import ParameterError
from memsim.analyze import CapacityResult
from memsim.analyze.study import (
    LayeredFactory,
    RandomFactory,
    StudySettings,
    capacity_vs_width,
    controllability_stats,
    depth_study,
    mean_capacity,
    plot_depth,
    plot_symmetry,
    plot_width,
    run_study,
    symmetry_study,
)
from memsim.cli import main
from memsim.learn import CircuitConfig

TINY = StudySettings(repetitions=3, widths=(4,), base=(2, 4, 2), spreads=(0.0, 0.2),
                     connectivities=(0.75,), depths=(1, 2), depth_width=3, depth_io=2, draws=1,
                     max_steps=8, seed=1)


def test_factories_are_seeded():
    f = LayeredFactory((3, 5, 2), connectivity=0.6)
    a, b = f(np.random.SeedSequence(4)), f(np.random.SeedSequence(4))
    assert np.array_equal(a.model, b.model)
    assert a.n_edges < 15 and a.meta["connectivity"] == 0.6
    r = RandomFactory(12, 0.4, 2, 3)
    n1, n2 = r(np.random.SeedSequence(2)), r(np.random.SeedSequence(2))
    assert np.array_equal(n1.edges, n2.edges) and len(n1.outputs) == 3


def test_mean_capacity_is_the_area_under_the_curve():
    res = CapacityResult.from_outcomes({1: np.ones(10, bool), 2: np.arange(10) < 4,
                                        3: np.zeros(10, bool)})
    value, err = mean_capacity(res)
    assert value == pytest.approx(1.4)
    assert err == pytest.approx(1.96 * np.sqrt(0.4 * 0.6 / 10))


def test_controllability_stats_see_symmetry_only_without_spread():
    f = LayeredFactory((2, 4, 2))
    flat = controllability_stats(f, CircuitConfig(d2d_spread=0.0, x0_spread=0.0), draws=2,
                                 seed=0)
    assert flat["device_mean"] == 4 / 16 and flat["device_std"] == 0.0
    assert flat["linear_mean"] == 3 / 16
    spread = controllability_stats(f, CircuitConfig(), draws=2, seed=0)
    assert spread["device_mean"] > flat["device_mean"]
    with pytest.raises(ParameterError, match="draws"):
        controllability_stats(f, CircuitConfig(), draws=0, seed=0)


def test_depth_study_scales_the_write_voltages():
    pts = depth_study([1, 3], width=3, io=2, repetitions=2, draws=1, seed=0, max_steps=5)
    base = CircuitConfig()
    assert pts[0].learning.v_inhibit == base.v_inhibit
    assert pts[1].learning.v_inhibit == pytest.approx(2 * base.v_inhibit)
    assert pts[1].learning.v_normalize == pytest.approx(2 * base.v_normalize)
    flat = depth_study([3], width=3, io=2, repetitions=2, draws=1, seed=0, max_steps=5,
                       scale_voltages=False)
    assert flat[0].learning.v_inhibit == base.v_inhibit
    with pytest.raises(ParameterError, match="depth"):
        depth_study([0], width=3, io=2, repetitions=1, draws=1, seed=0)


def test_width_and_symmetry_experiments():
    pts = capacity_vs_width([4], repetitions=3, seed=0, max_steps=10)
    assert [p.kind for p in pts] == ["circuit", "abstract"]
    with pytest.raises(ParameterError, match="widths"):
        capacity_vs_width([5], repetitions=1, seed=0)
    sym = symmetry_study((2, 4, 2), spreads=[0.0], connectivities=[0.8], repetitions=2,
                         draws=1, seed=0, max_steps=5)
    assert [p.kind for p in sym] == ["spread", "pruning", "random"]
    assert sym[0].learning.d2d_spread == 0.0 and sym[0].learning.x0_spread == 0.0
    assert sym[2].value == pytest.approx(16 / 28)  # 16 edges of 28 possible on 8 nodes


def test_run_study_writes_json_and_figures(tmp_path):
    res = run_study(TINY, out=tmp_path)
    doc = json.loads((tmp_path / "study.json").read_text())
    assert doc["settings"]["repetitions"] == 3
    assert len(doc["width"]) == 2 and len(doc["symmetry"]) == 4 and len(doc["depth"]) == 2
    assert all((tmp_path / f"{k}.png").stat().st_size > 0 for k in ("width", "symmetry",
                                                                       "depth"))
    assert doc["depth"][1]["v_inhibit"] == pytest.approx(1.5 * CircuitConfig().v_inhibit)
    for fn, key in ((plot_width, "width"), (plot_symmetry, "symmetry"), (plot_depth, "depth")):
        assert len(np.ravel(fn(res[key]))) >= 2
    with pytest.raises(ParameterError, match="settings"):
        run_study("huge")


def test_commands(tmp_path, capsys):
    png = tmp_path / "s.png"
    assert main(["capacity", "paper_2x4x2", "-R", "3", "--max-steps", "5", "--no-progress",
                 "--plot", str(png)]) == 0
    assert "capacity" in capsys.readouterr().out and png.exists()
    assert main(["capacity", "--abstract", "2", "3", "2", "-R", "2", "--no-progress"]) == 0
    assert main(["capacity", "--no-progress"]) == 2
    assert main(["controllability", str(memsim.circuit_path("paper_2x4x2"))]) == 0
    out = capsys.readouterr().out
    assert "linear controllability 0.188" in out and "device controllability 0.250" in out
