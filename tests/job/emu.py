"""Helpers for job tests against the emulator: the job in-process with an injected clock,
the control API's records, and the comparison of a sink with the ground truth."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from commands.fetch_event import SOURCES
from commands.graph.client import GraphClient
from commands.graph.retry import RetryPolicy
from commands.graph.settings import GraphSettings
from commands.job_sources import DEFAULT_LAG, EventTypes, GraphConnection, job_source
from executor.job import FileSink, Job, StateStore
from executor.job.instants import instant_key, key_of, moment_of
from executor.redaction import Redactor
from tests.control import EmulatorControl

ROOT = Path(__file__).resolve().parents[2]
RESOURCE = {name: source.resource.id for name, source in SOURCES.items()}
"""Each event type's resource in the manifest's catalogue (the emulator's control-API name)."""
Key = tuple[str, str, str]  # (event type, id, normalised cursor value)


@cache
def plugin() -> Any:
    from commands.job_cli import load_plugin

    return load_plugin()


@cache
def mapper() -> Any:
    return plugin().mapping_set(None).map_event


@cache
def event_types() -> EventTypes:
    return EventTypes.of(plugin().manifest)


def post_records(control: EmulatorControl, resource: str, records: list[dict[str, Any]], *,
                 tenant: str, visible_from: str | None = None) -> Any:
    body: dict[str, Any] = {"records": records}
    if visible_from is not None:
        body["visible_from"] = visible_from
    return control.post(f"records/{resource}", body, tenant=tenant)


def emulator_now(control: EmulatorControl) -> str:
    return control.get("clock")["now"]


def sink_keys(path: Path) -> Counter[Key]:
    found: Counter[Key] = Counter()
    if not path.exists():
        return found
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            event = json.loads(line)
            field = SOURCES[event["event_type"]].time_field
            raw = event["raw"]
            found[(event["event_type"], raw["id"].lower(), instant_key(raw[field]))] += 1
    return found


def check_cursors(status: Sequence[Any], tenant_ids: Sequence[str], started: str, *,
                  lag: timedelta = DEFAULT_LAG,
                  margin: timedelta = timedelta(seconds=5)) -> None:
    """After a run that completed, begun at the emulator's ``started``: every source's cursor
    has reached that run's window end (``started - lag``, less a margin for the ``Date``
    header's whole seconds). :func:`expected_keys` takes its window from the job's own cursor,
    so without this a cursor that stalled would pass unnoticed."""
    floor = key_of(moment_of(instant_key(started)) - lag - margin)
    rows = [row for row in status if tenant_of(row) in tenant_ids]
    assert rows, "no source in the job state"
    for row in rows:
        assert row.cursor is not None and row.cursor >= floor, (
            f"{row.label} {row.source}: cursor {row.cursor} behind {floor}")


def tenant_of(row: Any) -> str:
    """The tenant of a job-status row: its connection id is ``TENANT/CLIENT`` (its label names
    the connection and its file, for people)."""
    return str(row.connection).split("/")[0]


def expected_keys(control: EmulatorControl, status: Sequence[Any],
                  tenant_ids: Sequence[str]) -> set[Key]:
    """Ground truth inside each source's windows: from its first start to its cursor (see
    :func:`check_cursors` for the cursor itself)."""
    expected: set[Key] = set()
    for row in status:
        tenant = tenant_of(row)
        if tenant not in tenant_ids:
            continue
        field = SOURCES[row.source].time_field
        for record in control.records(RESOURCE[row.source], tenant=tenant):
            if not isinstance(record, dict) or not record.get("id"):
                continue  # a dead letter (the emulator's verbatim records)
            value = record.get(field)
            try:
                key = instant_key(value)  # type: ignore[arg-type]  # a bad value: the point
            except (TypeError, ValueError, AttributeError):
                continue  # no time, or not a time: a dead letter
            if row.backfill_start <= key <= row.cursor:
                expected.add((row.source, record["id"].lower(), key))
    return expected


class GraphJob:
    """The job in-process against an emulator whose clock only moves when the job sleeps."""

    def __init__(self, emu: Any, control: EmulatorControl, tmp: Path, *,
                 tenants: Sequence[int] = (0,), types: Sequence[str] | None = None,
                 page_size: int | None = None, pace: bool = False,
                 backfill: timedelta = timedelta(days=30), lag: timedelta | None = None,
                 health_every: float | None = None) -> None:
        self.emu = emu
        self.control = control
        self.tmp = tmp
        self.tenants = list(tenants)
        self.sources = [job_source(t, lag=lag)
                        for t in (event_types().names if types is None else types)]
        self.page_size = page_size
        self.pace = pace
        self.backfill = backfill
        self.health_every = health_every
        self.elapsed = 0.0
        self.local_offset = timedelta(0)
        self.slept: list[float] = []
        self.completed_from: str | None = None
        """The emulator's time when the last cycle without failures began."""
        self.start()

    @property
    def sink_path(self) -> Path:
        return self.tmp / "events.ndjson"

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.elapsed += seconds
        self.control.advance(seconds)

    def monotonic(self) -> float:
        return self.elapsed

    def start(self) -> None:
        self.store = StateStore(self.tmp / "state.db")
        self.sink = FileSink(self.sink_path, owner=self.store.identity)
        names = [s.name for s in self.sources]
        self.connections = []
        for index in self.tenants:
            settings = GraphSettings.from_connection(self.emu.connection(tenant=index))
            client = GraphClient(settings, redactor=Redactor(), sleep=self.sleep,
                                 monotonic=self.monotonic,
                                 retry=RetryPolicy(base_delay=0.5, max_total_wait=300),
                                 pace=self.pace)
            self.connections.append(GraphConnection(client, event_types(),
                                                    page_size=self.page_size,
                                                    event_types=names))
        self.job = Job(self.sources, self.connections, self.store, self.sink, mapper(),
                       backfill=self.backfill, health_every=self.health_every,
                       clock=self.local_now)

    def local_now(self) -> datetime:
        """The host's clock in these tests: the emulator's (it moves when the job sleeps);
        a test may set it apart with ``local_offset``."""
        return moment_of(instant_key(emulator_now(self.control))) + self.local_offset

    def close(self) -> None:
        for connection in self.connections:
            connection.close()
        self.store.close()
        self.sink.close()

    def restart(self) -> None:
        self.close()
        self.start()

    def cycle(self) -> Any:
        started = emulator_now(self.control)
        report = self.job.run_cycle()
        if not report.failed and not any(r.stopped for r in report.runs):
            self.completed_from = started
        return report

    def tenant_ids(self) -> list[str]:
        return [c.id.split("/")[0] for c in self.connections]

    def compare(self) -> tuple[set[Key], set[Key], int]:
        """(missing, unexpected, duplicates) of the sink against the ground truth."""
        got = sink_keys(self.sink_path)
        status = self.store.sources()
        if self.completed_from is not None:
            check_cursors(status, self.tenant_ids(), self.completed_from,
                          lag=max(s.lag for s in self.sources))
        want = expected_keys(self.control, status, self.tenant_ids())
        return want - set(got), set(got) - want, sum(n - 1 for n in got.values())
