"""The job's JSON (msgspec decodes, orjson encodes) reads and writes what the stdlib did."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from executor.jsonfast import ReprFloat, dumps_lines, loads, marked


def stdlib_line(value: Any) -> bytes:
    """The sink's encoding before orjson (executor/job/sink.py at the first wave)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                      default=str).encode("utf-8") + b"\n"


scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text())
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=30)
small_floats = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e-3, max_value=1e-3)


@settings(max_examples=400, deadline=None)
@given(documents)
@example(1.260678797293884e-09)  # a bare small float: written the orjson way unless marked
@example({"x": [0.00001, -2.5e-07]})
def test_a_decoded_document_encodes_as_the_standard_library_did(value: Any) -> None:
    """What the job does: a page read by ``loads``, its records written by ``dumps_lines``."""
    text = json.dumps(value, ensure_ascii=False)
    assert dumps_lines([loads(text.encode())]) == stdlib_line(value)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_a_marked_value_encodes_as_the_standard_library_did(value: Any) -> None:
    assert dumps_lines([marked(value)]) == stdlib_line(value)


@settings(max_examples=300, deadline=None)
@given(small_floats, st.sampled_from(["repr", "{:.17e}", "{:.20f}", "{:.6E}"]))
def test_small_floats_written_the_python_way_whatever_their_spelling(number: float,
                                                                     spelling: str) -> None:
    """Graph's writer may spell a float ``1E-05`` or ``0.00001``: Python's spelling comes out."""
    text = repr(number) if spelling == "repr" else spelling.format(number)
    decoded = loads(f'{{"x": [{text}, {{"y": {text}}}]}}'.encode())
    expected = json.loads(text)
    assert dumps_lines([decoded]) == stdlib_line({"x": [expected, {"y": expected}]})


def test_orjson_writes_its_own_way_what_is_not_marked() -> None:
    """The oracle of the tests above can fail: unmarked, orjson spells 1e-05 ``0.00001``."""
    assert dumps_lines([{"x": 0.00001}]) != stdlib_line({"x": 0.00001})
    assert dumps_lines([{"x": 0.00001}]) == b'{"x":0.00001}\n'


@dataclass
class Point:
    x: int


def test_what_orjson_refuses_or_writes_its_own_way_goes_the_standard_librarys() -> None:
    moment = datetime(2026, 11, 1, 12, 30, tzinfo=UTC)
    values: list[Any] = [{"at": moment}, {"p": Point(1)}, {1: "int key"}, {"big": 2**80},
                         {"deep": [[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]},
                         {"guid-like": "0c0ffee0-1e-4c"}, {"text": ":1e-5,"}]
    for value in values:
        assert dumps_lines([value]) == stdlib_line(value)
    assert dumps_lines(values) == b"".join(stdlib_line(v) for v in values)


def test_only_small_floats_are_marked_and_they_stay_floats() -> None:
    decoded = loads(b'[1e-05, 2.5e-9, 0.0001, 47.6, 0.0, -0.0, 1e-300, 3]')
    kinds = [type(v).__name__ for v in decoded]
    assert kinds == ["ReprFloat", "ReprFloat", "float", "float", "float", "float",
                     "ReprFloat", "int"]
    assert decoded[0] == 1e-05 and isinstance(decoded[0], float)
    assert marked({"a": [1e-5, {"b": 2.0}]}) == {"a": [1e-5, {"b": 2.0}]}
    assert type(marked({"a": [1e-5]})["a"][0]) is ReprFloat


@settings(max_examples=300, deadline=None)
@given(documents)
def test_decoding_gives_the_standard_librarys_objects(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False)
    assert loads(text.encode()) == json.loads(text)
    assert loads(text) == json.loads(text)


def test_decoding_falls_back_to_the_standard_library_verdict() -> None:
    assert loads(b'{"a": NaN, "s": "\\ud800"}')["s"] == "\ud800"
    assert type(loads(b'[NaN, 1e-05]')[1]) is ReprFloat  # the fallback marks too
    assert loads(b"\xef\xbb\xbf[1]") == json.loads(b"\xef\xbb\xbf[1]")
    for bad in (b"{", b"\xff", b"[" * 100_000):
        try:
            json.loads(bad)
        except (ValueError, RecursionError) as exc:
            expected: type[BaseException] = type(exc)
        else:
            raise AssertionError(f"{bad[:10]!r}: the standard library decoded it")
        try:
            loads(bad)
        except (ValueError, RecursionError) as exc:
            assert isinstance(exc, expected)
        else:
            raise AssertionError(f"{bad[:10]!r} decoded")


def test_a_lone_surrogate_is_written_escaped_and_reads_back_the_same() -> None:
    """Graph may send ``"\\ud800"``: the line cannot be UTF-8, so it is escaped, not lost."""
    page = b'{"s": "a\\ud800b", "t": "\xc3\xa9", "x": 1e-05}'
    decoded = loads(page)
    line = dumps_lines([decoded])
    assert line.endswith(b"\n") and b"\\ud800" in line
    assert json.loads(line) == json.loads(page)
    assert dumps_lines([decoded, {"ok": 1}]).endswith(b'{"ok":1}\n')
