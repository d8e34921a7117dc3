"""The job dashboard over the state file of a real job cycle, with the console's clock set."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from executor.job.state import StateStore
from tests.console.conftest import ConsoleSession


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
    cursor = healthy.cursor.replace("Z", "+00:00")
    console.clock.value = datetime.fromisoformat(cursor) + timedelta(hours=2, minutes=30)
    page.goto(f"{console.base}/jobs")
    rows = page.locator("tr.job-row")
    assert rows.count() == len(sources)
    good = page.locator("tr.job-row", has_text=healthy.connection)
    assert healthy.cursor in good.inner_text()
    assert good.locator("td.lag").inner_text() == "2 h 30 min"
    assert good.locator("svg rect").count() == 1
    assert good.locator(".last-cycle").inner_text() == str(healthy.last_run_events)
    bad = page.locator("tr.job-row", has_text=failing.connection)
    assert bad.locator("td.last-error").inner_text().startswith(failing.last_error[:40])
    assert bad.locator("td.lag").inner_text() == "-"
    checks = page.inner_text("table.health")
    assert all(h["message"] in checks for h in health if h["message"])
