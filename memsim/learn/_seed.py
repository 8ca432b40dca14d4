"""Seeds of training runs: every run's randomness derives from one ``SeedSequence``."""

from __future__ import annotations

import numpy as np

from memsim.errors import ParameterError

__all__ = ["Seed", "seed_sequence"]

Seed = int | np.random.SeedSequence | np.random.Generator


def seed_sequence(seed: Seed) -> np.random.SeedSequence:
    """A fresh ``SeedSequence`` from an int, a ``SeedSequence`` or a ``Generator`` (two 63-bit
    draws from it).

    A given ``SeedSequence`` is copied (same entropy and spawn key, no children spawned yet):
    ``spawn`` is stateful, so using the object itself would make a second run with the same
    seed object differ from the first.

    Raises
    ------
    ParameterError
        If ``seed`` is None or of another type: training runs must be reproducible.
    """
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key,
                                      pool_size=seed.pool_size)
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(seed.integers(0, 2**63, size=2).tolist())
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool):
        if seed < 0:
            raise ParameterError("seed", f"must be a non-negative integer, got {seed}")
        return np.random.SeedSequence(int(seed))
    raise ParameterError("seed", f"give an int, a SeedSequence or a Generator, got {seed!r}")
