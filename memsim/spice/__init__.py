"""SPICE netlists in and out, and cross-validation against ngspice.

* :func:`to_netlist` / :func:`write_netlist`: a network and its drives as an ngspice netlist
  (memristors as behavioural subcircuits or ngspice's XSPICE ``memristor``);
* :func:`parse_netlist` / :func:`read_netlist`: a netlist back into a network;
* :func:`compare` / :func:`compare_dc`: the same transient (DC point) in memsim and in ngspice,
  with normalised errors per device and terminal;
* :func:`run_shared` / :func:`run_batch`: ngspice through PySpice's shared library or as
  ``ngspice -b``.

PySpice and matplotlib are imported only when a simulation or plot runs.
"""

from memsim.spice.compare import (
    DEFAULT_OPTIONS,
    Comparison,
    DCComparison,
    ErrorRow,
    compare,
    compare_dc,
    spice_states,
)
from memsim.spice.netlist import (
    names,
    subcircuit,
    subcircuit_name,
    threshold_form,
    to_netlist,
    write_netlist,
)
from memsim.spice.ngspice import NgspiceError, SpiceRun, library_path, run_batch, run_shared
from memsim.spice.parse import (
    ParsedNetlist,
    parse_netlist,
    parse_netlist_file,
    parse_number,
    read_netlist,
)

__all__ = [
    "DEFAULT_OPTIONS",
    "Comparison",
    "DCComparison",
    "ErrorRow",
    "NgspiceError",
    "ParsedNetlist",
    "SpiceRun",
    "compare",
    "compare_dc",
    "library_path",
    "names",
    "parse_netlist",
    "parse_netlist_file",
    "parse_number",
    "read_netlist",
    "run_batch",
    "run_shared",
    "spice_states",
    "subcircuit",
    "subcircuit_name",
    "threshold_form",
    "to_netlist",
    "write_netlist",
]
