"""memsim against ngspice on one transient (issue 3, "Must reach").

An N x N HP/Biolek crossbar (``biolek2009`` preset) with 1 ohm line segments, initial states
uniform in [0.2, 0.4], every row driven by a 1 Hz sine of random amplitude (0.5..1 V) and
phase, 1 s at 1 ms output steps. The same problem runs in memsim (``memsim.simulate``, fixed
step RK4 at the output step; median of 3 runs after a warm-up that loads the numba cache) and
in ngspice, both as ``ngspice -b`` (program start and raw-file reading included) and in-process
through PySpice's shared library (one run each: ngspice is the slow side). ngspice runs with
its default tolerances and a largest step of 1 ms (``.tran 1m 1 0 1m uic``), i.e. as a user
would run it; its final states then agree with memsim to ~1e-6.

Target: memsim >= 50x faster than ngspice at N = 16 and 32, with max |dx| <= 0.01 at the end.

    .venv/bin/python benchmarks/bench_spice.py                 # N = 8, 16, 32 (~4 min)
    .venv/bin/python benchmarks/bench_spice.py --sizes 8 16    # quicker
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

import memsim
from memsim.solve.drives import Sine
from memsim.spice import names, run_batch, run_shared, to_netlist

TARGET_RATIO = 50.0
TARGET_DX = 0.01


def problem(n: int, seed: int = 0) -> tuple[memsim.Network, list[Sine]]:
    """The benchmark crossbar and its row drives (seeded)."""
    rng = np.random.default_rng(seed)
    net = memsim.crossbar(n, n, device=memsim.devices.preset("biolek2009"), r_line=1.0)
    x0 = np.where(net.memristive, rng.uniform(0.2, 0.4, net.n_edges), 0.0)
    drives = [Sine(float(a), 1.0, phase=float(p))
              for a, p in zip(rng.uniform(0.5, 1.0, n), rng.uniform(0, 360, n), strict=True)]
    return net.replace(x0=x0), drives


def run_memsim(net: memsim.Network, drives: list[Sine], method: str,
               repeats: int) -> tuple[float, np.ndarray]:
    kwargs = {"dt": 1e-3} if method != "rk45" else {"t_eval": np.linspace(0.0, 1.0, 1001)}
    memsim.simulate(net, drives, 2e-3, method=method, dt=1e-3)  # compile or load the cache
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        res = memsim.simulate(net, drives, 1.0, method=method, **kwargs)
        times.append(time.perf_counter() - start)
    return float(np.median(times)), res.x[-1]


def run_ngspice(net: memsim.Network, drives: list[Sine], mode: str) -> tuple[float, np.ndarray]:
    text = to_netlist(net, drives, t_end=1.0, t_step=1e-3)
    run = run_batch(text) if mode == "batch" else run_shared(text)
    nm = names(net)
    x = np.zeros(net.n_edges)
    for e in np.flatnonzero(net.memristive).tolist():
        x[e] = run[f"v({nm.state_vector(e)})"][-1]
    assert abs(run["time"][-1] - 1.0) < 1e-9
    return run.wall_time, x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--methods", nargs="+", default=["heun", "rk4"],
                        choices=["rk4", "rk45", "heun", "euler"])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"memsim {memsim.__version__} vs ngspice, {platform.machine()}, "
          f"{time.strftime('%Y-%m-%d')}")
    head = (f"{'N':>4} {'method':>6} {'memsim s':>9} {'ngspice -b s':>13} {'PySpice s':>10} "
            f"{'-b/memsim':>10} {'Py/memsim':>10} {'max|dx| -b':>11} {'max|dx| Py':>11}  target")
    print(head)
    rows = []
    for n in args.sizes:
        net, drives = problem(n)
        t_batch, x_batch = run_ngspice(net, drives, "batch")
        t_shared, x_shared = run_ngspice(net, drives, "shared")
        for method in args.methods:
            t_mem, x_mem = run_memsim(net, drives, method, args.repeats)
            dx_b = float(np.max(np.abs(x_batch - x_mem)))
            dx_s = float(np.max(np.abs(x_shared - x_mem)))
            r_b, r_s = t_batch / t_mem, t_shared / t_mem
            met = ""
            if n >= 16:
                ok = min(r_b, r_s) >= TARGET_RATIO and max(dx_b, dx_s) <= TARGET_DX
                met = "met" if ok else f"NOT met (>= {TARGET_RATIO:.0f}x, <= {TARGET_DX})"
            rows.append((n, method, t_mem, t_batch, t_shared, r_b, r_s, dx_b, dx_s, met))
            print(f"{n:>4} {method:>6} {t_mem:>9.3f} {t_batch:>13.2f} {t_shared:>10.2f} "
                  f"{r_b:>10.1f} {r_s:>10.1f} {dx_b:>11.2e} {dx_s:>11.2e}  {met}", flush=True)
    print("\nmarkdown:")
    print("| N | method | memsim (s) | ngspice -b (s) | PySpice (s) | -b / memsim "
          "| PySpice / memsim | max abs dx (-b) | max abs dx (PySpice) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n, method, t_mem, t_b, t_s, r_b, r_s, dx_b, dx_s, _ in rows:
        print(f"| {n} | {method} | {t_mem:.3f} | {t_b:.2f} | {t_s:.2f} | {r_b:.1f} | {r_s:.1f} | "
              f"{dx_b:.1e} | {dx_s:.1e} |")


if __name__ == "__main__":
    main()
