"""The governing equation of linear memristor networks (Caravelli, Traversa, Di Ventra 2017).

Caravelli, Traversa and Di Ventra (PRE 95, 022140, 2017; arXiv 1608.08651) write a whole
network of linear memristors as one matrix ODE,

    dw/dt = alpha w - (1/beta) (I + xi Omega W)^-1 Omega S,
    xi = (R_off - R_on) / R_on,  W = diag(w),

where ``w = 1 - x`` is the paper's state (``w = 1`` OFF; memsim's ``x = 1`` is ON, see
:class:`memsim.devices.Linear`), ``Omega`` is the orthogonal projector on the cycle space of the
graph and ``S`` holds the voltages of sources in series with the edges. This module solves that
equation directly: a second solver, independent of the nodal one, for the same physics.

Derivation and sign of S (memsim's conventions)
-----------------------------------------------
Edge ``e`` runs from its plus node to its minus node; its current ``i_e`` flows from plus to
minus through the device. A source ``s_e`` in series with the edge raises the potential along
that direction, so ``R_e i_e = v_e + s_e`` with ``v_e = (B^T phi)_e`` the node-potential drop.
Kirchhoff's current law ``B i = 0`` puts ``i`` in the cycle space (``i = Omega i``), and
``R i - s = B^T phi`` is orthogonal to it (``Omega (R i - s) = 0``). With
``R = R_on (I + xi W)`` these two give ``R_on i = (I + xi Omega W)^-1 Omega S``; memsim's rate
``dx/dt = -alpha (1 - x) + R_on i / beta`` is then exactly the equation above for ``w = 1 - x``.

Terminal drives as series sources
---------------------------------
A network with driven inputs and grounded outputs has no series sources; it maps onto the
equation exactly by *merging every fixed-voltage node* (driven inputs, grounded outputs, ground
nodes) *into one reference node*. An edge touching a fixed node ``n`` at voltage ``V_n`` keeps
its current if it carries the source ``S_e = sum_n B[n, e] V_n``: ``+V_n`` when the fixed node
is its plus end, ``-V_n`` when it is its minus end (``S = B_D^T V_D``). An edge between two
fixed nodes becomes a self-loop of the merged graph: a cycle of its own, with ``Omega_ee = 1``.
Floating inputs and outputs stay ordinary nodes; pruned (open) edges are left out.

Generalisation used for mixed networks
--------------------------------------
Plain resistors (crossbar line segments) and devices with different ``R_on`` fit the same form
with ``xi W`` replaced by ``diag(rho)``, ``rho_e = R_e(w) / R_ref - 1`` (``R_ref``: the common
``R_on``, or the smallest one), and the rate ``dw_e/dt = alpha_e w_e - R_on,e i_e / beta_e``.
For identical linear devices this is the paper's equation term by term.

Lyapunov function
-----------------
For identical linear devices, no series resistors and constant ``S``,

    L(w) = -(alpha/3) sum_i w_i^3 - (alpha xi/4) sum_ij Omega_ij w_i^2 w_j^2
           + (1/(2 beta)) sum_i w_i^2 (Omega S)_i

(Barrows, Sheldon, Caravelli, arXiv 2402.16015, in memsim's sign of S). Its gradient is
``dL/dw = -W (I + xi Omega W) dw/dt``, hence along a trajectory

    dL/dt = -sum_i w_i (dw_i/dt)^2 - xi |Omega W dw/dt|^2  <= 0

whenever ``w >= 0``. It holds while no device is held at ``w = 1`` (``x = 0``) by the bound;
the bound at ``w = 0`` is harmless because ``dL/dw_i`` vanishes there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as spla

from memsim.circuit.network import Network, Role
from memsim.devices.models import Model
from memsim.errors import ParameterError, SolverError
from memsim.solve.drives import Drive, DriveTable, drive_table
from memsim.solve.drives import breakpoints as drive_breakpoints
from memsim.solve.topology import OutputSpec, check_state, terminals

__all__ = [
    "CTDVResult",
    "CTDVSystem",
    "DENSE_MAX",
    "ctdv_system",
    "cycle_projector",
    "simulate_ctdv",
]

log = logging.getLogger(__name__)

DENSE_MAX = 1500
"""Largest number of edges for which Omega is stored as a dense matrix by default."""

IVP_METHODS = ("DOP853", "RK45", "RK23", "Radau", "BDF", "LSODA")
"""The :func:`scipy.integrate.solve_ivp` methods :func:`simulate_ctdv` accepts."""

DriveSpec = Mapping[str | int, Drive | float] | Sequence[Drive | float | None] | Drive | float


# ----------------------------------------------------------------------------- the projector
def _grounded_incidence(incidence: sp.spmatrix) -> sp.csr_matrix:
    """Incidence with one node per connected component removed (full row rank)."""
    b = sp.csr_matrix(incidence, dtype=float)
    n = b.shape[0]
    adj = (abs(b) @ abs(b).T).tocsr()
    n_comp, comp = csgraph.connected_components(adj, directed=False)
    first = np.full(n_comp, -1)
    for node in range(n - 1, -1, -1):
        first[comp[node]] = node
    keep = np.ones(n, bool)
    keep[first] = False
    return b[keep]


def _dense_projector(b: sp.spmatrix) -> np.ndarray:
    e = b.shape[1]
    bt = _grounded_incidence(b)
    if bt.shape[0] == 0:
        return np.eye(e)
    bd = bt.toarray()
    lap = bd @ bd.T
    factor = sla.cho_factor(lap, lower=True, check_finite=False)
    omega = np.eye(e) - bd.T @ sla.cho_solve(factor, bd, check_finite=False)
    return 0.5 * (omega + omega.T)


def _edge_blocks(b: sp.csr_matrix) -> list[np.ndarray]:
    """Edges grouped by biconnected block (every cycle lies inside one block)."""
    bc = sp.csc_matrix(b)
    e = b.shape[1]
    ends = []
    for k in range(e):
        rows = bc.indices[bc.indptr[k]:bc.indptr[k + 1]]
        ends.append(tuple(sorted(rows.tolist())))
    g = nx.Graph()
    for pair in ends:
        if len(pair) == 2:
            g.add_edge(*pair)
    block_of: dict[tuple[int, int], int] = {}
    for k, comp in enumerate(nx.biconnected_component_edges(g)):
        for a, c in comp:
            block_of[(min(a, c), max(a, c))] = k
    groups: dict[object, list[int]] = {}
    for k, pair in enumerate(ends):
        key: object = block_of[pair] if len(pair) == 2 else ("loop", k)  # type: ignore[index]
        groups.setdefault(key, []).append(k)
    return [np.array(v, dtype=np.int64) for v in groups.values()]


def cycle_projector(incidence: sp.spmatrix | np.ndarray, *, sparse: bool = False
                    ) -> np.ndarray | sp.csr_matrix:
    """The orthogonal projector on the cycle space, ``Omega = I - B^T (B B^T)^+ B``.

    Parameters
    ----------
    incidence : (N, E) sparse or dense
        Signed node-edge incidence matrix ``B`` (a self-loop is an all-zero column).
    sparse : bool
        Return a sparse matrix built block by block: every cycle lies inside one biconnected
        block of the graph, so ``Omega`` is block diagonal over the blocks and zero on bridges.
        Dense blocks are computed from a Cholesky factor of the grounded Laplacian.

    Returns
    -------
    ndarray or scipy.sparse.csr_matrix, (E, E)
        Symmetric, idempotent, of rank ``E - N + components``.

    Raises
    ------
    ParameterError
        If ``incidence`` is not a signed incidence matrix (columns with one +1 and one -1, or
        all zeros).

    Examples
    --------
    A triangle has one independent cycle:

    >>> import networkx as nx, numpy as np
    >>> b = nx.incidence_matrix(nx.cycle_graph(3), oriented=True)
    >>> omega = cycle_projector(b)
    >>> round(float(np.trace(omega)), 12)
    1.0
    """
    b = sp.csr_matrix(incidence, dtype=float)
    col_sum = np.asarray(b.sum(axis=0)).ravel()
    col_abs = np.asarray(abs(b).sum(axis=0)).ravel()
    if (np.abs(col_sum) > 1e-12).any() or not np.all((col_abs == 0) | (col_abs == 2)):
        raise ParameterError("incidence", "each column needs one +1 and one -1 (or be all zero)")
    e = b.shape[1]
    if not sparse:
        return _dense_projector(b)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    bc = sp.csc_matrix(b)
    for block in _edge_blocks(b):
        sub = bc[:, block]
        used = np.flatnonzero(np.asarray(abs(sub).sum(axis=1)).ravel())
        om = _dense_projector(sub[used])
        om[np.abs(om) < 1e-15] = 0.0
        r, c = np.nonzero(om)
        rows.append(block[r])
        cols.append(block[c])
        vals.append(om[r, c])
    if not rows:
        return sp.csr_matrix((e, e))
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(e, e))


# ----------------------------------------------------------------------------- the system
@dataclass(frozen=True)
class CTDVSystem:
    """A network in the form of the CTDV equation, for one terminal configuration.

    Built by :func:`ctdv_system`. Edge arrays have length ``E`` (all edges of the network,
    open ones included; those carry no current and keep their state).

    Attributes
    ----------
    net : Network
    omega : (E, E) ndarray or sparse
        Cycle-space projector of the merged graph (zero rows/columns for open edges).
    source_map : (E, n_inputs) ndarray
        ``S = source_map @ v_in``: the series sources of the edges for input voltages
        ``v_in`` (floating inputs contribute nothing).
    r_ref : float
        The reference resistance ``R_ref`` (the common ``R_on`` of the linear devices).
    xi : float
        ``(R_off - R_on) / R_on`` when all linear devices are identical, else ``nan``.
    linear : (E,) bool
        Edges that are linear memristors (they carry the state ``w``).
    live : (E,) bool
        Edges that conduct (not open).
    """

    net: Network
    omega: np.ndarray | sp.csr_matrix
    source_map: np.ndarray
    r_ref: float
    xi: float
    linear: np.ndarray
    live: np.ndarray
    driven: np.ndarray
    _r_on: np.ndarray = field(repr=False)
    _r_off: np.ndarray = field(repr=False)
    _alpha: np.ndarray = field(repr=False)
    _beta: np.ndarray = field(repr=False)
    _r_fixed: np.ndarray = field(repr=False)

    # ---------------------------------------------------------------- pieces of the equation
    @property
    def sparse(self) -> bool:
        return sp.issparse(self.omega)

    def sources(self, v_in: np.ndarray) -> np.ndarray:
        """Series sources ``S`` (E,) for input voltages ``v_in`` (n_inputs,)."""
        return self.source_map @ np.asarray(v_in, float)

    def rho(self, w: np.ndarray) -> np.ndarray:
        """``R_e / R_ref - 1`` of every edge: ``xi w_e`` for identical linear devices."""
        w = np.asarray(w, float)
        r = np.where(self.linear, self._r_on + (self._r_off - self._r_on) * w, self._r_fixed)
        return r / self.r_ref - 1.0

    def currents(self, w: np.ndarray, s: np.ndarray) -> np.ndarray:
        """Edge currents ``i = (1/R_ref) (I + Omega diag(rho))^-1 Omega S`` in amperes."""
        rho = np.where(self.live, self.rho(w), 0.0)
        omega_s = self.omega @ s
        e = rho.shape[0]
        if self.sparse:
            m = sp.identity(e, format="csc") + sp.csc_matrix(self.omega) @ sp.diags(rho)
            u = spla.splu(sp.csc_matrix(m)).solve(np.asarray(omega_s, float))
        else:
            m = np.eye(e) + self.omega * rho[None, :]
            u = np.linalg.solve(m, omega_s)
        return np.where(self.live, u / self.r_ref, 0.0)

    def rhs(self, w: np.ndarray, s: np.ndarray) -> np.ndarray:
        """``dw/dt`` in the paper's variable: ``alpha w - R_on i / beta`` on linear devices.

        Uses memsim's bound rule: a rate pushing ``w`` out of [0, 1] at a bound is zero.
        """
        wc = np.clip(w, 0.0, 1.0)
        i = self.currents(wc, s)
        dw = np.where(self.linear, self._alpha * wc - self._r_on * i / self._beta, 0.0)
        out = ((wc <= 0.0) & (dw < 0.0)) | ((wc >= 1.0) & (dw > 0.0))
        return np.where(out, 0.0, dw)

    # ---------------------------------------------------------------- Lyapunov function
    def _uniform(self) -> tuple[float, float, float]:
        if not np.all(self.linear[self.live]):
            raise ParameterError("net", "the Lyapunov function needs a purely memristive network "
                                 "(no resistors); drop the line resistances")
        if not np.isfinite(self.xi):
            raise ParameterError("net", "the Lyapunov function needs identical devices "
                                 "(same R_on, R_off)")
        a, bt = self._alpha[self.live], self._beta[self.live]
        if np.ptp(a) > 1e-12 * max(1.0, abs(a).max()) or np.ptp(bt) > 1e-12 * abs(bt).max():
            raise ParameterError("net", "the Lyapunov function needs one alpha and one beta "
                                 "for all devices")
        return float(a[0]), float(bt[0]), self.xi

    def lyapunov(self, w: np.ndarray, s: np.ndarray) -> float:
        """The Lyapunov function ``L(w)`` (see the module docstring) for constant sources ``s``.

        Raises
        ------
        ParameterError
            If the network has resistors or its linear devices differ.
        """
        alpha, beta, xi = self._uniform()
        w = np.where(self.live, np.asarray(w, float), 0.0)
        w2 = w * w
        omega_s = self.omega @ s
        return float(-alpha / 3.0 * np.sum(w2 * w) - alpha * xi / 4.0 * (w2 @ (self.omega @ w2))
                     + np.sum(w2 * omega_s) / (2.0 * beta))

    def lyapunov_rate(self, w: np.ndarray, s: np.ndarray) -> float:
        """``dL/dt = -sum w_i wdot_i^2 - xi |Omega W wdot|^2`` along the unclamped flow."""
        _, _, xi = self._uniform()
        w = np.where(self.live, np.asarray(w, float), 0.0)
        wdot = self.rhs(w, s)
        proj = self.omega @ (w * wdot)
        return float(-np.sum(w * wdot * wdot) - xi * np.dot(proj, proj))


def ctdv_system(
    net: Network,
    *,
    outputs: OutputSpec = "ground",
    floating_inputs: np.ndarray | None = None,
    sparse: bool | None = None,
) -> CTDVSystem:
    """Cast ``net`` with a terminal configuration into the CTDV equation.

    Fixed-voltage nodes (driven inputs, grounded outputs, ground) are merged into one
    reference node and the input voltages become series sources ``S = B_D^T V_D`` (see the
    module docstring).

    Parameters
    ----------
    net : Network
        Linear (Caravelli) memristors, optionally plain resistors and open (pruned) edges.
    outputs : "ground", "float" or bool mask
        Which outputs are held at 0 V.
    floating_inputs : bool mask (n_inputs,), optional
        Inputs left disconnected.
    sparse : bool, optional
        Store ``Omega`` block-sparse (default: when the network has more than
        :data:`DENSE_MAX` edges).

    Returns
    -------
    CTDVSystem

    Raises
    ------
    ParameterError
        If the network holds memristors other than :class:`~memsim.devices.Linear`, or has no
        linear memristor; bad terminal options.

    Examples
    --------
    >>> import networkx as nx, memsim
    >>> dev = memsim.devices.Linear(r_on=100.0, r_off=1e4, x0=0.5)
    >>> net = memsim.from_networkx(nx.cycle_graph(4), inputs=[0], outputs=[2], device=dev)
    >>> sys_ = ctdv_system(net)
    >>> sys_.omega.shape, round(sys_.xi, 6)
    ((4, 4), 99.0)
    """
    live = net.model != Model.OPEN
    linear = net.model == Model.LINEAR
    bad = live & ~linear & (net.model != Model.RESISTOR)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ParameterError(
            "net", f"the CTDV equation needs Linear memristors; edge {net.edge_names[k]!r} is "
            f"{Model(int(net.model[k])).name} (use memsim.devices.Linear or memsim.simulate)")
    if not linear.any():
        raise ParameterError("net", "the CTDV equation needs at least one Linear memristor")
    terms = terminals(net, outputs=outputs, floating_inputs=floating_inputs)
    fixed = net.roles == Role.GROUND
    fixed[net.inputs[terms.driven]] = True
    fixed[net.outputs[terms.grounded]] = True
    # Merge fixed nodes into node 0 of the reduced graph; free nodes keep their own rows.
    free = np.flatnonzero(~fixed)
    index = np.zeros(net.n_nodes, np.int64)
    index[free] = np.arange(1, len(free) + 1)
    n_red = len(free) + 1
    e = net.n_edges
    live_idx = np.flatnonzero(live)
    plus, minus = index[net.edges[live_idx, 0]], index[net.edges[live_idx, 1]]
    self_loop = plus == minus
    rows = np.concatenate([plus[~self_loop], minus[~self_loop]])
    cols = np.concatenate([live_idx[~self_loop], live_idx[~self_loop]])
    vals = np.concatenate([np.ones(np.sum(~self_loop)), -np.ones(np.sum(~self_loop))])
    b_red = sp.csr_matrix((vals, (rows, cols)), shape=(n_red, e))
    use_sparse = e > DENSE_MAX if sparse is None else bool(sparse)
    omega = cycle_projector(b_red, sparse=use_sparse)
    # Open edges: a zero column is a "cycle"; remove them from the projector.
    if (~live).any():
        mask = sp.diags(live.astype(float))
        omega = mask @ omega @ mask
        omega = sp.csr_matrix(omega) if use_sparse else np.asarray(omega)
    # S = B_D^T V_D restricted to driven inputs (grounded nodes contribute 0 V).
    source_map = np.zeros((e, len(net.inputs)))
    for k, node in enumerate(net.inputs):
        if terms.driven[k]:
            source_map[live & (net.edges[:, 0] == node), k] += 1.0
            source_map[live & (net.edges[:, 1] == node), k] -= 1.0
    p = net.params
    r_on = np.where(linear, p[:, 0], np.nan)
    r_off = np.where(linear, p[:, 1], np.nan)
    lin_on, lin_off = p[linear, 0], p[linear, 1]
    identical = np.ptp(lin_on) <= 1e-12 * lin_on.max() and np.ptp(lin_off) <= 1e-12 * lin_off.max()
    r_ref = float(lin_on.min())
    xi = float((lin_off[0] - lin_on[0]) / lin_on[0]) if identical else float("nan")
    r_fixed = np.where(net.model == Model.RESISTOR, p[:, 0], r_ref)
    return CTDVSystem(
        net=net, omega=omega, source_map=source_map, r_ref=r_ref, xi=xi, linear=linear & live,
        live=live, driven=terms.driven, _r_on=np.where(linear, r_on, r_ref),
        _r_off=np.where(linear, r_off, r_ref), _alpha=np.where(linear, p[:, 2], 0.0),
        _beta=np.where(linear, p[:, 3], 1.0), _r_fixed=r_fixed,
    )


# ----------------------------------------------------------------------------- integration
@dataclass(frozen=True)
class CTDVResult:
    """The outcome of :func:`simulate_ctdv`.

    Attributes
    ----------
    t : (T,) seconds
    w : (T, E) paper states ``w = 1 - x`` (0 on resistors and open edges)
    x : (T, E) memsim states (``x = 1 - w`` on linear devices, 0 elsewhere)
    edge_currents : (T, E) amperes, plus to minus
    n_evaluations : int, right-hand-side evaluations
    wall_time : float, seconds
    system : CTDVSystem
    drives : DriveTable
    """

    t: np.ndarray
    w: np.ndarray
    x: np.ndarray
    edge_currents: np.ndarray
    n_evaluations: int
    wall_time: float
    system: CTDVSystem = field(repr=False)
    drives: DriveTable = field(repr=False)

    def sources(self) -> np.ndarray:
        """Series sources ``S`` (T, E) at the saved times."""
        return np.array([self.system.sources(self.drives.values(t) * self.drives.driven)
                         for t in self.t])

    def lyapunov(self) -> np.ndarray:
        """The Lyapunov function along the run (T,); see :meth:`CTDVSystem.lyapunov`."""
        s = self.sources()
        return np.array([self.system.lyapunov(w, sk) for w, sk in zip(self.w, s, strict=True)])


def _drive_list(drive: DriveSpec) -> list[Drive]:
    if isinstance(drive, Drive):
        return [drive]
    if isinstance(drive, Mapping):
        return [d for d in drive.values() if isinstance(d, Drive)]
    if isinstance(drive, int | float):
        return []
    return [d for d in drive if isinstance(d, Drive)]


def simulate_ctdv(
    net: Network,
    drive: DriveSpec,
    t_end: float,
    *,
    state: np.ndarray | None = None,
    outputs: OutputSpec = "ground",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    t_eval: np.ndarray | None = None,
    method: str = "DOP853",
    sparse: bool | None = None,
) -> CTDVResult:
    """Integrate the CTDV equation of ``net`` from ``t = 0`` to ``t_end``.

    The same inputs as :func:`memsim.simulate` (drives, floating inputs, output options), so
    the two solvers can be compared run for run. Integration uses
    :func:`scipy.integrate.solve_ivp`, restarted at every drive breakpoint.

    Parameters
    ----------
    net : Network
        Linear memristors (plus optional resistors and open edges).
    drive : Drive, number, sequence or mapping
        As for :func:`memsim.simulate`; inputs without a drive float.
    t_end : float
        End time in seconds.
    state : array (E,), optional
        Initial memsim states ``x`` (default ``net.x0``); the paper's ``w = 1 - x``.
    outputs : "ground", "float" or bool mask
    rtol, atol : float
        Tolerances of ``solve_ivp`` on ``w``.
    t_eval : array, optional
        Output times (default 201 evenly spaced points).
    method : str
        A ``solve_ivp`` method, one of :data:`IVP_METHODS`.
    sparse : bool, optional
        Block-sparse ``Omega`` (default for large networks).

    Returns
    -------
    CTDVResult

    Raises
    ------
    ParameterError
        Bad times, tolerances, state, integration method or devices (see
        :func:`ctdv_system`).
    SolverError
        If ``solve_ivp`` fails.

    Examples
    --------
    One linear memristor under 1 V: the state moves ON (x grows) at ``R_on i / beta``.

    >>> import networkx as nx, memsim
    >>> dev = memsim.devices.Linear(r_on=100.0, r_off=1e4, alpha=0.0, beta=1.0, x0=0.5)
    >>> net = memsim.from_networkx(nx.path_graph(2), inputs=[0], outputs=[1], device=dev)
    >>> res = simulate_ctdv(net, 1.0, 1.0)
    >>> bool(res.x[-1, 0] > res.x[0, 0])
    True
    """
    from scipy.integrate import solve_ivp

    if not np.isfinite(t_end) or t_end <= 0:
        raise ParameterError("t_end", f"must be a positive time in seconds, got {t_end!r}")
    if not (rtol > 0 and atol > 0):
        raise ParameterError("rtol", "tolerances must be positive")
    if method not in IVP_METHODS:
        raise ParameterError("method", f"use one of {', '.join(IVP_METHODS)}, got {method!r}")
    x0 = check_state(net, state)
    names = [net.node_names[i] for i in net.inputs]
    table = drive_table(drive, len(net.inputs), names)
    system = ctdv_system(net, outputs=outputs, floating_inputs=~table.driven, sparse=sparse)
    grid = np.linspace(0.0, t_end, 201) if t_eval is None else np.asarray(t_eval, float)
    if grid.ndim != 1 or grid.size < 1 or (np.diff(grid) <= 0).any() or grid[0] < 0:
        raise ParameterError("t_eval", "output times must increase strictly from >= 0")
    if grid[-1] > t_end * (1 + 1e-12):
        raise ParameterError("t_eval", f"output times must not exceed t_end={t_end:g}")
    w0 = np.where(system.linear, 1.0 - x0, 0.0)
    driven = table.driven.astype(float)
    n_eval = 0

    def fun(t: float, w: np.ndarray) -> np.ndarray:
        nonlocal n_eval
        n_eval += 1
        return system.rhs(w, system.sources(table.values(t) * driven))

    stops = np.unique(np.concatenate([[0.0], drive_breakpoints(_drive_list(drive), t_end),
                                      [t_end]]))
    start = time.perf_counter()
    ws = np.empty((grid.size, net.n_edges))
    w = w0
    saved = 0
    if grid[0] == 0.0:
        ws[0] = w0
        saved = 1
    for a, b in zip(stops[:-1], stops[1:], strict=True):
        inside = grid[(grid > a) & (grid <= b)]
        # Always evaluate at the segment end b: the next segment starts there.
        times = np.unique(np.append(inside, b))
        sol = solve_ivp(fun, (a, b), w, method=method, rtol=rtol, atol=atol, t_eval=times)
        if not sol.success:
            raise SolverError(f"CTDV integration failed near t = {sol.t[-1]:g} s: {sol.message}")
        if inside.size:
            ws[saved:saved + inside.size] = sol.y.T[np.isin(times, inside)]
            saved += inside.size
        w = np.clip(sol.y[:, -1], 0.0, 1.0)
    wall = time.perf_counter() - start
    ws = np.where(system.linear[None, :], np.clip(ws, 0.0, 1.0), 0.0)
    xs = np.where(system.linear[None, :], 1.0 - ws, 0.0)
    cur = np.array([system.currents(wk, system.sources(table.values(t) * driven))
                    for t, wk in zip(grid, ws, strict=True)])
    log.debug("CTDV run of %s: %d evaluations in %.3f s", net.name, n_eval, wall)
    return CTDVResult(grid, ws, xs, cur, n_eval, wall, system, table)
