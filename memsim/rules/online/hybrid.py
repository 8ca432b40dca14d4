"""Training the hybrid global-local model, and its fault-tolerance and continual-learning tasks.

``W`` and ``W_out`` follow the gradient of the classification loss (BPTT through the
presentation, from JAX), and so do the plasticity coefficients ``alpha``, ``beta``, ``eta``
(the meta-gradient: through the local trace's own dynamics), with the paper's two Adam step
sizes (1e-3 for the weights, 5e-4 for the coefficients). The trace ``P`` carries over from
batch to batch, as in the authors' code; between batches it is a constant of the loss.

Weight updates reach the stores as ``update(dw)``; the gradient is taken at the weights the
stores report (``weights()``), so a crossbar tile trains with what its programming pulses
actually wrote. After training, :func:`fault_tolerance` sticks a share of ``W`` at its extreme
values and lets only the local trace adapt (``W``, ``W_out`` and the coefficients frozen);
:func:`continual` trains on groups of classes one after another.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from memsim.errors import ParameterError
from memsim.rules.datasets import SequenceData
from memsim.rules.online.autodiff import require_jax, spike_fn
from memsim.rules.online.eprop import TRAIN_PROBE
from memsim.rules.online.lif import LIFConfig
from memsim.rules.online.optim import Adam
from memsim.rules.online.plasticity import (
    Decay,
    ExponentialDecay,
    HybridConfig,
    HybridNet,
    RetentionDecay,
    stuck_at,
)
from memsim.tiles import FloatWeights, WeightStore

__all__ = ["HybridResult", "HybridTraining", "continual", "fault_tolerance", "hybrid_loss",
           "train_hybrid"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HybridTraining:
    """Settings of :func:`train_hybrid`.

    Attributes
    ----------
    n_hidden : int
        Hidden neurons; 200 is enough for the 8x8 digits.
    epochs : int
        Passes over the training set.
    batch : int
        Sequences per update (the trace's increment is averaged over them).
    lr_w : float
        Adam step of ``W`` and ``W_out`` (the paper's 1e-3).
    lr_meta : float
        Adam step of ``alpha``, ``beta``, ``eta`` (the paper's 5e-4).
    plastic : bool
        False trains the global-only baseline: ``alpha`` = 0, no local trace.
    train_faults : float
        Share of ``W`` stuck at its extreme values during training, drawn anew for every
        batch (the project's fault-aware variant: the coefficients then meet faults while they
        are meta-learned); 0, the default, is the paper's training.
    alpha0, beta0, eta0 : float
        Upper ends of the uniform initial coefficients (the project's choice: small, so that
        the trace starts as a perturbation of ``W``).
    layer : HybridConfig
        Neuron and trace constants.
    """

    n_hidden: int = 200
    epochs: int = 15
    batch: int = 64
    lr_w: float = 1e-3
    lr_meta: float = 5e-4
    plastic: bool = True
    train_faults: float = 0.0
    alpha0: float = 0.05
    beta0: float = 0.05
    eta0: float = 0.1
    layer: HybridConfig = field(default_factory=HybridConfig)

    def __post_init__(self) -> None:
        for name in ("n_hidden", "epochs", "batch"):
            if int(getattr(self, name)) < 1:
                raise ParameterError(name, f"must be >= 1, got {getattr(self, name)}")
        if not (self.lr_w > 0 and self.lr_meta > 0):
            raise ParameterError("lr_w", "learning rates must be positive")
        if not 0.0 <= self.train_faults < 1.0:
            raise ParameterError("train_faults", f"must lie in [0, 1), got {self.train_faults}")


@dataclass
class HybridResult:
    """What :func:`train_hybrid` returns.

    Attributes
    ----------
    net : HybridNet, the trained model on its stores, its trace at the end of training
    config : HybridTraining, the settings
    test_accuracy : float, of ``net`` with the trace plastic, after the last epoch
    history : list of dict, per epoch: ``epoch``, ``loss``, ``train_accuracy`` (first 512
        training sequences), ``test_accuracy``, ``seconds``
    """

    net: HybridNet
    config: HybridTraining
    test_accuracy: float
    history: list[dict[str, float]]


def hybrid_loss(params: dict[str, Any], p0: Any, xs: Any, labels: Any, cfg: HybridConfig,
                faults: tuple[Any, Any] | None = None) -> tuple[Any, Any]:
    """Cross-entropy of the hybrid model on one batch, in JAX; returns ``(loss, P_end)``.

    The same equations as :meth:`HybridNet.run` (module :mod:`~memsim.rules.online
    .plasticity`); ``params`` holds ``w``, ``w_out``, ``alpha``, ``beta``, ``eta``.
    ``faults = (mask, values)`` replaces the masked entries of ``w`` by stuck values.
    """
    jax = require_jax()
    jnp = jax.numpy
    if faults is not None:
        params = {**params, "w": jnp.where(faults[0], faults[1], params["w"])}
    spike = spike_fn(LIFConfig(threshold=cfg.threshold, surrogate="rectangle", gamma=1.0,
                               width=cfg.width))
    b, n_t, _ = xs.shape
    n_h, n_out = params["w_out"].shape

    def step(carry, x):
        u, s, p, out = carry
        u = (cfg.leak * (u - cfg.threshold * s) + x @ params["w"]
             + params["alpha"] * (x @ p))
        s = spike(u)
        out = out + s @ params["w_out"]
        post = jnp.tanh(u / cfg.threshold - params["eta"])
        hebb = (params["beta"][:, None] * x.T) @ post / b
        p = jnp.clip(cfg.decay * p + hebb, -cfg.p_max, cfg.p_max)
        return (u, s, p, out), None

    zeros = jnp.zeros((b, n_h))
    (_, _, p_end, out), _ = jax.lax.scan(step, (zeros, zeros, p0, jnp.zeros((b, n_out))),
                                         jnp.swapaxes(xs, 0, 1))
    logp = jax.nn.log_softmax(out / n_t)
    loss = -logp[jnp.arange(b), labels].mean()
    return loss, p_end


_STEP: dict[HybridConfig, Any] = {}


def _value_and_grad(cfg: HybridConfig) -> Any:
    """The jitted loss-and-gradient of :func:`hybrid_loss` for one layer configuration."""
    if cfg not in _STEP:
        jax = require_jax()
        _STEP[cfg] = jax.jit(jax.value_and_grad(hybrid_loss, has_aux=True), static_argnums=4)
    return _STEP[cfg]


def train_hybrid(data: SequenceData, config: HybridTraining | None = None, *, seed: int = 0,
                 stores: dict[str, WeightStore] | None = None, decay: Decay | None = None,
                 progress: bool = True, start: HybridResult | None = None) -> HybridResult:
    """Train the hybrid model (or, with ``plastic=False``, the global-only baseline).

    Parameters
    ----------
    data : SequenceData
        Training and test sequences (spike-encoded digits:
        ``digit_sequences("spikes")``).
    config : HybridTraining
        Settings.
    seed : int
        Seed of the initial weights and coefficients and of the batch order.
    stores : dict, optional
        ``"w"`` (n_in, n_h) and ``"w_out"`` (n_h, n_out) weight stores to train in place, and
        optionally ``"p"`` for the trace; default float weights.
    decay : Decay, optional
        Forgetting of the trace's store when the trained model runs (default: exponential
        with ``config.layer.decay``). Training itself follows the trace in float, with the
        exponential: for a volatile tile set ``layer.decay`` to its per-step retention, so
        that the coefficients are meta-learned for the forgetting they will meet.
    progress : bool
        Show a progress bar over epochs.
    start : HybridResult, optional
        Continue training this model (its stores, coefficients and trace) instead of a new
        one: the tasks of :func:`continual`.

    Examples
    --------
    >>> from memsim.rules.datasets import digit_sequences
    >>> d = digit_sequences("spikes").subset(256, 128)
    >>> r = train_hybrid(d, HybridTraining(n_hidden=32, epochs=1), progress=False)
    >>> r.net.alpha.shape, 0.0 <= r.test_accuracy <= 1.0
    ((32,), True)
    """
    from tqdm.auto import tqdm

    cfg = config or HybridTraining()
    lay = cfg.layer
    s_init, s_order, s_faults = np.random.SeedSequence(seed).spawn(3)
    if start is not None:
        net = start.net
    else:
        net = _new_net(data, cfg, s_init, stores or {}, decay)
    grad_fn = _value_and_grad(lay)
    opt_w, opt_m = Adam(cfg.lr_w), Adam(cfg.lr_meta)
    rng, rng_faults = np.random.default_rng(s_order), np.random.default_rng(s_faults)
    p_state = net.p.weights()
    history: list[dict[str, float]] = []
    bar = tqdm(range(cfg.epochs), desc="hybrid epochs" if cfg.plastic else "global epochs",
               disable=not progress)
    for epoch in bar:
        t0 = time.perf_counter()
        order = rng.permutation(len(data.x_train))
        # Full batches only (a new order every epoch uses every sequence): one batch shape,
        # so JAX compiles the step once, and every trace increment averages the same count.
        size = min(cfg.batch, len(order))
        losses = []
        for i in range(0, len(order) - size + 1, size):
            idx = order[i:i + size]
            params = {"w": net.w.weights(), "w_out": net.w_out.weights(), "alpha": net.alpha,
                      "beta": net.beta, "eta": net.eta}
            faults = None
            if cfg.train_faults > 0:
                w = params["w"]
                faults = (rng_faults.random(w.shape) < cfg.train_faults,
                          np.where(rng_faults.random(w.shape) < 0.5, w.min(), w.max()))
            (loss, p_end), grads = grad_fn(params, p_state, data.x_train[idx],
                                           data.y_train[idx], lay, faults)
            grads = {k: np.asarray(v) for k, v in grads.items()}
            steps = opt_w.step({"w": grads["w"], "w_out": grads["w_out"]})
            net.w.update(steps["w"])
            net.w_out.update(steps["w_out"])
            if cfg.plastic:
                meta = opt_m.step({k: grads[k] for k in ("alpha", "beta", "eta")})
                net.alpha, net.beta, net.eta = (net.alpha + meta["alpha"],
                                                net.beta + meta["beta"], net.eta + meta["eta"])
                p_state = np.asarray(p_end)
            losses.append(float(loss))
        _write(net.p, p_state)
        acc = _accuracy(net, data)
        probe = data.x_train[:TRAIN_PROBE], data.y_train[:TRAIN_PROBE]
        train_acc = float((net.predict(probe[0]) == probe[1]).mean())
        _write(net.p, p_state)             # evaluation moved the trace; training resumes here
        history.append({"epoch": float(epoch + 1), "loss": float(np.mean(losses)),
                        "train_accuracy": train_acc, "test_accuracy": acc,
                        "seconds": time.perf_counter() - t0})
        bar.set_postfix(loss=f"{np.mean(losses):.3f}", test=f"{acc:.3f}")
        log.info("epoch %d: loss %.4f, test %.3f", epoch + 1, np.mean(losses), acc)
    return HybridResult(net, cfg, history[-1]["test_accuracy"], history)


def _new_net(data: SequenceData, cfg: HybridTraining, seed: np.random.SeedSequence,
             stores: dict[str, WeightStore], decay: Decay | None) -> HybridNet:
    n_in, n_h, n_out = data.n_in, cfg.n_hidden, data.n_classes
    rng = np.random.default_rng(seed)
    w0 = rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_h))          # drawn either way: the
    w_out0 = rng.normal(0, 1 / np.sqrt(n_h), (n_h, n_out))      # coefficients' draws follow
    w = stores["w"] if "w" in stores else FloatWeights(w0)
    w_out = stores["w_out"] if "w_out" in stores else FloatWeights(w_out0)
    if cfg.plastic:
        alpha = rng.uniform(0, cfg.alpha0, n_h)
        beta = rng.uniform(0, cfg.beta0, n_in)
        eta = rng.uniform(0, cfg.eta0, n_h)
    else:
        alpha, beta, eta = np.zeros(n_h), np.zeros(n_in), np.zeros(n_h)
    return HybridNet(w, w_out, alpha, beta, eta, p=stores.get("p"), decay=decay,
                     config=cfg.layer)


def _write(store: WeightStore, target: np.ndarray) -> None:
    """Bring ``store`` to ``target`` through its own update (what it can realize of it)."""
    store.update(np.asarray(target) - store.weights())


def _accuracy(net: HybridNet, data: SequenceData, *, plastic: bool = True) -> float:
    return float((net.predict(data.x_test, plastic=plastic) == data.y_test).mean())


def fault_tolerance(result: HybridResult, data: SequenceData, *, fraction: float = 0.1,
                    seed: int = 0, adapt_passes: int = 1) -> dict[str, float]:
    """Stick ``fraction`` of ``W`` and let only the local trace adapt.

    Conditions, each from the trained trace ``P`` (a fresh float copy, so ``result`` is left
    as it is): ``clean`` (no faults, trace plastic: the trained model's normal operation),
    ``clean_frozen`` (no faults, trace frozen), ``faulty_frozen`` (faults, trace frozen: no
    local plasticity), ``faulty_plastic`` (faults; the trace first adapts on ``adapt_passes``
    passes over the training inputs, without labels, then stays plastic on the test set).
    ``recovered`` is ``(faulty_plastic - faulty_frozen) / (clean - faulty_frozen)``, the share
    of the lost accuracy that local plasticity alone wins back.

    Examples
    --------
    >>> from memsim.rules.datasets import digit_sequences
    >>> d = digit_sequences("spikes").subset(256, 128)
    >>> r = train_hybrid(d, HybridTraining(n_hidden=32, epochs=1), progress=False)
    >>> sorted(fault_tolerance(r, d))[:2]
    ['clean', 'clean_frozen']
    """
    net = result.net
    p_trained = net.p.weights()
    lay = net.config

    # The copies' trace is float: a volatile tile's forgetting becomes the exponential it
    # implies (``lay.decay``, which training assumed too).
    decay = ExponentialDecay(lay.decay) if isinstance(net.decay, RetentionDecay) else net.decay

    def copy(w_store: WeightStore) -> HybridNet:
        p = FloatWeights(p_trained, w_min=-lay.p_max, w_max=lay.p_max)
        return HybridNet(w_store, net.w_out, net.alpha, net.beta, net.eta, p=p,
                         decay=decay, config=lay)

    faulty = stuck_at(net.w, fraction, seed)
    out = {"clean": _accuracy(copy(net.w), data),
           "clean_frozen": _accuracy(copy(net.w), data, plastic=False),
           "faulty_frozen": _accuracy(copy(faulty), data, plastic=False)}
    adapted = copy(faulty)
    for _ in range(adapt_passes):
        adapted.predict(data.x_train)
    out["faulty_plastic"] = _accuracy(adapted, data)
    lost = out["clean"] - out["faulty_frozen"]
    out["recovered"] = (out["faulty_plastic"] - out["faulty_frozen"]) / lost if lost > 0 \
        else float("nan")
    return out


def continual(data: SequenceData, groups: list[list[int]], config: HybridTraining | None = None,
              *, seed: int = 0, progress: bool = False) -> np.ndarray:
    """Train on groups of classes in sequence; accuracy after each task on every task.

    Returns
    -------
    array (n_tasks, n_tasks)
        ``acc[k, m]``: test accuracy on the classes of task ``m`` after training task ``k``
        (one readout over all classes: class-incremental learning).

    Examples
    --------
    >>> from memsim.rules.datasets import digit_sequences
    >>> d = digit_sequences("spikes").subset(400, 200)
    >>> acc = continual(d, [[0, 1], [2, 3]], HybridTraining(n_hidden=32, epochs=1))
    >>> acc.shape
    (2, 2)
    """
    from memsim.rules.online.data import split_classes

    tasks = split_classes(data, groups)
    acc = np.zeros((len(tasks), len(tasks)))
    result: HybridResult | None = None
    for k, task in enumerate(tasks):
        result = train_hybrid(task, config, seed=seed, start=result, progress=progress)
        for m, other in enumerate(tasks):
            acc[k, m] = _accuracy(result.net, other)
    return acc
