"""The topology study: which layered topologies learn how much, and why.

Three experiments on learning from mistakes (:mod:`memsim.learn.circuit`) with the
voltage-threshold device of ``paper_2x4x2`` (``pershin2011``):

(a) :func:`capacity_vs_width` — capacity of fully connected nets ``[w/2, w, w/2]`` (width 4 is
    ``paper_2x4x2``) as the width grows, for the circuit and for the abstract Chialvo-Bak model
    on the same layer sizes;
(b) :func:`symmetry_study` — symmetry breaking on a fixed base net: device-to-device spread,
    random pruning (connectivity < 1) and random graphs with the same numbers of nodes and
    (on average) edges, against controllability and mean capacity;
(c) :func:`depth_study` — depth (number of hidden layers, docs/concepts.md) against
    controllability and capacity.

Definitions: capacity and the success curve in :mod:`memsim.analyze.capacity`, controllability
(the linear measure and the device-level measure) in :mod:`memsim.analyze.controllability`.
*Mean capacity* is the area under the success curve, ``sum_P S(P)`` over the loads tried (loads
after an early stop count 0): it equals the mean over trials of the largest load learned when a
network that learns P random patterns would also learn fewer, and unlike the capacity it does
not jump in steps of one. Its error bar is ``z * sqrt(sum_P S(1 - S) / R)``.

Controllability is evaluated on the networks training starts from: the topology draw and the
run's device draw (:func:`memsim.learn.device_sample`: R_on/R_off spread and initial-state
spread of the config), averaged over ``draws`` samples.

Settings: :data:`SETTINGS` holds ``"small"`` (what CI runs, ~1 min) and ``"full"`` (the
numbers quoted in the notebook); ``memsim study --settings full --out DIR`` reruns everything.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from memsim.analyze.capacity import CapacityResult, capacity_curve
from memsim.analyze.controllability import controllability
from memsim.circuit.builders import layered, random_network
from memsim.circuit.network import Network
from memsim.devices.presets import preset
from memsim.errors import ParameterError
from memsim.learn import CircuitConfig, device_sample

__all__ = [
    "SETTINGS",
    "LayeredFactory",
    "RandomFactory",
    "StudyPoint",
    "StudySettings",
    "capacity_vs_width",
    "controllability_stats",
    "depth_study",
    "mean_capacity",
    "plot_depth",
    "plot_symmetry",
    "plot_width",
    "run_study",
    "symmetry_study",
]

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- factories
@dataclass(frozen=True)
class LayeredFactory:
    """Topology factory: ``memsim.layered(sizes, connectivity=...)`` of one preset device,
    pruned (if ``connectivity < 1``) with the trial's seed. Picklable (for Dask workers).

    Examples
    --------
    >>> import numpy as np
    >>> f = LayeredFactory((2, 4, 2), connectivity=0.5)
    >>> f(np.random.SeedSequence(0)).n_edges < 16, f.name
    (True, 'layered_2x4x2_c0.5')
    """

    sizes: tuple[int, ...]
    device: str = "pershin2011"
    connectivity: float = 1.0

    @property
    def name(self) -> str:
        base = "layered_" + "x".join(map(str, self.sizes))
        return base if self.connectivity == 1.0 else f"{base}_c{self.connectivity:g}"

    def __call__(self, seed: np.random.SeedSequence) -> Network:
        return layered(list(self.sizes), device=preset(self.device),
                       connectivity=self.connectivity, seed=np.random.default_rng(seed),
                       name=self.name)


@dataclass(frozen=True)
class RandomFactory:
    """Topology factory: a connected G(n, p) graph with random terminals per trial.

    Examples
    --------
    >>> import numpy as np
    >>> net = RandomFactory(16, 0.5, 4, 4)(np.random.SeedSequence(1))
    >>> len(net.inputs), len(net.outputs)
    (4, 4)
    """

    n_nodes: int
    edge_prob: float
    n_inputs: int
    n_outputs: int
    device: str = "pershin2011"

    @property
    def name(self) -> str:
        return f"random_{self.n_nodes}_p{self.edge_prob:.2f}"

    def __call__(self, seed: np.random.SeedSequence) -> Network:
        return random_network(self.n_nodes, edge_prob=self.edge_prob, n_inputs=self.n_inputs,
                              n_outputs=self.n_outputs, device=preset(self.device),
                              seed=np.random.default_rng(seed), name=self.name)


# ----------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class StudySettings:
    """Sizes of the three experiments.

    Attributes
    ----------
    repetitions : int, trials per load (R)
    widths : hidden widths of experiment (a); nets ``[w/2, w, w/2]``
    base : layer sizes of the base net of experiment (b)
    spreads : device-spread levels of (b) (``d2d_spread = x0_spread``)
    connectivities : pruning levels of (b)
    depths : numbers of hidden layers of (c)
    depth_width, depth_io : hidden width and input/output count of (c)
    draws : networks per point for the controllability averages
    max_steps : step budget per task
    seed : root seed
    """

    repetitions: int
    widths: tuple[int, ...]
    base: tuple[int, ...]
    spreads: tuple[float, ...]
    connectivities: tuple[float, ...]
    depths: tuple[int, ...]
    depth_width: int
    depth_io: int
    draws: int
    max_steps: int = 400
    seed: int = 2025


SETTINGS: dict[str, StudySettings] = {
    "small": StudySettings(repetitions=24, widths=(4, 8), base=(4, 8, 4),
                           spreads=(0.0, 0.1, 0.3), connectivities=(1.0, 0.75),
                           depths=(1, 2, 3), depth_width=6, depth_io=3, draws=3,
                           max_steps=200),
    "full": StudySettings(repetitions=200, widths=(4, 8, 16, 32), base=(4, 8, 4),
                          spreads=(0.0, 0.02, 0.05, 0.1, 0.2, 0.4),
                          connectivities=(1.0, 0.9, 0.75, 0.6), depths=(1, 2, 3, 4),
                          depth_width=8, depth_io=4, draws=20),
}


# ----------------------------------------------------------------------------- measures
def mean_capacity(result: CapacityResult) -> tuple[float, float]:
    """Area under the success curve and its half-width at the result's ``z``.

    Examples
    --------
    >>> import numpy as np
    >>> r = CapacityResult.from_outcomes({1: np.ones(4, bool), 2: np.arange(4) < 2})
    >>> mean_capacity(r)[0]
    1.5
    """
    var = np.sum(result.S * (1 - result.S) / result.trials)
    return float(np.sum(result.S)), float(result.z * math.sqrt(var))


def controllability_stats(
    factory: LayeredFactory | RandomFactory | Network,
    config: CircuitConfig,
    *,
    draws: int,
    seed: int,
    v_max: float | None = None,
) -> dict[str, float]:
    """Mean and standard deviation of the linear and device controllability of the networks
    training starts from (topology draw + device draw), over ``draws`` samples.

    Raises
    ------
    ParameterError
        If ``draws < 1``.

    Examples
    --------
    >>> s = controllability_stats(LayeredFactory((2, 4, 2)), CircuitConfig(), draws=2, seed=0)
    >>> s["linear_mean"], s["device_mean"]
    (0.1875, 1.0)
    """
    if draws < 1:
        raise ParameterError("draws", f"need at least one draw, got {draws}")
    v_max = abs(config.v_inhibit) if v_max is None else v_max
    lin, dev = [], []
    for k, ss in enumerate(np.random.SeedSequence(seed).spawn(draws)):
        topo, devs = ss.spawn(2)
        net = factory if isinstance(factory, Network) else factory(topo)
        sample = device_sample(net, config, devs)  # spread, and stuck devices as resistors
        net = net.replace(model=sample.model, params=sample.params, x0=sample.x0)
        lin.append(controllability(net).score)
        dev.append(controllability(net, mode="device", v_max=v_max, seed=k).score)
    return {"linear_mean": float(np.mean(lin)), "linear_std": float(np.std(lin)),
            "device_mean": float(np.mean(dev)), "device_std": float(np.std(dev))}


@dataclass(frozen=True)
class StudyPoint:
    """One point of an experiment: a topology/protocol variant and what was measured."""

    kind: str
    value: float
    label: str
    capacity: CapacityResult = field(repr=False)
    control: dict[str, float] = field(default_factory=dict)
    learning: CircuitConfig | None = field(default=None, repr=False)

    @property
    def mean_capacity(self) -> tuple[float, float]:
        return mean_capacity(self.capacity)

    def to_dict(self) -> dict[str, Any]:
        c = self.capacity
        mc, err = self.mean_capacity
        return {"kind": self.kind, "value": self.value, "label": self.label,
                "P": c.P.tolist(), "successes": c.successes.tolist(),
                "trials": c.trials.tolist(), "capacity": c.capacity,
                "capacity_interval": list(c.capacity_interval), "mean_capacity": mc,
                "mean_capacity_err": err, "wall_time": c.wall_time, **self.control,
                **({} if self.learning is None else {
                    "d2d_spread": self.learning.d2d_spread,
                    "x0_spread": self.learning.x0_spread,
                    "v_inhibit": self.learning.v_inhibit,
                    "v_normalize": self.learning.v_normalize})}


# ----------------------------------------------------------------------------- experiments
def capacity_vs_width(
    widths: Sequence[int],
    *,
    repetitions: int,
    seed: int,
    learning: CircuitConfig | None = None,
    max_steps: int | None = None,
    abstract: bool = True,
    progress: bool = False,
) -> list[StudyPoint]:
    """Experiment (a): capacity of ``[w/2, w, w/2]`` nets for each even width ``w``.

    Returns circuit points (kind ``"circuit"``) and, with ``abstract``, the Chialvo-Bak model
    on the same sizes (kind ``"abstract"``, its default config and a 10x larger budget).

    Raises
    ------
    ParameterError
        For an odd or too small width.

    Examples
    --------
    >>> pts = capacity_vs_width([4], repetitions=4, seed=0, abstract=False, max_steps=50)
    >>> pts[0].label, pts[0].capacity.P.tolist()
    ('layered_2x4x2', [1, 2])
    """
    points = []
    for w in widths:
        if w < 2 or w % 2:
            raise ParameterError("widths", f"widths must be even and >= 2, got {w}")
        f = LayeredFactory((w // 2, w, w // 2))
        res = capacity_curve(f, repetitions=repetitions, learning=learning, seed=seed,
                             max_steps=max_steps, progress=progress, label=f.name)
        points.append(StudyPoint("circuit", float(w), f.name, res,
                                 learning=learning or CircuitConfig()))
        if abstract:
            budget = None if max_steps is None else 10 * max_steps
            res = capacity_curve("abstract", abstract_sizes=f.sizes, repetitions=repetitions,
                                 seed=seed, max_steps=budget, progress=progress,
                                 label="abstract " + f.name)
            points.append(StudyPoint("abstract", float(w), "abstract " + f.name, res))
    return points


def symmetry_study(
    base: Sequence[int],
    *,
    spreads: Sequence[float],
    connectivities: Sequence[float],
    random_graphs: bool = True,
    repetitions: int,
    draws: int,
    seed: int,
    learning: CircuitConfig | None = None,
    max_steps: int | None = None,
    progress: bool = False,
) -> list[StudyPoint]:
    """Experiment (b): symmetry breaking on the base net ``base`` (one hidden layer or more).

    Kinds: ``"spread"`` (``d2d_spread = x0_spread = value``, full connectivity), ``"pruning"``
    (``connectivity = value``, default spread), ``"random"`` (G(n, p) graphs with the base
    net's node count, terminal counts and mean edge count, default spread).

    Examples
    --------
    >>> pts = symmetry_study((2, 4, 2), spreads=[0.0], connectivities=[], random_graphs=False,
    ...                      repetitions=4, draws=1, seed=0, max_steps=40)
    >>> pts[0].kind, pts[0].control["linear_mean"]
    ('spread', 0.1875)
    """
    cfg = CircuitConfig() if learning is None else learning
    base = tuple(int(s) for s in base)
    points = []
    full = LayeredFactory(base)
    for s in spreads:
        c = cfg.replace(d2d_spread=float(s), x0_spread=float(s))
        res = capacity_curve(full, repetitions=repetitions, learning=c, seed=seed,
                             max_steps=max_steps, progress=progress, label=f"spread {s:g}")
        ctl = controllability_stats(full, c, draws=draws, seed=seed)
        points.append(StudyPoint("spread", float(s), f"spread {s:g}", res, ctl, c))
    for conn in connectivities:
        f = LayeredFactory(base, connectivity=float(conn))
        res = capacity_curve(f, repetitions=repetitions, learning=cfg, seed=seed,
                             max_steps=max_steps, progress=progress, label=f.name)
        ctl = controllability_stats(f, cfg, draws=draws, seed=seed)
        points.append(StudyPoint("pruning", float(conn), f"connectivity {conn:g}", res, ctl,
                                 cfg))
    if random_graphs:
        n_nodes = sum(base)
        n_edges = sum(a * b for a, b in zip(base[:-1], base[1:], strict=True))
        p = n_edges / (n_nodes * (n_nodes - 1) / 2)
        f2 = RandomFactory(n_nodes, p, base[0], base[-1])
        res = capacity_curve(f2, repetitions=repetitions, learning=cfg, seed=seed,
                             max_steps=max_steps, progress=progress, label=f2.name)
        ctl = controllability_stats(f2, cfg, draws=draws, seed=seed)
        points.append(StudyPoint("random", p, f"random G({n_nodes}, {p:.2f})", res, ctl, cfg))
    return points


def depth_study(
    depths: Sequence[int],
    *,
    width: int,
    io: int,
    repetitions: int,
    draws: int,
    seed: int,
    learning: CircuitConfig | None = None,
    scale_voltages: bool = True,
    max_steps: int | None = None,
    progress: bool = False,
) -> list[StudyPoint]:
    """Experiment (c): nets ``[io] + [width] * d + [io]`` for each depth ``d``.

    With ``scale_voltages`` the write voltages grow with the number of devices in series on a
    path (``d + 1``), keeping the per-device voltage of the default protocol (tuned for two):
    ``v_inhibit * (d + 1) / 2`` and ``v_normalize * (d + 1) / 2``. Without it, deeper nets see
    less voltage per device and depth is confounded with a weaker protocol.

    Raises
    ------
    ParameterError
        For a depth below 1.

    Examples
    --------
    >>> pts = depth_study([1], width=4, io=2, repetitions=4, draws=1, seed=0, max_steps=40)
    >>> pts[0].label
    'depth 1'
    """
    cfg = CircuitConfig() if learning is None else learning
    points = []
    for d in depths:
        if d < 1:
            raise ParameterError("depths", f"depth is the number of hidden layers, >= 1; got {d}")
        f = LayeredFactory((io, *([width] * d), io))
        c = cfg
        if scale_voltages:
            c = cfg.replace(v_inhibit=cfg.v_inhibit * (d + 1) / 2,
                            v_normalize=cfg.v_normalize * (d + 1) / 2)
        res = capacity_curve(f, repetitions=repetitions, learning=c, seed=seed,
                             max_steps=max_steps, progress=progress, label=f"depth {d}")
        ctl = controllability_stats(f, c, draws=draws, seed=seed)
        points.append(StudyPoint("depth", float(d), f"depth {d}", res, ctl, c))
    return points


# ----------------------------------------------------------------------------- figures
def _bars(ax: Any, x: Any, pts: Sequence[StudyPoint], **kw: Any) -> None:
    mc = np.array([p.mean_capacity for p in pts])
    ax.errorbar(x, mc[:, 0], yerr=mc[:, 1], marker="o", capsize=3, **kw)


def plot_width(points: Sequence[StudyPoint], axes: Any = None) -> Any:
    """(a): capacity with its interval and mean capacity against width, circuit and abstract."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for kind, style in (("circuit", "-"), ("abstract", "--")):
        pts = [p for p in points if p.kind == kind]
        if not pts:
            continue
        w = np.array([p.value for p in pts])
        cap = np.array([p.capacity.capacity for p in pts])
        lo = np.array([p.capacity.capacity_interval[0] for p in pts])
        hi = np.array([p.capacity.capacity_interval[1] for p in pts])
        axes[0].errorbar(w, cap, yerr=[cap - lo, hi - cap], marker="o", capsize=3, ls=style,
                         label=kind)
        _bars(axes[1], w, pts, ls=style, label=kind)
        axes[1].plot(w, w / 2, color="gray", lw=0.8, ls=":")
    axes[0].set(xlabel="hidden width w (net [w/2, w, w/2])", ylabel="capacity",
                title="(a) capacity vs width")
    axes[1].set(xlabel="hidden width w", ylabel="mean capacity sum S(P)",
                title="(a) mean capacity (dotted: w/2 patterns)")
    widths = sorted({p.value for p in points})
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xticks(widths, [f"{w:g}" for w in widths])
        ax.minorticks_off()
        ax.legend(fontsize=8)
    return axes


def plot_symmetry(points: Sequence[StudyPoint], axes: Any = None) -> Any:
    """(b): device and linear controllability and mean capacity for every variant."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    spread = [p for p in points if p.kind == "spread"]
    prune = [p for p in points if p.kind == "pruning"]
    other = [p for p in points if p.kind == "random"]
    for ax, pts, xlabel in ((axes[0], spread, "device spread (d2d = x0 spread)"),
                            (axes[1], prune, "connectivity")):
        if not pts:
            continue
        x = np.array([p.value for p in pts])
        ax2 = ax.twinx()
        for key, color in (("device", "C1"), ("linear", "C2")):
            ax2.errorbar(x, [p.control[f"{key}_mean"] for p in pts],
                         yerr=[p.control[f"{key}_std"] for p in pts], color=color, marker="s",
                         capsize=3, ls="--", label=f"{key} controllability")
        _bars(ax, x, pts, color="C0", label="mean capacity")
        ax.set(xlabel=xlabel, ylabel="mean capacity")
        ax2.set(ylabel="controllability", ylim=(0, 1.05))
        ax2.legend(fontsize=7, loc="lower right")
        ax.legend(fontsize=7, loc="lower left")
    axes[0].set_title("(b) device spread")
    axes[1].set_title("(b) random pruning")
    allp = spread + prune + other
    if allp:
        mc = np.array([p.mean_capacity for p in allp])
        dc = np.array([p.control["device_mean"] for p in allp])
        dcs = np.array([p.control["device_std"] for p in allp])
        colors = {"spread": "C0", "pruning": "C3", "random": "C4"}
        for k in colors:
            idx = [i for i, p in enumerate(allp) if p.kind == k]
            if idx:
                axes[2].errorbar(dc[idx], mc[idx, 0], xerr=dcs[idx], yerr=mc[idx, 1],
                                 marker="o", ls="none", capsize=3, color=colors[k], label=k)
        axes[2].set(xlabel="device controllability", ylabel="mean capacity",
                    title="(b) all variants")
        axes[2].legend(fontsize=8)
    return axes


def plot_depth(points: Sequence[StudyPoint], axes: Any = None) -> Any:
    """(c): controllability and mean capacity against depth."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    d = np.array([p.value for p in points])
    for key, color in (("device", "C1"), ("linear", "C2")):
        axes[0].errorbar(d, [p.control[f"{key}_mean"] for p in points],
                         yerr=[p.control[f"{key}_std"] for p in points], marker="s",
                         capsize=3, color=color, label=f"{key}")
    axes[0].set(xlabel="depth (hidden layers)", ylabel="controllability", ylim=(0, 1.05),
                title="(c) controllability vs depth")
    axes[0].legend(fontsize=8)
    _bars(axes[1], d, points, color="C0")
    axes[1].set(xlabel="depth (hidden layers)", ylabel="mean capacity",
                title="(c) mean capacity vs depth")
    return axes


# ----------------------------------------------------------------------------- everything
def run_study(settings: str | StudySettings = "small", *, out: str | Path | None = None,
              progress: bool = False) -> dict[str, list[StudyPoint]]:
    """Run experiments (a), (b), (c); with ``out``, write ``study.json`` and the figures there.

    Raises
    ------
    ParameterError
        For an unknown settings name.
    """
    if isinstance(settings, str):
        if settings not in SETTINGS:
            raise ParameterError("settings", f"use one of {', '.join(SETTINGS)}, got "
                                 f"{settings!r}")
        st = SETTINGS[settings]
    else:
        st = settings
    started = time.perf_counter()
    results = {
        "width": capacity_vs_width(st.widths, repetitions=st.repetitions, seed=st.seed,
                                   max_steps=st.max_steps, progress=progress),
        "symmetry": symmetry_study(st.base, spreads=st.spreads, connectivities=st.connectivities,
                                   repetitions=st.repetitions, draws=st.draws, seed=st.seed,
                                   max_steps=st.max_steps, progress=progress),
        "depth": depth_study(st.depths, width=st.depth_width, io=st.depth_io,
                             repetitions=st.repetitions, draws=st.draws, seed=st.seed,
                             max_steps=st.max_steps, progress=progress),
    }
    wall = time.perf_counter() - started
    log.info("study finished in %.1f s", wall)
    if out is not None:
        import matplotlib.pyplot as plt

        path = Path(out)
        path.mkdir(parents=True, exist_ok=True)
        doc = {"settings": asdict(st), "wall_time": wall,
               **{k: [p.to_dict() for p in v] for k, v in results.items()}}
        (path / "study.json").write_text(json.dumps(doc, indent=1))
        for name, fn in (("width", plot_width), ("symmetry", plot_symmetry),
                         ("depth", plot_depth)):
            axes = fn(results[name])
            fig = np.ravel(axes)[0].figure
            fig.tight_layout()
            fig.savefig(path / f"{name}.png", dpi=120)
            plt.close(fig)
    return results
