"""Search files: a design space of topologies, devices and protocols, declared in TOML.

A search file has a ``[search]`` table (what to optimize and how) and a ``[space]`` table
(the design parameters)::

    [search]
    name = "codesign_8x8"     # a label for the store and the report
    seed = 2026               # master seed: suggestions and every evaluation derive from it
    budget = 40               # evaluations per method
    methods = ["bo", "random"]  # Bayesian optimization and random search at equal budget
    parallel = 4              # evaluations in flight per method (fixes the suggestion order)
    model = "circuit"         # "circuit" or "abstract" (the Chialvo-Bak model)
    inputs = 8                # one-hot input terminals
    outputs = 8
    repetitions = 40          # R: trials per load in each evaluation
    P = { from = 1, to = "inputs" }   # loads of the success curve (a list, or a range)
    objectives = ["mean_capacity"]    # maximized; a second one makes it a Pareto search
    seeds = "per-evaluation"  # or "common": every evaluation on the same trial seeds
    references = true         # also evaluate the fully connected default, calibrated, abstract

    [search.bo]               # DeepHyper CBO settings (all optional)
    initial = 10              # random designs before the surrogate model is used
    surrogate = "ET"          # extra trees
    acquisition = "UCBd"
    kappa = 1.96
    optimizer = "sampling"    # of the acquisition: "sampling" or "mixedga"
    points = 2000             # candidates per suggestion
    conditions = false        # tell DeepHyper which parameters apply to which kinds

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
to the calibrated protocol) is ignored where it does not apply (:meth:`SearchSpec.values`);
with ``conditions = true`` in ``[search.bo]`` the optimizer is told so too (ConfigSpace
conditions). That is off by default: DeepHyper then samples its candidates through
ConfigSpace, one configuration at a time, about 100 times slower than the vectorized sampler
(seconds per suggestion on the 2-core machine, against tens of milliseconds), and the
surrogate model copes with a parameter that does nothing in part of the space.

Every error names the file, the line, the key and the fix (:class:`SearchFileError`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memsim.errors import MemsimError, ParameterError
from memsim.search.lines import KeyLines
from memsim.sweep.spec import FileChecks, canonical_json

__all__ = [
    "METHODS",
    "OBJECTIVES",
    "PARAMETERS",
    "TOPOLOGY_KINDS",
    "Param",
    "SearchFileError",
    "SearchSpec",
    "load_search",
    "parse_search",
    "parse_spec_dict",
]

TOPOLOGY_KINDS = ("layered", "skip", "lateral", "bipartite", "random")
"""Topology kinds: :func:`memsim.layered`, the motifs of :mod:`memsim.circuit.motifs`, and
:func:`memsim.random_network`."""
LAYERED_KINDS = ("layered", "skip", "lateral", "bipartite")
METHODS = ("bo", "random")
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

_SEARCH_KEYS = ("budget", "bo", "inputs", "methods", "model", "name", "objectives", "outputs",
                "P", "one_hot", "parallel", "references", "reference_hidden", "repetitions",
                "seed", "seeds")
_BO_KEYS = ("acquisition", "conditions", "initial", "kappa", "optimizer", "points",
            "surrogate")
_SURROGATES = ("ET", "RF", "GBRT", "GP", "HGBRT")
_ACQUISITIONS = ("UCB", "UCBd", "EI", "EId", "PI", "PId")
_CALIBRATION = {"drive": (0.0, None), "normalize": (0.0, None), "read_margin": (0.0, 1.0)}


@dataclass(frozen=True)
class _Spec:
    """What a [space] key may hold."""

    type: str                      # "int", "float" or "choice"
    low: float | None = None       # domain bounds (None: unbounded)
    high: float | None = None
    low_open: bool = False         # low itself excluded
    kinds: tuple[str, ...] = TOPOLOGY_KINDS


PARAMETERS: dict[str, _Spec] = {
    "topology": _Spec("choice"),
    "hidden": _Spec("int", 1, kinds=LAYERED_KINDS),
    "depth": _Spec("int", 1, kinds=LAYERED_KINDS),
    "connectivity": _Spec("float", 0, 1, low_open=True, kinds=("layered", "skip", "lateral")),
    "skip": _Spec("float", 0, 1, kinds=("skip",)),
    "lateral": _Spec("float", 0, 1, kinds=("lateral",)),
    "degree": _Spec("int", 1, kinds=("bipartite",)),
    "nodes": _Spec("int", 2, kinds=("random",)),
    "edge_prob": _Spec("float", 0, 1, low_open=True, kinds=("random",)),
    "device": _Spec("choice"),
    "spread": _Spec("float", 0),
    "protocol": _Spec("choice"),
}
"""The plain design parameters (``learning.*``, ``device_params.*`` and ``calibration.*``
are checked against their config, preset and :func:`memsim.learn.calibrate.calibrate`)."""

DEFAULTS: dict[str, Any] = {"topology": "layered", "depth": 1, "connectivity": 1.0,
                            "skip": 1.0, "lateral": 0.5, "device": "pershin2011",
                            "spread": 0.0, "protocol": "default"}
"""Values of the design parameters a search file leaves out."""
_PROTOCOL_VOLTAGES = ("v_read", "v_inhibit", "v_normalize")


class SearchFileError(MemsimError, ValueError):
    """A search file cannot be used; the one-line message names file, line, key and fix."""

    def __init__(self, path: object, line: int | None, key: str, message: str):
        self.path = str(path)
        self.line = line
        self.key = key
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


@dataclass(frozen=True)
class Param:
    """One design parameter of the space.

    Attributes
    ----------
    name : str
        e.g. ``hidden``, ``learning.t_inhibit``.
    kind : {"fixed", "int", "float", "choice"}
    value : fixed value (kind "fixed")
    low, high : range bounds (kinds "int", "float")
    log : bool, log-uniform range
    choices : tuple, the values of a choice
    parent : (name, values) or None: searched only while parameter ``name`` takes one of
        ``values`` (a ConfigSpace condition)
    """

    name: str
    kind: str
    value: Any = None
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    choices: tuple[Any, ...] = ()
    parent: tuple[str, tuple[Any, ...]] | None = None

    @property
    def searched(self) -> bool:
        return self.kind != "fixed"

    def encode(self, value: Any) -> Any:
        """The value as the optimizer sees it (choices as strings)."""
        return _encode(value) if self.kind == "choice" else value

    def decode(self, value: Any) -> Any:
        if self.kind == "choice":
            return {_encode(c): c for c in self.choices}[value]
        if self.kind == "int":
            return int(value)
        if self.kind == "float":
            return float(value)
        return self.value

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.kind == "fixed":
            out["value"] = self.value
        elif self.kind == "choice":
            out["choices"] = list(self.choices)
        else:
            out.update(low=self.low, high=self.high, log=self.log)
        if self.parent is not None:
            out["parent"] = [self.parent[0], list(self.parent[1])]
        return out


def _encode(value: Any) -> str:
    return value if isinstance(value, str) else canonical_json(value)


@dataclass(frozen=True)
class SearchSpec:
    """A parsed, validated search file (see the module docstring for the fields).

    Build designs with :func:`memsim.search.design.design_point`; the optimizer's problem with
    :meth:`problem`.
    """

    name: str
    seed: int
    budget: int
    methods: tuple[str, ...]
    parallel: int
    model: str
    inputs: int
    outputs: int
    repetitions: int
    loads: tuple[int, ...]
    one_hot: bool
    objectives: tuple[str, ...]
    seeds: str
    references: bool
    reference_hidden: int
    bo: dict[str, Any]
    params: tuple[Param, ...]
    source: str = "<string>"

    @property
    def searched(self) -> tuple[Param, ...]:
        """The parameters the optimizer chooses."""
        return tuple(p for p in self.params if p.searched)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def with_budget(self, budget: int) -> SearchSpec:
        """The same search with another budget (what ``--budget`` does).

        Raises
        ------
        ParameterError
            If ``budget < 1``.
        """
        if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
            raise ParameterError("budget", f"need at least one evaluation, got {budget!r}")
        return dataclasses.replace(self, budget=int(budget))

    def to_dict(self) -> dict[str, Any]:
        """Plain data of the search (stored with the results)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
               if f.name not in ("params", "source")}
        out["params"] = [p.to_dict() for p in self.params]
        return _json_ready(out)

    @property
    def digest(self) -> str:
        """Hash of everything that fixes the suggestions and evaluations (not the budget, so
        a search can be extended, and not the methods, so a method can be added)."""
        d = self.to_dict()
        d.pop("budget")
        d.pop("methods")
        return hashlib.sha256(canonical_json(d).encode()).hexdigest()[:32]

    def problem(self, conditions: bool | None = None) -> Any:
        """The DeepHyper ``HpProblem`` of the searched parameters (imports deephyper), with
        the ConfigSpace conditions of :attr:`Param.parent` if ``conditions`` (default: the
        file's ``[search.bo] conditions``).

        Raises
        ------
        MemsimError
            If deephyper is not installed.
        """
        try:
            import ConfigSpace as cs
            from deephyper.hpo import HpProblem
        except ImportError:
            raise MemsimError("the search needs deephyper, which is not installed; "
                              "`pip install 'memsim[search]'`") from None
        pb = HpProblem()
        for p in self.searched:
            if p.kind == "choice":
                pb.add_hyperparameter([p.encode(c) for c in p.choices], p.name)
            elif p.log:
                pb.add_hyperparameter((p.low, p.high, "log-uniform"), p.name)
            else:
                pb.add_hyperparameter((p.low, p.high), p.name)
        told = self.bo.get("conditions", False) if conditions is None else conditions
        for p in self.searched if told else ():
            if p.parent is not None:
                parent = self.param(p.parent[0])
                assert parent is not None
                values = [parent.encode(v) for v in p.parent[1]]
                child, par = pb.space[p.name], pb.space[parent.name]
                cond = (cs.EqualsCondition(child, par, values[0]) if len(values) == 1
                        else cs.InCondition(child, par, values))
                pb.add_condition(cond)
        return pb

    def values(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The design values of an optimizer configuration: fixed parameters added, choices
        decoded, and the parameters that do not apply to it (inactive) left out."""
        out: dict[str, Any] = {}
        for p in self.params:
            if p.kind == "fixed":
                out[p.name] = p.value
            elif p.name in config:
                out[p.name] = p.decode(config[p.name])
        for p in self.params:
            if p.parent is not None and out.get(p.parent[0]) not in p.parent[1]:
                out.pop(p.name, None)
        return out


def parse_spec_dict(data: Mapping[str, Any], *, source: str = "<store>") -> SearchSpec:
    """The spec back from :meth:`SearchSpec.to_dict` (as a store keeps it).

    >>> spec = parse_search('''
    ... [search]
    ... name = "t"
    ... seed = 1
    ... budget = 2
    ... inputs = 2
    ... outputs = 2
    ... repetitions = 2
    ... [space]
    ... hidden = { from = 2, to = 6 }
    ... ''')
    >>> parse_spec_dict(spec.to_dict()).digest == spec.digest
    True
    """
    params = tuple(
        Param(p["name"], p["kind"], value=p.get("value"), low=p.get("low", 0.0),
              high=p.get("high", 0.0), log=p.get("log", False),
              choices=tuple(p.get("choices", ())),
              parent=(p["parent"][0], tuple(p["parent"][1])) if "parent" in p else None)
        for p in data["params"])
    fields = {f.name: data[f.name] for f in dataclasses.fields(SearchSpec)
              if f.name not in ("params", "source")}
    for k in ("methods", "loads", "objectives"):
        fields[k] = tuple(fields[k])
    return SearchSpec(**fields, params=params, source=source)


def _json_ready(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _json_ready(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_ready(v) for v in obj]
    return obj


def load_search(path: str | Path) -> SearchSpec:
    """Read and validate a search file.

    Raises
    ------
    SearchFileError
        If the file is missing, is not TOML, or a key is unknown, missing or out of range
        (the message names the file, line, key and fix).

    Examples
    --------
    >>> import memsim, pathlib
    >>> root = pathlib.Path(memsim.__file__).parents[1]
    >>> load_search(root / "searches" / "codesign_8x8.toml").inputs
    8
    """
    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise SearchFileError(p, None, "", "no such search file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SearchFileError(p, None, "", f"cannot read: {exc}") from None
    return parse_search(text, source=str(p))


def parse_search(text: str, *, source: str = "<string>") -> SearchSpec:
    """Parse and validate the TOML text of a search.

    Raises
    ------
    SearchFileError
        If the text is not TOML or a key is unknown, missing or out of range.

    Examples
    --------
    >>> spec = parse_search('''
    ... [search]
    ... name = "tiny"
    ... seed = 1
    ... budget = 6
    ... inputs = 2
    ... outputs = 2
    ... repetitions = 4
    ... [space]
    ... hidden = { from = 2, to = 8 }
    ... protocol = ["default", "calibrated"]
    ... ''')
    >>> [(p.name, p.kind) for p in spec.searched]
    [('protocol', 'choice'), ('hidden', 'int')]
    >>> spec.values({"hidden": 5, "protocol": "calibrated"})["hidden"]
    5
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))  # tomllib has no lineno before 3.14
        line = int(found.group(1)) if found else None
        raise SearchFileError(source, line, "", f"not valid TOML: {exc}") from None
    return _Parser(source, KeyLines(text)).search(doc)


class _Parser(FileChecks):
    def __init__(self, source: str, lines: KeyLines):
        self.source = source
        self.lines = lines

    def fail(self, key: str, message: str) -> SearchFileError:
        path = tuple(key.split(".")) if key else ()
        return SearchFileError(self.source, self.lines.line(*path) if path else None, key,
                               message)

    # ------------------------------------------------------------------ [search]
    def search(self, doc: dict[str, Any]) -> SearchSpec:
        self.known("", doc, ("search", "space"))
        head = doc.get("search")
        if not isinstance(head, dict):
            raise self.fail("search", "missing [search] table; it needs name, seed, budget, "
                            "inputs, outputs and repetitions")
        self.known("search.", head, _SEARCH_KEYS)
        for k in ("name", "seed", "budget", "inputs", "outputs", "repetitions"):
            if k not in head:
                raise self.fail(f"search.{k}" if head else "search", f"missing {k} (name, "
                                "seed, budget, inputs, outputs and repetitions are required)")
        name = head["name"]
        if not isinstance(name, str) or not name.strip():
            raise self.fail("search.name", f"must be a non-empty string, got {name!r}")
        seed = self.integer("search.seed", head["seed"], 0)
        budget = self.integer("search.budget", head["budget"], 1)
        inputs = self.integer("search.inputs", head["inputs"], 1)
        outputs = self.integer("search.outputs", head["outputs"], 1)
        reps = self.integer("search.repetitions", head["repetitions"], 1)
        parallel = self.integer("search.parallel", head.get("parallel", 4), 1)
        model = self.choice("search.model", head.get("model", "circuit"),
                            ("circuit", "abstract"))
        methods = head.get("methods", list(METHODS))
        if not isinstance(methods, list) or not methods or len(set(methods)) != len(methods):
            raise self.fail("search.methods", f"must be a list of distinct methods from "
                            f"{', '.join(METHODS)}, got {methods!r}")
        for m in methods:
            self.choice("search.methods", m, METHODS)
        one_hot = head.get("one_hot", True)
        if not isinstance(one_hot, bool):
            raise self.fail("search.one_hot", f"must be true or false, got {one_hot!r}")
        seeds = self.choice("search.seeds", head.get("seeds", "per-evaluation"),
                            ("per-evaluation", "common"))
        references = head.get("references", True)
        if not isinstance(references, bool):
            raise self.fail("search.references", f"must be true or false, got {references!r}")
        ref_hidden = self.integer("search.reference_hidden",
                                  head.get("reference_hidden", inputs + outputs), 1)
        objectives = self.objectives(head.get("objectives", ["mean_capacity"]), model)
        loads = self.loads(head.get("P", {"from": 1, "to": "inputs"}), inputs, one_hot)
        bo = self.bo(head.get("bo", {}))
        space = doc.get("space", {})
        if not isinstance(space, dict):
            raise self.fail("space", "must be a table of design parameters")
        params = self.space(space, model, inputs, outputs)
        spec = SearchSpec(name.strip(), seed, budget, tuple(methods), parallel, model, inputs,
                          outputs, reps, loads, one_hot, objectives, seeds, references,
                          ref_hidden, bo, params, self.source)
        if not spec.searched:
            raise self.fail("space", "nothing to search: give at least one parameter a list "
                            "of values or a range { from = ..., to = ... }")
        return spec

    def objectives(self, value: Any, model: str) -> tuple[str, ...]:
        key = "search.objectives"
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not 1 <= len(value) <= 2:
            raise self.fail(key, f"must be a list of one or two objectives, got {value!r}")
        first = self.choice(key, value[0], tuple(PRIMARY))
        if len(value) == 2:
            self.choice(key, value[1], PRIMARY[first])
        if model == "abstract" and (first != "mean_capacity" or value[1:] not in ([],
                                                                                ["devices"])):
            raise self.fail(key, "the abstract model has no energy or power: use "
                            "[\"mean_capacity\"] or [\"mean_capacity\", \"devices\"]")
        return tuple(value)

    def loads(self, spec: Any, n_in: int, one_hot: bool) -> tuple[int, ...]:
        key = "search.P"
        limit = n_in if one_hot else 2**n_in - 1
        if isinstance(spec, list):
            values = [self.integer(key, v, 1) for v in spec]
        elif isinstance(spec, dict):
            self.known(f"{key}.", spec, ("from", "step", "to"))
            start = self.integer(f"{key}.from", spec.get("from", 1), 1)
            step = self.integer(f"{key}.step", spec.get("step", 1), 1)
            to = spec.get("to", "inputs")
            if isinstance(to, str) and to != "inputs":
                raise self.fail(f"{key}.to", f"must be an integer or \"inputs\", got {to!r}")
            stop = n_in if to == "inputs" else self.integer(f"{key}.to", to, start)
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

    def bo(self, table: Any) -> dict[str, Any]:
        if not isinstance(table, dict):
            raise self.fail("search.bo", "must be a table of CBO settings")
        self.known("search.bo.", table, _BO_KEYS)
        out: dict[str, Any] = {
            "surrogate": self.choice("search.bo.surrogate", table.get("surrogate", "ET"),
                                     _SURROGATES),
            "acquisition": self.choice("search.bo.acquisition",
                                       table.get("acquisition", "UCBd"), _ACQUISITIONS),
            "kappa": self.number("search.bo.kappa", table.get("kappa", 1.96)),
            "optimizer": self.choice("search.bo.optimizer", table.get("optimizer", "sampling"),
                                     ("sampling", "mixedga")),
            "points": self.integer("search.bo.points", table.get("points", 2000), 10),
        }
        if out["kappa"] < 0:
            raise self.fail("search.bo.kappa", f"must be >= 0, got {out['kappa']!r}")
        conditions = table.get("conditions", False)
        if not isinstance(conditions, bool):
            raise self.fail("search.bo.conditions", f"must be true or false, got "
                            f"{conditions!r}")
        out["conditions"] = conditions
        if "initial" in table:
            out["initial"] = self.integer("search.bo.initial", table["initial"], 1)
        return out

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
                                              else ("layered",))
        kinds = _values(params["topology"])
        if model == "circuit":
            params["device"] = self.categorical("device", raw.get("device", "pershin2011"),
                                                _preset_names())
            params["protocol"] = self.categorical("protocol", raw.get("protocol", "default"),
                                                  PROTOCOLS)
        for name, spec in PARAMETERS.items():
            if spec.type == "choice" or name not in raw:
                continue
            applies = [k for k in kinds if k in spec.kinds]
            if not applies:
                raise self.fail(f"space.{name}", f"applies to topology "
                                f"{' or '.join(spec.kinds)} only, which the space does not "
                                "include; remove it or add that kind to topology")
            p = self.numeric(name, raw[name], spec)
            if name == "nodes" and min(_span(p)) < n_in + n_out:
                raise self.fail("space.nodes", f"a random network needs at least inputs + "
                                f"outputs = {n_in + n_out} nodes, got {min(_span(p))!r}")
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

    def categorical(self, name: str, value: Any, allowed: tuple[str, ...]) -> Param:
        key = f"space.{name}"
        if isinstance(value, dict):
            raise self.fail(key, f"is a choice, not a range; give one of {', '.join(allowed)} "
                            "or a list of them")
        values = value if isinstance(value, list) else [value]
        if not values:
            raise self.fail(key, "an empty list leaves nothing to choose; give at least one "
                            "value")
        for v in values:
            if v not in allowed:
                what = {"topology": "topology kind", "device": "device preset",
                        "protocol": "protocol"}.get(name, "value")
                raise self.fail(key, f"unknown {what} {v!r}; allowed: {', '.join(allowed)}")
        if len(set(values)) != len(values):
            raise self.fail(key, f"{values!r} lists a value twice")
        if len(values) == 1:
            return Param(name, "fixed", value=values[0])
        return Param(name, "choice", choices=tuple(values))

    def numeric(self, name: str, value: Any, spec: _Spec) -> Param:
        """A plain numeric parameter: fixed, a list of values, or a range."""
        key = f"space.{name}"

        def check(v: Any, at: str) -> float:
            if spec.type == "int":
                if isinstance(v, bool) or not isinstance(v, int):
                    raise self.fail(at, f"must be an integer, got {v!r}")
            x = self.number(at, v)
            low_bad = spec.low is not None and (x < spec.low or (spec.low_open and
                                                               x == spec.low))
            if low_bad or (spec.high is not None and x > spec.high):
                raise self.fail(at, f"{v!r} is outside {_domain(spec)}")
            return int(v) if spec.type == "int" else x

        return self.shaped(key, value, check, spec.type)

    def shaped(self, key: str, value: Any, check: Any, typ: str) -> Param:
        """Fixed, choice or range, with every value (or both bounds) checked by ``check``."""
        name = key.split(".", 1)[1]
        if isinstance(value, dict):
            self.known(f"{key}.", value, ("from", "log", "to"))
            for k in ("from", "to"):
                if k not in value:
                    raise self.fail(f"{key}", f"a range needs from and to, e.g. "
                                    f"{{ from = 1, to = 4 }}; missing {k}")
            low, high = check(value["from"], f"{key}.from"), check(value["to"], f"{key}.to")
            log = value.get("log", False)
            if not isinstance(log, bool):
                raise self.fail(f"{key}.log", f"must be true or false, got {log!r}")
            if high <= low:
                raise self.fail(key, f"empty or inverted range: from = {value['from']!r} must "
                                f"be below to = {value['to']!r} (a single value is written "
                                "without a table)")
            if log and low <= 0:
                raise self.fail(key, f"a log range needs from > 0, got from = "
                                f"{value['from']!r}; use a positive lower bound or log = false")
            kind = "int" if typ == "int" else "float"
            return Param(name, kind, low=low, high=high, log=log)
        if isinstance(value, list):
            if not value:
                raise self.fail(key, "an empty list leaves nothing to choose; give at least "
                                "one value")
            values = [check(v, key) for v in value]
            if len({_encode(v) for v in values}) != len(values):
                raise self.fail(key, f"{value!r} lists a value twice")
            if len(values) == 1:
                return Param(name, "fixed", value=values[0])
            return Param(name, "choice", choices=tuple(values))
        return Param(name, "fixed", value=check(value, key))

    def condition(self, p: Param, parent: str, parent_param: Param,
                  applies: list[str]) -> Param:
        if not p.searched or parent_param.kind != "choice":
            return p
        if set(applies) == set(parent_param.choices):
            return p
        return dataclasses.replace(p, parent=(parent, tuple(applies)))

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

        names = _values(device)
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
        if "calibrated" not in _values(protocol):
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


def _values(p: Param) -> tuple[Any, ...]:
    return p.choices if p.kind == "choice" else (p.value,)


def _span(p: Param) -> tuple[Any, ...]:
    """The extreme values a parameter can take."""
    if p.kind == "fixed":
        return (p.value,)
    return p.choices if p.kind == "choice" else (p.low, p.high)


def _domain(spec: _Spec) -> str:
    kind = "integers" if spec.type == "int" else "numbers"
    if spec.high is None:
        return f"the allowed {kind} >= {spec.low:g}"
    left = "(" if spec.low_open else "["
    return f"the allowed {kind} in {left}{spec.low:g}, {spec.high:g}]"


def _preset_names() -> tuple[str, ...]:
    from memsim.devices.presets import PRESETS

    return tuple(sorted(PRESETS))
