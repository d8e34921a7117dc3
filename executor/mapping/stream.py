"""Events read from a JSON stream one at a time, whatever shape holds them.

`map` takes what a user has at hand: a list response (`{"value": [...]}`), a saved result object
(its `raw_data` is the response), a bare array of events, a single event, or NDJSON (one of
these per line). The shape is told from the start of the stream by ijson's C backend; memory
stays flat however large the input is, as the events are then read a few at a time:

* a list response's or bare array's events (the common, large case): runs of whole events are
  told apart by a scan of the bytes and decoded by orjson, about 3x faster than ijson's item
  builder with its depth guard;
* anything else, and whatever that path does not take as it is (malformed or unusual JSON, an
  event larger than SPAN_LIMIT, what follows the array), by ijson's items, so values and error
  messages are the same whichever path read them.

    for event in read_events(sys.stdin.buffer, main_key="value"):
        ...
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import accumulate
from operator import itemgetter
from typing import IO, Any

CHUNK_SIZE = 64 * 1024
SNIFF_LIMIT = 16 * 1024 * 1024
"""How far into the stream the shape must be clear (a response's array usually starts at once)."""

SPAN_LIMIT = 1024 * 1024
"""The most bytes held for one item decoded whole by orjson; a larger item goes to ijson."""

_OPENING_TRIES = 8
_WHITESPACE = b" \t\n\r"
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_LONG_NUMBER = re.compile(rb"[0-9]{19}")
_BRACKET_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}

RESULT_KEY = "raw_data"
"""A saved result object (SPEC §4) holds the response it was built from under this key."""

MAX_DEPTH = 100
"""How deeply an event may nest (Graph's are a few levels): ijson's item builder costs the
square of the depth, so `[[[[...` is refused before it reaches the builder."""

_DEPTH_STEP = {"start_map": 1, "start_array": 1, "end_map": -1, "end_array": -1,
               "map_key": 0, "string": 0, "number": 0, "integer": 0, "double": 0,
               "boolean": 0, "null": 0}


class _DepthGuard:
    """Tracks the nesting depth of the stream's tokens (yajl's C tokenizer, no prefixes), and
    raises before a chunk that nests deeper than MAX_DEPTH (+1 for the array holding events)
    reaches a parser that builds prefixes or items."""

    def __init__(self) -> None:
        import ijson

        self._tokens = ijson.sendable_list()
        self._coro = ijson.basic_parse_coro(self._tokens, multiple_values=True)
        self._depth = 0

    def check(self, chunk: bytes) -> None:
        import ijson

        try:
            self._coro.send(chunk)
        except ijson.JSONError:
            return  # the real parser reports the malformed input with its own words
        if not self._tokens:
            return
        steps = accumulate(map(_DEPTH_STEP.__getitem__, map(itemgetter(0), self._tokens)),
                           initial=self._depth)
        deepest = max(steps)
        self._depth += sum(map(_DEPTH_STEP.__getitem__, map(itemgetter(0), self._tokens)))
        del self._tokens[:]
        if deepest > MAX_DEPTH + 1:
            raise EventStreamError(f"nested deeper than {MAX_DEPTH} levels")


class EventStreamError(ValueError):
    """The stream is not JSON, or holds no events in any known shape."""


def read_events(stream: IO[bytes], main_key: str | None = "value") -> Iterator[Any]:
    """Every event in `stream`, in order; raises EventStreamError on malformed JSON.

    `main_key` is the response's key holding the event array (the Main Event JSON Path `$.key`);
    None reads the stream as events (or arrays of events) only.
    """
    chunks: list[bytes] = []
    guard = _DepthGuard()
    prefix = _sniff(stream, chunks, main_key, guard)
    if prefix is None:
        return
    opening = _array_opening(chunks, prefix, main_key)
    if opening is None:
        yield from _parsed_events(_replay(chunks, stream, guard), prefix)
        return
    head, start = opening
    yield from _spans_events(b"".join(chunks)[start:], stream, prefix, head)


def _parsed_events(chunks: Iterator[bytes], prefix: str) -> Iterator[Any]:
    """The events under `prefix` as ijson's item builder makes them, chunk by chunk."""
    import ijson

    found = ijson.sendable_list()
    coro = ijson.items_coro(found, prefix, use_float=True, multiple_values=True)
    try:
        for chunk in chunks:
            coro.send(chunk)
            yield from found
            del found[:]
        coro.close()
        yield from found
    except ijson.JSONError as exc:
        raise EventStreamError(f"not JSON ({_reason(exc)})") from None


def _array_opening(chunks: list[bytes], prefix: str, main_key: str | None
                   ) -> tuple[bytes, int] | None:
    """Where the event array's items start in the sniffed bytes, with the JSON text that opens
    it (`[` or `{"key":[`), when the events are a top-level array or a top-level key's array;
    None for any other shape (those are left to ijson)."""
    import orjson

    sniffed = b"".join(chunks)
    if prefix == "item":
        start = len(sniffed) - len(sniffed.lstrip(_WHITESPACE))
        return (b"[", start + 1) if sniffed[start:start + 1] == b"[" else None
    if main_key is None or prefix != f"{main_key}.item":
        return None
    name = orjson.dumps(main_key)
    for tries, found in enumerate(re.finditer(re.escape(name) + rb"[ \t\n\r]*:[ \t\n\r]*\[",
                                              sniffed)):
        if tries == _OPENING_TRIES:
            return None
        try:  # the key is the top-level object's if what precedes it ends there cleanly
            orjson.loads(sniffed[:found.start()] + name + b":0}")
        except orjson.JSONDecodeError:
            continue
        return b"{" + name + b":[", found.end()
    return None


def _spans_events(buffer: bytes, stream: IO[bytes], prefix: str, head: bytes
                  ) -> Iterator[Any]:
    """The items of an array whose opening `[` is just before `buffer`, decoded by orjson a
    run of whole items at a time (memory: one chunk and the item in progress).

    Whole items are told by a scan at bytes speed (escapes masked, the text split at quotes,
    brackets counted outside strings), which also refuses nesting deeper than MAX_DEPTH as the
    depth guard does. Whatever the scan or orjson does not accept (malformed or unusual JSON,
    an item over SPAN_LIMIT, the array's end) goes to ijson from the item it stopped at, after
    `head`, so values and error messages are ijson's own.
    """
    import orjson

    limit = MAX_DEPTH + 1 - head.count(b"[") - head.count(b"{")
    while True:
        rest = buffer.lstrip(_WHITESPACE)
        if rest[:1] == b"]":
            break
        end, deepest = _whole_items_end(buffer)
        if end < 0:
            break
        if deepest > limit:
            raise EventStreamError(f"nested deeper than {MAX_DEPTH} levels")
        if end:
            after = buffer[end:].lstrip(_WHITESPACE)
            try:
                items = orjson.loads(b"[" + buffer[:end] + b"]")
            except orjson.JSONDecodeError:
                break
            yield from items
            if after[:1] != b",":
                buffer = after
                break
            buffer = after[1:]  # no whole item follows the last one found: read on
        elif len(buffer) > SPAN_LIMIT:
            break
        chunk = read_chunk(stream)
        if not chunk:
            break
        buffer += chunk
    yield from _parsed_events(_checked(head + buffer, stream), prefix)


def _whole_items_end(buffer: bytes) -> tuple[int, int]:
    """(where the last whole item of `buffer` that a `,` or `]` follows ends, 0 if none, -1 if
    ijson must read it; the deepest nesting in `buffer`), `buffer` starting at an item outside
    any string."""
    masked = buffer
    if b"\\" in masked:  # escapes masked (same length): the quotes left delimit strings
        masked = masked.replace(b"\\\\", b"__").replace(b'\\"', b"__")
    parts = masked.split(b'"')  # even parts are outside strings; an unclosed last one is odd
    structure = b"".join(parts[0::2])
    brackets = structure.translate(None, _NOT_BRACKET)
    if not brackets:
        return 0, 0
    if _LONG_NUMBER.search(structure):
        return -1, 0  # past 64 bits, perhaps: ijson refuses those (orjson takes up to 2**64)
    depths = list(accumulate(map(_BRACKET_STEP.__getitem__, brackets)))
    deepest = max(depths)
    index = len(depths) - 1
    while index >= 0 and depths[index] != 0:
        index -= 1
    while index >= 0:
        end = _position_of(parts, len(masked), len(brackets) - index) + 1
        follower = masked[end:].lstrip(_WHITESPACE)[:1]
        if follower in (b",", b"]"):
            return end, deepest
        if follower:
            return -1, deepest  # not an array's items (malformed?): ijson says what it is
        index -= 1
        while index >= 0 and depths[index] != 0:
            index -= 1
    return 0, deepest


def _position_of(parts: list[bytes], length: int, from_end: int) -> int:
    """The position in the text `parts` were split from (at quotes; `length` bytes) of the
    `from_end`-th bracket outside strings, counting from the end."""
    position = length
    for number in range(len(parts) - 1, -1, -1):
        part = parts[number]
        position -= len(part)
        if number % 2 == 0:
            inside = len(part.translate(None, _NOT_BRACKET))
            if inside >= from_end:
                offset = len(part)
                for _ in range(from_end):
                    offset = max(part.rfind(b, 0, offset) for b in (b"[", b"]", b"{", b"}"))
                return position + offset
            from_end -= inside
        position -= 1  # the quote before this part
    raise ValueError("fewer brackets than counted")


def read_chunk(stream: IO[bytes]) -> bytes:
    """What the stream has now, up to CHUNK_SIZE: a pipe's events are mapped as they come,
    without waiting for a full chunk."""
    read1 = getattr(stream, "read1", None)
    return bytes(read1(CHUNK_SIZE) if read1 is not None else stream.read(CHUNK_SIZE))


def _checked(held: bytes, stream: IO[bytes]) -> Iterator[bytes]:
    """`held` then the rest of the stream, chunk by chunk through a new depth guard (`held`
    opens the event array afresh, so the guard counts from the top)."""
    guard = _DepthGuard()
    for start in range(0, len(held), CHUNK_SIZE):
        chunk = held[start:start + CHUNK_SIZE]
        guard.check(chunk)
        yield chunk
    while chunk := read_chunk(stream):
        guard.check(chunk)
        yield chunk


def _replay(chunks: list[bytes], stream: IO[bytes], guard: _DepthGuard) -> Iterator[bytes]:
    """The chunks read while sniffing (released as they go), then the rest of the stream."""
    while chunks:
        yield chunks.pop(0)
    while chunk := read_chunk(stream):
        guard.check(chunk)
        yield chunk


def _sniff(stream: IO[bytes], chunks: list[bytes], main_key: str | None,
           guard: _DepthGuard) -> str | None:
    """The ijson prefix of the events, from the stream's first value; None for empty input.

    Reads (and keeps in `chunks`) only as much as it takes to tell the shape.
    """
    import ijson

    seen = ijson.sendable_list()
    coro = ijson.parse_coro(seen, multiple_values=True)
    wanted = {RESULT_KEY, f"{RESULT_KEY}.{main_key}", main_key} if main_key else {RESULT_KEY}
    size = 0
    try:
        while True:
            chunk = read_chunk(stream)
            if not chunk:
                coro.close()
            else:
                guard.check(chunk)
                chunks.append(chunk)
                size += len(chunk)
                coro.send(chunk)
            for prefix, event, _value in seen:
                if prefix == "" and event == "start_array":
                    return "item"  # a bare array of events
                if prefix == "" and event in ("string", "number", "boolean", "null"):
                    raise EventStreamError("a single JSON value, not events")
                if prefix in wanted and event == "start_array":
                    return f"{prefix}.item"  # a response, or a saved result's response
                if prefix == "" and event == "end_map":
                    return ""  # a whole object without an event array: it is an event
            del seen[:]
            if not chunk:
                return None
            if size > SNIFF_LIMIT:
                raise EventStreamError(
                    f"without an event array in the first {SNIFF_LIMIT // 2**20} MiB of the input")
    except ijson.IncompleteJSONError as exc:
        if size == 0 or not b"".join(chunks).strip():
            return None
        raise EventStreamError(f"not JSON ({_reason(exc)})") from None
    except ijson.JSONError as exc:
        raise EventStreamError(f"not JSON ({_reason(exc)})") from None


def _reason(exc: Exception) -> str:
    """yajl's message without the echo of the input it adds (its first line only)."""
    text = exc.args[0] if exc.args else ""
    if isinstance(text, bytes):  # yajl2_c gives some messages as bytes, the echo included
        text = text.decode("utf-8", "replace")
    lines = str(text).strip().splitlines()
    return lines[0].strip().rstrip(".")[:200] if lines else type(exc).__name__
