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
local clock loses nothing) and is queried with ``ge``/``le`` on the cursor field. Only sign-ins
document ``$orderby`` (``createdDateTime``); identityProtection's riskDetections and riskyUsers
do not (graph-api-facts §1.2), so they are read in Graph's own order and their sources are not
``ordered``: the job holds their cursor until the window is complete.

Event type names and permissions come from the manifest (Fetch Event's Event Type input and its
permissions by value), not from here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from commands.fetch_event import FETCH_EVENT, SOURCES, EventSource, build_filter, event_sources
from commands.test_connection import READY, command_access, probe
from executor.datetimes import format_datetime
from executor.errors import ManifestError, UsageError
from executor.inputs import describe_allowed, fold
from executor.job.instants import moment_of
from executor.job.model import Record, Source, Window
from executor.model import CommandSpec, InputSpec, Manifest

log = logging.getLogger("commands.job")

EVENT_TYPE_INPUT = "event_type"


@dataclass(frozen=True)
class EventTypes:
    """Fetch Event's event types as the manifest declares them: values, names, permissions."""

    command: CommandSpec
    input: InputSpec
    manifest: Manifest

    @classmethod
    def of(cls, manifest: Manifest) -> EventTypes:
        command = manifest.command_named(FETCH_EVENT)
        spec = command.input_named(EVENT_TYPE_INPUT) if command is not None else None
        if command is None or spec is None or not spec.allowed_values:
            raise ManifestError("integration.yaml", "$.commands",
                                f"the job needs {FETCH_EVENT} with an enum input "
                                f"{EVENT_TYPE_INPUT}")
        return cls(command, spec, manifest)

    @property
    def sources(self) -> dict[str, EventSource]:
        """Where each event type reads: its resource in the manifest's catalogue."""
        return event_sources(self.command)

    @property
    def names(self) -> tuple[str, ...]:
        """Every event type's value (``signIn``, ...), in the manifest's order."""
        return tuple(a.value for a in self.input.allowed_values)

    @property
    def defaults(self) -> tuple[str, ...]:
        """What the job fetches when no event type is named: the reference's three
        (:data:`DEFAULT_EVENT_TYPES`) that the manifest declares. The service-principal types
        need ``IdentityRiskyServicePrincipal.Read.All``, which an app set up from the
        reference lacks: its health check would fail, so they are fetched only on request."""
        return tuple(n for n in self.names if n in DEFAULT_EVENT_TYPES) or self.names

    def resolve(self, name: str) -> str:
        """The value of an event type given as its value or display name (``Risk Users``)."""
        key = fold(name)
        for allowed in self.input.allowed_values:
            if key in (fold(allowed.value), fold(allowed.display_name)):
                return allowed.value
        raise UsageError(f"unknown event type '{name}'; use one of: "
                         + describe_allowed(self.input.allowed_values))

    def permissions(self, name: str) -> tuple[str, ...]:
        return self.command.permissions.for_inputs({self.command.permissions.by_input
                                                    or EVENT_TYPE_INPUT: name})

    def lacking(self, roles: Sequence[str], names: Sequence[str]) -> list[str]:
        """The permissions ``roles`` lack for Fetch Event of these event types (Test
        Connection's own check, on Fetch Event narrowed to them)."""
        permissions = self.command.permissions
        narrowed = replace(self.command, permissions=replace(
            permissions, by_input=permissions.by_input or EVENT_TYPE_INPUT,
            by_value={n: self.permissions(n) for n in names}))
        _, missing = command_access(SimpleNamespace(commands=(narrowed,)), list(roles))
        return sorted({p for perms in missing.values() for p in perms})


DEFAULT_EVENT_TYPES = ("signIn", "riskDetection", "riskUser")
"""The reference's Fetch Event types: the job's default (see :attr:`EventTypes.defaults`)."""

DEFAULT_OVERLAP = {
    "signIn": timedelta(minutes=15),
    "riskDetection": timedelta(hours=48),
    "riskUser": timedelta(hours=3),
    "servicePrincipalRiskDetection": timedelta(hours=48),
    "riskyServicePrincipal": timedelta(hours=3),
}
"""Per event type; an event type not named here re-reads the longest overlap."""
DEFAULT_LAG = timedelta(minutes=1)
CHUNK = {"signIn": timedelta(days=1)}
"""Entra's guidance for sign-in logs: filter on createdDateTime to keep each call's span short,
and shorten it when throttled; a day per query also bounds what an interrupted backfill redoes."""
RETENTION = {"signIn": timedelta(days=30)}
"""Sign-ins are kept 30 days (P1/P2; 7 on Free); risk records longer (facts §6)."""


def job_source(name: str, *, overlap: timedelta | None = None,
               lag: timedelta | None = None,
               sources: Mapping[str, EventSource] = SOURCES) -> Source:
    spec = sources[name]
    default_overlap = DEFAULT_OVERLAP.get(name, max(DEFAULT_OVERLAP.values()))
    return Source(name=name, cursor_field=spec.time_field,
                  overlap=default_overlap if overlap is None else overlap,
                  lag=DEFAULT_LAG if lag is None else lag,
                  max_backfill=RETENTION.get(name), chunk=CHUNK.get(name),
                  ordered=spec.server_ordered)


def window_query(spec: EventSource, window: Window, page_size: int | None = None, *,
                 ordered: bool | None = None) -> dict[str, str]:
    """``$filter`` on the cursor field inside the window, full pages; oldest first
    (``$orderby``) only where Graph supports it (sign-ins)."""
    if ordered is None:
        ordered = spec.server_ordered
    bounds = {"start_time": format_datetime(moment_of(window.start)),
              "end_time": format_datetime(moment_of(window.end))}
    query = {"$filter": build_filter(spec, bounds)}
    if ordered:
        query["$orderby"] = f"{spec.time_field} asc"
    query["$top"] = str(min(page_size or spec.page_max, spec.page_max))
    return query


class GraphConnection:
    """One tenant for the job: a :class:`~commands.graph.client.GraphClient` and its clock.

    With a ``client_factory`` (a new client of the same tenant and app, sharing its pacer), each
    event type reads through a client of its own, so the job may read them at once
    (``concurrent_sources``); a client is never used from two threads at once."""

    def __init__(self, client: Any, types: EventTypes, *, name: str | None = None,
                 file: str | None = None,
                 local_now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 page_size: int | None = None,
                 event_types: Sequence[str] | None = None,
                 client_factory: Callable[[], Any] | None = None) -> None:
        self.client = client
        self.client_factory = client_factory
        self.concurrent_sources = client_factory is not None
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self.types = types
        self.manifest = types.manifest
        self.event_types = tuple(types.names if event_types is None else event_types)
        settings = client.settings
        self.id = f"{settings.tenant}/{settings.client_id}"
        self.name = name or settings.tenant
        self.label = f"{self.name} ({file})" if file else self.name
        """Logs, errors and ``job status`` name the connection and the file it came from."""
        self.attribution = {"tenant_id": settings.tenant, "connection": self.name}
        """Every sink line says which tenant and which connection it came from."""
        self.local_now = local_now
        self.page_size = page_size

    def now(self) -> datetime:
        """Graph's time: the latest answer's ``Date``, carried forward on the client's clock."""
        with self._clients_lock:
            if self.client.server_date is None:
                try:
                    self.client.token_info()  # one token request: its answer carries a Date
                except Exception:  # the first page will report the problem properly
                    log.debug("no token yet for %s; using the local clock", self.label)
            dated = [(c.server_date_at, c.server_date)
                     for c in (self.client, *self._clients.values())
                     if c.server_date is not None and c.server_date_at is not None]
        if not dated:
            return self.local_now()
        taken_at, date = max(dated, key=lambda pair: pair[0])
        return date + timedelta(seconds=self.client.monotonic() - taken_at)

    def _client_for(self, source: Source) -> Any:
        if self.client_factory is None:
            return self.client
        with self._clients_lock:
            client = self._clients.get(source.name)
            if client is None:
                client = self._clients[source.name] = self.client_factory()
            return client

    def pages(self, source: Source, window: Window) -> Iterator[Sequence[Record]]:
        spec = self.types.sources[source.name]
        params = window_query(spec, window, self.page_size, ordered=source.ordered)
        client = self._client_for(source)
        for page in client.iter_pages(spec.path, params=params,
                                      permissions=self.types.permissions(source.name),
                                      objects_only=False):
            records = page.get("value") or []
            for record in records:
                if isinstance(record, dict):
                    record["eventType"] = source.name
            yield records  # an item that is not an object becomes the job's dead letter

    def recent_requests(self, wall_now: float) -> list[list[Any]]:
        """The pacer's requests still inside a limit's window (kept in the job's state)."""
        pacer = getattr(self.client, "pacer", None)
        return [] if pacer is None else [list(sent) for sent in pacer.recent(wall_now)]

    def remember_requests(self, sent: list[Any], wall_now: float) -> None:
        """Requests an earlier run sent: the first ones of this run wait for them."""
        pacer = getattr(self.client, "pacer", None)
        if pacer is not None:
            pacer.remember(sent, wall_now)

    def health_check(self) -> str:
        """Test Connection's probe (a token, one read per granted permission family), then
        the job's own event types: each must be ready."""
        roles = list(self.client.token_info().roles)
        lacking = self.types.lacking(roles, self.event_types)
        if lacking:
            raise PermissionError("the application lacks " + ", ".join(lacking))
        found = probe(self.client, self.manifest)
        names = [f"{self.types.command.display_name} ({t})" for t in self.event_types]
        not_ready = {n: found.readiness.get(n, "unknown") for n in names
                     if found.readiness.get(n) != READY}
        if not_ready:
            raise PermissionError("; ".join(f"{n}: {why}" for n, why in not_ready.items()))
        reads = ", ".join(sorted(r["path"] for r in found.reads.values()))
        expiry = (f"token valid until {found.token.expires_at:%Y-%m-%dT%H:%M:%SZ}"
                  if found.token.expires_at else "token acquired")
        return f"{expiry}; read {reads}"

    def close(self) -> None:
        with self._clients_lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
        self.client.close()
