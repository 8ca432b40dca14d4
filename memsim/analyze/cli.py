"""Commands ``memsim capacity``, ``memsim controllability`` and ``memsim study``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_commands"]

CAPACITY_EPILOG = """\
A trial draws a random P-pattern task and the run's device sample, trains, and succeeds if all
P patterns are right in one full pass within the step budget. Examples:
  memsim capacity paper_2x4x2                        one-hot patterns, R = 200 per load
  memsim capacity paper_2x4x2 --binary --plot s.png  binary patterns (up to 3 on 2 inputs)
  memsim capacity --abstract 4 8 4 -R 100            the Chialvo-Bak model
  memsim capacity paper_2x4x2 --threads 2            trials on two threads, same curve"""

STUDY_EPILOG = """\
Runs the three experiments of notebooks/02_capacity_controllability.ipynb and writes
study.json and width.png, symmetry.png, depth.png to --out. Examples:
  memsim study --settings small --out results/study02_small      about a minute
  memsim study --settings full --out results/study02             about an hour on 2 cores"""


def _network(name: str) -> Any:
    import memsim

    path = Path(name)
    return memsim.load(path if path.suffix else memsim.circuit_path(name))


def _cmd_capacity(args: argparse.Namespace) -> int:
    from memsim.analyze.capacity import capacity_curve

    if args.abstract:
        factory: Any = "abstract"
    elif args.circuit:
        factory = _network(args.circuit)
    else:
        print("memsim capacity: give a circuit or --abstract SIZES", file=sys.stderr)
        return 2
    res = capacity_curve(factory, repetitions=args.repetitions, seed=args.seed,
                         abstract_sizes=args.abstract, max_steps=args.max_steps,
                         one_hot=not args.binary, progress=not args.no_progress,
                         threads=args.threads)
    print(res.summary())
    print(f"wall time {res.wall_time:.1f} s")
    if args.plot:
        import matplotlib.pyplot as plt

        ax = res.plot()
        ax.legend(fontsize=8)
        ax.figure.tight_layout()
        ax.figure.savefig(args.plot, dpi=120)
        plt.close(ax.figure)
        print(f"wrote {args.plot}")
    return 0


def _cmd_controllability(args: argparse.Namespace) -> int:
    from memsim.analyze.controllability import controllability

    net = _network(args.circuit)
    for mode in ("linear", "device"):
        c = controllability(net, mode=mode, configurations=args.configurations,
                            v_max=args.v_max)
        print(c.summary())
    return 0


def _cmd_study(args: argparse.Namespace) -> int:
    from memsim.analyze.study import run_study

    out = Path(args.out)
    run_study(args.settings, out=out, progress=not args.no_progress)
    print(f"wrote {out / 'study.json'} and figures")
    return 0


def add_commands(subparsers: Any) -> None:
    """Register the analysis commands."""
    fmt = argparse.RawDescriptionHelpFormatter
    p = subparsers.add_parser("capacity", help="success curve S(P) and capacity of a topology",
                              epilog=CAPACITY_EPILOG, formatter_class=fmt)
    p.add_argument("circuit", nargs="?", help="circuit name (circuits/) or file")
    p.add_argument("--abstract", type=int, nargs="+", metavar="W",
                   help="layer sizes of the abstract Chialvo-Bak model instead of a circuit")
    p.add_argument("-R", "--repetitions", type=int, default=200, help="trials per load")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-steps", type=int, help="step budget per task")
    p.add_argument("--binary", action="store_true", help="binary (not one-hot) patterns")
    p.add_argument("--plot", metavar="PNG", help="save the success curve")
    p.add_argument("--threads", type=int, metavar="N",
                   help="threads the trials of a load run on (default MEMSIM_THREADS or 1; "
                        "the curve does not depend on it)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_capacity)

    p = subparsers.add_parser("controllability", help="rank-based controllability of a circuit",
                              formatter_class=fmt)
    p.add_argument("circuit", help="circuit name (circuits/) or file")
    p.add_argument("--configurations", choices=["learning", "all"], default="learning")
    p.add_argument("--v-max", type=float, default=4.0, help="largest drive (device mode), V")
    p.set_defaults(func=_cmd_controllability)

    p = subparsers.add_parser("study", help="the topology study of notebook 02",
                              epilog=STUDY_EPILOG, formatter_class=fmt)
    p.add_argument("--settings", choices=["small", "full"], default="small")
    p.add_argument("--out", default="results/study02")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_study)
