"""Start-up time of the ``memsim`` command: ``memsim --help`` against what it cost when it
imported every command module (the full parser), side by side in one run.

Each row is the median over fresh processes, after one untimed warm-up run that fills the OS
file cache, of the wall time (the caller's ``perf_counter``) and of the process's CPU time
(user + system, from ``getrusage(RUSAGE_CHILDREN)``): on a loaded machine the wall time waits
for a core, the CPU time does not. The target is ``memsim --help`` <= 0.3 s. Usage::

    .venv/bin/python benchmarks/bench_cli.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
TARGET = 0.3

CASES = [
    ("memsim --help", [str(BIN / "memsim"), "--help"]),
    ("memsim --version", [str(BIN / "memsim"), "--version"]),
    ("python -c 'import memsim'", [sys.executable, "-c", "import memsim"]),
    ("python -c 'pass' (interpreter alone)", [sys.executable, "-c", "pass"]),
    ("full parser: every command module imported (the old --help)",
     [sys.executable, "-c", "from memsim.cli import build_parser; build_parser().format_help()"]),
]


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=dict(os.environ))
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    load = os.getloadavg()
    rows = []
    for label, cmd in CASES:
        timed(cmd)  # warm-up
        runs = [timed(cmd) for _ in range(args.repeats)]
        rows.append((label, statistics.median(w for w, _ in runs),
                     statistics.median(c for _, c in runs)))
    old = rows[-1]
    print(f"memsim start-up, median of {args.repeats} fresh processes; load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs\n")
    print("| command | wall (s) | CPU (s) | CPU vs full parser |")
    print("|---|---|---|---|")
    for label, w, c in rows:
        ratio = "1" if label == old[0] else f"{old[2] / c:.1f}x less"
        print(f"| {label} | {w:.3f} | {c:.3f} | {ratio} |")
    _, w, c = rows[0]
    verdict = "met" if min(w, c) <= TARGET else "MISSED"
    print(f"\ntarget memsim --help <= {TARGET} s: {verdict} (wall {w:.3f} s, CPU {c:.3f} s; "
          "wall exceeds CPU when the machine is loaded)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
