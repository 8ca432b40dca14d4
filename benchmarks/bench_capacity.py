"""Capacity-curve speed, and the CTDV solver against the nodal transient.

Issue 5's target: the capacity curve of ``paper_2x4x2`` with R = 200 trials per load in <= 60 s
on one process of a 2-core machine. Also times fully connected ``[w/2, w, w/2]`` nets for
w = 8, 16, 32 (width 4 is ``paper_2x4x2``), the abstract Chialvo-Bak model on the same sizes (the
only other implementation of learning from mistakes there is), where the time goes (training
kernel vs Python around it), and the CTDV governing-equation solver against memsim's nodal
transient on the same linear-device network (there is no external CTDV implementation).

    .venv/bin/python benchmarks/bench_capacity.py                       # everything
    .venv/bin/python benchmarks/bench_capacity.py --widths 4 8 -R 50    # quicker
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import memsim
from memsim.analyze import capacity_curve
from memsim.analyze.study import LayeredFactory
from memsim.learn import random_task, train
from memsim.solve.ctdv import simulate_ctdv
from memsim.solve.drives import DC, Sine


def factory_for(width: int):
    if width == 4:
        return memsim.load(memsim.circuit_path("paper_2x4x2"))
    return LayeredFactory((width // 2, width, width // 2))


def kernel_share(width: int, trials: int = 20) -> tuple[float, float]:
    """Seconds per trial, and the fraction spent inside the numba training kernel."""
    net = factory_for(width)
    net = net if isinstance(net, memsim.Network) else net(np.random.SeedSequence(0))
    n = len(net.inputs)
    total = kernel = 0.0
    for s in range(trials):
        t = time.perf_counter()
        r = train(net, random_task(n, len(net.outputs), max(1, n // 2), seed=s), seed=s)
        total += time.perf_counter() - t
        kernel += r.wall_time
    return total / trials, kernel / total


def ctdv_vs_nodal() -> None:
    rng = np.random.default_rng(0)
    dev = memsim.devices.Linear(r_on=100.0, r_off=1e4, alpha=0.5, beta=0.05)
    print("\nCTDV governing equation vs nodal transient (linear devices, rtol 1e-10)")
    print(f"{'network':>16} {'edges':>5} {'nodal s':>8} {'CTDV s':>8} {'ratio':>6} "
          f"{'RHS evals':>9} {'max |dx|':>9}")
    for sizes in ([2, 4, 2], [4, 8, 4], [8, 16, 8]):
        net = memsim.layered(sizes, device=dev)
        net = net.replace(x0=rng.uniform(0.3, 0.7, net.n_edges))
        drive = [Sine(0.6, 3.0)] + [DC(-0.3)] * (sizes[0] - 1)
        t_eval = np.linspace(0, 0.3, 31)
        memsim.simulate(net, drive, 0.01, method="rk45")  # compile
        simulate_ctdv(net, drive, 0.01)  # imports
        t = time.perf_counter()
        a = memsim.simulate(net, drive, 0.3, method="rk45", rtol=1e-10, atol=1e-12,
                            t_eval=t_eval)
        t_nodal = time.perf_counter() - t
        t = time.perf_counter()
        b = simulate_ctdv(net, drive, 0.3, rtol=1e-10, atol=1e-12, t_eval=t_eval)
        t_ctdv = time.perf_counter() - t
        print(f"{net.name:>16} {net.n_edges:5d} {t_nodal:8.3f} {t_ctdv:8.3f} "
              f"{t_ctdv / t_nodal:6.0f} {b.n_evaluations:9d} {np.abs(a.x - b.x).max():9.1e}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--widths", type=int, nargs="+", default=[4, 8, 16, 32])
    ap.add_argument("-R", "--repetitions", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-ctdv", action="store_true")
    args = ap.parse_args()
    # compile / load the numba cache outside the timings
    train(memsim.load(memsim.circuit_path("paper_2x4x2")), random_task(2, 2, 1, seed=0), seed=0)
    capacity_curve("abstract", abstract_sizes=(2, 4, 2), repetitions=1, seed=0)
    print(f"capacity curves, R = {args.repetitions} per load, one process, one-hot patterns")
    print(f"{'net':>16} {'loads':>5} {'trials':>6} {'circuit s':>9} {'abstract s':>10} "
          f"{'ratio':>6} {'s/trial':>8} {'kernel %':>8}  capacity (circuit / abstract)")
    for w in args.widths:
        f = factory_for(w)
        t = time.perf_counter()
        res = capacity_curve(f, repetitions=args.repetitions, seed=args.seed)
        t_c = time.perf_counter() - t
        sizes = (w // 2, w, w // 2)
        t = time.perf_counter()
        ab = capacity_curve("abstract", abstract_sizes=sizes, repetitions=args.repetitions,
                            seed=args.seed)
        t_a = time.perf_counter() - t
        per, share = kernel_share(w, trials=10 if w >= 16 else 40)
        name = "paper_2x4x2" if w == 4 else "layered_" + "x".join(map(str, sizes))
        print(f"{name:>16} {len(res.P):5d} {int(res.trials.sum()):6d} {t_c:9.1f} {t_a:10.2f} "
              f"{t_c / t_a:6.0f} {t_c / res.trials.sum():8.4f} {100 * share:7.1f}%  "
              f"{res.capacity} / {ab.capacity}   S = {np.round(res.S, 3).tolist()}",
              flush=True)
        if w == 4:
            verdict = "meets" if t_c <= 60 else "MISSES"
            print(f"{'':>16} target 60 s: {verdict} it ({t_c / 60:.3f} of the budget)")
    if not args.no_ctdv:
        ctdv_vs_nodal()


if __name__ == "__main__":
    main()
