"""Offline datasets: held-out stratified splits, seeds, Poisson encoding."""

import numpy as np
import pytest

from memsim.errors import ParameterError
from memsim.rules.datasets import load_dataset, poisson_spikes, validation_split


def test_digits_split_is_stratified_seeded_and_disjoint():
    a, b = load_dataset("digits", seed=3), load_dataset("digits", seed=3)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_test, b.y_test)
    assert a.x_train.shape == (1437, 64) and a.x_test.shape == (360, 64)
    assert a.x_train.min() >= 0 and a.x_train.max() <= 1
    # every class keeps its share (within rounding) in the held-out split
    counts = np.bincount(a.y_test, minlength=10)
    totals = counts + np.bincount(a.y_train, minlength=10)
    assert np.all(np.abs(counts - 360 / 1797 * totals) < 1)
    # no test image is also a training image (digits has no exact duplicates across rows
    # that matter here: compare row sets)
    train = {r.tobytes() for r in a.x_train}
    assert sum(r.tobytes() in train for r in a.x_test) <= 2
    c = load_dataset("digits", seed=4)
    assert not np.array_equal(a.y_test, c.y_test)


def test_mnist5k_ships_in_mlxtends_wheel():
    ds = load_dataset("mnist5k", seed=0)
    assert ds.x_train.shape == (4000, 784) and ds.x_test.shape == (1000, 784)
    assert ds.image_shape == (28, 28) and ds.n_classes == 10
    assert np.all(np.bincount(ds.y_test) == 100)


def test_validation_split_stays_inside_the_training_set():
    ds = load_dataset("digits", seed=0)
    val = validation_split(ds, 0.25, seed=0)
    train = {r.tobytes() for r in ds.x_train}
    assert all(r.tobytes() in train for r in val.x_test)
    assert val.x_train.shape[0] + val.x_test.shape[0] == ds.x_train.shape[0]


def test_poisson_spike_rates():
    rng = np.random.default_rng(0)
    s = poisson_spikes(np.array([[0.25, 1.0]]), 20000, 200.0, 1e-3, rng)
    # Bernoulli(p) per step: mean p, sd sqrt(p (1 - p) / n) <= 0.003 for n = 20000
    np.testing.assert_allclose(s[0].mean(axis=0), [0.05, 0.2], atol=0.012)


def test_bad_dataset_requests_raise():
    with pytest.raises(ParameterError, match="dataset"):
        load_dataset("cifar")
    with pytest.raises(ParameterError, match="test_fraction"):
        load_dataset("digits", test_fraction=1.0)
    with pytest.raises(ParameterError, match="rate"):
        poisson_spikes(np.ones(2), 10, 2000.0, 1e-3, np.random.default_rng(0))
