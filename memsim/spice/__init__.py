"""SPICE netlists in and out, and cross-validation against ngspice (imported lazily)."""
from memsim.spice.compare import Comparison, DCComparison, ErrorRow, compare, compare_dc
from memsim.spice.netlist import to_netlist, write_netlist
from memsim.spice.ngspice import NgspiceError, run_batch, run_shared
__all__ = ["Comparison", "DCComparison", "ErrorRow", "NgspiceError", "compare", "compare_dc",
           "run_batch", "run_shared", "to_netlist", "write_netlist"]
