"""A structure-exploiting DC solver for crossbars with resistive lines.

Unknowns are the word-line nodes ``w[i, j]`` and the bit-line nodes ``b[i, j]`` of cell
(i, j). With device conductances ``G`` (diagonal: the device of cell (i, j) joins ``w[i, j]``
to ``b[i, j]``) the nodal matrix is::

    [[ A_w, -G ],
     [ -G , A_b]]

where ``A_w`` is block-diagonal with one tridiagonal block per word line (its segments, plus
the device conductances on the diagonal) and ``A_b`` likewise per bit line
(:mod:`.factors`). Eliminating the bit nodes leaves the Schur system
``S = A_w - G A_b^-1 G`` on the word nodes, symmetric positive definite.

The unknowns are carried as deviations from the ideal-line solution: ``x = w - v_in`` (the
IR drop along the word lines) and the bit voltages ``b`` themselves. In these variables the
right-hand side and the residual are currents of the size of device currents, free of the
cancellation between the input voltage and the large line currents, so the iteration gets
down to round-off. The start ``x = 0`` is the ideal-line solution.

The workhorse is line relaxation (block Gauss-Seidel between the two line families): solve
every word line for the current bit voltages, then every bit line for the new word voltages.
Its true word-node residual ``G (b' - b)`` falls out of the sweep; it contracts the error by
the spectral radius of ``A_w^-1 G A_b^-1 G``, ~0.02 per sweep on stiff lines (128 x 128,
devices 1-100 kohm, 0.5 ohm lines), far less well when the lines are resistive on the
array's scale. Then

* one right-hand side (:mod:`.single`, 2-D kernels; also the jitted entry points of
  :mod:`.entry` for transient loops) hands the iterate over to CG on ``S`` preconditioned
  with ``A_w``;
* a batch (:mod:`.batched`) hands it over to a two-level iteration: line relaxation plus a
  coarse correction for the few smooth slow modes, with Chebyshev acceleration
  (:mod:`.coarse`);
* a large batch of terminal currents (a tile's read) needs no iteration at all: the exact
  terminal map (:mod:`.transfer`, nested dissection of the cell grid) turns it into one
  matrix product, used where it costs less than the predicted sweeps (:func:`.map_batch`).

Stopping rule (:mod:`.stopping`, one definition for every kernel and twin): the true KCL
residual at every word node is at most ``rtol`` times the largest input current (an edge
current, so this is also ``rtol`` relative to the largest edge current), or at most a
round-off floor. Bit-node KCL holds to round-off because the bit nodes are solved exactly.
The nodal matrix ``L`` is an M-matrix, so ``L^-1 >= 0`` entrywise and the voltage error is at
most ``||L^-1 1||_inf`` times the largest residual; the tests check that bound against a
direct solve.

The kernels are module-level ``@njit(cache=True)`` functions that release the GIL; arrays of
right-hand sides carry the batch axis last (contiguous), so the inner loops vectorize over
the batch. Plain NumPy/scipy twins (:mod:`.twins`) serve the tests. :class:`CrossbarSystem`
(:mod:`.system`) is the solver object :func:`memsim.solve_dc` uses.
"""

from memsim.solve.crossbar.batched import bit_voltages, line_relax, solve_lines, two_level_solve
from memsim.solve.crossbar.coarse import Coarse, chebyshev_weights, coarse_space, hats
from memsim.solve.crossbar.entry import crossbar_node_voltages, crossbar_voltages
from memsim.solve.crossbar.factors import line_factors, solve_bit
from memsim.solve.crossbar.single import (
    BUDGET,
    CONVERGED,
    GROUP,
    SLOW,
    SLOW_CONTRACTION,
    bit_voltages1,
    line_relax1,
    schur_pcg1,
    solve_lines1,
)
from memsim.solve.crossbar.stopping import EPS, FLOOR_ULPS, RTOL, RTOL_TRANSIENT, tolerance
from memsim.solve.crossbar.system import (
    CHUNK,
    KEEP_BYTES,
    MAP_CELLS,
    MAP_SWEEPS,
    MAXITER_PER_LINE,
    THREADS,
    TWO_LEVEL_SWEEP,
    CrossbarSystem,
    crossbar_applicable,
    crossbar_segments,
    map_batch,
    predicted_sweeps,
)
from memsim.solve.crossbar.transfer import TerminalPlan, terminal_map, terminal_plan
from memsim.solve.crossbar.twins import (
    line_matrices_np,
    line_relax_np,
    schur_pcg_np,
    two_level_np,
)

__all__ = [
    "BUDGET",
    "CHUNK",
    "CONVERGED",
    "EPS",
    "FLOOR_ULPS",
    "GROUP",
    "KEEP_BYTES",
    "MAP_CELLS",
    "MAP_SWEEPS",
    "MAXITER_PER_LINE",
    "RTOL",
    "RTOL_TRANSIENT",
    "SLOW",
    "SLOW_CONTRACTION",
    "THREADS",
    "TWO_LEVEL_SWEEP",
    "Coarse",
    "CrossbarSystem",
    "TerminalPlan",
    "bit_voltages",
    "bit_voltages1",
    "chebyshev_weights",
    "coarse_space",
    "crossbar_applicable",
    "crossbar_node_voltages",
    "crossbar_segments",
    "crossbar_voltages",
    "hats",
    "line_factors",
    "line_matrices_np",
    "line_relax",
    "line_relax1",
    "line_relax_np",
    "map_batch",
    "predicted_sweeps",
    "schur_pcg1",
    "schur_pcg_np",
    "solve_bit",
    "solve_lines",
    "solve_lines1",
    "terminal_map",
    "terminal_plan",
    "tolerance",
    "two_level_np",
    "two_level_solve",
]
