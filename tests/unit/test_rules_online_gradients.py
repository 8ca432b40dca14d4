"""Online gradients of the recurrent LIF network: RTRL against BPTT (JAX), the block-diagonal
rule against RTRL, and the locality of the block-diagonal update."""

import numpy as np
import pytest

from memsim.rules.online import RecurrentLIF, init_weights, online_gradients
from memsim.rules.online.lif import LIFConfig, surrogate
from memsim.rules.online.traces import (
    BlockTraces,
    RTRLTraces,
    block_gradient,
    block_step,
    rtrl_gradient,
    rtrl_step,
)

pytest.importorskip("jax")
from memsim.rules.online.autodiff import bptt_gradients  # noqa: E402

KEYS = ("w_in", "w_rec", "w_out")


def tiny_problem(cfg, *, rec_scale=1.5, seed=2):
    """5 neurons, 7 steps, 3 sequences; inputs strong enough that about a third of the
    neurons fire per step and many membranes sit inside the surrogate's support."""
    w = init_weights(3, 5, 2, seed=seed, rec_scale=rec_scale, in_scale=2.0)
    xs = np.random.default_rng(1).uniform(0, 1.5, (3, 7, 3))
    labels = np.array([0, 1, 1])
    return w, xs, labels


CONFIGS = [LIFConfig(loss_steps=3), LIFConfig(reset_gradient=True),
           LIFConfig(surrogate="rectangle", loss_steps=2),
           LIFConfig(surrogate="rectangle", reset_gradient=True, alpha=0.5, kappa=0.6)]


@pytest.mark.parametrize("cfg", CONFIGS, ids=["tri", "tri-reset", "rect", "rect-reset"])
def test_rtrl_equals_bptt(cfg):
    w, xs, labels = tiny_problem(cfg)
    net = RecurrentLIF(**w, config=cfg)
    run = net.run(xs)
    assert 0.1 < run.s.mean() < 0.9          # spiking, not silent or saturated
    assert (surrogate(run.u, cfg) > 0).mean() > 0.1
    exact = online_gradients(net, xs, labels, method="rtrl")
    bptt = bptt_gradients(w, xs, labels, cfg)
    # Both are sums of a few hundred float64 products of O(1) terms: round-off is ~1e-15,
    # so 1e-8 leaves seven orders of margin and still catches any missing Jacobian term
    # (the block-diagonal rule, which drops only the off-diagonal ones, misses by > 1e-2).
    for k in KEYS:
        assert np.abs(bptt[k]).max() > 0.05
        np.testing.assert_allclose(exact[k], bptt[k], rtol=0, atol=1e-8)
    assert float(exact["loss"]) == pytest.approx(float(bptt["loss"]), abs=1e-12)
    block = online_gradients(net, xs, labels, method="eprop")
    assert np.abs(block["w_in"] - bptt["w_in"]).max() > 1e-2


@pytest.mark.parametrize("cfg", CONFIGS[:2], ids=["tri", "tri-reset"])
def test_block_diagonal_is_exact_without_recurrence(cfg):
    w, xs, labels = tiny_problem(cfg, rec_scale=0.0)
    net = RecurrentLIF(**w, config=cfg)
    block = online_gradients(net, xs, labels, method="eprop")
    exact = online_gradients(net, xs, labels, method="rtrl")
    bptt = bptt_gradients(w, xs, labels, cfg)
    for k in KEYS:
        assert np.abs(exact[k]).max() > 0.05      # the recurrent weights still get gradients
        # J is diagonal: the truncation drops only zeros, same products in another order
        np.testing.assert_allclose(block[k], exact[k], rtol=0, atol=1e-12)
        np.testing.assert_allclose(block[k], bptt[k], rtol=0, atol=1e-8)


def test_random_feedback_changes_only_the_hidden_learning_signal():
    cfg = LIFConfig()
    w, xs, labels = tiny_problem(cfg)
    net = RecurrentLIF(**w, config=cfg)
    fb = np.random.default_rng(5).normal(size=(5, 2))
    sym = online_gradients(net, xs, labels)
    rnd = online_gradients(net, xs, labels, feedback=fb)
    np.testing.assert_array_equal(sym["w_out"], rnd["w_out"])   # output gradient is exact
    assert np.abs(sym["w_in"] - rnd["w_in"]).max() > 1e-3


def random_sequence(seed, b=2, n_in=4, n_h=6, n_t=6):
    rng = np.random.default_rng(seed)
    return {"x": rng.uniform(0, 1, (n_t, b, n_in)), "s": rng.integers(0, 2, (n_t, b, n_h)) * 1.0,
            "jd": rng.uniform(0.3, 0.9, (n_t, b, n_h)), "psi": rng.uniform(0, 0.3, (n_t, b, n_h)),
            "L": rng.normal(size=(n_t, b, n_h))}


def block_update(seq):
    """Sum over a sequence of the block-diagonal rule's updates, from its per-step inputs."""
    n_t, b, n_in = seq["x"].shape
    n_h = seq["jd"].shape[2]
    tr = BlockTraces.zeros(b, n_in, n_h)
    g_in, g_rec = np.zeros((n_in, n_h)), np.zeros((n_h, n_h))
    for t in range(n_t):
        tr = block_step(tr, seq["x"][t], seq["s"][t], seq["jd"][t], seq["psi"][t], 0.8)
        a, r = block_gradient(tr, seq["L"][t])
        g_in, g_rec = g_in + a, g_rec + r
    return g_in, g_rec


@pytest.mark.parametrize("key", ["jd", "psi", "L"])
def test_block_update_of_a_synapse_ignores_other_postsynaptic_neurons(key):
    seq = random_sequence(0)
    g_in, g_rec = block_update(seq)
    m = 2                                       # perturb neuron m's quantities only
    seq[key][:, :, m] += np.random.default_rng(1).uniform(0.1, 0.2, seq[key][:, :, m].shape)
    h_in, h_rec = block_update(seq)
    others = np.arange(6) != m
    np.testing.assert_array_equal(h_in[:, others], g_in[:, others])
    np.testing.assert_array_equal(h_rec[:, others], g_rec[:, others])
    assert np.abs(h_in[:, m] - g_in[:, m]).min() > 0   # and its own synapses do move


def test_block_update_of_a_synapse_ignores_other_presynaptic_inputs():
    seq = random_sequence(3)
    g_in, _ = block_update(seq)
    seq["x"][:, :, 1] += 0.5
    h_in, _ = block_update(seq)
    rows = np.arange(4) != 1
    np.testing.assert_array_equal(h_in[rows], g_in[rows])
    assert np.abs(h_in[1] - g_in[1]).min() > 0


def test_rtrl_is_not_local():
    """The same perturbation moves RTRL's updates of other neurons' synapses: the locality
    test above can tell the two rules apart."""
    rng = np.random.default_rng(4)
    b, n_in, n_h, n_t = 2, 3, 4, 5
    w_rec = rng.normal(size=(n_h, n_h))
    cfg = LIFConfig()

    def update(psi):
        from memsim.rules.online.traces import jacobian

        tr = RTRLTraces.zeros(b, n_in, n_h)
        g = np.zeros((n_in, n_h))
        for t in range(n_t):
            jac = jacobian(psi[t - 1] if t else np.zeros((b, n_h)), w_rec, cfg)
            tr = rtrl_step(tr, xs[t], np.zeros((b, n_h)), jac, psi[t], 0.8)
            g += rtrl_gradient(tr, sig[t])[0]
        return g

    xs = rng.uniform(0, 1, (n_t, b, n_in))
    sig = rng.normal(size=(n_t, b, n_h))
    psi = rng.uniform(0.05, 0.3, (n_t, b, n_h))
    g = update(psi)
    psi[:, :, 0] += 0.1
    assert np.abs(update(psi)[:, 1:] - g[:, 1:]).max() > 1e-3
