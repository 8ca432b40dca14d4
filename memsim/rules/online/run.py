"""The online rules as entries of ``memsim rule`` (:mod:`memsim.rules.registry`).

``memsim rule eprop`` and ``memsim rule hybrid`` read a dataset of :mod:`memsim.rules.datasets`
as sequences (:func:`memsim.rules.datasets.as_sequences`: an image's rows are time steps, or
its pixels become Bernoulli spike trains, drawn from :func:`~memsim.rules.datasets.spike_seed`
of the run's seed, so that ``memsim rule hybrid --seed S`` trains on
``digit_sequences("spikes", seed=S)``), take ``--set FIELD=VALUE`` for the fields of
:class:`EpropRun` and :class:`HybridRun`, and run on float weights or on crossbar tiles
(``--hardware``).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from memsim.errors import ParameterError
from memsim.rules.datasets import as_sequences, spike_seed
from memsim.rules.online.eprop import OnlineConfig, train_online
from memsim.rules.online.hybrid import HybridTraining, continual, fault_tolerance, train_hybrid
from memsim.rules.online.lif import init_weights
from memsim.rules.online.plasticity import RetentionDecay
from memsim.tiles import TILE_PRESETS, CrossbarTile, tile_preset

__all__ = ["EpropRun", "HybridRun", "run_eprop", "run_hybrid"]


@dataclass(frozen=True)
class EpropRun(OnlineConfig):
    """``memsim rule eprop``: :class:`~memsim.rules.online.OnlineConfig` plus the input
    encoding and each layer's full tile swing (the largest weight the float-trained network
    reaches on the digits, seed 0), used only on tiles."""

    encoding: str = "rows"
    w_max_in: float = 3.0
    w_max_rec: float = 0.75
    w_max_out: float = 1.0


@dataclass(frozen=True)
class HybridRun(HybridTraining):
    """``memsim rule hybrid``: :class:`~memsim.rules.online.HybridTraining` plus the task
    (``digits``; ``faults``: stuck-at faults in W, then local plasticity only; ``continual``:
    class pairs in sequence), the spike-train length, the tiles' full swings, and where the
    local trace lives: ``p_store`` "float" (the exponential decay ``layer.decay``) or a tile
    preset (e.g. ``volatile64``), whose devices' retention over ``p_dt`` seconds per time
    step is the trace's decay (training then assumes the per-step factor the tile implies)."""

    task: str = "digits"
    steps: int = 8
    fault_fraction: float = 0.1
    w_max: float = 0.6
    w_max_out: float = 0.4
    p_store: str = "float"
    p_dt: float = 1e-3

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.task not in ("digits", "faults", "continual"):
            raise ParameterError("task", f"digits, faults or continual, got {self.task!r}")
        if not 0.0 <= self.fault_fraction <= 1.0:
            raise ParameterError("fault_fraction", f"must lie in [0, 1], got "
                                 f"{self.fault_fraction}")
        if self.p_store != "float":
            if self.p_store not in TILE_PRESETS:
                raise ParameterError("p_store", f"float or a tile preset ({', '.join(TILE_PRESETS)}"
                                     f"), got {self.p_store!r}")
            if self.task == "continual":
                raise ParameterError("p_store", "task=continual keeps P in float; drop p_store")
        RetentionDecay(self.p_dt)           # validates p_dt

    def trace_store(self, n_in: int, n_h: int, seed: int
                    ) -> tuple[Any, RetentionDecay | None, HybridRun]:
        """The trace's tile (None for float), its decay, and these settings with
        ``layer.decay`` set to the tile's per-step retention."""
        if self.p_store == "float":
            return None, None, self
        tile_cfg = tile_preset(self.p_store).replace(w_max=self.layer.p_max)
        decay = RetentionDecay(self.p_dt)
        tile = CrossbarTile(np.zeros((n_in, n_h)), tile_cfg,
                            seed=np.random.SeedSequence([seed, 11]))
        layer = dataclasses.replace(self.layer, decay=decay.factor(tile_cfg.retention_tau))
        return tile, decay, dataclasses.replace(self, layer=layer)


def _stores(hardware: Any, w0: dict[str, np.ndarray], w_max: dict[str, float],
            seed: int) -> dict[str, Any] | None:
    """Tiles holding ``w0`` for a tile configuration; None (unbounded floats) for "float"."""
    if isinstance(hardware, str) and hardware == "float":
        return None
    from memsim.rules.stores import make_store

    kids = np.random.SeedSequence([seed, 7]).spawn(len(w0))
    return {k: make_store(hardware, w_max=w_max[k])(v, sd)
            for (k, v), sd in zip(w0.items(), kids, strict=True)}


def _result(res: Any, stores: dict[str, Any] | None, net_stores: dict[str, Any],
            test_accuracy: float | None = None) -> SimpleNamespace:
    history = [{**h, "epoch": int(h["epoch"])} for h in res.history]
    return SimpleNamespace(history=history, stats={k: s.stats for k, s in net_stores.items()},
                           test_accuracy=res.test_accuracy if test_accuracy is None
                           else test_accuracy, result=res)


def run_eprop(config: EpropRun, ds: Any, hardware: Any, epochs: int, seed: int,
              progress: bool) -> SimpleNamespace:
    """Train e-prop (or RTRL, ``method=rtrl``) on ``ds``'s images as sequences."""
    data = as_sequences(ds, config.encoding, seed=spike_seed(seed))
    cfg = dataclasses.replace(config, epochs=epochs)
    s_init = np.random.SeedSequence(seed).spawn(3)[0]       # train_online's own first child
    w0 = init_weights(data.n_in, cfg.n_hidden, data.n_classes, s_init, rec_scale=cfg.rec_scale,
                      in_scale=cfg.in_scale)
    stores = _stores(hardware, w0, {"w_in": cfg.w_max_in, "w_rec": cfg.w_max_rec,
                                    "w_out": cfg.w_max_out}, seed)
    res = train_online(data, cfg, seed=seed, stores=stores, progress=progress)
    net = res.net
    print(f"{cfg.method} ({cfg.feedback} feedback), {cfg.n_hidden} recurrent LIF neurons")
    return _result(res, stores, {"w_in": net.w_in, "w_rec": net.w_rec, "w_out": net.w_out})


def run_hybrid(config: HybridRun, ds: Any, hardware: Any, epochs: int, seed: int,
               progress: bool) -> SimpleNamespace:
    """Train the hybrid model on ``ds``'s images as spike trains, then run ``config.task``."""
    data = as_sequences(ds, "spikes", steps=config.steps, seed=spike_seed(seed))
    cfg = dataclasses.replace(config, epochs=epochs)
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[0])  # train_hybrid's
    n_in, n_h = data.n_in, cfg.n_hidden
    w0 = {"w": rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_h)),
          "w_out": rng.normal(0, 1 / np.sqrt(n_h), (n_h, data.n_classes))}
    stores = _stores(hardware, w0, {"w": cfg.w_max, "w_out": cfg.w_max_out}, seed)
    p_tile, decay, cfg = cfg.trace_store(n_in, n_h, seed)
    if p_tile is not None:
        stores = {**(stores or {}), "p": p_tile}
        print(f"P on a {cfg.p_store} tile: {cfg.layer.decay:.4f} of the trace kept per "
              f"{cfg.p_dt:g} s step")
    if cfg.task == "continual":
        groups = [list(range(c, min(c + 2, data.n_classes))) for c in range(0, data.n_classes, 2)]
        t0 = time.perf_counter()
        acc = continual(data, groups, cfg, seed=seed, progress=progress)
        for k, row in enumerate(acc):
            print(f"after task {k} {groups[k]}: " + " ".join(f"{a:.3f}" for a in row))
        counts = np.array([np.isin(data.y_test, g).sum() for g in groups])
        final = float(acc[-1] @ counts / counts.sum())
        hist = [{"epoch": len(groups) * epochs, "train_accuracy": float("nan"),
                 "test_accuracy": final, "seconds": time.perf_counter() - t0}]
        return SimpleNamespace(history=hist, stats={}, test_accuracy=final, result=acc)
    res = train_hybrid(data, cfg, seed=seed, stores=stores, decay=decay, progress=progress)
    net_stores = {"w": res.net.w, "w_out": res.net.w_out}
    if p_tile is not None:
        net_stores["p"] = res.net.p
    if cfg.task == "digits":
        return _result(res, stores, net_stores)
    out = fault_tolerance(res, data, fraction=cfg.fault_fraction, seed=seed)
    print(f"clean {out['clean']:.3f} (trace frozen {out['clean_frozen']:.3f}); "
          f"{cfg.fault_fraction:.0%} of W stuck: {out['faulty_frozen']:.3f} without local "
          f"plasticity, {out['faulty_plastic']:.3f} with it; recovered {out['recovered']:.2f} "
          "of the loss (the last line: faulty, with local plasticity)")
    return _result(res, stores, net_stores, out["faulty_plastic"])
