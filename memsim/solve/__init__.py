"""Solvers: nodal DC, transient integration, the crossbar solver, the CTDV governing equation."""

from memsim.solve.ctdv import CTDVResult, CTDVSystem, ctdv_system, cycle_projector, simulate_ctdv
from memsim.solve.dc import DCResult, NodalSystem, solve_dc
from memsim.solve.drives import DC, PWL, Drive, Pulse, Sine
from memsim.solve.topology import Terminals, check_state, terminals
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
    "check_state",
    "ctdv_system",
    "cycle_projector",
    "simulate",
    "simulate_ctdv",
    "solve_dc",
    "terminals",
]
