"""A one-line progress display on standard error, only when it is a terminal."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None,
                 monotonic: Callable[[], float] = time.monotonic,
                 interval: float = 0.2) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.monotonic = monotonic
        self.interval = interval
        self._last = -interval
        self._shown = False

    def update(self, label: str, source: str, delivered: int, pages: int,
               cursor: str | None, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = self.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        where = cursor[:19] + "Z" if cursor else "-"
        self.stream.write(f"\r\x1b[K{label} {source}: {delivered:,} events, {pages:,} pages, "
                          f"at {where}")
        self.stream.flush()
        self._shown = True

    def done(self) -> None:
        if self.enabled and self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False
