"""Sweeps on a real Dask cluster: a `dask scheduler` and two `dask worker` processes on
127.0.0.1, started here on free ports and always torn down.

The machinery is the point, so the sweep is mostly the fast abstract model (about 0.25 s of
compute per task), with one small circuit point so circuit tasks also cross the wire.
"""

import signal
import sqlite3
import subprocess
import time

import pytest
from dask_cluster import MEMSIM, Cluster, env, free_port

from memsim.sweep import Store, parse_sweep, run_sweep

pytestmark = pytest.mark.distributed

TEXT = """
[sweep]
name = "machinery"
seed = 17
repetitions = 4800
block = 1200

[[grid]]
label = "abstract"
model = "abstract"
sizes = [[8, 16, 8], [12, 24, 12]]
learning = { max_steps = 100 }
P = [4, 8]

[[grid]]
label = "circuit"
model = "circuit"
sizes = [2, 2, 2]
repetitions = 6
P = [1, 2]
"""
SPEC = parse_sweep(TEXT)
N_TASKS = len(SPEC.tasks())  # 2 sizes x 2 P x 4 blocks + 2 circuit tasks = 18
@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The synchronous in-process run (also warms the numba cache the workers share)."""
    path = tmp_path_factory.mktemp("ref") / "ref.sqlite"
    assert run_sweep(SPEC, path, synchronous=True, progress=False).ok
    return table(path)


@pytest.fixture(scope="module")
def cluster(reference, tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def own_cluster(reference, tmp_path):
    c = Cluster(tmp_path)
    try:
        yield c
    finally:
        c.close()


def table(path):
    """What must not depend on how or where the sweep ran."""
    with Store.open_readonly(path) as store:
        rows = store.rows()
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys))
    return {r["key"]: (r["point"], r["P"], r["block"], r["seed"], r["successes"], r["trials"],
                       r["metrics"]["outcomes"]) for r in rows}


def full_rows(path):
    """Every stored column, by key: a row rewritten by a re-run would differ (finished time,
    wall time, worker)."""
    with Store.open_readonly(path) as store:
        return {r["key"]: r for r in store.rows()}


def workers_of(path):
    with Store.open_readonly(path) as store:
        return {r["worker"] for r in store.rows()}


def n_rows(path):
    if not path.exists():
        return 0
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("SELECT count(*) FROM results").fetchone()[0]
    except sqlite3.OperationalError:  # the store is being created
        return 0
    finally:
        con.close()


def sweep_process(spec_file, store, address):
    return subprocess.Popen(MEMSIM + ["sweep", str(spec_file), "--store", str(store),
                                      "--scheduler", address, "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env())


def wait_rows(path, k, proc, timeout=120):
    deadline = time.monotonic() + timeout
    while n_rows(path) < k:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"no {k} results after {timeout} s"
        time.sleep(0.05)
    return n_rows(path)


def test_reference_is_not_trivial(reference):
    assert len(reference) == N_TASKS
    outcomes = {o for row in reference.values() for o in row[-1]}
    assert outcomes == {0, 1}  # so equality below compares real information


def test_cluster_run_equals_the_synchronous_run(cluster, reference, tmp_path):
    path = tmp_path / "dask.sqlite"
    arrived = []
    summary = run_sweep(SPEC, path, scheduler=cluster.address, progress=False,
                        on_result=lambda task, result: arrived.append(task))
    assert summary.ok and summary.completed == N_TASKS and summary.workers == 2
    assert table(path) == reference
    # one task of each kind ran first, alone (it fills the numba cache the other worker then
    # loads); longest-first alone would have started with the big abstract tasks
    assert {t.point["model"] for t in arrived[:2]} == {"abstract", "circuit"}
    # both workers computed: the numbers do not depend on where a task ran
    assert len(workers_of(path)) == 2
    assert all(w.startswith("tcp://127.0.0.1:") for w in workers_of(path))


def test_client_killed_mid_sweep_resumes_to_the_same_table(cluster, reference, tmp_path):
    spec_file = tmp_path / "s.toml"
    spec_file.write_text(TEXT)
    path = tmp_path / "s.sqlite"
    proc = sweep_process(spec_file, path, cluster.address)
    try:
        wait_rows(path, 3, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    stored = n_rows(path)
    assert 3 <= stored < N_TASKS, "the kill came too late to test resumption"
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    partial = table(path)
    assert all(reference[k] == v for k, v in partial.items())
    before = full_rows(path)

    done = subprocess.run(MEMSIM + ["sweep", str(spec_file), "--store", str(path),
                                    "--scheduler", cluster.address, "--no-progress"],
                          capture_output=True, text=True, env=env(), timeout=180)
    assert done.returncode == 0, done.stderr
    # only the missing tasks ran: the stored ones were neither submitted nor stored again
    assert (f"{N_TASKS} tasks; {stored} already stored, {N_TASKS - stored} run, 0 failed"
            in done.stdout)
    assert "already stored; kept the first" not in done.stderr, done.stderr
    after = full_rows(path)
    assert {k: after[k] for k in before} == before  # the first run's rows, untouched
    assert table(path) == reference  # what an uninterrupted run gives


def test_worker_killed_mid_sweep_loses_and_duplicates_nothing(own_cluster, reference,
                                                                tmp_path):
    spec_file = tmp_path / "s.toml"
    spec_file.write_text(TEXT)
    path = tmp_path / "s.sqlite"
    proc = sweep_process(spec_file, path, own_cluster.address)
    try:
        with own_cluster.client() as c:
            victim = own_cluster.address_of(c, "w1")
            survivor = own_cluster.address_of(c, "w0")
            wait_rows(path, 2, proc)
            # kill w1 while it holds sweep tasks, so they must be recomputed elsewhere
            deadline = time.monotonic() + 60
            while not (in_flight := {str(k) for k in c.processing([victim])[victim]
                                     if str(k).startswith("memsim-sweep-")}):
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.01)
            at_kill = n_rows(path)
            own_cluster.kill(own_cluster.workers[1])
        out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert at_kill < N_TASKS, "the kill came too late"
    assert proc.returncode == 0, err
    assert f"{N_TASKS} run, 0 failed" in out
    assert "already stored; kept the first" not in err, err  # no task delivered twice
    assert own_cluster.n_workers() == 1  # the killed worker really is gone
    rows = full_rows(path)
    lost = {k.removeprefix("memsim-sweep-") for k in in_flight}
    assert lost <= set(rows)  # what the dead worker held was not lost...
    # ...but run again on the survivor (a task that finished on w1 in the instant between
    # looking and killing is stored from w1; not all of them can have)
    assert survivor in {rows[k]["worker"] for k in lost}
    assert {r["worker"] for r in rows.values()} <= {victim, survivor}
    assert table(path) == reference  # every task once, same numbers


def memsim_cli(*args, timeout=60):
    return subprocess.run(MEMSIM + [str(a) for a in args], capture_output=True, text=True,
                          env=env(), timeout=timeout)


def assert_one_line_error(res, message):
    assert res.returncode == 1, (res.returncode, res.stderr)
    assert res.stderr.count("\n") == 1, res.stderr  # no traceback, no Dask log noise
    assert res.stderr.startswith("memsim: error: "), res.stderr
    assert message in res.stderr, res.stderr


@pytest.fixture(scope="module")
def partial_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("partial") / "old.sqlite"
    run_sweep(parse_sweep(TEXT.replace("repetitions = 4800", "repetitions = 1200")), path,
              synchronous=True, progress=False)
    return path


@pytest.fixture
def stores(foreign_stores, partial_store):
    """A partial memsim store, a text file and another application's SQLite database."""
    (foreign_stores / "old.sqlite").write_bytes(partial_store.read_bytes())
    (foreign_stores / "s.toml").write_text(TEXT)
    return foreign_stores


def test_unreachable_scheduler_is_one_line_and_touches_no_store(reference, stores,
                                                               folder_digests):
    before = folder_digests(stores)
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    for store in (stores / "old.sqlite", stores / "new.sqlite"):
        res = memsim_cli("sweep", stores / "s.toml", "--store", store, "--scheduler", address,
                         "--connect-timeout", "2", "--no-progress")
        assert_one_line_error(res, f"cannot reach the Dask scheduler at {address} within 2 s")
    assert folder_digests(stores) == before  # the partial store unchanged, no new store created


@pytest.mark.parametrize(("address", "message"), [
    ("tcp://127.0.0.1", "missing port number"),
    ("tcp://127.0.0.1:port", "invalid literal for int()"),
    ("tcp://127.0.0.1:99999", "port 99999 is not in 1..65535"),
    ("tpc://127.0.0.1:8786", "unknown address scheme 'tpc'"),
    ("", "missing port number"),
])
def test_malformed_scheduler_address_is_one_line_and_touches_no_store(stores, folder_digests,
                                                                      address, message):
    before = folder_digests(stores)
    for store in (stores / "old.sqlite", stores / "new.sqlite"):
        res = memsim_cli("sweep", stores / "s.toml", "--store", store, "--scheduler", address,
                         "--connect-timeout", "2", "--no-progress")
        assert_one_line_error(res, f"{address!r} is not a Dask scheduler address ({message}")
    assert folder_digests(stores) == before


def test_bad_sweep_file_or_store_on_a_live_cluster(cluster, stores, folder_digests):
    """The errors come before anything is submitted, and leave every file as it was."""
    (stores / "bad.toml").write_text(TEXT.replace("block = 1200", "block = 0"))
    (stores / "typo.toml").write_text(TEXT.replace("[[grid]]", "[[grids]]", 1))
    (stores / "broken.toml").write_text(TEXT.replace('name = "machinery"', 'name = "machinery'))
    cases = [
        ("bad.toml", "old.sqlite", "bad.toml: sweep.block: must be an integer >= 1, got 0"),
        ("typo.toml", "old.sqlite", "typo.toml: grids: unknown key; allowed here: grid, sweep"),
        ("broken.toml", "old.sqlite", "broken.toml: not valid TOML"),
        ("s.toml", "notes.txt", "notes.txt is not a memsim result store (not an SQLite "
         "database)"),
        ("s.toml", "other.sqlite", "other.sqlite is an SQLite database of another "
         "application"),
    ]
    before = folder_digests(stores)
    for sweep_file, store, message in cases:
        res = memsim_cli("sweep", stores / sweep_file, "--store", stores / store,
                         "--scheduler", cluster.address, "--no-progress")
        assert_one_line_error(res, message)
        assert folder_digests(stores) == before, (sweep_file, store)
    # the default local cluster: the store is refused before any worker starts
    for store in ("notes.txt", "other.sqlite"):
        res = memsim_cli("sweep", stores / "s.toml", "--store", stores / store, "--workers", 1,
                         "--no-progress")
        assert_one_line_error(res, f"{store} is ")
        assert folder_digests(stores) == before, store
    with cluster.client() as c:  # nothing reached the cluster
        assert not c.run_on_scheduler(
            lambda dask_scheduler: [k for k in dask_scheduler.tasks
                                    if str(k).startswith("memsim-sweep-")])
