"""``memsim spice-check``: the same transient in memsim and ngspice, as a table and a plot."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from memsim.cli import parse_drive
from memsim.spice.compare import STATE_FLOOR

__all__ = ["DEFAULT_AMPLITUDES", "MOVING_SWING", "add_commands", "moving_drive"]

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
                   help="drive of every input not given by --drive (default: the smallest "
                   "sine at 50 Hz of 1.5, 3, 6 or 12 V that moves the devices)")
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


DEFAULT_AMPLITUDES = (1.5, 3.0, 6.0, 12.0)
"""Sine amplitudes (V, at 50 Hz) the default drive tries, smallest first."""

MOVING_SWING = 5 * STATE_FLOOR
"""A default drive must move some device state by this much in memsim (five times the floor
below which the comparison treats the states as constant)."""


def moving_drive(net: Any, t_end: float) -> tuple[str, float]:
    """The default drive of ``spice-check``: the first sine of :data:`DEFAULT_AMPLITUDES` at
    50 Hz, on every input, that moves some device state by :data:`MOVING_SWING` in memsim
    (a drive below the devices' thresholds would compare a fixed resistor network), and the
    largest state swing it gives. The largest amplitude if none does.

    >>> import memsim
    >>> moving_drive(memsim.load(memsim.circuit_path("paper_2x4x2")), 0.04)[0]
    'sine:3:50'
    """
    from memsim.cli import parse_drive
    from memsim.solve.transient import simulate

    swing, spec = 0.0, ""
    mem = net.memristive
    for amplitude in DEFAULT_AMPLITUDES:
        spec = f"sine:{amplitude:g}:50"
        res = simulate(net, parse_drive(spec), t_end, t_eval=np.linspace(0, t_end, 201))
        swing = float(np.ptp(res.x[:, mem], axis=0).max()) if mem.any() else 0.0
        if swing >= MOVING_SWING:
            break
    return spec, swing


def _cmd_spice_check(args: argparse.Namespace) -> int:
    from memsim.cli import circuit_and_drives
    from memsim.errors import ParameterError
    from memsim.spice.compare import compare

    net, path, driven, t_end, defaulted = circuit_and_drives(args, "float")
    t_end = t_end or 0.04
    if args.points < 2:
        raise ParameterError("points", f"need at least 2 output steps, got {args.points}")
    if defaulted:
        spec, _ = moving_drive(net, t_end)
        driven = {net.node_names[i]: parse_drive(spec) for i in net.inputs}
        print(f"drive: {spec} on every input (the smallest of "
              f"{', '.join(f'{a:g}' for a in DEFAULT_AMPLITUDES)} V at 50 Hz that moves a "
              f"device state by >= {MOVING_SWING:g} in memsim; --all SPEC chooses another)")
    result = compare(net, driven, t_end, t_step=t_end / args.points, threshold=args.threshold,
                     mode=args.mode)
    print(result.table())
    swing = float(np.ptp(result.x_memsim, axis=0).max()) if result.x_memsim.size else 0.0
    if swing < STATE_FLOOR:
        print(f"note: the device states moved by at most {swing:.2g} (full swing: 1), so this "
              "compared a fixed resistor network, not the device dynamics; drive harder or "
              "longer (e.g. --all sine:3:50) to cross-check the memristor models")
    plot = Path(args.plot) if args.plot else Path("results") / f"{path.stem}_spice_check.png"
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
