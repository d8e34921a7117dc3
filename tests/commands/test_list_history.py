"""List History: one risky user's history, by a GUID that is URL-safe by construction."""

from __future__ import annotations

from typing import Any

from tests.commands.support import graph_calls


def test_history_of_a_risky_user_equals_the_ground_truth(connector: Any, emulator: Any,
                                                         control: Any) -> None:
    history = control.records("history")
    user_id = history[0]["userId"]
    expected = {h["id"] for h in history if h["userId"] == user_id}
    control.clear_requests()
    result = connector.run("List History", {"Risky User ID": user_id.upper()},
                           emulator.connection())
    assert result["status"] == "Successful"
    assert {h["id"] for h in result["raw_data"]["value"]} == expected
    (call,) = graph_calls(control, "/history")
    assert call["path"] == f"/v1.0/identityProtection/riskyUsers/{user_id}/history"
    assert "$top" not in call["params"]  # Graph documents no $top here: sent only for Top


def test_top_and_filter_apply_to_the_history(connector: Any, emulator: Any,
                                             control: Any) -> None:
    history = control.records("history")
    user_id = history[0]["userId"]
    control.clear_requests()
    result = connector.run("List History", {"Risky User ID": user_id, "Top": "1",
                                            "Filter": "riskLevel eq 'medium'"},
                           emulator.connection())
    assert len(result["raw_data"]["value"]) <= 1
    (call,) = graph_calls(control, "/history")
    assert call["params"] == {"$top": "1", "$filter": "riskLevel eq 'medium'"}


def test_unknown_user_fails_with_graphs_status_and_message(connector: Any,
                                                           emulator: Any) -> None:
    result = connector.run("List History",
                           {"Risky User ID": "00000000-0000-4000-8000-000000000000"},
                           emulator.connection())
    assert result["status"] == "Failed"
    (error,) = result["errors"]
    assert error["failure_indicator"] == "List History failed."
    assert error["status_code"] == 404
    assert error["message"]
