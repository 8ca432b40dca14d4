"""`memsim search --sync` and `memsim report` of a search store, run in-process."""

import csv
import sys
from pathlib import Path

import pytest

from memsim.cli import main
from memsim.search import load_search

ROOT = Path(__file__).resolve().parents[2]

TEXT = """
[search]
name = "cli"
seed = 5
budget = 4
parallel = 2
model = "abstract"
inputs = 3
outputs = 3
repetitions = 3

[search.bo]
points = 200
initial = 3

[space]
hidden = { from = 2, to = 9 }
depth = [1, 2]

[space.learning]
delta = { from = 0.02, to = 0.5, log = true }
max_steps = 300
"""


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    (d / "s.toml").write_text(TEXT)
    assert main(["search", str(d / "s.toml"), "--sync", "--no-progress",
                 "--store", str(d / "s.sqlite")]) == 0
    return d


def test_search_prints_a_summary_and_resumes(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(TEXT)
    store = tmp_path / "out" / "s.sqlite"
    argv = ["search", str(tmp_path / "s.toml"), "--sync", "--no-progress", "--store",
            str(store)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "search 'cli': budget 4 per method; stored: bo 4, random 4, reference 1" in out
    assert "best bo: " in out and f"results in {store}" in out
    assert main(argv) == 0
    assert "this run computed 0, reused 0, failed 0" in capsys.readouterr().out
    assert main(argv + ["--budget", "5"]) == 0
    assert "stored: bo 5, random 5, reference 1" in capsys.readouterr().out


def test_search_shows_the_best_so_far_in_its_progress_bar(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(TEXT)
    assert main(["search", str(tmp_path / "s.toml"), "--sync", "--store",
                 str(tmp_path / "s.sqlite")]) == 0
    err = capsys.readouterr().err
    assert "search cli: 100%" in err and "9/9 [" in err and "best bo " in err, err


def test_report_of_a_search_store(searched, tmp_path, capsys):
    out_dir = tmp_path / "rep"
    assert main(["report", str(searched / "s.sqlite"), "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert "search 'cli': 3 inputs, 3 outputs, objective mean_capacity" in out
    assert "reference abstract" in out and "parameter importance" in out
    assert "Pareto front (mean_capacity max, devices min)" in out
    for name in ("best_so_far.png", "importance.png", "pareto.png", "success_curves.png",
                 "evaluations.csv", "pareto.csv", "importance.csv"):
        assert (out_dir / name).stat().st_size > 0, name
    with open(out_dir / "evaluations.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4 + 4 + 1
    # the sweep view of the same store: every design's S(P), pooled
    assert main(["results", str(searched / "s.sqlite")]) == 0
    assert "abstract layered" in capsys.readouterr().out


def test_shipped_search_files_load():
    names = {p.stem: load_search(p) for p in (ROOT / "searches").glob("*.toml")}
    assert {"codesign_8x8", "codesign_16x16", "power_2x4x2"} <= set(names)
    for name, spec in names.items():
        assert spec.name == name


def test_search_help_has_examples(capsys):
    with pytest.raises(SystemExit):
        main(["search", "--help"])
    out = capsys.readouterr().out
    assert "memsim search searches/codesign_8x8.toml" in out and "--budget N" in out


@pytest.mark.parametrize(("args", "message"), [
    (["search", "{dir}/none.toml"], "none.toml: no such search file"),
    (["search", "{dir}/bad.toml"], "bad.toml:5: search.budgett: unknown key"),
    (["search", "{dir}/s.toml", "--budget", "0"], "budget: need at least one evaluation"),
    (["search", "{dir}/s.toml", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"],
     "workers: sets the size of the local cluster"),
    (["search", "{dir}/s.toml", "--store", "{dir}/notes.txt"],
     "notes.txt is not a memsim result store"),
    (["report", "{dir}/other.sqlite"], "other.sqlite is an SQLite database of another"),
])
def test_bad_input_is_one_line_and_exit_code_1(foreign_stores, folder_digests, capsys, args,
                                               message):
    (foreign_stores / "s.toml").write_text(TEXT)
    lines = TEXT.splitlines()
    lines[lines.index("budget = 4")] = "budgett = 4"
    (foreign_stores / "bad.toml").write_text("\n".join(lines))
    before = folder_digests(foreign_stores)
    argv = [a.format(dir=foreign_stores) for a in args] + ["--no-progress"] * (
        args[0] == "search")
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("memsim: error: ") and err.count("\n") == 1, err
    assert message in err, err
    assert folder_digests(foreign_stores) == before


def test_report_of_a_store_with_several_searches_asks_which(searched, tmp_path, capsys):
    import shutil

    store = tmp_path / "two.sqlite"
    shutil.copy(searched / "s.sqlite", store)
    (tmp_path / "t.toml").write_text(TEXT.replace('name = "cli"', 'name = "cli2"').replace(
        "budget = 4", "budget = 2"))
    assert main(["search", str(tmp_path / "t.toml"), "--sync", "--no-progress", "--store",
                 str(store)]) == 0
    capsys.readouterr()
    assert main(["report", str(store), "--out", str(tmp_path / "r")]) == 1
    assert "holds several searches (cli, cli2); choose one with --search NAME" in \
        capsys.readouterr().err
    assert main(["report", str(store), "--search", "cli2", "--out", str(tmp_path / "r")]) == 0
    assert "search 'cli2'" in capsys.readouterr().out
    assert sys.modules.get("memsim.search") is not None
