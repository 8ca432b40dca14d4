"""The ``memsim`` command line. Run ``memsim --help`` for the tour.

``memsim --help`` imports none of the command modules (numba alone takes half a second to
import): it reads each module's commands and their one-line help from the module's source
(:func:`command_table`), and ``memsim COMMAND`` imports only the module that defines COMMAND.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from memsim import __version__
from memsim.errors import MemsimError, ParameterError

__all__ = ["COMMAND_MODULES", "CircuitRun", "build_parser", "circuit_and_drives", "circuit_file",
           "command_table", "main", "parse_drive"]

log = logging.getLogger(__name__)

# Modules that contribute subcommands through ``add_commands(subparsers)``: one line each.
COMMAND_MODULES: tuple[str, ...] = (
    "memsim.learn.cli",
    "memsim.analyze.cli",
    "memsim.spice.cli",
    "memsim.sweep.cli",
    "memsim.measure.cli",
    "memsim.rules.cli",
    "memsim.search.cli",
)

DESCRIPTION = """\
memsim simulates memristive circuits for neuromorphic learning research.

A CIRCUIT argument is a circuit file (.toml, or a SPICE netlist .cir) or the name of a
circuit shipped with memsim (paper_2x4x2, crossbar_16x16, random_12, wheatstone).
Start with:
  memsim info paper_2x4x2            what the network is
  memsim simulate paper_2x4x2        a transient: CSV and plot in results/
  memsim spice-check paper_2x4x2     the same transient in memsim and ngspice
Run `memsim COMMAND --help` for a command's options.
"""

CIRCUIT_HELP = ("circuit file (.toml, or a SPICE netlist .cir), or the name of a shipped "
                "circuit such as paper_2x4x2")


def command_table(module: str) -> dict[str, str]:
    """The commands ``module`` registers and their one-line help, read from its source
    without importing it: every ``add_parser("NAME", help="...")`` call with literal text.

    ``{}`` if the source cannot be read that way (then :func:`build_parser` imports the
    module; tests/unit/test_cli.py checks that every module in :data:`COMMAND_MODULES` reads).

    >>> command_table("memsim.spice.cli")
    {'spice-check': "cross-check a circuit's transient against ngspice"}
    """
    root = Path(__file__).resolve().parent
    path = root.joinpath(*module.split(".")[1:]).with_suffix(".py")
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return {}
    table = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_parser" and node.args
                and isinstance(node.args[0], ast.Constant)):
            help_ = next((k.value for k in node.keywords if k.arg == "help"), None)
            name = node.args[0].value
            if not isinstance(help_, ast.Constant) or not isinstance(name, str):
                return {}
            table[name] = str(help_.value)
    return table


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``memsim`` parser: every command in full, or, given ``command``, the module of that
    command in full and the other commands by name and help only (their modules unimported)."""
    parser = argparse.ArgumentParser(
        prog="memsim", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.add_argument("--version", action="version", version=f"memsim {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_core_commands(sub)
    for module in COMMAND_MODULES:
        table = {} if command is None else command_table(module)
        if not table or command in table:
            importlib.import_module(module).add_commands(sub)
        else:
            for name, help_ in table.items():
                sub.add_parser(name, help=help_, add_help=False)
    return parser


DRIVE_HELP = """\
drive of one input, NAME=SPEC, repeatable; SPEC is one of
  dc:V                       constant voltage
  sine:AMP:FREQ[:PHASE_DEG]  sine wave
  pulse:V1:V2:WIDTH:PERIOD   pulse train (1 us edges)
  float                      leave the input disconnected
e.g. --drive in0=sine:1.5:1 --drive in1=float
A SPICE netlist (.cir) keeps its own sources and .tran unless drives or --t-end are given."""

NETLIST_SUFFIXES = (".cir", ".sp", ".spice", ".net")


def parse_drive(spec: str) -> Any:
    """A drive from its command-line form (see ``DRIVE_HELP``); ``None`` for ``float``.

    >>> parse_drive("sine:1.5:2")
    Sine(amplitude=1.5, frequency=2.0, offset=0.0, delay=0.0, phase=0.0)
    """
    from memsim.solve.drives import DC, Pulse, Sine

    kind, *vals = spec.split(":")
    try:
        nums = [float(v) for v in vals]
        if kind == "float" and not nums:
            return None
        if kind == "dc" and len(nums) == 1:
            return DC(nums[0])
        if kind == "sine" and len(nums) in (2, 3):
            return Sine(nums[0], nums[1], phase=nums[2] if len(nums) == 3 else 0.0)
        if kind == "pulse" and len(nums) == 4:
            return Pulse(nums[0], nums[1], rise=1e-6, fall=1e-6, width=nums[2], period=nums[3])
    except ValueError:
        pass
    raise ParameterError("drive", f"cannot read drive {spec!r}; see --help for the forms")


def circuit_file(spec: str) -> Path:
    """The file a CIRCUIT argument names: an existing path, else a shipped circuit's name.

    >>> circuit_file("paper_2x4x2").name
    'paper_2x4x2.toml'

    Raises
    ------
    CircuitFileError
        If ``spec`` is neither a file nor a shipped circuit (the message lists them).
    """
    from memsim.resources import find_file

    return find_file("circuits", spec)


class CircuitRun(NamedTuple):
    """What a command's CIRCUIT, ``--all``, ``--drive`` and ``--t-end`` arguments give."""

    network: Any
    path: Path
    drives: dict[str | int, Any]  # input name -> Drive; floating inputs left out
    t_end: float | None  # None when neither the netlist nor --t-end gives one
    defaulted: bool  # True when the inputs got the command's default drive


def circuit_and_drives(args: argparse.Namespace, default_drive: str) -> CircuitRun:
    """The network, its file, the input drives and the end time of a command's arguments
    (see :data:`DRIVE_HELP`).

    A SPICE netlist keeps its own sources and ``.tran`` unless drives or ``--t-end`` are
    given; every other input gets ``--all`` (``default_drive`` if not given).

    Raises
    ------
    CircuitFileError
        If the circuit file cannot be read.
    ParameterError
        For a malformed drive, or a drive of an input the circuit does not have.
    """
    from memsim.circuit import load

    path = circuit_file(args.circuit)
    t_end = args.t_end
    drives: dict[str, Any] = {}
    if path.suffix.lower() in NETLIST_SUFFIXES:
        from memsim.spice.parse import parse_netlist_file

        parsed = parse_netlist_file(path)
        net = parsed.network
        if args.all is None and not args.drive:  # the netlist's own sources
            drives.update(parsed.drives)
        t_end = t_end or parsed.t_end
    else:
        net = load(path)
    names = [net.node_names[i] for i in net.inputs]
    defaulted = not drives and args.all is None
    if not drives:
        drives = {n: parse_drive(args.all or default_drive) for n in names}
    for item in args.drive or []:
        name, sep, spec = item.partition("=")
        if not sep:
            raise ParameterError("drive", f"expected NAME=SPEC, got {item!r}")
        if name not in names:
            raise ParameterError("drive", f"unknown input {name!r}; inputs: "
                                 f"{', '.join(names) or 'none'}")
        drives[name] = parse_drive(spec)
    driven: dict[str | int, Any] = {k: v for k, v in drives.items() if v is not None}
    return CircuitRun(net, path, driven, t_end,
                      defaulted and not args.drive)


def _cmd_info(args: argparse.Namespace) -> int:
    import numpy as np

    from memsim.circuit import load

    net = load(circuit_file(args.circuit))
    print(net.summary())
    desc = net.meta.get("description")
    if desc:
        print(f"  {desc}")
    mem = net.memristive
    if mem.any():
        r_on, r_off = net.params[mem, 0], net.params[mem, 1]
        print(f"  R_on {r_on.min():.4g}..{r_on.max():.4g} ohm, R_off {r_off.min():.4g}.."
              f"{r_off.max():.4g} ohm, initial states {net.x0[mem].min():.3g}.."
              f"{net.x0[mem].max():.3g}")
    if net.n_nodes:
        degree = np.bincount(net.edges.ravel(), minlength=net.n_nodes)
        print(f"  node degree {degree.min()}..{degree.max()} (mean {degree.mean():.2f}); "
              f"independent cycles {net.n_edges - net.n_nodes + _components(net)}")
    return 0


def _components(net: Any) -> int:
    import networkx as nx

    return int(nx.number_connected_components(net.to_networkx().to_undirected()))


def _cmd_simulate(args: argparse.Namespace) -> int:
    import numpy as np

    from memsim.solve.transient import simulate

    net, path, driven, t_end, _ = circuit_and_drives(args, "sine:3:1")
    t_end = t_end or 2.0
    res = simulate(net, driven, t_end, method=args.method, dt=args.dt,
                   t_eval=np.linspace(0, t_end, args.points))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{path.stem}_transient"  # the file's name: a netlist's title is free text
    mem = np.flatnonzero(net.memristive)
    header = ["t"] + [f"x_{net.edge_names[e]}" for e in mem] + [
        f"i_{net.node_names[o]}" for o in net.outputs] + ["power"]
    table = np.column_stack([res.t, res.x[:, mem], res.output_currents, res.power])
    np.savetxt(f"{stem}.csv", table, delimiter=",", header=",".join(header), comments="")
    res.plot(f"{stem}.png")
    print(f"simulated {path.stem}: {res.n_steps} steps ({res.method}) in {res.wall_time:.3f} s")
    states = (f"final states: min {res.x[-1, mem].min():.4f}, max {res.x[-1, mem].max():.4f}"
              if mem.size else "no memristors")
    print(f"{states}; peak power {res.power.max():.4g} W")
    print(f"wrote {stem}.csv and {stem}.png")
    return 0


def _add_core_commands(sub: Any) -> None:
    p = sub.add_parser("info", help="summarize a circuit file's topology",
                       description="Print nodes, terminals, devices and cycle count of a circuit.")
    p.add_argument("circuit", help=CIRCUIT_HELP)
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser(
        "simulate", help="run a transient and write states, currents and a plot",
        description="Simulate a circuit under input drives (every input gets --all unless "
        "--drive says otherwise; outputs are held at 0 V through ammeters). Writes "
        "NAME_transient.csv (time, device states x_*, output currents i_*, power) and "
        "NAME_transient.png (states, output currents, and the I-V loop for one input and one "
        "output, else the power) to --out.",
        epilog=DRIVE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("circuit", help=CIRCUIT_HELP)
    p.add_argument("--all", default=None, metavar="SPEC",
                   help="drive of every input not given by --drive (default: sine:3:1, "
                   "3 V at 1 Hz)")
    p.add_argument("--drive", action="append", metavar="NAME=SPEC", help="drive of one input")
    p.add_argument("--t-end", type=float, default=None,
                   help="end time in s (default: the netlist's .tran, else 2)")
    p.add_argument("--method", choices=["rk45", "rk4", "heun", "euler"], default="rk45",
                   help="integrator: rk45 adaptive (default), rk4 / heun fixed step, euler "
                   "(first-order baseline)")
    p.add_argument("--dt", type=float, default=None,
                   help="step in s of the fixed-step methods (default: t_end/1000); first "
                   "step of rk45")
    p.add_argument("--points", type=int, default=1001,
                   help="saved time points of rk45 (default: 1001); the fixed-step methods "
                   "save every step")
    p.add_argument("--out", default="results", help="output folder (default: results)")
    p.set_defaults(func=_cmd_simulate)


class _CompileWatch:
    """Says on stderr when numba compiles kernels (after an install or an edit of memsim; the
    cache keeps them for later runs), and how long compiling took."""

    def __init__(self) -> None:
        self.depth = 0
        self.started = 0.0
        self.total = 0.0
        self.kernels = 0
        self.listener: Any = None

    def start(self) -> _CompileWatch:
        from numba.core import event

        watch = self

        class Listener(event.Listener):
            def on_start(self, event: Any) -> None:
                watch.on_start()

            def on_end(self, event: Any) -> None:
                watch.on_end()

        self.listener = Listener()
        event.register("numba:compile", self.listener)
        return self

    def stop(self) -> None:
        """Stop listening, and say how long compiling took if anything compiled."""
        from numba.core import event

        event.unregister("numba:compile", self.listener)
        if self.kernels:
            print(f"memsim: compiling took {self.total:.1f} s (later runs load the kernels "
                  "from the cache)", file=sys.stderr, flush=True)

    def on_start(self) -> None:
        if self.depth == 0:
            if not self.kernels:
                from memsim import NUMBA_CACHE

                print(f"memsim: compiling numba kernels, once per version of memsim (cached in "
                      f"{NUMBA_CACHE})", file=sys.stderr, flush=True)
            self.started = time.perf_counter()
            self.kernels += 1
        self.depth += 1

    def on_end(self) -> None:
        self.depth -= 1
        if self.depth == 0:
            self.total += time.perf_counter() - self.started


def _command_of(argv: Sequence[str]) -> str:
    """The command word of ``argv`` ('' if none): top-level options take no values."""
    return next((a for a in argv if not a.startswith("-")), "")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``memsim`` console script; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_of(argv))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    watch = _CompileWatch().start()
    try:
        return int(args.func(args) or 0)
    except MemsimError as exc:
        print(f"memsim: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("memsim: interrupted", file=sys.stderr)
        return 130
    finally:
        watch.stop()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
