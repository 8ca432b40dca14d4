"""Designs: the design values of a search turned into a network factory and a protocol.

A *design point* is plain data, like a sweep's grid point (:mod:`memsim.sweep.spec`): a
plain layered design with the default protocol *is* the sweep grid point of the same
parameters, so sweeps and searches recognize each other's results. Motifs add a ``motif``
table (:mod:`memsim.circuit.motifs`), the calibrated protocol a ``protocol`` table
(:mod:`memsim.learn.calibrate`).

Seeds follow the sweep workers (:func:`memsim.sweep.work.network_factory`): a trial's topology
seed has two children, the first draws the topology, the second the device spread. The
calibrated protocol is calibrated once per evaluation, on the network its *probe* seed draws
(the seed :func:`memsim.analyze.capacity.capacity_curve` draws its first network from, to
count the terminals), so every trial of an evaluation uses the same voltages.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from memsim.search.space import SearchSpec
from memsim.sweep.work import spread_once

__all__ = ["DEFAULTS", "design_point", "learning_config", "network_factory", "probe_seed",
           "reference_points"]

DEFAULTS: dict[str, Any] = {"topology": "layered", "depth": 1, "connectivity": 1.0,
                            "skip": 1.0, "lateral": 0.5, "device": "pershin2011",
                            "spread": 0.0, "protocol": "default"}
"""Values of the design parameters a search file leaves out."""

_CALIBRATION_DEFAULTS = {"drive": 1.25, "normalize": None, "read_margin": 0.5}


def _plain(value: Any) -> Any:
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    return str(value)


def _learning(model: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    from memsim.learn import AbstractConfig, CircuitConfig

    cls = CircuitConfig if model == "circuit" else AbstractConfig
    return {k: _plain(v) for k, v in dataclasses.asdict(cls(**changes)).items()}


def design_point(spec: SearchSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical design point of design ``values`` (from :meth:`SearchSpec.values`).

    Examples
    --------
    >>> from memsim.search.space import parse_search
    >>> spec = parse_search('''
    ... [search]
    ... name = "t"
    ... seed = 1
    ... budget = 4
    ... inputs = 2
    ... outputs = 2
    ... repetitions = 2
    ... [space]
    ... topology = ["layered", "skip"]
    ... hidden = { from = 2, to = 8 }
    ... skip = 0.5
    ... ''')
    >>> p = design_point(spec, spec.values({"topology": "skip", "hidden": 4}))
    >>> p["sizes"], p["motif"]
    ([2, 4, 2], {'kind': 'skip', 'skip': 0.5})
    """
    v = {**DEFAULTS, **values}
    kind = v["topology"]
    learning = {k.split(".", 1)[1]: x for k, x in v.items() if k.startswith("learning.")}
    st = spec.settings
    point: dict[str, Any] = {"label": f"{st.model} {kind}", "model": st.model}
    if kind == "random":
        point.update(topology="random", n_nodes=int(v["nodes"]), edge_prob=float(v["edge_prob"]),
                     n_inputs=st.inputs, n_outputs=st.outputs)
    else:
        sizes = [st.inputs] + [int(v["hidden"])] * int(v["depth"]) + [st.outputs]
        point.update(topology="layered", sizes=sizes)
    if st.model == "abstract":
        point["learning"] = _learning("abstract", learning)
        point["one_hot"] = st.one_hot
        return point
    from memsim.devices import preset

    if kind != "random":
        point["connectivity"] = 1.0 if kind == "bipartite" else float(v["connectivity"])
    if kind in ("skip", "lateral"):
        point["motif"] = {"kind": kind, kind: float(v[kind])}
    elif kind == "bipartite":
        point["motif"] = {"kind": kind, "degree": int(v["degree"])}
    device = preset(v["device"]).replace(**{k.split(".", 1)[1]: float(x) for k, x in v.items()
                                            if k.startswith("device_params.")})
    point.update(device=v["device"], device_params={
        k: _plain(x) for k, x in dataclasses.asdict(device).items()}, spread=float(v["spread"]))
    point["learning"] = spread_once(_learning("circuit", learning), point["spread"])
    point["one_hot"] = st.one_hot
    if v["protocol"] == "calibrated":
        cal = {k: v.get(f"calibration.{k}", d) for k, d in _CALIBRATION_DEFAULTS.items()}
        point["protocol"] = {"kind": "calibrated", **{k: None if x is None else float(x)
                                                      for k, x in cal.items()}}
    return point


def reference_points(spec: SearchSpec) -> dict[str, dict[str, Any]]:
    """The designs a search result is compared with, on ``[inputs, reference_hidden,
    outputs]`` layered nets: the fully connected net with the default protocol (``default``),
    the same net with the calibrated protocol (``calibrated``), and the abstract Chialvo-Bak
    model on the same sizes (``abstract``, its own default config); only ``abstract`` for an
    abstract-model search, and only ``default`` and ``calibrated`` for the alternating-task
    objective. Learning fields the space fixes (other than the protocol voltages) apply to
    the circuit references too: they are the conditions of the experiment.

    Examples
    --------
    >>> from memsim.search.space import parse_search
    >>> spec = parse_search('''
    ... [search]
    ... name = "t"
    ... seed = 1
    ... budget = 4
    ... inputs = 4
    ... outputs = 4
    ... repetitions = 2
    ... [space]
    ... hidden = { from = 2, to = 8 }
    ... ''')
    >>> {k: p["sizes"] for k, p in reference_points(spec).items()}["default"]
    [4, 8, 4]
    """
    base = {"hidden": spec.settings.reference_hidden, "depth": 1, "topology": "layered"}
    out: dict[str, dict[str, Any]] = {}
    if spec.settings.model == "circuit":
        # the conditions the space fixes for every design (a step budget, say) hold for the
        # references too; what it searches takes the defaults
        fixed = {p.name: p.value for p in spec.params if p.kind == "fixed"
                 and p.name.startswith("learning.") and p.name.split(".")[1] not in
                 ("v_read", "v_inhibit", "v_normalize")}
        out["default"] = design_point(spec, {**base, **fixed})
        out["calibrated"] = design_point(spec, {**base, **fixed, "protocol": "calibrated"})
        for p in out.values():
            p["label"] = "reference " + ("default" if "protocol" not in p else "calibrated")
    if spec.objectives[0] == "mean_capacity":
        abstract = dataclasses.replace(
            spec, settings=dataclasses.replace(spec.settings, model="abstract"))
        out["abstract"] = design_point(abstract, base)
        out["abstract"]["label"] = "reference abstract"
    return out


def probe_seed(master: int) -> np.random.SeedSequence:
    """The seed of an evaluation's probe network (what the calibration is computed on)."""
    return np.random.SeedSequence(int(master), spawn_key=(0,))


def network_factory(point: Mapping[str, Any]) -> Callable[[np.random.SeedSequence], Any]:
    """The function seed -> Network of a circuit design point.

    Examples
    --------
    >>> point = {"topology": "layered", "sizes": [2, 4, 2], "connectivity": 1.0,
    ...          "device": "pershin2011", "device_params": {}, "spread": 0.0,
    ...          "motif": {"kind": "skip", "skip": 1.0}}
    >>> network_factory(point)(np.random.SeedSequence(0)).n_edges
    20
    """
    from memsim.sweep.work import network_factory as sweep_factory

    motif = point.get("motif")
    if motif is None:
        return sweep_factory(point)
    from memsim.circuit.motifs import bipartite_layered, lateral_layered, skip_layered
    from memsim.devices import preset

    device = preset(point["device"]).replace(**point["device_params"])
    sizes = list(point["sizes"])
    spread = float(point["spread"])
    kind = motif["kind"]

    def factory(seed: np.random.SeedSequence) -> Any:
        topo_seed, spread_seed = seed.spawn(2)
        rng = np.random.default_rng(topo_seed)
        if kind == "skip":
            net = skip_layered(sizes, device=device, skip=motif["skip"],
                               connectivity=point["connectivity"], seed=rng)
        elif kind == "lateral":
            net = lateral_layered(sizes, device=device, lateral=motif["lateral"],
                                  connectivity=point["connectivity"], seed=rng)
        else:
            net = bipartite_layered(sizes, device=device, degree=motif["degree"], seed=rng)
        if spread > 0:
            net = net.with_spread(spread, seed=np.random.default_rng(spread_seed))
        return net

    return factory


def learning_config(point: Mapping[str, Any], master: int) -> Any:
    """The learning config of a design for the evaluation with seed ``master``: the point's
    config, or for the calibrated protocol that config with the voltages
    :func:`memsim.learn.calibrate.calibrate` chooses on the probe network.

    Raises
    ------
    ParameterError, NetworkError
        If the probe network cannot be calibrated (no threshold devices, no current path).
    """
    from memsim.learn import AbstractConfig, CircuitConfig

    if point["model"] == "abstract":
        return AbstractConfig(**point["learning"])
    config = CircuitConfig(**point["learning"])
    protocol = point.get("protocol")
    if protocol is None:
        return config
    from memsim.learn.calibrate import calibrate

    net = network_factory(point)(probe_seed(master))
    return calibrate(net, drive_over_threshold=protocol["drive"],
                     normalize_over_threshold=protocol["normalize"],
                     read_margin=protocol["read_margin"], base=config).config
