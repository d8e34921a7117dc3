"""The fetch job's Microsoft side: event sources, their cursors and overlaps, one Graph tenant.

Cursor fields are the ones that move when a record changes (reliability facts §8): sign-ins
``createdDateTime``, risk detections ``lastUpdatedDateTime`` (not ``detectedDateTime``: offline
detections surface up to 48 h after they were detected), risky users
``riskLastUpdatedDateTime``. Overlaps (how far back each run reads again; dedup by event key
makes the re-read free of duplicates):

- sign-ins 15 min: 99 % arrive within 5 min (the former latency page), field reports of 10 min+;
- risk detections 48 h: "offline detections take up to 48 hours to surface";
- risky users 3 h: "users at risk ... maximum 2 h".

Each window ends one minute before now (Graph's clock, from its ``Date`` header, so a skewed
local clock loses nothing) and is read oldest first (``$orderby=<cursor> asc``, ``ge``/``le``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from commands.fetch_event import SOURCES, EventSource, build_filter
from commands.test_connection import granted
from executor.datetimes import format_datetime
from executor.job.instants import moment_of
from executor.job.model import Record, Source, Window

log = logging.getLogger("commands.job")

EVENT_TYPES = tuple(SOURCES)
ALIASES = {"signin": "signIn", "sign-in logs": "signIn", "sign-ins": "signIn",
           "signins": "signIn", "riskdetection": "riskDetection",
           "risk detections": "riskDetection", "riskuser": "riskUser",
           "risk users": "riskUser", "riskyusers": "riskUser", "risky users": "riskUser"}

DEFAULT_OVERLAP = {
    "signIn": timedelta(minutes=15),
    "riskDetection": timedelta(hours=48),
    "riskUser": timedelta(hours=3),
}
DEFAULT_LAG = timedelta(minutes=1)
CHUNK = {"signIn": timedelta(days=1)}
"""Entra's guidance for sign-in logs: filter on createdDateTime to keep each call's span short,
and shorten it when throttled; a day per query also bounds what an interrupted backfill redoes."""
RETENTION = {"signIn": timedelta(days=30)}
"""Sign-ins are kept 30 days (P1/P2; 7 on Free); risk records longer (facts §6)."""
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "signIn": ("AuditLog.Read.All", "Directory.Read.All"),
    "riskDetection": ("IdentityRiskEvent.Read.All",),
    "riskUser": ("IdentityRiskyUser.Read.All",),
}


def event_type(name: str) -> str:
    """``signIn``, ``riskDetection`` or ``riskUser`` from a value or a reference display name."""
    if name in SOURCES:
        return name
    found = ALIASES.get(" ".join(name.strip().lower().split()))
    if found is None:
        raise ValueError(f"unknown event type '{name}'; use one of: {', '.join(EVENT_TYPES)}")
    return found


def job_source(name: str, *, overlap: timedelta | None = None,
               lag: timedelta | None = None) -> Source:
    spec = SOURCES[name]
    return Source(name=name, cursor_field=spec.time_field,
                  overlap=DEFAULT_OVERLAP[name] if overlap is None else overlap,
                  lag=DEFAULT_LAG if lag is None else lag,
                  max_backfill=RETENTION.get(name), chunk=CHUNK.get(name))


def window_query(spec: EventSource, window: Window, page_size: int | None = None
                 ) -> dict[str, str]:
    """``$filter`` on the cursor field inside the window, oldest first, full pages."""
    bounds = {"start_time": format_datetime(moment_of(window.start)),
              "end_time": format_datetime(moment_of(window.end))}
    return {"$filter": build_filter(spec, bounds),
            "$orderby": f"{spec.time_field} asc",
            "$top": str(min(page_size or spec.page_max, spec.page_max))}


@dataclass
class _ServerClock:
    """Graph's time from the last ``Date`` header, carried forward by the local monotonic clock."""

    monotonic: Callable[[], float] = time.monotonic
    date: datetime | None = None
    taken_at: float = 0.0

    def note(self, header: str | None) -> None:
        if not header:
            return
        try:
            moment = parsedate_to_datetime(header)
        except (TypeError, ValueError, IndexError):
            return
        if moment is not None:
            self.date = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            self.taken_at = self.monotonic()

    def now(self) -> datetime | None:
        if self.date is None:
            return None
        return self.date + timedelta(seconds=self.monotonic() - self.taken_at)


class GraphConnection:
    """One tenant for the job: a :class:`~commands.graph.client.GraphClient` and its clock."""

    def __init__(self, client: Any, *, name: str | None = None,
                 local_now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 monotonic: Callable[[], float] = time.monotonic,
                 page_size: int | None = None,
                 event_types: Sequence[str] = EVENT_TYPES) -> None:
        self.client = client
        self.event_types = tuple(event_types)
        settings = client.settings
        self.id = f"{settings.tenant}/{settings.client_id}"
        self.label = name or settings.tenant
        self.local_now = local_now
        self.page_size = page_size
        self._clock = _ServerClock(monotonic)
        self._wrap_transport()

    def _wrap_transport(self) -> None:
        """Note the ``Date`` of every answer (token endpoint included) for :meth:`now`.

        The client does not expose the server's time, so its transport's ``request`` is
        wrapped; only this connection's client is affected."""
        transport = self.client.transport
        send = transport.request

        def request(*args: Any, **kwargs: Any) -> Any:
            response = send(*args, **kwargs)
            self._clock.note(response.headers.get("Date"))
            return response

        transport.request = request

    def now(self) -> datetime:
        if self._clock.date is None:
            try:
                self.client.token_info()  # one token request: its answer carries a Date
            except Exception:  # the first page will report the problem properly
                log.debug("no token yet for %s; using the local clock", self.label)
        server = self._clock.now()
        return server if server is not None else self.local_now()

    def pages(self, source: Source, window: Window) -> Iterator[Sequence[Record]]:
        spec = SOURCES[source.name]
        params = window_query(spec, window, self.page_size)
        for page in self.client.iter_pages(spec.path, params=params,
                                           permissions=PERMISSIONS[source.name]):
            records = page.get("value") or []
            for record in records:
                if isinstance(record, dict):
                    record["eventType"] = source.name
            yield [r for r in records if isinstance(r, Mapping)]

    def health_check(self) -> str:
        """Test Connection: a token, and the application roles the job's event types need."""
        info = self.client.token_info()
        have = granted(list(info.roles))
        lacking = sorted({p for t in self.event_types for p in PERMISSIONS[t] if p not in have})
        if lacking:
            raise PermissionError("the application lacks " + ", ".join(lacking))
        return f"token valid until {info.expires_at:%Y-%m-%dT%H:%M:%SZ}" if info.expires_at \
            else "token acquired"

    def close(self) -> None:
        self.client.close()
