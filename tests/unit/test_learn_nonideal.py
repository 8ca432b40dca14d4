"""Device-level nonidealities in learning: the learner's spread, cycle noise, stuck faults,
levels and read noise are the instances of memsim.devices.nonideal, their statistics in a
training run reproduce their parameters, seeds reproduce the draws, a sweep point's spread is
applied once, the protocol scales to a measured device, bad values are refused."""

import numpy as np
import pytest
from kernel_twin import kernel_and_twin

import memsim
from memsim.devices import Model, preset
from memsim.devices.nonideal import (
    CycleNoise,
    DeviceSpread,
    Nonidealities,
    ReadNoise,
    StuckFaults,
    read_params_into,
)
from memsim.devices.spread import spread_devices
from memsim.errors import ParameterError
from memsim.learn import (
    CircuitConfig,
    alternating_task,
    check_switching,
    device_sample,
    fixed_task,
    protocol_for,
    random_task,
    train,
)
from memsim.sweep.spec import SweepFileError, parse_sweep
from memsim.sweep.work import network_factory

PERSHIN = preset("pershin2011")
MEASURED = preset("measured:lea_1t1r_threshold")


@pytest.fixture(scope="module")
def paper():
    return memsim.load(memsim.circuit_path("paper_2x4x2"))


def _levels_of(g_window, n):
    lo, hi = g_window
    return lo + np.arange(n) * (hi - lo) / (n - 1)


# ------------------------------------------------------------------ one definition
def test_the_default_draw_is_the_device_spread_bit_for_bit(paper):
    """The learner's d2d_spread / x0_spread are a DeviceSpread: the same stream gives the same
    devices exactly (no second implementation that could drift by an ulp)."""
    cfg = CircuitConfig()
    s = device_sample(paper, cfg, np.random.SeedSequence(5))
    p, x = spread_devices(paper.params, paper.x0, np.flatnonzero(paper.memristive),
                          cfg.d2d_spread, cfg.x0_spread,
                          np.random.default_rng(np.random.SeedSequence(5)))
    np.testing.assert_array_equal(s.params, p)
    np.testing.assert_array_equal(s.x0, x)
    np.testing.assert_array_equal(s.model, paper.model)  # no faults by default
    assert cfg.nonidealities.spread == DeviceSpread(0.1, 0.1)
    assert cfg.nonidealities.cycle == CycleNoise(0.8, 0.0)


def test_measured_nonidealities_carry_over_into_the_config():
    n = Nonidealities(spread=DeviceSpread(0.05), cycle=CycleNoise(0.09),
                      stuck=StuckFaults(p_on=0.043), read=ReadNoise(0.01))
    c = CircuitConfig().with_nonidealities(n)
    assert (c.d2d_spread, c.c2c_noise, c.stuck_on, c.read_noise, c.x0_spread) == \
        (0.05, 0.09, 0.043, 0.01, 0.1)
    assert c.nonidealities.stuck == n.stuck and c.nonidealities.read == n.read
    with pytest.raises(ParameterError, match="stuck"):
        CircuitConfig().with_nonidealities(Nonidealities(stuck=StuckFaults(0.1, r_on=50.0)))


# ------------------------------------------------------------------ statistics in learning use
def test_stuck_fraction_of_the_run_reproduces_the_probabilities():
    net = memsim.layered([4, 8, 4], device=PERSHIN)  # 64 memristors
    cfg = CircuitConfig(stuck_on=0.3, stuck_off=0.1)
    codes = np.concatenate([device_sample(net, cfg, ss).stuck
                            for ss in np.random.SeedSequence(1).spawn(150)])
    n = codes.size
    for code, p in ((1, 0.3), (2, 0.1)):
        # binomial: 6 standard deviations of the fraction
        assert abs((codes == code).mean() - p) < 6 * np.sqrt(p * (1 - p) / n)


def test_stuck_devices_are_resistors_that_training_never_moves(paper):
    cfg = CircuitConfig(stuck_on=0.25, stuck_off=0.25)
    r = train(paper, alternating_task(2), cfg, seed=3, max_steps=30, record_states=True)
    s = device_sample(paper, cfg, np.random.SeedSequence(3).spawn(2)[0])
    window = device_sample(paper, CircuitConfig(), np.random.SeedSequence(3).spawn(2)[0]).params
    stuck = s.stuck != 0
    assert stuck.any() and (~stuck & paper.memristive).any()
    assert (r.model[stuck] == Model.RESISTOR).all()
    assert not r.pruned[stuck].any()
    g = r.conductances()
    # a stuck device conducts 1/R_on (ON) or 1/R_off (OFF) of its spread window at every step
    mem = np.flatnonzero(paper.memristive)
    for e in mem[stuck[mem]]:
        col = 0 if s.stuck[e] == 1 else 1
        np.testing.assert_allclose(g[:, e], 1.0 / window[e, col], rtol=1e-12)
    net = r.trained_network()
    assert (net.model[stuck] == Model.RESISTOR).all()


@pytest.mark.parametrize("stochastic", [False, True])
def test_levels_hold_every_state_of_the_run_on_the_levels(paper, stochastic):
    # no pruning: the lowest level is R_off, where pruning would remove every device
    cfg = CircuitConfig(levels=8, levels_stochastic=stochastic, c2c_noise=0.3,
                        prune_state=None)
    r = train(paper, alternating_task(2), cfg, seed=4, max_steps=40, record_states=True)
    g = r.conductances()
    mem = np.flatnonzero(paper.memristive & ~r.pruned)
    seen = set()
    for e in mem:
        levels = _levels_of((1 / r.params[e, 1], 1 / r.params[e, 0]), 8)
        # each conductance is one of the 8 levels (to the rounding of state <-> conductance)
        dist = np.abs(g[:, e, None] - levels[None, :]).min(axis=1)
        assert (dist <= 1e-12 * levels[-1]).all()
        seen |= set(np.abs(g[:, e, None] - levels[None, :]).argmin(axis=1).tolist())
    assert (~r.records.correct).sum() >= 2  # writes happened
    assert len(seen) >= 3


def test_read_noise_of_the_run_reproduces_its_relative_sd():
    """Reads without writes (no output wins, normalization at 0 V): each step's output
    currents are the conductances of the two devices times ``v_read (1 + sigma z)``."""
    net = memsim.layered([1, 2], device=PERSHIN)
    sigma, steps = 0.05, 600
    cfg = CircuitConfig(read_noise=sigma, min_current=1.0, v_normalize=0.0, d2d_spread=0.0,
                        x0_spread=0.0, c2c_noise=0.0, shuffle=False)
    r = train(net, fixed_task([[1.0]], [0], n_outputs=2), cfg, seed=6, max_steps=steps)
    i = r.records.output_currents
    assert i.shape == (steps, 2)
    np.testing.assert_array_equal(r.final_state, r.initial_state)  # reads never write
    g = 1 / (PERSHIN.r_off - PERSHIN.x0 * (PERSHIN.r_off - PERSHIN.r_on))
    rel = i / (cfg.v_read * g)
    # mean 1 within 6 standard errors; sd within 6 of its standard errors (~ s / sqrt(2n))
    assert np.abs(rel.mean(axis=0) - 1).max() < 6 * sigma / np.sqrt(steps)
    assert np.abs(rel.std(axis=0, ddof=1) - sigma).max() < 6 * sigma / np.sqrt(2 * steps)
    # the two devices' noises are independent draws
    assert abs(np.corrcoef(rel.T)[0, 1]) < 6 / np.sqrt(steps)


def test_read_params_make_the_conductance_read_exactly_the_noisy_one():
    rng = np.random.default_rng(0)
    params = np.zeros((5, memsim.devices.N_PARAMS))
    params[:, 0], params[:, 1] = 1e3, 1e4
    x = rng.uniform(0, 1, 5)
    out = params.copy()
    read_params_into(params, x, np.arange(5), 0.1, 1e-6, np.random.default_rng(1), out)
    z = np.random.default_rng(1).standard_normal((2, 5))
    g = 1 / (1e4 - x * 9e3)
    want = g * (1 + 0.1 * z[0]) + 1e-6 * z[1]
    np.testing.assert_allclose(1 / (out[:, 1] - x * (out[:, 1] - out[:, 0])), want, rtol=1e-12)


def test_absolute_cycle_noise_spreads_the_writes(paper):
    """With only absolute cycle noise the same run's states differ from the noiseless run by
    draws of that size."""
    base = CircuitConfig(c2c_noise=0.0, prune_state=None)
    a = train(paper, alternating_task(1), base, seed=2, max_steps=1, record_states=True)
    b = train(paper, alternating_task(1), base.replace(c2c_absolute=0.02), seed=2,
              max_steps=1, record_states=True)
    if a.records.correct[0]:
        pytest.skip("the first read was correct: nothing written")  # seed 2: it is not
    d = (b.records.states[0] - a.records.states[0])[paper.memristive]
    assert 0 < np.abs(d).max() < 6 * 0.02 * np.sqrt(2)


# ------------------------------------------------------------------ kernel and twin, seeds
def test_kernel_agrees_with_its_twin_with_every_nonideality(paper):
    config = CircuitConfig(stuck_on=0.15, stuck_off=0.1, levels=6, levels_stochastic=True,
                           read_noise=0.03, read_noise_absolute=1e-6, c2c_absolute=0.01,
                           prune_state=0.05)
    task = alternating_task(2)
    s = device_sample(paper, config, np.random.SeedSequence(11))
    out, twin = kernel_and_twin(paper, config, task, s.params, s.x0, 10, 9, model=s.model)
    assert (s.stuck != 0).any()
    assert (~out.correct).sum() >= 3
    assert np.array_equal(out.winner, twin["winner"])
    assert np.array_equal(out.era_info, twin["era_info"])
    assert np.array_equal(out.pruned_at, twin["pruned_at"])
    # rounding differences between the solvers, amplified by at most a few pulses (as the
    # noiseless agreement test): 1e-9 in states, 1e-9 relative in currents
    np.testing.assert_allclose(out.states, twin["states"], atol=1e-9)
    np.testing.assert_allclose(out.iout, twin["iout"], rtol=1e-9, atol=1e-15)


def test_same_seed_same_run_other_seed_other_faults(paper):
    cfg = CircuitConfig(stuck_on=0.2, levels=8, levels_stochastic=True, read_noise=0.02)
    a = train(paper, alternating_task(2), cfg, seed=7, max_steps=20, record_states=True)
    b = train(paper, alternating_task(2), cfg, seed=7, max_steps=20, record_states=True)
    np.testing.assert_array_equal(a.records.states, b.records.states)
    np.testing.assert_array_equal(a.records.output_currents, b.records.output_currents)
    np.testing.assert_array_equal(a.model, b.model)
    models = {tuple(device_sample(paper, cfg, ss).stuck)
              for ss in np.random.SeedSequence(8).spawn(6)}
    assert len(models) > 1


def test_faults_do_not_change_the_spread_of_the_same_seed(paper):
    ss = np.random.SeedSequence(12)
    plain = device_sample(paper, CircuitConfig(), ss)
    faulty = device_sample(paper, CircuitConfig(stuck_on=0.3), ss)
    live = faulty.stuck == 0
    np.testing.assert_array_equal(plain.params[live], faulty.params[live])
    np.testing.assert_array_equal(plain.x0[live], faulty.x0[live])


# ------------------------------------------------------------------ sweeps and capacity
SWEEP = """
[sweep]
name = "t"
seed = 1
repetitions = 2
[[grid]]
model = "circuit"
sizes = [2, 4, 2]
P = [2]
spread = 0.2
"""


def test_a_sweep_points_spread_is_applied_exactly_once():
    spec = parse_sweep(SWEEP)
    point = spec.tasks()[0].point
    cfg = CircuitConfig(**point["learning"])
    assert cfg.d2d_spread == 0.0
    net = network_factory(point)(np.random.SeedSequence(3))
    ratio = net.params[net.memristive, 0] / PERSHIN.r_on
    assert np.std(np.log(ratio)) > 0  # the network carries the grid's spread ...
    s = device_sample(net, cfg, np.random.SeedSequence(4))
    np.testing.assert_array_equal(s.params, net.params)  # ... and training adds none


def test_a_sweep_refuses_the_spread_twice():
    with pytest.raises(SweepFileError, match="spread"):
        parse_sweep(SWEEP + "learning = { d2d_spread = 0.1 }\n")


def test_a_sweep_point_trains_with_stuck_devices_and_levels():
    from memsim.sweep.work import run_task

    spec = parse_sweep(SWEEP.replace("spread = 0.2", "learning = { stuck_on = 0.05, levels "
                                     "= 8 }"))
    point = spec.tasks()[0].point
    assert point["learning"]["stuck_on"] == 0.05 and point["learning"]["levels"] == 8
    out = run_task(spec.tasks()[0].payload())
    assert out["trials"] == 2 and 0 <= out["successes"] <= 2


def test_capacity_curve_takes_the_nonidealities():
    from memsim.analyze.capacity import capacity_curve

    net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    cfg = CircuitConfig(stuck_on=0.05, read_noise=0.01, levels=16, max_steps=40)
    res = capacity_curve(net, P_values=[1], repetitions=3, learning=cfg, seed=0)
    assert res.trials.tolist() == [3]


# ------------------------------------------------------------------ the measured device
def test_protocol_scales_to_the_measured_threshold():
    c = protocol_for(MEASURED)
    k = MEASURED.v_t / PERSHIN.v_t
    assert c.v_inhibit == pytest.approx(-4.5 * k) and c.v_read == pytest.approx(0.5 * k)
    # a write moves the device by the same fraction of its window: rate x duration equal
    rate_ref = PERSHIN.beta * (2.25 - PERSHIN.v_t) / (PERSHIN.r_off - PERSHIN.r_on)
    rate_dev = MEASURED.beta * k * (2.25 - PERSHIN.v_t) / (MEASURED.r_off - MEASURED.r_on)
    assert c.t_inhibit * rate_dev == pytest.approx(0.7e-3 * rate_ref, rel=1e-12)
    assert c.v_read < MEASURED.v_t  # a read across one device stays below threshold


def test_a_network_of_the_measured_device_learns_with_its_protocol():
    net = memsim.layered([2, 4, 2], device=MEASURED.replace(x0=0.5))
    r = train(net, alternating_task(1), protocol_for(MEASURED), seed=1, max_steps=60,
              record_states=True)
    assert (r.records.states != r.initial_state).any()  # writes moved the devices
    assert r.eras[0].n_steps >= 1


def test_a_protocol_that_cannot_switch_the_devices_is_refused():
    net = memsim.layered([2, 4, 2], device=PERSHIN)
    weak = protocol_for(MEASURED)  # -0.87 V: below the 1 V threshold of every device
    with pytest.raises(ParameterError, match="v_inhibit.*cannot switch.*threshold 1 V"):
        train(net, alternating_task(1), weak, seed=0)
    with pytest.raises(ParameterError, match="v_normalize"):
        check_switching(net, CircuitConfig(v_normalize=0.5))
    check_switching(net, CircuitConfig(v_normalize=0.0))  # normalization off: not checked
    with pytest.raises(ParameterError, match="Threshold device"):
        protocol_for(preset("measured:lea_1t1r_vteam"))


def test_the_remembered_switching_check_still_refuses_other_voltages_on_the_same_network():
    # check_switching remembers the voltages a network was found to switch at; a weak
    # protocol asked after a strong one on the same network is still refused, every time
    net = memsim.layered([2, 4, 2], device=PERSHIN)
    check_switching(net, CircuitConfig())
    check_switching(net, CircuitConfig())
    for _ in range(2):
        with pytest.raises(ParameterError, match="v_inhibit"):
            check_switching(net, CircuitConfig(v_inhibit=-0.9))
        with pytest.raises(ParameterError, match="v_normalize"):
            check_switching(net, CircuitConfig(v_normalize=0.5))
    check_switching(net, CircuitConfig(v_normalize=0.0))
    with pytest.raises(ParameterError, match="v_inhibit"):  # the same on a fresh network
        check_switching(memsim.layered([2, 4, 2], device=PERSHIN), CircuitConfig(v_inhibit=-0.9))


# ------------------------------------------------------------------ bad values
@pytest.mark.parametrize("kwargs, field", [
    ({"stuck_on": 1.5}, "stuck_on"),
    ({"stuck_on": -0.1}, "stuck_on"),
    ({"stuck_on": 0.6, "stuck_off": 0.6}, "stuck_off"),
    ({"levels": 1}, "levels"),
    ({"levels": -3}, "levels"),
    ({"levels": 2.5}, "levels"),
    ({"levels_stochastic": "yes"}, "levels_stochastic"),
    ({"read_noise": -0.01}, "read_noise"),
    ({"read_noise_absolute": float("nan")}, "read_noise_absolute"),
    ({"c2c_absolute": -1.0}, "c2c_absolute"),
    ({"c2c_noise": float("inf")}, "c2c_noise"),
])
def test_bad_nonideality_fields_name_themselves(kwargs, field):
    with pytest.raises(ParameterError) as err:
        CircuitConfig(**kwargs)
    assert err.value.field == field and str(err.value).startswith(f"{field}: ")


def test_random_task_on_a_faulty_4_8_4_net_runs():
    net = memsim.layered([4, 8, 4], device=PERSHIN)
    r = train(net, random_task(4, 4, 3, seed=1), CircuitConfig(stuck_on=0.043, max_steps=30),
              seed=1)
    assert int((r.model == Model.RESISTOR).sum()) >= 1


def test_the_measured_nonidealities_train_a_network_of_the_measured_device():
    """From the real data to a run: the map's stuck fraction, the distributions' spread, the
    retention series' read noise and levels arrive in the learner unchanged."""
    import memsim.measure as mm
    from memsim.measure.statistics import measured_nonidealities

    lea = mm.dataset("adamlab_lea_1t1r_rram")
    n = measured_nonidealities(lea.conductance_map(), lea.levels(), lea.retention())
    cfg = protocol_for(MEASURED).with_nonidealities(n)
    assert (cfg.stuck_on, cfg.levels) == (n.stuck.p_on, 4)
    assert cfg.d2d_spread == n.spread.r_sigma and cfg.read_noise == n.read.relative
    net = memsim.layered([4, 8, 4], device=MEASURED.replace(x0=0.5))
    r = train(net, random_task(4, 4, 2, seed=0), cfg.replace(levels=0), seed=0, max_steps=20)
    assert r.n_steps >= 1
