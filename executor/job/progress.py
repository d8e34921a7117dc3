"""Progress of a fetch: a one-line display on a terminal, else an INFO log line at least every
:data:`LOG_INTERVAL` seconds (a backfill with stderr to a file or journald is not silent).

Each line says, per connection and source: events and pages so far, the cursor, how much of the
window the cursor has covered (sources whose cursor waits for the window's end show none) and the
rate since the source's run began.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import TextIO

from executor.job.instants import moment_of

log = logging.getLogger("executor.job.progress")

LOG_INTERVAL = 20.0
"""Seconds between progress log lines when stderr is not a terminal (well under 30 s, so a
page that takes a few seconds still keeps lines less than 30 s apart)."""


class Progress:
    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None,
                 monotonic: Callable[[], float] = time.monotonic,
                 interval: float = 0.2, log_interval: float = LOG_INTERVAL) -> None:
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = True if enabled is None else enabled
        self.terminal = bool(isatty and isatty())
        """On a terminal: the one-line display; otherwise log lines."""
        self.monotonic = monotonic
        self.interval = interval
        self.log_interval = log_interval
        self._last = -interval
        self._last_logged: float | None = None
        self._shown = False
        self._began: dict[tuple[str, str], float] = {}
        """Per connection and source: when its run began (monotonic)."""

    def begin(self, label: str, source: str) -> None:
        """A run of this source starts: its rate counts from now."""
        self._began[(label, source)] = self.monotonic()

    def update(self, label: str, source: str, delivered: int, pages: int,
               cursor: str | None, *, window: tuple[str, str] | None = None,
               force: bool = False) -> None:
        if not self.enabled:
            return
        now = self.monotonic()
        started = self._began.setdefault((label, source), now)
        if self.terminal:
            if not force and now - self._last < self.interval:
                return
            self._last = now
            self.stream.write("\r\x1b[K" + describe(label, source, delivered, pages, cursor,
                                                    window, now - started))
            self.stream.flush()
            self._shown = True
            return
        if (not force and self._last_logged is not None
                and now - self._last_logged < self.log_interval):
            return
        self._last_logged = now
        log.info("%s", describe(label, source, delivered, pages, cursor, window, now - started))

    def done(self) -> None:
        if self.enabled and self.terminal and self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False


def describe(label: str, source: str, delivered: int, pages: int, cursor: str | None,
             window: tuple[str, str] | None, elapsed: float) -> str:
    """``LABEL SOURCE: N events, P pages, at CURSOR (S% of the window), R events/s``."""
    where = cursor[:19] + "Z" if cursor else "-"
    text = f"{label} {source}: {delivered:,} events, {pages:,} pages, at {where}"
    share = window_share(cursor, window)
    if share is not None:
        text += f" ({share:.0%} of the window)"
    rate = delivered / elapsed if elapsed > 0 else 0.0
    return text + f", {rate:,.1f} events/s"


def window_share(cursor: str | None, window: tuple[str, str] | None) -> float | None:
    """How far the cursor has moved through the window, 0 to 1; None when unknown."""
    if cursor is None or window is None:
        return None
    try:
        start, end, at = moment_of(window[0]), moment_of(window[1]), moment_of(cursor)
    except (TypeError, ValueError):
        return None
    span = (end - start).total_seconds()
    if span <= 0:
        return None
    return min(1.0, max(0.0, (at - start).total_seconds() / span))
