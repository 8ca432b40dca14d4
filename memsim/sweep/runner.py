"""Run a sweep on Dask: a local cluster by default, or an existing scheduler.

The client submits every task that is not yet in the store (first the cheapest task of each
kind, alone, so one worker fills the numba cache the others then load; then the rest, longest
first, so the sweep does not end on a long task), and writes each result to the store as
soon as it arrives (``as_completed``), one transaction per result. Killing the client
loses at most the tasks in flight; running the same sweep again skips what is stored.
Workers only compute: they never touch the store.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memsim._cache import base_directory
from memsim.errors import MemsimError, ParameterError
from memsim.sweep.spec import SweepSpec, SweepTask
from memsim.sweep.store import Store, check_store
from memsim.sweep.work import run_task

__all__ = ["SchedulerError", "SweepSummary", "check_address", "check_options", "connect",
           "numba_cache_dir", "run_sweep"]

log = logging.getLogger(__name__)


class SchedulerError(MemsimError, RuntimeError):
    """The Dask scheduler cannot be reached, or the local cluster cannot start."""


@dataclass(frozen=True)
class SweepSummary:
    """What a sweep run did.

    Attributes
    ----------
    name : str
    total : int
        Tasks in the sweep.
    skipped : int
        Tasks already in the store before the run (not run again).
    completed : int
        Tasks run and stored by this run.
    failed : int
        Tasks that raised (not stored: a re-run tries them again).
    wall_time : float
        Seconds from the first submission to the last result (0 if nothing ran).
    workers : int
        Workers of the cluster (0 for the synchronous in-process run).
    store : Path
    errors : tuple of str
        One line per distinct task error.
    task_time : float
        Sum of the tasks' own wall times, s (compute, without scheduling).
    task_cpu : float
        Sum of the tasks' CPU times, s (below ``task_time`` when workers share cores with
        other processes).
    """

    name: str
    total: int
    skipped: int
    completed: int
    failed: int
    wall_time: float
    workers: int
    store: Path
    errors: tuple[str, ...] = field(default=())
    task_time: float = 0.0
    task_cpu: float = 0.0

    @property
    def ok(self) -> bool:
        """True if every task of the sweep is in the store."""
        return self.skipped + self.completed == self.total

    def __str__(self) -> str:
        where = f"{self.workers} worker{'s' * (self.workers != 1)}" if self.workers else \
            "this process"
        lines = [f"sweep {self.name!r}: {self.total} tasks; {self.skipped} already stored, "
                 f"{self.completed} run, {self.failed} failed"]
        if self.completed:
            lines[0] += (f"; {self.wall_time:.1f} s on {where} "
                         f"({self.completed / max(self.wall_time, 1e-9):.2f} tasks/s, "
                         f"task compute {self.task_time:.1f} s, CPU {self.task_cpu:.1f} s)")
        lines.append(f"results in {self.store}")
        lines += [f"  task error: {e}" for e in self.errors]
        if self.errors and self.workers:
            lines.append("  (run with --sync to see a failing task's traceback)")
        return "\n".join(lines)


def numba_cache_dir() -> str:
    """The numba cache base the workers get as ``NUMBA_CACHE_DIR``: the client's own
    (:func:`memsim._cache.base_directory`), so workers and client, importing the same memsim
    sources, share one compiled-kernel directory below it.

    >>> isinstance(numba_cache_dir(), str)
    True
    """
    return str(base_directory())


def _local_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def check_address(address: str) -> str:
    """Check, without connecting, that ``address`` reads as a Dask scheduler address
    ``[SCHEME://]HOST:PORT``; return it.

    A malformed address would otherwise fail inside ``distributed.Client``, which then also
    prints a traceback when it is garbage-collected.

    Raises
    ------
    SchedulerError
        If the scheme is unknown, or the host or port is missing or out of range.

    Examples
    --------
    >>> check_address("tcp://127.0.0.1:8786")
    'tcp://127.0.0.1:8786'
    >>> try:
    ...     check_address("tcp://127.0.0.1")
    ... except SchedulerError as err:
    ...     print(str(err).split(";")[0])
    'tcp://127.0.0.1' is not a Dask scheduler address (missing port number in address '127.0.0.1')
    """
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    try:
        scheme, location = parse_address(address, strict=False)
        get_backend(scheme)
        if scheme != "inproc":
            host, port = parse_host_port(location)
            if not host:
                raise ValueError(f"missing host in address {location!r}")
            if not 0 < port < 65536:
                raise ValueError(f"port {port} is not in 1..65535")
    except (ValueError, TypeError, ImportError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SchedulerError(f"{address!r} is not a Dask scheduler address ({reason}); give "
                             "tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786") from None
    return address


def check_options(scheduler: str | None, workers: int | None, synchronous: bool) -> None:
    """Check a run's cluster options before anything starts.

    Raises
    ------
    ParameterError
        If ``workers`` is below 1, or given with ``scheduler``.
    SchedulerError
        If ``scheduler`` is not an address (:func:`check_address`; not checked for a
        synchronous run, which uses no cluster).
    """
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise ParameterError("workers", f"need at least one worker, got {workers!r}")
    if workers is not None and scheduler is not None:
        raise ParameterError("workers", "sets the size of the local cluster; an existing "
                             "cluster (--scheduler) has its own workers")
    if scheduler is not None and not synchronous:
        check_address(scheduler)


def connect(scheduler: str | None, workers: int | None, timeout: float) -> tuple[Any, Any]:
    """A Dask client, and the local cluster it runs on (None for an existing scheduler).

    ``scheduler``: the address of a running scheduler; None starts a ``LocalCluster`` of
    ``workers`` processes (default: one per CPU this process may use) with one thread each,
    sharing the numba cache :func:`numba_cache_dir`. Close the client, then the cluster.

    Raises
    ------
    SchedulerError
        If the scheduler cannot be reached within ``timeout`` s, or the cluster cannot start.
    """
    from distributed import Client, LocalCluster

    if not log.isEnabledFor(logging.INFO):
        # Dask logs every connection at INFO; keep its warnings (lost workers) only.
        logging.getLogger("distributed").setLevel(logging.WARNING)

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            raise SchedulerError(
                f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s "
                f"({_first_line(exc)}); start one with `dask scheduler`, or drop --scheduler "
                "to use a local cluster") from None
        return client, None
    n = workers if workers is not None else _local_workers()
    try:
        cluster = LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
            # task errors come back to the client and into the summary: the workers' own
            # tracebacks would only repeat them (--sync shows one in full)
            silence_logs=logging.CRITICAL, env={"NUMBA_CACHE_DIR": numba_cache_dir()})
        client = Client(cluster, set_as_default=False)
    except (OSError, TimeoutError, RuntimeError) as exc:
        raise SchedulerError(f"cannot start a local Dask cluster of {n} workers "
                             f"({_first_line(exc)})") from None
    return client, cluster


def _cost(task: SweepTask) -> float:
    """A rough relative cost of a task, to start the long ones first."""
    p = task.point
    if p["topology"] == "layered":
        s = p["sizes"]
        size = sum(a * b for a, b in zip(s[:-1], s[1:], strict=False))
    elif p["topology"] == "random":
        size = p["n_nodes"] ** 2 * p["edge_prob"]
    else:
        size = p["rows"] * p["cols"]
    scale = 1.0 if p["model"] == "circuit" else 0.01
    return scale * size * task.n_patterns * task.n_reps


def run_sweep(
    spec: SweepSpec,
    store: str | Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    synchronous: bool = False,
    progress: bool = True,
    connect_timeout: float = 10.0,
    on_result: Callable[[SweepTask, Mapping[str, Any]], None] | None = None,
) -> SweepSummary:
    """Run the tasks of ``spec`` that ``store`` does not hold yet, storing each result.

    Parameters
    ----------
    spec : SweepSpec
        From :func:`load_sweep` or :func:`parse_sweep`.
    store : path
        SQLite result store; created if missing.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://HOST:PORT``). Default: a
        ``LocalCluster`` of ``workers`` processes with one thread each; the workers share the
        numba cache :func:`numba_cache_dir`.
    workers : int, optional
        Local cluster size (default: the CPUs this process may use).
    synchronous : bool
        Run every task in this process, one after the other, without Dask.
    progress : bool
        Show a progress bar (tasks done / total, rate, ETA) on stderr.
    connect_timeout : float
        Seconds to wait for the scheduler.
    on_result : callable, optional
        Called as ``on_result(task, result)`` after each result is stored.

    Returns
    -------
    SweepSummary

    Raises
    ------
    StoreError
        If ``store`` is not a memsim store (nothing is written to it).
    SchedulerError
        If ``scheduler`` is not an address (:func:`check_address`), the scheduler cannot be
        reached, or the local cluster cannot start (the store is not touched).
    ParameterError
        If ``workers`` is given with ``scheduler``, or is below 1.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from memsim.sweep import parse_sweep
    >>> spec = parse_sweep('''
    ... [sweep]
    ... name = "tiny"
    ... seed = 1
    ... repetitions = 4
    ... [[grid]]
    ... model = "abstract"
    ... sizes = [2, 4, 2]
    ... P = [1, 2]
    ... ''')
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.sqlite"
    >>> run_sweep(spec, path, synchronous=True, progress=False).completed
    2
    >>> run_sweep(spec, path, synchronous=True, progress=False).skipped
    2
    """
    check_options(scheduler, workers, synchronous)
    path = Path(store)
    tasks = spec.tasks()
    done: set[str] = set()
    if check_store(path):
        with Store.open_readonly(path) as s:
            done = s.keys()
    pending = [t for t in tasks if t.key not in done]
    skipped = len(tasks) - len(pending)
    if not pending:
        with Store.open(path) as s:
            s.register(spec)
        return SweepSummary(spec.name, len(tasks), skipped, 0, 0, 0.0, 0, path)

    client = cluster = None
    n_workers = 0
    if not synchronous:
        client, cluster = connect(scheduler, workers, connect_timeout)
    try:
        if client is not None:
            n_workers = len(client.scheduler_info().get("workers", {}))
            if n_workers == 0:
                log.warning("the scheduler has no workers yet; tasks wait until one joins")
        with Store.open(path) as db:
            db.register(spec)
            done = db.keys()  # another client may have stored some meanwhile
            pending = [t for t in pending if t.key not in done]
            skipped = len(tasks) - len(pending)
            runner = _run_sync if client is None else _run_dask
            tally, wall = runner(spec, db, pending, skipped, len(tasks), client, progress,
                                 on_result)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    summary = SweepSummary(spec.name, len(tasks), skipped, tally.completed, tally.failed, wall,
                           n_workers, path, tuple(tally.errors), tally.task_time,
                           tally.task_cpu)
    log.info("%s", summary)
    return summary


def _bar(spec: SweepSpec, total: int, skipped: int, progress: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=skipped, unit="task", desc=f"sweep {spec.name}",
                disable=not progress, file=sys.stderr, dynamic_ncols=True, smoothing=0.05)


class _Tally:
    def __init__(self) -> None:
        self.completed = 0
        self.failed = 0
        self.errors: list[str] = []
        self.task_time = 0.0
        self.task_cpu = 0.0

    def error(self, task: SweepTask, message: str) -> None:
        self.failed += 1
        log.info("task %s (P=%d, block %d) failed: %s", task.key[:12], task.n_patterns,
                 task.block, message)
        if message not in self.errors:
            self.errors.append(message)


def _store(db: Store, spec: SweepSpec, task: SweepTask, result: Mapping[str, Any],
           tally: _Tally, on_result: Callable[..., None] | None) -> None:
    if db.add(spec.name, task, result):
        tally.completed += 1
        tally.task_time += float(result["wall_time"])
        tally.task_cpu += float(result.get("cpu_time", 0.0))
    else:
        log.warning("task %s was already stored; kept the first result", task.key[:12])
    if on_result is not None:
        on_result(task, result)


def _run_sync(spec: SweepSpec, db: Store, pending: list[SweepTask], skipped: int, total: int,
              client: Any, progress: bool, on_result: Any
              ) -> tuple[_Tally, float]:
    tally = _Tally()
    start = time.perf_counter()
    with _bar(spec, total, skipped, progress) as bar:
        for task in pending:
            try:
                result = run_task(task.payload())
            except Exception as exc:  # as on a Dask worker: count it, keep going
                tally.error(task, _first_line(exc))
            else:
                _store(db, spec, task, result, tally, on_result)
            bar.update()
    return tally, time.perf_counter() - start


def _warmups(tasks: list[SweepTask]) -> list[SweepTask]:
    """The cheapest task of each kind of kernel work (model, topology, device).

    They run first, alone: one worker compiles the numba kernels of each kind into the shared
    cache (:func:`numba_cache_dir`) and the others then load them, instead of every worker
    compiling the same code at the same time (about 15 s of CPU each on a cold cache; the
    wall time is the same either way). With a warm cache this costs one short round trip.
    """
    best: dict[tuple[Any, ...], SweepTask] = {}
    for t in tasks:
        p = t.point
        kind = (p["model"], p["topology"], p.get("device"))
        if kind not in best or _cost(t) < _cost(best[kind]):
            best[kind] = t
    return list(best.values())


def _run_dask(spec: SweepSpec, db: Store, pending: list[SweepTask], skipped: int, total: int,
              client: Any, progress: bool, on_result: Any
              ) -> tuple[_Tally, float]:
    from distributed import as_completed

    tally = _Tally()
    by_key = {f"memsim-sweep-{t.key}": t for t in pending}
    warm = _warmups(pending)
    warm_keys = {t.key for t in warm}
    # then the longest first, so the sweep ends on short tasks (a short tail)
    rest = sorted((t for t in pending if t.key not in warm_keys), key=_cost, reverse=True)

    def submit(tasks: list[SweepTask]) -> list[Any]:
        return [client.submit(run_task, t.payload(), key=f"memsim-sweep-{t.key}", pure=False,
                              priority=len(tasks) - i)
                for i, t in enumerate(tasks)]

    start = time.perf_counter()
    futures = as_completed(submit(warm), loop=client.loop)
    warming = len(warm)
    with _bar(spec, total, skipped, progress) as bar:
        for fut in futures:
            task = by_key[str(fut.key)]
            if fut.status == "finished":
                _store(db, spec, task, fut.result(), tally, on_result)
            else:
                exc = fut.exception() if fut.status == "error" else None
                tally.error(task, _first_line(exc) if exc is not None else
                            f"task {fut.status}")
            fut.release()
            bar.update()
            if task.key in warm_keys:
                warming -= 1
                if warming == 0 and rest:
                    futures.update(submit(rest))
    return tally, time.perf_counter() - start
