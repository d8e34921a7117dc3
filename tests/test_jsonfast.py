"""orjson on the hot path writes exactly what the standard library wrote before."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from executor.jsonfast import dumps_line, loads


def stdlib_line(value: Any) -> bytes:
    """The sink's encoding before orjson (executor/job/sink.py at the first wave)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                      default=str).encode("utf-8") + b"\n"


scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text())
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(documents)
@example(1.260678797293884e-09)  # a bare small float: once written the orjson way
@example(0.00001)
def test_any_json_value_encodes_as_the_standard_library_did(value: Any) -> None:
    assert dumps_line(value) == stdlib_line(value)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e-3, max_value=1e-3))
def test_small_floats_written_the_python_way(number: float) -> None:
    assert dumps_line({"x": [number, {"y": number}]}) == stdlib_line({"x": [number, {"y": number}]})


@dataclass
class Point:
    x: int


def test_what_orjson_would_write_its_own_way_goes_through_default_str() -> None:
    moment = datetime(2026, 11, 1, 12, 30, tzinfo=UTC)
    values: list[Any] = [{"at": moment}, {"p": Point(1)}, {1: "int key"}, {"big": 2**80},
                         {"deep": [[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]},
                         {"guid-like": "0c0ffee0-1e-4c"}, {"text": ":1e-5,"},
                         1e-9, -0.00001, [2.5e-7], {"end": 1e-5}]
    for value in values:
        assert dumps_line(value) == stdlib_line(value)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_decoding_gives_the_standard_librarys_objects(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False)
    if any(not -(2**63) <= v < 2**64 for v in _ints(value)):
        return  # orjson reads integers past 64 bits as floats: Graph sends none
    assert loads(text.encode()) == json.loads(text)


def test_decoding_falls_back_to_the_standard_library_verdict() -> None:
    assert loads(b'{"a": NaN, "s": "\\ud800"}')["s"] == "\ud800"
    for bad in (b"{", b"\xff", b"[" * 100_000):
        try:
            json.loads(bad)
        except (ValueError, RecursionError) as exc:
            expected: type[BaseException] = type(exc)
        try:
            loads(bad)
        except (ValueError, RecursionError) as exc:
            assert isinstance(exc, expected)
        else:
            raise AssertionError(f"{bad[:10]!r} decoded")


def _ints(value: Any) -> list[int]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, list):
        return [i for v in value for i in _ints(v)]
    if isinstance(value, dict):
        return [i for v in value.values() for i in _ints(v)]
    return []
