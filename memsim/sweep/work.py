"""What a worker runs: one task of a sweep (a grid point, a P, a block of repetitions).

The task arrives as plain data (:meth:`memsim.sweep.spec.SweepTask.payload`), so it pickles
cheaply and a worker needs nothing but memsim installed. The unit of work is
:func:`memsim.analyze.capacity.trial_outcomes`: trials ``r = rep_start .. rep_start + n_reps - 1``
(random task + device draw + training) at one P, trial ``r`` seeded by
``trial_seed(master_seed, P, r)``, so its outcome depends on nothing else: not on the block
size, the order, or the worker. The same (P, r) gets the same seeds at every grid point
(common random numbers), and a sweep's S(P) equals what
:func:`memsim.analyze.capacity.capacity_curve` gives for the same seed and loads.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = ["network_factory", "run_task", "spread_once", "worker_name"]


def network_factory(point: Mapping[str, Any]) -> Callable[[np.random.SeedSequence], Any]:
    """The function seed -> Network of a circuit grid point.

    The seed (the trial's topology seed) has two children: the first draws the topology
    (pruning of a layered net, the random graph), the second the device-to-device spread of
    ``Network.with_spread``.

    Examples
    --------
    >>> point = {"topology": "layered", "sizes": [2, 4, 2], "connectivity": 1.0,
    ...          "device": "pershin2011", "device_params": {}, "spread": 0.1}
    >>> net = network_factory(point)(np.random.SeedSequence(0))
    >>> net.n_edges
    16
    """
    import memsim
    from memsim.devices import preset

    device = preset(point["device"]).replace(**point["device_params"])
    topology = point["topology"]
    spread = float(point["spread"])

    def factory(seed: np.random.SeedSequence) -> Any:
        topo_seed, spread_seed = seed.spawn(2)
        rng = np.random.default_rng(topo_seed)
        if topology == "layered":
            net = memsim.layered(point["sizes"], device=device,
                                 connectivity=point["connectivity"], seed=rng)
        elif topology == "random":
            net = memsim.random_network(point["n_nodes"], edge_prob=point["edge_prob"],
                                        n_inputs=point["n_inputs"],
                                        n_outputs=point["n_outputs"], device=device, seed=rng)
        else:
            net = memsim.crossbar(point["rows"], point["cols"], device=device,
                                  r_line=point["r_line"])
        if spread > 0:
            net = net.with_spread(spread, seed=np.random.default_rng(spread_seed))
        return net

    return factory


def spread_once(learning: Mapping[str, Any], spread: float) -> dict[str, Any]:
    """The ``learning`` table of a circuit point whose networks carry the device-to-device
    spread ``spread`` (:meth:`memsim.Network.with_spread`): with ``spread > 0`` that is the
    one spread of a trial, so training draws none of its own (``d2d_spread = 0``); with
    ``spread = 0`` the per-run draw of ``d2d_spread`` is the spread.

    >>> spread_once({"d2d_spread": 0.1}, 0.2), spread_once({"d2d_spread": 0.1}, 0.0)
    ({'d2d_spread': 0.0}, {'d2d_spread': 0.1})
    """
    out = dict(learning)
    if spread > 0:
        out["d2d_spread"] = 0.0
    return out


def worker_name() -> str:
    """The Dask worker's address, or ``local:HOST:PID`` outside a worker.

    >>> worker_name().startswith("local:")
    True
    """
    distributed = sys.modules.get("distributed")
    if distributed is not None:
        try:
            return str(distributed.get_worker().address)
        except ValueError:
            pass
    return f"local:{socket.gethostname()}:{os.getpid()}"


def _learning(point: Mapping[str, Any]) -> Any:
    from memsim.learn import AbstractConfig, CircuitConfig

    cls = CircuitConfig if point["model"] == "circuit" else AbstractConfig
    return cls(**point["learning"])


def run_task(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Run one sweep task and return its metrics as plain data.

    Parameters
    ----------
    payload : mapping
        ``key``, ``point`` (canonical grid-point parameters), ``P``, ``rep_start``,
        ``n_reps``, ``seed`` (master seed), as made by :meth:`SweepTask.payload`.

    Returns
    -------
    dict
        ``key``, ``successes``, ``trials``, ``outcomes`` (one 0/1 per repetition),
        ``wall_time`` and ``cpu_time`` (s, of this process: a task whose CPU time falls well
        short of its wall time shared its core), ``worker``, ``memsim_version``.

    Examples
    --------
    >>> from memsim.sweep import parse_sweep
    >>> spec = parse_sweep('''
    ... [sweep]
    ... name = "t"
    ... seed = 1
    ... repetitions = 3
    ... [[grid]]
    ... model = "abstract"
    ... sizes = [2, 4, 2]
    ... P = [2]
    ... ''')
    >>> out = run_task(spec.tasks()[0].payload())
    >>> out["trials"], len(out["outcomes"])
    (3, 3)
    """
    import memsim
    from memsim.analyze.capacity import trial_outcomes

    point = payload["point"]
    start, cpu = time.perf_counter(), time.process_time()
    factory: Any = "abstract" if point["model"] == "abstract" else network_factory(point)
    sizes = point["sizes"] if point["model"] == "abstract" else None
    outcomes = np.asarray(trial_outcomes(
        factory, sizes, int(payload["P"]), int(payload["n_reps"]), learning=_learning(point),
        seed=int(payload["seed"]), one_hot=bool(point["one_hot"]),
        start=int(payload["rep_start"])), dtype=bool)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "key": payload["key"],
        "successes": int(outcomes.sum()),
        "trials": int(outcomes.size),
        "outcomes": [int(v) for v in outcomes],
        "wall_time": wall,
        "cpu_time": cpu,
        "worker": worker_name(),
        "memsim_version": memsim.__version__,
    }
