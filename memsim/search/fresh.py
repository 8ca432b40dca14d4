"""Re-evaluate designs on fresh seeds: the honest number for a design a search picked.

The best of many noisy evaluations is biased upwards (it won partly by luck), so a claim
about it is made on new trials: :func:`reevaluate` runs :func:`memsim.search.objective.
evaluate` for several designs with ``R`` trials each, all on the same fresh master seed
(common random numbers: the designs are compared on the same tasks where their shapes
agree), in parallel on Dask or in this process.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from memsim.search.engine import master_seed
from memsim.search.objective import payload
from memsim.search.space import SearchSpec

__all__ = ["fresh_seed", "reevaluate"]

log = logging.getLogger(__name__)


def fresh_seed(seed: int) -> int:
    """A master seed from ``seed`` that no search evaluation uses (spawn key 2; searches use
    0 for designs and 1 for references).

    >>> fresh_seed(1) != fresh_seed(2)
    True
    """
    return master_seed(seed, 2)


def reevaluate(
    spec: SearchSpec,
    points: Mapping[str, Mapping[str, Any]],
    *,
    repetitions: int,
    seed: int,
    client: Any = None,
) -> dict[str, dict[str, Any]]:
    """Evaluate each design of ``points`` (label -> design point) with ``repetitions``
    trials on the fresh master seed ``fresh_seed(seed)``.

    Parameters
    ----------
    spec : SearchSpec
        Loads and objectives (its seed and repetitions are not used).
    points : mapping
        Label -> design point (a stored evaluation's ``point``, or
        :func:`memsim.search.design.reference_points`).
    repetitions : int
        Trials per load.
    seed : int
        Root of the fresh seed.
    client : distributed.Client, optional
        Run the evaluations on this cluster, in parallel (default: in this process).

    Returns
    -------
    dict
        Label -> the evaluation's result (:func:`memsim.search.objective.evaluate`).

    Examples
    --------
    >>> from memsim.search import parse_search, reference_points
    >>> spec = parse_search('''
    ... [search]
    ... name = "t"
    ... seed = 1
    ... budget = 2
    ... model = "abstract"
    ... inputs = 2
    ... outputs = 2
    ... repetitions = 2
    ... [space]
    ... hidden = { from = 2, to = 4 }
    ... ''')
    >>> out = reevaluate(spec, reference_points(spec), repetitions=10, seed=3)
    >>> out["abstract"]["metrics"]["mean_capacity"]
    2.0
    """
    from memsim.search.objective import evaluate

    master = fresh_seed(seed)
    payloads = {label: payload(spec, p, master, repetitions) for label, p in points.items()}
    if client is None:
        return {label: evaluate(p) for label, p in payloads.items()}
    futures = {label: client.submit(evaluate, p, key=f"memsim-fresh-{p['key'][:16]}-{label}",
                                    pure=False) for label, p in payloads.items()}
    return {label: f.result() for label, f in futures.items()}
