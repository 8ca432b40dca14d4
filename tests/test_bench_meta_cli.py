"""The command line of ``benchmarks/bench_meta.py``: a part of the study is named by the
searches it runs, and a name outside the study is refused before any cluster starts."""

import csv
import subprocess
import sys
from pathlib import Path

from memsim.rules.meta import META_SEARCHES

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_meta.py"


def test_an_unknown_search_is_refused_with_the_studys_names(tmp_path):
    out = subprocess.run([sys.executable, str(SCRIPT), "--store-dir", str(tmp_path),
                          "--searches", "mushroom_digits_float", "mushroom_digits_rram8"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert "unknown searches ['mushroom_digits_rram8']" in out.stderr
    for name in META_SEARCHES:
        assert name in out.stderr
    assert "Traceback" not in out.stderr
    assert list(tmp_path.iterdir()) == []  # nothing was stored


def _bench():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_meta", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_csv_of_a_study_in_parts_keeps_the_other_parts_rows(tmp_path):
    # A part of the study replaces its own (dataset, levels) rows and keeps the rest, with
    # the file's comments; running the same part again changes nothing but its rows.
    bench = _bench()
    path = tmp_path / "meta.csv"

    def rows(dataset, levels, acc):
        return [{"dataset": dataset, "levels": levels, "rule": rule, "test_mean": f"{a:.4f}",
                 "test_sem": "0.0010", "search": f"mushroom_{dataset}_{levels}"}
                for rule, a in zip(("delta", "winner"), acc, strict=True)]

    bench.merge_csv(path, rows("digits", "float", (0.96, 0.90)), "part one")
    bench.merge_csv(path, rows("mnist5k", "4", (0.81, 0.88)), "part two")
    bench.merge_csv(path, rows("digits", "float", (0.95, 0.91)), "part one")  # again
    text = path.read_text()
    assert text.splitlines()[:2] == ["# part one", "# part two"]
    table = list(csv.DictReader(line for line in text.splitlines()
                                if not line.startswith("#")))
    got = {(r["dataset"], r["levels"], r["rule"]): r["test_mean"] for r in table}
    assert got == {("mnist5k", "4", "delta"): "0.8100", ("mnist5k", "4", "winner"): "0.8800",
                   ("digits", "float", "delta"): "0.9500",
                   ("digits", "float", "winner"): "0.9100"}
    assert list(table[0]) == list(bench.CSV_FIELDS)


def test_csv_rows_name_the_dataset_and_the_levels_of_the_search():
    from memsim.rules.meta import SETTINGS, meta_spec

    bench = _bench()
    tab = [{"rule": "delta", "test": 0.96171, "sem": 0.00342, "per seed": [0.95, 0.97],
            "found by": "bo", "validation": 0.972}]
    for name, dataset, levels in (("mushroom_mnist5k_rram16", "mnist5k", "16"),
                                  ("mushroom_digits_float", "digits", "float")):
        (row,) = bench.csv_rows(meta_spec(name, SETTINGS["small"]), tab)
        assert (row["dataset"], row["levels"], row["search"]) == (dataset, levels, name)
        assert (row["test_mean"], row["test_sem"], row["per_seed"]) == (
            "0.9617", "0.0034", "0.9500 0.9700")


def test_a_csv_that_cannot_take_the_table_is_refused_before_any_search(tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("# a note\nname,value\na,1\n")
    for bad, says in ((tmp_path / "missing" / "meta.csv", "does not exist"),
                      (tmp_path, "is a directory"),
                      (other, "not a table of this study")):
        out = subprocess.run([sys.executable, str(SCRIPT), "--store-dir", str(tmp_path / "s"),
                              "--searches", "mushroom_digits_float", "--csv", str(bad)],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 2, out.stderr
        assert says in out.stderr and "Traceback" not in out.stderr
        assert not (tmp_path / "s").exists()  # refused before any store was made
    assert other.read_text() == "# a note\nname,value\na,1\n"
