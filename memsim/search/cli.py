"""Command ``memsim search`` (and the search part of ``memsim report``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_commands", "report_search"]

EPILOG = """\
The search file declares the design space and the objective (see searches/codesign_8x8.toml).
BO (DeepHyper's CBO) and random search each get BUDGET evaluations; every evaluation is
stored as it finishes, and the same command resumes an interrupted search (the optimizer is
replayed from the store, so it suggests what the uninterrupted search would have). Examples:
  memsim search searches/codesign_8x8.toml                local cluster, one worker per CPU
  memsim search searches/codesign_8x8.toml --budget 60    extend a finished search
  memsim search searches/power_2x4x2.toml --scheduler tcp://10.0.0.5:8786
  memsim report results/codesign_8x8.sqlite               best so far, importance, Pareto front
Needs deephyper: pip install 'memsim[search]'."""


def _cmd_search(args: argparse.Namespace) -> int:
    from memsim.search.engine import run_search
    from memsim.search.space import load_search

    spec = load_search(args.search)
    if args.budget is not None:
        spec = spec.with_budget(args.budget)
    store = Path(args.store) if args.store else Path("results") / f"{spec.name}.sqlite"
    print(f"search {spec.name!r}: {len(spec.searched)} parameters, budget {spec.budget} x "
          f"{' + '.join(spec.methods)}, {spec.parallel} in flight per method -> {store}",
          flush=True)
    try:
        summary = run_search(spec, store, scheduler=args.scheduler, workers=args.workers,
                             synchronous=args.sync, progress=not args.no_progress,
                             connect_timeout=args.connect_timeout)
    except KeyboardInterrupt:
        from memsim.search.store import SearchStore, is_search_store

        if is_search_store(store):
            with SearchStore.open_readonly(store) as db:
                done = len(db.evaluations(spec.name))
            print(f"\n{done} evaluations of {spec.name!r} are stored in {store}; run the same "
                  "command again to resume", file=sys.stderr)
        raise
    print(summary)
    if not summary.ok:
        print(f"memsim: error: the search stopped before its budget ({len(summary.errors)} "
              "error(s)); fix the cause and run the same command again to resume",
              file=sys.stderr)
        return 1
    return 0


def report_search(store: str, out: str | None, search: str | None) -> int:
    """``memsim report STORE`` for a store that holds a search."""
    from memsim.search.report import search_report

    folder = Path(out) if out else Path(store).with_name(Path(store).stem + "_report")
    text, files = search_report(store, folder, search=search)
    print(text)
    print(f"\nreport written to {folder}/:")
    for f in files:
        print(f"  {f}")
    return 0


def add_commands(subparsers: Any) -> None:
    """Register ``search`` with the ``memsim`` parser."""
    p = subparsers.add_parser(
        "search", help="co-design search: BO vs random search over a design space, on Dask",
        description="Search the design space of a search file with DeepHyper's CBO and with "
        "random search at equal budget, on a local Dask cluster (default) or an existing one.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("search", help="search file (.toml), e.g. searches/codesign_8x8.toml")
    p.add_argument("--store", help="SQLite result store (default: results/NAME.sqlite)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="address of a running Dask scheduler (default: start a local cluster)")
    p.add_argument("--budget", type=int, metavar="N",
                   help="evaluations per method (default: the file's budget)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="local cluster workers (default: one per CPU)")
    p.add_argument("--sync", action="store_true",
                   help="evaluate in this process, one by one, without Dask")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--connect-timeout", type=float, default=10.0, metavar="S",
                   help="seconds to wait for the scheduler (default: %(default)s)")
    p.set_defaults(func=_cmd_search)
