"""Which synapses a rule runs on: "float" or a crossbar tile, as one argument.

>>> import numpy as np
>>> store = make_store("rram64", w_max=0.5)(np.zeros((3, 2)), np.random.SeedSequence(0))
>>> type(store).__name__, store.config.w_max
('CrossbarTile', 0.5)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from memsim.errors import ParameterError
from memsim.tiles import CrossbarTile, FloatWeights, TileConfig, WeightStore, tile_preset

__all__ = ["StoreFactory", "make_store", "one_blas_thread"]

StoreFactory = Callable[[np.ndarray, np.random.SeedSequence], WeightStore]


def make_store(hardware: str | TileConfig | StoreFactory | Any, *, w_max: float
               ) -> StoreFactory:
    """A factory ``(w0, seed) -> WeightStore`` for ``hardware``.

    Parameters
    ----------
    hardware : "float", a tile preset name (:data:`memsim.tiles.TILE_PRESETS`), a
        TileConfig, or a factory (returned as is)
    w_max : float
        The rule's weight bound: float weights are clipped to ``[-w_max, w_max]``, a tile maps
        ``w_max`` to its full differential swing (its config's ``w_max`` is replaced).

    Raises
    ------
    ParameterError
        For an unknown preset name.
    """
    if isinstance(hardware, str) and hardware == "float":
        return lambda w0, seed: FloatWeights(w0, w_min=-w_max, w_max=w_max)
    if isinstance(hardware, str):
        hardware = tile_preset(hardware)
    if isinstance(hardware, TileConfig):
        cfg = hardware.replace(w_max=w_max)
        return lambda w0, seed: CrossbarTile(w0, cfg, seed=seed)
    if callable(hardware):
        return hardware
    raise ParameterError("hardware", f"use 'float', a tile preset or a TileConfig, got "
                         f"{hardware!r}")


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with BLAS on one thread.

    The rules multiply small matrices thousands of times per epoch; a multi-threaded BLAS
    spends more on waking its threads than on the products (an eRBP epoch on digits took 9x
    longer with two OpenBLAS threads on a loaded 2-core machine). threadpoolctl comes with
    scikit-learn, which the datasets need; without it the block runs unchanged.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ModuleNotFoundError:  # pragma: no cover
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield
