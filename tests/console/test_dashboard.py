"""The job dashboard over the state file of a real job cycle, with the console's clock set."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from playwright.sync_api import expect

from executor.job.state import StateStore
from tests.console.conftest import ConsoleSession, run_job


def test_the_dashboard_shows_cursor_lag_cycles_and_errors(page: Any,
                                                          console: ConsoleSession) -> None:
    store = StateStore(console.state_path, readonly=True)
    try:
        sources = store.sources()
        health = store.health()
    finally:
        store.close()
    healthy = next(s for s in sources if s.cursor and not s.last_error)
    failing = next(s for s in sources if s.last_error)
    assert healthy.cursor and failing.last_error
    cursor = healthy.cursor.replace("Z", "+00:00")
    console.clock.value = datetime.fromisoformat(cursor) + timedelta(hours=2, minutes=30)
    page.goto(f"{console.base}/jobs")
    rows = page.locator("tr.job-row")
    assert rows.count() == len(sources)
    good = page.locator("tr.job-row", has_text=healthy.connection)
    assert healthy.cursor in good.inner_text()
    assert good.locator("td.lag").inner_text() == "2 h 30 min"
    bars = good.locator("svg rect title").all_text_contents()
    assert bars and bars[-1] == str(healthy.last_run_events)
    assert good.locator(".last-cycle").inner_text() == str(healthy.last_run_events)
    bad = page.locator("tr.job-row", has_text=failing.connection)
    assert bad.locator("td.last-error").inner_text().startswith(failing.last_error[:40])
    assert bad.locator("td.lag").inner_text() == "-"
    checks = page.inner_text("table.health")
    assert all(h["message"] in checks for h in health if h["message"])


def test_an_open_dashboard_follows_the_next_cycle(page: Any, console: ConsoleSession,
                                                 emulator: Any) -> None:
    page.goto(f"{console.base}/jobs")
    row = page.locator("tr.job-row").first
    before = row.locator("svg rect").count()
    finished = row.locator("td").nth(4).inner_text()
    # A cycle starts in a later second than the last one began: each takes over a second
    # (Graph's pace of one identityProtection request per second per tenant, two apps).
    run_job(console.job_dir, emulator)
    expect(row.locator("svg rect")).to_have_count(before + 1, timeout=20_000)
    assert row.locator("td").nth(4).inner_text() >= finished
