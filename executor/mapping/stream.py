"""Events read from a JSON stream one at a time, whatever shape holds them.

`map` takes what a user has at hand: a list response (`{"value": [...]}`), a saved result object
(its `raw_data` is the response), a bare array of events, a single event, or NDJSON (one of
these per line). The shape is told from the start of the stream; the events are then parsed one
by one by ijson's C backend, so memory stays flat however large the input is.

    for event in read_events(sys.stdin.buffer, main_key="value"):
        ...
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import accumulate
from operator import itemgetter
from typing import IO, Any

CHUNK_SIZE = 64 * 1024
SNIFF_LIMIT = 16 * 1024 * 1024
"""How far into the stream the shape must be clear (a response's array usually starts at once)."""

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
    import ijson

    chunks: list[bytes] = []
    guard = _DepthGuard()
    prefix = _sniff(stream, chunks, main_key, guard)
    if prefix is None:
        return
    found = ijson.sendable_list()
    coro = ijson.items_coro(found, prefix, use_float=True, multiple_values=True)
    try:
        for chunk in _replay(chunks, stream, guard):
            coro.send(chunk)
            yield from found
            del found[:]
        coro.close()
        yield from found
    except ijson.JSONError as exc:
        raise EventStreamError(f"not JSON ({_reason(exc)})") from None


def read_chunk(stream: IO[bytes]) -> bytes:
    """What the stream has now, up to CHUNK_SIZE: a pipe's events are mapped as they come,
    without waiting for a full chunk."""
    read1 = getattr(stream, "read1", None)
    return bytes(read1(CHUNK_SIZE) if read1 is not None else stream.read(CHUNK_SIZE))


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
    lines = str(exc).strip().splitlines()
    return lines[0].strip().rstrip(".")[:200] if lines else type(exc).__name__
