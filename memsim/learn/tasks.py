"""Learning tasks: which input pattern must light up which output, era by era.

A :class:`Task` is a list of input patterns (rows of input values: one-hot, or binary vectors)
and, for each training *era*, the output index every pattern must be mapped to. Training runs
the eras one after the other on the same network, so a task with several eras tests how a
network re-learns after the mapping changes (the "alternating" experiment of the seed paper).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from memsim.errors import ParameterError

__all__ = [
    "Task",
    "all_mappings",
    "alternating_task",
    "fixed_task",
    "parity_task",
    "random_task",
]


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Task:
    """Patterns and their target outputs, for one or several training eras.

    Attributes
    ----------
    patterns : ndarray of float, (P, n_inputs)
        Row ``p`` holds the value of every input for pattern ``p``: nonzero entries are the
        *active* inputs (driven during reads and writes, the value scales the bias: use 1.0),
        zero entries the inactive ones. One-hot rows activate a single input node.
    targets : ndarray of int, (P,)
        Output index each pattern must be mapped to in the first era (``eras[0]``).
    n_outputs : int
        Number of output nodes of the networks the task is meant for.
    eras : tuple of ndarray of int, each (P,)
        Target outputs of each training era, in training order. Default ``(targets,)``.
    name : str
        A label for reports.

    Raises
    ------
    ParameterError
        If the shapes disagree, a pattern has no active input or is non-finite, two patterns
        are equal, or a target lies outside ``0 .. n_outputs - 1``.

    Examples
    --------
    >>> t = Task(patterns=[[1, 0], [0, 1]], targets=[1, 0], n_outputs=2)
    >>> t.n_patterns, t.n_inputs, t.n_eras
    (2, 2, 1)
    >>> t.active(0).tolist()
    [True, False]
    """

    patterns: np.ndarray
    targets: np.ndarray
    n_outputs: int
    eras: tuple[np.ndarray, ...] = field(default=())
    name: str = "task"

    def __post_init__(self) -> None:
        put = object.__setattr__
        pat = np.asarray(self.patterns, dtype=float)
        if pat.ndim != 2 or pat.shape[0] < 1 or pat.shape[1] < 1:
            raise ParameterError(
                "patterns", f"need a 2-D array (P, n_inputs) with P >= 1, got shape {pat.shape}"
            )
        if not np.isfinite(pat).all():
            raise ParameterError("patterns", "pattern values must be finite")
        if not (pat != 0).any(axis=1).all():
            bad = int(np.flatnonzero(~(pat != 0).any(axis=1))[0])
            raise ParameterError("patterns", f"pattern {bad} has no active (nonzero) input")
        if len({row.tobytes() for row in pat}) != pat.shape[0]:
            raise ParameterError("patterns", "patterns must be distinct")
        n_out = int(self.n_outputs)
        if n_out < 1:
            raise ParameterError("n_outputs", f"need at least one output, got {self.n_outputs}")
        eras = tuple(self.eras) if len(self.eras) else (self.targets,)
        checked = []
        for k, era in enumerate(eras):
            t = np.asarray(era)
            label = "targets" if k == 0 and not len(self.eras) else f"eras[{k}]"
            if t.shape != (pat.shape[0],):
                raise ParameterError(label, f"need {pat.shape[0]} targets, got shape {t.shape}")
            if not np.issubdtype(t.dtype, np.integer):
                if not np.all(np.mod(t, 1) == 0):
                    raise ParameterError(label, "targets must be integer output indices")
            t = t.astype(np.int64)
            if (t < 0).any() or (t >= n_out).any():
                raise ParameterError(label, f"targets must lie in 0..{n_out - 1}, got {t.tolist()}")
            checked.append(_readonly(t))
        put(self, "patterns", _readonly(pat))
        put(self, "eras", tuple(checked))
        put(self, "targets", checked[0])
        put(self, "n_outputs", n_out)

    @property
    def n_patterns(self) -> int:
        return int(self.patterns.shape[0])

    @property
    def n_inputs(self) -> int:
        return int(self.patterns.shape[1])

    @property
    def n_eras(self) -> int:
        return len(self.eras)

    @property
    def era_targets(self) -> np.ndarray:
        """Targets of all eras as one (n_eras, P) int array."""
        return np.stack(self.eras)

    @property
    def one_hot(self) -> bool:
        """True if every pattern activates exactly one input."""
        return bool(((self.patterns != 0).sum(axis=1) == 1).all())

    def active(self, p: int) -> np.ndarray:
        """Boolean mask of the inputs active in pattern ``p``."""
        return self.patterns[p] != 0

    def with_eras(self, eras: Sequence[Sequence[int]], name: str | None = None) -> Task:
        """The same patterns with new per-era targets."""
        return Task(self.patterns, np.asarray(eras[0]), self.n_outputs,
                    tuple(np.asarray(e) for e in eras), name or self.name)

    def __repr__(self) -> str:
        return (f"Task({self.name!r}, patterns={self.n_patterns}, inputs={self.n_inputs}, "
                f"outputs={self.n_outputs}, eras={self.n_eras})")


def fixed_task(
    patterns: Sequence[Sequence[float]] | np.ndarray,
    targets: Sequence[int] | np.ndarray,
    *,
    n_outputs: int | None = None,
    eras: Sequence[Sequence[int]] | None = None,
    name: str = "fixed",
) -> Task:
    """A task from explicit patterns and targets.

    Parameters
    ----------
    patterns : array (P, n_inputs)
        Input values of each pattern (nonzero = active input).
    targets : array (P,)
        Target output of each pattern (first era).
    n_outputs : int, optional
        Number of outputs (default: largest target + 1).
    eras : sequence of target arrays, optional
        Targets of every era (overrides ``targets`` as the era list; ``eras[0]`` should equal
        ``targets``).

    Raises
    ------
    ParameterError
        As :class:`Task`.

    Examples
    --------
    >>> fixed_task([[1, 0], [0, 1]], [0, 1]).targets.tolist()
    [0, 1]
    """
    tg = np.asarray(targets)
    all_targets = [tg] + ([np.asarray(e) for e in eras] if eras is not None else [])
    if n_outputs is None:
        n_outputs = int(max(int(np.max(t)) for t in all_targets if np.size(t))) + 1
    era_list = tuple(np.asarray(e) for e in eras) if eras is not None else ()
    return Task(np.asarray(patterns, float), tg, n_outputs, era_list, name)


def random_task(
    n_inputs: int,
    n_outputs: int,
    n_patterns: int,
    *,
    seed: int | np.random.SeedSequence | np.random.Generator | None,
    one_hot: bool = True,
) -> Task:
    """A random mapping of ``n_patterns`` distinct input patterns to output indices.

    With ``one_hot`` each pattern activates one input node, the nodes drawn without
    replacement (so ``n_patterns <= n_inputs``); otherwise patterns are distinct nonzero binary
    vectors drawn uniformly (``n_patterns <= 2**n_inputs - 1``). Targets are drawn uniformly
    from ``0 .. n_outputs - 1``, independently per pattern.

    Raises
    ------
    ParameterError
        If there are not enough distinct patterns, or a size is below 1.

    Examples
    --------
    >>> t = random_task(4, 2, 3, seed=1)
    >>> t.patterns.shape, bool(t.one_hot)
    ((3, 4), True)
    >>> bool((random_task(4, 2, 3, seed=1).targets == t.targets).all())
    True
    """
    for label, value in (("n_inputs", n_inputs), ("n_outputs", n_outputs),
                         ("n_patterns", n_patterns)):
        if int(value) < 1:
            raise ParameterError(label, f"must be >= 1, got {value!r}")
    rng = np.random.default_rng(seed)
    if one_hot:
        if n_patterns > n_inputs:
            raise ParameterError(
                "n_patterns", f"{n_patterns} one-hot patterns need at least {n_patterns} inputs, "
                f"got {n_inputs}; use one_hot=False for binary vectors"
            )
        units = rng.choice(n_inputs, size=n_patterns, replace=False)
        patterns = np.zeros((n_patterns, n_inputs))
        patterns[np.arange(n_patterns), units] = 1.0
    else:
        n_codes = 2**n_inputs - 1
        if n_inputs > 62 or n_patterns > n_codes:
            if n_inputs <= 62:
                raise ParameterError(
                    "n_patterns", f"only {n_codes} distinct nonzero binary patterns exist on "
                    f"{n_inputs} inputs, asked for {n_patterns}"
                )
            codes_set: set[bytes] = set()
            rows: list[np.ndarray] = []
            while len(rows) < n_patterns:
                row = rng.integers(0, 2, n_inputs).astype(float)
                if row.any() and row.tobytes() not in codes_set:
                    codes_set.add(row.tobytes())
                    rows.append(row)
            patterns = np.array(rows)
        else:
            codes = rng.choice(n_codes, size=n_patterns, replace=False) + 1
            bits = (codes[:, None] >> np.arange(n_inputs)[None, :]) & 1
            patterns = bits.astype(float)
    targets = rng.integers(0, n_outputs, n_patterns)
    return Task(patterns, targets, n_outputs, (), f"random_{n_patterns}")


def alternating_task(
    n_eras: int = 3, *, n_inputs: int = 2, n_outputs: int = 2, name: str = "alternating"
) -> Task:
    """The seed paper's first experiment: mapping A, its swap B, A again, ...

    Input ``k`` (one-hot) must reach output ``k mod n_outputs`` in the odd eras (A) and output
    ``(k + 1) mod n_outputs`` in the even eras (B, for two outputs the swap of A).

    Raises
    ------
    ParameterError
        If ``n_eras < 1`` or the sizes are below 1 (``n_outputs >= 2`` for a real switch).

    Examples
    --------
    >>> t = alternating_task(3)
    >>> [e.tolist() for e in t.eras]
    [[0, 1], [1, 0], [0, 1]]
    """
    if n_eras < 1:
        raise ParameterError("n_eras", f"need at least one era, got {n_eras}")
    if n_inputs < 1 or n_outputs < 2:
        raise ParameterError("n_outputs", "need >= 1 input and >= 2 outputs to alternate")
    a = np.arange(n_inputs) % n_outputs
    b = (np.arange(n_inputs) + 1) % n_outputs
    eras = tuple(a if k % 2 == 0 else b for k in range(n_eras))
    return Task(np.eye(n_inputs), a, n_outputs, eras, name)


def parity_task(n: int, *, name: str | None = None) -> Task:
    """memsim's parity benchmark of problem size ``n`` for the extremal (Chialvo-Bak) model.

    ``n`` one-hot input units; unit ``k`` (counting from 1) must fire output 1 if ``k`` is odd
    and output 0 if it is even. This is the project's own reading of the "parity problem" of
    Bak & Chialvo (PRE 63, 031912, 2001), whose exact input coding is not reproduced here: the
    problem size is the number of input units, so the learning time can be compared with their
    algebraic law ``T ~ n**k`` (``k`` about 1.4).

    Raises
    ------
    ParameterError
        If ``n < 2``.

    Examples
    --------
    >>> parity_task(4).targets.tolist()
    [1, 0, 1, 0]
    """
    if n < 2:
        raise ParameterError("n", f"parity needs at least 2 inputs, got {n}")
    targets = (np.arange(1, n + 1) % 2).astype(np.int64)
    return Task(np.eye(n), targets, 2, (), name or f"parity_{n}")


def all_mappings(n_inputs: int, n_outputs: int) -> list[Task]:
    """Every one-hot mapping of ``n_inputs`` inputs to ``n_outputs`` outputs (n_out**n_in tasks).

    Raises
    ------
    ParameterError
        If ``n_inputs`` or ``n_outputs`` is below 1.

    Examples
    --------
    >>> [t.targets.tolist() for t in all_mappings(2, 2)]
    [[0, 0], [0, 1], [1, 0], [1, 1]]
    """
    if n_inputs < 1 or n_outputs < 1:
        raise ParameterError("n_inputs", "need >= 1 input and output")
    return [
        Task(np.eye(n_inputs), np.array(m), n_outputs, (), "map_" + "".join(map(str, m)))
        for m in itertools.product(range(n_outputs), repeat=n_inputs)
    ]
