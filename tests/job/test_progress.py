"""Long work is visible: with stderr not a terminal, an INFO progress line at least every 30 s
(events, pages, cursor, share of the window, rate), on an injected clock."""

from __future__ import annotations

import io
import logging
import re
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from executor.job import FileSink, Job, Source, StateStore
from executor.job.progress import Progress
from tests.job.fakes import T0, FakeConnection

SRC = Source("thing", "ts", overlap=timedelta(minutes=10), lag=timedelta(minutes=1))


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class TickingClock:
    """Moves ``step`` seconds each time it is read: every page takes that long."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_a_backfill_logs_progress_lines_at_most_30_s_apart(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    conn = FakeConnection(now_value=T0 + timedelta(hours=10))
    for i in range(60):  # 20 pages of 3, spread over the window
        conn.add("thing", f"r{i:02}", T0 + timedelta(minutes=5 * i))
    clock = TickingClock(7.0)
    progress = Progress(io.StringIO(), monotonic=clock)  # a file: not a terminal
    store, sink = StateStore(tmp_path / "state.db"), FileSink(tmp_path / "events.ndjson")
    times: list[float] = []

    class AtClock(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            times.append(clock.now)

    handler = AtClock()
    logging.getLogger("executor.job.progress").addHandler(handler)
    try:
        with caplog.at_level(logging.INFO, logger="executor.job.progress"):
            job = Job([SRC], [conn], store, sink, lambda r: {}, progress=progress,
                      backfill=timedelta(hours=10), clock=lambda: conn.now_value)
            report = job.run_cycle()
    finally:
        logging.getLogger("executor.job.progress").removeHandler(handler)
        store.close()
        sink.close()
    assert report.delivered == 60
    lines = [r.getMessage() for r in caplog.records if r.name == "executor.job.progress"]
    assert len(lines) >= 3 and len(lines) == len(times)
    assert all(later - earlier <= 30 for earlier, later in pairwise(times))
    assert clock.now - times[-1] <= 30 + clock.step
    last = lines[-1]
    found = re.fullmatch(r"tenant-a thing: ([\d,]+) events, (\d+) pages, at \S+Z "
                         r"\((\d+)% of the window\), ([\d,]+\.\d) events/s", last)
    assert found, last
    events, pages, share = (int(g.replace(",", "")) for g in found.groups()[:3])
    rate = float(found.group(4).replace(",", ""))
    assert 0 < events <= 60 and pages == events // 3
    assert 0 < share <= 100
    assert rate > 0


def test_a_terminal_gets_the_one_line_display_and_no_log(
        caplog: pytest.LogCaptureFixture) -> None:
    stream = Terminal()
    progress = Progress(stream, monotonic=TickingClock(1.0))
    with caplog.at_level(logging.INFO, logger="executor.job.progress"):
        progress.begin("t", "s")
        progress.update("t", "s", 10, 1, None)
        progress.done()
    assert "t s: 10 events, 1 pages, at -" in stream.getvalue()
    assert stream.getvalue().endswith("\r\x1b[K")
    assert not caplog.records
