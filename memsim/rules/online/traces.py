"""Online gradients of the recurrent LIF network: exact RTRL and its block-diagonal truncation.

The state of the network is its membrane vector ``u`` (spikes are a function of it). With the
surrogate ``psi``, the Jacobian of one step is ::

    J_t[i, k] = du_i^t / du_k^{t-1}
              = delta_ik alpha (1 - r theta psi_k^{t-1}) + W_rec[k, i] psi_k^{t-1}

(``r`` = 1 if the reset is differentiated). RTRL carries the sensitivities
``M_t[i, p] = du_i^t / dtheta_p`` of every membrane to every input and recurrent synapse::

    M_t = J_t M_{t-1} + Mbar_t,   Mbar_t[i, (j -> l)] = delta_il * (presynaptic value of j at t)

which costs O(n^3) memory and O(n^4) operations per step for n neurons. The readout
``y_t = kappa y_{t-1} + W_out^T s_t`` adds the filter ``N_t = kappa N_{t-1} + diag(psi_t) M_t``,
and the gradient is ``dE/dtheta = sum_t sum_i L_i^t N_t[i, :]`` with the learning signal
``L^t = B (dE_t/dy_t)``. With ``B = W_out`` this is the exact gradient of the loss (the test
suite compares it with backpropagation through time).

Keeping only each neuron's own block of ``J`` (``k = i``) and of ``M`` (``l = i``) leaves one
*eligibility trace* per synapse (Zenke & Neftci's block-diagonal approximation, e-prop's form)::

    e_t[j, i] = J_t[i, i] e_{t-1}[j, i] + pre_j^t,     ebar_t = kappa ebar_{t-1} + psi_i^t e_t
    dW[j, i] = sum_t L_i^t ebar_t[j, i]

O(n^2) memory and work: a synapse's update reads only its presynaptic value, its postsynaptic
neuron's membrane (through ``psi`` and ``J_ii``) and that neuron's learning signal. When the
recurrent weights are zero ``J`` is diagonal and the truncation is exact. The output weights'
gradient ``sum_t dE_t/dy_t (filtered spikes)`` is exact in both.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from memsim.rules.online.lif import LIFConfig

__all__ = [
    "BlockTraces",
    "RTRLTraces",
    "Traces",
    "advance",
    "contribution",
    "new_traces",
    "block_gradient",
    "block_step",
    "jacobian",
    "jacobian_diagonal",
    "rtrl_gradient",
    "rtrl_step",
]


class BlockTraces(NamedTuple):
    """Eligibility traces of the block-diagonal rule, one per synapse and sequence.

    ``e_in`` (B, n_in, n_h) and ``e_rec`` (B, n_h, n_h) are the membrane-filtered presynaptic
    traces, ``f_in`` and ``f_rec`` the same after the surrogate and the readout filter.
    """

    e_in: np.ndarray
    e_rec: np.ndarray
    f_in: np.ndarray
    f_rec: np.ndarray

    @classmethod
    def zeros(cls, batch: int, n_in: int, n_h: int) -> BlockTraces:
        """Traces at the start of a sequence."""
        return cls(np.zeros((batch, n_in, n_h)), np.zeros((batch, n_h, n_h)),
                   np.zeros((batch, n_in, n_h)), np.zeros((batch, n_h, n_h)))


class RTRLTraces(NamedTuple):
    """RTRL sensitivities ``m_in`` (B, n_h, n_in, n_h) and ``m_rec`` (B, n_h, n_h, n_h), axis 1
    the membrane and axes 2-3 the synapse (pre, post); ``f_*`` the readout-filtered ones."""

    m_in: np.ndarray
    m_rec: np.ndarray
    f_in: np.ndarray
    f_rec: np.ndarray

    @classmethod
    def zeros(cls, batch: int, n_in: int, n_h: int) -> RTRLTraces:
        """Sensitivities at the start of a sequence."""
        return cls(np.zeros((batch, n_h, n_in, n_h)), np.zeros((batch, n_h, n_h, n_h)),
                   np.zeros((batch, n_h, n_in, n_h)), np.zeros((batch, n_h, n_h, n_h)))


def jacobian_diagonal(psi_prev: np.ndarray, w_rec_diag: np.ndarray,
                      cfg: LIFConfig) -> np.ndarray:
    """``J_t[i, i]`` (B, n_h) from the previous step's surrogate and the recurrent self-weights.

    >>> jacobian_diagonal(np.array([[0.0, 0.3]]), np.zeros(2), LIFConfig()).tolist()
    [[0.8, 0.8]]
    """
    r = 1.0 if cfg.reset_gradient else 0.0
    return cfg.alpha * (1.0 - r * cfg.threshold * psi_prev) + w_rec_diag * psi_prev


def jacobian(psi_prev: np.ndarray, w_rec: np.ndarray, cfg: LIFConfig) -> np.ndarray:
    """The full step Jacobian ``J_t[b, i, k] = du_i^t / du_k^{t-1}`` (B, n_h, n_h)."""
    jac = w_rec.T[None, :, :] * psi_prev[:, None, :]
    r = 1.0 if cfg.reset_gradient else 0.0
    idx = np.arange(w_rec.shape[0])
    jac[:, idx, idx] += cfg.alpha * (1.0 - r * cfg.threshold * psi_prev)
    return jac


def block_step(tr: BlockTraces, x: np.ndarray, s_prev: np.ndarray, j_diag: np.ndarray,
               psi: np.ndarray, kappa: float) -> BlockTraces:
    """Advance the eligibility traces by one step.

    Parameters
    ----------
    tr : BlockTraces
        Traces after step ``t-1``.
    x : array (B, n_in)
        Input frame at ``t`` (presynaptic values of the input synapses).
    s_prev : array (B, n_h)
        Spikes at ``t-1`` (presynaptic values of the recurrent synapses).
    j_diag : array (B, n_h)
        ``J_t[i, i]`` from :func:`jacobian_diagonal`.
    psi : array (B, n_h)
        Surrogate derivative of the membranes at ``t``.
    kappa : float
        Readout decay.

    Examples
    --------
    >>> tr = BlockTraces.zeros(1, 2, 1)
    >>> tr = block_step(tr, np.array([[1.0, 0.0]]), np.zeros((1, 1)), np.array([[0.5]]),
    ...                 np.array([[1.0]]), 0.9)
    >>> tr.e_in[0, :, 0].tolist(), tr.f_in[0, :, 0].tolist()
    ([1.0, 0.0], [1.0, 0.0])
    """
    jd = j_diag[:, None, :]
    e_in = jd * tr.e_in + x[:, :, None]
    e_rec = jd * tr.e_rec + s_prev[:, :, None]
    p = psi[:, None, :]
    return BlockTraces(e_in, e_rec, kappa * tr.f_in + p * e_in, kappa * tr.f_rec + p * e_rec)


def block_gradient(tr: BlockTraces, signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """This step's contribution ``sum_b L_i ebar[j, i]`` to the input and recurrent gradients,
    for the learning signal ``signal`` (B, n_h)."""
    return (np.einsum("bji,bi->ji", tr.f_in, signal),
            np.einsum("bji,bi->ji", tr.f_rec, signal))


def rtrl_step(tr: RTRLTraces, x: np.ndarray, s_prev: np.ndarray, jac: np.ndarray,
              psi: np.ndarray, kappa: float) -> RTRLTraces:
    """Advance the exact RTRL sensitivities by one step (``jac`` from :func:`jacobian`)."""
    b, n_h, n_in, _ = tr.m_in.shape
    m_in = np.matmul(jac, tr.m_in.reshape(b, n_h, -1)).reshape(tr.m_in.shape)
    m_rec = np.matmul(jac, tr.m_rec.reshape(b, n_h, -1)).reshape(tr.m_rec.shape)
    idx = np.arange(n_h)
    m_in[:, idx, :, idx] += x[None, :, :]      # fancy index puts the neuron axis first
    m_rec[:, idx, :, idx] += s_prev[None, :, :]
    p = psi[:, :, None, None]
    return RTRLTraces(m_in, m_rec, kappa * tr.f_in + p * m_in, kappa * tr.f_rec + p * m_rec)


def rtrl_gradient(tr: RTRLTraces, signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """This step's contribution ``sum_b sum_i L_i N[i, :]`` to the input and recurrent
    gradients (``signal`` (B, n_h))."""
    return (np.einsum("bijl,bi->jl", tr.f_in, signal),
            np.einsum("bijl,bi->jl", tr.f_rec, signal))


Traces = BlockTraces | RTRLTraces


def new_traces(method: str, batch: int, n_in: int, n_h: int) -> Traces:
    """Zero traces of ``method`` (``"eprop"``: block-diagonal, ``"rtrl"``: exact)."""
    return (BlockTraces if method == "eprop" else RTRLTraces).zeros(batch, n_in, n_h)


def advance(tr: Traces, x: np.ndarray, s_prev: np.ndarray, psi_prev: np.ndarray,
            psi: np.ndarray, w_rec: np.ndarray, cfg: LIFConfig) -> Traces:
    """One step of either rule: the Jacobian it needs (diagonal or full) from the previous
    step's surrogate, then the trace update.

    >>> tr = new_traces("rtrl", 1, 2, 3)
    >>> z = np.zeros((1, 3))
    >>> advance(tr, np.ones((1, 2)), z, z, z + 0.3, np.zeros((3, 3)), LIFConfig()).m_in.shape
    (1, 3, 2, 3)
    """
    if isinstance(tr, BlockTraces):
        return block_step(tr, x, s_prev, jacobian_diagonal(psi_prev, np.diag(w_rec), cfg), psi,
                          cfg.kappa)
    return rtrl_step(tr, x, s_prev, jacobian(psi_prev, w_rec, cfg), psi, cfg.kappa)


def contribution(tr: Traces, signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """This step's input and recurrent gradient contributions of either rule."""
    if isinstance(tr, BlockTraces):
        return block_gradient(tr, signal)
    return rtrl_gradient(tr, signal)
