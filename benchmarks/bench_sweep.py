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
    ... --repeat 2       # two (1 worker, 2 workers) pairs, alternating; best of each compared

Before each run it waits (up to --max-wait s) for the 1-minute load average to drop below
--max-load: the machine is shared, and another job's process takes a core from the workers.
Each run also reports the tasks' CPU time as a share of their wall time (100 %: each worker
had its core) and how busy the workers were (task time / (workers x sweep wall time): what
scheduling gaps, start-up and the tail of the sweep leave idle).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from memsim.sweep import Store, SweepSpec, load_sweep, parse_sweep, run_sweep

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


def loads() -> str:
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


def run(spec: SweepSpec, label: str, **kwargs: object) -> dict[str, Any]:
    wait_for_quiet(**QUIET)
    before = loads()
    with tempfile.TemporaryDirectory() as d:
        start = time.perf_counter()
        s = run_sweep(spec, Path(d) / "b.sqlite", progress=False, **kwargs)  # type: ignore
        total = time.perf_counter() - start
        with Store.open_readonly(Path(d) / "b.sqlite") as store:
            numbers = {r["key"]: (r["successes"], r["metrics"]["outcomes"])
                       for r in store.rows()}
    assert s.ok, s
    rate = s.completed / s.wall_time
    # busy: share of the workers' time spent inside tasks (1 - idle - scheduling gaps);
    # CPU share: the tasks' CPU time over their wall time (below 100 %: other processes
    # took the core)
    busy = s.task_time / (max(s.workers, 1) * s.wall_time)
    print(f"{label:>12}: {s.completed} tasks in {s.wall_time:7.1f} s ({rate:.3f} tasks/s), "
          f"end to end {total:6.1f} s, task compute {s.task_time:7.1f} s wall "
          f"{s.task_cpu:7.1f} s CPU (CPU share {100 * s.task_cpu / s.task_time:.0f} %, "
          f"workers busy {100 * busy:.0f} %); load average (1/5/15 min) before {before}, "
          f"after {loads()}", flush=True)
    return {"tasks": s.completed, "wall": s.wall_time, "total": total, "rate": rate,
            "compute": s.task_time, "cpu": s.task_cpu, "numbers": numbers, "busy": busy}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sweep", default=str(ROOT / "sweeps" / "demo.toml"))
    ap.add_argument("--scale", type=float, default=1.0, help="scale of the repetitions")
    ap.add_argument("--skip-sync", action="store_true")
    ap.add_argument("--repeat", type=int, default=1,
                    help="pairs of 1-worker and 2-worker runs (the best of each is compared)")
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
    results: dict[str, list[dict[str, Any]]] = {"1": [], "2": []}
    if not args.skip_sync:
        results["sync"] = [run(spec, "in-process", synchronous=True)]
    for i in range(args.repeat):  # alternate, so a burst of outside load hits both
        tag = f" #{i + 1}" if args.repeat > 1 else ""
        results["1"].append(run(spec, "1 worker" + tag, workers=1))
        results["2"].append(run(spec, "2 workers" + tag, workers=2))
    reference = results["1"][0]["numbers"]
    assert all(r["numbers"] == reference for rs in results.values() for r in rs), \
        "results differ between runs"
    print("results identical (every task's outcomes) across all runs and worker counts")
    best = {k: max(rs, key=lambda r: r["rate"]) for k, rs in results.items()}
    speedup = best["2"]["rate"] / best["1"]["rate"]
    print(f"throughput 2 workers / 1 worker: {speedup:.2f}x (target >= 1.7x; best of "
          f"{args.repeat}); end to end incl. cluster start: "
          f"{best['1']['total'] / best['2']['total']:.2f}x")
    if args.repeat > 1:
        ratios = [b["rate"] / a["rate"] for a, b in zip(results["1"], results["2"],
                                                          strict=True)]
        print("  per pair: " + ", ".join(f"{r:.2f}x" for r in ratios))
    if "sync" in best:
        ratio = best["1"]["rate"] / best["sync"]["rate"]
        print(f"throughput 1 worker / in-process: {ratio:.2f}x")

    tiny = parse_sweep(TINY.format(n=args.overhead_tasks))
    sync = run(tiny, "tiny sync", synchronous=True)
    one = run(tiny, "tiny 1 wkr", workers=1)
    per_task = (one["wall"] - one["compute"]) / one["tasks"]
    per_sync = (sync["wall"] - sync["compute"]) / sync["tasks"]
    print(f"per-task overhead on 1 worker: {per_task * 1e3:.1f} ms (scheduling + transfer + "
          f"store write); in-process store write and bookkeeping: {per_sync * 1e3:.1f} ms")
    demo_mean = best["1"]["cpu"] / best["1"]["tasks"]
    print(f"mean demo task: {demo_mean:.2f} s of CPU, so overhead is "
          f"{100 * per_task / demo_mean:.2f} % of a task; load average after: "
          f"{os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
