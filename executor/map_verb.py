"""The `map` verb, the field-mapping playground: saved events in, mapped events out, streaming.

Each input event becomes one `{"event_type", "fields"}` line as soon as it is parsed, so memory
does not grow with the input. A run in which no event matched any field is an error: the input
was most likely not the events the mappings are for.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from executor.errors import IntegrationError, UsageError
from executor.mapping.paths import FIELD
from executor.mapping.stream import EventStreamError, read_events


def shapes(key: str | None) -> str:
    """The input shapes `map` reads, for its error messages."""
    response = f'a list response {{"{key}": [...]}}, ' if key else ""
    return f"{response}a saved result object, an array of events, one event, or NDJSON"


class NothingMatched(IntegrationError):
    """Events were read, but no field of any event source matched any of them."""


class _FlushBeforeRead:
    """Flushes `out` before each read of `stream`: what is mapped is out before waiting for more
    input (a pipe fed slowly), at the cost of one flush per chunk."""

    def __init__(self, stream: IO[bytes], out: IO[str]) -> None:
        self._stream, self._out = stream, out

    def read1(self, size: int) -> bytes:
        self._out.flush()
        read1 = getattr(self._stream, "read1", None)
        return bytes(read1(size) if read1 is not None else self._stream.read(size))

    def read(self, size: int) -> bytes:
        return self.read1(size)


def event_type_value(plugin: Any, text: str) -> str:
    """A display name (``Risk Detections``) of any enumerated input, or the value as given."""
    from executor.inputs import fold

    for command in plugin.manifest.commands:
        for spec in command.inputs:
            for allowed in getattr(spec, "allowed_values", ()):
                if fold(text) in (fold(allowed.value), fold(allowed.display_name)):
                    return str(allowed.value)
    return text


def main_key(mappings: Any) -> str | None:
    """The response key the Main Event JSON Path names (`$.value` -> `value`), if that simple."""
    path = mappings.default.main_event_json_path
    steps = getattr(path, "steps", None)
    if steps and len(steps) == 1 and steps[0][0] == FIELD:
        return str(steps[0][1])
    return None


def mapped_events(mappings: Any, events: Iterator[Any], event_type: str | None
                  ) -> Iterator[dict[str, Any]]:
    """`{"event_type", "fields"}` per event; `event_type` fills in for events that name none."""
    keys = mappings.search_keys()
    for event in events:
        own = None
        if isinstance(event, dict):
            own = next((event[k] for k in keys if event.get(k)), None)
            if own is None and event_type is not None:
                event = {**event, **dict.fromkeys(keys, event_type)}
        fields = mappings.map_event(event)
        kind = mappings.event_type(event) or own or event_type
        yield {"event_type": kind, "fields": fields}


def run_map(plugin: Any, stream: Any, out: IO[str], *, mappings_file: str | None,
            event_type: str | None, input_name: str = "standard input") -> int:
    """Map every event of `stream` to `out`; returns the count of events written.

    Raises UsageError for input that is not JSON or holds no events, NothingMatched when no
    event matched a field. Lines of events that matched nothing are held back until one does
    (they are small), so a run in which nothing matched prints nothing but its error; input
    that breaks off after some events has those events written before the error.
    """
    from executor.mapping import MappingError

    try:
        mappings = plugin.mapping_set(mappings_file)
    except MappingError as exc:
        raise UsageError("field mappings: " + "; ".join(str(p) for p in exc.problems)
                         ) from None
    kind = event_type_value(plugin, event_type) if event_type else None
    key = main_key(mappings)
    stream = _FlushBeforeRead(stream, out)
    held: list[str] = []
    count = matched = 0
    try:
        for mapped in mapped_events(mappings, read_events(stream, key), kind):
            count += 1
            line = json.dumps(mapped, ensure_ascii=False) + "\n"
            if not mapped["fields"] and not matched:
                held.append(line)
                continue
            if held:
                out.writelines(held)
                held.clear()
            matched += 1 if mapped["fields"] else 0
            out.write(line)
    except EventStreamError as exc:
        raise UsageError(f"map: {input_name} is {exc}; expected {shapes(key)}") from None
    if count == 0:
        raise UsageError(f"map: {input_name} holds no events; expected {shapes(key)}")
    if not matched:
        names = ", ".join(source.name for source in mappings.sources)
        raise NothingMatched(f"map: none of the {count} event(s) matched any field of the "
                             f"event sources ({names}); are these the events they map?")
    out.flush()
    return count
