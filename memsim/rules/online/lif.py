"""A recurrent network of leaky integrate-and-fire neurons whose synapses are weight stores.

Discrete time, one step per input frame (the form of the hybrid-plasticity paper's code, with
the readout of e-prop)::

    u_t = alpha (u_{t-1} - theta s_{t-1}) + x_t W_in + s_{t-1} W_rec     (membranes, n_h)
    s_t = H(u_t - theta)                                                   (spikes, n_h)
    y_t = kappa y_{t-1} + s_t W_out                                        (leaky readout, n_out)

``H`` is the Heaviside step; learning uses a surrogate derivative ``psi(u)`` in its place
(:func:`surrogate`). The reset ``- theta s_{t-1}`` subtracts the threshold, so a neuron keeps
the charge above it. ``W_in`` (n_in, n_h), ``W_rec`` (n_h, n_h) and ``W_out`` (n_h, n_out) are
:class:`~memsim.tiles.WeightStore` objects: every product above is a ``read`` of the store, so a
crossbar tile computes it with its own non-idealities. The loss is the cross-entropy of
``softmax(y_t)`` against the label, summed over the last ``loss_steps`` steps and averaged over
the batch (:func:`readout_error` gives its derivative with respect to ``y_t``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from memsim.errors import ParameterError
from memsim.tiles import FloatWeights, WeightStore

__all__ = [
    "LIFConfig",
    "LIFState",
    "RecurrentLIF",
    "as_store",
    "check_sequences",
    "cross_entropy",
    "init_weights",
    "loss_window",
    "readout_error",
    "softmax",
    "surrogate",
]


@dataclass(frozen=True)
class LIFConfig:
    """Neuron, readout and surrogate constants of :class:`RecurrentLIF`.

    Attributes
    ----------
    alpha : float
        Membrane decay per step, ``exp(-dt / tau_m)``; 0.8 keeps about five frames in memory,
        enough for the eight rows of a digit.
    kappa : float
        Readout decay per step; 0.8 for the same reason.
    threshold : float
        Firing threshold ``theta``; 1.0 sets the unit of the weights.
    surrogate : str
        ``"triangle"`` (e-prop's ``gamma max(0, 1 - |u - theta| / theta)``) or ``"rectangle"``
        (the hybrid paper's ``gamma [|u - theta| < width]``).
    gamma : float
        Height of the surrogate; 0.3 is e-prop's dampening, which keeps gradients through
        many recurrent steps from growing.
    width : float
        Half-width of the rectangular surrogate, in units of the membrane potential.
    reset_gradient : bool
        Whether the learning rules differentiate through the reset term. e-prop drops it
        (default False): the trace of a synapse is then its presynaptic activity filtered by
        the membrane, as in the paper's LIF eligibility trace.
    loss_steps : int
        Number of final steps whose readout enters the loss; 0 means every step.
    """

    alpha: float = 0.8
    kappa: float = 0.8
    threshold: float = 1.0
    surrogate: str = "triangle"
    gamma: float = 0.3
    width: float = 0.5
    reset_gradient: bool = False
    loss_steps: int = 0

    def __post_init__(self) -> None:
        for name in ("alpha", "kappa"):
            v = getattr(self, name)
            if not 0.0 <= v < 1.0:
                raise ParameterError(name, f"a decay per step must lie in [0, 1), got {v}")
        if not self.threshold > 0:
            raise ParameterError("threshold", f"must be positive, got {self.threshold}")
        if self.surrogate not in ("triangle", "rectangle"):
            raise ParameterError("surrogate", f"'triangle' or 'rectangle', got "
                                 f"{self.surrogate!r}")
        if not (self.gamma > 0 and self.width > 0):
            raise ParameterError("gamma", "gamma and width must be positive")
        if self.loss_steps < 0:
            raise ParameterError("loss_steps", f"must be >= 0, got {self.loss_steps}")


class LIFState(NamedTuple):
    """The network's state after a step: membranes ``u``, spikes ``s``, readout ``y``."""

    u: np.ndarray  # (B, n_h)
    s: np.ndarray  # (B, n_h)
    y: np.ndarray  # (B, n_out)


def surrogate(u: np.ndarray, cfg: LIFConfig) -> np.ndarray:
    """The pseudo-derivative ``psi(u)`` that replaces ``dH(u - theta)/du`` in learning.

    >>> surrogate(np.array([0.0, 1.0, 1.5]), LIFConfig()).tolist()
    [0.0, 0.3, 0.15]
    """
    d = np.abs(np.asarray(u, dtype=float) - cfg.threshold)
    if cfg.surrogate == "triangle":
        return cfg.gamma * np.maximum(0.0, 1.0 - d / cfg.threshold)
    return cfg.gamma * (d < cfg.width).astype(float)


def softmax(y: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so that large readouts do not overflow."""
    z = np.exp(y - y.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def cross_entropy(y: np.ndarray, labels: np.ndarray) -> float:
    """Mean cross-entropy of ``softmax(y)`` (B, K) against integer labels (B,)."""
    z = y - y.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return float(-logp[np.arange(len(labels)), labels].mean())


def readout_error(y: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``dE_t / dy_t`` of the batch-mean cross-entropy: ``(softmax(y) - onehot) / B``."""
    err = softmax(y)
    err[np.arange(len(labels)), labels] -= 1.0
    return err / len(labels)


def init_weights(n_in: int, n_hidden: int, n_out: int, seed: int | np.random.SeedSequence,
                 *, rec_scale: float = 1.0, in_scale: float = 1.0) -> dict[str, np.ndarray]:
    """Random initial weights, Gaussian with variance ``scale / fan_in`` (e-prop's choice).

    Parameters
    ----------
    n_in, n_hidden, n_out : int
        Layer sizes.
    seed : int or SeedSequence
        Seed of the draw.
    rec_scale, in_scale : float
        Multipliers of the recurrent and input standard deviations (0 gives zero weights).

    Returns
    -------
    dict with ``"w_in"`` (n_in, n_h), ``"w_rec"`` (n_h, n_h), ``"w_out"`` (n_h, n_out)

    Examples
    --------
    >>> w = init_weights(3, 4, 2, seed=0)
    >>> [w[k].shape for k in ("w_in", "w_rec", "w_out")]
    [(3, 4), (4, 4), (4, 2)]
    """
    for name, n in (("n_in", n_in), ("n_hidden", n_hidden), ("n_out", n_out)):
        if int(n) < 1:
            raise ParameterError(name, f"need at least one neuron, got {n}")
    rng = np.random.default_rng(seed)
    return {
        "w_in": in_scale * rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_hidden)),
        "w_rec": rec_scale * rng.normal(0, 1 / np.sqrt(n_hidden), (n_hidden, n_hidden)),
        "w_out": rng.normal(0, 1 / np.sqrt(n_hidden), (n_hidden, n_out)),
    }


class RecurrentLIF:
    """The recurrent LIF network of the module docstring, its synapses held in weight stores.

    Parameters
    ----------
    w_in, w_rec, w_out : WeightStore or array
        Input (n_in, n_h), recurrent (n_h, n_h) and output (n_h, n_out) synapses. Arrays are
        wrapped in :class:`~memsim.tiles.FloatWeights`.
    config : LIFConfig
        Neuron constants.

    Examples
    --------
    >>> net = RecurrentLIF(**init_weights(8, 20, 10, seed=1))
    >>> x = np.random.default_rng(0).uniform(0, 1, (4, 8, 8))     # (batch, time, n_in)
    >>> net.run(x).y.shape                                         # readout at every step
    (4, 8, 10)

    Raises
    ------
    ParameterError
        If the stores' shapes do not chain (n_in, n_h) -> (n_h, n_h) -> (n_h, n_out).
    """

    def __init__(self, w_in: WeightStore | np.ndarray, w_rec: WeightStore | np.ndarray,
                 w_out: WeightStore | np.ndarray, config: LIFConfig | None = None):
        self.w_in, self.w_rec, self.w_out = (as_store(w) for w in (w_in, w_rec, w_out))
        self.config = config or LIFConfig()
        n_in, n_h = self.w_in.shape
        if self.w_rec.shape != (n_h, n_h) or self.w_out.shape[0] != n_h:
            raise ParameterError("w_rec", f"shapes do not chain: w_in {self.w_in.shape}, "
                                 f"w_rec {self.w_rec.shape}, w_out {self.w_out.shape}")

    @property
    def sizes(self) -> tuple[int, int, int]:
        """``(n_in, n_hidden, n_out)``."""
        return self.w_in.shape[0], self.w_in.shape[1], self.w_out.shape[1]

    def initial_state(self, batch: int) -> LIFState:
        """All membranes, spikes and readouts at zero."""
        _, n_h, n_out = self.sizes
        return LIFState(np.zeros((batch, n_h)), np.zeros((batch, n_h)), np.zeros((batch, n_out)))

    def step(self, x: np.ndarray, state: LIFState) -> LIFState:
        """One time step for a batch of input frames ``x`` (B, n_in)."""
        cfg = self.config
        u = (cfg.alpha * (state.u - cfg.threshold * state.s) + self.w_in.read(x)
             + self.w_rec.read(state.s))
        s = (u > cfg.threshold).astype(float)
        y = cfg.kappa * state.y + self.w_out.read(s)
        return LIFState(u, s, y)

    def run(self, xs: np.ndarray) -> LIFState:
        """Run whole sequences ``xs`` (B, T, n_in); returns the states stacked over time
        (arrays of shape (B, T, ...))."""
        xs = check_sequences(xs, self.sizes[0])
        state = self.initial_state(xs.shape[0])
        out = []
        for t in range(xs.shape[1]):
            state = self.step(xs[:, t], state)
            out.append(state)
        return LIFState(*(np.stack(a, axis=1) for a in zip(*out, strict=True)))

    def predict(self, xs: np.ndarray) -> np.ndarray:
        """Class of each sequence: the arg-max of the readout summed over the loss steps."""
        y = self.run(xs).y
        return loss_window(y, self.config.loss_steps).sum(axis=1).argmax(axis=1)


def loss_window(y: np.ndarray, loss_steps: int) -> np.ndarray:
    """The steps of ``y`` (B, T, K) that enter the loss: the last ``loss_steps`` (0: all)."""
    return y if loss_steps == 0 else y[:, -loss_steps:]


def as_store(w: WeightStore | np.ndarray) -> WeightStore:
    """``w`` itself if it is a weight store, else ideal float weights holding a copy."""
    if isinstance(w, WeightStore):
        return w
    return FloatWeights(np.asarray(w, dtype=float))


def check_sequences(xs: np.ndarray, n_in: int) -> np.ndarray:
    """``xs`` as a finite (B, T, n_in) float array, or a ParameterError naming the shape."""
    xs = np.asarray(xs, dtype=float)
    if xs.ndim != 3 or xs.shape[2] != n_in or xs.shape[1] < 1 or not np.isfinite(xs).all():
        raise ParameterError("xs", f"need finite sequences of shape (batch, time, {n_in}), "
                             f"got {xs.shape}")
    return xs
