"""`read_events` against the standard library's reading of the same text, in any chunking.

Events of a list response or bare array are decoded a run of whole items at a time; where an
item ends is told from the bytes, so strings holding brackets, quotes and escapes, items cut
across chunks, and values orjson reads unlike ijson are the cases that could go wrong.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from executor.mapping import stream
from executor.mapping.stream import EventStreamError, read_events

TRICKY = [
    {"id": "a", "text": 'a\\"}]{[,', "slash": "\\", "quoted": "\\\\\"", "end": "}"},
    {"nested": {"x": [[{}], []], "y": None, "z": True}, "numbers": [1, 2.5, -0.0, 1e300]},
    [1, {"a": "]"}],
    7,
    "a string",
    None,
    {"value": [1], "unicode": "é\u2028😀"},
]


def _events(data: bytes, key: str | None = "value") -> list[Any]:
    return list(read_events(io.BytesIO(data), key))


def _typed(values: list[Any]) -> list[str]:
    """Values with their types: 1 and 1.0 must not pass for each other."""
    return [json.dumps(v) + type(v).__name__ for v in values]


@pytest.mark.parametrize("chunk", [5, 61, 1000, 65536])
@pytest.mark.parametrize("indent", [None, 1])
def test_events_equal_the_standard_librarys_reading_in_any_chunking(
        monkeypatch: pytest.MonkeyPatch, chunk: int, indent: int | None) -> None:
    monkeypatch.setattr(stream, "CHUNK_SIZE", chunk)
    events = TRICKY * 3
    for text in (json.dumps(events, indent=indent, ensure_ascii=False),
                 json.dumps({"@odata.context": 'x "value": [', "value": events,
                             "@odata.nextLink": "next"}, indent=indent)):
        expected = json.loads(text)
        expected = expected["value"] if isinstance(expected, dict) else expected
        assert _typed(_events(text.encode())) == _typed(expected)


def test_a_nested_key_of_the_same_name_is_not_the_event_array() -> None:
    text = '{"meta": {"value": [{"not": "this"}]}, "value": [{"id": 1}, {"id": 2}]}'
    assert _events(text.encode()) == [{"id": 1}, {"id": 2}]


def test_responses_one_per_line_give_every_events_in_order() -> None:
    lines = [json.dumps({"value": [{"id": n}, {"id": n + 1}]}) for n in (1, 3)]
    assert _events("\n".join(lines).encode()) == [{"id": n} for n in (1, 2, 3, 4)]


def test_an_item_larger_than_the_span_limit_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "SPAN_LIMIT", 1000)
    monkeypatch.setattr(stream, "CHUNK_SIZE", 300)
    events = [{"id": n, "pad": "y" * 5000} for n in range(3)]
    assert _events(json.dumps(events).encode(), None) == events


@pytest.mark.parametrize("number", ["18446744073709551615", "123456789012345678901234"])
def test_an_integer_past_64_bits_is_refused_as_before(number: str) -> None:
    with pytest.raises(EventStreamError, match="integer overflow"):
        _events(f'{{"value": [{{"a": 1}}, {{"big": {number}}}]}}'.encode())


@pytest.mark.parametrize(("depth", "refused"), [(99, False), (100, True)])
def test_an_event_nested_past_the_limit_is_refused(depth: int, refused: bool) -> None:
    """The response object and its array count: an event's own 99 levels are the most."""
    event = '{"x":' * depth + "1" + "}" * depth
    data = f'{{"value": [{{"a": 1}}, {event}]}}'.encode()
    if refused:
        with pytest.raises(EventStreamError, match="nested deeper than 100 levels"):
            _events(data)
    else:
        assert len(_events(data)) == 2


def test_malformed_text_after_whole_events_keeps_them_and_names_the_fault(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "CHUNK_SIZE", 20)  # the first event is past the sniffed chunk
    text = json.dumps({"value": [{"id": 1, "pad": "y" * 40}, {"id": 2}]})[:-3] + "x]}"
    read: list[Any] = []
    with pytest.raises(EventStreamError, match="invalid char"):
        read.extend(read_events(io.BytesIO(text.encode()), "value"))
    assert read == [{"id": 1, "pad": "y" * 40}]


@pytest.mark.parametrize("chunk", [20, 65536])
def test_a_lexical_error_does_not_echo_the_input(monkeypatch: pytest.MonkeyPatch, chunk: int
                                                 ) -> None:
    """yajl appends the text around the fault (an event's data) to its message, as bytes when
    that text is not UTF-8: not shown either way."""
    monkeypatch.setattr(stream, "CHUNK_SIZE", chunk)
    with pytest.raises(EventStreamError) as raised:
        _events(b'[{"a": 1, "pad": "xxxxxxxxxxxxxxx"}, {"city": "S\xc3o", '
                b'"secretish": "s3cr3t"}]')
    assert "s3cr3t" not in str(raised.value) and "city" not in str(raised.value)
    assert str(raised.value) == "not JSON (lexical error: invalid bytes in UTF8 string)"
