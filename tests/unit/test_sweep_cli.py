"""`memsim sweep --sync`, `memsim results`, `memsim report`, run in-process."""

import csv
import sys

import pytest

from memsim.cli import main

TEXT = """
[sweep]
name = "cli"
seed = 4
repetitions = 4
block = 2

[[grid]]
label = "abstract"
model = "abstract"
sizes = [[2, 4, 2], [3, 6, 3]]
P = { from = 1, to = "inputs" }

[[grid]]
label = "circuit"
model = "circuit"
sizes = [2, 2, 2]
learning = { x0_spread = [0.0, 0.2] }
P = [1, 2]
"""
N_TASKS = (2 + 3 + 2 + 2) * 2  # P values of the four points, two blocks each


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    (d / "s.toml").write_text(TEXT)
    assert main(["sweep", str(d / "s.toml"), "--sync", "--no-progress",
                 "--store", str(d / "s.sqlite")]) == 0
    return d


def test_sweep_prints_a_summary(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(TEXT)
    store = tmp_path / "out" / "s.sqlite"
    argv = ["sweep", str(tmp_path / "s.toml"), "--sync", "--no-progress", "--store", str(store)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"sweep 'cli': {N_TASKS} tasks; 0 already stored, {N_TASKS} run, 0 failed" in out
    assert f"results in {store}" in out
    assert main(argv) == 0
    assert f"{N_TASKS} already stored, 0 run" in capsys.readouterr().out


def test_sweep_shows_a_progress_bar_on_stderr(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(TEXT)
    assert main(["sweep", str(tmp_path / "s.toml"), "--sync", "--store",
                 str(tmp_path / "s.sqlite")]) == 0
    err = capsys.readouterr().err
    # tasks done / total, elapsed < ETA, rate
    assert "sweep cli: 100%" in err and f"{N_TASKS}/{N_TASKS} [" in err, err
    assert "<00:00" in err and ("task/s" in err or "s/task" in err), err


def test_default_store_is_results_name_sqlite(tmp_path, monkeypatch, capsys):
    (tmp_path / "s.toml").write_text(TEXT.replace("repetitions = 4", "repetitions = 1"))
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "s.toml", "--sync", "--no-progress"]) == 0
    assert (tmp_path / "results" / "cli.sqlite").exists()


def test_results_prints_pooled_success_rates(swept, capsys):
    assert main(["results", str(swept / "s.sqlite")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["series", "network", "P", "successes", "trials", "S", "S_low",
                                "S_high", "capacity"]
    body = [line.split() for line in lines[2:]]
    assert len(body) == 9  # one row per (grid point, P)
    assert all(row[-6] == "4" for row in body)  # trials: two blocks of 2 pooled


def test_results_tasks_lists_every_task(swept, capsys):
    assert main(["results", str(swept / "s.sqlite"), "--tasks"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2 + N_TASKS


def test_export_csv(swept, capsys):
    out = swept / "table.csv"
    assert main(["results", str(swept / "s.sqlite"), "--export", "csv", "--out", str(out)]) == 0
    assert f"wrote 9 rows to {out}" in capsys.readouterr().out
    rows = list(csv.DictReader(open(out)))
    assert len(rows) == 9
    for r in rows:
        assert float(r["S"]) == pytest.approx(int(r["successes"]) / int(r["trials"]), abs=1e-12)
        assert float(r["S_low"]) <= float(r["S"]) <= float(r["S_high"])
    assert main(["results", str(swept / "s.sqlite"), "--tasks", "--export", "csv"]) == 0
    tasks = list(csv.DictReader(open(swept / "s_tasks.csv")))
    assert len(tasks) == N_TASKS and len({t["key"] for t in tasks}) == N_TASKS


def test_export_parquet_without_pyarrow_is_a_clear_error(swept, capsys, monkeypatch):
    # as if pyarrow were not installed: a None entry makes `import pyarrow` raise ImportError
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    assert main(["results", str(swept / "s.sqlite"), "--export", "parquet"]) == 1
    err = capsys.readouterr().err
    assert err == ("memsim: error: parquet export needs pyarrow, which is not installed; "
                   "`pip install 'memsim[parquet]'` (or pyarrow) or use --export csv\n")
    assert not (swept / "s.parquet").exists()


@pytest.mark.parametrize("tasks", [False, True])
def test_export_parquet_holds_the_csv_table(swept, tmp_path, tasks):
    # pyarrow is in the dev extra: this test must run, not skip, wherever the suite runs
    import pyarrow.parquet as pq

    flag = ["--tasks"] if tasks else []
    store = str(swept / "s.sqlite")
    assert main(["results", store, *flag, "--export", "parquet", "--out",
                 str(tmp_path / "t.parquet")]) == 0
    assert main(["results", store, *flag, "--export", "csv", "--out",
                 str(tmp_path / "t.csv")]) == 0
    table = pq.read_table(tmp_path / "t.parquet").to_pylist()
    rows = list(csv.DictReader(open(tmp_path / "t.csv")))
    assert len(table) == len(rows) == (N_TASKS if tasks else 9)
    assert [list(r) for r in table] == [list(r) for r in rows]  # same columns, same order
    for pr, cr in zip(table, rows, strict=True):
        for k, v in pr.items():
            if isinstance(v, float):
                assert v == pytest.approx(float(cr[k]), rel=1e-12)
            else:
                assert str(v) == cr[k]
    if not tasks:  # typed columns, not text
        assert isinstance(table[0]["P"], int) and isinstance(table[0]["S"], float)


def test_report_writes_figures_and_says_where(swept, capsys):
    out = swept / "rep"
    assert main(["report", str(swept / "s.sqlite"), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"report written to {out}/" in text
    for name in ("capacity_vs_size.png", "success_curves.png", "capacity.csv", "success.csv"):
        assert str(out / name) in text
    assert (out / "capacity_vs_size.png").stat().st_size > 10_000
    assert (out / "success_curves.png").stat().st_size > 10_000
    cap = list(csv.DictReader(open(out / "capacity.csv")))
    assert len(cap) == 4
    assert all(int(c["capacity_low"]) <= int(c["capacity"]) <= int(c["capacity_high"])
               for c in cap)


@pytest.mark.parametrize(("argv", "message"), [
    (["sweep", "{d}/bad.toml", "--sync", "--store", "{d}/s.sqlite"],
     "{d}/bad.toml: grid[0].topology: unknown value 'ring'; allowed: crossbar, layered, random"),
    (["sweep", "{d}/s.toml", "--sync", "--store", "{d}/notes.txt"],
     "{d}/notes.txt is not a memsim result store (not an SQLite database); give another "
     "--store path"),
    (["results", "{d}/notes.txt"], "{d}/notes.txt is not a memsim result store"),
    (["sweep", "{d}/s.toml", "--sync", "--store", "{d}/other.sqlite"],
     "{d}/other.sqlite is an SQLite database of another application (application_id 0x0), "
     "not a memsim result store"),
    (["report", "{d}/notes.txt"], "{d}/notes.txt is not a memsim result store"),
    (["results", "{d}/missing.sqlite"], "no result store at {d}/missing.sqlite"),
    (["sweep", "{d}/s.toml", "--workers", "0", "--store", "{d}/s.sqlite"],
     "workers: need at least one worker, got 0"),
])
def test_errors_are_one_line_and_touch_no_store(swept, foreign_stores, folder_digests, capsys,
                                                argv, message):
    tmp_path = foreign_stores
    d = str(tmp_path)
    (tmp_path / "s.toml").write_text(TEXT)
    (tmp_path / "bad.toml").write_text(TEXT.replace('model = "abstract"\nsizes',
                                                    'model = "abstract"\ntopology = "ring"\n'
                                                    'sizes'))
    (tmp_path / "s.sqlite").write_bytes((swept / "s.sqlite").read_bytes())
    before = folder_digests(tmp_path)
    assert main([a.format(d=d) for a in argv]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("memsim: error: "), err
    assert message.format(d=d) in err
    assert folder_digests(tmp_path) == before


def test_sweep_option_selects_the_tasks_of_one_sweep_file(swept, tmp_path, capsys):
    store = tmp_path / "two.sqlite"
    store.write_bytes((swept / "s.sqlite").read_bytes())
    other = tmp_path / "other.toml"
    other.write_text(TEXT.replace("seed = 4", "seed = 5"))  # same points, new trials
    assert main(["sweep", str(other), "--sync", "--no-progress", "--store", str(store)]) == 0
    capsys.readouterr()
    assert main(["results", str(store), "--export", "csv", "--out", str(tmp_path / "a.csv")]) == 0
    assert {r["trials"] for r in csv.DictReader(open(tmp_path / "a.csv"))} == {"8"}  # pooled
    assert main(["results", str(store), "--sweep", str(other), "--export", "csv", "--out",
                 str(tmp_path / "b.csv")]) == 0
    assert {r["trials"] for r in csv.DictReader(open(tmp_path / "b.csv"))} == {"4"}
