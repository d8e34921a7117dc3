"""JSON on the job's hot path with orjson, byte for byte what the standard library writes.

Decoding a page and encoding a sink line were most of the job's CPU (``json.dumps`` 39-44 %,
``json.loads`` 20-21 %). orjson does both several times faster. Its output equals
``json.dumps(..., ensure_ascii=False, separators=(",", ":"), default=str)`` except in cases
handled here by falling back to the standard library: floats from 1e-9 to 1e-4 (orjson writes
``0.00001`` and ``1e-9`` where Python writes ``1e-05`` and ``1e-09``), integers beyond 64 bits,
keys that are not strings, nesting past orjson's depth, and datetimes and dataclasses (passed to
``default=str`` as the standard library does). Decoding falls back for whatever orjson refuses
(NaN, lone surrogates, very deep nesting), so errors stay the standard library's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import orjson

_OPTIONS = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
            | orjson.OPT_APPEND_NEWLINE)
_ONE_DIGIT_EXPONENT = re.compile(rb"e-\d[,\]}\n]")
"""How orjson ends a number from 1e-9 to under 1e-5 (``1e-9``; Python writes ``1e-09``)."""
_SMALL_DECIMAL = re.compile(rb"0\.0000\d*[,\]}\n]")
"""How orjson writes one from 1e-5 to 1e-4 (``0.00001``; Python writes ``1e-05``)."""


def loads(data: bytes | str) -> Any:
    """``json.loads``, faster: the same objects for every document Graph sends."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)  # its verdict (and its error) for what orjson refuses


def dumps_line(value: Any) -> bytes:
    """One compact UTF-8 JSON line, newline-terminated, equal to the standard library's."""
    try:
        line = orjson.dumps(value, default=str, option=_OPTIONS)
    except TypeError:
        return _stdlib_line(value)
    if _may_differ(line):
        return _stdlib_line(value)
    return line


def dumps_lines(values: Sequence[Any]) -> bytes:
    """``dumps_line`` of every value, joined: the check for numbers orjson writes its own way
    is made once over the whole (a search costs mostly its call and its scan, not its matches)."""
    try:
        data = b"".join([orjson.dumps(value, default=str, option=_OPTIONS) for value in values])
    except TypeError:
        return b"".join([dumps_line(value) for value in values])
    if _may_differ(data):
        return b"".join([dumps_line(value) for value in values])
    return data


def _may_differ(line: bytes) -> bool:
    """Whether the line may hold a number orjson writes unlike Python (never a false "no").

    Both patterns start with a literal that the regular expression engine skips to, and both
    need the number's end right after (``,``, ``]``, ``}`` or the line's end): ``e-`` alone is in
    nearly every sign-in line (inside GUIDs: ``...a41e-a531...``), and searching the whole 3 KB
    line for a number's start at each ``e-`` cost more than encoding it. A string that looks
    like such a number only costs the standard library's encoding, never a different line.
    """
    return (_ONE_DIGIT_EXPONENT.search(line) is not None
            or _SMALL_DECIMAL.search(line) is not None)


def _stdlib_line(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                      default=str).encode("utf-8") + b"\n"
