"""Commands ``memsim sweep``, ``memsim results`` and ``memsim report``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_commands"]

SWEEP_EPILOG = """\
The sweep file declares the grid (see sweeps/demo.toml). Finished tasks are written to the
store one by one; run the same command again to resume after an interruption: stored tasks
are skipped. Examples:
  memsim sweep demo                                      the shipped demo, local cluster
  memsim sweep sweeps/demo.toml                          local cluster, one worker per CPU
  memsim sweep sweeps/demo.toml --scheduler tcp://10.0.0.5:8786
  memsim results results/demo.sqlite --export csv
  memsim report results/demo.sqlite --out results/demo_report
Workers of an existing cluster need memsim installed; give them NUMBA_CACHE_DIR (a shared
folder) so numba compiles each kernel once, not once per worker."""


def _cmd_sweep(args: argparse.Namespace) -> int:
    from memsim.resources import find_file
    from memsim.sweep.runner import run_sweep
    from memsim.sweep.spec import load_sweep

    spec = load_sweep(find_file("sweeps", args.sweep))
    store = Path(args.store) if args.store else Path("results") / f"{spec.name}.sqlite"
    n_tasks = len(spec.tasks())
    print(f"sweep {spec.name!r}: {len(spec.points)} grid points, {n_tasks} tasks -> {store}",
          flush=True)
    try:
        summary = run_sweep(spec, store, scheduler=args.scheduler, workers=args.workers,
                            synchronous=args.sync, progress=not args.no_progress,
                            connect_timeout=args.connect_timeout)
    except KeyboardInterrupt:
        from memsim.sweep.store import Store, check_store

        if check_store(store):
            with Store.open_readonly(store) as db:
                done = len(db.keys() & {t.key for t in spec.tasks()})
            print(f"\n{done} of {n_tasks} tasks are stored in {store}; run the same command "
                  "again to resume", file=sys.stderr)
        raise
    print(summary)
    if not summary.ok:
        print(f"memsim: error: {summary.failed} task(s) failed; fix the cause and run the same "
              "command again to finish the sweep", file=sys.stderr)
        return 1
    return 0


def _rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The stored rows, only those of the tasks of ``--sweep FILE`` if given."""
    from memsim.resources import find_file
    from memsim.sweep.spec import load_sweep
    from memsim.sweep.store import Store

    keys = ({t.key for t in load_sweep(find_file("sweeps", args.sweep)).tasks()}
            if args.sweep else None)
    with Store.open_readonly(args.store) as store:
        rows = store.rows()
    return rows if keys is None else [r for r in rows if r["key"] in keys]


def _cmd_results(args: argparse.Namespace) -> int:
    from memsim.sweep.report import (
        export_table,
        format_table,
        summarize,
        summary_rows,
        task_rows,
    )

    rows = _rows(args)
    if args.tasks:
        records = task_rows(rows)
        columns = ["label", "network", "P", "block", "successes", "trials", "wall_time",
                   "worker", "key"]
    else:
        records = summary_rows(summarize(rows))
        columns = ["series", "network", "P", "successes", "trials", "S", "S_low", "S_high",
                   "capacity"]
    if args.export:
        default = Path(args.store).with_name(
            Path(args.store).stem + ("_tasks" if args.tasks else "") + f".{args.export}")
        out = export_table(records, Path(args.out) if args.out else default, args.export)
        print(f"wrote {len(records)} rows to {out}")
        return 0
    if not records:
        print(f"{args.store}: no results yet")
        return 0
    print(format_table(records, columns))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from memsim.search.store import is_search_store

    if is_search_store(args.store) and args.sweep is None:
        from memsim.search.cli import report_search

        return report_search(args.store, args.out, args.search)
    from memsim.sweep.report import format_table, make_report, summarize

    rows = _rows(args)
    out = Path(args.out) if args.out else Path(args.store).with_name(
        Path(args.store).stem + "_report")
    summaries = summarize(rows)
    files = make_report(summaries, out)
    table = [{"series": s.series, "network": s.size_label, "capacity": s.capacity,
              "interval": f"{s.capacity_low}..{s.capacity_high}",
              "mean capacity": f"{s.mean_capacity[0]:.2f} +- {s.mean_capacity[1]:.2f}",
              "P tried": f"{s.P.min()}..{s.P.max()}",
              "trials per P": int(s.trials.min())} for s in summaries]
    print(format_table(table, list(table[0])))
    print(f"\nreport written to {out}/:")
    for f in files:
        print(f"  {f}")
    return 0


def add_commands(subparsers: Any) -> None:
    """Register ``sweep``, ``results`` and ``report`` with the ``memsim`` parser."""
    p = subparsers.add_parser(
        "sweep", help="run a capacity sweep on Dask, storing results as they finish",
        description="Run the tasks of a sweep file that the store does not hold yet, on a "
        "local Dask cluster (default) or an existing one.", epilog=SWEEP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sweep", help="sweep file (.toml), or the name of a shipped sweep such as "
                   "demo")
    p.add_argument("--store", help="SQLite result store (default: results/NAME.sqlite)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="address of a running Dask scheduler (default: start a local cluster)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="local cluster workers, one process with one thread each "
                   "(default: one per CPU)")
    p.add_argument("--sync", action="store_true",
                   help="run the tasks in this process, one by one, without Dask")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--connect-timeout", type=float, default=10.0, metavar="S",
                   help="seconds to wait for the scheduler (default: %(default)s)")
    p.set_defaults(func=_cmd_sweep)

    p = subparsers.add_parser(
        "results", help="print or export the results in a sweep store",
        description="Print S(P) per grid point pooled over blocks (or every task with "
        "--tasks), or export the table as csv or parquet.")
    p.add_argument("store", help="SQLite result store written by `memsim sweep`")
    p.add_argument("--tasks", action="store_true", help="one row per stored task")
    p.add_argument("--export", choices=["csv", "parquet"],
                   help="write the table to a file instead of printing it")
    p.add_argument("--out", help="export file (default: next to the store)")
    p.add_argument("--sweep", metavar="FILE", help="only the tasks of this sweep file")
    p.set_defaults(func=_cmd_results)

    p = subparsers.add_parser(
        "report", help="figures of a sweep or search store: capacity vs size, S(P) curves, "
        "best so far, parameter importance, Pareto front",
        description="Write capacity_vs_size.png, success_curves.png, capacity.csv and "
        "success.csv for the results in a sweep store; for a store written by `memsim "
        "search`: best so far of BO and random search, parameter importance, the Pareto "
        "front and the best designs' S(P) against the references.")
    p.add_argument("store", help="SQLite result store written by `memsim sweep` or "
                   "`memsim search`")
    p.add_argument("--out", help="output folder (default: STORE_report next to the store)")
    p.add_argument("--sweep", metavar="FILE", help="only the tasks of this sweep file (a "
                   "sweep report, also of a search store)")
    p.add_argument("--search", metavar="NAME", help="the search to report, if the store "
                   "holds several")
    p.set_defaults(func=_cmd_report)
