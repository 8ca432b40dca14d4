"""Errors raised inside the jitted integrators reach the caller as SolverError."""

import networkx as nx
import pytest

import memsim
from memsim.devices import Resistor


def test_a_matrix_cholesky_cannot_factor_is_a_solver_error():
    # 60 nodes (past the dense solver's size: the envelope Cholesky runs) on a chain of
    # 1 mohm resistors, tied to the terminals through 1e15 ohm: the chain's diagonal entries
    # (1e3 S) swallow the terminal conductance (1e-15 S) in round-off, so a pivot of the
    # factorization comes out as exactly 0.
    net = memsim.from_networkx(nx.path_graph(60), inputs=[0], outputs=[59],
                               device=Resistor(1e-3))
    params = net.params.copy()
    params[[0, -1], 0] = 1e15
    net = net.with_params(params)
    with pytest.raises(memsim.SolverError, match="not positive definite"):
        memsim.simulate(net, 1.0, 1e-3, method="euler", dt=1e-4)
