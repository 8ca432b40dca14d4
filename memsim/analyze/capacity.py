"""Capacity: how many random patterns a topology learns, with binomial confidence intervals.

Definition (the project's own, docs/concepts.md)
------------------------------------------------
A *trial* at load ``P`` draws a network from the topology factory, a random ``P``-pattern task
(:func:`memsim.learn.random_task`) and trains on it (:func:`memsim.learn.train`, or
:func:`memsim.learn.train_abstract` for the Chialvo-Bak model); it succeeds if the task is
learned — all ``P`` patterns correct in one full pass — within the step budget. Device
variability (spread of R_on/R_off and of initial states) is drawn inside the training run from
its seed, so ``R`` trials are ``R`` independent tasks x device initializations (x topologies,
for random factories).

The *success curve* ``S(P)`` is the fraction of successful trials, reported with its Wilson
95 % score interval. The *capacity* is the largest ``P`` with ``S(P) >= 0.5``; its interval runs
from the largest ``P`` whose lower Wilson bound is ``>= 0.5`` to the largest ``P`` whose upper
bound is (pointwise intervals, not a simultaneous band). Capacity 0 means even one pattern is
learned less than half the time.

Seeds
-----
Trial ``r`` at load ``P`` uses the ``SeedSequence`` with the caller's entropy and spawn key
``(..., P, r)`` — the child ``SeedSequence(seed).spawn`` would give at those indices of a
two-level spawn — split in three: topology (passed to the factory), task, training. A trial's
outcome therefore depends only on ``(seed, P, r)``: not on the order trials run in, on the
other loads, or on which worker runs it.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from memsim.circuit.network import Network
from memsim.errors import ParameterError
from memsim.learn import (
    AbstractConfig,
    CircuitConfig,
    random_task,
    train,
    train_abstract,
    wilson_interval,
)

__all__ = [
    "CapacityResult",
    "Factory",
    "capacity_curve",
    "trial_outcomes",
    "trial_seed",
    "trial_threads",
    "wilson_interval",
]

log = logging.getLogger(__name__)

Factory = Callable[[np.random.SeedSequence], Network] | Network | str
"""A topology: a function from a ``SeedSequence`` to a Network, one fixed Network, or
``"abstract"`` for the Chialvo-Bak model (then layer sizes are given separately)."""

MAX_P_BINARY = 64
"""Largest default load for binary (non one-hot) patterns."""


def _root(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool) and seed >= 0:
        return np.random.SeedSequence(int(seed))
    raise ParameterError("seed", f"give a non-negative int or a SeedSequence, got {seed!r}")


def trial_seed(seed: int | np.random.SeedSequence, P: int, r: int) -> np.random.SeedSequence:
    """The ``SeedSequence`` of trial ``r`` at load ``P`` (see the module docstring).

    Raises
    ------
    ParameterError
        If ``seed`` is not a non-negative int or a SeedSequence.

    Examples
    --------
    >>> import numpy as np
    >>> a = trial_seed(7, 3, 5)
    >>> b = np.random.SeedSequence(7).spawn(4)[3].spawn(6)[5]
    >>> bool((a.generate_state(4) == b.generate_state(4)).all())
    True
    """
    root = _root(seed)
    return np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, int(P), int(r)),
                                  pool_size=root.pool_size)


def _terminal_counts(factory: Factory, sizes: Sequence[int] | None,
                     seed: np.random.SeedSequence) -> tuple[int, int]:
    if isinstance(factory, str):
        if factory != "abstract":
            raise ParameterError("factory", f"a string factory must be 'abstract', got "
                                 f"{factory!r}")
        if sizes is None or len(sizes) < 3:
            raise ParameterError("sizes", "the abstract model needs layer sizes "
                                 "(inputs, hidden..., outputs)")
        return int(sizes[0]), int(sizes[-1])
    net = _network(factory, seed)
    return len(net.inputs), len(net.outputs)


def _network(factory: Factory, seed: np.random.SeedSequence) -> Network:
    if isinstance(factory, Network):
        return factory
    if not callable(factory):
        raise ParameterError("factory", "give a function seed -> Network, a Network or "
                             f"'abstract', got {factory!r}")
    net = factory(seed)
    if not isinstance(net, Network):
        raise ParameterError("factory", f"the factory returned {type(net).__name__}, "
                             "not a Network")
    return net


def _check_learning(factory: Factory, learning: Any) -> Any:
    abstract = isinstance(factory, str)
    if learning is None:
        return AbstractConfig() if abstract else CircuitConfig()
    want = AbstractConfig if abstract else CircuitConfig
    if not isinstance(learning, want):
        raise ParameterError("learning", f"expected a {want.__name__} for this factory, got "
                             f"{type(learning).__name__}")
    return learning


def trial_outcomes(
    factory: Factory,
    sizes: Sequence[int] | None,
    P: int,
    repetitions: int,
    *,
    learning: CircuitConfig | AbstractConfig | None = None,
    seed: int | np.random.SeedSequence,
    max_steps: int | None = None,
    one_hot: bool = True,
    start: int = 0,
    on_trial: Callable[[int, int, Any], None] | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Outcomes (learned or not) of ``repetitions`` independent trials at load ``P``.

    Parameters
    ----------
    factory : callable, Network or "abstract"
        ``factory(seed_sequence) -> Network``; a fixed Network; or ``"abstract"``.
    sizes : sequence of int or None
        Layer widths of the abstract model (ignored for circuits).
    P : int
        Number of patterns.
    repetitions : int
        Number of trials.
    learning : CircuitConfig or AbstractConfig, optional
        Training protocol (default: the defaults of the matching config).
    seed : int or SeedSequence
        Root seed; trial ``r`` uses :func:`trial_seed` ``(seed, P, start + r)``.
    max_steps : int, optional
        Step budget per task (default: the config's).
    one_hot : bool
        One-hot patterns (``P <= n_inputs``) or binary vectors.
    start : int
        Index of the first trial (to split a load's trials over workers).
    on_trial : callable, optional
        Called as ``on_trial(P, r, result)`` with each trial's
        :class:`~memsim.learn.TrainResult`: what a caller needs beyond the outcome (energy,
        device count) without training again. Called in trial order, from the calling
        thread.
    threads : int, optional
        Threads the trials run on (default :func:`trial_threads`: ``MEMSIM_THREADS`` or 1).
        The outcomes do not depend on it; more threads than idle cores only add contention
        (Dask workers already fill the cores).

    Returns
    -------
    ndarray of bool, (repetitions,)

    Raises
    ------
    ParameterError
        Bad factory, sizes, load, counts, config or seed.

    Examples
    --------
    With a budget of one pass nothing can be learned from mistakes: a trial succeeds only if
    the initial network already maps every pattern right, which for uniformly random targets
    has probability ``n_out ** -P`` whatever the network.

    >>> import memsim
    >>> net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    >>> out = trial_outcomes(net, None, 2, 8, seed=1)
    >>> out.dtype, out.shape
    (dtype('bool'), (8,))
    """
    if isinstance(P, bool) or not isinstance(P, int | np.integer) or P < 1:
        raise ParameterError("P", f"the number of patterns must be an integer >= 1, got {P!r}")
    if isinstance(repetitions, bool) or not isinstance(repetitions, int | np.integer) \
            or repetitions < 0:
        raise ParameterError("repetitions", f"must be an integer >= 0, got {repetitions!r}")
    cfg = _check_learning(factory, learning)
    root = _root(seed)
    n_threads = trial_threads(threads)
    abstract = isinstance(factory, str)
    if abstract:  # the abstract model's terminal counts (its sizes), checked once
        n_in, n_out = _terminal_counts(factory, sizes, trial_seed(root, P, start).spawn(3)[0])

    def run(k: int) -> Any:
        topo, task_seed, train_seed = trial_seed(root, P, start + k).spawn(3)
        if abstract:
            task = random_task(n_in, n_out, int(P), seed=task_seed, one_hot=one_hot)
            return train_abstract(list(sizes), task, cfg,  # type: ignore[arg-type]
                                  seed=train_seed, max_steps=max_steps)
        net = _network(factory, topo)
        task = random_task(len(net.inputs), len(net.outputs), int(P), seed=task_seed,
                           one_hot=one_hot)
        return train(net, task, cfg, seed=train_seed, max_steps=max_steps)

    def record(results: Any) -> np.ndarray:
        out = np.zeros(int(repetitions), bool)
        for k, res in enumerate(results):
            out[k] = res.learned
            if on_trial is not None:
                on_trial(int(P), start + k, res)
        return out

    if n_threads == 1 or repetitions <= 1:
        return record(map(run, range(int(repetitions))))
    # The training kernels release the GIL; a trial's result depends only on its seed, and
    # they are handed on in trial order, so nothing depends on the thread count.
    with ThreadPoolExecutor(n_threads, thread_name_prefix="memsim-trial") as pool:
        futures = [pool.submit(run, k) for k in range(int(repetitions))]
        try:
            return record(f.result() for f in futures)
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise


def trial_threads(threads: int | None) -> int:
    """The number of threads trials run on: ``threads``, or ``MEMSIM_THREADS`` (default 1)
    when None.

    Raises
    ------
    ParameterError
        If the count (or the environment variable) is not an integer >= 1.
    """
    if threads is None:
        raw = os.environ.get("MEMSIM_THREADS", "").strip() or "1"
        try:
            threads = int(raw)
        except ValueError:
            raise ParameterError("MEMSIM_THREADS", f"must be an integer >= 1, got {raw!r}") \
                from None
    if isinstance(threads, bool) or not isinstance(threads, int | np.integer) or threads < 1:
        raise ParameterError("threads", f"must be an integer >= 1, got {threads!r}")
    return int(threads)


@dataclass(frozen=True)
class CapacityResult:
    """A success curve and the capacity estimate (see the module docstring).

    Attributes
    ----------
    P : (K,) int, loads tried (in order)
    successes, trials : (K,) int
    S : (K,) float, success fraction
    low, high : (K,) float, Wilson interval of ``S``
    capacity : int, largest P with S >= 0.5 (0 if none)
    capacity_interval : (int, int)
    stopped_early : bool, the sweep stopped because S had collapsed
    wall_time : float, seconds
    label : str
    outcomes : dict P -> (trials,) bool array
    """

    P: np.ndarray
    successes: np.ndarray
    trials: np.ndarray
    S: np.ndarray
    low: np.ndarray
    high: np.ndarray
    capacity: int
    capacity_interval: tuple[int, int]
    stopped_early: bool
    wall_time: float
    label: str = ""
    z: float = 1.96
    outcomes: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def from_outcomes(cls, outcomes: dict[int, np.ndarray], *, z: float = 1.96,
                      label: str = "", wall_time: float = 0.0,
                      stopped_early: bool = False) -> CapacityResult:
        """Build a result from per-load outcome arrays (e.g. gathered from sweep workers).

        Raises
        ------
        ParameterError
            If there are no loads or a load has no trials.

        Examples
        --------
        >>> import numpy as np
        >>> r = CapacityResult.from_outcomes({1: np.ones(10, bool), 2: np.arange(10) < 3})
        >>> r.capacity, r.S.tolist()
        (1, [1.0, 0.3])
        """
        if not outcomes:
            raise ParameterError("outcomes", "need outcomes for at least one load")
        ps = np.array(sorted(int(p) for p in outcomes))
        succ = np.array([int(np.sum(outcomes[p])) for p in ps])
        trials = np.array([int(np.size(outcomes[p])) for p in ps])
        if (trials < 1).any():
            raise ParameterError("outcomes", "every load needs at least one trial")
        bounds = np.array([wilson_interval(int(s), int(n), z) for s, n in zip(succ, trials,
                                                                             strict=True)])
        s = succ / trials
        cap = int(ps[s >= 0.5].max()) if (s >= 0.5).any() else 0
        lo = int(ps[bounds[:, 0] >= 0.5].max()) if (bounds[:, 0] >= 0.5).any() else 0
        hi = int(ps[bounds[:, 1] >= 0.5].max()) if (bounds[:, 1] >= 0.5).any() else 0
        return cls(ps, succ, trials, s, bounds[:, 0], bounds[:, 1], cap, (lo, hi),
                   stopped_early, wall_time, label, z,
                   {int(p): np.asarray(outcomes[p], bool) for p in ps})

    def summary(self) -> str:
        lines = [f"capacity {self.capacity} (interval {self.capacity_interval[0]}.."
                 f"{self.capacity_interval[1]}) {self.label}".rstrip()]
        for p, s, lo, hi, n in zip(self.P, self.S, self.low, self.high, self.trials,
                                   strict=True):
            lines.append(f"  P={p:3d}  S={s:.3f}  [{lo:.3f}, {hi:.3f}]  n={n}")
        if self.stopped_early:
            lines.append("  (stopped early: S collapsed)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from memsim.reprs import html_table

        lo, hi = self.capacity_interval
        rows = [("capacity", f"{self.capacity} (interval {lo}..{hi})"),
                ("Wilson intervals", f"{self.z:g} sigma"),
                ("stopped early", "yes: S collapsed" if self.stopped_early else "no"),
                ("wall time", f"{self.wall_time:.3g} s")]
        records = [(int(p), f"{s:.3f}", f"[{a:.3f}, {b:.3f}]", int(n)) for p, s, a, b, n
                   in zip(self.P, self.S, self.low, self.high, self.trials, strict=True)]
        return html_table(f"capacity {self.label}".strip(), rows,
                          ["P", "S(P)", "interval", "trials"], records)

    def plot(self, ax=None, **kwargs):  # noqa: ANN001, ANN201 - matplotlib types are optional
        """S(P) with Wilson error bars, the 0.5 line and the capacity."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 3.2))
        err = np.vstack([self.S - self.low, self.high - self.S])
        kwargs.setdefault("marker", "o")
        kwargs.setdefault("capsize", 3)
        kwargs.setdefault("label", f"{self.label} (capacity {self.capacity})".strip())
        ax.errorbar(self.P, self.S, yerr=err, **kwargs)
        ax.axhline(0.5, color="gray", ls=":", lw=1)
        ax.set(xlabel="patterns P", ylabel="success S(P)", ylim=(-0.03, 1.03))
        return ax


def capacity_curve(
    factory: Factory,
    *,
    P_values: Sequence[int] | None = None,
    repetitions: int = 200,
    learning: CircuitConfig | AbstractConfig | None = None,
    seed: int | np.random.SeedSequence,
    stop_below: float = 0.5,
    stop_after: int = 2,
    progress: bool = False,
    abstract_sizes: Sequence[int] | None = None,
    max_steps: int | None = None,
    one_hot: bool = True,
    z: float = 1.96,
    label: str | None = None,
    on_trial: Callable[[int, int, Any], None] | None = None,
    threads: int | None = None,
) -> CapacityResult:
    """The success curve S(P) of a topology and its capacity (see the module docstring).

    Parameters
    ----------
    factory : callable, Network or "abstract"
        ``factory(seed_sequence) -> Network`` (a random topology per trial), a fixed Network,
        or ``"abstract"`` (then give ``abstract_sizes``).
    P_values : sequence of int, optional
        Loads to try, increasing (default 1, 2, ... up to the number of distinct patterns:
        ``n_inputs`` for one-hot patterns, ``min(2**n_inputs - 1, 64)`` for binary ones).
    repetitions : int
        Trials per load (``R``).
    learning : CircuitConfig or AbstractConfig, optional
    seed : int or SeedSequence
    stop_below, stop_after : float, int
        Stop once the upper Wilson bound has been below ``stop_below`` for ``stop_after``
        consecutive loads: S has clearly collapsed.
    progress : bool
        Show a tqdm bar over the loads.
    abstract_sizes : sequence of int, optional
        Layer sizes of the abstract model.
    max_steps : int, optional
        Step budget per task.
    one_hot : bool
        One-hot or binary patterns.
    z : float
        Normal quantile of the intervals (1.96: 95 %).
    label : str, optional
    on_trial : callable, optional
        Called as ``on_trial(P, r, result)`` after each trial (see :func:`trial_outcomes`).
    threads : int, optional
        Threads the trials of a load run on (see :func:`trial_outcomes`); the curve does not
        depend on it.

    Returns
    -------
    CapacityResult

    Raises
    ------
    ParameterError
        Bad factory, loads, counts, thresholds or config.

    Examples
    --------
    >>> import memsim
    >>> net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    >>> res = capacity_curve(net, repetitions=20, seed=0)
    >>> res.P.tolist(), res.capacity
    ([1, 2], 2)
    """
    if isinstance(repetitions, bool) or not isinstance(repetitions, int | np.integer) \
            or repetitions < 1:
        raise ParameterError("repetitions", f"must be an integer >= 1, got {repetitions!r}")
    if not 0 < stop_below <= 1 or stop_after < 1:
        raise ParameterError("stop_below", "need 0 < stop_below <= 1 and stop_after >= 1")
    if not (math.isfinite(z) and z > 0):
        raise ParameterError("z", f"must be a positive normal quantile, got {z!r}")
    _check_learning(factory, learning)
    n_threads = trial_threads(threads)
    root = _root(seed)
    probe = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, 0),
                                   pool_size=root.pool_size)
    n_in, n_out = _terminal_counts(factory, abstract_sizes, probe)
    if P_values is None:
        p_max = n_in if one_hot else min(2**min(n_in, 62) - 1, MAX_P_BINARY)
        loads = list(range(1, p_max + 1))
    else:
        loads = [int(p) for p in P_values]
        if not loads or min(loads) < 1 or any(b <= a for a, b in zip(loads, loads[1:],
                                                                      strict=False)):
            raise ParameterError("P_values", f"need increasing loads >= 1, got {P_values!r}")
    if label is None:
        label = ("abstract " + "x".join(map(str, abstract_sizes or ())) if isinstance(
            factory, str) else factory.name if isinstance(factory, Network) else
            getattr(factory, "__name__", "factory"))
    iterator: Any = loads
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(loads, desc=f"capacity {label}", unit="P")
    started = time.perf_counter()
    outcomes: dict[int, np.ndarray] = {}
    collapsed = 0
    stopped = False
    for k, p in enumerate(iterator):
        out = trial_outcomes(factory, abstract_sizes, p, repetitions, learning=learning,
                             seed=root, max_steps=max_steps, one_hot=one_hot,
                             on_trial=on_trial, threads=n_threads)
        outcomes[p] = out
        _, high = wilson_interval(int(out.sum()), out.size, z)
        log.info("capacity %s: P=%d S=%.3f", label, p, out.mean())
        collapsed = collapsed + 1 if high < stop_below else 0
        if collapsed >= stop_after and k < len(loads) - 1:
            stopped = True
            break
    return CapacityResult.from_outcomes(outcomes, z=z, label=label,
                                        wall_time=time.perf_counter() - started,
                                        stopped_early=stopped)
