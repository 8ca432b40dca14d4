"""The measured device as a circuit: a memristor, optionally behind a series resistor.

A 1T1R cell's access transistor is, on its RESET branch (gate fully on, currents below its
saturation), a resistor in series with the memristor: the applied voltage divides between the
two and only the memristor's share drives its state. :func:`cells` builds ``n`` independent
cells in one network, each with its own input (driven by one measured sweep) and its own
output ammeter, so that :func:`memsim.simulate` runs every cycle of a fit, and every
perturbed copy of a finite-difference Jacobian, in one call.

Polarity: the data's positive voltage resets the device (drives it OFF). memsim's HP,
threshold and linear models switch ON under a positive edge voltage, so their edge is
connected from the output to the middle node (reversed); VTEAM keeps its published polarity
(``v > v_off`` switches OFF) and is connected forward.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from memsim.circuit.builders import from_networkx
from memsim.circuit.network import Network
from memsim.devices.models import Device, Model, Resistor
from memsim.errors import ParameterError

__all__ = ["cell", "cells", "positive_resets"]


def positive_resets(model: Model | int) -> bool:
    """Whether the model, connected forward, is driven OFF by a positive voltage.

    >>> positive_resets(Model.VTEAM), positive_resets(Model.HP)
    (True, False)
    """
    return Model(int(model)) == Model.VTEAM


def cells(devices: list[Device], r_series: float | None | list[float | None],
          name: str = "cells") -> Network:
    """``len(devices)`` independent cells: ``in{k} -[r_series]- m{k} -[device]- out{k}``.

    ``r_series`` None (or 0): no series element, the device sits between ``in{k}`` and
    ``out{k}``. The device edge of cell k is edge ``2k + 1`` with a series resistor (edge
    ``2k`` is the resistor), else edge ``k``.

    Raises
    ------
    ParameterError
        For no devices, a non-memristive device, or a non-positive series resistance.

    Examples
    --------
    >>> from memsim.devices import preset
    >>> net = cells([preset("vteam2015")] * 2, 1e3)
    >>> net.n_edges, [net.node_names[i] for i in net.inputs]
    (4, ['in0', 'in1'])
    """
    if not devices:
        raise ParameterError("devices", "need at least one device")
    rs = r_series if isinstance(r_series, list) else [r_series] * len(devices)
    if len(rs) != len(devices):
        raise ParameterError("r_series", f"need {len(devices)} values, got {len(rs)}")
    g = nx.MultiDiGraph()
    for k, (dev, r) in enumerate(zip(devices, rs, strict=True)):
        if not dev.memristive:
            raise ParameterError("device", f"cell {k}: {type(dev).__name__} is not a memristor")
        a, b = f"in{k}", f"out{k}"
        if r:
            if not np.isfinite(r) or r <= 0:
                raise ParameterError("r_series", f"must be a positive resistance, got {r!r}")
            g.add_edge(a, f"m{k}", device=Resistor(float(r)), name=f"rs{k}")
            a = f"m{k}"
        ends = (a, b) if positive_resets(dev.model) else (b, a)
        g.add_edge(*ends, device=dev, name=f"dev{k}")
    n = len(devices)
    return from_networkx(g, inputs=[f"in{k}" for k in range(n)],
                         outputs=[f"out{k}" for k in range(n)], device=devices[0], name=name)


def cell(device: Device, r_series: float | None = None, name: str = "cell") -> Network:
    """One cell (see :func:`cells`): input ``in0``, output ``out0``.

    >>> from memsim.devices import preset
    >>> cell(preset("pershin2011"), 500.0).summary().splitlines()[0]
    "network 'cell': 3 nodes, 2 edges (1 resistor, 1 threshold)"
    """
    return cells([device], r_series, name)
