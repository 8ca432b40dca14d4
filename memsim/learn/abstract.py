"""The abstract Chialvo-Bak model: learning from mistakes on weights only.

Chialvo & Bak, Neuroscience 90, 1137 (1999); Bak & Chialvo, PRE 63, 031912 (2001). A layered
network (inputs, hidden layers, outputs) carries a weight in [0, 1] on every connection.

* *Extremal dynamics*: the active inputs fire the hidden unit with the largest summed weight
  from them; each firing unit fires the unit of the next layer it has the largest weight to.
* *Negative feedback*: a wrong output depresses every active synapse by ``delta`` (weights stay
  >= 0); a right one changes nothing.
* *Selective punishment*: synapses that were ever active in a right answer are depressed by
  ``delta * selective`` only, which lets the network recall old mappings quickly.

This is the reference the circuit version is compared with: inhibition plays the role of the
depression, the current concentrating in low-resistance paths that of extremal dynamics.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np

from memsim.errors import ParameterError
from memsim.learn._seed import Seed, seed_sequence
from memsim.learn.config import AbstractConfig
from memsim.learn.extremal import train_extremal
from memsim.learn.result import EraResult, Records, TrainResult
from memsim.learn.tasks import Task

__all__ = ["initial_weights", "train_abstract"]

log = logging.getLogger(__name__)


def _sizes(sizes: Sequence[int], task: Task) -> np.ndarray:
    s = np.asarray([int(v) for v in sizes], dtype=np.int64)
    if s.ndim != 1 or s.size < 3 or (s < 1).any():
        raise ParameterError("sizes", f"need >= 3 layer widths >= 1 (inputs, hidden..., "
                             f"outputs), got {list(sizes)}")
    if s[0] != task.n_inputs or s[-1] != task.n_outputs:
        raise ParameterError("sizes", f"layers {s.tolist()} do not match the task's "
                             f"{task.n_inputs} inputs and {task.n_outputs} outputs")
    return s


def initial_weights(sizes: Sequence[int], rng: np.random.Generator) -> list[np.ndarray]:
    """Independent uniform weights in [0, 1), one (sizes[l], sizes[l+1]) matrix per layer.

    >>> [w.shape for w in initial_weights([2, 4, 2], np.random.default_rng(0))]
    [(2, 4), (4, 2)]
    """
    return [rng.random((int(a), int(b))) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]


def train_abstract(
    sizes: Sequence[int],
    task: Task,
    config: AbstractConfig | None = None,
    *,
    seed: Seed,
    max_steps: int | None = None,
) -> TrainResult:
    """Train the Chialvo-Bak model with layer widths ``sizes`` on ``task``.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths: inputs, one or more hidden layers, outputs (e.g. ``[2, 4, 2]``).
    task : Task
    config : AbstractConfig, optional
    seed : int, SeedSequence or Generator
        First child of the ``SeedSequence`` draws the initial weights, the second the pattern
        order and tie breaks.
    max_steps : int, optional
        Step budget per era (default ``config.max_steps``).

    Returns
    -------
    TrainResult
        ``pruned``, ``final_state``, energies and currents are None; ``weights`` holds the final
        weight matrices.

    Raises
    ------
    ParameterError
        If ``sizes`` does not match the task, or a bad config, seed or budget.

    Examples
    --------
    >>> from memsim.learn import alternating_task, train_abstract
    >>> r = train_abstract([2, 4, 2], alternating_task(3), seed=0)
    >>> r.learned, [w.shape for w in r.weights]
    (True, [(2, 4), (4, 2)])
    """
    config = AbstractConfig() if config is None else config
    if not isinstance(config, AbstractConfig):
        raise ParameterError("config", f"expected an AbstractConfig, got {type(config).__name__}")
    if not isinstance(task, Task):
        raise ParameterError("task", f"expected a memsim.learn.Task, got {type(task).__name__}")
    s = _sizes(sizes, task)
    budget = config.max_steps if max_steps is None else max_steps
    if isinstance(budget, bool) or not isinstance(budget, int | np.integer) or budget < 1:
        raise ParameterError("max_steps", f"must be an integer >= 1, got {max_steps!r}")
    w_seed, dyn_seed = seed_sequence(seed).spawn(2)
    mats = initial_weights(s.tolist(), np.random.default_rng(w_seed))
    offsets = np.cumsum([0] + [m.size for m in mats])[:-1].astype(np.int64)
    w0 = np.concatenate([m.ravel() for m in mats])
    rng = np.random.default_rng(dyn_seed)
    start = time.perf_counter()
    (pattern, winner, correct, era, era_info, w, _tags, n_correct) = train_extremal(
        w0, offsets, s, np.array(task.patterns), task.era_targets, float(config.delta),
        float(config.selective), bool(config.shuffle), int(budget), rng)
    wall = time.perf_counter() - start
    weights = tuple(w[o:o + m.size].reshape(m.shape) for o, m in zip(offsets, mats, strict=True))
    eras = []
    begin = 0
    for k in range(task.n_eras):
        learned_k, stl, n_k, mis = (int(v) for v in era_info[k])
        eras.append(EraResult(k, bool(learned_k), stl if learned_k else None, n_k, mis, begin,
                              float("nan")))
        begin += n_k
    learned = all(e.learned for e in eras)
    n_steps = int(len(pattern))
    log.debug("abstract %s on %s: learned=%s in %d steps", s.tolist(), task.name, learned,
              n_steps)
    return TrainResult(
        learned=learned,
        steps_to_learn=n_steps if learned else None,
        final_accuracy=float(n_correct) / task.n_patterns,
        n_steps=n_steps,
        pruned=None,
        eras=tuple(eras),
        records=Records(pattern, winner, correct, era),
        task=task,
        config=config,
        seed=seed,
        weights=weights,
        wall_time=wall,
    )
