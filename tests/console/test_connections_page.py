"""The Connections page: parameters without secrets, and per-command readiness."""

from __future__ import annotations

from typing import Any

from tests.console.conftest import ConsoleSession


def _readiness(page: Any, label: str) -> dict[str, str]:
    section = page.locator(f"section.connection[data-connection='{label}']")
    section.locator("button.test-connection").click()
    section.locator(".readiness-result table").wait_for()
    rows = section.locator(".readiness tbody tr").all()
    return {r.locator("td").nth(0).inner_text(): r.locator("td").nth(1).inner_text()
            for r in rows}


def test_readiness_follows_the_roles_the_app_was_granted(page: Any, console: ConsoleSession,
                                                         connector: Any) -> None:
    page.goto(f"{console.base}/connections")
    commands = connector.plugin.manifest.commands
    full = _readiness(page, "emulator")
    assert full == {c.display_name: "ready" for c in commands}
    none = _readiness(page, "no-roles")
    # an app without any needed role fails Test Connection: nothing is ready
    assert all(none[c.display_name] != "ready" for c in commands if c.permissions.all())
    section = page.locator("section.connection[data-connection='no-roles']")
    assert "grant admin consent for" in section.locator(".error-line").inner_text()


def test_secret_parameters_are_only_said_to_be_set(page: Any, console: ConsoleSession) -> None:
    page.goto(f"{console.base}/connections")
    section = page.locator("section.connection[data-connection='emulator']")
    text = section.inner_text()
    assert console.connections["emulator"]["client_id"] in text
    assert "Client Secret" in text and "(set, not shown)" in text
