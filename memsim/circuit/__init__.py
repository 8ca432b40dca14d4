"""Networks and their builders; circuit files in TOML."""

from memsim.circuit.builders import crossbar, from_networkx, layered, random_network
from memsim.circuit.io import circuit_path, load, parse_quantity
from memsim.circuit.network import CrossbarLayout, Network, Role

__all__ = ["CrossbarLayout", "Network", "Role", "circuit_path", "crossbar", "from_networkx",
           "layered", "load", "parse_quantity", "random_network"]
