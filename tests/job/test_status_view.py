"""``job status`` as a table and its job-wide facts: a job running (the state's lock held), the
schedule of ``job start`` and its next run, stale sources, clamped gaps and clock skew."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from commands import job_cli
from commands.job_sources import job_source
from executor.job import FileSink, Job, StateStore
from executor.job.cli import _Schedule
from executor.job.status_view import render_status, status_report
from tests.job.fakes import T0, FakeConnection


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """``job_cli.main`` points the root logger at this test's captured stderr."""
    handlers = logging.getLogger().handlers[:]
    yield
    logging.getLogger().handlers[:] = handlers


def _state_after_one_cycle(tmp_path: Path, *, fail: bool = False) -> Path:
    conn = FakeConnection(now_value=T0 + timedelta(hours=1))
    conn.add("signIn", "a", T0, field_name="createdDateTime")
    store = StateStore(tmp_path / "state.db")
    sink = FileSink(tmp_path / "events.ndjson")
    Job([job_source("signIn")], [conn], store, sink, lambda r: {}).run_cycle()
    store.record_skew(conn.id, "signIn", 2.5)
    store.record_gap(conn.id, "signIn", "2026-09-01T00:00:00Z", "2026-10-02T00:00:00Z")
    if fail:
        store.run_started(conn.id, "signIn", conn.label, "2026-12-01T00:00:00Z")
        store.run_finished(conn.id, "signIn", "2026-12-01T00:00:05Z", "503: unavailable")
    store.close()
    sink.close()
    return tmp_path / "state.db"


def _last_success(path: Path) -> datetime:
    report = status_report(str(path), datetime.now(UTC))
    return datetime.fromisoformat(report["sources"][0]["last_success"].replace("Z", "+00:00"))


def test_the_table_shows_each_source_with_gap_skew_and_no_job_running(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _state_after_one_cycle(tmp_path)
    assert job_cli.main(["status", "--state", str(path), "--output", "table"]) == 0
    out = capsys.readouterr().out
    assert "not running" in out
    (row,) = [line for line in out.splitlines() if line.strip().startswith("tenant-a ")]
    assert "signIn" in row and "(ok)" in row
    assert "2026-09-01T00:00:00Z .. 2026-10-02T00:00:00Z" in row and "+2.5s" in row
    assert "STALE" not in row
    # not a terminal, no --output: JSON as before
    assert job_cli.main(["status", "--state", str(path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["running"] is False and report["schedule"] is None
    (source,) = report["sources"]
    assert source["stale"] is False and source["gap_from"] == "2026-09-01T00:00:00Z"


def test_a_source_is_stale_when_it_has_not_succeeded_for_a_day(tmp_path: Path) -> None:
    path = _state_after_one_cycle(tmp_path)
    success = _last_success(path)
    fresh = status_report(str(path), success + timedelta(hours=23))
    assert fresh["sources"][0]["stale"] is False
    stale = status_report(str(path), success + timedelta(hours=25))
    assert stale["sources"][0]["stale"] is True
    row = next(line for line in render_status(stale).splitlines() if "tenant-a " in line)
    assert "STALE" in row


def test_a_failed_last_run_is_shown_with_its_error(tmp_path: Path) -> None:
    path = _state_after_one_cycle(tmp_path, fail=True)
    out = render_status(status_report(str(path), datetime.now(UTC)))
    assert "2026-12-01T00:00:05Z (failed)" in out
    assert "503: unavailable" in out.split("Last errors", 1)[1]


def test_a_running_job_its_schedule_and_next_run(tmp_path: Path) -> None:
    path = _state_after_one_cycle(tmp_path)
    success = _last_success(path)
    ticks = [datetime(2026, 12, 1, 8, 0, tzinfo=UTC)]
    store = StateStore(path)  # the running job's lock
    try:
        schedule = _Schedule(store, 600, clock=lambda: ticks[0])
        first = status_report(str(path), success)
        assert first["running"] is True
        assert first["schedule"] == {"every_seconds": 600, "next_run": None}
        assert "when the current cycle ends" in render_status(first)

        ticks[0] += timedelta(seconds=30)  # a short cycle: the next starts a period later
        schedule.cycle_done(_report())
        report = status_report(str(path), success + timedelta(minutes=31))
        assert report["schedule"]["next_run"] == "2026-12-01T08:10:00Z"
        # stale after three periods (30 minutes) while this job runs
        assert report["stale_after_seconds"] == 1800 and report["sources"][0]["stale"]
        text = render_status(report)
        assert "running (it holds" in text and "every 600 s; next run 2026-12-01T08:10:00Z" in text

        ticks[0] += timedelta(minutes=25)  # the 08:10 cycle ran past 08:20: the next at once
        schedule.cycle_done(_report())
        assert status_report(str(path), success)["schedule"]["next_run"] == (
            "2026-12-01T08:25:30Z")
        schedule.stopped()
    finally:
        store.close()
    after = status_report(str(path), success)
    assert after["running"] is False and after["schedule"] is None


def _report() -> Any:
    from executor.job.runner import CycleReport

    return CycleReport()
