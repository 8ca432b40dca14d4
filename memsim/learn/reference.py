"""Plain-NumPy twins of the learning kernels, used only by the tests to check them.

They follow the same protocol step by step but integrate the pulses with
:func:`memsim.solve.reference.pulse_np` (SciPy factorizations, SciPy component search) and
draw the same random numbers in the same order, so a kernel run and its twin agree to
rounding.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from memsim.circuit.network import Network
from memsim.devices.models import Model
from memsim.devices.nonideal_reference import (
    cycle_update_np,
    noisy_conductances_np,
    quantize_states_np,
)
from memsim.devices.reference import conductances_np
from memsim.learn.config import CircuitConfig
from memsim.solve.reference import pulse_np

__all__ = ["hopeless_np", "pulse_np", "train_circuit_np", "train_extremal_np"]


def _writable_np(model: np.ndarray, params: np.ndarray) -> np.ndarray:
    return np.flatnonzero((model != Model.RESISTOR) & (params[:, 0] > 0)
                          & (params[:, 0] < params[:, 1]))


def _after_write_np(x_old: np.ndarray, x_new: np.ndarray, params: np.ndarray,
                    writable: np.ndarray, c: CircuitConfig, rng: np.random.Generator
                    ) -> np.ndarray:
    out = cycle_update_np(x_old, x_new, c.c2c_noise, c.c2c_absolute, rng)
    if c.levels:
        u = np.array([rng.random() for _ in writable]) if c.levels_stochastic else np.zeros(0)
        out = quantize_states_np(out, params, writable, c.levels, 0.0, 0.0, u)
    return out


def _read_params_np(params: np.ndarray, x: np.ndarray, writable: np.ndarray,
                    c: CircuitConfig, rng: np.random.Generator) -> np.ndarray:
    p = params.copy()
    r_on, r_off = params[writable, 0], params[writable, 1]
    g = 1.0 / (r_off - x[writable] * (r_off - r_on))
    noisy = noisy_conductances_np(g, c.read_noise, c.read_noise_absolute,
                                  rng.standard_normal((2, writable.size)))
    f = np.maximum(noisy / g, 1e-12)
    p[writable, 0] = r_on / f
    p[writable, 1] = r_off / f
    return p


def hopeless_np(net: Network, model: np.ndarray, patterns: np.ndarray,
                era_targets: np.ndarray) -> int:
    """Twin of :func:`memsim.learn.kernels.hopeless` over all eras of ``era_targets``, by
    connected components of the live graph (0: some era can still be learned; 1: dead input;
    2: no path)."""
    live = net.edges[model != Model.OPEN]
    adj = sp.coo_matrix((np.ones(len(live)), (live[:, 0], live[:, 1])),
                        shape=(net.n_nodes, net.n_nodes))
    _, comp = connected_components(adj, directed=False)
    has_edge = np.zeros(net.n_nodes, bool)
    has_edge[live.ravel()] = True
    reasons = []
    for targets in era_targets:
        why = 0
        for p, pat in enumerate(patterns):
            act = net.inputs[pat != 0]
            if comp[net.outputs[targets[p]]] not in comp[act]:
                why = 2
                if not has_edge[act].any():
                    why = 1
                    break
        if why == 0:
            return 0
        reasons.append(why)
    return reasons[0] if reasons else 0


def train_circuit_np(net: Network, params: np.ndarray, x0: np.ndarray, patterns: np.ndarray,
                     era_targets: np.ndarray, config: CircuitConfig, max_steps: int,
                     rng: np.random.Generator, model: np.ndarray | None = None) -> dict:
    """Twin of :func:`memsim.learn.kernels.train_circuit` (records as a dict); ``model``:
    the run's device models (default the network's; stuck devices are resistors)."""
    c = config
    tol = -1.0 if c.pulse_tol is None else c.pulse_tol
    cur = net.with_params(params) if model is None else \
        net.replace(model=np.asarray(model), params=np.asarray(params, float))
    model = cur.model.copy()
    writable = _writable_np(model, cur.params)
    noisy_reads = c.read_noise > 0 or c.read_noise_absolute > 0
    x = x0.copy()
    n_in, n_out = len(net.inputs), len(net.outputs)
    pruned_at = np.full(net.n_edges, -1)
    rec: dict[str, list] = {k: [] for k in ("pattern", "winner", "correct", "era", "iout",
                                             "energy", "power", "states")}
    era_info = np.zeros((len(era_targets), 5), np.int64)
    order = np.arange(len(patterns))
    t = 0
    stopped = 0

    def prune(x: np.ndarray) -> bool:
        nonlocal cur
        if c.prune_state is None:
            return False
        changed = False
        for e in range(net.n_edges):
            live = model[e] not in (Model.OPEN, Model.RESISTOR)
            if live and x[e] <= c.prune_state:
                if c.prune_probability >= 1.0 or rng.random() < c.prune_probability:
                    model[e] = Model.OPEN
                    pruned_at[e] = t
                    changed = True
        if changed:
            cur = cur.replace(model=model.copy())
        return changed

    def inactive_driven(active: np.ndarray) -> np.ndarray:
        return active | (c.inactive_inputs == "ground")

    for era, targets in enumerate(era_targets):
        steps = mistakes = 0
        era_info[era, 1] = -1
        if c.stop_when_dead and not stopped:
            stopped = hopeless_np(net, model, patterns, era_targets[era:])
        era_info[era, 4] = stopped
        if stopped:
            continue
        order = np.arange(len(patterns))
        while steps < max_steps and not era_info[era, 0] and not stopped:
            if c.shuffle:
                for j in range(len(order) - 1, 0, -1):
                    q = rng.integers(0, j + 1)
                    order[j], order[q] = order[q], order[j]
            pass_mistakes = done = 0
            for p in order.copy():
                if steps >= max_steps:
                    break
                pat = patterns[p]
                cut = False
                active = pat != 0
                v_read = np.where(active, c.v_read * pat, 0.0)
                reader = cur
                if noisy_reads:
                    reader = cur.replace(params=_read_params_np(cur.params, x, writable, c,
                                                                rng))
                x_new, e_read, res = pulse_np(reader, x, v_read, inactive_driven(active),
                                              np.ones(n_out, bool), c.t_read, c.substeps, tol,
                                              c.event_tol)
                iout = res.output_currents
                power = float(res.power)
                x = x_new
                w = int(np.argmax(iout)) if iout.max() > c.min_current else -1
                ok = w == targets[p]
                e_inh = e_norm = 0.0
                if not ok:
                    pass_mistakes += 1
                    mistakes += 1
                    if w >= 0:
                        only = np.zeros(n_out, bool)
                        only[w] = True
                        xn, e_inh, _ = pulse_np(cur, x, np.where(active, c.v_inhibit * pat, 0.0),
                                                inactive_driven(active), only, c.t_inhibit,
                                                c.substeps, tol, c.event_tol)
                        x = _after_write_np(x, xn, cur.params, writable, c, rng)
                        cut |= prune(x)
                    xn, e_norm, _ = pulse_np(cur, x, np.full(n_in, c.v_normalize),
                                             np.ones(n_in, bool), np.ones(n_out, bool),
                                             c.t_normalize, c.substeps, tol, c.event_tol)
                    x = _after_write_np(x, xn, cur.params, writable, c, rng)
                    cut |= prune(x)
                for key, val in (("pattern", p), ("winner", w), ("correct", ok), ("era", era),
                                 ("iout", iout), ("energy", [e_read, e_inh, e_norm]),
                                 ("power", power), ("states", x.copy())):
                    rec[key].append(val)
                t += 1
                steps += 1
                done += 1
                if c.stop_when_dead and cut:
                    stopped = hopeless_np(net, model, patterns, era_targets[era:])
                    if stopped:
                        era_info[era, 4] = stopped
                        break
            if done == len(order) and pass_mistakes == 0:
                era_info[era, :2] = 1, steps
        era_info[era, 2:4] = steps, mistakes
    out = {k: np.array(v) for k, v in rec.items()}
    out.update(era_info=era_info, x=x, pruned_at=pruned_at)
    g = conductances_np(cur.model, x, cur.params)
    out["conductances"] = g
    return out


def train_extremal_np(weights: list[np.ndarray], patterns: np.ndarray, era_targets: np.ndarray,
                      delta: float, selective: float, shuffle: bool, max_steps: int,
                      rng: np.random.Generator) -> dict:
    """Twin of :func:`memsim.learn.kernels.train_extremal` on a list of weight matrices."""
    w = [m.copy() for m in weights]
    tags = [np.zeros(m.shape, bool) for m in w]

    def argmax_random(values: np.ndarray) -> int:
        top = np.flatnonzero(values == values.max())
        return int(top[0]) if top.size == 1 else int(top[rng.integers(0, top.size)])

    def forward(pat: np.ndarray) -> list[int]:
        path = [argmax_random(pat @ w[0])]
        for m in w[1:]:
            path.append(argmax_random(m[path[-1]]))
        return path

    rec: dict[str, list] = {"pattern": [], "winner": [], "correct": [], "era": []}
    era_info = np.zeros((len(era_targets), 4), np.int64)
    order = np.arange(len(patterns))
    for era, targets in enumerate(era_targets):
        steps = mistakes = 0
        era_info[era, 1] = -1
        order = np.arange(len(patterns))
        while steps < max_steps and not era_info[era, 0]:
            if shuffle:
                for j in range(len(order) - 1, 0, -1):
                    q = rng.integers(0, j + 1)
                    order[j], order[q] = order[q], order[j]
            pass_mistakes = done = 0
            for p in order.copy():
                if steps >= max_steps:
                    break
                pat = patterns[p]
                path = forward(pat)
                ok = path[-1] == targets[p]
                synapses: list[tuple[int, tuple[int, int]]] = [
                    (0, (int(i), path[0])) for i in np.flatnonzero(pat != 0)]
                synapses += [(layer, (path[layer - 1], path[layer]))
                             for layer in range(1, len(w))]
                for layer, ij in synapses:
                    if ok:
                        tags[layer][ij] = True
                    else:
                        d = delta * selective if tags[layer][ij] else delta
                        w[layer][ij] = max(w[layer][ij] - d, 0.0)
                if not ok:
                    pass_mistakes += 1
                    mistakes += 1
                for key, val in (("pattern", p), ("winner", path[-1]), ("correct", ok),
                                 ("era", era)):
                    rec[key].append(val)
                steps += 1
                done += 1
            if done == len(order) and pass_mistakes == 0:
                era_info[era, :2] = 1, steps
        era_info[era, 2:] = steps, mistakes
    out: dict[str, object] = {k: np.array(v) for k, v in rec.items()}
    out.update(era_info=era_info, weights=w)
    return out
