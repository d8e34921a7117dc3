"""Every example response in shared/reference/graph_examples has a counterpart shape: the same
property names and JSON value types per resource (placeholders like "Boolean" in the v1.0
examples stand for their type; beta examples are compared with /beta)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.support import reference_dir

PLACEHOLDERS = {"Boolean": "boolean", "Int32": "number", "Int64": "number", "Double": "number"}
# (file, version, emulator path, resource) — the *.normalized.json is used where one exists.
EXAMPLES = [
    ("riskyUsers_list_1", "v1.0", "/v1.0/identityProtection/riskyUsers"),
    ("riskyUsers_list_2", "beta", "/beta/riskyUsers"),
    ("riskyUsers_list_3", "beta", "/beta/riskyUsers"),
    ("riskyUser_history_1", "v1.0", "/v1.0/identityProtection/riskyUsers/{uid}/history"),
    ("riskyUser_history_2", "beta", "/beta/riskyUsers/{uid}/history"),
    ("riskyUser_history_3", "v1.0", "/v1.0/identityProtection/riskyUsers/{uid}/history"),
    ("riskDetections_list_1", "v1.0", "/v1.0/identityProtection/riskDetections"),
    ("riskDetections_list_2", "beta", "/beta/riskDetections"),
    ("riskDetections_list_3", "beta", "/beta/riskDetections"),
    ("signIns_list_1", "v1.0", "/v1.0/auditLogs/signIns"),
    ("signIns_list_2", "v1.0", "/v1.0/auditLogs/signIns"),
    ("signIns_list_3", "beta", "/beta/auditLogs/signIns"),
]
# Documented doc quirks, skipped with the reason (file, property path).
QUIRKS = {
    # The v1.0 "get history item" page shows beta's isGuest; v1.0 does not define it.
    ("riskyUser_history_3", "isGuest"): "not a v1.0 property (CSDL subset)",
    # The beta example shows [] where the beta resource page defines a single complex type.
    ("signIns_list_3", "authenticationAppDeviceDetails"): "single complex type, not a list",
}


def jtype(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return PLACEHOLDERS.get(value, "string")
    if isinstance(value, list):
        return "array"
    return "object"


def compare(example: Any, values: list[Any], path: str, problems: list[str],
            name: str) -> None:
    """`values`: the emulator's values at `path` across many records (missing = absent)."""
    expected = jtype(example)
    present = [v for v in values if v is not _ABSENT]
    if not present:
        problems.append(f"{path}: missing from every emulator record")
        return
    if len(present) != len(values):
        problems.append(f"{path}: missing from some emulator records")
    if expected is None:
        return  # a null example says nothing about the type
    actual = {jtype(v) for v in present} - {None}
    if actual != {expected}:
        problems.append(f"{path}: example {expected}, emulator {sorted(map(str, actual))}")
        return
    if expected == "object":
        for key, sub in example.items():
            if key.startswith("@odata.") or (name, f"{path}/{key}".lstrip("/")) in QUIRKS:
                continue
            compare(sub, [v.get(key, _ABSENT) for v in present if v is not None],
                    f"{path}/{key}", problems, name)
    elif expected == "array" and example:
        items = [item for v in present for item in v]
        if not items:
            problems.append(f"{path}: emulator lists are always empty")
            return
        compare(example[0], items, f"{path}[]", problems, name)


_ABSENT = object()


def load(name: str) -> dict[str, Any]:
    base = reference_dir() / "graph_examples"
    normalized = base / f"{name}.normalized.json"
    return json.loads((normalized if normalized.exists() else base / f"{name}.json").read_text())


def test_examples_are_all_covered():
    files = {p.name.split(".")[0] for p in (reference_dir() / "graph_examples").glob("*.json")}
    assert files == {name for name, _, _ in EXAMPLES}


@pytest.mark.parametrize("name,version,path", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_example_shape(client, name, version, path):
    example = load(name)
    items = example["value"] if isinstance(example["value"], list) else [example["value"]]
    if "{uid}" in path:
        records = []
        for user in client.truth("riskyUsers", select="id"):
            records += client.all_pages(path.format(uid=user["id"]))
    else:
        records = client.all_pages(path, query={"$top": 1000 if "signIns" in path else 500})
    assert records
    prefer = client.get(path.format(uid=client.truth("riskyUsers", select="id")[0]["id"]),
                        headers={"Prefer": "include-unknown-enum-members"})
    assert prefer.status_code == 200
    problems: list[str] = []
    for item in items:
        for key, value in item.items():
            if key.startswith("@odata.") or (name, key) in QUIRKS:
                continue
            compare(value, [r.get(key, _ABSENT) for r in records], key, problems, name)
    assert not problems, f"{name}: " + "; ".join(sorted(set(problems)))


def test_quirks_are_real():
    """Each skipped property really is odd in its example (so the skip list stays honest)."""
    history3 = load("riskyUser_history_3")
    assert isinstance(history3["value"], dict) and "isGuest" in history3["value"]
    beta_signin = load("signIns_list_3")["value"][0]
    assert beta_signin["authenticationAppDeviceDetails"] == []


def test_reference_dir_is_beside_the_repo():
    assert Path(reference_dir(), "graph-api-facts.md").exists()
