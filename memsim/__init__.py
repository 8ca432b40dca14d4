"""memsim: a simulator of memristive circuits for neuromorphic learning research.

The names below load on first use (``memsim.solve_dc`` imports the solver then), so that
``import memsim`` and the ``memsim`` command start without importing numba.

>>> import memsim
>>> net = memsim.crossbar(2, 2, device=memsim.devices.Resistor(1e3))
>>> memsim.solve_dc(net, [1.0, 1.0]).output_currents.tolist()
[0.002, 0.002]
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from memsim import _cache  # first: numba's cache follows this source version (isort: skip)
from memsim.errors import (
    CircuitFileError,
    FloatingSubnetworkWarning,
    MemsimError,
    NetworkError,
    ParameterError,
    SolverError,
)
from memsim.resources import data_path

_cache.install()
if "IPython" in sys.modules:  # in Jupyter: HTML summaries of results (memsim.reprs)
    from memsim.reprs import register_ipython

    register_ipython()

__version__ = "0.1.0"

# NUMBA_CACHE: the directory of this version's compiled kernels (see memsim._cache), found on
# first use.

# Public name -> the module it lives in, imported when the name is first used.
_LAZY = {
    "devices": None,
    "CrossbarLayout": "memsim.circuit",
    "Network": "memsim.circuit",
    "Role": "memsim.circuit",
    "circuit_path": "memsim.circuit",
    "crossbar": "memsim.circuit",
    "from_networkx": "memsim.circuit",
    "layered": "memsim.circuit",
    "load": "memsim.circuit",
    "random_network": "memsim.circuit",
    "DC": "memsim.solve",
    "PWL": "memsim.solve",
    "DCResult": "memsim.solve",
    "Pulse": "memsim.solve",
    "Sine": "memsim.solve",
    "TransientResult": "memsim.solve",
    "simulate": "memsim.solve",
    "simulate_ctdv": "memsim.solve",
    "solve_dc": "memsim.solve",
}

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
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

__all__ = [
    "DC",
    "PWL",
    "CircuitFileError",
    "CrossbarLayout",
    "DCResult",
    "FloatingSubnetworkWarning",
    "MemsimError",
    "Network",
    "NetworkError",
    "ParameterError",
    "Pulse",
    "Role",
    "Sine",
    "SolverError",
    "TransientResult",
    "circuit_path",
    "crossbar",
    "data_path",
    "devices",
    "from_networkx",
    "layered",
    "load",
    "random_network",
    "simulate",
    "simulate_ctdv",
    "solve_dc",
]


def __getattr__(name: str) -> Any:
    if name == "NUMBA_CACHE":
        return _cache.directory()
    if name not in _LAZY:
        raise AttributeError(f"module 'memsim' has no attribute {name!r}")
    module = _LAZY[name]
    value = (importlib.import_module(f"memsim.{name}") if module is None
             else getattr(importlib.import_module(module), name))
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | {"NUMBA_CACHE"})
