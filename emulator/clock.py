"""The emulator clock: real time from a chosen start, or frozen; tests move it, not sleep."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from emulator import timefmt


class EmulatorClock:
    """Thread-safe clock in ticks. Ticks with real (monotonic) time unless frozen.

    `monotonic_ns` is the real time it ticks with (injected by tests of the ticking itself).
    """

    def __init__(self, start_ticks: int | None = None, frozen: bool = False,
                 monotonic_ns: Callable[[], int] = time.monotonic_ns) -> None:
        if start_ticks is None:
            start_ticks = time.time_ns() // 100
        self._lock = threading.Lock()
        self._monotonic_ns = monotonic_ns
        self._base = start_ticks
        self._mono = monotonic_ns()
        self._frozen = frozen
        self.start_ticks = start_ticks

    def now(self) -> int:
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> int:
        if self._frozen:
            return self._base
        return self._base + (self._monotonic_ns() - self._mono) // 100

    def set(self, ticks: int) -> None:
        with self._lock:
            self._base = ticks
            self._mono = self._monotonic_ns()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._base = self._now_locked() + round(seconds * timefmt.TICKS_PER_SECOND)
            self._mono = self._monotonic_ns()

    @property
    def frozen(self) -> bool:
        return self._frozen

    def set_frozen(self, frozen: bool) -> None:
        with self._lock:
            self._base = self._now_locked()
            self._mono = self._monotonic_ns()
            self._frozen = frozen

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {"now": timefmt.format_micro(self._now_locked()), "frozen": self._frozen}
