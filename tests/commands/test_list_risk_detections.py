"""List Risk Detections: the riskDetection collection, Filter/Select/Top as the user gave them."""

from __future__ import annotations

from typing import Any

from tests.commands.support import graph_calls

PATH = "/v1.0/identityProtection/riskDetections"


def test_every_detection_once_without_top(connector: Any, emulator: Any, control: Any) -> None:
    truth = {d["id"] for d in control.records("riskDetections")}
    result = connector.run("List Risk Detections", {}, emulator.connection())
    ids = [d["id"] for d in result["raw_data"]["value"]]
    assert len(ids) == len(set(ids)) and set(ids) == truth


def test_select_uses_the_real_risk_detection_properties(connector: Any, emulator: Any,
                                                        control: Any) -> None:
    control.clear_requests()
    select = "id,riskEventType,detectionTimingType,ipAddress"
    result = connector.run("List Risk Detections", {"Select": select, "Top": 4,
                                                    "Filter": "detectionTimingType eq 'offline'"},
                           emulator.connection())
    assert result["status"] == "Successful"
    assert len(result["raw_data"]["value"]) == 4
    assert all(set(d) == set(select.split(",")) for d in result["raw_data"]["value"])
    assert all(d["detectionTimingType"] == "offline" for d in result["raw_data"]["value"])
    (call,) = graph_calls(control, PATH)
    assert call["params"] == {"$top": "4", "$select": select,
                              "$filter": "detectionTimingType eq 'offline'"}


def test_read_only_app_may_list_but_an_app_without_roles_may_not(connector: Any,
                                                                  emulator: Any) -> None:
    ok = connector.run("List Risk Detections", {"Top": 1}, emulator.connection(app="readonly"))
    assert ok["status"] == "Successful"
    denied = connector.run("List Risk Detections", {"Top": 1}, emulator.connection(app="none"))
    assert denied["errors"][0]["status_code"] == 403
    assert "IdentityRiskEvent.Read.All" in denied["errors"][0]["message"]
