"""Training speed at scale (issue 10): steps/s and s/trial of whole ``train()`` calls on fully
connected ``[w/2, w, w/2]`` nets (w = 4 is ``paper_2x4x2``), random 2-pattern one-hot tasks,
default ``CircuitConfig``, numba cache warm, against the code before issue 10 side by side.

Trial ``s`` of width ``w`` trains ``LayeredFactory((w/2, w, w/2))(SeedSequence(s))`` on
``random_task(..., 2, seed=s)`` with ``train(..., seed=s)``, the protocol of the figures the
issue was filed with. The earlier code runs in a subprocess from a checkout of it
(``--baseline-src``, e.g. a worktree at commit 99fde4c, the parent of issue 10's first
commit; memsim keys its numba cache by a digest of its sources, so each has its own), one
width at a time alternating with the current code, so both see the same machine load
(``--rounds`` alternating rounds, the median round printed: at w = 4 one round's figure moves
by 20 % with the load); without ``--baseline-src`` the figures recorded on 2026-12-01 are
printed, labelled as such.
The cost per step is fitted as ``c * devices^k`` over w >= 8 (w = 4 is dominated by
per-step overhead). Widths timed on 100 or more trials (w = 4, 8) also split each code's
cost into a fixed cost per ``train()`` call and a cost per step (least squares over the
trials, each at its fastest round), which is where the two codes differ at w = 4.
``--capacity`` also times the issue's capacity curves (single process,
``capacity_curve`` defaults, seed 0), on 1 and on 2 threads (``--threads``): the trials of a
load run on threads (the training kernel releases the GIL), and the curves must come out the
same.

    .venv/bin/python benchmarks/bench_learn_scale.py --baseline-src ../scale-baseline
    .venv/bin/python benchmarks/bench_learn_scale.py --widths 4 8 16     # quicker
    .venv/bin/python benchmarks/bench_learn_scale.py --capacity          # + capacity curves
    .venv/bin/python benchmarks/bench_learn_scale.py --widths 32 64 --capacity --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

TRIALS = {4: 400, 8: 100, 16: 30, 32: 8, 64: 3}
"""Trials per width: each width's timing takes some seconds at the earlier code's speed."""
RECORDED = {  # steps/s and s/trial of commit 99fde4c, 2026-12-01, load average 0.27-0.84
    4: (52_503.6, 0.001), 8: (13_880.9, 0.011), 16: (2_158.1, 0.171), 32: (294.8, 1.230),
    64: (28.2, 12.199),
}
TARGETS = {32: 3_000.0, 64: 500.0}  # steps/s the issue asks for: 16-32-16, 32-64-32
CAPACITY = ((32, 200, 40.0), (64, 100, 600.0))  # width w, R, target seconds


def measure(width: int, trials: int) -> dict[str, float]:
    """Total steps and training seconds of ``trials`` whole train() calls (after one warm-up
    call that loads the numba cache). Only API that predates issue 10 is used, so the same
    function times the earlier code."""
    import memsim
    from memsim.analyze.study import LayeredFactory
    from memsim.learn import random_task, train

    def net_of(s: int):
        if width == 4:
            return memsim.load(memsim.circuit_path("paper_2x4x2"))
        return LayeredFactory((width // 2, width, width // 2))(np.random.SeedSequence(s))

    def run(seeds: range) -> tuple[list[int], list[float], int]:
        steps, walls, learned = [], [], 0
        for s in seeds:
            net = net_of(s)
            task = random_task(len(net.inputs), len(net.outputs), 2, seed=s)
            t = time.perf_counter()
            r = train(net, task, seed=s)
            walls.append(time.perf_counter() - t)
            steps.append(r.n_steps)
            learned += int(r.learned)
        return steps, walls, learned

    run(range(1))
    steps, walls, learned = run(range(trials))
    net = net_of(0)
    return {"width": width, "nodes": net.n_nodes, "devices": net.n_edges, "trials": trials,
            "steps": sum(steps), "wall": sum(walls), "learned": learned,
            "trial_steps": steps, "trial_walls": walls}


def per_call(rounds: list[dict]) -> tuple[float, float]:
    """Fixed cost per train() call and cost per step, µs: least squares of each trial's
    time (its fastest round, the least disturbed by the load) on its number of steps."""
    steps = np.array(rounds[0]["trial_steps"], float)
    walls = np.min([r["trial_walls"] for r in rounds], axis=0) * 1e6
    fixed, slope = np.linalg.lstsq(np.column_stack([np.ones_like(steps), steps]), walls,
                                   rcond=None)[0]
    return float(fixed), float(slope)


def median_round(rounds: list[dict], trials: int) -> tuple[float, float]:
    """Steps/s and s/trial of the median round (by steps/s)."""
    rates = sorted((r["steps"] / r["wall"], r["wall"] / trials) for r in rounds)
    return rates[len(rates) // 2]


def baseline(src: Path, width: int, trials: int) -> dict[str, float]:
    """:func:`measure` run by the code checked out at ``src``, in a subprocess."""
    env = dict(os.environ, PYTHONPATH=str(src))  # its numba cache: its own source digest
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", str(width),
                          str(trials)], env=env, check=True, capture_output=True, text=True,
                         cwd=src)
    return json.loads(out.stdout.strip().splitlines()[-1])


def exponent(devices: list[int], steps_per_s: list[float]) -> float:
    """k of cost per step ~ devices^k (least squares in log-log)."""
    if len(devices) < 2:
        return float("nan")
    return float(np.polyfit(np.log(devices), -np.log(steps_per_s), 1)[0])


def capacity(widths: list[int], threads: int) -> None:
    from memsim.analyze import capacity_curve
    from memsim.analyze.study import LayeredFactory

    print(f"\ncapacity curves, single process, {threads} thread(s), capacity_curve defaults, "
          "seed 0")
    print(f"{'net':>10} {'R':>4} {'loads':>5} {'trials':>6} {'seconds':>8} {'CPU s':>8} "
          f"{'target s':>8}  {'S(P)':<30} load")
    for w, reps, target in CAPACITY:
        if w not in widths:
            continue
        t, cpu = time.perf_counter(), time.process_time()
        res = capacity_curve(LayeredFactory((w // 2, w, w // 2)), repetitions=reps, seed=0,
                             threads=threads)
        sec, cpu = time.perf_counter() - t, time.process_time() - cpu
        curve = ", ".join(f"{s:.3f}" for s in res.S)
        print(f"{w // 2}-{w}-{w // 2:<4} {reps:4d} {len(res.P):5d} {int(res.trials.sum()):6d} "
              f"{sec:8.1f} {cpu:8.1f} {target:8.0f}  {curve:<30} {_load()}", flush=True)


def _load() -> str:
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--widths", type=int, nargs="+", default=list(TRIALS))
    ap.add_argument("--baseline-src", type=Path, default=None,
                    help="checkout of the code before issue 10 (commit 99fde4c)")
    ap.add_argument("--trials-scale", type=float, default=1.0,
                    help=f"multiply the trials per width (default counts: {TRIALS})")
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternating rounds per width; the median round is printed")
    ap.add_argument("--capacity", action="store_true", help="also time the capacity curves")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                    help="thread counts of the capacity curves (the curves must not change)")
    ap.add_argument("--worker", nargs=2, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(measure(*args.worker)))
        return
    src = args.baseline_src.resolve() if args.baseline_src else None
    label = f"measured now ({src})" if src else "recorded 2026-12-01, load 0.27-0.84"
    print(f"load average at start {_load()}; earlier code: {label}")
    print(f"{'w':>3} {'nodes':>5} {'devices':>7} {'trials':>6} {'before st/s':>11} "
          f"{'now st/s':>10} {'ratio':>6} {'before s/tr':>11} {'now s/tr':>9} "
          f"{'learned':>7} {'target':>7}  load")
    rows = []
    for w in args.widths:
        n = max(1, round(TRIALS.get(w, 3) * args.trials_scale))
        b_runs, m_runs = [], []
        for _ in range(args.rounds):  # alternating, so both see the same drift of the load
            if src:
                b_runs.append(baseline(src, w, n))
            m_runs.append(measure(w, n))
        if src:
            before, before_tr = median_round(b_runs, n)
        else:
            before, before_tr = RECORDED.get(w, (float("nan"), float("nan")))
        now, now_tr = median_round(m_runs, n)
        m = m_runs[-1]
        rows.append((m["devices"], before, now))
        target = f"{TARGETS[w]:7.0f}" if w in TARGETS else f"{'-':>7}"
        print(f"{w:3d} {m['nodes']:5d} {m['devices']:7d} {n:6d} {before:11.1f} {now:10.1f} "
              f"{now / before:6.2f} {before_tr:11.4f} {now_tr:9.4f} "
              f"{m['learned']:3d}/{n:<3d} {target}  {_load()}", flush=True)
        if n >= 100:  # enough trials of different lengths to split the cost
            fixed, slope = per_call(m_runs)
            split = f"now {fixed:.0f} us + {slope:.2f} us/step"
            if src:
                b_fixed, b_slope = per_call(b_runs)
                split = f"before {b_fixed:.0f} us + {b_slope:.2f} us/step, {split}"
            print(f"    per train() call: {split} (fit over the trials, fastest round each)")
    fit = [r for r, w in zip(rows, args.widths, strict=True) if w >= 8]
    k_before = exponent([r[0] for r in fit], [r[1] for r in fit])
    k_now = exponent([r[0] for r in fit], [r[2] for r in fit])
    print(f"cost per step ~ devices^k over w >= 8: before k = {k_before:.2f}, now k = "
          f"{k_now:.2f} (nodes^{2 * k_before:.2f} -> nodes^{2 * k_now:.2f}; devices ~ nodes^2)")
    if args.capacity:
        for n in args.threads:
            capacity(args.widths, n)
    print(f"load average at end {_load()}")


if __name__ == "__main__":
    main()
