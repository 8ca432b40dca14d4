"""Per-synapse optimizers that turn gradients into the updates sent to weight stores.

Both are local: a synapse's step depends only on its own gradient history, so they fit next
to each device (a tile receives the step as programming pulses through ``update``).
"""

from __future__ import annotations

import numpy as np

from memsim.errors import ParameterError

__all__ = ["Adam", "SGD", "make_optimizer"]


class SGD:
    """Plain gradient descent: ``dw = -lr * g``.

    >>> SGD(0.5).step({"w": np.array([2.0])})["w"].tolist()
    [-1.0]
    """

    def __init__(self, lr: float):
        if not lr > 0:
            raise ParameterError("lr", f"learning rate must be positive, got {lr}")
        self.lr = float(lr)

    def step(self, grads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The updates ``dw`` for gradients ``grads`` (same keys and shapes)."""
        return {k: -self.lr * g for k, g in grads.items()}


class Adam:
    """Adam (Kingma & Ba 2015) with per-key moment estimates.

    Parameters
    ----------
    lr : float
        Step size; 1e-3 is the usual default for spiking networks trained by surrogate
        gradients and the hybrid paper's choice for ``W``.
    betas : tuple of float
        Decay of the first and second moment estimates (Adam's defaults).
    eps : float
        Floor of the denominator, so that synapses that never see a gradient do not divide by 0.

    Examples
    --------
    >>> opt = Adam(0.1)
    >>> opt.step({"w": np.array([5.0, -0.01])})["w"].round(6).tolist()   # first step: -lr sign
    [-0.1, 0.1]
    """

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        if not lr > 0:
            raise ParameterError("lr", f"learning rate must be positive, got {lr}")
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ParameterError("betas", f"need two decays in [0, 1), got {betas}")
        self.lr, self.betas, self.eps = float(lr), betas, float(eps)
        self.t = 0
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}

    def step(self, grads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The updates ``dw`` for gradients ``grads`` (same keys and shapes)."""
        self.t += 1
        b1, b2 = self.betas
        out = {}
        for k, g in grads.items():
            m = self.m.get(k, np.zeros_like(g))
            v = self.v.get(k, np.zeros_like(g))
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            self.m[k], self.v[k] = m, v
            m_hat = m / (1 - b1 ** self.t)
            v_hat = v / (1 - b2 ** self.t)
            out[k] = -self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        return out


def make_optimizer(name: str, lr: float) -> SGD | Adam:
    """``"adam"`` or ``"sgd"`` with step size ``lr``.

    Raises
    ------
    ParameterError
        If ``name`` is neither.
    """
    if name == "adam":
        return Adam(lr)
    if name == "sgd":
        return SGD(lr)
    raise ParameterError("optimizer", f"'adam' or 'sgd', got {name!r}")
