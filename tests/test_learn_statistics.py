"""Statistical claims of learning from mistakes, over many seeds (slow tier)."""

import itertools

import numpy as np
import pytest

import memsim
from memsim.learn import (
    AbstractConfig,
    all_mappings,
    alternating_task,
    fixed_task,
    parity_task,
    train,
    train_abstract,
    wilson_interval,
)

pytestmark = pytest.mark.slow


def test_abstract_model_learns_every_two_pattern_mapping_on_2_4_2():
    # The 4 one-hot mappings (the paper's patterns) and, beyond the issue, the 8 other ones
    # with binary input vectors: every pair of distinct nonzero codes on 2 inputs, both targets.
    tasks = all_mappings(2, 2)
    for pair in itertools.combinations([[1, 1], [1, 0], [0, 1]], 2):
        if [1, 1] in pair:
            tasks += [fixed_task(pair, list(m), n_outputs=2, name=f"{pair}->{m}")
                      for m in itertools.product(range(2), repeat=2)]
    assert len(tasks) == 12
    for task in tasks:
        learned = [train_abstract([2, 4, 2], task, seed=s).learned for s in range(100)]
        assert sum(learned) == 100, task.name


def test_abstract_parity_learning_time_grows_as_a_power_of_n():
    # memsim's parity task (see parity_task) on [N, N, 2]; mean learning time over 60 seeds.
    ns = np.array([4, 8, 16, 32, 64])
    config = AbstractConfig(max_steps=100_000)
    mean_t = []
    for n in ns:
        runs = [train_abstract([n, n, 2], parity_task(n), config, seed=s) for s in range(60)]
        assert all(r.learned for r in runs)
        mean_t.append(np.mean([r.steps_to_learn for r in runs]))
    slope, icept = np.polyfit(np.log(ns), np.log(mean_t), 1)
    resid = np.log(mean_t) - (slope * np.log(ns) + icept)
    r2 = 1 - resid.var() / np.log(mean_t).var()
    print(f"parity learning time ~ N^{slope:.2f} (R^2 = {r2:.4f}); Bak & Chialvo: ~1.4")
    # A power law: the log-log points lie on a line (R^2 > 0.98). The measured exponent is
    # 1.05 for this task and protocol (seeds 0-59); the window allows for a different
    # platform's rounding to change individual runs.
    assert r2 > 0.98
    assert 0.9 < slope < 1.25


@pytest.fixture(scope="module")
def alternating_runs():
    net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    return [train(net, alternating_task(3), seed=s) for s in range(100)]


# Measured on seeds 0-99 with the default protocol (2026-11-22, unchanged 2026-11-30): era 1
# learned in 99 runs; era 2 re-learned in 96 of the 99 runs that learned era 1, era 3 in 94 of
# the 96 that learned era 2; all three eras in 94. The runs are deterministic given the seed;
# the pins allow 5 runs in 100 to change on another platform (different rounding in the
# compiled kernels can send a run that sits on a tie another way), and never go below the
# issue's floor of 90 %.
MARGIN = 5


def test_circuit_learns_era_one_of_the_alternating_task(alternating_runs):
    n = len(alternating_runs)
    learned = sum(r.eras[0].learned for r in alternating_runs)
    lo, hi = wilson_interval(learned, n)
    print(f"era 1 learned in {learned}/{n} seeds (95 % CI {lo:.2f}-{hi:.2f})")
    assert learned >= max(99 - MARGIN, 90)


def test_circuit_relearns_after_each_switch(alternating_runs):
    for k, measured in ((1, 96), (2, 94)):
        before = [r for r in alternating_runs if r.eras[k - 1].learned]
        again = sum(r.eras[k].learned for r in before)
        print(f"era {k + 1}: re-learned in {again}/{len(before)}")
        assert again >= measured - MARGIN and again >= 0.9 * len(before)
    assert sum(r.learned for r in alternating_runs) >= 94 - MARGIN
    # After a learned era the reads (below threshold) left the network answering the old
    # mapping, so the swapped one must start with a mistake.
    for r in alternating_runs:
        for prev, era in zip(r.eras[:-1], r.eras[1:], strict=True):
            if prev.learned:
                assert era.n_mistakes >= 1 and r.records.winner[era.start_step] != \
                    r.task.eras[era.index][r.records.pattern[era.start_step]]


def test_circuit_energy_per_step_falls_as_the_mistakes_stop(alternating_runs):
    # A mistake costs two write pulses (~1e-5 J), a read ~1e-9 J: once a run has learned era 1,
    # its energy per step over the clean pass is far below that before it.
    checked = 0
    for r in alternating_runs:
        e0 = r.eras[0]
        if not e0.learned or e0.n_mistakes == 0:
            continue
        per_step = r.records.energy[: e0.n_steps].sum(axis=1)
        before, clean = per_step[:-2].mean(), per_step[-2:].mean()
        assert before > 100 * clean
        checked += 1
    assert checked >= 90
