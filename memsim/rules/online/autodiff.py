"""Backpropagation through time and meta-gradients from JAX (the optional ``autodiff`` extra).

The online rules of this package are explicit NumPy; the gradients they are measured against
(BPTT of the recurrent LIF network) and the meta-gradients of the hybrid model's plasticity
coefficients come from JAX's reverse-mode autodiff, never from a hand-written backward pass.
The forward functions here are the same equations as :class:`~memsim.rules.online.lif
.RecurrentLIF` and :mod:`memsim.rules.online.hybrid`; the spike nonlinearity carries the same
surrogate derivative through ``jax.custom_jvp``.

JAX computes in float32 unless 64-bit mode is on; :func:`require_jax` switches it on (a
process-wide JAX setting), because the test that RTRL equals BPTT needs float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from memsim.errors import MemsimError
from memsim.rules.datasets import SequenceData
from memsim.rules.online.eprop import TRAIN_PROBE, OnlineConfig, OnlineResult, accuracy
from memsim.rules.online.lif import LIFConfig, RecurrentLIF, init_weights
from memsim.rules.online.optim import make_optimizer

__all__ = ["AutodiffUnavailable", "bptt_gradients", "lif_loss", "require_jax", "spike_fn",
           "train_bptt"]


class AutodiffUnavailable(MemsimError, ImportError):
    """JAX is not installed; the message names the extra that installs it."""


def require_jax() -> Any:
    """The ``jax`` module with 64-bit floats enabled.

    Raises
    ------
    AutodiffUnavailable
        If JAX is not installed (``pip install 'memsim[autodiff]'``).
    """
    try:
        import jax
    except ImportError:  # pragma: no cover - the dev extra installs jax
        raise AutodiffUnavailable("BPTT and meta-gradients need JAX: pip install "
                                  "'memsim[autodiff]'") from None
    jax.config.update("jax_enable_x64", True)
    return jax


_SPIKES: dict[tuple[str, float, float, float], Any] = {}


def spike_fn(cfg: LIFConfig) -> Any:
    """``H(u - theta)`` as a JAX function whose derivative is the surrogate of ``cfg``.

    >>> import numpy as np
    >>> jax = require_jax()
    >>> f = spike_fn(LIFConfig())
    >>> float(f(1.2)), round(float(jax.grad(f)(1.2)), 6)
    (1.0, 0.24)
    """
    key = (cfg.surrogate, cfg.threshold, cfg.gamma, cfg.width)
    if key in _SPIKES:
        return _SPIKES[key]
    jax = require_jax()
    jnp = jax.numpy
    theta, gamma, width, tri = cfg.threshold, cfg.gamma, cfg.width, cfg.surrogate == "triangle"

    @jax.custom_jvp
    def spike(u):
        return jnp.where(u > theta, 1.0, 0.0)

    @spike.defjvp
    def _spike_jvp(primals, tangents):
        (u,), (du,) = primals, tangents
        d = jnp.abs(u - theta)
        psi = gamma * (jnp.maximum(0.0, 1.0 - d / theta) if tri else (d < width))
        return spike(u), psi * du

    _SPIKES[key] = spike
    return spike


def lif_loss(params: dict[str, Any], xs: Any, labels: Any, cfg: LIFConfig) -> Any:
    """The recurrent LIF network's loss in JAX: same equations and loss as ``RecurrentLIF``.

    ``params`` holds ``w_in``, ``w_rec``, ``w_out``; ``xs`` is (B, T, n_in).
    """
    jax = require_jax()
    jnp = jax.numpy
    spike = spike_fn(cfg)
    b, n_t, _ = xs.shape
    n_h, n_out = params["w_out"].shape
    first = 0 if cfg.loss_steps == 0 else max(0, n_t - cfg.loss_steps)
    onehot = jax.nn.one_hot(labels, n_out, dtype=xs.dtype)

    def step(carry, inp):
        u, s, y = carry
        x, t = inp
        reset = s if cfg.reset_gradient else jax.lax.stop_gradient(s)
        u = cfg.alpha * (u - cfg.threshold * reset) + x @ params["w_in"] + s @ params["w_rec"]
        s = spike(u)
        y = cfg.kappa * y + s @ params["w_out"]
        ce = -(onehot * jax.nn.log_softmax(y)).sum(axis=1).mean()
        return (u, s, y), jnp.where(t >= first, ce, 0.0)

    zeros = jnp.zeros((b, n_h), dtype=xs.dtype)
    init = (zeros, zeros, jnp.zeros((b, n_out), dtype=xs.dtype))
    _, ces = jax.lax.scan(step, init, (jnp.swapaxes(xs, 0, 1), jnp.arange(n_t)))
    return ces.sum()


def bptt_gradients(weights: dict[str, np.ndarray], xs: np.ndarray, labels: np.ndarray,
                   cfg: LIFConfig | None = None) -> dict[str, np.ndarray]:
    """BPTT gradients of the recurrent LIF network's loss, from JAX, in float64.

    Parameters
    ----------
    weights : dict of arrays
        ``w_in`` (n_in, n_h), ``w_rec`` (n_h, n_h), ``w_out`` (n_h, n_out).
    xs : array (B, T, n_in)
        Input sequences.
    labels : array of int (B,)
        Classes.
    cfg : LIFConfig
        Neuron constants.

    Returns
    -------
    dict with the three gradients and ``"loss"``

    Examples
    --------
    >>> from memsim.rules.online.lif import init_weights
    >>> w = init_weights(3, 4, 2, seed=0)
    >>> g = bptt_gradients(w, np.ones((2, 5, 3)), np.array([0, 1]))
    >>> g["w_in"].shape, g["loss"].dtype
    ((3, 4), dtype('float64'))
    """
    jax = require_jax()
    cfg = cfg or LIFConfig()
    params = {k: jax.numpy.asarray(weights[k], dtype=jax.numpy.float64)
              for k in ("w_in", "w_rec", "w_out")}
    loss, grads = jax.value_and_grad(lif_loss)(params, jax.numpy.asarray(xs, dtype=float),
                                                jax.numpy.asarray(labels), cfg)
    out = {k: np.asarray(v) for k, v in grads.items()}
    out["loss"] = np.asarray(loss)
    return out


_LIF_GRAD: dict[LIFConfig, Any] = {}


def train_bptt(data: SequenceData, config: OnlineConfig | None = None, *, seed: int = 0,
               progress: bool = True) -> OnlineResult:
    """Train the recurrent LIF network by BPTT (JAX): the offline baseline of e-prop.

    Same network, initial weights, batch order and optimizer as
    :func:`~memsim.rules.online.eprop.train_online` with the same ``config`` (its ``method``
    and ``feedback`` are ignored) and ``seed``; only the gradient differs. Float weights.

    >>> from memsim.rules.datasets import digit_sequences
    >>> from memsim.rules.online.eprop import OnlineConfig
    >>> r = train_bptt(digit_sequences().subset(64, 32), OnlineConfig(n_hidden=8, epochs=1),
    ...                progress=False)
    >>> len(r.history)
    1
    """
    from tqdm.auto import tqdm

    jax = require_jax()
    cfg = config or OnlineConfig()
    s_init, _, s_order = np.random.SeedSequence(seed).spawn(3)
    w = init_weights(data.n_in, cfg.n_hidden, data.n_classes, s_init, rec_scale=cfg.rec_scale,
                     in_scale=cfg.in_scale)
    if cfg.lif not in _LIF_GRAD:
        _LIF_GRAD[cfg.lif] = jax.jit(jax.value_and_grad(lif_loss), static_argnums=3)
    grad = _LIF_GRAD[cfg.lif]
    opt = make_optimizer(cfg.optimizer, cfg.lr)
    rng = np.random.default_rng(s_order)
    history = []
    for epoch in tqdm(range(cfg.epochs), desc="bptt epochs", disable=not progress):
        order = rng.permutation(len(data.x_train))
        losses = []
        for i in range(0, len(order), cfg.batch):
            idx = order[i:i + cfg.batch]
            loss, g = grad(w, data.x_train[idx], data.y_train[idx], cfg.lif)
            steps = opt.step({k: np.asarray(v) for k, v in g.items()})
            w = {k: w[k] + steps[k] for k in w}
            losses.append(float(loss))
        net = RecurrentLIF(**w, config=cfg.lif)
        history.append({"epoch": float(epoch + 1), "loss": float(np.mean(losses)),
                        "train_accuracy": accuracy(net, data.x_train[:TRAIN_PROBE],
                                                   data.y_train[:TRAIN_PROBE]),
                        "test_accuracy": accuracy(net, data.x_test, data.y_test)})
    last = history[-1]
    return OnlineResult(RecurrentLIF(**w, config=cfg.lif), last["test_accuracy"],
                        last["train_accuracy"], history)
