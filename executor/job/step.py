"""The pure core of the job: which window to read, and what one page does to a checkpoint.

No I/O here: the runner feeds pages in and commits what comes out, so every rule about
exactly-once delivery can be tested (and property-tested) without a network, a file or a clock.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from executor.job.instants import instant_key, key_of, shift
from executor.job.model import Checkpoint, Record, Source, Window


def plan_window(checkpoint: Checkpoint, now: datetime, source: Source,
                backfill: timedelta, *, started: str | None = None) -> Window:
    """From ``cursor - overlap`` (or ``now - backfill`` the first time) to ``now - lag``.

    ``started`` is where an interrupted first window began (no cursor committed yet, as for an
    unordered source, whose cursor moves only at a window's end): it resumes from there, so
    the keys it already delivered stay inside the window and nothing before them is skipped."""
    end = key_of(now - source.lag)
    if checkpoint.cursor is None:
        if source.max_backfill is not None:
            backfill = min(backfill, source.max_backfill)
        start = key_of(now - backfill)
        if started is not None:  # never older than the service keeps records
            start = started if source.max_backfill is None else max(
                started, key_of(now - source.max_backfill))
        return Window(start, end, first=True)
    return Window(shift(checkpoint.cursor, -source.overlap), end)


class SeenKeys(dict[str, str]):
    """Delivered keys -> cursor value that forgets in time proportional to what it forgets.

    The runner keeps one per source run and lets :func:`fetch_step` update it in place
    (``in_place``), so a page costs what the page holds, not what the overlap remembers
    (100,000 keys of a 48 h overlap were copied and filtered on every page before). A key holds
    its cursor value, so a key's value never changes and the heap never goes stale."""

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        super().__init__(items or {})
        self._by_value = [(value, key) for key, value in self.items()]
        heapq.heapify(self._by_value)

    def remember(self, key: str, value: str) -> None:
        self[key] = value
        heapq.heappush(self._by_value, (value, key))

    def forget_before(self, threshold: str) -> None:
        heap = self._by_value
        while heap and heap[0][0] < threshold:
            value, key = heapq.heappop(heap)
            if self.get(key) == value:
                del self[key]


@dataclass(frozen=True)
class DeadLetter:
    """A record the job cannot deliver exactly once, and why (it goes to the dead-letter file)."""

    key: str
    reason: str
    record: Any


@dataclass(frozen=True)
class Step:
    """What one page changes: the events to deliver and the checkpoint once they are taken."""

    fresh: list[Record]
    checkpoint: Checkpoint
    added: dict[str, str] = field(default_factory=dict)
    """Keys new in ``checkpoint.seen`` (what the store inserts)."""
    forget_before: str | None = None
    """Keys whose cursor value is below this were dropped (what the store deletes)."""
    newest: str | None = None
    """The highest cursor value read so far in this window."""
    out_of_order: bool = False
    dead: list[DeadLetter] = field(default_factory=list)
    """Records without an id, without a readable cursor value, or not objects at all."""


def fetch_step(checkpoint: Checkpoint, records: Iterable[Any], source: Source, *,
               newest: str | None = None, hold_cursor: bool = False,
               window: Window | None = None, in_place: bool = False) -> Step:
    """Deliver the records not delivered before; move the cursor to the newest value taken.

    Only values inside ``window`` move the cursor: a record dated after the window's end (a
    service clock running ahead, a ``2099-01-01`` typo) or before its start is delivered, but
    the cursor never follows it. A record that is not an object, has no id, or whose cursor field
    is missing or not a time cannot be keyed for exactly-once delivery: it becomes a
    :class:`DeadLetter` and the page goes on.

    ``newest`` is the highest cursor value of the window's earlier pages. Should a record come
    back older than that, the source is not ordered as asked, and the cursor is held (from this
    page to the end of the window; ``hold_cursor``) so that it never passes a record still to
    come: the window's end is taken only when the window is complete. A source that is not
    ``ordered`` at all is read with ``hold_cursor`` from its window's first page.

    ``in_place`` (the runner): ``checkpoint.seen`` is a :class:`SeenKeys` that becomes the new
    checkpoint's, updated in time proportional to the page; otherwise it is left as it was.
    """
    known = checkpoint.seen
    cursor = checkpoint.cursor
    fresh: list[Record] = []
    added: dict[str, str] = {}
    dead: list[DeadLetter] = []
    out_of_order = False
    id_field, cursor_field = source.id_field, source.cursor_field
    start, end = (window.start, window.end) if window is not None else (None, None)
    for record in records:
        value: Any = None  # the record's cursor value, once keyed
        key = None
        if type(record) is dict:  # what pages hold: one look-up per field, one parse
            identifier, raw = record.get(id_field), record.get(cursor_field)
            if type(identifier) is str and identifier and type(raw) is str:
                try:
                    value = instant_key(raw)
                except ValueError:
                    pass
                else:
                    key = f"{identifier}|{value}"  # Source.key_of's key, without the call
        if key is None:  # anything else takes the general checks
            problem = _undeliverable(record, source)
            if problem is not None:
                dead.append(DeadLetter(_dead_key(record, source), problem, record))
                continue
            value = _normalised(source.cursor_of(record))
            assert value is not None
            key = source.key_of(record, value)
        if key in added or key in known:
            continue
        added[key] = value
        fresh.append(record)
        if start is not None and not start <= value <= end:
            continue  # delivered, but a time outside the window never moves the cursor
        if newest is not None and value < newest:
            out_of_order = True
        elif newest is None or value > newest:
            newest = value
    if out_of_order:
        hold_cursor = True
    if not hold_cursor and newest is not None and (cursor is None or newest > cursor):
        cursor = newest
    forget_before = None
    if cursor is not None:
        forget_before = shift(cursor, -source.overlap)
        added = {k: v for k, v in added.items() if v >= forget_before}
    seen: Mapping[str, str]
    if in_place and isinstance(known, SeenKeys):
        for key, value in added.items():
            known.remember(key, value)
        if forget_before is not None:
            known.forget_before(forget_before)
        seen = known
    else:
        seen = {**known, **added}
        if forget_before is not None:
            seen = {k: v for k, v in seen.items() if v >= forget_before}
    return Step(fresh, Checkpoint(cursor, seen), added, forget_before, newest, out_of_order,
                dead)


def finish_window(checkpoint: Checkpoint, window: Window, source: Source) -> Step:
    """After the last page of a window: nothing up to its end is still to come."""
    cursor = checkpoint.cursor
    if cursor is None or window.end > cursor:
        cursor = window.end
    forget_before = shift(cursor, -source.overlap)
    seen: Mapping[str, str]
    if isinstance(checkpoint.seen, SeenKeys):  # the runner's: forgotten in place
        checkpoint.seen.forget_before(forget_before)
        seen = checkpoint.seen
    else:
        seen = {k: v for k, v in checkpoint.seen.items() if v >= forget_before}
    return Step([], Checkpoint(cursor, seen), {}, forget_before)


def _undeliverable(record: Any, source: Source) -> str | None:
    if not isinstance(record, Mapping):
        return f"not an object but {type(record).__name__}"
    identifier = record.get(source.id_field)
    if identifier is None or identifier == "" or isinstance(identifier, dict | list):
        return f"no {source.id_field}"
    raw = record.get(source.cursor_field)
    if raw is None or raw == "":
        return f"no {source.cursor_field}"
    if _normalised(raw if isinstance(raw, str) else None) is None:
        return f"{source.cursor_field} is not a time: {str(raw)[:64]!r}"
    return None


def _dead_key(record: Any, source: Source) -> str:
    """A stable key for a dead letter, so the same record is filed once however often read."""
    if isinstance(record, Mapping):
        return f"{record.get(source.id_field)}|{record.get(source.cursor_field)}|" + \
            hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()
                           ).hexdigest()[:16]
    return "|" + hashlib.sha256(json.dumps(record, default=str).encode()).hexdigest()


def _normalised(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return instant_key(value)
    except ValueError:
        return None
