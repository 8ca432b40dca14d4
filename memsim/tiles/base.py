"""The contract every weight store of the learning rules meets: floats, or crossbar tiles.

A learning rule (eRBP, the mushroom body, e-prop, hybrid plasticity) sees its synapses only
through this interface, so the same rule runs on ideal float weights and on simulated
memristive hardware. Weights are in the rule's own units; a tile maps them to conductances.

Shapes follow the crossbar: ``n_in`` rows (word lines, presynaptic side) by ``n_out`` columns
(bit lines, postsynaptic side). ``read(x)`` computes ``x @ W`` for a batch of presynaptic
activity vectors as the hardware computes it (for a tile: through the crossbar solve, with
line resistance, DAC/ADC and read noise); ``update(dw)`` asks for ``W += dw`` and the store
realizes what it can (for a tile: programming pulses through the device rate law, so bounds,
asymmetry, nonlinearity and cycle-to-cycle noise show up in what is actually written).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from memsim.errors import ParameterError

__all__ = ["FloatWeights", "WeightStats", "WeightStore", "as_batch"]


@dataclass
class WeightStats:
    """Running counters of a weight store (all zero for float weights but ``reads``/``updates``).

    Attributes
    ----------
    reads : int, input vectors read (a batch of B counts B)
    updates : int, calls of ``update``
    pulses : int, programming pulses applied to devices
    read_energy : float, joules dissipated in reads
    write_energy : float, joules dissipated in programming pulses
    half_selected : int, device-pulses at half the write voltage (cells that share a line
        with a selected cell in the V/2 scheme)
    solves : int, input vectors solved by the crossbar solver (a transfer-matrix refresh of
        an n_in-row tile counts n_in)
    """

    reads: int = 0
    updates: int = 0
    pulses: int = 0
    read_energy: float = 0.0
    write_energy: float = 0.0
    half_selected: int = 0
    solves: int = 0


@runtime_checkable
class WeightStore(Protocol):
    """What a learning rule needs of its synapses (see the module docstring)."""

    stats: WeightStats

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_in, n_out)``."""
        ...

    def read(self, x: np.ndarray) -> np.ndarray:
        """``x @ W`` as the store computes it: ``x`` (B, n_in) -> (B, n_out)."""
        ...

    def weights(self) -> np.ndarray:
        """The effective weight matrix (n_in, n_out) now, in the rule's units (a copy)."""
        ...

    def update(self, dw: np.ndarray) -> None:
        """Ask for ``W += dw`` (n_in, n_out); the store realizes what its physics allows."""
        ...


class FloatWeights:
    """Ideal weights: exact reads and updates, optionally clipped to ``[w_min, w_max]``.

    Parameters
    ----------
    w : array (n_in, n_out)
        Initial weights (copied).
    w_min, w_max : float
        Bounds the weights are clipped to after every update (default: unbounded).

    Examples
    --------
    >>> s = FloatWeights(np.zeros((2, 3)), w_min=-1.0, w_max=1.0)
    >>> s.update(np.full((2, 3), 2.0))
    >>> s.read(np.array([[1.0, 1.0]])).tolist()
    [[2.0, 2.0, 2.0]]

    Raises
    ------
    ParameterError
        If ``w`` is not a finite 2-D array or ``w_min > w_max``.
    """

    def __init__(self, w: np.ndarray, *, w_min: float = -np.inf, w_max: float = np.inf):
        w = np.array(w, dtype=float)
        if w.ndim != 2 or not np.isfinite(w).all():
            raise ParameterError("w", f"need a finite 2-D weight matrix, got shape {w.shape}")
        if not w_min <= w_max:
            raise ParameterError("w_min", f"w_min ({w_min}) must not exceed w_max ({w_max})")
        self._w = np.clip(w, w_min, w_max)
        self.w_min, self.w_max = float(w_min), float(w_max)
        self.stats = WeightStats()

    @property
    def shape(self) -> tuple[int, int]:
        return self._w.shape  # type: ignore[return-value]

    def read(self, x: np.ndarray) -> np.ndarray:
        x = as_batch(x, self._w.shape[0])
        self.stats.reads += x.shape[0]
        return x @ self._w

    def weights(self) -> np.ndarray:
        return self._w.copy()

    def update(self, dw: np.ndarray) -> None:
        dw = np.asarray(dw, dtype=float)
        if dw.shape != self._w.shape or not np.isfinite(dw).all():
            raise ParameterError("dw", f"need a finite update of shape {self._w.shape}, got "
                                 f"{dw.shape}")
        np.clip(self._w + dw, self.w_min, self.w_max, out=self._w)
        self.stats.updates += 1


def as_batch(x: np.ndarray, n_in: int) -> np.ndarray:
    """``x`` as a finite (B, n_in) float array (a single vector becomes a batch of one).

    >>> as_batch([1, 2], 2).shape
    (1, 2)

    Raises
    ------
    ParameterError
        If ``x`` does not have ``n_in`` columns or is not finite.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] != n_in or not np.isfinite(x).all():
        raise ParameterError("x", f"need finite inputs of shape (batch, {n_in}), got "
                             f"{np.shape(x)}")
    return x
