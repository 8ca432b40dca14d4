"""The rules reach the issue's accuracies on the held-out digits test split (numba on).

Settings were chosen on a validation split of the training set (``validation_split``), never
on the test split; the seed is fixed, so each run is deterministic and the margin to the
target is the measured one (see benchmarks/README.md for other seeds).
"""

import pytest

from memsim.rules import ERBP, ERBPConfig, load_dataset
from memsim.rules.mushroom import MushroomBody, MushroomConfig


@pytest.mark.slow
def test_erbp_float_reaches_093_on_held_out_digits():
    ds = load_dataset("digits", seed=0)
    res = ERBP(64, 10, ERBPConfig(), seed=0).fit(ds, epochs=10)
    # seeds 0, 1, 2 gave 0.961, 0.944, 0.947 after 10 epochs
    assert res.test_accuracy >= 0.93


@pytest.mark.slow
def test_mushroom_body_best_rule_reaches_090_on_held_out_digits():
    ds = load_dataset("digits", seed=0)
    res = MushroomBody(64, 10, MushroomConfig(rule="delta"), seed=0).fit(ds, epochs=3)
    assert res.test_accuracy >= 0.90
