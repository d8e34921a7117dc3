"""A total deadline for one HTTP exchange, whatever pace the server sends at.

requests' read timeout applies to each socket read: a server that sends the status line and
headers one byte at a time, each just inside the timeout, keeps a request alive for as long as it
likes, and the body read (bounded by :mod:`commands.graph.transport`) only starts once the headers
are in. So every exchange is registered here with its deadline, the urllib3 connection carrying
it registers itself when the request is sent, and one watchdog thread shuts that connection's
socket down when the deadline passes: the blocked read returns at once, and the transport
reports the deadline, not whatever error the cut connection raised.

The connect phase (TCP and TLS handshake) is bounded by the connect timeout; the watchdog cuts a
socket only once it is connected.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_current = threading.local()


class Exchange:
    """One request's deadline and the connection that carries it."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False
        self._finished = False
        self._connection: HTTPConnection | None = None
        self._lock = threading.Lock()

    def attach(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connection = connection
            if self.expired:
                _cut(connection)

    def expire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self.expired = True
            if self._connection is not None:
                _cut(self._connection)

    def finish(self) -> None:
        with self._lock:
            self._finished = True
            self._connection = None  # the pool's again: never cut it for this exchange


def _cut(connection: HTTPConnection) -> None:
    """Shut the socket down under a read blocked on it (the base class's shutdown: an
    ``SSLSocket`` would also drop its TLS object under the reading thread)."""
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread expiring exchanges in deadline order."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Exchange]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, exchange: Exchange) -> None:
        with self._wake:
            heapq.heappush(self._heap, (exchange.deadline, next(self._order), exchange))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="http-deadline",
                                                daemon=True)
                self._thread.start()
            elif self._heap[0][2] is exchange:
                self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._heap:
                    self._wake.wait()
                deadline, _, exchange = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                heapq.heappop(self._heap)
            exchange.expire()


_WATCHDOG = _Watchdog()


@contextlib.contextmanager
def exchange(seconds: float) -> Iterator[Exchange]:
    """The requests sent by this thread inside the block are cut ``seconds`` from now."""
    current = Exchange(time.monotonic() + seconds)
    outer = getattr(_current, "exchange", None)
    _current.exchange = current
    _WATCHDOG.watch(current)
    try:
        yield current
    finally:
        current.finish()
        _current.exchange = outer


class _Registering:
    """A urllib3 connection that hands itself to the exchange of the thread sending on it."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        current = getattr(_current, "exchange", None)
        if current is not None:
            current.attach(self)
        super().request(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Registering, HTTPConnection):
    pass


class _HTTPSConnection(_Registering, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose connections (direct or through a proxy) the watchdog can cut."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager
