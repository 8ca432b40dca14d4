"""Hybrid global-local plasticity (Wu et al. 2022) on weight stores, run forward in NumPy.

A layer of LIF neurons receives its input through two sets of synapses: ``W``, trained by a
global error signal, and a local Hebbian trace ``P`` that keeps changing while the network
runs (the authors' code, in this project's notation)::

    u_i^t = lam (u_i^{t-1} - theta s_i^{t-1}) + sum_j (W_ji + alpha_i P_ji^t) x_j^t
    s_i^t = H(u_i^t - theta)
    P^{t+1} = clip(decay * P^t + < beta_j x_j^t tanh(u_i^t / theta - eta_i) >_batch, +-p_max)

with ``lam`` = 0.4, ``theta`` = 0.4, ``decay`` = 0.99, ``p_max`` = 4 in the paper. ``alpha``
(per postsynaptic neuron: the project's reading of the paper's coefficient), ``beta`` (per
presynaptic input) and ``eta`` (per postsynaptic neuron) are meta-learned with ``W`` (see
:mod:`memsim.rules.online.hybrid`). The hidden layer's spikes reach the classes through a
readout ``W_out``; the logits are the time average of ``s^t W_out``.

``P`` lives in a weight store of its own: on hardware a second tile of volatile devices whose
retention loss *is* the decay. The decay is a :class:`Decay` object applied to that store once
per step: :class:`ExponentialDecay` for float weights (``P -= (1 - decay) P`` through
``update``); :class:`RetentionDecay` provides the same method for a volatile tile (the
``volatile64`` preset), so its devices' relaxation replaces the exponential. The clipping is
the store's own bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from memsim.devices.retention import retention_factor
from memsim.errors import ParameterError
from memsim.rules.online.lif import as_store, check_sequences
from memsim.tiles import FloatWeights, WeightStats, WeightStore

__all__ = [
    "Decay",
    "ExponentialDecay",
    "HybridConfig",
    "HybridNet",
    "RetentionDecay",
    "StuckAtWeights",
    "stuck_at",
]


@runtime_checkable
class Decay(Protocol):
    """How the local trace's store forgets: called once per time step with that store.

    The hook for volatile devices: a retention model of the device physics implements
    ``apply`` by advancing the tile's device states through one step's worth of retention
    loss (its drift towards the relaxed state), so that the hardware's forgetting, not an
    exponential written by pulses, is the trace's decay; ``HybridNet(..., p=tile,
    decay=that_model)`` then runs unchanged.
    """

    def apply(self, store: WeightStore) -> None:
        """Advance ``store`` by one step of forgetting."""
        ...


@dataclass(frozen=True)
class ExponentialDecay:
    """``P <- factor * P`` per step, written through the store's ``update``.

    >>> p = FloatWeights(np.full((1, 2), 2.0))
    >>> ExponentialDecay(0.5).apply(p)
    >>> p.weights().tolist()
    [[1.0, 1.0]]
    """

    factor: float = 0.99

    def __post_init__(self) -> None:
        if not 0.0 <= self.factor <= 1.0:
            raise ParameterError("factor", f"a decay factor lies in [0, 1], got {self.factor}")

    def apply(self, store: WeightStore) -> None:
        if self.factor != 1.0:
            store.update((self.factor - 1.0) * store.weights())


@dataclass(frozen=True)
class RetentionDecay:
    """The trace forgets by its devices' retention loss: ``dt`` seconds of relaxation per
    step (``store.relax(dt)``, a :class:`~memsim.tiles.CrossbarTile` with volatile devices),
    no programming pulses.

    ``dt`` defaults to 1 ms per time step: the ``volatile64`` preset's tau = 100 ms then
    keeps ``exp(-0.01)`` = 0.990 of ``P`` per step, the paper's decay.

    >>> from memsim.tiles import CrossbarTile, tile_preset
    >>> tile = CrossbarTile(np.array([[1.0]]), tile_preset("volatile64"), seed=0)
    >>> RetentionDecay(1e-3).apply(tile)
    >>> round(float(tile.weights()[0, 0]), 6), round(RetentionDecay(1e-3).factor(0.1), 6)
    (0.99005, 0.99005)

    Raises
    ------
    ParameterError
        If ``dt`` is not a positive finite number of seconds, or (``apply``) the store has no
        device retention to advance.
    """

    dt: float = 1e-3

    def __post_init__(self) -> None:
        if not (np.isfinite(self.dt) and self.dt > 0):
            raise ParameterError("p_dt", f"seconds per time step must be positive and finite, "
                                 f"got {self.dt!r}")

    def factor(self, tau: float | None) -> float:
        """The per-step share of ``P`` that devices of retention time ``tau`` keep (1 for
        non-volatile ones): the ``HybridConfig.decay`` that training should assume."""
        return retention_factor(self.dt, tau)

    def apply(self, store: WeightStore) -> None:
        relax = getattr(store, "relax", None)
        if relax is None:
            raise ParameterError("p_store", f"{type(store).__name__} has no device retention "
                                 "to advance; put P on a crossbar tile (e.g. the volatile64 "
                                 "preset) or use ExponentialDecay")
        relax(self.dt)


@dataclass(frozen=True)
class HybridConfig:
    """Constants of the hybrid layer (the paper's values unless said otherwise).

    Attributes
    ----------
    leak : float
        Membrane decay per step ``lam`` (0.4 in the paper: a short memory, the input is
        static over the presentation).
    threshold : float
        Firing threshold ``theta`` (0.4).
    width : float
        Half-width of the rectangular surrogate (0.5); its height is 1.
    decay : float
        Per-step decay of ``P`` for float weights (0.99).
    p_max : float
        Bound of ``|P|`` (4).
    """

    leak: float = 0.4
    threshold: float = 0.4
    width: float = 0.5
    decay: float = 0.99
    p_max: float = 4.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.leak < 1.0:
            raise ParameterError("leak", f"must lie in [0, 1), got {self.leak}")
        if not (self.threshold > 0 and self.width > 0 and self.p_max > 0):
            raise ParameterError("threshold", "threshold, width and p_max must be positive")
        if not 0.0 <= self.decay <= 1.0:
            raise ParameterError("decay", f"must lie in [0, 1], got {self.decay}")


class HybridNet:
    """One hybrid-plasticity hidden layer and a readout, on weight stores.

    Parameters
    ----------
    w : WeightStore or array (n_in, n_h)
        Globally trained input synapses.
    w_out : WeightStore or array (n_h, n_out)
        Readout synapses.
    alpha, beta, eta : arrays (n_h,), (n_in,), (n_h,)
        Plasticity coefficients.
    p : WeightStore, optional
        Store of the local trace (default: float weights at 0 bounded by ``+-p_max``).
    decay : Decay, optional
        Forgetting of ``p`` per step (default: ``ExponentialDecay(config.decay)``).
    config : HybridConfig
        Constants.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> net = HybridNet(rng.normal(0, 0.3, (4, 6)), rng.normal(0, 0.3, (6, 3)),
    ...                 np.full(6, 0.1), np.ones(4), np.zeros(6))
    >>> logits, p = net.run(rng.uniform(0, 1, (2, 5, 4)))
    >>> logits.shape, p.shape
    ((2, 3), (4, 6))

    Raises
    ------
    ParameterError
        If the shapes of the stores and coefficients do not match.
    """

    def __init__(self, w: WeightStore | np.ndarray, w_out: WeightStore | np.ndarray,
                 alpha: np.ndarray, beta: np.ndarray, eta: np.ndarray, *,
                 p: WeightStore | None = None, decay: Decay | None = None,
                 config: HybridConfig | None = None):
        self.config = cfg = config or HybridConfig()
        self.w, self.w_out = as_store(w), as_store(w_out)
        n_in, n_h = self.w.shape
        self.p = p if p is not None else FloatWeights(np.zeros((n_in, n_h)), w_min=-cfg.p_max,
                                                      w_max=cfg.p_max)
        self.decay = decay if decay is not None else ExponentialDecay(cfg.decay)
        self.alpha, self.beta, self.eta = (np.asarray(a, dtype=float).copy()
                                           for a in (alpha, beta, eta))
        if (self.p.shape != (n_in, n_h) or self.w_out.shape[0] != n_h
                or self.alpha.shape != (n_h,) or self.eta.shape != (n_h,)
                or self.beta.shape != (n_in,)):
            raise ParameterError("w", f"shapes do not match: w {self.w.shape}, p {self.p.shape}"
                                 f", w_out {self.w_out.shape}, alpha {self.alpha.shape}, beta "
                                 f"{self.beta.shape}, eta {self.eta.shape}")

    @property
    def sizes(self) -> tuple[int, int, int]:
        """``(n_in, n_hidden, n_out)``."""
        return self.w.shape[0], self.w.shape[1], self.w_out.shape[1]

    def run(self, xs: np.ndarray, *, plastic: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Present a batch of sequences ``xs`` (B, T, n_in); returns the logits (B, n_out)
        and the trace ``P`` after it. With ``plastic=False`` the trace is frozen."""
        cfg = self.config
        xs = check_sequences(xs, self.sizes[0])
        b, n_t, _ = xs.shape
        n_h = self.sizes[1]
        u = np.zeros((b, n_h))
        s = np.zeros((b, n_h))
        out = np.zeros((b, self.sizes[2]))
        for t in range(n_t):
            x = xs[:, t]
            u = (cfg.leak * (u - cfg.threshold * s) + self.w.read(x)
                 + self.alpha * self.p.read(x))
            s = (u > cfg.threshold).astype(float)
            out += self.w_out.read(s)
            if plastic:
                self.decay.apply(self.p)
                self.p.update(hebbian_step(x, u, self.beta, self.eta, cfg.threshold))
        return out / n_t, self.p.weights()

    def predict(self, xs: np.ndarray, *, plastic: bool = True, batch: int = 64) -> np.ndarray:
        """Classes of ``xs``, presented in batches of ``batch`` in order (the trace carries
        over from batch to batch, as it does on hardware)."""
        return np.concatenate([self.run(xs[i:i + batch], plastic=plastic)[0].argmax(axis=1)
                               for i in range(0, len(xs), batch)])


def hebbian_step(x: np.ndarray, u: np.ndarray, beta: np.ndarray, eta: np.ndarray,
                 threshold: float) -> np.ndarray:
    """The local trace's increment ``< beta_j x_j tanh(u_i / theta - eta_i) >`` (n_in, n_h).

    A synapse's increment reads its presynaptic input and its postsynaptic membrane only.

    >>> hebbian_step(np.array([[1.0, 0.0]]), np.array([[0.4]]), np.ones(2), np.zeros(1),
    ...              0.4).round(4).tolist()
    [[0.7616], [0.0]]
    """
    post = np.tanh(u / threshold - eta)
    return (beta[:, None] * x.T) @ post / x.shape[0]


class StuckAtWeights:
    """A weight store with some synapses stuck at fixed values (stuck-at faults).

    Reads of the healthy synapses go through ``inner``; the stuck ones contribute their stuck
    value, and updates to them are lost. For float weights this is exact; a crossbar tile
    with device-level faults should model them in its own physics instead.

    Parameters
    ----------
    inner : WeightStore
        The healthy store.
    mask : bool array (n_in, n_out)
        Which synapses are stuck.
    values : array (n_in, n_out)
        Their stuck weights (entries outside ``mask`` are ignored).

    Examples
    --------
    >>> s = StuckAtWeights(FloatWeights(np.ones((1, 2))), np.array([[True, False]]),
    ...                    np.zeros((1, 2)))
    >>> s.update(np.ones((1, 2)))
    >>> s.weights().tolist(), s.read(np.ones((1, 1))).tolist()
    ([[0.0, 2.0]], [[0.0, 2.0]])
    """

    def __init__(self, inner: WeightStore, mask: np.ndarray, values: np.ndarray):
        mask = np.asarray(mask, dtype=bool)
        values = np.asarray(values, dtype=float)
        if mask.shape != inner.shape or values.shape != inner.shape:
            raise ParameterError("mask", f"need mask and values of shape {inner.shape}, got "
                                 f"{mask.shape} and {values.shape}")
        self.inner, self.mask, self.values = inner, mask, np.where(mask, values, 0.0)
        self.stats: WeightStats = inner.stats     # the same counters: reads reach ``inner``

    @property
    def shape(self) -> tuple[int, int]:
        return self.inner.shape

    def read(self, x: np.ndarray) -> np.ndarray:
        healthy = self.inner.read(x)
        x = np.asarray(x, dtype=float).reshape(-1, self.shape[0])
        return healthy + x @ (self.values - np.where(self.mask, self.inner.weights(), 0.0))

    def weights(self) -> np.ndarray:
        return np.where(self.mask, self.values, self.inner.weights())

    def update(self, dw: np.ndarray) -> None:
        self.inner.update(np.where(self.mask, 0.0, dw))


def stuck_at(store: WeightStore, fraction: float, seed: int | np.random.SeedSequence,
             *, low: float | None = None, high: float | None = None) -> StuckAtWeights:
    """``store`` with a random ``fraction`` of its synapses stuck, each at ``low`` or ``high``
    with equal probability (stuck-OFF / stuck-ON; default: the smallest and largest weight
    now).

    >>> s = stuck_at(FloatWeights(np.arange(100.0).reshape(10, 10)), 0.1, seed=0)
    >>> int(s.mask.sum()), sorted(set(s.values[s.mask].tolist()))
    (10, [0.0, 99.0])

    Raises
    ------
    ParameterError
        If ``fraction`` is outside [0, 1].
    """
    if not 0.0 <= fraction <= 1.0:
        raise ParameterError("fraction", f"must lie in [0, 1], got {fraction}")
    w = store.weights()
    rng = np.random.default_rng(seed)
    n = int(round(fraction * w.size))
    cells = rng.choice(w.size, size=n, replace=False)
    mask = np.zeros(w.size, dtype=bool)
    mask[cells] = True
    lo = float(w.min()) if low is None else low
    hi = float(w.max()) if high is None else high
    values = np.where(rng.random(w.size) < 0.5, lo, hi)
    return StuckAtWeights(store, mask.reshape(w.shape), values.reshape(w.shape))
