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
from memsim.learn import kernels as K


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


def test_reads_during_training_leave_threshold_devices_bit_identical(paper):
    # Only mistakes write; a correct step is a read alone, below the 1 V threshold, so the
    # states after it must equal those before it in every bit (kernel-level check with 1,000
    # reads in test_learn_kernels.py; this one goes through train()).
    r = train(paper, alternating_task(3), seed=2, record_states=True)
    before = np.vstack([r.initial_state[None, :], r.records.states[:-1]])
    clean = r.records.correct
    assert clean.sum() >= 10 and (~clean).sum() >= 5  # both kinds of step happened
    assert np.array_equal(r.records.states[clean], before[clean])
    assert (np.abs(r.records.states[~clean] - before[~clean]).max(axis=1) > 0).all()


def test_reads_move_drift_devices_by_a_short_read_pulse():
    # A drift (HP) device has no threshold: a read is a real pulse of t_read at v_read. Its
    # state change after a correct step (no write follows) must be that of a transient
    # simulation of the same drive, and scale with t_read.
    dev = memsim.devices.preset("strukov2008")
    net = memsim.layered([2, 4, 2], device=dev)
    config = CircuitConfig(t_read=1e-3)
    answer, x0 = _first_winner(net, config, 0, [1, 0])
    task = Task([[1, 0]], [answer], n_outputs=2)  # the network's own answer: a correct read
    r = train(net, task, config, seed=0, max_steps=1, record_states=True)
    assert r.records.correct[0] and r.learned
    dx = r.records.states[0] - x0
    params = device_draw(net, config, np.random.SeedSequence(0).spawn(2)[0])[0]
    ref = memsim.simulate(net.with_params(params), {"in0": config.v_read}, config.t_read,
                          state=x0, method="rk45", rtol=1e-10, atol=1e-14)
    want = ref.x[-1] - x0
    assert np.abs(want).max() > 1e-5  # the read does move these devices
    # RK4 with 4 steps on a nearly linear 1 ms pulse vs rk45 at rtol 1e-10: the difference is
    # far below 1e-6 of the change
    np.testing.assert_allclose(dx, want, rtol=0, atol=1e-6 * np.abs(want).max())
    short = train(net, task, config.replace(t_read=1e-4), seed=0, max_steps=1,
                  record_states=True)
    ratio = np.abs(short.records.states[0] - x0).max() / np.abs(dx).max()
    assert ratio == pytest.approx(0.1, rel=1e-3)  # 10x shorter read, 10x smaller change


def _extremal_one_step(selective):
    """A 2-2-2 weight net, hand-worked: input 0 drives hidden 0 (0.9 > 0.2), hidden 0 fires
    output 1 (0.8 > 0.3). Era 1 wants output 1 (right: the path is tagged), era 2 wants
    output 0 (wrong: the tagged path is depressed). One step per era."""
    w0 = np.array([0.9, 0.2, 0.1, 0.6, 0.3, 0.8, 0.7, 0.4])  # layer 0 row-major, then layer 1
    out = K.train_extremal(w0, np.array([0, 4]), np.array([2, 2, 2]), np.array([[1.0, 0.0]]),
                           np.array([[1], [0]]), 0.1, selective, False, 1,
                           np.random.default_rng(0))
    return out


def test_extremal_model_depresses_only_the_active_path_by_hand():
    # No success before: the active synapses (in0 -> h0, h0 -> out1) lose delta = 0.1.
    w0 = np.array([0.9, 0.2, 0.1, 0.6, 0.3, 0.8, 0.7, 0.4])
    out = K.train_extremal(w0, np.array([0, 4]), np.array([2, 2, 2]), np.array([[1.0, 0.0]]),
                           np.array([[0]]), 0.1, 0.01, False, 1, np.random.default_rng(0))
    winner, correct, w = out[1], out[2], out[5]
    assert winner.tolist() == [1] and correct.tolist() == [False]
    expect = w0.copy()
    expect[[0, 5]] -= 0.1
    np.testing.assert_array_equal(w, expect)
    # After a success the same path is tagged: a later mistake costs it delta * selective.
    for selective in (0.01, 0.5, 1.0):
        _, winner, correct, _, era_info, w, tags, _ = _extremal_one_step(selective)
        assert winner.tolist() == [1, 1] and correct.tolist() == [True, False]
        assert era_info[:, 0].tolist() == [1, 0]
        assert np.flatnonzero(tags).tolist() == [0, 5]
        expect = w0.copy()
        expect[[0, 5]] -= 0.1 * selective
        np.testing.assert_allclose(w, expect, rtol=0, atol=1e-15)


def test_selective_punishment_slows_the_switch_and_speeds_recall():
    # Bak & Chialvo's selective punishment: synapses that once led to success are depressed
    # much less, so the swapped mapping B takes far longer to learn and A is recalled with
    # fewer mistakes. Measured over seeds 0-29: median era-2 steps 239 vs 8, mean era-3
    # mistakes 2.3 vs 5.5 (selective 0.01 vs 1); the assertions leave a wide margin.
    task = alternating_task(3)
    runs = {s: [train_abstract([2, 4, 2], task, AbstractConfig(selective=s), seed=k)
                for k in range(30)] for s in (0.01, 1.0)}
    assert all(r.learned for rs in runs.values() for r in rs)
    switch = {s: np.median([r.eras[1].n_steps for r in rs]) for s, rs in runs.items()}
    recall = {s: np.mean([r.eras[2].n_mistakes for r in rs]) for s, rs in runs.items()}
    assert switch[0.01] > 10 * switch[1.0]
    assert recall[0.01] < recall[1.0]


def test_abstract_seeds_draw_different_weights_and_are_checked():
    task = alternating_task(1)
    a, b = (train_abstract([2, 4, 2], task, seed=s) for s in (0, 1))
    assert not np.array_equal(a.weights[0], b.weights[0])
    with pytest.raises(ParameterError):
        train_abstract([2, 4, 2], task, seed=None)
    with pytest.raises(ParameterError):
        train_abstract([2, 4, 2], task, seed="0")
