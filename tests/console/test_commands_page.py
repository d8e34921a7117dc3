"""The Test Command window in a real browser: forms from the manifest, runs, tabs, errors."""

from __future__ import annotations

import re
from typing import Any

import requests

from tests.console.conftest import ConsoleSession
from tests.control import EmulatorControl


def _open(page: Any, console: ConsoleSession, command_id: str) -> None:
    page.goto(f"{console.base}/commands/{command_id}")


def _run(page: Any, status: str = "Successful") -> None:
    """Run the open form and wait for its result, which must end with ``status``."""
    page.click("#run")
    page.wait_for_selector("#result-status")
    assert page.inner_text("#result-status") == status


def _fill_fetch_event(page: Any, console: ConsoleSession, event_type: str, count: int) -> None:
    _open(page, console, "fetch-event")
    page.select_option("#connection", "emulator")
    page.select_option("#in-event_type", event_type)
    page.fill("#in-number_of_events_fetched", str(count))


def test_every_command_of_the_manifest_has_a_form(page: Any, console: ConsoleSession,
                                                   connector: Any) -> None:
    manifest = connector.plugin.manifest
    for command in manifest.commands:
        _open(page, console, command.id)
        assert page.inner_text("h1") == command.display_name
        assert page.locator(".command-list a", has_text=command.display_name).count() == 1
        for spec in command.inputs:
            label = page.locator(f"label[for='in-{spec.id}']")
            assert spec.display_name in label.inner_text()
            assert (label.locator("abbr.required").count() == 1) == spec.required
            if spec.allowed_values and spec.open:  # any value: a text field with suggestions
                assert page.get_attribute(f"#in-{spec.id}", "type") == "text"
                suggested = page.locator(f"#list-{spec.id} option").evaluate_all(
                    "options => options.map(o => o.value)")
                assert [a.display_name for a in spec.allowed_values] == suggested
            elif spec.allowed_values:
                offered = page.locator(f"#in-{spec.id} option").all_inner_texts()
                assert [a.display_name for a in spec.allowed_values] == offered[1:]


def test_search_filters_the_command_list(page: Any, console: ConsoleSession,
                                        connector: Any) -> None:
    _open(page, console, "list-risky-users")
    names = [c.display_name for c in connector.plugin.manifest.commands]
    page.fill("#command-search", "dismiss")
    visible = set(page.locator(".command-list li:visible").all_inner_texts())
    assert {n for n in names if "dismiss" in n.lower()} <= visible < set(names)
    page.fill("#command-search", "zzz-no-such-command")
    assert page.locator(".command-list li:visible").count() == 0
    assert page.locator(".command-list .group:visible").count() == 0


def test_a_list_command_shows_the_tabs(page: Any, console: ConsoleSession,
                                       control: EmulatorControl) -> None:
    _open(page, console, "list-risky-users")
    page.select_option("#connection", "emulator")
    page.fill("#in-top", "3")
    _run(page)
    tabs = page.locator("[role=tab]").all_inner_texts()
    assert tabs == ["Return Data", "Raw Data", "Key Fields", "Context Data"]
    assert page.is_visible("#tab-return") and not page.is_visible("#tab-raw")

    page.click("#tab-btn-raw")
    assert page.is_visible("#tab-raw") and not page.is_visible("#tab-return")
    table = page.locator("#tab-raw table.list")
    columns = table.locator("thead th").all_inner_texts()
    ids = table.locator(f"tbody td:nth-child({columns.index('id') + 1})").all_inner_texts()
    known = {r["id"] for r in control.records("riskyUsers")}
    assert len(ids) == 3 and set(ids) <= known
    assert page.locator("#tab-raw details").count() > 0  # the collapsible tree

    page.click("#tab-btn-key")
    assert page.locator("#tab-key table.key-fields tr").count() >= 1
    page.click("#tab-btn-context")
    context_text = page.inner_text("#tab-context")
    assert all(i in context_text for i in ids)


def test_invalid_input_is_shown_by_its_field_without_a_request(
        page: Any, console: ConsoleSession, control: EmulatorControl) -> None:
    _open(page, console, "list-risky-users")
    control.clear_requests()
    page.fill("#in-top", "twelve")
    page.click("#run")
    message = page.locator("#err-top")
    message.wait_for(state="visible")
    text = message.inner_text()
    assert "Top" in text and "twelve" in text and "\n" not in text
    assert "Traceback" not in page.content()
    assert page.inner_text("#result") == ""
    assert control.graph_requests() == []


def test_a_refused_command_shows_graphs_status_and_message_in_the_error_tab(
        page: Any, console: ConsoleSession, control: EmulatorControl, connector: Any) -> None:
    _open(page, console, "list-risky-users")
    page.select_option("#connection", "no-roles")
    control.clear_requests()
    _run(page, "Failed")
    assert page.is_visible("#tab-error")  # opened first when the command failed
    refused = [r for r in control.graph_requests()
               if "riskyUsers" in r["path"] and r.get("status") and r["status"] >= 400]
    assert refused, "the emulator saw no refused request"
    assert page.inner_text("#tab-error .status-code") == str(refused[-1]["status"])
    command = connector.plugin.manifest.command_named("list-risky-users")
    assert page.inner_text("#tab-error .failure-indicator") == command.failure_indicator
    message = page.inner_text("#tab-error .message")
    assert any(p in message for p in command.permissions.all())
    assert _graphs_own_refusal(console, control) in message


def _graphs_own_refusal(console: ConsoleSession, control: EmulatorControl) -> str:
    """Graph's message for the no-roles app, asked directly with its own credentials."""
    app = console.connections["no-roles"]
    session = requests.Session()
    session.trust_env = False
    ca = control.emu.ca_bundle
    token = session.post(app["auth_url"], verify=ca, timeout=30, data={
        "client_id": app["client_id"], "client_secret": app["client_secret"],
        "grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"})
    token.raise_for_status()
    refused = session.get(f"{app['server_url']}/v1.0/identityProtection/riskyUsers", verify=ca,
                          timeout=30, headers={"Authorization": "Bearer "
                                               + token.json()["access_token"]})
    assert refused.status_code == 403
    return refused.json()["error"]["message"]


def test_dates_from_the_picker_are_written_as_the_reference_does(
        page: Any, console: ConsoleSession) -> None:
    _open(page, console, "fetch-event")
    page.fill("input.picker[data-for='in-start_time']", "2024-04-15T13:05")
    page.dispatch_event("input.picker[data-for='in-start_time']", "change")
    assert page.input_value("#in-start_time") == "04/15/2024 01:05 PM"
    page.fill("#in-start_time", "04/15/2024 01:00 AM")  # typed text is kept as typed
    assert re.fullmatch(r"04/15/2024 01:00 AM", page.input_value("#in-start_time"))


def test_fetch_event_shows_its_mapped_events_as_a_table(page: Any, console: ConsoleSession,
                                                        control: EmulatorControl) -> None:
    _fill_fetch_event(page, console, "riskDetection", 3)
    _run(page)
    page.click("#tab-btn-events")
    table = page.locator("#tab-events table.list")
    columns = table.locator("thead th").all_inner_texts()
    kinds = table.locator(f"tbody td:nth-child({columns.index('event_type') + 1})")
    assert 1 <= kinds.count() <= 3
    assert set(kinds.all_inner_texts()) == {"riskDetection"}
    raw = page.locator("#tab-raw table.list tbody tr")
    assert raw.count() == kinds.count()
    known = {r["id"] for r in control.records("riskDetections")}
    raw_columns = page.locator("#tab-raw table.list thead th").all_inner_texts()
    ids = page.locator(f"#tab-raw table.list tbody td:nth-child({raw_columns.index('id') + 1})")
    assert set(ids.all_text_contents()) <= known


def test_an_ignored_input_is_shown_as_a_warning(page: Any, console: ConsoleSession,
                                                control: EmulatorControl) -> None:
    _fill_fetch_event(page, console, "signIn", 1)
    page.fill("#in-risk_event_type", "Unlikely Travel")  # a suggestion of the text field
    _run(page)
    (warning,) = page.locator("#result-warnings li").all_inner_texts()
    assert "Risk Event Type" in warning and "ignored" in warning
