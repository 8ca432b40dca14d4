"""Weight stores for the learning rules: ideal floats and simulated memristive crossbar tiles.

>>> import numpy as np
>>> from memsim.tiles import FloatWeights, WeightStore
>>> isinstance(FloatWeights(np.eye(2)), WeightStore)
True
"""

from memsim.tiles.base import FloatWeights, WeightStats, WeightStore

__all__ = ["FloatWeights", "WeightStats", "WeightStore"]
