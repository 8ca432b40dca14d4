"""The result store: one SQLite file, one row per finished task, keyed for resumption.

Layout (schema version :data:`SCHEMA_VERSION`):

* ``PRAGMA application_id`` = :data:`APPLICATION_ID` (the bytes ``MEMS``) marks the file as a
  memsim store; ``PRAGMA user_version`` holds the schema version. Both are checked, read-only,
  before anything is written, so a file that is not a memsim store is never touched.
* ``meta(key, value)``: format name, schema version, creating memsim version, creation time.
* ``sweeps(name, digest, spec, created)``: every sweep run against the store (expanded spec).
* ``results``: one row per task, ``key`` UNIQUE. Columns: ``key``, ``sweep``, ``point``
  (grid-point parameters, canonical JSON), ``point_key``, ``P``, ``block``, ``rep_start``,
  ``n_reps``, ``seed`` (JSON: master seed and block), ``memsim_version``, ``successes``,
  ``trials``, ``metrics`` (JSON: per-repetition ``outcomes``, the task's ``cpu_time`` in s),
  ``wall_time`` (s), ``worker``,
  ``finished`` (UTC, ISO 8601).

Each result is written in its own transaction (``INSERT OR IGNORE``: a task stored twice is
kept once), so a client killed at any moment leaves only whole rows behind. Other modules may
keep tables of their own in the file (:mod:`memsim.search` adds ``searches`` and
``evaluations``); readers of this schema ignore them.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from memsim.errors import MemsimError
from memsim.sweep.spec import SweepSpec, SweepTask, canonical_json

__all__ = ["APPLICATION_ID", "RESULT_COLUMNS", "SCHEMA_VERSION", "Store", "StoreError",
           "check_store"]

log = logging.getLogger(__name__)

APPLICATION_ID = int.from_bytes(b"MEMS", "big")
"""``PRAGMA application_id`` of a memsim store (0x4D454D53)."""
SCHEMA_VERSION = 1
FORMAT = "memsim-sweep-store"
_SQLITE_HEADER = b"SQLite format 3\x00"

RESULT_COLUMNS = ("key", "sweep", "point", "point_key", "P", "block", "rep_start", "n_reps",
                  "seed", "memsim_version", "successes", "trials", "metrics", "wall_time",
                  "worker", "finished")
"""Columns of the ``results`` table, in order."""

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sweeps (
    digest TEXT PRIMARY KEY, name TEXT NOT NULL, spec TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE results (
    key TEXT NOT NULL UNIQUE,
    sweep TEXT NOT NULL,
    point TEXT NOT NULL,
    point_key TEXT NOT NULL,
    P INTEGER NOT NULL,
    block INTEGER NOT NULL,
    rep_start INTEGER NOT NULL,
    n_reps INTEGER NOT NULL,
    seed TEXT NOT NULL,
    memsim_version TEXT NOT NULL,
    successes INTEGER NOT NULL,
    trials INTEGER NOT NULL,
    metrics TEXT NOT NULL,
    wall_time REAL NOT NULL,
    worker TEXT NOT NULL,
    finished TEXT NOT NULL);
CREATE INDEX results_point ON results (point_key, P);
"""


class StoreError(MemsimError, ValueError):
    """A result store cannot be used (not a memsim store, newer schema, unreadable)."""


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def check_store(path: str | Path) -> bool:
    """Check, without writing, that ``path`` is a memsim store or free for a new one.

    Returns True if the store exists, False if it would be created (no file, or an empty one).

    Raises
    ------
    StoreError
        If the path is a directory, not an SQLite database, an SQLite database of another
        application, or a store of a newer schema.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> check_store(d / "new.sqlite")
    False
    >>> _ = (d / "notes.txt").write_text("hello")
    >>> try:
    ...     check_store(d / "notes.txt")
    ... except StoreError as err:
    ...     print("notes.txt is not a memsim result store" in str(err))
    True
    """
    p = Path(path)
    if p.is_dir():
        raise StoreError(f"{p} is a directory, not a memsim result store; give a file path")
    if not p.exists() or p.stat().st_size == 0:
        return False
    try:
        with open(p, "rb") as fh:
            header = fh.read(len(_SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"cannot read {p}: {exc.strerror or exc}") from None
    if header != _SQLITE_HEADER:
        raise StoreError(f"{p} is not a memsim result store (not an SQLite database); "
                         "give another --store path")
    try:
        con = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True)
        try:
            app = con.execute("PRAGMA application_id").fetchone()[0]
            version = con.execute("PRAGMA user_version").fetchone()[0]
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{p} is not a readable SQLite database ({exc}); "
                         "give another --store path") from None
    if app != APPLICATION_ID:
        raise StoreError(f"{p} is an SQLite database of another application (application_id "
                         f"{app:#x}), not a memsim result store; give another --store path")
    if version > SCHEMA_VERSION:
        raise StoreError(f"{p} was written by a newer memsim (store schema {version}, this "
                         f"memsim reads up to {SCHEMA_VERSION}); upgrade memsim")
    return True


class Store:
    """A memsim result store on disk (SQLite).

    Use :meth:`open` (creates the file if needed) or :meth:`open_readonly`; close with
    :meth:`close` or a ``with`` block.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from memsim.sweep import parse_sweep
    >>> spec = parse_sweep('''
    ... [sweep]
    ... name = "t"
    ... seed = 1
    ... repetitions = 2
    ... [[grid]]
    ... model = "abstract"
    ... sizes = [2, 4, 2]
    ... P = [1]
    ... ''')
    >>> task = spec.tasks()[0]
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "s.sqlite"
    >>> with Store.open(path) as store:
    ...     store.add(spec.name, task, {"successes": 2, "trials": 2, "outcomes": [1, 1],
    ...               "wall_time": 0.1, "worker": "w", "memsim_version": "0"})
    ...     store.add(spec.name, task, {"successes": 2, "trials": 2, "outcomes": [1, 1],
    ...               "wall_time": 0.1, "worker": "w", "memsim_version": "0"})
    ...     len(store), task.key in store.keys()
    True
    False
    (1, True)
    """

    def __init__(self, path: Path, con: sqlite3.Connection):
        self.path = path
        self._con = con

    @classmethod
    def open(cls, path: str | Path) -> Store:
        """Open the store at ``path`` for writing, creating it if there is none.

        Raises
        ------
        StoreError
            As :func:`check_store`, or if the file cannot be created.
        """
        p = Path(path)
        exists = check_store(p)
        try:
            if not exists:
                p.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(p, timeout=60.0, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open {p} for writing: {exc}") from None
        store = cls(p, con)
        if not exists:
            store._create()
        return store

    @classmethod
    def open_readonly(cls, path: str | Path) -> Store:
        """Open an existing store for reading only.

        Raises
        ------
        StoreError
            If there is no store at ``path``, or as :func:`check_store`.
        """
        p = Path(path)
        if not check_store(p):
            raise StoreError(f"no result store at {p}; run `memsim sweep FILE --store {p}` "
                             "first")
        con = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True, timeout=60.0)
        return cls(p, con)

    def _create(self) -> None:
        con = self._con
        try:
            con.execute("BEGIN IMMEDIATE")
            # Another process may have created the store between the check and the lock.
            if con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID:
                con.execute("COMMIT")
                return
            if con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                con.execute("ROLLBACK")
                raise StoreError(f"{self.path} is an SQLite database of another application, "
                                 "not a memsim result store; give another --store path")
            con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    con.execute(stmt)
            import memsim

            con.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("format", FORMAT), ("schema", str(SCHEMA_VERSION)),
                ("created_by", f"memsim {memsim.__version__}"), ("created", _now())])
            con.execute("COMMIT")
        except sqlite3.Error as exc:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise StoreError(f"cannot create a store at {self.path}: {exc}") from None
        log.info("created result store %s", self.path)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection."""
        self._con.close()

    def __len__(self) -> int:
        return int(self._con.execute("SELECT count(*) FROM results").fetchone()[0])

    def keys(self) -> set[str]:
        """Keys of all stored tasks."""
        return {k for (k,) in self._con.execute("SELECT key FROM results")}

    def register(self, spec: SweepSpec) -> None:
        """Record the expanded sweep ``spec`` (once per distinct spec)."""
        text = canonical_json(spec.to_dict())
        digest = hashlib.sha256(text.encode()).hexdigest()[:32]
        with self._transaction():
            self._con.execute("INSERT OR IGNORE INTO sweeps VALUES (?, ?, ?, ?)",
                              (digest, spec.name, text, _now()))

    def add(self, sweep: str, task: SweepTask, result: Mapping[str, Any]) -> bool:
        """Store the result of ``task`` in one transaction; False if it was already stored."""
        metrics: dict[str, Any] = {"outcomes": [int(v) for v in result["outcomes"]]}
        if "cpu_time" in result:
            metrics["cpu_time"] = float(result["cpu_time"])
        row = (
            task.key, sweep, canonical_json(task.point), _point_key(task.point),
            task.n_patterns, task.block, task.rep_start, task.n_reps,
            canonical_json(task.seed_record), str(result["memsim_version"]),
            int(result["successes"]), int(result["trials"]),
            canonical_json(metrics),
            float(result["wall_time"]), str(result["worker"]), _now(),
        )
        with self._transaction():
            cur = self._con.execute(
                f"INSERT OR IGNORE INTO results VALUES ({', '.join('?' * len(row))})", row)
        return cur.rowcount == 1

    def rows(self) -> list[dict[str, Any]]:
        """All results as dicts (``point``, ``seed`` and ``metrics`` decoded from JSON),
        sorted by grid point, P and block."""
        cur = self._con.execute(
            f"SELECT {', '.join(RESULT_COLUMNS)} FROM results ORDER BY point, P, block")
        out = []
        for values in cur:
            row = dict(zip(RESULT_COLUMNS, values, strict=True))
            for k in ("point", "seed", "metrics"):
                row[k] = json.loads(row[k])
            out.append(row)
        return out

    def sweeps(self) -> list[dict[str, Any]]:
        """The sweeps recorded in the store (name, creation time, expanded spec)."""
        cur = self._con.execute("SELECT name, created, spec FROM sweeps ORDER BY created")
        return [{"name": n, "created": c, "spec": json.loads(s)} for n, c, s in cur]

    @property
    def connection(self) -> sqlite3.Connection:
        """The SQLite connection (autocommit; write inside :meth:`transaction`), for modules
        that keep tables of their own in the same file (the search's ``evaluations``)."""
        return self._con

    def transaction(self) -> _Transaction:
        """A context manager: one ``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on an
        exception). Nested uses join the outer transaction, so several :meth:`add` calls and
        a caller's own rows are stored together or not at all."""
        return self._transaction()

    def _transaction(self) -> _Transaction:
        return _Transaction(self._con)


class _Transaction:
    def __init__(self, con: sqlite3.Connection):
        self.con = con
        self.outer = False

    def __enter__(self) -> None:
        self.outer = not self.con.in_transaction
        if self.outer:
            self.con.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if self.outer:
            self.con.execute("ROLLBACK" if exc_type is not None else "COMMIT")


def _point_key(point: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(point).encode()).hexdigest()[:32]

