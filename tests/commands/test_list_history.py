"""The history commands (List History, List Risky Service Principal History): one item's
history, by a GUID that is URL-safe by construction; commands and paths from the manifest."""

from __future__ import annotations

from typing import Any

import pytest

from tests import manifest_facts as facts
from tests.commands.support import graph_calls

EMULATOR = {"riskyUserHistory": ("history", "userId"),
            "riskyServicePrincipalHistory": ("servicePrincipalHistory", "servicePrincipalId")}
"""The emulator's control-API name of each history resource, and the item's parent-id field."""
HISTORY = sorted(name for name in facts.list_commands()
                 if "{" in facts.resource_of(name)["path"])


def _id_input(name: str) -> str:
    return facts.commands()[name]["inputs"][0]["display_name"]


def _truth(name: str, control: Any) -> tuple[str, list[dict[str, Any]]]:
    records, parent_key = EMULATOR[facts.resource_of(name)["id"]]
    history = control.records(records, version="v1.0")
    parent = history[0][parent_key]
    return parent, [h for h in history if h[parent_key] == parent]


def test_every_history_command_is_covered() -> None:
    assert {facts.resource_of(name)["id"] for name in HISTORY} == set(EMULATOR)


@pytest.mark.parametrize("name", HISTORY)
def test_history_equals_the_ground_truth_without_top(name: str, connector: Any, emulator: Any,
                                                     control: Any) -> None:
    parent, expected = _truth(name, control)
    control.clear_requests()
    result = connector.run(name, {_id_input(name): parent.upper()}, emulator.connection())
    assert result["status"] == result["return_data"] == "Successful"
    assert {h["id"] for h in result["raw_data"]["value"]} == {h["id"] for h in expected}
    (call,) = graph_calls(control, "/history")
    path = facts.resource_of(name)["path"].replace("{id}", parent)
    assert call["path"] == f"/v1.0/{path}"
    assert "$top" not in call["params"]  # Graph documents no $top here: sent only for Top


@pytest.mark.parametrize("name", HISTORY)
def test_top_and_filter_apply_to_the_history(name: str, connector: Any, emulator: Any,
                                             control: Any) -> None:
    parent, _ = _truth(name, control)
    control.clear_requests()
    result = connector.run(name, {_id_input(name): parent, "Top": "1",
                                  "Filter": "riskLevel eq 'medium'"}, emulator.connection())
    assert result["status"] == "Successful", result["errors"]
    assert len(result["raw_data"]["value"]) <= 1
    (call,) = graph_calls(control, "/history")
    assert call["params"] == {"$top": "1", "$filter": "riskLevel eq 'medium'"}


@pytest.mark.parametrize("name", HISTORY)
def test_unknown_parent_fails_with_graphs_status_and_message(name: str, connector: Any,
                                                             emulator: Any) -> None:
    result = connector.run(name, {_id_input(name): "00000000-0000-4000-8000-000000000000"},
                           emulator.connection())
    assert result["status"] == "Failed"
    (error,) = result["errors"]
    assert error["failure_indicator"] == facts.commands()[name]["failure_indicator"]
    assert error["status_code"] == 404
    assert error["message"]
