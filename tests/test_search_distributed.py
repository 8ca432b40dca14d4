"""Searches on a real Dask cluster (a `dask scheduler` and two `dask worker` processes on
127.0.0.1): a worker and then the client are killed mid-search, and the resumed search ends
with every evaluation stored exactly once and the suggestions of an uninterrupted run.

The objective is the real one (mean capacity from capacity_curve) on the fast abstract
model, with enough trials that an evaluation takes about a second.
"""

import signal
import sqlite3
import subprocess
import time

import pytest
from dask_cluster import MEMSIM, Cluster, env, free_port

from memsim.search import SearchStore, parse_search, run_search

pytestmark = pytest.mark.distributed

TEXT = """
[search]
name = "machinery"
seed = 11
budget = 8
parallel = 3
model = "abstract"
inputs = 6
outputs = 6
repetitions = 250
references = false

[search.bo]
points = 1000
initial = 4

[space]
hidden = { from = 3, to = 24 }
depth = [1, 2]

[space.learning]
delta = { from = 0.01, to = 0.5, log = true }
selective = { from = 0.001, to = 1.0, log = true }
max_steps = 400
"""
SPEC = parse_search(TEXT)
N = 2 * SPEC.budget


def table(path):
    """What must not depend on how the search ran: every evaluation, once."""
    with SearchStore.open_readonly(path) as db:
        rows = db.evaluations(SPEC.name)
    keys = [(r["method"], r["idx"]) for r in rows]
    assert len(keys) == len(set(keys))
    return {(r["method"], r["idx"]): (r["config"], r["key"], r["master"], r["objectives"],
                                      r["metrics"]["outcomes"]) for r in rows}


def n_rows(path):
    if not path.exists():
        return 0
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("SELECT count(*) FROM evaluations").fetchone()[0]
    except sqlite3.OperationalError:  # the tables are being created
        return 0
    finally:
        con.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted search, in this process (also warms the numba cache)."""
    path = tmp_path_factory.mktemp("ref") / "ref.sqlite"
    assert run_search(SPEC, path, synchronous=True, progress=False).ok
    rows = table(path)
    assert len(rows) == N and len({v[3][0] for v in rows.values()}) > 3  # real information
    return rows


def search_process(spec_file, store, address):
    return subprocess.Popen(MEMSIM + ["search", str(spec_file), "--store", str(store),
                                      "--scheduler", address, "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env())


def wait_rows(path, k, proc, timeout=180):
    deadline = time.monotonic() + timeout
    while n_rows(path) < k:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"no {k} evaluations after {timeout} s"
        time.sleep(0.05)
    return n_rows(path)


def test_worker_and_client_killed_mid_search_resume_to_the_uninterrupted_search(
        reference, tmp_path):
    cluster = Cluster(tmp_path)
    try:
        spec_file = tmp_path / "s.toml"
        spec_file.write_text(TEXT)
        path = tmp_path / "s.sqlite"
        proc = search_process(spec_file, path, cluster.address)
        try:
            with cluster.client() as c:
                victim = cluster.address_of(c, "w1")
                survivor = cluster.address_of(c, "w0")
                wait_rows(path, 2, proc)
                # kill w1 while it holds an evaluation, which must then run on w0
                deadline = time.monotonic() + 60
                while not (lost := {str(k) for k in c.processing([victim])[victim]
                                    if str(k).startswith("memsim-search-")}):
                    assert proc.poll() is None and time.monotonic() < deadline
                    time.sleep(0.01)
                cluster.kill(cluster.workers[1])
                at_worker_kill = n_rows(path)
            wait_rows(path, at_worker_kill + 2, proc)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        stored = n_rows(path)
        assert at_worker_kill < stored < N, "the kills came too late to test resumption"
        con = sqlite3.connect(path)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.close()
        partial = table(path)
        assert all(reference[k] == v for k, v in partial.items())  # same designs, same numbers
        with SearchStore.open_readonly(path) as db:
            before = {(r["method"], r["idx"]): r for r in db.evaluations(SPEC.name)}

        done = subprocess.run(MEMSIM + ["search", str(spec_file), "--store", str(path),
                                        "--scheduler", cluster.address, "--no-progress"],
                              capture_output=True, text=True, env=env(), timeout=300)
        assert done.returncode == 0, done.stderr
        assert "already stored; kept the first" not in done.stderr, done.stderr
        assert "replayed suggestion(s) differed" not in done.stdout, done.stdout
        assert f"stored: bo {SPEC.budget}, random {SPEC.budget}" in done.stdout, done.stdout
        with SearchStore.open_readonly(path) as db:
            after = {(r["method"], r["idx"]): r for r in db.evaluations(SPEC.name)}
        assert {k: after[k] for k in before} == before  # stored rows untouched, not re-run
        assert table(path) == reference  # the suggestions and results of the uninterrupted run
        # what the dead worker held was computed again, by the survivor
        names = {f"memsim-search-{SPEC.name}-{m}-{i}-{r['key'][:12]}": r
                 for (m, i), r in after.items()}
        assert {names[k]["worker"] for k in lost if k in names} <= {survivor, victim}
        assert survivor in {r["worker"] for r in after.values()}
    finally:
        cluster.close()


def test_unreachable_scheduler_is_one_line_and_touches_no_store(tmp_path, folder_digests):
    """The cluster is reached before the store is opened for writing (a malformed address
    fails earlier still, as for sweeps: memsim.sweep.runner.check_address)."""
    (tmp_path / "s.toml").write_text(TEXT)
    before = folder_digests(tmp_path)
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    res = subprocess.run(MEMSIM + ["search", str(tmp_path / "s.toml"), "--store",
                                   str(tmp_path / "new.sqlite"), "--scheduler", address,
                                   "--connect-timeout", "2", "--no-progress"],
                         capture_output=True, text=True, env=env(), timeout=120)
    assert res.returncode == 1, res.stderr
    assert res.stderr.count("\n") == 1, res.stderr
    assert f"memsim: error: cannot reach the Dask scheduler at {address}" in res.stderr
    assert folder_digests(tmp_path) == before
