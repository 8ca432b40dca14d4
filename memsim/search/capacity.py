"""The capacity kind: topologies, devices and protocols of learning from mistakes.

The ``[search]`` keys of this kind (beside those of every search, :mod:`memsim.search.space`)::

    [search]
    model = "circuit"         # "circuit" or "abstract" (the Chialvo-Bak model)
    inputs = 8                # one-hot input terminals
    outputs = 8
    repetitions = 40          # R: trials per load in each evaluation
    P = { from = 1, to = "inputs" }   # loads of the success curve (a list, or a range)
    one_hot = true            # one-hot input patterns (false: binary)
    objectives = ["mean_capacity"]    # OBJECTIVES; a second one makes it a Pareto search
    references = true         # also evaluate the fully connected default, calibrated, abstract
    reference_hidden = 16     # hidden width of the references (default inputs + outputs)

    [space]
    topology = ["layered", "skip", "lateral", "bipartite"]   # a list: a categorical choice
    hidden = { from = 8, to = 32 }                # a table: a range (integers stay integers)
    depth = 1                                     # a scalar: fixed
    connectivity = { from = 0.5, to = 1.0 }
    skip = { from = 0.05, to = 1.0 }
    protocol = ["default", "calibrated"]
    [space.learning]                              # fields of CircuitConfig
    t_inhibit = { from = 1e-4, to = 5e-3, log = true }
    [space.calibration]                           # the calibrated protocol's drives
    drive = { from = 0.25, to = 3.0 }

The design parameters (:data:`PARAMETERS` says which topology kinds each applies to):
``topology`` (:data:`TOPOLOGY_KINDS`), ``hidden`` (width of every hidden layer), ``depth``
(hidden layers), ``connectivity``, ``skip``, ``lateral``, ``degree``, ``nodes`` and
``edge_prob`` (random graphs), ``device`` (a preset of :mod:`memsim.devices`), ``spread``
(device-to-device spread of the drawn network), ``protocol`` (``default`` or ``calibrated``,
:mod:`memsim.learn.calibrate`), ``learning.*`` (fields of the learning config),
``device_params.*`` (fields of the device preset), ``calibration.*`` (``drive``,
``normalize``, ``read_margin``). A parameter that applies only to some topology kinds (or only
to the calibrated protocol) is ignored where it does not apply (:meth:`SearchSpec.values`),
and with ``conditions = true`` in ``[search.bo]`` the optimizer is told so too.

Designs are built by :mod:`memsim.search.design` and evaluated by
:func:`memsim.search.objective.evaluate`.

>>> from memsim.search.space import parse_search
>>> spec = parse_search('''
... [search]
... name = "loads"
... seed = 1
... budget = 8
... inputs = 4
... outputs = 4
... repetitions = 10
... P = { from = 2, to = "inputs" }
... [space]
... hidden = { from = 4, to = 16 }
... ''')
>>> spec.kind, spec.settings.loads, spec.settings.reference_hidden
('capacity', (2, 3, 4), 8)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from memsim.errors import ParameterError
from memsim.search import design, objective
from memsim.search.kinds import ObjectiveKind
from memsim.search.space import Domain, Param, SearchSpec, SpecParser, span, values_of

__all__ = ["CAPACITY", "LAYERED_KINDS", "OBJECTIVES", "PARAMETERS", "PRIMARY", "PROTOCOLS",
           "TOPOLOGY_KINDS", "CapacityKind", "CapacitySettings"]

TOPOLOGY_KINDS = ("layered", "skip", "lateral", "bipartite", "random")
"""Topology kinds: :func:`memsim.layered`, the motifs of :mod:`memsim.circuit.motifs`, and
:func:`memsim.random_network`."""
LAYERED_KINDS = ("layered", "skip", "lateral", "bipartite")
OBJECTIVES = {
    "mean_capacity": ("max", "area under S(P) over the loads tried (random tasks)"),
    "era1": ("max", "fraction of runs that learn era 1 of the alternating task"),
    "devices": ("min", "memristors in the drawn networks (mean)"),
    "energy_per_pattern": ("min", "training energy per learned pattern, J"),
    "power_falls": ("max", "fraction of runs whose read power at the end of era 1 is below "
                           "their first read"),
}
"""Objective name -> (direction, meaning)."""
PRIMARY = {"mean_capacity": ("devices", "energy_per_pattern"), "era1": ("devices",
                                                                        "power_falls")}
"""Allowed first objectives and the second objectives each allows."""
PROTOCOLS = ("default", "calibrated")

_KEYS = ("inputs", "model", "one_hot", "outputs", "P", "reference_hidden", "repetitions")
_CALIBRATION = {"drive": (0.0, None), "normalize": (0.0, None), "read_margin": (0.0, 1.0)}
_PROTOCOL_VOLTAGES = ("v_read", "v_inhibit", "v_normalize")

PARAMETERS: dict[str, Domain] = {
    "topology": Domain("choice", kinds=TOPOLOGY_KINDS),
    "hidden": Domain("int", 1, kinds=LAYERED_KINDS),
    "depth": Domain("int", 1, kinds=LAYERED_KINDS),
    "connectivity": Domain("float", 0, 1, low_open=True, kinds=("layered", "skip", "lateral")),
    "skip": Domain("float", 0, 1, kinds=("skip",)),
    "lateral": Domain("float", 0, 1, kinds=("lateral",)),
    "degree": Domain("int", 1, kinds=("bipartite",)),
    "nodes": Domain("int", 2, kinds=("random",)),
    "edge_prob": Domain("float", 0, 1, low_open=True, kinds=("random",)),
    "device": Domain("choice", kinds=TOPOLOGY_KINDS),
    "spread": Domain("float", 0, kinds=TOPOLOGY_KINDS),
    "protocol": Domain("choice", kinds=TOPOLOGY_KINDS),
}
"""The plain design parameters (``learning.*``, ``device_params.*`` and ``calibration.*``
are checked against their config, preset and :func:`memsim.learn.calibrate.calibrate`)."""


@dataclass(frozen=True)
class CapacitySettings:
    """The capacity kind's ``[search]`` settings (see the module docstring)."""

    model: str
    inputs: int
    outputs: int
    repetitions: int
    loads: tuple[int, ...]
    one_hot: bool
    reference_hidden: int


class CapacityKind(ObjectiveKind):
    """Learning from mistakes: capacity and the alternating task (module docstring)."""

    name = "capacity"
    help = "topologies, devices and protocols of learning from mistakes"
    objectives = OBJECTIVES
    primary = PRIMARY
    required = ("inputs", "outputs", "repetitions")
    search_keys = _KEYS
    evaluate = staticmethod(objective.evaluate)

    def parse(self, parser: SpecParser, head: Mapping[str, Any], space: Mapping[str, Any],
              objectives: tuple[str, ...]) -> tuple[CapacitySettings, tuple[Param, ...]]:
        return CapacityParser(parser.source, parser.lines).parse(head, space, objectives)

    def settings_from_dict(self, data: Mapping[str, Any]) -> CapacitySettings:
        fields = {f.name: data[f.name] for f in dataclasses.fields(CapacitySettings)}
        fields["loads"] = tuple(fields["loads"])
        return CapacitySettings(**fields)

    def point(self, spec: SearchSpec, values: Mapping[str, Any]) -> dict[str, Any]:
        return design.design_point(spec, values)

    def payload(self, spec: SearchSpec, point: Mapping[str, Any], master: int
                ) -> dict[str, Any]:
        return objective.payload(spec, point, master)

    def references(self, spec: SearchSpec) -> dict[str, dict[str, Any]]:
        return design.reference_points(spec)

    def describe(self, spec: SearchSpec) -> str:
        s = spec.settings
        return (f"{s.inputs} inputs, {s.outputs} outputs, objective "
                f"{' + '.join(spec.objectives)}, R = {s.repetitions}")


CAPACITY = CapacityKind()
"""The capacity kind (``kind = "capacity"``, the default)."""


class CapacityParser(SpecParser):
    """The capacity kind's ``[search]`` keys and ``[space]`` table."""

    def parse(self, head: Mapping[str, Any], space: Mapping[str, Any],
              objectives: tuple[str, ...]) -> tuple[CapacitySettings, tuple[Param, ...]]:
        inputs = self.integer("search.inputs", head["inputs"], 1)
        outputs = self.integer("search.outputs", head["outputs"], 1)
        reps = self.integer("search.repetitions", head["repetitions"], 1)
        model = self.choice("search.model", head.get("model", "circuit"),
                            ("circuit", "abstract"))
        one_hot = self.boolean("search.one_hot", head.get("one_hot", True))
        ref_hidden = self.integer("search.reference_hidden",
                                  head.get("reference_hidden", inputs + outputs), 1)
        if model == "abstract" and (objectives[0] != "mean_capacity"
                                    or list(objectives[1:]) not in ([], ["devices"])):
            raise self.fail("search.objectives", "the abstract model has no energy or power: "
                            "use [\"mean_capacity\"] or [\"mean_capacity\", \"devices\"]")
        loads = self.loads(head.get("P", {"from": 1, "to": "inputs"}), inputs, one_hot)
        params = self.space(dict(space), model, inputs, outputs)
        return CapacitySettings(model, inputs, outputs, reps, loads, one_hot, ref_hidden), params

    def loads(self, spec: Any, n_in: int, one_hot: bool) -> tuple[int, ...]:
        key = "search.P"
        limit = n_in if one_hot else 2**n_in - 1
        if isinstance(spec, list):
            values = [self.integer(key, v, 1) for v in spec]
        elif isinstance(spec, dict):
            start, stop, step = self.load_range(key, spec, n_in)
            values = list(range(start, min(stop, limit) + 1, step))
        else:
            raise self.fail(key, f"must be a list of pattern counts or a table "
                            f"{{ from = 1, to = \"inputs\" }}, got {spec!r}")
        if not values or sorted(set(values)) != values:
            raise self.fail(key, f"need increasing distinct pattern counts, got {values!r}")
        if values[-1] > limit:
            what = "one-hot patterns need as many inputs" if one_hot else "binary patterns"
            raise self.fail(key, f"P = {values[-1]} is more than {limit} ({what}); lower P")
        return tuple(values)

    # ------------------------------------------------------------------ [space]
    def space(self, table: dict[str, Any], model: str, n_in: int, n_out: int
              ) -> tuple[Param, ...]:
        subs = ("learning", "device_params", "calibration")
        allowed = tuple(PARAMETERS) + subs
        if model == "abstract":
            allowed = ("topology", "hidden", "depth", "learning")
        self.known("space.", table, allowed)
        raw: dict[str, Any] = {}
        for k, v in table.items():
            if k in subs:
                if not isinstance(v, dict):
                    raise self.fail(f"space.{k}", "must be a table, e.g. [space." + k + "]")
                raw.update({f"{k}.{f}": w for f, w in v.items()})
            else:
                raw[k] = v
        params: dict[str, Param] = {}
        params["topology"] = self.categorical("topology", raw.get("topology", "layered"),
                                              TOPOLOGY_KINDS if model == "circuit"
                                              else ("layered",), "topology kind")
        kinds = values_of(params["topology"])
        if model == "circuit":
            params["device"] = self.categorical("device", raw.get("device", "pershin2011"),
                                                _preset_names(), "device preset")
            params["protocol"] = self.categorical("protocol", raw.get("protocol", "default"),
                                                  PROTOCOLS, "protocol")
        for name, spec in PARAMETERS.items():
            if spec.type == "choice" or name not in raw:
                continue
            applies = [k for k in kinds if k in spec.kinds]
            if not applies:
                raise self.fail(f"space.{name}", f"applies to topology "
                                f"{' or '.join(spec.kinds)} only, which the space does not "
                                "include; remove it or add that kind to topology")
            p = self.numeric(name, raw[name], spec)
            if name == "nodes" and min(span(p)) < n_in + n_out:
                raise self.fail("space.nodes", f"a random network needs at least inputs + "
                                f"outputs = {n_in + n_out} nodes, got {min(span(p))!r}")
            params[name] = self.condition(p, "topology", params["topology"], applies)
        for group, needs in ((LAYERED_KINDS, ("hidden",)), (("random",), ("nodes",
                                                                           "edge_prob"))):
            using = [k for k in kinds if k in group]
            for n in needs:
                if using and n not in params:
                    raise self.fail("space", f"missing {n} (topology {' and '.join(using)} "
                                    "needs it)")
        for key in sorted(k for k in raw if "." in k):
            sub, field = key.split(".", 1)
            params[key] = self.sub_param(sub, field, raw[key], model, params)
        return tuple(params.values())

    def sub_param(self, sub: str, field: str, value: Any, model: str,
                  params: dict[str, Param]) -> Param:
        key = f"space.{sub}.{field}"
        if sub == "learning":
            return self.learning(key, field, value, model, params)
        if sub == "device_params":
            return self.device_param(key, field, value, params["device"])
        return self.calibration(key, field, value, params["protocol"])

    def learning(self, key: str, field: str, value: Any, model: str,
                 params: dict[str, Param]) -> Param:
        from memsim.learn import AbstractConfig, CircuitConfig

        cls = CircuitConfig if model == "circuit" else AbstractConfig
        fields = {f.name: f for f in dataclasses.fields(cls)}
        if field not in fields:
            raise self.fail(key, f"not a field of {cls.__name__}; allowed: "
                            f"{', '.join(fields)}")
        default = getattr(cls(), field)

        def check(v: Any, at: str) -> Any:
            if isinstance(v, int) and not isinstance(v, bool) and isinstance(default, float):
                v = float(v)
            try:
                cls(**{field: v})
            except ParameterError as exc:
                raise self.fail(at, str(exc).split(": ", 1)[-1]) from None
            except (TypeError, ValueError) as exc:
                raise self.fail(at, str(exc)) from None
            return v

        typ = "int" if isinstance(default, int) and not isinstance(default, bool) else "float"
        p = self.shaped(key, value, check, typ)
        p = dataclasses.replace(p, name=f"learning.{field}")
        if model == "circuit" and field in _PROTOCOL_VOLTAGES:
            proto = params["protocol"]
            if proto.kind == "fixed" and proto.value == "calibrated":
                raise self.fail(key, "the calibrated protocol chooses this voltage; remove it "
                                "or add \"default\" to protocol")
            if p.searched:
                p = self.condition(p, "protocol", proto, ["default"])
        return p

    def device_param(self, key: str, field: str, value: Any, device: Param) -> Param:
        from memsim.devices import preset

        names = values_of(device)
        for name in names:
            base = preset(name)
            fields = [f.name for f in dataclasses.fields(base) if f.name != "window"]
            if field not in fields:
                raise self.fail(key, f"not a numeric field of device {name!r} "
                                f"({type(base).__name__}); allowed: {', '.join(fields)}")

        def check(v: Any, at: str) -> float:
            x = self.number(at, v)
            for name in names:
                try:
                    preset(name).replace(**{field: x})
                except (ParameterError, ValueError, TypeError) as exc:
                    raise self.fail(at, f"{exc} (device {name!r})") from None
            return x

        return dataclasses.replace(self.shaped(key, value, check, "float"),
                                   name=f"device_params.{field}")

    def calibration(self, key: str, field: str, value: Any, protocol: Param) -> Param:
        if field not in _CALIBRATION:
            raise self.fail(key, f"not a setting of the calibrated protocol; allowed: "
                            f"{', '.join(_CALIBRATION)}")
        if "calibrated" not in values_of(protocol):
            raise self.fail(key, "applies to protocol \"calibrated\" only, which the space "
                            "does not include; remove it or add \"calibrated\" to protocol")
        low, high = _CALIBRATION[field]

        def check(v: Any, at: str) -> float:
            x = self.number(at, v)
            if x <= low or (high is not None and x >= high):
                bound = f"({low:g}, {high:g})" if high is not None else f"> {low:g} V"
                raise self.fail(at, f"{v!r} is outside {bound}")
            return x

        p = dataclasses.replace(self.shaped(key, value, check, "float"),
                                name=f"calibration.{field}")
        return self.condition(p, "protocol", protocol, ["calibrated"])



def _preset_names() -> tuple[str, ...]:
    from memsim.devices.presets import PRESETS

    return tuple(sorted(PRESETS))
