"""Fetch the next page while the current one is mapped and written.

A page from Graph costs a round trip (hundreds of milliseconds for 1,000 sign-ins); mapping,
encoding and fsyncing it costs about as much again. One page of read-ahead on a worker thread
overlaps the two. Only the worker touches the page iterator (and so the HTTP client) until the
consumer is done with it: a consumer that stops early cancels the worker and waits for it, so the
client is never used from two threads at once (unless the process is being interrupted: then
it leaves at once and the daemon worker dies with it). Pages are handed over in order, and a
failure is raised at the point where it happened, after the pages that came before it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable
from typing import Any, TypeVar

T = TypeVar("T")
_POLL = 0.05


def prefetched(pages: Iterable[T], depth: int = 1) -> Generator[T, None, None]:
    handoff: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=max(1, depth))
    cancel = threading.Event()

    def put(item: tuple[bool, Any]) -> bool:
        while not cancel.is_set():
            try:
                handoff.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(pages)
        try:
            final: tuple[bool, Any] = (False, None)
            try:
                for item in iterator:
                    if not put((True, item)):
                        return
            except BaseException as exc:
                final = (False, exc)
            put(final)
        finally:
            close = getattr(iterator, "close", None)
            if callable(close):
                close()

    worker = threading.Thread(target=produce, name="job-prefetch", daemon=True)
    worker.start()
    interrupted = False
    try:
        while True:
            is_page, item = handoff.get()
            if is_page:
                yield item
            elif item is None:
                return
            else:
                raise item
    except BaseException as exc:
        # A second SIGINT/SIGTERM (KeyboardInterrupt) means exit now: the worker may sit in a
        # request for the whole timeout, and the process is ending, so it is not waited for.
        interrupted = not isinstance(exc, Exception | GeneratorExit)
        raise
    finally:
        cancel.set()
        worker.join(timeout=0 if interrupted else None)
