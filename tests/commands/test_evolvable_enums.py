"""Enum members after unknownFutureValue arrive as themselves, and can be filtered on."""

from __future__ import annotations

from typing import Any


def test_evolvable_risk_detail_is_returned_and_filterable(connector: Any, emulator: Any,
                                                          control: Any) -> None:
    users = control.records("riskyUsers")
    target = users[-1]["id"]
    safe = connector.run("Confirm Safe", {"User IDs": target}, emulator.connection())
    assert safe["status"] == "Successful"
    result = connector.run("Fetch Event", {
        "Event Type": "Risk Users", "Start Time": "2026-01-01T00:00:00Z",
        "End Time": "2030-01-01T00:00:00Z",
        "Risk Detail": "Admin Confirmed Account Safe"}, emulator.connection())
    assert result["status"] == "Successful", result["errors"]
    found = {e["id"]: e["riskDetail"] for e in result["raw_data"]["value"]}
    assert found.get(target) == "adminConfirmedAccountSafe"
    assert set(found.values()) == {"adminConfirmedAccountSafe"}
