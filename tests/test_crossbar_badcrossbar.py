"""memsim's crossbars against badcrossbar 1.1.0, an independent crossbar solver.

badcrossbar is a benchmark-only oracle, not a memsim dependency: these tests skip without it
(install: apt-get install libcairo2-dev pkg-config; pip install badcrossbar==1.1.0).
They pin the node convention (a segment between each input and its first cell, bit lines
sensed at the bottom end through a segment) and the issue's accuracy target: output currents
agree to 1e-9 relative.
"""

import logging

import numpy as np
import pytest

import memsim
from memsim.devices import Resistor


@pytest.fixture(scope="module")
def badcrossbar():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    bc = pytest.importorskip("badcrossbar")
    # badcrossbar calls logging.basicConfig(level=INFO, stream=stdout) on import: undo it.
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)
    return bc


def _as3d(a, batch):
    a = np.asarray(a)
    return a[..., None] if batch == 1 else a


@pytest.mark.parametrize(
    "rows, cols, batch, r_word, r_bit, lo, hi",
    [(20, 15, 3, 0.5, 0.5, 1e3, 1e5), (6, 11, 1, 3.0, 0.2, 1e3, 1e5),
     (16, 16, 2, 0.5, 0.5, 1e3, 1e5), (1, 4, 1, 1.0, 2.0, 1e3, 1e5),
     # the hard contrast: lines resistive on the array's scale (the two-level batch path)
     (24, 20, 3, 2.0, 2.0, 1e2, 1e4), (24, 20, 1, 2.0, 2.0, 1e2, 1e4)],
)
@pytest.mark.parametrize("method", ["crossbar", "direct"])
def test_crossbar_matches_badcrossbar(badcrossbar, rows, cols, batch, r_word, r_bit, lo, hi,
                                      method):
    rng = np.random.default_rng(rows * cols)
    res = rng.uniform(lo, hi, (rows, cols))
    v = rng.uniform(0.0, 1.0, (rows, batch))
    sol = badcrossbar.compute(v, res, r_i_word_line=r_word, r_i_bit_line=r_bit)
    net = memsim.crossbar(rows, cols, device=[Resistor(float(r)) for r in res.ravel()],
                          r_line_word=r_word, r_line_bit=r_bit)
    out = memsim.solve_dc(net, v, method=method)
    lay = net.layout
    # badcrossbar: output currents (batch, cols); voltages and device currents (rows, cols[, B])
    i_bc = np.asarray(sol.currents.output).reshape(batch, cols).T
    assert np.max(np.abs(out.output_currents - i_bc) / np.abs(i_bc)) <= 1e-9
    i_dev = out.edge_currents[lay.device]
    i_dev_bc = _as3d(sol.currents.device, batch)
    assert np.max(np.abs(i_dev - i_dev_bc)) <= 1e-9 * np.abs(i_dev_bc).max()
    for nodes, ref in ((lay.word, sol.voltages.word_line), (lay.bit, sol.voltages.bit_line)):
        assert np.max(np.abs(out.node_voltages[nodes] - _as3d(ref, batch))) <= 1e-9 * v.max()
