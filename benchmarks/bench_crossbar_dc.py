"""memsim's crossbar DC solver against badcrossbar 1.1.0, side by side in one run.

Linear crossbars with line resistance (devices drawn uniformly in 1 kohm..100 kohm, every line
segment 0.5 ohm), inputs drawn uniformly in [0, 1] V (so every output current is positive and
its relative error is meaningful). Both tools compute all node voltages and branch currents.

badcrossbar returns node voltages and the currents of every branch; so does every timed memsim
call here (``solve_dc`` computes edge currents on first access, and the timed functions
access them).

memsim is timed two ways, both after a warm-up that compiles the numba kernels:

* ``new R``: a network with the new device resistances is made from a template crossbar
  (``net.with_params``) and solved, as badcrossbar gets fresh resistances on every call;
* ``solve``: ``memsim.solve_dc`` on an existing network (its structure analysis cached).

Both tools run on one thread: the BLAS thread pools are pinned to 1 before numpy loads (with
its default pool, badcrossbar's 128x128 x 64 case ran 13x slower on this shared 2-core
machine, an advantage memsim should not take). memsim's default is one thread too
(``MEMSIM_THREADS``); a column shows memsim with two threads solving chunks of a batch.
Each time is the median of ``--repeats`` runs; CPU times (``time.process_time``, all threads)
are printed too, as they are less disturbed by other jobs on a shared machine. badcrossbar
is only a benchmark oracle, not a memsim dependency: without it this script prints "skipped"
and exits 0.

A last section (memsim only) times the jitted entry point for transient loops,
``crossbar_voltages``, on a 32x32 HP crossbar with 1 ohm lines: 1000 solves, each after every
device state moved by up to 1e-3, warm-started from the previous solution (and cold, from the
ideal-line voltages, for comparison).

Run:  .venv/bin/python benchmarks/bench_crossbar_dc.py [--repeats 3] [--quick]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

from memsim import DCResult  # noqa: E402

CASES = [(64, 64, 1), (128, 128, 1), (256, 256, 1), (128, 128, 64)]
R_LINE = 0.5


def _median_time(fn: Callable[[], object], repeats: int) -> tuple[float, float, object]:
    """Median wall-clock and median CPU time (all threads of this process) of ``fn()``."""
    wall, cpu, out = [], [], None
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu), out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per case (median)")
    ap.add_argument("--quick", action="store_true", help="only the 64x64 case (smoke test)")
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args(argv)

    try:
        import badcrossbar
    except ImportError as exc:
        print(f"skipped: badcrossbar is not importable ({exc}); it is a benchmark-only oracle: "
              "apt-get install libcairo2-dev pkg-config && pip install badcrossbar==1.1.0")
        return 0
    # badcrossbar calls logging.basicConfig(level=INFO) on import: quiet its progress lines.
    logging.getLogger().setLevel(logging.WARNING)

    from importlib.metadata import version

    import memsim
    from memsim.solve import crossbar
    from memsim.solve.dc import terminals

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; python "
          f"{platform.python_version()}; badcrossbar {version('badcrossbar')}")
    # warm-up: numba compilation (cached on disk after the first run)
    warm = memsim.crossbar(4, 5, device=memsim.devices.Resistor(1e4), r_line=R_LINE)
    memsim.solve_dc(warm, np.ones((4, 2)))

    rng = np.random.default_rng(args.seed)
    cases = CASES[:1] if args.quick else CASES
    print(f"memsim threads for batches: {crossbar.THREADS} (MEMSIM_THREADS); a column with 2")
    header = (f"{'case':>14} {'badcrossbar':>12} {'memsim new R':>13} {'memsim solve':>13} "
              f"{'2 threads':>10} {'ratio new R':>12} {'ratio solve':>12} {'ratio 2 th':>11} "
              f"{'its':>7} {'max rel err':>12}")
    print(header)
    rows = []
    for n_rows, n_cols, batch in cases:
        res = rng.uniform(1e3, 1e5, (n_rows, n_cols))
        v = rng.uniform(0.0, 1.0, (n_rows, batch))
        template = memsim.crossbar(n_rows, n_cols, device=memsim.devices.Resistor(1e4),
                                   r_line=R_LINE)
        params = template.params.copy()
        params[template.layout.device.ravel(), 0] = res.ravel()

        def fresh(params: np.ndarray = params, template: memsim.Network = template,
                  v: np.ndarray = v) -> memsim.DCResult:
            return _all_currents(memsim.solve_dc(template.with_params(params), v))

        def two_threads(net: memsim.Network, v: np.ndarray = v) -> memsim.DCResult:
            threads, crossbar.THREADS = crossbar.THREADS, 2
            try:
                return _all_currents(memsim.solve_dc(net, v))
            finally:
                crossbar.THREADS = threads

        net = template.with_params(params)
        memsim.solve_dc(net, v)  # caches the structure analysis of ``net``
        t_bc, c_bc, sol = _median_time(
            lambda res=res, v=v: badcrossbar.compute(v, res, r_i=R_LINE), args.repeats)
        t_new, _, _ = _median_time(fresh, args.repeats)
        t_solve, c_solve, out = _median_time(
            lambda net=net, v=v: _all_currents(memsim.solve_dc(net, v)), args.repeats)
        t_two, _, _ = _median_time(lambda net=net: two_threads(net), args.repeats)
        i_bc = np.asarray(sol.currents.output).T  # (n_cols, batch)
        i_ms = out.output_currents.reshape(n_cols, batch)
        err = float(np.max(np.abs(i_ms - i_bc) / np.abs(i_bc)))
        g = memsim.devices.conductances(net.model, net.x0, net.params)
        system = crossbar.CrossbarSystem(net, g, terminals(net))
        system.solve(v)
        its = max(system.iterations)
        label = f"{n_rows}x{n_cols} B={batch}"
        print(f"{label:>14} {t_bc:11.3f}s {t_new:12.4f}s {t_solve:12.4f}s {t_two:9.4f}s "
              f"{t_bc / t_new:11.1f}x {t_bc / t_solve:11.1f}x {t_bc / t_two:10.1f}x "
              f"{its:7d} {err:12.2e}", flush=True)
        rows.append((label, t_bc, t_new, t_solve, t_two, its, err, c_bc, c_solve))

    _transient_entry(rng)

    print("\nmarkdown (wall-clock, median):")
    print("| case | badcrossbar (s) | memsim, new R (s) | memsim, solve (s) | memsim, solve, "
          "2 threads (s) | speed-up new R | speed-up solve | speed-up 2 threads | iterations "
          "| max rel. error of output currents |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, t_bc, t_new, t_solve, t_two, its, err, *_ in rows:
        print(f"| {label} | {t_bc:.3f} | {t_new:.4f} | {t_solve:.4f} | {t_two:.4f} "
              f"| {t_bc / t_new:.1f}x | {t_bc / t_solve:.1f}x | {t_bc / t_two:.1f}x | {its} "
              f"| {err:.1e} |")
    print("\nCPU time (s, median), both on one thread:\n| case | badcrossbar | memsim, solve "
          "| speed-up |\n|---|---|---|---|")
    for label, *_, c_bc, c_solve in rows:
        print(f"| {label} | {c_bc:.3f} | {c_solve:.4f} | {c_bc / c_solve:.1f}x |")
    return 0


def _all_currents(result: DCResult) -> DCResult:
    """Compute the branch currents (done on first access), as badcrossbar computes them."""
    assert result.edge_currents.shape[0] > 0
    return result


def _transient_entry(rng: np.random.Generator, n: int = 32, steps: int = 1000) -> None:
    from numba import njit

    import memsim
    from memsim.solve.crossbar import RTOL, RTOL_TRANSIENT, crossbar_segments, crossbar_voltages

    @njit
    def run(dev, seg_word, seg_bit, g_seq, v_in, guess, rtol, warm):
        its = 0
        v_word = guess.copy()
        for s in range(g_seq.shape[0]):
            start = v_word if warm else guess
            v_word, v_bit, k = crossbar_voltages(dev, seg_word, seg_bit, g_seq[s], v_in, start,
                                                 rtol, 1000)
            its += k
        return its

    net = memsim.crossbar(n, n, device=memsim.devices.preset("strukov2008"), r_line=1.0)
    seg_word, seg_bit = crossbar_segments(net)
    dev = np.ascontiguousarray(net.layout.device)
    x = np.where(net.memristive, rng.uniform(0, 1, net.n_edges), 0.0)
    g_seq = np.empty((steps, net.n_edges))
    for s in range(steps):
        x = np.clip(x + np.where(net.memristive, rng.uniform(-1e-3, 1e-3, net.n_edges), 0), 0, 1)
        g_seq[s] = memsim.devices.conductances(net.model, x, net.params)
    v_in = rng.uniform(0.5, 1.0, n)
    guess = np.repeat(v_in[:, None], n, axis=1)
    run(dev, seg_word, seg_bit, g_seq[:2], v_in, guess, RTOL, True)  # compile
    print(f"\ncrossbar_voltages, {n}x{n} HP crossbar, 1 ohm lines, {steps} solves "
          "(states move <= 1e-3 per solve):")
    for rtol in (RTOL, RTOL_TRANSIENT):
        for warm in (True, False):
            t0 = time.perf_counter()
            its = run(dev, seg_word, seg_bit, g_seq, v_in, guess, rtol, warm)
            dt = time.perf_counter() - t0
            print(f"  rtol {rtol:g}, {'warm' if warm else 'cold'} start: "
                  f"{dt / steps * 1e6:6.1f} us per solve, {its / steps:.2f} iterations")


if __name__ == "__main__":
    sys.exit(main())
