"""Weight stores for the learning rules: ideal floats and simulated memristive crossbar tiles.

>>> import numpy as np
>>> from memsim.tiles import CrossbarTile, FloatWeights, WeightStore, tile_preset
>>> isinstance(FloatWeights(np.eye(2)), WeightStore)
True
>>> isinstance(CrossbarTile(np.eye(2), tile_preset("rram64"), seed=0), WeightStore)
True
"""

from memsim.tiles.base import FloatWeights, WeightStats, WeightStore, as_batch
from memsim.tiles.config import TILE_PRESETS, TileConfig, tile_preset
from memsim.tiles.crossbar import CrossbarTile
from memsim.tiles.pulses import integrate_pulses

__all__ = ["TILE_PRESETS", "CrossbarTile", "FloatWeights", "TileConfig", "WeightStats",
           "WeightStore", "as_batch", "integrate_pulses", "tile_preset"]
