"""Success counts of the learner over many seeds: the statistics the learner's speed work
must not change (issue 10). Prints one line per experiment.

    .venv/bin/python benchmarks/learn_success_counts.py            # 200 seeds each
    .venv/bin/python benchmarks/learn_success_counts.py -n 50      # quicker

Experiments (seeds 0 .. n-1, default CircuitConfig):

* ``paper``: ``paper_2x4x2``, three-era alternating task, train seed s; counts of runs that
  learned era 1, era 2, era 3 and all three;
* ``8-16-8``: fully connected ``LayeredFactory((8, 16, 8))(SeedSequence(s))``, one-era random
  one-hot task with P = 2 (``random_task(8, 8, 2, seed=s)``), train seed s; runs that learned.

The counts of the commit before the speed work are kept in ``tests/test_learn_scale.py``,
which checks that today's lie inside their 95 % intervals.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import memsim
from memsim.analyze.study import LayeredFactory
from memsim.learn import alternating_task, random_task, train


def paper_counts(n: int) -> list[int]:
    net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    eras = np.array([[e.learned for e in train(net, alternating_task(3), seed=s).eras]
                     for s in range(n)])
    return [int(c) for c in eras.sum(axis=0)] + [int(eras.all(axis=1).sum())]


def layered_count(n: int, sizes: tuple[int, ...] = (8, 16, 8), P: int = 2) -> int:
    factory = LayeredFactory(sizes)
    learned = 0
    for s in range(n):
        net = factory(np.random.SeedSequence(s))
        learned += train(net, random_task(sizes[0], sizes[-1], P, seed=s), seed=s).learned
    return learned


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--seeds", type=int, default=200)
    args = ap.parse_args()
    print(f"memsim {memsim.__file__}  load {os.getloadavg()[0]:.2f}")
    t = time.perf_counter()
    era1, era2, era3, every = paper_counts(args.seeds)
    print(f"paper alternating, seeds 0-{args.seeds - 1}: era 1 {era1}, era 2 {era2}, "
          f"era 3 {era3}, all {every} ({time.perf_counter() - t:.1f} s)")
    t = time.perf_counter()
    k = layered_count(args.seeds)
    print(f"8-16-8 random P=2, seeds 0-{args.seeds - 1}: learned {k} "
          f"({time.perf_counter() - t:.1f} s)")


if __name__ == "__main__":
    main()
