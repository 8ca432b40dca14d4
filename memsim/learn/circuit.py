"""Learning from mistakes on a memristor circuit (Barrows, Lin, Caravelli & Chialvo 2025).

Training touches only terminals, never individual devices:

1. *read*: the pattern's active inputs at ``v_read`` (inactive inputs floating or grounded),
   every output at 0 V through its ammeter; the winner is the output with the largest current;
2. correct: nothing changes;
3. mistake: *inhibition* (every output except the wrong winner disconnected, ``v_inhibit < 0``
   on the active inputs for ``t_inhibit``), then *normalization* (``v_normalize > 0`` on all
   inputs, all outputs grounded, for ``t_normalize``);
4. *pruning*: devices left at (near) R_off after a write pulse are removed for good.

A task's eras run one after the other on the same devices; an era ends when a full pass over
all patterns is answered without a mistake, or when its step budget is spent. With
``CircuitConfig.stop_when_dead`` (default) the run ends early once pruning has made every
remaining era impossible to learn (some pattern's target output cut off from its active
inputs); the outcomes are those of the full budget (see ``EraResult.stopped``).
"""

from __future__ import annotations

import functools
import logging
import time
import weakref
from typing import NamedTuple

import numpy as np

from memsim.circuit.network import Network, Role
from memsim.devices.models import Model
from memsim.devices.nonideal import NOT_STUCK
from memsim.errors import NetworkError, ParameterError, SolverError
from memsim.learn import kernels as K
from memsim.learn._seed import Seed, seed_sequence
from memsim.learn.config import CircuitConfig
from memsim.learn.protocol import check_switching
from memsim.learn.result import EraResult, Records, TrainResult
from memsim.learn.tasks import Task

__all__ = ["DeviceSample", "device_draw", "device_sample", "kernel_arrays", "train"]

log = logging.getLogger(__name__)

@functools.cache
def _default_config() -> CircuitConfig:
    """The default protocol, built once (a CircuitConfig is frozen)."""
    return CircuitConfig()


_STOPPED = {K.Stop.NONE: None, K.Stop.DEAD_INPUT: "dead_input", K.Stop.NO_PATH: "no_path"}


class DeviceSample(NamedTuple):
    """The devices of one training run (:func:`device_sample`)."""

    model: np.ndarray  # (E,) Model codes; stuck devices are plain resistors
    params: np.ndarray  # (E, N_PARAMS) with the device-to-device spread
    x0: np.ndarray  # (E,) initial states (on the levels, if any)
    stuck: np.ndarray  # (E,) stuck codes: 0 none, 1 ON, 2 OFF


# tags of the child streams of the device seed that the faults and the levels draw from
# (derived, not spawned: spawning is stateful, and a seed must give the same sample twice)
_STUCK_STREAM, _LEVELS_STREAM = 0x57C, 0x1E7


def _child(seed: np.random.SeedSequence, tag: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(
        seed.entropy, spawn_key=(*seed.spawn_key, tag), pool_size=seed.pool_size))


def device_sample(net: Network, config: CircuitConfig,
                  seed: np.random.SeedSequence) -> DeviceSample:
    """The per-run device sample: the device-level nonidealities of ``config``
    (:attr:`CircuitConfig.nonidealities`) drawn on the devices of ``net``.

    * spread (:class:`~memsim.devices.nonideal.DeviceSpread`): R_on and R_off of every
      memristor times one lognormal factor ``exp(d2d_spread * N(0, 1))`` (the ratio
      R_off/R_on is kept; :func:`memsim.devices.spread.spread_devices`, the draw of
      :meth:`memsim.Network.with_spread`), then ``x0_spread * N(0, 1)`` added to the initial
      states, clipped to [0, 1]; from ``default_rng(seed)``;
    * stuck faults (:class:`~memsim.devices.nonideal.StuckFaults`): one uniform per memristor
      from a child stream of ``seed``; a stuck device becomes a plain resistor at its own
      (spread) R_on or R_off, with state 0;
    * levels (:class:`~memsim.devices.nonideal.Levels`): the initial states put on the levels
      (stochastic rounding from another child stream).

    The faults and levels draw from their own streams, so switching them on does not change
    the spread of the same seed. Plain resistors keep their values.

    Examples
    --------
    >>> import memsim, numpy as np
    >>> net = memsim.layered([2, 4, 2], device=memsim.devices.preset("pershin2011"))
    >>> s = device_sample(net, CircuitConfig(stuck_on=0.5), np.random.SeedSequence(0))
    >>> resistors = s.model == memsim.devices.Model.RESISTOR
    >>> s.params.shape, int((s.stuck == 1).sum()), int(resistors.sum())
    ((16, 10), 5, 5)
    """
    nonideal = config.nonidealities
    _, net_model, _, _, _, mem = kernel_arrays(net)
    params, x0 = nonideal.spread.draw(net.params, net.x0, mem, np.random.default_rng(seed))
    codes = np.zeros(net.n_edges, np.int64)
    model = net_model.copy()
    if config.stuck_on or config.stuck_off:
        codes[mem] = nonideal.stuck.draw(mem.size, _child(seed, _STUCK_STREAM))
        model, params = nonideal.stuck.apply(model, params, codes)
        x0 = np.where(codes != NOT_STUCK, 0.0, x0)
    if config.levels:
        keep = mem[codes[mem] == NOT_STUCK]
        x0 = nonideal.levels.quantize(x0, params, keep, _child(seed, _LEVELS_STREAM))
    return DeviceSample(model, params, x0, codes)


def device_draw(net: Network, config: CircuitConfig,
                seed: np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray]:
    """The parameters and initial states of :func:`device_sample` (without the device
    models, which change only with stuck faults).

    Examples
    --------
    >>> import memsim, numpy as np
    >>> net = memsim.layered([2, 4, 2], device=memsim.devices.preset("pershin2011"))
    >>> p, x = device_draw(net, CircuitConfig(), np.random.SeedSequence(0))
    >>> p.shape, bool(((x >= 0) & (x <= 1)).all())
    ((16, 10), True)
    """
    sample = device_sample(net, config, seed)
    return sample.params, sample.x0


_PREPARED: weakref.WeakKeyDictionary[Network, tuple[np.ndarray, ...]] = \
    weakref.WeakKeyDictionary()


def kernel_arrays(net: Network) -> tuple[np.ndarray, ...]:
    """The arrays :func:`memsim.learn.kernels.train_circuit` reads, prepared once per network:
    ``edges, model, ground_nodes, inputs, outputs`` as writable copies (numba compiles
    read-only arrays separately, so every caller passes the same kind; the kernel never
    writes them) and ``memristors``, the indices of the memristive edges."""
    cached = _PREPARED.get(net)
    if cached is None:
        ground = np.flatnonzero(net.roles == int(Role.GROUND)).astype(np.int64)
        cached = (net.edges.copy(), net.model.copy(), ground, net.inputs.copy(),
                  net.outputs.copy(), np.flatnonzero(net.memristive))
        _PREPARED[net] = cached
    return cached


def _check(net: Network, task: Task) -> None:
    if not isinstance(task, Task):
        raise ParameterError("task", f"expected a memsim.learn.Task, got {type(task).__name__}")
    if task.n_inputs != len(net.inputs):
        raise NetworkError(
            f"task {task.name!r} has patterns over {task.n_inputs} inputs but network "
            f"{net.name!r} has {len(net.inputs)} input terminals"
        )
    if task.n_outputs != len(net.outputs):
        raise NetworkError(
            f"task {task.name!r} maps to {task.n_outputs} outputs but network {net.name!r} "
            f"has {len(net.outputs)} output terminals"
        )


def _train_by_era(net: Network, task: Task, proto: K.Protocol, opts: K.RunOptions,
                  model0: np.ndarray, params: np.ndarray, x0: np.ndarray,
                  rng: np.random.Generator) -> tuple:
    """The kernel era by era (for the progress bar); the later eras are the lookahead of
    the early stop, so the outcome is that of one call."""
    from tqdm.auto import tqdm

    edges, _, ground, inputs, outputs, _ = kernel_arrays(net)
    patterns = np.array(task.patterns, dtype=float)
    parts = []
    state, model = x0, model0
    pruned_at = np.full(net.n_edges, -1, np.int64)
    offset = 0
    for k in tqdm(range(task.n_eras), desc=f"training {net.name}", unit="era"):
        out = K.train_circuit(net.n_nodes, edges, model, params, state, ground, inputs,
                              outputs, patterns, task.era_targets[k:], proto, opts, rng)
        parts.append(out)
        state = out.x
        newly = (out.pruned_at >= 0) & (pruned_at < 0)
        pruned_at[newly] = out.pruned_at[newly] + offset
        model = np.where(pruned_at >= 0, int(Model.OPEN), model0).astype(np.int64)
        offset += len(out.pattern)
    merged = [np.concatenate([p[i] for p in parts]) for i in range(8)]
    era_info = np.vstack([p.era_info for p in parts])
    return (*merged, era_info, state, pruned_at, parts[-1].n_correct)


def train(
    net: Network,
    task: Task,
    config: CircuitConfig | None = None,
    *,
    seed: Seed,
    max_steps: int | None = None,
    record_states: bool = False,
    progress: bool = False,
) -> TrainResult:
    """Train ``net`` on ``task`` by learning from mistakes (inhibition, normalization, pruning).

    Parameters
    ----------
    net : Network
        The circuit; its inputs and outputs are the task's inputs and outputs, in order.
    task : Task
        Patterns and per-era targets (:func:`random_task`, :func:`alternating_task`, ...).
    config : CircuitConfig, optional
        Protocol voltages, durations, noise and pruning (defaults suit ``paper_2x4x2``).
    seed : int, SeedSequence or Generator
        Seeds everything random in the run through one ``SeedSequence``: its first child draws
        the devices (:func:`device_sample`: spread of R_on/R_off and of initial states, stuck
        faults, levels), its second the dynamics (pattern order, cycle-to-cycle noise, read
        noise, stochastic levels and pruning). Same seed, same run, bit for
        bit.
    max_steps : int, optional
        Step budget per era (default ``config.max_steps``).
    record_states : bool
        Keep the device states after every step (``result.records.states``).
    progress : bool
        Show a tqdm progress bar over the eras.

    Returns
    -------
    TrainResult

    Raises
    ------
    ParameterError
        Bad config, seed or budget; or a ``v_inhibit`` or ``v_normalize`` too weak to switch
        any device of ``net`` (:func:`memsim.learn.check_switching`; scale the protocol with
        :func:`memsim.learn.protocol_for`).
    NetworkError
        If the network's terminals do not match the task's.

    Examples
    --------
    >>> import memsim
    >>> from memsim.learn import alternating_task, train
    >>> net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    >>> r = train(net, alternating_task(3), seed=1)
    >>> len(r.eras), r.records.energy.shape[1]
    (3, 3)
    """
    config = _default_config() if config is None else config
    if not isinstance(config, CircuitConfig):
        raise ParameterError("config", f"expected a CircuitConfig, got {type(config).__name__}")
    _check(net, task)
    check_switching(net, config)
    budget = config.max_steps if max_steps is None else max_steps
    if isinstance(budget, bool) or not isinstance(budget, int | np.integer) or budget < 1:
        raise ParameterError("max_steps", f"must be an integer >= 1, got {max_steps!r}")
    ss = seed_sequence(seed)
    dev_seed, dyn_seed = ss.spawn(2)
    sample = device_sample(net, config, dev_seed)
    model0, params, x0 = sample.model, sample.params, sample.x0
    rng = np.random.default_rng(dyn_seed)
    edges, _, ground, inputs, outputs, _ = kernel_arrays(net)
    patterns = np.array(task.patterns, dtype=float)
    eras = task.era_targets
    proto, opts = config.packed(int(budget), record_states)
    start = time.perf_counter()
    try:
        if progress:
            final = _train_by_era(net, task, proto, opts._replace(run_eras=1), model0, params,
                                  x0, rng)
        else:
            final = K.train_circuit(net.n_nodes, edges, model0, params, x0, ground, inputs,
                                    outputs, patterns, eras, proto, opts, rng)
    except ValueError as exc:  # a nodal matrix the kernel could not factor
        raise SolverError(f"training {net.name!r}: {exc}") from exc
    wall = time.perf_counter() - start
    (pattern, winner, correct, era, iout, energy, power, states, era_info, x, pruned_at,
     n_correct) = final
    records = Records(pattern, winner, correct, era, iout, energy, power,
                      states if record_states else None)
    era_results = []
    begin = 0
    for k in range(task.n_eras):
        learned_k, stl, n_k, mis, why = (int(v) for v in era_info[k])
        era_results.append(EraResult(
            index=k, learned=bool(learned_k), steps_to_learn=stl if learned_k else None,
            n_steps=n_k, n_mistakes=mis, start_step=begin,
            energy=float(energy[begin:begin + n_k].sum()), stopped=_STOPPED[K.Stop(why)],
        ))
        begin += n_k
    learned = all(e.learned for e in era_results)
    stopped = next((e.stopped for e in era_results if e.stopped is not None), None)
    n_steps = int(len(pattern))
    result = TrainResult(
        learned=learned,
        steps_to_learn=n_steps if learned else None,
        final_accuracy=float(n_correct) / task.n_patterns,
        n_steps=n_steps,
        pruned=pruned_at >= 0,
        eras=tuple(era_results),
        records=records,
        task=task,
        config=config,
        seed=seed,
        final_state=x,
        initial_state=x0,
        pruned_at=pruned_at,
        params=params,
        model=model0,
        net=net,
        wall_time=wall,
        stopped=stopped,
    )
    log.info("trained %s on %s: learned=%s in %d steps (%.3g s)", net.name, task.name,
             learned, n_steps, wall)
    return result
