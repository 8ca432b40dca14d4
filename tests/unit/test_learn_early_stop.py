"""Early stop of hopeless training runs (``CircuitConfig.stop_when_dead``)."""

import numpy as np
import pytest
from kernel_twin import kernel_and_twin

import memsim
from memsim.learn import CircuitConfig, alternating_task, device_draw, train
from memsim.learn import kernels as K

# A weak normalization lets inhibition pin all devices of an input at R_off (see the
# CircuitConfig docstring): most runs on paper_2x4x2 lose an input within a few dozen steps.
WEAK = CircuitConfig(v_normalize=2.6, t_normalize=0.5e-3)


@pytest.fixture(scope="module")
def paper():
    return memsim.load(memsim.circuit_path("paper_2x4x2"))


def test_a_hand_pruned_input_stops_the_run_before_any_step(paper):
    in0 = paper.inputs[0]
    net = paper.pruned((paper.edges == in0).any(axis=1))
    task = alternating_task(3)
    r = train(net, task, seed=0, max_steps=30)
    assert r.n_steps == 0 and not r.learned and r.stopped == "dead_input"
    assert all(not e.learned and e.n_steps == 0 and e.stopped == "dead_input" for e in r.eras)
    # without the stop the budget is spent and pattern [1, 0] is never answered right
    full = train(net, task, CircuitConfig(stop_when_dead=False), seed=0, max_steps=30)
    assert full.n_steps == 3 * 30 and full.stopped is None
    assert [e.learned for e in full.eras] == [e.learned for e in r.eras]
    assert not full.records.correct[full.records.pattern == 0].any()


def test_a_run_that_loses_an_input_stops_with_the_outcomes_of_the_full_budget(paper):
    task = alternating_task(3)
    r = train(paper, task, WEAK, seed=1, max_steps=60)
    full = train(paper, task, WEAK.replace(stop_when_dead=False), seed=1, max_steps=60)
    assert r.stopped == "dead_input" and 0 < r.n_steps < full.n_steps == 3 * 60
    assert [e.learned for e in r.eras] == [e.learned for e in full.eras]
    n = r.n_steps
    for key in ("pattern", "winner", "correct", "era", "output_currents", "energy", "power"):
        assert np.array_equal(getattr(r.records, key), getattr(full.records, key)[:n]), key
    cut = r.pruned_at >= 0
    assert np.array_equal(r.pruned_at[cut], full.pruned_at[cut])
    # the input whose pattern stopped the run has no live device left
    dead = [k for k, node in enumerate(paper.inputs)
            if r.pruned[(paper.edges == node).any(axis=1)].all()]
    assert dead
    assert "stopped=dead_input" in r.summary()


def test_progress_path_stops_the_same_way(paper):
    task = alternating_task(3)
    a = train(paper, task, WEAK, seed=0, max_steps=60)
    b = train(paper, task, WEAK, seed=0, max_steps=60, progress=True)
    assert a.eras == b.eras and a.stopped == b.stopped == "dead_input"
    assert np.array_equal(a.pruned_at, b.pruned_at) and a.final_accuracy == b.final_accuracy


def test_training_kernel_and_twin_agree_on_a_stopped_run(paper):
    task = alternating_task(3)
    params, x0 = device_draw(paper, WEAK, np.random.SeedSequence(21))
    out, twin = kernel_and_twin(paper, WEAK, task, params, x0, 40, 3)
    pattern, winner, correct, _, _, _, _, states, era_info, _, pruned_at, _ = out
    assert era_info[:, K.ERA_STOPPED].any()  # the case under test happened
    assert len(pattern) < 3 * 40
    assert np.array_equal(era_info, twin["era_info"])
    assert np.array_equal(pattern, twin["pattern"]) and np.array_equal(winner, twin["winner"])
    assert np.array_equal(pruned_at, twin["pruned_at"])
    # rounding differences between the solvers, amplified by a few pulses: 1e-9
    np.testing.assert_allclose(states, twin["states"], atol=1e-9)
