"""Event-driven random back-propagation (eRBP; Neftci, Augustine, Paul, Detorakis,
arXiv 1612.05596, Front. Neurosci. 11, 324, 2017) on any weight store.

Network: Poisson input spikes -> hidden LIF layer -> output LIF layer (:mod:`memsim.rules.
neurons`), both through plastic weight stores. Each output ``k`` has an error pair E+/E-:
integrate-and-fire counters driven by the label spike train and the output's spikes, firing
at about ``[label - prediction]+`` and its opposite. Every plastic neuron has a second,
dendritic compartment ``U`` (``C dU/dt = -g_U U + I_U``) whose synaptic current ``I_U``
integrates the error spikes: one to one for the outputs, through fixed random feedback
weights for the hidden layer (random back-propagation). On each presynaptic spike of ``j``,
while the postsynaptic neuron's synaptic current ``I_i`` lies in ``(b_min, b_max)`` (the
boxcar standing in for the activation's derivative), ``w_ij += eta U_i``; learning is off for
the first ``t_quiet`` of every sample.

Constants [V] from the authors' code and the paper's Table 2: threshold 100 mV, refractory
3.9 ms, tau_syn 4 ms, C 1 pF, g_V 1 nS, g_U 5 nS, b = +-1.15 nA, 50 ms without learning.
memsim's choices (the paper's are for MNIST on other time scales, or not stated): input and
label rates, sample duration, the error-neuron drive, feedback and initial weight scales,
``eta`` and the weight bound, tuned on a validation split of the digits' training set.

Updates are computed event by event but *applied once per sample*: the forward pass of a
sample sees the weights of its start. That is how a crossbar is programmed (accumulate, then
pulse) and keeps the two stores comparable; within a sample the weights move by at most a
few ``eta U`` steps, well below one device level.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numba import njit

from memsim.errors import ParameterError
from memsim.rules.datasets import Dataset, poisson_spikes
from memsim.rules.neurons import LIFParams, lif_layer, lif_params
from memsim.rules.stores import StoreFactory, make_store, one_blas_thread
from memsim.tiles.base import WeightStats, WeightStore

__all__ = ["ERBP", "ERBPConfig", "ERBPResult", "error_dendrites", "error_dendrites_np"]


@dataclass(frozen=True)
class ERBPConfig:
    """eRBP network and rule constants (SI units; currents and weights in nA).

    Parameters
    ----------
    hidden : int
        Hidden neurons (the seed's 64-100-10 and 64-200-10 nets: 100, 200).
    dt : float
        Time step (1 ms: the error neurons and the 3.9 ms refractory period need no finer).
    t_sample, t_quiet : float
        Presentation time of a sample, and its initial part without learning [V: 50 ms].
    rate_in, rate_label : float
        Input rate at intensity 1, and the label neuron's rate (Hz).
    tau_syn, c_mem, g_v, g_u, threshold, refractory : float
        Neuron constants [V].
    b_min, b_max : float
        Boxcar bounds on the postsynaptic current in nA [V].
    eta : float
        Learning rate, nA of weight per volt of ``U`` per presynaptic spike.
    eta_decay : float
        Epoch ``e`` (from 0) learns at ``eta / (1 + eta_decay e)``: online learning keeps the
        noise of its last samples unless the rate anneals.
    w_error : float
        Drive of the error counters per label or output spike (threshold 1).
    w_feedback : float
        Scale (nA) of the fixed random feedback weights, uniform in ``[-w, w]``; the outputs
        get ``w_feedback`` one to one.
    w_init : float
        Initial weights uniform in ``[-w_init, w_init] / sqrt(fan_in)`` nA.
    w_max : float
        Weight bound (nA): float weights are clipped to it, a tile maps it to its full
        differential swing.
    """

    hidden: int = 100
    dt: float = 1e-3
    t_sample: float = 0.15
    t_quiet: float = 0.05
    rate_in: float = 800.0
    rate_label: float = 200.0
    tau_syn: float = 4e-3
    c_mem: float = 1e-12
    g_v: float = 1e-9
    g_u: float = 5e-9
    threshold: float = 0.1
    refractory: float = 3.9e-3
    b_min: float = -1.15
    b_max: float = 1.15
    eta: float = 3e-3
    eta_decay: float = 0.5
    w_error: float = 1.0
    w_feedback: float = 0.5
    w_init: float = 1.0
    w_max: float = 0.5

    def __post_init__(self) -> None:
        if not isinstance(self.hidden, int) or self.hidden < 1:
            raise ParameterError("hidden", f"need >= 1 hidden neurons, got {self.hidden!r}")
        if not (np.isfinite(self.eta_decay) and self.eta_decay >= 0):
            raise ParameterError("eta_decay", f"must be >= 0, got {self.eta_decay!r}")
        for name in ("dt", "t_sample", "rate_in", "rate_label", "tau_syn", "c_mem", "g_v",
                     "g_u", "threshold", "eta", "w_error", "w_max"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ParameterError(name, f"must be positive, got {value!r}")
        if not 0 <= self.t_quiet < self.t_sample:
            raise ParameterError("t_quiet", f"must lie in [0, t_sample), got {self.t_quiet!r}")
        if not self.b_min < self.b_max:
            raise ParameterError("b_min", "need b_min < b_max")
        if max(self.rate_in, self.rate_label) * self.dt > 1:
            raise ParameterError("dt", "rates times dt must not exceed 1 spike per step")

    @property
    def steps(self) -> int:
        return int(round(self.t_sample / self.dt))

    @property
    def quiet_steps(self) -> int:
        return int(round(self.t_quiet / self.dt))

    def lif(self) -> LIFParams:
        return lif_params(dt=self.dt, tau_syn=self.tau_syn, c_mem=self.c_mem, g_leak=self.g_v,
                          threshold=self.threshold, refractory=self.refractory)

    def dendrite(self) -> tuple[float, float, float]:
        """(decay_syn, decay_u, gain_u) of the dendritic compartment (volts per nA)."""
        decay_u = float(np.exp(-self.dt * self.g_u / self.c_mem))
        return (float(np.exp(-self.dt / self.tau_syn)), decay_u,
                (1.0 - decay_u) * 1e-9 / self.g_u)


@njit(cache=True)
def error_dendrites(out_spikes, label_spikes, feedback, w_fb_out, w_error, decay_syn,
                    decay_u, gain_u):
    """Error pairs and dendritic potentials of one sample.

    Parameters
    ----------
    out_spikes, label_spikes : float64 (T, K)
    feedback : float64 (H, K), fixed random feedback weights to the hidden layer (nA)
    w_fb_out : float, one-to-one feedback weight to the outputs (nA)
    w_error : float, counter drive per spike (the counters fire at 1)
    decay_syn, decay_u, gain_u : dendritic constants (see ``ERBPConfig.dendrite``)

    Returns
    -------
    u_out : (T, K) and u_hidden : (T, H), volts
    """
    nt, nk = out_spikes.shape
    nh = feedback.shape[0]
    u_out = np.empty((nt, nk))
    u_hid = np.empty((nt, nh))
    e_plus = np.zeros(nk)
    e_minus = np.zeros(nk)
    err = np.zeros(nk)
    i_out = np.zeros(nk)
    v_out = np.zeros(nk)
    i_hid = np.zeros(nh)
    v_hid = np.zeros(nh)
    for t in range(nt):
        for k in range(nk):
            drive = w_error * (label_spikes[t, k] - out_spikes[t, k])
            e_plus[k] = max(e_plus[k] + drive, 0.0)
            e_minus[k] = max(e_minus[k] - drive, 0.0)
            err[k] = 0.0
            if e_plus[k] >= 1.0:
                e_plus[k] -= 1.0
                err[k] += 1.0
            if e_minus[k] >= 1.0:
                e_minus[k] -= 1.0
                err[k] -= 1.0
            i_out[k] = i_out[k] * decay_syn + w_fb_out * err[k]
            v_out[k] = v_out[k] * decay_u + gain_u * i_out[k]
            u_out[t, k] = v_out[k]
        for h in range(nh):
            s = 0.0
            for k in range(nk):
                s += feedback[h, k] * err[k]
            i_hid[h] = i_hid[h] * decay_syn + s
            v_hid[h] = v_hid[h] * decay_u + gain_u * i_hid[h]
            u_hid[t, h] = v_hid[h]
    return u_out, u_hid


def error_dendrites_np(out_spikes: np.ndarray, label_spikes: np.ndarray, feedback: np.ndarray,
                       w_fb_out: float, w_error: float, decay_syn: float, decay_u: float,
                       gain_u: float) -> tuple[np.ndarray, np.ndarray]:
    """NumPy twin of :func:`error_dendrites`."""
    nt, nk = out_spikes.shape
    u_out = np.empty((nt, nk))
    u_hid = np.empty((nt, feedback.shape[0]))
    e_plus, e_minus = np.zeros(nk), np.zeros(nk)
    i_out, v_out = np.zeros(nk), np.zeros(nk)
    i_hid, v_hid = np.zeros(feedback.shape[0]), np.zeros(feedback.shape[0])
    for t in range(nt):
        drive = w_error * (label_spikes[t] - out_spikes[t])
        e_plus = np.maximum(e_plus + drive, 0.0)
        e_minus = np.maximum(e_minus - drive, 0.0)
        fire_p, fire_m = e_plus >= 1.0, e_minus >= 1.0
        e_plus = e_plus - fire_p
        e_minus = e_minus - fire_m
        err = fire_p.astype(float) - fire_m
        i_out = i_out * decay_syn + w_fb_out * err
        v_out = v_out * decay_u + gain_u * i_out
        u_out[t] = v_out
        i_hid = i_hid * decay_syn + feedback @ err
        v_hid = v_hid * decay_u + gain_u * i_hid
        u_hid[t] = v_hid
    return u_out, u_hid


@dataclass
class ERBPResult:
    """What a training run produced.

    Attributes
    ----------
    test_accuracy : float, after the last epoch
    history : list of dict, one per epoch: ``epoch``, ``train_accuracy`` (online, during the
        epoch), ``test_accuracy``, ``seconds`` (training time of the epoch)
    stats : dict of WeightStats, per layer ("hidden", "output")
    config : ERBPConfig
    hardware : str
    """

    test_accuracy: float
    history: list[dict[str, float]] = field(default_factory=list)
    stats: dict[str, WeightStats] = field(default_factory=dict)
    config: ERBPConfig | None = None
    hardware: str = "float"


class ERBP:
    """An eRBP network ``n_in - hidden - n_out`` on weight stores made by ``hardware``.

    Parameters
    ----------
    n_in, n_out : int
    config : ERBPConfig
    hardware : str, TileConfig or callable
        ``"float"``, a tile preset name, a TileConfig, or a callable
        ``(w0, seed) -> WeightStore`` (see :func:`memsim.rules.stores.make_store`).
    seed : int
        Seeds the initial and feedback weights, the stores, and all spike trains.

    Examples
    --------
    >>> from memsim.rules.datasets import load_dataset
    >>> ds = load_dataset("digits").subset(100, 50)
    >>> net = ERBP(64, 10, ERBPConfig(hidden=20, t_sample=0.08), seed=0)
    >>> res = net.fit(ds, epochs=1)
    >>> 0.0 <= res.test_accuracy <= 1.0
    True
    """

    def __init__(self, n_in: int, n_out: int, config: ERBPConfig | None = None, *,
                 hardware: str | Any = "float", seed: int = 0):
        cfg = ERBPConfig() if config is None else config
        self.config = cfg
        self.n_in, self.n_out = n_in, n_out
        ss = np.random.SeedSequence(seed)
        init, store1, store2, run, test = ss.spawn(5)
        rng = np.random.default_rng(init)
        w1 = rng.uniform(-1, 1, (n_in, cfg.hidden)) * cfg.w_init / np.sqrt(n_in)
        w2 = rng.uniform(-1, 1, (cfg.hidden, n_out)) * cfg.w_init / np.sqrt(cfg.hidden)
        self.feedback = rng.uniform(-1, 1, (cfg.hidden, n_out)) * cfg.w_feedback
        factory: StoreFactory = make_store(hardware, w_max=cfg.w_max)
        self.hardware = hardware if isinstance(hardware, str) else "custom"
        self.layers: dict[str, WeightStore] = {"hidden": factory(w1, store1),
                                               "output": factory(w2, store2)}
        self._rng = np.random.default_rng(run)
        self._test_rng = np.random.default_rng(test)
        self._lif = cfg.lif()
        self._dendrite = cfg.dendrite()

    # ----------------------------------------------------------------- forward pass
    def forward(self, spikes_in: np.ndarray) -> tuple[np.ndarray, ...]:
        """Hidden and output spikes and currents of runs ``spikes_in`` (B, T, n_in)."""
        nb, nt, _ = spikes_in.shape
        w1, w2 = self.layers["hidden"], self.layers["output"]
        a1 = w1.read(spikes_in.reshape(nb * nt, -1)).reshape(nb, nt, -1)
        s1, i1 = lif_layer(a1, self._lif)
        a2 = w2.read(s1.reshape(nb * nt, -1)).reshape(nb, nt, -1)
        s2, i2 = lif_layer(a2, self._lif)
        return s1, i1, s2, i2

    def predict(self, x: np.ndarray, *, batch: int = 64) -> np.ndarray:
        """Class of each sample ``x`` (n, n_in): the output with most spikes (ties: the
        largest summed synaptic current)."""
        cfg = self.config
        out = np.empty(x.shape[0], np.int64)
        with one_blas_thread():
            for start in range(0, x.shape[0], batch):
                xs = x[start:start + batch]
                s_in = poisson_spikes(xs, cfg.steps, cfg.rate_in, cfg.dt, self._test_rng)
                _, _, s2, i2 = self.forward(s_in)
                score = s2.sum(axis=1) + 1e-6 * np.tanh(i2.sum(axis=1))
                out[start:start + batch] = np.argmax(score, axis=1)
        return out

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(self.predict(x) == y))

    # ----------------------------------------------------------------- learning
    def learn(self, x: np.ndarray, label: int, *, eta: float | None = None) -> int:
        """Present one sample with its label; update both stores (at learning rate ``eta``,
        default the config's). Returns the prediction."""
        cfg = self.config
        eta = cfg.eta if eta is None else eta
        s0 = poisson_spikes(x[None], cfg.steps, cfg.rate_in, cfg.dt, self._rng)
        s1, i1, s2, i2 = self.forward(s0)
        lab = np.zeros((cfg.steps, self.n_out))
        lab[:, label] = self._rng.random(cfg.steps) < cfg.rate_label * cfg.dt
        u2, u1 = error_dendrites(s2[0], lab, self.feedback, cfg.w_feedback, cfg.w_error,
                                 *self._dendrite)
        q = cfg.quiet_steps
        for name, pre, u, cur in (("hidden", s0[0], u1, i1[0]), ("output", s1[0], u2, i2[0])):
            gate = (cur[q:] > cfg.b_min) & (cur[q:] < cfg.b_max)
            self.layers[name].update(eta * (pre[q:].T @ (u[q:] * gate)))
        return int(np.argmax(s2[0].sum(axis=0) + 1e-6 * np.tanh(i2[0].sum(axis=0))))

    def train_epoch(self, x: np.ndarray, y: np.ndarray, *, epoch: int = 0,
                    progress: bool = False) -> float:
        """One pass over ``x`` in a seeded random order at the learning rate of ``epoch``
        (counted from 0); returns the online accuracy. BLAS runs on one thread meanwhile
        (:func:`~memsim.rules.stores.one_blas_thread`: the products are small)."""
        eta = self.config.eta / (1.0 + self.config.eta_decay * epoch)
        order = self._rng.permutation(x.shape[0])
        hits = 0
        if progress:
            from tqdm.auto import tqdm

            order = tqdm(order, desc="eRBP epoch", leave=False)
        with one_blas_thread():
            for k in order:
                hits += self.learn(x[k], int(y[k]), eta=eta) == y[k]
        return hits / x.shape[0]

    def fit(self, ds: Dataset, *, epochs: int = 1, progress: bool = False) -> ERBPResult:
        """Train for ``epochs`` on ``ds``'s training split, testing after each epoch."""
        if epochs < 1:
            raise ParameterError("epochs", f"need >= 1 epoch, got {epochs}")
        history = []
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            train_acc = self.train_epoch(ds.x_train, ds.y_train, epoch=epoch - 1,
                                         progress=progress)
            seconds = time.perf_counter() - start
            test_acc = self.accuracy(ds.x_test, ds.y_test)
            history.append({"epoch": epoch, "train_accuracy": train_acc,
                            "test_accuracy": test_acc, "seconds": seconds})
        return ERBPResult(history[-1]["test_accuracy"], history,
                          {k: replace(s.stats) for k, s in self.layers.items()},
                          self.config, self.hardware)
