"""The map and fetch verbs: field mappings applied to saved responses and to live fetches."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT

EXAMPLES = ROOT / "tests" / "mapping" / "graph_examples"


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "connector.py"), *args], input=stdin,
                          capture_output=True, text=True, timeout=120)


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_map_a_bare_graph_response_with_an_event_type() -> None:
    run = _cli("map", "--event-type", "Sign-in Logs",
               stdin=(EXAMPLES / "signIns_list_1.normalized.json").read_text())
    assert run.returncode == 0, run.stderr
    (event,) = _lines(run.stdout)
    assert event["event_type"] == "signIn"
    fields = event["fields"]
    assert fields["City"] == "Redmond"
    assert fields["Unique_Event_Key"] == "66ea54eb-6301-4ee5-be62-ff5a759b0100"
    assert fields["Conditional_Access_Policy_Names"] == [
        "SharePoint limited access for guest workers", "Medium signin risk block"]
    assert fields["Status"] == "Success"
    assert fields["Source_IP_address"] == "131.107.159.37"


def test_map_risk_detections_applies_the_specific_source_over_default() -> None:
    run = _cli("map", "--event-type", "riskDetection",
               stdin=(EXAMPLES / "riskDetections_list_1.json").read_text())
    (event,) = _lines(run.stdout)
    assert event["event_type"] == "riskDetection"
    assert event["fields"]["Severity"] == "medium"
    assert event["fields"]["Event_Type"] == "unfamiliarFeatures"
    assert event["fields"]["Start_Time"] == "2018-09-05T00:11:27.773602Z"  # detectedDateTime


def test_map_a_saved_fetch_result_gives_the_result_events() -> None:
    saved = (ROOT / "sample_outputs" / "fetch-event.json").read_text()
    run = _cli("map", stdin=saved)
    assert _lines(run.stdout) == json.loads(saved)["events"]


def test_map_with_a_users_overrides_file(tmp_path: Path) -> None:
    overrides = tmp_path / "mine.yaml"
    overrides.write_text(yaml.safe_dump({"default": {
        "add": [{"name": "Risk Score", "path": ".riskLevelAggregated"}],
        "remove": ["Browser"]}}))
    run = _cli("map", "--mappings", str(overrides), "--event-type", "signIn",
               stdin=(EXAMPLES / "signIns_list_1.normalized.json").read_text())
    (event,) = _lines(run.stdout)
    assert event["fields"]["__Risk_Score"] == "none"
    assert "Browser" not in event["fields"]


def test_map_refuses_a_broken_overrides_file_naming_it(tmp_path: Path) -> None:
    overrides = tmp_path / "broken.yaml"
    overrides.write_text(yaml.safe_dump({"default": {"remove": ["No Such Field"]}}))
    run = _cli("map", "--mappings", str(overrides), stdin='{"value": []}')
    assert run.returncode == 2
    assert "broken.yaml" in run.stdout and "No Such Field" in run.stdout


def test_map_refuses_input_that_is_not_json() -> None:
    run = _cli("map", stdin="not json")
    assert run.returncode == 2
    assert "not JSON" in run.stdout and "Traceback" not in run.stderr


def test_fetch_prints_one_mapped_event_per_line(emulator: Any, tmp_path: Path) -> None:
    path = tmp_path / "connection.yaml"
    path.write_text(yaml.safe_dump(emulator.connection()))
    run = _cli("fetch", "-i", "Event Type=Risk Detections", "-i", "Start Time=2026-01-01",
               "-i", "Number of Event(s) Fetched=4", "--connection", str(path))
    assert run.returncode == 0, run.stdout
    events = _lines(run.stdout)
    assert len(events) == 4
    assert {e["event_type"] for e in events} == {"riskDetection"}
    assert all("Unique_Event_Key" in e["fields"] and "Severity" in e["fields"] for e in events)


def test_fetch_refuses_broken_overrides_before_any_request(emulator: Any, control: Any,
                                                           tmp_path: Path) -> None:
    path = tmp_path / "connection.yaml"
    path.write_text(yaml.safe_dump(emulator.connection()))
    overrides = tmp_path / "mine.yaml"
    overrides.write_text("default: {add: [{name: Broken, path: '.a[?(@.b'}]}\n")
    control.clear_requests()
    run = _cli("fetch", "--mappings", str(overrides), "--connection", str(path))
    assert run.returncode == 2
    assert "mine.yaml" in run.stdout and "Broken" in run.stdout
    assert control.graph_requests() == []
