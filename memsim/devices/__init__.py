"""Device models: parameter sets with units, numba kernels, SPICE-independent presets.

Every device is described by a frozen dataclass (validated on construction) that packs into a
row of :data:`N_PARAMS` floats plus an integer model code. A network stores one row per edge, so
every device can carry its own parameters (device-to-device spread).

State convention, shared by all memristor models: ``x`` in [0, 1], ``x = 1`` is ON (``R_on``),
``x = 0`` is OFF (``R_off``), and ``R(x) = R_off - x (R_off - R_on)``. The voltage ``v`` and
current ``i`` of an edge are measured from its first node (``+``) to its second (``-``).
"""

from memsim.devices.arrays import DeviceArray, device_array, device_rows
from memsim.devices.kernels import conductance, conductances, rate, rates
from memsim.devices.models import (
    HP,
    N_PARAMS,
    VTEAM,
    Device,
    Linear,
    Model,
    Resistor,
    Threshold,
    Window,
    device_from_row,
)
from memsim.devices.presets import PRESETS, preset

__all__ = [
    "HP",
    "N_PARAMS",
    "PRESETS",
    "VTEAM",
    "Device",
    "DeviceArray",
    "Linear",
    "Model",
    "Resistor",
    "Threshold",
    "Window",
    "conductance",
    "conductances",
    "device_array",
    "device_from_row",
    "device_rows",
    "preset",
    "rate",
    "rates",
]
