"""JSON on the job's hot path, byte for byte what the standard library writes.

Decoding a page and encoding its sink lines were most of the job's CPU with the standard library.
Encoding is orjson's, which writes what ``json.dumps(..., ensure_ascii=False,
separators=(",", ":"), default=str)`` writes except for floats from 1e-9 to 1e-4: orjson
writes ``0.00001`` and ``1e-9`` where Python writes ``1e-05`` and ``1e-09``. Searching every
line for such numbers cost as much as encoding it, so they are found where they are read
instead: decoding is msgspec's (as fast as orjson, and it hands each float's text to a hook),
and a float in that range is decoded as a :class:`ReprFloat`, a float like any other except
that orjson passes it to ``default``, which writes Python's spelling. Floats made elsewhere
(a mapping file's values) go through :func:`marked`.

Whatever msgspec refuses (NaN, a lone surrogate, a byte-order mark, very deep nesting) is decoded
by the standard library with the same hook, so the objects and the errors stay its own. Integers
beyond 64 bits, keys that are not strings and lone surrogates make orjson refuse a value: that
line is the standard library's (ASCII-escaped where it holds a lone surrogate, which UTF-8
cannot carry); datetimes and dataclasses go to ``default=str`` as they did there.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from typing import Any

_SMALL = 1e-4
"""orjson and Python spell some floats under this magnitude apart (from 1e-9 up); all of them
are written Python's way, which is never wrong, only slower."""


class ReprFloat(float):
    """A float that orjson writes as Python does (see the module text)."""

    __slots__ = ()


def _float(text: str) -> float:
    value = float(text)
    return ReprFloat(value) if 0.0 < abs(value) < _SMALL else value


@functools.cache
def _decoder() -> tuple[Callable[[Any], Any], type[Exception]]:
    """msgspec's decoder and its error, imported at the first document (a command that reads
    no JSON does not pay for it)."""
    import msgspec

    return msgspec.json.Decoder(float_hook=_float).decode, msgspec.DecodeError


def loads(data: bytes | str) -> Any:
    """``json.loads``, faster: the same objects for every document (see the module text)."""
    decode, refused = _decoder()
    try:
        return decode(data)
    except (refused, RecursionError):
        return json.loads(data, parse_float=_float)  # its verdict (and its error)


def marked(value: Any) -> Any:
    """``value`` with its floats in the range orjson spells its own way made :class:`ReprFloat`
    (for values that did not come from :func:`loads`)."""
    kind = type(value)
    if kind is float:
        return ReprFloat(value) if 0.0 < abs(value) < _SMALL else value
    if kind is dict:
        return {key: marked(item) for key, item in value.items()}
    if kind is list:
        return [marked(item) for item in value]
    return value


def dumps_lines(values: Iterable[Any]) -> bytes:
    """One compact UTF-8 JSON line per value, each newline-terminated, joined: equal to the
    standard library's for values whose floats came from :func:`loads` or :func:`marked`.

    Each value is encoded as soon as it is made (``values`` may be a generator): a page's
    values built first and encoded after were cold in the cache again (a third slower)."""
    import orjson  # here, as msgspec in loads: a mapping loaded to list events never encodes

    options = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
               | orjson.OPT_APPEND_NEWLINE)
    lines: list[bytes] = []
    append = lines.append
    for value in values:
        try:
            append(orjson.dumps(value, default=_default, option=options))
        except TypeError:
            append(_stdlib_line(value))
    return b"".join(lines)


def _stdlib_line(value: Any) -> bytes:
    """The standard library's line; a lone surrogate (``"\\ud800"`` in a page decodes to one)
    cannot be UTF-8, so that line is written with ``\\u`` escapes, as the page had it."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    try:
        return text.encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":"), default=str).encode("ascii") + b"\n"


def _default(value: Any) -> Any:
    import orjson

    if type(value) is ReprFloat:
        return orjson.Fragment(float.__repr__(value).encode())
    return str(value)
