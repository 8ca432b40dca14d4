"""The calibrated protocol: its voltages put the stated drive on the active-path devices.

The check is a DC solve independent of memsim's solver: a dense nodal (Laplacian) solve
written here, with the protocol's terminal configurations set up here too. Both are direct
solves of well-conditioned systems (conductances within a factor 10 to 30 of each other), so
they agree to round-off; 1e-9 relative leaves three orders of magnitude for it.
"""

import numpy as np
import pytest

import memsim
from memsim.circuit.motifs import bipartite_layered, lateral_layered, skip_layered
from memsim.devices import VTEAM, preset
from memsim.errors import NetworkError, ParameterError
from memsim.learn import CircuitConfig
from memsim.learn.calibrate import calibrate, calibrated_config, phase_drive, read_peak

DEVICE = preset("pershin2011")
REL = 1e-9


def conductances(net, state):
    r_on, r_off = net.params[:, 0], net.params[:, 1]
    r = np.where(net.memristive, r_off - state * (r_off - r_on), r_on)
    return np.where(net.model == memsim.devices.Model.OPEN, 0.0, 1.0 / r)


def oracle(net, fixed, state):
    """Edge voltages and currents with the nodes in ``fixed`` (node -> volts) held; every
    other node free (a floating part gets the least-norm solution: 0 V, no current)."""
    g = conductances(net, state)
    n = net.n_nodes
    lap = np.zeros((n, n))
    for (a, b), ge in zip(net.edges, g, strict=True):
        lap[a, a] += ge
        lap[b, b] += ge
        lap[a, b] -= ge
        lap[b, a] -= ge
    ground = np.flatnonzero(net.roles == memsim.Role.GROUND)
    fixed = {**{int(k): 0.0 for k in ground}, **fixed}
    d = np.array(sorted(fixed))
    f = np.array([k for k in range(n) if k not in fixed])
    v = np.zeros(n)
    v[d] = [fixed[k] for k in d]
    if f.size:
        v[f] = np.linalg.lstsq(lap[np.ix_(f, f)], -lap[np.ix_(f, d)] @ v[d], rcond=None)[0]
    ve = v[net.edges[:, 0]] - v[net.edges[:, 1]]
    return ve, g * ve


def inhibit_configs(net, volts, inactive="float"):
    """The protocol's inhibition: input k at ``volts``, only output o grounded."""
    for k, node in enumerate(net.inputs):
        for out in net.outputs:
            fixed = {int(node): volts, int(out): 0.0}
            if inactive == "ground":
                fixed.update({int(i): 0.0 for j, i in enumerate(net.inputs) if j != k})
            yield fixed


def normalize_configs(net, volts):
    yield {**{int(i): volts for i in net.inputs}, **{int(o): 0.0 for o in net.outputs}}


def oracle_drive(net, configs, state, thresholds):
    """Current-weighted mean of |v| - v_t over the memristors, pooled over configurations."""
    mem = net.memristive
    num = den = 0.0
    for fixed in configs:
        ve, ie = oracle(net, fixed, state)
        w = np.abs(ie[mem])
        num += w @ (np.abs(ve[mem]) - thresholds(ve[mem]))
        den += w.sum()
    return num / den


def vt(ve):
    return np.full(ve.shape, DEVICE.v_t)


NETS = {
    "paper_2x4x2": lambda: memsim.load(memsim.circuit_path("paper_2x4x2")),
    "deep 3-6-6-3": lambda: memsim.layered([3, 6, 6, 3], device=DEVICE),
    "pruned 4-8-4": lambda: memsim.layered([4, 8, 4], device=DEVICE, connectivity=0.7, seed=2),
    "skip 4-8-4": lambda: skip_layered([4, 8, 4], device=DEVICE, skip=0.5, seed=3),
    "lateral 3-6-3": lambda: lateral_layered([3, 6, 3], device=DEVICE, lateral=0.4, seed=4),
    "bipartite 4-8-4": lambda: bipartite_layered([4, 8, 4], device=DEVICE, degree=3, seed=5),
    "random 12": lambda: memsim.random_network(12, edge_prob=0.4, n_inputs=3, n_outputs=3,
                                               device=DEVICE, seed=6),
}


def draw_state(net, seed):
    """A spread network in a random state: no symmetry left to make the check easy."""
    spread = net.with_spread(0.3, seed=seed)
    return spread, np.random.default_rng(seed).uniform(0, 1, net.n_edges)


@pytest.mark.parametrize("name", NETS)
@pytest.mark.parametrize("inactive", ["float", "ground"])
def test_calibrated_voltages_put_the_stated_drive_on_the_active_paths(name, inactive):
    net, state = draw_state(NETS[name](), seed=len(name))
    base = CircuitConfig(inactive_inputs=inactive)
    cal = calibrate(net, drive_over_threshold=0.8, normalize_over_threshold=1.7,
                    read_margin=0.3, state=state, base=base)
    c = cal.config
    assert c.v_inhibit < 0 < c.v_normalize
    got_inh = oracle_drive(net, inhibit_configs(net, c.v_inhibit, inactive), state, vt)
    got_norm = oracle_drive(net, normalize_configs(net, c.v_normalize), state, vt)
    assert got_inh == pytest.approx(0.8, rel=REL)
    assert got_norm == pytest.approx(1.7, rel=REL)
    assert (cal.inhibit_drive, cal.normalize_drive) == (0.8, 1.7)
    # memsim's own measure agrees with the oracle
    assert phase_drive(net, "inhibit", c.v_inhibit, state=state,
                       inactive_inputs=inactive) == pytest.approx(0.8, rel=REL)
    # every other field is the base protocol's
    assert c.replace(v_read=base.v_read, v_inhibit=base.v_inhibit,
                     v_normalize=base.v_normalize) == base


def test_symmetric_net_every_active_device_sees_exactly_the_drive():
    """Identical devices in a uniform state: by symmetry each device of a two-device path
    sees half the bias, so the closed form is V = -2 (v_t + drive) and *every* device that
    carries current sees the drive, not only their mean."""
    net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    drive = 0.6
    c = calibrated_config(net, drive_over_threshold=drive)
    assert c.v_inhibit == pytest.approx(-2 * (DEVICE.v_t + drive), rel=REL)
    assert c.v_normalize == pytest.approx(2 * (DEVICE.v_t + drive), rel=REL)
    for fixed in inhibit_configs(net, c.v_inhibit):
        ve, ie = oracle(net, fixed, net.x0)
        active = np.abs(ie) > 1e-12 * np.abs(ie).max()
        assert active.sum() == 8  # 4 input-layer + 4 output-layer devices of the path
        np.testing.assert_allclose(np.abs(ve[active]) - DEVICE.v_t, drive, rtol=REL)


def test_layered_nets_divide_the_bias_by_the_path_length():
    """Every layer of a layered net carries the whole current, so the current-weighted mean
    device voltage is V / (depth + 1) whatever the widths."""
    for depth in (1, 2, 3):
        net = memsim.layered([3] + [5] * depth + [2], device=DEVICE)
        c = calibrated_config(net, drive_over_threshold=1.0)
        assert c.v_inhibit == pytest.approx(-(depth + 1) * 2.0, rel=REL)
        assert c.v_normalize == pytest.approx((depth + 1) * 2.0, rel=REL)


def test_default_protocol_is_the_calibration_of_paper_2x4x2():
    net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    c, d = calibrated_config(net), CircuitConfig()
    assert (c.v_read, c.v_inhibit, c.v_normalize) == pytest.approx(
        (d.v_read, d.v_inhibit, d.v_normalize), rel=REL)


@pytest.mark.parametrize("name", ["skip 4-8-4", "random 12", "deep 3-6-6-3"])
def test_reads_stay_below_threshold_with_the_margin_in_any_state(name):
    net = NETS[name]()
    cal = calibrate(net, read_margin=0.25)
    assert cal.config.v_read == pytest.approx(0.75 * DEVICE.v_t)
    limit = (1 - 0.25) * DEVICE.v_t
    rng = np.random.default_rng(0)
    for _ in range(20):
        state = rng.uniform(0, 1, net.n_edges) ** 4  # many devices near R_off
        peak = 0.0
        for node in net.inputs:
            fixed = {int(node): cal.config.v_read, **{int(o): 0.0 for o in net.outputs}}
            ve, _ = oracle(net, fixed, state)
            peak = max(peak, np.abs(ve[net.memristive]).max())
        assert peak <= limit * (1 + 1e-12)
        assert read_peak(net, cal.config.v_read, state=state) == pytest.approx(peak, rel=REL)
    assert 0 < cal.read_peak <= limit * (1 + 1e-12)


def test_vteam_thresholds_follow_the_sign_of_the_device_voltage():
    dev = VTEAM(v_on=-0.4, v_off=0.7)
    net = memsim.layered([2, 3, 2], device=dev)

    def vteam_vt(ve):
        return np.where(ve < 0, 0.4, 0.7)

    cal = calibrate(net, drive_over_threshold=0.5)
    c = cal.config
    assert oracle_drive(net, inhibit_configs(net, c.v_inhibit), net.x0,
                        vteam_vt) == pytest.approx(0.5, rel=REL)
    assert oracle_drive(net, normalize_configs(net, c.v_normalize), net.x0,
                        vteam_vt) == pytest.approx(0.5, rel=REL)
    assert c.v_inhibit == pytest.approx(-2 * 0.9) and c.v_normalize == pytest.approx(2 * 1.2)
    assert cal.threshold == 0.4 and c.v_read == pytest.approx(0.2)


def test_bad_inputs_raise_named_errors():
    net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    with pytest.raises(ParameterError, match="drive_over_threshold"):
        calibrate(net, drive_over_threshold=0.0)
    with pytest.raises(ParameterError, match="normalize_over_threshold"):
        calibrate(net, normalize_over_threshold=-1.0)
    with pytest.raises(ParameterError, match="read_margin"):
        calibrate(net, read_margin=1.0)
    with pytest.raises(ParameterError, match="base"):
        calibrate(net, base="default")
    with pytest.raises(ParameterError, match="no voltage threshold"):
        calibrate(memsim.layered([2, 2, 2], device=preset("biolek2009")))
    cut = memsim.layered([2, 2, 2], device=DEVICE)
    cut = cut.pruned(np.array([n.startswith("in") for n in cut.edge_names]))
    with pytest.raises(NetworkError, match="carries current"):
        calibrate(cut)
    with pytest.raises(NetworkError, match="no memristors"):
        calibrate(memsim.layered([2, 2], device=memsim.devices.Resistor(1e3)))
    with pytest.raises(ParameterError, match="phase"):
        phase_drive(net, "read", 0.5)
    with pytest.raises(ParameterError, match="voltage"):
        phase_drive(net, "inhibit", 0.0)
