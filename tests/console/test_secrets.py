"""No secret of any connection reaches the browser: every response of a whole browser session
is searched for each secret in the spellings a page could carry it."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote, quote_plus

from tests.console.conftest import Browser, ConsoleSession


def encodings(secret: str) -> dict[str, bytes]:
    raw = secret.encode()
    forms = {
        "raw": raw,
        "url": quote(secret, safe="").encode(),
        "url-plus": quote_plus(secret).encode(),
        "json": json.dumps(secret)[1:-1].encode(),
        "json-ascii": json.dumps(secret, ensure_ascii=True)[1:-1].encode(),
        "hex": raw.hex().encode(),
        "HEX": raw.hex().upper().encode(),
    }
    # base64 of the secret inside longer text depends on its offset: all three alignments,
    # without the characters that also carry neighbouring bytes.
    for shift in range(3):
        for name, encode in (("b64", base64.b64encode), ("b64url", base64.urlsafe_b64encode)):
            text = encode(b"\0" * shift + raw).rstrip(b"=")
            skip = (shift * 4 + 2) // 3
            forms[f"{name}+{shift}"] = text[skip:-2]
    return forms


def _drive_a_session(page: Any, console: ConsoleSession) -> None:
    for command in ["list-risky-users", "test-connection", "fetch-event"]:
        page.goto(f"{console.base}/commands/{command}")
        for connection in console.connections:
            page.select_option("#connection", connection)
            page.click("#run")
            page.wait_for_selector("#result-status")
            page.evaluate("document.getElementById('result').innerHTML = ''")
    page.goto(f"{console.base}/commands/list-risky-users")
    page.fill("#in-top", "x")
    page.click("#run")
    page.locator("#err-top").wait_for(state="visible")
    page.goto(f"{console.base}/connections")
    for section in page.locator("section.connection").all():
        section.locator("button.test-connection").click()
        section.locator(".readiness-result table").wait_for()
    page.goto(f"{console.base}/playground")
    page.click("#fetch-page")
    page.wait_for_selector("#mapping-summary")
    page.goto(f"{console.base}/jobs")


def test_no_secret_in_any_response_header_body_or_cookie(browser: Browser, page: Any,
                                                         console: ConsoleSession) -> None:
    start = len(browser.responses)
    _drive_a_session(page, console)
    responses = browser.responses[start:]
    assert len(responses) > 20
    assert any(b"Client ID" in seen.body for seen in responses)  # bodies were read
    searched = []
    for seen in responses:
        headers = "\n".join(f"{k}: {v}" for k, v in seen.headers.items()).encode()
        searched.append((seen.url, seen.body + b"\n" + headers))
    cookies = json.dumps(browser.context.cookies()).encode()
    searched.append(("cookies", cookies))
    searched.append(("page", page.content().encode()))
    assert len(console.secrets) == 3  # two apps' client secrets and a certificate passphrase
    for secret in console.secrets:
        for name, form in encodings(secret).items():
            assert len(form) >= 6, name
            for where, text in searched:
                assert form not in text, f"secret ({name}) in {where}"
