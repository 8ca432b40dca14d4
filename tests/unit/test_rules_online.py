"""The online spiking rules' building blocks: network, learner, hybrid layer, faults, data,
optimizers and the bad inputs they refuse."""

import numpy as np
import pytest

from memsim.errors import ParameterError
from memsim.rules.online import (
    ExponentialDecay,
    HybridConfig,
    HybridNet,
    LIFConfig,
    OnlineConfig,
    OnlineLearner,
    RecurrentLIF,
    StuckAtWeights,
    digit_sequences,
    init_weights,
    split_classes,
    stuck_at,
    train_online,
)
from memsim.rules.online.optim import SGD, Adam, make_optimizer
from memsim.rules.online.plasticity import hebbian_step
from memsim.tiles import FloatWeights


def test_network_reads_every_product_through_its_stores():
    w = init_weights(4, 6, 3, seed=0)
    stores = {k: FloatWeights(v) for k, v in w.items()}
    net = RecurrentLIF(**stores)
    xs = np.random.default_rng(0).uniform(0, 2, (5, 7, 4))
    run = net.run(xs)
    assert all(stores[k].stats.reads == 5 * 7 for k in stores)
    # the equations written out once more, by hand, for the first two steps
    cfg = net.config
    u1 = xs[:, 0] @ w["w_in"]
    s1 = (u1 > cfg.threshold) * 1.0
    u2 = cfg.alpha * (u1 - cfg.threshold * s1) + xs[:, 1] @ w["w_in"] + s1 @ w["w_rec"]
    np.testing.assert_allclose(run.u[:, 1], u2, rtol=1e-14)
    np.testing.assert_allclose(run.y[:, 1], cfg.kappa * s1 @ w["w_out"]
                               + ((u2 > 1) * 1.0) @ w["w_out"], rtol=1e-14)


def test_learner_updates_through_the_stores_once_per_batch_or_per_step():
    data = digit_sequences().subset(64, 32)
    for mode, per_batch in (("sequence", 1), ("step", 2)):      # loss on the last 2 steps
        stores = {k: FloatWeights(v) for k, v in init_weights(8, 12, 10, seed=1).items()}
        net = RecurrentLIF(**stores, config=LIFConfig(loss_steps=2))
        before = stores["w_in"].weights()
        learner = OnlineLearner(net, update_every=mode, lr=1e-2)
        learner.train_batch(data.x_train[:32], data.y_train[:32])
        learner.train_batch(data.x_train[32:], data.y_train[32:])
        assert all(s.stats.updates == 2 * per_batch for s in stores.values())
        assert np.abs(stores["w_in"].weights() - before).max() > 1e-3


def test_training_is_deterministic_in_its_seed():
    data = digit_sequences().subset(96, 32)
    cfg = OnlineConfig(n_hidden=10, epochs=1)
    a = train_online(data, cfg, seed=3, progress=False)
    b = train_online(data, cfg, seed=3, progress=False)
    c = train_online(data, cfg, seed=4, progress=False)
    np.testing.assert_array_equal(a.net.w_rec.weights(), b.net.w_rec.weights())
    assert np.abs(a.net.w_rec.weights() - c.net.w_rec.weights()).max() > 0


def test_training_lowers_the_loss():
    data = digit_sequences().subset(300, 100)
    r = train_online(data, OnlineConfig(n_hidden=30, epochs=3), progress=False)
    losses = [h["loss"] for h in r.history]
    assert losses[-1] < 0.8 * losses[0]


def test_hebbian_step_is_the_batch_mean_of_pre_times_post():
    rng = np.random.default_rng(0)
    x, u = rng.uniform(0, 1, (3, 4)), rng.normal(size=(3, 5))
    beta, eta = rng.uniform(size=4), rng.uniform(size=5)
    h = hebbian_step(x, u, beta, eta, 0.4)
    j, i = 2, 3
    expected = np.mean([beta[j] * x[b, j] * np.tanh(u[b, i] / 0.4 - eta[i]) for b in range(3)])
    assert h[j, i] == pytest.approx(expected, rel=1e-14)


def hybrid_problem(seed=0):
    rng = np.random.default_rng(seed)
    n_in, n_h, n_out = 6, 8, 3
    params = {"w": rng.normal(0, 0.5, (n_in, n_h)), "w_out": rng.normal(0, 0.5, (n_h, n_out)),
              "alpha": rng.uniform(0, 0.5, n_h), "beta": rng.uniform(0, 1, n_in),
              "eta": rng.uniform(-0.5, 0.5, n_h)}
    xs = (rng.random((4, 10, n_in)) < 0.6) * 1.0
    return params, xs, rng.integers(0, n_out, 4)


def test_hybrid_numpy_forward_equals_the_jax_model():
    pytest.importorskip("jax")
    from memsim.rules.online.hybrid import hybrid_loss
    from memsim.rules.online.lif import cross_entropy

    params, xs, labels = hybrid_problem()
    cfg = HybridConfig(p_max=0.3)           # small bound: the clipping is exercised
    p0 = np.random.default_rng(9).uniform(-0.2, 0.2, (6, 8))
    net = HybridNet(params["w"], params["w_out"], params["alpha"], params["beta"],
                    params["eta"], p=FloatWeights(p0, w_min=-0.3, w_max=0.3), config=cfg)
    logits, p_end = net.run(xs)
    assert (np.abs(p_end) == 0.3).any() and (np.abs(p_end) < 0.3).any()
    loss, p_jax = hybrid_loss(params, p0, xs, labels, cfg)
    # the same float64 operations in another order: agreement to round-off
    np.testing.assert_allclose(p_end, np.asarray(p_jax), rtol=0, atol=1e-12)
    assert cross_entropy(logits, labels) == pytest.approx(float(loss), abs=1e-12)


def test_hybrid_trace_decays_through_its_decay_object_and_freezes():
    params, xs, _ = hybrid_problem(1)

    class Counting(ExponentialDecay):
        calls = 0

        def apply(self, store):
            type(self).calls += 1
            super().apply(store)

    net = HybridNet(params["w"], params["w_out"], params["alpha"], params["beta"],
                    params["eta"], decay=Counting(0.9))
    net.run(xs)
    assert Counting.calls == xs.shape[1]
    p = net.p.weights()
    net.run(xs, plastic=False)
    np.testing.assert_array_equal(net.p.weights(), p)
    # without the Hebbian term the trace only decays: zero input leaves factor**T * P
    net.run(np.zeros_like(xs))
    np.testing.assert_allclose(net.p.weights(), 0.9 ** xs.shape[1] * p, rtol=1e-12)


def test_stuck_at_faults_hold_their_value_and_pass_the_rest():
    w = np.arange(20.0).reshape(4, 5)
    s = stuck_at(FloatWeights(w), 0.25, seed=1)
    assert s.mask.sum() == 5 and set(s.values[s.mask]) <= {0.0, 19.0}
    x = np.random.default_rng(0).normal(size=(3, 4))
    s.update(np.ones((4, 5)))
    expected = np.where(s.mask, s.values, w + 1)
    np.testing.assert_allclose(s.weights(), expected)
    np.testing.assert_allclose(s.read(x), x @ expected, rtol=1e-13)
    assert s.stats is s.inner.stats


def test_digit_sequences_and_class_groups():
    d = digit_sequences("rows", repeat=2)
    assert d.x_train.shape[1:] == (16, 8) and 0 <= d.x_train.min() and d.x_train.max() <= 1
    np.testing.assert_array_equal(d.x_train[:, 0], d.x_train[:, 1])    # each row twice
    s1, s2 = digit_sequences("spikes", steps=5, seed=1), digit_sequences("spikes", steps=5, seed=1)
    assert set(np.unique(s1.x_train)) == {0.0, 1.0}
    np.testing.assert_array_equal(s1.x_train, s2.x_train)
    tasks = split_classes(d, [[0, 1], [7]])
    assert set(tasks[1].y_test) == {7} and tasks[1].n_classes == 10
    assert len(tasks[0].y_train) == int(np.isin(d.y_train, [0, 1]).sum())


def test_optimizers():
    assert SGD(0.1).step({"w": np.array([1.0])})["w"][0] == pytest.approx(-0.1)
    opt = Adam(0.01)
    for _ in range(3):
        step = opt.step({"w": np.array([4.0, -4.0])})
    np.testing.assert_allclose(step["w"], [-0.01, 0.01], rtol=1e-6)   # constant gradient
    assert isinstance(make_optimizer("sgd", 1.0), SGD)


@pytest.mark.parametrize("call, field", [
    (lambda: LIFConfig(alpha=1.0), "alpha"),
    (lambda: LIFConfig(threshold=0.0), "threshold"),
    (lambda: LIFConfig(surrogate="sigmoid"), "surrogate"),
    (lambda: LIFConfig(gamma=-1.0), "gamma"),
    (lambda: LIFConfig(loss_steps=-1), "loss_steps"),
    (lambda: init_weights(0, 3, 2, seed=0), "n_in"),
    (lambda: RecurrentLIF(np.zeros((2, 3)), np.zeros((2, 2)), np.zeros((3, 1))), "w_rec"),
    (lambda: RecurrentLIF(**init_weights(2, 3, 1, seed=0)).run(np.zeros((1, 4, 3))), "xs"),
    (lambda: OnlineLearner(RecurrentLIF(**init_weights(2, 3, 1, seed=0)), method="bptt"),
     "method"),
    (lambda: OnlineLearner(RecurrentLIF(**init_weights(2, 3, 1, seed=0)), update_every="t"),
     "update_every"),
    (lambda: OnlineLearner(RecurrentLIF(**init_weights(2, 3, 1, seed=0)),
                           feedback=np.zeros((2, 2))), "feedback"),
    (lambda: OnlineConfig(feedback="none"), "feedback"),
    (lambda: OnlineConfig(method="bptt"), "method"),
    (lambda: OnlineConfig(batch=0), "batch"),
    (lambda: SGD(0.0), "lr"),
    (lambda: Adam(-1.0), "lr"),
    (lambda: Adam(betas=(0.9, 1.0)), "betas"),
    (lambda: make_optimizer("rmsprop", 1e-3), "optimizer"),
    (lambda: digit_sequences("pixels"), "encoding"),
    (lambda: digit_sequences(repeat=0), "repeat"),
    (lambda: digit_sequences("spikes", steps=0), "steps"),
    (lambda: digit_sequences(test_fraction=1.0), "test_fraction"),
    (lambda: split_classes(digit_sequences(), [[3, 12]]), "groups"),
    (lambda: HybridConfig(leak=1.5), "leak"),
    (lambda: HybridConfig(p_max=0.0), "threshold"),
    (lambda: HybridConfig(decay=2.0), "decay"),
    (lambda: HybridNet(np.zeros((3, 4)), np.zeros((4, 2)), np.zeros(4), np.zeros(2),
                       np.zeros(4)), "w"),
    (lambda: ExponentialDecay(1.5), "factor"),
    (lambda: stuck_at(FloatWeights(np.zeros((2, 2))), 1.5, seed=0), "fraction"),
    (lambda: StuckAtWeights(FloatWeights(np.zeros((2, 2))), np.zeros((2, 3)),
                            np.zeros((2, 2))), "mask"),
])
def test_bad_input_names_the_field(call, field):
    with pytest.raises(ParameterError) as err:
        call()
    assert err.value.field == field


def test_bad_hybrid_training_settings():
    pytest.importorskip("jax")
    from memsim.rules.online.hybrid import HybridTraining

    with pytest.raises(ParameterError, match="n_hidden"):
        HybridTraining(n_hidden=0)
    with pytest.raises(ParameterError, match="lr_w"):
        HybridTraining(lr_meta=0.0)


def test_training_faults_replace_the_stuck_entries_of_w():
    pytest.importorskip("jax")
    from memsim.rules.online.hybrid import hybrid_loss

    params, xs, labels = hybrid_problem(2)
    cfg = HybridConfig()
    p0 = np.zeros((6, 8))
    mask = np.random.default_rng(0).random((6, 8)) < 0.3
    values = np.where(mask, 2.0, 0.0)
    faulty, _ = hybrid_loss(params, p0, xs, labels, cfg, (mask, values))
    by_hand, _ = hybrid_loss({**params, "w": np.where(mask, values, params["w"])}, p0, xs,
                             labels, cfg)
    clean, _ = hybrid_loss(params, p0, xs, labels, cfg)
    assert float(faulty) == pytest.approx(float(by_hand), abs=1e-14)
    assert abs(float(faulty) - float(clean)) > 1e-3


def test_fault_aware_training_setting_is_checked():
    pytest.importorskip("jax")
    from memsim.rules.online.hybrid import HybridTraining

    with pytest.raises(ParameterError, match="train_faults"):
        HybridTraining(train_faults=1.0)


def test_training_runs_on_the_stores_it_is_given():
    data = digit_sequences().subset(64, 32)
    w = init_weights(8, 10, 10, seed=0)
    stores = {k: FloatWeights(v, w_min=-0.2, w_max=0.2) for k, v in w.items()}
    res = train_online(data, OnlineConfig(n_hidden=10, epochs=1, lr=0.05), stores=stores,
                       progress=False)
    assert res.net.w_rec is stores["w_rec"] and stores["w_rec"].stats.updates == 2
    assert np.abs(stores["w_in"].weights()).max() <= 0.2      # the store's bounds hold
    assert (np.abs(stores["w_in"].weights()) == 0.2).any()


def test_hybrid_training_uses_the_given_stores_and_decay():
    pytest.importorskip("jax")
    from memsim.rules.online.hybrid import HybridTraining, train_hybrid

    data = digit_sequences("spikes").subset(64, 32)
    rng = np.random.default_rng(0)
    stores = {"w": FloatWeights(rng.normal(0, 0.1, (64, 8))),
              "w_out": FloatWeights(rng.normal(0, 0.3, (8, 10))),
              "p": FloatWeights(np.zeros((64, 8)), w_min=-1.0, w_max=1.0)}
    decay = ExponentialDecay(0.5)
    res = train_hybrid(data, HybridTraining(n_hidden=8, epochs=1), stores=stores, decay=decay,
                       progress=False)
    assert res.net.w is stores["w"] and res.net.p is stores["p"] and res.net.decay is decay
    assert stores["w"].stats.updates == 1 and np.abs(stores["p"].weights()).max() > 0
