"""Cross-validation: the same transient (or DC operating point) in memsim and in ngspice.

Waveforms are compared the way brian2 compares its Rallpack traces: on common times, each
signal's RMS and maximum error divided by a scale, the signal's range::

    scale = max(range(memsim), range(ngspice), floor)
    nrms  = sqrt(mean((memsim - ngspice)**2)) / scale
    max   = max|memsim - ngspice| / scale

The floor keeps signals that hardly move from turning round-off into a large relative error:
``0.01`` for states (1 % of the full swing [0, 1]) and ``1e-3`` of the largest terminal
current range for currents. ngspice does not store the ``uic`` initial point ``t = 0``, so the
common times are memsim's output times from ngspice's first time point on; ngspice's samples
are linearly interpolated onto them.

A threshold device's state is not an ngspice vector (the XSPICE model keeps its resistance
internally), so it is read back as ``R = v / i`` through a 0 V probe in series with the
device, where ``|v|`` exceeds 1e-3 of the device's largest voltage, and interpolated in time
across the gaps (zero crossings of the drive, where the device sits below threshold and, with
``alpha = 0``, does not move). The XSPICE element integrates its resistance with a lag of
about one time step, so its error is first order in ngspice's step: ~0.15 % of the swing at
1000 steps per drive period, well inside the 1 % tolerance of the tests; memsim's
``memsim_threshold`` subcircuit agrees ~100 times better.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from memsim.circuit.network import Network
from memsim.devices.models import Model
from memsim.errors import ParameterError
from memsim.solve.dc import solve_dc
from memsim.solve.topology import OutputSpec, terminals
from memsim.spice.netlist import input_drives, names, threshold_form, to_netlist
from memsim.spice.ngspice import SpiceRun, run_batch, run_shared

__all__ = [
    "DCComparison",
    "DEFAULT_OPTIONS",
    "Comparison",
    "ErrorRow",
    "compare",
    "compare_dc",
    "spice_states",
]

DEFAULT_OPTIONS: dict[str, float] = {"reltol": 1e-5, "abstol": 1e-15, "vntol": 1e-9}
"""ngspice transient options of :func:`compare`. ngspice's largest step (``max_step``, default
the output step) is set separately, and it decides the agreement (figures in
docs/howto/spice.md). ``reltol`` 1e-5 instead of 1e-3: here a node voltage *is* a device state,
so ngspice's truncation-error bound must be tight. ``vntol`` 1e-9 V and ``abstol`` 1e-15 A
instead of 1 uV and 1 pA: states near 0 and uA currents stay held to the relative tolerance.
"""

STATE_FLOOR = 0.01
CURRENT_FLOOR = 1e-3


@dataclass(frozen=True)
class ErrorRow:
    """The error of one compared signal (see the module docstring for the definitions)."""

    name: str
    kind: str
    nrms: float
    max: float
    scale: float


def _errors(name: str, kind: str, a: np.ndarray, b: np.ndarray, floor: float) -> ErrorRow:
    scale = max(float(np.ptp(a)), float(np.ptp(b)), floor)
    d = a - b
    return ErrorRow(name, kind, float(np.sqrt(np.mean(d**2)) / scale),
                    float(np.max(np.abs(d)) / scale), scale)


@dataclass(frozen=True)
class Comparison:
    """memsim against ngspice on common times (the result of :func:`compare`).

    Attributes
    ----------
    net : Network
    t : (T,) seconds, the common times
    x_memsim, x_spice : (T, M) states of the memristors ``devices``
    devices : (M,) edge indices of the memristors
    out_memsim, out_spice : (T, n_out) output currents (A, into the ammeters)
    in_memsim, in_spice : (T, n_in) input currents (A, delivered into the network)
    rows : tuple of ErrorRow
        One per device state, grounded output and driven input.
    memsim_seconds, ngspice_seconds : float
        Wall times of the two simulations (memsim: the integration, numba compilation
        excluded; ngspice: including loading the netlist and copying the vectors).
    netlist : str
        What ngspice ran.
    """

    net: Network
    t: np.ndarray
    devices: np.ndarray
    x_memsim: np.ndarray
    x_spice: np.ndarray
    out_memsim: np.ndarray
    out_spice: np.ndarray
    in_memsim: np.ndarray
    in_spice: np.ndarray
    rows: tuple[ErrorRow, ...]
    memsim_seconds: float
    ngspice_seconds: float
    netlist: str = field(repr=False)

    def worst(self, kind: str | None = None) -> ErrorRow:
        """The row with the largest normalised RMS error (of one ``kind``: "state",
        "output current", "input current")."""
        rows = [r for r in self.rows if kind is None or r.kind == kind]
        if not rows:
            raise ParameterError("kind", f"no compared signal of kind {kind!r}")
        return max(rows, key=lambda r: r.nrms)

    @property
    def max_nrms(self) -> float:
        """Largest normalised RMS error over all signals."""
        return self.worst().nrms

    def table(self, limit: int = 40) -> str:
        """A text table: one line per signal (the ``limit`` worst), then the wall times."""
        rows = sorted(self.rows, key=lambda r: -r.nrms)
        lines = [f"memsim vs ngspice: {self.net.name} ({len(self.t)} common times, "
                 f"{self.t[0]:.4g}..{self.t[-1]:.4g} s)",
                 f"{'signal':<28}{'kind':<16}{'nRMS':>11}{'nMAX':>11}{'scale':>12}"]
        for r in rows[:limit]:
            lines.append(f"{r.name:<28}{r.kind:<16}{r.nrms:>11.3e}{r.max:>11.3e}"
                         f"{r.scale:>12.3e}")
        if len(rows) > limit:
            lines.append(f"... {len(rows) - limit} more signals with smaller errors")
        ratio = self.ngspice_seconds / self.memsim_seconds if self.memsim_seconds else math.inf
        lines.append(f"wall time: memsim {self.memsim_seconds:.3f} s, ngspice "
                     f"{self.ngspice_seconds:.3f} s (ngspice/memsim = {ratio:.1f})")
        return "\n".join(lines)

    def plot(self, path: str | Path | None = None, *, max_devices: int = 8) -> Any:
        """Overlay of states and output currents: memsim solid, ngspice dashed."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(12, 4))
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for k in range(min(max_devices, len(self.devices))):
            c = colors[k % len(colors)]
            label = self.net.edge_names[self.devices[k]]
            axes[0].plot(self.t, self.x_memsim[:, k], color=c, lw=1.2, label=label)
            axes[0].plot(self.t, self.x_spice[:, k], color=c, lw=1.2, ls="--")
        axes[0].set(xlabel="t (s)", ylabel="state x", title="states: memsim (solid), "
                    "ngspice (dashed)")
        for k in range(self.out_memsim.shape[1]):
            c = colors[k % len(colors)]
            label = self.net.node_names[self.net.outputs[k]]
            axes[1].plot(self.t, self.out_memsim[:, k], color=c, lw=1.2, label=label)
            axes[1].plot(self.t, self.out_spice[:, k], color=c, lw=1.2, ls="--")
        axes[1].set(xlabel="t (s)", ylabel="current (A)", title="output currents")
        for ax in axes:
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=7)
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=120)
            plt.close(fig)
        return fig


def spice_states(net: Network, run: SpiceRun, devices: np.ndarray, *,
                 xspice: bool = False) -> np.ndarray:
    """States (T, M) of the memristors ``devices`` from an ngspice run of memsim's netlist.

    Subcircuit devices: the state node ``x``. XSPICE threshold devices (``xspice=True``) need
    the netlist to have been exported with ``probe_threshold=True`` (see the module
    docstring).

    >>> import memsim
    >>> from memsim.spice import run_shared, to_netlist
    >>> net = memsim.crossbar(1, 1, device=memsim.devices.preset("biolek2009"))
    >>> run = run_shared(to_netlist(net, 0.0, t_end=1e-3))
    >>> spice_states(net, run, np.array([0]))[-1].round(6).tolist()
    [0.1]
    """
    nm = names(net, xspice=xspice)
    t = run["time"]
    out = np.empty((t.size, len(devices)))
    for k, e in enumerate(devices):
        if net.model[e] != Model.THRESHOLD or not xspice:
            out[:, k] = run[f"v({nm.state_vector(int(e))})"]
            continue
        a, b = (nm.nodes[n] for n in net.edges[e])
        v = run.voltage(a) - run.voltage(b)
        i = run[f"i(vprobe_{nm.edges[e]})"]
        r_on, r_off = net.params[e, 0], net.params[e, 1]
        ok = np.abs(v) > 1e-3 * np.max(np.abs(v)) if np.any(v) else np.zeros(t.size, bool)
        ok &= i != 0
        if not ok.any():
            out[:, k] = net.x0[e]
            continue
        x = (r_off - v[ok] / i[ok]) / (r_off - r_on)
        out[:, k] = np.interp(t, t[ok], x)
    return out


def compare(
    net: Network,
    drive: Any,
    t_end: float,
    *,
    t_step: float | None = None,
    state: np.ndarray | None = None,
    outputs: OutputSpec = "ground",
    method: str = "rk45",
    rtol: float = 1e-8,
    atol: float = 1e-11,
    options: Mapping[str, float | str] | None = None,
    max_step: float | None = None,
    threshold: str = "auto",
    mode: str = "shared",
    spice_net: Network | None = None,
) -> Comparison:
    """Run the same transient in memsim and ngspice and compare states and terminal currents.

    Parameters
    ----------
    net : Network
    drive : Drive, number, sequence or mapping
        As for :func:`memsim.simulate`.
    t_end : float
        End time in seconds.
    t_step : float, optional
        Output step of both simulators (default ``t_end / 1000``); also ngspice's largest
        internal step unless ``max_step`` is given.
    state : array (E,), optional
        Initial states (default ``net.x0``).
    outputs : "ground", "float" or bool mask
    method, rtol, atol :
        memsim's integrator and tolerances (tight by default: memsim is the cheap side).
    options : mapping, optional
        ngspice ``.options`` (default :data:`DEFAULT_OPTIONS`).
    max_step : float, optional
        ngspice's largest internal step (default ``t_step``).
    threshold : {"auto", "xspice", "subckt"}
        Form of threshold devices in the netlist (:func:`memsim.spice.threshold_form`).
    mode : {"shared", "batch"}
        Run ngspice through PySpice's shared library or as ``ngspice -b``.
    spice_net : Network, optional
        Give ngspice this network instead of ``net`` (same nodes and edges, other device
        parameters): shows what a real model difference looks like in the table.

    Returns
    -------
    Comparison

    Raises
    ------
    ParameterError
        For bad times, an unknown mode, a ``spice_net`` of another topology (and anything
        :func:`memsim.simulate` rejects).
    NgspiceError
        If ngspice is missing or fails.

    Examples
    --------
    >>> import networkx as nx, memsim
    >>> from memsim.solve.drives import Sine
    >>> net = memsim.from_networkx(nx.path_graph(["a", "b"]), inputs=["a"], outputs=["b"],
    ...                            device=memsim.devices.preset("biolek2009"))
    >>> c = compare(net, Sine(1.0, 1.0), 1.0)
    >>> c.worst("state").nrms < 1e-3
    True
    """
    from memsim.solve.transient import simulate

    if mode not in ("shared", "batch"):
        raise ParameterError("mode", f"use 'shared' or 'batch', got {mode!r}")
    other = net if spice_net is None else spice_net
    if (other.node_names != net.node_names or other.edge_names != net.edge_names
            or not np.array_equal(other.edges, net.edges)
            or not np.array_equal(other.model, net.model)):
        raise ParameterError("spice_net", "must have the nodes, edges and models of net")
    if not (math.isfinite(t_end) and t_end > 0):
        raise ParameterError("t_end", f"must be a positive time, got {t_end!r}")
    t_step = t_end / 1000 if t_step is None else t_step
    if not (math.isfinite(t_step) and 0 < t_step <= t_end):
        raise ParameterError("t_step", f"must lie in (0, t_end], got {t_step!r}")
    n = max(1, int(round(t_end / t_step)))
    grid = np.linspace(0.0, t_end, n + 1)
    res = simulate(net, drive, t_end, state=state, method=method, outputs=outputs, rtol=rtol,
                   atol=atol, t_eval=grid, dt=t_step)
    memsim_seconds = res.wall_time  # the integration, numba compilation excluded
    netlist = to_netlist(other, drive, t_end=t_end, t_step=t_step, max_step=max_step,
                         state=state, outputs=outputs,
                         options=DEFAULT_OPTIONS if options is None else options,
                         threshold=threshold, probe_threshold=True)
    xspice = threshold_form(other, drive, outputs=outputs, threshold=threshold) == "xspice"
    run = run_shared(netlist) if mode == "shared" else run_batch(netlist)
    ts = run["time"]
    keep = res.t >= ts[0] - 1e-12 * t_end
    t = res.t[keep]

    def on_grid(y: np.ndarray) -> np.ndarray:
        return np.interp(t, ts, y)

    devices = np.flatnonzero(net.memristive)
    x_spice_raw = spice_states(other, run, devices, xspice=xspice)
    x_spice = np.column_stack([on_grid(x_spice_raw[:, k]) for k in range(len(devices))]
                              ) if len(devices) else np.zeros((t.size, 0))
    x_memsim = res.x[keep][:, devices]
    nm = names(net, xspice=xspice)
    terms = terminals(net, outputs=outputs)
    drives = input_drives(net, drive)
    out_spice = np.zeros((t.size, len(net.outputs)))
    for k, node in enumerate(net.outputs):
        if terms.grounded[k]:
            out_spice[:, k] = on_grid(run[f"i(vout_{nm.nodes[node]})"])
    in_spice = np.zeros((t.size, len(net.inputs)))
    for k, node in enumerate(net.inputs):
        if drives[k] is not None:
            in_spice[:, k] = -on_grid(run[f"i(vin_{nm.nodes[node]})"])
    out_memsim = res.output_currents[keep]
    in_memsim = res.input_currents[keep]

    rows = [_errors(net.edge_names[e], "state", x_memsim[:, k], x_spice[:, k], STATE_FLOOR)
            for k, e in enumerate(devices)]
    currents = [out_memsim[:, k] for k in range(len(net.outputs)) if terms.grounded[k]]
    currents += [in_memsim[:, k] for k in range(len(net.inputs)) if drives[k] is not None]
    floor = CURRENT_FLOOR * max([float(np.ptp(c)) for c in currents] + [1e-300])
    for k, node in enumerate(net.outputs):
        if terms.grounded[k]:
            rows.append(_errors(net.node_names[node], "output current", out_memsim[:, k],
                                out_spice[:, k], floor))
    for k, node in enumerate(net.inputs):
        if drives[k] is not None:
            rows.append(_errors(net.node_names[node], "input current", in_memsim[:, k],
                                in_spice[:, k], floor))
    return Comparison(net, t, devices, x_memsim, x_spice, out_memsim, out_spice, in_memsim,
                      in_spice, tuple(rows), memsim_seconds, run.wall_time, netlist)


@dataclass(frozen=True)
class DCComparison:
    """A DC operating point in memsim and ngspice (the result of :func:`compare_dc`).

    Attributes
    ----------
    v_memsim, v_spice : (N,) node voltages
    out_memsim, out_spice : (n_out,) output currents
    voltage_error : float
        ``max |dv| / max |v_in|`` over all nodes.
    current_error : float
        ``max |di| / max |i_out|`` over the grounded outputs (0 without any).
    """

    v_memsim: np.ndarray
    v_spice: np.ndarray
    out_memsim: np.ndarray
    out_spice: np.ndarray
    voltage_error: float
    current_error: float


DC_OPTIONS: dict[str, float] = {"reltol": 1e-9, "vntol": 1e-12, "abstol": 1e-18}
"""ngspice options of :func:`compare_dc`: Newton stops once an update is below ``reltol`` of
the value, so it is set far below the 1e-6 agreement checked (the network is linear once the
states are frozen, so Newton converges in a few iterations regardless)."""


def compare_dc(
    net: Network,
    inputs: np.ndarray,
    *,
    state: np.ndarray | None = None,
    outputs: OutputSpec = "ground",
    threshold: str = "auto",
) -> DCComparison:
    """The DC operating point with frozen states in memsim (:func:`memsim.solve_dc`) and in
    ngspice (``.op`` of the netlist exported with ``op=True``).

    Parameters
    ----------
    net : Network
    inputs : array (n_inputs,)
        Input voltages (every input is driven).
    state : array (E,), optional
        Device states (default ``net.x0``).
    outputs : "ground", "float" or bool mask
    threshold : {"auto", "xspice", "subckt"}
        Form of threshold devices in the netlist (:func:`memsim.spice.threshold_form`).

    Raises
    ------
    ParameterError
        For a wrong number of inputs.
    NgspiceError
        If ngspice is missing or fails.

    Examples
    --------
    >>> import memsim
    >>> net = memsim.crossbar(2, 2, device=memsim.devices.preset("biolek2009"), r_line=1.0)
    >>> compare_dc(net, [0.5, -0.2]).voltage_error < 1e-9
    True
    """
    from memsim.solve.drives import DC

    v_in = np.asarray(inputs, float)
    if v_in.shape != (len(net.inputs),):
        raise ParameterError("inputs", f"need {len(net.inputs)} input voltages, got shape "
                             f"{v_in.shape}")
    ref = solve_dc(net, v_in, state=state, outputs=outputs)
    netlist = to_netlist(net, [DC(float(v)) for v in v_in], op=True, state=state,
                         outputs=outputs, options=DC_OPTIONS, threshold=threshold)
    run = run_shared(netlist)
    nm = names(net)
    v_spice = np.array([run.voltage(s)[0] for s in nm.nodes])
    terms = terminals(net, outputs=outputs)
    out_spice = np.array([run[f"i(vout_{nm.nodes[n]})"][0] if terms.grounded[k] else 0.0
                          for k, n in enumerate(net.outputs)])
    v_scale = max(float(np.max(np.abs(v_in))), 1e-300)
    i_scale = float(np.max(np.abs(ref.output_currents))) if len(net.outputs) else 0.0
    v_err = float(np.max(np.abs(v_spice - ref.node_voltages))) / v_scale
    i_err = (float(np.max(np.abs(out_spice - ref.output_currents))) / i_scale
             if i_scale > 0 else 0.0)
    return DCComparison(ref.node_voltages, v_spice, ref.output_currents, out_spice, v_err,
                        i_err)
