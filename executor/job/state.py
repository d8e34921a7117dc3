"""The job's state in SQLite: checkpoints, event keys at the cursor's edge, sink length, status.

One transaction per page holds everything that must move together: the new cursor, the keys
just delivered, the keys that fell out of the overlap, the sink's committed length and the
delivery count. The page is staged beside the sink before that transaction and published after
it (see :mod:`executor.job.sink`), so a crash at any point leaves sink and checkpoint agreeing.

The keys are stored in cursor order (``seen``'s primary key starts with the cursor value): a page
adds its keys at one end of one tree and the overlap drops them from the other, where keys in
their own order (GUIDs) and a second index on the cursor touched pages all over both trees, and
cost more than the rest of the commit.

WAL with ``synchronous=FULL``: a commit is on disk when it returns, because the file sink
publishes a page only after its commit (see :mod:`executor.job.sink`) and so must never find the
state behind the sink after a power loss.

Shared by the concurrent sources of one job: one SQLite connection, every statement and
transaction under one re-entrant lock, so the writes of concurrent pages never interleave.

One job per state: the lock is an ``flock`` on the database file itself, so a symlink, a hard link
or another spelling of the path reaches the same lock. Each state has an identity (a UUID in
``meta``) that a file sink records, so a second state pointed at the same sink is refused.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from executor.errors import UsageError
from executor.job.model import Checkpoint
from executor.job.step import Step

SCHEMA_VERSION = 3
_SEEN = """CREATE TABLE IF NOT EXISTS seen (
    connection TEXT NOT NULL, source TEXT NOT NULL, key TEXT NOT NULL, cursor TEXT NOT NULL,
    PRIMARY KEY (connection, source, cursor, key)) WITHOUT ROWID;"""
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
    connection TEXT NOT NULL, source TEXT NOT NULL, label TEXT,
    cursor TEXT, backfill_start TEXT, events_delivered INTEGER NOT NULL DEFAULT 0,
    last_run_started TEXT, last_run_finished TEXT, last_success TEXT,
    last_run_events INTEGER, last_error TEXT, last_error_at TEXT,
    PRIMARY KEY (connection, source));
{_SEEN}
CREATE TABLE IF NOT EXISTS sinks (path TEXT PRIMARY KEY, committed_length INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dead_letters (
    connection TEXT NOT NULL, source TEXT NOT NULL, key TEXT NOT NULL, reason TEXT NOT NULL,
    at TEXT NOT NULL, PRIMARY KEY (connection, source, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pacing (connection TEXT PRIMARY KEY, recent TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS health (
    connection TEXT PRIMARY KEY, label TEXT, checked_at TEXT, ok INTEGER, message TEXT,
    last_failure_at TEXT, last_failure TEXT);
"""


def utc_text(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class SourceStatus:
    connection: str
    label: str | None
    source: str
    cursor: str | None
    backfill_start: str | None
    events_delivered: int
    last_run_started: str | None
    last_run_finished: str | None
    last_success: str | None
    last_run_events: int | None
    last_error: str | None
    last_error_at: str | None
    seen_keys: int
    clock_skew_seconds: float | None
    """Service clock minus local clock at the last run (positive: the service is ahead)."""
    gap_from: str | None
    gap_to: str | None
    """A span the source could not read (its cursor was older than the service keeps)."""
    dead_letters: int


class StateStore:
    """SQLite state; ``lock=True`` also takes an exclusive lock so one job runs per state."""

    def __init__(self, path: Path | str, *, lock: bool = True, readonly: bool = False) -> None:
        self.path = Path(path)
        self._lock_fd: int | None = None
        self._guard = threading.RLock()
        if readonly:
            if not self.path.exists():
                raise UsageError(f"no job state at {self.path}")
            self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                      isolation_level=None, check_same_thread=False)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if lock:
            self._take_lock()
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)
        self._upgrade()
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                        (str(SCHEMA_VERSION),))
        self.db.execute("INSERT OR IGNORE INTO meta VALUES ('identity', ?)",
                        (str(uuid.uuid4()),))

    def _upgrade(self) -> None:
        """What changed since schema version 1 (a state written by an older job): columns
        added, and the keys stored in cursor order (version 3)."""
        have = self._columns("sources")
        for column, kind in (("clock_skew_seconds", "REAL"), ("gap_from", "TEXT"),
                             ("gap_to", "TEXT")):
            if column not in have:
                self.db.execute(f"ALTER TABLE sources ADD COLUMN {column} {kind}")
        if "staged" not in self._columns("sinks"):
            self.db.execute("ALTER TABLE sinks ADD COLUMN staged INTEGER NOT NULL DEFAULT 0")
        if self._rows("SELECT 1 FROM sqlite_master WHERE type='index' AND "
                      "name='seen_by_cursor'"):  # version 2 and older: keys in key order
            with self.transaction() as db:
                db.execute("ALTER TABLE seen RENAME TO seen_by_key")
                db.execute(_SEEN)
                db.execute("INSERT INTO seen (connection, source, key, cursor) SELECT "
                           "connection, source, key, cursor FROM seen_by_key")
                db.execute("DROP TABLE seen_by_key")

    @property
    def identity(self) -> str:
        row = self._row("SELECT value FROM meta WHERE key='identity'")
        return str(row[0]) if row else str(self.path.resolve())

    @property
    def dead_letter_path(self) -> Path:
        """Records the job could not deliver, one JSON line each, beside the state."""
        return self.path.resolve().with_name(self.path.resolve().name + ".dead-letters.ndjson")

    def _take_lock(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UsageError(f"another job is running on the state {self.path} (the same file "
                             f"as {os.path.realpath(self.path)})") from None
        self._lock_fd = fd

    def close(self) -> None:
        with self._guard:
            self.db.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._guard:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """A query's rows, read under the lock (never inside another thread's transaction)."""
        with self._guard:
            return self.db.execute(sql, params).fetchall()

    def _row(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    # Checkpoints -------------------------------------------------------------------------

    def checkpoint(self, connection: str, source: str) -> Checkpoint:
        row = self._row("SELECT cursor FROM sources WHERE connection=? AND source=?",
                        (connection, source))
        seen = dict(self._rows(
            "SELECT key, cursor FROM seen WHERE connection=? AND source=?",
            (connection, source)))
        return Checkpoint(row[0] if row else None, seen)

    def _ensure(self, db: sqlite3.Connection, connection: str, source: str,
                label: str | None = None) -> None:
        db.execute("INSERT OR IGNORE INTO sources (connection, source, label) VALUES (?, ?, ?)",
                   (connection, source, label))

    def commit(self, connection: str, source: str, step: Step, *, sink_path: str | None,
               sink_length: int | None, staged: int = 0,
               dead: Mapping[str, str] | None = None) -> None:
        """Make one page (or a window's end) durable: checkpoint, keys, sink length (and the
        size of the page staged to reach it), dead letters (key: reason), counts."""
        dead = dead or {}
        with self.transaction() as db:
            self._ensure(db, connection, source)
            db.execute("UPDATE sources SET cursor=?, events_delivered=events_delivered+?, "
                       "last_run_events=COALESCE(last_run_events, 0)+? "
                       "WHERE connection=? AND source=?",
                       (step.checkpoint.cursor, len(step.fresh), len(step.fresh), connection,
                        source))
            if step.forget_before is not None:
                db.execute("DELETE FROM seen WHERE connection=? AND source=? AND cursor<?",
                           (connection, source, step.forget_before))
            if step.added:
                db.executemany("INSERT OR REPLACE INTO seen VALUES (?, ?, ?, ?)",
                               [(connection, source, k, v) for k, v in step.added.items()])
            if sink_path is not None and sink_length is not None:
                db.execute("INSERT OR REPLACE INTO sinks (path, committed_length, staged) "
                           "VALUES (?, ?, ?)", (sink_path, sink_length, staged))
            for key, reason in dead.items():
                db.execute("INSERT OR IGNORE INTO dead_letters VALUES (?, ?, ?, ?, ?)",
                           (connection, source, key, reason, utc_text()))

    # Sinks ---------------------------------------------------------------------------------

    def sink_length(self, path: str) -> int | None:
        row = self.sink_commit(path)
        return None if row is None else row[0]

    def sink_commit(self, path: str) -> tuple[int, int] | None:
        """(committed length, bytes of the last page) of a sink; None when new to the state."""
        row = self._row("SELECT committed_length, staged FROM sinks WHERE path=?",
                        (path,))
        return None if row is None else (int(row[0]), int(row[1]))

    def set_sink_length(self, path: str, length: int) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO sinks (path, committed_length, staged) "
                       "VALUES (?, ?, 0)", (path, length))

    # Pacing ------------------------------------------------------------------------------

    def recent_requests(self, connection: str) -> list[Any]:
        """What the connection's pacer last recorded (opaque to the job; [] when nothing)."""
        row = self._row("SELECT recent FROM pacing WHERE connection=?", (connection,))
        return [] if row is None else list(json.loads(row[0]))

    def set_recent_requests(self, connection: str, recent: list[Any]) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO pacing VALUES (?, ?)",
                       (connection, json.dumps(recent)))

    # Dead letters, clock skew, gaps, resets -------------------------------------------------

    def dead_letter_known(self, connection: str, source: str, key: str) -> bool:
        return self._row("SELECT 1 FROM dead_letters WHERE connection=? AND source=? "
                               "AND key=?", (connection, source, key)) is not None

    def record_skew(self, connection: str, source: str, seconds: float) -> None:
        with self.transaction() as db:
            db.execute("UPDATE sources SET clock_skew_seconds=? WHERE connection=? AND "
                       "source=?", (round(seconds, 3), connection, source))

    def record_gap(self, connection: str, source: str, start: str, end: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE sources SET gap_from=?, gap_to=? WHERE connection=? AND "
                       "source=?", (start, end, connection, source))

    def reset_source(self, source: str, since: str | None) -> list[str]:
        """Move ``source``'s cursor (every connection's) to ``since``, or back to a first run;
        its delivered keys are forgotten. The labels of the connections changed."""
        with self.transaction() as db:
            rows = db.execute("SELECT connection, COALESCE(label, connection) FROM sources "
                              "WHERE source=?", (source,)).fetchall()
            db.execute("UPDATE sources SET cursor=?, backfill_start=NULL, gap_from=NULL, "
                       "gap_to=NULL WHERE source=?", (since, source))
            db.execute("DELETE FROM seen WHERE source=?", (source,))
        return [label for _, label in rows]

    # Run bookkeeping -----------------------------------------------------------------------

    def run_started(self, connection: str, source: str, label: str, at: str) -> None:
        with self.transaction() as db:
            self._ensure(db, connection, source, label)
            db.execute("UPDATE sources SET label=?, last_run_started=?, last_run_events=0 "
                       "WHERE connection=? AND source=?", (label, at, connection, source))

    def backfill_start(self, connection: str, source: str) -> str | None:
        """Where the first window of a source began (None before its first run)."""
        row = self._row("SELECT backfill_start FROM sources WHERE connection=? AND "
                              "source=?", (connection, source))
        return row[0] if row else None

    def first_window(self, connection: str, source: str, start: str) -> None:
        """Where the first window of a source begins (kept until its first commit)."""
        with self.transaction() as db:
            db.execute("UPDATE sources SET backfill_start=? WHERE connection=? AND source=? "
                       "AND cursor IS NULL", (start, connection, source))

    def run_finished(self, connection: str, source: str, at: str,
                     error: str | None = None) -> None:
        with self.transaction() as db:
            if error is None:
                db.execute("UPDATE sources SET last_run_finished=?, last_success=?, "
                           "last_error=NULL WHERE connection=? AND source=?",
                           (at, at, connection, source))
            else:
                db.execute("UPDATE sources SET last_run_finished=?, last_error=?, "
                           "last_error_at=? WHERE connection=? AND source=?",
                           (at, error, at, connection, source))

    def record_health(self, connection: str, label: str, at: str, ok: bool,
                      message: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO health (connection) VALUES (?)", (connection,))
            db.execute("UPDATE health SET label=?, checked_at=?, ok=?, message=? "
                       "WHERE connection=?", (label, at, int(ok), message, connection))
            if not ok:
                db.execute("UPDATE health SET last_failure_at=?, last_failure=? "
                           "WHERE connection=?", (at, message, connection))

    def last_health_check(self, connection: str) -> str | None:
        row = self._row("SELECT checked_at FROM health WHERE connection=?",
                        (connection,))
        return row[0] if row else None

    def set_meta(self, key: str, value: str | None) -> None:
        """A job-wide note (the schedule of ``job start``); None removes it."""
        with self.transaction() as db:
            if value is None:
                db.execute("DELETE FROM meta WHERE key=?", (key,))
            else:
                db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def meta(self, key: str) -> str | None:
        row = self._row("SELECT value FROM meta WHERE key=?", (key,))
        return None if row is None else str(row[0])

    # Reports -------------------------------------------------------------------------------

    def sources(self) -> list[SourceStatus]:
        """Every source's status; a state written by an older job (``job status`` opens it
        read-only, so it is never upgraded) reads with what it lacks as null or 0."""
        seen = ("(SELECT COUNT(*) FROM seen k WHERE k.connection=s.connection AND "
                "k.source=s.source)")
        dead = ("(SELECT COUNT(*) FROM dead_letters d WHERE d.connection=s.connection AND "
                "d.source=s.source)" if self._has_table("dead_letters") else "0")
        have = self._columns("sources")
        skew, gap_from, gap_to = (f"s.{c}" if c in have else "NULL"
                                  for c in ("clock_skew_seconds", "gap_from", "gap_to"))
        rows = self._rows(
            "SELECT s.connection, s.label, s.source, s.cursor, s.backfill_start, "
            "s.events_delivered, "
            "s.last_run_started, s.last_run_finished, s.last_success, s.last_run_events, "
            f"s.last_error, s.last_error_at, {seen}, {skew}, {gap_from}, {gap_to}, {dead} "
            "FROM sources s ORDER BY s.connection, s.source")
        return [SourceStatus(*row) for row in rows]

    def _columns(self, table: str) -> set[str]:
        return {row[1] for row in self._rows(f"PRAGMA table_info({table})")}

    def _has_table(self, table: str) -> bool:
        return self._row("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                         (table,)) is not None

    def health(self) -> list[dict[str, Any]]:
        if not self._has_table("health"):
            return []
        rows = self._rows("SELECT connection, label, checked_at, ok, message, "
                          "last_failure_at, last_failure FROM health "
                          "ORDER BY connection")
        return [{"connection": r[0], "label": r[1], "checked_at": r[2],
                 "ok": None if r[3] is None else bool(r[3]), "message": r[4],
                 "last_failure_at": r[5], "last_failure": r[6]} for r in rows]

    def sinks(self) -> dict[str, int]:
        return dict(self._rows("SELECT path, committed_length FROM sinks"))


def job_running(path: Path | str) -> bool:
    """Whether a job holds the state's lock now (tried with a shared lock, released at once)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases a lock taken here
    return False
