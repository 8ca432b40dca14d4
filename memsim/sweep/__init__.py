"""Capacity sweeps on Dask with a resumable SQLite result store.

A sweep file (``sweeps/*.toml``) declares a grid of topologies, devices and learning settings;
:func:`run_sweep` runs its tasks on a local or remote Dask cluster and writes each result to
the store as it arrives; :func:`summarize` and :func:`make_report` turn the store into S(P)
curves and capacity-vs-size figures. Dask is imported only when a sweep runs.

>>> from memsim.sweep import parse_sweep
>>> spec = parse_sweep('''
... [sweep]
... name = "tiny"
... seed = 1
... repetitions = 2
... [[grid]]
... model = "abstract"
... sizes = [[2, 4, 2], [2, 8, 2]]
... P = [1, 2]
... ''')
>>> [p.params["sizes"] for p in spec.points], len(spec.tasks())
([[2, 4, 2], [2, 8, 2]], 4)
"""

from memsim.sweep.report import PointSummary, export_table, make_report, summarize
from memsim.sweep.runner import SchedulerError, SweepSummary, numba_cache_dir, run_sweep
from memsim.sweep.spec import (
    GridPoint,
    SweepFileError,
    SweepSpec,
    SweepTask,
    load_sweep,
    parse_sweep,
    sweep_path,
)
from memsim.sweep.store import Store, StoreError, check_store
from memsim.sweep.work import run_task

__all__ = [
    "GridPoint",
    "PointSummary",
    "SchedulerError",
    "Store",
    "StoreError",
    "SweepFileError",
    "SweepSpec",
    "SweepSummary",
    "SweepTask",
    "check_store",
    "export_table",
    "load_sweep",
    "make_report",
    "numba_cache_dir",
    "parse_sweep",
    "run_sweep",
    "run_task",
    "summarize",
    "sweep_path",
]
