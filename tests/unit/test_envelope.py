"""The envelope Cholesky of the transient loop against the dense numba solve and scipy."""

import numpy as np
import pytest

import memsim
from memsim.devices import HP, conductances
from memsim.solve.envelope import node_voltages_envelope, structure
from memsim.solve.linalg import node_voltages_dense


@pytest.mark.parametrize("kind", ["crossbar", "layered", "random"])
def test_envelope_equals_dense(kind):
    rng = np.random.default_rng(3)
    dev = HP(r_on=1e3, r_off=1e5)
    if kind == "crossbar":
        net = memsim.crossbar(6, 5, device=dev, r_line=0.5)
    elif kind == "layered":
        net = memsim.layered([3, 7, 6, 2], device=dev, connectivity=0.8, seed=2)
    else:
        net = memsim.random_network(40, edge_prob=0.12, n_inputs=3, n_outputs=2, device=dev,
                                    seed=4)
    x = rng.uniform(0, 1, net.n_edges)
    g = conductances(net.model, x, net.params)
    fixed = np.zeros(net.n_nodes, bool)
    fixed[net.inputs] = fixed[net.outputs] = True
    free_index = np.full(net.n_nodes, -1, np.int64)
    free_index[~fixed] = np.arange((~fixed).sum())
    value = np.zeros(net.n_nodes)
    value[net.inputs] = rng.uniform(-1, 1, len(net.inputs))
    position, first, ptr = structure(net.edges, free_index)
    # the envelope is smaller than the full lower triangle, and a valid permutation
    nf = len(first)
    assert sorted(position.tolist()) == list(range(nf)) and ptr[-1] <= nf * (nf + 1) // 2
    v_env = node_voltages_envelope(net.edges, g, free_index, position, first, ptr, value)
    v_dense = node_voltages_dense(net.edges, g, free_index, value)
    # Two backward-stable Cholesky solves of the same SPD system; the contrast of 2 S lines
    # against 1e-5 S devices bounds the condition number by ~1e6: agreement to 1e-9.
    np.testing.assert_allclose(v_env, v_dense, rtol=1e-9, atol=1e-12)
