"""Fitting the measured 1T1R device: RESET-branch nRMS per model and the time of a 19-cycle fit.

Issue 12's targets: the RESET-branch fit reaches nRMS <= 5 % of the current range per cycle,
reported per model, and a fit of all 19 cycles with one model takes <= 60 s on 2 cores.

Every model is fitted to all 19 RESET cycles at once, exactly as ``memsim fit
adamlab_lea_1t1r_rram --model MODEL`` does (3 starts, shared parameters, per-cycle ``r_on``
and threshold, fitted series resistor). Wall and CPU time are both printed: on a shared
machine the wall time grows with the load, the CPU time much less (the fit is
single-threaded). The pulse-response fits of the two pulse datasets are timed too.

    MPLBACKEND=Agg NUMBA_CACHE_DIR=.numba_cache .venv/bin/python benchmarks/bench_fit.py \
        [--models vteam threshold hp] [--bootstrap 0]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

import memsim.measure as mm
from memsim.measure.pulse import fit_pulses


def _warm() -> None:
    """Compile (or load from the cache) the kernels the fits use, outside the timings."""
    cycles = mm.dataset("adamlab_lea_1t1r_rram").reset_cycles()[:2]
    for model in ("vteam", "threshold", "hp"):
        mm.fit_iv(cycles, model, n_starts=1, max_nfev=2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+", default=["vteam", "threshold", "hp"])
    ap.add_argument("--bootstrap", type=int, default=0)
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}")
    _warm()
    cycles = mm.dataset("adamlab_lea_1t1r_rram").reset_cycles()
    rows = []
    for model in args.models:
        load = os.getloadavg()[0]
        wall, cpu = time.perf_counter(), time.process_time()
        fit = mm.fit_iv(cycles, model, bootstrap=args.bootstrap)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rows.append((model, fit, wall, cpu, load))
    best = min(r[1].aic for r in rows)
    print(f"\nRESET branch of the 1T1R device, {len(cycles)} cycles fitted at once "
          f"(bootstrap B={args.bootstrap})")
    print(f"{'model':<10}{'k':>4}{'nRMS median':>13}{'nRMS max':>10}{'cycles <= 5%':>14}"
          f"{'dAIC':>9}{'wall (s)':>10}{'CPU (s)':>9}{'load':>7}{'<= 60 s':>9}")
    for model, fit, wall, cpu, load in rows:
        ok = int((fit.nrms <= 0.05).sum())
        print(f"{model:<10}{fit.n_params:>4}{np.median(fit.nrms):>13.4f}{fit.nrms.max():>10.4f}"
              f"{f'{ok}/{len(cycles)}':>14}{fit.aic - best:>9.1f}{wall:>10.1f}{cpu:>9.1f}"
              f"{load:>7.2f}{'yes' if wall <= 60 else 'no':>9}")
    print("\npulse-response fits (rate laws in pulse units)")
    print(f"{'dataset':<36}{'law':<13}{'nRMS':>8}{'dAIC':>10}{'wall (s)':>10}{'load':>7}")
    for name in ("crosssim_v2_lookup_example_pulse", "aihwkit_gong_hfo2_pulse"):
        ramps = mm.dataset(name).pulse_ramps()
        fits = []
        for law in ("softbounds", "powerbounds", "window"):
            load = os.getloadavg()[0]
            t = time.perf_counter()
            fits.append((law, fit_pulses(ramps, law), time.perf_counter() - t, load))
        low = min(f.aic for _, f, _, _ in fits)
        for law, f, wall, load in fits:
            print(f"{name:<36}{law:<13}{f.nrms:>8.4f}{f.aic - low:>10.1f}{wall:>10.1f}"
                  f"{load:>7.2f}")
    print(f"\nload average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
