"""The search engine in one process: schedule, resumption, reuse, failures, BO vs random.

Objectives here are cheap functions of the design point (the engine is under test, not the
learner); the real objective runs in the last tests and in tests/test_search_distributed.py.
"""

import logging
import math
import shutil
import sqlite3

import numpy as np
import pytest

from memsim.errors import ParameterError
from memsim.search import REFERENCE, SearchStore, evaluate, parse_search, run_search
from memsim.search.engine import evaluation_seed
from memsim.sweep import Store, StoreError, summarize
from memsim.sweep.spec import canonical_json

SYNTHETIC = """
[search]
name = "synthetic"
seed = {seed}
budget = {budget}
parallel = {parallel}
inputs = 4
outputs = 4
repetitions = 1
references = false
[search.bo]
points = 1000
initial = 8
[space]
topology = ["layered", "skip", "lateral", "bipartite"]
hidden = {{ from = 2, to = 32 }}
skip = 0.5
lateral = 0.5
degree = 2
[space.learning]
c2c_noise = {{ from = 0.0, to = 2.0 }}
t_inhibit = {{ from = 1e-5, to = 1e-2, log = true }}
"""


def spec_of(seed=0, budget=12, parallel=3):
    return parse_search(SYNTHETIC.format(seed=seed, budget=budget, parallel=parallel))


def value(point):
    """Maximum 1 at c2c_noise 1.3, t_inhibit 3e-4, hidden 20, the lateral motif."""
    x1, x2 = point["learning"]["c2c_noise"], point["learning"]["t_inhibit"]
    h = point["sizes"][1]
    kind = point.get("motif", {}).get("kind", "layered")
    return (1 - ((x1 - 1.3) / 2) ** 2 - ((math.log10(x2) - math.log10(3e-4)) / 3) ** 2
            - ((h - 20) / 30) ** 2 - 0.3 * (kind != "lateral"))


class Counting:
    """A synthetic evaluation that counts its calls (and can be told to stop the client)."""

    def __init__(self, stop_after=None, fail=lambda point: False):
        self.calls = []
        self.stop_after = stop_after
        self.fail = fail

    def __call__(self, payload):
        if self.stop_after is not None and len(self.calls) == self.stop_after:
            raise KeyboardInterrupt  # the client dies between two evaluations
        self.calls.append(payload["key"])
        if self.fail(payload["point"]):
            raise ParameterError("hidden", "this design cannot be built")
        v = value(payload["point"])
        return {"key": payload["key"], "objectives": [v], "metrics": {"value": v},
                "wall_time": 0.01, "cpu_time": 0.01, "worker": "here", "memsim_version": "0"}


def table(path, name="synthetic"):
    with SearchStore.open_readonly(path) as db:
        rows = db.evaluations(name)
    keys = [(r["method"], r["idx"]) for r in rows]
    assert len(keys) == len(set(keys))
    return {(r["method"], r["idx"]): (r["config"], r["objectives"], r["key"]) for r in rows}


def run(spec, path, fn):
    return run_search(spec, path, synchronous=True, progress=False, evaluate=fn)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    path = tmp_path_factory.mktemp("ref") / "ref.sqlite"
    fn = Counting()
    summary = run(spec_of(), path, fn)
    assert summary.ok and summary.stored == {"bo": 12, "random": 12}
    return path, table(path), fn.calls


def test_schedule_and_shared_start(reference):
    _, rows, calls = reference
    # random search is the CBO's random phase on the same stream: BO and random search
    # share their designs until BO's first model-based one (design initial + parallel - 1)
    same = [i for i in range(12) if rows["bo", i][0] == rows["random", i][0]]
    assert same == list(range(8 + 3 - 1))
    # an equal design with the same seed is computed once, then reused
    assert len(calls) == len(set(calls)) == 24 - len(same)
    assert rows["bo", 11][0] != rows["random", 11][0]


def test_evaluation_seeds_are_shared_by_index_and_distinct():
    spec = spec_of()
    seeds = [evaluation_seed(spec, i) for i in range(50)]
    assert len(set(seeds)) == 50 and all(0 <= s < 2**63 for s in seeds)
    common = parse_search(SYNTHETIC.format(seed=0, budget=3, parallel=1).replace(
        "references = false", 'references = false\nseeds = "common"'))
    assert {evaluation_seed(common, i) for i in range(5)} == {evaluation_seed(common, 0)}
    assert evaluation_seed(spec, 0, reference=True) != evaluation_seed(spec, 0)


@pytest.mark.parametrize("stop_after", [1, 5, 11])
def test_killed_client_resumes_to_the_uninterrupted_search(reference, tmp_path, stop_after):
    _, expected, _ = reference
    path = tmp_path / "s.sqlite"
    first = Counting(stop_after=stop_after)
    with pytest.raises(KeyboardInterrupt):
        run(spec_of(), path, first)
    partial = table(path)
    assert 0 < len(partial) < 24
    assert all(expected[k] == v for k, v in partial.items())
    second = Counting()
    summary = run(spec_of(), path, second)
    assert summary.ok and summary.mismatches == 0
    assert table(path) == expected  # same suggestions, same results, each once
    assert not set(first.calls) & set(second.calls)  # nothing computed twice
    assert len(first.calls) + len(second.calls) == len({v[2] for v in expected.values()})


def test_gap_in_the_stored_evaluations_is_filled_and_the_rest_told_in_order(reference,
                                                                           tmp_path):
    """Evaluations finish out of order on a cluster: a store can hold design 5 without 3."""
    ref_path, expected, _ = reference
    path = tmp_path / "gap.sqlite"
    shutil.copy(ref_path, path)
    con = sqlite3.connect(path)
    con.execute("DELETE FROM evaluations WHERE method = 'bo' AND idx IN (3, 9, 10, 11)")
    con.commit()
    con.close()
    fn = Counting()
    summary = run(spec_of(), path, fn)
    assert summary.ok and summary.mismatches == 0
    assert table(path) == expected
    # designs 3 and 9 are shared with random search (reused, not recomputed); 10, 11 are BO's
    assert summary.reused == 2 and len(fn.calls) == 2


def test_extending_the_budget_continues_as_the_longer_search(reference, tmp_path):
    path = tmp_path / "ext.sqlite"
    run(spec_of(budget=12).with_budget(5), path, Counting())
    assert {k for k in table(path)} == {(m, i) for m in ("bo", "random") for i in range(5)}
    summary = run(spec_of(budget=12), path, Counting())
    assert summary.ok and table(path) == reference[1]


def test_replayed_suggestions_are_checked_against_the_store(reference, tmp_path, caplog):
    path = tmp_path / "tampered.sqlite"
    shutil.copy(reference[0], path)
    con = sqlite3.connect(path)
    con.execute("""UPDATE evaluations SET config = json_set(config, '$.hidden', 31)
                   WHERE method = 'bo' AND idx = 2""")
    con.commit()
    con.close()
    with caplog.at_level(logging.WARNING, logger="memsim.search.engine"):
        summary = run(spec_of(budget=13), path, Counting())
    # design 2, and later ones BO suggested after being told the tampered design 2
    assert summary.mismatches >= 1
    assert caplog.records[0].getMessage().startswith(
        "bo design 2: the stored configuration differs")


def test_a_design_that_cannot_be_built_is_stored_as_failed_and_the_search_goes_on(tmp_path):
    fn = Counting(fail=lambda point: point["sizes"][1] < 10)
    summary = run(spec_of(), tmp_path / "f.sqlite", fn)
    rows = table(tmp_path / "f.sqlite")
    failed = [k for k, (cfg, obj, _) in rows.items() if obj is None]
    assert summary.ok and len(rows) == 24 and failed
    assert all(rows[k][0]["hidden"] < 10 for k in failed)
    # a failed design shared by both methods fails once and is reused
    assert summary.failed == len({rows[k][2] for k in failed}) < len(failed)
    with SearchStore.open_readonly(tmp_path / "f.sqlite") as db:
        errors = {r["error"] for r in db.evaluations("synthetic") if r["status"] == "failed"}
    assert errors == {"ParameterError: hidden: this design cannot be built"}
    best_value, best_idx = summary.best["bo"]
    assert rows["bo", best_idx][0]["hidden"] >= 10


def test_a_store_with_another_search_of_that_name_is_refused(reference, tmp_path,
                                                              foreign_stores, folder_digests):
    path = tmp_path / "mine.sqlite"
    shutil.copy(reference[0], path)
    before = folder_digests(tmp_path)
    changed = parse_search(SYNTHETIC.format(seed=1, budget=12, parallel=3))
    with pytest.raises(StoreError, match="holds a search 'synthetic' with another space"):
        run(changed, path, Counting())
    for name in ("notes.txt", "other.sqlite"):
        with pytest.raises(StoreError, match="not a memsim result store|another application"):
            run(spec_of(), foreign_stores / name, Counting())
    assert folder_digests(tmp_path) == before


def test_bo_finds_a_known_optimum_faster_than_random_search(tmp_path):
    """The synthetic objective has its maximum 1 at a known design. A random design comes
    within 0.05 of it with probability 1.2 % (a ball of radius sqrt(0.05) = 0.22 in the unit
    cube of the three scaled numbers, 4/3 pi 0.22^3 = 0.047, times 1/4 for the motif), so
    random search needs about 85 designs on average; BO should get there in well under half
    of that. Five search seeds, 40 designs each, one in flight (plain sequential BO)."""
    hits = {"bo": [], "random": []}
    for seed in range(5):
        path = tmp_path / f"s{seed}.sqlite"
        run(spec_of(seed=seed, budget=40, parallel=1), path, Counting())
        rows = table(path)
        for m in hits:
            values = [rows[m, i][1][0] for i in range(40)]
            hits[m].append(next((i + 1 for i, v in enumerate(values) if v >= 0.95), 41))
    assert max(hits["bo"]) <= 40, hits  # BO finds it in every seed...
    assert np.median(hits["bo"]) <= 0.5 * np.median(hits["random"]), hits  # ...twice as fast


def test_real_objective_on_the_abstract_model_stores_sweep_rows(tmp_path):
    spec = parse_search("""
[search]
name = "abstract"
seed = 2
budget = 3
parallel = 2
model = "abstract"
inputs = 3
outputs = 3
repetitions = 6
[space]
hidden = { from = 2, to = 8 }
[space.learning]
max_steps = 300
""")
    path = tmp_path / "a.sqlite"
    summary = run_search(spec, path, synchronous=True, progress=False)
    assert summary.ok and summary.stored == {"bo": 3, "random": 3, REFERENCE: 1}
    with SearchStore.open_readonly(path) as db:
        rows = db.evaluations("abstract")
    with Store.open_readonly(path) as store:
        points = summarize(store.rows())
    # every capacity evaluation's trials are sweep rows, pooled per design point
    runs = {}
    for r in rows:
        runs.setdefault(canonical_json(r["point"]), set()).add(r["master"])
    assert len(points) == len(runs)
    for p in points:
        assert p.trials[0] == 6 * len(runs[canonical_json(p.point)])
    for r in rows:
        m = r["metrics"]
        s = sum(sum(o) / len(o) for o in m["outcomes"].values())
        assert r["objectives"][0] == pytest.approx(s) == pytest.approx(m["mean_capacity"])
        assert all(len(o) == 6 for o in m["outcomes"].values())
    # the same payload gives the same numbers again (its seeds are its own)
    again = evaluate({"key": "k", "point": rows[0]["point"], "master": rows[0]["master"],
                      "repetitions": 6, "loads": [1, 2, 3], "inputs": 3,
                      "objectives": ["mean_capacity"]})
    assert again["metrics"]["outcomes"] == rows[0]["metrics"]["outcomes"]
