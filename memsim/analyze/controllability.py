"""Controllability: how many independent directions can terminal-only training move devices in?

Definition (the project's own)
------------------------------
The seed paper gives no formula; docs/concepts.md ("Controllability") states this one in full,
with its bounds and the numerical-rank thresholds. Fix the network's state. For each terminal
configuration ``c`` (which inputs are driven, which outputs grounded) the edge voltages are
linear in the driven input voltages, ``v = T_c u``. Stack the maps of every configuration the
training algorithm may use, ``K = [T_c1, T_c2, ...]``, keep the memristors' rows, and define

    controllability = rank(K) / number of memristors.

In the linear regime ``dx_e/dt`` is proportional to ``v_e``, so ``rank(K)`` is the dimension of
the device-state directions terminal drives can produce. ``rank(K) <= T - 1`` for ``T``
terminals whatever the configurations (a floating terminal sits at a voltage some all-fixed
configuration also gives), so in the linear regime symmetry hardly matters;
:attr:`Controllability.ceiling` and :attr:`Controllability.symmetric_groups` report the bound
and the tied edges.

``mode="device"`` (memsim's extension) stacks the normalized device velocity vectors
``dx/dt = rate(x, v)`` over drive amplitudes up to ``v_max`` instead, so it counts the groups of
devices (e.g. threshold devices) that can be moved separately: symmetry lowers it, device
spread and pruning raise it.

Ranks count singular values above ``rtol`` times the largest (``1e-8``: room for the round-off
of Cholesky solves up to ``cond ~ 1e7``); the device mode thresholds the Gram matrix's
spectrum at ``1e-6`` because the Gram matrix squares the condition number. The normalized
spectrum is returned, so the gap can be inspected.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
from numba import njit

from memsim.circuit.network import Network
from memsim.devices.kernels import conductances, rate
from memsim.devices.models import Model
from memsim.errors import ParameterError
from memsim.solve.dc import NodalSystem
from memsim.solve.topology import Terminals, check_state

__all__ = [
    "Configuration",
    "Controllability",
    "configurations",
    "controllability",
    "response_matrix",
    "velocity_matrix",
]

log = logging.getLogger(__name__)

MAX_CONFIGS = 20_000
"""Largest number of terminal configurations :func:`controllability` will stack."""


@dataclass(frozen=True)
class Configuration:
    """One terminal configuration.

    Attributes
    ----------
    fixed : (n_inputs,) bool
        Inputs held at a voltage (the others float).
    varied : (n_inputs,) bool
        Inputs whose voltage is a control (a subset of ``fixed``); fixed but not varied inputs
        sit at 0 V (grounded inactive inputs).
    grounded : (n_outputs,) bool
        Outputs held at 0 V (the others float).
    label : str
    """

    fixed: np.ndarray
    varied: np.ndarray
    grounded: np.ndarray
    label: str = ""


def _mask(indices: Sequence[int], n: int) -> np.ndarray:
    out = np.zeros(n, bool)
    out[list(indices)] = True
    return out


def configurations(
    net: Network,
    kind: Literal["learning", "all"] = "learning",
    *,
    patterns: Literal["one_hot", "binary"] = "one_hot",
    inactive_inputs: Literal["float", "ground"] = "float",
) -> list[Configuration]:
    """The terminal configurations a training algorithm may use.

    ``"learning"`` is learning from mistakes (:mod:`memsim.learn.circuit`): for every set of
    active inputs a pattern may have (single inputs for one-hot patterns, every nonempty subset
    for binary ones) a *read* (all outputs grounded) and an *inhibition* towards each output
    (only that output grounded); plus *normalization* (all inputs driven, all outputs
    grounded). Inactive inputs float or are grounded, as in
    :class:`memsim.learn.CircuitConfig`. ``"all"`` is every nonempty set of driven inputs
    with every nonempty set of grounded outputs (the rest float), as in the definition
    (docs/concepts.md).

    Raises
    ------
    ParameterError
        For an unknown ``kind``, ``patterns`` or ``inactive_inputs``, or more than
        :data:`MAX_CONFIGS` configurations.

    Examples
    --------
    >>> import memsim
    >>> net = memsim.layered([2, 4, 2], device=memsim.devices.preset("pershin2011"))
    >>> len(configurations(net)), len(configurations(net, "all"))
    (7, 9)
    """
    n_in, n_out = len(net.inputs), len(net.outputs)
    if kind not in ("learning", "all"):
        raise ParameterError("configurations", f"use 'learning', 'all' or a list, got {kind!r}")
    if patterns not in ("one_hot", "binary"):
        raise ParameterError("patterns", f"use 'one_hot' or 'binary', got {patterns!r}")
    if inactive_inputs not in ("float", "ground"):
        raise ParameterError("inactive_inputs", f"use 'float' or 'ground', got "
                             f"{inactive_inputs!r}")
    if n_in < 1 or n_out < 1:
        raise ParameterError("net", "needs at least one input and one output terminal")
    all_out = np.ones(n_out, bool)
    all_in = np.ones(n_in, bool)

    def subsets(n: int) -> list[tuple[int, ...]]:
        return [c for r in range(1, n + 1) for c in itertools.combinations(range(n), r)]

    if kind == "all":
        count = (2**n_in - 1) * (2**n_out - 1)
        if count > MAX_CONFIGS:
            raise ParameterError("configurations", f"'all' means {count} configurations for "
                                 f"{n_in} inputs and {n_out} outputs; use 'learning'")
        return [Configuration(_mask(d, n_in), _mask(d, n_in), _mask(g, n_out), f"in{d} out{g}")
                for d in subsets(n_in) for g in subsets(n_out)]
    active: list[tuple[int, ...]]
    if patterns == "one_hot":
        active = [(k,) for k in range(n_in)]
    else:
        if (2**n_in - 1) * (n_out + 1) > MAX_CONFIGS:
            raise ParameterError("patterns", f"binary patterns on {n_in} inputs give too many "
                                 "configurations; use 'one_hot'")
        active = subsets(n_in)
    out: list[Configuration] = []
    for a in active:
        varied = _mask(a, n_in)
        fixed = all_in.copy() if inactive_inputs == "ground" else varied
        out.append(Configuration(fixed, varied, all_out, f"read in{a}"))
        if n_out > 1:
            for j in range(n_out):
                out.append(Configuration(fixed, varied, _mask([j], n_out),
                                         f"inhibit in{a} out{j}"))
    out.append(Configuration(all_in, all_in.copy(), all_out, "normalize"))
    # drop duplicates (e.g. a single input: read == normalize)
    seen: set[tuple[bytes, bytes, bytes]] = set()
    unique = []
    for c in out:
        key = (c.fixed.tobytes(), c.varied.tobytes(), c.grounded.tobytes())
        if key not in seen:
            seen.add(key)
            unique.append(c)
    return unique


def _as_configs(net: Network, spec: str | Sequence[Any], patterns: str,
                inactive_inputs: str) -> list[Configuration]:
    if isinstance(spec, str):
        return configurations(net, spec, patterns=patterns,  # type: ignore[arg-type]
                              inactive_inputs=inactive_inputs)  # type: ignore[arg-type]
    n_in, n_out = len(net.inputs), len(net.outputs)
    out = []
    for k, c in enumerate(spec):
        if isinstance(c, Configuration):
            cfg = c
        elif isinstance(c, Terminals):
            cfg = Configuration(c.driven, c.driven, c.grounded, f"config {k}")
        else:
            try:
                driven, grounded = c
            except (TypeError, ValueError):
                raise ParameterError("configurations", f"entry {k}: give (driven mask, grounded "
                                     "mask), a Terminals or a Configuration") from None
            d = np.asarray(driven, bool)
            cfg = Configuration(d, d, np.asarray(grounded, bool), f"config {k}")
        if cfg.fixed.shape != (n_in,) or cfg.varied.shape != (n_in,) \
                or cfg.grounded.shape != (n_out,):
            raise ParameterError("configurations", f"entry {k}: masks need {n_in} input and "
                                 f"{n_out} output entries")
        if (cfg.varied & ~cfg.fixed).any():
            raise ParameterError("configurations", f"entry {k}: varied inputs must be fixed")
        out.append(cfg)
    if not out:
        raise ParameterError("configurations", "need at least one configuration")
    return out


def response_matrix(net: Network, configs: Sequence[Configuration],
                    state: np.ndarray | None = None) -> np.ndarray:
    """The stacked map ``K`` (E x columns): edge voltages per volt on each varied input of
    each configuration (one nodal factorization per configuration).

    Examples
    --------
    >>> import networkx as nx, memsim
    >>> net = memsim.from_networkx(nx.path_graph(3), inputs=[0], outputs=[2],
    ...                            device=memsim.devices.Resistor(1.0))
    >>> response_matrix(net, configurations(net)).round(12).T.tolist()
    [[0.5, 0.5]]
    """
    x = check_state(net, state)
    g = conductances(net.model, x, net.params)
    n_in = len(net.inputs)
    blocks = []
    for c in configs:
        cols = np.flatnonzero(c.varied)
        if cols.size == 0:
            continue
        system = NodalSystem(net, g, Terminals(driven=c.fixed, grounded=c.grounded), warn=False)
        drive = np.zeros((n_in, cols.size))
        drive[cols, np.arange(cols.size)] = 1.0
        v = system.solve(drive)
        blocks.append(v[net.edges[:, 0]] - v[net.edges[:, 1]])
    if not blocks:
        return np.zeros((net.n_edges, 0))
    return np.hstack(blocks)


@dataclass(frozen=True)
class Controllability:
    """The result of :func:`controllability`.

    Attributes
    ----------
    score : float
        ``rank / n_memristors`` (docs/concepts.md).
    rank : int
        Numerical rank of the stacked map over the memristors.
    n_memristors : int
    ceiling : int
        Linear mode: ``rank(B_mem)``, the largest rank edge voltages can have at all (the
        tighter bound ``T - 1`` is explained in the module docstring). Device mode: the number
        of memristors.
    singular_values : ndarray
        Singular values of ``K`` divided by the largest (descending).
    rtol : float
        Relative threshold used for the rank.
    reachable : (E,) bool
        Memristors some control puts a voltage across (False for non-memristive edges).
    unreachable : tuple of str
        Names of the memristors no control can move.
    symmetric_groups : tuple of tuple of int
        Groups (size >= 2) of memristors with identical voltages under every control.
    configurations : tuple of Configuration
    response : (E, columns) ndarray
        Linear mode: the stacked map ``K`` (rows of non-memristive edges included). Device
        mode: a random 64-column projection of the normalized velocity vectors.
    edge_names : tuple of str
    mode : str
    """

    score: float
    rank: int
    n_memristors: int
    ceiling: int
    singular_values: np.ndarray
    rtol: float
    reachable: np.ndarray
    unreachable: tuple[str, ...]
    symmetric_groups: tuple[tuple[int, ...], ...]
    configurations: tuple[Configuration, ...]
    response: np.ndarray
    edge_names: tuple[str, ...]
    mode: str = "linear"

    @property
    def symmetric_pairs(self) -> list[tuple[int, int]]:
        """Every pair of memristors inside a symmetric group."""
        return [p for grp in self.symmetric_groups for p in itertools.combinations(grp, 2)]

    def summary(self) -> str:
        gap = ""
        sv = self.singular_values
        if 0 < self.rank < sv.size:
            gap = f", spectral gap {sv[self.rank - 1]:.2e} -> {sv[self.rank]:.2e}"
        lines = [f"{self.mode} controllability {self.score:.3f} = rank {self.rank} / "
                 f"{self.n_memristors} memristors (ceiling {self.ceiling}, "
                 f"{len(self.configurations)} configurations{gap})"]
        if self.unreachable:
            lines.append("  unreachable: " + ", ".join(self.unreachable[:12])
                         + (" ..." if len(self.unreachable) > 12 else ""))
        for grp in self.symmetric_groups[:8]:
            lines.append("  symmetric: " + ", ".join(self.edge_names[e] for e in grp))
        return "\n".join(lines)

    def plot_spectrum(self, ax=None):  # noqa: ANN001, ANN201 - matplotlib types are optional
        """The normalized singular values on a log scale with the rank threshold."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 3.2))
        k = np.arange(1, self.singular_values.size + 1)
        ax.semilogy(k, np.maximum(self.singular_values, 1e-18), "o-", ms=3)
        ax.axhline(self.rtol, color="gray", ls=":", label=f"rtol = {self.rtol:g}")
        ax.set(xlabel="index", ylabel="sigma / sigma_max",
               title=f"rank {self.rank} of {self.n_memristors}")
        ax.legend(fontsize=8)
        return ax


def _groups(rows: np.ndarray, tol: float) -> list[tuple[int, ...]]:
    """Groups of rows equal within ``tol`` in every entry (connected components of the
    'equal' relation)."""
    from scipy.spatial import cKDTree

    if rows.shape[0] < 2:
        return []
    tree = cKDTree(rows)
    pairs = tree.query_pairs(r=tol, p=np.inf, output_type="ndarray")
    if pairs.size == 0:
        return []
    n = rows.shape[0]
    adj = sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = csgraph.connected_components(adj, directed=False)
    groups: dict[int, list[int]] = {}
    for i, lab in enumerate(label):
        groups.setdefault(int(lab), []).append(i)
    return [tuple(v) for v in groups.values() if len(v) > 1]


@njit(cache=True)
def velocity_matrix(model, x, v, params):
    """Device rates ``dx/dt`` (E, C) for edge-voltage columns ``v`` (E, C) at states ``x``.

    >>> import numpy as np
    >>> from memsim.devices import Threshold
    >>> d = Threshold(r_on=1e3, r_off=1e4, alpha=0.0, beta=9e3, v_t=1.0)
    >>> velocity_matrix(np.array([int(d.model)]), np.array([0.5]), np.array([[0.5, 2.0]]),
    ...                 d.row()[None, :]).tolist()  # below threshold: still; 1 V above: 1/s
    [[0.0, 1.0]]
    """
    out = np.empty(v.shape)
    for c in range(v.shape[1]):
        for e in range(v.shape[0]):
            out[e, c] = rate(model[e], x[e], v[e, c], params[e])
    return out


def _thresholds(net: Network) -> list[np.ndarray]:
    """Edge voltages at which each device's rate law changes form (its kinks)."""
    out = []
    for m, p in zip(net.model, net.params, strict=True):
        if m == Model.THRESHOLD:
            out.append(np.array([-p[4], 0.0, p[4]]))
        elif m == Model.VTEAM:
            out.append(np.array([p[4], 0.0, p[5]]))
        else:
            out.append(np.array([0.0]))
    return out


def _amplitudes(column: np.ndarray, kinks: list[np.ndarray], mem: np.ndarray, v_max: float,
                samples: int) -> np.ndarray:
    """Drive amplitudes of a one-input configuration: two inside every interval between the
    amplitudes where some device crosses a kink, plus a uniform grid."""
    pts = [np.array([-v_max, 0.0, v_max])]
    scale = np.abs(column).max()
    for e in np.flatnonzero(mem & (np.abs(column) > 1e-12 * max(scale, 1e-300))):
        a = kinks[e] / column[e]
        pts.append(a[np.abs(a) <= v_max])
    b = np.unique(np.concatenate(pts))
    # Kinks of devices that see the same voltage up to rounding must coincide: merge
    # breakpoints closer than 1e-9 v_max, else a sliver between them would split symmetric
    # devices that no real drive can tell apart.
    b = b[np.concatenate([[True], np.diff(b) > 1e-9 * v_max])]
    inner = np.concatenate([b[:-1] + (b[1:] - b[:-1]) / 3, b[:-1] + 2 * (b[1:] - b[:-1]) / 3])
    return np.unique(np.concatenate([inner, np.linspace(-v_max, v_max, samples)]))


def _device_span(net: Network, configs: Sequence[Configuration], x: np.ndarray, v_max: float,
                 samples: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gram matrix of the normalized velocity vectors, a random projection of their rows
    (for symmetry detection) and the largest |velocity| of every row (normalized)."""
    g = conductances(net.model, x, net.params)
    mem = net.memristive
    kinks = _thresholds(net)
    rng = np.random.default_rng(seed)
    e = net.n_edges
    n_in = len(net.inputs)
    gram = np.zeros((e, e))
    proj = np.zeros((e, 64))
    peak = np.zeros(e)
    for c in configs:
        cols = np.flatnonzero(c.varied)
        if cols.size == 0:
            continue
        system = NodalSystem(net, g, Terminals(driven=c.fixed, grounded=c.grounded), warn=False)
        unit = np.zeros((n_in, cols.size))
        unit[cols, np.arange(cols.size)] = 1.0
        vu = system.solve(unit)
        k = vu[net.edges[:, 0]] - vu[net.edges[:, 1]]  # (E, m)
        if cols.size == 1:
            u = _amplitudes(k[:, 0], kinks, mem, v_max, samples)[None, :]
        else:
            u = rng.uniform(-v_max, v_max, (cols.size, samples))
            u = np.hstack([u, v_max * np.ones((cols.size, 1)), -v_max * np.ones((cols.size, 1)),
                           0.5 * v_max * np.ones((cols.size, 1))])
        vel = velocity_matrix(net.model, x, k @ u, net.params)
        vel[~mem] = 0.0
        norms = np.linalg.norm(vel, axis=0)
        keep = norms > 0
        if not keep.any():
            continue
        vel = vel[:, keep] / norms[keep]
        gram += vel @ vel.T
        proj += vel @ rng.standard_normal((vel.shape[1], 64))
        peak = np.maximum(peak, np.abs(vel).max(axis=1))
    return gram, proj, peak


def controllability(
    net: Network,
    state: np.ndarray | None = None,
    *,
    configurations: str | Sequence[Any] = "learning",
    patterns: Literal["one_hot", "binary"] = "one_hot",
    inactive_inputs: Literal["float", "ground"] = "float",
    mode: Literal["linear", "device"] = "linear",
    v_max: float = 4.0,
    samples: int = 16,
    seed: int = 0,
    rtol: float | None = None,
    symmetry_rtol: float = 1e-9,
) -> Controllability:
    """Controllability of ``net`` in ``state`` (definitions in the module docstring).

    Parameters
    ----------
    net : Network
    state : array (E,), optional
        Device states (default ``net.x0``).
    configurations : "learning", "all", or a sequence
        Terminal configurations to stack (:func:`configurations`); a sequence holds
        :class:`Configuration` objects, :class:`memsim.solve.Terminals`, or
        ``(driven mask, grounded mask)`` pairs.
    patterns, inactive_inputs
        Passed to :func:`configurations` for ``"learning"``.
    mode : {"linear", "device"}
        ``"linear"``: the rank of the stacked drive-to-edge-voltage map (docs/concepts.md).
        ``"device"``: the rank of the device velocity vectors the drives can produce.
    v_max : float
        Largest drive amplitude in volts (device mode); 4 V covers the default learning
        protocol (inhibition at -4 V).
    samples : int
        Uniform amplitude grid per one-input configuration, random drive vectors per
        several-input configuration (device mode).
    seed : int
        Seeds the random drive vectors and the projection used to find symmetric devices
        (device mode).
    rtol : float, optional
        Singular values above ``rtol * sigma_max`` count towards the rank (default 1e-8 in
        linear mode, 1e-6 in device mode). Devices whose response never exceeds
        ``rtol`` times the largest are unreachable.
    symmetry_rtol : float
        Two memristors are symmetric if their responses differ by at most
        ``symmetry_rtol`` times the largest entry, in every entry.

    Returns
    -------
    Controllability

    Raises
    ------
    ParameterError
        Bad state, mode, tolerances, sampling or configurations, or no memristor.

    Examples
    --------
    Identical devices in a 2-4-2 net: the four hidden nodes always share one potential, so
    the sixteen devices fall into four groups that always see the same voltage.

    >>> import memsim
    >>> net = memsim.layered([2, 4, 2], device=memsim.devices.preset("pershin2011"))
    >>> c = controllability(net)
    >>> c.rank, c.score, len(c.symmetric_groups)  # linear: rank <= terminals - 1 = 3
    (3, 0.1875, 4)
    >>> controllability(net, mode="device").rank  # one direction per group
    4
    >>> controllability(net.with_spread(0.2, seed=1), mode="device").rank > 4
    True
    """
    if mode not in ("linear", "device"):
        raise ParameterError("mode", f"use 'linear' or 'device', got {mode!r}")
    rtol = (1e-8 if mode == "linear" else 1e-6) if rtol is None else rtol
    if not (0 < rtol < 1) or not (0 < symmetry_rtol < 1):
        raise ParameterError("rtol", f"tolerances must lie in (0, 1), got {rtol!r}, "
                             f"{symmetry_rtol!r}")
    if not (np.isfinite(v_max) and v_max > 0):
        raise ParameterError("v_max", f"must be a positive voltage, got {v_max!r}")
    if isinstance(samples, bool) or not isinstance(samples, int | np.integer) or samples < 1:
        raise ParameterError("samples", f"must be an integer >= 1, got {samples!r}")
    mem = net.memristive
    if not mem.any():
        raise ParameterError("net", f"network {net.name!r} has no memristor to control")
    configs = _as_configs(net, configurations, patterns, inactive_inputs)
    mem_idx = np.flatnonzero(mem)
    x = check_state(net, state)
    if mode == "linear":
        k_all = response_matrix(net, configs, x)
        k = k_all[mem]
        scale = float(np.abs(k).max()) if k.size else 0.0
        if scale > 0:
            sv = np.linalg.svd(k, compute_uv=False)
            sv = sv / sv[0]
            reach_mem = np.abs(k).max(axis=1) > rtol * scale
            groups = _groups(k / scale, symmetry_rtol)
        else:
            sv = np.zeros(min(k.shape))
            reach_mem = np.zeros(mem_idx.size, bool)
            groups = []
        response = k_all
    else:
        gram, proj, peak = _device_span(net, configs, x, float(v_max), int(samples), seed)
        gm = gram[np.ix_(mem_idx, mem_idx)]
        ev = np.clip(np.linalg.eigvalsh(gm)[::-1], 0.0, None)
        sv = np.sqrt(ev / ev[0]) if ev.size and ev[0] > 0 else np.zeros(ev.size)
        reach_mem = peak[mem_idx] > rtol * max(peak.max(), 1e-300)
        pm = proj[mem_idx]
        pscale = float(np.abs(pm).max())
        groups = _groups(pm / pscale, symmetry_rtol) if pscale > 0 else []
        response = proj
    rank = int(np.sum(sv > rtol))
    reachable = np.zeros(net.n_edges, bool)
    reachable[mem_idx] = reach_mem
    # unreachable devices are trivially "equal" (all zero): report them only as unreachable
    sym = tuple(tuple(int(mem_idx[i]) for i in grp) for grp in groups
                if reach_mem[list(grp)].all())
    live_mem = mem & (net.model != Model.OPEN)
    ends = net.edges[live_mem]
    adj = sp.coo_matrix((np.ones(len(ends)), (ends[:, 0], ends[:, 1])),
                        shape=(net.n_nodes, net.n_nodes))
    n_comp, _ = csgraph.connected_components(adj, directed=False)
    n_mem = int(mem_idx.size)
    ceiling = int(net.n_nodes - n_comp) if mode == "linear" else n_mem
    result = Controllability(
        score=rank / n_mem, rank=rank, n_memristors=n_mem, ceiling=ceiling,
        singular_values=sv, rtol=rtol, reachable=reachable,
        unreachable=tuple(net.edge_names[i] for i in mem_idx[~reach_mem]),
        symmetric_groups=sym, configurations=tuple(configs), response=response,
        edge_names=tuple(net.edge_names), mode=mode,
    )
    log.debug("%s", result.summary())
    return result
