"""The public training API: locality of inhibition, seeding, records, errors."""

import numpy as np
import pytest

import memsim
from memsim.errors import NetworkError, ParameterError
from memsim.learn import (
    PHASES,
    AbstractConfig,
    CircuitConfig,
    Task,
    alternating_task,
    device_draw,
    random_task,
    train,
    train_abstract,
)


@pytest.fixture(scope="module")
def paper():
    return memsim.load(memsim.circuit_path("paper_2x4x2"))


def _first_winner(net, config, seed, pattern):
    """The output the run's device sample answers for ``pattern`` before any training."""
    params, x0 = device_draw(net, config, np.random.SeedSequence(seed).spawn(2)[0])
    active = np.asarray(pattern) != 0
    r = memsim.solve_dc(net.with_params(params), config.v_read * np.asarray(pattern, float),
                        state=x0, floating_inputs=~active)
    return int(np.argmax(r.output_currents)), x0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_inhibition_is_local_to_the_active_paths(paper, seed):
    # One pattern (in0 active, in1 floating) whose target is the output the network does NOT
    # answer, so the first step is a mistake. Normalization off (t_normalize = 0) isolates the
    # inhibition pulse.
    config = CircuitConfig(t_normalize=0.0, prune_state=None)
    wrong, x0 = _first_winner(paper, config, seed, [1, 0])
    task = Task([[1, 0]], [1 - wrong], n_outputs=2)
    r = train(paper, task, config, seed=seed, max_steps=1, record_states=True)
    assert r.records.winner[0] == wrong and not r.records.correct[0]
    dx = r.records.states[0] - x0
    name = paper.edge_names
    on_path = [k for k, s in enumerate(name)
               if s.startswith("in0-") or s.endswith(f"-out{wrong}")]
    off_path = [k for k, s in enumerate(name)
                if s.startswith("in1-") or s.endswith(f"-out{1 - wrong}")]
    assert len(on_path) == len(off_path) == 8
    # on the paths in0 -> hidden -> wrong output: towards OFF, and every path cut somewhere
    assert (dx[on_path] <= 0).all()
    for h in range(4):
        pair = [name.index(f"in0-h1_{h}"), name.index(f"h1_{h}-out{wrong}")]
        assert dx[pair].min() < -1e-3
    # Devices that lead only to the floating output or the floating input see just the small
    # voltage differences between hidden nodes: below the 1 V threshold, so tolerance 0.
    assert np.abs(dx[off_path]).max() == 0.0


def test_same_seed_same_run_different_seed_different_devices(paper):
    task = alternating_task(2)
    a, b, c = (train(paper, task, seed=s, max_steps=20, record_states=True) for s in (5, 5, 6))
    for field in ("pattern", "winner", "correct", "output_currents", "energy", "power", "states"):
        assert np.array_equal(getattr(a.records, field), getattr(b.records, field)), field
    assert np.array_equal(a.params, b.params) and np.array_equal(a.final_state, b.final_state)
    assert not np.array_equal(a.params, c.params)
    assert not np.array_equal(a.initial_state, c.initial_state)


def test_progress_bar_path_gives_the_same_run(paper):
    task = alternating_task(3)
    a = train(paper, task, seed=8, max_steps=15, record_states=True)
    b = train(paper, task, seed=8, max_steps=15, record_states=True, progress=True)
    assert np.array_equal(a.records.states, b.records.states)
    assert np.array_equal(a.pruned_at, b.pruned_at)
    assert [e.n_steps for e in a.eras] == [e.n_steps for e in b.eras]


def test_records_and_eras_are_consistent(paper):
    config = CircuitConfig(prune_state=0.3)  # prune early to exercise the bookkeeping
    r = train(paper, alternating_task(2), config, seed=3, max_steps=25, record_states=True)
    t = len(r.records)
    assert r.n_steps == t == sum(e.n_steps for e in r.eras)
    assert r.records.energy.shape == (t, len(PHASES))
    assert r.records.output_currents.shape == (t, 2) and r.records.states.shape == (t, 16)
    # a write happens exactly on the mistakes (that had a winner)
    writes = r.records.energy[:, 1] > 0
    assert np.array_equal(writes, ~r.records.correct & (r.records.winner >= 0))
    assert (r.records.energy[:, 0] > 0).all()  # every step reads
    for e in r.eras:
        sl = slice(e.start_step, e.start_step + e.n_steps)
        assert (r.records.era[sl] == e.index).all()
        assert e.n_mistakes == int((~r.records.correct[sl]).sum())
        assert e.energy == pytest.approx(r.records.energy[sl].sum())
        if e.learned:  # the last full pass was clean
            assert r.records.correct[e.start_step + e.n_steps - 2:e.start_step + e.n_steps].all()
    assert r.total_energy == pytest.approx(sum(e.energy for e in r.eras))
    assert r.pruned.any()
    g = r.conductances()
    assert g.shape == (t + 1, 16)
    for e in np.flatnonzero(r.pruned):
        assert (g[r.pruned_at[e] + 1:, e] == 0).all() and (g[: r.pruned_at[e] + 1, e] > 0).all()
    trained = r.trained_network()
    assert (trained.model[r.pruned] == memsim.devices.Model.OPEN).all()
    assert np.array_equal(trained.x0, r.final_state)
    assert "era 1" in r.summary()


def test_a_learned_run_stops_after_its_clean_pass(paper):
    r = train(paper, alternating_task(1), seed=3)
    assert r.learned and r.final_accuracy == 1.0
    assert r.steps_to_learn == r.n_steps == r.eras[0].steps_to_learn
    assert r.records.correct[-2:].all()


def test_abstract_model_learns_and_records():
    r = train_abstract([2, 4, 2], alternating_task(3), seed=1)
    assert r.learned and r.final_accuracy == 1.0 and r.pruned is None
    assert [w.shape for w in r.weights] == [(2, 4), (4, 2)]
    assert all((w >= 0).all() and (w <= 1).all() for w in r.weights)
    assert r.records.energy is None and np.isnan(r.total_energy)
    s = train_abstract([2, 4, 2], alternating_task(3), seed=1)
    assert np.array_equal(r.records.winner, s.records.winner)


def test_train_raises_on_bad_input(paper):
    with pytest.raises(NetworkError):
        train(paper, random_task(3, 2, 2, seed=0), seed=0)
    with pytest.raises(NetworkError):
        train(paper, random_task(2, 3, 2, seed=0), seed=0)
    with pytest.raises(ParameterError):
        train(paper, alternating_task(1), AbstractConfig(), seed=0)
    with pytest.raises(ParameterError):
        train(paper, "alternating", seed=0)
    with pytest.raises(ParameterError):
        train(paper, alternating_task(1), seed=0, max_steps=0)
    with pytest.raises(ParameterError):
        train(paper, alternating_task(1), seed=None)
    with pytest.raises(ParameterError):
        train(paper, alternating_task(1), seed=-3)


def test_train_abstract_raises_on_bad_input():
    with pytest.raises(ParameterError):
        train_abstract([2, 2], alternating_task(1), seed=0)
    with pytest.raises(ParameterError):
        train_abstract([3, 4, 2], alternating_task(1), seed=0)
    with pytest.raises(ParameterError):
        train_abstract([2, 4, 2], alternating_task(1), CircuitConfig(), seed=0)
    with pytest.raises(ParameterError):
        train_abstract([2, 4, 2], "x", seed=0)
    with pytest.raises(ParameterError):
        train_abstract([2, 4, 2], alternating_task(1), seed=0, max_steps=-1)


def test_result_methods_raise_when_there_is_nothing_to_give(paper):
    r = train_abstract([2, 4, 2], alternating_task(1), seed=0)
    with pytest.raises(ParameterError):
        r.trained_network()
    c = train(paper, alternating_task(1), seed=0, max_steps=4)
    with pytest.raises(ParameterError):
        c.conductances()


def test_seed_may_be_a_seed_sequence_or_generator(paper):
    task = alternating_task(1)
    ss = np.random.SeedSequence(4)
    a = train(paper, task, seed=ss, max_steps=6)
    b = train(paper, task, seed=4, max_steps=6)
    again = train(paper, task, seed=ss, max_steps=6)  # spawn() state must not leak in
    assert np.array_equal(a.params, b.params) and np.array_equal(a.params, again.params)
    c = train(paper, task, seed=np.random.default_rng(1), max_steps=6)
    d = train(paper, task, seed=np.random.default_rng(1), max_steps=6)
    assert np.array_equal(c.params, d.params)
