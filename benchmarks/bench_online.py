"""Online spiking rules (issue 14): RTRL vs block-diagonal cost per step, and accuracies.

Part ``scaling``: time and memory per step of exact RTRL and of the block-diagonal
(e-prop) traces against the number of hidden neurons n (8 inputs, one sequence), with the
fitted exponents of ``cost ~ n^k`` over the largest sizes. Memory is the bytes of the trace
arrays each rule carries from step to step (RTRL's sensitivities grow as n^3, the eligibility
traces as n^2); time is the median over repeats of one step (trace update + gradient
contribution), ``os.getloadavg()`` beside it.

Part ``accuracy``: sequential digits (8 rows = 8 steps), 100 neurons, 20 epochs: e-prop with
random and with symmetric feedback and BPTT (JAX) on the same initial weights and batch order;
the hybrid global-local model and its global-only baseline on spike-encoded digits; mean and
standard deviation over seeds.

Part ``faults``: the hybrid model and the global-only baseline, trained, then 10 % of W stuck at
its extreme values; accuracy without local plasticity, with it, and the share of the loss that
local plasticity alone recovers, over training seeds x fault seeds. Twice: trained as in the
paper (no faults), and fault-aware (10 % of W stuck anew in every training batch).

Part ``continual``: classes {0,1}, {2,3}, ... in sequence; accuracy on all classes at the end.

Part ``tiles`` (not in ``all``; needs ``memsim.tiles.CrossbarTile``): e-prop and the hybrid
model trained on crossbar tiles of a preset (``--preset``) against float weights with the same
bounds and unbounded floats, same seed. Each layer's tile maps its ``w_max`` (the largest
weight of the float-trained network, seed 0) to the full differential swing.

Part ``volatile`` (not in ``all``): the hybrid model with its local trace P in float and on a
``volatile64`` tile, whose devices' retention (tau = 100 ms, 1 ms per step) is P's decay.

    .venv/bin/python benchmarks/bench_online.py [--part all] [--seeds 3] [--sizes 8 16 32 64]
"""

# ruff: noqa: E402  (the thread settings must precede numpy's import)
from __future__ import annotations

import os

# One BLAS thread: both rules single-threaded, and no oversubscription on a shared machine.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import time

import numpy as np

from memsim.rules.online import HybridConfig, OnlineConfig, digit_sequences, train_online
from memsim.rules.online.autodiff import train_bptt
from memsim.rules.online.hybrid import HybridTraining, continual, fault_tolerance, train_hybrid
from memsim.rules.online.lif import LIFConfig, init_weights
from memsim.rules.online.traces import advance, contribution, new_traces


def load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def step_cost(method: str, n: int, n_in: int = 8, repeats: int = 5) -> tuple[float, int]:
    """Median seconds per step and bytes of carried traces for one sequence."""
    cfg = LIFConfig()
    rng = np.random.default_rng(0)
    w_rec = init_weights(n_in, n, 10, seed=0)["w_rec"]
    x, s = rng.uniform(0, 1, (1, n_in)), (rng.random((1, n)) < 0.2) * 1.0
    psi, sig = rng.uniform(0, 0.3, (1, n)), rng.normal(size=(1, n))
    tr = new_traces(method, 1, n_in, n)

    def one(tr):
        tr = advance(tr, x, s, psi, psi, w_rec, cfg)
        contribution(tr, sig)
        return tr

    t0 = time.perf_counter()
    tr = one(tr)
    n_steps = int(np.clip(0.1 / (time.perf_counter() - t0), 1, 2000))   # ~0.1 s per repeat
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n_steps):
            tr = one(tr)
        times.append((time.perf_counter() - t0) / n_steps)
    return float(np.median(times)), int(sum(a.nbytes for a in tr))


def fit(ns, ys, last: int = 3) -> float:
    ns, ys = np.asarray(ns[-last:], float), np.asarray(ys[-last:], float)
    return float(np.polyfit(np.log(ns), np.log(ys), 1)[0])


def part_scaling(sizes: list[int], block_sizes: list[int]) -> None:
    print(f"\n## RTRL vs block-diagonal per step ({load()})\n")
    print("| n | RTRL time/step (s) | RTRL memory (MB) | block time/step (s) | block memory (MB)"
          " | time ratio | memory ratio |")
    print("|---|---|---|---|---|---|---|")
    rows = {}
    for n in sorted(set(sizes) | set(block_sizes)):
        b_t, b_m = step_cost("eprop", n)
        r_t, r_m = step_cost("rtrl", n) if n in sizes else (float("nan"), 0)
        rows[n] = (r_t, r_m, b_t, b_m)
        ratio_t = f"{r_t / b_t:.0f}" if n in sizes else "-"
        ratio_m = f"{r_m / b_m:.0f}" if n in sizes else "-"
        r_cols = f"{r_t:.3g} | {r_m / 1e6:.3g}" if n in sizes else "- | -"
        print(f"| {n} | {r_cols} | {b_t:.3g} | {b_m / 1e6:.3g} | {ratio_t} | {ratio_m} |",
              flush=True)
    rs, bs = sorted(sizes), sorted(block_sizes)
    print(f"\nfitted exponents (last 3 sizes): RTRL time n^{fit(rs, [rows[n][0] for n in rs]):.2f}"
          f", memory n^{fit(rs, [rows[n][1] for n in rs]):.2f}; block-diagonal time "
          f"n^{fit(bs, [rows[n][2] for n in bs]):.2f}, memory "
          f"n^{fit(bs, [rows[n][3] for n in bs]):.2f}  ({load()})")


def mean_std(values) -> str:
    v = np.asarray(values, float)
    return f"{v.mean():.3f} ± {v.std(ddof=1) if len(v) > 1 else 0.0:.3f}"


def part_accuracy(seeds: list[int]) -> None:
    rows = digit_sequences("rows")
    spikes = digit_sequences("spikes")
    print(f"\n## Accuracy on the digits, seeds {seeds} ({load()})\n")
    print("| model | data | test accuracy (mean ± sd) | per seed | s per run |")
    print("|---|---|---|---|---|")
    runs = [
        ("e-prop, random feedback", "rows", lambda s: train_online(
            rows, OnlineConfig(feedback="random"), seed=s, progress=False).test_accuracy),
        ("e-prop, symmetric feedback", "rows", lambda s: train_online(
            rows, OnlineConfig(feedback="symmetric"), seed=s, progress=False).test_accuracy),
        ("BPTT (JAX), same network", "rows", lambda s: train_bptt(
            rows, OnlineConfig(), seed=s, progress=False).test_accuracy),
        ("hybrid global-local", "spikes", lambda s: train_hybrid(
            spikes, HybridTraining(), seed=s, progress=False).test_accuracy),
        ("global only (alpha = 0)", "spikes", lambda s: train_hybrid(
            spikes, HybridTraining(plastic=False), seed=s, progress=False).test_accuracy),
    ]
    for name, kind, fn in runs:
        t0 = time.perf_counter()
        accs = [fn(s) for s in seeds]
        dt = (time.perf_counter() - t0) / len(seeds)
        print(f"| {name} | {kind} | {mean_std(accs)} | "
              f"{', '.join(f'{a:.3f}' for a in accs)} | {dt:.0f} |", flush=True)
    print(f"\n({load()})")


def part_faults(seeds: list[int], fault_seeds: int, fraction: float, decay: float) -> None:
    data = digit_sequences("spikes")
    print(f"\n## {fraction:.0%} stuck-at faults in W, training seeds {seeds} x {fault_seeds} "
          f"fault seeds, trace decay {decay} per step ({load()})\n")
    print("| model | training | clean | faulty, no local plasticity | faulty, local plasticity"
          " | recovered share of the loss |")
    print("|---|---|---|---|---|---|")
    for train_faults in (0.0, fraction):
        for name, plastic in (("hybrid global-local", True), ("global only", False)):
            out: dict[str, list[float]] = {}
            cfg = HybridTraining(plastic=plastic, train_faults=train_faults,
                                 layer=HybridConfig(decay=decay))
            for s in seeds:
                res = train_hybrid(data, cfg, seed=s, progress=False)
                for f in range(fault_seeds):
                    for k, v in fault_tolerance(res, data, fraction=fraction,
                                                seed=1000 * s + f).items():
                        out.setdefault(k, []).append(v)
            how = "clean (paper)" if train_faults == 0 else f"{train_faults:.0%} faults per batch"
            print(f"| {name} | {how} | {mean_std(out['clean'])} | "
                  f"{mean_std(out['faulty_frozen'])} | {mean_std(out['faulty_plastic'])} | "
                  f"{mean_std(out['recovered'])} |", flush=True)
    print(f"\n({load()})")


def part_continual(seeds: list[int]) -> None:
    data = digit_sequences("spikes")
    groups = [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    counts = np.array([np.isin(data.y_test, g).sum() for g in groups])
    print(f"\n## Continual learning, classes {groups} in sequence ({load()})\n")
    print("| model | final accuracy, all classes | final accuracy on the last task | "
          "on the first task |")
    print("|---|---|---|---|")
    for name, plastic in (("hybrid global-local", True), ("global only", False)):
        finals, lasts, firsts = [], [], []
        for s in seeds:
            acc = continual(data, groups, HybridTraining(plastic=plastic), seed=s)
            finals.append(float(acc[-1] @ counts / counts.sum()))
            lasts.append(acc[-1, -1])
            firsts.append(acc[-1, 0])
        print(f"| {name} | {mean_std(finals)} | {mean_std(lasts)} | {mean_std(firsts)} |",
              flush=True)
    print(f"\n({load()})")


def part_tiles(seeds: list[int], preset: str) -> None:
    try:
        from memsim.tiles import CrossbarTile, FloatWeights, tile_preset
    except ImportError:
        print("\n## tiles: skipped, memsim.tiles has no CrossbarTile yet")
        return
    print(f"\n## Float weights vs crossbar tiles ({preset}), seeds {seeds} ({load()})\n")
    print("| model | weights | test accuracy (mean ± sd) | per seed | programming pulses | "
          "s per run |")
    print("|---|---|---|---|---|---|")
    rows, spikes = digit_sequences("rows"), digit_sequences("spikes")
    cfg, hcfg = OnlineConfig(), HybridTraining()
    w_max = {"w_in": 3.0, "w_rec": 0.75, "w_out": 1.0, "w": 0.6}      # seed-0 float maxima
    h_out_max = 0.4

    def stores(w0: dict, bounds: dict, kind: str, seed: int) -> dict:
        if kind == "float":
            return {k: FloatWeights(v) for k, v in w0.items()}
        if kind == "float, bounded":
            return {k: FloatWeights(v, w_min=-bounds[k], w_max=bounds[k]) for k, v in w0.items()}
        kids = np.random.SeedSequence([seed, 7]).spawn(len(w0))
        return {k: CrossbarTile(v, tile_preset(preset).replace(w_max=bounds[k]), seed=sd)
                for (k, v), sd in zip(w0.items(), kids, strict=True)}

    for kind in ("float", "float, bounded", f"tile {preset}"):
        for model in ("e-prop", "hybrid"):
            accs, pulses = [], 0
            t0 = time.perf_counter()
            for s in seeds:
                s_init = np.random.SeedSequence(s).spawn(3)[0]
                if model == "e-prop":
                    w0 = init_weights(8, cfg.n_hidden, 10, s_init, rec_scale=cfg.rec_scale,
                                      in_scale=cfg.in_scale)
                    st = stores(w0, w_max, kind.split()[0] if kind.startswith("tile")
                                else kind, s)
                    accs.append(train_online(rows, cfg, seed=s, stores=st,
                                             progress=False).test_accuracy)
                else:
                    rng = np.random.default_rng(s_init)
                    w0 = {"w": rng.normal(0, 1 / 8, (64, hcfg.n_hidden)),
                          "w_out": rng.normal(0, 1 / np.sqrt(hcfg.n_hidden),
                                              (hcfg.n_hidden, 10))}
                    st = stores(w0, {"w": w_max["w"], "w_out": h_out_max},
                                kind.split()[0] if kind.startswith("tile") else kind, s)
                    accs.append(train_hybrid(spikes, hcfg, seed=s, stores=st,
                                             progress=False).test_accuracy)
                pulses += sum(v.stats.pulses for v in st.values())
            dt = (time.perf_counter() - t0) / len(seeds)
            print(f"| {model} | {kind} | {mean_std(accs)} | "
                  f"{', '.join(f'{a:.3f}' for a in accs)} | {pulses // len(seeds)} | {dt:.0f} |",
                  flush=True)
    print(f"\n({load()})")


def part_volatile(seeds: list[int], preset: str = "volatile64") -> None:
    """The hybrid model with its trace P in float (exponential decay 0.99 per step) and on a
    tile of volatile devices whose retention over 1 ms per step is the decay."""
    from memsim.rules.online.run import HybridRun

    print(f"\n## Hybrid: P float vs P on a {preset} tile, seeds {seeds} ({load()})\n")
    print("| P store | decay per step | test accuracy (mean ± sd) | per seed | trace frozen "
          "| P pulses | s per run |")
    print("|---|---|---|---|---|---|---|")
    spikes = digit_sequences("spikes")
    for store in ("float", preset):
        accs, frozen, pulses, decay_kept = [], [], 0, HybridRun().layer.decay
        t0 = time.perf_counter()
        for s in seeds:
            cfg = HybridRun(p_store=store)
            tile, decay, cfg = cfg.trace_store(spikes.n_in, cfg.n_hidden, s)
            decay_kept = cfg.layer.decay
            res = train_hybrid(spikes, cfg, seed=s, stores=None if tile is None else
                               {"p": tile}, decay=decay, progress=False)
            accs.append(res.test_accuracy)
            pulses += res.net.p.stats.pulses
            # The trace's share of the result: the same net with P held where training left it.
            frozen.append(float((res.net.predict(spikes.x_test, plastic=False)
                                 == spikes.y_test).mean()))
        dt = (time.perf_counter() - t0) / len(seeds)
        print(f"| {store} | {decay_kept:.5f} | {mean_std(accs)} | "
              f"{', '.join(f'{a:.3f}' for a in accs)} | {mean_std(frozen)} | "
              f"{pulses // len(seeds)} | {dt:.0f} |", flush=True)
    print(f"\n({load()})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", default="all",
                    choices=["all", "scaling", "accuracy", "faults", "continual", "tiles",
                             "volatile"])
    ap.add_argument("--preset", default="rram64", help="tile preset of --part tiles")
    ap.add_argument("--seeds", type=int, default=3, help="training seeds (default: 3)")
    ap.add_argument("--fault-seeds", type=int, default=3, help="fault patterns per model")
    ap.add_argument("--fraction", type=float, default=0.1, help="share of W stuck")
    ap.add_argument("--decay", type=float, default=0.99,
                    help="per-step decay of the local trace in --part faults (paper: 0.99)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[16, 32, 64, 96, 128, 192],
                    help="network sizes for RTRL (block-diagonal also runs them)")
    ap.add_argument("--block-sizes", type=int, nargs="+",
                    default=[16, 32, 64, 96, 128, 256, 512, 1024])
    args = ap.parse_args()
    seeds = list(range(args.seeds))
    print(f"bench_online ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, {load()})")
    if args.part in ("all", "scaling"):
        part_scaling(args.sizes, args.block_sizes)
    if args.part in ("all", "accuracy"):
        part_accuracy(seeds)
    if args.part in ("all", "faults"):
        part_faults(seeds, args.fault_seeds, args.fraction, args.decay)
    if args.part in ("all", "continual"):
        part_continual(seeds)
    if args.part == "tiles":
        part_tiles(seeds, args.preset)
    if args.part == "volatile":
        part_volatile(seeds)


if __name__ == "__main__":
    main()
