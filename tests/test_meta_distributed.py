"""The mushroom body's meta-search (kind "mushroom") through memsim's search engine on a real
Dask cluster (a `dask scheduler` and two `dask worker` processes on 127.0.0.1), stored in a
real SQLite file: a search stopped after its first designs resumes to exactly the search run
in one go in one process (same seed, same suggestions, same accuracies), and its best rules
are re-scored on the test split on the cluster as in this process.

Tiny settings (300 training digits, 1 epoch, 100-300 Kenyon cells): an evaluation takes well
under a second, the whole module about a minute on the loaded 2-core machine.
"""

import subprocess

import pytest
from dask_cluster import MEMSIM, Cluster, env

from memsim.rules.meta import rule_table
from memsim.search import SearchStore, parse_search, run_search
from memsim.search.report import search_report

pytestmark = pytest.mark.distributed

TEXT = """
[search]
name = "meta_tiny"
kind = "mushroom"
seed = 5
budget = {budget}
parallel = 2
dataset = "digits"
hardware = "float"
epochs = 1
n_train = 300

[search.bo]
initial = 2
points = 200

[space]
rule = ["hebb", "oja", "delta", "perceptron", "winner"]
lr = {{ from = 1e-3, to = 1.0, log = true }}
n_kc = {{ from = 100, to = 300 }}
k_fraction = {{ from = 0.02, to = 0.2, log = true }}
"""
BUDGET = 4


def table(path, name="meta_tiny"):
    """Every stored evaluation, once: what must not depend on how the search ran (all but
    the timings)."""
    with SearchStore.open_readonly(path) as db:
        rows = db.evaluations(name)
    keys = [(r["method"], r["idx"]) for r in rows]
    assert len(keys) == len(set(keys))
    return {(r["method"], r["idx"]): (r["config"], r["key"], r["master"], r["objectives"],
                                      [{k: v for k, v in h.items() if k != "seconds"}
                                       for h in r["metrics"]["history"]]) for r in rows}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The whole search in this process, in one go."""
    path = tmp_path_factory.mktemp("ref") / "ref.sqlite"
    spec = parse_search(TEXT.format(budget=BUDGET))
    summary = run_search(spec, path, synchronous=True, progress=False)
    assert summary.ok and summary.failed == 0
    rows = table(path)
    # 5 references (every rule at its defaults) + BUDGET per method
    assert len(rows) == 5 + 2 * BUDGET
    assert len({v[3][0] for v in rows.values()}) > 3  # the designs differ in accuracy
    return spec, path, rows


def test_meta_search_on_a_cluster_resumes_to_the_search_run_in_one_go(reference, tmp_path):
    spec, ref_path, ref_rows = reference
    cluster = Cluster(tmp_path)
    try:
        path = tmp_path / "meta.sqlite"
        first = run_search(spec.with_budget(2), path, scheduler=cluster.address,
                           progress=False)
        assert first.ok and first.computed + first.reused == 5 + 2 * 2
        before = table(path)
        assert all(ref_rows[k] == v for k, v in before.items())  # same seed, same numbers

        # the rest through the CLI, as a user resumes: nothing stored is computed again
        (tmp_path / "m.toml").write_text(TEXT.format(budget=BUDGET))
        done = subprocess.run(MEMSIM + ["search", str(tmp_path / "m.toml"), "--store",
                                        str(path), "--scheduler", cluster.address,
                                        "--no-progress"],
                              capture_output=True, text=True, env=env(), timeout=300)
        assert done.returncode == 0, done.stderr
        assert f"stored: bo {BUDGET}, random {BUDGET}" in done.stdout, done.stdout
        assert "replayed suggestion(s) differed" not in done.stdout, done.stdout
        after = table(path)
        assert {k: after[k] for k in before} == before
        assert after == ref_rows  # two workers, two runs == one process, one run
        with SearchStore.open_readonly(path) as db:
            workers = {r["worker"] for r in db.evaluations(spec.name)}
        assert len(workers) == 2  # both workers took part

        # the best design of each rule, re-scored on the test split: the cluster gives the
        # numbers this process gives
        with cluster.client() as client:
            remote = rule_table(spec, path, [0, 1], client=client)
        local = rule_table(spec, ref_path, [0, 1])
        assert remote == local
        assert {r["rule"] for r in local} == {"hebb", "oja", "delta", "perceptron", "winner"}
        assert all(0.1 < r["test"] <= 1.0 and len(r["per seed"]) == 2 for r in local)

        # the search's report, written by the engine's reporter for this kind
        text, files = search_report(path, tmp_path / "report")
        assert "mushroom body on digits (float), 1 epoch" in text, text
        assert "reference default delta" in text and (tmp_path / "report" / "best_so_far.png"
                                                      ) in files
    finally:
        cluster.close()
