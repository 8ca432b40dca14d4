"""What topologies can learn, and why: capacity, controllability, correlations, and the
topology study built on them.

The definitions are the project's own where the seed paper gives none (stated in full in
docs/concepts.md):

* **capacity** — the largest number of random patterns P learned (all P correct in one full
  pass within the step budget) with probability >= 0.5, estimated over R independent tasks and
  device draws, with the success curve S(P) and Wilson intervals (:mod:`.capacity`);
* **controllability** — the rank of the stacked map from terminal drives to memristor
  voltages over the terminal configurations the algorithm may use, divided by the number of
  memristors; plus memsim's device-level version that counts the device-velocity directions
  (:mod:`.controllability`);
* **depth** — the number of hidden layers between inputs and outputs (:mod:`.study`).

>>> import memsim
>>> from memsim.analyze import controllability
>>> controllability(memsim.layered([2, 4, 2], device=memsim.devices.preset("pershin2011"))).rank
3
"""

from memsim.analyze.capacity import (
    CapacityResult,
    capacity_curve,
    trial_outcomes,
    trial_seed,
    wilson_interval,
)
from memsim.analyze.controllability import (
    Configuration,
    Controllability,
    configurations,
    controllability,
    response_matrix,
)
from memsim.analyze.correlations import (
    DistanceProfile,
    correlation_vs_distance,
    edge_distances,
    effective_resistances,
    transfer_matrix,
)

__all__ = [
    "CapacityResult",
    "Configuration",
    "Controllability",
    "DistanceProfile",
    "capacity_curve",
    "configurations",
    "controllability",
    "correlation_vs_distance",
    "edge_distances",
    "effective_resistances",
    "response_matrix",
    "transfer_matrix",
    "trial_outcomes",
    "trial_seed",
    "wilson_interval",
]
