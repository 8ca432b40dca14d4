"""Transient speed: an N x N HP/Biolek crossbar with 1 ohm lines, 1000 steps.

Issue 2's target: N = 32 in <= 1 s on a 2-core machine after compilation. Also measures how
long numba compilation takes from a cold cache and how long loading the on-disk cache takes.

    .venv/bin/python benchmarks/bench_transient.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import memsim
from memsim import Sine

RUN = """
import time, numpy as np, memsim
from memsim import Sine
net = memsim.crossbar(4, 4, device=memsim.devices.preset("biolek2009"), r_line=1.0)
t = time.perf_counter()
for m in ("rk4", "euler", "rk45"):
    memsim.simulate(net, Sine(1.0, 1.0), 1e-3, method=m, dt=1e-4)
print(time.perf_counter() - t)
"""


def first_call_seconds(cache_dir: str) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", RUN], env=env, capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def crossbar_run(n: int, method: str, seed: int = 0) -> tuple[float, int]:
    rng = np.random.default_rng(seed)
    dev = memsim.devices.preset("biolek2009").replace(x0=0.5)
    net = memsim.crossbar(n, n, device=dev, r_line=1.0)
    drives = [Sine(float(a), 1.0, phase=float(p))
              for a, p in zip(rng.uniform(0.5, 1.5, n), rng.uniform(0, 360, n), strict=True)]
    memsim.simulate(net, drives, 1e-3, method=method, dt=1e-4)  # compile / load cache
    times = []
    for _ in range(3):
        t = time.perf_counter()
        res = memsim.simulate(net, drives, 1.0, method=method, dt=1e-3)
        times.append(time.perf_counter() - t)
    return float(np.median(times)), res.n_steps


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        cold = first_call_seconds(cache)
        warm = first_call_seconds(cache)
    print(f"numba compilation of the transient kernels (cold cache): {cold:.1f} s")
    print(f"loading them from the on-disk cache (warm):               {warm:.2f} s")
    print(f"{'N':>4} {'method':>7} {'steps':>6} {'time (s)':>9}  target")
    for n in (8, 16, 32):
        for method in ("euler", "rk4"):
            t, steps = crossbar_run(n, method)
            target = "<= 1 s" if n == 32 else ""
            print(f"{n:>4} {method:>7} {steps:>6} {t:>9.3f}  {target}")


if __name__ == "__main__":
    main()
