"""Safe by construction: the token, the CSRF token, loopback hosts and the security headers."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.console.conftest import ConsoleSession
from tests.control import EmulatorControl

PAGES = ["/", "/commands", "/commands/list-risky-users", "/connections", "/playground", "/jobs",
         "/static/console.js", "/static/console.css", "/api/system-name?name=x"]
POSTS = ["/api/run", "/api/test-connection", "/api/map", "/api/fetch-page",
         "/api/overrides-file"]


@pytest.mark.parametrize("path", PAGES)
def test_a_request_without_the_token_is_refused(http: requests.Session, console: ConsoleSession,
                                                path: str) -> None:
    assert http.get(console.base + path, allow_redirects=False).status_code == 401
    http.cookies.set("console_token", "not-the-token")
    assert http.get(console.base + path, allow_redirects=False).status_code == 403
    wrong = http.get(console.base + path + ("&" if "?" in path else "?") + "token=nope",
                     allow_redirects=False)
    assert wrong.status_code == 403


@pytest.mark.parametrize("path", POSTS)
def test_a_post_without_the_csrf_token_is_refused(http: requests.Session,
                                                  console: ConsoleSession,
                                                  control: EmulatorControl, path: str) -> None:
    http.cookies.set("console_token", console.token)
    body: dict[str, Any] = {"command": "list-risky-users", "connection": "emulator",
                            "inputs": {}}
    control.clear_requests()
    assert http.post(console.base + path, json=body).status_code == 403
    assert http.post(console.base + path, json=body,
                     headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    assert http.post(console.base + path, json=body, headers={"X-CSRF-Token": console.csrf,
                     "Origin": "http://evil.example"}).status_code == 403
    assert control.graph_requests() == []  # nothing refused reached Graph


def test_the_first_visit_trades_the_token_for_a_strict_cookie(http: requests.Session,
                                                              console: ConsoleSession) -> None:
    first = http.get(console.url, allow_redirects=False)
    assert first.status_code == 303 and "token" not in first.headers["location"]
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert http.get(console.base + "/commands").status_code == 200


def test_other_host_names_are_refused(http: requests.Session, console: ConsoleSession) -> None:
    """DNS rebinding: a page on another name that resolves to 127.0.0.1 gets nothing."""
    http.cookies.set("console_token", console.token)
    refused = http.get(console.base + "/commands", headers={"Host": "attacker.example"})
    assert refused.status_code == 403


def test_every_response_carries_a_strict_content_security_policy(
        http: requests.Session, console: ConsoleSession) -> None:
    http.cookies.set("console_token", console.token)
    for path in PAGES:
        headers = http.get(console.base + path, allow_redirects=False).headers
        policy = headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert headers["x-content-type-options"] == "nosniff"


def test_pages_hold_no_inline_script_and_no_third_party_asset(http: requests.Session,
                                                              console: ConsoleSession) -> None:
    http.cookies.set("console_token", console.token)
    for path in ["/commands/fetch-event", "/connections", "/playground", "/jobs"]:
        html = http.get(console.base + path).text
        assert "<script>" not in html and " on" + "click=" not in html
        assert "style=" not in html
        for link in __import__("re").findall(r'(?:src|href)="([^"]+)"', html):
            assert link.startswith("/"), link


def test_the_browser_is_refused_a_post_without_csrf(page: Any, console: ConsoleSession) -> None:
    status = page.evaluate("""async () => (await fetch('/api/run', {method: 'POST',
        headers: {'Content-Type': 'application/json'}, body: '{}'})).status""")
    assert status == 403
