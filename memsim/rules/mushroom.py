"""The insect mushroom body with a family of local learning rules (after Madireddy,
Yanguas-Gil, Balaprakash, arXiv 1906.01668), on any weight store.

Input -> Kenyon cells: a fixed sparse random binary projection (each KC listens to each input
with probability ``fan_in``) of the mean-centred input, then k-winner-take-all: the ``k``
most driven KCs are active (1), the rest silent (0). KC -> output: a plastic weight store
(floats or a crossbar tile, whose word lines see the binary KC pattern); the output is the
mean weight of the active KCs, ``y = a @ W / k``, and the prediction its argmax.

Every rule has the local form ``dw_jk = lr * m_k * f(a_j, w_jk)`` with a per-output
modulator ``m_k`` (target ``t`` one-hot, winner ``p`` one-hot, output ``y``) [R: the seed's
rule family, reconstructed; the exact parameterization is memsim's]:

=============  ==============================  ===============================
rule           m_k                             f(a_j, w_jk)
=============  ==============================  ===============================
hebb           t_k                             a_j - decay * w_jk
oja            t_k                             a_j - w_jk   (w -> class mean of a)
delta          t_k - y_k                       a_j          (LMS)
perceptron     t_k - p_k                       a_j          (only on mistakes)
winner         p_k if right, t_k - p_k if not  a_j          (winner-modulated)
=============  ==============================  ===============================

The meta-search of the seed paper (rule and hyper-parameters by DeepHyper) runs over
:data:`SEARCH_SPACE` with :func:`objective`, which trains on a validation split of the
training set and never sees the test split; :mod:`memsim.rules.meta` runs it through
:mod:`memsim.search` (search files with ``kind = "mushroom"``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from memsim.errors import ParameterError
from memsim.rules.datasets import Dataset, load_dataset, validation_split
from memsim.rules.stores import make_store, one_blas_thread
from memsim.tiles.base import WeightStats, WeightStore

__all__ = ["RULES", "SEARCH_SPACE", "MushroomBody", "MushroomConfig", "MushroomResult",
           "config_from", "modulator", "objective", "validation_run"]

RULES = ("hebb", "oja", "delta", "perceptron", "winner")
"""The local rules, in the order of the table above."""


@dataclass(frozen=True)
class MushroomConfig:
    """Architecture and rule of a mushroom body.

    Parameters
    ----------
    n_kc : int
        Kenyon cells (an expansion: many more than inputs).
    fan_in : float
        Probability that a KC listens to an input (sparse: 0.1 gives 6 of 64 pixels).
    k : int
        Active KCs per sample (k-WTA; sparse coding, a few per cent of the KCs).
    rule : str
        One of :data:`RULES`.
    lr : float
        Learning rate (weight units per update; weights live in ``[-w_max, w_max]``); 0.2
        was the best of 0.01-0.2 for the delta and Hebbian rules on a validation split of
        the digits.
    decay : float
        Weight decay of the Hebbian rule (others ignore it).
    w_max : float
        Weight bound (float weights clip to it; a tile maps it to its full swing).
    """

    n_kc: int = 1000
    fan_in: float = 0.1
    k: int = 50
    rule: str = "delta"
    lr: float = 0.2
    decay: float = 0.01
    w_max: float = 1.0

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ParameterError("rule", f"unknown rule {self.rule!r}; use one of "
                                 f"{', '.join(RULES)}")
        if not (isinstance(self.n_kc, int) and self.n_kc >= 1):
            raise ParameterError("n_kc", f"need >= 1 Kenyon cells, got {self.n_kc!r}")
        if not (isinstance(self.k, int) and 1 <= self.k <= self.n_kc):
            raise ParameterError("k", f"need 1 <= k <= n_kc ({self.n_kc}), got {self.k!r}")
        if not 0 < self.fan_in <= 1:
            raise ParameterError("fan_in", f"must lie in (0, 1], got {self.fan_in!r}")
        for name in ("lr", "w_max"):
            if not (np.isfinite(getattr(self, name)) and getattr(self, name) > 0):
                raise ParameterError(name, f"must be positive, got {getattr(self, name)!r}")
        if not (np.isfinite(self.decay) and self.decay >= 0):
            raise ParameterError("decay", f"must be >= 0, got {self.decay!r}")


def modulator(rule: str, target: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The per-output factor ``m_k`` of ``rule`` for one sample (see the module table).

    >>> modulator("perceptron", np.array([0.0, 1.0]), np.array([0.7, 0.2])).tolist()
    [-1.0, 1.0]
    """
    winner = np.zeros_like(y)
    winner[np.argmax(y)] = 1.0
    if rule in ("hebb", "oja"):
        return target
    if rule == "delta":
        return target - y
    if rule == "perceptron":
        return target - winner
    if rule == "winner":
        if np.argmax(y) == np.argmax(target):
            return winner
        return target - winner
    raise ParameterError("rule", f"unknown rule {rule!r}")


@dataclass
class MushroomResult:
    """Test accuracy after the last epoch (on ``n_test`` samples), per-epoch history, the
    store's counters, and the body's config, hardware and number of outputs."""

    test_accuracy: float
    history: list[dict[str, float]] = field(default_factory=list)
    stats: WeightStats | None = None
    config: MushroomConfig | None = None
    hardware: str = "float"
    n_test: int = 0
    n_out: int = 0


class MushroomBody:
    """A mushroom body ``n_in -> n_kc (k-WTA) -> n_out`` on a weight store from ``hardware``.

    Parameters
    ----------
    n_in, n_out : int
    config : MushroomConfig
    hardware : "float", a tile preset name, a TileConfig or a store factory
        (:func:`memsim.rules.stores.make_store`)
    seed : int
        Seeds the projection, the store and the sample order.

    Examples
    --------
    >>> ds = load_dataset("digits").subset(300, 100)
    >>> mb = MushroomBody(64, 10, MushroomConfig(n_kc=200, k=10), seed=0)
    >>> mb.fit(ds, epochs=1).test_accuracy > 0.5
    True
    """

    def __init__(self, n_in: int, n_out: int, config: MushroomConfig | None = None, *,
                 hardware: str | Any = "float", seed: int = 0):
        cfg = MushroomConfig() if config is None else config
        self.config, self.n_in, self.n_out = cfg, n_in, n_out
        proj, store, order = np.random.SeedSequence(seed).spawn(3)
        rng = np.random.default_rng(proj)
        self.projection = (rng.random((n_in, cfg.n_kc)) < cfg.fan_in).astype(float)
        self.store: WeightStore = make_store(hardware, w_max=cfg.w_max)(
            np.zeros((cfg.n_kc, n_out)), store)
        self.hardware = hardware if isinstance(hardware, str) else "custom"
        self._rng = np.random.default_rng(order)

    def kenyon(self, x: np.ndarray) -> np.ndarray:
        """Binary KC patterns (B, n_kc) of inputs ``x`` (B, n_in): the k most driven KCs."""
        h = (x - x.mean(axis=1, keepdims=True)) @ self.projection
        top = np.argpartition(-h, self.config.k - 1, axis=1)[:, :self.config.k]
        a = np.zeros(h.shape)
        np.put_along_axis(a, top, 1.0, axis=1)
        return a

    def output(self, a: np.ndarray) -> np.ndarray:
        """Outputs (B, n_out): the mean weight of the active KCs, read through the store."""
        return self.store.read(a) / self.config.k

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.argmax(self.output(self.kenyon(x)), axis=1)

    def learn(self, x: np.ndarray, label: int) -> bool:
        """One sample: read, update by the rule; whether the prediction was right."""
        cfg = self.config
        a = self.kenyon(x[None])
        y = self.output(a)[0]
        target = np.zeros(self.n_out)
        target[label] = 1.0
        m = modulator(cfg.rule, target, y)
        active = a[0][:, None]
        if cfg.rule == "hebb":
            dw = cfg.lr * m[None, :] * (active - cfg.decay * self._weights_if(m))
        elif cfg.rule == "oja":
            dw = cfg.lr * m[None, :] * (active - self._weights_if(m))
        else:
            dw = cfg.lr * active * m[None, :]
        if np.any(dw):
            self.store.update(dw)
        return bool(np.argmax(y) == label)

    def _weights_if(self, m: np.ndarray) -> np.ndarray:
        """The weights, where a rule's ``f`` needs them (only columns with ``m != 0``)."""
        w = np.zeros((self.config.n_kc, self.n_out))
        cols = np.flatnonzero(m)
        if cols.size:
            w[:, cols] = self.store.weights()[:, cols]
        return w

    def fit(self, ds: Dataset, *, epochs: int = 3, progress: bool = False) -> MushroomResult:
        """Train online for ``epochs`` on ``ds``'s training split; test after each epoch."""
        if epochs < 1:
            raise ParameterError("epochs", f"need >= 1 epoch, got {epochs}")
        history = []
        with one_blas_thread():
            for epoch in range(1, epochs + 1):
                start = time.perf_counter()
                order = self._rng.permutation(ds.x_train.shape[0])
                if progress:
                    from tqdm.auto import tqdm

                    order = tqdm(order, desc=f"mushroom epoch {epoch}", leave=False)
                hits = sum(self.learn(ds.x_train[j], int(ds.y_train[j])) for j in order)
                seconds = time.perf_counter() - start
                test = float(np.mean(self.predict(ds.x_test) == ds.y_test))
                history.append({"epoch": epoch, "train_accuracy": hits / len(order),
                                "test_accuracy": test, "seconds": seconds})
        return MushroomResult(history[-1]["test_accuracy"], history, replace(self.store.stats),
                              self.config, self.hardware, int(ds.x_test.shape[0]), self.n_out)


SEARCH_SPACE: dict[str, Any] = {
    "rule": list(RULES),
    "lr": (1e-3, 1.0, "log-uniform"),
    "decay": (1e-3, 1.0, "log-uniform"),
    "n_kc": (200, 3000),
    "fan_in": (0.02, 0.5, "log-uniform"),
    "k_fraction": (0.005, 0.2, "log-uniform"),
}
"""The meta-search space in DeepHyper's ``HpProblem.add_hyperparameter`` forms: a list is
categorical, ``(low, high)`` of ints an integer range, ``(low, high, "log-uniform")`` a
continuous one. ``k = max(1, round(k_fraction * n_kc))``. Add ``"levels": (4, 256)`` to
search the devices' precision too (tile hardware)."""


def config_from(params: dict[str, Any]) -> tuple[MushroomConfig, int | None]:
    """A MushroomConfig (and the tile levels, if searched) from one point of the space: the
    fields of MushroomConfig, ``k`` or ``k_fraction`` (``k = max(1, round(k_fraction *
    n_kc))``; default ``min(50, n_kc)``) and ``levels``.

    >>> cfg, levels = config_from({"n_kc": 400, "k_fraction": 0.05, "levels": 16})
    >>> cfg.k, levels
    (20, 16)

    Raises
    ------
    ParameterError
        If both ``k`` and ``k_fraction`` are given, or a value is out of its range.
    """
    p = dict(params)
    levels = p.pop("levels", None)
    n_kc = int(p.pop("n_kc", MushroomConfig.n_kc))
    k_fraction = p.pop("k_fraction", None)
    k = p.pop("k", None)
    if k is not None and k_fraction is not None:
        raise ParameterError("k", "give k or k_fraction, not both")
    if k is None:
        k = max(1, int(round(k_fraction * n_kc))) if k_fraction is not None else min(
            MushroomConfig.k, n_kc)
    cfg = MushroomConfig(n_kc=n_kc, k=int(k), rule=str(p.pop("rule", MushroomConfig.rule)),
                         **{name: float(v) for name, v in p.items()})
    return cfg, None if levels is None else int(levels)


def validation_run(params: dict[str, Any], *, dataset: str | Dataset = "digits",
                   hardware: str | Any = "float", epochs: int = 2, seed: int = 0,
                   n_train: int | None = None, split_seed: int = 0,
                   validation: float = 0.2) -> MushroomResult:
    """Train the mushroom body of ``params`` on part of the training split of ``dataset`` and
    score it on the rest (the result's ``test_accuracy`` is that validation accuracy).

    The held-out test split is dropped before anything else happens: only ``x_train`` and
    ``y_train`` are read. ``validation`` of them (stratified, seeded by ``seed``) is held out
    for scoring, the rule learns on the rest. With tile hardware, a ``levels`` entry of
    ``params`` overrides the tile's precision.

    Parameters
    ----------
    params : dict
        One point of the space (``rule``, ``lr``, ...; missing entries take the defaults).
    dataset : name or Dataset
        A name is loaded with the train/test split ``split_seed`` (0: what ``memsim rule``
        tests on with ``--seed 0``).
    hardware : as for :class:`MushroomBody`
    epochs, seed : int
        Seed of the validation split, the projection, the store and the sample order.
    n_train : int, optional
        Use only the first ``n_train`` training samples (quick searches).
    split_seed : int
        Seed of the dataset's train/test split (names only).
    validation : float
        Share of the training samples held out for scoring.

    Raises
    ------
    ParameterError
        For a bad point, dataset or hardware.
    """
    ds = load_dataset(dataset, seed=split_seed) if isinstance(dataset, str) else dataset
    training = ds.training_only()
    val = validation_split(training.subset(n_train), validation, seed=seed)
    cfg, levels = config_from(params)
    if levels is not None:
        from memsim.tiles import TileConfig, tile_preset

        base = tile_preset(hardware) if isinstance(hardware, str) and hardware != "float" else (
            hardware if isinstance(hardware, TileConfig) else None)
        if base is not None:
            hardware = base.replace(levels=levels)
    mb = MushroomBody(val.n_features, training.n_classes, cfg, hardware=hardware, seed=seed)
    return mb.fit(val, epochs=epochs)


def objective(params: dict[str, Any], *, dataset: str | Dataset = "digits",
              hardware: str | Any = "float", epochs: int = 2, seed: int = 0,
              n_train: int | None = None, split_seed: int = 0,
              validation: float = 0.2) -> float:
    """Validation accuracy of the mushroom body at one point of :data:`SEARCH_SPACE`
    (:func:`validation_run`): the rule learns on four fifths of the training split and is
    scored on the rest; the test split is never touched.

    Examples
    --------
    >>> acc = objective({"rule": "delta", "lr": 0.05}, n_train=400, epochs=1)
    >>> 0.5 < acc <= 1.0
    True

    Raises
    ------
    ParameterError
        As :func:`validation_run`.
    """
    return validation_run(params, dataset=dataset, hardware=hardware, epochs=epochs, seed=seed,
                          n_train=n_train, split_seed=split_seed,
                          validation=validation).test_accuracy
