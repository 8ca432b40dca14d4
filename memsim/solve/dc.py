"""Nodal DC analysis with explicit terminal configurations and factorization reuse.

With edge conductances g, incidence B and Laplacian L = B diag(g) B^T, nodes split into fixed
ones D (driven inputs, grounded outputs, ground) and free ones F (bulk, floating terminals);
``L_FF v_F = -L_FD v_D``. ``L_FF`` is symmetric positive definite once every free component
touches a fixed node; components that touch none are *floating*: their potential is undefined,
so memsim sets it to 0 V (no current flows in them) and warns with
:class:`~memsim.errors.FloatingSubnetworkWarning`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numba import njit

from memsim.circuit.network import Network
from memsim.devices.kernels import conductances
from memsim.errors import ParameterError, SolverError
from memsim.solve.crossbar import CrossbarSystem, crossbar_applicable
from memsim.solve.topology import (
    OutputSpec,
    Terminals,
    check_state,
    fixed_nodes,
    floating_nodes,
    free_nodes,
    terminals,
)

# The node-role names are defined in memsim.solve.topology and re-exported here.
__all__ = [
    "DCResult", "NodalSystem", "OutputSpec", "Terminals", "check_state", "fixed_nodes",
    "floating_nodes", "free_nodes", "solve_currents", "solve_dc", "terminals",
]

DENSE_MAX = 400
"""Largest number of free nodes solved with dense Cholesky; above it, sparse LU."""

Method = Literal["auto", "direct", "crossbar"]


class NodalSystem:
    """The factorized nodal system of a network for fixed conductances and terminals.

    Build it once, then :meth:`solve` any number of input vectors (one factorization).

    Parameters
    ----------
    net : Network
    g : ndarray (E,)
        Edge conductances in siemens.
    terms : Terminals
    warn : bool
        Warn when part of the network floats.
    stacklevel : int
        Of that warning: 2 points at the caller of ``NodalSystem``; memsim's own entry points
        pass what points at their caller.
    """

    def __init__(self, net: Network, g: np.ndarray, terms: Terminals, *, warn: bool = True,
                 stacklevel: int = 2):
        self.net, self.g, self.terms = net, np.asarray(g, float), terms
        fixed = fixed_nodes(net, terms)
        self.free, self.floating = free_nodes(net, terms, warn=warn, stacklevel=stacklevel + 1)
        self.fixed = fixed
        self.fixed_idx = np.flatnonzero(fixed)
        lap = (net.incidence() @ sp.diags(self.g) @ net.incidence().T).tocsr()
        self.l_ff = lap[self.free][:, self.free]
        self.l_fd = lap[self.free][:, self.fixed_idx]
        nf = len(self.free)
        self._dense = nf <= DENSE_MAX
        try:
            if nf == 0:
                self._factor = None
            elif self._dense:
                self._factor = sla.cho_factor(self.l_ff.toarray(), lower=True, check_finite=False)
            else:
                self._factor = spla.splu(self.l_ff.tocsc(), permc_spec="MMD_AT_PLUS_A",
                                         diag_pivot_thresh=0.0, options={"SymmetricMode": True})
        except (np.linalg.LinAlgError, RuntimeError) as exc:  # pragma: no cover - guarded above
            raise SolverError(f"nodal matrix of {net.name!r} is singular: {exc}") from exc

    def solve(self, v_in: np.ndarray) -> np.ndarray:
        """Node voltages (N, B) for input voltages ``v_in`` (n_inputs, B).

        Entries of undriven inputs are ignored.
        """
        net = self.net
        batch = v_in.shape[1]
        v = np.zeros((net.n_nodes, batch))
        v[net.inputs[self.terms.driven]] = v_in[self.terms.driven]
        if len(self.free):
            rhs = -(self.l_fd @ v[self.fixed_idx])
            if self._dense:
                v[self.free] = sla.cho_solve(self._factor, rhs, check_finite=False)
            else:
                assert self._factor is not None
                v[self.free] = self._factor.solve(np.asarray(rhs))
        return v


@dataclass(frozen=True)
class DCResult:
    """A DC operating point (arrays carry a trailing batch axis when the input did).

    ``edge_voltages``, ``edge_currents`` and ``power`` are computed from the node voltages on
    first access: for a batch of 64 input vectors on a 128 x 128 crossbar they fill 2 x 25 MB
    that a caller reading only output currents never needs.

    Attributes
    ----------
    node_voltages : (N[, B]) volts
    output_currents : (n_out[, B]) amperes flowing from each output into its ammeter
        (0 for floating outputs)
    input_currents : (n_in[, B]) amperes delivered by each input source into the network
        (0 for floating inputs)
    floating : (N,) bool, nodes of floating subnetworks (held at 0 V)
    edges : (E, 2) the network's edges (plus, minus)
    conductances : (E,) siemens, the edge conductances of this operating point
    edge_voltages : (E[, B]) volts, plus minus minus
    edge_currents : (E[, B]) amperes, plus to minus through the device
    power : ([B]) watts dissipated in the network
    """

    node_voltages: np.ndarray
    output_currents: np.ndarray
    input_currents: np.ndarray
    floating: np.ndarray
    edges: np.ndarray = field(repr=False)
    conductances: np.ndarray = field(repr=False)

    @cached_property
    def edge_voltages(self) -> np.ndarray:
        return _edge_values(self.edges, None, self.node_voltages)

    @cached_property
    def edge_currents(self) -> np.ndarray:
        return _edge_values(self.edges, self.conductances, self.node_voltages)

    @cached_property
    def power(self) -> np.ndarray:
        p = _power(self.edges, self.conductances,
                   np.ascontiguousarray(_as_batch(self.node_voltages)))
        return p if self.node_voltages.ndim == 2 else p[0]


def solve_dc(
    net: Network,
    inputs: np.ndarray,
    *,
    state: np.ndarray | None = None,
    outputs: OutputSpec = "ground",
    floating_inputs: np.ndarray | None = None,
    method: Method = "auto",
) -> DCResult:
    """DC operating point of ``net`` with the devices frozen in ``state``.

    Parameters
    ----------
    net : Network
    inputs : array (n_inputs,) or (n_inputs, batch)
        Input voltages in volts; a batch is solved with one factorization.
    state : array (E,), optional
        Device states in [0, 1]; default ``net.x0``.
    outputs : "ground", "float" or bool mask (n_outputs,)
        Which outputs are held at 0 V through their ammeters.
    floating_inputs : bool mask (n_inputs,), optional
        Inputs left disconnected (their voltages in ``inputs`` are ignored).
    method : "auto", "direct" or "crossbar"
        "direct" factorizes the nodal matrix (:class:`NodalSystem`); "crossbar" uses the
        structure-exploiting :class:`~memsim.solve.crossbar.CrossbarSystem` (crossbars with
        resistive lines, all inputs driven, all outputs grounded; KCL residual at most 1e-12
        of the largest edge current); "auto" picks "crossbar" where it applies.

    Returns
    -------
    DCResult

    Raises
    ------
    ParameterError
        Wrong shapes, non-finite voltages, states outside [0, 1], bad terminal options, an
        unknown ``method``, or ``method="crossbar"`` where it does not apply.

    Examples
    --------
    Two 1 kohm resistors in series from an input to a grounded output:

    >>> import networkx as nx, memsim
    >>> net = memsim.from_networkx(nx.path_graph(3), inputs=[0], outputs=[2],
    ...                            device=memsim.devices.Resistor(1e3))
    >>> r = memsim.solve_dc(net, [1.0])
    >>> float(r.output_currents[0])  # 1 V / 2 kohm
    0.0005
    """
    v_in, single = _input_batch(net, inputs)
    x = check_state(net, state)
    terms = terminals(net, outputs=outputs, floating_inputs=floating_inputs)
    g = conductances(net.model, x, net.params)
    system = _system(net, g, terms, method)
    if isinstance(system, CrossbarSystem):
        try:
            v = system.solve(v_in)
        except SolverError:
            if method == "crossbar":
                raise
            # "auto": the iteration gave up; go direct
            system = NodalSystem(net, g, terms, stacklevel=3)
        else:
            return _pack(net, g, v, terms, system.floating, single)
    return _pack(net, g, system.solve(v_in), terms, system.floating, single)


def solve_currents(net: Network, inputs: np.ndarray, *,
                   state: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Output and input currents of :func:`solve_dc` (all outputs grounded, all inputs
    driven), without the node voltages: ``(output_currents, input_currents)``, each
    (n, batch) for a batch of inputs, (n,) for one vector. A crossbar with resistive lines
    is solved by :meth:`~memsim.solve.crossbar.CrossbarSystem.currents` (no (N, B) node
    array: what a tile read needs), anything else as :func:`solve_dc` does.

    Raises
    ------
    ParameterError
        As :func:`solve_dc`.

    Examples
    --------
    >>> import memsim
    >>> net = memsim.crossbar(2, 3, device=memsim.devices.Resistor(1e3), r_line=0.5)
    >>> i_out, i_in = solve_currents(net, [1.0, 0.5])
    >>> ref = memsim.solve_dc(net, [1.0, 0.5])
    >>> bool(abs(i_out - ref.output_currents).max() < 1e-12 * abs(ref.output_currents).max())
    True
    """
    v_in, single = _input_batch(net, inputs)
    x = check_state(net, state)
    terms = terminals(net)
    g = conductances(net.model, x, net.params)
    system = _system(net, g, terms, "auto")
    if isinstance(system, CrossbarSystem):
        try:
            i_out, i_in = system.currents(v_in)
        except SolverError:
            pass  # the iteration gave up; go direct
        else:
            return (i_out[:, 0], i_in[:, 0]) if single else (i_out, i_in)
    res = solve_dc(net, inputs, state=x, method="direct")
    return res.output_currents, res.input_currents


def _input_batch(net: Network, inputs: np.ndarray) -> tuple[np.ndarray, bool]:
    """Input voltages as (n_inputs, batch), and whether one vector was given."""
    v_in = np.asarray(inputs, float)
    single = v_in.ndim == 1
    if single:
        v_in = v_in[:, None]
    if v_in.ndim != 2 or v_in.shape[0] != len(net.inputs):
        raise ParameterError(
            "inputs", f"need {len(net.inputs)} input voltages (or n_inputs x batch), "
            f"got shape {np.shape(inputs)}"
        )
    if not np.isfinite(v_in).all():
        raise ParameterError("inputs", "input voltages must be finite")
    return v_in, single


def _system(net: Network, g: np.ndarray, terms: Terminals,
            method: str) -> NodalSystem | CrossbarSystem:
    if method not in ("auto", "direct", "crossbar"):
        raise ParameterError("method", f"use 'auto', 'direct' or 'crossbar', got {method!r}")
    if method == "crossbar" or (
        method == "auto" and crossbar_applicable(net, g, terms.driven, terms.grounded)
    ):
        return CrossbarSystem(net, g, terms)
    return NodalSystem(net, g, terms, stacklevel=4)  # user -> solve_dc -> _system -> here


def _pack(net: Network, g: np.ndarray, v: np.ndarray, terms: Terminals,
          floating: np.ndarray, single: bool) -> DCResult:
    """The result for node voltages ``v`` (N, B): terminal currents now, edge fields later."""
    if not np.isfinite(v).all():
        raise SolverError(f"non-finite node voltages in {net.name!r}")
    # net current leaving each terminal node, from the edges that touch a terminal only
    n_in = len(net.inputs)
    slot = np.full(net.n_nodes, -1)
    slot[net.inputs] = np.arange(n_in)
    slot[net.outputs] = n_in + np.arange(len(net.outputs))
    plus, minus = slot[net.edges[:, 0]], slot[net.edges[:, 1]]
    at = np.flatnonzero((plus >= 0) | (minus >= 0))
    i_e = g[at, None] * (v[net.edges[at, 0]] - v[net.edges[at, 1]])
    p, m = plus[at], minus[at]
    leave = np.zeros((n_in + len(net.outputs), v.shape[1]))
    np.add.at(leave, p[p >= 0], i_e[p >= 0])
    np.subtract.at(leave, m[m >= 0], i_e[m >= 0])
    i_in = np.where(terms.driven[:, None], leave[:n_in], 0.0)
    i_out = np.where(terms.grounded[:, None], -leave[n_in:], 0.0)
    sq = (lambda a: a[..., 0]) if single else (lambda a: a)
    return DCResult(sq(v), sq(i_out), sq(i_in), floating, net.edges, g)


def _as_batch(v: np.ndarray) -> np.ndarray:
    return v[:, None] if v.ndim == 1 else v


def _edge_values(edges: np.ndarray, g: np.ndarray | None, v: np.ndarray) -> np.ndarray:
    """Edge voltages (``g`` None) or currents, shaped like ``v`` without its node axis."""
    vb = np.ascontiguousarray(_as_batch(v))
    out = np.empty((edges.shape[0], vb.shape[1]))
    _edge_kernel(edges, np.ones(edges.shape[0]) if g is None else g, vb, out)
    return out if v.ndim == 2 else out[:, 0]


@njit(cache=True)
def _edge_kernel(edges, scale, v, out):
    """out[e] = scale[e] * (v[plus] - v[minus]) for node voltages v (N, B), in one pass."""
    nb = v.shape[1]
    for e in range(edges.shape[0]):
        a, b, s = edges[e, 0], edges[e, 1], scale[e]
        for k in range(nb):
            out[e, k] = s * (v[a, k] - v[b, k])


@njit(cache=True)
def _power(edges, g, v):
    """Power dissipated in all edges, (B,), for node voltages v (N, B)."""
    out = np.zeros(v.shape[1])
    for e in range(edges.shape[0]):
        a, b, ge = edges[e, 0], edges[e, 1], g[e]
        for k in range(v.shape[1]):
            d = v[a, k] - v[b, k]
            out[k] += ge * d * d
    return out
