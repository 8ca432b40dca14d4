"""Leaky integrate-and-fire neurons in discrete time, for the spiking learning rules.

One layer of current-based LIF neurons: a synaptic current ``I`` (nA) decays with
``tau_syn`` and jumps by the weighted input of each step; the membrane ``C dV/dt = -g V + I``
is integrated exactly over a step with ``I`` held (``V <- a V + (1 - a) I / g``,
``a = exp(-dt g / C)``); a neuron whose ``V`` reaches the threshold spikes, is reset to 0 and
held there for the refractory steps. The weighted inputs come from a weight store's ``read``
(floats or a crossbar tile), so the layer itself never sees the synapses.

:func:`lif_layer` is the numba kernel; :func:`lif_layer_np` its NumPy twin for the tests.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

__all__ = ["LIFParams", "lif_layer", "lif_layer_np", "lif_params"]


class LIFParams(NamedTuple):
    """Per-step constants of a LIF layer (see :func:`lif_params`)."""

    decay_syn: float  #: exp(-dt / tau_syn)
    decay_mem: float  #: exp(-dt g / C)
    gain: float  #: volts of steady membrane potential per nA of current, times (1 - decay_mem)
    threshold: float  #: volts
    refractory: int  #: steps held at reset after a spike


def lif_params(*, dt: float, tau_syn: float, c_mem: float, g_leak: float, threshold: float,
               refractory: float) -> LIFParams:
    """Step constants from physical ones (SI units; currents enter in nA).

    >>> p = lif_params(dt=1e-3, tau_syn=4e-3, c_mem=1e-12, g_leak=1e-9, threshold=0.1,
    ...                refractory=3.9e-3)
    >>> round(p.decay_syn, 4), p.refractory
    (0.7788, 4)
    """
    decay_mem = math.exp(-dt * g_leak / c_mem)
    return LIFParams(math.exp(-dt / tau_syn), decay_mem, (1.0 - decay_mem) * 1e-9 / g_leak,
                     threshold, int(round(refractory / dt)))


@njit(cache=True)
def lif_layer(a, p):
    """Spikes and synaptic currents of a LIF layer.

    Parameters
    ----------
    a : float64 (B, T, n)
        Weighted input of each step in nA (the current jump), for B independent runs.
    p : LIFParams

    Returns
    -------
    spikes : float64 (B, T, n) of 0 and 1
    current : float64 (B, T, n), the synaptic current in nA after each step's input
    """
    nb, nt, n = a.shape
    spikes = np.zeros((nb, nt, n))
    current = np.empty((nb, nt, n))
    for b in range(nb):
        i_syn = np.zeros(n)
        v = np.zeros(n)
        hold = np.zeros(n, np.int64)
        for t in range(nt):
            for k in range(n):
                i_syn[k] = i_syn[k] * p.decay_syn + a[b, t, k]
                current[b, t, k] = i_syn[k]
                if hold[k] > 0:
                    hold[k] -= 1
                    continue
                v[k] = v[k] * p.decay_mem + p.gain * i_syn[k]
                if v[k] >= p.threshold:
                    spikes[b, t, k] = 1.0
                    v[k] = 0.0
                    hold[k] = p.refractory
    return spikes, current


def lif_layer_np(a: np.ndarray, p: LIFParams) -> tuple[np.ndarray, np.ndarray]:
    """NumPy twin of :func:`lif_layer` (vectorized over runs and neurons)."""
    nb, nt, n = a.shape
    spikes = np.zeros((nb, nt, n))
    current = np.empty((nb, nt, n))
    i_syn = np.zeros((nb, n))
    v = np.zeros((nb, n))
    hold = np.zeros((nb, n), np.int64)
    for t in range(nt):
        i_syn = i_syn * p.decay_syn + a[:, t]
        current[:, t] = i_syn
        free = hold == 0
        hold = np.where(free, 0, hold - 1)
        v = np.where(free, v * p.decay_mem + p.gain * i_syn, v)
        fire = free & (v >= p.threshold)
        spikes[:, t] = fire
        v = np.where(fire, 0.0, v)
        hold = np.where(fire, p.refractory, hold)
    return spikes, current
