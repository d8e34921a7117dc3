"""Fetch Event: every input in one $filter, quoted and escaped; newest first; eventType set."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import manifest_facts as facts
from tests.commands.support import graph_calls, run_cli

START, END = "2026-11-20T00:00:00Z", "2026-11-27T00:00:00Z"


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_sign_in_inputs_become_one_filter(connector: Any, emulator: Any, control: Any) -> None:
    quoted_user = next(s["userPrincipalName"] for s in control.records("signIns")
                       if "'" in s["userPrincipalName"])
    control.clear_requests()
    result = connector.run("Fetch Event", {
        "Start Time": "11/20/2026 12:00 AM", "End Time": END,
        "User Principal Names": [quoted_user, "nobody@contoso.onmicrosoft.com"],
        "Risk Detail": "None", "Risk State": "none",
        "Filter": "appDisplayName eq 'Microsoft Teams' or status/errorCode eq 50126"},
        emulator.connection())
    assert result["status"] == "Successful", result["errors"]
    (call,) = graph_calls(control, "/auditLogs/signIns")
    escaped = quoted_user.replace("'", "''")
    assert call["params"] == {
        "$filter": "createdDateTime ge 2026-11-20T00:00:00Z and createdDateTime le "
                   f"2026-11-27T00:00:00Z and (userPrincipalName eq '{escaped}' or "
                   "userPrincipalName eq 'nobody@contoso.onmicrosoft.com') and riskDetail eq "
                   "'none' and riskState eq 'none' and (appDisplayName eq 'Microsoft Teams' or "
                   "status/errorCode eq 50126)",
        "$orderby": "createdDateTime desc",
        "$top": str(facts.event_types()["signIn"]["page_size"]),
    }
    expected = [s for s in control.records("signIns")
                if START <= s["createdDateTime"] <= END and s["userPrincipalName"] == quoted_user
                and s["riskDetail"] == "none" and s["riskState"] == "none"
                and (s["appDisplayName"] == "Microsoft Teams" or s["status"]["errorCode"] == 50126)]
    events = result["raw_data"]["value"]
    assert {e["id"] for e in events} == {s["id"] for s in expected}
    assert all(e["eventType"] == "signIn" for e in events)
    created = [e["createdDateTime"] for e in events]
    assert created == sorted(created, reverse=True)


def test_number_of_events_returns_the_most_recent(connector: Any, emulator: Any,
                                                  control: Any) -> None:
    window = [s for s in control.records("signIns") if START <= s["createdDateTime"] <= END]
    newest = sorted(window, key=lambda s: (s["createdDateTime"], s["id"]), reverse=True)[:7]
    control.clear_requests()
    result = connector.run("Fetch Event", {"Start Time": START, "End Time": END,
                                           "Number of Event(s) Fetched": "7"},
                           emulator.connection())
    assert [e["id"] for e in result["raw_data"]["value"]] == [s["id"] for s in newest]
    (call,) = graph_calls(control, "/auditLogs/signIns")
    assert call["params"]["$top"] == "7"


def test_risk_detections_are_windowed_on_last_update(connector: Any, emulator: Any,
                                                     control: Any) -> None:
    control.clear_requests()
    result = connector.run("Fetch Event", {
        "Event Type": "Risk Detections", "Start Time": "2026-10-01T00:00:00Z",
        "End Time": END, "Risk Level": "Medium", "Risk Event Type": "Unfamiliar Features",
        "Risk State": "At Risk"}, emulator.connection())
    assert result["status"] == "Successful", result["errors"]
    (call,) = graph_calls(control, "/identityProtection/riskDetections")
    assert call["params"] == {
        "$filter": "lastUpdatedDateTime ge 2026-10-01T00:00:00Z and lastUpdatedDateTime le "
                   "2026-11-27T00:00:00Z and riskState eq 'atRisk' and riskLevel eq 'medium' "
                   "and riskEventType eq 'unfamiliarFeatures'",
        "$top": str(facts.event_types()["riskDetection"]["page_size"]),
    }  # no $orderby: Graph documents none for risk detections
    expected = {d["id"] for d in control.records("riskDetections")
                if "2026-10-01T00:00:00Z" <= d["lastUpdatedDateTime"] <= END
                and d["riskLevel"] == "medium" and d["riskState"] == "atRisk"
                and d["riskEventType"] == "unfamiliarFeatures"}
    assert {e["id"] for e in result["raw_data"]["value"]} == expected
    assert all(e["eventType"] == "riskDetection" for e in result["raw_data"]["value"])


def test_risky_users_through_the_command_line(emulator: Any, control: Any,
                                              tmp_path: Path) -> None:
    control.clear_requests()
    code, result, _ = run_cli(emulator.connection(), tmp_path, "run", "Fetch Event",
                              "-i", "Event Type=Risk Users", "-i", "Start Time=2026-01-01",
                              "-i", "Risk Level=high")
    assert code == 0
    (call,) = graph_calls(control, "/identityProtection/riskyUsers")
    assert call["params"]["$filter"].startswith(
        "riskLastUpdatedDateTime ge 2026-01-01T00:00:00Z and riskLastUpdatedDateTime le ")
    assert call["params"]["$filter"].endswith(" and riskLevel eq 'high'")
    assert "$orderby" not in call["params"]
    expected = {u["id"] for u in control.records("riskyUsers") if u["riskLevel"] == "high"}
    assert {e["id"] for e in result["raw_data"]["value"]} == expected
    assert {e["eventType"] for e in result["raw_data"]["value"]} <= {"riskUser"}
    updated = [_moment(e["riskLastUpdatedDateTime"]) for e in result["raw_data"]["value"]]
    assert updated == sorted(updated, reverse=True)  # sorted here, newest first


def test_default_window_is_the_last_24_hours(connector: Any, emulator: Any,
                                             control: Any) -> None:
    control.clear_requests()
    connector.run("Fetch Event", {}, emulator.connection())
    (call,) = graph_calls(control, "/auditLogs/signIns")
    clauses = call["params"]["$filter"].split(" and ")
    start = datetime.fromisoformat(clauses[0].removeprefix("createdDateTime ge "))
    end = datetime.fromisoformat(clauses[1].removeprefix("createdDateTime le "))
    assert end - start == timedelta(hours=24)
    assert abs(datetime.now(end.tzinfo) - end) < timedelta(minutes=5)


def test_a_quote_in_a_user_principal_name_cannot_change_the_query(connector: Any,
                                                                  emulator: Any,
                                                                  control: Any) -> None:
    control.clear_requests()
    sneaky = "x'or'1'eq'1@contoso.onmicrosoft.com"
    result = connector.run("Fetch Event", {"Start Time": START, "End Time": END,
                                           "User Principal Names": sneaky},
                           emulator.connection())
    assert result["status"] == "Successful"
    assert result["raw_data"]["value"] == []  # one literal that no user has
    (call,) = graph_calls(control, "/auditLogs/signIns")
    assert "userPrincipalName eq 'x''or''1''eq''1@contoso.onmicrosoft.com'" in (
        call["params"]["$filter"])


def test_a_filter_that_escapes_its_parentheses_is_refused(connector: Any, emulator: Any,
                                                          control: Any) -> None:
    control.clear_requests()
    result = connector.run("Fetch Event", {
        "Filter": "appId eq 'a') or (appId ne 'a'"}, emulator.connection())
    assert result["status"] == "Failed"
    assert "Invalid input 'Filter'" in result["errors"][0]["message"]
    assert control.graph_requests() == []


def test_beta_adds_the_beta_only_fields(connector: Any, emulator: Any) -> None:
    result = connector.run("Fetch Event", {"Start Time": START, "End Time": END,
                                           "Number of Event(s) Fetched": 3},
                           {**emulator.connection(), "api_version": "beta"})
    events = result["raw_data"]["value"]
    assert len(events) == 3
    assert all("networkLocationDetails" in e and "signInEventTypes" in e for e in events)


def test_number_of_risk_detections_keeps_the_most_recent_of_the_whole_window(
        connector: Any, emulator: Any, control: Any) -> None:
    window = [d for d in control.records("riskDetections")
              if "2026-10-01T00:00:00Z" <= d["lastUpdatedDateTime"] <= END]
    newest = sorted(window, key=lambda d: (_moment(d["lastUpdatedDateTime"]), d["id"]),
                    reverse=True)[:4]
    control.clear_requests()
    result = connector.run("Fetch Event", {"Event Type": "Risk Detections",
                                           "Start Time": "2026-10-01T00:00:00Z",
                                           "End Time": END, "Number of Event(s) Fetched": 4},
                           emulator.connection())
    assert [e["id"] for e in result["raw_data"]["value"]] == [d["id"] for d in newest]
    calls = graph_calls(control, "/identityProtection/riskDetections")
    assert all("$orderby" not in c["params"] for c in calls)


SERVICE_PRINCIPAL_TYPES = sorted(value for value, resource in facts.event_types().items()
                                 if "ServicePrincipal" in resource["item_type"]
                                 or "servicePrincipal" in resource["item_type"])


@pytest.mark.parametrize("event_type", SERVICE_PRINCIPAL_TYPES)
def test_service_principal_event_types_equal_the_ground_truth_and_map(
        event_type: str, connector: Any, emulator: Any, control: Any) -> None:
    """Each service-principal event type reads its own resource, windowed on its cursor."""
    resource = facts.event_types()[event_type]
    cursor = resource["cursor"]
    start = "2026-01-01T00:00:00Z"
    truth = [r for r in control.records(resource["id"], version="v1.0")
             if start <= r[cursor] <= END]
    assert truth, f"no {resource['id']} in the window"
    newest = sorted(truth, key=lambda r: (_moment(r[cursor]), r["id"]), reverse=True)[:5]
    control.clear_requests()
    result = connector.run("Fetch Event", {"Event Type": event_type, "Start Time": start,
                                           "End Time": END, "Number of Event(s) Fetched": 5},
                           emulator.connection())
    assert result["status"] == result["return_data"] == "Successful", result["errors"]
    assert [e["id"] for e in result["raw_data"]["value"]] == [r["id"] for r in newest]
    (call,) = graph_calls(control, "/" + resource["path"])
    assert call["params"]["$filter"] == f"{cursor} ge {start} and {cursor} le {END}"
    assert "$orderby" not in call["params"]
    assert [e["event_type"] for e in result["events"]] == [event_type] * len(newest)
    assert [e["fields"]["Unique_Event_Key"] for e in result["events"]] == [
        r["id"] for r in newest]
    assert result["key_fields"] == {"count": len(newest), "event_type": event_type}


def test_user_principal_names_do_not_apply_to_service_principals(connector: Any,
                                                                 emulator: Any,
                                                                 control: Any) -> None:
    control.clear_requests()
    result = connector.plugin.run("Fetch Event", {"Event Type": "Risky Service Principals",
                                                  "User Principal Names": "a@contoso.com"},
                                  emulator.connection())
    assert result.exit_code == 2
    assert "User Principal Names" in result.errors[0].message
    assert ("applies only when Event Type is one of Sign-in Logs, Risk Detections, Risk Users "
            "(it is Risky Service Principals)") in result.errors[0].message
    assert control.graph_requests() == []


def test_inputs_that_do_not_apply_are_ignored_with_a_warning(emulator: Any, control: Any,
                                                             tmp_path: Any) -> None:
    from tests.commands.support import graph_calls, run_cli

    control.clear_requests()
    code, result, stderr = run_cli(emulator.connection(), tmp_path, "run", "Fetch Event",
                                   "-i", "Event Type=Sign-in Logs", "-i", "Risk Level=High",
                                   "-i", "Risk Event Type=Unlikely Travel",
                                   "-i", "Number of Event(s) Fetched=2")
    assert code == 0 and result["status"] == "Successful", result["errors"]
    warnings = result["warnings"]
    assert len(warnings) == 2
    assert {w.split("'")[1] for w in warnings} == {"Risk Level", "Risk Event Type"}
    assert all("ignored" in w and "Sign-in Logs" in w for w in warnings)
    assert all(w in stderr for w in warnings)
    (call,) = graph_calls(control, "/auditLogs/signIns")
    assert "riskLevel" not in call["params"]["$filter"]
    assert "riskEventType" not in call["params"]["$filter"]


def test_risk_event_type_takes_a_value_graph_may_add(connector: Any, emulator: Any,
                                                     control: Any) -> None:
    from tests.commands.support import graph_calls

    control.clear_requests()
    result = connector.run("Fetch Event", {"Event Type": "Risk Detections",
                                           "Risk Event Type": "brandNewDetection2027"},
                           emulator.connection())
    assert result["status"] == "Successful", result["errors"]
    assert "warnings" not in result
    (call,) = graph_calls(control, "/identityProtection/riskDetections")
    assert "riskEventType eq 'brandNewDetection2027'" in call["params"]["$filter"]
    known = connector.run("Fetch Event", {"Event Type": "Risk Detections",
                                          "Risk Event Type": "Unlikely Travel"},
                          emulator.connection())
    assert "riskEventType eq 'unlikelyTravel'" in known["context_data"]["filter"]

