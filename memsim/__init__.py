"""memsim: a simulator of memristive circuits for neuromorphic learning research.

>>> import memsim
>>> net = memsim.crossbar(2, 2, device=memsim.devices.Resistor(1e3))
>>> memsim.solve_dc(net, [1.0, 1.0]).output_currents.tolist()
[0.002, 0.002]
"""

from memsim import _cache  # first: points numba's cache at this source version (isort: skip)
from memsim import devices
from memsim.circuit import (
    CrossbarLayout,
    Network,
    Role,
    circuit_path,
    crossbar,
    from_networkx,
    layered,
    load,
    random_network,
)
from memsim.errors import (
    CircuitFileError,
    FloatingSubnetworkWarning,
    MemsimError,
    NetworkError,
    ParameterError,
    SolverError,
)
from memsim.solve import (
    DC,
    PWL,
    DCResult,
    Pulse,
    Sine,
    TransientResult,
    simulate,
    simulate_ctdv,
    solve_dc,
)

__version__ = "0.1.0"

NUMBA_CACHE = _cache.DIRECTORY
"""Directory of this version's compiled kernels (see :mod:`memsim._cache`)."""

__all__ = [
    "DC",
    "PWL",
    "CircuitFileError",
    "Pulse",
    "Sine",
    "TransientResult",
    "simulate",
    "simulate_ctdv",
    "CrossbarLayout",
    "DCResult",
    "FloatingSubnetworkWarning",
    "MemsimError",
    "Network",
    "NetworkError",
    "ParameterError",
    "Role",
    "SolverError",
    "circuit_path",
    "crossbar",
    "devices",
    "from_networkx",
    "layered",
    "load",
    "random_network",
    "solve_dc",
]
