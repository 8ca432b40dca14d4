"""Objective kinds: what a search optimizes, with its design space and its evaluation.

The search engine (:mod:`memsim.search.engine`) is the same for every kind: DeepHyper's CBO
through ask/tell, evaluations on Dask, state in the SQLite store. A *kind* supplies the
domain: the ``[search]`` settings and ``[space]`` parameters it accepts (validated with file,
line, key and fix), its objectives and their directions, the design point of an optimizer
configuration, the evaluation payload and the function a worker runs on it, and the reference
designs a result is compared with. A search file names its kind in ``[search] kind`` (default
``"capacity"``).

Kinds:

* ``capacity`` (:mod:`memsim.search.capacity`): topologies, devices and protocols of learning
  from mistakes; mean capacity, era 1 of the alternating task, devices, energy, power.
* kinds of other packages, found through the ``memsim.search_kinds`` entry points of the
  installed distributions (memsim's own ``pyproject.toml`` declares ``mushroom``,
  :mod:`memsim.rules.meta`: the mushroom body's rule and hyper-parameters, scored on a
  validation split), so the search package never imports the domains above it;
* kinds registered at run time with :func:`register_kind` (a notebook's own objective).

>>> objective_kind("capacity").objectives["mean_capacity"][0]
'max'
>>> "mushroom" in kind_names()
True
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from importlib import metadata
from typing import TYPE_CHECKING, Any, ClassVar

from memsim.errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from memsim.search.space import Param, SearchSpec, SpecParser

__all__ = ["ENTRY_POINTS", "ObjectiveKind", "kind_names", "objective_kind", "register_kind"]

ENTRY_POINTS = "memsim.search_kinds"
"""Entry-point group of the objective kinds of installed packages (``name = "module:KIND"``)."""

_BUILTIN = {"capacity": "memsim.search.capacity:CAPACITY"}
_KINDS: dict[str, ObjectiveKind] = {}


class ObjectiveKind:
    """The domain of a search (subclass it; see the module docstring).

    Attributes
    ----------
    name : str
        What ``[search] kind`` says.
    help : str
        One line for messages.
    objectives : dict
        Objective name -> (``"max"`` or ``"min"``, meaning).
    primary : dict
        Allowed first objectives -> the second objectives each allows (a Pareto search).
    required : tuple of str
        ``[search]`` keys the kind needs (besides name, seed and budget).
    search_keys : tuple of str
        Every ``[search]`` key the kind reads (``required`` included).
    evaluate : callable
        The module-level function ``payload -> result`` a worker runs (pickled by reference:
        workers import it). Its result has ``key``, ``objectives`` (natural units, in the
        order of the search's objectives), ``metrics``, ``wall_time``, ``cpu_time``,
        ``worker`` and ``memsim_version``; it raises a :class:`memsim.MemsimError` for a
        design that cannot be evaluated (stored as failed).
    """

    name: ClassVar[str] = ""
    help: ClassVar[str] = ""
    objectives: ClassVar[Mapping[str, tuple[str, str]]] = {}
    primary: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    required: ClassVar[tuple[str, ...]] = ()
    search_keys: ClassVar[tuple[str, ...]] = ()
    evaluate: Callable[[Mapping[str, Any]], dict[str, Any]]

    def parse(self, parser: SpecParser, head: Mapping[str, Any], space: Mapping[str, Any],
              objectives: tuple[str, ...]) -> tuple[Any, tuple[Param, ...]]:
        """Validate the kind's ``[search]`` keys (in ``head``) and the ``[space]`` table;
        return the settings (a frozen dataclass) and the parameters. Errors through
        ``parser.fail(key, message)``."""
        raise NotImplementedError

    def settings_from_dict(self, data: Mapping[str, Any]) -> Any:
        """The settings back from the plain data of :meth:`SearchSpec.to_dict`."""
        raise NotImplementedError

    def point(self, spec: SearchSpec, values: Mapping[str, Any]) -> dict[str, Any]:
        """The design point (plain data) of design ``values`` (:meth:`SearchSpec.values`)."""
        raise NotImplementedError

    def payload(self, spec: SearchSpec, point: Mapping[str, Any], master: int
                ) -> dict[str, Any]:
        """The evaluation payload of ``point`` with seed ``master``: plain data with a
        ``key`` (equal keys, equal results), ``point`` and ``master``."""
        raise NotImplementedError

    def references(self, spec: SearchSpec) -> dict[str, dict[str, Any]]:
        """Label -> design point of the designs a result is compared with (may be empty)."""
        return {}

    def describe(self, spec: SearchSpec) -> str:
        """One line on what the search evaluates (the report's header)."""
        return f"{self.name} search, objective {' + '.join(spec.objectives)}"

    def direction(self, objective: str) -> float:
        """+1 for a maximized objective, -1 for a minimized one."""
        return 1.0 if self.objectives[objective][0] == "max" else -1.0


def register_kind(kind: ObjectiveKind) -> ObjectiveKind:
    """Make ``kind`` known by its name (and return it); a name is registered once.

    Raises
    ------
    ParameterError
        If another kind of that name is already known.
    """
    if not kind.name:
        raise ParameterError("kind", "an objective kind needs a name")
    known = _KINDS.get(kind.name)
    if known is not None and known is not kind:
        raise ParameterError("kind", f"an objective kind {kind.name!r} is already registered "
                             f"({type(known).__name__}); choose another name")
    _KINDS[kind.name] = kind
    return kind


def _entry_points() -> dict[str, Any]:
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINTS)}


def kind_names() -> tuple[str, ...]:
    """Every known objective kind: built in, installed (entry points) and registered."""
    return tuple(sorted(set(_BUILTIN) | set(_entry_points()) | set(_KINDS)))


def objective_kind(name: str) -> ObjectiveKind:
    """The objective kind called ``name`` (importing its module on first use).

    Raises
    ------
    ParameterError
        For an unknown name, or an entry point that does not give an ObjectiveKind.
    """
    if name in _KINDS:
        return _KINDS[name]
    if name in _BUILTIN:
        module, attr = _BUILTIN[name].split(":")
        kind = getattr(importlib.import_module(module), attr)
    elif (ep := _entry_points().get(name)) is not None:
        kind = ep.load()
    else:
        raise ParameterError("kind", f"unknown objective kind {name!r}; known: "
                             f"{', '.join(kind_names())}")
    if not isinstance(kind, ObjectiveKind) or kind.name != name:
        raise ParameterError("kind", f"objective kind {name!r} does not name an ObjectiveKind "
                             f"called {name!r} (got {kind!r}); fix its entry point")
    return register_kind(kind)
