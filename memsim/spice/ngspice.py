"""Running ngspice: in-process through PySpice's shared-library binding, or as ``ngspice -b``.

PySpice is imported only when a simulation runs. Its library lookup is made to work without
user settings: if ``NGSPICE_LIBRARY_PATH`` is unset, memsim finds ``libngspice.so.0`` itself
(the runtime package ships only that name; PySpice alone would look for the ``libngspice.so``
symlink of the ``-dev`` package). PySpice's harmless "Unsupported Ngspice version" log
message is filtered out. PySpice's ngspice object is a process-wide singleton: memsim keeps
one, serialises runs on it with a lock and clears circuits and plots after every run.
"""

from __future__ import annotations

import ctypes.util
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from memsim.errors import MemsimError

__all__ = [
    "INSTALL_HINT",
    "NgspiceError",
    "SpiceRun",
    "library_path",
    "ngspice_executable",
    "read_raw",
    "run_batch",
    "run_shared",
]

log = logging.getLogger(__name__)

INSTALL_HINT = ("install Debian's ngspice packages: "
                "sudo apt-get install ngspice libngspice0 libngspice0-dev")

_CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/libngspice.so.0",
    "/usr/lib/x86_64-linux-gnu/libngspice.so",
    "/usr/lib/aarch64-linux-gnu/libngspice.so.0",
    "/usr/lib64/libngspice.so.0",
    "/usr/lib/libngspice.so.0",
    "/usr/local/lib/libngspice.so.0",
    "/usr/local/lib/libngspice.so",
    "/opt/homebrew/lib/libngspice.dylib",
    "/usr/local/lib/libngspice.dylib",
)


class NgspiceError(MemsimError, RuntimeError):
    """ngspice is missing, rejected a netlist, or failed during a run."""


@dataclass(frozen=True)
class SpiceRun:
    """Vectors of one ngspice analysis.

    Attributes
    ----------
    vectors : dict of str to ndarray
        By lower-cased ngspice name: ``time``, node voltages by node name (``in0``,
        ``xm0_0.x``), source currents as ``vin_in0#branch``.
    wall_time : float
        Seconds from loading the netlist to having the vectors.
    mode : str
        ``"shared"`` (PySpice, in-process) or ``"batch"`` (``ngspice -b``).
    log : str
        ngspice's output text.
    """

    vectors: dict[str, np.ndarray]
    wall_time: float
    mode: str
    log: str = field(default="", repr=False)

    def __getitem__(self, name: str) -> np.ndarray:
        key = name.lower()
        if key.startswith("i(") and key.endswith(")"):
            key = key[2:-1] + "#branch"
        elif key.startswith("v(") and key.endswith(")"):
            key = key[2:-1]
        if key not in self.vectors:
            raise NgspiceError(f"ngspice produced no vector {name!r}; it has "
                               f"{', '.join(sorted(self.vectors)[:20])} ...")
        return self.vectors[key]

    def voltage(self, node: str) -> np.ndarray:
        """Voltage of ``node`` (zeros for the ground node ``0``)."""
        if node == "0":
            return np.zeros_like(self.vectors.get("time", np.zeros(1)))
        return self[f"v({node})"]


def library_path() -> str:
    """Where ngspice's shared library is: ``NGSPICE_LIBRARY_PATH``, the dynamic linker's
    ``libngspice`` or a usual install location.

    >>> library_path().split("/")[-1].startswith("libngspice")
    True

    Raises
    ------
    NgspiceError
        If no library is found; the message names the Debian packages to install.
    """
    env = os.environ.get("NGSPICE_LIBRARY_PATH")
    if env:
        return env
    found = ctypes.util.find_library("ngspice")
    if found:
        return found
    for cand in _CANDIDATES:
        if Path(cand).exists():
            return cand
    raise NgspiceError(f"ngspice's shared library (libngspice) was not found; {INSTALL_HINT}, "
                       "or set NGSPICE_LIBRARY_PATH to the library file")


class _QuietNgspice(logging.Filter):
    """Drops PySpice's "Unsupported Ngspice version" warning and demotes ngspice's own
    messages to DEBUG: memsim reports failures itself, with ngspice's output attached."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Unsupported Ngspice version"):
            return False
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


_LOCK = threading.Lock()
_SHARED: Any = None


def _shared() -> Any:
    """The process-wide PySpice NgSpiceShared instance (created on first use)."""
    global _SHARED
    if _SHARED is not None:
        return _SHARED
    path = library_path()
    logging.getLogger("PySpice.Spice.NgSpice.Shared.NgSpiceShared").addFilter(_QuietNgspice())
    try:
        from PySpice.Spice.NgSpice.Shared import NgSpiceShared
    except ImportError as exc:  # pragma: no cover - PySpice is a dependency
        raise NgspiceError(f"PySpice is not installed ({exc}); pip install PySpice") from None
    if not os.environ.get("NGSPICE_LIBRARY_PATH"):
        NgSpiceShared.LIBRARY_PATH = path
    try:
        _SHARED = NgSpiceShared.new_instance()
    except OSError as exc:
        raise NgspiceError(f"cannot load ngspice's shared library {path!r} ({exc}); "
                           f"{INSTALL_HINT}") from None
    if not _SHARED.has_xspice:  # pragma: no cover - Debian builds have XSPICE
        log.warning("this ngspice has no XSPICE: threshold devices (memristor code model) "
                    "will not simulate")
    return _SHARED


def _tail(text: str, n: int = 12) -> str:
    lines = [s for s in text.splitlines() if s.strip()]
    return "\n".join(lines[-n:])


def run_shared(netlist: str) -> SpiceRun:
    """Run ``netlist`` in ngspice's shared library through PySpice.

    Parameters
    ----------
    netlist : str
        A complete netlist (title line first, ``.end`` last) with one analysis.

    Returns
    -------
    SpiceRun

    Raises
    ------
    NgspiceError
        If ngspice is missing, rejects the netlist or fails during the run.

    Examples
    --------
    >>> run = run_shared("divider\\nV1 a 0 DC 1\\nR1 a b 1k\\nR2 b 0 1k\\n.op\\n.end\\n")
    >>> float(run["v(b)"][0])
    0.5
    """
    from PySpice.Spice.NgSpice.Shared import NgSpiceCircuitError, NgSpiceCommandError

    with _LOCK:
        ng = _shared()
        start = time.perf_counter()
        loaded = ""
        try:
            ng.load_circuit(netlist)
            loaded = ng.stdout + "\n" + ng.stderr
            ng.run()
        except (NgSpiceCircuitError, NgSpiceCommandError, NameError) as exc:
            text = "\n".join([loaded, ng.stdout, ng.stderr])
            _clear(ng)
            raise NgspiceError(f"ngspice failed ({type(exc).__name__}):\n{_tail(text)}") from None
        plot_name = ng.last_plot
        if plot_name == "const":
            text = "\n".join([ng.stdout, ng.stderr])
            _clear(ng)
            raise NgspiceError(f"ngspice ran no analysis (is there a .tran or .op line?)\n"
                               f"{_tail(text)}")
        plot = ng.plot(None, plot_name)
        # PySpice's Vector keeps the raw float64 samples in ``_data``; converting them through
        # its unit-carrying WaveForm would copy and wrap every sample.
        vectors = {name.lower(): np.asarray(vec._data).real.astype(float)
                   for name, vec in plot.items()}
        wall = time.perf_counter() - start
        text = ng.stdout
        _clear(ng)
    return SpiceRun(vectors, wall, "shared", text)


def _clear(ng: Any) -> None:
    """Forget plots and circuits so repeated runs do not accumulate memory."""
    for command in ("destroy all", "remcirc"):
        try:
            ng.exec_command(command)
        except Exception:  # noqa: BLE001 - best effort: nothing to clear is not an error
            pass


def ngspice_executable() -> str:
    """Path of the ``ngspice`` program.

    >>> ngspice_executable().endswith("ngspice")
    True

    Raises
    ------
    NgspiceError
        If it is not on ``PATH`` (the message names the Debian packages).
    """
    exe = shutil.which("ngspice")
    if exe is None:
        raise NgspiceError(f"the ngspice program is not on PATH; {INSTALL_HINT}")
    return exe


def run_batch(netlist: str, *, timeout: float | None = None) -> SpiceRun:
    """Run ``netlist`` with ``ngspice -b -r <rawfile>`` in a temporary folder.

    The wall time includes starting the program and reading its binary raw file.

    Raises
    ------
    NgspiceError
        If ngspice is missing, exits with an error, times out or writes no raw file.

    Examples
    --------
    >>> run = run_batch("divider\\nV1 a 0 DC 1\\nR1 a b 3k\\nR2 b 0 1k\\n.op\\n.end\\n")
    >>> float(run["v(b)"][0])
    0.25
    """
    exe = ngspice_executable()
    with tempfile.TemporaryDirectory(prefix="memsim-ngspice-") as tmp:
        cir, raw = Path(tmp) / "circuit.cir", Path(tmp) / "out.raw"
        cir.write_text(netlist, encoding="utf-8")
        start = time.perf_counter()
        try:
            proc = subprocess.run([exe, "-b", "-r", str(raw), str(cir)], cwd=tmp,
                                  capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise NgspiceError(f"ngspice -b did not finish within {timeout} s") from None
        text = proc.stdout + proc.stderr
        if proc.returncode != 0 or not raw.exists():
            raise NgspiceError(f"ngspice -b failed (exit code {proc.returncode}):\n"
                               f"{_tail(text)}")
        vectors = read_raw(raw)
        wall = time.perf_counter() - start
    return SpiceRun(vectors, wall, "batch", text)


def read_raw(path: str | Path) -> dict[str, np.ndarray]:
    r"""The vectors of the last plot in an ngspice binary (or ASCII) raw file.

    >>> import pathlib, tempfile
    >>> raw = pathlib.Path(tempfile.mkdtemp()) / "a.raw"
    >>> _ = raw.write_text("Title: t\nPlotname: Transient Analysis\nFlags: real\n"
    ...                    "No. Variables: 2\nNo. Points: 2\nVariables:\n\t0\ttime\ttime\n"
    ...                    "\t1\tv(a)\tvoltage\nValues:\n 0\t0\n\t1\n 1\t1e-3\n\t2\n")
    >>> {k: v.tolist() for k, v in read_raw(raw).items()}
    {'time': [0.0, 0.001], 'a': [1.0, 2.0]}

    Raises
    ------
    NgspiceError
        If the file is not a raw file memsim can read.
    """
    data = Path(path).read_bytes()
    plots: list[dict[str, np.ndarray]] = []
    pos = 0
    while pos < len(data):
        header: dict[str, str] = {}
        names: list[str] = []
        while True:
            end = data.find(b"\n", pos)
            if end < 0:
                raise NgspiceError(f"{path}: truncated raw file header")
            line = data[pos:end].decode("latin-1")
            pos = end + 1
            if line.startswith("\t") or (names and line[:1].isspace()):
                names.append(line.split()[1].lower())
                continue
            key, _, value = line.partition(":")
            key = key.strip().lower()
            if key in ("binary", "values"):
                break
            header[key] = value.strip()
        try:
            n_vars, n_pts = int(header["no. variables"]), int(header["no. points"])
        except (KeyError, ValueError):
            raise NgspiceError(f"{path}: not an ngspice raw file (no 'No. Variables' and "
                               "'No. Points' header lines)") from None
        if len(names) != n_vars:
            raise NgspiceError(f"{path}: the raw file header lists {len(names)} variables, "
                               f"not {n_vars}")
        complex_ = "complex" in header.get("flags", "")
        width = 2 if complex_ else 1
        if key == "binary":
            count = n_vars * n_pts * width
            arr = np.frombuffer(data, dtype="<f8", count=count, offset=pos)
            pos += 8 * count
        else:
            tokens: list[float] = []
            while len(tokens) < n_vars * n_pts * width and pos < len(data):
                end = data.find(b"\n", pos)
                end = len(data) if end < 0 else end
                parts = data[pos:end].decode("latin-1").replace(",", " ").split()
                pos = end + 1
                if parts and len(parts) in (2, 3) and parts[0].isdigit():
                    parts = parts[1:]
                tokens += [float(s) for s in parts]
            arr = np.array(tokens)
        arr = arr.reshape(n_pts, n_vars, width)[..., 0]
        plots.append({nm: arr[:, k].copy() for k, nm in enumerate(names)})
        while pos < len(data) and data[pos:pos + 1] in (b"\n", b"\r"):
            pos += 1
    if not plots:
        raise NgspiceError(f"{path}: no plot in the raw file")
    out = {}
    for nm, arr in plots[-1].items():
        key = nm[2:-1] if nm.startswith("v(") and nm.endswith(")") else nm
        if key.startswith("i(") and key.endswith(")"):
            key = key[2:-1] + "#branch"
        out[key] = arr
    return out
