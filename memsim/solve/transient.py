"""Transient simulation: device states advanced under time-dependent terminal drives.

At every right-hand-side evaluation the nodal system is solved for the current conductances
(the block solves of :mod:`memsim.solve.linalg`, the envelope Cholesky of
:mod:`memsim.solve.envelope` or the crossbar solver), then the device rates are evaluated. The
whole step loop runs inside numba. Methods:

``euler``
    explicit Euler, a baseline only (first order).
``heun``
    Heun's method (explicit trapezoidal rule), fixed step, second order: two nodal solves a
    step, the cheapest choice when a moderate accuracy suffices (long crossbar runs).
``rk4``
    classical Runge-Kutta, fixed step, fourth order.
``rk45``
    Dormand-Prince 5(4) with adaptive steps (``rtol``, ``atol`` on the states); it stops
    exactly at output times and at drive breakpoints (pulse edges, PWL corners).

States are clipped to [0, 1] after every stage; the device kernels zero a rate that pushes
outward at a bound, so a device at a bound leaves it as soon as the drive reverses. A step in
which a device reaches a bound is only first-order accurate for that device (the rate jumps
there); ``rk45`` recovers the accuracy by shrinking its steps around the event.

The jitted cores (:func:`rhs`, :func:`integrate_fixed`, :func:`integrate_adaptive`) take plain
arrays and may be called from other jitted code.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
from numba import njit

from memsim.circuit.network import Network
from memsim.devices.kernels import clip_unit, conductances, rates
from memsim.devices.models import Model
from memsim.errors import ParameterError, SolverError
from memsim.solve.crossbar import crossbar_applicable, crossbar_node_voltages, crossbar_segments
from memsim.solve.drives import Drive, DriveTable, _eval, drive_table
from memsim.solve.drives import breakpoints as drive_breakpoints
from memsim.solve.envelope import node_voltages_envelope, structure
from memsim.solve.linalg import (
    block_plan,
    nodal_work,
    node_voltages_blocks,
    plan_blocks,
    terminal_currents,
)
from memsim.solve.rk import DP_A, DP_B4, DP_B5, DP_C, accept_factor, reject_factor
from memsim.solve.topology import (
    OutputSpec,
    Terminals,
    adjacency,
    check_state,
    free_nodes,
    terminals,
)

__all__ = [
    "TransientResult", "fixed_steps", "integrate_adaptive", "integrate_fixed", "rhs", "simulate",
]

EULER, RK4, RK45, HEUN = 0, 1, 2, 3
DENSE, ENVELOPE, CROSSBAR = 0, 1, 2
CROSSBAR_RTOL = 1e-11
"""Stopping tolerance of the crossbar solver inside a transient (see memsim.solve.crossbar)."""
DENSE_MAX_FREE = 48
"""Free-node count up to which a step uses the block solves of :mod:`memsim.solve.linalg`
(dense Cholesky of each block's Schur complement); above it, the envelope solver."""
METHODS = {"euler": EULER, "heun": HEUN, "rk4": RK4, "rk45": RK45}


# ----------------------------------------------------------------------------- numba core
@njit(cache=True)
def _fixed_values(t, src, dk, dp, pwl_t, pwl_v, pwl_ptr):
    """Voltages of fixed nodes at time t: ``src[n]`` = input index driving node n, or -1."""
    vin = _eval(dk, dp, pwl_t, pwl_v, pwl_ptr, t)
    out = np.zeros(src.shape[0])
    for n in range(src.shape[0]):
        if src[n] >= 0:
            out[n] = vin[src[n]]
    return out


@njit(cache=True)
def node_voltages(solver, edges, g, free_index, fixed):
    """Node voltages with the solver chosen for the run.

    ``solver = (kind, position, first, ptr, word, bit, dev, seg_word, seg_bit, in_nodes,
    guess, plan, work)``: kind DENSE uses the block plan and work arrays
    (:mod:`.linalg`), ENVELOPE the envelope structure (:mod:`.envelope`), CROSSBAR the
    crossbar layout (:mod:`.crossbar`), warm-started from and updating ``guess``, the
    previous solve's node voltages.
    """
    if solver[0] == ENVELOPE:
        return node_voltages_envelope(edges, g, free_index, solver[1], solver[2], solver[3],
                                      fixed)
    if solver[0] == CROSSBAR:
        v, iterations = crossbar_node_voltages(solver[4], solver[5], solver[6], solver[7],
                                               solver[8], solver[9], g, fixed, solver[10],
                                               CROSSBAR_RTOL, 1000)
        if iterations < 0:
            raise ValueError("crossbar solver did not converge in 1000 iterations")
        solver[10][:] = v
        return v
    v = np.empty(fixed.shape[0])
    node_voltages_blocks(solver[11], edges, g, fixed, v, solver[12])
    return v


@njit(cache=True)
def rhs(t, x, edges, model, params, free_index, src, dk, dp, pwl_t, pwl_v, pwl_ptr, solver):
    """dx/dt of all edges at time t, and the node voltages it used."""
    fixed = _fixed_values(t, src, dk, dp, pwl_t, pwl_v, pwl_ptr)
    g = conductances(model, x, params)
    v = node_voltages(solver, edges, g, free_index, fixed)
    dv = np.empty(edges.shape[0])
    for e in range(edges.shape[0]):
        dv[e] = v[edges[e, 0]] - v[edges[e, 1]]
    return rates(model, x, dv, params), v


@njit(cache=True)
def _clip(x):
    for e in range(x.shape[0]):
        x[e] = clip_unit(x[e])
    return x


@njit(cache=True)
def _observe(v, x, edges, model, params, out_nodes, out_grounded, in_nodes, in_driven):
    """Output currents, input currents and dissipated power for node voltages v."""
    iout = np.empty(out_nodes.shape[0])
    iin = np.empty(in_nodes.shape[0])
    power = terminal_currents(v, conductances(model, x, params), edges, out_nodes, out_grounded,
                              in_nodes, in_driven, np.empty(v.shape[0]), iout, iin)
    return iout, iin, power


@njit(cache=True)
def integrate_fixed(method, x0, t0, dt, t_end, save_every, edges, model, params, free_index,
                    src, dk, dp, pwl_t, pwl_v, pwl_ptr, out_nodes, out_grounded, in_nodes,
                    in_driven, solver):
    """Fixed-step Euler (method 0), RK4 (1) or Heun (3) from ``t0`` to ``t_end``.

    Steps of ``dt``, the last one shortened to end exactly at ``t_end``; saves every
    ``save_every`` steps and always the final state.
    """
    n_steps = fixed_steps(t_end - t0, dt)
    n_save = (n_steps - 1) // save_every + 2
    ne = x0.shape[0]
    ts = np.empty(n_save)
    xs = np.empty((n_save, ne))
    io = np.empty((n_save, out_nodes.shape[0]))
    ii = np.empty((n_save, in_nodes.shape[0]))
    pw = np.empty(n_save)
    x = x0.copy()
    t = t0
    k1, v = rhs(t, x, edges, model, params, free_index, src, dk, dp, pwl_t, pwl_v, pwl_ptr, solver)
    s = 0
    for step in range(n_steps + 1):
        if step % save_every == 0 or step == n_steps:
            ts[s] = t
            xs[s] = x
            io[s], ii[s], pw[s] = _observe(v, x, edges, model, params, out_nodes, out_grounded,
                                          in_nodes, in_driven)
            s += 1
        if step == n_steps:
            break
        t_next = t_end if step + 1 == n_steps else t0 + (step + 1) * dt
        h = t_next - t
        if method == EULER:
            x = _clip(x + h * k1)
        elif method == HEUN:
            k2, _ = rhs(t + h, _clip(x + h * k1), edges, model, params, free_index, src, dk,
                        dp, pwl_t, pwl_v, pwl_ptr, solver)
            x = _clip(x + h / 2 * (k1 + k2))
        else:
            k2, _ = rhs(t + h / 2, _clip(x + h / 2 * k1), edges, model, params, free_index,
                        src, dk, dp, pwl_t, pwl_v, pwl_ptr, solver)
            k3, _ = rhs(t + h / 2, _clip(x + h / 2 * k2), edges, model, params, free_index,
                        src, dk, dp, pwl_t, pwl_v, pwl_ptr, solver)
            k4, _ = rhs(t + h, _clip(x + h * k3), edges, model, params, free_index, src, dk,
                        dp, pwl_t, pwl_v, pwl_ptr, solver)
            x = _clip(x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4))
        t = t_next
        k1, v = rhs(t, x, edges, model, params, free_index, src, dk, dp, pwl_t, pwl_v, pwl_ptr,
                    solver)
    return ts[:s], xs[:s], io[:s], ii[:s], pw[:s]


@njit(cache=True)
def fixed_steps(span, dt):
    """Steps of at most ``dt`` that cover ``span``: the last may be shorter, never a sliver
    from rounding (a span within 1e-9 relative of whole steps takes whole steps)."""
    return max(1, int(np.ceil(span / dt * (1.0 - 1e-9))))


@njit(cache=True)
def integrate_adaptive(x0, stops, save, rtol, atol, h0, h_min, max_steps, edges, model, params,
                       free_index, src, dk, dp, pwl_t, pwl_v, pwl_ptr, out_nodes, out_grounded,
                       in_nodes, in_driven, solver, a_tab, c_tab, b5, b4):
    """Dormand-Prince 5(4) from ``stops[0]`` through every time in ``stops`` (increasing).

    Saves the solution at stops with ``save`` true. Returns the saved arrays, the number of
    accepted and rejected steps, and a status (0 ok, 1 step size underflow, 2 too many steps).
    """
    ne = x0.shape[0]
    n_save = 0
    for k in range(save.shape[0]):
        if save[k]:
            n_save += 1
    ts = np.empty(n_save)
    xs = np.empty((n_save, ne))
    io = np.empty((n_save, out_nodes.shape[0]))
    ii = np.empty((n_save, in_nodes.shape[0]))
    pw = np.empty(n_save)
    x = x0.copy()
    t = stops[0]
    h = h0
    ks = np.empty((7, ne))
    ks[0], v = rhs(t, x, edges, model, params, free_index, src, dk, dp, pwl_t, pwl_v, pwl_ptr,
                   solver)
    s = 0
    if save[0]:
        ts[0] = t
        xs[0] = x
        io[0], ii[0], pw[0] = _observe(v, x, edges, model, params, out_nodes, out_grounded,
                                       in_nodes, in_driven)
        s = 1
    accepted = 0
    rejected = 0
    for j in range(1, stops.shape[0]):
        target = stops[j]
        while t < target:
            if accepted + rejected >= max_steps:
                return ts[:s], xs[:s], io[:s], ii[:s], pw[:s], accepted, rejected, 2
            last = False
            step = h
            if t + step >= target - 1e-12 * max(1.0, abs(target)):
                step = target - t
                last = True
            for st in range(1, 7):
                xi = x.copy()
                for q in range(st):
                    xi += step * a_tab[st, q] * ks[q]
                ks[st], _ = rhs(t + c_tab[st] * step, _clip(xi), edges, model, params,
                                free_index, src, dk, dp, pwl_t, pwl_v, pwl_ptr, solver)
            x5 = x.copy()
            err = 0.0
            for e in range(ne):
                d5 = 0.0
                d4 = 0.0
                for q in range(7):
                    d5 += b5[q] * ks[q, e]
                    d4 += b4[q] * ks[q, e]
                x5[e] += step * d5
                sc = atol + rtol * max(abs(x[e]), abs(x5[e]))
                r = abs(step * (d5 - d4)) / sc
                if r > err:
                    err = r
            if err <= 1.0:
                t = target if last else t + step
                x = _clip(x5)
                accepted += 1
                ks[0], v = rhs(t, x, edges, model, params, free_index, src, dk, dp, pwl_t,
                               pwl_v, pwl_ptr, solver)
                fac = accept_factor(err)
                if not last:
                    h = step * fac
                else:
                    h = max(h, step * fac)
            else:
                rejected += 1
                h = step * reject_factor(err)
                if h < h_min:
                    return ts[:s], xs[:s], io[:s], ii[:s], pw[:s], accepted, rejected, 1
        if save[j]:
            ts[s] = t
            xs[s] = x
            io[s], ii[s], pw[s] = _observe(v, x, edges, model, params, out_nodes, out_grounded,
                                           in_nodes, in_driven)
            s += 1
    return ts[:s], xs[:s], io[:s], ii[:s], pw[:s], accepted, rejected, 0


# ----------------------------------------------------------------------------- Python API
@dataclass(frozen=True)
class TransientResult:
    """The outcome of :func:`simulate`.

    Attributes
    ----------
    t : (T,) seconds
    x : (T, E) device states (resistors and open edges keep 0)
    output_currents : (T, n_out) amperes into each grounded output's ammeter
    input_currents : (T, n_in) amperes delivered by each driven input
    power : (T,) watts dissipated in the network
    method : str
    n_steps : int, accepted steps
    n_rejected : int, rejected steps (adaptive method only)
    wall_time : float, seconds spent integrating (numba compilation excluded)
    net : Network, the simulated network
    drives : DriveTable, the packed drives
    """

    t: np.ndarray
    x: np.ndarray
    output_currents: np.ndarray
    input_currents: np.ndarray
    power: np.ndarray
    method: str
    n_steps: int
    n_rejected: int
    wall_time: float
    net: Network = field(repr=False)
    drives: DriveTable = field(repr=False)

    @property
    def final_state(self) -> np.ndarray:
        return self.x[-1]

    def conductances(self) -> np.ndarray:
        """Conductances (T, E) along the run."""
        return np.stack([conductances(self.net.model, xk, self.net.params) for xk in self.x])

    def plot(self, path: str | None = None, *, max_devices: int = 16) -> Any:
        """States and output currents against time (and I-V of the first memristor)."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
        mem = np.flatnonzero(self.net.memristive)[:max_devices]
        for e in mem:
            axes[0].plot(self.t, self.x[:, e], lw=1, label=self.net.edge_names[e])
        axes[0].set(xlabel="t (s)", ylabel="state x", title="device states", ylim=(-0.02, 1.02))
        if 0 < len(mem) <= 8:
            axes[0].legend(fontsize=7)
        for k, o in enumerate(self.net.outputs):
            axes[1].plot(self.t, self.output_currents[:, k], lw=1, label=self.net.node_names[o])
        axes[1].set(xlabel="t (s)", ylabel="current (A)", title="output currents")
        axes[1].legend(fontsize=7)
        if len(self.net.outputs) == 1 and len(self.net.inputs) == 1:
            axes[2].plot(self.input_voltages()[:, 0], self.output_currents[:, 0], lw=1)
            axes[2].set(xlabel="input voltage (V)", ylabel="output current (A)", title="I-V")
        else:
            axes[2].plot(self.t, self.power, lw=1)
            axes[2].set(xlabel="t (s)", ylabel="power (W)", title="dissipated power")
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=120)
            plt.close(fig)
        return fig

    def input_voltages(self) -> np.ndarray:
        """Drive voltages (T, n_in) at the saved times (0 for floating inputs)."""
        return np.array([self.drives.values(t) * self.drives.driven for t in self.t])


@dataclass(frozen=True)
class _Plan:
    """The run-invariant structure of a transient: free/fixed split, sources, terminals."""

    free_index: np.ndarray
    src: np.ndarray
    solver: tuple
    out_nodes: np.ndarray
    out_grounded: np.ndarray
    in_nodes: np.ndarray
    in_driven: np.ndarray


def _plan(net: Network, terms: Terminals) -> _Plan:
    # Floating components are found once (topology does not change during a run).
    free, _ = free_nodes(net, terms, stacklevel=4)  # user -> simulate -> _plan -> here
    free_index = np.full(net.n_nodes, -1, np.int64)
    free_index[free] = np.arange(len(free))
    src = np.full(net.n_nodes, -1, np.int64)
    for k, node in enumerate(net.inputs):
        if terms.driven[k]:
            src[node] = k
    empty, empty2 = np.zeros(0, np.int64), np.zeros((0, 0), np.int64)
    layout = (empty2,) * 5 + (empty, np.zeros(0))
    live = np.asarray(net.model != Model.OPEN)
    ptr, nbr, nbr_edge = adjacency(net.n_nodes, net.edges)
    plan = block_plan(net.n_nodes, net.n_edges)
    keep, elim = plan_blocks(free_index, live, ptr, nbr, nbr_edge, net.edges, plan)
    blocks = (plan, nodal_work(net.n_nodes, net.n_edges, keep, elim))
    g_probe = conductances(net.model, net.x0, net.params)
    if crossbar_applicable(net, g_probe, terms.driven, terms.grounded):
        seg_word, seg_bit = crossbar_segments(net)  # type: ignore[misc]
        lay = net.layout
        assert lay is not None
        v0 = np.zeros(net.n_nodes)
        layout = (np.asarray(lay.word), np.asarray(lay.bit), np.asarray(lay.device), seg_word,
                  seg_bit, np.asarray(net.inputs), v0)
        solver: tuple = (CROSSBAR, empty, empty, empty, *layout, *blocks)
    elif len(free) > DENSE_MAX_FREE:
        solver = (ENVELOPE, *structure(net.edges[live], free_index), *layout, *blocks)
    else:
        solver = (DENSE, empty, empty, empty, *layout, *blocks)
    return _Plan(free_index, src, solver, net.outputs, terms.grounded, net.inputs, terms.driven)


def simulate(
    net: Network,
    drive: Mapping[str | int, Drive | float] | Sequence[Drive | float | None] | Drive | float,
    t_end: float,
    *,
    dt: float | None = None,
    state: np.ndarray | None = None,
    method: str = "rk45",
    outputs: OutputSpec = "ground",
    rtol: float = 1e-6,
    atol: float = 1e-9,
    t_eval: np.ndarray | None = None,
    save_every: int = 1,
    max_steps: int = 10_000_000,
) -> TransientResult:
    """Simulate ``net`` from ``t = 0`` to ``t_end`` under the input ``drive``.

    Parameters
    ----------
    net : Network
    drive : Drive, number, sequence or mapping
        Per-input voltage drives (:mod:`memsim.solve.drives`): one for all inputs, a sequence
        with one entry per input (``None``: that input floats), or a mapping from input name or
        index to drive (unlisted inputs float). Numbers mean DC.
    t_end : float
        End time in seconds.
    dt : float, optional
        Step of the fixed-step methods (default ``t_end / 1000``; the last step is shortened
        to end at ``t_end`` when ``dt`` does not divide it); initial step of ``rk45``.
    state : array (E,), optional
        Initial device states (default ``net.x0``).
    method : {"rk45", "rk4", "heun", "euler"}
    outputs : "ground", "float" or bool mask
        Which outputs are held at 0 V through their ammeters.
    rtol, atol : float
        Error tolerances of ``rk45`` on the states.
    t_eval : array, optional
        Output times of ``rk45`` (default: 1001 evenly spaced points).
    save_every : int
        Fixed-step methods save every this many steps, and the final state.
    max_steps : int
        Give up after this many steps (raises :class:`~memsim.errors.SolverError`).

    Returns
    -------
    TransientResult

    Raises
    ------
    ParameterError
        Bad times, tolerances, method, drive or state.
    SolverError
        If the adaptive step size collapses, ``max_steps`` is exceeded, or a nodal solve
        inside the integration fails (a matrix not positive definite, a crossbar solve that
        does not converge).

    Examples
    --------
    One HP memristor (no window) driven by a 1 Hz, 1 V sine:

    >>> import networkx as nx, memsim
    >>> from memsim.solve.drives import Sine
    >>> net = memsim.from_networkx(nx.path_graph(2), inputs=[0], outputs=[1],
    ...                            device=memsim.devices.preset("strukov2008"))
    >>> res = memsim.simulate(net, Sine(1.0, 1.0), 1.0, method="rk4", dt=1e-3)
    >>> res.x.shape, bool(res.x[:, 0].max() > 0.1)
    ((1001, 1), True)
    """
    if not np.isfinite(t_end) or t_end <= 0:
        raise ParameterError("t_end", f"must be a positive time in seconds, got {t_end!r}")
    if method not in METHODS:
        raise ParameterError("method", f"unknown method {method!r}; use {', '.join(METHODS)}")
    if dt is not None and (not np.isfinite(dt) or dt <= 0):
        raise ParameterError("dt", f"must be a positive time step, got {dt!r}")
    if save_every < 1:
        raise ParameterError("save_every", f"must be >= 1, got {save_every!r}")
    if not (rtol > 0 and atol > 0):
        raise ParameterError("rtol", "tolerances must be positive")
    x0 = check_state(net, state)
    names = [net.node_names[i] for i in net.inputs]
    table = drive_table(drive, len(net.inputs), names)
    terms = terminals(net, outputs=outputs, floating_inputs=~table.driven)
    plan = _plan(net, terms)
    args = (net.edges, net.model, net.params, plan.free_index, plan.src, table.kind,
            table.params, table.pwl_t, table.pwl_v, table.pwl_ptr, plan.out_nodes,
            plan.out_grounded, plan.in_nodes, plan.in_driven, plan.solver)
    if METHODS[method] != RK45:
        step = t_end / 1000 if dt is None else dt
        n_steps = fixed_steps(t_end, step)
        if n_steps > max_steps:
            raise SolverError(f"{n_steps} steps exceed max_steps={max_steps}; raise dt")
        head = (METHODS[method], x0, 0.0, step, t_end, save_every)
        _compile(integrate_fixed, head + args)
        start = time.perf_counter()
        with _kernel_errors():
            ts, xs, io, ii, pw = integrate_fixed(*head, *args)
        accepted, rejected = n_steps, 0
    else:
        grid = np.linspace(0.0, t_end, 1001) if t_eval is None else np.asarray(t_eval, float)
        if grid.ndim != 1 or grid.size < 1 or (np.diff(grid) <= 0).any() or grid[0] < 0:
            raise ParameterError("t_eval", "output times must increase strictly from >= 0")
        if grid[-1] > t_end * (1 + 1e-12):
            raise ParameterError("t_eval", f"output times must not exceed t_end={t_end:g}")
        bps = _breakpoints(drive, len(net.inputs), names, t_end)
        stops = np.unique(np.concatenate([[0.0], grid, bps]))
        save = np.isin(stops, grid)
        h0 = t_end / 1000 if dt is None else dt
        full = (x0, stops, save, rtol, atol, h0, 1e-14 * t_end, max_steps, *args,
                DP_A, DP_C, DP_B5, DP_B4)
        _compile(integrate_adaptive, full)
        start = time.perf_counter()
        with _kernel_errors():
            ts, xs, io, ii, pw, accepted, rejected, status = integrate_adaptive(*full)
        if status == 1:
            raise SolverError(f"step size underflow near t = {ts[-1] if len(ts) else 0:g} s; "
                              "loosen rtol/atol or check the drive")
        if status == 2:
            raise SolverError(f"more than max_steps={max_steps} steps; raise max_steps")
    wall = time.perf_counter() - start
    if not np.isfinite(xs).all():
        raise SolverError("non-finite device states; check parameters and drive")
    return TransientResult(ts, xs, io, ii, pw, method, int(accepted), int(rejected), wall, net,
                           table)


@contextlib.contextmanager
def _kernel_errors() -> Iterator[None]:
    """Errors raised inside the jitted integrators (a nodal matrix that is not positive
    definite, a crossbar solve that does not converge) as :class:`SolverError`."""
    try:
        yield
    except (ValueError, ArithmeticError) as exc:
        raise SolverError(f"the transient solve failed: {exc}; check the device parameters "
                          "(conductance contrast) and the drive") from exc


def _compile(kernel: Any, args: tuple) -> None:
    """Compile ``kernel`` for ``args`` (or load it from the cache) without running it, so
    that ``wall_time`` measures the integration alone."""
    if hasattr(kernel, "compile"):  # not under NUMBA_DISABLE_JIT
        kernel.compile(tuple(numba.typeof(a) for a in args))


def _breakpoints(drive: Any, n: int, names: Sequence[str], t_end: float) -> np.ndarray:
    if isinstance(drive, Drive):
        drives = [drive]
    elif isinstance(drive, Mapping):
        drives = [d for d in drive.values() if isinstance(d, Drive)]
    elif isinstance(drive, int | float):
        drives = []
    else:
        drives = [d for d in drive if isinstance(d, Drive)]
    return drive_breakpoints(drives, t_end)
