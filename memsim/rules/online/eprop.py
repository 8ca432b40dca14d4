"""Online learning of the recurrent LIF network: e-prop (block-diagonal RTRL) or exact RTRL.

The learner runs a batch of sequences forward once. At every step it advances the traces of
:mod:`memsim.rules.online.traces`, forms the learning signal of each hidden neuron from the
readout error (through ``W_out`` itself, ``feedback="symmetric"``, or a fixed random matrix,
``feedback="random"``) and accumulates the gradient; no history is stored and nothing runs
backwards in time. The accumulated gradient goes through a per-synapse optimizer and reaches
the weight stores as ``update(dw)`` once per batch (``update_every="sequence"``) or at every
step (``"step"``, fully online).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from memsim.errors import ParameterError
from memsim.rules.datasets import SequenceData
from memsim.rules.online.lif import (
    LIFConfig,
    RecurrentLIF,
    check_sequences,
    cross_entropy,
    init_weights,
    readout_error,
    surrogate,
)
from memsim.rules.online.optim import make_optimizer
from memsim.rules.online.traces import advance, contribution, new_traces
from memsim.tiles import WeightStore

__all__ = ["OnlineConfig", "OnlineLearner", "OnlineResult", "accuracy", "online_gradients",
           "train_online"]

log = logging.getLogger(__name__)

METHODS = ("eprop", "rtrl")
TRAIN_PROBE = 512
"""Training sequences the per-epoch training accuracy is measured on: a fixed sample, so
that the monitor costs a third of a full pass (it matters on crossbar tiles)."""
FEEDBACK = ("symmetric", "random")


def online_gradients(net: RecurrentLIF, xs: np.ndarray, labels: np.ndarray, *,
                     method: str = "eprop",
                     feedback: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The loss gradient of a batch of sequences, computed forward in time.

    Parameters
    ----------
    net : RecurrentLIF
        The network (its weights are only read).
    xs : array (B, T, n_in)
        Input sequences.
    labels : array of int (B,)
        Classes.
    method : str
        ``"rtrl"`` (exact) or ``"eprop"`` (block-diagonal).
    feedback : array (n_h, n_out), optional
        Matrix that carries the readout error to the hidden neurons; default ``W_out``
        (exact at the output).

    Returns
    -------
    dict with ``"w_in"``, ``"w_rec"``, ``"w_out"`` gradients and the loss under ``"loss"``
    (a 0-d array)

    Examples
    --------
    >>> from memsim.rules.online.lif import init_weights
    >>> net = RecurrentLIF(**init_weights(3, 4, 2, seed=0))
    >>> xs = np.random.default_rng(1).uniform(0, 2, (2, 5, 3))
    >>> g = online_gradients(net, xs, np.array([0, 1]), method="rtrl")
    >>> g["w_rec"].shape
    (4, 4)
    """
    learner = OnlineLearner(net, method=method, feedback=feedback)
    return learner.gradients(xs, labels)


class OnlineLearner:
    """Trains a :class:`RecurrentLIF` online through its weight stores.

    Parameters
    ----------
    net : RecurrentLIF
        The network; its stores receive the updates.
    method : str
        ``"eprop"`` (block-diagonal traces, O(n^2) per step) or ``"rtrl"`` (exact, O(n^4)).
    feedback : array (n_h, n_out), optional
        Fixed random feedback matrix; None uses the current ``W_out`` (symmetric feedback).
    optimizer : str
        ``"adam"`` or ``"sgd"``.
    lr : float
        Step size of the optimizer.
    update_every : str
        ``"sequence"``: one update per batch, after its last step; ``"step"``: after every
        step whose readout enters the loss.

    Raises
    ------
    ParameterError
        For an unknown method or update mode, or a feedback matrix of the wrong shape.
    """

    def __init__(self, net: RecurrentLIF, *, method: str = "eprop",
                 feedback: np.ndarray | None = None, optimizer: str = "adam", lr: float = 1e-3,
                 update_every: str = "sequence"):
        if method not in METHODS:
            raise ParameterError("method", f"one of {', '.join(METHODS)}, got {method!r}")
        if update_every not in ("sequence", "step"):
            raise ParameterError("update_every", f"'sequence' or 'step', got {update_every!r}")
        _, n_h, n_out = net.sizes
        if feedback is not None:
            feedback = np.asarray(feedback, dtype=float)
            if feedback.shape != (n_h, n_out):
                raise ParameterError("feedback", f"need shape {(n_h, n_out)}, got "
                                     f"{feedback.shape}")
        self.net, self.method, self.feedback = net, method, feedback
        self.optimizer = make_optimizer(optimizer, lr)
        self.update_every = update_every

    def gradients(self, xs: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients of one batch without changing the weights (see :func:`online_gradients`)."""
        return self._run(xs, labels, apply=False)

    def train_batch(self, xs: np.ndarray, labels: np.ndarray) -> float:
        """Run one batch, updating the stores; returns the batch's loss."""
        return float(self._run(xs, labels, apply=True)["loss"])

    def _run(self, xs: np.ndarray, labels: np.ndarray, *, apply: bool) -> dict[str, np.ndarray]:
        net, cfg = self.net, self.net.config
        n_in, n_h, n_out = net.sizes
        xs = check_sequences(xs, n_in)
        labels = np.asarray(labels, dtype=np.int64)
        b, n_t = xs.shape[:2]
        first_loss = 0 if cfg.loss_steps == 0 else max(0, n_t - cfg.loss_steps)
        w_rec, w_out = net.w_rec.weights(), net.w_out.weights()
        state = net.initial_state(b)
        tr = new_traces(self.method, b, n_in, n_h)
        psi_prev = np.zeros((b, n_h))
        f_out = np.zeros((b, n_h))        # readout-filtered spikes: W_out's eligibility
        grads = {"w_in": np.zeros((n_in, n_h)), "w_rec": np.zeros((n_h, n_h)),
                 "w_out": np.zeros((n_h, n_out))}
        loss = 0.0
        for t in range(n_t):
            s_prev = state.s
            state = net.step(xs[:, t], state)
            psi = surrogate(state.u, cfg)
            tr = advance(tr, xs[:, t], s_prev, psi_prev, psi, w_rec, cfg)
            f_out = cfg.kappa * f_out + state.s
            psi_prev = psi
            if t < first_loss:
                continue
            err = readout_error(state.y, labels)                       # dE_t/dy_t (B, n_out)
            loss += cross_entropy(state.y, labels)
            signal = err @ (w_out if self.feedback is None else self.feedback).T
            g_in, g_rec = contribution(tr, signal)
            grads["w_in"] += g_in
            grads["w_rec"] += g_rec
            grads["w_out"] += f_out.T @ err
            if apply and self.update_every == "step":
                w_rec, w_out = self._apply(grads)
                grads = {k: np.zeros_like(g) for k, g in grads.items()}
        if apply and self.update_every == "sequence":
            self._apply(grads)
        return {**grads, "loss": np.asarray(loss)}

    def _apply(self, grads: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Send the optimizer's steps to the stores; returns the new W_rec and W_out."""
        net = self.net
        steps = self.optimizer.step(grads)
        for key, store in (("w_in", net.w_in), ("w_rec", net.w_rec), ("w_out", net.w_out)):
            store.update(steps[key])
        return net.w_rec.weights(), net.w_out.weights()


@dataclass(frozen=True)
class OnlineConfig:
    """Settings of :func:`train_online` (network size, rule and optimizer).

    Attributes
    ----------
    n_hidden : int
        Hidden LIF neurons; 100 is e-prop's smallest recurrent network.
    method : str
        ``"eprop"`` or ``"rtrl"`` (exact; affordable only for a few tens of neurons).
    feedback : str
        ``"random"`` (fixed random matrix: no weight transport) or ``"symmetric"`` (W_out).
    epochs : int
        Passes over the training set; 20 reaches the plateau of the digits.
    batch : int
        Sequences per update; 32 keeps the updates smooth without many tile writes.
    lr : float
        Adam step size; 3e-3 learns the digits in a few epochs.
    optimizer : str
        ``"adam"`` or ``"sgd"``.
    update_every : str
        ``"sequence"`` or ``"step"`` (see :class:`OnlineLearner`).
    rec_scale : float
        Multiplier of the initial recurrent weights (0: start feed-forward).
    in_scale : float
        Multiplier of the initial input weights; 3 makes a quarter of the hidden neurons fire
        per step on the digits' rows (at 1 only a tenth do, and learning is slower).
    lif : LIFConfig
        Neuron constants; the default puts the loss on the last two steps (the whole digit has
        been seen by then).
    """

    n_hidden: int = 100
    method: str = "eprop"
    feedback: str = "random"
    epochs: int = 20
    batch: int = 32
    lr: float = 3e-3
    optimizer: str = "adam"
    update_every: str = "sequence"
    rec_scale: float = 0.5
    in_scale: float = 3.0
    lif: LIFConfig = field(default_factory=lambda: LIFConfig(loss_steps=2))

    def __post_init__(self) -> None:
        if self.feedback not in FEEDBACK:
            raise ParameterError("feedback", f"one of {', '.join(FEEDBACK)}, got "
                                 f"{self.feedback!r}")
        if self.method not in METHODS:
            raise ParameterError("method", f"one of {', '.join(METHODS)}, got {self.method!r}")
        for name in ("n_hidden", "epochs", "batch"):
            if int(getattr(self, name)) < 1:
                raise ParameterError(name, f"must be >= 1, got {getattr(self, name)}")


@dataclass
class OnlineResult:
    """What :func:`train_online` returns.

    Attributes
    ----------
    net : RecurrentLIF, the trained network (its stores hold the learned weights)
    test_accuracy : float, after the last epoch
    train_accuracy : float, after the last epoch, on the first ``TRAIN_PROBE`` (512) training
        sequences
    history : list of dict, one per epoch: ``epoch``, ``loss``, ``train_accuracy``,
        ``test_accuracy``, ``seconds`` (wall time of the epoch with its evaluation)
    """

    net: RecurrentLIF
    test_accuracy: float
    train_accuracy: float
    history: list[dict[str, float]]


def accuracy(net: RecurrentLIF, xs: np.ndarray, labels: np.ndarray, batch: int = 256) -> float:
    """Share of sequences whose predicted class is the label."""
    hits = sum(int((net.predict(xs[i:i + batch]) == labels[i:i + batch]).sum())
               for i in range(0, len(xs), batch))
    return hits / max(1, len(xs))


def train_online(data: SequenceData, config: OnlineConfig | None = None, *, seed: int = 0,
                 stores: dict[str, WeightStore] | None = None,
                 progress: bool = True) -> OnlineResult:
    """Train a recurrent LIF network on sequences with e-prop or RTRL.

    Parameters
    ----------
    data : SequenceData
        Training and test sequences (e.g. :func:`~memsim.rules.datasets.digit_sequences`).
    config : OnlineConfig
        Network and rule settings.
    seed : int
        Seed of the initial weights, the feedback matrix and the batch order.
    stores : dict of WeightStore, optional
        ``"w_in"``, ``"w_rec"``, ``"w_out"`` stores to train in place (e.g. crossbar tiles,
        already holding initial weights); default: float weights drawn from ``seed``.
    progress : bool
        Show a progress bar over epochs.

    Examples
    --------
    >>> from memsim.rules.datasets import digit_sequences
    >>> d = digit_sequences().subset(200, 100)
    >>> r = train_online(d, OnlineConfig(n_hidden=20, epochs=1), progress=False)
    >>> 0.0 <= r.test_accuracy <= 1.0
    True
    """
    from tqdm.auto import tqdm

    cfg = config or OnlineConfig()
    ss = np.random.SeedSequence(seed)
    s_init, s_fb, s_order = ss.spawn(3)
    n_in, n_out = data.n_in, data.n_classes
    w: dict[str, WeightStore] | dict[str, np.ndarray] = stores or init_weights(
        n_in, cfg.n_hidden, n_out, s_init, rec_scale=cfg.rec_scale, in_scale=cfg.in_scale)
    net = RecurrentLIF(w["w_in"], w["w_rec"], w["w_out"], cfg.lif)
    n_h = net.sizes[1]
    feedback = None
    if cfg.feedback == "random":
        feedback = np.random.default_rng(s_fb).normal(0, 1 / np.sqrt(n_h), (n_h, n_out))
    learner = OnlineLearner(net, method=cfg.method, feedback=feedback, optimizer=cfg.optimizer,
                            lr=cfg.lr, update_every=cfg.update_every)
    rng = np.random.default_rng(s_order)
    history: list[dict[str, float]] = []
    bar = tqdm(range(cfg.epochs), desc=f"{cfg.method} epochs", disable=not progress)
    for epoch in bar:
        t0 = time.perf_counter()
        order = rng.permutation(len(data.x_train))
        losses = []
        for i in range(0, len(order), cfg.batch):
            idx = order[i:i + cfg.batch]
            losses.append(learner.train_batch(data.x_train[idx], data.y_train[idx]))
        row = {"epoch": float(epoch + 1), "loss": float(np.mean(losses)),
               "train_accuracy": accuracy(net, data.x_train[:TRAIN_PROBE],
                                          data.y_train[:TRAIN_PROBE]),
               "test_accuracy": accuracy(net, data.x_test, data.y_test),
               "seconds": time.perf_counter() - t0}
        history.append(row)
        bar.set_postfix(loss=f"{row['loss']:.3f}", test=f"{row['test_accuracy']:.3f}")
        log.info("epoch %d: loss %.4f, train %.3f, test %.3f", epoch + 1, row["loss"],
                 row["train_accuracy"], row["test_accuracy"])
    last = history[-1]
    return OnlineResult(net, last["test_accuracy"], last["train_accuracy"], history)
