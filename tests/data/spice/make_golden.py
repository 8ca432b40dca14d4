"""Writes the golden netlists of tests/unit/test_spice_netlist.py.

Run from the repository root after a deliberate change of the netlist format:

    .venv/bin/python tests/data/spice/make_golden.py

then read the diff line by line: each golden file was checked by hand (polarity of the
XSPICE element, rinit, window products, source values, metadata), and the unit tests assert
the key lines independently of these files.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np

import memsim
from memsim.devices import HP, VTEAM, Linear, Resistor, Threshold
from memsim.solve.drives import PWL, Pulse, Sine
from memsim.spice import to_netlist

HERE = Path(__file__).parent


def single_biolek() -> str:
    dev = HP(r_on=100.0, r_off=16e3, mu_v=1e-14, d=10e-9, window="biolek", p=2.0, x0=0.25)
    net = memsim.from_networkx(nx.path_graph(["a", "b"]), inputs=["a"], outputs=["b"],
                               device=dev, name="single_biolek")
    return to_netlist(net, Sine(1.5, 2.0, phase=90.0), t_end=1.0, t_step=1e-3)


def crossbar_threshold() -> str:
    devs = [Threshold(r_on=1e3, r_off=10e3, alpha=0.0, beta=1e6, v_t=1.0, x0=0.5),
            Threshold(r_on=1e3, r_off=10e3, alpha=0.0, beta=1e6, v_t=1.0, x0=0.25)]
    net = memsim.crossbar(1, 2, device=devs, name="crossbar_threshold")
    drive = Pulse(0.0, 2.0, delay=1e-3, rise=1e-5, fall=1e-5, width=2e-3, period=5e-3)
    return to_netlist(net, drive, t_end=0.01, t_step=1e-5, probe_threshold=True)


def mixed_op() -> str:
    g = nx.Graph()
    g.add_edge("In A", "0", device=VTEAM(window="prodromakis", p=1.5, x0=0.4))
    g.add_edge("0", "gnd", device=Linear(r_on=100.0, r_off=10e3, alpha=0.5, beta=10.0, x0=0.5))
    g.add_edge("In A", "out", device=Resistor(50.0))
    g.add_edge("In B", "out", device=HP(window="joglekar", p=1.0, x0=0.3))
    g.add_edge("In B", "0", device=Resistor(75.0))
    net = memsim.from_networkx(g, inputs=["In A", "In B"], outputs=["out"], ground=["gnd"],
                               device=Resistor(1.0), name="mixed op")
    net = net.pruned(np.array([False, False, False, False, True]))
    state = np.array([0.6, 0.0, 0.7, 0.0, 0.0])
    return to_netlist(net, {"In A": PWL([0.0, 1.0], [0.5, -0.5])}, op=True, state=state,
                      options={"reltol": 1e-9})


GOLDEN = {
    "single_biolek.cir": single_biolek,
    "crossbar_threshold.cir": crossbar_threshold,
    "mixed_op.cir": mixed_op,
}

if __name__ == "__main__":
    for name, make in GOLDEN.items():
        (HERE / name).write_text(make(), encoding="utf-8")
        print(f"wrote {HERE / name}")
