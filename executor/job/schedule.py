"""``job start``: a cycle every N seconds until SIGINT or SIGTERM, then a clean stop.

A signal only sets an event: the page being delivered is finished and committed, the cycle
ends there, and the process exits with the state consistent (no page half-written).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from executor.job.runner import CycleReport, Job

log = logging.getLogger("executor.job")


@contextmanager
def stop_on_signals(stop: threading.Event,
                    signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)) -> Iterator[None]:
    """Turn the signals into ``stop.set()`` for the duration (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt  # a second signal: stop now, the state stays consistent
        log.info("received %s: finishing the current page, then stopping",
                 signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, handler) for s in signals}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


def run_forever(job: Job, every: float, *, cycles: int | None = None,
                monotonic: Callable[[], float] = time.monotonic,
                on_cycle: Callable[[CycleReport], None] | None = None) -> int:
    """Run cycles ``every`` seconds apart (start to start) until stopped; the cycle count.

    Waits on ``job.stop`` so a signal ends the wait at once. ``cycles`` bounds the loop (tests).
    """
    done = 0
    while not job.stop.is_set():
        started = monotonic()
        report = job.run_cycle()
        done += 1
        if on_cycle is not None:
            on_cycle(report)
        if cycles is not None and done >= cycles:
            break
        if _wait(job, started + every, monotonic):
            break
    return done


def _wait(job: Job, deadline: float, monotonic: Callable[[], float]) -> bool:
    """Wait for the next cycle, running due health checks meanwhile; True when stopped."""
    while True:
        remaining = deadline - monotonic()
        if remaining <= 0:
            return job.stop.is_set()
        pause = remaining if job.health_every is None else min(remaining, job.health_every)
        if job.stop.wait(pause):
            return True
        if job.health_every is not None:
            for connection in job.connections:
                job.check_health(connection)
