"""The structure-exploiting crossbar solver: kernels against their NumPy twins and against the
direct nodal solve, the stopping rule, error bounds, and the dispatch in ``solve_dc``.

Error bounds used throughout: the nodal matrix L_FF of a crossbar is a nonsingular M-matrix,
so L_FF^-1 >= 0 entrywise and ||L_FF^-1||_inf = ||L_FF^-1 1||_inf. For any voltages v with
KCL residual r at the free nodes, |v - v*| <= ||L_FF^-1 1||_inf * max|r| (v* exact). Two
solutions therefore differ by at most the sum of their two bounds; the residuals are evaluated
in floating point, so each bound also carries the rounding of that evaluation
(8 eps * the sum of |edge currents| at a node).
"""

import numpy as np
import pytest
import scipy.linalg as sla

import memsim
from memsim.devices import HP, Resistor, conductances
from memsim.errors import ParameterError, SolverError
from memsim.solve import crossbar as cb
from memsim.solve.crossbar import (
    CHUNK,
    CrossbarSystem,
    coarse_space,
    crossbar_applicable,
    crossbar_node_voltages,
    crossbar_segments,
    crossbar_voltages,
    line_factors,
    line_matrices_np,
    line_relax,
    line_relax1,
    line_relax_np,
    schur_pcg1,
    schur_pcg_np,
    solve_lines,
    solve_lines1,
    two_level_np,
    two_level_solve,
)
from memsim.solve.crossbar import system as cb_system
from memsim.solve.dc import NodalSystem, _system, terminals

EPS = np.finfo(float).eps


def _crossbar(rows, cols, *, lo=1e3, hi=1e5, r_word=0.5, r_bit=0.5, seed=0):
    """A crossbar of resistors drawn log-uniformly in [lo, hi] ohm, and its conductances."""
    rng = np.random.default_rng(seed)
    res = np.exp(rng.uniform(np.log(lo), np.log(hi), rows * cols))
    net = memsim.crossbar(rows, cols, device=[Resistor(float(r)) for r in res],
                          r_line_word=r_word, r_line_bit=r_bit)
    return net, conductances(net.model, net.x0, net.params)


def _free(net):
    free = np.ones(net.n_nodes, bool)
    free[net.inputs] = free[net.outputs] = False
    return free


def _inverse_norm(net, g):
    """||L_FF^-1||_inf = max(L_FF^-1 1) for the M-matrix L_FF (dense; small nets only)."""
    b = net.incidence()
    lap = (b @ (b.T.multiply(g[:, None]))).toarray()
    free = _free(net)
    l_ff = lap[np.ix_(free, free)]
    w = sla.solve(l_ff, np.ones(free.sum()), assume_a="pos")
    assert (w > 0).all()
    return float(w.max())


def _kcl(net, g, v):
    """Net current leaving each free node (N_free, B) and the rounding scale of that sum."""
    b = net.incidence()
    i_e = g[:, None] * (v[net.edges[:, 0]] - v[net.edges[:, 1]])
    free = _free(net)
    return (b @ i_e)[free], (abs(b) @ np.abs(i_e))[free]


def _bound(net, g, v, inv_norm):
    res, scale = _kcl(net, g, v)
    return inv_norm * (np.abs(res).max(axis=0) + 8 * EPS * scale.max(axis=0))


def _close(net, g, v_a, v_b):
    """Assert two voltage solutions agree within the sum of their residual bounds."""
    inv = _inverse_norm(net, g)
    allowed = _bound(net, g, v_a, inv) + _bound(net, g, v_b, inv)
    assert (np.abs(v_a - v_b).max(axis=0) <= allowed).all()


def _nodes(net, v_in, x, bits):
    v = np.zeros((net.n_nodes, v_in.shape[1]))
    v[net.inputs] = v_in
    v[net.layout.word] = v_in[:, None, :] + x
    v[net.layout.bit] = bits
    return v


# ------------------------------------------------------------------------ factor kernels
@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (5, 1), (6, 9)])
def test_line_factors_reproduce_the_blocks_of_the_nodal_matrix(shape):
    net, g = _crossbar(*shape, r_word=0.7, r_bit=1.3, seed=1)
    seg_word, seg_bit = crossbar_segments(net)
    gd, sw, sb = g[net.layout.device], g[seg_word], g[seg_bit]
    a_w, a_b, gg = line_matrices_np(gd, sw, sb)
    # The twin's blocks are the word/bit blocks of the network's own Laplacian.
    b = net.incidence()
    lap = (b @ (b.T.multiply(g[:, None]))).toarray()
    word, bit = net.layout.word.ravel(), net.layout.bit.ravel()
    np.testing.assert_array_equal(a_w.toarray(), lap[np.ix_(word, word)])
    np.testing.assert_array_equal(a_b.toarray(), lap[np.ix_(bit, bit)])
    np.testing.assert_array_equal(-np.diag(gg), lap[np.ix_(word, bit)])
    # L D L^T from the kernel reproduces them (entries ~1 S: a few ulps of rounding).
    lw, iw, lb, ib = line_factors(gd, sw, sb)
    rows, cols = shape
    n = rows * cols
    idx = np.arange(n)
    # word lines couple (i, j) to (i, j - 1); bit lines (i, j) to (i - 1, j)
    for lfac, ifac, mat, stride, has in ((lw, iw, a_w, 1, idx % cols > 0),
                                         (lb, ib, a_b, cols, idx >= cols)):
        low = np.eye(n)
        low[idx[has], idx[has] - stride] = lfac.ravel()[has]
        rebuilt = low @ np.diag(1 / ifac.ravel()) @ low.T
        np.testing.assert_allclose(rebuilt, mat.toarray(), rtol=0, atol=16 * EPS * sw.max())


# ------------------------------------------------------------- CG kernels vs NumPy twin
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (6, 1), (6, 9)])
@pytest.mark.parametrize("column", [0, 2])
def test_pcg_kernel_agrees_with_numpy_twin(shape, column):
    net, g = _crossbar(*shape, seed=2)
    rows, cols = shape
    seg_word, seg_bit = crossbar_segments(net)
    gd, sw, sb = g[net.layout.device], g[seg_word], g[seg_bit]
    v_in = np.random.default_rng(3).uniform(-1, 1, (rows, 3))[:, [column]]
    lw, iw, lb, ib = line_factors(gd, sw, sb)
    x1 = np.zeros((rows, cols))
    work = np.empty((5, rows, cols))
    its = schur_pcg1(gd, sw, lw, iw, lb, ib, v_in[:, 0], x1, 1e-12, 200, work)
    x = x1[..., None]
    bits = cb.bit_voltages1(gd, lb, ib, v_in[:, 0], x1)[..., None]
    # the kernel leaves the bit voltages of its final x in its last work array
    np.testing.assert_allclose(work[-1][..., None], bits, rtol=1e-14, atol=0)
    x_np, bits_np, its_np = schur_pcg_np(gd, sw, sb, v_in, rtol=1e-12, maxiter=200)
    assert its >= 0 and (its_np >= 0).all()
    # Same algorithm: iteration counts may differ by one where a residual sits at the tolerance.
    assert abs(its - its_np.max()) <= 1
    _close(net, g, _nodes(net, v_in, x, bits), _nodes(net, v_in, x_np, bits_np))


# ------------------------------------------------- line relaxation vs NumPy twin, hand-over
def _blocks(net, g):
    seg_word, seg_bit = crossbar_segments(net)
    gd, sw, sb = g[net.layout.device], g[seg_word], g[seg_bit]
    return (gd, sw, sb), line_factors(gd, sw, sb)


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (6, 1), (6, 9)])
@pytest.mark.parametrize("batch", [1, 3])
def test_relaxation_kernels_agree_with_numpy_twin(shape, batch):
    net, g = _crossbar(*shape, seed=2)
    rows, cols = shape
    (gd, sw, sb), (lw, iw, lb, ib) = _blocks(net, g)
    v_in = np.random.default_rng(3).uniform(-1, 1, (rows, batch))
    b = np.full((rows, cols, batch), np.nan)
    if batch == 1:
        x1, b1 = np.zeros((rows, cols)), np.full((rows, cols), np.nan)
        sweeps, status = line_relax1(gd, sw, lw, iw, lb, ib, v_in[:, 0], x1, 1e-12, 50, b1,
                                     np.empty_like(b1))
        x, b = x1[..., None], b1[..., None]
    else:
        x = np.zeros((rows, cols, batch))
        sweeps, status = line_relax(gd, sw, lw, iw, lb, ib, v_in, x, 1e-12, 50, b,
                                    np.empty_like(b))
    x_np, b_np, sweeps_np, status_np = line_relax_np(gd, sw, sb, v_in, rtol=1e-12, maxiter=50)
    assert status == cb.CONVERGED and (status_np == cb.CONVERGED).all()
    # the batch kernel sweeps until its slowest right-hand side is done
    assert sweeps == sweeps_np.max()
    # b holds the bit voltages of the returned x (bit-node KCL exact)
    np.testing.assert_allclose(b, cb.bit_voltages(gd, lb, ib, v_in, x), rtol=1e-14, atol=0)
    _close(net, g, _nodes(net, v_in, x, b), _nodes(net, v_in, x_np, b_np))


def test_relaxation_contracts_fast_on_stiff_lines_and_hands_heavy_lines_over():
    # Stiff lines (0.5 ohm vs 1-100 kohm): relaxation alone reaches the tolerance, each sweep
    # shrinking the residual by far more than SLOW. Lines as resistive as the devices: a
    # sweep shrinks it by less than SLOW, relaxation stops, and CG finishes from its iterate.
    v_rng = np.random.default_rng(20)
    for spec, expected in ((dict(rows=16, cols=16), cb.CONVERGED),
                           (dict(rows=8, cols=10, lo=1e2, hi=1e3, r_word=100.0, r_bit=100.0),
                            cb.SLOW_CONTRACTION)):
        net, g = _crossbar(**spec, seed=21)
        (gd, sw, sb), (lw, iw, lb, ib) = _blocks(net, g)
        rows, cols = gd.shape
        v_in = v_rng.uniform(0.1, 1.0, (rows, 2))
        x, b = np.zeros((rows, cols, 2)), np.empty((rows, cols, 2))
        sweeps, status = line_relax(gd, sw, lw, iw, lb, ib, v_in, x, 1e-12, 200, b,
                                    np.empty_like(b))
        assert status == expected
        x, b = np.empty((rows, cols, 2)), np.empty((rows, cols, 2))
        c = coarse_space(gd, sw, sb, lb, ib)
        its = solve_lines(gd, sw, lw, iw, lb, ib, c.a0, c.wa, c.c0, c.wc, c.q, c.e_inv,
                          c.e_inv.shape[0] // cb.coarse.n_hats(rows, cb.coarse.MA), v_in,
                          1e-12, 200, x, b, True, np.full((2, rows, cols, 2), np.nan))
        assert its >= sweeps
        v = _nodes(net, v_in, x, b)
        _close(net, g, v, NodalSystem(net, g, terminals(net)).solve(v_in))
        x1, b1 = np.zeros((rows, cols)), np.empty((rows, cols))
        its1 = solve_lines1(gd, sw, lw, iw, lb, ib, v_in[:, 0], x1, 1e-12, 200, b1,
                            np.empty_like(b1))
        assert its1 >= 0
        _close(net, g, _nodes(net, v_in[:, :1], x1[..., None], b1[..., None]), v[:, :1])
        if expected == cb.CONVERGED:  # 16 x 16 at 0.5 ohm: a sweep gains > 1 digit
            assert sweeps <= 12


# ------------------------------------------- two-level iteration: coarse space, Chebyshev
def test_hats_are_a_partition_of_unity_that_reproduces_lines():
    for n, m in ((1, 4), (5, 3), (7, 7), (128, 4), (9, 20)):
        first, w = cb.hats(n, m)
        used = cb.coarse.n_hats(n, m)
        assert (first >= 0).all() and (first + (w[:, 1] > 0) < used).all()
        np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=0, atol=1e-15)
        if used > 1:  # node positions reproduce p exactly: linear functions are in the space
            nodes = np.linspace(0, n - 1, used)
            np.testing.assert_allclose(w[:, 0] * nodes[first] + w[:, 1] * nodes[first + 1],
                                       np.arange(n), rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape", [(1, 1), (3, 1), (6, 9), (10, 7)])
def test_coarse_matrix_is_the_galerkin_product_of_the_schur_complement(shape):
    net, g = _crossbar(*shape, lo=1e2, hi=1e4, r_word=2.0, r_bit=1.5, seed=30)
    (gd, sw, sb), (lw, iw, lb, ib) = _blocks(net, g)
    c = coarse_space(gd, sw, sb, lb, ib, mc=3)
    a_w, a_b, gg = (m.toarray() if hasattr(m, "toarray") else m
                    for m in line_matrices_np(gd, sw, sb))
    schur = a_w - np.diag(gg) @ np.linalg.solve(a_b, np.diag(gg))
    rows, cols = shape
    ma, mc = cb.coarse.n_hats(rows, cb.coarse.MA), cb.coarse.n_hats(cols, 3)
    h_i, h_j = np.zeros((rows, ma + 1)), np.zeros((cols, mc + 1))
    h_i[np.arange(rows), c.a0] += c.wa[:, 0]
    h_i[np.arange(rows), c.a0 + 1] += c.wa[:, 1]
    h_j[np.arange(cols), c.c0] += c.wc[:, 0]
    h_j[np.arange(cols), c.c0 + 1] += c.wc[:, 1]
    z = np.kron(h_i[:, :ma], h_j[:, :mc])
    e = z.T @ schur @ z
    # E^-1 E = I to the conditioning of E (entries ~ segment conductances ~1 S)
    np.testing.assert_allclose(c.e_inv @ e, np.eye(ma * mc), rtol=0,
                               atol=1e-9 * np.linalg.cond(e) * 1e-3)
    # the bit-voltage images are A_b^-1 G h_a along the bit lines
    q = np.linalg.solve(a_b, gg[:, None] * np.repeat(h_i[:, :ma], cols, axis=0))
    np.testing.assert_allclose(c.q[:, :, :ma].reshape(rows * cols, ma), q, rtol=1e-12,
                               atol=1e-15)


def test_relaxation_rate_is_the_slowest_mode_of_uniform_lines():
    # Uniform devices and segments: the slowest mode of A_w^-1 G A_b^-1 G is the product of
    # the lines' smoothest modes, which relaxation_rate spells out.
    for rows, cols, g_dev, s_line in ((6, 9, 1e-3, 1.0), (12, 5, 1e-2, 0.5)):
        gd = np.full((rows, cols), g_dev)
        sw, sb = np.full_like(gd, s_line), np.full_like(gd, 2 * s_line)
        a_w, a_b, gg = line_matrices_np(gd, sw, sb)
        m = np.linalg.solve(a_w.toarray(), np.diag(gg) @ np.linalg.solve(a_b.toarray(),
                                                                             np.diag(gg)))
        rho = np.abs(np.linalg.eigvals(m)).max()
        assert abs(cb.coarse.relaxation_rate(gd, sw, sb) - rho) <= 1e-12 * rho


def test_chebyshev_weights_give_the_chebyshev_polynomial():
    # On an eigenvalue lam of the iteration, the recurrence multiplies the error by
    # p_n(lam) = T_n((2 lam - rho) / rho) / T_n((2 - rho) / rho): at most 1 / T_n(.) on [0, rho].
    rho = 0.3
    lam = np.linspace(0.0, rho, 7)
    err_prev, err = np.ones_like(lam), np.ones_like(lam)
    omega = 1.0
    bound = np.polynomial.chebyshev.Chebyshev.basis
    for n in range(1, 9):
        alpha, beta, delta, omega = cb.chebyshev_weights(rho, omega, n)
        assert abs(alpha + beta + delta - 1.0) < 1e-15  # a fixed point stays fixed
        err_prev, err = err, alpha * lam * err + beta * err + delta * err_prev
        scale = bound(n)((2 - rho) / rho)
        np.testing.assert_allclose(err, bound(n)((2 * lam - rho) / rho) / scale, rtol=1e-12,
                                   atol=1e-15)
        assert np.abs(err).max() <= 1 / scale * (1 + 1e-12)


TWO_LEVEL = {
    "tiny": dict(rows=1, cols=1, batch=2),
    "one row": dict(rows=1, cols=7, batch=2),
    "one column": dict(rows=6, cols=1, batch=3),
    "stiff": dict(rows=6, cols=9, batch=3),
    "resistive on the array scale": dict(rows=24, cols=20, batch=3, lo=1e2, hi=1e4,
                                         r_word=10.0, r_bit=10.0),
    "heavy lines": dict(rows=8, cols=10, batch=2, lo=1e2, hi=1e3, r_word=100.0, r_bit=100.0),
}


@pytest.mark.parametrize("case", TWO_LEVEL)
def test_two_level_kernel_agrees_with_numpy_twin(case):
    spec = dict(TWO_LEVEL[case])
    batch = spec.pop("batch")
    net, g = _crossbar(**spec, seed=31)
    (gd, sw, sb), (lw, iw, lb, ib) = _blocks(net, g)
    rows, cols = gd.shape
    v_in = np.random.default_rng(32).uniform(-1, 1, (rows, batch))
    c = coarse_space(gd, sw, sb, lb, ib)
    mc = c.e_inv.shape[0] // cb.coarse.n_hats(rows, cb.coarse.MA)
    start = np.repeat(v_in[:, None, :], cols, axis=1)
    x, bits = np.empty((rows, cols, batch)), np.empty((rows, cols, batch))
    work = np.full((2, rows, cols, batch), np.nan)  # scratch: never read before written
    sweeps = two_level_solve(gd, sw, lw, iw, lb, ib, c.a0, c.wa, c.c0, c.wc, c.q, c.e_inv,
                             mc, v_in, 1e-12, 300, x, bits, start, work)
    x_np, bits_np, sweeps_np = two_level_np(gd, sw, sb, c, v_in, rtol=1e-12, maxiter=300)
    assert sweeps > 0 and sweeps_np > 0
    # same iteration; a residual sitting at the tolerance may take one sweep more or less
    assert abs(sweeps - sweeps_np) <= 1
    # bits are the bit voltages of a relaxation step: bit-node KCL exact for (x(b), bits)
    np.testing.assert_allclose(bits, cb.bit_voltages(gd, lb, ib, v_in, x), rtol=1e-12,
                               atol=1e-15)
    v = _nodes(net, v_in, x, bits)
    _close(net, g, v, _nodes(net, v_in, x_np, bits_np))
    _close(net, g, v, NodalSystem(net, g, terminals(net)).solve(v_in))


def test_coarse_correction_removes_the_slow_modes():
    # Lines resistive on the array's scale: plain relaxation contracts by rho > 0.5 per sweep
    # (it would need log(1e-12) / log(rho) sweeps), the two-level iteration by the tail of
    # the spectrum, so it meets the same rule in a small fraction of that.
    net, g = _crossbar(24, 20, lo=1e2, hi=1e4, r_word=10.0, r_bit=10.0, seed=33)
    (gd, sw, sb), (lw, iw, lb, ib) = _blocks(net, g)
    a_w, a_b, gg = line_matrices_np(gd, sw, sb)
    m = np.linalg.solve(a_w.toarray(), gg[:, None] * np.linalg.solve(a_b.toarray(),
                                                                        np.diag(gg)))
    rho = np.abs(np.linalg.eigvals(m)).max()
    assert rho > 0.5
    v_in = np.random.default_rng(34).uniform(0.1, 1.0, (24, 2))
    _, _, two = two_level_np(gd, sw, sb, coarse_space(gd, sw, sb, lb, ib), v_in, rtol=1e-12)
    assert 0 < two <= 0.25 * np.log(1e-12) / np.log(rho)


def test_dc_result_fields_match_incidence_products():
    # The lazily computed edge fields and the eagerly computed terminal currents of a batch
    # solved by the crossbar path, against plain incidence products of the same voltages.
    net, g = _crossbar(4, 5, seed=4)
    v_in = np.random.default_rng(5).uniform(-1, 1, (4, 3))
    res = memsim.solve_dc(net, v_in, method="crossbar")
    v = res.node_voltages
    dv_np = v[net.edges[:, 0]] - v[net.edges[:, 1]]
    np.testing.assert_array_equal(res.edge_voltages, dv_np)
    np.testing.assert_array_equal(res.edge_currents, g[:, None] * dv_np)
    # sums over edges: rounding of a sum of ~E terms
    np.testing.assert_allclose(res.power, np.sum(g[:, None] * dv_np**2, axis=0), rtol=1e-13)
    leave = net.incidence() @ (g[:, None] * dv_np)
    scale = np.abs(g[:, None] * dv_np).max()
    np.testing.assert_allclose(res.output_currents, -leave[net.outputs], rtol=0,
                               atol=8 * EPS * scale)
    np.testing.assert_allclose(res.input_currents, leave[net.inputs], rtol=0,
                               atol=8 * EPS * scale)
    one = memsim.solve_dc(net, v_in[:, 1], method="crossbar")  # unbatched: same, squeezed
    assert one.edge_currents.shape == (net.n_edges,) and np.ndim(one.power) == 0


# ----------------------------------------------------------- the system vs direct solve
CASES = {
    "square": dict(rows=12, cols=12, batch=2),
    "tall": dict(rows=9, cols=3, batch=1),
    "wide": dict(rows=3, cols=11, batch=4),
    "word-bit differ": dict(rows=6, cols=8, batch=2, r_word=3.0, r_bit=0.2),
    # devices 1 ohm..1 Mohm on 0.01 ohm lines: contrast 1e8
    "high contrast": dict(rows=8, cols=8, batch=2, lo=1.0, hi=1e6, r_word=0.01, r_bit=0.01),
    # lines as resistive as the devices: the slow case for the iteration
    "heavy lines": dict(rows=8, cols=10, batch=2, lo=1e2, hi=1e3, r_word=100.0, r_bit=100.0),
    # stiff per cell, resistive across the array: the two-level path
    "resistive array": dict(rows=24, cols=20, batch=3, lo=1e2, hi=1e4, r_word=10.0,
                            r_bit=10.0),
}


@pytest.mark.parametrize("case", CASES)
def test_crossbar_system_matches_direct_solve(case):
    spec = dict(CASES[case])
    batch = spec.pop("batch")
    net, g = _crossbar(**spec, seed=6)
    v_in = np.random.default_rng(7).uniform(0.1, 1.0, (spec["rows"], batch))
    terms = terminals(net)
    v_cb = CrossbarSystem(net, g, terms).solve(v_in)
    v_d = NodalSystem(net, g, terms).solve(v_in)
    _close(net, g, v_cb, v_d)
    # the target for output currents (positive inputs: all currents are positive)
    out = net.layout.bit[-1]
    seg_bit = crossbar_segments(net)[1][-1]
    i_cb, i_d = g[seg_bit, None] * v_cb[out], g[seg_bit, None] * v_d[out]
    assert np.max(np.abs(i_cb / i_d - 1)) <= 1e-9


def test_stopping_rule_bounds_the_kcl_residual():
    # Mixed-sign inputs; every word-node residual <= rtol * largest input current (or the
    # round-off floor), bit nodes to round-off, and so KCL <= 1e-12 of the largest edge current.
    net, g = _crossbar(10, 7, lo=1e2, hi=1e5, r_word=1.0, r_bit=0.5, seed=8)
    v_in = np.random.default_rng(9).uniform(-1, 1, (10, 3))
    system = CrossbarSystem(net, g, terminals(net), rtol=1e-12)
    v = system.solve(v_in)
    res, scale = _kcl(net, g, v)
    i_e = g[:, None] * (v[net.edges[:, 0]] - v[net.edges[:, 1]])
    i_in = np.abs(net.incidence()[net.inputs] @ i_e).max(axis=0)
    x = v[net.layout.word] - v_in[:, None, :]
    floor = cb.FLOOR_ULPS * EPS * system.sw.max() * np.abs(x).max(axis=(0, 1))
    word = np.isin(np.flatnonzero(_free(net)), net.layout.word.ravel())
    rounding = 8 * EPS * scale.max(axis=0)  # of evaluating the residual here
    assert (np.abs(res[word]).max(axis=0) <= np.maximum(1e-12 * i_in, floor) + rounding).all()
    assert (np.abs(res[~word]).max(axis=0) <= 8 * EPS * scale[~word].max(axis=0)).all()
    assert (np.abs(res).max(axis=0) <= 1e-12 * np.abs(i_e).max(axis=0)).all()


def test_loose_tolerance_error_stays_within_the_derived_bound():
    # Voltage error <= ||L^-1 1||_inf * rtol * (largest input current): the bound the stopping
    # rule promises, checked at a tolerance loose enough that the iteration stops early.
    net, g = _crossbar(9, 9, lo=1e2, hi=1e4, r_word=5.0, r_bit=5.0, seed=10)
    v_in = np.random.default_rng(11).uniform(0.2, 1.0, (9, 2))
    terms = terminals(net)
    loose = CrossbarSystem(net, g, terms, rtol=1e-4)
    tight = CrossbarSystem(net, g, terms, rtol=1e-12)
    v_loose, v_tight = loose.solve(v_in), tight.solve(v_in)
    assert max(loose.iterations) < max(tight.iterations)
    v_d = NodalSystem(net, g, terms).solve(v_in)
    i_e = g[:, None] * (v_d[net.edges[:, 0]] - v_d[net.edges[:, 1]])
    i_in = np.abs(net.incidence()[net.inputs] @ i_e).max(axis=0)
    inv = _inverse_norm(net, g)
    # 1.01: the stopping test uses the input currents of the iterate, within 1% of the exact
    # ones at this tolerance; plus the direct solve's own residual bound.
    allowed = inv * 1e-4 * 1.01 * i_in + _bound(net, g, v_d, inv)
    assert (np.abs(v_loose - v_d).max(axis=0) <= allowed).all()
    assert np.abs(v_tight - v_d).max() < np.abs(v_loose - v_d).max()


def test_batch_over_several_chunks_equals_single_solves():
    net, g = _crossbar(5, 6, seed=12)
    n = cb.CHUNK + 3
    v_in = np.random.default_rng(13).uniform(-1, 1, (5, n))
    v_in[:, 4] = 0.0  # no current can flow: the ideal-line solution (all zero) is exact
    system = CrossbarSystem(net, g, terminals(net))
    batch = system.solve(v_in)
    assert len(system.iterations) == 2
    np.testing.assert_array_equal(batch[:, 4], 0.0)
    singles = np.column_stack([system.solve(v_in[:, [k]])[:, 0] for k in range(n)])
    _close(net, g, batch, singles)
    # chunks solved on two threads: the same kernels on the same data, the same bits
    threaded = CrossbarSystem(net, g, terminals(net), threads=2).solve(v_in)
    np.testing.assert_array_equal(threaded, batch)


def test_pruned_devices_are_fine_pruned_segments_fall_back_to_direct():
    net, g = _crossbar(4, 5, seed=14)
    mask = np.zeros(net.n_edges, bool)
    mask[net.layout.device[1, 2]] = True
    pruned = net.pruned(mask)
    gp = conductances(pruned.model, pruned.x0, pruned.params)
    assert crossbar_applicable(pruned, gp, np.ones(4, bool), np.ones(5, bool))
    v_in = np.linspace(0.2, 1.0, 4)[:, None]
    v_cb = CrossbarSystem(pruned, gp, terminals(pruned)).solve(v_in)
    _close(pruned, gp, v_cb, NodalSystem(pruned, gp, terminals(pruned)).solve(v_in))
    mask[:] = False
    mask[crossbar_segments(net)[0][2, 3]] = True
    cut = net.pruned(mask)
    gc = conductances(cut.model, cut.x0, cut.params)
    assert not crossbar_applicable(cut, gc, np.ones(4, bool), np.ones(5, bool))
    assert isinstance(_system(cut, gc, terminals(cut), "auto"), NodalSystem)


# ------------------------------------------------------------ the jitted transient entry
def test_crossbar_voltages_cold_and_warm_start():
    net, g = _crossbar(6, 7, lo=1e2, hi=1.6e4, r_word=1.0, r_bit=1.0, seed=15)
    seg_word, seg_bit = crossbar_segments(net)
    dev = net.layout.device
    v_in = np.random.default_rng(16).uniform(0.1, 1.0, 6)
    ideal = np.repeat(v_in[:, None], 7, axis=1)
    v_word, v_bit, its = crossbar_voltages(dev, seg_word, seg_bit, g, v_in, ideal, 1e-12, 100)
    assert its > 0
    v = CrossbarSystem(net, g, terminals(net)).solve(v_in[:, None])
    full = v.copy()
    full[net.layout.word, 0] = v_word
    full[net.layout.bit, 0] = v_bit
    _close(net, g, full, v)
    # warm start at the solution: nothing to do, same voltages back
    w2, b2, its2 = crossbar_voltages(dev, seg_word, seg_bit, g, v_in, v_word, 1e-12, 100)
    assert its2 == 0
    np.testing.assert_array_equal(w2, v_word)
    np.testing.assert_array_equal(b2, v_bit)
    # an empty budget from a poor guess reports failure instead of a wrong answer
    _, _, its3 = crossbar_voltages(dev, seg_word, seg_bit, g, v_in, ideal, 1e-12, 0)
    assert its3 == -1


def test_crossbar_node_voltages_fills_the_whole_node_vector():
    net, g = _crossbar(5, 4, lo=1e2, hi=1e4, r_word=1.0, r_bit=2.0, seed=19)
    lay = net.layout
    seg_word, seg_bit = crossbar_segments(net)
    v_in = np.array([0.4, -0.3, 1.0, 0.0, 0.7])
    fixed = np.zeros(net.n_nodes)
    fixed[net.inputs] = v_in
    guess = np.full(net.n_nodes, 0.123)  # any finite guess
    v, its = crossbar_node_voltages(lay.word, lay.bit, lay.device, seg_word, seg_bit,
                                    net.inputs, g, fixed, guess, 1e-12, 100)
    assert its > 0
    direct = NodalSystem(net, g, terminals(net)).solve(v_in[:, None])
    np.testing.assert_array_equal(v[net.inputs], v_in)
    np.testing.assert_array_equal(v[net.outputs], 0.0)
    _close(net, g, v[:, None], direct)


# ------------------------------------------------------------- dispatch and error paths
def test_solve_dc_methods_agree_and_auto_picks_the_crossbar_solver():
    devs = [HP(r_on=1e3, r_off=1e5, x0=x) for x in np.linspace(0, 1, 20)]
    net = memsim.crossbar(4, 5, device=devs, r_line=0.5)
    g = conductances(net.model, net.x0, net.params)
    assert isinstance(_system(net, g, terminals(net), "auto"), CrossbarSystem)
    assert isinstance(_system(net, g, terminals(net, outputs="float"), "auto"), NodalSystem)
    v = np.array([0.3, -0.2, 0.5, 1.0])
    a = memsim.solve_dc(net, v, method="crossbar")
    b = memsim.solve_dc(net, v, method="direct")
    _close(net, g, a.node_voltages[:, None], b.node_voltages[:, None])
    # output and input currents from the crossbar path's own bookkeeping
    scale = np.abs(b.edge_currents).max()
    np.testing.assert_allclose(a.output_currents, b.output_currents, rtol=0, atol=1e-11 * scale)
    np.testing.assert_allclose(a.input_currents, b.input_currents, rtol=0, atol=1e-11 * scale)
    np.testing.assert_allclose(a.power, b.power, rtol=1e-10)
    assert a.output_currents.shape == (5,) and not a.floating.any()


def test_auto_falls_back_to_the_direct_solver_when_cg_gives_up(monkeypatch):
    net = memsim.crossbar(3, 4, device=Resistor(1e3), r_line=0.5)
    v = np.array([1.0, 0.5, 0.2])
    direct = memsim.solve_dc(net, v, method="direct")
    monkeypatch.setattr(cb_system, "MAXITER_PER_LINE", 0)  # a budget no solve can meet
    with pytest.raises(SolverError, match="direct"):
        memsim.solve_dc(net, v, method="crossbar")
    auto = memsim.solve_dc(net, v)
    np.testing.assert_array_equal(auto.node_voltages, direct.node_voltages)


def test_method_errors():
    net = memsim.crossbar(2, 3, device=Resistor(1e3), r_line=0.5)
    with pytest.raises(ParameterError, match="method"):
        memsim.solve_dc(net, [1.0, 1.0], method="fast")
    with pytest.raises(ParameterError, match="direct"):
        memsim.solve_dc(net, [1.0, 1.0], method="crossbar", outputs="float")
    ideal = memsim.crossbar(2, 3, device=Resistor(1e3))
    with pytest.raises(ParameterError, match="resistive lines"):
        memsim.solve_dc(ideal, [1.0, 1.0], method="crossbar")
    layered = memsim.layered([2, 3, 2], device=Resistor(1e3))
    with pytest.raises(ParameterError, match="method"):
        memsim.solve_dc(layered, [1.0, 1.0], method="crossbar")


def test_crossbar_system_errors():
    net, g = _crossbar(3, 4, seed=17)
    terms = terminals(net)
    with pytest.raises(ParameterError, match="rtol"):
        CrossbarSystem(net, g, terms, rtol=0.0)
    with pytest.raises(ParameterError, match="g"):
        CrossbarSystem(net, g[:-1], terms)
    with pytest.raises(SolverError, match="direct"):
        CrossbarSystem(net, g, terms, maxiter=0).solve(np.ones((3, 1)))
    with pytest.raises(ParameterError, match="inputs"):
        CrossbarSystem(net, g, terms).solve(np.ones((4, 1)))


def test_segments_need_the_plain_crossbar_structure():
    net, _ = _crossbar(3, 4, seed=18)
    seg_word, seg_bit = crossbar_segments(net)
    assert [net.edge_names[k] for k in seg_word[2]] == ["rw2_0", "rw2_1", "rw2_2", "rw2_3"]
    assert [net.edge_names[k] for k in seg_bit[:, 1]] == ["rb0_1", "rb1_1", "rb2_1"]
    assert crossbar_segments(memsim.crossbar(3, 4, device=Resistor(1.0), r_line_bit=1.0)) is None
    assert crossbar_segments(memsim.layered([2, 2], device=Resistor(1.0))) is None
    # one extra edge (a short across a cell) breaks the structure, layout or not
    extra = net.replace(
        edges=np.vstack([net.edges, [[net.layout.word[0, 0], net.layout.bit[1, 1]]]]),
        model=np.append(net.model, net.model[0]),
        params=np.vstack([net.params, net.params[:1]]),
        x0=np.append(net.x0, 0.0),
        edge_names=net.edge_names + ("short",),
        layout=net.layout,
    )
    assert crossbar_segments(extra) is None


@pytest.mark.parametrize("rows, cols, batch", [(5, 7, 1), (6, 4, 40), (16, 24, 70)])
def test_terminal_currents_without_node_voltages_match_the_direct_solve(rows, cols, batch):
    """solve_currents (CrossbarSystem.currents: the last bit segment, the first word
    segment) against the direct factorization: the iteration stops at a KCL residual of
    1e-12 of the largest edge current, so the currents agree to ~1e-12 of the largest one
    (1e-10 leaves room for the conditioning of the line systems)."""
    from memsim.solve.dc import solve_currents

    net, _ = _crossbar(rows, cols, r_word=2.0, r_bit=2.0, seed=rows)
    rng = np.random.default_rng(cols)
    v = rng.uniform(0.0, 0.5, rows if batch == 1 else (rows, batch))
    # 6 x 4, 40 vectors: iterated (the map pays from ~119); 16 x 24, 70: the map (from ~63)
    i_out, i_in = solve_currents(net, v)
    ref = memsim.solve_dc(net, v, method="direct")
    assert i_out.shape == ref.output_currents.shape and i_in.shape == ref.input_currents.shape
    scale = max(np.abs(ref.output_currents).max(), np.abs(ref.input_currents).max())
    assert np.abs(i_out - ref.output_currents).max() <= 1e-10 * scale
    assert np.abs(i_in - ref.input_currents).max() <= 1e-10 * scale
    assert np.abs(i_in).min() > 0  # every driven input delivers current: the check is live
    if batch > 1:  # the iterative kernel's reads, in chunks of CHUNK (70: 32 + 32 + 6)
        g = conductances(net.model, net.x0, net.params)
        system = CrossbarSystem(net, g, terminals(net))
        it_out, it_in = system.currents(v, use_map=False)
        assert len(system.iterations) == -(-batch // CHUNK)
        assert np.abs(it_out - ref.output_currents).max() <= 1e-10 * scale
        assert np.abs(it_in - ref.input_currents).max() <= 1e-10 * scale


def test_terminal_currents_of_other_networks_are_the_dc_solve():
    from memsim.solve.dc import solve_currents

    net = memsim.layered([3, 4, 2], device=Resistor(1e3))
    v = np.array([[1.0, 0.2], [0.5, 0.0], [0.0, 0.3]])
    i_out, i_in = solve_currents(net, v)
    ref = memsim.solve_dc(net, v)
    np.testing.assert_array_equal(i_out, ref.output_currents)
    np.testing.assert_array_equal(i_in, ref.input_currents)
    with pytest.raises(ParameterError, match="inputs"):
        solve_currents(net, [1.0, 2.0])
    with pytest.raises(ParameterError, match="inputs"):
        solve_currents(net, [1.0, np.nan, 0.0])


def test_line_buffers_are_kept_per_thread_only_below_the_size_limit(monkeypatch):
    # Small buffers are reused by the next solve of the same shape (a tile re-solves after
    # every write); above KEEP_BYTES each solve gets fresh ones and the thread keeps none.
    # Which of the two it is must not change a bit of the answer.
    net, g = _crossbar(5, 6, seed=40)
    v_in = np.random.default_rng(41).uniform(-1, 1, (5, 4))
    kept = cb_system._chunk_buffers(5, 6, 4)
    assert all(a is b for a, b in zip(kept, cb_system._chunk_buffers(5, 6, 4), strict=True))
    assert [a.shape for a in kept] == [(5, 6, 4), (5, 6, 4), (2, 5, 6, 4)]
    i_kept = CrossbarSystem(net, g, terminals(net)).currents(v_in)
    monkeypatch.setattr(cb_system, "KEEP_BYTES", 4 * 5 * 6 * 4 * 8 - 1)  # just too big
    fresh = cb_system._chunk_buffers(5, 6, 4)
    assert not any(a is b for a, b in zip(fresh, kept, strict=True))
    assert not any(a is b for a, b in zip(fresh, cb_system._chunk_buffers(5, 6, 4),
                                          strict=True))
    i_fresh = CrossbarSystem(net, g, terminals(net)).currents(v_in)
    for a, b in zip(i_kept, i_fresh, strict=True):
        np.testing.assert_array_equal(a, b)
