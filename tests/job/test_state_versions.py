"""States written by older jobs: ``job status`` reads them as they are, a job upgrades them.

The fixtures are built from the schema history in git, not from today's code: version 1 is the
schema of commit a11f3b2 (the first job), version 2 as first written by commit df3d95e (dead
letters, before the clock-skew, gap and staged-page columns).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from commands import job_cli
from executor.job import StateStore
from executor.job.model import Checkpoint
from executor.job.step import Step

_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources (
    connection TEXT NOT NULL, source TEXT NOT NULL, label TEXT,
    cursor TEXT, backfill_start TEXT, events_delivered INTEGER NOT NULL DEFAULT 0,
    last_run_started TEXT, last_run_finished TEXT, last_success TEXT,
    last_run_events INTEGER, last_error TEXT, last_error_at TEXT,
    PRIMARY KEY (connection, source));
CREATE TABLE seen (
    connection TEXT NOT NULL, source TEXT NOT NULL, key TEXT NOT NULL, cursor TEXT NOT NULL,
    PRIMARY KEY (connection, source, key)) WITHOUT ROWID;
CREATE INDEX seen_by_cursor ON seen (connection, source, cursor);
CREATE TABLE sinks (path TEXT PRIMARY KEY, committed_length INTEGER NOT NULL);
CREATE TABLE health (
    connection TEXT PRIMARY KEY, label TEXT, checked_at TEXT, ok INTEGER, message TEXT,
    last_failure_at TEXT, last_failure TEXT);
"""
_V2_DEAD_LETTERS = """
CREATE TABLE dead_letters (
    connection TEXT NOT NULL, source TEXT NOT NULL, key TEXT NOT NULL, reason TEXT NOT NULL,
    at TEXT NOT NULL, PRIMARY KEY (connection, source, key)) WITHOUT ROWID;
"""
CURSOR = "2026-11-20T10:15:00.1230000Z"


def _old_state(path: Path, version: int) -> Path:
    db = sqlite3.connect(path)
    db.executescript(_V1 + (_V2_DEAD_LETTERS if version >= 2 else ""))
    db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(version),))
    db.execute("INSERT INTO sources (connection, source, label, cursor, events_delivered, "
               "last_success) VALUES ('tenant-a/app', 'signIn', 'prod', ?, 42, "
               "'2026-11-20T10:20:00Z')", (CURSOR,))
    db.execute("INSERT INTO seen VALUES ('tenant-a/app', 'signIn', 'k1', ?)", (CURSOR,))
    db.execute("INSERT INTO sinks VALUES ('/var/lib/events.ndjson', 1234)")
    db.execute("INSERT INTO health (connection, label, ok) VALUES ('tenant-a/app', 'prod', 1)")
    if version >= 2:
        db.execute("INSERT INTO dead_letters VALUES ('tenant-a/app', 'signIn', 'bad', "
                   "'no id', '2026-11-20T10:20:00Z')")
    db.commit()
    db.close()
    return path


@pytest.mark.parametrize("version", [1, 2])
def test_status_reads_a_state_of_an_older_schema(tmp_path: Path, version: int,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    state = _old_state(tmp_path / "old.db", version)
    assert job_cli.main(["status", "--state", str(state)]) == 0
    out = capsys.readouterr().out
    assert CURSOR in out and "prod" in out
    reader = StateStore(state, readonly=True)
    try:
        (source,) = reader.sources()
        assert (source.cursor, source.events_delivered, source.seen_keys) == (CURSOR, 42, 1)
        assert source.clock_skew_seconds is None and source.gap_from is None
        assert source.dead_letters == (1 if version >= 2 else 0)
        assert reader.sinks() == {"/var/lib/events.ndjson": 1234}
    finally:
        reader.close()


def test_status_leaves_an_old_state_as_it_was(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    state = _old_state(tmp_path / "old.db", 1)
    before = state.read_bytes()
    assert job_cli.main(["status", "--state", str(state)]) == 0
    assert state.read_bytes() == before  # read-only: a running older job is not disturbed


@pytest.mark.parametrize("version", [1, 2])
def test_a_job_upgrades_an_older_state_and_keeps_its_cursor(tmp_path: Path,
                                                            version: int) -> None:
    state = _old_state(tmp_path / "old.db", version)
    store = StateStore(state)
    try:
        checkpoint = store.checkpoint("tenant-a/app", "signIn")
        assert checkpoint.cursor == CURSOR and dict(checkpoint.seen) == {"k1": CURSOR}
        store.record_skew("tenant-a/app", "signIn", 2.5)
        (source,) = store.sources()
        assert source.clock_skew_seconds == 2.5 and source.events_delivered == 42
        assert store.sink_commit("/var/lib/events.ndjson") == (1234, 0)
    finally:
        store.close()


def test_an_upgraded_state_keeps_its_keys_in_cursor_order(tmp_path: Path) -> None:
    """Version 3 stores the keys by cursor (no second index); the keys of version 2 move over,
    and a page's commit adds and forgets keys in the new table."""
    state = _old_state(tmp_path / "old.db", 2)
    store = StateStore(state)
    try:
        later = "2026-11-20T10:30:00.0000000Z"
        store.commit("tenant-a/app", "signIn",
                     Step([], Checkpoint(later, {}), {"k2": later}, forget_before=later),
                     sink_path=None, sink_length=None)
        assert dict(store.checkpoint("tenant-a/app", "signIn").seen) == {"k2": later}
    finally:
        store.close()
    db = sqlite3.connect(state)
    try:
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        primary_key = [row[2] for row in db.execute("PRAGMA index_xinfo('sqlite_autoindex_seen_1')")
                       if row[5]]  # key columns
    finally:
        db.close()
    assert "seen_by_cursor" not in names and "seen_by_key" not in names
    assert primary_key[:3] == ["connection", "source", "cursor"], primary_key
