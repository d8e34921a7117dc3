"""Dates older than a resource's retention, said before any request.

Entra keeps sign-ins 30 days (P1/P2; 7 on Free) and Graph answers a ``createdDateTime`` filter
older than about 90 days with a bare "Invalid filter clause" (graph-api-facts.md §1.2); the
manifest declares the figure as the resource's ``retention_days``. A Filter comparing the
resource's cursor field with an older time is refused (a listing cannot be rewritten safely), and
so is a Fetch Event window that ends before the oldest record kept. A window that only starts
before it is clamped to that time, with a warning: the records Graph still has are returned.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from commands.odata import parse
from executor.datetimes import as_utc, format_datetime, parse_datetime
from executor.errors import InvalidInput
from executor.model import ResourceSpec


def oldest_kept(resource: ResourceSpec, now: datetime) -> datetime | None:
    """The oldest record time the resource still holds, or None when it declares no limit."""
    if resource.retention_days is None:
        return None
    oldest = as_utc(now) - timedelta(days=resource.retention_days)
    if oldest.microsecond:  # whole seconds, rounded up: never a time the API no longer has
        oldest = oldest.replace(microsecond=0) + timedelta(seconds=1)
    return oldest


def _suggested(oldest: datetime) -> str:
    """The oldest time, rounded up to the next hour: still accepted when pasted a little later."""
    rounded = oldest.replace(minute=0, second=0, microsecond=0)
    if rounded < oldest:
        rounded += timedelta(hours=1)
    return format_datetime(rounded)


def _refusal(resource: ResourceSpec, given: str, oldest: datetime) -> str:
    return (f"{given} is older than the {resource.retention_days}-day retention of "
            f"{resource.item_type} records ({resource.path} keeps none before "
            f"{format_datetime(oldest)}); use a time from {_suggested(oldest)} on")


def _cursor_datetimes(node: Any, cursor: str) -> Iterator[str]:
    """The datetime literals a parsed filter compares the cursor field with."""
    from odata_query import ast

    if isinstance(node, ast.BoolOp):
        yield from _cursor_datetimes(node.left, cursor)
        yield from _cursor_datetimes(node.right, cursor)
    elif isinstance(node, ast.Compare):
        sides = (node.left, node.right)
        names = [s.name for s in sides if isinstance(s, ast.Identifier)]
        if cursor in names:
            yield from (s.val for s in sides if isinstance(s, ast.DateTime))


def check_filter_dates(text: str, resource: ResourceSpec, now: datetime,
                       input_name: str = "Filter") -> None:
    """Refuse a filter that compares the cursor field with a time older than the retention."""
    oldest = oldest_kept(resource, now)
    if oldest is None or resource.cursor is None or not text:
        return
    for literal in _cursor_datetimes(parse(text), resource.cursor):
        try:
            stamp = parse_datetime(literal)
        except ValueError:
            continue  # the filter check refuses what is not a date
        if stamp < oldest:
            problem = _refusal(resource, literal, oldest)
            raise InvalidInput(input_name, f"{resource.cursor} {problem}")


def clamp_window(resource: ResourceSpec, inputs: dict[str, Any], now: datetime,
                 names: tuple[str, str] = ("Start Time", "End Time")) -> list[str]:
    """Refuse a window that ends before the oldest record kept; start a window that begins
    before it at that time instead (``inputs["start_time"]`` changed), with one warning."""
    oldest = oldest_kept(resource, now)
    if oldest is None:
        return []
    if parse_datetime(inputs["end_time"]) < oldest:
        raise InvalidInput(names[1], _refusal(resource, inputs["end_time"], oldest))
    if parse_datetime(inputs["start_time"]) >= oldest:
        return []
    given, inputs["start_time"] = inputs["start_time"], format_datetime(oldest)
    return [f"{names[0]} {given} is older than the {resource.retention_days}-day retention of "
            f"{resource.item_type} records: the window starts at {inputs['start_time']}, the "
            f"oldest time {resource.path} keeps"]
