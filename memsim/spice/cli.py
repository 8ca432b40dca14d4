"""``memsim spice-check``: the same transient in memsim and ngspice, as a table and a plot."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["add_commands"]

EPILOG = """\
drives (as for `memsim simulate`): --all SPEC for every input, --drive NAME=SPEC for one;
SPEC is dc:V, sine:AMP:FREQ[:PHASE_DEG], pulse:V1:V2:WIDTH:PERIOD or float.
A SPICE netlist (.cir) keeps its own sources and .tran unless drives or --t-end are given.

The table lists, per device state and terminal current, the RMS and largest difference
divided by the signal's range (see memsim.spice.compare); --tolerance makes the command
fail (exit code 1) when the largest normalised RMS error exceeds it."""


def add_commands(subparsers: Any) -> None:
    """Register ``spice-check`` on the ``memsim`` command."""
    p = subparsers.add_parser(
        "spice-check", help="cross-check a circuit's transient against ngspice",
        description="Run the same transient in memsim and in ngspice (through PySpice), print "
        "normalised errors per device and terminal with both wall times, and write an overlay "
        "plot of states and output currents.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("circuit", help="circuit file (.toml, or a SPICE netlist .cir), or the "
                   "name of a shipped circuit such as paper_2x4x2")
    p.add_argument("--all", default=None, metavar="SPEC",
                   help="drive of every input not given by --drive (default: sine:1.5:50)")
    p.add_argument("--drive", action="append", metavar="NAME=SPEC", help="drive of one input")
    p.add_argument("--t-end", type=float, default=None,
                   help="end time in s (default: the netlist's .tran, else 0.04)")
    p.add_argument("--points", type=int, default=2000, help="output steps (default: 2000)")
    p.add_argument("--threshold", choices=["auto", "xspice", "subckt"], default="auto",
                   help="form of threshold devices in the netlist (default: auto)")
    p.add_argument("--mode", choices=["shared", "batch"], default="shared",
                   help="ngspice through PySpice's shared library, or `ngspice -b`")
    p.add_argument("--plot", default=None,
                   help="overlay plot path (default: results/NAME_spice_check.png)")
    p.add_argument("--netlist", default=None, help="also write the netlist ngspice ran here")
    p.add_argument("--tolerance", type=float, default=None,
                   help="fail if the largest normalised RMS error exceeds this")
    p.set_defaults(func=_cmd_spice_check)


def _cmd_spice_check(args: argparse.Namespace) -> int:
    from memsim.circuit import load
    from memsim.cli import circuit_file, parse_drive
    from memsim.errors import ParameterError
    from memsim.spice.compare import STATE_FLOOR, compare
    from memsim.spice.parse import parse_netlist

    path = circuit_file(args.circuit)
    drives: dict[str, Any] = {}
    t_end = args.t_end
    if path.suffix.lower() in (".cir", ".sp", ".spice", ".net"):
        from memsim.errors import CircuitFileError

        try:
            parsed = parse_netlist(path.read_text(encoding="utf-8"), source=str(path))
        except OSError as exc:
            raise CircuitFileError(path, f"cannot read the file ({exc.strerror})") from None
        net = parsed.network
        if args.all is None and not args.drive:
            drives = dict(parsed.drives)
        t_end = t_end or parsed.t_end
    else:
        net = load(path)
    names = [net.node_names[i] for i in net.inputs]
    if not drives:
        spec = args.all or "sine:1.5:50"
        drives = {n: parse_drive(spec) for n in names}
    for item in args.drive or []:
        name, sep, spec = item.partition("=")
        if not sep:
            raise ParameterError("drive", f"expected NAME=SPEC, got {item!r}")
        if name not in names:
            raise ParameterError("drive", f"unknown input {name!r}; inputs: {', '.join(names)}")
        drives[name] = parse_drive(spec)
    driven = {k: v for k, v in drives.items() if v is not None}
    t_end = t_end or 0.04
    if args.points < 2:
        raise ParameterError("points", f"need at least 2 output steps, got {args.points}")
    result = compare(net, driven, t_end, t_step=t_end / args.points, threshold=args.threshold,
                     mode=args.mode)
    print(result.table())
    swing = float(np.ptp(result.x_memsim, axis=0).max()) if result.x_memsim.size else 0.0
    if swing < STATE_FLOOR:
        print(f"note: the device states moved by at most {swing:.2g} (full swing: 1), so this "
              "compared a fixed resistor network, not the device dynamics; drive harder or "
              "longer (e.g. --all sine:3:50) to cross-check the memristor models")
    plot = Path(args.plot) if args.plot else Path("results") / f"{net.name}_spice_check.png"
    plot.parent.mkdir(parents=True, exist_ok=True)
    result.plot(plot)
    print(f"wrote {plot}")
    if args.netlist:
        Path(args.netlist).write_text(result.netlist, encoding="utf-8")
        print(f"wrote {args.netlist}")
    if args.tolerance is not None and result.max_nrms > args.tolerance:
        worst = result.worst()
        print(f"FAIL: {worst.kind} {worst.name} has normalised RMS error {worst.nrms:.3e} > "
              f"{args.tolerance:g}")
        return 1
    return 0
