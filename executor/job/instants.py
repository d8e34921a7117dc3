"""Instants as comparable text: ISO 8601 timestamps normalised to UTC with seven fraction digits.

APIs return timestamps with varying precision (``...:10Z``, ``...:10.1234567Z``, offsets); the
job compares cursor values as text, so every value is first brought to one fixed-width form
(``2026-11-27T11:41:10.1234567Z``) in which string order is time order.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_ISO = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:[.,](\d+))?\s*"
                  r"(Z|z|[+-]\d{2}(?::?\d{2})?)?")
_UTC_ZONES = {None, "Z", "z", "+00:00", "-00:00", "+0000", "-0000", "+00", "-00"}
_PLAIN_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,7})?Z",
                        re.ASCII)
"""What Graph sends (``2026-11-27T11:41:10Z``, ``...:10.1234567Z``), clock fields in range."""
_VALID_DATES: set[str] = set()
"""Dates already checked by ``fromisoformat`` (the plain form's only check not in its regex)."""


def instant_key(text: str) -> str:
    """The normalised form of one ISO 8601 timestamp; ValueError when it is not one."""
    if _PLAIN_UTC.fullmatch(text) is not None:  # the common case, once per record: no datetime
        date = text[:10]
        if date not in _VALID_DATES:
            datetime.fromisoformat(date)  # ValueError for month 13, February 30 ...
            if len(_VALID_DATES) > 100_000:
                _VALID_DATES.clear()
            _VALID_DATES.add(date)
        if len(text) == 20:  # whole seconds
            return text[:19] + ".0000000Z"
        return text[:-1].ljust(27, "0") + "Z"
    match = _ISO.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 timestamp: {text!r}")
    date, clock, fraction, zone = match.groups()
    ticks = (fraction or "")[:7].ljust(7, "0")
    if zone in _UTC_ZONES:
        datetime.fromisoformat(f"{date}T{clock}")  # ValueError for month 13, 25:61:61 ...
        return f"{date}T{clock}.{ticks}Z"
    offset = zone if ":" in zone or len(zone) == 3 else f"{zone[:3]}:{zone[3:]}"
    moment = datetime.fromisoformat(f"{date}T{clock}{offset}").astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ticks}Z"


def key_of(moment: datetime) -> str:
    """The normalised form of an aware datetime (naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}0Z"


def moment_of(key: str) -> datetime:
    """The datetime of a normalised key, floored to the microsecond (Python's precision)."""
    return datetime.strptime(key[:26], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)


def shift(key: str, delta: timedelta) -> str:
    """``key`` moved by ``delta``; flooring keeps a window start at or before the exact value."""
    return key_of(moment_of(key) + delta)
