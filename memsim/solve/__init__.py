"""Solvers: nodal DC, transient integration, and (later) the CTDV governing equation."""

from memsim.solve.dc import DCResult, NodalSystem, Terminals, solve_dc, terminals
from memsim.solve.drives import DC, PWL, Drive, Pulse, Sine
from memsim.solve.transient import TransientResult, simulate

__all__ = ["DC", "PWL", "DCResult", "Drive", "NodalSystem", "Pulse", "Sine", "Terminals",
           "TransientResult", "simulate", "solve_dc", "terminals"]
