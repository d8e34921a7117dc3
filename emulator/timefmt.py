"""Time values as integer ticks (100 ns since the Unix epoch), the resolution Graph prints.

Records keep their DateTimeOffset properties as ticks so that comparisons and sorting are
exact integer operations; they are turned into strings only when a response is written.
"""

from __future__ import annotations

import calendar
import datetime as dt
import email.utils
import re

TICKS_PER_SECOND = 10_000_000
TICKS_PER_MICROSECOND = 10
#: .NET ticks of the Unix epoch (history item ids carry .NET ticks, as Graph's do).
DOTNET_EPOCH_TICKS = 621_355_968_000_000_000

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,12}))?)?"
    r"(Z|z|[+-]\d{2}:?\d{2})?$"
)


class TimeFormatError(ValueError):
    """A string is not an ISO 8601 date-time."""


def parse_iso(text: str) -> int:
    """Parse an ISO 8601 date-time (offset optional, UTC assumed) into ticks."""
    match = _ISO.match(text.strip())
    if not match:
        raise TimeFormatError(f"not an ISO 8601 date-time: {text!r}")
    year, month, day, hour, minute = (int(match.group(i)) for i in range(1, 6))
    second = int(match.group(6) or 0)
    fraction = (match.group(7) or "")[:7].ljust(7, "0")
    try:
        dt.datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise TimeFormatError(str(exc)) from exc
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    offset = match.group(8)
    if offset and offset not in ("Z", "z"):
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds * TICKS_PER_SECOND + int(fraction)


def format_ticks(ticks: int) -> str:
    """Render ticks the way Graph does: UTC, 'Z', fraction up to 7 digits, trailing zeros cut."""
    seconds, fraction = divmod(ticks, TICKS_PER_SECOND)
    text = _format_seconds(seconds)
    if fraction:
        return f"{text}.{fraction:07d}".rstrip("0") + "Z"
    return text + "Z"


def format_micro(ticks: int) -> str:
    """ISO 8601 with exactly six fractional digits (the request log's format)."""
    seconds, fraction = divmod(ticks, TICKS_PER_SECOND)
    return f"{_format_seconds(seconds)}.{fraction // TICKS_PER_MICROSECOND:06d}Z"


def format_inner_date(ticks: int) -> str:
    """The `innerError.date` form Graph uses: seconds precision, no zone designator."""
    return _format_seconds(ticks // TICKS_PER_SECOND)


def format_aad_timestamp(ticks: int) -> str:
    """The token endpoint's `timestamp` form: `2016-01-09 02:02:12Z`."""
    return _format_seconds(ticks // TICKS_PER_SECOND).replace("T", " ") + "Z"


def format_http_date(ticks: int) -> str:
    """RFC 7231 IMF-fixdate, used by the Date and Retry-After headers."""
    return email.utils.formatdate(ticks // TICKS_PER_SECOND, usegmt=True)


def _format_seconds(seconds: int) -> str:
    return (_EPOCH + dt.timedelta(seconds=seconds)).isoformat()


_EPOCH = dt.datetime(1970, 1, 1)


def from_datetime(value: dt.datetime) -> int:
    """Ticks of an aware or naive (taken as UTC) datetime."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    delta = value - dt.datetime(1970, 1, 1)
    return (delta.days * 86_400 + delta.seconds) * TICKS_PER_SECOND + delta.microseconds * 10


def to_dotnet_ticks(ticks: int) -> int:
    return ticks + DOTNET_EPOCH_TICKS
