"""numba kernel of learning from mistakes on a circuit: the whole training run in one call.

Per step :func:`train_circuit` *reads* (the pattern's inputs at the read voltage, outputs at
0 V; winner = largest output current), and on a mistake applies an *inhibition* pulse (only
the wrong winner grounded, negative bias on the active inputs) and a *normalization* pulse
(positive bias on all inputs, all outputs grounded). Each pulse is
:func:`memsim.solve.pulse.integrate_pulse`: the device law of :mod:`memsim.devices`, the block
solves of :mod:`memsim.solve.linalg`, the node roles of :mod:`memsim.solve.topology`. A read
is a pulse too: below threshold its rates are exactly zero, so it is one solve and changes
nothing. After each write pulse cycle-to-cycle noise scales every device's state change (and
puts the states on the device's levels, if it has a finite number), and devices at (near)
R_off are pruned; with read noise every read sees noisy conductances. The nonidealities are
the kernels of :mod:`memsim.devices.nonideal`; stuck devices arrive as plain resistors. Work
arrays are allocated once per run.

Randomness enters as a ``numpy.random.Generator`` passed into the kernel (numba draws the same
stream as NumPy). The plain-NumPy twin is :func:`memsim.learn.reference.train_circuit_np`.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

import numpy as np
from numba import njit

from memsim.devices.kernels import rate as exact_rate
from memsim.devices.models import Model
from memsim.devices.nonideal import cycle_update_into, quantize_into, read_params_into
from memsim.learn.extremal import shuffle_order, train_extremal
from memsim.solve.linalg import block_plan, nodal_work, plan_blocks, terminal_currents
from memsim.solve.pulse import N_COLS, pulse, pulse_arrays, pulse_work, with_parts
from memsim.solve.topology import adjacency, free_index_into, label_components
from memsim.solve.topology import free_index as free_nodes

__all__ = [
    "ERA_STOPPED",
    "EraColumn",
    "INHIBIT_PLANS",
    "Phase",
    "Protocol",
    "RunOptions",
    "SLOT_COPIES",
    "Stop",
    "TrainOutput",
    "adjacency",
    "exact_rate",
    "free_nodes",
    "hopeless",
    "pulse",
    "train_circuit",
    "train_extremal",
]


class EraColumn(IntEnum):
    """Columns of ``TrainOutput.era_info``, one row per trained era."""

    LEARNED = 0
    STEPS_TO_LEARN = 1  # -1 if not learned
    STEPS = 2
    MISTAKES = 3
    STOPPED = 4  # a Stop code


SLOT_COPIES = 1 << 18
"""Copy sets times devices up to which the reads, the inhibitions and normalization each
keep their own block-order copy of the devices (144 bytes per device and set: 38 MB at the
limit); above it one set is shared, and kept only between pulses of one plan slot. Also the
bound of ``INHIBIT_PLANS`` times devices (above it, one inhibition plan)."""
INHIBIT_PLANS = 8
"""Inhibition plans a run keeps, one per terminal configuration (the pattern and the wrong
output), the least recently used rebuilt first: a run that keeps failing cycles among a few
wrong winners, and rebuilding a plan for each costs as much as a few of its solves."""


class Stop(IntEnum):
    """Why a run stopped before spending its budget (``CircuitConfig.stop_when_dead``)."""

    NONE = 0
    DEAD_INPUT = 1
    NO_PATH = 2


class Phase(IntEnum):
    """Columns of ``TrainOutput.energy``: the three phases of a step."""

    READ = 0
    INHIBIT = 1
    NORMALIZE = 2


ERA_STOPPED = EraColumn.STOPPED


class Protocol(NamedTuple):
    """The pulse protocol as the kernel reads it (:meth:`CircuitConfig.packed`)."""

    v_read: float
    t_read: float
    v_inhibit: float
    t_inhibit: float
    v_normalize: float
    t_normalize: float
    prune_state: float  # < 0: no pruning
    prune_probability: float
    c2c_noise: float  # CycleNoise.relative
    c2c_absolute: float  # CycleNoise.absolute, states
    levels: int  # Levels.n (0: continuous)
    levels_stochastic: bool
    read_relative: float  # ReadNoise.relative
    read_absolute: float  # ReadNoise.absolute, S
    min_current: float
    pulse_tol: float  # <= 0: fixed-step RK4
    event_tol: float
    substeps: int
    ground_inactive: bool
    shuffle: bool


class RunOptions(NamedTuple):
    """How long to train and what to keep."""

    max_steps: int  # per era
    record_states: bool
    stop_when_dead: bool
    run_eras: int  # train the first run_eras eras (0: all); the rest is lookahead


class TrainOutput(NamedTuple):
    """What :func:`train_circuit` returns (T steps, n_run trained eras)."""

    pattern: np.ndarray  # (T,) pattern presented
    winner: np.ndarray  # (T,) output that won the read, -1 if none
    correct: np.ndarray  # (T,) bool
    era: np.ndarray  # (T,)
    iout: np.ndarray  # (T, n_out) read currents, A
    energy: np.ndarray  # (T, 3) J per Phase
    power: np.ndarray  # (T,) read power, W
    states: np.ndarray  # (T or 0, E) states after each step (record_states)
    era_info: np.ndarray  # (n_run, 5) EraColumn
    x: np.ndarray  # (E,) final states
    pruned_at: np.ndarray  # (E,) step a device was pruned on, -1 never
    n_correct: int  # patterns the final network maps to the last era's targets


class _Run(NamedTuple):
    """Per-run work arrays of the training loop."""

    fixed: np.ndarray  # (N,) bool
    value: np.ndarray  # (N,)
    free: np.ndarray  # (N,) free_index
    labels: np.ndarray  # (N,)
    stack: np.ndarray  # (N,)
    anchored: np.ndarray  # (N,) bool
    v0: np.ndarray  # (N,)
    g0: np.ndarray  # (E,)
    leave: np.ndarray  # (N,)
    iin: np.ndarray  # (n_in,)
    # plan slots Q = P + K + 1: the P reads, K inhibitions (INHIBIT_PLANS), normalization
    slot_fixed: np.ndarray  # (Q, N) bool: the fixed nodes each plan slot was built for
    slot_live: np.ndarray  # (Q,) the live version it was built for (-1: none)
    slot_used: np.ndarray  # (Q,) the step an inhibition slot last served (-1: never)
    live_version: np.ndarray  # (1,) changes whenever pruning removes a device
    # the devices in block order (PulseWork.mb, pb, eb, cols), kept between pulses in S = P + 2
    # sets (one per read, one the inhibitions share, one for normalization), or in one set
    # that every slot shares above SLOT_COPIES
    set_of: np.ndarray  # (Q,) the set each plan slot uses
    set_holds: np.ndarray  # (S,) the slot whose plan's devices the set holds (-1: none)
    mb: np.ndarray  # (S, E) model codes
    pb: np.ndarray  # (S, E, N_PARAMS) parameter rows
    eb: np.ndarray  # (S, E, 2) edges
    cols: np.ndarray  # (S, N_COLS, E) parameter columns


@njit(cache=True)
def _set_terminals(pattern, scale, inactive_fixed, in_nodes, out_nodes, grounded, ground_nodes,
                   fixed, value):
    """Fixed-node mask and voltages: active inputs at ``scale * pattern``, inactive inputs
    floating (or grounded), the ``grounded`` outputs and the ground at 0 V."""
    for a in range(fixed.shape[0]):
        fixed[a] = False
        value[a] = 0.0
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


@njit(cache=True)
def _terminals(pattern, scale, inactive_fixed, in_nodes, out_nodes, grounded, ground_nodes,
               n_nodes):
    """:func:`_set_terminals` into new arrays: ``fixed`` (N,) bool and ``value`` (N,)."""
    fixed = np.zeros(n_nodes, np.bool_)
    value = np.zeros(n_nodes)
    _set_terminals(pattern, scale, inactive_fixed, in_nodes, out_nodes, grounded, ground_nodes,
                   fixed, value)
    return fixed, value


@njit(cache=True, inline="always")
def _plan_fits(run, slot):
    """Whether the plan of ``slot`` was built for the terminals in ``run.fixed`` and the
    current live devices."""
    if run.slot_live[slot] != run.live_version[0]:
        return False
    fixed, seen = run.fixed, run.slot_fixed
    for a in range(fixed.shape[0]):
        if seen[slot, a] != fixed[a]:
            return False
    return True


@njit(cache=True)
def _inhibit_slot(run, first, count, step):
    """The inhibition plan slot (``first .. first + count - 1``) for the terminals in
    ``run.fixed``: the one built for them and the current live devices, else the least
    recently used (which :func:`_apply` then rebuilds)."""
    oldest = first
    for q in range(first, first + count):
        if _plan_fits(run, q):
            oldest = q
            break
        if run.slot_used[q] < run.slot_used[oldest]:
            oldest = q
    run.slot_used[oldest] = step
    return oldest


@njit(cache=True, inline="always")
def _apply(run, work, plans, slot, write, x, x_out, duration, proto, edges, model, params,
           drawn, live, ptr, nbr, nbr_edge):
    """One pulse under the terminals in ``run.fixed`` / ``run.value``: node roles, blocks,
    integration. The block plan of each kind of pulse is kept in ``plans[slot]`` and
    rebuilt only when its terminals or the live devices changed, and so is the block-order
    copy of its devices, unless ``drawn`` (the parameters are a new draw of read noise).
    ``write``: a write pulse (its plan is solved many times over the pulse).
    Returns the work (grown if a block needed more room), energy and the power at the start;
    ``run.v0`` and ``run.g0`` hold the solve at the start."""
    plan = plans[slot]
    fixed, seen = run.fixed, run.slot_fixed
    if not _plan_fits(run, slot):
        free_index_into(fixed, live, ptr, nbr, nbr_edge, run.labels, run.stack, run.anchored,
                        run.free)
        keep, elim = plan_blocks(run.free, live, ptr, nbr, nbr_edge, edges, plan, write)
        for a in range(fixed.shape[0]):
            seen[slot, a] = fixed[a]
        run.slot_live[slot] = run.live_version[0]
        if run.set_holds[run.set_of[slot]] == slot:  # in the order of the old plan
            run.set_holds[run.set_of[slot]] = -1
        nodal = work.nodal
        if keep > nodal.s.shape[0] or elim > nodal.c.shape[0]:
            nodal = nodal_work(fixed.shape[0], edges.shape[0], max(keep, nodal.s.shape[0]),
                               max(elim, nodal.c.shape[0]))
            work = with_parts(work, plan, nodal)
    nodal = work.nodal
    c = run.set_of[slot]
    reuse = run.set_holds[c] == slot and not drawn
    energy, p0 = pulse_arrays(
        x, x_out, run.v0, run.g0, edges, model, params, run.value, duration, proto.substeps,
        proto.pulse_tol, proto.event_tol, work.g, work.v, work.k, work.xs, work.pw, work.times,
        work.coefs, work.xb, run.mb[c], run.pb[c], run.eb[c], work.gb, work.ident,
        run.cols[c], work.dv, plan.counts,
        plan.node_ptr, plan.n_elim, plan.edge_ptr, plan.kept_edges, plan.local, plan.edges,
        plan.nodes, nodal.s, nodal.c, nodal.cs, nodal.rc, nodal.y, nodal.d, nodal.rhs,
        nodal.dfix, nodal.gc, nodal.key, reuse)
    run.set_holds[c] = -1 if drawn else slot  # a drawn set is never reused
    return work, energy, p0


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
def _writable(model, params):
    """Indices of the edges the write nonidealities act on: not plain resistors (stuck devices
    are resistors) and with a device window ``0 < R_on < R_off``. Pruned devices stay in the
    set, so the number of draws per write does not depend on how the run is split into calls
    (:func:`memsim.learn.circuit.train` with a progress bar passes pruned devices as open)."""
    n = 0
    keep = np.zeros(model.shape[0], np.bool_)
    for e in range(model.shape[0]):
        if model[e] != Model.RESISTOR and 0.0 < params[e, 0] < params[e, 1]:
            keep[e] = True
            n += 1
    out = np.empty(n, np.int64)
    n = 0
    for e in range(model.shape[0]):
        if keep[e]:
            out[n] = e
            n += 1
    return out


@njit(cache=True, inline="always")
def _noisy_reads(proto):
    """Every read draws its own conductances (read noise)."""
    return proto.read_relative > 0.0 or proto.read_absolute > 0.0


@njit(cache=True)
def _read_view(params, x, memristors, proto, rng, out):
    """The parameters a read sees: ``params`` itself for noiseless reads (nothing drawn), else
    ``out`` filled by :func:`memsim.devices.nonideal.read_params_into`."""
    if not _noisy_reads(proto):
        return params
    read_params_into(params, x, memristors, proto.read_relative, proto.read_absolute, rng, out)
    return out


@njit(cache=True)
def _after_write(x_old, x_new, params, memristors, proto, rng):
    """The device-level nonidealities of a write, in place on ``x_new``: cycle-to-cycle noise
    (:func:`memsim.devices.nonideal.cycle_update_into`), then the levels
    (:func:`memsim.devices.nonideal.quantize_into`) of the writable ``memristors``."""
    cycle_update_into(x_old, x_new, proto.c2c_noise, proto.c2c_absolute, rng)
    quantize_into(x_new, params, memristors, proto.levels, 0.0, 0.0,
                  proto.levels_stochastic, rng)


@njit(cache=True)
def _prune(x, model, live, pruned_at, step, level, prob, rng, live_version):
    """Remove live memristors at or below state ``level`` (each with probability ``prob``);
    ``pruned_at[e]`` records the step, ``live_version[0]`` counts the changes. Returns the
    number of devices removed."""
    n = 0
    if level < 0.0:
        return n
    for e in range(x.shape[0]):
        if live[e] and model[e] != Model.RESISTOR and x[e] <= level:
            if prob >= 1.0 or rng.random() < prob:
                model[e] = Model.OPEN
                live[e] = False
                pruned_at[e] = step
                n += 1
    if n > 0:
        live_version[0] += 1
    return n


@njit(cache=True)
def hopeless(patterns, era_targets, first, last, in_nodes, out_nodes, live, ptr, nbr, nbr_edge):
    """Why eras ``first .. last - 1`` can no longer be learned: a :class:`Stop` code, or
    ``Stop.NONE`` if at least one of them still can.

    An era is impossible when some pattern's target output is not joined to any of the
    pattern's active inputs through live (non-pruned) edges. Such an output sits in a part of
    the network whose fixed nodes are all at 0 V, so its read current is exactly 0 and it
    never wins (a winner needs a current above ``min_current >= 0``); pruning is permanent,
    so this stays true for the rest of the run. The reason is ``Stop.DEAD_INPUT`` if in the
    first impossible era such a pattern has no live edge at any active input, else
    ``Stop.NO_PATH``. Paths may run through every node (fixed ones too), so the test can only
    find more paths than carry current: it is conservative.
    """
    n_pat = patterns.shape[0]
    n_nodes = ptr.shape[0] - 1
    n_out = out_nodes.shape[0]
    labels = np.empty(n_nodes, np.int64)
    label_components(np.ones(n_nodes, np.bool_), live, ptr, nbr, nbr_edge, labels,
                     np.empty(n_nodes, np.int64))
    reach = np.zeros((n_pat, n_out), np.bool_)
    dead = np.ones(n_pat, np.bool_)
    for p in range(n_pat):
        for k in range(in_nodes.shape[0]):
            if patterns[p, k] == 0.0:
                continue
            a = in_nodes[k]
            for q in range(ptr[a], ptr[a + 1]):
                if live[nbr_edge[q]]:
                    dead[p] = False
                    break
            for o in range(n_out):
                if labels[out_nodes[o]] == labels[a]:
                    reach[p, o] = True
    reason = Stop.NONE
    for era in range(first, last):
        why = Stop.NONE
        for p in range(n_pat):
            if not reach[p, era_targets[era, p]]:
                if dead[p]:
                    why = Stop.DEAD_INPUT
                    break
                why = Stop.NO_PATH
        if why == Stop.NONE:
            return Stop.NONE
        if reason == Stop.NONE:
            reason = why
    return reason


@njit(cache=True, nogil=True)
def train_circuit(n_nodes, edges, model0, params, x0, ground_nodes, in_nodes, out_nodes,
                  patterns, era_targets, proto, opts, rng):
    """The whole circuit training run (all eras) in one call.

    ``proto`` (:class:`Protocol`) and ``opts`` (:class:`RunOptions`) come from
    :meth:`memsim.learn.config.CircuitConfig.packed`; ``rng`` is a ``numpy.random.Generator``.
    Returns a :class:`TrainOutput`.

    Only the first ``opts.run_eras`` eras are trained (all if 0); the rest of
    ``era_targets`` is lookahead for the early stop. With ``opts.stop_when_dead`` the run
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
    max_steps = opts.max_steps
    n_run = opts.run_eras if opts.run_eras > 0 else n_eras
    total = n_run * max_steps

    rec_pattern = np.full(total, -1, np.int64)
    rec_winner = np.full(total, -1, np.int64)
    rec_correct = np.zeros(total, np.bool_)
    rec_era = np.zeros(total, np.int64)
    rec_iout = np.zeros((total, n_out))
    rec_energy = np.zeros((total, 3))
    rec_power = np.zeros(total)
    rec_states = np.zeros((total if opts.record_states else 0, ne))
    era_info = np.zeros((n_run, 5), np.int64)

    ptr, nbr, nbr_edge = adjacency(n_nodes, edges)
    model = model0.copy()
    live = np.empty(ne, np.bool_)
    for e in range(ne):
        live[e] = model[e] != Model.OPEN
    pruned_at = np.full(ne, -1, np.int64)
    x = x0.copy()
    xn = np.empty(ne)
    writable = _writable(model, params)
    read_params = params.copy()  # the parameters a noisy read sees
    noisy = _noisy_reads(proto)
    # inhibition slots: no more than there are configurations (one plan is (E + 8 N) integers)
    n_inh = min(INHIBIT_PLANS, n_pat * n_out) if INHIBIT_PLANS * ne <= SLOT_COPIES else 1
    n_slots = n_pat + n_inh + 1
    n_sets = n_pat + 2 if (n_pat + 2) * ne <= SLOT_COPIES else 1
    set_of = np.zeros(n_slots, np.int64)
    if n_sets > 1:
        for q in range(n_slots):
            set_of[q] = min(q, n_pat) if q < n_slots - 1 else n_pat + 1
    run = _Run(np.zeros(n_nodes, np.bool_), np.zeros(n_nodes), np.zeros(n_nodes, np.int64),
               np.zeros(n_nodes, np.int64), np.zeros(n_nodes, np.int64),
               np.zeros(n_nodes, np.bool_), np.zeros(n_nodes), np.zeros(ne),
               np.zeros(n_nodes), np.zeros(n_in), np.zeros((n_slots, n_nodes), np.bool_),
               np.full(n_slots, -1, np.int64), np.full(n_slots, -1, np.int64),
               np.zeros(1, np.int64), set_of, np.full(n_sets, -1, np.int64),
               np.zeros((n_sets, ne), np.int64),
               np.zeros((n_sets, ne, params.shape[1])), np.zeros((n_sets, ne, 2), np.int64),
               np.zeros((n_sets, N_COLS, ne)))
    work = pulse_work(n_nodes, ne)
    # plan slots: one per pattern's read, n_inh for inhibition, one for normalization; their
    # fill counts start far apart, so the nodal work's cache never mistakes one for another.
    # (Set at construction: numba drops a store through ``plans[q].counts`` made here.)
    plans = [block_plan(n_nodes, ne, q << 40) for q in range(n_slots)]
    normalize_slot = n_pat + n_inh
    all_grounded = np.ones(n_out, np.bool_)
    only = np.zeros(n_out, np.bool_)
    all_on = np.ones(n_in)
    in_driven = np.ones(n_in, np.bool_)  # input currents are not recorded
    iout = np.zeros(n_out)
    order = np.arange(n_pat)
    inactive = proto.ground_inactive
    t = 0
    stopped = Stop.NONE
    for era in range(n_run):
        targets = era_targets[era]
        steps = 0
        mistakes = 0
        era_info[era, EraColumn.STEPS_TO_LEARN] = -1
        if opts.stop_when_dead and stopped == Stop.NONE:
            stopped = hopeless(patterns, era_targets, era, n_eras, in_nodes, out_nodes, live,
                               ptr, nbr, nbr_edge)
        if stopped != Stop.NONE:
            era_info[era, EraColumn.STOPPED] = stopped
            continue
        for j in range(n_pat):
            order[j] = j
        while steps < max_steps and era_info[era, EraColumn.LEARNED] == 0 \
                and stopped == Stop.NONE:
            if proto.shuffle:
                shuffle_order(order, rng)
            pass_mistakes = 0
            done = 0
            for j in range(n_pat):
                if steps >= max_steps:
                    break
                p = order[j]
                pat = patterns[p]
                # read
                _set_terminals(pat, proto.v_read, inactive, in_nodes, out_nodes, all_grounded,
                               ground_nodes, run.fixed, run.value)
                seen = _read_view(params, x, writable, proto, rng, read_params)
                work, e_read, power = _apply(run, work, plans, p, False, x, xn, proto.t_read,
                                             proto, edges, model, seen, noisy, live, ptr, nbr,
                                             nbr_edge)
                terminal_currents(run.v0, run.g0, edges, out_nodes, all_grounded, in_nodes,
                                  in_driven, run.leave, iout, run.iin)
                x, xn = xn, x
                w = _winner(iout, proto.min_current)
                ok = w == targets[p]
                e_inh = 0.0
                e_norm = 0.0
                n_cut = 0
                if not ok:
                    pass_mistakes += 1
                    mistakes += 1
                    if w >= 0:
                        only[:] = False
                        only[w] = True
                        _set_terminals(pat, proto.v_inhibit, inactive, in_nodes, out_nodes,
                                       only, ground_nodes, run.fixed, run.value)
                        slot = _inhibit_slot(run, n_pat, n_inh, t)
                        work, e_inh, _ = _apply(run, work, plans, slot, True, x, xn,
                                                proto.t_inhibit, proto, edges, model, params,
                                                False, live, ptr, nbr, nbr_edge)
                        _after_write(x, xn, params, writable, proto, rng)
                        x, xn = xn, x
                        n_cut += _prune(x, model, live, pruned_at, t, proto.prune_state,
                                        proto.prune_probability, rng, run.live_version)
                    _set_terminals(all_on, proto.v_normalize, inactive, in_nodes, out_nodes,
                                   all_grounded, ground_nodes, run.fixed, run.value)
                    work, e_norm, _ = _apply(run, work, plans, normalize_slot, True, x, xn,
                                             proto.t_normalize, proto, edges, model, params,
                                             False, live, ptr, nbr, nbr_edge)
                    _after_write(x, xn, params, writable, proto, rng)
                    x, xn = xn, x
                    n_cut += _prune(x, model, live, pruned_at, t, proto.prune_state,
                                    proto.prune_probability, rng, run.live_version)
                rec_pattern[t] = p
                rec_winner[t] = w
                rec_correct[t] = ok
                rec_era[t] = era
                rec_iout[t] = iout
                rec_energy[t, Phase.READ] = e_read
                rec_energy[t, Phase.INHIBIT] = e_inh
                rec_energy[t, Phase.NORMALIZE] = e_norm
                rec_power[t] = power
                if opts.record_states:
                    rec_states[t] = x
                t += 1
                steps += 1
                done += 1
                if opts.stop_when_dead and n_cut > 0:
                    stopped = hopeless(patterns, era_targets, era, n_eras, in_nodes,
                                       out_nodes, live, ptr, nbr, nbr_edge)
                    if stopped != Stop.NONE:
                        era_info[era, EraColumn.STOPPED] = stopped
                        break
            if done == n_pat and pass_mistakes == 0:
                era_info[era, EraColumn.LEARNED] = 1
                era_info[era, EraColumn.STEPS_TO_LEARN] = steps
        era_info[era, EraColumn.STEPS] = steps
        era_info[era, EraColumn.MISTAKES] = mistakes

    # final accuracy on the last era's mapping: reads without writing
    n_correct = 0
    targets = era_targets[n_eras - 1]
    for p in range(n_pat):
        _set_terminals(patterns[p], proto.v_read, inactive, in_nodes, out_nodes, all_grounded,
                       ground_nodes, run.fixed, run.value)
        seen = _read_view(params, x, writable, proto, rng, read_params)
        work, _, _ = _apply(run, work, plans, p, False, x, xn, 0.0, proto, edges, model, seen,
                            noisy, live, ptr, nbr, nbr_edge)
        terminal_currents(run.v0, run.g0, edges, out_nodes, all_grounded, in_nodes,
                          in_driven, run.leave, iout, run.iin)
        if _winner(iout, proto.min_current) == targets[p]:
            n_correct += 1
    rs = rec_states[:t] if opts.record_states else rec_states
    return TrainOutput(rec_pattern[:t], rec_winner[:t], rec_correct[:t], rec_era[:t],
                       rec_iout[:t], rec_energy[:t], rec_power[:t], rs, era_info, x, pruned_at,
                       n_correct)
