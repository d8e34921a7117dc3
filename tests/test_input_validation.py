"""Bad input is refused before any request: status Failed, exit 2, one line naming the input.

Each case runs the command against a live emulator connection and then checks the emulator's
request log: not a single request (token or Graph) may have been made.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from typing import Any

import pytest

from tests.conftest import ROOT

GUID = "29f270bb-4d23-4f68-8a57-dc73dc0d4caf"

# (command, inputs, the input the error must name, a fragment the message must contain)
BAD_INPUTS: list[tuple[str, dict[str, Any], str, str]] = [
    # missing required inputs
    ("Confirm Compromised", {}, "User IDs", "is required"),
    ("Dismiss Risky User", {"User IDs": ""}, "User IDs", "is required"),
    ("List History", {}, "Risky User ID", "is required"),
    ("Dismiss Risky User", {"User IDs": "[]"}, "User IDs", "is empty"),
    # Top: not a positive integer, or above the endpoint's maximum
    ("List Risky Users", {"Top": "abc"}, "Top", "not a whole number"),
    ("List Risky Users", {"Top": "0"}, "Top", "between 1 and 500"),
    ("List Risky Users", {"Top": "-3"}, "Top", "not a whole number"),
    ("List Risky Users", {"Top": "501"}, "Top", "between 1 and 500"),
    ("List Risk Detections", {"Top": 501}, "Top", "between 1 and 500"),
    ("List History", {"Risky User ID": GUID, "Top": "1.5"}, "Top", "not a whole number"),
    ("List Sign-In", {"Top": "1001"}, "Top", "between 1 and 1000"),
    ("List Sign-In", {"top": True}, "Top", "not a whole number"),
    # Number of Event(s) Fetched outside 1..100
    ("Fetch Event", {"Number of Event(s) Fetched": "0"}, "Number of Event(s) Fetched",
     "between 1 and 100"),
    ("Fetch Event", {"Number of Event(s) Fetched": "101"}, "Number of Event(s) Fetched",
     "between 1 and 100"),
    ("Fetch Event", {"number_of_events_fetched": "ten"}, "Number of Event(s) Fetched",
     "not a whole number"),
    # unknown enumerated values
    ("Fetch Event", {"Event Type": "Audit Logs"}, "Event Type", "Sign-in Logs"),
    ("Fetch Event", {"Event Type": "Risk Users", "Risk State": "Pending"}, "Risk State",
     "At Risk"),
    ("Fetch Event", {"Event Type": "Risk Users", "Risk Level": "Severe"}, "Risk Level",
     "Medium"),
    ("Fetch Event", {"Risk Detail": "Password Reset By Admin"}, "Risk Detail",
     "Admin Generated Temporary Password"),
    ("Fetch Event", {"Event Type": "Risk Detections", "Risk Event Type": "Alien Travel!"},
     "Risk Event Type", "a risk event type such as unfamiliarFeatures"),
    ("Fetch Event", {"Event Type": "unknownFutureValue"}, "Event Type", "Risk Users"),
    # dates
    ("Fetch Event", {"Start Time": "04/16/2024 01:00 AM", "End Time": "04/15/2024 01:00 AM"},
     "Start Time", "is after End Time"),
    ("Fetch Event", {"Start Time": "yesterday"}, "Start Time", "not a date"),
    ("Fetch Event", {"End Time": "13/45/2024 01:00 AM"}, "End Time", "not a date"),
    ("Fetch Event", {"End Time": "2024-02-30T00:00:00Z"}, "End Time", "not a date"),
    ("Fetch Event", {"Start Time": "2999-01-01T00:00:00Z"}, "Start Time", "is after End Time"),
    # Select: properties the resource does not have
    ("List Risky Users", {"Select": "id,riskScore"}, "Select", "'riskScore' is not one of"),
    ("List Risk Detections", {"Select": "isDeleted"}, "Select", "'isDeleted' is not one of"),
    ("List Risk Detections", {"Select": "riskLastUpdatedDateTime"}, "Select", "is not one of"),
    ("List History", {"Risky User ID": GUID, "Select": "ipAddress"}, "Select", "is not one of"),
    ("List Sign-In", {"Select": '["id", "riskLevel"]'}, "Select", "'riskLevel' is not one of"),
    # User IDs and Risky User ID must be GUIDs
    ("Confirm Compromised", {"User IDs": "not-a-guid"}, "User IDs", "is not a GUID"),
    ("Confirm Compromised", {"User IDs": f'["{GUID}", "../me"]'}, "User IDs", "item 2"),
    ("Dismiss Risky User", {"User IDs": f"{GUID}, abc/history"}, "User IDs", "is not a GUID"),
    ("Dismiss Risky User", {"User IDs": '["unterminated'}, "User IDs", "not a valid JSON"),
    ("Dismiss Risky User", {"User IDs": '[["nested"]]'}, "User IDs", "items must be text"),
    ("List History", {"Risky User ID": "../../me"}, "Risky User ID", "is not a GUID"),
    ("List History", {"Risky User ID": "%2e%2e"}, "Risky User ID", "is not a GUID"),
    ("List History", {"Risky User ID": f"{GUID}/history"}, "Risky User ID", "is not a GUID"),
    ("List History", {"Risky User ID": f"{GUID}\x00"}, "Risky User ID", "control characters"),
    # Filter: not valid OData, or naming properties the resource lacks
    ("List Risky Users", {"Filter": "riskLevel eq"}, "Filter", "ends too early"),
    ("List Risky Users", {"Filter": "riskLevel = 'high'"}, "Filter", "not valid OData"),
    ("List Risky Users", {"Filter": "(riskLevel eq 'high'"}, "Filter", "not valid OData"),
    ("List Risky Users", {"Filter": "riskLevel eq 'high')) or (1 eq 1"}, "Filter",
     "not valid OData"),
    ("List Risky Users", {"Filter": "riskScore gt 5"}, "Filter", "'riskScore' is not a property"),
    ("List Sign-In", {"Filter": "status/foo eq 0"}, "Filter",
     "Graph does not filter signIn on 'status/foo'"),
    ("List Sign-In", {"Filter": "evil(appId)"}, "Filter", "unknown function"),
    # Filter: only the properties and operators Graph documents (the manifest's catalogue)
    ("List Sign-In", {"Filter": "appliedConditionalAccessPolicies/any(p: p/result eq 'failure')"},
     "Filter", "Graph does not filter signIn on 'appliedConditionalAccessPolicies'"),
    ("List Sign-In", {"Filter": "appId ne 'x'"}, "Filter",
     "'appId' does not support ne in Graph; allowed: eq"),
    ("List Sign-In", {"Filter": "createdDateTime gt 2024-01-01T00:00:00Z"}, "Filter",
     "'createdDateTime' does not support gt in Graph; allowed: eq, le, ge"),
    ("List Sign-In", {"Filter": "not (appId eq 'x')"}, "Filter", "'not' is not supported"),
    ("List Sign-In", {"Filter": "endsWith(userPrincipalName,'.com')"}, "Filter",
     "'userPrincipalName' does not support endsWith in Graph; allowed: eq, startsWith"),
    ("List Risky Users", {"Filter": "startsWith(userDisplayName,'A')"}, "Filter",
     "'userDisplayName' does not support startsWith in Graph; allowed: eq"),
    ("Fetch Event", {"End Time": "01/01/0001 12:00 AM"}, "End Time", "too far from today"),
    ("List Risk Detections", {"Filter": "riskEventType eq 'x' and"}, "Filter", "not valid OData"),
    ("Fetch Event", {"Event Type": "Risk Users", "Filter": "createdDateTime ge 2024-01-01"},
     "Filter", "not a property of riskyUser"),
    # other shapes
    ("Fetch Event", {"User Principal Names": "not an upn"}, "User Principal Names",
     "user principal name"),
    ("Fetch Event", {"Colour": "blue"}, "Colour", "is not an input of Fetch Event"),
    ("List Risky Users", {"Top": "5", "top": "6"}, "Top", "is given twice"),
    ("Nonexistent Command", {}, "Nonexistent Command", "unknown command"),
]


@pytest.mark.parametrize(("command", "inputs", "named", "fragment"), BAD_INPUTS,
                         ids=[f"{c}:{n}:{f[:20]}" for c, _, n, f in BAD_INPUTS])
def test_bad_input_is_refused_without_a_request(connector: Any, connection: dict[str, Any],
                                                 control: Any, command: str,
                                                 inputs: dict[str, Any], named: str,
                                                 fragment: str) -> None:
    control.clear_requests()
    result = connector.plugin.run(command, inputs, connection)
    body = result.to_dict()
    assert result.exit_code == 2
    assert body["status"] == "Failed"
    (error,) = body["errors"]
    assert f"'{named}'" in error["message"]
    assert fragment in error["message"]
    assert "\n" not in error["message"] and "Traceback" not in error["message"]
    assert control.graph_requests() == []


def test_the_command_line_reports_bad_input_with_exit_code_2(emulator: Any, control: Any,
                                                             tmp_path: Any) -> None:
    import yaml

    connection_file = tmp_path / "connection.yaml"
    connection_file.write_text(yaml.safe_dump(emulator.connection()))
    control.clear_requests()
    run = subprocess.run(
        [sys.executable, str(ROOT / "connector.py"), "run", "List Risky Users", "-i", "Top=999",
         "--connection", str(connection_file)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert '"status": "Failed"' in run.stdout
    assert "Invalid input 'Top'" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    assert control.graph_requests() == []


GOOD_INPUTS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("Fetch Event", {"Event Type": "Risk Users", "Risk State": "At Risk", "Risk Level": "high"},
     {"event_type": "riskUser", "risk_state": "atRisk", "risk_level": "high"}),
    ("Fetch Event", {"event_type": "riskDetection", "Risk Event Type": "User reported "
                     "suspicious activity", "Risk Detail": "Admin Generated Temporary Password"},
     {"risk_event_type": "userReportedSuspiciousActivity",
      "risk_detail": "adminGeneratedTemporaryPassword"}),
    ("Fetch Event", {"Start Time": "04/15/2024 01:00 AM", "End Time": "2024-04-16T03:00:00+02:00"},
     {"start_time": "2024-04-15T01:00:00Z", "end_time": "2024-04-16T01:00:00Z"}),
    ("Fetch Event", {"End Time": "04/16/2024 01:00 PM"},
     {"start_time": "2024-04-15T13:00:00Z", "end_time": "2024-04-16T13:00:00Z",
      "event_type": "signIn"}),
    ("Fetch Event", {"User Principal Names": "[“a@contoso.com”, “o'brien@contoso.com”]"},
     {"user_principal_names": ["a@contoso.com", "o'brien@contoso.com"]}),
    ("Confirm Compromised", {"User IDs": f"{GUID}, {GUID.upper()},{GUID}"},
     {"user_ids": [GUID]}),
    ("List Risky Users", {"Top": " 7 ", "Select": "id, riskLevel",
                          "Filter": "riskLevel eq microsoft.graph.riskLevel'high'"},
     {"top": 7, "select": ["id", "riskLevel"]}),
    ("Fetch Event", {"End Time": datetime(2026, 1, 1, 12, 0)},  # naive: UTC, not local time
     {"end_time": "2026-01-01T12:00:00Z", "start_time": "2025-12-31T12:00:00Z"}),
    ("List Sign-In", {"Filter": "createdDateTime ge 2024-01-01T00:00:00Z and "
                                "2024-01-02T00:00:00Z ge createdDateTime"},
     {"filter": "createdDateTime ge 2024-01-01T00:00:00Z and "
                "2024-01-02T00:00:00Z ge createdDateTime"}),
    ("List Sign-In", {"Filter": "startsWith(appDisplayName,'Graph') and status/errorCode eq 0 "
                                "and riskEventTypes_v2/any(t: t eq 'unfamiliarFeatures')"},
     {"filter": "startsWith(appDisplayName,'Graph') and status/errorCode eq 0 "
                "and riskEventTypes_v2/any(t: t eq 'unfamiliarFeatures')"}),
]


@pytest.mark.parametrize(("command", "inputs", "expected"), GOOD_INPUTS)
def test_inputs_are_normalised_as_users_type_them(connector: Any, command: str,
                                                  inputs: dict[str, Any],
                                                  expected: dict[str, Any]) -> None:
    spec = connector.plugin.manifest.command_named(command)
    values = connector.plugin.validator(spec).validate(inputs)
    for key, value in expected.items():
        assert values[key] == value


def test_inputs_that_are_not_a_mapping_are_refused(connector: Any, connection: dict[str, Any],
                                                   control: Any) -> None:
    control.clear_requests()
    result = connector.plugin.run("List Risky Users", ["Top=1"], connection)
    assert result.exit_code == 2
    assert "must each be a mapping" in result.errors[0].message
    assert control.graph_requests() == []


def test_every_shipped_filter_example_uses_only_documented_operators(connector: Any) -> None:
    """The manifest's Filter examples and sample inputs are filters Graph accepts."""
    checked = 0
    for command in connector.plugin.manifest.commands:
        spec = command.input_named("filter")
        if spec is None:
            continue
        examples = [spec.example] + [s["Filter"] for s in command.sample_inputs if "Filter" in s]
        for example in examples:
            inputs: dict[str, Any] = {"Filter": example}
            for required in (s for s in command.inputs if s.required):
                inputs[required.display_name] = "29f270bb-4d23-4f68-8a57-dc73dc0d4caf"
            assert connector.plugin.validator(command).validate(inputs)["filter"] == example
            checked += 1
    assert checked >= len([c for c in connector.plugin.manifest.commands
                           if c.input_named("filter")])
