"""Capacity curves: an exactly solvable case, brute-force enumeration, seeding and early stop."""

import itertools

import numpy as np
import pytest

import memsim
from memsim import ParameterError
from memsim.analyze import CapacityResult, capacity_curve, trial_outcomes, wilson_interval
from memsim.analyze.capacity import trial_seed
from memsim.learn import (
    AbstractConfig,
    CircuitConfig,
    fixed_task,
    random_task,
    train,
    train_abstract,
)

PAPER = memsim.circuit_path("paper_2x4x2")


def _paper():
    return memsim.load(PAPER)


# With a budget of exactly one pass, learning from mistakes cannot help: a task is learned iff
# the initial network answers every pattern right. Targets are uniform and independent of the
# network, so S(P) = n_out ** -P exactly, for any network and either model.
def test_one_pass_budget_brute_force_count_circuit():
    net = _paper()
    patterns = [[1, 0], [0, 1], [1, 1]]
    for p in (1, 2, 3):
        learned = [train(net, fixed_task(patterns[:p], list(m), n_outputs=2), seed=5,
                         max_steps=p).learned
                   for m in itertools.product(range(2), repeat=p)]
        assert sum(learned) == 1  # exactly the network's own initial mapping


def test_one_pass_budget_brute_force_count_abstract():
    for p in (1, 2, 3):
        learned = [train_abstract([3, 4, 3], fixed_task(np.eye(3)[:p], list(m), n_outputs=3),
                                  seed=2, max_steps=p).learned
                   for m in itertools.product(range(3), repeat=p)]
        assert sum(learned) == 1


@pytest.mark.parametrize("model", ["circuit", "abstract"])
def test_success_curve_matches_the_exact_value(model):
    if model == "circuit":
        factory, sizes, n_out, one_hot = _paper(), None, 2, False
    else:
        factory, sizes, n_out, one_hot = "abstract", [3, 4, 3], 3, True
    for p in (1, 2, 3):
        out = trial_outcomes(factory, sizes, p, 300, seed=11, max_steps=p, one_hot=one_hot)
        # 99.9 % Wilson interval (z = 3.29) must contain the exact value; seeded, so the test
        # is deterministic.
        lo, hi = wilson_interval(int(out.sum()), out.size, z=3.29)
        assert lo <= n_out**-p <= hi


# With the inactive inputs grounded, a read sees a linear resistive network (threshold devices
# do not move below threshold, and a clean pass has no writes), so the output currents add:
# I(1,1) = I(1,0) + I(0,1). If [1,0] and [0,1] both go to output j, so does [1,1]. Of the 8
# mappings of the 3 binary patterns of a 2-input net, exactly the 2 with t(1,0) = t(0,1) !=
# t(1,1) can never be learned, whatever the devices: an exact count a capacity estimate must
# respect trial by trial.
GROUNDED = CircuitConfig(inactive_inputs="ground")
BINARY = [[1, 0], [0, 1], [1, 1]]


def _impossible(targets):
    t10, t01, t11 = targets
    return t10 == t01 != t11


def test_brute_force_the_superposition_bound_over_all_binary_mappings():
    net = _paper()
    mappings = list(itertools.product(range(2), repeat=3))
    learned = {m: sum(train(net, fixed_task(BINARY, list(m), n_outputs=2), GROUNDED, seed=s,
                            max_steps=60).learned for s in range(4)) for m in mappings}
    assert sum(_impossible(m) for m in mappings) == 2
    assert all(learned[m] == 0 for m in mappings if _impossible(m))
    # not vacuous: every other mapping is learned by some device draw
    assert all(learned[m] > 0 for m in mappings if not _impossible(m))


def test_capacity_trials_respect_the_superposition_bound():
    net = _paper()
    R = 24
    out = trial_outcomes(net, None, 3, R, learning=GROUNDED, seed=4, one_hot=False,
                         max_steps=40)
    impossible = []
    for r in range(R):  # the trial's task, rebuilt from its documented seed
        task_seed = trial_seed(4, 3, r).spawn(3)[1]
        task = random_task(2, 2, 3, seed=task_seed, one_hot=False)
        by_code = {tuple(p.astype(int)): int(t) for p, t in zip(task.patterns, task.targets,
                                                                 strict=True)}
        impossible.append(_impossible([by_code[tuple(c)] for c in BINARY]))
    impossible = np.array(impossible)
    assert 0 < impossible.sum() < R  # uniform targets: 1/4 of the tasks on average (7 here)
    assert not out[impossible].any()
    assert out.mean() <= 1 - impossible.mean()
    assert out[~impossible].any()  # the bound is not met vacuously (11 of 17 learned here)


def test_trials_do_not_depend_on_order_or_split():
    net = _paper()
    whole = trial_outcomes(net, None, 2, 12, seed=3, max_steps=30)
    parts = np.concatenate([trial_outcomes(net, None, 2, 5, seed=3, max_steps=30, start=7),
                            trial_outcomes(net, None, 2, 7, seed=3, max_steps=30)])
    assert np.array_equal(whole, np.roll(parts, -5))
    curve = capacity_curve(net, P_values=[1, 2], repetitions=12, seed=3, max_steps=30)
    assert np.array_equal(curve.outcomes[2], whole)
    again = capacity_curve(net, P_values=[1, 2], repetitions=12, seed=3, max_steps=30)
    assert np.array_equal(again.successes, curve.successes)
    seq = capacity_curve(net, P_values=[1, 2], repetitions=12,
                         seed=np.random.SeedSequence(3), max_steps=30)
    assert np.array_equal(seq.outcomes[2], whole)


def test_trial_seed_is_a_two_level_spawn():
    a = trial_seed(np.random.SeedSequence(9), 4, 2)
    b = np.random.SeedSequence(9).spawn(5)[4].spawn(3)[2]
    assert np.array_equal(a.generate_state(8), b.generate_state(8))


def test_random_topology_factory_gets_a_distinct_seed_per_trial():
    seen = []

    def factory(ss):
        seen.append(ss.spawn_key)
        return memsim.layered([2, 4, 2], device=memsim.devices.preset("pershin2011"),
                              connectivity=0.8, seed=np.random.default_rng(ss))

    out = trial_outcomes(factory, None, 1, 6, seed=0, max_steps=20)
    assert out.shape == (6,)
    assert len(set(seen)) == 6


def test_early_stop_and_capacity_zero():
    # one pass, 4 outputs: S(P) = 4**-P, the upper bound is below 0.5 from P = 1 on
    res = capacity_curve("abstract", abstract_sizes=[4, 4, 4], repetitions=60, seed=1,
                         P_values=[1, 2, 3, 4], max_steps=1)
    assert res.stopped_early and res.P.tolist() == [1, 2]
    assert res.capacity == 0 and res.capacity_interval == (0, 0)


def test_capacity_and_interval_from_outcomes():
    outcomes = {1: np.ones(40, bool), 2: np.arange(40) < 24, 3: np.arange(40) < 18,
                4: np.zeros(40, bool)}
    res = CapacityResult.from_outcomes(outcomes)
    assert res.S.tolist() == [1.0, 0.6, 0.45, 0.0]
    assert res.capacity == 2  # largest P with S >= 0.5
    # lower bound of 24/40 is below 0.5; upper bound of 18/40 is above it
    assert wilson_interval(24, 40)[0] < 0.5 < wilson_interval(18, 40)[1]
    assert res.capacity_interval == (1, 3)
    assert "capacity 2" in res.summary()
    ax = res.plot()
    assert ax.get_xlabel() == "patterns P"


def test_default_loads_and_abstract_learning():
    res = capacity_curve("abstract", abstract_sizes=[3, 6, 2], repetitions=20, seed=0)
    assert res.P.tolist() == [1, 2, 3]  # one-hot: at most n_inputs patterns
    assert res.capacity == 3 and not res.stopped_early
    res = capacity_curve(_paper(), repetitions=5, seed=0, one_hot=False, max_steps=50)
    assert res.P.tolist() == [1, 2, 3]  # binary: 2**2 - 1 patterns


def test_errors():
    net = _paper()
    with pytest.raises(ParameterError, match="P"):
        trial_outcomes(net, None, 0, 3, seed=0)
    with pytest.raises(ParameterError, match="repetitions"):
        trial_outcomes(net, None, 1, -1, seed=0)
    with pytest.raises(ParameterError, match="factory"):
        trial_outcomes("spice", [2, 4, 2], 1, 1, seed=0)
    with pytest.raises(ParameterError, match="factory"):
        trial_outcomes(lambda ss: "not a network", None, 1, 1, seed=0)
    with pytest.raises(ParameterError, match="factory"):
        trial_outcomes(42, None, 1, 1, seed=0)
    with pytest.raises(ParameterError, match="sizes"):
        trial_outcomes("abstract", None, 1, 1, seed=0)
    with pytest.raises(ParameterError, match="learning"):
        trial_outcomes(net, None, 1, 1, seed=0, learning=AbstractConfig())
    with pytest.raises(ParameterError, match="learning"):
        trial_outcomes("abstract", [2, 3, 2], 1, 1, seed=0, learning=CircuitConfig())
    with pytest.raises(ParameterError, match="seed"):
        trial_outcomes(net, None, 1, 1, seed=-3)
    for bad in (0, 1.5, True):
        with pytest.raises(ParameterError, match="threads"):
            trial_outcomes(net, None, 1, 1, seed=0, threads=bad)
        with pytest.raises(ParameterError, match="threads"):
            capacity_curve(net, seed=0, threads=bad)
    with pytest.raises(ParameterError, match="P_values"):
        capacity_curve(net, P_values=[2, 1], seed=0)
    with pytest.raises(ParameterError, match="repetitions"):
        capacity_curve(net, repetitions=0, seed=0)
    with pytest.raises(ParameterError, match="stop_below"):
        capacity_curve(net, stop_below=0.0, seed=0)
    with pytest.raises(ParameterError, match="z"):
        capacity_curve(net, z=-1.0, seed=0)
    with pytest.raises(ParameterError, match="outcomes"):
        CapacityResult.from_outcomes({})
    with pytest.raises(ParameterError, match="outcomes"):
        CapacityResult.from_outcomes({1: np.zeros(0, bool)})
    with pytest.raises(ParameterError, match="seed"):
        trial_seed("x", 1, 1)


def test_threads_from_the_environment(monkeypatch):
    from memsim.analyze.capacity import trial_threads

    monkeypatch.delenv("MEMSIM_THREADS", raising=False)
    assert trial_threads(None) == 1
    assert trial_threads(3) == 3
    monkeypatch.setenv("MEMSIM_THREADS", "2")
    assert trial_threads(None) == 2
    monkeypatch.setenv("MEMSIM_THREADS", "two")
    with pytest.raises(ParameterError, match="MEMSIM_THREADS"):
        trial_threads(None)
