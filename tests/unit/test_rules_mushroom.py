"""Mushroom body: KC coding, the rule table, the objective's use of the data."""

import dataclasses

import numpy as np
import pytest

from memsim.errors import ParameterError
from memsim.rules.datasets import load_dataset
from memsim.rules.mushroom import (
    RULES,
    SEARCH_SPACE,
    MushroomBody,
    MushroomConfig,
    config_from,
    modulator,
    objective,
)
from memsim.tiles import TileConfig


def test_kenyon_cells_code_k_hot_and_ignore_the_mean_level():
    mb = MushroomBody(64, 10, MushroomConfig(n_kc=300, k=12), seed=0)
    x = load_dataset("digits").x_train[:20]
    a = mb.kenyon(x)
    assert np.all(a.sum(axis=1) == 12) and set(np.unique(a)) == {0.0, 1.0}
    # mean-centred input: adding a constant to every pixel leaves the pattern unchanged
    assert np.array_equal(mb.kenyon(x + 0.3), a)


@pytest.mark.parametrize("rule, target, y, expected", [
    ("hebb", [0, 1, 0], [0.9, 0.1, 0.0], [0, 1, 0]),
    ("oja", [0, 1, 0], [0.9, 0.1, 0.0], [0, 1, 0]),
    ("delta", [0, 1, 0], [0.9, 0.1, 0.0], [-0.9, 0.9, 0.0]),
    ("perceptron", [0, 1, 0], [0.9, 0.1, 0.0], [-1, 1, 0]),
    ("perceptron", [1, 0, 0], [0.9, 0.1, 0.0], [0, 0, 0]),
    ("winner", [1, 0, 0], [0.9, 0.1, 0.0], [1, 0, 0]),
    ("winner", [0, 1, 0], [0.9, 0.1, 0.0], [-1, 1, 0]),
])
def test_modulators_follow_the_table(rule, target, y, expected):
    np.testing.assert_allclose(modulator(rule, np.array(target, float), np.array(y, float)),
                               expected)


@pytest.mark.parametrize("rule", RULES)
def test_every_rule_learns_digits_above_chance(rule):
    ds = load_dataset("digits").subset(400, 200)
    cfg = MushroomConfig(n_kc=400, k=20, rule=rule, lr=0.2)
    res = MushroomBody(64, 10, cfg, seed=1).fit(ds, epochs=1)
    assert res.test_accuracy > 0.5  # chance is 0.1


def test_hebb_and_oja_weights_move_towards_their_fixed_points():
    ds = load_dataset("digits").subset(300, 10)
    mb = MushroomBody(64, 10, MushroomConfig(n_kc=200, k=10, rule="oja", lr=0.05), seed=0)
    mb.fit(ds, epochs=3)
    w = mb.store.weights()
    # Oja with a clamped target: column c tends to the mean KC pattern of class c
    a = mb.kenyon(ds.x_train)
    mean0 = a[ds.y_train == 0].mean(axis=0)
    assert np.corrcoef(w[:, 0], mean0)[0, 1] > 0.9


def test_objective_never_reads_the_test_split():
    ds = load_dataset("digits")
    poisoned = dataclasses.replace(ds, x_test=np.full_like(ds.x_test, np.nan),
                                   y_test=np.full_like(ds.y_test, -1))
    acc = objective({"rule": "delta", "lr": 0.1, "n_kc": 300, "k_fraction": 0.05},
                    dataset=poisoned, epochs=1, n_train=500)
    assert 0.5 < acc <= 1.0


def test_search_space_points_make_configs():
    cfg, levels = config_from({"rule": "winner", "lr": 0.1, "decay": 0.01, "n_kc": 500,
                               "fan_in": 0.2, "k_fraction": 0.04, "levels": 16})
    assert (cfg.rule, cfg.n_kc, cfg.k, levels) == ("winner", 500, 20, 16)
    assert set(SEARCH_SPACE) == {"rule", "lr", "decay", "n_kc", "fan_in", "k_fraction"}
    hw = TileConfig(r_line=0.0, read_noise=0.01)
    acc = objective({"rule": "perceptron", "levels": 4, "n_kc": 100, "k_fraction": 0.1},
                    hardware=hw, n_train=200, epochs=1)
    assert 0.0 <= acc <= 1.0


@pytest.mark.parametrize("field, value", [("rule", "bcm"), ("n_kc", 0), ("k", 0),
                                          ("fan_in", 0.0), ("lr", 0.0), ("decay", -1.0)])
def test_bad_configs_raise(field, value):
    with pytest.raises(ParameterError, match=field):
        MushroomConfig(**{field: value})
    with pytest.raises(ParameterError, match="rule"):
        modulator("bcm", np.zeros(2), np.zeros(2))
