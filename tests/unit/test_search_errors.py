"""Every documented Raises of memsim.search, each with the message that names the fix."""

import sys

import pytest

from memsim.errors import MemsimError, ParameterError
from memsim.search import SearchStore, design_point, evaluate, parse_search, run_search
from memsim.search.engine import make_optimizer
from memsim.search.report import importance, load_evaluations, search_report
from memsim.search.study import capacity_vs_size
from memsim.sweep import StoreError, parse_sweep, run_sweep

TEXT = """
[search]
name = "e"
seed = 1
budget = 3
parallel = 1
model = "abstract"
inputs = 2
outputs = 2
repetitions = 2
references = false
[space]
hidden = { from = 2, to = 6 }
"""


def test_missing_deephyper_is_one_clear_error(monkeypatch, tmp_path):
    spec = parse_search(TEXT)
    monkeypatch.setitem(sys.modules, "deephyper.hpo", None)  # import now fails
    with pytest.raises(MemsimError, match=r"needs deephyper.*pip install 'memsim\[search\]'"):
        spec.problem()
    with pytest.raises(MemsimError, match="needs deephyper"):
        run_search(spec, tmp_path / "s.sqlite", synchronous=True, progress=False)
    assert not (tmp_path / "s.sqlite").exists()


def test_unknown_method():
    with pytest.raises(ParameterError, match="method: use 'bo' or 'random'"):
        make_optimizer(parse_search(TEXT), "grid")


def test_a_sweep_store_holds_no_search(tmp_path):
    sweep = parse_sweep("""
[sweep]
name = "s"
seed = 1
repetitions = 1
[[grid]]
model = "abstract"
sizes = [2, 2, 2]
P = [1]
""")
    run_sweep(sweep, tmp_path / "s.sqlite", synchronous=True, progress=False)
    with pytest.raises(StoreError, match="holds no search; run `memsim search FILE"):
        SearchStore.open_readonly(tmp_path / "s.sqlite")


def test_a_design_that_cannot_be_calibrated():
    spec = parse_search("""
[search]
name = "c"
seed = 1
budget = 2
inputs = 2
outputs = 2
repetitions = 1
P = [1]
[space]
hidden = { from = 2, to = 3 }
device = "biolek2009"
protocol = "calibrated"
""")
    point = design_point(spec, spec.values({"hidden": 2}))
    with pytest.raises(ParameterError, match="no voltage threshold"):
        evaluate({"key": "k", "point": point, "master": 1, "repetitions": 1, "loads": [1],
                  "inputs": 2, "objectives": ["mean_capacity"]})


def stopped_store(tmp_path):
    """A store whose search was registered, then stopped before any evaluation finished."""

    def stop(payload):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_search(parse_search(TEXT), tmp_path / "s.sqlite", synchronous=True,
                   progress=False, evaluate=stop)
    return tmp_path / "s.sqlite"


def test_report_errors(tmp_path):
    path = stopped_store(tmp_path)
    with pytest.raises(MemsimError, match="has no evaluation yet; run `memsim search`"):
        search_report(path, tmp_path / "out")
    with pytest.raises(MemsimError, match="holds no search 'x'; it has e"):
        load_evaluations(path, "x")
    spec = parse_search(TEXT)
    with pytest.raises(MemsimError, match="at least 5 successful evaluations, the store has 1"):
        importance(spec, [{"objectives": [1.0], "config": {"hidden": 3}},
                          {"objectives": None, "config": {"hidden": 4}}])


def test_odd_width():
    with pytest.raises(ParameterError, match="widths must be even"):
        capacity_vs_size(parse_search(TEXT), {}, [5], repetitions=1, seed=1)
