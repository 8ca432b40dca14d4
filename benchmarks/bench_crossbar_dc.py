"""memsim's crossbar DC solver against badcrossbar 1.1.0, side by side in one run.

Linear crossbars with line resistance at two contrasts: devices drawn uniformly in
1 kohm..100 kohm on 0.5 ohm segments (the benchmark contrast), and 100 ohm..10 kohm on 2 ohm
segments (hard: lines resistive on the array's scale). Inputs are drawn uniformly in
[0, 1] V (so every output current is positive and its relative error is meaningful). Both
tools compute all node voltages and branch currents.

badcrossbar returns node voltages and the currents of every branch; so does every timed memsim
call here (``solve_dc`` computes edge currents on first access, and the timed functions
access them).

memsim is timed two ways, both after a warm-up that compiles the numba kernels:

* ``new R``: a network with the new device resistances is made from a template crossbar
  (``net.with_params``) and solved, as badcrossbar gets fresh resistances on every call;
* ``solve``: ``memsim.solve_dc`` on an existing network (its structure analysis cached);
* ``tile read``: what a tile's read needs: ``CrossbarSystem(net, g, terms).currents(v)``, the
  output currents (each bit line's last segment) without the node voltages or any other
  branch current (what ``memsim.solve.dc.solve_currents`` and the tiles call). A batch of
  64 on 128 x 128 goes through the exact terminal map (``memsim.solve.crossbar.transfer``:
  a fresh elimination per call, as the system is built anew); ``tile iter`` forces the
  iterative kernels (``use_map=False``). The map's symbolic plan (once per shape, like the
  structure analysis) is built before the timing; its time is printed.

Both tools run on one thread: the BLAS thread pools are pinned to 1 before numpy loads (with
its default pool, badcrossbar's 128x128 x 64 case ran 13x slower on this shared 2-core
machine, an advantage memsim should not take). memsim's default is one thread too
(``MEMSIM_THREADS``); a column shows the tile read with two threads solving the chunks of
a batch (``CrossbarSystem(..., threads=2)``, iterative).
Each time is the median of ``--repeats`` runs; CPU times (``time.process_time``, all threads)
are printed too, as they are less disturbed by other jobs on a shared machine. badcrossbar
is only a benchmark oracle, not a memsim dependency: without it this script prints "skipped"
and exits 0.

Further sections (memsim only): the single-input 2-D kernels against the batched kernel run
on one input; building crossbars (1024 x 1024) from parameter arrays, from one device and
from a list of device objects; and the jitted entry point for transient loops,
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

EASY, HARD = (1e3, 1e5, 0.5), (1e2, 1e4, 2.0)
"""(smallest, largest device resistance, segment resistance) in ohm."""
CASES = [(64, 64, 1, EASY), (128, 128, 1, EASY), (256, 256, 1, EASY), (128, 128, 64, EASY),
         (128, 128, 1, HARD), (128, 128, 64, HARD)]
BUILD_BEFORE = {"one device": 18.0, "Resistor per cell": 23.0}
"""Seconds to build a 1024 x 1024 crossbar with the builder of 2026-12-01 (a Python step and
a device object per edge), for the side-by-side column."""


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
    from memsim.solve.crossbar import system
    from memsim.solve.dc import terminals

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; python "
          f"{platform.python_version()}; badcrossbar {version('badcrossbar')}")
    print(f"load average at start: {_load()}")
    # warm-up: numba compilation (cached on disk after the first run), both batched paths
    for lo, hi, r_line in (EASY, HARD):
        warm = memsim.crossbar(8, 8, device=memsim.devices.device_array(
            memsim.devices.Resistor(1.0), (8, 8), r=np.linspace(lo, hi, 64).reshape(8, 8)),
            r_line=r_line)
        memsim.solve_dc(warm, np.ones((8, 3)))
        memsim.solve_dc(warm, np.ones(8))

    rng = np.random.default_rng(args.seed)
    cases = CASES[:1] if args.quick else CASES
    print(f"memsim threads for batches: {system.THREADS} (MEMSIM_THREADS); a column with 2")
    header = (f"{'case':>22} {'badcrossbar':>12} {'memsim new R':>13} {'memsim solve':>13} "
              f"{'tile read':>10} {'tile iter':>10} {'iter 2 th':>10} {'ratio new R':>12} "
              f"{'ratio solve':>12} {'ratio tile':>11} {'ratio iter':>11} {'ratio 2 th':>11} "
              f"{'its':>7} {'max rel err':>12}")
    print(header)
    rows = []
    for n_rows, n_cols, batch, (lo, hi, r_line) in cases:
        res = rng.uniform(lo, hi, (n_rows, n_cols))
        v = rng.uniform(0.0, 1.0, (n_rows, batch))
        template = memsim.crossbar(n_rows, n_cols, device=memsim.devices.Resistor(1e4),
                                   r_line=r_line)
        params = template.params.copy()
        params[template.layout.device.ravel(), 0] = res.ravel()
        params[template.layout.device.ravel(), 1] = res.ravel()

        def fresh(params: np.ndarray = params, template: memsim.Network = template,
                  v: np.ndarray = v) -> memsim.DCResult:
            return _all_currents(memsim.solve_dc(template.with_params(params), v))

        net = template.with_params(params)
        memsim.solve_dc(net, v)  # caches the structure analysis of ``net``
        terms = terminals(net)
        g = memsim.devices.conductances(net.model, net.x0, net.params)

        def tile_read(net: memsim.Network = net, g: np.ndarray = g, v: np.ndarray = v,
                      terms: object = terms) -> np.ndarray:
            return crossbar.CrossbarSystem(net, g, terms).currents(v)[0]

        def tile_iter(net: memsim.Network = net, g: np.ndarray = g, v: np.ndarray = v,
                      terms: object = terms) -> np.ndarray:
            return crossbar.CrossbarSystem(net, g, terms).currents(v, use_map=False)[0]

        def tile_read2(net: memsim.Network = net, g: np.ndarray = g, v: np.ndarray = v,
                       terms: object = terms) -> np.ndarray:
            return crossbar.CrossbarSystem(net, g, terms, threads=2).currents(
                v, use_map=False)[0]

        t0 = time.perf_counter()
        crossbar.terminal_plan(n_rows, n_cols)  # symbolic, once per shape (like the above)
        t_plan = time.perf_counter() - t0

        t_bc, c_bc, sol = _median_time(
            lambda res=res, v=v, r_line=r_line: badcrossbar.compute(v, res, r_i=r_line),
            args.repeats)
        t_new, _, _ = _median_time(fresh, args.repeats)
        t_solve, c_solve, out = _median_time(
            lambda net=net, v=v: _all_currents(memsim.solve_dc(net, v)), args.repeats)
        t_tile, c_tile, i_tile = _median_time(tile_read, args.repeats)
        t_iter, c_iter, i_iter = _median_time(tile_iter, args.repeats)
        t_two, _, i_two = _median_time(tile_read2, args.repeats)
        probe = crossbar.CrossbarSystem(net, g, terms)
        probe.currents(v)
        how = "map" if not probe.iterations else "iter"
        i_bc = np.asarray(sol.currents.output).T  # (n_cols, batch)
        i_ms = out.output_currents.reshape(n_cols, batch)
        err = float(max(np.max(np.abs(i_ms - i_bc) / np.abs(i_bc)),
                        *(np.max(np.abs(np.asarray(i).reshape(n_cols, batch) - i_bc)
                                 / np.abs(i_bc)) for i in (i_tile, i_iter, i_two))))
        solver = crossbar.CrossbarSystem(net, g, terms)
        solver.solve(v)
        its = max(solver.iterations)
        label = f"{n_rows}x{n_cols} B={batch} {'hard' if r_line == HARD[2] else 'bench'}"
        print(f"{label:>22} {t_bc:11.3f}s {t_new:12.4f}s {t_solve:12.4f}s {t_tile:9.4f}s "
              f"{t_iter:9.4f}s {t_two:9.4f}s {t_bc / t_new:11.1f}x {t_bc / t_solve:11.1f}x "
              f"{t_bc / t_tile:10.1f}x {t_bc / t_iter:10.1f}x {t_bc / t_two:10.1f}x {its:7d} "
              f"{err:12.2e}  (tile read: {how}; plan {t_plan:.2f} s)", flush=True)
        rows.append((label, t_bc, t_new, t_solve, t_tile, t_iter, t_two, its, err, how,
                     c_bc, c_solve, c_tile, c_iter))

    kernels = _single_vs_batched(rng) if not args.quick else []
    builds = _builds(rng) if not args.quick else []
    _transient_entry(rng)

    print(f"\nload average at end: {_load()}")
    print("\nmarkdown (wall-clock, median):")
    print("| case | badcrossbar (s) | memsim, new R (s) | memsim, solve (s) | memsim, tile read "
          "(s) | tile read, iterative (s) | iterative, 2 threads (s) | speed-up new R | "
          "speed-up solve | speed-up tile read | speed-up iterative | speed-up iterative, "
          "2 threads | tile read by | iterations | max rel. error of output currents |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, t_bc, t_new, t_solve, t_tile, t_iter, t_two, its, err, how, *_ in rows:
        print(f"| {label} | {t_bc:.3f} | {t_new:.4f} | {t_solve:.4f} | {t_tile:.4f} "
              f"| {t_iter:.4f} | {t_two:.4f} | {t_bc / t_new:.1f}x | {t_bc / t_solve:.1f}x "
              f"| {t_bc / t_tile:.1f}x | {t_bc / t_iter:.1f}x | {t_bc / t_two:.1f}x | {how} "
              f"| {its} | {err:.1e} |")
    print("\nCPU time (s, median), both on one thread:\n| case | badcrossbar | memsim, solve "
          "| speed-up | memsim, tile read | speed-up | tile read, iterative | speed-up |\n"
          "|---|---|---|---|---|---|---|---|")
    for label, *_, c_bc, c_solve, c_tile, c_iter in rows:
        print(f"| {label} | {c_bc:.3f} | {c_solve:.4f} | {c_bc / c_solve:.1f}x "
              f"| {c_tile:.4f} | {c_bc / c_tile:.1f}x | {c_iter:.4f} | {c_bc / c_iter:.1f}x |")
    if kernels:
        print("\none input, 128 x 128, CPU time (s, median): 2-D kernels against the batched "
              "kernel\n| contrast | 2-D (single) | batched, batch of 1 | ratio |\n"
              "|---|---|---|---|")
        for label, c1, cb_ in kernels:
            print(f"| {label} | {c1:.5f} | {cb_:.5f} | {cb_ / c1:.1f}x |")
    if builds:
        print("\nbuilding a 1024 x 1024 crossbar, 1 ohm lines (s, median)\n| from | "
              "before (2026-12-01, wall) | now, wall | now, CPU | speed-up (wall) |\n"
              "|---|---|---|---|---|")
        for label, before, now, cpu in builds:
            ref = f"{before:.0f}" if before else "-"
            gain = f"{before / now:.0f}x" if before else "-"
            print(f"| {label} | {ref} | {now:.3f} | {cpu:.3f} | {gain} |")
    return 0


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _single_vs_batched(rng: np.random.Generator) -> list[tuple[str, float, float]]:
    """CPU time of one 128 x 128 solve by the 2-D kernels and by the batched kernel."""
    return [_one_input(label, contrast, rng) for label, contrast in (("bench", EASY),
                                                                      ("hard", HARD))]


def _one_input(label: str, contrast: tuple[float, float, float], rng: np.random.Generator,
               n: int = 128) -> tuple[str, float, float]:
    from memsim.solve import crossbar
    from memsim.solve.crossbar.coarse import MA, n_hats, relaxation_rate
    from memsim.solve.crossbar.system import RELAX_BELOW

    lo, hi, r_line = contrast
    gd = 1.0 / rng.uniform(lo, hi, (n, n))
    sw = np.full((n, n), 1.0 / r_line)
    lw, iw, lb, ib = crossbar.line_factors(gd, sw, sw)
    c = crossbar.coarse_space(gd, sw, sw, lb, ib)
    mc = c.e_inv.shape[0] // n_hats(n, MA)
    relax = relaxation_rate(gd, sw, sw) < RELAX_BELOW
    v = rng.uniform(0.0, 1.0, (n, 1))

    def single() -> None:
        x, b = np.zeros((n, n)), np.empty((n, n))
        assert crossbar.solve_lines1(gd, sw, lw, iw, lb, ib, v[:, 0], x, 1e-12, 2560, b,
                                     np.empty_like(b)) > 0

    def batched() -> None:
        x, b = np.empty((n, n, 1)), np.empty((n, n, 1))
        assert crossbar.solve_lines(gd, sw, lw, iw, lb, ib, c.a0, c.wa, c.c0, c.wc, c.q,
                                    c.e_inv, mc, v, 1e-12, 2560, x, b, relax,
                                    np.empty((2, n, n, 1))) > 0

    single()
    batched()
    _, c1, _ = _median_time(single, 7)
    _, c_batched, _ = _median_time(batched, 7)
    print(f"one input 128x128 {label}: 2-D kernels {c1 * 1e3:.2f} ms, batched kernel "
          f"{c_batched * 1e3:.2f} ms CPU ({c_batched / c1:.1f}x)", flush=True)
    return label, c1, c_batched


def _builds(rng: np.random.Generator,
            n: int = 1024) -> list[tuple[str, float | None, float, float]]:
    """Wall-clock and CPU time to build an n x n crossbar three ways (median of 3)."""
    import memsim
    from memsim.devices import HP, Resistor, device_array

    r_on = rng.uniform(90.0, 110.0, (n, n))
    states = rng.uniform(0.0, 1.0, (n, n))
    res = rng.uniform(1e3, 1e5, n * n)
    devices = [Resistor(float(r)) for r in res]  # made beforehand: only the build is timed
    ways = [
        ("parameter arrays (device_array: R_on and state per cell)", None,
         lambda: memsim.crossbar(n, n, device=device_array(HP(), (n, n), r_on=r_on, x0=states),
                                 r_line=1.0)),
        ("one device", BUILD_BEFORE["one device"],
         lambda: memsim.crossbar(n, n, device=memsim.devices.preset("biolek2009"), r_line=1.0)),
        ("Resistor per cell (a list of objects)", BUILD_BEFORE["Resistor per cell"],
         lambda: memsim.crossbar(n, n, device=devices, r_line=1.0)),
    ]
    # The first build in a process touches ~400 MB of fresh pages; on the project's VM a page
    # fault costs ~10 us (2-5 s for that first build), so it is timed apart from the median.
    t0 = time.perf_counter()
    ways[0][2]()
    print(f"first build in this process (fresh memory pages): {time.perf_counter() - t0:.2f} s")
    out = []
    for label, before, build in ways:
        t, cpu, _ = _median_time(build, 3)
        print(f"build {n}x{n} from {label}: {t:.3f} s wall, {cpu:.3f} s CPU", flush=True)
        out.append((label, before, t, cpu))
    return out


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
