"""An in-memory connection for the generic job runtime: records, a clock, scripted failures."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from executor.job.instants import instant_key
from executor.job.model import Source, Window

T0 = datetime(2026, 11, 1, tzinfo=UTC)


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing in the job catches it."""


def crash_on_commit(store: Any, at: int) -> None:
    """Make ``store.commit`` die (raise :class:`Crash`) on its ``at``-th call, counting from 0:
    the page is then in the sink, fsynced, but not checkpointed."""
    real = store.commit
    calls = 0

    def dying(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        if calls == at:
            raise Crash
        calls += 1
        real(*args, **kwargs)

    store.commit = dying


@dataclass
class FakeConnection:
    id: str = "tenant-a/app"
    label: str = "tenant-a"
    page_size: int = 3
    now_value: datetime = T0
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    fail_on_page: int | None = None
    """Raise on the n-th page request (0-based, counted over the connection's life)."""
    pages_served: int = 0
    health_ok: bool = True
    by_id: bool = False
    """Serve records in id order (an API that promises no order) instead of oldest first."""

    def add(self, source: str, rid: str, when: datetime, visible_from: datetime | None = None,
            field_name: str = "ts", **extra: Any) -> dict[str, Any]:
        record = {"id": rid, field_name: when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), **extra,
                  "_visible": visible_from or T0 - timedelta(days=365)}
        self.records.setdefault(source, []).append(record)
        return record

    def now(self) -> datetime:
        return self.now_value

    def pages(self, source: Source, window: Window) -> Iterator[list[dict[str, Any]]]:
        chosen = [r for r in self.records.get(source.name, [])
                  if r["_visible"] <= self.now_value
                  and window.start <= instant_key(r[source.cursor_field]) <= window.end]
        chosen.sort(key=(lambda r: r["id"]) if self.by_id
                    else (lambda r: instant_key(r[source.cursor_field])))
        if not chosen:
            chosen = []
        for index in range(0, max(len(chosen), 1), self.page_size):
            if self.fail_on_page is not None and self.pages_served == self.fail_on_page:
                self.pages_served += 1
                raise ConnectionError("injected failure")
            self.pages_served += 1
            yield [{k: v for k, v in r.items() if k != "_visible"}
                   for r in chosen[index:index + self.page_size]]

    def health_check(self) -> str:
        if not self.health_ok:
            raise PermissionError("the application lacks AuditLog.Read.All")
        return "token acquired"

    def close(self) -> None:
        pass
