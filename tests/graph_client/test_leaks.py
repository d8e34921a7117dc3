"""No secret, key, assertion or token in any log record at DEBUG, or in any error, any encoding."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from commands.graph.client import GraphClient
from executor.errors import IntegrationError
from executor.redaction import variants
from tests.control import EmulatorControl

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
BEARER = re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]{8,}")


def test_nothing_secret_reaches_logs_or_errors(make_client: Callable[..., GraphClient],
                                               ctl: EmulatorControl, graph_emu: Any,
                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, MSAL's, urllib3's
    seen_tokens: list[str] = []
    assertions: list[str] = []

    def watch(response: requests.Response, **_: Any) -> None:
        if response.url.endswith("/oauth2/v2.0/token"):
            raw = response.request.body or ""
            body = raw.decode() if isinstance(raw, bytes) else str(raw)
            assertions.extend(re.findall(r"client_assertion=([^&]+)", body))
            if response.ok:
                seen_tokens.append(response.json()["access_token"])

    errors: list[str] = []
    secret_connection = graph_emu.connection(app="full")
    cert_connection = graph_emu.connection(app="cert")
    wrong = "wr0ng+secret/with=odd~chars"
    clients = {
        "secret": make_client("full"),
        "cert": make_client("cert"),
        "readonly": make_client("readonly"),
        "wrong": make_client(client_secret=wrong),
    }
    for client in clients.values():
        client.transport.session.hooks["response"].append(watch)
    ctl.post("faults", {"rate": 0.4, "statuses": [429, 503, 500], "seed": 2, "retry_after": 1})
    for name, client in clients.items():
        try:
            client.token_info()
            pages = client.iter_pages("auditLogs/signIns", {"$top": 500})
            assert sum(len(p["value"]) for p in pages) == 2500
            user = client.get("identityProtection/riskyUsers", {"$top": 1})["value"][0]["id"]
            client.post_action("identityProtection/riskyUsers/confirmSafe", {"userIds": [user]})
            ctl.post("tokens", {"revoke_all": True})
            client.get("identityProtection/riskDetections", {"$top": 1})
        except IntegrationError as exc:
            errors += [name, str(exc), repr(exc), exc.message]
    assert len(seen_tokens) >= 5 and assertions  # the run did get and use tokens
    assert any("required scopes are missing" in e for e in errors)  # readonly got its 403
    assert any("invalid_client" in e for e in errors)  # the wrong secret failed

    key_pem = Path(cert_connection["certificate_path"]).read_text()
    key_body = "".join(key_pem.split("-----")[2].split())
    secrets = [secret_connection["client_secret"], wrong, key_body, *seen_tokens,
               *(requests.utils.unquote(a) for a in assertions)]
    outputs = {"logs": caplog.text + "\n".join(r.getMessage() for r in caplog.records),
               "errors": "\n".join(errors)}
    assert "commands.graph" in {r.name for r in caplog.records}  # DEBUG lines were written
    for where, text in outputs.items():
        for secret in secrets:
            for form in variants(secret):
                assert form not in text, f"a form of a secret is in the {where}"
        assert not JWT.search(text), f"a JWT is in the {where}"
        assert not BEARER.search(text), f"a bearer token is in the {where}"
        for line in key_pem.splitlines():
            if len(line) > 20 and "-----" not in line:
                assert line not in text, f"a line of the private key is in the {where}"
