"""Sweep throughput on a local Dask cluster: 2 workers vs 1 worker vs in-process (issue 6).

Runs the demo sweep (``sweeps/demo.toml``) three times into fresh stores: synchronously in
this process (the no-Dask reference), on a ``LocalCluster`` of 1 worker, and of 2 workers;
prints throughput (tasks/s over the sweep, from first submission to last stored result) and
the ratios. Then measures the per-task overhead of the machinery (submission, scheduling,
transfer, the client's SQLite transaction) with a sweep of near-empty tasks (one 2-4-2
abstract trial each) on 1 worker: overhead = (wall - compute) / tasks.

    MPLBACKEND=Agg NUMBA_CACHE_DIR=.numba_cache .venv/bin/python benchmarks/bench_sweep.py
    ... --scale 0.25     # a quarter of the demo's repetitions (quicker, noisier)
    ... --skip-sync      # no in-process reference run

Before each run it waits (up to --max-wait s) for the 1-minute load average to drop below
--max-load: the machine is shared, and another job's process takes a core from the workers.
Each run also reports the tasks' CPU time as a share of their wall time (100 %: each worker
had its core).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path

from memsim.sweep import SweepSpec, load_sweep, parse_sweep, run_sweep

ROOT = Path(__file__).resolve().parents[1]

TINY = """
[sweep]
name = "overhead"
seed = 1
repetitions = {n}
block = 1
[[grid]]
model = "abstract"
sizes = [2, 4, 2]
P = [1]
"""


def scaled(spec: SweepSpec, scale: float) -> SweepSpec:
    if scale == 1.0:
        return spec
    points = tuple(dataclasses.replace(p, repetitions=max(1, round(p.repetitions * scale)))
                   for p in spec.points)
    block = None if spec.block is None else max(1, round(spec.block * scale))
    return dataclasses.replace(spec, points=points, block=block)


def wait_for_quiet(max_load: float, max_wait: float) -> float:
    """Wait (up to ``max_wait`` s) until the 1-minute load average is below ``max_load``:
    on a shared 2-core machine another job's process halves what 2 workers can get."""
    deadline = time.monotonic() + max_wait
    while os.getloadavg()[0] > max_load and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()[0]


QUIET = {"max_load": 0.7, "max_wait": 900.0}


def run(spec: SweepSpec, label: str, **kwargs: object) -> dict[str, float]:
    load = wait_for_quiet(**QUIET)
    with tempfile.TemporaryDirectory() as d:
        start = time.perf_counter()
        s = run_sweep(spec, Path(d) / "b.sqlite", progress=False, **kwargs)  # type: ignore
        total = time.perf_counter() - start
    assert s.ok, s
    rate = s.completed / s.wall_time
    print(f"{label:>12}: {s.completed} tasks in {s.wall_time:7.1f} s ({rate:.3f} tasks/s), "
          f"end to end {total:6.1f} s, task compute {s.task_time:7.1f} s wall "
          f"{s.task_cpu:7.1f} s CPU ({100 * s.task_cpu / s.task_time:.0f} %); load average "
          f"before {load:.2f}, after {os.getloadavg()[0]:.2f}", flush=True)
    return {"tasks": s.completed, "wall": s.wall_time, "total": total, "rate": rate,
            "compute": s.task_time, "cpu": s.task_cpu}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sweep", default=str(ROOT / "sweeps" / "demo.toml"))
    ap.add_argument("--scale", type=float, default=1.0, help="scale of the repetitions")
    ap.add_argument("--skip-sync", action="store_true")
    ap.add_argument("--overhead-tasks", type=int, default=400)
    ap.add_argument("--max-load", type=float, default=0.7,
                    help="wait for a 1-min load average below this before each run")
    ap.add_argument("--max-wait", type=float, default=900.0, help="... for at most this (s)")
    args = ap.parse_args()
    QUIET.update(max_load=args.max_load, max_wait=args.max_wait)
    os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache"))

    spec = scaled(load_sweep(args.sweep), args.scale)
    print(f"sweep {args.sweep} (repetitions x {args.scale}): {len(spec.tasks())} tasks; "
          f"load average before: {os.getloadavg()[0]:.2f}")
    # warm the numba cache the workers load, so no run pays compilation
    run_sweep(scaled(spec, 0.05), Path(tempfile.mkdtemp()) / "warm.sqlite", synchronous=True,
              progress=False)
    results = {}
    if not args.skip_sync:
        results["sync"] = run(spec, "in-process", synchronous=True)
    results["1"] = run(spec, "1 worker", workers=1)
    results["2"] = run(spec, "2 workers", workers=2)
    speedup = results["2"]["rate"] / results["1"]["rate"]
    print(f"throughput 2 workers / 1 worker: {speedup:.2f}x (target >= 1.7x); "
          f"end to end incl. cluster start: {results['1']['total'] / results['2']['total']:.2f}x")
    if "sync" in results:
        ratio = results["1"]["rate"] / results["sync"]["rate"]
        print(f"throughput 1 worker / in-process: {ratio:.2f}x")

    tiny = parse_sweep(TINY.format(n=args.overhead_tasks))
    sync = run(tiny, "tiny sync", synchronous=True)
    one = run(tiny, "tiny 1 wkr", workers=1)
    per_task = (one["wall"] - one["compute"]) / one["tasks"]
    per_sync = (sync["wall"] - sync["compute"]) / sync["tasks"]
    print(f"per-task overhead on 1 worker: {per_task * 1e3:.1f} ms (scheduling + transfer + "
          f"store write); in-process store write and bookkeeping: {per_sync * 1e3:.1f} ms")
    demo_mean = results["1"]["compute"] / results["1"]["tasks"]
    print(f"mean demo task: {demo_mean:.2f} s of compute, so overhead is "
          f"{100 * per_task / demo_mean:.2f} % of a task; load average after: "
          f"{os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
