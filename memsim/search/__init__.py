"""Co-design search: which designs learn best, found by Bayesian optimization (DeepHyper's
CBO) against random search at equal budget, on Dask.

A search file (``searches/*.toml``, :mod:`memsim.search.space`) declares the design space and
the objective. What a design is and how it is evaluated is the search's *objective kind*
(:mod:`memsim.search.kinds`): ``capacity`` (:mod:`memsim.search.capacity`: topologies,
devices and protocols of learning from mistakes, scored by mean capacity or era 1 of the
alternating task) or a kind of another package, such as ``mushroom`` (:mod:`memsim.rules.meta`:
the mushroom body's learning rule and hyper-parameters, scored on a validation split).
:func:`run_search` suggests designs through DeepHyper's ask/tell, runs their evaluations on a
local or remote Dask cluster and stores each in the sweep result store as it finishes, so an
interrupted search resumes exactly where it stopped (:mod:`memsim.search.engine`). DeepHyper
is an optional dependency (``pip install 'memsim[search]'``), imported only when a search runs.

>>> from memsim.search import parse_search
>>> spec = parse_search('''
... [search]
... name = "tiny"
... seed = 1
... budget = 8
... inputs = 4
... outputs = 4
... repetitions = 10
... [space]
... topology = ["layered", "bipartite"]
... hidden = { from = 4, to = 16 }
... degree = { from = 1, to = 4 }
... ''')
>>> [(p.name, p.parent) for p in spec.searched]
[('topology', None), ('hidden', None), ('degree', ('topology', ('bipartite',)))]
"""

from memsim.search.capacity import (
    CAPACITY,
    OBJECTIVES,
    PARAMETERS,
    TOPOLOGY_KINDS,
    CapacitySettings,
)
from memsim.search.design import design_point, learning_config, network_factory, reference_points
from memsim.search.engine import REFERENCE, SearchSummary, evaluation_seed, run_search
from memsim.search.kinds import ObjectiveKind, kind_names, objective_kind, register_kind
from memsim.search.objective import evaluate
from memsim.search.space import (
    METHODS,
    Domain,
    Param,
    SearchFileError,
    SearchSpec,
    SpecParser,
    load_search,
    parse_search,
)
from memsim.search.store import SearchStore, is_search_store

__all__ = [
    "CAPACITY",
    "METHODS",
    "OBJECTIVES",
    "PARAMETERS",
    "REFERENCE",
    "TOPOLOGY_KINDS",
    "CapacitySettings",
    "Domain",
    "ObjectiveKind",
    "Param",
    "SearchFileError",
    "SearchSpec",
    "SearchStore",
    "SearchSummary",
    "SpecParser",
    "design_point",
    "evaluate",
    "evaluation_seed",
    "is_search_store",
    "kind_names",
    "learning_config",
    "load_search",
    "network_factory",
    "objective_kind",
    "parse_search",
    "reference_points",
    "register_kind",
    "run_search",
]
