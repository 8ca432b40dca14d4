"""SPICE netlists in and out, and cross-validation against ngspice (imported lazily)."""
from memsim.spice.netlist import to_netlist, write_netlist
__all__ = ["to_netlist", "write_netlist"]
