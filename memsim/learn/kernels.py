"""numba kernels of learning from mistakes: the whole training loop runs in one jitted call.

Circuit version (:func:`train_circuit`): per step *read* (DC solve with the pattern's inputs
at the read voltage, outputs at 0 V; winner = largest output current), and on a mistake an
*inhibition* pulse (only the wrong winner grounded, negative bias on the active inputs) and a
*normalization* pulse (positive bias on all inputs, all outputs grounded), each integrated
with classical RK4 over a few steps (or adaptive Dormand-Prince 5(4)), the nodal system
re-solved at every stage because the conductances change, and a step shortened to end where a
device reaches R_on or R_off (its rate jumps to zero there); after each write pulse
cycle-to-cycle noise scales every device's state change, and devices at (near) R_off are
pruned. A read is a pulse too: below threshold its rates are exactly zero, so it is one DC
solve and changes nothing. Floating parts of the network (a terminal
configuration can leave nodes without any path to a fixed node, more so after pruning) are
found by a graph search and held at 0 V with no current, as in :mod:`memsim.solve.dc`.

Abstract version (:func:`train_extremal`): the Chialvo-Bak model on weights only.

Randomness enters as a ``numpy.random.Generator`` passed into the kernels (numba draws the same
stream as NumPy). Plain-NumPy twins live in :mod:`memsim.learn.reference`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from memsim.devices.kernels import OPEN, RESISTOR, THRESHOLD, conductances, rate
from memsim.solve.linalg import node_voltages_dense

__all__ = [
    "adjacency",
    "hopeless",
    "exact_rate",
    "free_nodes",
    "pulse",
    "threshold_rate",
    "train_circuit",
    "train_extremal",
]

# Layout of the packed configuration arrays (see memsim.learn.config.CircuitConfig.packed).
C_V_READ, C_T_READ, C_V_INH, C_T_INH, C_V_NORM, C_T_NORM = 0, 1, 2, 3, 4, 5
C_PRUNE_STATE, C_PRUNE_PROB, C_C2C, C_MIN_CURRENT, C_TOL = 6, 7, 8, 9, 10
N_CFG = 11
F_SUBSTEPS, F_GROUND_INACTIVE, F_SHUFFLE, F_RECORD, F_MAX_STEPS = 0, 1, 2, 3, 4
F_STOP_DEAD, F_RUN_ERAS = 5, 6
N_FLAGS = 7

# era_info columns, and the reasons a run stops early (column ERA_STOPPED)
ERA_LEARNED, ERA_STEPS_TO_LEARN, ERA_STEPS, ERA_MISTAKES, ERA_STOPPED = 0, 1, 2, 3, 4
N_ERA_INFO = 5
STOP_NONE, STOP_DEAD_INPUT, STOP_NO_PATH = 0, 1, 2

PHASE_READ, PHASE_INHIBIT, PHASE_NORMALIZE = 0, 1, 2


@njit(cache=True)
def threshold_rate(x, v, r_on, r_off, alpha, beta, vt):
    """Rate dx/dt of a Pershin-Di Ventra threshold device, written branch by branch.

    The model's ``f(v) = beta v + (alpha - beta)/2 (|v + v_t| - |v - v_t|)``
    (:func:`memsim.devices.kernels.rate`) is, piece by piece, ``alpha v`` below threshold and
    ``beta (v -+ v_t) +- alpha v_t`` above. In exact arithmetic the two forms agree; in
    floating point the general one leaves residues of order 1e-16 * beta below threshold,
    which would let a read "move" a device by a few ulps. The piecewise form is exactly zero
    there (alpha = 0). Scalar arguments: this is the hot path of training.
    """
    if v > vt:
        f = beta * (v - vt) + alpha * vt
    elif v < -vt:
        f = beta * (v + vt) - alpha * vt
    else:
        f = alpha * v
    r = f / (r_off - r_on)
    if (x >= 1.0 and r > 0.0) or (x <= 0.0 and r < 0.0):
        return 0.0
    return r


@njit(cache=True)
def exact_rate(model, x, v, p):
    """Device rate dx/dt: :func:`threshold_rate` for threshold devices (exactly zero below
    threshold when alpha = 0), :func:`memsim.devices.kernels.rate` for every other model."""
    if model == THRESHOLD:
        return threshold_rate(x, v, p[0], p[1], p[2], p[3], p[4])
    return rate(model, x, v, p)


@njit(cache=True)
def adjacency(n_nodes, edges):
    """CSR adjacency of the undirected multigraph: ``ptr`` (N+1,), neighbour node, edge index."""
    deg = np.zeros(n_nodes + 1, np.int64)
    for e in range(edges.shape[0]):
        deg[edges[e, 0] + 1] += 1
        deg[edges[e, 1] + 1] += 1
    ptr = np.cumsum(deg)
    fill = ptr[:-1].copy()
    node = np.empty(2 * edges.shape[0], np.int64)
    edge = np.empty(2 * edges.shape[0], np.int64)
    for e in range(edges.shape[0]):
        a, b = edges[e, 0], edges[e, 1]
        node[fill[a]] = b
        edge[fill[a]] = e
        fill[a] += 1
        node[fill[b]] = a
        edge[fill[b]] = e
        fill[b] += 1
    return ptr, node, edge


@njit(cache=True)
def free_nodes(fixed, live, ptr, nbr, nbr_edge):
    """``free_index`` for :func:`memsim.solve.linalg.node_voltages_dense`.

    Nodes joined to a fixed node through live edges are free (numbered 0, 1, ...); fixed nodes
    and nodes of floating components get -1 (floating ones keep the fixed value 0 V, and carry
    no current because all their live edges stay inside the floating component).
    """
    n = fixed.shape[0]
    reached = fixed.copy()
    stack = np.empty(n, np.int64)
    top = 0
    for i in range(n):
        if fixed[i]:
            stack[top] = i
            top += 1
    while top > 0:
        top -= 1
        a = stack[top]
        for k in range(ptr[a], ptr[a + 1]):
            if live[nbr_edge[k]]:
                b = nbr[k]
                if not reached[b]:
                    reached[b] = True
                    stack[top] = b
                    top += 1
    free_index = np.full(n, -1, np.int64)
    nf = 0
    for i in range(n):
        if reached[i] and not fixed[i]:
            free_index[i] = nf
            nf += 1
    return free_index


@njit(cache=True)
def _rhs(x, edges, model, params, free_index, fixed_value, nf, g, a, b, v, r):
    """Rates into ``r`` (E,) and node voltages into ``v`` (N,) for states ``x``; returns the
    dissipated power.

    The nodal system ``L_FF v_F = -L_FD v_D`` is assembled into the work arrays ``a`` (at
    least nf x nf) and ``b`` and solved in place by Cholesky: the same algebra as
    :func:`memsim.solve.linalg.node_voltages_dense`, without allocating (a training run does
    tens of thousands of these 8-node solves).
    """
    ne = edges.shape[0]
    for e in range(ne):
        m = model[e]
        if m == RESISTOR:
            g[e] = 1.0 / params[e, 0]
        elif m == OPEN:
            g[e] = 0.0
        else:  # every memristor: R(x) = R_off - x (R_off - R_on)
            g[e] = 1.0 / (params[e, 1] - x[e] * (params[e, 1] - params[e, 0]))
    for i in range(nf):
        b[i] = 0.0
        for j in range(nf):
            a[i, j] = 0.0
    for e in range(ne):
        ge = g[e]
        if ge == 0.0:
            continue
        p, m = edges[e, 0], edges[e, 1]
        fp, fm = free_index[p], free_index[m]
        if fp >= 0:
            a[fp, fp] += ge
            if fm >= 0:
                a[fp, fm] -= ge
            else:
                b[fp] += ge * fixed_value[m]
        if fm >= 0:
            a[fm, fm] += ge
            if fp >= 0:
                a[fm, fp] -= ge
            else:
                b[fm] += ge * fixed_value[p]
    # Cholesky a = L L^T in the lower triangle, then forward and back substitution
    for j in range(nf):
        d = a[j, j]
        for k in range(j):
            d -= a[j, k] * a[j, k]
        d = np.sqrt(d)
        a[j, j] = d
        for i in range(j + 1, nf):
            s = a[i, j]
            for k in range(j):
                s -= a[i, k] * a[j, k]
            a[i, j] = s / d
    for i in range(nf):
        s = b[i]
        for k in range(i):
            s -= a[i, k] * b[k]
        b[i] = s / a[i, i]
    for i in range(nf - 1, -1, -1):
        s = b[i]
        for k in range(i + 1, nf):
            s -= a[k, i] * b[k]
        b[i] = s / a[i, i]
    for n in range(free_index.shape[0]):
        fi = free_index[n]
        v[n] = b[fi] if fi >= 0 else fixed_value[n]
    power = 0.0
    for e in range(ne):
        dv = v[edges[e, 0]] - v[edges[e, 1]]
        power += g[e] * dv * dv
        if model[e] == THRESHOLD:  # scalar arguments: no row view on the hot path
            r[e] = threshold_rate(x[e], dv, params[e, 0], params[e, 1], params[e, 2],
                                  params[e, 3], params[e, 4])
        else:
            r[e] = exact_rate(model[e], x[e], dv, params[e])
    return power


@njit(cache=True)
def _snap(x, x_pre, k0, h):
    """Put on its bound every device that the step's first rate ``k0``, from ``x_pre``, was
    predicted to bring there within the step ``h``."""
    for e in range(x.shape[0]):
        k = k0[e]
        if k > 0.0 and (1.0 - x_pre[e]) <= h * k * (1.0 + 1e-9):
            x[e] = 1.0
        elif k < 0.0 and x_pre[e] <= -h * k * (1.0 + 1e-9):
            x[e] = 0.0


@njit(cache=True)
def _stage_into(out, x, k, h):
    for e in range(out.shape[0]):
        y = x[e] + h * k[e]
        out[e] = 0.0 if y < 0.0 else (1.0 if y > 1.0 else y)


# Dormand-Prince 5(4) tableau (FSAL: the 7th stage is the next step's first).
_DP_A = np.array([
    [0, 0, 0, 0, 0, 0],
    [1 / 5, 0, 0, 0, 0, 0],
    [3 / 40, 9 / 40, 0, 0, 0, 0],
    [44 / 45, -56 / 15, 32 / 9, 0, 0, 0],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729, 0, 0],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656, 0],
    [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
])
_DP_B5 = np.array([35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0])
_DP_E = _DP_B5 - np.array([5179 / 57600, 0, 7571 / 16695, 393 / 640, -92097 / 339200,
                           187 / 2100, 1 / 40])
MAX_PULSE_STEPS = 10_000


@njit(cache=True)
def pulse(x, edges, model, params, free_index, fixed_value, duration, n_sub, tol):
    """Hold the fixed nodes at ``fixed_value`` for ``duration`` seconds, starting from ``x``.

    With ``tol > 0``: adaptive Dormand-Prince 5(4), first step ``duration / n_sub``, steps
    accepted when the estimated local error of every state is below ``tol`` (absolute; states
    live in [0, 1]); small steps are taken only where the dynamics has a kink (a device
    crossing its threshold or reaching a bound). With ``tol <= 0``: classical RK4 with
    ``n_sub`` equal steps. The nodal system is re-solved at every stage, and the dissipated
    energy is integrated with the same stages (as an extra state, not error-controlled).

    When every rate is zero the states sit at a fixed point of the (autonomous) pulse dynamics
    and stay there, so the rest of the pulse is skipped exactly: a sub-threshold read of
    threshold devices changes nothing, to the last bit.

    Returns
    -------
    x_new : (E,) states after the pulse
    energy : float, joules dissipated during the pulse
    v0 : (N,) node voltages at the start of the pulse
    p0 : float, watts dissipated at the start of the pulse
    """
    ne = x.shape[0]
    nn = free_index.shape[0]
    nf = 0
    for n in range(nn):
        if free_index[n] >= 0:
            nf += 1
    g = np.empty(ne)
    a = np.empty((nf, nf))
    b = np.empty(nf)
    v0 = np.empty(nn)
    v = np.empty(nn)
    ks = np.empty((7, ne))
    pw = np.empty(7)
    xs = np.empty(ne)
    xp = np.empty(ne)
    kp = np.empty(ne)
    pw[0] = _rhs(x, edges, model, params, free_index, fixed_value, nf, g, a, b, v0, ks[0])
    p0 = pw[0]
    xn = x.copy()
    energy = 0.0
    if duration <= 0.0:
        return xn, energy, v0, p0
    t = 0.0
    h = duration / n_sub
    steps = 0
    while t < duration:
        moving = False
        for e in range(ne):
            if ks[0, e] != 0.0:
                moving = True
                break
        if not moving:
            energy += pw[0] * (duration - t)
            break
        if tol <= 0.0:
            h = duration / n_sub
        last = t + h >= duration * (1.0 - 1e-12)
        if last:
            h = duration - t
        # A device reaching a bound stops there (its rate drops to zero): a jump in the
        # right-hand side that no Runge-Kutta step resolves. Shorten the step so that it ends
        # where the first device is predicted (to first order) to reach its bound, and put
        # the devices predicted to arrive then on their bound.
        hit = h
        for e in range(ne):
            k = ks[0, e]
            if k > 0.0:
                d = (1.0 - xn[e]) / k
            elif k < 0.0:
                d = -xn[e] / k
            else:
                continue
            if d < hit:
                hit = d
        event = hit < h
        if event:
            h = hit
            last = t + h >= duration * (1.0 - 1e-12)
            for e in range(ne):
                xp[e] = xn[e]
                kp[e] = ks[0, e]
        if tol <= 0.0:  # classical RK4
            _stage_into(xs, xn, ks[0], h / 2)
            pw[1] = _rhs(xs, edges, model, params, free_index, fixed_value, nf, g, a, b, v,
                         ks[1])
            _stage_into(xs, xn, ks[1], h / 2)
            pw[2] = _rhs(xs, edges, model, params, free_index, fixed_value, nf, g, a, b, v,
                         ks[2])
            _stage_into(xs, xn, ks[2], h)
            pw[3] = _rhs(xs, edges, model, params, free_index, fixed_value, nf, g, a, b, v,
                         ks[3])
            for e in range(ne):
                ks[1, e] = ks[0, e] + 2.0 * ks[1, e] + 2.0 * ks[2, e] + ks[3, e]
            _stage_into(xn, xn, ks[1], h / 6.0)
            if event:
                _snap(xn, xp, kp, h)
            energy += h / 6.0 * (pw[0] + 2.0 * pw[1] + 2.0 * pw[2] + pw[3])
            t = duration if last else t + h
            pw[0] = _rhs(xn, edges, model, params, free_index, fixed_value, nf, g, a, b, v,
                         ks[0])
            continue
        for st in range(1, 7):
            for e in range(ne):
                y = xn[e]
                for q in range(st):
                    y += h * _DP_A[st, q] * ks[q, e]
                xs[e] = 0.0 if y < 0.0 else (1.0 if y > 1.0 else y)
            pw[st] = _rhs(xs, edges, model, params, free_index, fixed_value, nf, g, a, b, v,
                          ks[st])
        # xs now holds the 5th-order solution (stage 7 is evaluated at it: FSAL)
        err = 0.0
        for e in range(ne):
            d = 0.0
            for q in range(7):
                d += _DP_E[q] * ks[q, e]
            d = abs(h * d)
            if d > err:
                err = d
        steps += 1
        if err <= tol or steps >= MAX_PULSE_STEPS:
            for q in range(6):
                energy += h * _DP_B5[q] * pw[q]
            for e in range(ne):
                xn[e] = xs[e]
            if event:
                _snap(xn, xp, kp, h)
                pw[0] = _rhs(xn, edges, model, params, free_index, fixed_value, nf, g, a, b, v,
                             ks[0])
            else:
                for e in range(ne):
                    ks[0, e] = ks[6, e]
                pw[0] = pw[6]
            t = duration if last else t + h
            fac = 5.0 if err == 0.0 else min(5.0, max(0.2, 0.9 * (tol / err) ** 0.2))
        else:
            fac = max(0.1, 0.9 * (tol / err) ** 0.25)
        h = h * fac
    return xn, energy, v0, p0


@njit(cache=True)
def _output_currents(v, x, edges, model, params, out_nodes, grounded):
    """Current from each grounded output into its ammeter (0 for floating outputs)."""
    leave = np.zeros(v.shape[0])
    for e in range(edges.shape[0]):
        m = model[e]
        if m == OPEN:
            continue
        if m == RESISTOR:
            g = 1.0 / params[e, 0]
        else:
            g = 1.0 / (params[e, 1] - x[e] * (params[e, 1] - params[e, 0]))
        i = g * (v[edges[e, 0]] - v[edges[e, 1]])
        leave[edges[e, 0]] += i
        leave[edges[e, 1]] -= i
    iout = np.zeros(out_nodes.shape[0])
    for k in range(out_nodes.shape[0]):
        if grounded[k]:
            iout[k] = -leave[out_nodes[k]]
    return iout


@njit(cache=True)
def _terminals(pattern, scale, inactive_fixed, in_nodes, out_nodes, grounded, ground_nodes,
               n_nodes):
    """Fixed-node mask and voltages: active inputs at ``scale * pattern``, etc."""
    fixed = np.zeros(n_nodes, np.bool_)
    value = np.zeros(n_nodes)
    for n in ground_nodes:
        fixed[n] = True
    for k in range(in_nodes.shape[0]):
        if pattern[k] != 0.0:
            fixed[in_nodes[k]] = True
            value[in_nodes[k]] = scale * pattern[k]
        elif inactive_fixed:
            fixed[in_nodes[k]] = True
    for k in range(out_nodes.shape[0]):
        if grounded[k]:
            fixed[out_nodes[k]] = True
    return fixed, value


@njit(cache=True)
def _winner(iout, min_current):
    """Index of the largest output current (lowest index on exact ties); -1 if none exceeds
    ``min_current``."""
    best = -1
    top = min_current
    for k in range(iout.shape[0]):
        if iout[k] > top:
            top = iout[k]
            best = k
    return best


@njit(cache=True)
def _noisy_update(x_old, x_new, sigma, rng):
    """Cycle-to-cycle noise: each device's change scaled by max(0, 1 + sigma * N(0, 1))."""
    if sigma <= 0.0:
        return x_new
    out = x_new.copy()
    for e in range(x_old.shape[0]):
        d = x_new[e] - x_old[e]
        if d != 0.0:
            f = 1.0 + sigma * rng.standard_normal()
            if f < 0.0:
                f = 0.0
            y = x_old[e] + d * f
            out[e] = 0.0 if y < 0.0 else (1.0 if y > 1.0 else y)
    return out


@njit(cache=True)
def _prune(x, model, live, pruned_at, step, level, prob, rng):
    """Remove live memristors at or below state ``level`` (each with probability ``prob``);
    ``pruned_at[e]`` records the step. Returns the number of devices removed."""
    n = 0
    if level < 0.0:
        return n
    for e in range(x.shape[0]):
        if live[e] and model[e] != RESISTOR and x[e] <= level:
            if prob >= 1.0 or rng.random() < prob:
                model[e] = OPEN
                live[e] = False
                pruned_at[e] = step
                n += 1
    return n


@njit(cache=True)
def hopeless(patterns, era_targets, first, last, in_nodes, out_nodes, live, ptr, nbr, nbr_edge):
    """Why eras ``first .. last - 1`` can no longer be learned: a ``STOP_*`` code, or
    ``STOP_NONE`` if at least one of them still can.

    An era is impossible when some pattern's target output is not joined to any of the
    pattern's active inputs through live (non-pruned) edges. Such an output sits in a part of
    the network whose fixed nodes are all at 0 V, so its read current is exactly 0 and it
    never wins (a winner needs a current above ``min_current >= 0``); pruning is permanent,
    so this stays true for the rest of the run. The reason is ``STOP_DEAD_INPUT`` if in the
    first impossible era such a pattern has no live edge at any active input, else
    ``STOP_NO_PATH``. The search walks through every node (fixed ones too), so it can only
    find more paths than carry current: the test is conservative.
    """
    n_pat = patterns.shape[0]
    n_nodes = ptr.shape[0] - 1
    n_out = out_nodes.shape[0]
    reach = np.zeros((n_pat, n_out), np.bool_)
    dead = np.zeros(n_pat, np.bool_)
    seen = np.zeros(n_nodes, np.bool_)
    stack = np.empty(n_nodes, np.int64)
    for p in range(n_pat):
        seen[:] = False
        top = 0
        dead[p] = True
        for k in range(in_nodes.shape[0]):
            if patterns[p, k] != 0.0:
                a = in_nodes[k]
                for q in range(ptr[a], ptr[a + 1]):
                    if live[nbr_edge[q]]:
                        dead[p] = False
                        break
                if not seen[a]:
                    seen[a] = True
                    stack[top] = a
                    top += 1
        while top > 0:
            top -= 1
            a = stack[top]
            for q in range(ptr[a], ptr[a + 1]):
                if live[nbr_edge[q]]:
                    b = nbr[q]
                    if not seen[b]:
                        seen[b] = True
                        stack[top] = b
                        top += 1
        for o in range(n_out):
            reach[p, o] = seen[out_nodes[o]]
    reason = STOP_NONE
    for era in range(first, last):
        why = STOP_NONE
        for p in range(n_pat):
            if not reach[p, era_targets[era, p]]:
                if dead[p]:
                    why = STOP_DEAD_INPUT
                    break
                why = STOP_NO_PATH
        if why == STOP_NONE:
            return STOP_NONE
        if reason == STOP_NONE:
            reason = why
    return reason


@njit(cache=True)
def train_circuit(n_nodes, edges, model0, params, x0, ground_nodes, in_nodes, out_nodes,
                  patterns, era_targets, cfg, flags, rng):
    """The whole circuit training run (all eras) in one call.

    Parameters are plain arrays: ``cfg`` (N_CFG floats) and ``flags`` (N_FLAGS ints) packed by
    :meth:`memsim.learn.config.CircuitConfig.packed`; ``rng`` a ``numpy.random.Generator``.

    Returns
    -------
    rec_pattern, rec_winner (T,) int; rec_correct (T,) bool; rec_era (T,) int;
    rec_iout (T, n_out); rec_energy (T, 3) joules per phase; rec_power (T,) read power;
    rec_states (T or 0, E); era_info (n_run, N_ERA_INFO) [learned, steps_to_learn or -1,
    steps, mistakes, STOP_* code]; x final states; pruned_at (E,) step a device was pruned on
    or -1; n_correct_final (final mapping, last era of ``era_targets``).

    Only the first ``n_run = flags[F_RUN_ERAS]`` eras are trained (all if 0); the rest of
    ``era_targets`` is lookahead for the early stop. With ``flags[F_STOP_DEAD]`` the run
    stops at the end of a step once :func:`hopeless` finds every era from the current one
    to the last of ``era_targets`` impossible (checked at the start of each era and after
    every step that pruned): the current era ends there as not learned, later run eras take
    no steps, and each of them records the reason. A run that still has a learnable era
    ahead uses its whole budget, so that era sees the same devices as without the stop.
    """
    ne = edges.shape[0]
    n_out = out_nodes.shape[0]
    n_in = in_nodes.shape[0]
    n_pat = patterns.shape[0]
    n_eras = era_targets.shape[0]
    n_sub = flags[F_SUBSTEPS]
    tol = cfg[C_TOL]
    inactive_fixed = flags[F_GROUND_INACTIVE] != 0
    shuffle = flags[F_SHUFFLE] != 0
    record = flags[F_RECORD] != 0
    max_steps = flags[F_MAX_STEPS]
    stop_dead = flags[F_STOP_DEAD] != 0
    n_run = flags[F_RUN_ERAS] if flags[F_RUN_ERAS] > 0 else n_eras
    total = n_run * max_steps

    rec_pattern = np.full(total, -1, np.int64)
    rec_winner = np.full(total, -1, np.int64)
    rec_correct = np.zeros(total, np.bool_)
    rec_era = np.zeros(total, np.int64)
    rec_iout = np.zeros((total, n_out))
    rec_energy = np.zeros((total, 3))
    rec_power = np.zeros(total)
    rec_states = np.zeros((total if record else 0, ne))
    era_info = np.zeros((n_run, N_ERA_INFO), np.int64)

    ptr, nbr, nbr_edge = adjacency(n_nodes, edges)
    model = model0.copy()
    live = model != OPEN
    pruned_at = np.full(ne, -1, np.int64)
    x = x0.copy()
    all_grounded = np.ones(n_out, np.bool_)
    all_on = np.ones(n_in)
    order = np.arange(n_pat)
    t = 0
    stopped = STOP_NONE
    for era in range(n_run):
        targets = era_targets[era]
        steps = 0
        mistakes = 0
        era_info[era, 1] = -1
        if stop_dead and stopped == STOP_NONE:
            stopped = hopeless(patterns, era_targets, era, n_eras, in_nodes, out_nodes, live,
                               ptr, nbr, nbr_edge)
        if stopped != STOP_NONE:
            era_info[era, ERA_STOPPED] = stopped
            continue
        for j in range(n_pat):
            order[j] = j
        while steps < max_steps and era_info[era, 0] == 0 and stopped == STOP_NONE:
            if shuffle:
                for j in range(n_pat - 1, 0, -1):
                    q = rng.integers(0, j + 1)
                    tmp = order[j]
                    order[j] = order[q]
                    order[q] = tmp
            pass_mistakes = 0
            done = 0
            for j in range(n_pat):
                if steps >= max_steps:
                    break
                p = order[j]
                pat = patterns[p]
                # read
                fixed, value = _terminals(pat, cfg[C_V_READ], inactive_fixed, in_nodes,
                                          out_nodes, all_grounded, ground_nodes, n_nodes)
                fi = free_nodes(fixed, live, ptr, nbr, nbr_edge)
                x_read, e_read, v, power = pulse(x, edges, model, params, fi, value,
                                                 cfg[C_T_READ], n_sub, tol)
                iout = _output_currents(v, x, edges, model, params, out_nodes, all_grounded)
                x = x_read
                w = _winner(iout, cfg[C_MIN_CURRENT])
                ok = w == targets[p]
                e_inh = 0.0
                e_norm = 0.0
                n_cut = 0
                if not ok:
                    pass_mistakes += 1
                    mistakes += 1
                    if w >= 0:
                        only = np.zeros(n_out, np.bool_)
                        only[w] = True
                        fixed, value = _terminals(pat, cfg[C_V_INH], inactive_fixed, in_nodes,
                                                  out_nodes, only, ground_nodes, n_nodes)
                        fi = free_nodes(fixed, live, ptr, nbr, nbr_edge)
                        xn, e_inh, _, _ = pulse(x, edges, model, params, fi, value, cfg[C_T_INH],
                                             n_sub, tol)
                        x = _noisy_update(x, xn, cfg[C_C2C], rng)
                        n_cut += _prune(x, model, live, pruned_at, t, cfg[C_PRUNE_STATE],
                                        cfg[C_PRUNE_PROB], rng)
                    fixed, value = _terminals(all_on, cfg[C_V_NORM], inactive_fixed, in_nodes,
                                              out_nodes, all_grounded, ground_nodes, n_nodes)
                    fi = free_nodes(fixed, live, ptr, nbr, nbr_edge)
                    xn, e_norm, _, _ = pulse(x, edges, model, params, fi, value, cfg[C_T_NORM],
                                          n_sub, tol)
                    x = _noisy_update(x, xn, cfg[C_C2C], rng)
                    n_cut += _prune(x, model, live, pruned_at, t, cfg[C_PRUNE_STATE],
                                    cfg[C_PRUNE_PROB], rng)
                rec_pattern[t] = p
                rec_winner[t] = w
                rec_correct[t] = ok
                rec_era[t] = era
                rec_iout[t] = iout
                rec_energy[t, PHASE_READ] = e_read
                rec_energy[t, PHASE_INHIBIT] = e_inh
                rec_energy[t, PHASE_NORMALIZE] = e_norm
                rec_power[t] = power
                if record:
                    rec_states[t] = x
                t += 1
                steps += 1
                done += 1
                if stop_dead and n_cut > 0:
                    stopped = hopeless(patterns, era_targets, era, n_eras, in_nodes,
                                       out_nodes, live, ptr, nbr, nbr_edge)
                    if stopped != STOP_NONE:
                        era_info[era, ERA_STOPPED] = stopped
                        break
            if done == n_pat and pass_mistakes == 0:
                era_info[era, 0] = 1
                era_info[era, 1] = steps
        era_info[era, 2] = steps
        era_info[era, 3] = mistakes

    # final accuracy on the last era's mapping: reads without writing
    n_correct = 0
    targets = era_targets[n_eras - 1]
    for p in range(n_pat):
        fixed, value = _terminals(patterns[p], cfg[C_V_READ], inactive_fixed, in_nodes,
                                  out_nodes, all_grounded, ground_nodes, n_nodes)
        fi = free_nodes(fixed, live, ptr, nbr, nbr_edge)
        g = conductances(model, x, params)
        v = node_voltages_dense(edges, g, fi, value)
        iout = _output_currents(v, x, edges, model, params, out_nodes, all_grounded)
        if _winner(iout, cfg[C_MIN_CURRENT]) == targets[p]:
            n_correct += 1
    rs = rec_states[:t] if record else rec_states
    return (rec_pattern[:t], rec_winner[:t], rec_correct[:t], rec_era[:t], rec_iout[:t],
            rec_energy[:t], rec_power[:t], rs, era_info, x, pruned_at, n_correct)


# ----------------------------------------------------------------------------- abstract model
@njit(cache=True)
def _argmax_random(values, rng):
    """Index of the largest value; exact ties broken uniformly at random."""
    best = values[0]
    count = 1
    idx = 0
    for k in range(1, values.shape[0]):
        if values[k] > best:
            best = values[k]
            count = 1
            idx = k
        elif values[k] == best:
            count += 1
    if count == 1:
        return idx
    pick = rng.integers(0, count)
    for k in range(values.shape[0]):
        if values[k] == best:
            if pick == 0:
                return k
            pick -= 1
    return idx


@njit(cache=True)
def _forward(w, offsets, sizes, pattern, rng, path):
    """Extremal propagation: fills ``path`` with the winner of every layer (path[0] unused)."""
    n_layers = sizes.shape[0]
    n0, n1 = sizes[0], sizes[1]
    drive = np.zeros(n1)
    for i in range(n0):
        if pattern[i] != 0.0:
            for j in range(n1):
                drive[j] += pattern[i] * w[offsets[0] + i * n1 + j]
    path[1] = _argmax_random(drive, rng)
    for layer in range(1, n_layers - 1):
        b = sizes[layer + 1]
        row = w[offsets[layer] + path[layer] * b: offsets[layer] + (path[layer] + 1) * b]
        path[layer + 1] = _argmax_random(row, rng)
    return path[n_layers - 1]


@njit(cache=True)
def train_extremal(w0, offsets, sizes, patterns, era_targets, delta, selective, shuffle,
                   max_steps, rng):
    """Chialvo-Bak learning from mistakes on a layered weight network, all eras in one call.

    ``w0`` holds every layer's weight matrix (sizes[l] x sizes[l+1], row-major) back to back at
    ``offsets[l]``. Per step the active inputs drive the hidden unit with the largest summed
    weight, which fires the unit of the next layer with the largest weight, and so on (extremal
    dynamics). A correct answer tags the active synapses; a wrong one depresses every active
    synapse by ``delta`` (tagged ones by ``delta * selective``), weights held at >= 0.

    Returns
    -------
    rec_pattern, rec_winner (T,) int; rec_correct (T,) bool; rec_era (T,) int;
    era_info (n_eras, 4); final weights; tags; n_correct_final.
    """
    w = w0.copy()
    tagged = np.zeros(w.shape[0], np.bool_)
    n_layers = sizes.shape[0]
    n_pat = patterns.shape[0]
    n_eras = era_targets.shape[0]
    total = n_eras * max_steps
    rec_pattern = np.full(total, -1, np.int64)
    rec_winner = np.full(total, -1, np.int64)
    rec_correct = np.zeros(total, np.bool_)
    rec_era = np.zeros(total, np.int64)
    era_info = np.zeros((n_eras, 4), np.int64)
    path = np.zeros(n_layers, np.int64)
    order = np.arange(n_pat)
    n1 = sizes[1]
    t = 0
    for era in range(n_eras):
        targets = era_targets[era]
        steps = 0
        mistakes = 0
        era_info[era, 1] = -1
        for j in range(n_pat):
            order[j] = j
        while steps < max_steps and era_info[era, 0] == 0:
            if shuffle:
                for j in range(n_pat - 1, 0, -1):
                    q = rng.integers(0, j + 1)
                    tmp = order[j]
                    order[j] = order[q]
                    order[q] = tmp
            pass_mistakes = 0
            done = 0
            for j in range(n_pat):
                if steps >= max_steps:
                    break
                p = order[j]
                pat = patterns[p]
                out = _forward(w, offsets, sizes, pat, rng, path)
                ok = out == targets[p]
                # the active synapses: (active input, first winner) and the winners' chain
                for i in range(sizes[0]):
                    if pat[i] != 0.0:
                        k = offsets[0] + i * n1 + path[1]
                        if ok:
                            tagged[k] = True
                        else:
                            d = delta * selective if tagged[k] else delta
                            w[k] = max(w[k] - d, 0.0)
                for layer in range(1, n_layers - 1):
                    k = offsets[layer] + path[layer] * sizes[layer + 1] + path[layer + 1]
                    if ok:
                        tagged[k] = True
                    else:
                        d = delta * selective if tagged[k] else delta
                        w[k] = max(w[k] - d, 0.0)
                if not ok:
                    pass_mistakes += 1
                    mistakes += 1
                rec_pattern[t] = p
                rec_winner[t] = out
                rec_correct[t] = ok
                rec_era[t] = era
                t += 1
                steps += 1
                done += 1
            if done == n_pat and pass_mistakes == 0:
                era_info[era, 0] = 1
                era_info[era, 1] = steps
        era_info[era, 2] = steps
        era_info[era, 3] = mistakes
    n_correct = 0
    targets = era_targets[n_eras - 1]
    for p in range(n_pat):
        if _forward(w, offsets, sizes, patterns[p], rng, path) == targets[p]:
            n_correct += 1
    return (rec_pattern[:t], rec_winner[:t], rec_correct[:t], rec_era[:t], era_info, w, tagged,
            n_correct)
