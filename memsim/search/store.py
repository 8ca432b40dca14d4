"""A search's evaluations in the sweep result store (one SQLite file for both).

Tables the search adds to a :class:`memsim.sweep.Store` file (created when a search first
writes to it; sweep readers ignore them):

* ``searches(name, digest, spec, created)``: the search file, expanded (``spec``, JSON), and
  the digest of what fixes its suggestions (:attr:`SearchSpec.digest`).
* ``evaluations``: one row per evaluation, PRIMARY KEY ``(search, method, idx)``; columns
  ``key`` (hash of design point, seed and evaluation settings: equal keys, equal results),
  ``config`` (the optimizer's configuration, JSON, exactly as suggested), ``point`` (the
  design point, JSON), ``master`` (the evaluation's seed), ``status`` (``ok`` or
  ``failed``), ``objectives`` (JSON list, natural units, null when failed), ``metrics``
  (JSON), ``error``, ``wall_time``, ``cpu_time``, ``worker``, ``memsim_version``, ``reused``
  (1 if copied from an equal evaluation of another method instead of computed), ``finished``.

A capacity evaluation also stores its S(P) trials as ordinary sweep rows in ``results`` (one
per load, :class:`memsim.sweep.SweepTask` keys), in the same transaction as its evaluation
row: ``memsim results`` shows them, and a client killed at any moment leaves whole
evaluations only.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from memsim.search.space import SearchSpec
from memsim.sweep.spec import SweepTask, canonical_json
from memsim.sweep.store import Store, StoreError, check_store

__all__ = ["EVALUATION_COLUMNS", "SearchStore", "is_search_store"]

EVALUATION_COLUMNS = ("search", "method", "idx", "key", "config", "point", "master", "status",
                      "objectives", "metrics", "error", "wall_time", "cpu_time", "worker",
                      "memsim_version", "reused", "finished")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS searches (
    name TEXT PRIMARY KEY, digest TEXT NOT NULL, spec TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS evaluations (
    search TEXT NOT NULL, method TEXT NOT NULL, idx INTEGER NOT NULL, key TEXT NOT NULL,
    config TEXT NOT NULL, point TEXT NOT NULL, master INTEGER NOT NULL, status TEXT NOT NULL,
    objectives TEXT, metrics TEXT NOT NULL, error TEXT, wall_time REAL NOT NULL,
    cpu_time REAL NOT NULL, worker TEXT NOT NULL, memsim_version TEXT NOT NULL,
    reused INTEGER NOT NULL, finished TEXT NOT NULL,
    PRIMARY KEY (search, method, idx));
CREATE INDEX IF NOT EXISTS evaluations_key ON evaluations (key);
"""


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def is_search_store(path: str | Path) -> bool:
    """True if ``path`` is a memsim store holding at least one search (read-only check).

    Raises
    ------
    StoreError
        As :func:`memsim.sweep.check_store`.
    """
    if not check_store(path):
        return False
    with Store.open_readonly(path) as store:
        con = store.connection
        have = con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                           "name = 'evaluations'").fetchone()[0]
        return bool(have) and con.execute("SELECT count(*) FROM searches").fetchone()[0] > 0


class SearchStore:
    """The evaluations of searches, in a memsim result store.

    Open with :meth:`open` (for writing; creates the store and the tables) or
    :meth:`open_readonly`; close with :meth:`close` or a ``with`` block.
    """

    def __init__(self, store: Store, writable: bool):
        self.store = store
        self.writable = writable

    @classmethod
    def open(cls, path: str | Path) -> SearchStore:
        """Open (or create) the store at ``path`` for writing.

        Raises
        ------
        StoreError
            As :meth:`memsim.sweep.Store.open`.
        """
        store = Store.open(path)
        with store.transaction():
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    store.connection.execute(stmt)
        return cls(store, True)

    @classmethod
    def open_readonly(cls, path: str | Path) -> SearchStore:
        """Open an existing store for reading.

        Raises
        ------
        StoreError
            If there is no store, or it holds no search.
        """
        if not is_search_store(path):
            raise StoreError(f"{path} holds no search; run `memsim search FILE --store {path}` "
                             "first")
        return cls(Store.open_readonly(path), False)

    def __enter__(self) -> SearchStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()

    @property
    def path(self) -> Path:
        return self.store.path

    def register(self, spec: SearchSpec) -> None:
        """Record ``spec`` under its name.

        Raises
        ------
        StoreError
            If the store holds a search of that name whose space, seeds or evaluation
            settings differ (its suggestions would not be this file's).
        """
        self.check(spec)
        con = self.store.connection
        with self.store.transaction():
            con.execute("INSERT OR REPLACE INTO searches VALUES (?, ?, ?, ?)",
                        (spec.name, spec.digest, canonical_json(spec.to_dict()), _now()))

    def check(self, spec: SearchSpec) -> None:
        """Check, without writing, that ``spec`` may run against this store.

        Raises
        ------
        StoreError
            As :meth:`register`.
        """
        row = self.store.connection.execute("SELECT digest FROM searches WHERE name = ?",
                                            (spec.name,)).fetchone()
        if row is not None and row[0] != spec.digest:
            raise StoreError(f"{self.path} holds a search {spec.name!r} with another space or "
                             "settings (only budget and methods may change); give the search "
                             "another name or use another --store")

    def searches(self) -> list[dict[str, Any]]:
        """The searches in the store: name, created, spec (plain data)."""
        cur = self.store.connection.execute(
            "SELECT name, created, spec FROM searches ORDER BY created, name")
        return [{"name": n, "created": c, "spec": json.loads(s)} for n, c, s in cur]

    def add(self, search: str, method: str, idx: int, config: Mapping[str, Any],
            payload: Mapping[str, Any], result: Mapping[str, Any] | None, *,
            error: str | None = None, reused: bool = False) -> bool:
        """Store one evaluation (and its S(P) rows) in one transaction; False if it was
        already stored (the first is kept)."""
        res: Mapping[str, Any] = result if result is not None else {}
        ok = result is not None
        metrics = dict(res["metrics"]) if ok else {}
        row = (search, method, int(idx), payload["key"], canonical_json(dict(config)),
               canonical_json(payload["point"]), int(payload["master"]),
               "ok" if ok else "failed",
               canonical_json(list(res["objectives"])) if ok else None,
               canonical_json(metrics), error,
               float(res.get("wall_time", 0.0)), float(res.get("cpu_time", 0.0)),
               str(res.get("worker", "")), str(res.get("memsim_version", "")),
               int(reused), _now())
        with self.store.transaction():
            cur = self.store.connection.execute(
                f"INSERT OR IGNORE INTO evaluations VALUES ({', '.join('?' * len(row))})", row)
            if cur.rowcount == 1 and ok and "outcomes" in metrics:
                for task, outcomes in _tasks(payload, metrics["outcomes"]):
                    self.store.add(search, task, {
                        "successes": sum(outcomes), "trials": len(outcomes),
                        "outcomes": outcomes, "wall_time": res["wall_time"],
                        "worker": res["worker"], "memsim_version": res["memsim_version"]})
        return cur.rowcount == 1

    def evaluations(self, search: str | None = None, method: str | None = None
                    ) -> list[dict[str, Any]]:
        """Stored evaluations (JSON columns decoded), by search, method and index."""
        where, args = [], []
        for col, val in (("search", search), ("method", method)):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        sql = (f"SELECT {', '.join(EVALUATION_COLUMNS)} FROM evaluations"
               + (f" WHERE {' AND '.join(where)}" if where else "")
               + " ORDER BY search, method, idx")
        out = []
        for values in self.store.connection.execute(sql, args):
            row = dict(zip(EVALUATION_COLUMNS, values, strict=True))
            for k in ("config", "point", "objectives", "metrics"):
                row[k] = None if row[k] is None else json.loads(row[k])
            out.append(row)
        return out

    def by_key(self, key: str) -> dict[str, Any] | None:
        """The first stored evaluation with this key (any search or method), if any: equal
        keys give equal results, a failure included."""
        rows = self._rows_with_key(key)
        return rows[0] if rows else None

    def _rows_with_key(self, key: str) -> list[dict[str, Any]]:
        cur = self.store.connection.execute(
            f"SELECT {', '.join(EVALUATION_COLUMNS)} FROM evaluations WHERE key = ? "
            "ORDER BY finished", (key,))
        out = []
        for values in cur:
            row = dict(zip(EVALUATION_COLUMNS, values, strict=True))
            for k in ("config", "point", "objectives", "metrics"):
                row[k] = None if row[k] is None else json.loads(row[k])
            out.append(row)
        return out


def _tasks(payload: Mapping[str, Any], outcomes: Mapping[str, list[int]]
           ) -> list[tuple[SweepTask, list[int]]]:
    """The sweep rows of a capacity evaluation: one task per load, all R trials in block 0,
    seeded by the evaluation's master seed (what a sweep with that seed would key them as)."""
    out = []
    for p, o in sorted(outcomes.items(), key=lambda kv: int(kv[0])):
        task = SweepTask.make(payload["point"], int(p), 0, 0, len(o), int(payload["master"]))
        out.append((task, [int(v) for v in o]))
    return out
