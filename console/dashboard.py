"""The job dashboard: the fetch job's state file, read-only, as rows per connection and source.

The state keeps the last cycle of each source; the dashboard remembers every cycle it has seen
while the console runs, so the events-per-cycle chart grows as you watch.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from executor.datetimes import parse_instant
from executor.job.state import StateStore

CHART_CYCLES = 30
DEAD_LETTERS_SHOWN = 50


@dataclass
class SourceRow:
    connection: str
    label: str | None
    source: str
    cursor: str | None
    lag: str
    last_run: str | None
    last_success: str | None
    events_delivered: int
    last_run_events: int | None
    last_error: str | None
    last_error_at: str | None
    cycles: list[int] = field(default_factory=list)
    dead_letters: int | None = None
    clock_skew_seconds: float | None = None
    gap: str | None = None


@dataclass
class Dashboard:
    state_path: Path | None
    rows: list[SourceRow] = field(default_factory=list)
    health: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[Any] | None = None
    error: str | None = None


def describe_lag(cursor: str | None, now: datetime) -> str:
    """How far the cursor is behind now: ``3 h 12 min``, ``45 s``; ``-`` before a first run."""
    moment = parse_instant(cursor)
    if moment is None:
        return "-"
    seconds = int((now - moment).total_seconds())
    sign, seconds = ("ahead by " if seconds < 0 else ""), abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days} d {hours} h"
    if hours:
        return f"{sign}{hours} h {minutes} min"
    if minutes:
        return f"{sign}{minutes} min {secs} s"
    return f"{sign}{secs} s"


class DashboardReader:
    """Reads the state file on each call; remembers the cycles it has seen per source."""

    def __init__(self, state_path: Path | None, now: Callable[[], datetime]) -> None:
        self.state_path = state_path
        self.now = now
        self._cycles: dict[tuple[str, str], dict[str, int]] = {}

    def read(self) -> Dashboard:
        board = Dashboard(self.state_path)
        if self.state_path is None:
            return board
        try:
            store = StateStore(self.state_path, readonly=True)
        except Exception as exc:  # a missing or foreign file is shown, not raised
            board.error = " ".join(str(getattr(exc, "message", exc)).split())
            return board
        try:
            now = self.now()
            for status in store.sources():
                board.rows.append(self._row(status, now))
            board.health = list(store.health())
            board.dead_letters = _dead_letters(store)
        except Exception as exc:
            board.error = " ".join(str(exc).split())
        finally:
            store.close()
        return board

    def _row(self, status: Any, now: datetime) -> SourceRow:
        seen = self._cycles.setdefault((status.connection, status.source), {})
        if status.last_run_started and status.last_run_events is not None:
            seen[status.last_run_started] = status.last_run_events
        cycles = [seen[k] for k in sorted(seen)][-CHART_CYCLES:]
        return SourceRow(
            connection=status.connection, label=status.label, source=status.source,
            cursor=status.cursor, lag=describe_lag(status.cursor, now),
            last_run=status.last_run_finished or status.last_run_started,
            last_success=status.last_success, events_delivered=status.events_delivered,
            last_run_events=status.last_run_events, last_error=status.last_error,
            last_error_at=status.last_error_at, cycles=cycles,
            dead_letters=getattr(status, "dead_letters", None),
            clock_skew_seconds=getattr(status, "clock_skew_seconds", None),
            gap=(f"{status.gap_from} to {status.gap_to}"
                 if getattr(status, "gap_from", None) else None))


def _dead_letters(store: Any) -> list[Any] | None:
    """The newest dead letters, from the job's dead-letter file when its state names one;
    None when this job state keeps no dead letters at all."""
    path = getattr(store, "dead_letter_path", None)
    if path is None:
        return None
    path = Path(path)
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[-DEAD_LETTERS_SHOWN:]
    letters = []
    for line in reversed(lines):
        try:
            letters.append(json.loads(line))
        except ValueError:
            letters.append({"unreadable line": line[:200]})
    return letters


def bar_chart(values: list[int], width: int = 160, height: int = 32) -> list[dict[str, int]]:
    """Bars (x, y, w, h) of an SVG chart of `values`, scaled to the largest."""
    if not values:
        return []
    top = max(max(values), 1)
    step = width // max(len(values), 1)
    bar = max(step - 2, 1)
    return [{"x": i * step, "y": height - max(int(v * height / top), 1 if v else 0),
             "w": bar, "h": max(int(v * height / top), 1 if v else 0), "v": v}
            for i, v in enumerate(values)]
