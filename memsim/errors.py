"""One exception tree for memsim: catch :class:`MemsimError` to catch them all."""

from __future__ import annotations

__all__ = [
    "MemsimError",
    "ParameterError",
    "NetworkError",
    "CircuitFileError",
    "MeasurementError",
    "SolverError",
    "FloatingSubnetworkWarning",
]


class MemsimError(Exception):
    """Base class of every error memsim raises on purpose."""


class ParameterError(MemsimError, ValueError):
    """A parameter is out of its allowed range; the message names the field and the fix."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


class NetworkError(MemsimError, ValueError):
    """A network is malformed: unknown node, self-loop, bad role, wrong array shape."""


class CircuitFileError(MemsimError, ValueError):
    """A circuit file (TOML or SPICE) cannot be read; the message names file, line and fix."""

    def __init__(self, path: object, message: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class MeasurementError(MemsimError, ValueError):
    """A measured data file cannot be used; the message names the file, the line and the fix."""

    def __init__(self, path: object, message: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class SolverError(MemsimError, RuntimeError):
    """A solve could not be carried out (bad drive, non-finite result, step-size collapse)."""


class FloatingSubnetworkWarning(UserWarning):
    """Part of the network touches no fixed-voltage node: its currents are set to zero."""
