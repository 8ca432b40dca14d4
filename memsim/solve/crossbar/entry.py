"""Jitted entry points for other kernels: the crossbar solve inside a transient loop.

:func:`crossbar_voltages` may be called from other jitted code, warm-started from the
previous step's voltages; it runs the single right-hand-side kernels
(:func:`~memsim.solve.crossbar.single.solve_lines1`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from memsim.solve.crossbar.factors import line_factors
from memsim.solve.crossbar.single import solve_lines1

__all__ = ["crossbar_node_voltages", "crossbar_voltages"]


@njit(cache=True)
def crossbar_voltages(dev, seg_word, seg_bit, g, v_in, v_word_guess, rtol, maxiter):
    """Word- and bit-line voltages of a crossbar, callable from other jitted code.

    All inputs driven, all outputs at 0 V, every line segment of positive conductance.

    Parameters
    ----------
    dev, seg_word, seg_bit : int64 (R, C)
        Edge indices of the cell devices and of the segments ``sw[i, j]`` / ``sb[i, j]``
        (see :func:`~memsim.solve.crossbar.factors.line_factors` and
        :func:`~memsim.solve.crossbar.system.crossbar_segments`).
    g : float64 (E,)
        Conductances of all edges.
    v_in : float64 (R,)
        Input voltage of each word line.
    v_word_guess : float64 (R, C)
        Initial guess of the word-line voltages, e.g. the previous time step's solution
        (``v_in`` broadcast along the lines is the ideal-line guess).
    rtol : float
        Stopping tolerance, see :mod:`memsim.solve.crossbar.stopping`.
    maxiter : int
        Iteration budget.

    Returns
    -------
    v_word, v_bit : (R, C)
        Node voltages; the device of cell (i, j) sees ``v_word[i, j] - v_bit[i, j]``.
    iterations : int
        CG iterations used, -1 if the budget ran out (the caller decides what to do).

    Examples
    --------
    >>> import numpy as np, memsim
    >>> from memsim.solve.crossbar import crossbar_segments, crossbar_voltages
    >>> net = memsim.crossbar(4, 6, device=memsim.devices.Resistor(1e4), r_line=1.0)
    >>> seg_word, seg_bit = crossbar_segments(net)
    >>> g = memsim.devices.conductances(net.model, net.x0, net.params)
    >>> v_in = np.full(4, 0.5)
    >>> v_word, v_bit, its = crossbar_voltages(net.layout.device, seg_word, seg_bit, g, v_in,
    ...                                         np.full((4, 6), 0.5), 1e-12, 100)
    >>> bool(its > 0 and np.all(v_word <= 0.5) and np.all(v_bit >= 0))
    True
    >>> _, _, again = crossbar_voltages(net.layout.device, seg_word, seg_bit, g, v_in,
    ...                                 v_word, 1e-12, 100)  # warm start at the solution
    >>> again
    0
    """
    rows, cols = dev.shape
    gd = np.empty((rows, cols))
    sw = np.empty((rows, cols))
    sb = np.empty((rows, cols))
    for i in range(rows):
        for j in range(cols):
            gd[i, j] = g[dev[i, j]]
            sw[i, j] = g[seg_word[i, j]]
            sb[i, j] = g[seg_bit[i, j]]
    lw, iw, lb, ib = line_factors(gd, sw, sb)
    x = np.empty((rows, cols))
    for i in range(rows):
        for j in range(cols):
            x[i, j] = v_word_guess[i, j] - v_in[i]
    v_bit = np.empty((rows, cols))
    iterations = solve_lines1(gd, sw, lw, iw, lb, ib, v_in, x, rtol, maxiter, v_bit,
                              np.empty((rows, cols)))
    for i in range(rows):
        for j in range(cols):
            x[i, j] += v_in[i]
    return x, v_bit, iterations


@njit(cache=True)
def crossbar_node_voltages(word, bit, dev, seg_word, seg_bit, in_nodes, g, fixed, v_guess,
                           rtol, maxiter):
    """:func:`crossbar_voltages` on whole node vectors, for a transient loop's solver slot.

    Parameters
    ----------
    word, bit, dev, seg_word, seg_bit : int64 (R, C)
        Node indices of the line nodes (``layout.word`` / ``layout.bit``), edge indices of the
        devices (``layout.device``) and of the segments
        (:func:`~memsim.solve.crossbar.system.crossbar_segments`).
    in_nodes : int64 (R,)
        Input node of each word line (``net.inputs``).
    g : (E,)
        Edge conductances.
    fixed : (N,)
        Voltages of the fixed nodes (inputs: their drive; outputs: 0); other entries ignored.
    v_guess : (N,)
        Previous node voltages (warm start); only the word-line entries are read.
    rtol, maxiter
        As in :func:`crossbar_voltages`.

    Returns
    -------
    v : (N,)
        All node voltages (terminals copied from ``fixed``).
    iterations : int
        CG iterations, -1 if the budget ran out.
    """
    rows, cols = word.shape
    v_in = np.empty(rows)
    guess = np.empty((rows, cols))
    for i in range(rows):
        v_in[i] = fixed[in_nodes[i]]
        for j in range(cols):
            guess[i, j] = v_guess[word[i, j]]
    v_word, v_bit, iterations = crossbar_voltages(dev, seg_word, seg_bit, g, v_in, guess,
                                                  rtol, maxiter)
    v = fixed.copy()
    for i in range(rows):
        for j in range(cols):
            v[word[i, j]] = v_word[i, j]
            v[bit[i, j]] = v_bit[i, j]
    return v, iterations

