"""Solvers: nodal DC, transient integration, the crossbar solver, the CTDV governing equation."""

from memsim.solve.ctdv import CTDVResult, CTDVSystem, ctdv_system, cycle_projector, simulate_ctdv
from memsim.solve.dc import DCResult, NodalSystem, Terminals, solve_dc, terminals
from memsim.solve.drives import DC, PWL, Drive, Pulse, Sine
from memsim.solve.transient import TransientResult, simulate

__all__ = [
    "CTDVResult",
    "CTDVSystem",
    "DC",
    "PWL",
    "DCResult",
    "Drive",
    "NodalSystem",
    "Pulse",
    "Sine",
    "Terminals",
    "TransientResult",
    "ctdv_system",
    "cycle_projector",
    "simulate",
    "simulate_ctdv",
    "solve_dc",
    "terminals",
]
