"""Co-design search: which topologies, devices and protocols learn, found by Bayesian
optimization (DeepHyper's CBO) against random search at equal budget, on Dask.

A search file (``searches/*.toml``, :mod:`memsim.search.space`) declares the design space and
the objective (mean capacity, or era 1 of the alternating task; optionally a second objective
for a Pareto front); :func:`run_search` suggests designs through DeepHyper's ask/tell, runs
their evaluations (:func:`memsim.search.objective.evaluate`) on a local or remote Dask cluster
and stores each in the sweep result store as it finishes, so an interrupted search resumes
exactly where it stopped (:mod:`memsim.search.engine`). DeepHyper is an optional dependency
(``pip install 'memsim[search]'``), imported only when a search runs.

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

from memsim.search.design import design_point, learning_config, network_factory, reference_points
from memsim.search.engine import REFERENCE, SearchSummary, evaluation_seed, run_search
from memsim.search.objective import evaluate
from memsim.search.space import (
    METHODS,
    OBJECTIVES,
    TOPOLOGY_KINDS,
    Param,
    SearchFileError,
    SearchSpec,
    load_search,
    parse_search,
)
from memsim.search.store import SearchStore, is_search_store

__all__ = [
    "METHODS",
    "OBJECTIVES",
    "REFERENCE",
    "TOPOLOGY_KINDS",
    "Param",
    "SearchFileError",
    "SearchSpec",
    "SearchStore",
    "SearchSummary",
    "design_point",
    "evaluate",
    "evaluation_seed",
    "is_search_store",
    "learning_config",
    "load_search",
    "network_factory",
    "parse_search",
    "reference_points",
    "run_search",
]
