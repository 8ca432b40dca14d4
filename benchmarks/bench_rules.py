"""Learning rules on crossbar tiles (issue 13): epoch times and accuracies against floats.

Targets:

* one eRBP epoch on digits (1,437 training samples, 64-100-10) with crossbar-solved reads
  (tile ``rram64``: 1 ohm lines, every read through the crossbar solver or its transfer
  matrix, refreshed after every write) <= 30 s on 2 cores;
* eRBP on tiles (64-100-10, 64 levels) within 3 points of float, same seeds and protocol;
* the mushroom body's best rule >= 0.90 on digits.

Each accuracy is the held-out test accuracy after the full schedule (eRBP 10 epochs,
mushroom 3), on the seeded stratified split; means and standard errors over ``--seeds``.

    .venv/bin/python benchmarks/bench_rules.py [--seeds 0 1 2] [--epochs 10] [--quick]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from memsim.rules import ERBP, ERBPConfig, load_dataset
from memsim.rules.mushroom import RULES, MushroomBody, MushroomConfig


def _mean_sem(values: list[float]) -> str:
    a = np.asarray(values)
    sem = a.std(ddof=1) / np.sqrt(a.size) if a.size > 1 else 0.0
    return f"{a.mean():.4f} ± {sem:.4f}"


def epoch_times(ds, hidden: int) -> list[tuple[str, float, float]]:
    """Seconds of one training epoch (float, rram64), and the load average beside each."""
    rows = []
    for hw in ("float", "rram64"):
        net = ERBP(64, 10, ERBPConfig(hidden=hidden), hardware=hw, seed=0)
        net.fit(ds.subset(20, 20), epochs=1)  # compile / warm the caches
        start = time.perf_counter()
        net.train_epoch(ds.x_train, ds.y_train)
        rows.append((hw, time.perf_counter() - start, os.getloadavg()[0]))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=10, help="eRBP epochs for the accuracies")
    ap.add_argument("--quick", action="store_true", help="epoch times only")
    args = ap.parse_args()
    ds = load_dataset("digits", seed=0)

    print("eRBP epoch on digits (1,437 samples), one process")
    print("| net | hardware | epoch (s) | target | load average |")
    print("|---|---|---|---|---|")
    for hidden in (100, 200):
        for hw, sec, load in epoch_times(ds, hidden):
            target = "<= 30 s" if hw != "float" and hidden == 100 else ""
            print(f"| 64-{hidden}-10 | {hw} | {sec:.1f} | {target} | {load:.2f} |", flush=True)
    if args.quick:
        return

    print(f"\neRBP test accuracy after {args.epochs} epochs, seeds {args.seeds}")
    print("| net | hardware | accuracy (mean ± sem) | per seed | pulses per epoch |")
    print("|---|---|---|---|---|")
    means = {}
    for hidden in (100, 200):
        for hw in ("float", "rram64"):
            accs, pulses = [], []
            for seed in args.seeds:
                res = ERBP(64, 10, ERBPConfig(hidden=hidden), hardware=hw,
                           seed=seed).fit(load_dataset("digits", seed=seed), epochs=args.epochs)
                accs.append(res.test_accuracy)
                pulses.append(sum(s.pulses for s in res.stats.values()) / args.epochs)
            means[hidden, hw] = float(np.mean(accs))
            print(f"| 64-{hidden}-10 | {hw} | {_mean_sem(accs)} | "
                  f"{' '.join(f'{a:.3f}' for a in accs)} | {np.mean(pulses):.3g} |", flush=True)
    gap = 100 * (means[100, "float"] - means[100, "rram64"])
    print(f"64-100-10: rram64 is {gap:.1f} points below float (target <= 3)")

    print("\nMushroom body on digits, 3 epochs, float weights, defaults but the rule")
    print("| rule | accuracy (mean ± sem) |")
    print("|---|---|")
    for rule in RULES:
        accs = [MushroomBody(64, 10, MushroomConfig(rule=rule), seed=seed).fit(
            load_dataset("digits", seed=seed), epochs=3).test_accuracy for seed in args.seeds]
        print(f"| {rule} | {_mean_sem(accs)} |", flush=True)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
