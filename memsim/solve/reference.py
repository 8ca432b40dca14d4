"""Plain-NumPy twin of the pulse integrator (:mod:`memsim.solve.pulse`), used only by tests.

It follows the same blocks, steps and stages, but finds the blocks with SciPy's connected
components, solves the circuit with :func:`memsim.solve_dc` (SciPy factorizations) and the
device law with :func:`memsim.devices.reference.drift_np`, so a kernel pulse and its twin
agree to rounding.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from memsim.circuit.network import Network
from memsim.devices.models import Model
from memsim.devices.reference import conductances_np, drift_np, drift_slope_np
from memsim.errors import FloatingSubnetworkWarning
from memsim.solve.dc import DCResult, solve_dc
from memsim.solve.pulse import (
    EVENT_TOL,
    LANDED,
    MAX_EVENT_TRIES,
    MAX_PULSE_STEPS,
    MIN_EVENT_STEP,
)
from memsim.solve.rk import DP_A, DP_B4, DP_B5, accept_factor, reject_factor

__all__ = ["pulse_np"]


def _solve(net: Network, x: np.ndarray, v_in: np.ndarray, driven: np.ndarray,
           grounded: np.ndarray) -> DCResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FloatingSubnetworkWarning)
        return solve_dc(net, v_in, state=x, outputs=grounded, floating_inputs=~driven,
                        method="direct")


def _blocks(net: Network, free: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(nodes, edges) of each component of the free nodes, then (no nodes, held edges)."""
    live = net.model != Model.OPEN
    e = net.edges
    both = live & free[e[:, 0]] & free[e[:, 1]]
    adj = sp.coo_matrix((np.ones(both.sum()), (e[both, 0], e[both, 1])),
                        shape=(net.n_nodes, net.n_nodes))
    _, comp = connected_components(adj, directed=False)
    comp = np.where(free, comp, -1)
    ids = sorted(set(comp[free]), key=lambda c: np.flatnonzero(comp == c)[0])
    end = np.where(free[e[:, 0]], comp[e[:, 0]], comp[e[:, 1]])
    out = [(np.flatnonzero(comp == c), np.flatnonzero(live & (end == c))) for c in ids]
    out.append((np.zeros(0, int), np.flatnonzero(live & (end == -1))))
    return out


def _kink(theta: np.ndarray) -> np.ndarray:
    u = 1.0 - theta
    return np.abs(np.where(theta <= 0.5, theta * theta / 2 - theta / 6, u * (u / 2 - 1 / 6)))


def pulse_np(net: Network, x: np.ndarray, v_in: np.ndarray, driven: np.ndarray,
             grounded: np.ndarray, duration: float, n_sub: int, tol: float = -1.0,
             event_tol: float = EVENT_TOL) -> tuple[np.ndarray, float, DCResult]:
    """Twin of :func:`memsim.solve.pulse.integrate_pulse`: the states after a pulse with the
    inputs at ``v_in`` (``driven`` ones) and the ``grounded`` outputs at 0 V, its energy, and
    the operating point at its start."""
    first = _solve(net, x, v_in, driven, grounded)
    fixed = np.zeros(net.n_nodes, bool)
    fixed[net.inputs[driven]] = fixed[net.outputs[grounded]] = True
    free = ~fixed & ~first.floating
    model, params = net.model, net.params
    xn = x.astype(float).copy()
    energy = 0.0
    if duration <= 0:
        return xn, energy, first

    def rhs(y: np.ndarray, eb: np.ndarray) -> tuple[np.ndarray, float, DCResult]:
        r = _solve(net, y, v_in, driven, grounded)
        v, g = r.edge_voltages, r.conductances
        return drift_np(model, y, v, params)[eb], float((g * v * v)[eb].sum()), r

    def bounded(y: np.ndarray, k: np.ndarray) -> np.ndarray:
        return np.where(((y >= 1) & (k > 0)) | ((y <= 0) & (k < 0)), 0.0, k)

    def event_step(nodes: np.ndarray, eb: np.ndarray, h: float, y: np.ndarray,
                   k: np.ndarray, r: DCResult) -> float:
        if nodes.size == 0:
            return h
        v = r.edge_voltages[eb]
        g = r.conductances
        dfix = np.zeros(net.n_nodes)
        for e in eb:
            p, q = net.edges[e]
            if free[p] and not free[q]:
                dfix[p] += g[e]
            elif free[q] and not free[p]:
                dfix[q] += g[e]
        kb = bounded(y[eb], k)
        with np.errstate(divide="ignore", invalid="ignore"):
            arrive = np.where(kb > 0, 1 - y[eb], y[eb]) / np.abs(kb)
        hit = (kb != 0) & (model[eb] != Model.RESISTOR) & (arrive < h)
        times, coefs = [], []
        for j in np.flatnonzero(hit):
            e = eb[j]
            series = sum((1 / dfix[n] if dfix[n] > 0 else np.inf)
                         for n in net.edges[e] if free[n])
            if series == 0:
                continue
            bound = 1.0 if kb[j] > 0 else 0.0
            gb = conductances_np(model[e:e + 1], np.array([bound]), params[e:e + 1])[0]
            times.append(arrive[j])
            coefs.append(abs(v[j]) * min(1 / gb, series) * (params[e, 1] - params[e, 0])
                         * gb * gb * abs(kb[j]))
        if not times:
            return h
        slope = drift_slope_np(model[eb], y[eb], v, params[eb]).max()
        if slope == 0:
            return h
        ts, cs = np.array(times), np.array(coefs)
        step = h
        for _ in range(MAX_EVENT_TRIES):
            inside = ts < step
            est = float((_kink(ts[inside] / step) * cs[inside]).sum())
            nxt = float(ts[inside].max()) if inside.any() else 0.0
            if est * step * step * slope <= event_tol or nxt <= 0:
                return step
            step = nxt
        first = float(ts.min())
        return first if first > 0 else step

    for nodes, eb in _blocks(net, free):
        t = 0.0
        k0, p0, r0 = rhs(xn, eb)
        if tol <= 0:
            while t < duration:
                if not bounded(xn[eb], k0).any():
                    energy += p0 * (duration - t)
                    break
                h = duration / n_sub
                last = t + h >= duration * (1 - 1e-12)
                if last:
                    h = duration - t
                if event_tol > 0:
                    step = max(event_step(nodes, eb, h, xn, k0, r0),
                               MIN_EVENT_STEP * duration / n_sub)
                    if step < h:
                        h = step
                        last = False
                y = xn.copy()
                ks, ps = [k0], [p0]
                for c in (h / 2, h / 2, h):
                    y[eb] = np.clip(xn[eb] + c * ks[-1], 0, 1)
                    k, p, _ = rhs(y, eb)
                    ks.append(k)
                    ps.append(p)
                xn[eb] = np.clip(xn[eb] + h / 6.0 * (ks[0] + 2.0 * ks[1] + 2.0 * ks[2] + ks[3]),
                                 0, 1)
                energy += h / 6.0 * (ps[0] + 2.0 * ps[1] + 2.0 * ps[2] + ps[3])
                t = duration if last else t + h
                k0, p0, r0 = rhs(xn, eb)
            continue
        h_ctrl = duration / n_sub
        steps = 0
        while t < duration:
            kb = bounded(xn[eb], k0)
            if not kb.any():
                energy += p0 * (duration - t)
                break
            h = h_ctrl
            last = t + h >= duration * (1 - 1e-12)
            if last:
                h = duration - t
            with np.errstate(divide="ignore", invalid="ignore"):
                arrive = np.where(kb > 0, (1 - xn[eb]) / kb,
                                  np.where(kb < 0, xn[eb] / -kb, np.inf))
            first_hit = float(arrive.min()) if eb.size else np.inf
            if 1e-9 * duration < first_hit < h:
                h = first_hit
                last = t + h >= duration * (1 - 1e-12)
            ks, ps = [k0], [p0]
            y = xn.copy()
            for st in range(1, 7):
                y[eb] = np.clip(xn[eb] + h * sum(DP_A[st, q] * ks[q] for q in range(st)), 0, 1)
                k, p, _ = rhs(y, eb)
                ks.append(k)
                ps.append(p)
            y4 = np.clip(xn[eb] + h * sum(DP_B4[q] * ks[q] for q in range(7)), 0, 1)
            err = float(np.abs(y[eb] - y4).max()) if eb.size else 0.0
            steps += 1
            if err <= tol or steps >= MAX_PULSE_STEPS:
                energy += h * sum(DP_B5[q] * ps[q] for q in range(6))
                xn[eb] = y[eb]
                xn[eb] = np.where((ks[6] > 0) & (1 - xn[eb] <= LANDED), 1.0,
                                  np.where((ks[6] < 0) & (xn[eb] <= LANDED), 0.0, xn[eb]))
                k0, p0 = ks[6], ps[6]
                t = duration if last else t + h
                grow = h * accept_factor(err / tol)
                h_ctrl = grow if h == h_ctrl else max(h_ctrl, grow)
            else:
                h_ctrl = h * reject_factor(err / tol)
    return xn, energy, first
