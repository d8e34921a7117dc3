"""Fixtures for the mapping tests: the shipped mappings, the Graph examples, and small
mapping directories written on the fly."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from executor.mapping import MappingSet

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "field_mappings"
EXAMPLES = Path(__file__).resolve().parent / "graph_examples"

MakeSet = Callable[..., MappingSet]
WriteDir = Callable[..., Path]


@pytest.fixture(scope="session")
def shipped_dir() -> Path:
    return SHIPPED


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return EXAMPLES


def _load_example(name: str, event_type: str | None = None) -> dict[str, Any]:
    response = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    if event_type is not None:
        for event in response["value"]:
            event["eventType"] = event_type
    return response


@pytest.fixture
def example() -> Callable[..., dict[str, Any]]:
    """example(file_name, event_type=None) -> a Graph example response, read afresh; with
    `event_type`, each event gets `eventType` as Fetch Event sets it."""
    return _load_example


@pytest.fixture(scope="session")
def shipped() -> MappingSet:
    return MappingSet.load(SHIPPED)


def _write(directory: Path, default: list[dict[str, Any]], specific: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    documents = {
        "default": {
            "id": "default",
            "name": "Default Event Source",
            "main_event_json_path": "$.value",
            "fields": default,
        }
    }
    for source_id, (search_string, fields) in specific.items():
        documents[source_id] = {
            "id": source_id,
            "name": f"Event Source {source_id}",
            "search_string": search_string,
            "fields": fields,
        }
    for source_id, document in documents.items():
        (directory / f"{source_id}.yaml").write_text(
            yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    return directory


@pytest.fixture
def write_dir(tmp_path: Path) -> WriteDir:
    """write_dir(default_fields, specific={id: (search_string, fields)}) -> directory."""

    def write(default: list[dict[str, Any]], specific: dict[str, Any] | None = None) -> Path:
        return _write(tmp_path / "mappings", default, specific or {})

    return write


@pytest.fixture
def make_set(write_dir: WriteDir) -> MakeSet:
    """make_set(default_fields, specific=..., overrides=...) -> a loaded MappingSet."""

    def make(
        default: list[dict[str, Any]],
        specific: dict[str, Any] | None = None,
        overrides: dict[str, Any] | None = None,
    ) -> MappingSet:
        return MappingSet.load(write_dir(default, specific), overrides)

    return make
