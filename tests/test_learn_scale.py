"""Success rates of the learner on 200 seeds stay inside the 95 % intervals of the code before
issue 10's speed work (the counts below were measured with benchmarks/learn_success_counts.py
at commit 99fde4c, 2026-12-01). The experiments are the script's; only the counts are kept
here."""

import sys
from pathlib import Path

import pytest

from memsim.learn.result import wilson_interval

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from learn_success_counts import layered_count, paper_counts  # noqa: E402

N = 200
BEFORE_PAPER = (199, 193, 190, 186)  # era 1, era 2, era 3, all three (alternating task)
BEFORE_LAYERED = 64  # 8-16-8, random one-hot P = 2


def _inside(now: int, before: int) -> bool:
    # the earlier count's 95 % Wilson interval: a change of the physics or of the random
    # streams that moves a success rate by more than its sampling error falls outside
    low, high = wilson_interval(before, N)
    return low <= now / N <= high


@pytest.mark.slow
def test_paper_alternating_success_counts_are_unchanged():
    now = paper_counts(N)
    assert all(_inside(k, b) for k, b in zip(now, BEFORE_PAPER, strict=True)), now


@pytest.mark.slow
def test_layered_8_16_8_success_count_is_unchanged():
    now = layered_count(N)
    assert _inside(now, BEFORE_LAYERED), now


def test_trials_on_two_threads_match_one_thread_exactly():
    """Issue 10: the trials of a load on several threads (the kernels release the GIL) give
    the same outcomes, the same runs bit for bit, handed to ``on_trial`` in trial order."""
    import numpy as np

    from memsim.analyze.capacity import capacity_curve, trial_outcomes
    from memsim.analyze.study import LayeredFactory

    factory = LayeredFactory((4, 8, 4))
    runs: dict[int, list] = {1: [], 2: []}
    for n in runs:
        out = trial_outcomes(factory, None, 2, 12, seed=5, threads=n,
                             on_trial=lambda p, r, res, n=n: runs[n].append((r, res)))
        runs[n].append(out)
    one, two = runs[1], runs[2]
    assert np.array_equal(one[-1], two[-1])
    assert 0 < one[-1].sum() < 12  # both outcomes occur, so equality says something
    assert [r for r, _ in one[:-1]] == [r for r, _ in two[:-1]] == list(range(12))
    for (_, a), (_, b) in zip(one[:-1], two[:-1], strict=True):
        assert a.n_steps == b.n_steps
        assert np.array_equal(a.final_state, b.final_state)
        assert np.array_equal(a.records.energy, b.records.energy)
    abstract = [capacity_curve("abstract", abstract_sizes=(4, 8, 4), repetitions=10, seed=3,
                               threads=n) for n in (1, 2)]
    assert np.array_equal(abstract[0].successes, abstract[1].successes)


def test_a_pulse_whose_arrivals_kept_shortening_the_steps_ends():
    """A trial of a co-design search design (tests/data/stalled_design.json: an 8-8-8-8
    bipartite net, ~7.7 V pulses) never finished: the event control cut every RK4 step at an
    arrival predicted ever closer ahead. With the floor MIN_EVENT_STEP it trains to its step
    budget; run in a subprocess so that a regression fails instead of hanging the suite."""
    import json
    import subprocess

    data = Path(__file__).parent / "data" / "stalled_design.json"
    code = f"""
import json
from memsim.analyze.capacity import trial_seed, _network
from memsim.learn import random_task, train
from memsim.search.design import learning_config, network_factory
d = json.load(open({str(data)!r}))
cfg = learning_config(d["point"], d["master"]).replace(max_steps=20)
topo, task_seed, train_seed = trial_seed(d["master"], d["P"], d["trial"]).spawn(3)
net = _network(network_factory(d["point"]), topo)
task = random_task(len(net.inputs), len(net.outputs), d["P"], seed=task_seed)
print(json.dumps({{"steps": train(net, task, cfg, seed=train_seed).n_steps}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1])["steps"] == 20
