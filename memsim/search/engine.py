"""The search engine: DeepHyper's CBO through ask/tell, evaluations on Dask, state in SQLite.

Each method (``bo``: CBO with its surrogate model; ``random``: the same CBO never leaving its
random initial phase, i.e. uniform sampling of the same space with the same random stream,
so BO and random search start from the same designs) proposes designs in a fixed order:

1. ask ``parallel`` designs (0 .. parallel - 1);
2. whenever design ``k`` is the oldest evaluation not yet told, and its result is in: tell
   it, then ask one more (design ``k + parallel``), until ``budget`` designs are asked.

So design ``i`` is suggested after the results of designs ``0 .. i - parallel`` were told,
whatever order the evaluations finish in: asynchronous (``parallel`` evaluations are in
flight while the optimizer works), yet the sequence of suggestions depends only on the
search file. It is DeepHyper's own asynchronous loop (tell what finished, ask as many),
with the results told in suggestion order.

State: the store holds every finished evaluation with the configuration exactly as it was
suggested (:mod:`memsim.search.store`), written in one transaction when its result arrives;
a restarted search creates the optimizer afresh from the same seed and *replays* the
schedule — the same asks and tells, the stored results told back — which puts DeepHyper in
exactly the state the interrupted run had (checked: each replayed suggestion must equal the
stored configuration), then submits what is missing. Nothing stored is run again; what was in
flight when a client died is suggested again identically and run. Workers only compute.

Evaluations: the objective kind's evaluation (:mod:`memsim.search.kinds`; for capacity
searches :func:`memsim.search.objective.evaluate`) on a worker, seeded by the
evaluation's master seed (:func:`evaluation_seed`): the same on any worker. Two evaluations
with the same key (same design point, seed and settings, e.g. the shared initial designs of
BO and random search) are computed once; the second copies the first (``reused``).
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from memsim.errors import MemsimError, ParameterError
from memsim.search.space import SearchSpec
from memsim.search.store import SearchStore, is_search_store
from memsim.sweep.runner import check_options, connect
from memsim.sweep.spec import canonical_json
from memsim.sweep.store import check_store

__all__ = ["REFERENCE", "SearchSummary", "evaluation_seed", "make_optimizer", "master_seed",
           "run_search"]

log = logging.getLogger(__name__)

REFERENCE = "reference"
"""Method name of the reference evaluations (index: position in :func:`reference_points`)."""
NEVER = 2**31 - 1
"""Initial-phase length of random search: it never fits a surrogate model."""


def evaluation_seed(spec: SearchSpec, idx: int, *, reference: bool = False) -> int:
    """The master seed of evaluation ``idx`` (the same for every method: common random
    numbers; the same for every evaluation when ``seeds = "common"``), or of reference
    ``idx``. A 63-bit integer from ``SeedSequence(seed, spawn_key=(0 or 1, idx))``.

    >>> from memsim.search.space import parse_search
    >>> spec = parse_search('''
    ... [search]
    ... name = "t"
    ... seed = 5
    ... budget = 3
    ... inputs = 2
    ... outputs = 2
    ... repetitions = 2
    ... [space]
    ... hidden = { from = 2, to = 4 }
    ... ''')
    >>> evaluation_seed(spec, 0) != evaluation_seed(spec, 1)
    True
    """
    i = 0 if spec.seeds == "common" and not reference else int(idx)
    return master_seed(spec.seed, int(reference), i)


def master_seed(seed: int, *spawn_key: int) -> int:
    """A 63-bit integer seed from ``SeedSequence(seed, spawn_key=spawn_key)`` (what the
    stores record and :func:`memsim.analyze.capacity.trial_seed` starts from).

    >>> master_seed(1, 0, 0) == master_seed(1, 0, 0) != master_seed(1, 0, 1)
    True
    """
    ss = np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in spawn_key))
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


def make_optimizer(spec: SearchSpec, method: str) -> Any:
    """A fresh DeepHyper CBO for ``method`` ("bo" or "random"), seeded by the search.

    Raises
    ------
    MemsimError
        If deephyper is not installed.
    ParameterError
        For an unknown method.
    """
    if method not in ("bo", "random"):
        raise ParameterError("method", f"use 'bo' or 'random', got {method!r}")
    problem = spec.problem()
    from deephyper.hpo import CBO

    bo = spec.bo
    initial = NEVER if method == "random" else bo.get("initial")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CBO(problem, random_state=spec.seed, log_dir=tempfile.gettempdir(),
                   checkpoint_history_to_csv=False, verbose=0,
                   surrogate_model=bo["surrogate"], acq_func=bo["acquisition"],
                   acq_func_kwargs={"kappa": bo["kappa"]}, acq_optimizer=bo["optimizer"],
                   acq_optimizer_kwargs={"n_points": bo["points"]},
                   n_initial_points=initial)


def _told_value(spec: SearchSpec, objectives: list[Any] | None) -> Any:
    """What the optimizer is told: maximized values (minimized ones negated), "F" if the
    evaluation failed."""
    if objectives is None:
        return "F"
    vals = [float(v) * spec.direction(n) for n, v in zip(spec.objectives, objectives,
                                                         strict=True)]
    return vals[0] if len(vals) == 1 else tuple(vals)


class _Engine:
    """One method's optimizer and schedule."""

    def __init__(self, spec: SearchSpec, method: str, budget: int):
        self.spec = spec
        self.method = method
        self.budget = budget
        self.opt = make_optimizer(spec, method)
        self.asked: list[dict[str, Any]] = []
        self.told = 0
        self.results: dict[int, list[Any] | None] = {}
        self.configs: dict[int, dict[str, Any]] = {}  # as stored (what was evaluated)
        self.mismatches: list[int] = []
        self.suggest_time = 0.0
        self.ask(min(spec.parallel, budget))

    def ask(self, n: int) -> None:
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.asked += [_plain_config(c) for c in self.opt.ask(n)]
        self.suggest_time += time.perf_counter() - t
        for idx in range(len(self.asked) - n, len(self.asked)):
            self.check(idx)

    def check(self, idx: int) -> None:
        """A stored design must be what the optimizer suggests again (both known)."""
        if idx in self.configs and idx < len(self.asked) and canonical_json(
                self.configs[idx]) != canonical_json(self.asked[idx]):
            self.mismatches.append(idx)
            log.warning("%s design %d: the stored configuration differs from the one the "
                        "optimizer suggests again (%s vs %s); telling the stored one",
                        self.method, idx, self.configs[idx], self.asked[idx])

    def record(self, idx: int, config: Mapping[str, Any], objectives: list[Any] | None) -> None:
        self.configs[idx] = dict(config)
        self.results[idx] = objectives
        self.check(idx)

    def advance(self) -> list[int]:
        """Tell the results that are next in order, asking one design per tell; the new
        design indices."""
        new = []
        while self.told < min(len(self.asked), self.budget) and self.told in self.results:
            k = self.told
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.opt.tell([(self.configs[k], _told_value(self.spec, self.results[k]))])
            self.suggest_time += time.perf_counter() - t
            self.told += 1
            if len(self.asked) < self.budget:
                self.ask(1)
                new.append(len(self.asked) - 1)
        return new

    def wanted(self) -> list[int]:
        """Asked designs within the budget that have no result yet."""
        return [i for i in range(min(len(self.asked), self.budget)) if i not in self.results]

    @property
    def done(self) -> bool:
        return self.told >= self.budget


def _plain_config(config: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in config.items():
        if isinstance(v, np.integer):
            v = int(v)
        elif isinstance(v, np.floating):
            v = float(v)
        out[str(k)] = v
    return out


@dataclass(frozen=True)
class SearchSummary:
    """What a search run did.

    Attributes
    ----------
    name : str
    budget : int
        Evaluations per method.
    stored : dict
        Method -> evaluations in the store for this search after the run.
    computed, reused, failed : int
        Evaluations run by this run, copied from an equal stored one, stored as failed.
    errors : tuple of str
        Errors that stopped a method (evaluations not stored: a re-run tries them again).
    best : dict
        Method -> (best first objective, design index), over this search's evaluations.
    wall_time : float
        Seconds of the run (after connecting).
    workers : int
        Dask workers (0: synchronous).
    suggest_time : float
        Seconds in DeepHyper's ask and tell (replay included).
    replay_time : float
        Of which, replaying the stored evaluations.
    store_time : float
        Seconds writing to the store.
    eval_time, eval_cpu : float
        Sum of the computed evaluations' own wall and CPU times, s.
    mismatches : int
        Replayed suggestions that differed from the stored ones (0 when the engine is
        deterministic).
    store : Path
    """

    name: str
    budget: int
    stored: dict[str, int]
    computed: int
    reused: int
    failed: int
    errors: tuple[str, ...]
    best: dict[str, tuple[float, int]]
    wall_time: float
    workers: int
    suggest_time: float
    replay_time: float
    store_time: float
    eval_time: float
    eval_cpu: float
    mismatches: int
    store: Path

    @property
    def ok(self) -> bool:
        """True if every method has its whole budget stored and no error stopped it."""
        return not self.errors and all(
            n >= self.budget for m, n in self.stored.items() if m != REFERENCE)

    @property
    def overhead(self) -> float:
        """(Suggestion + bookkeeping time) / evaluation time of this run (0 if none ran)."""
        live = self.suggest_time - self.replay_time + self.store_time
        return live / self.eval_time if self.eval_time > 0 else 0.0

    def __str__(self) -> str:
        where = f"{self.workers} worker{'s' * (self.workers != 1)}" if self.workers else \
            "this process"
        counts = ", ".join(f"{m} {n}" for m, n in self.stored.items())
        lines = [f"search {self.name!r}: budget {self.budget} per method; stored: {counts}; "
                 f"this run computed {self.computed}, reused {self.reused}, failed "
                 f"{self.failed}"]
        if self.computed:
            lines.append(f"  {self.wall_time:.1f} s on {where}; evaluations {self.eval_time:.1f}"
                         f" s (CPU {self.eval_cpu:.1f} s); suggestions {self.suggest_time:.1f} "
                         f"s (replay {self.replay_time:.1f} s), store {self.store_time:.2f} s: "
                         f"overhead {100 * self.overhead:.1f} % of evaluation time")
        for m, (value, idx) in self.best.items():
            lines.append(f"  best {m}: {value:.3f} (design {idx})")
        if self.mismatches:
            lines.append(f"  warning: {self.mismatches} replayed suggestion(s) differed from "
                         "the stored ones (the optimizer is not deterministic here)")
        lines.append(f"results in {self.store}")
        lines += [f"  error: {e}" for e in self.errors]
        return "\n".join(lines)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


class _Run:
    """The event loop of one run: engines, store, submissions."""

    def __init__(self, spec: SearchSpec, rows: list[dict[str, Any]],
                 evaluate_fn: Callable[..., Any], on_evaluation: Callable[..., None] | None,
                 bar: Any):
        self.spec = spec
        self.rows = rows  # what the store held at the start
        self.db: SearchStore | None = None  # set once the store is open for writing
        self.evaluate_fn = evaluate_fn
        self.on_evaluation = on_evaluation
        self.bar = bar
        self.engines: dict[str, _Engine] = {}
        self.computed = self.reused = self.failed = 0
        self.errors: list[str] = []
        self.blocked: set[str] = set()
        self.store_time = self.eval_time = self.eval_cpu = 0.0
        self.kind = spec.objective_kind
        self.refs = self.kind.references(spec) if spec.references else {}

    def payload(self, method: str, idx: int) -> tuple[dict[str, Any], dict[str, Any]]:
        if method == REFERENCE:
            name = list(self.refs)[idx]
            point = self.refs[name]
            return {"reference": name}, self.kind.payload(self.spec, point, evaluation_seed(
                self.spec, idx, reference=True))
        eng = self.engines[method]
        config = eng.configs.get(idx, eng.asked[idx])
        point = self.spec.point(self.spec.values(config))
        return config, self.kind.payload(self.spec, point, evaluation_seed(self.spec, idx))

    def replay(self) -> float:
        t = time.perf_counter()
        stored = self.rows
        for method in self.spec.methods:
            eng = self.engines[method]
            for row in (r for r in stored if r["method"] == method and r["idx"] < eng.budget):
                eng.record(row["idx"], row["config"], row["objectives"])
                eng.advance()
        return time.perf_counter() - t

    def stored_refs(self) -> set[int]:
        rows = self.rows if self.db is None else self.db.evaluations(self.spec.name, REFERENCE)
        return {r["idx"] for r in rows if r["method"] == REFERENCE}

    def pending(self) -> list[tuple[str, int]]:
        """Everything to evaluate now: references first, then each method's wanted designs."""
        out = [(REFERENCE, i) for i in range(len(self.refs)) if i not in self.stored_refs()]
        for m, eng in self.engines.items():
            if m not in self.blocked:
                out += [(m, i) for i in eng.wanted()]
        return out

    def try_reuse(self, method: str, idx: int) -> bool:
        config, payload = self.payload(method, idx)
        assert self.db is not None
        row = self.db.by_key(payload["key"])
        if row is None:
            return False
        if row["status"] != "ok":
            self.finish(method, idx, None, error=row["error"], reused=True)
            return True
        result = {"objectives": row["objectives"], "metrics": row["metrics"],
                  "wall_time": row["wall_time"], "cpu_time": row["cpu_time"],
                  "worker": row["worker"], "memsim_version": row["memsim_version"]}
        self.finish(method, idx, result, reused=True)
        return True

    def finish(self, method: str, idx: int, result: Mapping[str, Any] | None, *,
               error: str | None = None, reused: bool = False) -> list[tuple[str, int]]:
        """Store an evaluation, tell it, and return the new designs to evaluate."""
        config, payload = self.payload(method, idx)
        assert self.db is not None
        t = time.perf_counter()
        added = self.db.add(self.spec.name, method, idx, config, payload, result, error=error,
                            reused=reused)
        self.store_time += time.perf_counter() - t
        if not added:
            log.warning("%s design %d was already stored; kept the first result", method, idx)
        if reused:
            self.reused += 1
        elif result is None:
            self.failed += 1
        else:
            self.computed += 1
            self.eval_time += float(result["wall_time"])
            self.eval_cpu += float(result.get("cpu_time", 0.0))
        self.bar.update()
        if self.on_evaluation is not None:
            self.on_evaluation(method, idx, result)
        if method == REFERENCE:
            return []
        eng = self.engines[method]
        eng.record(idx, config, None if result is None else list(result["objectives"]))
        new = [(method, i) for i in eng.advance()]
        self.show_best()
        return new

    def show_best(self) -> None:
        best = self.best()
        self.bar.set_postfix_str(", ".join(f"best {m} {v:.2f}" for m, (v, _) in best.items()),
                                 refresh=False)

    def best(self) -> dict[str, tuple[float, int]]:
        out = {}
        for m, eng in self.engines.items():
            vals = [(float(o[0]), i) for i, o in eng.results.items() if o is not None]
            if vals:
                sign = self.spec.direction(self.spec.objectives[0])
                v, i = max(vals, key=lambda t: (sign * t[0], -t[1]))
                out[m] = (v, i)
        return out


def run_search(
    spec: SearchSpec,
    store: str | Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    synchronous: bool = False,
    progress: bool = True,
    connect_timeout: float = 10.0,
    evaluate: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
    on_evaluation: Callable[[str, int, Mapping[str, Any] | None], None] | None = None,
) -> SearchSummary:
    """Run (or resume) the search ``spec`` with its evaluations stored in ``store``.

    Parameters
    ----------
    spec : SearchSpec
        From :func:`memsim.search.load_search`; :meth:`SearchSpec.with_budget` to extend.
    store : path
        SQLite store (a sweep store; created if missing).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://HOST:PORT``); default: a local cluster
        of ``workers`` processes sharing the numba cache.
    workers : int, optional
        Local cluster size (default: one per CPU).
    synchronous : bool
        Evaluate in this process, one at a time, without Dask.
    progress : bool
        A progress bar (evaluations, best so far per method) on stderr.
    connect_timeout : float
        Seconds to wait for the scheduler.
    evaluate : callable, optional
        The evaluation function, payload -> result (default: the evaluation of the search's
        objective kind, :attr:`memsim.search.kinds.ObjectiveKind.evaluate`); it must be
        importable by the workers.
    on_evaluation : callable, optional
        Called as ``on_evaluation(method, idx, result)`` after each evaluation is stored
        (result None for a failed one).

    Returns
    -------
    SearchSummary

    Raises
    ------
    StoreError
        If ``store`` is not a memsim store, or holds a search of the same name with another
        space (nothing is written).
    SchedulerError
        If the scheduler address is malformed or unreachable, or no cluster starts.
    ParameterError
        If ``workers`` is given with ``scheduler`` or is below 1.
    MemsimError
        If deephyper is not installed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from memsim.search.space import parse_search
    >>> spec = parse_search('''
    ... [search]
    ... name = "tiny"
    ... seed = 3
    ... budget = 3
    ... parallel = 2
    ... model = "abstract"
    ... inputs = 2
    ... outputs = 2
    ... repetitions = 4
    ... references = false
    ... [space]
    ... hidden = { from = 2, to = 6 }
    ... ''')
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.sqlite"
    >>> s = run_search(spec, path, synchronous=True, progress=False)
    >>> s.stored, s.computed + s.reused
    ({'bo': 3, 'random': 3}, 6)
    >>> run_search(spec, path, synchronous=True, progress=False).computed  # all stored
    0
    """
    check_options(scheduler, workers, synchronous)
    if evaluate is None:
        evaluate = spec.objective_kind.evaluate
    path = Path(store)
    check_store(path)
    spec.problem()  # deephyper present, space convertible: before anything is written
    from tqdm.auto import tqdm

    n_refs = len(spec.objective_kind.references(spec)) if spec.references else 0
    total = spec.budget * len(spec.methods) + n_refs
    rows: list[dict[str, Any]] = []
    if is_search_store(path):  # read-only until the cluster is up
        with SearchStore.open_readonly(path) as ro:
            ro.check(spec)
            rows = ro.evaluations(spec.name)
    client = cluster = None
    n_workers = 0
    with tqdm(total=total, unit="eval", desc=f"search {spec.name}", disable=not progress,
              file=sys.stderr, dynamic_ncols=True) as bar:
        run = _Run(spec, rows, evaluate, on_evaluation, bar)
        t = time.perf_counter()
        for m in spec.methods:
            run.engines[m] = _Engine(spec, m, spec.budget)
        replay = run.replay() + (time.perf_counter() - t)
        bar.update(sum(len(e.results) for e in run.engines.values()) + len(run.stored_refs()))
        run.show_best()
        start = time.perf_counter()
        try:
            if run.pending() and not synchronous:
                client, cluster = connect(scheduler, workers, connect_timeout)
                n_workers = len(client.scheduler_info().get("workers", {}))
            with SearchStore.open(path) as db:
                db.register(spec)
                run.db = db
                if client is not None:
                    _loop_dask(run, client)
                elif run.pending():
                    _loop_sync(run)
                stored = {m: len([r for r in db.evaluations(spec.name, m)
                                  if r["idx"] < spec.budget]) for m in spec.methods}
                if spec.references:
                    stored[REFERENCE] = len(run.stored_refs())
        finally:
            if client is not None:
                client.close()
            if cluster is not None:
                cluster.close()
        wall = time.perf_counter() - start
    suggest = sum(e.suggest_time for e in run.engines.values())
    summary = SearchSummary(
        spec.name, spec.budget, stored, run.computed, run.reused, run.failed,
        tuple(run.errors), run.best(), wall, n_workers, suggest, replay, run.store_time,
        run.eval_time, run.eval_cpu, sum(len(e.mismatches) for e in run.engines.values()),
        path)
    log.info("%s", summary)
    return summary


def _evaluate_here(run: _Run, method: str, idx: int) -> None:
    _, payload = run.payload(method, idx)
    try:
        result = run.evaluate_fn(payload)
    except MemsimError as exc:  # the design itself is bad: a failed evaluation
        run.finish(method, idx, None, error=_first_line(exc))
    else:
        run.finish(method, idx, result)


def _loop_sync(run: _Run) -> None:
    """One evaluation after the other, lowest pending first (other errors propagate, with
    their traceback)."""
    while pending := run.pending():
        method, idx = pending[0]
        if method == REFERENCE or not run.try_reuse(method, idx):
            _evaluate_here(run, method, idx)


def _loop_dask(run: _Run, client: Any) -> None:
    from distributed import as_completed

    futures = as_completed([], loop=client.loop)
    in_flight: dict[str, tuple[str, int]] = {}

    def submit_pending() -> None:
        while True:
            items = [p for p in run.pending() if p not in in_flight.values()]
            reused = False
            for method, idx in items:
                if method != REFERENCE and run.try_reuse(method, idx):
                    reused = True  # its tell may have asked new designs: look again
                    continue
                _, payload = run.payload(method, idx)
                key = f"memsim-search-{run.spec.name}-{method}-{idx}-{payload['key'][:12]}"
                in_flight[key] = (method, idx)
                futures.add(client.submit(run.evaluate_fn, payload, key=key, pure=False))
            if not reused:
                return

    submit_pending()
    for fut in futures:
        method, idx = in_flight.pop(str(fut.key))
        if fut.status == "finished":
            run.finish(method, idx, fut.result())
        else:
            exc = fut.exception() if fut.status == "error" else None
            if isinstance(exc, MemsimError):  # the design itself is bad
                run.finish(method, idx, None, error=_first_line(exc))
            else:  # a lost task or a bug: not stored, the method waits for a re-run
                message = (f"{method} design {idx}: "
                           + (_first_line(exc) if exc is not None else f"task {fut.status}"))
                run.errors.append(message)
                run.blocked.add(method)
                log.warning("%s (not stored; run the search again to retry)", message)
        fut.release()
        submit_pending()
