"""Search files: a design space and what to optimize over it, declared in TOML.

A search file has a ``[search]`` table (what to optimize and how) and a ``[space]`` table
(the design parameters). The keys every search has::

    [search]
    name = "codesign_8x8"     # a label for the store and the report
    kind = "capacity"         # the objective kind (memsim.search.kinds): what a design is,
                              # how it is evaluated; "capacity" (default) or e.g. "mushroom"
    seed = 2026               # master seed: suggestions and every evaluation derive from it
    budget = 40               # evaluations per method
    methods = ["bo", "random"]  # Bayesian optimization and random search at equal budget
    parallel = 4              # evaluations in flight per method (fixes the suggestion order)
    objectives = ["mean_capacity"]    # maximized or minimized as the kind says; a second
                                      # one makes it a Pareto search
    seeds = "per-evaluation"  # or "common": every evaluation on the same seed
    references = true         # also evaluate the kind's reference designs

    [search.bo]               # DeepHyper CBO settings (all optional)
    initial = 10              # random designs before the surrogate model is used
    surrogate = "ET"          # extra trees
    acquisition = "UCBd"
    kappa = 1.96
    optimizer = "sampling"    # of the acquisition: "sampling" or "mixedga"
    points = 2000             # candidates per suggestion
    conditions = false        # tell DeepHyper which parameters apply to which designs

A ``[space]`` value is a scalar (fixed), a list (a categorical choice) or a table
``{ from = 1, to = 4 }`` (a range; integers stay integers; ``log = true`` for a log-uniform
one). Which ``[space]`` keys and which further ``[search]`` keys a file may hold is the
kind's: the capacity kind's in :mod:`memsim.search.capacity` (topologies, devices and
protocols of learning from mistakes), the mushroom body's in :mod:`memsim.rules.meta`.

With ``conditions = true`` in ``[search.bo]`` the optimizer is told which parameters apply
to which designs (ConfigSpace conditions). That is off by default: DeepHyper then samples its
candidates through ConfigSpace, one configuration at a time, about 100 times slower than the
vectorized sampler (seconds per suggestion on the 2-core machine, against tens of
milliseconds), and the surrogate model copes with a parameter that does nothing in part of
the space.

Every error names the file, the line, the key and the fix (:class:`SearchFileError`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memsim.errors import MemsimError, ParameterError
from memsim.search.kinds import ObjectiveKind, kind_names, objective_kind
from memsim.search.lines import KeyLines
from memsim.sweep.spec import FileChecks, canonical_json

__all__ = [
    "METHODS",
    "Domain",
    "Param",
    "SearchFileError",
    "SearchSpec",
    "SpecParser",
    "load_search",
    "parse_search",
    "parse_spec_dict",
    "span",
    "values_of",
]

METHODS = ("bo", "random")
COMMON_KEYS = ("bo", "budget", "kind", "methods", "name", "objectives", "parallel",
               "references", "seed", "seeds")
"""The ``[search]`` keys of every kind."""
_BO_KEYS = ("acquisition", "conditions", "initial", "kappa", "optimizer", "points",
            "surrogate")
_SURROGATES = ("ET", "RF", "GBRT", "GP", "HGBRT")
_ACQUISITIONS = ("UCB", "UCBd", "EI", "EId", "PI", "PId")


@dataclass(frozen=True)
class Domain:
    """What a numeric ``[space]`` key may hold: its type and bounds."""

    type: str                      # "int" or "float" ("choice": checked by its kind)
    low: float | None = None       # domain bounds (None: unbounded)
    high: float | None = None
    low_open: bool = False         # low itself excluded
    kinds: tuple[str, ...] = ()    # the designs it applies to (the capacity kind's topologies)

    def describe(self) -> str:
        """The allowed values, for an error message."""
        kind = "integers" if self.type == "int" else "numbers"
        if self.low is None and self.high is None:
            return f"the {kind}"
        if self.high is None:
            op = ">" if self.low_open else ">="
            return f"the allowed {kind} {op} {self.low:g}"
        if self.low is None:
            return f"the allowed {kind} <= {self.high:g}"
        left = "(" if self.low_open else "["
        return f"the allowed {kind} in {left}{self.low:g}, {self.high:g}]"


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

    ``settings`` holds the kind's own ``[search]`` settings (for the capacity kind a
    :class:`memsim.search.capacity.CapacitySettings`: inputs, outputs, repetitions, ...).
    Designs come from :meth:`point`, the optimizer's problem from :meth:`problem`.
    """

    name: str
    seed: int
    budget: int
    methods: tuple[str, ...]
    parallel: int
    objectives: tuple[str, ...]
    seeds: str
    references: bool
    bo: dict[str, Any]
    params: tuple[Param, ...]
    kind: str = "capacity"
    settings: Any = None
    source: str = "<string>"

    @property
    def searched(self) -> tuple[Param, ...]:
        """The parameters the optimizer chooses."""
        return tuple(p for p in self.params if p.searched)

    @property
    def objective_kind(self) -> ObjectiveKind:
        """The kind's domain (:mod:`memsim.search.kinds`)."""
        return objective_kind(self.kind)

    def direction(self, objective: str) -> float:
        """+1 if ``objective`` is maximized, -1 if minimized."""
        return self.objective_kind.direction(objective)

    def point(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The design point of design ``values`` (from :meth:`values`)."""
        return self.objective_kind.point(self, values)

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

    def with_settings(self, **changes: Any) -> SearchSpec:
        """The same search with some of its kind's settings changed (e.g. ``repetitions``)."""
        return dataclasses.replace(self, settings=dataclasses.replace(self.settings, **changes))

    def to_dict(self) -> dict[str, Any]:
        """Plain data of the search (stored with the results): the common fields, the kind's
        settings beside them, and ``kind`` unless it is ``capacity`` (so the capacity
        searches stored before kinds existed keep their digest)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
               if f.name not in ("params", "source", "kind", "settings")}
        if self.settings is not None:
            out.update(dataclasses.asdict(self.settings))
        if self.kind != "capacity":
            out["kind"] = self.kind
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

    Raises
    ------
    ParameterError
        If the stored kind is not known here (its package is not installed).
    """
    params = tuple(
        Param(p["name"], p["kind"], value=p.get("value"), low=p.get("low", 0.0),
              high=p.get("high", 0.0), log=p.get("log", False),
              choices=tuple(p.get("choices", ())),
              parent=(p["parent"][0], tuple(p["parent"][1])) if "parent" in p else None)
        for p in data["params"])
    kind = str(data.get("kind", "capacity"))
    common = {f.name: data[f.name] for f in dataclasses.fields(SearchSpec)
              if f.name not in ("params", "source", "kind", "settings")}
    for k in ("methods", "objectives"):
        common[k] = tuple(common[k])
    return SearchSpec(**common, params=params, kind=kind,
                      settings=objective_kind(kind).settings_from_dict(data), source=source)


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
    >>> load_search(root / "searches" / "codesign_8x8.toml").settings.inputs
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
    return SpecParser(source, KeyLines(text)).search(doc)


class SpecParser(FileChecks):
    """Validation of a search file: the common ``[search]`` keys here, the kind's keys and
    ``[space]`` in its :meth:`ObjectiveKind.parse`, with the checks below, so every error
    names file, line, key and fix alike."""

    def __init__(self, source: str, lines: KeyLines):
        self.source = source
        self.lines = lines

    def fail(self, key: str, message: str) -> SearchFileError:
        path = tuple(key.split(".")) if key else ()
        return SearchFileError(self.source, self.lines.line(*path) if path else None, key,
                               message)

    # ------------------------------------------------------------------ [search]
    def search(self, doc: dict[str, Any]) -> SearchSpec:
        """The spec of a whole file."""
        self.known("", doc, ("search", "space"))
        head = doc.get("search")
        if not isinstance(head, dict):
            raise self.fail("search", "missing [search] table; it needs name, seed, budget "
                            "and the keys of its kind (capacity: inputs, outputs and "
                            "repetitions)")
        names = kind_names()
        kind = objective_kind(self.choice("search.kind", head.get("kind", "capacity"), names))
        self.known("search.", head, COMMON_KEYS + kind.search_keys)
        needed = ("name", "seed", "budget") + kind.required
        for k in needed:
            if k not in head:
                listed = ", ".join(needed[:-1]) + f" and {needed[-1]}"
                raise self.fail(f"search.{k}" if head else "search", f"missing {k} ({listed} "
                                "are required)")
        name = head["name"]
        if not isinstance(name, str) or not name.strip():
            raise self.fail("search.name", f"must be a non-empty string, got {name!r}")
        seed = self.integer("search.seed", head["seed"], 0)
        budget = self.integer("search.budget", head["budget"], 1)
        parallel = self.integer("search.parallel", head.get("parallel", 4), 1)
        methods = head.get("methods", list(METHODS))
        if not isinstance(methods, list) or not methods or len(set(methods)) != len(methods):
            raise self.fail("search.methods", f"must be a list of distinct methods from "
                            f"{', '.join(METHODS)}, got {methods!r}")
        for m in methods:
            self.choice("search.methods", m, METHODS)
        seeds = self.choice("search.seeds", head.get("seeds", "per-evaluation"),
                            ("per-evaluation", "common"))
        references = self.boolean("search.references", head.get("references", True))
        objectives = self.objectives(head.get("objectives", [next(iter(kind.primary))]), kind)
        bo = self.bo(head.get("bo", {}))
        space = doc.get("space", {})
        if not isinstance(space, dict):
            raise self.fail("space", "must be a table of design parameters")
        settings, params = kind.parse(self, head, space, objectives)
        spec = SearchSpec(name.strip(), seed, budget, tuple(methods), parallel, objectives,
                          seeds, references, bo, params, kind.name, settings, self.source)
        if not spec.searched:
            raise self.fail("space", "nothing to search: give at least one parameter a list "
                            "of values or a range { from = ..., to = ... }")
        return spec

    def boolean(self, key: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {value!r}")
        return value

    def objectives(self, value: Any, kind: ObjectiveKind) -> tuple[str, ...]:
        key = "search.objectives"
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not 1 <= len(value) <= 2:
            raise self.fail(key, f"must be a list of one or two objectives, got {value!r}")
        first = self.choice(key, value[0], tuple(kind.primary))
        if len(value) == 2:
            self.choice(key, value[1], kind.primary[first])
        return tuple(value)

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
        out["conditions"] = self.boolean("search.bo.conditions", table.get("conditions", False))
        if "initial" in table:
            out["initial"] = self.integer("search.bo.initial", table["initial"], 1)
        return out

    # ------------------------------------------------------------------ [space] values
    def categorical(self, name: str, value: Any, allowed: tuple[Any, ...], what: str = "value"
                    ) -> Param:
        """A choice among ``allowed`` (``what`` names them in the error: "topology kind")."""
        key = f"space.{name}"
        if isinstance(value, dict):
            raise self.fail(key, f"is a choice, not a range; give one of "
                            f"{', '.join(map(str, allowed))} or a list of them")
        values = value if isinstance(value, list) else [value]
        if not values:
            raise self.fail(key, "an empty list leaves nothing to choose; give at least one "
                            "value")
        for v in values:
            if v not in allowed:
                raise self.fail(key, f"unknown {what} {v!r}; allowed: "
                                f"{', '.join(map(str, allowed))}")
        if len(set(values)) != len(values):
            raise self.fail(key, f"{values!r} lists a value twice")
        if len(values) == 1:
            return Param(name, "fixed", value=values[0])
        return Param(name, "choice", choices=tuple(values))

    def numeric(self, name: str, value: Any, domain: Domain) -> Param:
        """A numeric parameter in ``domain``: fixed, a list of values, or a range."""
        key = f"space.{name}"

        def check(v: Any, at: str) -> float:
            if domain.type == "int":
                if isinstance(v, bool) or not isinstance(v, int):
                    raise self.fail(at, f"must be an integer, got {v!r}")
            x = self.number(at, v)
            low_bad = domain.low is not None and (x < domain.low or (domain.low_open and
                                                                   x == domain.low))
            if low_bad or (domain.high is not None and x > domain.high):
                raise self.fail(at, f"{v!r} is outside {domain.describe()}")
            return int(v) if domain.type == "int" else x

        return self.shaped(key, value, check, domain.type)

    def shaped(self, key: str, value: Any, check: Callable[[Any, str], Any], typ: str
               ) -> Param:
        """Fixed, choice or range, with every value (or both bounds) checked by ``check``
        (``check(value, key) -> value``, raising through :meth:`fail`)."""
        name = key.split(".", 1)[1]
        if isinstance(value, dict):
            self.known(f"{key}.", value, ("from", "log", "to"))
            for k in ("from", "to"):
                if k not in value:
                    raise self.fail(f"{key}", f"a range needs from and to, e.g. "
                                    f"{{ from = 1, to = 4 }}; missing {k}")
            low, high = check(value["from"], f"{key}.from"), check(value["to"], f"{key}.to")
            log = self.boolean(f"{key}.log", value.get("log", False))
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
                  applies: list[Any]) -> Param:
        """``p`` searched only while ``parent`` takes one of ``applies`` (a ConfigSpace
        condition), unless it applies to every choice of the parent."""
        if not p.searched or parent_param.kind != "choice":
            return p
        if set(applies) == set(parent_param.choices):
            return p
        return dataclasses.replace(p, parent=(parent, tuple(applies)))


def values_of(p: Param) -> tuple[Any, ...]:
    """The values a fixed or choice parameter can take."""
    return p.choices if p.kind == "choice" else (p.value,)


def span(p: Param) -> tuple[Any, ...]:
    """The extreme values a parameter can take."""
    if p.kind == "fixed":
        return (p.value,)
    return p.choices if p.kind == "choice" else (p.low, p.high)
