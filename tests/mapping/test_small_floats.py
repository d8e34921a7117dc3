"""Floats the sink must spell Python's way (executor/jsonfast.py) keep that spelling through
mapping: a `values:` table's shown float, a matched small float looked up in a table, and a
value jsonpath-ng computes."""

from __future__ import annotations

import json
from typing import Any

from executor.jsonfast import dumps_lines, loads
from executor.mapping.codegen import build_mapper
from executor.mapping.model import FieldMapping
from executor.mapping.paths import compile_path
from executor.mapping.results import ValuesTable


def field(path: str, values: dict[Any, Any] | None = None) -> FieldMapping:
    return FieldMapping("Score", "Score", compile_path(path), "test.yaml",
                        values=ValuesTable(values) if values is not None else None)


def stdlib_line(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def test_a_shown_small_float_is_written_as_python_writes_it() -> None:
    mapper = build_mapper([field(".level", {"low": 0.00001, "high": [2.5e-07]})])
    low, high = mapper({"level": "low"}), mapper({"level": "high"})
    assert dumps_lines([low, high]) == stdlib_line({"Score": 1e-05}) + \
        stdlib_line({"Score": [2.5e-07]})


def test_a_decoded_small_float_finds_its_table_entry() -> None:
    mapper = build_mapper([field(".score", {0.00001: "tiny", "*": "other"})])
    assert mapper(loads(b'{"score": 1E-05}')) == {"Score": "tiny"}
    assert mapper(loads(b'{"score": 0.5}')) == {"Score": "other"}


def test_a_computed_small_float_is_written_as_python_writes_it() -> None:
    mapper = build_mapper([field(".a * 0.00001")])  # jsonpath-ng arithmetic
    mapped = mapper({"a": 1})
    assert mapped == {"Score": 1e-05}
    assert dumps_lines([mapped]) == stdlib_line({"Score": 1e-05})
