"""``memsim train``, run in-process."""

import pytest

import memsim
from memsim.cli import main
from memsim.learn import alternating_task, train, wilson_interval

PAPER = str(memsim.circuit_path("paper_2x4x2"))


def test_train_prints_the_summary_table_and_writes_the_plots(tmp_path, capsys):
    code = main(["train", PAPER, "--task", "alternating", "--eras", "3", "--seeds", "12",
                 "--out", str(tmp_path), "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "paper_2x4x2" in lines[0] and "12 seeds" in lines[0]
    assert lines[1].split()[:4] == ["era", "learned", "rate", "95%"]
    rows = [line.split() for line in lines[2:5]]
    assert [r[0] for r in rows] == ["1", "2", "3"]
    learned = int(rows[0][1].split("/")[0])
    lo, hi = wilson_interval(learned, 12)
    assert rows[0][3] == f"{lo:.2f}-{hi:.2f}"  # the interval printed is the Wilson interval
    for name in ("conductance", "power", "success"):
        path = tmp_path / f"paper_2x4x2_alternating_{name}.png"
        assert path.stat().st_size > 10_000


def test_train_table_matches_the_api(tmp_path, capsys):
    # The command's seeds are children of SeedSequence(--seed): same runs as the API's.
    import numpy as np

    main(["train", "paper_2x4x2", "--seeds", "5", "--seed", "4", "--no-plots", "--quiet"])
    out = capsys.readouterr().out.splitlines()
    net = memsim.load(PAPER)
    runs = [train(net, alternating_task(3), seed=child.spawn(2)[1])
            for child in np.random.SeedSequence(4).spawn(5)]
    for k in range(3):
        assert out[2 + k].split()[1] == f"{sum(r.eras[k].learned for r in runs)}/5"


def test_train_random_and_parity_tasks(capsys):
    assert main(["train", PAPER, "--task", "random", "--patterns", "3", "--binary", "--eras",
                 "2", "--seeds", "3", "--no-plots", "--quiet", "--max-steps", "50"]) == 0
    assert "random_3x2" in capsys.readouterr().out
    assert main(["train", PAPER, "--task", "parity", "--eras", "1", "--seeds", "2",
                 "--no-plots", "--quiet", "--set", "v_normalize=2.6",
                 "--set", "prune_state=none", "--set", "shuffle=false"]) == 0
    assert "parity_2" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["train", PAPER, "--set", "v_inhibit=3"],
    ["train", PAPER, "--set", "nonsense=1"],
    ["train", PAPER, "--set", "substeps=two"],
    ["train", PAPER, "--set", "shuffle=maybe"],
    ["train", PAPER, "--set", "v_read=abc"],
    ["train", PAPER, "--seeds", "0"],
    ["train", PAPER, "--eras", "0"],
    ["train", PAPER, "--task", "random", "--patterns", "5"],
    ["train", "no_such_circuit"],
])
def test_train_reports_bad_input_as_an_error(argv, capsys):
    assert main(argv + ["--no-plots", "--quiet"]) == 1
    assert "memsim: error:" in capsys.readouterr().err
