"""Learning rules of the neuromorphic literature on any weight store (floats or crossbar tiles).

One module per rule: :mod:`memsim.rules.erbp` (event-driven random back-propagation) and
:mod:`memsim.rules.mushroom` (the insect mushroom body with a family of local rules);
:mod:`memsim.rules.datasets` holds the offline datasets and spike encoding,
:mod:`memsim.rules.neurons` the LIF layer, :mod:`memsim.rules.stores` the hardware argument.
The subpackage :mod:`memsim.rules.online` holds the online rules of recurrent spiking
networks: e-prop / block-diagonal RTRL and hybrid global-local plasticity.
"""

from memsim.rules.datasets import DATASETS, Dataset, load_dataset, poisson_spikes
from memsim.rules.erbp import ERBP, ERBPConfig, ERBPResult
from memsim.rules.stores import make_store

__all__ = ["DATASETS", "ERBP", "Dataset", "ERBPConfig", "ERBPResult", "load_dataset",
           "make_store", "poisson_spikes"]
