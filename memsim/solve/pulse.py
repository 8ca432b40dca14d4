"""Device states under constant terminal voltages: the write and read pulses of training.

A pulse holds the fixed nodes at constant voltages for a duration and integrates the device
states, re-solving the nodal system at every stage. The free nodes fall into independent
blocks (:mod:`memsim.solve.linalg`): a block's devices feel each other only through its own
nodes, so each block is integrated on its own, with its own steps: during a normalization
pulse of a layered network (all terminals fixed) every hidden node is a block, and its
devices are stepped without waiting for the other nodes' devices.

Bounds. A device that reaches R_on or R_off stops there: its rate drops to zero, a kink that
no Runge-Kutta step resolves. Inside a step the device *saturates*: stages use the device law
without the bound rule (:func:`memsim.devices.kernels.drift`) at states clipped to [0, 1], so
its own state lands exactly on the bound, and its conductance stays at the bound value for
the rest of the step; at the start of every step the bound rule applies again, so a device
whose drive reverses leaves the bound at once. What a bound event costs the *other* devices
is the kink in their right-hand side: with classical RK4 the local error of a step of length
h in which a device arrives at fraction theta of the step is about ``|K(theta)| h^2 |J|``,
where ``K(theta)`` (at most 1/24, zero at both ends of the step) is the error of Simpson's
rule on a ramp that starts at theta and J the jump in the slope of the neighbours' rates. By
the maximum principle no device's voltage moves more than the arriving device's own, so
``|J| <= slope |v_e| Z_e |dg_e/dx| |k_e|`` (``slope`` the largest ``|d rate/dv|`` of the
block, ``Z_e`` an upper bound of the effective resistance across the
device: one over the conductance its free ends have straight to fixed nodes, or its own
resistance). A step whose estimated event error exceeds ``event_tol`` is cut short at the
latest predicted arrival at which the estimate for the arrivals before it is met (events are
grouped; one at the very end of a step costs nothing). Adaptive Dormand-Prince 5(4) steps
(the reference) end where the next device is predicted to reach its bound, and their
embedded error estimate rejects a step that meets a kink anyway.

A pulse that moves nothing (every rate zero, e.g. a read below the threshold of threshold
devices) costs one solve per block and changes no state in any bit.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from memsim.devices.kernels import (
    bounded,
    clip_unit,
    conductance_at,
    drift,
    drift_slope,
    threshold_drift,
    window_conductance,
)
from memsim.devices.models import N_PARAMS, Model
from memsim.solve.linalg import (
    DENSE_BLOCK,
    BlockPlan,
    NodalWork,
    block_plan,
    block_voltages,
    nodal_work,
    plan_blocks,
    small_block_voltages,
)
from memsim.solve.rk import DP_A, DP_B4, DP_B5, accept_factor, reject_factor
from memsim.solve.topology import adjacency

__all__ = [
    "EVENT_TOL",
    "LANDED",
    "MAX_EVENT_TRIES",
    "MIN_EVENT_STEP",
    "MAX_PULSE_STEPS",
    "N_COLS",
    "PulseWork",
    "VECTOR_BLOCK",
    "event_step",
    "integrate_pulse",
    "pulse",
    "pulse_arrays",
    "pulse_work",
    "with_parts",
]

EVENT_TOL = 1e-5
"""Default largest estimated local state error of an RK4 step from bound events in it."""
MAX_PULSE_STEPS = 10_000
"""Steps (accepted or rejected) after which an adaptive integration stops refining."""
MAX_EVENT_TRIES = 8
"""Step ends an RK4 step tries before it ends at the first bound arrival."""
MIN_EVENT_STEP = 1e-3
"""Shortest RK4 step the event control takes, as a fraction of ``duration / n_sub``: without
it a design of the co-design search (8-8-8-8 bipartite, ~7.7 V pulses) hung in one pulse
taking ever shorter steps to a predicted arrival."""
LANDED = 1e-12
"""Distance from a bound below which an adaptive step puts a device arriving there on it."""
N_COLS = 5
"""Parameter columns a block of threshold devices reads (``PulseWork.cols``)."""
VECTOR_BLOCK = 16
"""Devices a block of threshold devices needs for its vectorized loops: below it the scalar
loops are as fast (``paper_2x4x2``'s blocks)."""


class PulseWork(NamedTuple):
    """Work arrays of :func:`integrate_pulse`, allocated once per network."""

    g: np.ndarray  # (E,) conductances of the current stage
    v: np.ndarray  # (N,) node voltages of the current stage
    k: np.ndarray  # (7, E) stage rates (device law, before the bound rule)
    xs: np.ndarray  # (E,) stage states
    pw: np.ndarray  # (7,) stage powers
    times: np.ndarray  # (E,) predicted bound arrivals within a step
    coefs: np.ndarray  # (E,) their weights in the event error
    xb: np.ndarray  # (E,) states, in block order (the order of plan.edges)
    mb: np.ndarray  # (E,) model codes, in block order
    pb: np.ndarray  # (E, N_PARAMS) parameter rows, in block order
    eb: np.ndarray  # (E, 2) edges, in block order
    gb: np.ndarray  # (E,) conductances at the start, in block order
    ident: np.ndarray  # (E,) 0, 1, ...: block order is the order of the copies
    cols: np.ndarray  # (N_COLS, E) parameter columns R_on, R_off, alpha, beta, v_t, block order
    dv: np.ndarray  # (E,) device voltages of the current stage
    plan: BlockPlan
    nodal: NodalWork


@njit(cache=True)
def pulse_work(n_nodes, n_edges):
    """Work arrays for a network of this size (the nodal part grows on demand)."""
    return PulseWork(np.zeros(n_edges), np.zeros(n_nodes), np.zeros((7, n_edges)),
                     np.zeros(n_edges), np.zeros(7), np.zeros(n_edges), np.zeros(n_edges),
                     np.zeros(n_edges), np.zeros(n_edges, np.int64),
                     np.zeros((n_edges, N_PARAMS)), np.zeros((n_edges, 2), np.int64),
                     np.zeros(n_edges), np.arange(n_edges), np.zeros((N_COLS, n_edges)),
                     np.zeros(n_edges), block_plan(n_nodes, n_edges),
                     nodal_work(n_nodes, n_edges, 0, 0))


@njit(cache=True)
def with_parts(work, plan, nodal):
    """``work`` with another block plan and nodal work."""
    return PulseWork(work.g, work.v, work.k, work.xs, work.pw, work.times, work.coefs, work.xb,
                     work.mb, work.pb, work.eb, work.gb, work.ident, work.cols, work.dv, plan,
                     nodal)


@njit(cache=True, inline="always")
def _kink_weight(theta):
    """|error| of Simpson's rule on a unit ramp starting at ``theta`` in [0, 1]."""
    if theta <= 0.5:
        return abs(theta * theta / 2.0 - theta / 6.0)
    u = 1.0 - theta
    return abs(u * (u / 2.0 - 1.0 / 6.0))


@njit(cache=True, error_model="numpy")
def event_step(j0, j1, h, event_tol, x, edges, model, params, v, k, local, dfix, times, coefs):
    """The RK4 step to take instead of ``h`` for the devices ``j0 .. j1 - 1``: ``h``
    itself if the estimated local error from the devices predicted (by their rates ``k[0]``)
    to reach a bound inside it is at most ``event_tol``, else the longest step that ends at
    one of those arrivals and meets the bound (a kink at the very end of a step costs
    nothing). ``times`` and ``coefs`` (E,) are work space.

    Needs the solve at ``x`` (node voltages ``v``, conductances to fixed nodes ``dfix``):
    call it right after the step's first stage (``local``: the plan's, -1 if not free).
    Devices with no free end have fixed voltages, so their bounds reach nobody.
    """
    for e in range(np.uint64(j0), np.uint64(j1)):  # arrival times (vectorized), into times
        r = bounded(x[e], k[0, e])
        gap = 1.0 - x[e] if r > 0.0 else x[e]
        times[e] = gap / abs(r) if r != 0.0 else np.inf
    m = j0  # the arrivals inside the step, compacted in place: times[j0:m], coefs[j0:m]
    for e in range(j0, j1):
        arrive = times[e]
        if not arrive < h or model[e] == Model.RESISTOR:
            continue
        r = bounded(x[e], k[0, e])
        series = 0.0
        for end in range(2):
            a = edges[e, end]
            if local[a] >= 0:
                series += 1.0 / dfix[a] if dfix[a] > 0.0 else np.inf
        if series == 0.0:
            continue
        gb = conductance_at(model[e], 1.0 if r > 0.0 else 0.0, params, e)
        dv = abs(v[edges[e, 0]] - v[edges[e, 1]])
        times[m] = arrive
        coefs[m] = dv * min(1.0 / gb, series) * (params[e, 1] - params[e, 0]) * gb * gb * abs(r)
        m += 1
    if m == j0:
        return h
    slope = 0.0
    for e in range(j0, j1):
        dv = v[edges[e, 0]] - v[edges[e, 1]]
        slope = max(slope, drift_slope(model[e], x[e], dv, params, e))
    if slope == 0.0:
        return h
    first = np.inf
    for i in range(j0, m):
        first = min(first, times[i])
    step = h
    for _ in range(MAX_EVENT_TRIES):  # candidates: h, then the arrivals from the latest down
        est = 0.0
        nxt = 0.0
        for i in range(j0, m):
            if times[i] < step:
                est += _kink_weight(times[i] / step) * coefs[i]
                nxt = max(nxt, times[i])
        if est * step * step * slope <= event_tol or nxt <= 0.0:
            return step
        step = nxt
    return first if first > 0.0 else step


@njit(cache=True, inline="always")
def _landed(x, r):
    """``x``, or the bound it is moving to if it is closer than ``LANDED``: the end of an
    approach that first-order arrival times only ever halve is a step of ``LANDED / |r|``."""
    if r > 0.0 and 1.0 - x <= LANDED:
        return 1.0
    if r < 0.0 and x <= LANDED:
        return 0.0
    return x


@njit(cache=True, error_model="numpy")
def _integrate(nb, x, duration, n_sub, tol, event_tol, edges, model, params, cols, value,
               g, v, k, xs, dvs, pw, times, coefs, v0, g0, node_ptr, n_elim, edge_ptr,
               kept_edges, epoch, local, ident, nodes, s, c, cs, rc, y, d, rhs, dfix, gc, key):
    """Integrate the devices of the ``nb`` blocks through the pulse (states ``x`` advanced in
    place), each block on its own: classical RK4 with ``n_sub`` steps if ``tol <= 0``, else
    adaptive Dormand-Prince 5(4). The first solve also fills ``v0`` and
    ``g0``. Returns the energy dissipated and the power at the start.

    The device arrays are in block order (block ``b``'s devices are ``edge_ptr[b] ..
    edge_ptr[b + 1] - 1``), so the device loops index them directly; ``ident`` (0, 1, ...)
    is the edge order the block solvers take.

    Every stage is evaluated by the one block of code at the top of the loop: a stage is
    called millions of times, and a call that hands over the thirty arrays a stage needs
    costs, in reference counting, as much as a small block's arithmetic (so does a call
    per block: the blocks are looped over here).

    A block of at least ``VECTOR_BLOCK`` devices that all follow the threshold law reads its
    parameters from the columns ``cols`` (``PulseWork.cols``) instead of dispatching on the
    model per device, and its loops run over unsigned indices (no negative-index wraparound),
    so they compile to vector instructions; the NumPy error model lets divisions vectorize
    (no division here can be by zero: R(x) >= R_on > 0). The arithmetic is the same,
    operation for operation, so the states are the same in every bit.
    """
    energy = 0.0
    p_start = 0.0
    adaptive = tol > 0.0
    last_stage = 6 if adaptive else 3
    for b0 in range(nb):
        b1 = b0 + 1
        e0, e1 = edge_ptr[b0], edge_ptr[b1]
        t = 0.0
        h = duration / n_sub
        h_ctrl = h
        last = False
        steps = 0
        st = 0
        started = False
        evaluate = True
        # unsigned bounds: indices known to be >= 0 need no wraparound, so the loops over
        # them load and store contiguous vectors
        u0, u1 = np.uint64(e0), np.uint64(e1)
        uniform = e1 - e0 >= VECTOR_BLOCK
        for e in range(e0, e1):
            xs[e] = x[e]
            if model[e] != Model.THRESHOLD:
                uniform = False
        while True:
            if evaluate:  # stage st at states xs: conductances, node voltages, rates
                if uniform:
                    for e in range(u0, u1):
                        g[e] = window_conductance(cols[0, e], cols[1, e], xs[e])
                else:
                    for e in range(e0, e1):
                        g[e] = conductance_at(model[e], xs[e], params, e)
                for b in range(b0, b1):
                    n0, n1 = node_ptr[b], node_ptr[b + 1]
                    if n1 - n0 == 1:  # one node: the conductance-weighted mean of its neighbours
                        node = nodes[n0]
                        gsum = 0.0
                        isum = 0.0
                        for e in range(edge_ptr[b], edge_ptr[b + 1]):
                            other = edges[e, 1] if edges[e, 0] == node else edges[e, 0]
                            if other != node:
                                gsum += g[e]
                                isum += g[e] * value[other]
                        v[node] = isum / gsum
                        dfix[node] = gsum
                    elif n1 - n0 > DENSE_BLOCK:
                        block_voltages(b, node_ptr, n_elim, edge_ptr, kept_edges, epoch, local,
                                       ident, nodes, edges, g, value, v, s, c, cs, rc, y, d,
                                       rhs, dfix, gc, key, True)
                    elif n1 - n0 > 1:
                        small_block_voltages(edge_ptr[b], edge_ptr[b + 1], n0, n1 - n0, ident,
                                             nodes, local, edges, g, value, v, s, y, dfix)
                power = 0.0
                for e in range(e0, e1):
                    dv = v[edges[e, 0]] - v[edges[e, 1]]
                    dvs[e] = dv
                    power += g[e] * dv * dv
                if uniform:
                    for e in range(u0, u1):
                        k[st, e] = threshold_drift(cols[2, e], cols[3, e], cols[4, e],
                                                   cols[1, e] - cols[0, e], dvs[e])
                else:
                    for e in range(e0, e1):
                        k[st, e] = drift(model[e], xs[e], dvs[e], params, e)
                pw[st] = power
                if not started:
                    started = True
                    p_start += power
                    for b in range(b0, b1):
                        for j in range(node_ptr[b], node_ptr[b + 1]):
                            v0[nodes[j]] = v[nodes[j]]
                    for e in range(e0, e1):
                        g0[e] = g[e]
            evaluate = True
            if st == 0:  # a step starts at x, with rates k[0]
                if t >= duration:
                    break
                moving = False
                for e in range(e0, e1):
                    if bounded(x[e], k[0, e]) != 0.0:
                        moving = True
                        break
                if not moving:  # a fixed point of the pulse: nothing changes any more
                    energy += pw[0] * (duration - t)
                    break
                if adaptive:
                    h = h_ctrl
                    last = t + h >= duration * (1.0 - 1e-12)
                    if last:
                        h = duration - t
                    arrive = np.inf
                    for e in range(e0, e1):
                        r = bounded(x[e], k[0, e])
                        if r > 0.0:
                            arrive = min(arrive, (1.0 - x[e]) / r)
                        elif r < 0.0:
                            arrive = min(arrive, x[e] / -r)
                    if 1e-9 * duration < arrive < h:
                        h = arrive
                        last = t + h >= duration * (1.0 - 1e-12)
                else:
                    h = duration / n_sub
                    last = t + h >= duration * (1.0 - 1e-12)
                    if last:
                        h = duration - t
                    if event_tol > 0.0:
                        step = event_step(e0, e1, h, event_tol, x, edges, model, params, v, k,
                                          local, dfix, times, coefs)
                        # never shorter than a floor: an arrival predicted just ahead,
                        # over and over, would stall the pulse (Zeno)
                        step = max(step, MIN_EVENT_STEP * duration / n_sub)
                        if step < h:
                            h = step
                            last = False
            if st < last_stage:  # the state of the next stage
                st += 1
                if adaptive:
                    for e in range(e0, e1):
                        xe = x[e]
                        for q in range(st):
                            xe += h * DP_A[st, q] * k[q, e]
                        xs[e] = clip_unit(xe)
                else:
                    hs = h if st == 3 else h / 2
                    for e in range(u0, u1):
                        xs[e] = clip_unit(x[e] + hs * k[st - 1, e])
                continue
            st = 0
            if not adaptive:
                h6 = h / 6.0
                for e in range(u0, u1):
                    x[e] = clip_unit(x[e] + h6 * (k[0, e] + 2.0 * k[1, e] + 2.0 * k[2, e]
                                                  + k[3, e]))
                    xs[e] = x[e]
                energy += h6 * (pw[0] + 2.0 * pw[1] + 2.0 * pw[2] + pw[3])
                t = duration if last else t + h
                if last:
                    break
                continue
            # Dormand-Prince: xs holds the fifth-order solution, and stage 7 was evaluated there
            # (FSAL); the error of a state is that of its clipped value, so a device that
            # saturates in both solutions has none
            err = 0.0
            for e in range(e0, e1):
                y4 = x[e]
                for q in range(7):
                    y4 += h * DP_B4[q] * k[q, e]
                err = max(err, abs(xs[e] - clip_unit(y4)))
            steps += 1
            evaluate = False
            if err <= tol or steps >= MAX_PULSE_STEPS:
                for q in range(6):
                    energy += h * DP_B5[q] * pw[q]
                for e in range(e0, e1):
                    x[e] = _landed(xs[e], k[6, e])
                    k[0, e] = k[6, e]
                pw[0] = pw[6]
                t = duration if last else t + h
                grow = h * accept_factor(err / tol)
                h_ctrl = grow if h == h_ctrl else max(h_ctrl, grow)
            else:
                h_ctrl = h * reject_factor(err / tol)
    return energy, p_start


@njit(cache=True)
def integrate_pulse(x, edges, model, params, value, duration, n_sub, tol, event_tol, work,
                    x_out, v0, g0):
    """Integrate a pulse on the blocks of ``work.plan`` (filled by
    :func:`memsim.solve.linalg.plan_blocks`, with ``work.nodal`` large enough).

    ``x_out`` (E,) receives the states after the pulse, ``v0`` (N,) the node voltages and
    ``g0`` (E,) the conductances at its start (0 for open edges). With ``tol > 0`` the
    blocks take adaptive Dormand-Prince 5(4) steps (first step ``duration / n_sub``), else
    ``n_sub`` classical RK4 steps shortened where bound events would cost more than
    ``event_tol`` (0 disables that control). Returns the energy dissipated during the pulse
    and the power at its start.
    """
    g, v, k, xs, pw, times, coefs, xb, mb, pb, eb, gb, ident, cols, dv, plan, nodal = work
    return pulse_arrays(x, x_out, v0, g0, edges, model, params, value, duration, n_sub, tol,
                        event_tol, g, v, k, xs, pw, times, coefs, xb, mb, pb, eb, gb, ident,
                        cols, dv, plan.counts, plan.node_ptr, plan.n_elim, plan.edge_ptr,
                        plan.kept_edges, plan.local, plan.edges, plan.nodes, nodal.s, nodal.c,
                        nodal.cs, nodal.rc, nodal.y, nodal.d, nodal.rhs, nodal.dfix, nodal.gc,
                        nodal.key, False)


@njit(cache=True)
def pulse_arrays(x, x_out, v0, g0, edges, model, params, value, duration, n_sub, tol,
                 event_tol, g, v, k, xs, pw, times, coefs, xb, mb, pb, eb, gb, ident, cols, dv,
                 count, node_ptr, n_elim, edge_ptr, kept_edges, local, order, nodes, s, c, cs,
                 rc, y, d, rhs, dfix, gc, key, reuse):
    """:func:`integrate_pulse` with the arrays of the work, its plan and its nodal part
    passed one by one (in the order of their NamedTuples), for the training loop: every
    array handed through a call costs a reference-count update, and a pulse of a small
    network is only some hundred of them.

    ``reuse``: ``mb``, ``pb``, ``eb`` and ``cols`` already hold the models, parameters and
    edges of this plan's devices in block order (a caller that keeps one set per plan and
    has changed neither the plan nor the parameters since), so only the states are copied.
    """
    epoch = count[1]
    nb = count[0]
    # the eliminated nodes' cached share is reused only within the pulse: between pulses
    # other solves may have rewritten what it leaves in place (their dfix)
    key[0] = -1
    for e in range(x.shape[0]):
        x_out[e] = x[e]
        g0[e] = 0.0
    for a in range(v.shape[0]):
        if local[a] < 0:
            v[a] = value[a]
            v0[a] = value[a]
    # The devices in block order, so that each block's loops run over contiguous memory (a
    # hidden node's devices are spread over the edge list).
    n_live = edge_ptr[nb]
    n_par = params.shape[1]
    for j in range(n_live):
        xb[j] = x[order[j]]
    if not reuse:
        for j in range(n_live):
            e = order[j]
            mb[j] = model[e]
            eb[j, 0] = edges[e, 0]
            eb[j, 1] = edges[e, 1]
            for q in range(n_par):
                pb[j, q] = params[e, q]
            for q in range(N_COLS):
                cols[q, j] = params[e, q]
    energy, p0 = _integrate(nb, xb, duration, n_sub, tol, event_tol, eb, mb, pb, cols, value,
                            g, v, k, xs, dv, pw, times, coefs, v0, gb, node_ptr, n_elim, edge_ptr,
                            kept_edges, epoch, local, ident, nodes, s, c, cs, rc, y, d, rhs,
                            dfix, gc, key)
    for j in range(n_live):
        e = order[j]
        x_out[e] = xb[j]
        g0[e] = gb[j]
    return energy, p0


@njit(cache=True)
def pulse(x, edges, model, params, free_index, fixed_value, duration, n_sub, tol):
    """Hold the non-free nodes at ``fixed_value`` for ``duration`` seconds, starting from
    ``x``: the allocating form of :func:`integrate_pulse` (default ``EVENT_TOL``), for tests
    and one-off use.

    Returns
    -------
    x_new : (E,) states after the pulse
    energy : float, joules dissipated during the pulse
    v0 : (N,) node voltages at the start of the pulse
    p0 : float, watts dissipated at the start of the pulse
    """
    n, ne = free_index.shape[0], x.shape[0]
    ptr, nbr, nbr_edge = adjacency(n, edges)
    live = np.empty(ne, np.bool_)
    for e in range(ne):
        live[e] = model[e] != Model.OPEN
    work = pulse_work(n, ne)
    keep, elim = plan_blocks(free_index, live, ptr, nbr, nbr_edge, edges, work.plan)
    work = with_parts(work, work.plan, nodal_work(n, ne, keep, elim))
    x_new = np.empty(ne)
    v0 = np.empty(n)
    g0 = np.empty(ne)
    energy, p0 = integrate_pulse(x, edges, model, params, fixed_value, duration, n_sub, tol,
                                 EVENT_TOL, work, x_out=x_new, v0=v0, g0=g0)
    return x_new, energy, v0, p0
