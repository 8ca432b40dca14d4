"""The study's pieces: scaling fits, Pareto fronts, best so far, designs evaluated as stated."""

import numpy as np
import pytest

from memsim.errors import ParameterError
from memsim.learn import CircuitConfig
from memsim.learn.calibrate import calibrate
from memsim.search import design_point, evaluate, network_factory, parse_search
from memsim.search.design import probe_seed, reference_points
from memsim.search.report import best_so_far, pareto_front
from memsim.search.study import fit_scaling, scaled_point

X = np.array([4.0, 8.0, 12.0, 16.0, 24.0, 32.0])


def test_fits_recover_exponential_and_power_law_data():
    exp = 0.95 * np.exp(-X / 9.0)
    fits = fit_scaling(X, exp, 0.02 * exp)
    e = fits["exponential"]
    assert e["scale"] == pytest.approx(9.0, rel=1e-9) and e["A"] == pytest.approx(0.95)
    assert e["rate_low"] <= 1 / 9.0 <= e["rate_high"]
    assert e["chi2"] < 1e-12 < fits["power_law"]["chi2"]
    power = 2.0 * X**-0.7
    fits = fit_scaling(X, power, 0.02 * power)
    p = fits["power_law"]
    assert p["alpha"] == pytest.approx(0.7, rel=1e-9) and p["A"] == pytest.approx(2.0)
    assert p["chi2"] < 1e-12 < fits["exponential"]["chi2"]


def test_fit_intervals_cover_the_truth_at_the_stated_rate():
    """Data drawn with the stated 95 % errors: the slope's interval should contain the true
    rate in about 95 % of 400 draws (binomial sd 1.1 %, so 90 % is a 4.5-sd miss)."""
    rng = np.random.default_rng(0)
    truth = 0.8 * np.exp(-X / 10.0)
    err = 0.05 * truth
    hits = 0
    for _ in range(400):
        y = truth * np.exp(rng.normal(0, 0.05 / 1.96, X.size))
        e = fit_scaling(X, y, err)["exponential"]
        hits += e["rate_low"] <= 0.1 <= e["rate_high"]
    assert hits / 400 >= 0.90


def test_fit_needs_three_positive_points_and_floors_zero_errors():
    with pytest.raises(ParameterError, match="need >= 3 sizes"):
        fit_scaling(X[:3], [0.5, 0.0, 0.2], [0.1, 0.1, 0.1])
    # errors of 0 (S exactly 1) would be infinite weights: the floor keeps them finite
    fits = fit_scaling(X, 0.9 * np.exp(-X / 9), np.zeros(X.size), floor=0.01)
    assert np.isfinite(fits["exponential"]["rate_low"])
    with pytest.raises(ParameterError):
        fit_scaling(X, 0.9 * np.exp(-X / 9), np.zeros(X.size))


def test_pareto_front_is_the_set_no_other_point_beats():
    rng = np.random.default_rng(1)
    v = rng.uniform(0, 1, (60, 2))
    front = set(pareto_front(v, ["max", "min"]).tolist())
    for i in range(60):
        beaten = any((v[j, 0] >= v[i, 0]) and (v[j, 1] <= v[i, 1]) and
                     ((v[j, 0] > v[i, 0]) or (v[j, 1] < v[i, 1])) for j in range(60))
        assert (i in front) == (not beaten)


def test_best_so_far_skips_failures_and_minimizes_when_asked():
    rows = [{"objectives": None}, {"objectives": [5.0]}, {"objectives": [7.0]},
            {"objectives": [6.0]}]
    assert np.isnan(best_so_far(rows)[0]) and best_so_far(rows)[1:].tolist() == [5, 7, 7]
    assert best_so_far(rows, "devices")[1:].tolist() == [5, 5, 5]


SPACE = """
[search]
name = "t"
seed = 1
budget = 2
inputs = 2
outputs = 2
repetitions = 2
P = [1]
[space]
topology = ["layered", "skip"]
hidden = { from = 2, to = 4 }
depth = 2
skip = 1.0
protocol = ["default", "calibrated"]
[space.calibration]
drive = { from = 0.5, to = 2.0 }
[space.learning]
max_steps = 20
"""


def test_a_calibrated_design_trains_with_the_voltages_of_its_probe_network():
    spec = parse_search(SPACE)
    point = design_point(spec, spec.values({"topology": "skip", "hidden": 3,
                                            "protocol": "calibrated",
                                            "calibration.drive": 0.7}))
    out = evaluate({"key": "k", "point": point, "master": 9, "repetitions": 2, "loads": [1],
                    "inputs": 2, "objectives": ["mean_capacity", "devices"]})
    net = network_factory(point)(probe_seed(9))
    want = calibrate(net, drive_over_threshold=0.7, base=CircuitConfig(max_steps=20)).config
    got = out["metrics"]["learning"]
    assert (got["v_read"], got["v_inhibit"], got["v_normalize"]) == pytest.approx(
        (want.v_read, want.v_inhibit, want.v_normalize), rel=1e-12)
    assert got["v_inhibit"] != CircuitConfig().v_inhibit  # three devices per path, skip links
    assert out["objectives"][1] == out["metrics"]["devices"] == net.n_memristors


def test_references_keep_the_fixed_conditions_and_scale():
    spec = parse_search(SPACE)
    refs = reference_points(spec)
    assert set(refs) == {"default", "calibrated", "abstract"}
    assert refs["default"]["learning"]["max_steps"] == 20  # the experiment's step budget
    assert refs["abstract"]["learning"]["max_steps"] == 10_000  # the abstract model's own
    assert refs["default"]["sizes"] == [2, 4, 2]
    assert scaled_point(spec, refs["default"], 12)["sizes"] == [6, 12, 6]
    deep = design_point(spec, spec.values({"topology": "layered", "hidden": 3,
                                           "protocol": "default"}))
    assert scaled_point(spec, deep, 8)["sizes"] == [4, 8, 8, 4]
