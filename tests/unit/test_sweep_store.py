"""The SQLite result store: marked as memsim's, one row per task, never damages other files."""

import hashlib
import sqlite3

import pytest

from memsim.sweep import Store, StoreError, check_store, parse_sweep
from memsim.sweep.store import APPLICATION_ID, SCHEMA_VERSION

SPEC = parse_sweep("""
[sweep]
name = "s"
seed = 3
repetitions = 4
block = 2
[[grid]]
model = "abstract"
sizes = [[2, 4, 2], [3, 4, 3]]
P = [1, 2]
""")


def result(task, successes=1):
    outcomes = [1] * successes + [0] * (task.n_reps - successes)
    return {"successes": successes, "trials": task.n_reps, "outcomes": outcomes,
            "wall_time": 0.25, "worker": "tcp://w:1", "memsim_version": "9.9"}


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_new_store_is_marked_as_memsim(tmp_path):
    path = tmp_path / "sub" / "r.sqlite"
    assert check_store(path) is False
    with Store.open(path) as store:
        assert len(store) == 0
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert dict(con.execute("SELECT key, value FROM meta"))["format"] == "memsim-sweep-store"
    assert check_store(path) is True


def test_rows_hold_what_was_added(tmp_path):
    task = SPEC.tasks()[3]
    with Store.open(tmp_path / "r.sqlite") as store:
        assert store.add("s", task, result(task, 1)) is True
        (row,) = store.rows()
    assert row["key"] == task.key and row["sweep"] == "s"
    assert row["point"] == task.point and row["P"] == task.n_patterns
    assert (row["block"], row["rep_start"], row["n_reps"]) == (task.block, task.rep_start, 2)
    assert row["seed"] == {"master": 3, "P": task.n_patterns,
                           "trials": [task.rep_start, task.rep_start + 2]}
    assert (row["successes"], row["trials"]) == (1, 2)
    assert row["metrics"]["outcomes"] == [1, 0]
    assert row["memsim_version"] == "9.9" and row["worker"] == "tcp://w:1"
    assert row["wall_time"] == 0.25 and row["finished"].endswith("+00:00")


def test_a_task_is_stored_once(tmp_path):
    task = SPEC.tasks()[0]
    path = tmp_path / "r.sqlite"
    with Store.open(path) as store:
        assert store.add("s", task, result(task, 2))
        assert not store.add("s", task, result(task, 0))  # a second result is ignored
        assert len(store) == 1 and store.rows()[0]["successes"] == 2
    # the uniqueness is the database's, not only the writer's
    con = sqlite3.connect(path)
    cols = ", ".join(["?"] * 16)
    with pytest.raises(sqlite3.IntegrityError):
        con.execute(f"INSERT INTO results VALUES ({cols})", (task.key,) + ("x",) * 15)


def test_each_result_is_committed_when_added(tmp_path):
    path = tmp_path / "r.sqlite"
    tasks = SPEC.tasks()[:3]
    with Store.open(path) as store:
        for k, task in enumerate(tasks, 1):
            store.add("s", task, result(task))
            # another connection (another process) sees it at once
            other = sqlite3.connect(path)
            assert other.execute("SELECT count(*) FROM results").fetchone()[0] == k
            other.close()


def test_reopening_keeps_the_keys(tmp_path):
    path = tmp_path / "r.sqlite"
    tasks = SPEC.tasks()
    with Store.open(path) as store:
        for task in tasks[:5]:
            store.add("s", task, result(task))
        store.register(SPEC)
        store.register(SPEC)
    with Store.open(path) as store:
        assert store.keys() == {t.key for t in tasks[:5]}
        assert [s["name"] for s in store.sweeps()] == ["s"]
    with Store.open_readonly(path) as store:
        assert len(store.rows()) == 5


def _other_sqlite(path):
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE results (key TEXT)")
    con.execute("INSERT INTO results VALUES ('precious')")
    con.commit()
    con.close()


def _newer_store(path):
    Store.open(path).close()
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.commit()
    con.close()


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p.write_text("time,value\n0,1\n"), "not an SQLite database"),
    (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200), "not a readable SQLite"),
    (_other_sqlite, "another application"),
    (_newer_store, "newer memsim"),
])
def test_a_file_that_is_not_a_memsim_store_is_refused_untouched(tmp_path, make, message):
    path = tmp_path / "data.sqlite"
    make(path)
    before = digest(path)
    with pytest.raises(StoreError, match=message) as err:
        Store.open(path)
    assert "\n" not in str(err.value)
    with pytest.raises(StoreError, match=message):
        Store.open_readonly(path)
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.sqlite"]  # no journal left


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(StoreError, match="is a directory"):
        Store.open(tmp_path)


def test_reading_a_missing_store_does_not_create_it(tmp_path):
    with pytest.raises(StoreError, match="no result store"):
        Store.open_readonly(tmp_path / "none.sqlite")
    assert not (tmp_path / "none.sqlite").exists()


def test_an_empty_file_becomes_a_store(tmp_path):
    path = tmp_path / "empty.sqlite"
    path.touch()
    with Store.open(path) as store:
        assert len(store) == 0
    assert check_store(path) is True
