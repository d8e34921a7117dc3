"""The field-mapping playground in a real browser: map a pasted response, add and remove
fields, download the overrides file the CLI's --mappings takes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.console.conftest import ConsoleSession
from tests.control import EmulatorControl


def _values(page: Any, system_name: str) -> list[str]:
    cells = page.locator(f"tr[data-system-name='{system_name}'] td")
    return cells.all_inner_texts()[5:]  # after x, name, system name, path, coverage


def _paste_and_map(page: Any, console: ConsoleSession, document: dict[str, Any],
                   source: str) -> None:
    page.goto(f"{console.base}/playground")
    page.select_option("#source", source)
    page.fill("#document", json.dumps(document))
    page.click("#map")
    page.wait_for_selector("#mapping-summary")


def test_a_pasted_response_is_mapped_and_an_added_field_appears(
        page: Any, console: ConsoleSession, control: EmulatorControl, tmp_path: Path) -> None:
    detections = control.records("riskDetections")[:6]
    document = {"value": detections}
    _paste_and_map(page, console, document, "risk_detection")
    assert page.inner_text("#mapping-summary").startswith(f"{len(detections)} events")
    assert _values(page, "Severity") == [d["riskLevel"] for d in detections]
    coverage = page.inner_text("tr[data-system-name='Severity'] td.coverage")
    assert coverage.strip() == f"{len(detections)}/{len(detections)}"

    page.fill("#new-name", "Risk Score")
    expect(page.locator("#new-system-name")).to_have_text("__Risk_Score")
    page.fill("#new-path", ".riskEventType")
    page.click("#add-field")
    added = page.locator("tr[data-system-name='__Risk_Score']")
    added.wait_for()
    assert _values(page, "__Risk_Score") == [d["riskEventType"] for d in detections]
    assert "Risk Score" in page.inner_text("#overrides-yaml")

    removed = "Detection Timing Type"
    page.click(f"tr:has(td:text-is('{removed}')) button.remove-field")
    page.locator(f"tr:has(td:text-is('{removed}'))").wait_for(state="detached")
    assert "__Risk_Score" in page.inner_text("#mapping")

    with page.expect_download() as download:
        page.click("#download")
    saved = tmp_path / "mappings.yaml"
    download.value.save_as(saved)
    assert yaml.safe_load(saved.read_text()) == {"risk_detection": {
        "add": [{"name": "Risk Score", "path": ".riskEventType"}], "remove": [removed]}}

    mapped = subprocess.run(
        [sys.executable, str(ROOT / "connector.py"), "map", "--mappings", str(saved),
         "--event-type", "riskDetection"], input=json.dumps(document), capture_output=True,
        text=True, check=True, cwd=ROOT)
    events = [json.loads(line)["fields"] for line in mapped.stdout.splitlines()]
    assert [e["__Risk_Score"] for e in events] == [d["riskEventType"] for d in detections]
    assert all(removed.replace(" ", "_") not in e for e in events)


def test_a_broken_path_is_reported_and_the_rest_still_maps(page: Any,
                                                           console: ConsoleSession) -> None:
    document = {"value": [{"id": "a", "createdDateTime": "2026-11-01T00:00:00Z"}]}
    _paste_and_map(page, console, document, "default")
    page.fill("#new-name", "Broken")
    page.fill("#new-path", ".a[?(")
    page.click("#add-field")
    page.wait_for_selector("ul.problems")
    assert "Broken" in page.inner_text("ul.problems")
    assert page.locator("tr[data-system-name='__Broken']").count() == 0
    assert page.inner_text("#mapping-summary").startswith("1 events")


def test_not_json_is_one_line_next_to_the_map_button(page: Any, console: ConsoleSession) -> None:
    page.goto(f"{console.base}/playground")
    page.fill("#document", "{not json")
    page.click("#map")
    error = page.locator("#map-error", has_text="not JSON")
    error.wait_for()
    assert "\n" not in error.inner_text()


def test_fetch_event_fills_the_playground_with_a_page(page: Any, console: ConsoleSession) -> None:
    page.goto(f"{console.base}/playground")
    page.select_option("#source", "risk_user")
    page.select_option("#connection", "emulator")
    page.click("#fetch-page")
    page.wait_for_selector("#mapping-summary")
    document = json.loads(page.input_value("#document"))
    events = document["value"]
    assert events and all(e.get("eventType") in (None, "riskUser") for e in events)
    assert page.inner_text("#mapping-summary").startswith(f"{len(events)} events")


def test_values_from_a_response_are_shown_as_text_never_as_markup(
        page: Any, console: ConsoleSession) -> None:
    hostile = '<img src=x id="injected"><script id="injected2">1</script>'
    document = {"value": [{"id": hostile, "createdDateTime": "2026-11-01T00:00:00Z"}]}
    _paste_and_map(page, console, document, "default")
    assert page.locator("#injected, #injected2").count() == 0
    assert hostile in page.inner_text("#mapping")
