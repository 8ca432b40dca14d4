"""Bound events of the saturating pulse kernel (memsim.solve.pulse) against a converged
reference (adaptive Dormand-Prince at 1e-13 local error) and against its NumPy twin
(memsim.solve.reference.pulse_np): a device reaching R_on (x = 1) or R_off (x = 0) inside a
step, several devices reaching a bound in the same steps, and devices leaving a bound when the
drive reverses."""

import numpy as np
import pytest

import memsim
from memsim.learn import CircuitConfig
from memsim.solve.pulse import EVENT_TOL, pulse
from memsim.solve.reference import pulse_np
from memsim.solve.topology import adjacency, free_index

DURATION = 1e-3
N_SUB = 4  # CircuitConfig's default RK4 steps per pulse
H = DURATION / N_SUB
# The accuracy CircuitConfig documents for its event_tol (EVENT_TOL, 1e-5): a pulse stays
# within 1e-4 of a converged solution in every state (issue 10's bound).
ACCURACY = 1e-4
# Kernel and twin take the same steps and stages; their linear solvers differ by rounding,
# amplified by a few steps: 1e-12.
TWIN = 1e-12

NORMALIZE = (np.array([4.5, 4.5]), np.array([True, True]), np.array([True, True]))  # x -> 1
INHIBIT = (np.array([-4.5, 0.0]), np.array([True, False]), np.array([True, True]))  # x -> 0


@pytest.fixture(scope="module")
def net():
    return memsim.load(memsim.circuit_path("paper_2x4x2"))


def _base(net):
    return np.random.default_rng(0).uniform(0.3, 0.7, net.n_edges)


def _pulse(net, x0, drive, duration, n_sub=N_SUB, tol=-1.0):
    v_in, driven, grounded = drive
    fixed = np.zeros(net.n_nodes, bool)
    value = np.zeros(net.n_nodes)
    fixed[net.inputs[driven]] = True
    value[net.inputs[driven]] = v_in[driven]
    fixed[net.outputs[grounded]] = True
    ptr, nbr, nbr_edge = adjacency(net.n_nodes, net.edges)
    fi = free_index(fixed, np.ones(net.n_edges, bool), ptr, nbr, nbr_edge)
    return pulse(x0, net.edges, net.model, net.params, fi, value, duration, n_sub, tol)[0]


def _reference(net, x0, drive, duration=DURATION):
    return _pulse(net, x0, drive, duration, 1, 1e-13)


def _case(net, name):
    """(initial states, drive, devices that must reach a bound inside the pulse)."""
    x = _base(net)
    if name == "R_on":  # device 0 (input -> hidden) arrives at x = 1 at ~0.8 of the first step
        x[0] = 0.995
        return x, NORMALIZE, [0]
    if name == "R_off":  # device 0 arrives at x = 0 at ~0.55 of the first step
        x[0] = 0.04
        return x, INHIBIT, [0]
    if name == "many":  # input and output devices at staggered distances from x = 1
        hit = [0, 8, 9, 13]
        x[hit] = [0.97, 0.985, 0.99, 0.995]
        x[[1, 5]] = 0.975
        return x, NORMALIZE, hit
    raise ValueError(name)


@pytest.mark.parametrize("name", ["R_on", "R_off", "many"])
def test_devices_reaching_a_bound_inside_a_step(net, name):
    x0, drive, hit = _case(net, name)
    bound = 1.0 if drive is NORMALIZE else 0.0
    ref = _reference(net, x0, drive)
    fast = _pulse(net, x0, drive, DURATION)
    twin = pulse_np(net, x0, *drive, DURATION, N_SUB)[0]
    # the events happen inside the pulse, not at its start: at mid-step no device of `hit` is
    # on its bound yet (nor at the start), at the end every one is, exactly (saturation)
    assert not np.any(_reference(net, x0, drive, H / 2)[hit] == bound)
    assert np.all(ref[hit] == bound) and np.all(fast[hit] == bound)
    if name != "many":  # the single device arrives within the first step
        assert _reference(net, x0, drive, H)[hit[0]] == bound
    np.testing.assert_allclose(fast, ref, rtol=0, atol=ACCURACY)
    np.testing.assert_allclose(twin, fast, rtol=0, atol=TWIN)
    # the event control is what buys the accuracy: the same RK4 steps without it (event_tol
    # = 0, kinks left inside steps) are further from the reference (measured 2.5-13x)
    uncontrolled = pulse_np(net, x0, *drive, DURATION, N_SUB, event_tol=0.0)[0]
    assert np.abs(fast - ref).max() < np.abs(uncontrolled - ref).max()
    assert ((x0 > 0) & (x0 < 1) & (fast > 0) & (fast < 1)).sum() >= 8  # neighbours moved freely


def test_devices_leave_a_bound_when_the_drive_reverses(net):
    # devices 0 and 1 start on x = 1, device 8 on x = 0; the inhibit drive pulls the input
    # devices down (0, 1 leave their bound at once) and pushes device 8 further down (stays)
    x0 = _base(net)
    x0[[0, 1]] = 1.0
    x0[8] = 0.0
    ref = _reference(net, x0, INHIBIT)
    fast = _pulse(net, x0, INHIBIT, DURATION)
    twin = pulse_np(net, x0, *INHIBIT, DURATION, N_SUB)[0]
    assert np.all(ref[[0, 1]] < 0.99) and ref[8] == 0.0 and fast[8] == 0.0
    np.testing.assert_allclose(fast, ref, rtol=0, atol=ACCURACY)
    np.testing.assert_allclose(twin, fast, rtol=0, atol=TWIN)


def test_a_device_driven_onto_a_bound_and_off_it_again(net):
    # normalize (device 0 reaches x = 1 mid-pulse), then inhibit (it leaves again): two pulses,
    # each within ACCURACY of the reference, so the pair within 2 * ACCURACY
    x0, _, _ = _case(net, "R_on")
    ref = _reference(net, x0, NORMALIZE)
    fast = _pulse(net, x0, NORMALIZE, DURATION)
    assert ref[0] == 1.0 and fast[0] == 1.0
    ref2 = _reference(net, ref, INHIBIT)
    fast2 = _pulse(net, fast, INHIBIT, DURATION)
    twin2 = pulse_np(net, fast, *INHIBIT, DURATION, N_SUB)[0]
    assert ref2[0] < 0.99 and fast2[0] < 0.99
    np.testing.assert_allclose(fast2, ref2, rtol=0, atol=2 * ACCURACY)
    np.testing.assert_allclose(twin2, fast2, rtol=0, atol=TWIN)


def test_the_config_default_is_the_kernels_event_tolerance():
    assert CircuitConfig().event_tol == EVENT_TOL


def test_blocks_of_threshold_devices_read_their_parameter_columns_right():
    # An 8-16-8 net under normalization: every hidden node is a block of 16 threshold devices
    # (VECTOR_BLOCK), integrated from the parameter columns; the twin dispatches per device.
    # Device-to-device spread makes every parameter matter: a column read from the wrong
    # parameter moves the states by far more than TWIN. Some devices reach x = 1 on the way.
    from memsim.analyze.study import LayeredFactory
    from memsim.devices.models import Model
    from memsim.solve.pulse import VECTOR_BLOCK

    net = LayeredFactory((8, 16, 8))(np.random.SeedSequence(3))
    assert np.all(net.model == Model.THRESHOLD) and 8 + 8 >= VECTOR_BLOCK
    rng = np.random.default_rng(1)
    params = net.params.copy()  # R_on, R_off, alpha, beta, v_t: each device its own
    params[:, [0, 1, 3, 4]] *= rng.uniform(0.8, 1.25, (net.n_edges, 4))
    params[:, 2] = rng.uniform(0.0, 0.01, net.n_edges) * params[:, 3]
    net = net.replace(params=params)
    x0 = rng.uniform(0.3, 0.99, net.n_edges)
    drive = (np.full(8, 4.5), np.ones(8, bool), np.ones(8, bool))
    fast = _pulse(net, x0, drive, DURATION)
    twin = pulse_np(net, x0, *drive, DURATION, N_SUB)[0]
    assert np.count_nonzero(fast == 1.0) > 0 and np.abs(fast - x0).max() > 0.01
    np.testing.assert_allclose(twin, fast, rtol=0, atol=TWIN)
