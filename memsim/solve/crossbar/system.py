"""The crossbar's nodal system as a solver object, and the structure search behind it.

:class:`CrossbarSystem` has the contract of :class:`~memsim.solve.dc.NodalSystem`: build it
once for a set of conductances, then :meth:`~CrossbarSystem.solve` any number of input
vectors. A single vector runs the 2-D kernels (:mod:`.single`), a batch the two-level
Chebyshev kernel (:mod:`.batched`) in chunks of :data:`CHUNK` right-hand sides.
"""

from __future__ import annotations

import math
import os
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from memsim.circuit.network import Network, Role
from memsim.errors import ParameterError, SolverError
from memsim.solve.crossbar.batched import solve_lines
from memsim.solve.crossbar.coarse import MA, Coarse, coarse_space, n_hats, relaxation_rate
from memsim.solve.crossbar.factors import line_factors
from memsim.solve.crossbar.single import solve_lines1
from memsim.solve.crossbar.stopping import RTOL
from memsim.solve.crossbar.transfer import terminal_map
from memsim.solve.topology import Terminals

__all__ = ["CHUNK", "KEEP_BYTES", "MAP_CELLS", "MAP_SWEEPS", "MAXITER_PER_LINE", "RELAX_BELOW",
           "THREADS", "TWO_LEVEL_SWEEP", "CrossbarSystem", "crossbar_applicable",
           "crossbar_segments", "map_batch", "predicted_sweeps"]

MAXITER_PER_LINE = 10
"""Default iteration budget of :class:`CrossbarSystem`: this many per word and bit line."""

CHUNK = 32
"""Right-hand sides solved together by the batched kernel: the batch axis is its vectorized
inner loop, long enough to hide the line recurrences' latency, while the chunk's four
(R, C, CHUNK) arrays stay in a large cache."""

RELAX_BELOW = 0.1
"""Estimated plain-relaxation rate (:func:`~memsim.solve.crossbar.coarse.relaxation_rate`)
below which a batch starts with plain sweeps: they converge in a handful (0.02: ~7) and cost
about half a two-level sweep, which pays only where relaxation is slow."""

MAP_SWEEPS = 320.0
"""Cost of the terminal map (:mod:`.transfer`) per cell, in plain sweeps of one input vector,
up to 128 x 128 cells; beyond, it grows with ``sqrt(cells / 128^2)`` (nested dissection's
cells^1.5). Measured on one thread: 0.6-0.9 us per cell from 64 x 64 to 200 x 200 (3.2, 11
and 32-44 ms), a plain sweep 1.6-2.9 ns per cell and vector (``benchmarks/results_crossbar.md``,
2026-12-04)."""

TWO_LEVEL_SWEEP = 2.1
"""Cost of a two-level Chebyshev sweep in plain sweeps (4.2-5.8 against 1.6-2.9 ns per cell
and vector)."""

MAP_CELLS = 256 * 256
"""Largest crossbar (rows * cols) whose batched reads use the terminal map on their own (its
plan is built in Python once per shape: 0.1-0.2 s at 128 x 128, 0.7-1 s at 256 x 256).
:meth:`CrossbarSystem.terminal_map` computes it for any size when asked."""


def predicted_sweeps(rate: float, rtol: float = RTOL) -> float:
    """Predicted cost of solving one input vector iteratively, in plain sweeps, from the
    estimated relaxation rate (:func:`~memsim.solve.crossbar.coarse.relaxation_rate`).

    Below :data:`RELAX_BELOW` the batch runs plain sweeps, each shrinking the error by about
    ``rate``: ``log(rtol) / log(rate)`` of them (measured: 4, 5, 6, 6, 7, 9, 11 sweeps where
    this predicts 4.1, 5.2, 6.0, 5.9, 8.7, 10.2, 11.9). Above, two-level sweeps: about
    ``7 + 1 / (1 - rate)`` of them (measured 7, 9, 12, 18, 20, 37 where it gives 8.2, 8.7,
    11.4, 14.5, 22, 43), each :data:`TWO_LEVEL_SWEEP` plain ones.

    >>> round(predicted_sweeps(0.01), 1)  # 1e-12 in sweeps that shrink the error 100-fold
    6.0
    """
    if rate < RELAX_BELOW:
        return max(1.0, math.log(rtol) / math.log(rate)) if rate > 0.0 else 1.0
    return TWO_LEVEL_SWEEP * (7.0 + 1.0 / max(1.0 - rate, 1e-12))


def map_batch(gd: np.ndarray, sw: np.ndarray, sb: np.ndarray, rtol: float = RTOL) -> float:
    """Batch size from which reading a crossbar through its terminal map costs less than
    iterating: the map's predicted cost over one vector's (:func:`predicted_sweeps`), ``inf``
    above :data:`MAP_CELLS` cells. ``gd``, ``sw``, ``sb`` (R, C): device, word-segment and
    bit-segment conductances.

    At 128 x 128 with 0.5 ohm lines and 1-100 kohm devices (plain sweeps, ~7 of them) the map
    pays from ~45 vectors; with 2 ohm lines and 0.1-10 kohm devices (two-level, 12-20 sweeps)
    from 7-10; a low-contrast tile (64 x 200, ~3 plain sweeps) from ~95, more than its 64 unit
    solves.
    """
    rows, cols = np.shape(gd)
    cells = rows * cols
    if cells > MAP_CELLS:
        return float("inf")
    per_cell = MAP_SWEEPS * max(1.0, math.sqrt(cells) / 128.0)  # both costs are per cell
    return per_cell / predicted_sweeps(relaxation_rate(gd, sw, sb), rtol)


THREADS = max(1, int(os.environ.get("MEMSIM_THREADS", "1") or 1))
"""Default number of threads that solve chunks of a batch (environment variable
``MEMSIM_THREADS``, default 1). More threads help only on otherwise idle cores: Dask sweeps
already fill the cores."""


@njit(cache=True, nogil=True)
def _scatter(word, bit, v_in, x, bits, v, start):
    """Word and bit voltages of a chunk of right-hand sides into the node array v (N, B).

    Written in node order (:func:`memsim.crossbar` numbers word nodes row by row and bit nodes
    line by line): twice as fast as one (i, j) loop for both."""
    rows, cols, nb = x.shape
    for i in range(rows):
        for j in range(cols):
            a = word[i, j]
            for k in range(nb):
                v[a, start + k] = v_in[i, k] + x[i, j, k]
    for j in range(cols):
        for i in range(rows):
            b = bit[i, j]
            for k in range(nb):
                v[b, start + k] = bits[i, j, k]



KEEP_BYTES = 64 * 2**20
"""Largest set of per-thread line-solver buffers kept between solves (the four (R, C, chunk)
arrays of a 128 x 128 tile and a full chunk take 16 MiB)."""

_SEGMENT_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_BUFFERS = threading.local()


def _chunk_buffers(rows: int, cols: int,
                   width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """This thread's work arrays for :func:`solve_lines` (which writes them whole before
    reading them): ``x, bits`` (rows, cols, width) and the scratch ``work`` (2, rows, cols,
    width). Kept from solve to solve: a tile re-solves after every write, and fresh arrays of
    some MB cost their page faults each time (a quarter of a 64 x 200 tile's read). Arrays
    larger than :data:`KEEP_BYTES` in all are made fresh for each solve and not kept: their
    solve outweighs the page faults, and a thread should not hold them after it."""
    key = (rows, cols, width)

    def fresh() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.empty(key), np.empty(key), np.empty((2, *key))

    if 4 * 8 * rows * cols * width > KEEP_BYTES:  # four (R, C, B) arrays of float64
        return fresh()
    cache = getattr(_BUFFERS, "arrays", None)
    if cache is None:
        cache = _BUFFERS.arrays = {}
    if key not in cache:
        if len(cache) >= 8:  # a handful of tile shapes at a time
            cache.clear()
        cache[key] = fresh()
    return cache[key]


def _find_edges(net: Network, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """Edge index joining a[k] and b[k] (either orientation) for every k, or None."""
    n = np.int64(net.n_nodes)
    e = net.edges
    keys = np.minimum(e[:, 0], e[:, 1]) * n + np.maximum(e[:, 0], e[:, 1])
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    if np.any(sk[1:] == sk[:-1]):
        return None  # parallel edges: not the plain crossbar structure
    want = np.minimum(a, b) * n + np.maximum(a, b)
    pos = np.searchsorted(sk, want.ravel())
    pos = np.minimum(pos, len(sk) - 1)
    if not np.array_equal(sk[pos], want.ravel()):
        return None
    return order[pos].reshape(want.shape)


def crossbar_segments(net: Network) -> tuple[np.ndarray, np.ndarray] | None:
    """Edge indices ``(seg_word, seg_bit)`` (R, C) of a crossbar's line segments.

    ``seg_word[i, j]`` joins word node (i, j) to its left neighbour (``j = 0``: to input
    ``net.inputs[i]``); ``seg_bit[i, j]`` joins bit node (i, j) to the node below
    (``i = R - 1``: to output ``net.outputs[j]``). Returns None unless ``net`` has exactly the
    structure of :func:`memsim.crossbar` with resistive word and bit lines (no extra edges or
    nodes, no ground nodes). The result is cached per network.

    Examples
    --------
    >>> import memsim
    >>> from memsim.solve.crossbar import crossbar_segments
    >>> net = memsim.crossbar(2, 3, device=memsim.devices.Resistor(1e3), r_line=0.5)
    >>> seg_word, seg_bit = crossbar_segments(net)
    >>> [net.edge_names[k] for k in seg_word[1]]
    ['rw1_0', 'rw1_1', 'rw1_2']
    """
    if net in _SEGMENT_CACHE:
        return _SEGMENT_CACHE[net]
    found = _segments(net)
    _SEGMENT_CACHE[net] = found
    return found


def _segments(net: Network) -> tuple[np.ndarray, np.ndarray] | None:
    lay = net.layout
    if lay is None or not (lay.r_word > 0 and lay.r_bit > 0):
        return None
    rows, cols = lay.rows, lay.cols
    if (len(net.inputs) != rows or len(net.outputs) != cols or net.n_edges != 3 * rows * cols
            or net.n_nodes != rows + cols + 2 * rows * cols
            or np.any(net.roles == Role.GROUND)):
        return None
    word, bit = np.asarray(lay.word), np.asarray(lay.bit)
    nodes = np.concatenate([word.ravel(), bit.ravel(), net.inputs, net.outputs])
    if not np.all(np.bincount(nodes, minlength=net.n_nodes) == 1):
        return None
    dev = np.asarray(lay.device)
    if not (np.array_equal(np.minimum(net.edges[dev, 0], net.edges[dev, 1]),
                           np.minimum(word, bit))
            and np.array_equal(np.maximum(net.edges[dev, 0], net.edges[dev, 1]),
                               np.maximum(word, bit))):
        return None
    left = np.concatenate([net.inputs[:, None], word[:, :-1]], axis=1)
    below = np.concatenate([bit[1:], net.outputs[None, :]], axis=0)
    seg_word = _find_edges(net, left, word)
    seg_bit = _find_edges(net, bit, below)
    if seg_word is None or seg_bit is None:
        return None
    used = np.concatenate([dev.ravel(), seg_word.ravel(), seg_bit.ravel()])
    if not np.all(np.bincount(used, minlength=net.n_edges) == 1):
        return None
    return seg_word.astype(np.int64), seg_bit.astype(np.int64)


def crossbar_applicable(net: Network, g: np.ndarray, driven: np.ndarray,
                        grounded: np.ndarray) -> bool:
    """Whether :class:`CrossbarSystem` can solve ``net`` with conductances ``g``.

    Needs the plain crossbar structure with resistive lines (see :func:`crossbar_segments`),
    every input driven, every output grounded and every line segment conducting.
    """
    if not (np.all(driven) and np.all(grounded)):
        return False
    segs = crossbar_segments(net)
    if segs is None or net.layout is None:
        return False
    g = np.asarray(g, float)
    if g.shape != (net.n_edges,) or not np.isfinite(g).all():
        return False
    return bool(np.all(g[segs[0]] > 0) and np.all(g[segs[1]] > 0)
                and np.all(g[np.asarray(net.layout.device)] >= 0))


class CrossbarSystem:
    """The crossbar's nodal system, solved by line relaxation (see :mod:`memsim.solve.crossbar`).

    Same contract as :class:`~memsim.solve.dc.NodalSystem`: build once for a set of
    conductances, then :meth:`solve` any number of input vectors. The coarse space of the
    batched kernel is built on the first batched solve and reused.

    Parameters
    ----------
    net : Network
        A crossbar from :func:`memsim.crossbar` with ``r_line > 0`` on both line kinds.
    g : ndarray (E,)
        Edge conductances in siemens.
    terms : Terminals
        Must drive every input and ground every output.
    rtol : float
        Word-node KCL residual allowed, relative to the largest input current (so also to the
        largest edge current); see :mod:`memsim.solve.crossbar.stopping`. The default 1e-12
        gives output currents within ~1e-12 relative of a direct solve.
    maxiter : int, optional
        Iteration budget (sweeps plus CG iterations) per chunk of right-hand sides (default
        ``MAXITER_PER_LINE * (rows + cols)``; typical runs need 4-12, lines as resistive as
        the devices a few dozen). :func:`~memsim.solve_dc` with ``method="auto"`` falls back
        to the direct solver if the budget runs out.
    threads : int, optional
        Threads that solve chunks of ``CHUNK`` right-hand sides concurrently (default
        :data:`THREADS`); one chunk always runs on the calling thread.

    Attributes
    ----------
    iterations : list of int
        Iterations of each chunk of right-hand sides in the last :meth:`solve`.

    Raises
    ------
    ParameterError
        If the network, conductances or terminals do not fit (use ``NodalSystem`` then), ``g``
        has the wrong length, or ``rtol`` is not positive.

    Examples
    --------
    >>> import numpy as np, memsim
    >>> from memsim.solve.crossbar import CrossbarSystem
    >>> from memsim.solve.topology import terminals
    >>> net = memsim.crossbar(3, 4, device=memsim.devices.Resistor(1e4), r_line=0.5)
    >>> g = memsim.devices.conductances(net.model, net.x0, net.params)
    >>> v = CrossbarSystem(net, g, terminals(net)).solve(np.ones((3, 2)))
    >>> v.shape  # 3 inputs + 4 outputs + 2 * 12 line nodes, 2 input vectors
    (31, 2)
    >>> direct = memsim.solve.NodalSystem(net, g, terminals(net)).solve(np.ones((3, 2)))
    >>> bool(np.abs(v - direct).max() < 1e-12)
    True
    """

    def __init__(self, net: Network, g: np.ndarray, terms: Terminals, *, rtol: float = RTOL,
                 maxiter: int | None = None, threads: int | None = None):
        self.net, self.g, self.terms = net, np.asarray(g, float), terms
        if self.g.shape != (net.n_edges,):
            raise ParameterError("g", f"needs one conductance per edge ({net.n_edges})")
        if not crossbar_applicable(net, self.g, terms.driven, terms.grounded):
            raise ParameterError(
                "method", f"{net.name!r} is not a crossbar with resistive lines, all inputs "
                "driven and all outputs grounded; use the direct solver (method='direct')")
        if not (np.isfinite(rtol) and rtol > 0):
            raise ParameterError("rtol", f"must be a positive tolerance, got {rtol!r}")
        lay = net.layout
        assert lay is not None
        self.rows, self.cols = lay.rows, lay.cols
        self.rtol = float(rtol)
        self.maxiter = (int(maxiter) if maxiter is not None
                        else MAXITER_PER_LINE * (self.rows + self.cols))
        self.seg_word, self.seg_bit = crossbar_segments(net)  # type: ignore[misc]
        self.dev = np.ascontiguousarray(lay.device, dtype=np.int64)
        self.word = np.asarray(lay.word)
        self.bit = np.asarray(lay.bit)
        self.gd = np.ascontiguousarray(self.g[self.dev])
        self.sw = np.ascontiguousarray(self.g[self.seg_word])
        self.sb = np.ascontiguousarray(self.g[self.seg_bit])
        self.factors = line_factors(self.gd, self.sw, self.sb)
        self._coarse: Coarse | None = None
        self._relax = True
        self.floating = np.zeros(net.n_nodes, bool)
        self.iterations: list[int] = []
        self._map: tuple[np.ndarray, np.ndarray] | None = None
        self.threads = THREADS if threads is None else max(1, int(threads))

    def solve(self, v_in: np.ndarray) -> np.ndarray:
        """Node voltages (N, B) for input voltages ``v_in`` (n_inputs, B).

        Raises
        ------
        ParameterError
            If ``v_in`` is not (n_inputs, B).
        SolverError
            If the iteration misses the tolerance within ``maxiter`` iterations.
        """
        net = self.net
        v_in = self._check(v_in)
        v = np.empty((net.n_nodes, v_in.shape[1]))
        v[net.inputs] = v_in
        v[net.outputs] = 0.0

        def scatter(vin: np.ndarray, x: np.ndarray, bits: np.ndarray, start: int) -> None:
            _scatter(self.word, self.bit, vin, x, bits, v, start)

        self._run(v_in, scatter)
        return v

    def currents(self, v_in: np.ndarray, *,
                 use_map: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Output and input currents only, (n_outputs, B) and (n_inputs, B), for input
        voltages ``v_in`` (n_inputs, B): what a tile's read needs, without the (N, B) node
        voltages. An output's current is its bit line's last segment's (bit node (R-1, j) to
        the grounded output), an input's its word line's first (input to word node (i, 0));
        the same values :func:`memsim.solve_dc` gives within the solver's tolerance.

        A batch of at least :func:`map_batch` vectors (where the map costs less than
        iterating; never above :data:`MAP_CELLS` cells), and every batch once the map exists,
        is read through :meth:`terminal_map` instead: exact to round-off, and ``iterations``
        is then empty. ``use_map=True`` or ``False`` makes the choice instead.

        Raises
        ------
        ParameterError
            If ``v_in`` is not (n_inputs, B).
        SolverError
            If the iteration misses the tolerance within ``maxiter`` iterations.
        """
        v_in = self._check(v_in)
        batch = v_in.shape[1]
        if use_map is None:
            use_map = self._map is not None or batch >= map_batch(self.gd, self.sw, self.sb,
                                                                  self.rtol)
        if use_map:
            t_out, t_in = self.terminal_map()
            self.iterations = []
            return t_out @ v_in, t_in @ v_in
        i_out = np.empty((self.cols, v_in.shape[1]))
        i_in = np.empty((self.rows, v_in.shape[1]))
        g_out = self.sb[self.rows - 1][:, None]
        g_in = self.sw[:, 0][:, None]

        def terminal(vin: np.ndarray, x: np.ndarray, bits: np.ndarray, start: int) -> None:
            width = vin.shape[1]
            i_out[:, start:start + width] = g_out * bits[self.rows - 1]
            i_in[:, start:start + width] = -g_in * x[:, 0]  # v_in - word = -x

        self._run(v_in, terminal)
        return i_out, i_in

    def terminal_map(self) -> tuple[np.ndarray, np.ndarray]:
        """The exact linear map from input voltages to terminal currents: ``(T_out, T_in)``,
        (n_outputs, n_inputs) and (n_inputs, n_inputs), with ``i_out = T_out @ v`` and
        ``i_in = T_in @ v`` (siemens). ``T_out`` is the crossbar's weight matrix as its line
        resistance leaves it (``G.T`` for ideal lines). Computed once by nested dissection
        (:mod:`memsim.solve.crossbar.transfer`) and kept.

        Examples
        --------
        >>> import numpy as np, memsim
        >>> from memsim.solve.crossbar import CrossbarSystem
        >>> from memsim.solve.topology import terminals
        >>> net = memsim.crossbar(2, 3, device=memsim.devices.Resistor(1e4), r_line=1e-6)
        >>> g = memsim.devices.conductances(net.model, net.x0, net.params)
        >>> t_out, t_in = CrossbarSystem(net, g, terminals(net)).terminal_map()
        >>> bool(np.allclose(t_out, 1e-4, rtol=1e-6))  # every cell 10 kohm, lines ~ideal
        True
        """
        if self._map is None:
            y = terminal_map(self.gd, self.sw, self.sb)
            r = self.rows
            self._map = (np.ascontiguousarray(-y[r:, :r]), np.ascontiguousarray(y[:r, :r]))
        return self._map

    def _check(self, v_in: np.ndarray) -> np.ndarray:
        v_in = np.asarray(v_in, float)
        if v_in.ndim != 2 or v_in.shape[0] != self.rows:
            raise ParameterError("inputs", f"need ({self.rows}, batch) input voltages, got "
                                 f"shape {v_in.shape}")
        return v_in

    def _run(self, v_in: np.ndarray,
             sink: Callable[[np.ndarray, np.ndarray, np.ndarray, int], None]) -> None:
        """Solve the chunks of ``v_in``; ``sink(vin, x, bits, start)`` takes each chunk's
        word-line deviations and bit-line voltages (R, C, width)."""
        batch = v_in.shape[1]
        starts = range(0, batch, CHUNK)
        if batch > 1 and self._coarse is None:
            lw, iw, lb, ib = self.factors
            self._coarse = coarse_space(self.gd, self.sw, self.sb, lb, ib)
            self._relax = relaxation_rate(self.gd, self.sw, self.sb) < RELAX_BELOW
        threads = min(self.threads, len(starts))
        if threads > 1:  # chunks are independent; the kernels release the GIL
            with ThreadPoolExecutor(threads) as pool:
                its = list(pool.map(lambda s: self._chunk(v_in, s, sink), starts))
        else:
            its = [self._chunk(v_in, s, sink) for s in starts]
        self.iterations = its
        if min(its) < 0:
            raise SolverError(
                f"the crossbar solver on {self.net.name!r} missed rtol={self.rtol:g} in "
                f"{self.maxiter} iterations; use method='direct'")

    def _chunk(self, v_in: np.ndarray, start: int,
               sink: Callable[[np.ndarray, np.ndarray, np.ndarray, int], None]) -> int:
        """Solve right-hand sides ``start:start + CHUNK`` and hand them to ``sink``."""
        lw, iw, lb, ib = self.factors
        vin = np.ascontiguousarray(v_in[:, start:start + CHUNK])
        width = vin.shape[1]
        if width == 1:  # the 2-D kernels avoid a length-1 inner loop
            x1 = np.zeros((self.rows, self.cols))
            b1 = np.empty((self.rows, self.cols))
            its = solve_lines1(self.gd, self.sw, lw, iw, lb, ib, vin[:, 0], x1, self.rtol,
                               self.maxiter, b1, np.empty_like(b1))
            x, bits = x1[..., None], b1[..., None]
        else:
            c = self._coarse
            assert c is not None
            x, bits, work = _chunk_buffers(self.rows, self.cols, width)
            its = solve_lines(self.gd, self.sw, lw, iw, lb, ib, c.a0, c.wa, c.c0, c.wc, c.q,
                              c.e_inv, c.e_inv.shape[0] // n_hats(self.rows, MA), vin,
                              self.rtol, self.maxiter, x, bits, self._relax, work)
        if its >= 0:
            sink(vin, x, bits, start)
        return int(its)
