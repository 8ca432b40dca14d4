"""What a worker computes for one evaluation of a design.

The unit of work is :func:`evaluate`, a plain function of plain data (the payload pickles
cheaply; a worker needs only memsim installed). Its randomness comes from the evaluation's
master seed alone, so an evaluation gives the same numbers on any worker, in any order.

Objectives (:data:`memsim.search.capacity.OBJECTIVES`):

* ``mean_capacity`` — :func:`memsim.analyze.capacity.capacity_curve` of the design with ``R``
  trials per load (random one-hot tasks, trial seeds ``trial_seed(master, P, r)`` exactly as a
  sweep's), and the area under its S(P) (:func:`memsim.analyze.study.mean_capacity`; loads
  after the curve's early stop count 0);
* ``devices`` — the mean number of memristors of the networks the trials drew (for the
  abstract model, its synapses);
* ``energy_per_pattern`` — the energy of every training run of the curve, summed, over the
  patterns learned (``P`` for each successful trial at load ``P``; at least one, so a design
  that learns nothing gets its whole energy, not an infinity);
* ``era1`` — the fraction of ``R`` runs on the alternating task (:func:`memsim.learn.
  alternating_task`; trial ``r`` seeded as the capacity trial ``(master, inputs, r)``) that
  learn its first era;
* ``power_falls`` — the fraction of those runs whose read power at the end of era 1 is below
  their first read (the seed paper's observation that power falls during training).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from memsim.search.design import learning_config, network_factory
from memsim.search.space import SearchSpec
from memsim.sweep.spec import canonical_json

__all__ = ["evaluate", "payload"]


def payload(spec: SearchSpec, point: Mapping[str, Any], master: int,
            repetitions: int | None = None) -> dict[str, Any]:
    """The evaluation payload of ``point`` under the settings of ``spec`` (loads, objectives)
    with seed ``master`` and ``repetitions`` trials (default: the spec's)."""
    st = spec.settings
    settings = {"point": dict(point), "master": int(master),
                "repetitions": int(st.repetitions if repetitions is None else repetitions),
                "loads": list(st.loads), "inputs": st.inputs,
                "objectives": list(spec.objectives)}
    key = hashlib.sha256(canonical_json(settings).encode()).hexdigest()[:32]
    return {"key": key, **settings}


def _capacity(point: Mapping[str, Any], payload: Mapping[str, Any], config: Any
              ) -> dict[str, Any]:
    from memsim.analyze.capacity import capacity_curve
    from memsim.analyze.study import mean_capacity

    energy = 0.0
    learned = 0
    devices: list[int] = []

    def on_trial(P: int, r: int, result: Any) -> None:
        nonlocal energy, learned
        if point["model"] == "circuit":
            energy += float(np.sum(result.records.energy))
            devices.append(int(result.net.n_memristors))
        learned += P * int(result.learned)

    abstract = point["model"] == "abstract"
    factory: Any = "abstract" if abstract else network_factory(point)
    curve = capacity_curve(factory, P_values=list(payload["loads"]),
                           repetitions=int(payload["repetitions"]), learning=config,
                           seed=int(payload["master"]), one_hot=bool(point["one_hot"]),
                           abstract_sizes=point["sizes"] if abstract else None,
                           on_trial=on_trial, label=point["label"])
    mc, err = mean_capacity(curve)
    if abstract:
        s = point["sizes"]
        n_dev = float(sum(a * b for a, b in zip(s[:-1], s[1:], strict=False)))
    else:
        n_dev = float(np.mean(devices))
    return {"mean_capacity": mc, "mean_capacity_err": err, "capacity": curve.capacity,
            "devices": n_dev,
            "energy_per_pattern": energy / max(learned, 1) if not abstract else None,
            "stopped_early": curve.stopped_early,
            "outcomes": {str(p): [int(o) for o in out] for p, out in curve.outcomes.items()}}


def _alternating(point: Mapping[str, Any], payload: Mapping[str, Any], config: Any
                 ) -> dict[str, Any]:
    from memsim.analyze.capacity import trial_seed
    from memsim.learn import alternating_task, train

    factory = network_factory(point)
    master, n_in = int(payload["master"]), int(payload["inputs"])
    era1, falls, ratios, devices = [], [], [], []
    for r in range(int(payload["repetitions"])):
        topo, _, train_seed = trial_seed(master, n_in, r).spawn(3)
        net = factory(topo)
        task = alternating_task(1, n_inputs=n_in, n_outputs=len(net.outputs))
        res = train(net, task, config, seed=train_seed)
        power = np.asarray(res.records.power)
        end = res.eras[0].n_steps - 1
        ratio = float(power[end] / power[0]) if power.size and power[0] > 0 else 1.0
        era1.append(int(res.eras[0].learned))
        falls.append(int(ratio < 1.0))
        ratios.append(ratio)
        devices.append(net.n_memristors)
    return {"era1": float(np.mean(era1)), "power_falls": float(np.mean(falls)),
            "power_ratio_median": float(np.median(ratios)), "devices": float(np.mean(devices)),
            "era1_outcomes": era1, "power_outcomes": falls}


def evaluate(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Evaluate one design; return its objectives and metrics as plain data.

    Parameters
    ----------
    payload : mapping
        ``key``; ``point`` (a design point, :func:`memsim.search.design.design_point`);
        ``master`` (the evaluation's seed); ``repetitions`` (R); ``loads`` (the P values);
        ``inputs``; ``objectives`` (names, the first one decides what is run).

    Returns
    -------
    dict
        ``key``; ``objectives`` (values in the order asked, in natural units: the search
        turns minimized ones around); ``metrics`` (everything measured, including the
        per-load ``outcomes`` of a capacity evaluation and the resolved ``learning`` config);
        ``wall_time``, ``cpu_time`` (s); ``worker``; ``memsim_version``.

    Raises
    ------
    ParameterError, NetworkError
        If the design cannot be built or calibrated (such an evaluation is stored as failed).

    Examples
    --------
    >>> point = {"label": "abstract", "model": "abstract", "topology": "layered",
    ...          "sizes": [2, 4, 2], "learning": {}, "one_hot": True}
    >>> out = evaluate({"key": "k", "point": point, "master": 3, "repetitions": 4,
    ...                 "loads": [1, 2], "inputs": 2, "objectives": ["mean_capacity"]})
    >>> out["objectives"] == [out["metrics"]["mean_capacity"]], out["metrics"]["devices"]
    (True, 16.0)
    """
    import dataclasses

    import memsim
    from memsim.sweep.work import worker_name

    start, cpu = time.perf_counter(), time.process_time()
    point = payload["point"]
    config = learning_config(point, int(payload["master"]))
    if payload["objectives"][0] == "era1":
        metrics = _alternating(point, payload, config)
    else:
        metrics = _capacity(point, payload, config)
    metrics["learning"] = {k: v if isinstance(v, bool | str | int | float) or v is None
                           else str(v) for k, v in dataclasses.asdict(config).items()}
    return {
        "key": payload["key"],
        "objectives": [metrics[name] for name in payload["objectives"]],
        "metrics": metrics,
        "wall_time": time.perf_counter() - start,
        "cpu_time": time.process_time() - cpu,
        "worker": worker_name(),
        "memsim_version": memsim.__version__,
    }
