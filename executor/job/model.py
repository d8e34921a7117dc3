"""What the fetch job works with: event sources, connections, windows and checkpoints.

The runtime knows no API: a :class:`Source` names an event type, the record field its cursor
runs on and how late records may arrive; a :class:`Connection` (one tenant, one set of
credentials) turns a source and a time window into pages of records, ordered oldest first
when the source is ``ordered``, in whatever order the service chooses otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from executor.job.instants import key_of, moment_of

Record = Mapping[str, Any]


@dataclass(frozen=True)
class Source:
    name: str
    """The event type written to the sink (``signIn``)."""
    cursor_field: str
    """The record field that moves whenever the record changes; queried with ``ge``."""
    overlap: timedelta
    """How far before the cursor each run reads again, for records that surface late."""
    lag: timedelta = timedelta(minutes=1)
    """A window ends at now minus this, where data is still expected to be incomplete."""
    id_field: str = "id"
    max_backfill: timedelta | None = None
    """The service keeps records this long; a longer first backfill is cut to it."""
    chunk: timedelta | None = None
    """Read a long window as consecutive queries of at most this span (a checkpoint at each
    end), so one query never covers weeks of data and an interrupted backfill resumes there."""
    ordered: bool = True
    """The service returns records oldest cursor value first, so the cursor can advance page by
    page. When False (the API promises no order), the cursor is held for the whole window and
    moves only once the window is complete; the event keys still commit page by page."""

    def cursor_of(self, record: Record) -> str | None:
        value = record.get(self.cursor_field)
        return value if isinstance(value, str) and value else None

    def key_of(self, record: Record, cursor: str | None) -> str:
        """The event key: the record's id and its cursor value, so an update is a new event."""
        return f"{record.get(self.id_field)}|{cursor or ''}"


@dataclass(frozen=True)
class Window:
    """Records whose cursor value lies in [start, end] (normalised instant keys)."""

    start: str
    end: str
    first: bool = False
    """The first window of this source and connection (a backfill)."""

    @property
    def empty(self) -> bool:
        return self.start > self.end

    def chunks(self, span: timedelta | None) -> Iterator[Window]:
        """Consecutive windows of at most ``span`` covering this one (bounds shared, ``ge``/``le``
        both inclusive: a record on a bound is read twice and delivered once)."""
        if span is None or span <= timedelta(0) or self.empty:
            yield self
            return
        start, end = moment_of(self.start), moment_of(self.end)
        while True:
            stop = start + span
            if stop >= end:
                yield Window(key_of(start), self.end, self.first)
                return
            yield Window(key_of(start), key_of(stop), self.first)
            start = stop


@dataclass(frozen=True)
class Checkpoint:
    """Where one source of one connection stands.

    ``cursor`` is the highest cursor value committed to the sink (or the end of the last
    completed window); ``seen`` maps the key of every delivered event whose cursor value lies
    in the overlap (at or after ``cursor - overlap``) to that value, so re-read records are
    recognised and older keys can be forgotten.
    """

    cursor: str | None = None
    seen: Mapping[str, str] = field(default_factory=dict)


class Connection(Protocol):
    """One tenant reached with one set of credentials."""

    id: str
    """Stable across runs: checkpoints are stored under it."""
    label: str
    """Short, for logs and the progress line; no secret in it."""
    # Optional member, read with getattr by the runner: ``attribution``, the fields every sink
    # line of this connection carries (which tenant, which connection).

    def now(self) -> datetime:
        """The current time as the service sees it (so a skewed local clock loses nothing)."""
        ...

    def pages(self, source: Source, window: Window) -> Iterable[Sequence[Record]]:
        """Every record of ``source`` in ``window``, page by page: oldest cursor value first when
        ``source.ordered``, in the service's own order otherwise."""
        ...

    def health_check(self) -> str:
        """Test the connection; a short description when it works, an exception when not."""
        ...

    def close(self) -> None: ...
