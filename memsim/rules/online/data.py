"""Continual-learning tasks for the online spiking rules: the classes of a sequence dataset
(:class:`memsim.rules.datasets.SequenceData`, e.g. :func:`memsim.rules.datasets.digit_sequences`)
in groups, one task per group."""

from __future__ import annotations

import numpy as np

from memsim.errors import ParameterError
from memsim.rules.datasets import SequenceData

__all__ = ["split_classes"]


def split_classes(data: SequenceData, groups: list[list[int]]) -> list[SequenceData]:
    """One task per group of classes, for continual learning: the sequences of those classes.

    >>> from memsim.rules.datasets import digit_sequences
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
