"""Digits as sequences for the online spiking rules (scikit-learn's 8x8 digits, shipped in its
wheel: nothing is downloaded).

The 1,797 digits of ``sklearn.datasets.load_digits`` (UCI optical recognition of handwritten
digits; Alpaydin & Kaynak 1998; CC BY 4.0) become sequences in one of two ways:

* ``"rows"``: the 8 rows of a digit are 8 time steps of 8 analog inputs (pixel / 16), each
  shown ``repeat`` times: a recurrent network has to integrate over time to classify.
* ``"spikes"``: all 64 pixels as Bernoulli spike trains of ``steps`` steps, firing probability
  pixel / 16 per step (rate coding, the hybrid paper's input encoding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memsim.errors import ParameterError

__all__ = ["SequenceData", "digit_sequences", "split_classes"]


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
        return self.classes or int(max(self.y_train.max(), self.y_test.max()) + 1)

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> SequenceData:
        """The first ``n_train`` training and ``n_test`` test sequences (None: all)."""
        return SequenceData(self.x_train[:n_train], self.y_train[:n_train],
                            self.x_test[:n_test], self.y_test[:n_test], self.n_classes)


def digit_sequences(encoding: str = "rows", *, repeat: int = 1, steps: int = 8,
                    test_fraction: float = 0.25, seed: int = 0) -> SequenceData:
    """The digits as sequences, split at random into train and test sets.

    Parameters
    ----------
    encoding : str
        ``"rows"`` or ``"spikes"`` (module docstring).
    repeat : int
        Steps each row is shown for (``"rows"``); 1 gives 8 steps.
    steps : int
        Length of the spike trains (``"spikes"``).
    test_fraction : float
        Share of the digits held out for testing; 0.25 leaves 1,348 for training.
    seed : int
        Seed of the split and of the spike trains.

    Examples
    --------
    >>> d = digit_sequences("rows")
    >>> d.x_train.shape, d.x_test.shape, d.n_classes
    ((1348, 8, 8), (449, 8, 8), 10)

    Raises
    ------
    ParameterError
        For an unknown encoding, ``repeat`` or ``steps`` below 1, or a test fraction outside
        (0, 1).
    """
    from sklearn.datasets import load_digits

    if encoding not in ("rows", "spikes"):
        raise ParameterError("encoding", f"'rows' or 'spikes', got {encoding!r}")
    if repeat < 1:
        raise ParameterError("repeat", f"must be >= 1, got {repeat}")
    if steps < 1:
        raise ParameterError("steps", f"must be >= 1, got {steps}")
    if not 0.0 < test_fraction < 1.0:
        raise ParameterError("test_fraction", f"must lie in (0, 1), got {test_fraction}")
    digits = load_digits()
    images = digits.images / 16.0                      # (N, 8, 8) in [0, 1]
    labels = digits.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    if encoding == "rows":
        x = np.repeat(images, repeat, axis=1)
    else:
        flat = images.reshape(len(images), 1, 64)
        x = (rng.random((len(images), steps, 64)) < flat).astype(float)
    order = rng.permutation(len(x))
    n_test = int(round(test_fraction * len(x)))
    test, train = order[:n_test], order[n_test:]
    return SequenceData(x[train], labels[train], x[test], labels[test])


def split_classes(data: SequenceData, groups: list[list[int]]) -> list[SequenceData]:
    """One task per group of classes, for continual learning: the sequences of those classes.

    >>> tasks = split_classes(digit_sequences(), [[0, 1], [2, 3]])
    >>> sorted(set(tasks[1].y_train.tolist()))
    [2, 3]

    Raises
    ------
    ParameterError
        If a group is empty or names a class that is not in the data.
    """
    out = []
    for g in groups:
        if not g or not set(g) <= set(range(data.n_classes)):
            raise ParameterError("groups", f"each group needs classes in 0..{data.n_classes - 1}"
                                 f", got {g}")
        tr, te = np.isin(data.y_train, g), np.isin(data.y_test, g)
        out.append(SequenceData(data.x_train[tr], data.y_train[tr], data.x_test[te],
                                data.y_test[te], data.n_classes))
    return out
