"""Date inputs as platform users type them: the reference's ``04/15/2024 01:00 AM`` or ISO 8601."""

from __future__ import annotations

from datetime import UTC, datetime

_REFERENCE_FORMATS = ("%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M",
                      "%m/%d/%Y %H:%M:%S", "%m/%d/%Y")


def parse_datetime(text: str) -> datetime:
    """Parse one date input; naive times are UTC. Raises ValueError when unreadable."""
    text = " ".join(text.split())
    for fmt in _REFERENCE_FORMATS:
        try:
            return datetime.strptime(text.upper(), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    iso = text.replace(" ", "T", 1) if len(text) > 10 and text[10] == " " else text
    return as_utc(datetime.fromisoformat(iso))  # 3.11: accepts Z, offsets, fractions


def parse_instant(text: str | None) -> datetime | None:
    """A stored ISO 8601 instant (``Z``, an offset, or naive = UTC) in UTC; None if absent/bad."""
    if not text:
        return None
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError:
        return None


def as_utc(value: datetime) -> datetime:
    """Aware and in UTC; a naive datetime is taken to be UTC already (never local time)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_datetime(value: datetime) -> str:
    """UTC ISO 8601 with a ``Z``; fractions only when present (Graph's DateTimeOffset form)."""
    value = as_utc(value)
    text = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    return text.replace("+00:00", "Z")
