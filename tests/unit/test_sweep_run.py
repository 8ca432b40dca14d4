"""Synchronous (in-process) sweeps: results, resumption, determinism, failed tasks."""

import numpy as np
import pytest

from memsim.errors import ParameterError
from memsim.sweep import Store, parse_sweep, run_sweep, run_task, summarize
from memsim.sweep.work import network_factory

TEXT = """
[sweep]
name = "tiny"
seed = 11
repetitions = 6
block = 3

[[grid]]
label = "circuit"
model = "circuit"
sizes = [2, 2, 2]
connectivity = [1.0, 0.7]
spread = 0.1
P = [1, 2]

[[grid]]
label = "abstract"
model = "abstract"
sizes = [[2, 4, 2], [3, 4, 3]]
learning = { max_steps = 200 }
P = [1, 2]
"""
SPEC = parse_sweep(TEXT)


def table(path):
    """Everything of the stored rows that must not depend on how the sweep ran."""
    with Store.open_readonly(path) as store:
        rows = store.rows()
    return {r["key"]: (r["point"], r["P"], r["block"], r["seed"], r["successes"], r["trials"],
                       r["metrics"]["outcomes"]) for r in rows}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    path = tmp_path_factory.mktemp("ref") / "ref.sqlite"
    summary = run_sweep(SPEC, path, synchronous=True, progress=False)
    return path, summary


def test_sync_run_stores_every_task_once(reference):
    path, summary = reference
    tasks = SPEC.tasks()
    assert (summary.total, summary.completed, summary.skipped, summary.failed) == (
        len(tasks), len(tasks), 0, 0)
    assert summary.ok and summary.workers == 0
    t = table(path)
    assert set(t) == {task.key for task in tasks}
    for task in tasks:
        point, p, block, seed, succ, trials, outcomes = t[task.key]
        assert (point, p, block) == (task.point, task.n_patterns, task.block)
        assert trials == task.n_reps == len(outcomes)
        assert succ == sum(outcomes)
    with Store.open_readonly(path) as store:
        for row in store.rows():  # a task's CPU time cannot exceed its wall time (1 thread)
            assert 0 < row["metrics"]["cpu_time"] <= row["wall_time"] + 0.01
    # both outcomes occur, so the equality checks of the other tests are not vacuous
    assert {o for v in t.values() for o in v[6]} == {0, 1}


def test_a_second_run_skips_everything(reference, tmp_path):
    path, _ = reference
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(path.read_bytes())
    summary = run_sweep(SPEC, copy, synchronous=True, progress=False)
    assert (summary.skipped, summary.completed) == (len(SPEC.tasks()), 0)
    assert table(copy) == table(path)


def test_an_interrupted_run_resumes_to_the_same_table(reference, tmp_path):
    path, _ = reference
    part = tmp_path / "part.sqlite"
    stored = []

    def stop_after_three(task, result):
        stored.append(task.key)
        if len(stored) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(SPEC, part, synchronous=True, progress=False, on_result=stop_after_three)
    assert set(table(part)) == set(stored)
    summary = run_sweep(SPEC, part, synchronous=True, progress=False)
    assert (summary.skipped, summary.completed) == (3, len(SPEC.tasks()) - 3)
    assert table(part) == table(path)


def test_outcomes_do_not_depend_on_the_order_tasks_run_in():
    tasks = SPEC.tasks()
    forward = {t.key: run_task(t.payload())["outcomes"] for t in tasks}
    backward = {t.key: run_task(t.payload())["outcomes"] for t in reversed(tasks)}
    assert forward == backward


def test_a_task_is_the_analyzers_trials_on_its_seeds():
    """The wiring, checked against the capacity analyzer called directly."""
    from memsim.analyze.capacity import trial_outcomes
    from memsim.learn import AbstractConfig, CircuitConfig

    for task in (SPEC.tasks()[5], SPEC.tasks()[-1]):
        point = task.point
        if point["model"] == "abstract":
            expected = trial_outcomes("abstract", point["sizes"], task.n_patterns, task.n_reps,
                                      learning=AbstractConfig(**point["learning"]),
                                      seed=task.seed, start=task.rep_start)
        else:
            expected = trial_outcomes(network_factory(point), None, task.n_patterns,
                                      task.n_reps, learning=CircuitConfig(**point["learning"]),
                                      seed=task.seed, start=task.rep_start)
        assert task.rep_start == 3  # the second block: trials 3..5
        assert run_task(task.payload())["outcomes"] == [int(v) for v in expected]


def test_pooled_curve_equals_capacity_curve_and_ignores_the_block_size(reference, tmp_path):
    from memsim.analyze.capacity import capacity_curve
    from memsim.learn import AbstractConfig

    path, _ = reference
    one_block = tmp_path / "one.sqlite"
    run_sweep(parse_sweep(TEXT.replace("block = 3", "block = 6")), one_block,
              synchronous=True, progress=False)
    with Store.open_readonly(path) as a, Store.open_readonly(one_block) as b:
        blocks, whole = summarize(a.rows()), summarize(b.rows())
    for s, t in zip(blocks, whole, strict=True):
        assert s.point == t.point
        assert s.curve.outcomes.keys() == t.curve.outcomes.keys()
        assert all(np.array_equal(s.curve.outcomes[p], t.curve.outcomes[p])
                   for p in s.curve.outcomes)
    abstract = [s for s in blocks if s.point["model"] == "abstract"]
    for s in abstract:
        ref = capacity_curve("abstract", abstract_sizes=s.point["sizes"], P_values=[1, 2],
                             repetitions=6, learning=AbstractConfig(**s.point["learning"]),
                             seed=SPEC.seed, stop_after=99)
        assert ref.successes.tolist() == s.successes.tolist()
        assert (ref.capacity, ref.capacity_interval) == (s.capacity, (s.capacity_low,
                                                                      s.capacity_high))


def test_network_factory_builds_the_point_and_is_seeded():
    point = SPEC.points[1].params  # layered 2-2-2, connectivity 0.7, spread 0.1
    assert point["connectivity"] == 0.7
    make = network_factory(point)
    a, b = make(np.random.SeedSequence(4)), make(np.random.SeedSequence(4))
    assert np.array_equal(a.edges, b.edges) and np.array_equal(a.params, b.params)
    nets = [make(np.random.SeedSequence(s)) for s in range(20)]
    # pruning keeps about 70 % of 8 edges, and spread makes devices differ
    assert 0.5 < np.mean([n.n_edges for n in nets]) / 8 < 0.9
    assert len({n.params[0, 0] for n in nets}) > 1


def test_failed_tasks_are_reported_not_stored_and_retried(tmp_path):
    # no connected G(30, 0.005) exists in 1000 draws: every task of this point fails
    spec = parse_sweep("""
[sweep]
name = "f"
seed = 1
repetitions = 2
[[grid]]
topology = "random"
n_nodes = 30
edge_prob = 0.005
n_inputs = 2
n_outputs = 2
P = [1]
[[grid]]
model = "abstract"
sizes = [2, 3, 2]
P = [1]
""")
    path = tmp_path / "f.sqlite"
    summary = run_sweep(spec, path, synchronous=True, progress=False)
    assert (summary.completed, summary.failed, summary.ok) == (1, 1, False)
    assert summary.errors and "ParameterError: edge_prob" in summary.errors[0]
    again = run_sweep(spec, path, synchronous=True, progress=False)
    assert (again.skipped, again.failed) == (1, 1)


def test_summarize_pools_blocks_and_gives_wilson_intervals(reference):
    from memsim.learn import wilson_interval

    path, _ = reference
    with Store.open_readonly(path) as store:
        rows = store.rows()
    summaries = summarize(rows)
    assert len(summaries) == len(SPEC.points)
    for s in summaries:
        mine = [r for r in rows if r["point"] == s.point]
        for i, p in enumerate(s.P):
            at_p = [r for r in mine if r["P"] == p]
            assert s.trials[i] == 6 == sum(r["trials"] for r in at_p)
            assert s.successes[i] == sum(sum(r["metrics"]["outcomes"]) for r in at_p)
            assert (s.low[i], s.high[i]) == wilson_interval(int(s.successes[i]), 6)
        learned = s.P[s.S >= 0.5]
        assert s.capacity == (learned.max() if learned.size else 0)
    assert {s.series for s in summaries} == {"abstract", "circuit (connectivity=0.7)",
                                             "circuit (connectivity=1.0)"}


def test_bad_worker_counts():
    with pytest.raises(ParameterError, match="workers"):
        run_sweep(SPEC, "unused.sqlite", workers=0)
    with pytest.raises(ParameterError, match="workers: sets the size of the local cluster"):
        run_sweep(SPEC, "unused.sqlite", workers=2, scheduler="tcp://127.0.0.1:1")


@pytest.mark.parametrize("spread", [0.0, 0.05])
def test_a_sweep_points_spread_is_applied_exactly_once(spread):
    from memsim.analyze.capacity import trial_outcomes
    from memsim.devices import preset
    from memsim.learn import CircuitConfig

    spec = parse_sweep(f"""
[sweep]
name = "spread"
seed = 3
repetitions = 2
[[grid]]
model = "circuit"
sizes = [8, 16, 8]
spread = {spread}
P = [2]
""")
    point = spec.points[0].params
    runs = []
    trial_outcomes(network_factory(point), None, 2, 2, learning=CircuitConfig(**point["learning"]),
                   seed=spec.seed, max_steps=2, on_trial=lambda p, r, res: runs.append(res))
    nominal = preset("pershin2011").row()
    sigma = spread if spread > 0 else CircuitConfig().d2d_spread  # the one spread expected
    for res in runs:
        mem = res.net.memristive
        log_on = np.log(res.params[mem, 0] / nominal[0])
        # one factor per device scales R_on and R_off together
        np.testing.assert_allclose(np.log(res.params[mem, 1] / nominal[1]), log_on, atol=1e-12)
        if spread > 0:  # the network's draw is the run's: training added none of its own
            assert np.array_equal(res.params, res.net.params)
        else:  # the network is nominal; training drew the spread
            assert np.array_equal(res.net.params[mem, :2], np.tile(nominal[:2], (mem.sum(), 1)))
        # 256 devices: the sample log-std of one draw is sigma * (1 +- 0.044) (one sd); two
        # draws would give sqrt(sigma^2 + 0.1^2) (0.112 for sigma = 0.05), 6 sd away
        assert abs(log_on.std() - sigma) < 0.15 * sigma


def test_a_sweep_point_refuses_two_spreads():
    from memsim.sweep import SweepFileError

    with pytest.raises(SweepFileError, match="spread once"):
        parse_sweep("""
[sweep]
name = "two"
seed = 3
repetitions = 1
[[grid]]
model = "circuit"
sizes = [2, 2, 2]
spread = 0.1
learning = { d2d_spread = 0.2 }
""")
